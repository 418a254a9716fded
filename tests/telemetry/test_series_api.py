"""The series API per role, resolution choice and reduction, the CSV export, the quarantine."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aquifer.registry.models import Device
from aquifer.telemetry.models import QuarantinedFrame, ReadingFlag
from aquifer.telemetry.store import ReadingRow, ingest, refresh_rollups

T0 = datetime(2024, 5, 1, 0, 0, tzinfo=UTC)  # 08:00 Beijing time
ROLES = ["bureau", "township", "water_user", "inspector", "public", "anonymous"]
# Well and device A: township A, owned by the water user. B: township B, another owner.
SEES = {
    "bureau": {"A", "B"},
    "township": {"A"},
    "water_user": {"A"},
    "inspector": {"A", "B"},
    "public": set(),
    "anonymous": set(),
}


def quarter_hours(
    device_id: int, n: int, element: str = "depth_to_water", spike: dict[int, float] | None = None
) -> list[ReadingRow]:
    spike = spike or {}
    return [
        ReadingRow(
            device_id, element, T0 + timedelta(minutes=15 * i), spike.get(i, 20.0 + 0.001 * i)
        )
        for i in range(n)
    ]


@pytest.fixture
def readings(world: Any) -> Any:
    ingest(quarter_hours(world.device_a.pk, 96))
    ingest(quarter_hours(world.device_b.pk, 96))
    return world


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["wells", "devices"])
def test_series_is_served_in_scope_only(readings: Any, role: str, kind: str) -> None:
    client = readings.client(role)
    for where in ("A", "B"):
        obj = getattr(readings, f"{'well' if kind == 'wells' else 'device'}_{where.lower()}")
        r = client.get(f"/api/{kind}/{obj.pk}/series", {"element": "depth_to_water"})
        if where in SEES[role]:
            assert r.status_code == 200, (role, where, r.content)
            assert len(r.json()["points"]) == 96
        else:
            assert r.status_code == 404, (role, where, r.content)
        csv_r = client.get(
            f"/api/devices/{getattr(readings, f'device_{where.lower()}').pk}/series.csv"
        )
        assert csv_r.status_code == (200 if where in SEES[role] else 404)


def test_series_answer_shape(readings: Any) -> None:
    r = readings.client("bureau").get(
        f"/api/devices/{readings.device_a.pk}/series",
        {"element": "depth_to_water", "resolution": "raw"},
    )
    body = r.json()
    assert body["element"] == "depth_to_water" and body["unit"] == "m"
    assert body["resolution"] == "raw" and body["source_points"] == 96
    first = body["points"][0]
    assert first == ["2024-05-01T08:00:00+08:00", 20.0, 20.0, 20.0]
    assert body["points"][-1][0] == "2024-05-02T07:45:00+08:00"


def test_time_range_and_resolutions(readings: Any) -> None:
    client = readings.client("bureau")
    url = f"/api/devices/{readings.device_a.pk}/series"
    # Local (Beijing) times without offset; both ends included.
    r = client.get(
        url,
        {
            "element": "depth_to_water",
            "start": "2024-05-01T09:00",
            "end": "2024-05-01T10:00",
            "resolution": "raw",
        },
    )
    assert [p[0][11:16] for p in r.json()["points"]] == [
        "09:00",
        "09:15",
        "09:30",
        "09:45",
        "10:00",
    ]
    hourly = client.get(url, {"element": "depth_to_water", "resolution": "hourly"}).json()
    assert hourly["resolution"] == "hourly" and len(hourly["points"]) == 24
    t, mean, lo, hi = hourly["points"][0]
    assert t == "2024-05-01T08:00:00+08:00"
    assert (lo, hi) == (20.0, 20.003) and mean == pytest.approx(20.0015)
    daily = client.get(
        url, {"element": "depth_to_water", "resolution": "daily", "end": "2024-05-01"}
    ).json()
    assert [p[0] for p in daily["points"]] == ["2024-05-01T00:00:00+08:00"]
    raw = client.get(url, {"element": "depth_to_water", "resolution": "raw", "end": "2024-05-01"})
    assert raw.json()["points"][-1][0] == "2024-05-01T23:45:00+08:00"  # an end date: whole day
    assert len(raw.json()["points"]) == 64
    assert daily["points"][0][2:] == [20.0, 20.063]


def test_auto_stays_within_max_points_and_keeps_a_spike(world: Any) -> None:
    n = 30 * 96  # 30 days of quarter hours
    ingest(quarter_hours(world.device_a.pk, n, spike={1000: 95.5, 2000: -3.25}))
    client = world.client("bureau")
    url = f"/api/devices/{world.device_a.pk}/series"
    for max_points, resolution in ((5000, "raw"), (1000, "raw"), (300, "hourly"), (100, "daily")):
        body = client.get(url, {"element": "depth_to_water", "max_points": max_points}).json()
        assert body["resolution"] == resolution, max_points
        points = body["points"]
        assert len(points) <= max_points
        assert max(p[3] for p in points) == 95.5 and min(p[2] for p in points) == -3.25
        first = "2024-05-01T00:00" if resolution == "daily" else "2024-05-01T08:00"
        assert points[0][0] == first + ":00+08:00"  # the first point (or its bucket) is kept
        if resolution == "raw":  # LTTB itself keeps the spike's point
            assert 95.5 in [p[1] for p in points] and -3.25 in [p[1] for p in points]
    assert (
        len(client.get(url, {"element": "depth_to_water", "max_points": 1000}).json()["points"])
        == 1000
    )


def test_rejected_readings_are_not_charted(world: Any) -> None:
    ingest(
        [
            ReadingRow(world.device_a.pk, "depth_to_water", T0, 10.0),
            ReadingRow(
                world.device_a.pk,
                "depth_to_water",
                T0 + timedelta(minutes=5),
                500.0,
                ReadingFlag.REJECTED,
            ),
        ]
    )
    for resolution in ("raw", "hourly", "daily"):
        body = (
            world.client("bureau")
            .get(
                f"/api/devices/{world.device_a.pk}/series",
                {"element": "depth_to_water", "resolution": resolution},
            )
            .json()
        )
        assert [p[1] for p in body["points"]] == [10.0], resolution


def test_well_series_merges_its_devices(world: Any) -> None:
    second = Device.objects.create(
        kind="level_logger", protocol="MQTT", station_address="logger-a-2", well=world.well_a
    )
    ingest(quarter_hours(world.device_a.pk, 4))  # 08:00 … 08:45
    ingest(
        [
            ReadingRow(second.pk, "depth_to_water", T0 + timedelta(minutes=5), 30.0),
            ReadingRow(second.pk, "depth_to_water", T0 + timedelta(minutes=15), 40.0),
        ]
    )
    ingest(quarter_hours(world.device_b.pk, 4))  # another well: not merged
    client = world.client("bureau")
    raw = client.get(
        f"/api/wells/{world.well_a.pk}/series", {"element": "depth_to_water", "resolution": "raw"}
    ).json()["points"]
    assert [p[0][11:16] for p in raw] == ["08:00", "08:05", "08:15", "08:30", "08:45"]
    assert raw[2][1:] == [pytest.approx(30.0005), 20.001, 40.0]  # same time: averaged
    hourly = client.get(
        f"/api/wells/{world.well_a.pk}/series",
        {"element": "depth_to_water", "resolution": "hourly"},
    ).json()["points"]
    assert len(hourly) == 1
    assert hourly[0][1:] == [pytest.approx((4 * 20.0015 + 70) / 6), 20.0, 40.0]


def test_cumulative_elements_chart_the_last_value_of_a_bucket(world: Any) -> None:
    ingest(
        [
            ReadingRow(world.device_a.pk, "cumulative_volume", T0 + timedelta(minutes=m), v)
            for m, v in ((0, 100.0), (20, 110.0), (40, 130.0))
        ]
    )
    body = (
        world.client("bureau")
        .get(
            f"/api/devices/{world.device_a.pk}/series",
            {"element": "cumulative_volume", "resolution": "hourly"},
        )
        .json()
    )
    assert body["unit"] == "m³" and body["points"][0][1:] == [130.0, 100.0, 130.0]


def test_a_series_without_readings_is_empty(world: Any) -> None:
    r = world.client("bureau").get(f"/api/wells/{world.well_b.pk}/series", {"element": "ph"})
    assert r.status_code == 200 and r.json()["points"] == []
    world.device_b.well = None
    world.device_b.save()  # a well without devices
    for resolution in ("auto", "daily"):
        r = world.client("bureau").get(
            f"/api/wells/{world.well_b.pk}/series",
            {"element": "depth_to_water", "resolution": resolution},
        )
        assert r.status_code == 200 and r.json()["points"] == [], resolution


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"element": "depth"}, "element"),
        ({}, "element"),
        ({"element": "ph", "resolution": "weekly"}, "resolution"),
        ({"element": "ph", "start": "yesterday"}, "start"),
        ({"element": "ph", "end": "2024-13-01"}, "end"),
        ({"element": "ph", "start": "2024-05-02", "end": "2024-05-01"}, "start"),
        ({"element": "ph", "max_points": 0}, "max_points"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(
    world: Any, params: dict[str, Any], field: str
) -> None:
    for url in (f"/api/devices/{world.device_a.pk}/series", f"/api/wells/{world.well_a.pk}/series"):
        r = world.client("bureau").get(url, params)
        assert r.status_code == 422, r.content
        body = r.json()
        assert body["detail"]
        assert field in [e["field"] for e in body["errors"]], body


def test_csv_export_streams_every_row_with_a_header(world: Any) -> None:
    ingest(quarter_hours(world.device_a.pk, 5000))
    ingest([ReadingRow(world.device_a.pk, "flow_rate", T0, 12.5, ReadingFlag.SUSPECT)])
    r = world.client("bureau").get(
        f"/api/devices/{world.device_a.pk}/series.csv", {"element": "depth_to_water"}
    )
    assert r.status_code == 200 and r.streaming
    assert r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"]
    chunks = list(r.streaming_content)
    assert len(chunks) > 1  # streamed in pieces, not built whole
    data = b"".join(chunks)
    assert data.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0][:3] == ["测站地址", "观测时间 (Asia/Shanghai)", "监测要素"]
    assert len(lines) == 1 + 5000
    assert lines[1] == ["0014052201", "2024-05-01 08:00:00", "depth_to_water", "20.0", "m", "0"]
    every = world.client("bureau").get(
        f"/api/devices/{world.device_a.pk}/series.csv",
        {"start": "2024-05-01T08:00", "end": "2024-05-01T08:00"},
    )
    rows = list(csv.reader(io.StringIO(b"".join(every.streaming_content).decode("utf-8-sig"))))
    assert [r[2:] for r in rows[1:]] == [
        ["depth_to_water", "20.0", "m", "0"],
        ["flow_rate", "12.5", "m³/h", "2"],
    ]
    bad = world.client("bureau").get(
        f"/api/devices/{world.device_a.pk}/series.csv", {"element": "nope"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "element"


def test_quarantine_list_is_for_the_bureau_only(world: Any) -> None:
    for i in range(7):
        QuarantinedFrame.objects.create(
            kind="malformed" if i % 2 else "unknown_station",
            reason=f"frame {i}",
            raw_hex="7E7E",
            protocol="SL651",
            station=f"00000000{i:02d}",
        )
    for role in ROLES:
        r = world.client(role).get("/api/quarantine/")
        if role == "bureau":
            body = r.json()
            assert r.status_code == 200 and body["count"] == 7
            assert body["items"][0]["reason"] == "frame 6"  # newest first
        else:
            assert r.status_code in (401, 403, 404), role
            assert b"7E7E" not in r.content
    client = world.client("bureau")
    page = client.get("/api/quarantine/", {"limit": 3, "offset": 3}).json()
    assert page["count"] == 7 and [i["reason"] for i in page["items"]] == [
        "frame 3",
        "frame 2",
        "frame 1",
    ]
    malformed = client.get("/api/quarantine/", {"kind": "malformed"}).json()
    assert malformed["count"] == 3
    assert client.get("/api/quarantine/", {"kind": "other"}).status_code == 422


def test_the_chart_snippet_and_its_scripts(world: Any) -> None:
    from django.contrib.staticfiles import finders
    from django.template.loader import render_to_string

    html = render_to_string("telemetry/_series_chart.html", {"well": world.well_a})
    assert f'data-url="/api/wells/{world.well_a.pk}/series"' in html
    assert 'value="depth_to_water"' in html and ">地下水埋深<" in html
    assert "/static/plotly/plotly.min.js" in html and "/static/aquifer/series.js" in html
    assert "cdn" not in html.lower()
    plotly_js = finders.find("plotly/plotly.min.js")
    assert plotly_js and "plotly.js" in open(plotly_js, encoding="utf-8").read(200)  # noqa: SIM115
    assert finders.find("aquifer/series.js")
    r = world.client("anonymous").get("/static/aquifer/series.js")
    assert r.status_code == 200 and b"/series" in b"".join(r.streaming_content)


def test_the_quarantine_in_the_admin_is_read_only(world: Any) -> None:
    from django.test import Client

    from aquifer.core.models import User

    frame = QuarantinedFrame.objects.create(kind="malformed", reason="cut short", raw_hex="7E")
    admin_user = User.objects.create_superuser("root", password="x")
    client = Client()
    client.force_login(admin_user)
    listing = client.get("/admin/telemetry/quarantinedframe/")
    assert listing.status_code == 200 and "cut short" in listing.content.decode()
    assert client.get("/admin/telemetry/quarantinedframe/add/").status_code == 403
    client.post(f"/admin/telemetry/quarantinedframe/{frame.pk}/delete/", {"post": "yes"})
    assert QuarantinedFrame.objects.filter(pk=frame.pk).exists()


@pytest.mark.parametrize("element", ["depth_to_water", "cumulative_volume"])
@pytest.mark.usefixtures("watermark_below_the_next_id")
def test_the_chart_is_current_before_the_rollups_are_merged(world: Any, element: str) -> None:
    """Readings above the rollup watermark are added to the stored rollups: the same points
    before any refresh, after a refresh that stops inside a bucket, and after a full one."""
    second = Device.objects.create(
        kind="level_logger", protocol="MQTT", station_address="logger-a-3", well=world.well_a
    )
    # Two devices of one well; the later ingest brings readings earlier than stored ones.
    ingest(quarter_hours(world.device_a.pk, 40, element=element))
    ingest(
        [
            ReadingRow(second.pk, element, T0 + timedelta(minutes=7 + 15 * i), 50.0 + i)
            for i in range(30)
        ]
    )
    ingest(
        [
            ReadingRow(world.device_a.pk, element, T0 + timedelta(minutes=5 + 15 * i), 30.0 - i)
            for i in range(0, 40, 3)
        ]
    )
    client = world.client("bureau")
    url = f"/api/wells/{world.well_a.pk}/series"

    def points() -> dict[str, Any]:
        return {
            res: client.get(url, {"element": element, "resolution": res}).json()["points"]
            for res in ("hourly", "daily", "auto")
        }

    def same(got: dict[str, Any], want: dict[str, Any]) -> None:  # sums in another order
        for res, pts in want.items():
            assert [p[0] for p in got[res]] == [p[0] for p in pts], res
            assert [p[1:] for p in got[res]] == [pytest.approx(p[1:], rel=1e-12) for p in pts]

    before = points()
    assert len(before["hourly"]) == 10 and len(before["daily"]) == 1
    refresh_rollups(max_rows=45, chunk_rows=17)  # stops inside an hour of device a
    same(points(), before)
    refresh_rollups()
    same(points(), before)
