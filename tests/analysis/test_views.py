"""Pages, API and exports of the analysis app, for every role (own township vs other)."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from aquifer.analysis import levels, samples
from aquifer.analysis.models import QualitySample

ROLES = ["bureau", "township", "water_user", "inspector", "public", "anonymous"]
TZ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def data(world: Any) -> Any:
    """A sample on each world well, and today's trends."""
    bureau = world.accounts["bureau"]
    for sid, well, value in (("Q-A", world.well_a, 0.5), ("Q-B", world.well_b, 1.5)):
        d = samples.SampleInput(
            sid,
            well,
            dt.datetime(2026, 5, 1, 9, tzinfo=TZ),
            "实验室",
            [samples.IndicatorInput("氟化物", value, "mg/L")],
        )
        samples.store_sample(samples.validate_sample(d, bureau), warn=False)
    levels.compute_trends()
    return world


def _status(world: Any, role: str, url: str, **kw: Any) -> int:
    return world.client(role).get(url, **kw).status_code


# --- Pages -------------------------------------------------------------------------------------

PUBLIC_PAGES = ["analysis:overview", "analysis:balance"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_pages(data: Any, role: str, name: str) -> None:
    r = data.client(role).get(reverse(name))
    assert r.status_code == 200
    if name == "analysis:balance":
        body = r.content.decode()
        assert "zone-balance-table" in body
        assert ("township-balance-table" in body) == (role not in ("public", "anonymous"))


EXPECTED_LIST = {
    "bureau": 200, "township": 200, "water_user": 200, "inspector": 200,
    "public": 403, "anonymous": 302,
}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ["analysis:well_trends", "analysis:sample_list"])
def test_lists_scoped(data: Any, role: str, name: str) -> None:
    r = data.client(role).get(reverse(name))
    assert r.status_code == EXPECTED_LIST[role]
    if r.status_code != 200:
        return
    body = r.content.decode()
    own_only = role in ("township", "water_user")
    assert "W-A-1" in body
    assert ("W-B-1" in body) == (not own_only)


@pytest.mark.parametrize("role", ROLES)
def test_well_detail_scoped(data: Any, role: str) -> None:
    own = reverse("analysis:well_detail", args=[data.monitoring_a.pk])
    other = reverse("analysis:well_detail", args=[data.monitoring_b.pk])
    expected_other = {"township": 404, "water_user": 404}.get(role, EXPECTED_LIST[role])
    assert _status(data, role, own) == EXPECTED_LIST[role]
    assert _status(data, role, other) == expected_other


@pytest.mark.parametrize("role", ROLES)
def test_sample_detail_scoped(data: Any, role: str) -> None:
    a = QualitySample.objects.get(sample_id="Q-A")
    b = QualitySample.objects.get(sample_id="Q-B")
    assert (
        _status(data, role, reverse("analysis:sample_detail", args=[a.pk])) == EXPECTED_LIST[role]
    )
    expected_b = {"township": 404, "water_user": 404}.get(role, EXPECTED_LIST[role])
    assert _status(data, role, reverse("analysis:sample_detail", args=[b.pk])) == expected_b


NEW_EXPECTED = {
    "bureau": 200, "township": 200, "water_user": 403, "inspector": 403,
    "public": 403, "anonymous": 302,
}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ["analysis:sample_new", "analysis:sample_import"])
def test_entry_pages_roles(data: Any, role: str, name: str) -> None:
    assert _status(data, role, reverse(name)) == NEW_EXPECTED[role]


def test_form_entry_and_errors(data: Any) -> None:
    c = data.client("township")
    url = reverse("analysis:sample_new")
    post = {
        "sample_id": "F-1", "well": "W-A-1", "sampled_at": "2026-05-03T10:00", "lab": "实验室",
        "indicator": ["氟化物", "铅", ""], "value": ["0.4", "", ""], "unit": ["mg/L", "mg/L", ""],
        "detection_limit": ["", "0.001", ""], "below_detection": ["1"],
    }  # fmt: skip
    r = c.post(url, post)
    assert r.status_code == 302
    s = QualitySample.objects.get(sample_id="F-1")
    assert s.results.count() == 2 and s.klass == 1
    # Other township's well, a unit that cannot be converted: 422 naming the fields, no write.
    post.update({"sample_id": "F-2", "well": "W-B-1", "unit": ["mmol/L", "mg/L", ""]})
    r = c.post(url, post)
    assert r.status_code == 422
    body = r.content.decode()
    assert 'id="errors-well"' in body and "indicators[0].unit" in body
    assert not QualitySample.objects.filter(sample_id="F-2").exists()


