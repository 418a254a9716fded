"""Pollution sources: their duties (水污染防治法 第八十五条: seepage control and a groundwater
monitoring well; underground tanks double-walled or in a seepage-proof pit), inspections that
find a duty missing, and the sources near a monitoring well (for its quality warning).
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aquifer.core.scoping import can
from aquifer.enforcement import conf
from aquifer.enforcement.models import (
    Case,
    CaseKind,
    CaseSource,
    EvidenceKind,
    PollutionSource,
    SourceInspection,
    SourceKind,
    TankType,
)
from aquifer.enforcement.services import open_case

__all__ = [
    "DUTY_LABELS",
    "distance_m",
    "duties",
    "inspect",
    "missing_duties",
    "open_case_from_inspection",
    "sources_near",
    "sources_near_well",
    "update_source",
]

#: What an edit may change (the township follows the place; inspections are records of their
#: own, never edited).
EDITABLE = (
    "name",
    "kind",
    "lon",
    "lat",
    "operator",
    "operator_name",
    "tank_type",
    "seepage_control",
    "monitoring_well",
    "notes",
    "active",
)

DUTY_LABELS = {
    "tank": gettext_lazy("地下油罐为双层罐或设防渗池"),
    "seepage_control": gettext_lazy("采取防渗漏措施"),
    "monitoring_well": gettext_lazy("建设地下水水质监测井"),
}


def duties(kind: str) -> list[str]:
    """The duties a source of ``kind`` has (水污染防治法 第八十五条)."""
    if kind == SourceKind.FUEL_STATION:
        return ["tank"]
    return ["seepage_control", "monitoring_well"]


def missing_duties(
    kind: str, tank_type: str, seepage_control: bool, monitoring_well: bool
) -> list[str]:
    have = {
        "tank": tank_type in (TankType.DOUBLE_WALLED, TankType.SEEPAGE_PIT),
        "seepage_control": seepage_control,
        "monitoring_well": monitoring_well,
    }
    return [d for d in duties(kind) if not have[d]]


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def sources_near(lon: float, lat: float, radius_m: float | None = None) -> list[dict[str, Any]]:
    """Active registered sources within ``radius_m`` (setting ``SOURCE_RADIUS_M``), nearest
    first."""
    radius = float(radius_m if radius_m is not None else conf.get("SOURCE_RADIUS_M"))
    dlat = radius / 111_000
    dlon = radius / (111_000 * max(math.cos(math.radians(lat)), 0.01))
    out = []
    for s in PollutionSource.objects.filter(
        active=True, lat__range=(lat - dlat, lat + dlat), lon__range=(lon - dlon, lon + dlon)
    ):
        d = distance_m(lon, lat, s.lon, s.lat)
        if d <= radius:
            out.append({"id": s.pk, "name": s.name, "kind": s.kind, "distance_m": round(d)})
    return sorted(out, key=lambda r: r["distance_m"])


def sources_near_well(well: Any) -> list[dict[str, Any]]:
    """The answer to ``analysis.hooks.quality_warning_sources``."""
    return sources_near(well.lon, well.lat)


def update_source(source: PollutionSource, changes: dict[str, Any], *, by: Any) -> PollutionSource:
    """Edit a registered source (validated, scoped, audited through its ``@track``):
    ``changes`` maps fields of :data:`EDITABLE` to their new values (``operator``: a water
    user or None). A field not in the list, a bad value, or a fuel station left without its
    tank type is a ``ValidationError`` naming the field; nothing is saved then."""
    if not can(by, "change", source):
        raise PermissionDenied(_("无权修改该污染源。"))
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationError({f: _("该字段不能修改。") for f in unknown})
    for field, value in changes.items():
        setattr(source, field, value)
    errors: dict[str, list[str]] = {}
    for field, low, high in (("lon", -180.0, 180.0), ("lat", -90.0, 90.0)):
        value = getattr(source, field)
        if isinstance(value, int | float) and not low <= value <= high:
            errors[field] = [_("须在 %(low)s 至 %(high)s 之间。") % {"low": low, "high": high}]
    try:
        source.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        source.save()
    return source


def inspect(
    source: PollutionSource,
    *,
    by: Any,
    tank_type: str = "",
    seepage_control: bool = False,
    monitoring_well: bool = False,
    findings: str = "",
) -> SourceInspection:
    """Record an inspection; the duties it finds missing are kept as its finding."""
    if not can(by, "inspect", source):
        raise PermissionDenied(_("无权检查该污染源。"))
    if tank_type and tank_type not in TankType.values:
        raise ValidationError({"tank_type": _("未知的油罐类型。")})
    if source.kind == SourceKind.FUEL_STATION and not tank_type:
        raise ValidationError({"tank_type": _("加油站须填写地下油罐类型。")})
    ok = getattr(by, "is_authenticated", False)
    return SourceInspection.objects.create(
        source=source,
        inspected_at=timezone.now(),
        inspector=by if ok else None,
        username=by.get_username() if ok else "",
        tank_type=tank_type,
        seepage_control=seepage_control,
        monitoring_well=monitoring_well,
        missing=missing_duties(source.kind, tank_type, seepage_control, monitoring_well),
        findings=findings,
    )


def open_case_from_inspection(inspection: SourceInspection, *, by: Any) -> Case:
    """A missing duty is a finding that opens a case (水污染防治法 第八十五条)."""
    if not inspection.missing:
        raise ValidationError({"inspection": _("该次检查未发现未履行的义务。")})
    if (
        inspection.case_id
        or SourceInspection.objects.filter(pk=inspection.pk, case__isnull=False).exists()
    ):
        raise ValidationError({"inspection": _("该次检查已立案。")})
    source = inspection.source
    facts = _("%(source)s 未履行：%(duties)s") % {
        "source": source.name,
        "duties": "、".join(str(DUTY_LABELS[d]) for d in inspection.missing),
    }
    snapshot = {
        "inspection": inspection.pk,
        "source": source.pk,
        "source_name": source.name,
        "kind": source.kind,
        "inspected_at": inspection.inspected_at.isoformat(),
        "inspector": inspection.username,
        "tank_type": inspection.tank_type,
        "seepage_control": inspection.seepage_control,
        "monitoring_well": inspection.monitoring_well,
        "missing": inspection.missing,
        "findings": inspection.findings,
    }
    with transaction.atomic():
        case = open_case(
            CaseKind.SEEPAGE_CONTROL,
            CaseSource.INSPECTION,
            by=by,
            title=_("%s 未履行地下水污染防治义务") % source.name,
            facts=facts,
            owner=source.operator,
            township=source.township,
            party=source.operator_name or (str(source.operator) if source.operator else ""),
            source_ref=f"source_inspection:{inspection.pk}",
            evidence=[(EvidenceKind.FINDING, _("污染源检查记录 %s") % inspection, snapshot)],
        )
        inspection.case = case
        inspection.save(update_fields=["case"])
    return case
