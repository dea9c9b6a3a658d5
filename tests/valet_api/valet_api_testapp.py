"""valet-api under gunicorn for tests and benchmarks: Cluster starts processes that serve app().

app() is configured by the environment Cluster sets: VALET_TEST_CONNECTION (the database),
VALET_TEST_CLOUD (JSON [[host, rack, {class: free}], ...]), VALET_TEST_DECISION_RETRIES ([database]
decision_retries, default 30), VALET_TEST_DECISION_DELAY (seconds
every decision waits between reading the state and writing it: widens the race window the same
for every variant), VALET_TEST_NO_CAS=1 (the compare-and-set off, to show the race it closes).
noauth2: the token is 'user:project'.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def app():
    import logging

    from valet_api_fakes import FakeCloud
    from valet_api_fakes import make_conf

    from valet_api import engine
    from valet_api import planning
    from valet_api import wsgi

    logging.basicConfig(
        level=logging.DEBUG if os.environ.get("VALET_TEST_DEBUG") else logging.WARNING,
        format="%(process)d %(name)s %(levelname)s %(message)s",
    )
    conf = make_conf(os.environ["VALET_TEST_CONNECTION"])
    conf.set_override("decision_retries", int(os.environ.get("VALET_TEST_DECISION_RETRIES", "30")), "database")
    cloud = FakeCloud([engine.Host(name=n, rack=r, free=f) for n, r, f in json.loads(os.environ["VALET_TEST_CLOUD"])])
    delay = float(os.environ.get("VALET_TEST_DECISION_DELAY", "0"))
    if delay:
        place = engine.place

        def slow_place(*args, **kwargs):
            time.sleep(delay)
            return place(*args, **kwargs)

        engine.place = slow_place
    if os.environ.get("VALET_TEST_NO_CAS") == "1":
        planning.COMPARE_AND_SET = False
    return wsgi.init_application(conf, cloud=cloud)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """valet-api processes on one database, each a gunicorn master with `workers` workers."""

    def __init__(self, url, hosts, processes=2, workers=2, threads=1, cas=True, delay=0.0, retries=30, tmp="/tmp"):
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join([os.path.join(REPO, "files", "valet_api"), HERE]),
            VALET_TEST_CONNECTION=url,
            VALET_TEST_CLOUD=json.dumps(hosts),
            VALET_TEST_DECISION_DELAY=str(delay),
            VALET_TEST_DECISION_RETRIES=str(retries),
            VALET_TEST_NO_CAS="0" if cas else "1",
        )
        self.ports = [_free_port() for _i in range(processes)]
        self.procs = []
        for i, port in enumerate(self.ports):
            log = open(os.path.join(tmp, "gunicorn-%d.log" % i), "w")
            command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads)]
            command += ["-b", "127.0.0.1:%d" % port, "--timeout", "120"]
            command += ["--control-socket", os.path.join(tmp, "gunicorn-%d.ctl" % i), "valet_api_testapp:app()"]
            self.procs.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        for port in self.ports:
            while True:
                try:
                    urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=2).close()
                    break
                except (urllib.error.URLError, OSError):
                    if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                        self.stop()
                        raise RuntimeError("valet-api did not start; see %s/gunicorn-*.log" % tmp) from None
                    time.sleep(0.2)

    def post(self, i, path, body, project):
        """POST to process i (round robin); (status, JSON answer)."""
        req = urllib.request.Request(
            "http://127.0.0.1:%d%s" % (self.ports[i % len(self.ports)], path),
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "X-Auth-Token": "user:%s" % project},
        )
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                return resp.status, json.load(resp)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
