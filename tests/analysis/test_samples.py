"""Quality samples: entry, classification, units, warnings, Excel import (all or none)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from aquifer.analysis import samples
from aquifer.analysis.models import QualityResult, QualitySample
from aquifer.core.models import AuditEntry

TZ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def sent(monkeypatch: Any) -> dict[str, list[dict[str, Any]]]:
    """Stand-ins for monitoring's raise_alarm and notifications' notify, as samples calls them."""
    out: dict[str, list[dict[str, Any]]] = {"alarms": [], "notices": []}
    monkeypatch.setattr(samples, "raise_alarm", lambda **kw: out["alarms"].append(kw))
    monkeypatch.setattr(samples, "notify", lambda **kw: out["notices"].append(kw) or 1)
    return out


def _sample(well: Any, sid: str, when: dt.datetime, **values: Any) -> samples.SampleInput:
    inds = []
    for name, v in values.items():
        if isinstance(v, tuple):
            inds.append(samples.IndicatorInput(name, *v))
        else:
            inds.append(samples.IndicatorInput(name, v, "mg/L"))
    return samples.SampleInput(sid, well, when, "晋城市水质检测中心", inds)


def _store(user: Any, data: samples.SampleInput) -> QualitySample:
    return samples.store_sample(samples.validate_sample(data, user), warn=False)


def test_classified_and_stored(world: Any) -> None:
    bureau = world.accounts["bureau"]
    data = _sample(
        world.well_a,
        "S-1",
        dt.datetime(2026, 5, 1, 9, tzinfo=TZ),
        **{
            "硝酸盐（以N计）": 12.0,  # III (≤20.0)
            "pH": (7.6, ""),
            "铅": (None, "mg/L", 0.001, True),  # non-detect at 0.001 ≤ class I 0.005
            "砷": (8.0, "μg/L"),  # 0.008 mg/L: III (≤0.01)
        },
    )
    s = _store(bureau, data)
    s.refresh_from_db()
    results = {r.indicator: r for r in s.results.all()}
    assert results["砷"].std_value == pytest.approx(0.008) and results["砷"].std_unit == "mg/L"
    assert results["砷"].klass == 3 and results["砷"].unit == "μg/L"
    assert results["铅"].below_detection and results["铅"].klass == 1
    assert results["pH"].klass == 1
    assert s.klass == max(r.klass for r in results.values() if r.klass)
    assert set(s.deciding) == {r.indicator for r in results.values() if r.klass == s.klass}
    assert AuditEntry.objects.filter(object_type="analysis.qualitysample").count() >= 2


def test_units_refused_never_guessed(world: Any) -> None:
    data = _sample(
        world.well_a, "S-2", dt.datetime(2026, 5, 1, tzinfo=TZ), **{"氟化物": (1.0, "mmol/L")}
    )
    with pytest.raises(ValidationError) as e:
        samples.validate_sample(data, world.accounts["bureau"])
    assert "indicators[0].unit" in e.value.message_dict
    assert not QualitySample.objects.exists()


def test_every_field_error_named(world: Any) -> None:
    data = samples.SampleInput(
        "",
        None,
        None,
        "",
        [
            samples.IndicatorInput("不存在的指标", 1.0, "mg/L"),
            samples.IndicatorInput("铅", None, "mg/L", None, True),
            samples.IndicatorInput("氟化物", None, "mg/L"),
        ],
    )
    with pytest.raises(ValidationError) as e:
        samples.validate_sample(data, world.accounts["bureau"])
    fields = set(e.value.message_dict)
    assert {"sample_id", "well", "sampled_at", "lab"} <= fields
    assert "indicators[0].indicator" in fields
    assert "indicators[1].detection_limit" in fields
    assert "indicators[2].value" in fields


def test_township_only_own_wells(world: Any) -> None:
    officer = world.accounts["township"]
    ok = _sample(world.well_a, "S-3", dt.datetime(2026, 5, 1, tzinfo=TZ), **{"氟化物": 0.5})
    assert samples.validate_sample(ok, officer)
    other = _sample(world.well_b, "S-4", dt.datetime(2026, 5, 1, tzinfo=TZ), **{"氟化物": 0.5})
    with pytest.raises(ValidationError) as e:
        samples.validate_sample(other, officer)
    assert "well" in e.value.message_dict


def test_duplicate_sample_id(world: Any) -> None:
    bureau = world.accounts["bureau"]
    _store(bureau, _sample(world.well_a, "S-5", dt.datetime(2026, 5, 1, tzinfo=TZ), 氟化物=0.5))
    with pytest.raises(ValidationError) as e:
        samples.validate_sample(
            _sample(world.well_a, "S-5", dt.datetime(2026, 5, 2, tzinfo=TZ), 氟化物=0.5), bureau
        )
    assert "sample_id" in e.value.message_dict


def test_warning_class_iv_or_worse(world: Any, sent: Any) -> None:
    bureau = world.accounts["bureau"]
    s = _store(bureau, _sample(world.well_b, "S-6", dt.datetime(2026, 5, 1, tzinfo=TZ), 氟化物=1.5))
    assert s.klass == 4  # fluoride ≤2.0 is IV
    assert samples.warn_if_needed(s)
    (alarm,) = sent["alarms"]
    assert alarm["kind"] == "quality_warning"
    assert alarm["key"] == f"quality_warning:well:{world.well_b.pk}"
    assert alarm["well"] == world.well_b and alarm["township"] == world.well_b.township
    assert alarm["severity"] == "warning"
    (notice,) = sent["notices"]
    assert notice["event"] == "quality.warning" and notice["url"].endswith(f"/{s.pk}/")


def test_warning_worse_than_previous(world: Any, sent: Any) -> None:
    bureau = world.accounts["bureau"]
    nitrate = "硝酸盐（以N计）"
    first = _store(
        bureau, _sample(world.well_a, "S-7", dt.datetime(2026, 1, 1, tzinfo=TZ), **{nitrate: 1.5})
    )
    assert first.klass == 1 and not samples.warn_if_needed(first)
    second = _store(
        bureau, _sample(world.well_a, "S-8", dt.datetime(2026, 4, 1, tzinfo=TZ), **{nitrate: 4.0})
    )
    assert second.klass == 2
    assert "S-7" in samples.warning_reason(second)
    assert samples.warn_if_needed(second)
    assert len(sent["alarms"]) == 1 and len(sent["notices"]) == 1
    # An earlier sample entered late is compared with what came before it, not after.
    late = _store(
        bureau, _sample(world.well_a, "S-9", dt.datetime(2025, 6, 1, tzinfo=TZ), **{nitrate: 1.0})
    )
    assert samples.warning_reason(late) == ""


def test_store_sample_warns_on_commit(
    world: Any, sent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    data = _sample(world.well_b, "S-10", dt.datetime(2026, 5, 1, tzinfo=TZ), 氟化物=2.5)
    with django_capture_on_commit_callbacks(execute=True):
        s = samples.store_sample(samples.validate_sample(data, world.accounts["bureau"]))
    assert s.klass == 5
    assert sent["alarms"][0]["severity"] == "critical"


# --- Excel import -----------------------------------------------------------------------------


def _xlsx(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header or [h for _k, h, _r in samples.IMPORT_COLUMNS])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_import_all_or_none(world: Any) -> None:
    bureau = world.accounts["bureau"]
    good = [
        ["I-1", "W-A-1", "2026-05-01 09:00", "实验室", "氟化物", 0.5, "mg/L", None, None],
        ["I-1", "W-A-1", "2026-05-01 09:00", "实验室", "铅", None, "mg/L", 0.001, "是"],
        ["I-2", "W-B-1", "2026-05-02 09:00", "实验室", "砷", 12, "μg/L", None, None],
    ]
    bad = [
        *good,
        ["I-3", "W-NONE", "2026-05-02 09:00", "实验室", "砷", 12, "μg/L", None, None],
        ["I-4", "W-A-1", "not a time", "实验室", "砷", 12, "μg/L", None, None],
        ["I-5", "W-A-1", "2026-05-02", "实验室", "砷", 12, "mmol/L", None, None],
        ["I-1", "W-B-1", "2026-05-01 09:00", "实验室", "pH", 7, "", None, None],
    ]
    report = samples.import_workbook(_xlsx(bad), bureau)
    assert not report.ok and report.created == 0
    assert not QualitySample.objects.exists()
    where = {(e.row, e.column) for e in report.errors}
    assert (5, "井编号") in where
    assert (6, "采样时间") in where
    assert (7, "单位") in where
    assert (8, "井编号") in where  # I-1 row 8 disagrees with row 2
    dry = samples.import_workbook(_xlsx(good), bureau, dry_run=True)
    assert dry.ok and dry.created == 0 and not QualitySample.objects.exists()
    report = samples.import_workbook(_xlsx(good), bureau)
    assert report.ok and report.created == 2
    s = QualitySample.objects.get(sample_id="I-1")
    assert (
        s.results.count() == 2
        and QualityResult.objects.get(sample=s, indicator="铅").below_detection
    )
    assert AuditEntry.objects.filter(object_type="analysis.qualitysample", source="import").exists()


def test_import_scoped_and_bad_files(world: Any) -> None:
    officer = world.accounts["township"]
    rows = [["I-9", "W-B-1", "2026-05-01", "实验室", "氟化物", 0.5, "mg/L", None, None]]
    report = samples.import_workbook(_xlsx(rows), officer)
    assert not report.ok and report.errors[0].column == "井编号"
    with pytest.raises(ValidationError) as e:
        samples.import_workbook(b"not an excel file", officer)
    assert "file" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        samples.import_workbook(_xlsx([], header=["样品编号", "指标"]), officer)
    assert "井编号" in e.value.message_dict["file"][0]


def test_template_round_trip(world: Any) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(samples.template_workbook()))
    header = [c.value for c in wb.active[1]]
    assert header == [h for _k, h, _r in samples.IMPORT_COLUMNS]


def test_warning_reaches_the_real_alarm_store(world: Any) -> None:
    """The warning is an open quality_warning alarm in monitoring's store."""
    from aquifer.monitoring.models import Alarm

    bureau = world.accounts["bureau"]
    s = _store(
        bureau, _sample(world.well_b, "S-11", dt.datetime(2026, 5, 1, tzinfo=TZ), 氟化物=1.5)
    )
    assert samples.warn_if_needed(s)
    alarm = Alarm.objects.get(kind="quality_warning", key=f"quality_warning:well:{world.well_b.pk}")
    assert alarm.township_id == world.well_b.township_id and alarm.severity == "warning"
    # A second bad sample updates the same open alarm instead of opening another.
    s2 = _store(
        bureau, _sample(world.well_b, "S-12", dt.datetime(2026, 6, 1, tzinfo=TZ), 氟化物=2.5)
    )
    assert samples.warn_if_needed(s2)
    assert Alarm.objects.filter(kind="quality_warning").count() == 1


def test_jobs_registered() -> None:
    from aquifer.analysis import jobs

    assert callable(jobs.compute_trends) and callable(jobs.compute_forecasts)
    from aquifer.core import jobs as core_jobs

    names = set(core_jobs.discover())
    assert {"analysis.trends", "analysis.forecasts"} <= names
