"""Valet plans under Heat's convergence engine.

Heat's convergence engine never calls stack lifecycle plugins. It does run, for
every create, update, rollback and delete, one step where the stack's resource
rows (and so their uuids) are stored and no resource has started yet: the
pre_converge callback of Stack._converge_create_or_update. install() wraps that
method so that Valet's plan is sent there, before Heat's own pre_converge.

If valet-api refuses the plan (or is unavailable under failure_mode=reject) the
callback raises: Heat's own error handling around the traversal then marks the
stack failed with that reason (and rolls back where rollback is enabled) before
any resource is triggered.

install() never raises. On a Heat whose method does not have the shape checked
here it leaves Heat as it is, logs one error line and records the problem in
STATUS, which valet.openstack.valet_verify reports so that the rollout restores
the host.
"""

import functools
import inspect

from heat.engine import stack as heat_stack
from oslo_log import log as logging

from valet_os.heat import plan

LOG = logging.getLogger(__name__)

TARGET = "_converge_create_or_update"
HOOK_PARAM = "pre_converge"
# Heat's choice of the existing row a traversal works on, for each resource name.
ROW_CHOICE = "_get_best_existing_rsrc_db"
_MARK = "_valet_convergence_hook"
# Actions whose traversal changes what exists; check, suspend, resume and
# snapshot traversals (Heat 27) leave the plan as it is.
PLANNED = ("CREATE", "ADOPT", "UPDATE", "RESTORE", "ROLLBACK", "DELETE")

# What install() found: "active", or why the hook is not there.
STATUS = {"state": "not installed", "heat": None}
# Made on first use, when heat-engine's configuration is loaded; tests drop it to reconfigure.
PLANNER = None


def heat_version():
    try:
        from heat import version

        return version.version_info.version_string()
    except Exception:  # a Heat without pbr metadata still runs
        return "unknown"


def _uuids(stack):
    """name -> uuid of the resource rows this traversal works on.

    A traversal started from an engine worker (the rollback after a failed update) holds
    Resource objects built from its cache, without uuids: ask Heat which row it uses.
    """
    found = {}
    for name, res in stack.resources.items():
        row = getattr(stack, ROW_CHOICE)(name)
        uuid = res.uuid if row is None else row.uuid  # None: a row stored by this traversal
        if uuid:
            found[name] = uuid
    return found


def _frees_only(stack):
    """A delete, or a rollback to an empty template (the rollback of a create)."""
    if stack.action == stack.DELETE:
        return True
    return stack.action == stack.ROLLBACK and not list(stack.defn.enabled_rsrc_names())


def _planner():
    global PLANNER
    if PLANNER is None:
        PLANNER = plan.Planner()
    return PLANNER


def _wrap(original, signature):
    @functools.wraps(original)
    def converge_with_valet(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        theirs = bound.arguments.get(HOOK_PARAM)
        action = self.action

        def pre_converge():
            if action in PLANNED:
                # Raises ValetPlanError to stop the traversal before any resource starts.
                frees_only = _frees_only(self)
                # Rows are read inside send(): a failure there follows failure_mode too.
                _planner().send(self, action, uuids=functools.partial(_uuids, self), frees_only=frees_only)
            if callable(theirs):
                theirs()

        bound.arguments[HOOK_PARAM] = pre_converge
        try:
            return original(*bound.args, **bound.kwargs)
        except plan.ValetPlanError as exc:
            # Heat's own error handling around the traversal has marked the stack failed
            # with this reason (and started a rollback where enabled); where it has not,
            # do what it does. Either way the refusal ends here, not as a thread crash.
            LOG.warning("valet: stack %s: %s", self.name, exc)
            if (self.action, self.status) == (action, self.IN_PROGRESS):
                self.mark_failed(str(exc))
            return None

    setattr(converge_with_valet, _MARK, True)
    return converge_with_valet


def install():
    """Wrap Heat's convergence traversal once per process; True when the hook is active."""
    STATUS["heat"] = heat_version()
    try:
        original = getattr(heat_stack.Stack, TARGET)
        if getattr(original, _MARK, False):
            return True
        signature = inspect.signature(original)
        if HOOK_PARAM not in signature.parameters:
            raise TypeError("Stack.%s%s has no %s parameter" % (TARGET, signature, HOOK_PARAM))
        if not callable(getattr(heat_stack.Stack, ROW_CHOICE, None)):
            raise TypeError("Stack has no %s" % ROW_CHOICE)
        setattr(heat_stack.Stack, TARGET, _wrap(original, signature))
    except Exception as exc:
        STATUS["state"] = "unsupported: %s" % exc
        LOG.error(
            "valet: Heat %s is not supported by valet-openstack's convergence hook "
            "(%s): stacks of the convergence engine get no Valet plan",
            STATUS["heat"],
            exc,
        )
        return False
    STATUS["state"] = "active"
    LOG.info("valet: convergence hook active in Heat %s", STATUS["heat"])
    return True
