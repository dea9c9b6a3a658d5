"""A valet-api that answers badly: the deadline and the size cap hold, the Nova filter applies
failure_mode to every malformed answer and never raises into Nova. Concurrency: one pool."""

import concurrent.futures
import logging
import time
import tracemalloc
import uuid

import bad_servers
import pytest
from test_nova_filter import load_filter
from test_nova_filter import make_hosts
from test_nova_filter import request_spec
from valet_sides import load_nova

from valet_os.common import client

TOTAL = 3  # total_timeout of these tests; the bounds below are TOTAL + a generous margin


@pytest.fixture(scope="module")
def nova():
    load_nova()
    from nova.scheduler import filters
    from nova.scheduler import host_manager

    return filters, host_manager


def at(valet_conf, server, **opts):
    valet_conf.set_override("url", server.url, group="valet")
    for name, value in opts.items():
        valet_conf.set_override(name, value, group="valet")
    return client.ValetClient(valet_conf)


@pytest.mark.parametrize(
    "reply",
    [bad_servers.slow_body(), bad_servers.slow_headers()],
    ids=["body-a-byte-at-a-time", "headers-a-byte-at-a-time"],
)
def test_one_deadline_for_the_whole_reply(valet_conf, reply):
    """Each byte comes well within read_timeout: only the deadline can end it."""
    with bad_servers.BadServer(reply) as server:
        api = at(valet_conf, server, read_timeout=2, total_timeout=TOTAL)
        api._adapter.get_token()  # Keystone's request has a deadline of its own
        started = time.monotonic()
        with pytest.raises(client.ValetUnavailable, match="timed out"):
            api.place("r", ["h1"], "i")
        assert time.monotonic() - started < TOTAL + 2


def test_gzip_bomb_is_refused_without_unpacking_it(valet_conf):
    with bad_servers.BadServer(bad_servers.gzip_bomb()) as server:
        api = at(valet_conf, server)
        api._adapter.get_token()
        tracemalloc.start()
        try:
            with pytest.raises(client.ValetUnavailable, match="over the 1048576-byte limit"):
                api.place("r", ["h1"], "i")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 16 * 1024 * 1024  # the cap and one chunk, not the 200 MiB it unpacks to


def test_big_plain_reply_is_refused(valet_conf):
    big = bad_servers.canned(b'{"placement": {"location": "h1", "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}}')
    with bad_servers.BadServer(big) as server:
        with pytest.raises(client.ValetUnavailable, match="over the 1048576-byte limit"):
            at(valet_conf, server).place("r", ["h1"], "i")


def test_gzip_reply_under_the_cap_is_read(valet_conf):
    import gzip
    import json

    body = gzip.compress(json.dumps({"placement": {"location": "h1", "pad": " " * 500000}}).encode())

    def reply(sock):
        sock.sendall(bad_servers.response(body, "201 Created", ["Content-Encoding: gzip"]))

    with bad_servers.BadServer(reply) as server:
        assert at(valet_conf, server).place("r", ["h1"], "i")["location"] == "h1"


HOSTS = ["cmp-%04d" % i for i in range(4)]
NESTED = b"[" * 200000 + b"]" * 200000  # 400 KB: json's parser runs out of stack
# (reply, whether Nova's request carries Heat's hint)
MALFORMED = {
    "placements-list": ({"plan": {"placements": [HOSTS[0]]}}, False),
    "placements-string": ({"plan": {"placements": HOSTS[0]}}, False),
    "placement-of-wrong-type": ({"plan": {"placements": {"x": 1}}}, False),
    "nested-json": (NESTED, True),
    "nested-json-adhoc": (NESTED, False),
    "location-list": ({"placement": {"location": [HOSTS[0]]}}, True),
    "location-number": ({"placement": {"location": 42}}, True),
    "location-object": ({"placement": {"location": {"host": HOSTS[0]}}}, True),
    "location-not-a-candidate": ({"placement": {"location": "elsewhere"}}, True),
    "reply-a-list": ([HOSTS[0]], True),
    "reply-a-string": (HOSTS[0], True),
    "not-json": (b"<html>oops</html>", True),
}


def check_failure_mode(handler, flt, spec, hosts, mode, caplog):
    with caplog.at_level("WARNING"):
        passed = handler.get_filtered_objects([flt], hosts, spec)  # never raises
    assert passed == ([] if mode == "reject" else hosts)
    assert any("failure_mode=%s" % mode in r.getMessage() for r in caplog.records), [
        r.getMessage() for r in caplog.records
    ]


@pytest.mark.parametrize("mode", ["reject", "yield"])
@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_answers_follow_failure_mode(nova, valet_conf, caplog, mode, case):
    filters, host_manager = nova
    payload, hinted = MALFORMED[case]
    valet_conf.set_override("failure_mode", mode, group="valet")
    with bad_servers.BadServer(bad_servers.canned(payload)) as server:
        valet_conf.set_override("url", server.url, group="valet")
        handler, flt = load_filter(filters)
        hosts = make_hosts(host_manager, len(HOSTS))
        check_failure_mode(handler, flt, request_spec(hint=str(uuid.uuid4()) if hinted else None), hosts, mode, caplog)
        assert len(server.requests) == 1


@pytest.mark.parametrize("mode", ["reject", "yield"])
@pytest.mark.parametrize(
    "option,value",
    [
        ("password", "pa$word"),  # oslo.config reads $word as a reference to an option
        ("auth_type", "no-such-plugin"),
        ("total_timeout", 0.05),  # accepted by the role: too short for any answer
        ("url", None),
    ],
)
def test_config_errors_follow_failure_mode(nova, valet_conf, emulator, caplog, mode, option, value):
    filters, host_manager = nova
    valet_conf.set_override("failure_mode", mode, group="valet")
    valet_conf.set_override(option, value, group="valet")
    handler, flt = load_filter(filters)
    check_failure_mode(handler, flt, request_spec(hint=str(uuid.uuid4())), make_hosts(host_manager, 3), mode, caplog)


def test_unreadable_failure_mode_is_the_default(tmp_path, caplog):
    """failure_mode itself broken in the file: reject (the default), logged, no exception."""
    from oslo_config import cfg

    from valet_os.common import config

    path = tmp_path / "nova.conf"
    path.write_text("[valet]\nfailure_mode = $nothing\n")
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    conf(["--config-file", str(path)], default_config_files=[])
    with caplog.at_level("ERROR"):
        assert config.failure_mode(conf) == "reject"
    assert any("failure_mode cannot be read" in r.getMessage() for r in caplog.records)


def test_hundred_concurrent_requests_fit_the_pool(valet_conf, emulator, caplog):
    """One connection per RPC thread of the service (oslo.messaging's executor_thread_pool_size)."""
    from oslo_messaging import server as rpc_server

    valet_conf.register_opts(rpc_server._pool_opts)  # as the service's RPC server does
    valet_conf.set_override("executor_thread_pool_size", 100)
    api = client.ValetClient(valet_conf)
    api._adapter.get_token()
    with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
        with concurrent.futures.ThreadPoolExecutor(100) as pool:
            plans = list(pool.map(lambda i: api.create_plan({"plan_name": "p%d" % i, "resources": {}}), range(100)))
    assert len(plans) == 100 and len(emulator.requests) == 100
    assert [r.getMessage() for r in caplog.records if "pool is full" in r.getMessage()] == []


def test_pool_size_follows_the_service(conf):
    assert client.pool_size(conf) == client.DEFAULT_POOL_SIZE == 64  # oslo.messaging's default
