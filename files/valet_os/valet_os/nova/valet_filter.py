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


def _project(spec_obj):
    """The instance's owner, for valet-api's exclusivity membership (None if Nova did not say)."""
    return spec_obj.project_id if spec_obj.obj_attr_is_set("project_id") else None


def _why(exc):
    """Our own errors say what happened; anything else is named by its type too."""
    return str(exc) if isinstance(exc, valet_client.ValetError) else "%s: %s" % (type(exc).__name__, exc)


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
            location = _location(self._api().place(hint, names, spec_obj.instance_uuid, _project(spec_obj)))
        else:
            location = self._adhoc(spec_obj, names)
        if not location:
            raise valet_client.ValetError("valet-api gave no location for %s" % (hint or spec_obj.instance_uuid))
        if not isinstance(location, str) or location not in names:
            # valet-api chooses among the hosts it is given: anything else is no answer.
            raise valet_client.ValetError(
                "valet-api chose %.100r for %s, which is not one of the %d candidate host(s)"
                % (location, hint or spec_obj.instance_uuid, len(names))
            )
        return location

    def _adhoc(self, spec_obj, names):
        """No Heat hint: a one-server plan keyed by the instance uuid."""
        uuid = spec_obj.instance_uuid
        body = {
            "plan_name": uuid,
            "stack_id": uuid,
            "locations": names,
            "timeout": "60 sec",
            "project_id": _project(spec_obj),
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
            return _location(self._api().place(uuid, names, uuid, _project(spec_obj)))
        placements = plan.get("placements") if isinstance(plan, dict) else None
        return _location(placements.get(uuid)) if isinstance(placements, dict) else None


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
        except Exception as exc:  # valet-api, its reply or [valet] itself: never a crash in Nova
            return self._without_valet(hosts, spec_obj.instance_uuid, _why(exc))
        LOG.info("ValetFilter: Valet chose host %s for instance %s", location, spec_obj.instance_uuid)
        return [host for host in hosts if host.host == location]

    @staticmethod
    def _without_valet(hosts, instance_uuid, exc):
        if config.failure_mode(cfg.CONF) == "yield":
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
