"""Run the scheduler filters nova-scheduler would run, once, and print the outcome as JSON.

There are no compute nodes on the test host, so this builds HostState objects and a
RequestSpec itself and runs Nova's own HostFilterHandler over the filters that
/etc/nova/nova.conf enables (chosen by Nova's HostManager code from available_filters).
Usage: python3 nova_filter_probe.py [HEAT_RESOURCE_UUID]
"""
import datetime
import json
import logging
import sys
import time
import uuid

from nova import config
from nova import objects
import nova.conf
from nova.scheduler import filters
from nova.scheduler import host_manager

CONF = nova.conf.CONF
HOSTS = ["r1-h1", "r1-h2", "r2-h1"]


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append("%s %s %s" % (record.levelname, record.name, record.getMessage()))


def main():
    config.parse_args(["nova-filter-probe", "--config-file", "/etc/nova/nova.conf"],
                      configure_db=False, init_rpc=False)
    objects.register_all()
    collect = Collect()
    logging.getLogger().addHandler(collect)
    logging.getLogger().setLevel(logging.INFO)

    # Nova's own choice of filter classes; HostManager.__init__ would also open the DB.
    manager = host_manager.HostManager.__new__(host_manager.HostManager)
    manager.filter_handler = filters.HostFilterHandler()
    classes = manager.filter_handler.get_matching_classes(CONF.filter_scheduler.available_filters)
    manager.filter_cls_map = {cls.__name__: cls for cls in classes}
    manager.filter_obj_map = {}
    enabled = manager._choose_host_filters(manager._load_filters())

    now = datetime.datetime.utcnow()
    hosts = []
    for name in HOSTS:
        state = host_manager.HostState(name, name, None)
        # A compute service heard from just now, so ComputeFilter passes it.
        state.service = host_manager.ReadOnlyDict({
            "host": name, "binary": "nova-compute", "disabled": False, "forced_down": False,
            "last_seen_up": now, "created_at": now})
        hosts.append(state)

    hints = {"heat_resource_uuid": [sys.argv[1]]} if len(sys.argv) > 1 else {}
    spec = objects.RequestSpec(
        instance_uuid=str(uuid.uuid4()), num_instances=1,
        flavor=objects.Flavor(name="m1.probe", extra_specs={}),
        image=objects.ImageMeta.from_dict({"properties": {}}),
        scheduler_hints=hints, instance_group=None, ignore_hosts=None, force_hosts=None,
        force_nodes=None)

    started = time.monotonic()
    passed = manager.filter_handler.get_filtered_objects(enabled, hosts, spec, 0)
    print(json.dumps({
        "enabled_filters": [type(f).__name__ for f in enabled],
        "candidates": HOSTS,
        "passed": [h.host for h in (passed or [])],
        "elapsed": round(time.monotonic() - started, 2),
        "log": [line for line in collect.lines if "valet" in line.lower()],
    }))


if __name__ == "__main__":
    main()
