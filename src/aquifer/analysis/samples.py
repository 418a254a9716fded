"""Water-quality samples: validation, GB/T 14848 classification, storage, warnings, Excel import.

One path for every way in (page form, API, Excel import, demo): :func:`validate_sample` turns
the input into a classified sample or a list of field errors (nothing stored), and
:func:`store_sample` writes it with its results and raises the warning:

- an alarm of kind ``quality_warning`` (``monitoring.alarms.raise_alarm``) and the notification
  event ``quality.warning`` when the sample is class IV or V, or worse than the same well's
  previous sample (by sampling time).

Units are converted by :func:`aquifer.analysis.quality.convert` or refused — never guessed.
The Excel import is all-or-nothing: every row is checked first; one bad cell and nothing is
written, and every fault is reported with its row and column.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook

from aquifer.analysis import quality
from aquifer.analysis.hooks import quality_warning_sources
from aquifer.analysis.models import QualityResult, QualitySample
from aquifer.core import audit
from aquifer.core.roles import Action
from aquifer.core.scoping import can, visible_to
from aquifer.monitoring import messages
from aquifer.monitoring.alarms import raise_alarm
from aquifer.notifications.service import notify
from aquifer.registry.models import Well

__all__ = [
    "IMPORT_COLUMNS",
    "ImportReport",
    "IndicatorInput",
    "SampleInput",
    "import_workbook",
    "store_sample",
    "template_workbook",
    "validate_sample",
]

log = logging.getLogger(__name__)

#: Rows of one import file (a lab report of a county network: a few thousand).
MAX_ROWS = 50_000


@dataclass
class IndicatorInput:
    indicator: str
    value: float | str | None
    unit: str = ""
    detection_limit: float | None = None
    below_detection: bool = False


@dataclass
class SampleInput:
    sample_id: str
    well: Well | None
    sampled_at: dt.datetime | None
    lab: str
    indicators: list[IndicatorInput] = field(default_factory=list)
    illustrative: bool = False


@dataclass
class Checked:
    data: SampleInput
    result: quality.SampleResult
    inputs: dict[str, IndicatorInput]


def validate_sample(data: SampleInput, user: Any) -> Checked:
    """Check and classify a sample; raise ``ValidationError`` with every field's error.

    Field names: ``sample_id``, ``well``, ``sampled_at``, ``lab``, ``indicators[i].<name>``.
    """
    errors: dict[str, list[str]] = {}

    def err(f: str, m: str) -> None:
        errors.setdefault(f, []).append(m)

    sid = (data.sample_id or "").strip()
    if not sid:
        err("sample_id", _("请填写样品编号。"))
    elif len(sid) > 60:
        err("sample_id", _("样品编号不能超过60个字符。"))
    elif QualitySample.objects.filter(sample_id=sid).exists():
        err("sample_id", _("样品编号 %(id)s 已存在。") % {"id": sid})
    data.sample_id = sid
    if data.well is None:
        err("well", _("请选择采样井。"))
    elif not can(user, Action.ADD, QualitySample(well=data.well)):
        err("well", _("您无权为此井录入水质样品。"))
    if data.sampled_at is None:
        err("sampled_at", _("请填写采样时间。"))
    elif data.sampled_at > timezone.now() + dt.timedelta(hours=1):
        err("sampled_at", _("采样时间不能晚于现在。"))
    if not (data.lab or "").strip():
        err("lab", _("请填写检测单位。"))
    if not data.indicators:
        err("indicators", _("至少需要一项指标。"))
    measurements = []
    inputs: dict[str, IndicatorInput] = {}
    for i, ind in enumerate(data.indicators):
        prefix = f"indicators[{i}]"
        try:
            std = quality.find_indicator(ind.indicator)
        except quality.QualityError as exc:
            err(f"{prefix}.indicator", str(exc))
            continue
        if std.name_cn in inputs:
            err(f"{prefix}.indicator", _("指标 %(name)s 重复。") % {"name": std.name_cn})
            continue
        value = None if ind.below_detection else ind.value
        if value is None and not ind.below_detection and not std.qualitative:
            err(f"{prefix}.value", _("请填写检测值，或标记为未检出并填写检出限。"))
            continue
        try:
            r = quality.classify(std, value, ind.unit, ind.detection_limit)
        except quality.QualityError as exc:
            err(f"{prefix}.{exc.field}", str(exc))
            continue
        inputs[std.name_cn] = ind
        measurements.append((r, ind))
    if errors:
        raise ValidationError(errors)
    results = tuple(r for r, _ind in measurements)
    klass, deciding = quality.overall_class(results)
    return Checked(data, quality.SampleResult(sid, klass, deciding, results), inputs)


def _previous(sample: QualitySample) -> QualitySample | None:
    return (
        QualitySample.objects.filter(well=sample.well, sampled_at__lt=sample.sampled_at)
        .exclude(pk=sample.pk)
        .exclude(klass=None)
        .order_by("-sampled_at")
        .first()
    )


@transaction.atomic
def store_sample(checked: Checked, warn: bool = True) -> QualitySample:
    """Write a validated sample and its results (audited), then raise its warning."""
    d, r = checked.data, checked.result
    assert d.well is not None and d.sampled_at is not None
    sample = QualitySample.objects.create(
        sample_id=d.sample_id,
        well=d.well,
        sampled_at=d.sampled_at,
        lab=d.lab.strip(),
        klass=r.klass,
        deciding=list(r.deciding),
        notes=list(r.notes),
        illustrative=d.illustrative,
    )
    rows = []
    for res in r.indicators:
        ind = checked.inputs[res.indicator]
        text = ind.value.strip() if isinstance(ind.value, str) else ""
        rows.append(
            QualityResult(
                sample=sample,
                indicator=res.indicator,
                value=_float_or_none(ind.value) if not res.non_detect else None,
                value_text=text if text in ("无", "有") else "",
                unit=ind.unit,
                detection_limit=ind.detection_limit,
                below_detection=res.non_detect,
                std_value=res.value,
                std_unit=res.unit,
                klass=res.klass,
                bound=res.bound,
                notes=list(res.notes),
            )
        )
    QualityResult.objects.bulk_create(rows)
    audit.record(
        "update",
        sample,
        None,
        {"results": [[x.indicator, x.std_value, x.std_unit, x.klass, x.bound] for x in rows]},
        reason="quality results classified (GB/T 14848-2017)",
    )
    if warn:
        transaction.on_commit(lambda: warn_if_needed(sample))
    return sample


def _float_or_none(v: Any) -> float | None:
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _indicator_names(names: Sequence[str]) -> dict[str, str]:
    """The deciding indicators in both languages (an unknown name stays as it is)."""
    zh, en = [], []
    for name in names:
        try:
            ind = quality.find_indicator(name)
        except (KeyError, ValueError):  # UnknownIndicatorError is a ValueError
            zh.append(name)
            en.append(name)
        else:
            zh.append(ind.name_cn)
            en.append(ind.name_en)
    return {"zh": "、".join(zh), "en": ", ".join(en)}


def warning_params(sample: QualitySample) -> dict[str, Any]:
    """The quality warning's message params: why a sample calls for a warning (``{}`` when it
    does not), rendered by ``monitoring.messages`` in the reader's language."""
    if sample.klass is None:
        return {}
    params: dict[str, Any] = {
        "well": sample.well.code,
        "sample": sample.sample_id,
        "class": sample.label,
    }
    if sample.klass >= 4:
        params.update(class_bad=True, indicators=_indicator_names(sample.deciding))
    prev = _previous(sample)
    if prev is not None and prev.klass is not None and sample.klass > prev.klass:
        params.update(prev=prev.sample_id, prev_class=prev.label)
    return params if ("class_bad" in params or "prev" in params) else {}


