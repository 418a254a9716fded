"""The double-auction clearing: worked examples and hypothesis invariants."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aquifer.rights.clearing import Clearing, ClearingError, Order, Side, clear


def o(oid: str, side: str, volume: int, price: str, time: float = 0.0) -> Order:
    return Order(oid, Side(side), volume, Decimal(price), time)


def test_crossing_on_a_vertical_segment_takes_the_midpoint() -> None:
    # Demand 100 at 5; supply 100 at 3: any price in [3, 5] clears 100 → 4.
    r = clear([o("b", "buy", 100, "5"), o("s", "sell", 100, "3")])
    assert (r.clearing_price, r.cleared_volume, r.fills) == (
        Decimal("4.00"),
        100,
        {"b": 100, "s": 100},
    )
    assert (r.price_low, r.price_high) == (Decimal("3"), Decimal("5"))


def test_next_orders_narrow_the_price_interval() -> None:
    r = clear(
        [
            o("b1", "buy", 100, "5"),
            o("b2", "buy", 100, "3.5"),  # unfilled: price at least 3.5
            o("s1", "sell", 100, "3"),
            o("s2", "sell", 100, "4.2"),  # unfilled: price at most 4.2
        ]
    )
    assert r.cleared_volume == 100
    assert (r.price_low, r.price_high) == (Decimal("3.5"), Decimal("4.2"))
    assert r.clearing_price == Decimal("3.85")


def test_horizontal_segment_rations_the_long_side_by_time_then_id() -> None:
    # Three buys at 4 for 60 each, supply 100 at 4: 100 trades at 4, earliest first.
    orders = [
        o("b-c", "buy", 60, "4", time=2),
        o("b-b", "buy", 60, "4", time=1),
        o("b-a", "buy", 60, "4", time=2),
        o("s", "sell", 100, "4"),
    ]
    r = clear(orders)
    assert r.clearing_price == Decimal("4.00")
    assert r.fills == {"b-b": 60, "b-a": 40, "s": 100}


def test_partial_fill_of_the_marginal_order_sets_the_price() -> None:
    r = clear(
        [
            o("b1", "buy", 100, "3.0"),
            o("b2", "buy", 50, "2.5"),
            o("s1", "sell", 80, "2.0"),
            o("s2", "sell", 60, "2.8"),
        ]
    )
    assert (r.clearing_price, r.cleared_volume) == (Decimal("2.80"), 100)
    assert r.fills == {"b1": 100, "s1": 80, "s2": 20}


def test_no_cross_no_trade() -> None:
    assert clear([o("b", "buy", 10, "1"), o("s", "sell", 10, "2")]) == Clearing(None, 0, {})
    assert clear([]) == Clearing(None, 0, {})
    assert clear([o("b", "buy", 10, "1")]).cleared_volume == 0


def test_bad_orders_are_refused() -> None:
    with pytest.raises(ClearingError):
        o("x", "buy", 0, "1")
    with pytest.raises(ClearingError):
        o("x", "buy", 1, "-1")
    with pytest.raises(ClearingError):
        Order("x", Side.BUY, 1, Decimal("NaN"))
    with pytest.raises(ClearingError, match="twice"):
        clear([o("x", "buy", 1, "1"), o("x", "sell", 1, "1")])


prices = st.integers(min_value=0, max_value=40).map(lambda c: Decimal(c) / 4)
orders_st = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell"]),
        st.integers(min_value=1, max_value=500),
        prices,
        st.integers(min_value=0, max_value=5),
    ),
    max_size=40,
).map(lambda rows: [o(f"o{k}", s, v, str(p), t) for k, (s, v, p, t) in enumerate(rows)])


@settings(max_examples=300, deadline=None)
@given(orders_st, st.randoms(use_true_random=False))
def test_clearing_invariants(orders: list[Order], rnd: random.Random) -> None:
    r = clear(orders)
    by_id = {x.order_id: x for x in orders}
    bought = sum(v for k, v in r.fills.items() if by_id[k].side is Side.BUY)
    sold = sum(v for k, v in r.fills.items() if by_id[k].side is Side.SELL)
    assert bought == sold == r.cleared_volume
    for k, v in r.fills.items():
        x = by_id[k]
        assert 0 < v <= x.volume
        assert r.clearing_price is not None
        if x.side is Side.BUY:
            assert x.price >= r.clearing_price
        else:
            assert x.price <= r.clearing_price
    if r.clearing_price is not None:
        p = r.clearing_price
        # Efficiency at the price: strictly better orders are filled completely.
        for x in orders:
            if (x.side is Side.BUY and x.price > p) or (x.side is Side.SELL and x.price < p):
                assert r.fills.get(x.order_id, 0) == x.volume
    # The volume is the maximum that can trade at any single price.
    best = 0
    for p in {x.price for x in orders}:
        demand = sum(x.volume for x in orders if x.side is Side.BUY and x.price >= p)
        supply = sum(x.volume for x in orders if x.side is Side.SELL and x.price <= p)
        best = max(best, min(demand, supply))
    assert r.cleared_volume == best
    # Deterministic whatever the input order.
    shuffled = list(orders)
    rnd.shuffle(shuffled)
    assert clear(shuffled) == r


def run_cli(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    f = tmp_path / "orders.csv"
    f.write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "aquifer.cli", "market", "clear", str(f)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip


def test_cli_prints_the_clearing(tmp_path: Path) -> None:
    res = run_cli(
        tmp_path,
        "order_id,side,volume_m3,price\nb1,buy,100,3.0\nb2,buy,50,2.5\ns1,sell,80,2.0\n"
        "s2,sell,60,2.8\n",
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {
        "clearing_price": 2.8,
        "cleared_volume_m3": 100,
        "fills": {"b1": 100, "s1": 80, "s2": 20},
    }


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("b1,buy,10.5,3\n", "第 2 行，列 “volume_m3”"),
        ("b1,hold,10,3\n", "第 2 行，列 “side”"),
        ("b1,buy,10,abc\n", "第 2 行，列 “price”"),
        ("b1,buy,10,-1\n", "第 2 行，列 “price”"),
        ("b1,buy,10,1\nb1,sell,10,1\n", "第 3 行，列 “order_id”"),
        (",buy,10,1\n", "第 2 行，列 “order_id”"),
        ("b1,buy,0,1\n", "第 2 行，列 “volume_m3”"),
    ],
)
@pytest.mark.slow
def test_cli_names_the_bad_row_and_column(tmp_path: Path, body: str, where: str) -> None:
    res = run_cli(tmp_path, "order_id,side,volume_m3,price\n" + body)
    assert res.returncode != 0
    assert where in res.stderr
    assert "Traceback" not in res.stderr


def test_cli_missing_column(tmp_path: Path) -> None:
    res = run_cli(tmp_path, "order_id,side,price\nb1,buy,1\n")
    assert res.returncode != 0 and "volume_m3" in res.stderr
