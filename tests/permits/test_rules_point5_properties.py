"""Properties (hypothesis) of the rules issue 16 completed (docs/permit-rules.md):

- public_supply (取水许可和水资源费征收管理条例 第二十条第五项): groundwater drawn anew where the
  public network can meet the demand is refused, and the reason names the fact;
- hard_to_renew (地下水管理条例 第二十七条): any abstraction from a hard-to-renew zone is
  refused outside the article's three exceptions;
- illegal_reclamation (地下水管理条例 第二十五条): groundwater to irrigate illegally reclaimed
  land is refused;
- the small monitoring / test exemption is bounded by the setting and never unbounded;
- an approval resting on an emergency window ends with that window and says so;
- a renewal that raises the quota is judged as an increase by every rule that judges new
  abstraction (the Yellow River suspension and the zone rules alike).
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aquifer.permits.rules import (
    DEFAULT_RULES,
    Change,
    ChangeKind,
    EmergencyWindow,
    Flag,
    PermitRecord,
    RuleId,
    Source,
    ZoneKind,
    ZoneRef,
    apply,
    check,
    state_from_permits,
)

_SCALE = int(os.environ.get("AQUIFER_PROPERTY_EXAMPLES", "200"))
CASES = settings(max_examples=_SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ON = date(2025, 3, 1)
K = ChangeKind
GROUND = (Source.SHALLOW, Source.DEEP)
USES = ("domestic", "agricultural", "industrial")
ARTICLE_27 = frozenset({Flag.EMERGENCY_SUPPLY, Flag.NO_ALTERNATIVE_SOURCE, Flag.MONITORING_TEST})
#: Rules that judge new abstraction (an increase of what a location draws).
NEW_ABSTRACTION = {
    RuleId.RESTRICTED_ZONE,
    RuleId.OVEREXPLOITED_ZONE,
    RuleId.BALANCED_ZONE,
    RuleId.YELLOW_RIVER_OVERLOADED,
    RuleId.COUNTY_CAP,
    RuleId.TOWNSHIP_CAP,
    RuleId.PUBLIC_SUPPLY,
}


def refused_by(decision: object) -> set[str]:
    return {r.rule_id for r in decision.reasons}  # type: ignore[attr-defined]


zone_kinds = st.sampled_from(list(ZoneKind))
flag_sets = st.frozensets(st.sampled_from([f for f in Flag if f is not Flag.DOMESTIC]), max_size=3)


@st.composite
def situations(draw: st.DrawFn) -> tuple[Change, object, object]:
    """A change to a county holding one existing permit P1 at the same place."""
    source = draw(st.sampled_from(GROUND))
    zone = ZoneRef("Z", draw(zone_kinds), source, hard_to_renew=draw(st.booleans()))
    use = draw(st.sampled_from(USES))
    old = draw(st.integers(1, 50_000))
    kind = draw(st.sampled_from([K.NEW_PERMIT, K.QUOTA_INCREASE, K.RENEWAL, K.WELL_ACTIVATION]))
    volume = 0 if kind is K.WELL_ACTIVATION else draw(st.integers(0, 50_000))
    flags = draw(flag_sets)
    if use == "domestic" and draw(st.booleans()):
        flags = flags | {Flag.DOMESTIC}
    change = Change(
        kind,
        "P-new" if kind is K.NEW_PERMIT else "P1",
        ON,
        source,
        use,
        volume,
        "A",
        (zone,),
        flags,
        well_id="W" if kind is K.WELL_ACTIVATION else None,
        public_supply_available=draw(st.booleans()),
    )
    state = state_from_permits(
        [PermitRecord("P1", source, use, old, "A", "Z", date(2028, 1, 1))],
        county_cap=draw(st.none() | st.integers(0, 200_000)),
        emergency_windows=draw(
            st.sampled_from([(), (EmergencyWindow("E", ON - timedelta(days=5), None),)])
        ),
    )
    small = draw(st.none() | st.integers(0, 10_000))
    rules = replace(
        DEFAULT_RULES,
        small_withdrawal_max_m3=small,
        overloaded_townships=frozenset({"A"}) if draw(st.booleans()) else frozenset(),
    )
    return change, state, rules


def _new_draw(change: Change, state: object) -> bool:
    if change.kind in (K.NEW_PERMIT, K.WELL_ACTIVATION, K.QUOTA_INCREASE):
        return change.kind is not K.QUOTA_INCREASE or change.volume > 0
    old = state.permits["P1"].volume  # type: ignore[attr-defined]
    return change.volume > old


@CASES
@given(situations())
def test_public_supply_refuses_new_groundwater_where_the_network_suffices(case: tuple) -> None:
    change, state, rules = case
    d = check(change, state, rules)
    refused = RuleId.PUBLIC_SUPPLY in refused_by(d)
    assert refused == (change.public_supply_available and _new_draw(change, state))
    for r in d.reasons:
        if r.rule_id == RuleId.PUBLIC_SUPPLY:
            assert dict(r.params)["fact"] == "public_supply_available"
            assert any(s.article == "第二十条第五项" for s in r.sources)


def _qualifies_27(change: Change, rules: object) -> bool:
    small = rules.small_withdrawal_max_m3  # type: ignore[attr-defined]
    return (
        Flag.EMERGENCY_SUPPLY in change.flags
        or (Flag.NO_ALTERNATIVE_SOURCE in change.flags and change.use_type == "domestic")
        or (Flag.MONITORING_TEST in change.flags and change.volume <= (small or 0))
    )


@CASES
@given(situations())
def test_hard_to_renew_refused_outside_article_27(case: tuple) -> None:
    change, state, rules = case
    d = check(change, state, rules)
    refused = RuleId.HARD_TO_RENEW in refused_by(d)
    hard = change.zones[0].hard_to_renew
    assert refused == (hard and not _qualifies_27(change, rules))
    if hard and not refused and d.allowed:
        assert RuleId.HARD_TO_RENEW in {c.rule_id for c in d.conditions}


@CASES
@given(situations())
def test_reclaimed_land_refused_and_monitoring_never_unbounded(case: tuple) -> None:
    change, state, rules = case
    d = check(change, state, rules)
    assert (RuleId.ILLEGAL_RECLAMATION in refused_by(d)) == (
        Flag.ILLEGALLY_RECLAIMED_LAND in change.flags
    )
    if rules.small_withdrawal_max_m3 is None and change.volume > 0:
        # No figure: the monitoring exemption lifts nothing but a zero volume.
        assert not any(dict(c.params).get("flag") == "monitoring_test" for c in d.conditions)


@CASES
@given(situations(), st.integers(1, 40))
def test_deep_approval_ends_with_its_window(case: tuple, days: int) -> None:
    change, state, rules = case
    if change.source is not Source.DEEP:
        change = replace(
            change, source=Source.DEEP, zones=(replace(change.zones[0], layer=Source.DEEP),)
        )
        state = state_from_permits(
            [replace(p, source=Source.DEEP) for p in state.permits.values()],
            emergency_windows=state.emergency_windows,
        )
    end = ON + timedelta(days=days)
    state = replace(state, emergency_windows=(EmergencyWindow("E", ON - timedelta(days=1), end),))
    d = check(change, state, rules)
    if not d.allowed:
        return
    window = [c for c in d.conditions if c.code == "emergency_window"]
    small = rules.small_withdrawal_max_m3
    # A qualifying monitoring withdrawal would pass without the window: it rests on none.
    exempt = Flag.MONITORING_TEST in change.flags and change.volume <= (small or 0)
    assert bool(window) != exempt
    if window:
        assert dict(window[0].params)["ends"] == end.isoformat()
        if change.kind in (K.NEW_PERMIT, K.RENEWAL):
            after = apply(change, state, rules)
            pid = change.permit_id
            assert after.permits[pid].expires is not None and after.permits[pid].expires <= end


@CASES
@given(situations(), st.integers(1, 30_000))
def test_renewal_raising_the_quota_is_judged_as_an_increase(case: tuple, rise: int) -> None:
    first, state, rules = case
    p1 = state.permits["P1"]
    zone = first.zones[0]
    common = dict(on=ON, source=p1.source, use_type=p1.use_type, township="A", zones=(zone,))
    flags = first.flags - {Flag.MONITORING_TEST}
    renewal = Change(K.RENEWAL, "P1", volume=p1.volume + rise, flags=flags, **common)  # type: ignore[arg-type]
    increase = Change(K.QUOTA_INCREASE, "P1", volume=rise, flags=flags, **common)  # type: ignore[arg-type]
    r, i = check(renewal, state, rules), check(increase, state, rules)
    assert refused_by(r) & NEW_ABSTRACTION == refused_by(i) & NEW_ABSTRACTION
    # Kept or lowered: no rule of new abstraction refuses it.
    same = replace(renewal, volume=p1.volume)
    assert not refused_by(check(same, state, rules)) & NEW_ABSTRACTION