def warning_reason(sample: QualitySample) -> str:
    """Why a sample calls for a warning ("" when it does not), in the current language."""
    params = warning_params(sample)
    return messages.render_detail("quality_warning", params) if params else ""


def warn_if_needed(sample: QualitySample) -> bool:
    """Raise the quality warning of ``sample`` when :func:`warning_params` finds a reason."""
    params = warning_params(sample)
    if not params:
        return False
    well = sample.well
    near = [s for answer in quality_warning_sources(well) for s in answer]
    if near:  # the registered pollution sources within a radius (enforcement answers)
        params["sources"] = [{"name": s["name"], "distance_m": s["distance_m"]} for s in near[:10]]
    title, reason = messages.in_default_language("quality_warning", params)
    severity = "critical" if (sample.klass or 0) >= 5 else "warning"
    try:
        raise_alarm(
            kind="quality_warning",
            key=f"quality_warning:well:{well.pk}",
            message="quality_warning",
            params=params,
            severity=severity,
            township=well.township,
            well=well,
            data={"sample": sample.sample_id, "class": sample.label, "sources": near},
            at=sample.sampled_at,
        )
    except Exception:  # the sample is stored; a failing alarm must not undo or hide it
        log.exception("raise_alarm failed for quality sample %s", sample.sample_id)
    try:
        notify(
            event="quality.warning",
            title=title,
            body=reason,
            message=messages.NOTICE_PREFIX + "quality_warning",
            params=params,
            township=well.township,
            url=sample.get_absolute_url(),
            severity=severity,
        )
    except Exception:
        log.exception("notify(quality.warning) failed for sample %s", sample.sample_id)
    return True


