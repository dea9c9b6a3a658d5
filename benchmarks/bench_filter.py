#!/usr/bin/env python3
"""Figures for the valet_os plugins. Prints numbers; asserts nothing about time.

    .venv/bin/python benchmarks/bench_filter.py      (make bench)

- per-host cost of ValetFilter over 10,000 hosts vs Nova's ComputeFilter, same run
- valet-api calls per scheduling request
- Keystone token requests per 100 requests (real Keystone from tests/keystone_server.py)
- time to build the plan body of a 1,000-resource Heat stack
- worst-case wait per scheduling request when valet-api is hung, down, unreachable or
  answering 500, with the [valet] defaults, and how many requests valet-api received
"""

import datetime
import logging
import os
import socket
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

from oslo_config import cfg  # noqa: E402

sys.path[0:0] = [os.path.join(ROOT, "tools"), os.path.join(ROOT, "tests", "plugin_package")]
sys.path.append(os.path.join(ROOT, "tests"))
import valet_sides  # noqa: E402
from valet_api_emulator import ValetApiEmulator  # noqa: E402

HOSTS = 10000
REQUESTS = 20
FAULT_REQUESTS = 4
FAULT_HOSTS = 100
TOKEN_REQUESTS = 100
STACK_RESOURCES = 1000


def per_host_ns(flt, hosts, specs):
    start = time.perf_counter()
    for spec in specs:
        list(flt.filter_all(hosts, spec))
    return (time.perf_counter() - start) / (len(specs) * len(hosts)) * 1e9


def bench_filter(keystone, emulator):
    valet_sides.load_nova()
    from nova import objects
    from nova.scheduler import filters
    from nova.scheduler import host_manager

    from valet_os.common import client

    now = datetime.datetime.now(datetime.timezone.utc)
    hosts = []
    for i in range(HOSTS):
        h = host_manager.HostState("cmp-%05d" % i, "cmp-%05d" % i, None)
        h.service = objects.Service(
            host=h.host, binary="nova-compute", disabled=False, forced_down=False, last_seen_up=now, created_at=now
        )
        hosts.append(h)
    handler = filters.HostFilterHandler()
    valet_cls, compute_cls = handler.get_matching_classes(
        ["valet_os.nova.valet_filter.ValetFilter", "nova.scheduler.filters.compute_filter.ComputeFilter"]
    )
    uuids = [str(uuid.uuid4()) for _ in range(REQUESTS)]
    server = {"type": "OS::Nova::Server", "properties": {}}
    client.ValetClient(cfg.CONF).create_plan(
        {"plan_name": "bench", "stack_id": str(uuid.uuid4()), "resources": {u: dict(server, name=u) for u in uuids}}
    )
    specs = [
        objects.RequestSpec(
            instance_uuid=str(uuid.uuid4()), num_instances=1, scheduler_hints={"heat_resource_uuid": [u]}
        )
        for u in uuids
    ]
    valet, compute = valet_cls(), compute_cls()
    per_host_ns(valet, hosts[:10], specs[:1])  # warm up: token, connection pool
    emulator.clear()
    valet_ns = per_host_ns(valet, hosts, specs)
    calls = len(emulator.requests) / float(len(specs))
    compute_ns = per_host_ns(compute, hosts, specs)
    print("hosts per request:                  %d" % HOSTS)
    print("ValetFilter per host:               %.0f ns" % valet_ns)
    print("ComputeFilter per host:             %.0f ns" % compute_ns)
    print("ratio ValetFilter / ComputeFilter:  %.2f" % (valet_ns / compute_ns))
    print("valet-api calls per request:        %.2f" % calls)

    if keystone is None:
        print("Keystone token requests per 100:    n/a (tests/keystone_server.py not available)")
        return
    fresh = valet_cls()  # a new filter, as after a nova-scheduler restart
    small = hosts[:100]
    before = keystone.token_requests()
    for i in range(TOKEN_REQUESTS):
        list(fresh.filter_all(small, specs[i % len(specs)]))
    print("Keystone token requests per %d:    %d" % (TOKEN_REQUESTS, keystone.token_requests() - before))


