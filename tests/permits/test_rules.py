"""Example tests: each rule, each exemption, the register checks, settings as data."""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from aquifer.permits import rules as rules_module
from aquifer.permits.rules import (
    DEFAULT_RULES,
    REGISTER,
    Change,
    ChangeKind,
    EmergencyWindow,
    Flag,
    RefusedChange,
    RuleId,
    RuleSet,
    Source,
    ZoneKind,
    apply,
    check,
    state_from_permits,
)

from .helpers import ON, A, B, change, county, permit, zone

K = ChangeKind
Z = ZoneKind


def refused_by(decision: object) -> set[str]:
    assert hasattr(decision, "reasons")
    return {r.rule_id for r in decision.reasons}  # type: ignore[attr-defined]


# --- the module ------------------------------------------------------------------------------


def test_module_is_pure():
    """The engine's package imports nothing but the standard library and itself."""
    files = sorted(Path(rules_module.__file__).parent.glob("*.py"))
    assert len(files) > 1
    imported = {
        (n.module or "") if isinstance(n, ast.ImportFrom) else a.name
        for path in files
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in n.names
    }
    own = {m for m in imported if m.startswith("aquifer.permits.rules.")}
    assert own
    assert not any(m.startswith(("django", "aquifer")) for m in imported - own)


def test_zone_kinds_match_the_registry():
    from aquifer.registry.choices import AquiferLayer
    from aquifer.registry.choices import ZoneKind as RegistryZoneKind

    assert {k.value for k in ZoneKind} == set(RegistryZoneKind.values)
    assert set(AquiferLayer.values) <= {s.value for s in Source}


# --- prohibited zone ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", [K.NEW_PERMIT, K.WELL_ACTIVATION])
def test_prohibited_zone_refuses_new_abstraction(kind):
    state = county(permit("P1", Z.PROHIBITED))
    pid = "P1" if kind is K.WELL_ACTIVATION else "P-new"
    d = check(change(kind, pid, Z.PROHIBITED, 0 if kind is K.WELL_ACTIVATION else 100), state)
    assert not d.allowed
    assert RuleId.PROHIBITED_ZONE in refused_by(d)
    reason = next(r for r in d.reasons if r.rule_id == RuleId.PROHIBITED_ZONE)
    docs = {(s.document, s.article) for s in reason.sources}
    assert ("地下水管理条例", "第三十五条") in docs
    assert ("取水许可和水资源费征收管理条例", "第二十条第一项") in docs


def test_prohibited_zone_refuses_renewal_and_increase_but_allows_decrease():
    state = county(permit("P1", Z.PROHIBITED))
    assert not check(change(K.RENEWAL, "P1", Z.PROHIBITED, 5_000), state).allowed
    assert not check(change(K.QUOTA_INCREASE, "P1", Z.PROHIBITED, 1), state).allowed
    assert check(change(K.QUOTA_DECREASE, "P1", Z.PROHIBITED, 5_000), state).allowed


def test_transfer_out_of_a_prohibited_zone_is_allowed_into_it_refused():
    state = county(permit("P1", Z.PROHIBITED), permit("P2"))
    out = change(K.TRANSFER, "P2", volume=4_000, from_permit_id="P1")
    assert check(out, state).allowed
    into = change(K.TRANSFER, "P1", Z.PROHIBITED, 4_000, from_permit_id="P2")
    assert RuleId.PROHIBITED_ZONE in refused_by(check(into, state))
    within = county(permit("P1", Z.PROHIBITED), permit("P3", Z.PROHIBITED))
    same = change(K.TRANSFER, "P4", Z.PROHIBITED, 1_000, from_permit_id="P1")
    assert refused_by(check(same, within)) == {RuleId.PROHIBITED_ZONE}


@pytest.mark.parametrize("flag", [Flag.EMERGENCY_SAFETY, Flag.PUBLIC_SAFETY, Flag.MONITORING_TEST])
def test_prohibited_zone_exceptions_of_article_35(flag):
    state = county()
    rules = replace(DEFAULT_RULES, small_withdrawal_max_m3=1_000)
    d = check(change(K.NEW_PERMIT, "P-x", Z.PROHIBITED, 500, flags=frozenset({flag})), state, rules)
    assert d.allowed
    assert [c.rule_id for c in d.conditions] == [RuleId.PROHIBITED_ZONE]
    assert "stop as soon as" in d.conditions[0].en


