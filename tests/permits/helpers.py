"""A small county for the rule tests: two townships, one zone of each kind per layer."""

from __future__ import annotations

from datetime import date

from aquifer.permits.rules import (
    Change,
    ChangeKind,
    CountyState,
    EmergencyWindow,
    Flag,
    PermitRecord,
    Source,
    ZoneKind,
    ZoneRef,
    state_from_permits,
)

A, B = "凤城镇", "北留镇"
ON = date(2025, 3, 1)

#: One zone per kind and layer: id "<kind>-<layer>".
ZONES: dict[str, ZoneRef] = {
    f"{k.value}-{layer.value}": ZoneRef(f"{k.value}-{layer.value}", k, layer)
    for k in ZoneKind
    for layer in (Source.SHALLOW, Source.DEEP)
}


def zone(kind: ZoneKind, layer: Source = Source.SHALLOW) -> ZoneRef:
    return ZONES[f"{kind.value}-{layer.value}"]


def permit(
    pid: str,
    kind: ZoneKind = ZoneKind.NOT_OVEREXPLOITED,
    volume: int = 10_000,
    township: str = A,
    source: Source = Source.SHALLOW,
) -> PermitRecord:
    zid = zone(kind, source).id if source is not Source.SURFACE else None
    return PermitRecord(pid, source, "industrial", volume, township, zid, date(2028, 1, 1))


def county(
    *permits: PermitRecord,
    county_cap: int | None = None,
    township_caps: dict[str, int] | None = None,
    windows: tuple[EmergencyWindow, ...] = (),
) -> CountyState:
    return state_from_permits(
        permits, county_cap=county_cap, township_caps=township_caps, emergency_windows=windows
    )


def change(
    kind: ChangeKind,
    pid: str = "P-new",
    zone_kind: ZoneKind = ZoneKind.NOT_OVEREXPLOITED,
    volume: int = 5_000,
    *,
    township: str = A,
    source: Source = Source.SHALLOW,
    use_type: str = "industrial",
    flags: frozenset[Flag] = frozenset(),
    from_permit_id: str | None = None,
    well_id: str | None = None,
    term_years: int | None = None,
    on: date = ON,
) -> Change:
    zones = () if source is Source.SURFACE else (zone(zone_kind, source),)
    if kind is ChangeKind.WELL_ACTIVATION and well_id is None:
        well_id = "W-1"
    return Change(
        kind,
        pid,
        on,
        source,
        use_type,
        volume,
        township,
        zones,
        flags,
        from_permit_id,
        well_id,
        term_years,
    )
