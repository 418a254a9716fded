"""Metering compliance (地下水管理条例 第二十二条) and 以电折水.

:func:`metering_list` — every groundwater well in service must be metered; a well whose
permitted volume is at or above ``ONLINE_THRESHOLD_M3`` (a setting: Shanxi's 取水规模 is not
confirmed) must report online. One row per well that falls short, per township; a handful of
queries for the whole county. :func:`raise_metering_alarms` raises one ``metering_missing``
alarm per such well and clears those of wells now compliant.

以电折水 — :func:`import_electricity` reads the power company's monthly kWh per well from Excel
(openpyxl, read-only) or CSV, all-or-nothing, each fault naming its row; :func:`fit` fits a
well's m³/kWh for a year from its metered months (least squares through the origin);
:func:`estimates` gives unmetered wells a volume from kWh × coefficient; :func:`cross_check`
flags metered months far below kWh × coefficient (a suspected bypass or faulty meter;
tolerance a setting), and :func:`raise_bypass_alarms` alarms each well so flagged.
The coefficient a year is checked and estimated with is the well's pumping test for that year,
else its fit of the latest earlier year, else the county's median fit of that year.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from aquifer.accounting.models import WithdrawalMonth
from aquifer.core import audit
from aquifer.core.scoping import allowed
from aquifer.enforcement import conf
from aquifer.enforcement.models import CoefficientMethod, ElectricityMonth, PumpCoefficient
from aquifer.monitoring.alarms import clear_alarm, raise_alarm
from aquifer.monitoring.models import Alarm, DeviceState
from aquifer.permits.models import Permit, PermitStatus
from aquifer.registry.models import Device, Township, Well

__all__ = [
    "Bypass",
    "ImportError_",
    "MeteringRow",
    "coefficients",
    "cross_check",
    "estimates",
    "fit",
    "import_electricity",
    "metering_list",
    "raise_bypass_alarms",
    "raise_metering_alarms",
]

IN_SERVICE = ("active", "standby")
METER_KINDS = ("flow_meter", "rtu")


@dataclass
class MeteringRow:
    well_id: int
    code: str
    township_id: int | None
    township: str
    owner_id: int | None
    owner: str
    permitted_m3: int
    metered: bool
    online_required: bool
    online: bool

    @property
    def problem(self) -> str:
        """``no_meter`` or ``not_online`` (empty when compliant)."""
        if not self.metered:
            return "no_meter"
        if self.online_required and not self.online:
            return "not_online"
        return ""

    @property
    def problem_label(self) -> str:
        return {"no_meter": _("未安装计量设施"), "not_online": _("应在线计量未在线")}.get(
            self.problem, ""
        )


def _permitted() -> dict[int, int]:
    """Each well's permitted volume: the largest annual quota of an active permit naming it."""
    out: dict[int, int] = {}
    rows = Permit.wells.through.objects.filter(permit__status=PermitStatus.ACTIVE).values_list(
        "well_id", "permit__annual_quota_m3"
    )
    for well_id, quota in rows:
        out[well_id] = max(out.get(well_id, 0), int(quota))
    return out


def metering_list(
    township_ids: Iterable[int] | None = None,
    now: dt.datetime | None = None,
    only_problems: bool = True,
) -> list[MeteringRow]:
    """Wells in service (not monitoring wells) that are unmetered or should be online and are
    not, ordered by township and code."""
    now = now or timezone.now()
    threshold = int(conf.get("ONLINE_THRESHOLD_M3"))
    since = now - dt.timedelta(days=float(conf.get("ONLINE_WITHIN_DAYS")))
    wells = Well.objects.filter(status__in=IN_SERVICE).exclude(purpose="monitoring")
    if township_ids is not None:
        wells = wells.filter(township_id__in=list(township_ids))
    meters: dict[int, list[int]] = defaultdict(list)
    for device_id, well_id in Device.objects.filter(
        kind__in=METER_KINDS, active=True, well__isnull=False
    ).values_list("id", "well_id"):
        meters[well_id].append(device_id)
    reporting = set(
        DeviceState.objects.filter(
            device_id__in=[d for ds in meters.values() for d in ds], last_received_at__gte=since
        ).values_list("device_id", flat=True)
    )
    permitted = _permitted()
    out = []
    for wid, code, tid, tname, oid, oname in wells.values_list(
        "id", "code", "township_id", "township__name", "owner_id", "owner__name"
    ).order_by("township__name", "code"):
        devices = meters.get(wid, [])
        quota = permitted.get(wid, 0)
        row = MeteringRow(
            wid,
            code,
            tid,
            tname or "",
            oid,
            oname or "",
            quota,
            bool(devices),
            quota >= threshold,
            any(d in reporting for d in devices),
        )
        if row.problem or not only_problems:
            out.append(row)
    return out


