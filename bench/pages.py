"""Every page of every role through the whole Django stack on the demo county.

Builds the demo county twice with ``aquifer demo --no-serve`` (a subprocess each, into a
temporary data directory; ``--cache DIR`` keeps the built SQLite files and reuses them): with
``--wells`` wells (3,000; quick 600) and with ``--small`` wells (600; quick 150). Each copy is
then measured in a subprocess of its own (``--measure FILE``), with ``django.test.Client`` and
``force_login`` as each demo account — bureau, township officer (北留镇), water user,
inspector, public — and anonymously: the whole Django stack (middleware, session, policy gate,
templates, translation), no network.

The pages are derived, not listed: every URL pattern without path parameters that the role may
open (``core.policies.route_allows``, as tests/test_policy_matrix.py enumerates routes), and for
each pattern whose only parameter is ``pk`` and whose route is linked to viewing a model (one
record page of each kind), the first record of that model the role may see. Pages that do not
answer 200 with HTML (POST-only routes, downloads, redirects) are left out and counted in
``skipped``; the admin, the API and logging in / out are not pages here.

Per page and role: ``median_ms`` and ``p95_ms`` of ``--rounds`` requests after one warm-up
(at the large size), ``cpu_median_ms`` (this process's CPU time: what the page costs
when the machine is shared), ``queries`` (database queries of one request) at both sizes, and
``queries_independent_of_rows`` (the same count at both sizes; None for a record page, which
opens a different record in each county). Target: p95 under 300 ms and a query count
independent of the rows, for every page.

    python bench/pages.py [--quick] [--wells N] [--small M] [--history-days D]
                          [--rounds R] [--cache DIR] [--only PATH_PREFIX]

Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from _common import machine, parser

TARGET_P95_MS = 300.0
#: Demo account per role (registry/demo/accounts.py); anonymous: no account.
ACCOUNTS = {
    "bureau": "bureau",
    "township": "beiliu",
    "water_user": "wateruser",
    "inspector": "inspector",
    "public": "public",
    "anonymous": None,
}


# --- building the demo county ----------------------------------------------------------------


def build(wells: int, days: int, cache: Path | None, tmp: Path) -> Path:
    """A demo county's SQLite file with ``wells`` wells (from the cache or built now)."""
    name = f"demo-{wells}-{days}.sqlite3"
    cmd = [sys.executable, "-c", "import sys; from aquifer.cli import main; sys.exit(main())"]
    if cache is not None and (cache / name).exists():
        # A county built by an older tree: bring its schema up to this one's first.
        env = {
            **os.environ,
            "AQUIFER_DATA_DIR": str(tmp),
            "DATABASE_URL": f"sqlite:///{cache / name}",
        }
        done = subprocess.run([*cmd, "migrate", "-v0"], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"migrating {cache / name} failed:\n{done.stderr[-4000:]}")
        return cache / name
    data = tmp / f"build-{wells}"
    data.mkdir()
    env = {
        **os.environ,
        "AQUIFER_DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite:///{data / 'db.sqlite3'}",
    }
    cmd += ["demo", "--no-serve", "--wells", str(wells), "--history-days", str(days)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"demo build failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    out = data / "db.sqlite3"
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        shutil.copy(out, cache / name)
        return cache / name
    return out


def measure_copy(db: Path, tmp: Path, rounds: int, only: str | None) -> dict[str, Any]:
    """Run ``--measure`` on a copy of ``db`` in a subprocess; its JSON object."""
    data = tmp / f"measure-{db.stem}-{time.monotonic_ns()}"
    data.mkdir()
    shutil.copy(db, data / "db.sqlite3")
    env = {
        **os.environ,
        "AQUIFER_DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite:///{data / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "aquifer.config.settings",
    }
    cmd = [sys.executable, __file__, "--measure", "--rounds", str(rounds)]
    if only:
        cmd += ["--only", only]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"measuring failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


# --- measuring one database (the child process) -------------------------------------------------


def _routes() -> list[tuple[str, str, list[str]]]:
    """(route key, path, parameter names) of every page pattern (not the admin or the API)."""
    from django.urls import URLPattern, URLResolver, get_resolver
    from django.urls.resolvers import RoutePattern

    out: list[tuple[str, str, list[str]]] = []

    def walk(resolver: URLResolver, prefix: str, ns: str) -> None:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                inner = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
                if (inner or "").split(":")[0] in ("admin", "api"):
                    continue
                if not isinstance(p.pattern, RoutePattern):
                    continue
                walk(p, prefix + str(p.pattern), inner or "")
            elif isinstance(p, URLPattern) and isinstance(p.pattern, RoutePattern):
                key = f"{ns}:{p.name}" if ns else (p.name or "")
                params = list(p.pattern.converters)
                out.append((key, "/" + prefix + str(p.pattern), params))

    walk(get_resolver(), "", "")
    return out


def _pages(user: Any) -> tuple[list[tuple[str, str]], int]:
    """(route key, URL) of the pages ``user`` may open; and how many were left out."""
    import re

    from django.contrib.auth.models import AnonymousUser

    from aquifer.core.policies import policy_of, route_allows, route_policy
    from aquifer.core.roles import Action
    from aquifer.core.scoping import visible_to

    who = user or AnonymousUser()
    pages, left = [], 0
    for key, path, params in _routes():
        if path.endswith(("/login/", "/logout/")) or "export" in key:
            left += 1
            continue
        if not params:
            if route_allows(who, key, False):
                pages.append((key, path))
            continue
        linked = route_policy(key)
        if params != ["pk"] or linked is None or linked[1] != Action.VIEW:
            continue
        policy = policy_of(linked[0])
        if policy is None or policy.model is None:
            continue
        obj = visible_to(who, Action.VIEW, policy.model).order_by("pk").first()
        if obj is None:
            left += 1
            continue
        pages.append((key, re.sub(r"<(?:\w+:)?pk>", str(obj.pk), path)))
    return pages, left


def measure(rounds: int, only: str | None) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from aquifer.core.models import User
    from aquifer.core.processes import settle

    settle(lambda: reverse("home"))  # as `aquifer serve` does before its first request

    out: dict[str, Any] = {}
    plain = {path for _key, path, params in _routes() if not params}  # not record pages
    for role, username in ACCOUNTS.items():
        user = User.objects.get(username=username) if username else None
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        if user is not None:
            client.force_login(user)
        pages, left = _pages(user)
        figures: dict[str, Any] = {}
        skipped = left
        for key, url in pages:
            if only and not url.startswith(tuple(only.split(","))):
                continue
            r = client.get(url)  # warm-up; also: is it an HTML page?
            if r.status_code != 200 or "text/html" not in r.get("Content-Type", ""):
                skipped += 1
                continue
            times, cpu = [], []
            queries = 0
            for _ in range(rounds):
                with CaptureQueriesContext(connection) as ctx:
                    t0, c0 = time.perf_counter(), time.process_time()
                    client.get(url)
                    times.append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.process_time() - c0) * 1000)
                queries = len(ctx.captured_queries)
            times.sort()
            figures[url] = {
                "route": key,
                "record": url not in plain,
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], 1),
                "cpu_median_ms": round(statistics.median(cpu), 1),
                "queries": queries,
            }
        out[role] = {"pages": figures, "skipped": skipped}
    return out


