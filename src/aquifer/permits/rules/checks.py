"""The checks per rule family (zones, the Yellow River notice, deep groundwater, caps, the
permit term) and the exemptions that lift them.
"""

from __future__ import annotations

from typing import Any

from aquifer.permits.rules.decisions import Reason
from aquifer.permits.rules.effects import _Effect
from aquifer.permits.rules.ruleset import Exemption, Rule, RuleSet
from aquifer.permits.rules.state import Change, CountyState, ZoneRef
from aquifer.permits.rules.vocabulary import (
    _GROUNDWATER,
    ChangeKind,
    Flag,
    RuleId,
    Source,
    ZoneKind,
)

__all__: list[str] = []


def _violates(
    rule: Rule,
    change: Change,
    state: CountyState,
    rules: RuleSet,
    effect: _Effect,
    zone: ZoneRef | None,
    grows: bool,
) -> tuple[str, str, dict[str, Any]] | None:
    """The (zh, en, params) of the breach if ``change`` breaks ``rule``, else None."""
    rid = rule.id
    kind = change.kind
    where = f"{zone.id}" if zone is not None else ""
    if rid is RuleId.PROHIBITED_ZONE:
        # Any abstraction in the zone counts: a renewal, an activation, a transfer *into* a
        # permit there (even from another permit of the same zone). A transfer out of the
        # zone is judged at the receiving permit's zone, so it passes.
        if zone is not None and zone.kind is ZoneKind.PROHIBITED:
            return (
                f"禁采区 {where} 内禁止取用地下水",
                f"abstraction in prohibited zone {where}",
                {"zone": where},
            )
    elif rid is RuleId.RESTRICTED_ZONE or rid is RuleId.OVEREXPLOITED_ZONE:
        target = ZoneKind.RESTRICTED if rid is RuleId.RESTRICTED_ZONE else ZoneKind.OVEREXPLOITED
        if zone is not None and zone.kind is target and grows:
            name = "限采区" if target is ZoneKind.RESTRICTED else "超采区"
            return (
                f"{name} {where} 内不得新增取用地下水",
                f"new abstraction in {target.value} zone {where}",
                {"zone": where},
            )
    elif rid is RuleId.BALANCED_ZONE:
        if zone is not None and zone.kind is ZoneKind.BALANCED and effect.zone_delta > 0:
            return (
                f"采补平衡区 {where} 许可总量将增加 {effect.zone_delta} m³/a",
                f"balanced zone {where} total would rise by {effect.zone_delta} m³/a",
                {"zone": where, "delta": effect.zone_delta},
            )
    elif rid is RuleId.YELLOW_RIVER_OVERLOADED:
        in_area = change.township in rules.overloaded_townships or (
            zone is not None and zone.id in rules.overloaded_zones
        )
        if in_area and change.source in rules.overloaded_sources and effect.increase > 0:
            return (
                f"位于黄河流域超载地区，暂停新增取水许可（新增 {effect.increase} m³/a）",
                f"in an overloaded Yellow River area (increase of {effect.increase} m³/a)",
                {"increase": effect.increase},
            )
    elif rid is RuleId.DEEP_EMERGENCY_ONLY:
        if change.source is Source.DEEP and not any(
            w.covers(change.on) for w in state.emergency_windows
        ):
            return (
                f"{change.on.isoformat()} 不在已宣布的应急期内，不得取用深层地下水",
                f"deep groundwater outside a declared emergency window ({change.on})",
                {"date": change.on.isoformat()},
            )
    elif rid is RuleId.COUNTY_CAP:
        cap = state.county_cap
        if cap is not None and effect.county_delta > 0:
            after = state.county_total + effect.county_delta
            if after > cap:
                return (
                    f"全县许可总量 {after} 超过控制指标 {cap} m³/a",
                    f"county total {after} would exceed its cap {cap} m³/a",
                    {"total": after, "cap": cap},
                )
    elif rid is RuleId.TOWNSHIP_CAP:
        over = []
        for town, delta in sorted(effect.township_deltas.items()):
            tcap = state.township_caps.get(town)
            after = state.township_totals.get(town, 0) + delta
            if delta > 0 and tcap is not None and after > tcap:
                over.append((town, after, tcap))
        if over:
            text = ", ".join(f"{t} {a} > {c}" for t, a, c in over)
            return (
                f"乡镇许可总量超过指标：{text} m³/a",
                f"township total over its cap: {text} m³/a",
                {"over": [[t, a, c] for t, a, c in over]},
            )
    elif rid is RuleId.PUBLIC_SUPPLY:
        new_draw = kind in (ChangeKind.NEW_PERMIT, ChangeKind.WELL_ACTIVATION) or (
            effect.increase > 0
        )
        if change.public_supply_available and change.source in _GROUNDWATER and new_draw:
            return (
                "公共供水管网能够满足用水需要（位于已通水的供水覆盖范围内），不批准自备地下水取水",
                "the public supply network can meet the demand here (a served coverage area)",
                {"fact": "public_supply_available"},
            )
    elif rid is RuleId.HARD_TO_RENEW:
        if zone is not None and zone.hard_to_renew:
            return (
                f"分区 {where} 为难以更新的地下水，禁止开采",
                f"zone {where} holds groundwater that is hard to renew",
                {"zone": where, "fact": "hard_to_renew"},
            )
    elif rid is RuleId.ILLEGAL_RECLAMATION:
        if Flag.ILLEGALLY_RECLAIMED_LAND in change.flags and change.source in _GROUNDWATER:
            return (
                "用于非法开垦土地灌溉",
                "to irrigate illegally reclaimed land",
                {"fact": "illegally_reclaimed_land"},
            )
    elif rid is RuleId.PERMIT_TERM:
        creates = kind is not ChangeKind.TRANSFER or change.permit_id not in state.permits
        term = change.term_years
        if creates and term is not None and not 1 <= term <= rules.max_term_years:
            return (
                f"有效期 {term} 年，应为1至{rules.max_term_years}年",
                f"term of {term} years; must be 1 to {rules.max_term_years}",
                {"term": term, "max": rules.max_term_years},
            )
    return None