def test_import_page(data: Any) -> None:
    c = data.client("bureau")
    url = reverse("analysis:sample_import")
    tpl = c.get(url + "?template=1")
    assert tpl.status_code == 200 and tpl.content[:2] == b"PK"
    r = c.post(url, {})
    assert r.status_code == 422
    r = c.post(url, {"file": io.BytesIO(b"junk")})
    assert r.status_code == 422


def test_exports(data: Any) -> None:
    c = data.client("township")
    for name, params in (
        ("analysis:well_trends", "?format=xlsx"),
        ("analysis:sample_list", "?format=xlsx"),
        ("analysis:balance", "?format=xlsx"),
    ):
        r = c.get(reverse(name) + params)
        assert r.status_code == 200, name
        wb = load_workbook(io.BytesIO(r.content))
        rows = list(wb.active.iter_rows(values_only=True))
        assert len(rows) >= 2
        text = json.dumps(rows, ensure_ascii=False, default=str)
        if name != "analysis:balance":
            assert "W-A-1" in text and "W-B-1" not in text  # township A's rows only
    assert (
        data.client("public").get(reverse("analysis:sample_list") + "?format=xlsx").status_code
        == 403
    )
    assert (
        data.client("anonymous").get(reverse("analysis:balance") + "?format=xlsx").status_code
        == 200
    )


def test_bad_year_is_404(data: Any) -> None:
    c = data.client("bureau")
    assert c.get(reverse("analysis:balance") + "?year=abc").status_code == 404
    assert c.get(reverse("analysis:balance") + "?year=1800").status_code == 404


# --- API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_api_trends_scoped(data: Any, role: str) -> None:
    r = data.client(role).get("/api/analysis/trends/wells")
    expected = {
        "bureau": {"W-A-1", "W-B-1"}, "inspector": {"W-A-1", "W-B-1"},
        "township": {"W-A-1"}, "water_user": {"W-A-1"}, "public": set(), "anonymous": set(),
    }[role]  # fmt: skip
    if role in ("public", "anonymous"):  # no rule on well trends: refused, not empty
        assert r.status_code == (401 if role == "anonymous" else 403)
    else:
        assert r.status_code == 200
        assert {t["well_code"] for t in r.json()} == expected
    one = data.client(role).get(f"/api/analysis/trends/wells/{data.monitoring_b.pk}")
    assert one.status_code == (200 if "W-B-1" in expected else 404)
    fc = data.client(role).get(f"/api/analysis/forecasts/wells/{data.monitoring_b.pk}")
    assert fc.status_code == (200 if "W-B-1" in expected else 404)
    if fc.status_code == 200:
        assert fc.json()["enough_data"] is False and fc.json()["message"] == "not enough data"


@pytest.mark.parametrize("role", ROLES)
def test_api_zone_level_is_public(data: Any, role: str) -> None:
    c = data.client(role)
    geo = c.get(reverse("api:analysis_zones_geojson"))
    assert geo.status_code == 200
    (f,) = geo.json()["features"]
    assert f["properties"]["status"] == "not enough data"
    assert c.get("/api/analysis/trends/zones").status_code == 200
    bal = c.get("/api/analysis/balance/zones?year=2026")
    assert bal.status_code == 200 and bal.json()[0]["code"] == "JC-HCXF"


@pytest.mark.parametrize("role", ROLES)
def test_api_samples_scoped(data: Any, role: str) -> None:
    r = data.client(role).get("/api/analysis/samples")
    if role == "anonymous":
        assert r.status_code == 401
        return
    if role == "public":
        assert r.status_code == 403
        return
    ids = {s["sample_id"] for s in r.json()["results"]}
    assert ids == ({"Q-A"} if role in ("township", "water_user") else {"Q-A", "Q-B"})
    b = QualitySample.objects.get(sample_id="Q-B")
    one = data.client(role).get(f"/api/analysis/samples/{b.pk}")
    assert one.status_code == (404 if role in ("township", "water_user") else 200)


def _payload(well: int, sid: str = "API-1", **over: Any) -> dict[str, Any]:
    p = {
        "sample_id": sid,
        "well": well,
        "sampled_at": "2026-05-04T10:00:00+08:00",
        "lab": "实验室",
        "indicators": [
            {"indicator": "砷", "value": 8, "unit": "μg/L"},
            {"indicator": "铅", "below_detection": True, "detection_limit": 0.001, "unit": "mg/L"},
        ],
    }
    p.update(over)
    return p


