"""Concurrent transfers against the ledger: used by tests/rights and bench/transfers.py.

``python -m aquifer.rights.stress prepare --year Y --accounts N --each M`` issues N×M m³ for
year Y and allocates M to each of N township accounts; ``… worker --year Y --transfers K
--seed S`` makes K random transfers between them (its own process, its own connection), some
larger than the balance on purpose; ``… check --year Y`` prints the conservation audit. Each
prints one JSON object. The database is the one DATABASE_URL names.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from typing import Any

import django
from django.apps import apps

if not apps.ready:  # run as a script (python -m aquifer.rights.stress): Django first
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aquifer.config.settings")
    django.setup()

from aquifer.registry.models import Township

STRESS_USE_TYPES = ("domestic", "agricultural", "industrial", "ecological", "service")
STRESS_SOURCES = ("shallow", "deep", "surface")


def _setup() -> None:
    """Django is set up when this module is imported (above); kept for the callers."""


def stress_accounts(year: int, n: int) -> list[Any]:
    """N distinct township accounts of ``year`` (townships × use types × sources)."""
    from aquifer.rights import ledger
    from aquifer.rights.models import HolderKind

    towns = list(Township.objects.order_by("code").values_list("pk", flat=True))
    out: list[Any] = []
    for t in towns:
        for u in STRESS_USE_TYPES:
            for s in STRESS_SOURCES:
                if len(out) == n:
                    return out
                out.append(
                    ledger.account(HolderKind.TOWNSHIP, year, township_id=t, use_type=u, source=s)
                )
    if len(out) < n:
        raise SystemExit(f"at most {len(out)} stress accounts")
    return out


def prepare(year: int, n: int, each: int) -> dict[str, Any]:
    from aquifer.rights import ledger
    from aquifer.rights.models import JournalKind

    accts = stress_accounts(year, n)
    county, reserve = ledger.county_account(year), ledger.reserve_account(year)
    ledger.transfer(county, reserve, n * each, JournalKind.ISSUE, memo="stress")
    for a in accts:
        ledger.transfer(reserve, a, each, JournalKind.ALLOCATION, memo="stress")
    return {"accounts": [a.pk for a in accts], "issued_m3": n * each}


def worker(
    year: int, n_accounts: int, transfers: int, seed: int, max_volume: int
) -> dict[str, Any]:
    from django.db import OperationalError

    from aquifer.rights import ledger
    from aquifer.rights.models import JournalKind

    accts = stress_accounts(year, n_accounts)
    rnd = random.Random(seed)
    done = refused = retried = 0
    t0 = time.perf_counter()
    for _ in range(transfers):
        a, b = rnd.sample(accts, 2)
        volume = rnd.randint(1, max_volume)
        for attempt in range(20):
            try:
                ledger.transfer(a, b, volume, JournalKind.TRANSFER, memo="stress")
                done += 1
            except ledger.LedgerError:
                refused += 1
            except OperationalError:  # e.g. a PostgreSQL serialization hiccup: retry
                retried += 1
                time.sleep(0.01 * (attempt + 1))
                continue
            break
    return {
        "done": done,
        "refused": refused,
        "retried": retried,
        "seconds": time.perf_counter() - t0,
    }


def check(year: int) -> dict[str, Any]:
    """The conservation audit of ``year``: every journal balanced, the total zero, no account
    but the county's below zero, and the rights held equal to what the county issued."""
    from aquifer.rights import ledger

    result = ledger.audit(year)
    county = ledger.county_account(year).pk
    issued = -result.balances.get(county, 0)
    held = sum(b for pk, b in result.balances.items() if pk != county)
    return {
        "ok": result.ok and held == issued,
        "journals": result.journals,
        "entries": result.entries,
        "total": result.total,
        "issued_m3": issued,
        "held_m3": held,
        "unbalanced_journals": list(result.unbalanced_journals),
        "negative_accounts": [list(x) for x in result.negative_accounts],
    }


# ----------------------------------------------------------------------------- harness


AQUIFER = [sys.executable, "-m", "aquifer.cli"]
STRESS = [sys.executable, "-m", "aquifer.rights.stress"]


