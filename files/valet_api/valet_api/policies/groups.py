from valet_api.policies import base

RULES = [
    base.rule("valet:groups:list", "List registered groups.", [("GET", "/v1/groups")]),
    base.rule(
        "valet:groups:show",
        "Show a group and its member projects.",
        [("GET", "/v1/groups/{id}"), ("GET", "/v1/groups/{id}/members")],
    ),
    base.rule("valet:groups:create", "Register a group.", [("POST", "/v1/groups")]),
    base.rule(
        "valet:groups:update",
        "Change a group's description or member projects.",
        [
            ("PUT", "/v1/groups/{id}"),
            ("PUT", "/v1/groups/{id}/members"),
            ("POST", "/v1/groups/{id}/members"),
            ("DELETE", "/v1/groups/{id}/members"),
            ("DELETE", "/v1/groups/{id}/members/{project_id}"),
        ],
    ),
    base.rule("valet:groups:delete", "Delete a group without members.", [("DELETE", "/v1/groups/{id}")]),
]


def list_rules():
    return RULES