def test_unrelated_flag_does_not_lift_the_prohibition():
    d = check(
        change(
            K.NEW_PERMIT,
            "P-x",
            Z.PROHIBITED,
            500,
            use_type="domestic",
            flags=frozenset({Flag.DOMESTIC, Flag.WATER_RIGHTS_TRADE}),
        ),
        county(),
    )
    assert not d.allowed


def test_small_withdrawal_limit_is_a_setting():
    rules = replace(DEFAULT_RULES, small_withdrawal_max_m3=1_000)
    flags = frozenset({Flag.MONITORING_TEST})
    assert check(
        change(K.NEW_PERMIT, "P-x", Z.PROHIBITED, 1_000, flags=flags), county(), rules
    ).allowed
    assert not check(
        change(K.NEW_PERMIT, "P-x", Z.PROHIBITED, 1_001, flags=flags), county(), rules
    ).allowed


def test_small_withdrawal_exemption_is_never_unbounded():
    """With no small-withdrawal figure set, the monitoring exemption is not available, and the
    refusal says the declared exemption did not apply."""
    flags = frozenset({Flag.MONITORING_TEST})
    d = check(change(K.NEW_PERMIT, "P-x", Z.PROHIBITED, 1, flags=flags), county())
    assert not d.allowed
    params = dict(d.reasons[0].params)
    assert params["exemptions_not_met"] == ["monitoring_test"]
    assert params["small_withdrawal_max_m3"] is None


# --- restricted, overexploited, balanced --------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "rule"),
    [(Z.RESTRICTED, RuleId.RESTRICTED_ZONE), (Z.OVEREXPLOITED, RuleId.OVEREXPLOITED_ZONE)],
)
def test_reduce_only_zones(kind, rule):
    state = county(permit("P1", kind))
    assert refused_by(check(change(K.NEW_PERMIT, "P-x", kind, 1), state)) == {rule}
    assert refused_by(check(change(K.QUOTA_INCREASE, "P1", kind, 1), state)) == {rule}
    assert refused_by(check(change(K.RENEWAL, "P1", kind, 10_001), state)) == {rule}
    assert check(change(K.RENEWAL, "P1", kind, 10_000), state).allowed
    assert check(change(K.RENEWAL, "P1", kind, 8_000), state).allowed
    assert check(change(K.QUOTA_DECREASE, "P1", kind, 3_000), state).allowed
    assert check(change(K.WELL_ACTIVATION, "P1", kind, 0), state).allowed


def test_balanced_zone_refuses_an_increase_of_its_total():
    state = county(permit("P1", Z.BALANCED), permit("P2", Z.BALANCED))
    assert refused_by(check(change(K.NEW_PERMIT, "P-x", Z.BALANCED, 1), state)) == {
        RuleId.BALANCED_ZONE
    }
    assert refused_by(check(change(K.QUOTA_INCREASE, "P1", Z.BALANCED, 1), state)) == {
        RuleId.BALANCED_ZONE
    }
    assert check(change(K.QUOTA_DECREASE, "P1", Z.BALANCED, 1), state).allowed


def test_balanced_zone_allows_a_transfer_within_the_zone():
    state = county(permit("P1", Z.BALANCED), permit("P2", Z.BALANCED))
    t = change(K.TRANSFER, "P2", Z.BALANCED, 4_000, from_permit_id="P1")
    assert check(t, state).allowed
    after = apply(t, state)
    assert after.zone_totals == state.zone_totals
    assert after.permits["P1"].volume == 6_000 and after.permits["P2"].volume == 14_000
    # to a new permit inside the zone too
    t2 = change(K.TRANSFER, "P3", Z.BALANCED, 4_000, from_permit_id="P1", term_years=5)
    assert check(t2, state).allowed


def test_balanced_zone_refuses_a_transfer_into_it_from_elsewhere():
    state = county(permit("P1"), permit("P2", Z.BALANCED))
    t = change(K.TRANSFER, "P2", Z.BALANCED, 1_000, from_permit_id="P1")
    assert refused_by(check(t, state)) == {RuleId.BALANCED_ZONE}


