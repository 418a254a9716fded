"""The permit rule engine: every permit decision, quota change and well activation, checked.

Pure functions over plain data (no Django). :func:`check` answers whether a :class:`Change`
may be made to a county whose permitted volumes are a :class:`CountyState`, under a
:class:`RuleSet`; the :class:`Decision` carries *every* reason for a refusal, each with the
rule's id and its sources (document and article). :func:`apply` returns the state after an
allowed change. Sources, from ../shared/reference/standards.md §3–§4 and the charter:

- 地下水管理条例 (State Council Decree 748, 2021) art. 15 (reserve), 17 and 20 (total
  control), 35 (prohibited and restricted areas and the prohibited area's three exceptions);
- 取水许可和水资源费征收管理条例 (Decree 460, amended 2017) art. 20(1)(2) (refusal in a
  prohibited zone, or where the total is used up), 24 (licence contents), 25 (term: usually
  5 years, at most 10), 27 (transfer within the term and volume);
- the MWR notice suspending new permits in the Yellow River basin's overloaded areas, cited by
  the charter as 水资管〔2020〕380号 — the number is unconfirmed, the content confirmed;
- 阳水字〔2022〕100号 (the charter), quoting 晋政办发〔2015〕123号: balanced zones take no new
  abstraction; the Huangcheng Xiangfu prohibited zone; deep groundwater as the emergency and
  strategic reserve.

Every rule is data (:class:`Rule`, inside :class:`RuleSet`): enabled or not, the change kinds
it applies to, its exemptions, its text in Chinese and English and its sources, each marked
confirmed or not. ``RuleSet.to_dict`` / ``RuleSet.from_dict`` round-trip through JSON.

Model. Volumes are whole m³ per year. A permit draws on one source (shallow or deep
groundwater, or surface water) at one location: its township and, for groundwater, the one
zone of its layer that holds its wells (the registry ranks overlapping zones by
``ZONE_PRECEDENCE``, so a well has one zone per layer). Zone totals count groundwater permits
of the zone's layer; township and county totals count the sources in ``RuleSet.capped_sources``
(groundwater by default, the 双控 total of art. 17). A transfer moves volume from one permit to
another (existing or created by it), as a water-rights trade does (permit regulations art. 27).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

__all__ = [
    "DEFAULT_RULES",
    "REGISTER",
    "SCHEMA_VERSION",
    "Change",
    "ChangeKind",
    "CountyState",
    "Decision",
    "EmergencyWindow",
    "Exemption",
    "Flag",
    "PermitRecord",
    "Reason",
    "RefusedChange",
    "Rule",
    "RuleId",
    "RuleSet",
    "Source",
    "SourceRef",
    "ZoneKind",
    "ZoneRef",
    "apply",
    "check",
    "default_rules",
    "state_from_permits",
]

#: Version of the dict form of a :class:`RuleSet`.
SCHEMA_VERSION = 1


# ----------------------------------------------------------------------------- vocabulary


class ChangeKind(StrEnum):
    """What a change does to the permit register."""

    NEW_PERMIT = "new_permit"  # 新增取水许可
    QUOTA_INCREASE = "quota_increase"  # 增加许可水量
    QUOTA_DECREASE = "quota_decrease"  # 核减许可水量
    RENEWAL = "renewal"  # 延续
    TRANSFER = "transfer"  # 水权交易转让水量
    WELL_ACTIVATION = "well_activation"  # 取水井启用


class Source(StrEnum):
    """The water a permit draws (values match ``registry.choices.AquiferLayer`` for groundwater)."""

    SHALLOW = "shallow"  # 浅层地下水
    DEEP = "deep"  # 深层地下水
    SURFACE = "surface"  # 地表水


class ZoneKind(StrEnum):
    """Zone kinds; the values are those of ``registry.choices.ZoneKind``."""

    NOT_OVEREXPLOITED = "not_overexploited"
    BALANCED = "balanced"
    OVEREXPLOITED = "overexploited"
    PROHIBITED = "prohibited"
    RESTRICTED = "restricted"


class Flag(StrEnum):
    """Circumstances a change declares explicitly; exemptions are keyed by them."""

    DOMESTIC = "domestic"  # 生活用水 (only with use type "domestic")
    EMERGENCY_SAFETY = "emergency_safety"  # 地下工程施工或安全生产临时应急取（排）水
    PUBLIC_SAFETY = "public_safety"  # 消除公共安全隐患临时应急取水
    MONITORING_TEST = "monitoring_test"  # 监测、勘探、试验少量取水
    WATER_RIGHTS_TRADE = "water_rights_trade"  # 水量经水权交易取得
    POVERTY_ALLEVIATION = "poverty_alleviation"  # 脱贫攻坚项目


class RuleId(StrEnum):
    """The rules' ids (stable: stored with decisions)."""

    PROHIBITED_ZONE = "prohibited_zone"
    RESTRICTED_ZONE = "restricted_zone"
    BALANCED_ZONE = "balanced_zone"
    OVEREXPLOITED_ZONE = "overexploited_zone"
    YELLOW_RIVER_OVERLOADED = "yellow_river_overloaded"
    DEEP_EMERGENCY_ONLY = "deep_emergency_only"
    COUNTY_CAP = "county_cap"
    TOWNSHIP_CAP = "township_cap"
    PERMIT_TERM = "permit_term"


