"""Properties (hypothesis): sequences of changes against a random county, default rules.

A random county (zones of every kind in both layers, three townships with caps, permits,
emergency windows, a random overloaded area) receives a random sequence of changes — new
permits, increases, decreases, renewals, transfers, activations, with random flags and
sometimes a location that does not match the register. Each change is checked; allowed ones
are applied. After every step:

- no approved change raised a balanced zone's total;
- nothing is permitted, renewed, raised or activated in a prohibited zone without one of the
  article 35 exception flags;
- no approved change took a township or the county above its cap (a total already above its
  cap may only fall);
- no deep-groundwater abstraction was approved outside an emergency window without the
  monitoring flag;
- the running totals equal the totals recomputed from the permits;
- decisions are deterministic, and every refusal has a reason with a source.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aquifer.permits.rules import (
    Change,
    ChangeKind,
    CountyState,
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

_SCALE = int(os.environ.get("AQUIFER_PROPERTY_EXAMPLES", "200"))
SEQUENCES = settings(
    max_examples=_SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

TOWNSHIPS = ("凤城镇", "北留镇", "西河乡")
ZONES = tuple(
    ZoneRef(f"{layer.value}-{kind.value}-{i}", kind, layer)
    for layer in (Source.SHALLOW, Source.DEEP)
    for kind in ZoneKind
    for i in range(2)
)
ZONE_BY_ID = {z.id: z for z in ZONES}
EXCEPTIONS = frozenset({Flag.EMERGENCY_SAFETY, Flag.PUBLIC_SAFETY, Flag.MONITORING_TEST})
EXTRACTING = frozenset(ChangeKind) - {ChangeKind.QUOTA_DECREASE}
DAY0 = date(2025, 1, 1)
SOURCES = (Source.SHALLOW, Source.DEEP, Source.SURFACE)
USES = ("domestic", "agricultural", "industrial")


def zones_of(layer: Source) -> list[ZoneRef]:
    return [z for z in ZONES if z.layer == layer]


@st.composite
def permits(draw: st.DrawFn) -> list[PermitRecord]:
    out = []
    for i in range(draw(st.integers(0, 12))):
        source = draw(st.sampled_from(SOURCES))
        zid = None if source is Source.SURFACE else draw(st.sampled_from(zones_of(source))).id
        out.append(
            PermitRecord(
                f"P{i}",
                source,
                draw(st.sampled_from(USES)),
                draw(st.integers(0, 20_000)),
                draw(st.sampled_from(TOWNSHIPS)),
                zid,
                DAY0 + timedelta(days=draw(st.integers(0, 2000))),
            )
        )
    return out


@st.composite
def counties(draw: st.DrawFn) -> CountyState:
    ps = draw(permits())
    windows = tuple(
        EmergencyWindow(
            f"E{i}",
            DAY0 + timedelta(days=(s := draw(st.integers(0, 300)))),
            draw(st.none() | st.integers(0, 60).map(lambda n, s=s: DAY0 + timedelta(days=s + n))),
        )
        for i in range(draw(st.integers(0, 2)))
    )
    caps = st.none() | st.integers(0, 60_000)
    return state_from_permits(
        ps,
        county_cap=draw(caps),
        township_caps={
            t: c for t in TOWNSHIPS if (c := draw(st.none() | st.integers(0, 30_000))) is not None
        },
        emergency_windows=windows,
    )


@st.composite
def changes(draw: st.DrawFn, state: CountyState) -> Change:
    kind = draw(st.sampled_from(list(ChangeKind)))
    ids = sorted(state.permits)
    giver = state.permits[draw(st.sampled_from(ids))] if ids else None
    existing = kind is not ChangeKind.NEW_PERMIT and ids and draw(st.integers(0, 4)) > 0
    rec = state.permits[draw(st.sampled_from(ids))] if existing else None
    if kind is not ChangeKind.NEW_PERMIT and rec is None and kind is not ChangeKind.TRANSFER:
        kind = ChangeKind.NEW_PERMIT
    consistent = rec is not None and draw(st.integers(0, 9)) > 0
    if consistent and rec is not None and kind is not ChangeKind.WELL_ACTIVATION:
        source, town, zid, use = rec.source, rec.township, rec.zone_id, rec.use_type
    else:
        source = draw(st.sampled_from(SOURCES))
        if kind is ChangeKind.TRANSFER and giver is not None and draw(st.integers(0, 4)):
            source = giver.source
        if rec is not None and kind is ChangeKind.WELL_ACTIVATION and consistent:
            source = rec.source
        town = draw(st.sampled_from(TOWNSHIPS))
        zid = None if source is Source.SURFACE else draw(st.sampled_from(zones_of(source))).id
        use = draw(st.sampled_from(USES))
    zones: list[ZoneRef] = [ZONE_BY_ID[zid]] if zid is not None else []
    other = Source.DEEP if source is Source.SHALLOW else Source.SHALLOW
    if draw(st.booleans()):
        zones.append(draw(st.sampled_from(zones_of(other))))
    flags = draw(st.frozensets(st.sampled_from(list(Flag)), max_size=2))
    if use != "domestic":
        flags -= {Flag.DOMESTIC}
    from_id = None
    pid = f"N{draw(st.integers(0, 10**9))}"
    if kind is ChangeKind.TRANSFER:
        if giver is None:
            kind = ChangeKind.NEW_PERMIT
        else:
            from_id = giver.id
            if rec is not None:
                pid = rec.id
    elif rec is not None:
        pid = rec.id
    volume = 0 if kind is ChangeKind.WELL_ACTIVATION else draw(st.integers(0, 25_000))
    if kind is ChangeKind.TRANSFER and giver is not None and draw(st.integers(0, 4)):
        volume = draw(st.integers(0, giver.volume))
    return Change(
        kind=kind,
        permit_id=pid,
        on=DAY0 + timedelta(days=draw(st.integers(0, 400))),
        source=source,
        use_type=use,
        volume=volume,
        township=town,
        zones=tuple(zones),
        flags=flags,
        from_permit_id=from_id,
        well_id=f"W{draw(st.integers(0, 50))}" if kind is ChangeKind.WELL_ACTIVATION else None,
        term_years=draw(st.none() | st.integers(0, 12)),
    )


def rulesets():
    return st.builds(
        lambda towns, zs: RuleSet(
            overloaded_townships=frozenset(towns), overloaded_zones=frozenset(zs)
        ),
        st.frozensets(st.sampled_from(TOWNSHIPS), max_size=2),
        st.frozensets(st.sampled_from([z.id for z in ZONES]), max_size=3),
    )


def recomputed(state: CountyState) -> tuple[dict[str, int], dict[str, int], int]:
    again = state_from_permits(state.permits.values())
    return dict(again.zone_totals), dict(again.township_totals), again.county_total


def nonzero(d: Mapping[str, int]) -> dict[str, int]:
    return {k: v for k, v in d.items() if v}


@SEQUENCES
@given(st.data(), counties(), rulesets())
@pytest.mark.slow
def test_sequences_of_changes_keep_the_invariants(data, state, rules):
    approved = 0
    for _ in range(data.draw(st.integers(1, 25))):
        c = data.draw(changes(state))
        d = check(c, state, rules)
        assert check(c, state, rules) == d  # deterministic
        if not d.allowed:
            assert d.reasons and all(r.sources for r in d.reasons)
            continue
        assert not d.reasons
        after = apply(c, state, rules)
        approved += 1
        zone = c.zone()
        # balanced zones never rise
        for z in ZONES:
            if z.kind is ZoneKind.BALANCED:
                assert after.zone_totals.get(z.id, 0) <= state.zone_totals.get(z.id, 0)
        # prohibited zones: nothing without an exception flag
        if zone is not None and zone.kind is ZoneKind.PROHIBITED and c.kind in EXTRACTING:
            assert c.flags & EXCEPTIONS
        for z in ZONES:
            if z.kind is ZoneKind.PROHIBITED and after.zone_totals.get(
                z.id, 0
            ) > state.zone_totals.get(z.id, 0):
                assert c.flags & EXCEPTIONS
        # caps
        for t, cap in state.township_caps.items():
            before_t, after_t = state.township_totals.get(t, 0), after.township_totals.get(t, 0)
            assert after_t <= cap or after_t <= before_t
        if state.county_cap is not None:
            assert (
                after.county_total <= state.county_cap or after.county_total <= state.county_total
            )
        # deep reserve
        if c.source is Source.DEEP and c.kind in EXTRACTING:
            inside = any(w.covers(c.on) for w in state.emergency_windows)
            assert inside or Flag.MONITORING_TEST in c.flags
        # running totals stay consistent with the permits
        zt, tt, ct = recomputed(after)
        assert nonzero(after.zone_totals) == nonzero(zt)
        assert nonzero(after.township_totals) == nonzero(tt)
        assert after.county_total == ct
        assert all(p.volume >= 0 for p in after.permits.values())
        # a rebuilt equal state decides the same
        rebuilt = state_from_permits(
            after.permits.values(),
            rules,
            county_cap=after.county_cap,
            township_caps=after.township_caps,
            emergency_windows=after.emergency_windows,
            active_wells=after.active_wells,
        )
        probe = data.draw(changes(after))
        assert check(probe, after, rules) == check(probe, rebuilt, rules)
        state = after


@SEQUENCES
@given(counties(), st.data())
@pytest.mark.slow
def test_without_exception_flags_nothing_reaches_a_prohibited_zone(state, data):
    z = data.draw(st.sampled_from([z for z in ZONES if z.kind is ZoneKind.PROHIBITED]))
    kind = data.draw(st.sampled_from(sorted(EXTRACTING - {ChangeKind.TRANSFER})))
    town = data.draw(st.sampled_from(TOWNSHIPS))
    use = data.draw(st.sampled_from(USES))
    flags = data.draw(st.frozensets(st.sampled_from(sorted(set(Flag) - EXCEPTIONS))))
    if use != "domestic":
        flags -= {Flag.DOMESTIC}
    if kind is not ChangeKind.NEW_PERMIT:  # an existing permit in the zone
        held = PermitRecord("X", z.layer, use, data.draw(st.integers(0, 9_000)), town, z.id)
        state = state_from_permits(
            [*state.permits.values(), held],
            county_cap=state.county_cap,
            township_caps=state.township_caps,
            emergency_windows=state.emergency_windows,
        )
    c = Change(
        kind,
        "X",
        DAY0 + timedelta(days=data.draw(st.integers(0, 400))),
        z.layer,
        use,
        0 if kind is ChangeKind.WELL_ACTIVATION else data.draw(st.integers(0, 9_000)),
        town,
        (z,),
        flags,
        well_id="W" if kind is ChangeKind.WELL_ACTIVATION else None,
    )
    d = check(c, state, data.draw(rulesets()))
    assert not d.allowed
    assert "prohibited_zone" in {r.rule_id for r in d.reasons}