def test_zone_rules_follow_the_layer():
    # A deep permit is judged by its deep zone, not by a shallow zone of the same well.
    state = county(windows=(EmergencyWindow("E1", date(2025, 1, 1)),))
    c = Change(
        K.NEW_PERMIT,
        "P-x",
        ON,
        Source.DEEP,
        "domestic",
        100,
        A,
        (zone(Z.PROHIBITED, Source.SHALLOW), zone(Z.NOT_OVEREXPLOITED, Source.DEEP)),
    )
    assert check(c, state).allowed


def test_surface_water_is_not_held_by_groundwater_zones_or_caps():
    state = county(county_cap=0)
    c = change(K.NEW_PERMIT, "S1", volume=10**6, source=Source.SURFACE)
    assert check(c, state).allowed
    assert apply(c, state).county_total == 0


# --- Yellow River overloaded areas --------------------------------------------------------

OVERLOADED = replace(DEFAULT_RULES, overloaded_townships=frozenset({B}))


def test_yellow_river_suspension_is_off_until_an_area_is_set():
    c = change(K.NEW_PERMIT, "P-x", township=B)
    assert check(c, county()).allowed
    d = check(c, county(), OVERLOADED)
    assert refused_by(d) == {RuleId.YELLOW_RIVER_OVERLOADED}
    assert any(not s.confirmed for s in d.reasons[0].sources)  # 380号: number unconfirmed


def test_yellow_river_suspension_by_zone_and_by_source():
    rules = replace(DEFAULT_RULES, overloaded_zones=frozenset({zone(Z.NOT_OVEREXPLOITED).id}))
    assert not check(change(K.NEW_PERMIT, "P-x"), county(), rules).allowed
    assert not check(change(K.QUOTA_INCREASE, "P1", volume=1), county(permit("P1")), rules).allowed
    surface = change(K.NEW_PERMIT, "S-x", source=Source.SURFACE, township=B)
    assert check(surface, county(), OVERLOADED).allowed
    shallow_only = replace(OVERLOADED, overloaded_sources=frozenset({Source.DEEP}))
    assert check(change(K.NEW_PERMIT, "P-x", township=B), county(), shallow_only).allowed


@pytest.mark.parametrize(
    ("flag", "use"),
    [
        (Flag.DOMESTIC, "domestic"),
        (Flag.WATER_RIGHTS_TRADE, "industrial"),
        (Flag.POVERTY_ALLEVIATION, "agricultural"),
    ],
)
def test_yellow_river_exemptions(flag, use):
    c = change(K.NEW_PERMIT, "P-x", township=B, use_type=use, flags=frozenset({flag}))
    d = check(c, county(), OVERLOADED)
    assert d.allowed
    assert [x.rule_id for x in d.conditions] == [RuleId.YELLOW_RIVER_OVERLOADED]
    assert "provincial" in d.conditions[0].en


def test_yellow_river_leaves_decreases_renewals_and_transfers_alone():
    state = county(permit("P1", township=B), permit("P2", township=B))
    assert check(change(K.QUOTA_DECREASE, "P1", volume=10, township=B), state, OVERLOADED).allowed
    assert check(change(K.RENEWAL, "P1", volume=10_000, township=B), state, OVERLOADED).allowed
    t = change(K.TRANSFER, "P2", volume=10, township=B, from_permit_id="P1")
    assert check(t, state, OVERLOADED).allowed


def test_domestic_flag_needs_domestic_use():
    with pytest.raises(ValueError, match="domestic"):
        change(K.NEW_PERMIT, flags=frozenset({Flag.DOMESTIC}))


# --- deep aquifer -------------------------------------------------------------------------


def deep(kind, pid="D1", volume=1_000, on=ON, flags=frozenset()):
    return change(kind, pid, volume=volume, source=Source.DEEP, on=on, flags=flags)


def test_deep_groundwater_only_inside_an_emergency_window():
    p = permit("D1", source=Source.DEEP)
    none = county(p)
    assert refused_by(check(deep(K.NEW_PERMIT, "D2"), none)) == {RuleId.DEEP_EMERGENCY_ONLY}
    assert refused_by(check(deep(K.WELL_ACTIVATION, volume=0), none)) == {
        RuleId.DEEP_EMERGENCY_ONLY
    }
    assert check(deep(K.QUOTA_DECREASE), none).allowed
    open_ = county(p, windows=(EmergencyWindow("旱情2025", date(2025, 2, 1)),))
    assert check(deep(K.NEW_PERMIT, "D2"), open_).allowed
    assert check(deep(K.WELL_ACTIVATION, volume=0), open_).allowed