# --- Excel import -----------------------------------------------------------------------------

#: (key, header as in the template, required)
IMPORT_COLUMNS: list[tuple[str, str, bool]] = [
    ("sample_id", "样品编号", True),
    ("well", "井编号", True),
    ("sampled_at", "采样时间", True),
    ("lab", "检测单位", True),
    ("indicator", "指标", True),
    ("value", "检测值", False),
    ("unit", "单位", False),
    ("detection_limit", "检出限", False),
    ("below_detection", "未检出", False),
]
_ALIASES = {
    "sample_id": "sample_id",
    "well": "well",
    "well_code": "well",
    "sampled_at": "sampled_at",
    "lab": "lab",
    "indicator": "indicator",
    "value": "value",
    "unit": "unit",
    "detection_limit": "detection_limit",
    "below_detection": "below_detection",
}
for _key, _header, _req in IMPORT_COLUMNS:
    _ALIASES[_header] = _key
_TRUE = {"是", "y", "yes", "true", "1", "未检出", "nd"}
_FALSE = {"", "否", "n", "no", "false", "0"}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    samples: int = 0
    created: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def template_workbook() -> bytes:
    """An empty import template with the headers and one example row."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "水质样品"
    ws.append([h for _k, h, _r in IMPORT_COLUMNS])
    ws.append(["YC-2026-001", "W-0001", "2026-05-12 09:30", "晋城市水质检测中心",
               "硝酸盐（以N计）", 4.2, "mg/L", "", ""])  # fmt: skip
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _parse_time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        t = value
    elif isinstance(value, dt.date):
        t = dt.datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        try:
            t = dt.datetime.fromisoformat(text.replace("/", "-"))
        except ValueError:
            return None
    if timezone.is_naive(t):
        t = timezone.make_aware(t, timezone.get_current_timezone())
    return t


def _number(value: Any) -> float | str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float):
        return float(value)
    return str(value).strip()


def import_workbook(source: IO[bytes] | bytes, user: Any, dry_run: bool = False) -> ImportReport:
    """Import quality samples from an .xlsx (one row per sample and indicator), all or none.

    Rows of one ``样品编号`` form one sample; they must agree on well, time and lab.
    """
    report = ImportReport(dry_run=dry_run)
    try:
        wb = load_workbook(
            io.BytesIO(source) if isinstance(source, bytes) else source,
            read_only=True,
            data_only=True,
        )
    except Exception as exc:  # openpyxl raises many kinds for a file that is not .xlsx
        raise ValidationError({"file": _("无法读取 Excel 文件：%(e)s") % {"e": exc}}) from None
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    try:
        header = next(it)
    except StopIteration:
        raise ValidationError({"file": _("文件是空的。")}) from None
    cols: dict[str, int] = {}
    names: dict[str, str] = {}
    for i, h in enumerate(header):
        key = _ALIASES.get(str(h or "").strip().lower()) or _ALIASES.get(str(h or "").strip())
        if key:
            cols[key] = i
            names[key] = str(h).strip()
    missing = [h for k, h, req in IMPORT_COLUMNS if req and k not in cols]
    if missing:
        raise ValidationError({"file": _("缺少列：%(cols)s") % {"cols": "、".join(missing)}})
    for k, h, _req in IMPORT_COLUMNS:
        names.setdefault(k, h)
    wells = {w.code: w for w in visible_to(user, Action.VIEW, Well)}
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for n, row in enumerate(it, start=2):
        if row is None or all(v is None or str(v).strip() == "" for v in row):
            continue
        report.rows += 1
        if report.rows > MAX_ROWS:
            raise ValidationError({"file": _("行数超过上限 %(n)d。") % {"n": MAX_ROWS}})
        rec = {k: (row[i] if i < len(row) else None) for k, i in cols.items()}
        sid = str(rec.get("sample_id") or "").strip()
        groups.setdefault(sid, []).append((n, rec))
    checked: list[Checked] = []
    for sid, rows in groups.items():
        first_row, first = rows[0]
        bad = False
        for k in ("sample_id", "well", "sampled_at", "lab", "indicator"):
            for n, rec in rows:
                if rec.get(k) is None or str(rec.get(k)).strip() == "":
                    report.errors.append(RowError(n, names[k], _("必填。")))
                    bad = True
        if bad:
            continue
        code = str(first["well"]).strip()
        well = wells.get(code)
        if well is None:
            msg = _("没有编号为 %(c)s 的井。") % {"c": code}
            report.errors.append(RowError(first_row, names["well"], msg))
        at = _parse_time(first["sampled_at"])
        if at is None:
            report.errors.append(RowError(first_row, names["sampled_at"], _("无法识别的时间。")))
        for n, rec in rows[1:]:
            for k in ("well", "sampled_at", "lab"):
                if str(rec[k]).strip() != str(first[k]).strip():
                    msg = _("与同一样品的第 %(r)d 行不一致。") % {"r": first_row}
                    report.errors.append(RowError(n, names[k], msg))
        indicators = []
        for n, rec in rows:
            flag = str(rec.get("below_detection") or "").strip().lower()
            if flag not in _TRUE and flag not in _FALSE:
                report.errors.append(RowError(n, names["below_detection"], _("应填“是”或留空。")))
            dl_raw = _number(rec.get("detection_limit"))
            dl: float | None = None
            if isinstance(dl_raw, str):
                try:
                    dl = float(dl_raw)
                except ValueError:
                    report.errors.append(RowError(n, names["detection_limit"], _("不是数字。")))
            else:
                dl = dl_raw
            indicators.append(
                IndicatorInput(
                    indicator=str(rec["indicator"]).strip(),
                    value=_number(rec.get("value")),
                    unit=str(rec.get("unit") or "").strip(),
                    detection_limit=dl,
                    below_detection=flag in _TRUE,
                )
            )
        if well is None or at is None:
            continue
        data = SampleInput(sid, well, at, str(first["lab"]).strip(), indicators)
        try:
            checked.append(validate_sample(data, user))
        except ValidationError as exc:
            for f, msgs in exc.message_dict.items():
                n, column = first_row, names.get(f, f)
                if f.startswith("indicators["):
                    i = int(f[len("indicators[") : f.index("]")])
                    n = rows[i][0]
                    column = names.get(f.split(".", 1)[1], f.split(".", 1)[1])
                for m in msgs:
                    report.errors.append(RowError(n, column, m))
    report.samples = len(groups)
    report.errors.sort(key=lambda e: (e.row, e.column))
    if report.errors or dry_run:
        return report
    with transaction.atomic(), audit.audit_context(user=user, source="import"):
        stored = [store_sample(c) for c in checked]
    report.created = len(stored)
    return report


def errors_as_rows(report: ImportReport) -> Sequence[tuple[int, str, str]]:
    return [(e.row, e.column, e.reason) for e in report.errors]
