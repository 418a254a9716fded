"""Fixtures of the supervision tests: a second officer, an approved plan in township A."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from aquifer.core.models import User
from aquifer.core.roles import Role

YEAR = dt.date.today().year


def post(c: Any, url: str, data: Any) -> Any:
    return c.post(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def officer_b(world: Any) -> Any:
    return User.objects.create_user("officer_b", role=Role.TOWNSHIP, township=world.township_b)


@pytest.fixture
def approved_plan(world: Any) -> Any:
    from aquifer.supervision import services

    officer, bureau = world.accounts["township"], world.accounts["bureau"]
    plan = services.open_plan(by=officer, township=world.township_a, year=YEAR)
    services.add_task(
        by=officer,
        plan=plan,
        kind="close_wells",
        title="关停禁采区井",
        target=2,
        unit="眼",
        deadline=dt.date(YEAR, 12, 31),
        responsible="张三",
    )
    services.add_task(
        by=officer,
        plan=plan,
        kind="publicity",
        title="节水宣传",
        target=4,
        unit="次",
        deadline=dt.date(YEAR, 1, 1),
        responsible="李四",
    )
    services.submit_plan(by=officer, plan=plan)
    services.approve_plan(by=bureau, plan=plan)
    return plan
