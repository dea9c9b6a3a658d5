"""The request context: who asks (from auth_token's or noauth2's headers), and what they may do."""

from oslo_context import context
from oslo_policy import policy

from valet_api.errors import ApiError


class RequestContext(context.RequestContext):
    def __init__(self, *args, enforcer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.enforcer = enforcer

    def can(self, action, target=None):
        target = target or {"project_id": self.project_id, "user_id": self.user_id}
        try:
            self.enforcer.authorize(action, target, self, do_raise=True)
        except (policy.PolicyNotAuthorized, policy.InvalidScope):
            raise ApiError(403, "policy does not allow %s to be performed" % action) from None