# --- the report --------------------------------------------------------------------------------


def merge(big: dict[str, Any], small: dict[str, Any]) -> dict[str, Any]:
    roles: dict[str, Any] = {}
    for role, data in big.items():
        small_pages = small.get(role, {}).get("pages", {})
        small_by_route = {f["route"]: f for f in small_pages.values()}
        pages = {}
        for url, f in data["pages"].items():
            other = small_pages.get(url) or small_by_route.get(f["route"])
            q_small = other["queries"] if other else None
            # A record page opens a different record in each county (even under the same id):
            # its counts are shown but not compared (None); a list page's must agree.
            compared = other is not None and not f.get("record")
            independent = q_small == f["queries"] if compared else None
            pages[url] = {
                "median_ms": f["median_ms"],
                "p95_ms": f["p95_ms"],
                "cpu_median_ms": f["cpu_median_ms"],
                "queries": f["queries"],
                "queries_small": q_small,
                "queries_independent_of_rows": independent,
                "meets_target": f["p95_ms"] < TARGET_P95_MS and independent is not False,
            }
        roles[role] = {
            "pages": pages,
            "skipped": data["skipped"],
            "meets_target": all(p["meets_target"] for p in pages.values()),
        }
    return roles


def main() -> None:
    p = parser(__doc__, dbs=("sqlite",))
    p.add_argument("--wells", type=int, default=None, help="wells of the large demo (3000)")
    p.add_argument("--small", type=int, default=None, help="wells of the small demo (600)")
    p.add_argument("--history-days", type=int, default=None, help="history days (30; quick 0)")
    p.add_argument("--rounds", type=int, default=None, help="requests per page (10; quick 3)")
    p.add_argument("--cache", type=Path, default=None, help="keep / reuse built demo files here")
    p.add_argument("--only", default=None, help="URL prefixes, comma-separated")
    p.add_argument("--measure", action="store_true", help=argparse_hidden())
    args = p.parse_args()
    rounds = args.rounds or (3 if args.quick else 10)
    if args.measure:
        print(json.dumps(measure(rounds, args.only)))
        return
    wall0 = time.perf_counter()
    wells = args.wells or (600 if args.quick else 3000)
    small = args.small or (150 if args.quick else 600)
    days = args.history_days if args.history_days is not None else (0 if args.quick else 30)
    with tempfile.TemporaryDirectory(prefix="aquifer-bench-pages-") as t:
        tmp = Path(t)
        t0 = time.perf_counter()
        big_db = build(wells, days, args.cache, tmp)
        small_db = build(small, days, args.cache, tmp)
        build_s = time.perf_counter() - t0
        big = measure_copy(big_db, tmp, rounds, args.only)
        small_fig = measure_copy(small_db, tmp, 1, args.only)
    roles = merge(big, small_fig)
    slow = sorted(
        (
            (p["p95_ms"], role, url)
            for role, d in roles.items()
            for url, p in d["pages"].items()
            if not p["meets_target"]
        ),
        reverse=True,
    )
    result = {
        "bench": "pages",
        "quick": args.quick,
        "wells": wells,
        "small_wells": small,
        "history_days": days,
        "rounds": rounds,
        "build_seconds": round(build_s, 1),
        "target_p95_ms": TARGET_P95_MS,
        "pages_measured": sum(len(d["pages"]) for d in roles.values()),
        "roles": roles,
        "failing": [
            f"{role} {url} p95 {ms} ms"
            + (
                ""
                if roles[role]["pages"][url]["queries_independent_of_rows"] is not False
                else f"; queries {roles[role]['pages'][url]['queries_small']} → "
                f"{roles[role]['pages'][url]['queries']}"
            )
            for ms, role, url in slow
        ],
        "meets_target": all(d["meets_target"] for d in roles.values()),
        **machine(wall0),
    }
    print(json.dumps(result, ensure_ascii=False))


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