def test_emergency_window_ends_and_both_ends_count():
    w = EmergencyWindow("E", date(2025, 2, 1), date(2025, 3, 1))
    state = county(windows=(w,))
    assert check(deep(K.NEW_PERMIT, "D2", on=date(2025, 2, 1)), state).allowed
    assert check(deep(K.NEW_PERMIT, "D2", on=date(2025, 3, 1)), state).allowed
    assert not check(deep(K.NEW_PERMIT, "D2", on=date(2025, 3, 2)), state).allowed
    assert not check(deep(K.NEW_PERMIT, "D2", on=date(2025, 1, 31)), state).allowed


def test_deep_monitoring_exemption_is_marked_unconfirmed():
    rules = replace(DEFAULT_RULES, small_withdrawal_max_m3=100)
    d = check(
        deep(K.NEW_PERMIT, "D2", 10, flags=frozenset({Flag.MONITORING_TEST})), county(), rules
    )
    assert d.allowed
    rule = DEFAULT_RULES.rule(RuleId.DEEP_EMERGENCY_ONLY)
    assert rule is not None and not rule.exemptions[0].confirmed


# --- caps ---------------------------------------------------------------------------------


def test_county_cap():
    state = county(permit("P1", volume=90), county_cap=100)
    assert check(change(K.NEW_PERMIT, "P-x", volume=10), state).allowed
    d = check(change(K.NEW_PERMIT, "P-x", volume=11), state)
    assert refused_by(d) == {RuleId.COUNTY_CAP}
    assert "101" in d.reasons[0].en


def test_township_cap_and_transfers_between_townships():
    state = county(
        permit("P1", volume=50, township=A),
        permit("P2", volume=50, township=B),
        township_caps={A: 60, B: 50},
    )
    assert check(change(K.NEW_PERMIT, "P-x", volume=10, township=A), state).allowed
    assert refused_by(check(change(K.NEW_PERMIT, "P-x", volume=11, township=A), state)) == {
        RuleId.TOWNSHIP_CAP
    }
    into_b = change(K.TRANSFER, "P2", volume=1, township=B, from_permit_id="P1")
    assert refused_by(check(into_b, state)) == {RuleId.TOWNSHIP_CAP}
    into_a = change(K.TRANSFER, "P1", volume=10, township=A, from_permit_id="P2")
    assert check(into_a, state).allowed


def test_over_cap_county_may_still_reduce():
    state = county(permit("P1", volume=200), county_cap=100, township_caps={A: 100})
    assert check(change(K.QUOTA_DECREASE, "P1", volume=10), state).allowed
    assert check(change(K.RENEWAL, "P1", volume=150), state).allowed
    assert refused_by(check(change(K.QUOTA_INCREASE, "P1", volume=1), state)) == {
        RuleId.COUNTY_CAP,
        RuleId.TOWNSHIP_CAP,
    }


# --- term ---------------------------------------------------------------------------------


def test_term_default_five_years_at_most_ten():
    state = county()
    after = apply(change(K.NEW_PERMIT, "P-x"), state)
    assert after.permits["P-x"].expires == date(2030, 3, 1)
    assert check(change(K.NEW_PERMIT, "P-x", term_years=10), state).allowed
    d = check(change(K.NEW_PERMIT, "P-x", term_years=11), state)
    assert refused_by(d) == {RuleId.PERMIT_TERM}
    assert d.reasons[0].sources[0].article == "第二十五条"
    assert not check(change(K.NEW_PERMIT, "P-x", term_years=0), state).allowed


def test_renewal_extends_from_expiry():
    state = county(permit("P1"))
    after = apply(change(K.RENEWAL, "P1", volume=9_000, term_years=5), state)
    assert after.permits["P1"].expires == date(2033, 1, 1)
    assert after.permits["P1"].volume == 9_000


# --- every reason, the register, apply ----------------------------------------------------


def test_every_reason_is_reported():
    state = county(permit("P1", Z.BALANCED, 100), county_cap=100, township_caps={B: 0})
    c = change(K.NEW_PERMIT, "P-x", Z.BALANCED, 50, township=B, term_years=20)
    d = check(c, state, OVERLOADED)
    assert refused_by(d) == {
        RuleId.BALANCED_ZONE,
        RuleId.YELLOW_RIVER_OVERLOADED,
        RuleId.COUNTY_CAP,
        RuleId.TOWNSHIP_CAP,
        RuleId.PERMIT_TERM,
    }
    assert all(r.sources and r.zh and r.en for r in d.reasons)


