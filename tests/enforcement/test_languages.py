"""The enforcement pages with records on them speak one language (tests/test_languages.py
walks the list pages; these are the detail pages it cannot reach)."""

from __future__ import annotations

from typing import Any

import pytest

from aquifer.enforcement import pollution, services
from aquifer.enforcement.models import PollutionSource
from tests.test_languages import offending, proper_names


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_detail_pages(world: Any, lang: str) -> None:
    bureau = world.accounts["bureau"]
    case = services.open_case(
        "no_meter",
        "manual",
        by=bureau,
        title="Case X",
        facts="x",
        party="P",
        well=world.well_a,
        evidence=[("frame", "F1", {"raw_hex": "7E7E"})],
    )
    for step, data in [("file", {}), ("investigate", {}), ("notice", {"band": "light"})]:
        services.take_step(case, step, by=bureau, **data)
    source = PollutionSource(
        name="S1",
        kind="fuel_station",
        lon=world.well_a.lon,
        lat=world.well_a.lat,
        tank_type="single_walled",
    )
    source.save()
    pollution.inspect(source, by=bureau, tank_type="single_walled", findings="x")
    urls = [
        case.get_absolute_url(),
        source.get_absolute_url(),
        "/enforcement/?state=all",
        "/enforcement/sources/",
        "/enforcement/metering/",
    ]
    problems = offending(world.client("bureau"), urls, lang, proper_names())
    assert not problems, "\n".join(problems)