def fresh_database(
    vendor: str, workdir: str, pg_url: str | None = None, name: str = "rights_stress"
) -> dict[str, str]:
    """A migrated, empty database of its own (an SQLite file ``<name>.sqlite3`` in
    ``workdir``, or a new PostgreSQL database ``<pg_url's>_<name>`` next to ``pg_url``'s,
    dropped first if it exists); its environment."""
    import subprocess
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PYTEST"))}
    env.update(AQUIFER_DATA_DIR=workdir, DJANGO_SETTINGS_MODULE="aquifer.config.settings")
    if vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{Path(workdir) / name}.sqlite3"
    else:
        import psycopg

        base = pg_url or "postgres://postgres@127.0.0.1:5432/postgres"
        root, _sep, base_name = base.rpartition("/")
        db_name = f"{base_name or 'aquifer'}_{name}"
        with psycopg.connect(f"{root}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}"')
            conn.execute(f'CREATE DATABASE "{db_name}"')
        env["DATABASE_URL"] = f"{root}/{db_name}"
    subprocess.run([*AQUIFER, "migrate", "-v0"], env=env, cwd=workdir, check=True, timeout=600)
    return env


def drop_database(env: dict[str, str]) -> None:
    """Drop a PostgreSQL database made by :func:`fresh_database` (SQLite: nothing to do)."""
    url = env["DATABASE_URL"]
    if not url.startswith("postgres"):
        return
    import psycopg

    root, _sep, name = url.rpartition("/")
    with psycopg.connect(f"{root}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_concurrent(
    env: dict[str, str],
    workdir: str,
    *,
    year: int = 2099,
    accounts: int = 20,
    each: int = 1000,
    transfers: int = 1000,
    workers: int = 4,
    max_volume: int = 400,
) -> dict[str, Any]:
    """Prepare, run ``workers`` processes sharing ``transfers``, then check; one dict."""
    import subprocess

    def call(*args: str) -> dict[str, Any]:
        res = subprocess.run(
            [*STRESS, *args], env=env, cwd=workdir, capture_output=True, text=True, timeout=900
        )
        if res.returncode != 0:
            raise RuntimeError(res.stderr[-2000:])
        return dict(json.loads(res.stdout.strip().splitlines()[-1]))

    call("prepare", "--year", str(year), "--accounts", str(accounts), "--each", str(each))
    share = [transfers // workers + (1 if i < transfers % workers else 0) for i in range(workers)]
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                *STRESS,
                "worker",
                "--year",
                str(year),
                "--accounts",
                str(accounts),
                "--transfers",
                str(n),
                "--seed",
                str(i),
                "--max-volume",
                str(max_volume),
            ],
            env=env,
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, n in enumerate(share)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=900)
        if p.returncode != 0:
            raise RuntimeError(err[-2000:])
        results.append(json.loads(out.strip().splitlines()[-1]))
    wall = time.perf_counter() - t0
    # Subtract the workers' start-up (imports, Django setup) from the wall time: the slowest
    # worker's own loop time is the time the transfers took.
    loop = max(r["seconds"] for r in results)
    done = sum(r["done"] for r in results)
    refused = sum(r["refused"] for r in results)
    checked = call("check", "--year", str(year))
    return {
        "transfers": transfers,
        "workers": workers,
        "done": done,
        "refused_insufficient": refused,
        "retried": sum(r["retried"] for r in results),
        "seconds": round(loop, 3),
        "wall_seconds": round(wall, 3),
        "attempts_per_s": round((done + refused) / loop, 1) if loop else None,
        "transfers_per_s": round(done / loop, 1) if loop else None,
        "conservation": checked,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m aquifer.rights.stress")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("prepare")
    a.add_argument("--year", type=int, required=True)
    a.add_argument("--accounts", type=int, default=20)
    a.add_argument("--each", type=int, default=1000)
    w = sub.add_parser("worker")
    w.add_argument("--year", type=int, required=True)
    w.add_argument("--accounts", type=int, default=20)
    w.add_argument("--transfers", type=int, default=100)
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--max-volume", type=int, default=400)
    c = sub.add_parser("check")
    c.add_argument("--year", type=int, required=True)
    args = p.parse_args(argv)
    _setup()
    if args.cmd == "prepare":
        out = prepare(args.year, args.accounts, args.each)
    elif args.cmd == "worker":
        out = worker(args.year, args.accounts, args.transfers, args.seed, args.max_volume)
    else:
        out = check(args.year)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
