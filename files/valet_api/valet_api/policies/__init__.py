"""valet-api's policy rules in code (entry point oslo.policy.policies `valet_api`)."""

import itertools

from valet_api.policies import base
from valet_api.policies import groups
from valet_api.policies import placements
from valet_api.policies import plans
from valet_api.policies import status


def list_rules():
    return list(
        itertools.chain(
            base.list_rules(), status.list_rules(), plans.list_rules(), placements.list_rules(), groups.list_rules()
        )
    )
