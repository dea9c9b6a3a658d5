"""Nova scheduler filter that passes only the host valet-api chose."""

from oslo_config import cfg
from oslo_log import log as logging

from nova.scheduler import filters

from valet_os.common import client as valet_client
from valet_os.common import config

LOG = logging.getLogger(__name__)

HINT = "heat_resource_uuid"


def _hint(spec):
    """The heat_resource_uuid hint from a RequestSpec or a legacy filter_properties dict."""
    if isinstance(spec, dict):
        hints = spec.get("scheduler_hints") or {}
        value = hints.get(HINT)
    else:
        value = spec.get_scheduler_hint(HINT)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return value or None


def _instance_uuid(spec):
    if not isinstance(spec, dict):
        return spec.instance_uuid if "instance_uuid" in spec else None
    if spec.get("instance_uuid"):
        return spec["instance_uuid"]
    request = spec.get("request_spec") or {}
    uuid = (request.get("instance_properties") or {}).get("uuid")
    if not uuid and request.get("instance_uuids"):
        uuid = request["instance_uuids"][0]
    return uuid


def _flavor_name(spec):
    if isinstance(spec, dict):
        flavor = spec.get("instance_type") or {}
        return flavor.get("name") if isinstance(flavor, dict) else getattr(flavor, "name", None)
    return spec.flavor.name if "flavor" in spec and spec.flavor else None


def _is_rebuild(spec):
    if isinstance(spec, dict):
        hints = spec.get("scheduler_hints") or {}
    else:
        hints = spec.scheduler_hints if "scheduler_hints" in spec and spec.scheduler_hints else {}
    return hints.get("_nova_check_type") in (["rebuild"], "rebuild")


class ValetFilter(filters.BaseHostFilter):
    """Asks valet-api once per scheduling request where the instance goes."""

    run_filter_once_per_request = True
    # On rebuild the instance stays on its host: nothing for Valet to decide.
    RUN_ON_REBUILD = False

    def __init__(self):
        config.register_opts(cfg.CONF)
        self._client = None
        # (request key, chosen host or None for "all pass", or False for "none pass")
        self._last = None

    def _api(self):
        if self._client is None:
            self._client = valet_client.ValetClient(cfg.CONF)
        return self._client

    @staticmethod
    def _key(spec):
        return (_instance_uuid(spec), _hint(spec), id(spec))

    def _decide(self, hosts, spec):
        """One valet-api round trip: the host name to keep, None (keep all) or False (keep none)."""
        # Host names in Nova's order, once each (several nodes may share a host).
        names = list(dict.fromkeys(host.host for host in hosts))
        hint = _hint(spec)
        uuid = _instance_uuid(spec)
        try:
            if hint:
                placement = self._api().place(hint, names, uuid)
                location = placement.get("location") if isinstance(placement, dict) else None
            else:
                location = self._adhoc(uuid, names, spec)
            if not location:
                raise valet_client.ValetError("valet-api gave no location for %s" % (hint or uuid))
        except valet_client.ValetError as exc:
            if cfg.CONF.valet.failure_mode == "yield":
                LOG.warning("ValetFilter: no answer from Valet for instance %s, passing all %d "
                            "host(s) (failure_mode=yield): %s", uuid, len(names), exc)
                return None
            LOG.error("ValetFilter: no answer from Valet for instance %s, rejecting all %d "
                      "host(s) (failure_mode=reject): %s", uuid, len(names), exc)
            return False
        if location not in set(names):
            LOG.warning("ValetFilter: Valet chose %s for instance %s, which is not among the %d "
                        "candidate host(s)", location, uuid, len(names))
        else:
            LOG.info("ValetFilter: Valet chose host %s for instance %s", location, uuid)
        return location

    def _adhoc(self, uuid, names, spec):
        """No Heat hint: a one-server plan keyed by the instance uuid."""
        body = {
            "plan_name": uuid, "stack_id": uuid, "locations": names, "timeout": "60 sec",
            "resources": {uuid: {"name": uuid, "type": "OS::Nova::Server",
                                 "properties": {"flavor": _flavor_name(spec)}}},
        }
        try:
            plan = self._api().create_plan(body)
        except valet_client.ValetAPIError as exc:
            if exc.status != 409:
                raise
            # Rescheduling: the plan exists, ask for a placement among these hosts.
            return self._api().place(uuid, names, uuid).get("location")
        placements = plan.get("placements") if isinstance(plan, dict) else None
        placement = (placements or {}).get(uuid) or {}
        return placement.get("location")

    @staticmethod
    def _passes(decision, host_state):
        if decision is None:
            return True
        return decision is not False and host_state.host == decision

    def filter_all(self, filter_obj_list, spec_obj):
        hosts = list(filter_obj_list)
        if not hosts or _is_rebuild(spec_obj):
            return hosts
        decision = self._decide(hosts, spec_obj)
        self._last = (self._key(spec_obj), decision)
        return [h for h in hosts if self._passes(decision, h)]

    def host_passes(self, host_state, spec_obj):
        # Nova calls filter_all; this path serves callers that go host by host.
        # They get the answer of the request's single round trip.
        key = self._key(spec_obj)
        if self._last is None or self._last[0] != key:
            self._last = (key, self._decide([host_state], spec_obj))
        return self._passes(self._last[1], host_state)
