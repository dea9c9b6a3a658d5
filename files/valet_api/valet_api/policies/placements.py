from valet_api.policies import base

RULES = [
    base.rule("valet:placements:list", "List placements.", [("GET", "/v1/placements")]),
    base.rule("valet:placements:show", "Show a placement.", [("GET", "/v1/placements/{id}")]),
    base.rule(
        "valet:placements:create",
        "Confirm or replan a server's host among Nova's candidates.",
        [("POST", "/v1/placements/{resource_uuid}")],
    ),
    base.rule("valet:placements:delete", "Delete a placement.", [("DELETE", "/v1/placements/{id}")]),
]


def list_rules():
    return RULES
