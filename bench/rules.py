"""Permit rule checks per second: a county of 3,000 permits and 200 zones, one core.

    .venv/bin/python bench/rules.py [--quick] [--permits N] [--zones Z] [--seed S] [--wired]

Prints one JSON object. Setup (pure, no database): 200 zones (half per aquifer layer; kinds
drawn with the weights of a real county: mostly not-overexploited and balanced, a few
overexploited, restricted and prohibited), the 15 townships of Yangcheng, 3,000 permits
(shallow 70 %, deep 10 %, surface 20 %) at random locations, the running totals built by
``state_from_permits``, a county cap and township caps a little above the totals, one closed
and one open emergency window, an overloaded township. Then a corpus of random changes of
every kind (mostly consistent with the register, as the permit pages will send them).

Measured: ``aquifer.permits.rules.check`` on the snapshot's running totals — rule checks per
CPU second (best and median of rounds). Baseline in the same run: the naive way, which
recomputes zone, township and county totals from the permit list for every check (what a
checker reading only the permit table does) and then decides. ``agree`` is true when both give
the same decision for every change of the corpus (false is a bug). ``apply_per_s`` times
``apply`` on allowed changes (it copies the snapshot: O(permits)).

``--wired`` adds ``wired``: the same county in a temporary SQLite database (zones a grid over
the county, one well per permit, one permit per well), timing what a page or the rights app
pays through ``aquifer.permits.services``: ``county_state()`` built from the database, a
``change_quota`` round trip (state, check, save, RuleDecision, audit) and a
``check_well_activation``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from aquifer.permits.rules import (
    Change,
    ChangeKind,
    CountyState,
    Decision,
    EmergencyWindow,
    Flag,
    PermitRecord,
    RuleSet,
    Source,
    ZoneKind,
    ZoneRef,
    apply,
    check,
    state_from_permits,
)

TOWNSHIPS = [
    "凤城镇",
    "北留镇",
    "润城镇",
    "町店镇",
    "芹池镇",
    "次营镇",
    "横河镇",
    "河北镇",
    "蟒河镇",
    "东冶镇",
    "演礼镇",
    "白桑镇",
    "寺头乡",
    "西河乡",
    "董封乡",
]
KIND_WEIGHTS = {
    ZoneKind.NOT_OVEREXPLOITED: 50,
    ZoneKind.BALANCED: 30,
    ZoneKind.OVEREXPLOITED: 8,
    ZoneKind.RESTRICTED: 7,
    ZoneKind.PROHIBITED: 5,
}
USES = ("domestic", "agricultural", "industrial", "service", "ecological")
BASELINE = "recompute zone, township and county totals from the permit list, then decide"
DAY0 = date(2025, 1, 1)


def county(n_permits: int, n_zones: int, rng: random.Random) -> tuple[CountyState, list[ZoneRef]]:
    """A random consistent county: zones, permits, totals, caps, windows."""
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    zones = [
        ZoneRef(f"Z{i:03d}", rng.choices(kinds, weights)[0], layer)
        for i, layer in enumerate([Source.SHALLOW, Source.DEEP] * (n_zones // 2))
    ]
    by_layer = {s: [z for z in zones if z.layer == s] for s in (Source.SHALLOW, Source.DEEP)}
    permits = []
    for i in range(n_permits):
        source = rng.choices([Source.SHALLOW, Source.DEEP, Source.SURFACE], [70, 10, 20])[0]
        zid = None if source is Source.SURFACE else rng.choice(by_layer[source]).id
        permits.append(
            PermitRecord(
                f"P{i:05d}",
                source,
                rng.choice(USES),
                rng.randrange(1_000, 200_000),
                rng.choice(TOWNSHIPS),
                zid,
                DAY0 + timedelta(days=rng.randrange(1, 3650)),
            )
        )
    base = state_from_permits(permits)
    state = state_from_permits(
        permits,
        county_cap=int(base.county_total * 1.02),
        township_caps={t: int(v * rng.uniform(1.0, 1.05)) for t, v in base.township_totals.items()},
        emergency_windows=(
            EmergencyWindow("2024旱情", date(2024, 6, 1), date(2024, 9, 30)),
            EmergencyWindow("2025应急", date(2025, 7, 1)),
        ),
    )
    return state, zones


def corpus(state: CountyState, zones: list[ZoneRef], n: int, rng: random.Random) -> list[Change]:
    """Random changes of every kind; nine in ten consistent with the register."""
    ids = sorted(state.permits)
    zone_by_id = {z.id: z for z in zones}
    out: list[Change] = []
    for i in range(n):
        kind = rng.choice(list(ChangeKind))
        rec = state.permits[rng.choice(ids)]
        giver = state.permits[rng.choice(ids)]
        on = DAY0 + timedelta(days=rng.randrange(0, 365))
        flags = frozenset(rng.sample(sorted(set(Flag) - {Flag.DOMESTIC}), rng.choice([0, 0, 0, 1])))
        if kind is ChangeKind.NEW_PERMIT or (kind is ChangeKind.TRANSFER and rng.random() < 0.3):
            source = giver.source if kind is ChangeKind.TRANSFER else rec.source
            zid = (
                None
                if source is Source.SURFACE
                else rng.choice([z for z in zones if z.layer == source]).id
            )
            pid, town, use = f"N{i}", rng.choice(TOWNSHIPS), rng.choice(USES)
        else:
            source, zid, pid, town, use = (
                rec.source,
                rec.zone_id,
                rec.id,
                rec.township,
                rec.use_type,
            )
            if rng.random() < 0.1:
                town = rng.choice(TOWNSHIPS)
        if use == "domestic" and rng.random() < 0.5:
            flags |= {Flag.DOMESTIC}
        volume = {
            ChangeKind.NEW_PERMIT: rng.randrange(500, 100_000),
            ChangeKind.QUOTA_INCREASE: rng.randrange(100, 20_000),
            ChangeKind.QUOTA_DECREASE: rng.randrange(100, 20_000),
            ChangeKind.RENEWAL: int(rec.volume * rng.uniform(0.8, 1.1)),
            ChangeKind.TRANSFER: rng.randrange(100, max(101, giver.volume)),
            ChangeKind.WELL_ACTIVATION: 0,
        }[kind]
        out.append(
            Change(
                kind,
                pid,
                on,
                source,
                use,
                volume,
                town,
                (zone_by_id[zid],) if zid else (),
                flags,
                giver.id if kind is ChangeKind.TRANSFER else None,
                f"W{i}" if kind is ChangeKind.WELL_ACTIVATION else None,
                rng.choice([None, 5, 10, 12]),
            )
        )
    return out


def naive_check(change: Change, state: CountyState, rules: RuleSet) -> Decision:
    """The baseline: rebuild every total from the permit list, then decide."""
    rebuilt = state_from_permits(
        state.permits.values(),
        rules,
        county_cap=state.county_cap,
        township_caps=state.township_caps,
        emergency_windows=state.emergency_windows,
    )
    return check(change, rebuilt, rules)


def rate(
    fn: Callable[[Change], Decision], changes: list[Change], seconds: float, rounds: int
) -> list[float]:
    """Checks per CPU second, one figure per round of about ``seconds`` CPU seconds."""
    figures = []
    for _ in range(rounds):
        count, t0 = 0, time.process_time()
        while True:
            for c in changes:
                fn(c)
            count += len(changes)
            elapsed = time.process_time() - t0
            if elapsed >= seconds:
                break
        figures.append(count / elapsed)
    return figures


WIRED_NOTE = (
    "aquifer.permits.services on SQLite: every decision builds the CountyState from the "
    "active permits and their wells (one query each), checks, and on success saves and "
    "records a RuleDecision (audited)"
)


def wired(n_permits: int, n_zones: int, seed: int, n: int) -> dict[str, Any]:
    """Time the services (DB state build + check + write) on a temporary database."""
    import shutil
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="aquifer-bench-rules-"))
    try:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
        os.environ["AQUIFER_DATA_DIR"] = str(tmp)
        os.environ["DJANGO_SETTINGS_MODULE"] = "aquifer.config.settings"
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        return _wired(n_permits, n_zones, seed, n)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _wired(n_permits: int, n_zones: int, seed: int, n: int) -> dict[str, Any]:
    import numpy as np
    from django.db import transaction

    from aquifer.core.audit import audit_context
    from aquifer.core.models import User
    from aquifer.core.roles import Role
    from aquifer.permits import services
    from aquifer.permits.models import Permit
    from aquifer.registry.models import Township, WaterUser, Well, Zone
    from aquifer.registry.spatial import county_geometry, spatial_index

    rng = np.random.default_rng(seed)
    county = county_geometry()
    minx, miny, maxx, maxy = county.bounds
    kinds = list(KIND_WEIGHTS)
    weights = np.array([KIND_WEIGHTS[k] for k in kinds], dtype=float)
    cols = 20
    rows_ = max(1, n_zones // cols // 2)
    dx, dy = (maxx - minx) / cols, (maxy - miny) / rows_
    with transaction.atomic(), audit_context(source="bench"):
        k = 0
        for layer in ("shallow", "deep"):
            for r in range(rows_):
                for c in range(cols):
                    x0, y0 = minx + c * dx, miny + r * dy
                    ring = [[x0, y0], [x0 + dx, y0], [x0 + dx, y0 + dy], [x0, y0 + dy], [x0, y0]]
                    kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
                    Zone.objects.create(
                        code=f"BZ-{k:03d}",
                        name=f"基准分区{k}",
                        kind=kind.value,
                        layer=layer,
                        geometry={"type": "Polygon", "coordinates": [ring]},
                        allowable_extraction_m3=1_000_000_000,
                        designation_document="bench",
                    )
                    k += 1
        towns = list(Township.objects.current())
        users = WaterUser.objects.bulk_create(
            [
                WaterUser(name=f"基准用户{i}", use_type="agricultural", township=towns[i % 15])
                for i in range(max(1, n_permits // 10))
            ]
        )
        lon = rng.uniform(minx, maxx, n_permits * 2)
        lat = rng.uniform(miny, maxy, n_permits * 2)
        import shapely

        inside = shapely.contains_xy(county, lon, lat)
        lon, lat = lon[inside][:n_permits], lat[inside][:n_permits]
        m = len(lon)
        layers = np.where(rng.random(m) < 0.88, "shallow", "deep").tolist()
        index = spatial_index()
        t_ids = index.townships.assign(lon, lat, nearest=True)
        z_ids = index.zones.assign(lon, lat, layers)
        wells = Well.objects.bulk_create(
            [
                Well(
                    code=f"BW-{i:05d}",
                    lon=float(lon[i]),
                    lat=float(lat[i]),
                    depth_m=100 if layers[i] == "shallow" else 500,
                    layer=layers[i],
                    purpose="agricultural",
                    status="active",
                    owner=users[i % len(users)],
                    township_id=t_ids[i],
                    zone_id=z_ids[i],
                )
                for i in range(m)
            ],
            batch_size=500,
        )
        permits = Permit.objects.bulk_create(
            [
                Permit(
                    number=f"BP-{i:05d}",
                    holder=users[i % len(users)],
                    source=layers[i],
                    use_type="agricultural",
                    annual_quota_m3=int(rng.integers(5_000, 80_000)),
                    status="active",
                    township_id=t_ids[i],
                )
                for i in range(m)
            ],
            batch_size=500,
        )
        Permit.wells.through.objects.bulk_create(
            [
                Permit.wells.through(permit_id=p.pk, well_id=w.pk)
                for p, w in zip(permits, wells, strict=True)
            ],
            batch_size=1000,
        )
        bureau = User.objects.create_user("bench-bureau", role=Role.BUREAU)

    def ms(fn: Callable[[], Any], reps: int) -> list[float]:
        out = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
        return out

    state_ms = ms(services.county_state, max(3, n // 4))
    pick = [permits[int(i)] for i in rng.integers(0, m, n)]
    it = iter(pick)

    def quota() -> None:
        p = next(it)
        p.refresh_from_db()
        services.change_quota(
            p, int(p.annual_quota_m3) - 1, reason="bench", by=bureau, source="cli"
        )

    quota_ms = ms(quota, n)
    wit = iter([wells[int(i)] for i in rng.integers(0, m, n)])
    well_ms = ms(lambda: services.check_well_activation(next(wit)), n)
    return {
        "what": WIRED_NOTE,
        "database": "sqlite",
        "permits": m,
        "zones": Zone.objects.count(),
        "county_state_ms_median": round(statistics.median(state_ms), 1),
        "change_quota_ms_median": round(statistics.median(quota_ms), 1),
        "change_quota_per_s": round(1000 / statistics.median(quota_ms), 1),
        "well_activation_ms_median": round(statistics.median(well_ms), 1),
        "samples": n,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run (a few seconds)")
    parser.add_argument("--permits", type=int, default=3000)
    parser.add_argument("--zones", type=int, default=200)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--wired",
        action="store_true",
        help="also time the Django wiring (services) on a temporary SQLite database",
    )
    args = parser.parse_args(argv)
    n_changes, seconds, rounds = (2_000, 0.3, 3) if args.quick else (20_000, 2.0, 5)
    wall0 = time.perf_counter()
    rng = random.Random(args.seed)
    state, zones = county(args.permits, args.zones, rng)
    rules = RuleSet(overloaded_townships=frozenset({"润城镇"}))
    changes = corpus(state, zones, n_changes, rng)

    decisions = [check(c, state, rules) for c in changes]
    sample = changes[: min(500, len(changes))]
    agree = all(naive_check(c, state, rules) == d for c, d in zip(sample, decisions, strict=False))
    mine = rate(lambda c: check(c, state, rules), changes, seconds, rounds)
    theirs = rate(lambda c: naive_check(c, state, rules), sample[:100], seconds / 2, 2)
    allowed = [c for c, d in zip(changes, decisions, strict=True) if d.allowed]
    t0 = time.process_time()
    for c in allowed[:500]:
        apply(c, state, rules)
    apply_s = time.process_time() - t0
    reasons: dict[str, int] = {}
    for d in decisions:
        for r in d.reasons:
            reasons[r.rule_id] = reasons.get(r.rule_id, 0) + 1
    best, best_base = max(mine), max(theirs)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result: dict[str, Any] = {
        "benchmark": "permit rule checks, one core",
        "quick": args.quick,
        "unit": "checks per CPU second (best of rounds; median also given)",
        "permits": args.permits,
        "zones": args.zones,
        "townships": len(TOWNSHIPS),
        "changes_in_corpus": n_changes,
        "rounds": rounds,
        "checks_per_s": round(best),
        "median_checks_per_s": round(statistics.median(mine)),
        "us_per_check": round(1e6 / best, 2),
        "baseline": BASELINE,
        "baseline_checks_per_s": round(best_base),
        "speedup_vs_baseline": round(best / best_base, 1),
        "agree": agree,
        "apply_per_s": round(min(500, len(allowed)) / apply_s) if allowed and apply_s else None,
        "allowed_share": round(len(allowed) / len(changes), 3),
        "refusals_by_rule": dict(sorted(reasons.items())),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_1min": None if load is None else round(load, 2),
        "wall_seconds": round(time.perf_counter() - wall0, 1),
    }
    if args.wired:
        result["wired"] = wired(args.permits, args.zones, args.seed, 10 if args.quick else 40)
        result["wall_seconds"] = round(time.perf_counter() - wall0, 1)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
