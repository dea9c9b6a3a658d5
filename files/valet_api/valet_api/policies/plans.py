from valet_api.policies import base

RULES = [
    base.rule("valet:plans:list", "List plans.", [("GET", "/v1/plans")]),
    base.rule("valet:plans:show", "Show a plan.", [("GET", "/v1/plans/{plan_id}")]),
    base.rule("valet:plans:create", "Plan a stack: place its servers.", [("POST", "/v1/plans")]),
    base.rule("valet:plans:update", "Replan a stack after an update.", [("PUT", "/v1/plans/{plan_id}")]),
    base.rule("valet:plans:delete", "Delete a plan, freeing its hosts.", [("DELETE", "/v1/plans/{plan_id}")]),
]


def list_rules():
    return RULES
