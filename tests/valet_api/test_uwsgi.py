"""valet-api under the WSGI server roles/valet_api runs it with: Debian's uwsgi and its python3 plugin,
`--module valet_api.wsgi:application`, as the role's service file does (tests/install-host-deps.sh
installs uwsgi). uwsgi looks the callable up in the module's namespace, not with getattr: a lazily
built `application` (a module __getattr__) is "callable not found" there."""

import json
import os
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = os.path.join(REPO, "files", "valet_api")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_uwsgi_serves_the_module_application(tmp_path):
    conf = tmp_path / "valet.conf"
    conf.write_text(
        "[api]\nauth_strategy = noauth2\n\n[database]\nconnection = sqlite:///%s\n" % (tmp_path / "valet.sqlite")
    )
    # The test venv's libraries and this tree's package, for the Python uwsgi embeds (the same 3.x).
    path = os.pathsep.join([PACKAGE, sysconfig.get_paths()["purelib"]])
    env = dict(os.environ, PYTHONPATH=path)
    subprocess.run(
        [sys.executable, "-m", "valet_api.cmd.manage", "--config-file", str(conf), "db", "sync"],
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = tmp_path / "uwsgi.log"
    server = subprocess.Popen(
        ["/usr/bin/uwsgi", "--plugin", "python3", "--master", "--need-app", "--die-on-term", "--lazy-apps",
         "--http-socket", "127.0.0.1:%d" % port, "--module", "valet_api.wsgi:application",
         "--processes", "1", "--threads", "2", "--env", "VALET_API_CONFIG_FILE=%s" % conf,
         "--pythonpath", PACKAGE, "--pythonpath", sysconfig.get_paths()["purelib"], "--logto", str(log)],
        cwd=str(tmp_path),
    )  # fmt: skip
    try:
        answer = None
        for _attempt in range(150):
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5) as resp:
                    answer = resp.status, json.loads(resp.read())
                    break
            except urllib.error.HTTPError as exc:
                answer = exc.code, json.loads(exc.read())
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                time.sleep(0.2)
        assert answer is not None and answer[0] in (200, 300), (answer, log.read_text())
        assert answer[1]["versions"], answer
    finally:
        server.terminate()
        server.wait(timeout=30)