def metering_rows(user: Any, township_id: int | None = None) -> list[MeteringRow]:
    """:func:`metering_list` as ``user`` may see it: county-wide roles every township (or the
    one asked for), a township officer theirs; a 422 naming ``township_id`` for an unknown
    township."""
    if not allowed(user, "enforcement.metering"):
        return []
    if township_id is not None and not Township.objects.filter(pk=township_id).exists():
        raise ValidationError({"township_id": _("不存在编号为 %s 的乡镇。") % township_id})
    if allowed(user, "enforcement.all_townships"):
        ids = None if township_id is None else [township_id]
    else:
        own = getattr(user, "township_id", None)
        ids = [own] if township_id in (None, own) and own is not None else []
    return metering_list(ids)


def raise_metering_alarms(now: dt.datetime | None = None) -> tuple[int, int]:
    """One ``metering_missing`` alarm per well that falls short; clear the others. Returns
    (raised or kept, cleared)."""
    rows = metering_list(now=now)
    wells = Well.objects.in_bulk([r.well_id for r in rows])
    wanted = set()
    for r in rows:
        key = f"metering_missing:well:{r.well_id}"
        wanted.add(key)
        raise_alarm(
            kind="metering_missing",
            key=key,
            message=f"metering_missing.{r.problem}",
            params={"well": r.code, "permitted": r.permitted_m3},
            severity="warning",
            well=wells[r.well_id],
            data={"problem": r.problem, "permitted_m3": r.permitted_m3},
            at=now,
        )
    cleared = 0
    for key in Alarm.objects.filter(
        kind="metering_missing", state__in=("open", "acknowledged")
    ).values_list("key", flat=True):
        if key not in wanted and clear_alarm(
            kind="metering_missing", key=key, note=_("已安装计量设施")
        ):
            cleared += 1
    return len(rows), cleared


# --- electricity statements -----------------------------------------------------------------

#: (key, header) of the statement's columns, in the template's order.
COLUMNS = [("well", "井编号"), ("year", "年"), ("month", "月"), ("kwh", "用电量(kWh)")]


class ImportError_(ValueError):
    """A statement that was not imported: ``errors`` lists (row, column, message)."""

    def __init__(self, errors: list[tuple[int, str, str]]) -> None:
        super().__init__("; ".join(f"row {r} {c}: {m}" for r, c, m in errors[:20]))
        self.errors = errors


def _cells(name: str, data: bytes) -> Iterable[tuple[int, list[Any]]]:
    if name.lower().endswith((".xlsx", ".xlsm")):
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for i, row in enumerate(wb.worksheets[0].iter_rows(values_only=True), 1):
                yield i, list(row)
        finally:
            wb.close()
    else:
        text = data.decode("utf-8-sig")
        for i, row in enumerate(csv.reader(io.StringIO(text, newline="")), 1):
            yield i, list(row)


