"""The engine: :func:`check` decides a change (every reason, in the rules' order);
:func:`apply` returns the state after an allowed one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from aquifer.permits.rules.checks import _exempt_condition, _exemption, _violates
from aquifer.permits.rules.decisions import Decision, Reason, RefusedChange
from aquifer.permits.rules.effects import _Effect, _effect
from aquifer.permits.rules.ruleset import DEFAULT_RULES, RuleSet
from aquifer.permits.rules.state import (
    Change,
    CountyState,
    EmergencyWindow,
    PermitRecord,
    _add_years,
)
from aquifer.permits.rules.vocabulary import _GROUNDWATER, ChangeKind, RuleId, Source

__all__ = ["apply", "check"]


def check(change: Change, state: CountyState, rules: RuleSet = DEFAULT_RULES) -> Decision:
    """Decide a change: allowed, or refused with every reason (each with its sources).

    Deterministic: the same change, state and rules give the same decision, reasons in the
    order of ``rules.rules``. Register inconsistencies (unknown permit, a decrease or transfer
    beyond the quota, a location that differs from the permit's) refuse with rule ``register``.
    """
    effect = _effect(change, state, rules)
    if isinstance(effect, Reason):
        return Decision(False, (effect,))
    reasons: list[Reason] = []
    conditions: list[Reason] = []
    kind = change.kind
    zone = effect.zone
    grows = effect.zone_delta > 0 or kind is ChangeKind.NEW_PERMIT

    for rule in rules.rules:
        if not rule.enabled or kind not in rule.applies_to:
            continue
        hit = _violates(rule, change, state, rules, effect, zone, grows)
        if hit is None:
            continue
        used = _exemption(rule, change, rules)
        if used is not None:
            conditions.append(_exempt_condition(rule, used))
            continue
        found = dict(hit[2])
        zh, en = hit[0], hit[1]
        declared = sorted(e.flag.value for e in rule.exemptions if e.flag in change.flags)
        if declared:
            # The change declared an exemption it does not qualify for (a monitoring
            # withdrawal above the small-withdrawal setting, or with none set): say so.
            found["exemptions_not_met"] = declared
            found["small_withdrawal_max_m3"] = rules.small_withdrawal_max_m3
            zh += f"（所申报豁免 {'、'.join(declared)} 不适用）"
            en += f" (declared exemption {', '.join(declared)} does not apply)"
        params = tuple(sorted(found.items()))
        reasons.append(Reason(str(rule.id), zh, en, rule.sources, "", params))
    if reasons:
        return Decision(False, tuple(reasons))
    window = _resting_window(change, state, rules)
    if window is not None:
        conditions.append(_window_condition(window, rules))
    return Decision(True, (), tuple(conditions))


def _resting_window(change: Change, state: CountyState, rules: RuleSet) -> EmergencyWindow | None:
    """The emergency window a deep-groundwater approval rests on (None if it rests on none:
    not deep, the rule off or not judging this kind, or allowed under its exemption)."""
    rule = rules.rule(RuleId.DEEP_EMERGENCY_ONLY)
    if rule is None or not rule.enabled or change.kind not in rule.applies_to:
        return None
    if change.source is not Source.DEEP or _exemption(rule, change, rules) is not None:
        return None
    covering = [w for w in state.emergency_windows if w.covers(change.on)]
    if not covering:
        return None
    # The window that lasts longest (an open one outlasts any dated one).
    return max(covering, key=lambda w: (w.end is None, w.end or date.min, w.id))


def _window_condition(window: EmergencyWindow, rules: RuleSet) -> Reason:
    rule = rules.rule(RuleId.DEEP_EMERGENCY_ONLY)
    assert rule is not None
    if window.end is not None:
        zh = f"依应急期 {window.id} 批准：许可随应急期于 {window.end.isoformat()} 结束"
        en = f"rests on emergency window {window.id}: it ends with the window on {window.end}"
    else:
        zh = f"依应急期 {window.id} 批准：许可随水务局宣布应急期结束而终止"
        en = f"rests on emergency window {window.id}: it ends when the bureau ends the window"
    end = window.end.isoformat() if window.end else None
    params = (("ends", end), ("window", window.id))
    return Reason(str(RuleId.DEEP_EMERGENCY_ONLY), zh, en, rule.sources, "emergency_window", params)


def apply(change: Change, state: CountyState, rules: RuleSet = DEFAULT_RULES) -> CountyState:
    """The state after an allowed change (a new snapshot; ``state`` is not modified).

    Raises :class:`RefusedChange` if :func:`check` refuses the change.
    """
    decision = check(change, state, rules)
    if not decision.allowed:
        raise RefusedChange(decision)
    effect = _effect(change, state, rules)
    assert isinstance(effect, _Effect)
    permits = dict(state.permits)
    kind = change.kind
    rec = permits.get(change.permit_id)
    zone = change.zone()
    zone_id = zone.id if zone is not None and change.source in _GROUNDWATER else None
    term = change.term_years or rules.default_term_years
    window = _resting_window(change, state, rules)

    def expiry(start: date) -> date:
        # An approval resting on an emergency window ends with it (when the window has an end).
        end = _add_years(start, term)
        return min(end, window.end) if window is not None and window.end is not None else end

    if kind is ChangeKind.NEW_PERMIT or (kind is ChangeKind.TRANSFER and rec is None):
        permits[change.permit_id] = PermitRecord(
            change.permit_id,
            change.source,
            change.use_type,
            change.volume,
            change.township,
            zone_id,
            expiry(change.on),
        )
    elif kind is ChangeKind.QUOTA_INCREASE and rec is not None:
        permits[rec.id] = replace(rec, volume=rec.volume + change.volume)
    elif kind is ChangeKind.QUOTA_DECREASE and rec is not None:
        permits[rec.id] = replace(rec, volume=rec.volume - change.volume)
    elif kind is ChangeKind.RENEWAL and rec is not None:
        start = max(change.on, rec.expires) if rec.expires else change.on
        permits[rec.id] = replace(rec, volume=change.volume, expires=expiry(start))
    elif kind is ChangeKind.TRANSFER and rec is not None:
        permits[rec.id] = replace(rec, volume=rec.volume + change.volume)
    if kind is ChangeKind.TRANSFER and change.from_permit_id is not None:
        src = permits[change.from_permit_id]
        permits[src.id] = replace(src, volume=src.volume - change.volume)

    zones = dict(state.zone_totals)
    for zid, d in effect.zone_deltas.items():
        zones[zid] = zones.get(zid, 0) + d
    towns = dict(state.township_totals)
    for town, d in effect.township_deltas.items():
        towns[town] = towns.get(town, 0) + d
    wells = state.active_wells
    if change.well_id is not None:
        wells = wells | {change.well_id}
    return replace(
        state,
        permits=permits,
        zone_totals=zones,
        township_totals=towns,
        county_total=state.county_total + effect.county_delta,
        active_wells=wells,
    )
