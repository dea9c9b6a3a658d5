"""Valet plans for resources a legacy-engine update creates.

The lifecycle plugin's pre-op sends the plan of a legacy update before any resource has
changed, and a resource the update adds (or replaces) has no uuid then: Heat gives it one
when StackUpdate stores its row, through Stack.add_resource, just before it creates it. A
server Nova is about to place under that uuid must be in the plan first, so install() wraps
Stack.add_resource: once the new row is stored, the plan is sent again (PUT) if the new uuid
is in it, before Heat goes on to create the resource.

Convergence stacks store every row before their traversal (valet_os.heat.convergence) and
are left alone here. install() never raises; on a Heat without the method it logs an error.
"""

import functools

from heat.engine import stack as heat_stack
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

TARGET = "add_resource"
_MARK = "_valet_legacy_hook"
# Set by valet_os.heat.plugins: the Planner of the lifecycle plugin.
PLANNER = None


def _in_plan(new_uuid):
    def needed(resources):
        return new_uuid in resources or any(
            new_uuid in ((res.get("properties") or {}).get("resources") or []) for res in resources.values()
        )

    return needed


def _wrap(original):
    @functools.wraps(original)
    def add_resource_with_valet(self, resource):
        source = resource.stack  # the new stack of the update, whose definitions are the plan
        new_row = resource.id is None
        result = original(self, resource)
        if (
            PLANNER is not None
            and new_row
            and resource.uuid
            and not self.convergence
            and self.status == self.IN_PROGRESS
            and self.action in (self.UPDATE, self.ROLLBACK)
            and source is not None
            and source is not self
        ):
            uuids = {name: res.uuid for name, res in self.resources.items() if res.uuid}
            # Raises plan.ValetPlanError as the pre-op would: Heat fails the update with its reason.
            PLANNER.send(self, self.action, target=source, uuids=uuids, needed=_in_plan(resource.uuid))
        return result

    setattr(add_resource_with_valet, _MARK, True)
    return add_resource_with_valet


def install(planner):
    """Wrap Stack.add_resource once per process; True when the hook is active."""
    global PLANNER
    PLANNER = planner
    try:
        original = getattr(heat_stack.Stack, TARGET)
        if not getattr(original, _MARK, False):
            setattr(heat_stack.Stack, TARGET, _wrap(original))
    except Exception as exc:
        LOG.error("valet: cannot hook Stack.%s (%s): legacy updates send no plan for new resources", TARGET, exc)
        return False
    return True
