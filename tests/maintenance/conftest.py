"""Fixtures of the maintenance tests: a second officer, an alarm, a ticket per township."""

from __future__ import annotations

from typing import Any

import pytest

from aquifer.core.models import User
from aquifer.core.roles import Role


@pytest.fixture
def officer_b(world: Any) -> Any:
    return User.objects.create_user("officer_b", role=Role.TOWNSHIP, township=world.township_b)


@pytest.fixture
def tickets(world: Any) -> Any:
    """One ticket on each township's device, opened by the bureau."""
    from aquifer.maintenance.services import open_ticket

    bureau = world.accounts["bureau"]
    a = open_ticket(by=bureau, title="A 设备不上报", description="离线", device=world.device_a)
    b = open_ticket(by=bureau, title="B 设备电量低", description="电池", device=world.device_b)
    return a, b
