"""A stack's Valet plan: what valet-api is told before Heat acts on the stack.

Shared by both of Heat's engines: the legacy engine calls the lifecycle plugin
(valet_os.heat.plugins), the convergence engine calls the traversal hook
(valet_os.heat.convergence). Both end in send(), so the two engines send the same
requests with the same bodies and follow failure_mode the same way.
"""

import copy
import json
import uuid as uuidlib

from heat.engine import function
from heat.engine import template
from oslo_config import cfg
from oslo_log import log as logging

from valet_os.common import client as valet_client
from valet_os.common import config

LOG = logging.getLogger(__name__)

GROUP_ASSIGNMENT = "ATT::Valet::GroupAssignment"
# What valet-api plans: the servers and the groups that tie them together.
PLANNED_TYPES = frozenset(["OS::Nova::Server", GROUP_ASSIGNMENT])
# Intrinsic functions that name another resource of the same stack.
REFERENCE_FUNCTIONS = frozenset(["get_resource", "Ref"])
PLAN_TIMEOUT = "60 sec"
# Longest part of valet-api's refusal explanation shown in a stack's status.
MAX_EXPLANATION = 300


class ValetPlanError(Exception):
    """Fails the stack operation; str() becomes the stack's status reason."""


def _with_uuids(value, uuids):
    """Resolve a raw value in which references to resources become their uuids.

    The plan is sent before the resources exist, so get_resource would resolve to
    None: valet-api identifies resources by uuid instead, which Heat already knows.
    """
    if isinstance(value, function.Function):
        if getattr(value, "fn_name", None) in REFERENCE_FUNCTIONS and value.args in uuids:
            return uuids[value.args]
        try:
            return function.resolve(value)
        except Exception as exc:  # e.g. get_attr of a resource not created yet
            LOG.debug("valet: cannot resolve %r before the operation: %s", value, exc)
            return None
    if isinstance(value, dict):
        return {k: _with_uuids(v, uuids) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_with_uuids(v, uuids) for v in value]
    return value


def _properties(defn, uuids):
    """The properties the template sets on a resource, resolved as far as they can be now."""
    raw = getattr(defn, "_properties", None)
    if raw is None:  # not expected in Heat 19..27, but never fail a stack for it
        raw = defn.render_hot().get("properties")
    return {key: _with_uuids(value, uuids) for key, value in (raw or {}).items()}


def resource_uuids(stack):
    """name -> uuid of the stack's resources that have one, as its Resource objects know them."""
    return {name: res.uuid for name, res in stack.resources.items() if res.uuid}


def provisional_id(stack_id, name):
    """The id a group without a row yet is planned under: the same in every PUT of the stack."""
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, "valet-group:%s/%s" % (stack_id, name)))


def build_resources(stack, uuids, stack_id=None):
    """Return {uuid: {"name", "type", "properties"}} for the planned resources of stack.

    Works from the stack's definitions, never its Resource objects: building those
    for the new stack of a legacy update would break Heat's own update. uuids maps
    resource names to the uuids valet-api knows them by (the engine decides which).
    stack_id: the id of the stack valet-api knows (stack's own by default).
    """
    # A private copy of the stack definition: the parsed definitions it caches hold
    # weak references to it, and Heat's own copy must stay as Heat left it.
    tmpl = template.Template(copy.deepcopy(stack.t.t), files=stack.t.files, env=stack.t.env)
    sdefn = stack.defn.clone_with_new_template(tmpl, stack.identifier())
    # Legacy engine: a group an update adds is created after its members (it references
    # them), so when Nova places them it has no row. It is planned under a provisional id
    # until it has one (valet_os.heat.legacy sends the plan again then), so that the
    # members are placed under its rule.
    uuids = dict(uuids)
    for name in sdefn.enabled_rsrc_names():
        if name not in uuids and sdefn.resource_definition(name).resource_type == GROUP_ASSIGNMENT:
            uuids[name] = provisional_id(stack_id or stack.id, name)
    plan = {}
    for name in sorted(sdefn.enabled_rsrc_names()):
        defn = sdefn.resource_definition(name)
        rtype = defn.resource_type
        if rtype not in PLANNED_TYPES:
            continue
        if name not in uuids:
            # Legacy engine: a resource added by an update gets its uuid only when created.
            LOG.info("valet: resource %s of stack %s has no uuid yet, not planned", name, stack.name)
            continue
        props = _properties(defn, uuids)
        if rtype == GROUP_ASSIGNMENT:
            # Members are resolved to uuids; one still named is one without a row yet (legacy
            # engine: it is sent once it has one, valet_os.heat.legacy), left out until then.
            members = props.get("resources") or []
            names = set(sdefn.enabled_rsrc_names())
            props["resources"] = [
                uuids.get(m, m) for m in members if not (isinstance(m, str) and m in names and m not in uuids)
            ]
        # Round trip through JSON so that whatever Heat resolved can be sent.
        props = json.loads(json.dumps(props, default=str))
        plan[uuids[name]] = {"name": name, "type": rtype, "properties": props}
    return plan


