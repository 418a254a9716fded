"""Sealed-bid double-auction clearing (aquifer.rights.clearing) on 10,000 orders.

Random orders (seeded): half buys, half sells, volumes 100–50,000 m³, prices 0.50–5.00
yuan/m³ in steps of 0.05 with overlapping demand and supply, times random so ties of price are
broken by time and id. Times ``clear()`` (best and median of rounds, milliseconds, process
CPU time) and checks its result against the invariants (total bought = total sold, no fill
above its order, buys filled at ≥ the price, sells at ≤ it).

    python bench/market_clear.py [--quick] [--orders N] [--seed S] [--db sqlite|postgres|both]

``--db`` is accepted for symmetry with bench/transfers.py and ignored: clearing is a pure
function with no database. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from decimal import Decimal
from typing import Any

from _common import machine

from aquifer.rights.clearing import Order, Side, clear


def make_orders(n: int, seed: int) -> list[Order]:
    rnd = random.Random(seed)
    out = []
    for k in range(n):
        side = Side.BUY if k % 2 == 0 else Side.SELL
        centre = 60 if side is Side.BUY else 40  # buyers a little dearer: the curves cross
        cents = min(100, max(10, int(rnd.gauss(centre, 18))))
        out.append(
            Order(
                f"o{k:06d}",
                side,
                rnd.randint(100, 50_000),
                Decimal(cents * 5) / 100,
                float(rnd.randint(0, 3600)),
            )
        )
    return out


def check(orders: list[Order], result: Any) -> bool:
    by_id = {o.order_id: o for o in orders}
    bought = sum(v for k, v in result.fills.items() if by_id[k].side is Side.BUY)
    sold = sum(v for k, v in result.fills.items() if by_id[k].side is Side.SELL)
    p = result.clearing_price
    return (
        bought == sold == result.cleared_volume
        and all(0 < v <= by_id[k].volume for k, v in result.fills.items())
        and all(
            (by_id[k].price >= p) if by_id[k].side is Side.BUY else (by_id[k].price <= p)
            for k in result.fills
        )
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds")
    ap.add_argument("--orders", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    args = ap.parse_args()
    wall0 = time.perf_counter()
    orders = make_orders(args.orders, args.seed)
    rounds = 5 if args.quick else 30
    times = []
    result = clear(orders)
    for _ in range(rounds):
        t0 = time.process_time()
        result = clear(orders)
        times.append((time.process_time() - t0) * 1000)
    shuffled = list(orders)
    random.Random(1).shuffle(shuffled)
    deterministic = clear(shuffled) == result
    ok = check(orders, result) and deterministic
    out: dict[str, Any] = {
        "benchmark": "double-auction clearing, uniform price",
        "quick": args.quick,
        "orders": args.orders,
        "rounds": rounds,
        "unit": "milliseconds of CPU per clearing",
        "best_ms": round(min(times), 2),
        "median_ms": round(statistics.median(times), 2),
        "clearing_price": float(result.clearing_price) if result.clearing_price else None,
        "cleared_volume_m3": result.cleared_volume,
        "filled_orders": len(result.fills),
        "invariants_hold": ok,
        **machine(wall0),
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