#: The checks that keep a change consistent with the register; always on, not a setting.
REGISTER = "register"

_GROUNDWATER = frozenset({Source.SHALLOW, Source.DEEP})
_ALL_KINDS = frozenset(ChangeKind)
_EXTRACTING = frozenset(ChangeKind) - {ChangeKind.QUOTA_DECREASE}


# ----------------------------------------------------------------------------- rule data


@dataclass(frozen=True)
class SourceRef:
    """Where a rule comes from: a document and an article, confirmed against its text or not."""

    document: str
    article: str = ""
    confirmed: bool = True

    def __str__(self) -> str:
        text = f"{self.document} {self.article}".strip()
        return text if self.confirmed else f"{text} [未核实 unconfirmed]"


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


# Sources, once.
GW_REG_17 = SourceRef("地下水管理条例", "第十七条")
GW_REG_20 = SourceRef("地下水管理条例", "第二十条")
GW_REG_15 = SourceRef("地下水管理条例", "第十五条")
GW_REG_35 = SourceRef("地下水管理条例", "第三十五条")
PERMIT_REG_20_1 = SourceRef("取水许可和水资源费征收管理条例", "第二十条第一项")
PERMIT_REG_20_2 = SourceRef("取水许可和水资源费征收管理条例", "第二十条第二项")
PERMIT_REG_24 = SourceRef("取水许可和水资源费征收管理条例", "第二十四条")
PERMIT_REG_25 = SourceRef("取水许可和水资源费征收管理条例", "第二十五条")
PERMIT_REG_27 = SourceRef("取水许可和水资源费征收管理条例", "第二十七条")
YR_NOTICE = SourceRef("水资管〔2020〕380号", "", confirmed=False)  # number unconfirmed
YR_SHANXI = SourceRef("晋水资源〔2020〕162号", "", confirmed=False)  # cited by the charter only
CHARTER = SourceRef("阳水字〔2022〕100号", "二(二)")
CHARTER_DEEP = SourceRef("阳水字〔2022〕100号", "二(一)")
SHANXI_2015 = SourceRef("晋政办发〔2015〕123号", "(阳水字〔2022〕100号 引)")


def default_rules() -> tuple[Rule, ...]:
    """The default rules, built from standards.md §3–§4 and the charter (see module docstring)."""
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
            applies_to=frozenset({ChangeKind.NEW_PERMIT, ChangeKind.QUOTA_INCREASE}),
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
    exemption; ``None`` = no figure (art. 35 says "少量", small, and gives none).
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


def _source_to_dict(s: SourceRef) -> dict[str, Any]:
    return {"document": s.document, "article": s.article, "confirmed": s.confirmed}


