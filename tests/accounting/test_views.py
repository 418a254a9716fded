"""Pages and API of the accounting app for every role (scoping, exports, errors)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aquifer.telemetry.store import ReadingRow, ingest

TZ = ZoneInfo("Asia/Shanghai")
ROLES = ["bureau", "township", "water_user", "inspector", "public", "anonymous"]


@pytest.fixture
def data(world: Any) -> Any:
    start = dt.datetime(2025, 1, 1, tzinfo=TZ)
    rows = [
        ReadingRow(world.device_a.pk, "cumulative_volume", start + dt.timedelta(hours=h),
                   100.0 + 5.0 * h)
        for h in range(24 * 40)
    ]  # fmt: skip
    ingest(rows)
    world.device_a.active = False
    world.device_a.save()
    return world


def get(world: Any, role: str, url: str) -> Any:
    return world.client(role).get(url)


# level -> roles that may see it (annual)
LEVEL_ACCESS = {
    "well": {"bureau", "township", "water_user", "inspector"},
    "user": {"bureau", "township", "water_user", "inspector"},
    "zone": {"bureau", "township", "inspector"},
    "township": set(ROLES),
    "county": set(ROLES),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("level", list(LEVEL_ACCESS))
def test_withdrawal_api_levels(data: Any, role: str, level: str) -> None:
    r = get(data, role, f"/api/accounting/withdrawals?level={level}&year=2025")
    if role in LEVEL_ACCESS[level]:
        assert r.status_code == 200, r.content
        body = r.json()
        staff = role in ("bureau", "township", "inspector")
        monthly = staff or (role == "water_user" and level in ("well", "user"))
        assert body["monthly"] is monthly
        assert all(len(row["months"]) == (12 if monthly else 0) for row in body["rows"])
        assert body["rows"] and all(row["total"]["total_m3"] >= 0 for row in body["rows"])
    else:
        assert r.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_monthly_only_for_staff_and_own(data: Any, role: str) -> None:
    r = get(data, role, "/api/accounting/withdrawals?level=township&year=2025&month=1")
    assert r.status_code == (200 if role in ("bureau", "township", "inspector") else 403)
    if r.status_code == 403:
        assert r.json()["errors"][0]["field"] == "month"


@pytest.mark.parametrize("role", ["anonymous", "public"])
def test_the_public_sees_annual_totals_only(data: Any, role: str) -> None:
    url = "/api/accounting/withdrawals?level={}&year=2025"
    bureau = get(data, "bureau", url.format("county")).json()["rows"][0]
    assert sum(m["total_m3"] for m in bureau["months"]) == pytest.approx(
        bureau["total"]["total_m3"]
    )
    assert bureau["total"]["total_m3"] > 0
    for level in ("township", "county"):
        body = get(data, role, url.format(level)).json()
        assert body["monthly"] is False and all(row["months"] == [] for row in body["rows"])
    county = get(data, role, url.format("county")).json()["rows"][0]
    assert county["total"] == bureau["total"]  # the same annual figure, without its months


def test_the_bureau_may_publish_monthly_totals(data: Any, settings: Any) -> None:
    settings.AQUIFER = {**settings.AQUIFER, "ACCOUNTING": {"PUBLIC_MONTHLY": True}}
    body = get(data, "anonymous", "/api/accounting/withdrawals?level=township&year=2025").json()
    assert body["monthly"] is True and all(len(row["months"]) == 12 for row in body["rows"])
    r = get(data, "public", "/api/accounting/withdrawals?level=county&year=2025&month=1")
    assert r.status_code == 200 and len(r.json()["rows"][0]["months"]) == 1
    # Wells and users stay out of the public's reach.
    assert get(data, "anonymous", "/api/accounting/withdrawals?level=well").status_code == 403


def test_scoped_rows(data: Any) -> None:
    w = data
    rows = get(w, "township", "/api/accounting/withdrawals?level=well&year=2025").json()["rows"]
    assert {r["id"] for r in rows} == {w.well_a.pk}
    rows = get(w, "water_user", "/api/accounting/withdrawals?level=user&year=2025").json()["rows"]
    assert [r["id"] for r in rows] == [w.user_a.pk]
    assert rows[0]["total"]["metered_m3"] == pytest.approx(5.0 * (24 * 40 - 1))
    rows = get(w, "bureau", "/api/accounting/withdrawals?level=well&year=2025").json()["rows"]
    assert {r["id"] for r in rows} == {w.well_a.pk, w.well_b.pk}
    b = next(r for r in rows if r["id"] == w.well_b.pk)
    assert b["total"]["estimated"] and "unmetered" in b["total"]["flags"]
    county = get(w, "anonymous", "/api/accounting/withdrawals?level=county&year=2025").json()
    assert len(county["rows"]) == 1 and county["rows"][0]["id"] is None


@pytest.mark.parametrize("role", ROLES)
def test_well_endpoint(data: Any, role: str) -> None:
    w = data
    for well, visible in (
        (w.well_a, role in ("bureau", "township", "water_user", "inspector")),
        (w.well_b, role in ("bureau", "inspector")),
    ):
        r = get(w, role, f"/api/accounting/wells/{well.pk}/withdrawals?year=2025")
        assert r.status_code == (200 if visible else 404)


def test_bad_input(data: Any) -> None:
    c = data.client("bureau")
    r = c.get("/api/accounting/withdrawals?level=planet")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "level"
    r = c.get("/api/accounting/withdrawals?year=1800")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "year"
    r = c.get("/api/accounting/withdrawals?month=13")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "month"
    r = c.get("/api/accounting/withdrawals?year=abc")
    assert r.status_code == 422
    r = c.post("/api/accounting/refresh", {"year": 2025, "months": [0]},
               content_type="application/json")  # fmt: skip
    assert r.status_code == 422
    r = c.get("/accounting/?year=abc")
    assert r.status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_tax_api(data: Any, role: str) -> None:
    r = get(data, role, "/api/accounting/tax?year=2025")
    if role == "anonymous":
        assert r.status_code in (401, 403)
        return
    if role in ("public", "inspector"):
        assert r.status_code == 403
        return
    assert r.status_code == 200
    users = {row["user"] for row in r.json()}
    expected = {
        "bureau": {data.user_a.pk, data.user_b.pk},
        "township": {data.user_a.pk},
        "water_user": {data.user_a.pk},
    }[role]
    assert users == expected
    a = next(row for row in r.json() if row["user"] == data.user_a.pk)
    # domestic → urban public supply: 2 元/m³ on 91 %, no permit
    vol = 5.0 * (24 * 40 - 1)
    assert a["amount_yuan"] == pytest.approx(round(vol * 0.91 * 2, 2), abs=0.02)
    assert a["quota_m3"] is None and a["notes"]


@pytest.mark.parametrize("role", ROLES)
def test_refresh_api(data: Any, role: str) -> None:
    r = data.client(role).post(
        "/api/accounting/refresh", {"year": 2025, "months": [1]}, content_type="application/json"
    )
    expected = {"bureau": 200, "anonymous": 401}.get(role, 403)
    assert r.status_code == expected
    if role == "bureau":
        assert r.json()["stored"] == 2


@pytest.mark.parametrize("role", ROLES)
def test_pages(data: Any, role: str) -> None:
    r = get(data, role, "/accounting/?year=2025")
    assert r.status_code == 200
    assert b"withdrawal-chart" in r.content
    r = get(data, role, "/accounting/?level=well&year=2025")
    if role in LEVEL_ACCESS["well"]:
        assert r.status_code == 200
        assert data.well_a.code.encode() in r.content
        assert (data.well_b.code.encode() in r.content) == (role in ("bureau", "inspector"))
    elif role == "anonymous":
        assert r.status_code == 302
    else:
        assert r.status_code == 403
    for url in ("/accounting/tax/?year=2025", "/accounting/tax/rates/"):
        r = get(data, role, url)
        if role == "anonymous":
            assert r.status_code == 302
        elif role in ("public", "inspector"):
            assert r.status_code == 403
        else:
            assert r.status_code == 200


def test_exports(data: Any) -> None:
    c = data.client("bureau")
    r = c.get("/accounting/?level=well&year=2025&format=xlsx")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    from io import BytesIO

    from openpyxl import load_workbook

    ws = load_workbook(BytesIO(r.content)).active
    rows = list(ws.values)
    assert len(rows) == 3  # header + 2 wells
    r = c.get("/accounting/tax/?year=2025&format=csv")
    assert r.status_code == 200 and "凤城供水站" in r.content.decode("utf-8-sig")
    r = data.client("township").get("/accounting/?level=well&year=2025&format=csv")
    text = r.content.decode("utf-8-sig")
    assert data.well_a.code in text and data.well_b.code not in text
    assert c.get("/accounting/?format=pdf").status_code == 404


def test_month_page_and_estimates_marked(data: Any) -> None:
    c = data.client("bureau")
    r = c.get("/accounting/?level=well&year=2025&month=1")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'class="num estimated"' in html
    assert "无计量设施" in html  # well_b: no meter, its estimate says so
    r = c.get("/accounting/?level=well&year=2025")
    assert "该月含估算水量" in r.content.decode()
    r = data.client("public").get("/accounting/?level=township&year=2025&month=1")
    assert r.status_code == 403
    r = data.client("public").get("/accounting/?level=township&year=2025")
    assert 'id="annual-only"' in r.content.decode()