def import_electricity(name: str, data: bytes, *, by: Any = None) -> dict[str, int]:
    """Import a statement; all rows or none. Returns counts (created, changed, unchanged)."""
    errors: list[tuple[int, str, str]] = []
    parsed: list[tuple[int, str, int, int, float]] = []
    headers: dict[str, int] = {}
    try:
        rows = list(_cells(name, data))
    except Exception as exc:  # a file openpyxl or the CSV reader cannot read at all
        raise ImportError_([(0, "file", _("无法读取文件：%s") % exc)]) from None
    for i, cells in rows:
        if not headers:
            labels = [str(c or "").strip() for c in cells]
            for key, header in COLUMNS:
                if header in labels:
                    headers[key] = labels.index(header)
            if len(headers) < len(COLUMNS):
                missing = [h for k, h in COLUMNS if k not in headers]
                raise ImportError_([(i, h, _("缺少列")) for h in missing])
            continue
        if all(c in (None, "") for c in cells):
            continue
        get = {k: (cells[j] if j < len(cells) else None) for k, j in headers.items()}
        code = str(get["well"] or "").strip()
        try:
            year = int(float(str(get["year"])))
        except ValueError:
            errors.append((i, "年", _("不是年份")))
            continue
        try:
            month = int(float(str(get["month"])))
            if not 1 <= month <= 12:
                raise ValueError
        except ValueError:
            errors.append((i, "月", _("月份须为 1–12")))
            continue
        try:
            kwh = float(str(get["kwh"]))
            if kwh < 0 or kwh != kwh:
                raise ValueError
        except ValueError:
            errors.append((i, "用电量(kWh)", _("用电量须为非负数")))
            continue
        if not code:
            errors.append((i, "井编号", _("缺少井编号")))
            continue
        parsed.append((i, code, year, month, kwh))
    ids = dict(Well.objects.filter(code__in={p[1] for p in parsed}).values_list("code", "id"))
    seen: dict[tuple[str, int, int], int] = {}
    for i, code, year, month, _kwh in parsed:
        if code not in ids:
            errors.append((i, "井编号", _("没有编号为 %s 的取水井") % code))
        if (code, year, month) in seen:
            errors.append((i, "井编号", _("与第 %s 行重复") % seen[(code, year, month)]))
        seen[(code, year, month)] = i
    if errors:
        raise ImportError_(sorted(errors))
    counts = {"created": 0, "changed": 0, "unchanged": 0}
    existing = {
        (m.well_id, m.year, m.month): m
        for m in ElectricityMonth.objects.filter(
            well_id__in=set(ids.values()), year__in={p[2] for p in parsed}
        )
    }
    now = timezone.now()
    new = []
    with transaction.atomic():
        for _i, code, year, month, kwh in parsed:
            old = existing.get((ids[code], year, month))
            if old is None:
                new.append(
                    ElectricityMonth(
                        well_id=ids[code],
                        year=year,
                        month=month,
                        kwh=kwh,
                        imported_at=now,
                        source_name=name[:200],
                    )
                )
            elif old.kwh != kwh:
                before = audit.serialize(old)
                old.kwh, old.imported_at, old.source_name = kwh, now, name[:200]
                old.save()
                audit.record(
                    "change", old, before, audit.serialize(old), reason=_("电费清单重新导入")
                )
                counts["changed"] += 1
            else:
                counts["unchanged"] += 1
        ElectricityMonth.objects.bulk_create(new, batch_size=2000)
        counts["created"] = len(new)
    return counts


# --- coefficients -------------------------------------------------------------------------------


def _pairs(
    year: int, well_ids: Iterable[int] | None = None
) -> dict[int, list[tuple[int, float, float]]]:
    """(month, kWh, metered m³) per metered well for the months that have both."""
    kwh: dict[tuple[int, int], float] = {}
    q = ElectricityMonth.objects.filter(year=year)
    if well_ids is not None:
        q = q.filter(well_id__in=list(well_ids))
    for w, m, used in q.values_list("well_id", "month", "kwh"):
        kwh[(w, m)] = float(used)
    out: dict[int, list[tuple[int, float, float]]] = defaultdict(list)
    wm = WithdrawalMonth.objects.filter(year=year, metered_by_device=True)
    if well_ids is not None:
        wm = wm.filter(well_id__in=list(well_ids))
    for w, m, v in wm.values_list("well_id", "month", "metered_m3"):
        k = kwh.get((w, m))
        if k is not None and k > 0:
            out[w].append((m, k, float(v)))
    return out


def fit(year: int, well_ids: Iterable[int] | None = None) -> int:
    """Fit each metered well's m³/kWh for ``year`` (Σ kWh·m³ / Σ kWh², months with both);
    a pumping test's coefficient is kept. Returns how many were fitted."""
    min_months = int(conf.get("MIN_FIT_MONTHS"))
    tests = set(
        PumpCoefficient.objects.filter(
            year=year, method=CoefficientMethod.PUMPING_TEST
        ).values_list("well_id", flat=True)
    )
    now = timezone.now()
    rows = []
    for well_id, pairs in _pairs(year, well_ids).items():
        if len(pairs) < min_months or well_id in tests:
            continue
        sxx = sum(k * k for _m, k, _v in pairs)
        sxy = sum(k * v for _m, k, v in pairs)
        rows.append(
            PumpCoefficient(
                well_id=well_id,
                year=year,
                m3_per_kwh=sxy / sxx,
                method=CoefficientMethod.FITTED,
                months=len(pairs),
                fitted_at=now,
            )
        )
    with transaction.atomic():
        PumpCoefficient.objects.filter(
            year=year, method=CoefficientMethod.FITTED, well_id__in=[r.well_id for r in rows]
        ).delete()
        PumpCoefficient.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def coefficients(year: int, well_ids: Iterable[int]) -> dict[int, tuple[float, str]]:
    """The coefficient each well is checked and estimated with in ``year``, and where it comes
    from (``pumping_test``, ``fitted:<year>``, ``county_median:<year>``)."""
    ids = list(well_ids)
    out: dict[int, tuple[float, str]] = {}
    for w, k in PumpCoefficient.objects.filter(
        year=year, method=CoefficientMethod.PUMPING_TEST, well_id__in=ids
    ).values_list("well_id", "m3_per_kwh"):
        out[w] = (k, "pumping_test")
    latest = dict(
        PumpCoefficient.objects.filter(year__lt=year, well_id__in=ids)
        .values("well_id")
        .annotate(y=Max("year"))
        .values_list("well_id", "y")
    )
    for w, y, k in PumpCoefficient.objects.filter(year__lt=year, well_id__in=ids).values_list(
        "well_id", "year", "m3_per_kwh"
    ):
        if w not in out and latest.get(w) == y:
            out[w] = (k, f"fitted:{y}")
    last_year = PumpCoefficient.objects.filter(year__lt=year).aggregate(y=Max("year"))["y"]
    if last_year is not None:
        values = list(
            PumpCoefficient.objects.filter(
                year=last_year, method=CoefficientMethod.FITTED
            ).values_list("m3_per_kwh", flat=True)
        )
        if values:
            median = statistics.median(values)
            for w in ids:
                out.setdefault(w, (median, f"county_median:{last_year}"))
    return out