@pytest.mark.parametrize(
    "role,status",
    [("bureau", 201), ("township", 201), ("water_user", 403), ("inspector", 403),
     ("public", 403), ("anonymous", 401)],
)  # fmt: skip
def test_api_create_roles(data: Any, role: str, status: int) -> None:
    r = data.client(role).post(
        "/api/analysis/samples", _payload(data.well_a.pk), content_type="application/json"
    )
    assert r.status_code == status, r.content
    if status == 201:
        body = r.json()
        assert body["klass"] == "III" and body["deciding"] == ["砷"]
        arsenic = next(x for x in body["results"] if x["indicator"] == "砷")
        assert arsenic["std_value"] == pytest.approx(0.008) and arsenic["std_unit"] == "mg/L"


def test_api_create_errors(data: Any) -> None:
    c = data.client("township")
    r = c.post("/api/analysis/samples", _payload(data.well_b.pk), content_type="application/json")
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"well"}
    bad = _payload(data.well_a.pk, indicators=[{"indicator": "砷", "value": 1, "unit": "mmol/L"}])
    r = c.post("/api/analysis/samples", bad, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "indicators[0].unit"
    r = c.post("/api/analysis/samples", {"sample_id": "x"}, content_type="application/json")
    assert r.status_code == 422
    assert not QualitySample.objects.filter(sample_id__in=["API-1", "x"]).exists()


# --- Manual soundings --------------------------------------------------------------------------

SOUNDING_EXPECTED = {
    "bureau": 302, "township": 302, "water_user": 403, "inspector": 403,
    "public": 403, "anonymous": 302,
}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_sounding_page_roles(data: Any, role: str) -> None:
    from aquifer.analysis.models import LevelMeasurement

    url = reverse("analysis:sounding_new", args=[data.monitoring_a.pk])
    post = {"element": "depth_to_water", "measured_at": "2026-03-02T09:00", "value": "31.5"}
    r = data.client(role).post(url, post)
    assert r.status_code == SOUNDING_EXPECTED[role]
    stored = LevelMeasurement.objects.filter(monitoring_well=data.monitoring_a).count()
    assert stored == (1 if role in ("bureau", "township") else 0)
    other = reverse("analysis:sounding_new", args=[data.monitoring_b.pk])
    r = data.client(role).post(other, post)
    if role == "township":
        assert r.status_code == 404
    if role == "water_user":
        assert r.status_code == 404


def test_sounding_errors_named(data: Any) -> None:
    c = data.client("township")
    url = reverse("analysis:sounding_new", args=[data.monitoring_a.pk])
    r = c.post(url, {"element": "depth", "measured_at": "yesterday", "value": "abc"})
    assert r.status_code == 422
    body = r.content.decode()
    assert "element:" in body and "measured_at:" in body and "value:" in body
    ok = {"element": "depth_to_water", "measured_at": "2026-03-02T09:00", "value": "31.5"}
    assert c.post(url, ok).status_code == 302
    assert c.post(url, ok).status_code == 422  # the same time twice: refused, not overwritten


@pytest.mark.parametrize(
    "role,status",
    [("bureau", 201), ("township", 201), ("water_user", 403), ("inspector", 403),
     ("public", 403), ("anonymous", 401)],
)  # fmt: skip
def test_api_soundings(data: Any, role: str, status: int) -> None:
    c = data.client(role)
    body = {
        "monitoring_well": data.monitoring_a.pk,
        "element": "water_level",
        "measured_at": "2026-03-02T09:00:00+08:00",
        "value": 688.2,
    }
    r = c.post("/api/analysis/soundings", body, content_type="application/json")
    assert r.status_code == status, r.content
    listed = c.get(f"/api/analysis/soundings?monitoring_well={data.monitoring_a.pk}")
    if role in ("public", "anonymous"):  # no rule on soundings: refused before the lookup
        assert listed.status_code == (401 if role == "anonymous" else 403)
    else:
        assert listed.status_code == 200
        assert len(listed.json()) == (1 if status == 201 else 0)


def test_api_sounding_errors(data: Any) -> None:
    c = data.client("township")
    other = {"monitoring_well": data.monitoring_b.pk, "measured_at": "2026-03-02T09:00:00+08:00",
             "value": 30.0}  # fmt: skip
    r = c.post("/api/analysis/soundings", other, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "monitoring_well"
    bad = {"monitoring_well": data.monitoring_a.pk, "element": "ph",
           "measured_at": "2099-01-01T00:00:00+08:00", "value": 99999.0}  # fmt: skip
    r = c.post("/api/analysis/soundings", bad, content_type="application/json")
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"element", "measured_at"}
    bad["element"] = "depth_to_water"
    bad["measured_at"] = "2026-01-01T00:00:00+08:00"
    r = c.post("/api/analysis/soundings", bad, content_type="application/json")
    assert {e["field"] for e in r.json()["errors"]} == {"value"}
