"""Heat stack lifecycle plugin: keeps valet-api's plan in step with the stack.

Heat imports this module once, when heat-engine loads its global environment
(entry point group heat.stack_lifecycle_plugins), whichever engine it runs. That
is where the convergence hook is installed: Heat calls lifecycle plugins only
from its legacy engine, so under convergence the same plan is sent from the
traversal (valet_os.heat.convergence).
"""

from heat.engine import lifecycle_plugin

from valet_os.heat import convergence
from valet_os.heat import legacy
from valet_os.heat import plan


class ValetLifecyclePlugin(lifecycle_plugin.LifecyclePlugin):
    """Sends the stack's plan to valet-api before the legacy engine acts on it."""

    def __init__(self):
        super().__init__()
        self._planner = plan.Planner()
        # Resources a legacy update adds get their uuid later: sent then (valet_os.heat.legacy).
        legacy.install(self._planner)

    def do_pre_op(self, cnxt, stack, current_stack=None, action=None):
        action = action or stack.action
        if action == stack.UPDATE or (action == stack.ROLLBACK and current_stack is not None):
            # Never `current_stack or stack`: a Stack's truth value loads its resource
            # definitions at a moment Heat does not expect, and the update fails.
            target = stack if current_stack is None else current_stack
            self._planner.send(stack, action, target=target)
        elif action in (stack.DELETE, stack.ROLLBACK):
            self._planner.send(stack, action, frees_only=True)
        elif action == stack.CREATE:
            self._planner.send(stack, action)


convergence.install()
