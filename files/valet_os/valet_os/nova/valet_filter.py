"""Nova scheduler filter that passes only the host valet-api chose."""

from nova.scheduler import filters
from nova.scheduler import utils
from oslo_config import cfg
from oslo_log import log as logging

from valet_os.common import client as valet_client
from valet_os.common import config

LOG = logging.getLogger(__name__)

# Set by Heat on the servers of a stack whose plan valet-api has.
HINT = "heat_resource_uuid"


def _location(reply):
    return reply.get("location") if isinstance(reply, dict) else None


class ValetPlacement:
    """Asks valet-api which of the candidate hosts one instance goes to."""

    def __init__(self, conf):
        self._conf = conf
        self._client = None

    def _api(self):
        # Made on first use, so that a [valet] mistake is a failure_mode case, not a crash.
        if self._client is None:
            self._client = valet_client.ValetClient(self._conf)
        return self._client

    def host_for(self, spec_obj, names):
        """The host name valet-api chose among names. Raise ValetError when it cannot say."""
        hint = spec_obj.get_scheduler_hint(HINT)
        if hint:
            location = _location(self._api().place(hint, names, spec_obj.instance_uuid))
        else:
            location = self._adhoc(spec_obj, names)
        if not location:
            raise valet_client.ValetError("valet-api gave no location for %s" % (hint or spec_obj.instance_uuid))
        return location

    def _adhoc(self, spec_obj, names):
        """No Heat hint: a one-server plan keyed by the instance uuid."""
        uuid = spec_obj.instance_uuid
        body = {
            "plan_name": uuid,
            "stack_id": uuid,
            "locations": names,
            "timeout": "60 sec",
            "resources": {
                uuid: {"name": uuid, "type": "OS::Nova::Server", "properties": {"flavor": spec_obj.flavor.name}}
            },
        }
        try:
            plan = self._api().create_plan(body)
        except valet_client.ValetAPIError as exc:
            if exc.status != 409:
                raise
            # Rescheduling: the plan exists, ask for a placement among these hosts.
            return _location(self._api().place(uuid, names, uuid))
        placements = plan.get("placements") if isinstance(plan, dict) else None
        return _location((placements or {}).get(uuid))


class ValetFilter(filters.BaseHostFilter):
    """Passes the one host valet-api chose; if it cannot say, all hosts or none (failure_mode).

    filter_all replaces Nova's host-by-host path (host_passes), so that valet-api is asked
    once per request, with every candidate host.
    """

    run_filter_once_per_request = True

    def __init__(self):
        super().__init__()
        self._placement = ValetPlacement(config.register_opts(cfg.CONF))

    def filter_all(self, filter_obj_list, spec_obj):
        hosts = list(filter_obj_list)
        # On rebuild the instance stays on its host: nothing for Valet to decide.
        if not hosts or utils.request_is_rebuild(spec_obj):
            return hosts
        # Host names in Nova's order, once each (several nodes may share a host).
        names = list(dict.fromkeys(host.host for host in hosts))
        try:
            location = self._placement.host_for(spec_obj, names)
        except valet_client.ValetError as exc:
            return self._without_valet(hosts, spec_obj.instance_uuid, exc)
        if location not in names:
            LOG.warning(
                "ValetFilter: Valet chose %s for instance %s, which is not among the %d candidate host(s)",
                location,
                spec_obj.instance_uuid,
                len(names),
            )
        else:
            LOG.info("ValetFilter: Valet chose host %s for instance %s", location, spec_obj.instance_uuid)
        return [host for host in hosts if host.host == location]

    @staticmethod
    def _without_valet(hosts, instance_uuid, exc):
        if cfg.CONF.valet.failure_mode == "yield":
            LOG.warning(
                "ValetFilter: no answer from Valet for instance %s, passing all %d host(s) (failure_mode=yield): %s",
                instance_uuid,
                len(hosts),
                exc,
            )
            return hosts
        LOG.error(
            "ValetFilter: no answer from Valet for instance %s, rejecting all %d host(s) (failure_mode=reject): %s",
            instance_uuid,
            len(hosts),
            exc,
        )
        return []