def _is_verdict(exc):
    """A 4xx reply judges the plan; 401/403 and 5xx mean valet-api could not judge it."""
    return 400 <= exc.status < 500 and exc.status not in (401, 403)


def owner(stack):
    """The project that owns the stack (not whoever acts on it), for exclusivity membership."""
    return getattr(stack, "tenant_id", None) or getattr(stack.context, "project_id", None)


def _request_id(stack):
    return getattr(stack.context, "request_id", None) or "unknown"


class Planner:
    """Tells valet-api what Heat is about to do to a stack, under failure_mode."""

    def __init__(self):
        config.register_opts(cfg.CONF)
        cfg.CONF.import_opt("stack_scheduler_hints", "heat.common.config")
        self._client = None

    def _api(self):
        if self._client is None:
            self._client = valet_client.ValetClient(cfg.CONF)
        return self._client

    def send(self, stack, action, target=None, uuids=None, frees_only=False, needed=None):
        """Send the plan for `action` on `stack`; raise ValetPlanError to stop Heat.

        stack is the one valet-api knows (its id names the plan). target: the new
        stack of a legacy update or rollback, whose definitions become the plan.
        uuids: name -> resource uuid, or a callable that returns it; by default those
        of stack's Resource objects.
        frees_only: the operation only removes resources (a delete, the rollback of
        a create). Such an operation is never stopped: refusing it would keep
        servers the user asked to free. valet-api failing to hear of it is logged.
        needed: called with the plan's resources; the plan is sent only if it says so.

        The reason a ValetPlanError gives is shown to the stack's tenant: valet-api's own
        explanation of a refusal, else no more than "Valet unavailable" and the request id
        under which heat-engine's log has the details.
        """
        if not cfg.CONF.stack_scheduler_hints:
            return
        try:
            self._send(stack, action, target, uuids, frees_only, needed)
        except valet_client.ValetAPIError as exc:
            if _is_verdict(exc) and not frees_only:
                # valet-api looked at the plan and said no: never yielded.
                LOG.warning("valet: %s of stack %s refused [%s]: %s", action, stack.name, _request_id(stack), exc)
                raise ValetPlanError(self._refusal(stack, action, exc)) from exc
            self._unavailable(stack, action, exc, frees_only)
        except Exception as exc:  # valet-api down, or Heat internals this release does not know
            self._unavailable(stack, action, exc, frees_only)

    def _send(self, stack, action, target, uuids, frees_only, needed):
        if frees_only:
            if not self._api().delete_plan(stack.id):
                LOG.debug("valet: no plan for stack %s, nothing to delete", stack.id)
            return
        if uuids is None:
            uuids = resource_uuids(stack)
        elif callable(uuids):
            uuids = uuids()
        resources = build_resources(stack if target is None else target, uuids, stack.id)
        if needed is not None and not needed(resources):
            return
        if action in (stack.CREATE, stack.ADOPT):
            self._api().create_plan(self._new_plan(stack, resources))
            return
        try:
            self._api().update_plan(stack.id, resources)
        except valet_client.ValetAPIError as exc:
            if exc.status != 404:
                raise
            # The stack was created before Valet was installed (or the plan was lost).
            self._api().create_plan(self._new_plan(stack, resources))

    @staticmethod
    def _new_plan(stack, resources):
        return {
            "plan_name": stack.name,
            "stack_id": stack.id,
            "timeout": PLAN_TIMEOUT,
            "resources": resources,
            "project_id": owner(stack),
        }

    @staticmethod
    def _refusal(stack, action, exc):
        """valet-api's explanation is written for the tenant; anything else is not shown."""
        if exc.from_api:
            return "Valet refused %s of stack %s: %s (HTTP %s)" % (
                action,
                stack.name,
                exc.explanation[:MAX_EXPLANATION],
                exc.status,
            )
        return "Valet refused %s of stack %s (HTTP %s); request %s" % (
            action,
            stack.name,
            exc.status,
            _request_id(stack),
        )

    @staticmethod
    def _unavailable(stack, action, exc, frees_only):
        if frees_only or config.failure_mode(cfg.CONF) == "yield":
            why = "it only frees resources" if frees_only else "failure_mode=yield"
            LOG.warning(
                "Valet unavailable, stack %s goes on with %s without Valet (%s) [%s]: %s",
                stack.name,
                action,
                why,
                _request_id(stack),
                exc,
            )
            return
        LOG.error("valet: %s of stack %s rejected [%s]: %s", action, stack.name, _request_id(stack), exc)
        raise ValetPlanError(
            "Valet unavailable, %s of stack %s rejected (failure_mode=reject); request %s"
            % (action, stack.name, _request_id(stack))
        )