def _source_from_dict(d: Mapping[str, Any]) -> SourceRef:
    return SourceRef(str(d["document"]), str(d.get("article", "")), bool(d.get("confirmed", True)))


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


# ----------------------------------------------------------------------------- changes, state


@dataclass(frozen=True)
class ZoneRef:
    """A zone as the registry derives it from a well's position: id, kind, aquifer layer."""

    id: str
    kind: ZoneKind
    layer: Source  # SHALLOW or DEEP

    def __post_init__(self) -> None:
        if self.layer not in _GROUNDWATER:
            raise ValueError("a zone's layer is shallow or deep")


@dataclass(frozen=True)
class Change:
    """A proposed change to the permit register.

    ``volume`` (m³/a, ≥ 0) is: the quota of a new permit; the amount added or removed by a quota
    increase or decrease; the renewed quota of a renewal; the amount moved by a transfer (from
    ``from_permit_id`` to ``permit_id``, which the transfer creates if it does not exist); 0 for
    a well activation (``well_id``). ``zones`` (at most one per layer), ``township``,
    ``source`` and ``use_type`` say where the change takes effect: for a change to an existing
    permit they must match the register; for a well activation they are the well's.
    ``term_years`` is the term of a new or renewed permit (None = the default).
    """

    kind: ChangeKind
    permit_id: str
    on: date
    source: Source
    use_type: str
    volume: int
    township: str
    zones: tuple[ZoneRef, ...] = ()
    flags: frozenset[Flag] = frozenset()
    from_permit_id: str | None = None
    well_id: str | None = None
    term_years: int | None = None

    def __post_init__(self) -> None:
        if self.volume < 0:
            raise ValueError("volume must be >= 0")
        layers = [z.layer for z in self.zones]
        if len(set(layers)) != len(layers):
            raise ValueError("at most one zone per aquifer layer")
        if (self.kind is ChangeKind.TRANSFER) != (self.from_permit_id is not None):
            raise ValueError("from_permit_id is given for transfers, and only for them")
        if (self.kind is ChangeKind.WELL_ACTIVATION) != (self.well_id is not None):
            raise ValueError("well_id is given for well activations, and only for them")
        if Flag.DOMESTIC in self.flags and self.use_type != "domestic":
            raise ValueError("the domestic flag needs use type 'domestic'")

    def zone(self) -> ZoneRef | None:
        """The zone of the change's source layer (None for surface water or no zone)."""
        for z in self.zones:
            if z.layer == self.source:
                return z
        return None


@dataclass(frozen=True)
class PermitRecord:
    """A permit as the rules see it: source, location, quota (m³/a) and expiry."""

    id: str
    source: Source
    use_type: str
    volume: int
    township: str
    zone_id: str | None = None  # the zone of its source layer, for groundwater
    expires: date | None = None


@dataclass(frozen=True)
class EmergencyWindow:
    """A declared emergency (the bureau declares and ends it; ``end`` None = still in force)."""

    id: str
    start: date
    end: date | None = None

    def covers(self, on: date) -> bool:
        """True if ``on`` falls inside the window (both ends inclusive)."""
        return self.start <= on and (self.end is None or on <= self.end)


@dataclass(frozen=True)
class CountyState:
    """A snapshot of the county's permitted volumes (m³/a), caps and emergency windows.

    Totals are kept as running sums (``state_from_permits`` builds them); caps absent or None
    mean no cap. ``active_wells`` are the wells activated so far.
    """

    permits: Mapping[str, PermitRecord]
    zone_totals: Mapping[str, int]
    township_totals: Mapping[str, int]
    county_total: int
    county_cap: int | None = None
    township_caps: Mapping[str, int] = field(default_factory=dict)
    emergency_windows: tuple[EmergencyWindow, ...] = ()
    active_wells: frozenset[str] = frozenset()


