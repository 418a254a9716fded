"""The analysis lists are declared once (analysis/filters.py, analysis/tables.py): the sample
FilterSet filters the page, its export and the API; each Table gives its page the sortable
columns and its export the same columns."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from aquifer.analysis import levels, samples
from aquifer.analysis.filters import QualitySampleFilterSet
from aquifer.analysis.models import QualitySample
from aquifer.analysis.tables import QualitySampleTable, WellTrendTable
from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.registry.models import MonitoringWell
from tests.lists import page_ids

pytestmark = pytest.mark.django_db

TZ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def data(world: Any) -> Any:
    """Samples Q-A (class I), Q-A2 (class IV, older) on well A, Q-B on well B; the trends."""
    bureau = world.accounts["bureau"]
    for sid, well, day, value in (
        ("Q-A", world.well_a, 3, 0.5),
        ("Q-A2", world.well_a, 1, 1.5),
        ("Q-B", world.well_b, 2, 0.9),
    ):
        d = samples.SampleInput(
            sid,
            well,
            dt.datetime(2026, 5, day, 9, tzinfo=TZ),
            "实验室" if sid != "Q-B" else "省监测中心",
            [samples.IndicatorInput("氟化物", value, "mg/L")],
        )
        samples.store_sample(samples.validate_sample(d, bureau), warn=False)
    levels.compute_trends()
    return world


def xlsx_rows(response: Any) -> list[tuple[Any, ...]]:
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


def thead(response: Any, table_id: str) -> str:
    found = re.search(
        rf'<table id="{table_id}".*?<thead>(.*?)</thead>', response.content.decode(), re.S
    )
    assert found is not None
    return found.group(1)


def samples_url(data: Any) -> str:
    return str(reverse("analysis:sample_list"))


def trends_url() -> str:
    return str(reverse("analysis:well_trends"))


# --- Samples: one FilterSet -----------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "klass=1", "klass=4", "well_id={a}", "klass=1&well_id={b}"])
def test_the_same_filter_gives_the_same_samples_on_the_page_in_the_export_and_api(
    data: Any, query: str
) -> None:
    q = query.format(a=data.well_a.pk, b=data.well_b.pk)
    c = data.client("bureau")
    on_page = page_ids(c.get(f"{samples_url(data)}?{q}"))
    r = c.get(f"/api/analysis/samples?{q}&limit=500")
    assert r.status_code == 200
    assert sorted(s["id"] for s in r.json()["results"]) == sorted(on_page)
    assert r.json()["count"] == len(on_page)
    assert len(xlsx_rows(c.get(f"{samples_url(data)}?format=xlsx&{q}"))) - 1 == len(on_page)
    expected = visible_to(data.accounts["bureau"], Action.VIEW, QualitySample)
    if "klass=1" in q:
        expected = expected.filter(klass=1)
    assert {QualitySample.objects.get(pk=pk).sample_id for pk in on_page} <= set(
        expected.values_list("sample_id", flat=True)
    )


def test_class_filter_picks_the_class(data: Any) -> None:
    c = data.client("bureau")
    a2 = QualitySample.objects.get(sample_id="Q-A2")
    assert a2.klass == 4
    assert page_ids(c.get(f"{samples_url(data)}?klass=4")) == [a2.pk]
    rows = xlsx_rows(c.get(f"{samples_url(data)}?format=xlsx&klass=4"))
    assert [r[0] for r in rows[1:]] == ["Q-A2"]
    html = c.get(f"{samples_url(data)}?klass=4").content.decode()
    assert 'href="?format=xlsx&klass=4"' in html  # the export keeps the filter


@pytest.mark.parametrize(("query", "field"), [("klass=9", "klass"), ("well_id=999999", "well_id")])
def test_a_bad_filter_value_is_a_422_in_the_api_and_a_form_error_on_the_page(
    data: Any, query: str, field: str
) -> None:
    c = data.client("bureau")
    r = c.get(f"/api/analysis/samples?{query}")
    assert r.status_code == 422
    assert [e["field"] for e in json.loads(r.content)["errors"]] == [field]
    r = c.get(f"{samples_url(data)}?{query}")
    assert r.status_code == 200 and 'id="filter-errors"' in r.content.decode()
    assert len(page_ids(r)) == QualitySample.objects.count()  # left out of the filtering


def test_the_filter_bar_and_openapi_are_the_filtersets(data: Any) -> None:
    html = data.client("bureau").get(samples_url(data)).content.decode()
    for name in QualitySampleFilterSet.base_filters:
        assert f'name="{name}"' in html, name
    assert 'name="klass" data-autosubmit' in html
    doc = json.loads(data.client("anonymous").get("/api/openapi.json").content)
    params = {p["name"] for p in doc["paths"]["/api/analysis/samples"]["get"]["parameters"]}
    assert params == set(QualitySampleFilterSet.base_filters) | {"limit", "offset"}


# --- Sorting --------------------------------------------------------------------------------------


def test_every_sample_column_sorts_both_ways(data: Any) -> None:
    c = data.client("bureau")
    user = data.accounts["bureau"]
    columns = [
        (col.name, tuple(col.order_by)) for col in QualitySampleTable([]).columns if col.orderable
    ]
    assert {n for n, _ in columns} == {
        "sample_id",
        "well",
        "township",
        "sampled_at",
        "lab",
        "klass",
    }
    for name, accessors in columns:
        for sign in ("", "-"):
            expected = list(
                visible_to(user, Action.VIEW, QualitySample)
                .order_by(*(sign + a for a in accessors), "pk")
                .values_list("pk", flat=True)
            )
            r = c.get(f"{samples_url(data)}?sort={sign}{name}")
            assert page_ids(r) == expected, f"{sign}{name}"
            assert f"sort={name if sign else '-' + name}" in r.content.decode()


def _key(value: Any) -> tuple[bool, Any]:
    return (value is not None, value)


def test_every_trend_column_sorts_both_ways(data: Any) -> None:
    c = data.client("bureau")
    rows = {
        mw.pk: {"mw": mw, "trend": levels.latest_well_trends().get(mw.pk)}
        for mw in MonitoringWell.objects.select_related("well__township", "well__zone")
    }
    assert len(rows) >= 2
    table = WellTrendTable(list(rows.values()))
    columns = [col for col in table.columns if col.orderable]
    assert {col.name for col in columns} == {
        "well",
        "township",
        "zone",
        "months",
        "trend",
        "level_slope",
        "change",
        "status",
    }
    for col in columns:
        accessor = col.accessor
        for sign in ("", "-"):
            ids = page_ids(c.get(f"{trends_url()}?sort={sign}{col.name}"))
            assert sorted(ids) == sorted(rows), col.name
            values = [_key(accessor.resolve(rows[pk], quiet=True)) for pk in ids]
            assert values == sorted(values, reverse=bool(sign)), f"{sign}{col.name}"
    codes = [rows[pk]["mw"].well.code for pk in page_ids(c.get(f"{trends_url()}?sort=-well"))]
    assert codes == sorted(codes, reverse=True)


# --- Exports: the Tables' columns -----------------------------------------------------------------


def test_sample_export_columns_are_the_tables_columns(data: Any) -> None:
    c = data.client("bureau")
    columns = list(QualitySampleTable([]).columns.iterall())
    head = thead(c.get(samples_url(data)), "sample-list")
    for col in columns:
        assert (f">{col.header}<" in head or f">{col.header} " in head) == col.visible, col.name
    rows = xlsx_rows(c.get(f"{samples_url(data)}?format=xlsx&klass=4"))
    assert list(rows[0]) == [str(col.header) for col in columns]
    first = dict(zip([col.name for col in columns], rows[1], strict=True))
    assert first["sample_id"] == "Q-A2" and first["well"] == "W-A-1"
    assert first["klass"] == "IV" and first["sampled_at"] == "2026-05-01 09:00"
    assert first["deciding"] == "氟化物"


def test_trend_export_columns_are_the_tables_columns(data: Any) -> None:
    c = data.client("bureau")
    columns = list(WellTrendTable([]).columns.iterall())
    head = thead(c.get(trends_url()), "trend-list")
    for col in columns:
        assert (f">{col.header}<" in head or f">{col.header} " in head) == col.visible, col.name
    rows = xlsx_rows(c.get(f"{trends_url()}?format=xlsx"))
    assert list(rows[0]) == [str(col.header) for col in columns]
    by_well = {r[0]: dict(zip([col.name for col in columns], r, strict=True)) for r in rows[1:]}
    assert set(by_well) == {"W-A-1", "W-B-1"}
    assert by_well["W-A-1"]["status"] == "not enough data"  # the code, as before


# --- Scoping --------------------------------------------------------------------------------------


def test_a_township_officer_sees_only_their_township(data: Any) -> None:
    c = data.client("township")
    mine = set(QualitySample.objects.filter(well=data.well_a).values_list("pk", flat=True))
    assert set(page_ids(c.get(samples_url(data)))) == mine
    assert set(page_ids(c.get(f"{samples_url(data)}?sort=-township"))) == mine
    assert {s["id"] for s in c.get("/api/analysis/samples").json()["results"]} == mine
    assert len(xlsx_rows(c.get(f"{samples_url(data)}?format=xlsx"))) - 1 == len(mine)
    # The other township's well is not a filter choice.
    assert c.get(f"/api/analysis/samples?well_id={data.well_b.pk}").status_code == 422
    rows = xlsx_rows(c.get(f"{trends_url()}?format=xlsx"))
    assert [r[0] for r in rows[1:]] == ["W-A-1"]
    assert len(page_ids(c.get(f"{trends_url()}?sort=-zone"))) == 1


def test_trend_export_keeps_the_codes_and_the_page_shows_labels(data: Any) -> None:
    mw = MonitoringWell.objects.select_related("well").get(well=data.well_a)
    trend = levels.latest_well_trends().get(mw.pk)
    row = {"id": mw.pk, "mw": mw, "trend": trend}
    if trend is not None:
        trend.trend, trend.status = "increasing", "rising"
    else:
        row["trend"] = type("T", (), {"trend": "increasing", "status": "rising"})()
    table = WellTrendTable([row])
    bound = next(iter(table.rows))
    assert bound.get_cell_value("trend") == "increasing"
    assert bound.get_cell_value("status") == "rising"
    assert str(bound.get_cell("trend")) == "增大"
    assert str(bound.get_cell("status")).endswith("</span> 回升")
