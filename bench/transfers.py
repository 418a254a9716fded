"""Concurrent transfers on the water-rights ledger, then the conservation check.

Builds a fresh database of its own (an SQLite file in a temporary directory; for PostgreSQL a
database ``<name>_rights_stress`` beside the one DATABASE_URL or --pg-url names, dropped after),
issues 20 accounts × 1,000 m³, and runs 4 worker processes — each with its own connection —
making 1,000 random transfers between the accounts (volumes 1–400 m³, so some would overdraw
and are refused). Each transfer is one balanced journal posted under row locks (PostgreSQL
``SELECT … FOR UPDATE``) or the write lock of ``BEGIN IMMEDIATE`` (SQLite). Reports transfers
per second (the workers' loop time, start-up excluded) and the audit after: every journal
balanced, the total zero, no account negative, rights held = rights issued. It must hold.

    python bench/transfers.py [--quick] [--db sqlite|postgres|both] [--transfers N]
        [--workers W] [--pg-url postgres://…]

Prints one JSON object; exit status 1 if the conservation check fails on any database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Any

from _common import machine

from aquifer.rights import stress


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="200 transfers")
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--transfers", type=int, default=None)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument(
        "--pg-url",
        default=(
            os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ["DATABASE_URL"]
        )
        or "postgres://postgres@127.0.0.1:5432/aquifer_bench",
    )
    args = ap.parse_args()
    n = args.transfers or (200 if args.quick else 1000)
    wall0 = time.perf_counter()
    vendors = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results: dict[str, Any] = {}
    ok = True
    for vendor in vendors:
        with tempfile.TemporaryDirectory(prefix="aquifer-transfers-") as tmp:
            try:
                env = stress.fresh_database(vendor, tmp, args.pg_url)
            except Exception as exc:  # PostgreSQL not reachable: say so, do not fail SQLite
                results[vendor] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                ok = False
                continue
            try:
                r = stress.run_concurrent(
                    env, tmp, accounts=args.accounts, each=1000, transfers=n,
                    workers=args.workers, max_volume=400,
                )  # fmt: skip
            finally:
                stress.drop_database(env)
        results[vendor] = r
        ok = ok and bool(r["conservation"]["ok"])
    out = {
        "benchmark": "concurrent ledger transfers + conservation check",
        "quick": args.quick,
        "transfers": n,
        "workers": args.workers,
        "accounts": args.accounts,
        "unit": "transfers per second (posted journals; refused overdrafts counted apart)",
        "results": results,
        "conservation_holds": ok,
        **machine(wall0),
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
