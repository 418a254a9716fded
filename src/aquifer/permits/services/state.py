"""The county as the rule engine sees it: the rules in force, emergency windows, a permit's
zone and record, :func:`county_state`; and the permits a water user holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

from django.db.models import QuerySet

from aquifer.permits import rules
from aquifer.permits.models import EmergencyWindow, Permit, PermitStatus, RuleSettings, WaterSource
from aquifer.permits.rules import CountyState, PermitRecord, RuleSet, Source, ZoneKind, ZoneRef
from aquifer.registry.choices import ZONE_PRECEDENCE
from aquifer.registry.models import Township
from aquifer.registry.supply import served_index

__all__ = [
    "county_state",
    "current_settings",
    "emergency_windows",
    "in_emergency",
    "permit_record",
    "permit_zone",
    "permits_of",
    "rule_set",
    "zone_ref",
]


def current_settings() -> RuleSettings | None:
    """The rule settings in force (the newest version), or None for the defaults."""
    return RuleSettings.objects.order_by("-created_at", "-id").first()


def rule_set(conf: RuleSettings | None = None) -> RuleSet:
    """The active :class:`RuleSet`: the engine's defaults with the bureau's settings."""
    conf = conf if conf is not None else current_settings()
    if conf is None:
        return rules.DEFAULT_RULES
    disabled = set(conf.disabled_rules or [])
    rs = tuple(replace(r, enabled=r.id.value not in disabled) for r in rules.default_rules())
    sources = frozenset(Source(s) for s in conf.overloaded_sources) or (
        rules.DEFAULT_RULES.overloaded_sources
    )
    return RuleSet(
        rules=rs,
        overloaded_townships=frozenset(conf.overloaded_townships or []),
        overloaded_zones=frozenset(conf.overloaded_zones or []),
        overloaded_sources=sources,
        small_withdrawal_max_m3=conf.small_withdrawal_max_m3,
    )


def emergency_windows() -> tuple[rules.EmergencyWindow, ...]:
    return tuple(
        rules.EmergencyWindow(str(w.pk), w.start, w.end) for w in EmergencyWindow.objects.all()
    )


def in_emergency(on: date) -> bool:
    return any(w.covers(on) for w in emergency_windows())


def zone_ref(zone: Any) -> ZoneRef:
    return ZoneRef(
        zone.code,
        ZoneKind(zone.kind),
        Source(zone.layer),
        hard_to_renew=bool(getattr(zone, "hard_to_renew", False)),
    )


def public_supply_at(wells: Iterable[Any], on: date) -> bool:
    """Whether any of the wells lies in a coverage area served on ``on`` (the public network
    can meet the demand there: permit regulations art. 20(5), rule ``public_supply``)."""
    points = [(w.lon, w.lat) for w in wells if w.lon is not None and w.lat is not None]
    if not points:
        return False
    index = served_index(on)
    if not index.areas:
        return False
    return any(a is not None for a in index.assign([p[0] for p in points], [p[1] for p in points]))


def _strictest(zones: Iterable[Any]) -> Any:
    best = None
    for z in zones:
        if z is not None and (best is None or ZONE_PRECEDENCE[z.kind] < ZONE_PRECEDENCE[best.kind]):
            best = z
    return best


def permit_zone(permit: Permit, wells: Iterable[Any] | None = None) -> Any:
    """The zone of the permit's source layer that judges it (strictest among its wells)."""
    if permit.source == WaterSource.SURFACE:
        return None
    wells = (
        list(wells)
        if wells is not None
        else list(permit.wells.select_related("zone").defer("zone__geometry"))
    )
    return _strictest(w.zone for w in wells if w.zone is not None and w.layer == permit.source)


def _township_code(permit: Permit) -> str:
    return str(Township.objects.values_list("code", flat=True).get(pk=permit.township_id))


def permit_record(permit: Permit, wells: Iterable[Any] | None = None) -> PermitRecord:
    zone = permit_zone(permit, wells)
    return PermitRecord(
        str(permit.pk),
        Source(permit.source),
        permit.use_type,
        int(permit.annual_quota_m3),
        _township_code(permit),
        zone.code if zone is not None else None,
        permit.valid_until,
    )


def county_state(rules_: RuleSet | None = None) -> CountyState:
    """The county as the rule engine sees it: active permits, caps and emergency windows.

    Built from plain values (no model instances, no geometry): one query for the permits, one
    for their wells' layers and zones.
    """

    rs = rules_ or rule_set()
    conf = current_settings()
    rows = Permit.objects.filter(status=PermitStatus.ACTIVE).values_list(
        "pk", "source", "use_type", "annual_quota_m3", "township__code", "valid_until"
    )
    through = Permit.wells.through.objects.filter(permit__status=PermitStatus.ACTIVE)
    zone_of: dict[int, tuple[int, str]] = {}  # permit → (precedence, zone code)
    sources = {}
    permits = list(rows)
    for pk, source, *_rest in permits:
        sources[pk] = source
    active_wells: set[str] = set()
    for pid, wid, layer, code, kind in through.values_list(
        "permit_id", "well_id", "well__layer", "well__zone__code", "well__zone__kind"
    ):
        active_wells.add(str(wid))
        if code is None or layer != sources.get(pid) or layer == WaterSource.SURFACE:
            continue
        rank = ZONE_PRECEDENCE[kind]
        if pid not in zone_of or rank < zone_of[pid][0]:
            zone_of[pid] = (rank, code)
    records = [
        PermitRecord(
            str(pk),
            Source(source),
            use_type,
            int(quota),
            town,
            zone_of[pk][1] if pk in zone_of and source != WaterSource.SURFACE else None,
            until,
        )
        for pk, source, use_type, quota, town, until in permits
    ]
    return rules.state_from_permits(
        records,
        rs,
        county_cap=conf.county_cap_m3 if conf else None,
        township_caps=dict(conf.township_caps or {}) if conf else None,
        emergency_windows=emergency_windows(),
        active_wells=frozenset(active_wells),
    )


def permits_of(water_user: Any) -> QuerySet[Permit]:
    """The permits a water user holds (every status), newest first."""
    return Permit.objects.filter(holder=water_user).order_by("-created_at", "-id")
