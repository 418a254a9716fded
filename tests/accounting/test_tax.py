"""The pure tax estimate and the loaded Shanxi rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aquifer.accounting.tax import TaxRule, WellWithdrawal, estimate, over_quota_factor

TIERS = [(Decimal(0), Decimal(2)), (Decimal(20), Decimal("2.5")), (Decimal(40), Decimal(3))]
RULE = TaxRule(rate=Decimal(4), zone_factors={"overexploited": Decimal(2)}, over_quota_tiers=TIERS)


def test_within_quota() -> None:
    e = estimate([WellWithdrawal(1, 1000.0)], 2000, RULE)
    assert e.amount == Decimal("4000.00")
    assert e.over_quota_m3 == 0


@pytest.mark.parametrize(
    ("volume", "factor"), [(1100, 2), (1200, 2), (1300, "2.5"), (1400, "2.5"), (1500, 3)]
)
def test_over_quota_tiers(volume: int, factor: str | int) -> None:
    f = Decimal(factor)
    e = estimate([WellWithdrawal(1, float(volume))], 1000, RULE)
    assert over_quota_factor(Decimal(volume), Decimal(1000), TIERS) == f
    assert e.amount == Decimal(4000) + (volume - 1000) * 4 * f
    assert e.over_quota_m3 == volume - 1000


def test_zone_factor_and_share_and_exemption() -> None:
    rule = TaxRule(
        rate=Decimal(2), taxable_share=Decimal("0.91"), exempt_within_quota=True,
        zone_factors={"overexploited": Decimal(2)}, over_quota_tiers=TIERS,
    )  # fmt: skip
    e = estimate(
        [WellWithdrawal(1, 600.0, "overexploited"), WellWithdrawal(2, 600.0, "balanced")],
        1000,
        rule,
    )
    # 200 m³ over (each well 100), 91 % taxable; within quota exempt
    # over: well 1: 91 × 2 × 2 × 2 = 728; well 2: 91 × 2 × 2 = 364
    assert e.amount == Decimal("1092.00")
    assert e.taxable_m3 == Decimal("1092.000")
    assert "exempt_within_quota" in e.notes


def test_no_permit() -> None:
    e = estimate([WellWithdrawal(1, 100.0)], None, RULE)
    assert e.amount == Decimal("400.00")
    assert "no_permit" in e.notes
    with pytest.raises(ValueError):
        estimate([WellWithdrawal(1, -1.0)], None, RULE)


volumes = st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=6)


@given(volumes, st.floats(1, 1e6), st.floats(0, 1e5))
def test_more_water_never_costs_less(vols: list[float], quota: float, extra: float) -> None:
    wells = [WellWithdrawal(i, v) for i, v in enumerate(vols)]
    more = [*wells[:-1], WellWithdrawal(99, vols[-1] + extra)]
    a = estimate(wells, quota, RULE).amount
    b = estimate(more, quota, RULE).amount
    assert b >= a - Decimal("0.02")  # fen rounding per line
    assert a >= 0


def test_loaded_rates(db: Any) -> None:
    from aquifer.accounting.reports import rule_for

    rule, rate = rule_for("industrial", dt.date(2025, 6, 30))
    assert rule.rate == Decimal(4) and rate.confirmed
    assert {t[1] for t in rule.over_quota_tiers} == {Decimal(2), Decimal("2.5"), Decimal(3)}
    assert not rule.confirmed  # the over-quota tiers are [U]
    rule, rate = rule_for("domestic", dt.date(2025, 6, 30))
    assert rule.taxable_share == Decimal("0.91")
    rule, rate = rule_for("agricultural", dt.date(2020, 1, 1))
    assert rule.rate == Decimal("0.1")
    rule, rate = rule_for("industrial", dt.date(2010, 1, 1))
    assert rate is None and rule.rate == 0
