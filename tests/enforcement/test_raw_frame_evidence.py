"""A case opened from an alarm on a registered device carries that device's archived raw
frames (hex as received, in the hash chain); an officer attaches more from the page and the
API; tampering with one is found by verify; pruning the archive leaves the evidence whole."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from aquifer.enforcement import evidence, services
from aquifer.monitoring.alarms import raise_alarm
from aquifer.telemetry import archive, store
from aquifer.telemetry.mapping import map_values
from aquifer.telemetry.models import RawFrame
from aquifer.telemetry.protocols import sl651
from tests.telemetry.test_gateway import report


def archive_report(device: Any, when: dt.datetime, serial: int, depth: float) -> bytes:
    """A report as the gateway stores it: its readings and the frame, one commit."""
    raw = report(serial=serial, when=when, depth=depth)
    received = when + dt.timedelta(seconds=5)
    values, _skipped, _status = map_values(sl651.decode(raw), received_at=received)
    rows = [store.ReadingRow(device.pk, k, at, v) for k, at, v in values]
    frame = (device.pk, "SL651", received, min(at for _k, at, _v in values), raw, "10.1.1.1:1")
    store.ingest(rows, [frame])
    return raw


def test_case_from_alarm_carries_the_devices_raw_frames(world: Any) -> None:
    now = timezone.now().replace(microsecond=0)
    old = archive_report(world.device_a, now - dt.timedelta(days=3), 1, 10.0)
    near = [
        archive_report(world.device_a, now - dt.timedelta(hours=h), 10 + h, 11.0 + h)
        for h in (2, 1)
    ]
    archive_report(world.device_a, now + dt.timedelta(days=2), 99, 9.0)  # after the alarm
    alarm = raise_alarm(
        kind="suspicious_reading", key="suspicious_reading:rf", title="跳变", device=world.device_a
    )
    case = services.open_from_alarm(alarm, by=world.accounts["inspector"])
    frames = list(case.evidence.filter(kind="frame").order_by("seq"))
    assert [f.content["raw_hex"] for f in frames] == [r.hex().upper() for r in near]
    first = frames[0].content
    assert first["archive"] == "raw_frame" and first["protocol"] == "SL651"
    assert first["sha256"] == hashlib.sha256(near[0]).hexdigest()
    assert "depth_to_water=13" in first["summary"] and first["remote_addr"] == "10.1.1.1:1"
    assert old.hex().upper() not in {f.content["raw_hex"] for f in frames}
    assert evidence.verify([case.pk]).ok

    # The case page and the API show them.
    page = world.client("inspector").get(case.get_absolute_url())
    assert page.status_code == 200 and near[0].hex().upper() in page.content.decode()
    api = world.client("inspector").get(f"/api/enforcement/cases/{case.pk}").json()
    assert [e["content"].get("raw_hex") for e in api["evidence"] if e["kind"] == "frame"] == [
        r.hex().upper() for r in near
    ]

    # An officer attaches more of the device's frames: a window through the API (those
    # attached already are left out), the old one through the page.
    with pytest.raises(ValidationError) as e:
        services.attach_archived_frames(case, by=world.accounts["inspector"])
    assert "start" in e.value.message_dict
    start = (now - dt.timedelta(days=4)).isoformat()
    r = world.client("inspector").post(
        f"/api/enforcement/cases/{case.pk}/evidence/frames",
        {"start": start, "end": (now - dt.timedelta(days=2)).isoformat()},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert [p["content"]["raw_hex"] for p in r.json()] == [old.hex().upper()]
    r = world.client("inspector").post(
        f"/enforcement/cases/{case.pk}/frames", {"start": "not a time", "end": ""}
    )
    assert r.status_code == 422
    r = world.client("township").post(
        f"/api/enforcement/cases/{case.pk}/evidence/frames", {}, content_type="application/json"
    )
    assert r.status_code == 403  # the township officer sees the case, does not work it

    # Pruning the archive takes nothing from the case.
    assert archive.prune(now=now + dt.timedelta(days=3), days=1) == 3
    assert RawFrame.objects.count() == 1 and evidence.verify([case.pk]).ok
    assert case.evidence.filter(kind="frame").count() == 3

    # A raw frame's hex changed behind the application's back: verify names that piece.
    target = frames[1]
    with connection.cursor() as c:
        if connection.vendor == "sqlite":
            c.execute("DROP TRIGGER enforcement_evidence_no_update")
        else:
            c.execute("SET CONSTRAINTS ALL IMMEDIATE")
            c.execute("ALTER TABLE enforcement_evidence DISABLE TRIGGER USER")
        content = {**target.content, "raw_hex": target.content["raw_hex"][:-2] + "00"}
        c.execute(
            "UPDATE enforcement_evidence SET content = %s WHERE id = %s",
            [json.dumps(content), target.pk],
        )
    result = evidence.verify([case.pk])
    assert not result.ok and result.broken is not None and result.broken.pk == target.pk
    assert result.problem == "content"
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("enforcement", "verify", stdout=io.StringIO(), stderr=err)
    assert f"id {target.pk}" in err.getvalue()