@dataclass
class Bypass:
    well_id: int
    code: str
    year: int
    coefficient: float
    basis: str
    months: list[dict[str, Any]] = field(default_factory=list)

    @property
    def worst_ratio(self) -> float:
        return float(min(m["ratio"] for m in self.months))


def cross_check(year: int, well_ids: Iterable[int] | None = None) -> list[Bypass]:
    """Metered wells with a month whose metered volume is below (1 − tolerance) × kWh ×
    coefficient."""
    tolerance = float(conf.get("BYPASS_TOLERANCE"))
    pairs = _pairs(year, well_ids)
    coeff = coefficients(year, pairs.keys())
    codes = dict(Well.objects.filter(pk__in=list(pairs)).values_list("id", "code"))
    out = []
    for well_id, months in pairs.items():
        if well_id not in coeff:
            continue
        k, basis = coeff[well_id]
        flagged = []
        for m, kwh, metered in sorted(months):
            expected = kwh * k
            if expected > 0 and metered < (1 - tolerance) * expected:
                flagged.append(
                    {
                        "month": m,
                        "kwh": kwh,
                        "metered_m3": round(metered, 1),
                        "expected_m3": round(expected, 1),
                        "ratio": round(metered / expected, 3),
                    }
                )
        if flagged:
            out.append(Bypass(well_id, codes.get(well_id, ""), year, k, basis, flagged))
    return sorted(out, key=lambda b: b.code)


def estimates(year: int) -> list[dict[str, Any]]:
    """Unmetered wells' withdrawal by month: kWh × coefficient."""
    metered = set(
        Device.objects.filter(kind__in=METER_KINDS, active=True, well__isnull=False).values_list(
            "well_id", flat=True
        )
    )
    kwh: dict[int, dict[int, float]] = defaultdict(dict)
    for w, m, k in (
        ElectricityMonth.objects.filter(year=year)
        .exclude(well_id__in=metered)
        .values_list("well_id", "month", "kwh")
    ):
        kwh[w][m] = k
    coeff = coefficients(year, kwh.keys())
    codes = dict(Well.objects.filter(pk__in=list(kwh)).values_list("id", "code"))
    out = []
    for w in sorted(kwh, key=lambda i: codes.get(i, "")):
        if w not in coeff:
            continue
        k, basis = coeff[w]
        months = {m: round(v * k, 1) for m, v in sorted(kwh[w].items())}
        out.append(
            {
                "well_id": w,
                "code": codes.get(w, ""),
                "coefficient": k,
                "basis": basis,
                "months": months,
                "total_m3": round(sum(months.values()), 1),
            }
        )
    return out


def raise_bypass_alarms(year: int) -> int:
    """One ``suspected_bypass`` alarm per flagged well."""
    found = cross_check(year)
    wells = Well.objects.in_bulk([b.well_id for b in found])
    for b in found:
        worst = min(b.months, key=lambda m: m["ratio"])
        raise_alarm(
            kind="suspected_bypass",
            key=f"suspected_bypass:well:{b.well_id}:{year}",
            message="suspected_bypass",
            params={
                "well": b.code,
                "year": year,
                "month": worst["month"],
                "metered": worst["metered_m3"],
                "expected": worst["expected_m3"],
            },
            severity="critical",
            well=wells[b.well_id],
            data={"year": year, "coefficient": b.coefficient, "basis": b.basis, "months": b.months},
        )
    return len(found)