def _exemption(rule: Rule, change: Change, rules: RuleSet) -> Exemption | None:
    """The first exemption of ``rule`` the change declares and qualifies for, if any."""
    for e in rule.exemptions:
        if e.flag not in change.flags:
            continue
        if e.flag is Flag.MONITORING_TEST:
            # "少量" (small) is bounded by the bureau's setting; with no setting the bound is
            # zero (a monitoring well's activation, which takes no permitted volume): it is
            # never unbounded.
            small = rules.small_withdrawal_max_m3
            if change.volume > (small if small is not None else 0):
                continue
        if e.flag is Flag.NO_ALTERNATIVE_SOURCE and change.use_type != "domestic":
            continue
        return e
    return None


def _exempt_condition(rule: Rule, e: Exemption) -> Reason:
    """The condition attached to a change allowed under an exemption."""
    if rule.id is RuleId.YELLOW_RIVER_OVERLOADED:
        zh = f"依豁免（{e.flag.value}）批准：须严格水资源论证，报省级审批并10个工作日内报黄委备案"
        en = (
            f"allowed under exemption '{e.flag.value}': strict water-resource assessment; "
            "approved at provincial level and filed with the YRCC within 10 working days"
        )
    else:
        zh = f"依豁免（{e.flag.value}）临时许可：情形消除后应立即停止取水"
        en = f"allowed under exemption '{e.flag.value}': stop as soon as the circumstance ends"
    code = "exemption.yellow_river" if rule.id is RuleId.YELLOW_RIVER_OVERLOADED else "exemption"
    return Reason(str(rule.id), zh, en, (e.source,), code, (("flag", e.flag.value),))
