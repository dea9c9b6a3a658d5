"""Fixtures of the playbook tests; the helpers are in playbook_helpers.py."""

import pytest
from playbook_helpers import Controller


@pytest.fixture
def controller(tmp_path):
    controller = Controller(tmp_path)
    yield controller
    controller.close()
