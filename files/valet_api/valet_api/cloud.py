"""What valet-api knows of the cloud: compute hosts with their free capacity and racks, flavor sizes.

Read through keystoneauth1 as the Valet service user (``[cloud]``), from Placement (``[placement]``)
and Nova (``[nova]``); docs/valet-api-cloud.md is the operator's account (calls, costs, racks).
Rights: Placement's ``GET /resource_providers/{uuid}/inventories`` and ``.../allocations`` need the
service role (or admin); Nova's ``GET /os-hypervisors/detail`` and ``GET /os-aggregates`` are admin-only
by Nova's default policy unless its policy.yaml sets ``os_compute_api:os-hypervisors:list-detail`` and
``os_compute_api:os-aggregates:index`` to ``role:admin or role:service``; Nova's flavors any project member reads.

Host names. Valet's Nova filter compares a plan's host with ``host_state.host``, the nova-compute
service's host name (``[DEFAULT] host``). Placement names a compute node's resource provider after
the node's ``hypervisor_hostname``, which is not that name in general (libvirt reports the FQDN where
``host`` is often the short name; ironic names nodes by uuid; the test host's fake driver happens to
use ``host`` for both). So the census starts from Nova's hypervisor list: from microversion 2.53 a
hypervisor's ``id`` is the compute node uuid, which is its resource provider's uuid, and
``service.host`` is the name the filter sees. This also leaves out Placement's other providers
(Neutron agents, shared storage), which are no hosts. A service host running several compute nodes
(ironic) cannot be told apart by the filter, so it is left out with a warning.

Requests: Placement has no batch read of inventories and allocations, so a census is 2 Placement
calls per host (usages are the sum of the allocations, which also count the servers), sent
``[engine] cloud_read_concurrency`` at a time, plus Nova's paged hypervisor list and the aggregates;
it is reused for ``[engine] cloud_cache_seconds``.
"""

import concurrent.futures
import math
import re
import threading
import time
import urllib.parse

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from oslo_log import log as logging

from valet_api.conf import cloud as cloud_conf
from valet_api.conf import engine as engine_conf
from valet_api.engine import RESOURCE_CLASSES
from valet_api.engine import Host

LOG = logging.getLogger(__name__)

# The lowest microversions giving what is read: Placement 1.0 has the provider inventories and
# allocations; Nova 2.53 gives hypervisor uuids (= provider uuids), 2.61 flavor extra_specs.
PLACEMENT_MICROVERSION = "1.0"
NOVA_MICROVERSION = "2.61"
# A provider whose inventories and allocations were read at different generations (a write came
# in between) is read again, this many times at most; the last read is kept.
GENERATION_RETRIES = 3
# Flavor extra specs that ask Placement for an amount of a class: `resources:CLASS=N`, and
# `resources<suffix>:CLASS=N` for granular request groups.
_RESOURCES_SPEC = re.compile(r"^resources([a-zA-Z0-9_-]{1,64})?:(.*)$")


class CloudError(Exception):
    """The cloud could not be read, or what it says cannot be used; the message says which and why."""


class FlavorNotFound(CloudError, LookupError):
    """Nova knows no flavor by this name or id (for the Valet service user)."""

    def __init__(self, flavor):
        super().__init__("flavor %r not found in Nova (no id, nor a name the Valet service user can see)" % flavor)
        self.flavor = flavor


class UnusableCloud:
    """A cloud valet-api cannot read as configured: the service still starts, and says why.

    /v1/status reports the reason and every decision answers 503 with it, which tells an
    operator more than a WSGI worker that fails to boot.
    """

    def __init__(self, reason):
        self.reason = reason

    def hosts(self):
        raise CloudError(self.reason)

    def flavor_size(self, flavor):
        raise CloudError(self.reason)

    def status(self):
        return {"cloud": "error: %s" % self.reason}


def from_conf(conf):
    """Cloud(conf), or an UnusableCloud naming the option that keeps it from being built."""
    try:
        return Cloud(conf)
    except ValueError as exc:
        LOG.error("valet-api cannot read the cloud: %s", exc)
        return UnusableCloud(str(exc))


