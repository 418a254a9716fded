"""The rules as data: :class:`Rule` and its exemptions, the default rules, and
:class:`RuleSet` (the rules with the bureau's settings), round-tripping through JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aquifer.permits.rules.sources import (
    CHARTER,
    CHARTER_DEEP,
    GW_REG_15,
    GW_REG_17,
    GW_REG_20,
    GW_REG_25,
    GW_REG_27,
    GW_REG_35,
    PERMIT_REG_20_1,
    PERMIT_REG_20_2,
    PERMIT_REG_20_5,
    PERMIT_REG_25,
    SHANXI_2015,
    YR_NOTICE,
    YR_SHANXI,
    SourceRef,
    _source_from_dict,
    _source_to_dict,
)
from aquifer.permits.rules.vocabulary import (
    _ALL_KINDS,
    _EXTRACTING,
    _GROUNDWATER,
    ChangeKind,
    Flag,
    RuleId,
    Source,
)

__all__ = ["DEFAULT_RULES", "SCHEMA_VERSION", "Exemption", "Rule", "RuleSet", "default_rules"]

#: Version of the dict form of a :class:`RuleSet`.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Exemption:
    """A flag that lifts a rule for a change that declares it; ``confirmed`` as for sources."""

    flag: Flag
    source: SourceRef
    confirmed: bool = True


@dataclass(frozen=True)
class Rule:
    """One rule: id, text (中文 / English), sources, switch, kinds it applies to, exemptions."""

    id: RuleId
    zh: str
    en: str
    sources: tuple[SourceRef, ...]
    enabled: bool = True
    applies_to: frozenset[ChangeKind] = _ALL_KINDS
    exemptions: tuple[Exemption, ...] = ()

    @property
    def confirmed(self) -> bool:
        """True when at least one source of the rule is confirmed."""
        return any(s.confirmed for s in self.sources)


def default_rules() -> tuple[Rule, ...]:
    """The default rules, built from standards.md §3–§4 and the charter (package docstring)."""
    return (
        Rule(
            RuleId.PROHIBITED_ZONE,
            "禁止开采区内禁止取用地下水（临时应急、安全及监测勘探试验少量取水除外）",
            "No groundwater abstraction in a prohibited zone (except temporary emergency, "
            "safety, and small monitoring / exploration / test withdrawals)",
            (GW_REG_35, PERMIT_REG_20_1, CHARTER),
            applies_to=_EXTRACTING,
            exemptions=(
                Exemption(Flag.EMERGENCY_SAFETY, GW_REG_35),
                Exemption(Flag.PUBLIC_SAFETY, GW_REG_35),
                Exemption(Flag.MONITORING_TEST, GW_REG_35),
            ),
        ),
        Rule(
            RuleId.RESTRICTED_ZONE,
            "限制开采区内不得新增取用地下水，只能核减",
            "No new groundwater abstraction in a restricted zone; reductions only",
            (GW_REG_35,),
            applies_to=_EXTRACTING - {ChangeKind.WELL_ACTIVATION},
        ),
        Rule(
            RuleId.BALANCED_ZONE,
            "采补平衡区不得再增加新的开采量",
            "No increase of a balanced zone's total permitted abstraction",
            (CHARTER, SHANXI_2015),
        ),
        Rule(
            RuleId.OVEREXPLOITED_ZONE,
            "超采区内不得新增取用地下水，逐步压减开采量",
            "No new groundwater abstraction in an overexploited zone; reductions allowed",
            (CHARTER, SourceRef("地下水管理条例", "第三十五条（超采区比照限采区）", False)),
            applies_to=_EXTRACTING - {ChangeKind.WELL_ACTIVATION},
        ),
        Rule(
            RuleId.YELLOW_RIVER_OVERLOADED,
            "黄河流域水资源超载地区暂停新增取水许可",
            "New abstraction permits suspended in the Yellow River basin's overloaded areas",
            (YR_NOTICE, YR_SHANXI),
            # A renewal that raises the quota is judged on its increase (as is every rule
            # that judges new abstraction); one that keeps or lowers it passes.
            applies_to=frozenset(
                {ChangeKind.NEW_PERMIT, ChangeKind.QUOTA_INCREASE, ChangeKind.RENEWAL}
            ),
            exemptions=(
                Exemption(Flag.DOMESTIC, YR_NOTICE),
                Exemption(Flag.WATER_RIGHTS_TRADE, YR_NOTICE),
                Exemption(Flag.POVERTY_ALLEVIATION, YR_NOTICE),
            ),
        ),
        Rule(
            RuleId.DEEP_EMERGENCY_ONLY,
            "深层地下水作为应急和战略储备，仅在宣布的应急期内取用",
            "Deep groundwater is the emergency reserve: only inside a declared emergency window",
            (CHARTER_DEEP, GW_REG_15),
            applies_to=_EXTRACTING,
            exemptions=(
                Exemption(
                    Flag.MONITORING_TEST,
                    SourceRef("地下水管理条例", "第三十五条第三项（比照）", False),
                    confirmed=False,
                ),
            ),
        ),
        Rule(
            RuleId.COUNTY_CAP,
            "县级取水总量控制指标不得突破",
            "The county's total permitted volume stays within its cap",
            (GW_REG_17, GW_REG_20, PERMIT_REG_20_2),
        ),
        Rule(
            RuleId.TOWNSHIP_CAP,
            "乡镇许可水量不得超过分配指标",
            "A township's total permitted volume stays within its cap",
            (GW_REG_20, PERMIT_REG_20_2, SourceRef("阳水字〔2022〕100号", "二(一)")),
        ),
        Rule(
            RuleId.PERMIT_TERM,
            "取水许可有效期一般为5年，最长不超过10年",
            "A permit's term is 5 years by default and 10 at most",
            (PERMIT_REG_25,),
            applies_to=frozenset({ChangeKind.NEW_PERMIT, ChangeKind.RENEWAL, ChangeKind.TRANSFER}),
        ),
        Rule(
            RuleId.PUBLIC_SUPPLY,
            "公共供水管网能够满足用水需要的，不批准自备地下水取水",
            "No own groundwater abstraction where the public supply network can meet the demand",
            (PERMIT_REG_20_5, CHARTER),
            applies_to=_EXTRACTING,
        ),
        Rule(
            RuleId.HARD_TO_RENEW,
            "禁止开采难以更新的地下水（应急供水、无替代水源的居民生活用水、监测勘探试验少量取水除外）",
            "No abstraction of groundwater that is hard to renew (except emergency supply, "
            "residents' domestic use with no alternative source, small monitoring / "
            "exploration / test withdrawals)",
            (GW_REG_27,),
            applies_to=_EXTRACTING,
            exemptions=(
                Exemption(Flag.EMERGENCY_SUPPLY, GW_REG_27),
                Exemption(Flag.NO_ALTERNATIVE_SOURCE, GW_REG_27),
                Exemption(Flag.MONITORING_TEST, GW_REG_27),
            ),
        ),
        Rule(
            RuleId.ILLEGAL_RECLAMATION,
            "不批准用于非法开垦土地灌溉的地下水取水",
            "No groundwater permit to irrigate illegally reclaimed land",
            (GW_REG_25,),
            applies_to=_EXTRACTING,
        ),
    )


@dataclass(frozen=True)
class RuleSet:
    """The rules and their settings: what the bureau sees and changes.

    ``overloaded_townships`` / ``overloaded_zones``: the Yellow River basin's overloaded areas
    that cover this county (empty by default: whether Yangcheng is on the MWR's list of 62
    groundwater-overloaded counties is unconfirmed). ``overloaded_sources``: the overloaded
    sources there (the notice suspends permits for the overloaded source only).
    ``capped_sources``: the sources township and county totals count.
    ``small_withdrawal_max_m3``: the most a monitoring / test withdrawal may take under its
    exemption; ``None`` = no figure (art. 35 says "少量", small, and gives none), and then the
    exemption covers only zero volume (a monitoring well's activation): it is never unbounded.
    """

    rules: tuple[Rule, ...] = field(default_factory=default_rules)
    overloaded_townships: frozenset[str] = frozenset()
    overloaded_zones: frozenset[str] = frozenset()
    overloaded_sources: frozenset[Source] = _GROUNDWATER
    capped_sources: frozenset[Source] = _GROUNDWATER
    default_term_years: int = 5
    max_term_years: int = 10
    small_withdrawal_max_m3: int | None = None

    def __post_init__(self) -> None:
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError("rule ids must be unique")
        if not 1 <= self.default_term_years <= self.max_term_years:
            raise ValueError("need 1 <= default_term_years <= max_term_years")

    def rule(self, rule_id: RuleId) -> Rule | None:
        """The rule with this id, or None if the set does not hold it."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (sets as sorted lists)."""
        return {
            "schema": SCHEMA_VERSION,
            "rules": [_rule_to_dict(r) for r in self.rules],
            "overloaded_townships": sorted(self.overloaded_townships),
            "overloaded_zones": sorted(self.overloaded_zones),
            "overloaded_sources": sorted(self.overloaded_sources),
            "capped_sources": sorted(self.capped_sources),
            "default_term_years": self.default_term_years,
            "max_term_years": self.max_term_years,
            "small_withdrawal_max_m3": self.small_withdrawal_max_m3,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleSet:
        """The inverse of :meth:`to_dict`; raises ValueError on an unknown schema or key."""
        if data.get("schema") != SCHEMA_VERSION:
            raise ValueError(f"unknown rule set schema {data.get('schema')!r}")
        known = set(cls().to_dict())
        extra = set(data) - known
        if extra:
            raise ValueError(f"unknown rule set keys: {sorted(extra)}")
        small = data.get("small_withdrawal_max_m3")
        return cls(
            rules=tuple(_rule_from_dict(r) for r in data["rules"]),
            overloaded_townships=frozenset(str(t) for t in data["overloaded_townships"]),
            overloaded_zones=frozenset(str(z) for z in data["overloaded_zones"]),
            overloaded_sources=frozenset(Source(s) for s in data["overloaded_sources"]),
            capped_sources=frozenset(Source(s) for s in data["capped_sources"]),
            default_term_years=int(data["default_term_years"]),
            max_term_years=int(data["max_term_years"]),
            small_withdrawal_max_m3=None if small is None else int(small),
        )


def _rule_to_dict(r: Rule) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "zh": r.zh,
        "en": r.en,
        "enabled": r.enabled,
        "applies_to": sorted(r.applies_to),
        "sources": [_source_to_dict(s) for s in r.sources],
        "exemptions": [
            {"flag": str(e.flag), "confirmed": e.confirmed, "source": _source_to_dict(e.source)}
            for e in r.exemptions
        ],
    }


def _rule_from_dict(d: Mapping[str, Any]) -> Rule:
    return Rule(
        id=RuleId(d["id"]),
        zh=str(d["zh"]),
        en=str(d["en"]),
        sources=tuple(_source_from_dict(s) for s in d["sources"]),
        enabled=bool(d["enabled"]),
        applies_to=frozenset(ChangeKind(k) for k in d["applies_to"]),
        exemptions=tuple(
            Exemption(Flag(e["flag"]), _source_from_dict(e["source"]), bool(e["confirmed"]))
            for e in d["exemptions"]
        ),
    )


#: The default rule set (immutable; build a changed one with ``dataclasses.replace``).
DEFAULT_RULES = RuleSet()
