from valet_api.policies import base

RULES = [
    base.rule(
        "valet:status:show",
        "Show valet-api's status and its dependencies'.",
        [("GET", "/v1"), ("GET", "/v1/status"), ("HEAD", "/v1/status")],
    ),
]


def list_rules():
    return RULES