class Cloud:
    """Reads the cloud for the engine. Thread-safe: one census at a time, shared by concurrent callers."""

    def __init__(self, conf):
        self._conf = conf
        self._rack_source = conf.engine.rack_source
        self._rack_pattern = engine_conf.rack_pattern(conf) if self._rack_source == "host_pattern" else None
        auth = ks_loading.load_auth_from_conf_options(conf, cloud_conf.CLOUD_GROUP)
        if auth is None:
            raise ValueError("[cloud] auth_type is not set: valet-api reads Placement and Nova as a service user")
        session = ks_loading.load_session_from_conf_options(conf, cloud_conf.CLOUD_GROUP, auth=auth)
        self._placement = ks_loading.load_adapter_from_conf_options(
            conf, "placement", session=session, default_microversion=PLACEMENT_MICROVERSION, raise_exc=False
        )
        self._nova = ks_loading.load_adapter_from_conf_options(
            conf, "nova", session=session, default_microversion=NOVA_MICROVERSION, raise_exc=False
        )
        self._census_lock = threading.Lock()
        self._census = None  # (expires at, hosts)
        self._flavor_lock = threading.Lock()
        self._flavors = {}  # flavor as asked -> (expires at, size)
        self._warned = set()  # service hosts left out, warned about once

    # -- requests

    def _get(self, service, path, missing_ok=False, **kwargs):
        """GET one path; the JSON body, or None for a 404 when missing_ok. CloudError for anything else."""
        adapter = self._placement if service == "placement" else self._nova
        try:
            resp = adapter.get(path, **kwargs)
        except ks_exc.ClientException as exc:
            raise CloudError("%s unreachable (GET %s): %s" % (service, path, exc)) from exc
        if resp.status_code == 404 and missing_ok:
            return None
        if resp.status_code != 200:
            raise CloudError(
                "%s answered GET %s with %s %s%s"
                % (service, path, resp.status_code, resp.reason, _policy_hint(service, path, resp.status_code))
            )
        try:
            return resp.json()
        except ValueError as exc:
            raise CloudError("%s answered GET %s with a body that is not JSON" % (service, path)) from exc

    def _nova_pages(self, path, key, params=None):
        """Every item of a Nova list, following its `<key>_links` next marker (Nova pages by [api] max_limit)."""
        items, params, seen = [], dict(params or {}), set()
        while True:
            body = self._get("nova", path + ("?" + urllib.parse.urlencode(params) if params else ""))
            items.extend(body[key])
            nexts = [link["href"] for link in body.get(key + "_links", ()) if link.get("rel") == "next"]
            if not nexts or not body[key]:
                return items
            # Only the marker is taken from Nova's link: its host part is how Nova sees itself.
            marker = urllib.parse.parse_qs(urllib.parse.urlparse(nexts[0]).query).get("marker")
            if not marker:
                return items
            if marker[0] in seen:
                raise CloudError("nova's %s pages do not advance (marker %s again)" % (path, marker[0]))
            seen.add(marker[0])
            params["marker"] = marker[0]

    # -- hosts

    def hosts(self):
        """Every compute host as an engine.Host: free capacity per class, rack, servers on it now.

        Free = (total - reserved) * allocation_ratio - used, per class, 0 for a class the host lacks
        (and never below 0); a disabled or down compute service has nothing free, as Nova's
        ComputeFilter would not pick it. CloudError if Placement or Nova cannot be read.
        """
        with self._census_lock:
            now = time.monotonic()
            if self._census is None or now >= self._census[0]:
                hosts = self._read_census()
                self._census = (time.monotonic() + self._conf.engine.cloud_cache_seconds, hosts)
            return list(self._census[1])

    def _read_census(self):
        workers = self._conf.engine.cloud_read_concurrency
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="valet-census") as pool:
            aggregates = pool.submit(self._get, "nova", "/os-aggregates") if self._rack_source == "aggregate" else None
            nodes = self._compute_nodes()
            usage = dict(zip(nodes, pool.map(self._provider_usage, [node["id"] for node in nodes.values()])))
            racks = self._racks(sorted(nodes), aggregates.result()["aggregates"] if aggregates else None)
        hosts = []
        for name in sorted(nodes):
            node, read = nodes[name], usage[name]
            if read is None:
                LOG.info("compute host %s (provider %s) has no resource provider yet: left out", name, node["id"])
                continue
            free, servers = read
            if node.get("status") != "enabled" or node.get("state") != "up":
                free = dict.fromkeys(RESOURCE_CLASSES, 0)
            hosts.append(Host(name=name, rack=racks[name], free=free, servers=servers))
        return hosts

    def _compute_nodes(self):
        """{service host: hypervisor} for every host running one compute node."""
        by_host = {}
        for hyp in self._nova_pages("/os-hypervisors/detail", "hypervisors"):
            by_host.setdefault(hyp["service"]["host"], []).append(hyp)
        nodes = {}
        for host, hyps in by_host.items():
            if len(hyps) > 1:
                if host in self._warned:
                    continue
                self._warned.add(host)
                LOG.warning(
                    "compute service host %s runs %d compute nodes (%s): Valet's filter sees one host name "
                    "for all of them, so valet-api leaves it out",
                    host,
                    len(hyps),
                    ", ".join(sorted(h["hypervisor_hostname"] for h in hyps)),
                )
                continue
            nodes[host] = hyps[0]
        return nodes

    def _provider_usage(self, uuid):
        """(free per class, consumers) of one resource provider, or None if Placement has no such provider."""
        base = "/resource_providers/%s" % uuid
        for _attempt in range(GENERATION_RETRIES):
            inventories = self._get("placement", base + "/inventories", missing_ok=True)
            allocations = self._get("placement", base + "/allocations", missing_ok=True)
            if inventories is None or allocations is None:
                return None
            if inventories["resource_provider_generation"] == allocations["resource_provider_generation"]:
                break
        used = dict.fromkeys(RESOURCE_CLASSES, 0)
        for consumer in allocations["allocations"].values():
            for rc, amount in consumer["resources"].items():
                if rc in used:
                    used[rc] += amount
        free = {}
        for rc in RESOURCE_CLASSES:
            inv = inventories["inventories"].get(rc)
            capacity = int((inv["total"] - inv["reserved"]) * inv["allocation_ratio"]) if inv else 0
            free[rc] = max(0, capacity - used[rc])
        return free, len(allocations["allocations"])

    def _racks(self, names, aggregates):
        """{host: rack} per [engine] rack_source; a host in no rack is a rack of its own, named after it."""
        rack_of, census = {}, set(names)
        if aggregates is not None:
            key = self._conf.engine.rack_aggregate_key
            where = {}  # host -> the aggregate that put it in its rack
            for agg in sorted(aggregates, key=lambda a: a["id"]):
                rack = (agg.get("metadata") or {}).get(key)
                if rack is None:
                    continue
                if not rack:
                    raise CloudError("Nova aggregate %r has an empty %s: a rack needs a name" % (agg["name"], key))
                for host in agg["hosts"]:
                    if host not in census:  # no compute host of the census (gone, or ironic's)
                        continue
                    if rack_of.get(host, rack) != rack:
                        raise CloudError(
                            "host %s is in two racks: Nova aggregate %r (%s=%s) and aggregate %r (%s=%s); "
                            "a host belongs to one rack"
                            % (host, where[host], key, rack_of[host], agg["name"], key, rack)
                        )
                    rack_of[host], where[host] = rack, agg["name"]
        else:
            for host in names:
                match = self._rack_pattern.fullmatch(host)
                if match and match.group("rack"):
                    rack_of[host] = match.group("rack")
        named = set(rack_of[h] for h in names if h in rack_of)
        for host in names:
            if host not in rack_of and host in named:
                raise CloudError(
                    "host %s is in no rack, so it would be a rack of its own named %s, but other hosts' rack "
                    "has that name: rename the rack or put %s in one" % (host, host, host)
                )
        return {host: rack_of.get(host, host) for host in names}

    # -- flavors

    def flavor_size(self, flavor):
        """{"VCPU", "MEMORY_MB", "DISK_GB"} that Nova asks Placement for a server of this flavor (name or id).

        As Nova's scheduler asks for an image-backed server (_flavor_resources). FlavorNotFound if
        Nova knows no such flavor, CloudError if Nova cannot be read.
        """
        flavor = str(flavor)
        with self._flavor_lock:
            cached = self._flavors.get(flavor)
            if cached and time.monotonic() < cached[0]:
                return dict(cached[1])
        body = self._get("nova", "/flavors/%s" % urllib.parse.quote(flavor, safe=""), missing_ok=True)
        if body is not None:
            found = body["flavor"]
        else:
            # Not an id: a name. is_public=None lists private flavors too, for an admin; others see
            # the public ones and those shared with their project.
            listed = self._nova_pages("/flavors/detail", "flavors", {"is_public": "None"})
            named = [f for f in listed if f["name"] == flavor]
            if not named:
                raise FlavorNotFound(flavor)
            found = named[0]
        size = _flavor_resources(found)
        with self._flavor_lock:
            self._flavors[flavor] = (time.monotonic() + self._conf.engine.flavor_cache_seconds, size)
        return dict(size)

    # -- status

    def status(self):
        """{"placement": "ok" | "error: ...", "nova": ...}: can the Valet service user read what valet-api needs.

        Never raises; returns within about [engine] status_timeout (a check still waiting is an error).
        """
        timeout = self._conf.engine.status_timeout
        checks = {"placement": self._check_placement, "nova": self._check_nova}
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="valet-status")
        try:
            futures = {name: pool.submit(check, timeout) for name, check in checks.items()}
            deadline = time.monotonic() + timeout
            report = {}
            for name, future in futures.items():
                try:
                    future.result(timeout=max(0.0, deadline - time.monotonic()))
                    report[name] = "ok"
                except concurrent.futures.TimeoutError:
                    report[name] = "error: no answer within %gs" % timeout
                except Exception as exc:  # noqa: BLE001 - a status report, never an exception
                    report[name] = "error: %s" % exc
            return report
        finally:
            pool.shutdown(wait=False)  # a hung check must not hold the answer

    def _check_placement(self, timeout):
        self._get("placement", "/resource_providers?name=valet-status-check", timeout=timeout, connect_retries=0)

    def _check_nova(self, timeout):
        self._get("nova", "/os-hypervisors/detail?limit=1", timeout=timeout, connect_retries=0)
        if self._rack_source == "aggregate":
            self._get("nova", "/os-aggregates", timeout=timeout, connect_retries=0)