def state_from_permits(
    permits: Iterable[PermitRecord],
    rules: RuleSet = DEFAULT_RULES,
    *,
    county_cap: int | None = None,
    township_caps: Mapping[str, int] | None = None,
    emergency_windows: tuple[EmergencyWindow, ...] = (),
    active_wells: frozenset[str] = frozenset(),
) -> CountyState:
    """Build a consistent :class:`CountyState` by summing the permits (zone, township, county)."""
    by_id: dict[str, PermitRecord] = {}
    zones: dict[str, int] = {}
    townships: dict[str, int] = {}
    county = 0
    for p in permits:
        by_id[p.id] = p
        if p.source in _GROUNDWATER and p.zone_id is not None:
            zones[p.zone_id] = zones.get(p.zone_id, 0) + p.volume
        if p.source in rules.capped_sources:
            townships[p.township] = townships.get(p.township, 0) + p.volume
            county += p.volume
    return CountyState(
        permits=by_id,
        zone_totals=zones,
        township_totals=townships,
        county_total=county,
        county_cap=county_cap,
        township_caps=dict(township_caps or {}),
        emergency_windows=emergency_windows,
        active_wells=active_wells,
    )


# ----------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Reason:
    """Why a change is refused (or the condition an exemption attaches), with its sources.

    ``zh`` / ``en`` are ready texts (for logs and old readers); ``code`` names the message
    (the rule id, or e.g. ``register.no_permit``) and ``params`` its values, so that a reader
    can render the reason in their own language (``aquifer.permits.reasons``).
    """

    rule_id: str
    zh: str
    en: str
    sources: tuple[SourceRef, ...]
    code: str = ""  # "" = rule_id
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def message_code(self) -> str:
        return self.code or self.rule_id