def test_disabled_rule_is_not_applied():
    rules = replace(
        DEFAULT_RULES,
        rules=tuple(
            replace(r, enabled=False) if r.id is RuleId.BALANCED_ZONE else r
            for r in DEFAULT_RULES.rules
        ),
    )
    assert check(change(K.NEW_PERMIT, "P-x", Z.BALANCED), county(), rules).allowed


@pytest.mark.parametrize(
    "c",
    [
        change(K.NEW_PERMIT, "P1"),  # exists
        change(K.QUOTA_INCREASE, "nope"),
        change(K.QUOTA_DECREASE, "P1", volume=10_001),
        change(K.QUOTA_INCREASE, "P1", township=B),
        change(K.QUOTA_INCREASE, "P1", Z.BALANCED),
        change(K.QUOTA_INCREASE, "P1", source=Source.DEEP),
        change(K.TRANSFER, "P2", volume=10_001, from_permit_id="P1"),
        change(K.TRANSFER, "P2", from_permit_id="nope"),
        change(K.TRANSFER, "P1", from_permit_id="P1"),
    ],
)
def test_register_inconsistencies_refuse(c):
    d = check(c, county(permit("P1")))
    assert refused_by(d) == {REGISTER}
    assert d.reasons[0].sources


def test_apply_refuses_what_check_refuses_and_leaves_state_alone():
    state = county(permit("P1", Z.BALANCED))
    before = dict(state.zone_totals)
    with pytest.raises(RefusedChange) as info:
        apply(change(K.QUOTA_INCREASE, "P1", Z.BALANCED, 1), state)
    assert not info.value.decision.allowed
    assert state.zone_totals == before


def test_activation_records_the_well():
    state = county(permit("P1"))
    after = apply(change(K.WELL_ACTIVATION, "P1", volume=0, well_id="W-9"), state)
    assert after.active_wells == frozenset({"W-9"})
    assert after.zone_totals == state.zone_totals


def test_change_validation():
    with pytest.raises(ValueError):
        change(K.NEW_PERMIT, volume=-1)
    with pytest.raises(ValueError):
        change(K.TRANSFER)  # no from_permit_id
    with pytest.raises(ValueError):
        Change(
            K.NEW_PERMIT, "P", ON, Source.SHALLOW, "x", 1, A, (zone(Z.BALANCED), zone(Z.PROHIBITED))
        )


# --- rules as data ------------------------------------------------------------------------


def test_rule_set_round_trips_through_json():
    rules = replace(
        OVERLOADED,
        overloaded_zones=frozenset({"Z-1"}),
        small_withdrawal_max_m3=500,
        max_term_years=8,
    )
    again = RuleSet.from_dict(json.loads(json.dumps(rules.to_dict(), ensure_ascii=False)))
    assert again == rules
    assert RuleSet.from_dict(DEFAULT_RULES.to_dict()) == DEFAULT_RULES


def test_rule_set_rejects_unknown_keys_and_schema():
    data = DEFAULT_RULES.to_dict()
    with pytest.raises(ValueError):
        RuleSet.from_dict({**data, "surprise": 1})
    with pytest.raises(ValueError):
        RuleSet.from_dict({**data, "schema": 99})


def test_default_rules_table():
    ids = [r.id for r in DEFAULT_RULES.rules]
    assert ids == list(RuleId)
    for r in DEFAULT_RULES.rules:
        assert r.zh and r.en and r.sources
    assert DEFAULT_RULES.default_term_years == 5 and DEFAULT_RULES.max_term_years == 10
    assert DEFAULT_RULES.overloaded_townships == frozenset()


def test_decision_to_dict_is_json():
    d = check(change(K.NEW_PERMIT, "P-x", Z.PROHIBITED), county())
    text = json.dumps(d.to_dict(), ensure_ascii=False)
    assert "地下水管理条例" in text


def test_state_from_permits_counts_capped_sources():
    s = state_from_permits(
        [permit("P1", volume=5), permit("S1", volume=7, source=Source.SURFACE)],
        replace(DEFAULT_RULES, capped_sources=frozenset(Source)),
    )
    assert s.county_total == 12 and s.township_totals == {A: 12}
    assert s.zone_totals == {zone(Z.NOT_OVEREXPLOITED).id: 5}