def _flavor_resources(flavor):
    """What Nova's scheduler asks Placement for, for an image-backed server of this flavor.

    Nova's rule (nova.scheduler.utils.ResourceRequest.from_request_spec): `resources<group>:CLASS`
    extra specs, summed over request groups, replace the flavor's own amount of that class;
    `hw:cpu_policy=dedicated` (like any PCPU spec) asks PCPU instead of VCPU. PCPU is not one of the
    engine's classes, so such a server needs no VCPU here; `hw:cpu_policy=mixed` is counted as all VCPU.
    """
    extra_specs = flavor.get("extra_specs") or {}
    specs = {}
    for spec, value in extra_specs.items():
        match = _RESOURCES_SPEC.match(spec)
        if not match:
            continue
        try:
            amount = int(value)
        except ValueError:
            continue
        if amount >= 0:  # Nova ignores an amount that is no integer >= 0
            specs[match.group(2)] = specs.get(match.group(2), 0) + amount
    pinned = "PCPU" in specs or extra_specs.get("hw:cpu_policy") == "dedicated"
    swap = flavor.get("swap") or 0  # "" before microversion 2.75 for no swap
    own = {
        "VCPU": 0 if pinned else flavor["vcpus"],
        "MEMORY_MB": flavor["ram"],
        "DISK_GB": flavor["disk"] + flavor.get("OS-FLV-EXT-DATA:ephemeral", 0) + math.ceil(swap / 1024),
    }
    return {rc: specs.get(rc, own[rc]) for rc in RESOURCE_CLASSES}


def _policy_hint(service, path, status):
    """For a 403 from Nova on an admin-only call: the policy rule to give the service role."""
    if status != 403 or service != "nova":
        return ""
    for prefix, rule in (
        ("/os-hypervisors", "os_compute_api:os-hypervisors:list-detail"),
        ("/os-aggregates", "os_compute_api:os-aggregates:index"),
    ):
        if path.startswith(prefix):
            return (
                " (Nova's policy %s allows admin only by default: give the Valet service user the admin role "
                'or set "%s": "role:admin or role:service" in Nova\'s policy.yaml)' % (rule, rule)
            )
    return ""
