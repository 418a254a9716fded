"""The forwarding status page and API, and the exchange files."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import Client
from openpyxl import load_workbook

from aquifer.telemetry.forwarding.outbox import enqueue
from aquifer.telemetry.models import OutboxFrame, Upstream
from aquifer.telemetry.store import ingest_tuples, refresh_rollups


def test_forwarding_status_per_destination(world: Any) -> None:
    up = Upstream.objects.create(name="省水资源监控平台", host="10.0.0.1", port=6001,
                                 protocol="SL651")  # fmt: skip
    up.devices.add(world.device_a)
    for _ in range(3):
        enqueue(world.device_a.pk, "SL651", "0014052201", b"\x7e\x7e")
    OutboxFrame.objects.filter(pk=OutboxFrame.objects.order_by("id")[0].pk).update(
        status="acknowledged"
    )
    OutboxFrame.objects.filter(pk=OutboxFrame.objects.order_by("-id")[0].pk).update(
        status="failed", last_error="TimeoutError: no reply"
    )
    bureau = world.client("bureau")
    (dest,) = bureau.get("/api/opendata/forwarding/destinations").json()
    assert dest["counts"] == {"queued": 1, "sent": 0, "acknowledged": 1, "failed": 1}
    frames = bureau.get(f"/api/opendata/forwarding/destinations/{up.pk}/frames?status=failed")
    assert [f["last_error"] for f in frames.json()] == ["TimeoutError: no reply"]
    page = bureau.get("/opendata/forwarding/")
    assert page.status_code == 200 and "省水资源监控平台" in page.content.decode()
    assert "TimeoutError" in page.content.decode()
    assert world.client("township").get("/api/opendata/forwarding/destinations").status_code == 403
    assert Client().get("/opendata/forwarding/").status_code == 302  # to log in


def test_exchange_files_daily_levels_and_quality(world: Any) -> None:
    t0 = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)  # 08:30 Beijing time
    ingest_tuples([(world.device_a.pk, "depth_to_water", t0 + timedelta(hours=h), 10.0 + h, 0)
                   for h in range(4)])  # fmt: skip
    refresh_rollups()
    bureau = world.client("bureau")
    got = bureau.get("/api/opendata/exchange/levels",
                     {"start": "2026-03-01", "end": "2026-03-01"})  # fmt: skip
    assert got.status_code == 200
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["测站编码", "测站名称", "日期"]
    assert rows[1][0] == world.well_a.code and rows[1][2] == "2026-03-01"
    assert float(rows[1][4]) == 11.5 and rows[1][7] == "4"
    xlsx = bureau.get("/opendata/exchange/", {"file": "quality", "start": "2026-01-01",
                                              "end": "2026-12-31", "format": "xlsx"})  # fmt: skip
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and next(sheet.values)[1] == "样品编号"
    bad = bureau.get("/api/opendata/exchange/levels", {"start": "2026-03-02", "end": "2026-03-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "start"
    assert bureau.get("/opendata/exchange/", {"start": "x"}).status_code == 200
