"""What the engine judges: a proposed :class:`Change` (with its zones) and the county's
permitted volumes (:class:`CountyState`: permits, running totals, caps, emergency windows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from aquifer.permits.rules.ruleset import DEFAULT_RULES, RuleSet
from aquifer.permits.rules.vocabulary import _GROUNDWATER, ChangeKind, Flag, Source, ZoneKind

__all__ = [
    "Change",
    "CountyState",
    "EmergencyWindow",
    "PermitRecord",
    "ZoneRef",
    "state_from_permits",
]


@dataclass(frozen=True)
class ZoneRef:
    """A zone as the registry derives it from a well's position: id, kind, aquifer layer."""

    id: str
    kind: ZoneKind
    layer: Source  # SHALLOW or DEEP
    hard_to_renew: bool = False  # 难以更新的地下水 (地下水管理条例 第二十七条、第六十三条)

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
    ``public_supply_available``: the public supply network can meet the demand at the change's
    location (the wiring judges it from the served coverage areas; permit regulations
    art. 20(5)).
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
    public_supply_available: bool = False

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


def _add_years(d: date, years: int) -> date:
    """``d`` plus whole years (29 February → 28 February)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)