@dataclass(frozen=True)
class Decision:
    """Allow or refuse, every reason for a refusal, and the conditions of an allowed change."""

    allowed: bool
    reasons: tuple[Reason, ...] = ()
    conditions: tuple[Reason, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for the audit trail and the API)."""

        def r(x: Reason) -> dict[str, Any]:
            return {
                "rule": x.rule_id,
                "code": x.message_code,
                "params": dict(x.params),
                "zh": x.zh,
                "en": x.en,
                "sources": [_source_to_dict(s) for s in x.sources],
            }

        return {
            "allowed": self.allowed,
            "reasons": [r(x) for x in self.reasons],
            "conditions": [r(x) for x in self.conditions],
        }


class RefusedChange(ValueError):
    """Raised by :func:`apply` for a change the rules refuse; carries the decision."""

    def __init__(self, decision: Decision) -> None:
        super().__init__("; ".join(r.en for r in decision.reasons))
        self.decision = decision


@dataclass(frozen=True)
class _Effect:
    """What a change does to the totals: deltas by zone, township, and to the county."""

    zone: ZoneRef | None  # the zone where the change takes effect
    zone_delta: int  # net change of that zone's total
    zone_deltas: dict[str, int]
    township_deltas: dict[str, int]
    county_delta: int


def _register_reason(
    case: str, zh: str, en: str, source: SourceRef = PERMIT_REG_24, **params: Any
) -> Reason:
    return Reason(REGISTER, zh, en, (source,), f"{REGISTER}.{case}", tuple(sorted(params.items())))


def _effect(change: Change, state: CountyState, rules: RuleSet) -> _Effect | Reason:
    """The change's effect on the totals, or why it does not fit the register."""
    permits = state.permits
    rec = permits.get(change.permit_id)
    kind = change.kind
    zone = change.zone()
    zone_id = zone.id if zone is not None and change.source in _GROUNDWATER else None
    if kind is ChangeKind.NEW_PERMIT:
        if rec is not None:
            return _register_reason(
                "permit_exists", "许可证编号已存在", f"permit {change.permit_id} exists"
            )
    elif kind is ChangeKind.TRANSFER and rec is None:
        pass  # the transfer creates the receiving permit
    elif rec is None:
        return _register_reason("no_permit", "许可证不存在", f"no permit {change.permit_id}")
    elif rec.source != change.source:
        return _register_reason(
            "source_mismatch", "水源与许可证不符", "source differs from the permit's"
        )
    elif kind is not ChangeKind.WELL_ACTIVATION and (
        rec.township != change.township or rec.zone_id != zone_id
    ):
        return _register_reason(
            "location_mismatch", "位置与许可证不符", "township or zone differs from the permit's"
        )

    zones: dict[str, int] = {}
    towns: dict[str, int] = {}
    county = 0

    def add(source: Source, zid: str | None, town: str, delta: int) -> None:
        nonlocal county
        if delta == 0:
            return
        if source in _GROUNDWATER and zid is not None:
            zones[zid] = zones.get(zid, 0) + delta
        if source in rules.capped_sources:
            towns[town] = towns.get(town, 0) + delta
            county += delta

    if kind is ChangeKind.NEW_PERMIT or kind is ChangeKind.QUOTA_INCREASE:
        add(change.source, zone_id, change.township, change.volume)
    elif kind is ChangeKind.QUOTA_DECREASE:
        assert rec is not None
        if change.volume > rec.volume:
            return _register_reason(
                "decrease_exceeds", "核减水量超过许可水量", "decrease exceeds the quota"
            )
        add(rec.source, rec.zone_id, rec.township, -change.volume)
    elif kind is ChangeKind.RENEWAL:
        assert rec is not None
        add(rec.source, rec.zone_id, rec.township, change.volume - rec.volume)
    elif kind is ChangeKind.TRANSFER:
        assert change.from_permit_id is not None
        src = permits.get(change.from_permit_id)
        if src is None or change.from_permit_id == change.permit_id:
            return _register_reason(
                "transfer_source",
                "转让方许可证不存在或与受让方相同",
                "the transferring permit does not exist or is the receiving one",
                PERMIT_REG_27,
            )
        if change.volume > src.volume:
            return _register_reason(
                "transfer_exceeds",
                "转让水量超过许可水量",
                "transfer exceeds the transferring quota",
                PERMIT_REG_27,
            )
        if src.source != change.source:
            return _register_reason(
                "transfer_sources_differ",
                "转让双方水源不同",
                "the two permits draw different sources",
                PERMIT_REG_27,
            )
        add(src.source, src.zone_id, src.township, -change.volume)
        add(change.source, zone_id, change.township, change.volume)
    delta = zones.get(zone_id, 0) if zone_id is not None else 0
    return _Effect(zone if zone_id else None, delta, zones, towns, county)


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
        params = tuple(sorted(hit[2].items()))
        reasons.append(Reason(str(rule.id), hit[0], hit[1], rule.sources, "", params))
    if reasons:
        return Decision(False, tuple(reasons))
    return Decision(True, (), tuple(conditions))


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
        if in_area and change.source in rules.overloaded_sources and change.volume > 0:
            return (
                "位于黄河流域超载地区，暂停新增取水许可",
                "in an overloaded Yellow River area",
                {},
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
            small = rules.small_withdrawal_max_m3
            if small is not None and change.volume > small:
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


# ----------------------------------------------------------------------------- apply


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
    if kind is ChangeKind.NEW_PERMIT or (kind is ChangeKind.TRANSFER and rec is None):
        permits[change.permit_id] = PermitRecord(
            change.permit_id,
            change.source,
            change.use_type,
            change.volume,
            change.township,
            zone_id,
            _add_years(change.on, term),
        )
    elif kind is ChangeKind.QUOTA_INCREASE and rec is not None:
        permits[rec.id] = replace(rec, volume=rec.volume + change.volume)
    elif kind is ChangeKind.QUOTA_DECREASE and rec is not None:
        permits[rec.id] = replace(rec, volume=rec.volume - change.volume)
    elif kind is ChangeKind.RENEWAL and rec is not None:
        start = max(change.on, rec.expires) if rec.expires else change.on
        permits[rec.id] = replace(rec, volume=change.volume, expires=_add_years(start, term))
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


def _add_years(d: date, years: int) -> date:
    """``d`` plus whole years (29 February → 28 February)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)
