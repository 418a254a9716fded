"""The closure programme's workflows: enrol a well, move it along, inspect it, verify it.

Every write checks the caller's policy (``closure.closureentry`` add / change, ``verify``),
runs in a transaction, and is audited (the models are tracked). Bad input raises
``ValidationError`` naming the field; a move the status does not allow is one on ``status``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from pyproj import Geod

from aquifer.closure import conf
from aquifer.closure.candidates import candidates, volumes_before
from aquifer.closure.models import (
    TRANSITIONS,
    ClosureEntry,
    Inspection,
    Method,
    Status,
)
from aquifer.core.attachments import attach, attachments_of
from aquifer.core.roles import Action
from aquifer.core.scoping import can
from aquifer.registry.choices import DeviceKind, WellStatus
from aquifer.registry.models import CoverageArea, SupplyWork, Township, Well
from aquifer.telemetry.models import Reading

__all__ = [
    "Telemetry",
    "advance",
    "enrol",
    "inspect",
    "telemetry_since_closure",
]

_GEOD = Geod(ellps="WGS84")
#: The labels of an inspection's files (codes; pages show them translated).
PHOTO = "photo"
SIGNATURE = "signature"


def _require(user: Any, action: str, obj: Any) -> None:
    if not can(user, action, obj):
        raise PermissionDenied(_("无权执行此操作。"))


def enrol(
    user: Any,
    well: Well,
    *,
    deadline: dt.date,
    method: str,
    township: Township | None = None,
    replacement_work: SupplyWork | None = None,
    replacement_area: CoverageArea | None = None,
    connection: str = "",
    reasons: Sequence[str] | None = None,
    notes: str = "",
    on: dt.date | None = None,
) -> ClosureEntry:
    """Put ``well`` into the programme (status planned). Its reasons are the candidate
    reasons of the day unless given; its volume before is frozen now."""
    on = on or timezone.localdate()
    if method not in Method.values:
        raise ValidationError({"method": _("关停方式应为封存或回填。")})
    if ClosureEntry.objects.filter(well=well).exists():
        raise ValidationError({"well": _("该井已在关停计划中。")})
    if well.status not in (WellStatus.ACTIVE, WellStatus.STANDBY):
        raise ValidationError({"well": _("只有在用或备用的井可列入关停计划。")})
    if reasons is None:
        found = candidates(on, Well.objects.filter(pk=well.pk), include_programme=True)
        reasons = found[0].reasons if found else []
    if replacement_area is not None and replacement_work is None:
        replacement_work = replacement_area.work
    vol = volumes_before([well.pk], on, fresh=True)[well.pk]
    entry = ClosureEntry(
        well=well,
        township=township or well.township,
        reasons=list(reasons),
        deadline=deadline,
        method=method,
        replacement_work=replacement_work,
        replacement_area=replacement_area,
        connection=connection,
        baseline_m3=vol.m3,
        baseline_basis=vol.basis,
        notes=notes,
    )
    _require(user, Action.ADD, entry)
    entry.full_clean()
    entry.save()
    return entry


@dataclass(frozen=True)
class Telemetry:
    """What a closed well's devices reported after its closure. ``metered`` is False for a
    well with no flow meter (then the figures are None)."""

    metered: bool
    meter_advance_m3: float | None
    max_flow_m3h: float | None
    last_reading_at: dt.datetime | None

    @property
    def withdrawing(self) -> bool:
        flow = self.max_flow_m3h is not None and self.max_flow_m3h > conf.get(
            "CLOSED_FLOW_TOLERANCE_M3H"
        )
        meter = self.meter_advance_m3 is not None and self.meter_advance_m3 > conf.get(
            "CLOSED_METER_TOLERANCE_M3"
        )
        return flow or meter


def _meter_reading(well_id: int, before: dt.datetime | None = None) -> float | None:
    qs = Reading.objects.filter(
        device__well_id=well_id,
        device__kind=DeviceKind.FLOW_METER,
        element="cumulative_volume",
    )
    if before is not None:
        qs = qs.filter(observed_at__lte=before)
    value = qs.order_by("-observed_at").values_list("value", flat=True).first()
    return float(value) if value is not None else None


def telemetry_since_closure(entry: ClosureEntry) -> Telemetry:
    """The closed well's readings after ``closed_at``: how far its meter advanced (against
    the reading at closure, else the first reading after it) and its highest flow rate."""
    metered = entry.well.devices.filter(kind=DeviceKind.FLOW_METER).exists()
    if entry.closed_at is None:
        return Telemetry(metered, None, None, None)
    after = Reading.objects.filter(device__well_id=entry.well_id, observed_at__gt=entry.closed_at)
    volume = after.filter(element="cumulative_volume")
    advance: float | None = None
    agg = volume.aggregate(top=Max("value"), last=Max("observed_at"))
    if agg["top"] is not None:
        start = entry.meter_at_closure_m3
        if start is None:
            start = volume.order_by("observed_at").values_list("value", flat=True).first()
        advance = max(0.0, float(agg["top"]) - float(start or 0.0))
    elif metered:
        advance = 0.0
    flow_agg = after.filter(element="flow_rate").aggregate(
        top=Max("value"), last=Max("observed_at")
    )
    flow = float(flow_agg["top"]) if flow_agg["top"] is not None else (0.0 if metered else None)
    lasts = [t for t in (agg["last"], flow_agg["last"]) if t is not None]
    return Telemetry(metered, advance, flow, max(lasts) if lasts else None)


def _close_well(entry: ClosureEntry) -> None:
    well = entry.well
    if well.status not in (WellStatus.CLOSED, WellStatus.SEALED):
        well.status = WellStatus.CLOSED
        well.clean()
        well.save()
    if entry.method == Method.SEAL and well.status == WellStatus.CLOSED:
        well.status = WellStatus.SEALED
        well.clean()
        well.save()


def advance(
    user: Any, entry: ClosureEntry, to: str, *, when: dt.datetime | None = None, note: str = ""
) -> ClosureEntry:
    """Move ``entry`` one step: notified (the owner told), closed (the well shut; its status
    in the register follows: 封存 → sealed, 回填 → closed), verified (needs an inspection
    after closure and, for a metered well, no withdrawal since)."""
    if TRANSITIONS.get(entry.status) != to:
        allowed = TRANSITIONS.get(entry.status)
        raise ValidationError(
            {
                "status": _("状态不能从“%(old)s”改为“%(new)s”；可改为：%(ok)s")
                % {
                    "old": Status(entry.status).label,
                    "new": Status(to).label if to in Status.values else to,
                    "ok": Status(allowed).label if allowed else "—",
                }
            }
        )
    _require(user, "verify" if to == Status.VERIFIED else Action.CHANGE, entry)
    when = when or timezone.now()
    with transaction.atomic():
        entry = ClosureEntry.objects.select_for_update().get(pk=entry.pk)
        if to == Status.NOTIFIED:
            entry.notified_on = timezone.localdate(when)
        elif to == Status.CLOSED:
            entry.closed_at = when
            entry.meter_at_closure_m3 = _meter_reading(entry.well_id, when)
            _close_well(entry)
        elif to == Status.VERIFIED:
            _check_evidence(entry)
            entry.verified_on = timezone.localdate(when)
        entry.status = to
        if note:
            entry.notes = (entry.notes + "\n" if entry.notes else "") + note
        entry.save()
    return entry


def _check_evidence(entry: ClosureEntry) -> None:
    inspection = (
        entry.inspections.filter(inspected_at__gte=entry.closed_at)
        .order_by("-inspected_at")
        .first()
    )
    if inspection is None:
        raise ValidationError({"status": _("核验需要关停后的现场核查记录。")})
    if not inspection.signed_by:
        raise ValidationError({"status": _("现场核查记录缺少签字人。")})
    if inspection.distance_m > conf.get("INSPECTION_MAX_DISTANCE_M"):
        raise ValidationError(
            {
                "status": _("现场核查定位距井位 %(d).0f 米，超过 %(max).0f 米。")
                % {"d": inspection.distance_m, "max": conf.get("INSPECTION_MAX_DISTANCE_M")}
            }
        )
    labels = set(attachments_of(inspection).values_list("label", flat=True))
    if PHOTO not in labels:
        raise ValidationError({"status": _("现场核查记录缺少现场照片。")})
    if SIGNATURE not in labels:
        raise ValidationError({"status": _("现场核查记录缺少签字文件（签字页照片或扫描件）。")})
    t = telemetry_since_closure(entry)
    if t.metered and t.withdrawing:
        raise ValidationError({"status": _("计量数据显示关停后仍有取水，不能核验。")})


def inspect(
    user: Any,
    entry: ClosureEntry,
    *,
    inspected_at: dt.datetime,
    lon: float,
    lat: float,
    findings: str = "",
    signed_by: str = "",
    photos: Sequence[Any] = (),
    signatures: Sequence[Any] = (),
) -> Inspection:
    """Record an inspection on site: time, GPS position (its distance from the well is kept),
    findings, who signed, the metered withdrawal since closure at that moment, and its files
    (``photos`` and ``signatures``: uploads or bytes, kept by ``core.attachments`` with the
    labels ``photo`` and ``signature``). A refused file refuses the whole inspection."""
    _require(user, "inspect", entry)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError({"lon": _("坐标不是有效的经纬度。")})
    if inspected_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"inspected_at": _("检查时间不能在将来。")})
    _az1, _az2, dist = _GEOD.inv(entry.well.lon, entry.well.lat, lon, lat)
    t = telemetry_since_closure(entry)
    inspection = Inspection(
        entry=entry,
        inspected_at=inspected_at,
        inspector=user if getattr(user, "pk", None) else None,
        lon=lon,
        lat=lat,
        distance_m=round(abs(float(dist)), 1),
        findings=findings,
        signed_by=signed_by,
        telemetry_m3=t.meter_advance_m3 if t.metered else None,
    )
    inspection.full_clean()
    with transaction.atomic():
        inspection.save()
        for files, label, field in (
            (photos, PHOTO, "photos"),
            (signatures, SIGNATURE, "signatures"),
        ):
            for f in files:
                attach(inspection, f, user=user, label=label, field=field)
    return inspection


def default_reasons(well: Well, on: dt.date) -> list[str]:
    found = candidates(on, Well.objects.filter(pk=well.pk), include_programme=True)
    return list(found[0].reasons) if found else []


def attach_file(user: Any, inspection: Inspection, upload: Any, label: str) -> Any:
    """Keep a photo (``photo``) or a signature file (``signature``) with an inspection."""
    if label not in (PHOTO, SIGNATURE):
        raise ValidationError({"label": _("文件类别应为现场照片或签字文件。")})
    _require(user, "inspect", inspection.entry)
    return attach(inspection, upload, user=user, label=label)