def _unreachable():
    """A port whose SYNs go unanswered, as for a host that is down: a listener never accepting,
    its one-connection backlog already taken. Returns (url, sockets to close)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    filler = socket.create_connection(srv.getsockname(), timeout=1)
    return "http://127.0.0.1:%d/v1" % srv.getsockname()[1], [filler, srv]


def _closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d/v1" % s.getsockname()[1]


def bench_faults(emulator):
    """Worst-case wait of one scheduling request, with the [valet] option defaults."""
    valet_sides.load_nova()
    from nova import objects
    from nova.scheduler import filters
    from nova.scheduler import host_manager

    from valet_os.common import client

    opts = cfg.CONF.valet
    print(
        "valet-api faults, [valet] connect_timeout=%g read_timeout=%g retries=%d "
        "total_timeout=%g; wait per scheduling request, worst of %d:"
        % (opts.connect_timeout, opts.read_timeout, opts.retries, opts.total_timeout, FAULT_REQUESTS)
    )
    (valet_cls,) = filters.HostFilterHandler().get_matching_classes(["valet_os.nova.valet_filter.ValetFilter"])
    hosts = [host_manager.HostState("cmp-%03d" % i, "cmp-%03d" % i, None) for i in range(FAULT_HOSTS)]
    uuids = [str(uuid.uuid4()) for _ in range(FAULT_REQUESTS)]
    client.ValetClient(cfg.CONF).create_plan(
        {
            "plan_name": "faults",
            "stack_id": str(uuid.uuid4()),
            "resources": {u: {"name": u, "type": "OS::Nova::Server", "properties": {}} for u in uuids},
        }
    )
    unreachable_url, unreachable_socks = _unreachable()
    # The filter logs every rejection; the figures are what matters here.
    log = logging.getLogger("valet_os")
    level = log.level
    log.setLevel(logging.CRITICAL)
    cases = [
        ("hung (takes the request, never answers)", emulator.url, ("slow", 3600)),
        ("down (connection refused)", _closed_port_url(), ("none", 0)),
        ("unreachable (no answer to SYN)", unreachable_url, ("none", 0)),
        ("answering 500", emulator.url, ("error500", 0)),
    ]
    try:
        for label, url, fault in cases:
            cfg.CONF.set_override("url", url, group="valet")
            emulator.set_fault(*fault)
            emulator.clear()
            flt = valet_cls()  # a fresh client for the url: its first request fetches a token
            waits = []
            for u in uuids:
                spec = objects.RequestSpec(
                    instance_uuid=str(uuid.uuid4()), num_instances=1, scheduler_hints={"heat_resource_uuid": [u]}
                )
                start = time.perf_counter()
                passed = list(flt.filter_all(hosts, spec))
                waits.append(time.perf_counter() - start)
                assert passed == [], "failure_mode=reject passes no host"
            received = len(emulator.requests) / float(len(uuids))
            print(
                "  %-40s %5.2f s (first, with its token request: %5.2f s), valet-api got %.0f "
                "request(s) per scheduling request" % (label + ":", max(waits[1:]), waits[0], received)
            )
    finally:
        log.setLevel(level)
        emulator.set_fault("none")
        cfg.CONF.set_override("url", emulator.url, group="valet")
        for sock in unreachable_socks:
            sock.close()


def bench_plan_body():
    valet_sides.load_heat()
    from heat.common import messaging
    from heat.common import template_format
    from heat.engine import environment
    from heat.engine import resources
    from heat.engine import stack
    from heat.engine import template
    from heat.tests import utils

    from valet_os import paths
    from valet_os.heat import plugins

    cfg.CONF.set_override("plugin_dirs", [paths.heat_plugin_dir()])
    cfg.CONF.set_override("deferred_auth_method", "password")
    messaging.setup("fake://", optional=True)
    valet_sides.heat_dummy_db(cfg.CONF)
    resources.initialise()
    servers = STACK_RESOURCES - STACK_RESOURCES // 10
    lines = ["heat_template_version: 2015-04-30", "resources:"]
    for i in range(servers):
        lines.append("  s%d: {type: OS::Nova::Server, properties: {flavor: m1.small, image: cirros}}" % i)
    for g in range(STACK_RESOURCES - servers):
        members = ", ".join("{get_resource: s%d}" % i for i in range(g * 9, g * 9 + 9))
        lines.append(
            "  g%d: {type: ATT::Valet::GroupAssignment, properties: "
            "{group_type: diversity, level: host, resources: [%s]}}" % (g, members)
        )
    tmpl = template.Template(template_format.parse("\n".join(lines)), env=environment.Environment({}))
    stk = stack.Stack(utils.dummy_context(), "bench", tmpl)
    stk.store()
    stk._store_resources()  # as Stack.create does before the pre-ops
    start = time.perf_counter()
    body = plugins.build_plan_resources(stk)
    elapsed = time.perf_counter() - start
    print("plan body for a %d-resource stack:  %.3f s (%d planned resources)" % (STACK_RESOURCES, elapsed, len(body)))


def main():
    from valet_os.common import config

    config.register_opts(cfg.CONF)
    try:
        from keystone_server import KeystoneServer
    except ImportError:
        KeystoneServer = None
    emulator = ValetApiEmulator().start()
    keystone = KeystoneServer().start() if KeystoneServer else None
    try:
        overrides = {"url": emulator.url, "failure_mode": "reject"}
        if keystone is not None:
            keystone.create_service_user("valet", "valet-bench-pw")
            overrides.update(
                username="valet",
                password="valet-bench-pw",
                project_name="service",
                auth_url=keystone.auth_url,
            )
        else:
            print("no tests/keystone_server.py: the filter cannot authenticate, stopping here")
            return
        for name, value in overrides.items():
            cfg.CONF.set_override(name, value, group="valet")
        bench_filter(keystone, emulator)
        bench_faults(emulator)
        bench_plan_body()
    finally:
        emulator.stop()
        if keystone is not None:
            keystone.stop()


if __name__ == "__main__":
    main()
