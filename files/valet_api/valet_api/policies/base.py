from oslo_policy import policy

ADMIN_OR_SERVICE = "rule:admin_or_service"

RULES = [
    policy.RuleDefault(
        "admin_or_service",
        "role:service or role:admin",
        description="The Valet service user (the plugins in Heat and Nova) or a cloud administrator.",
    ),
]


def rule(name, description, operations):
    return policy.DocumentedRuleDefault(
        name=name,
        check_str=ADMIN_OR_SERVICE,
        description=description,
        operations=[{"method": m, "path": p} for m, p in operations],
        scope_types=["project"],
    )


def list_rules():
    return RULES
