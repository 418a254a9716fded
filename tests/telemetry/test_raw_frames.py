"""The raw-frame archive: the gateway keeps a registered device's frames as received, in the
commit of their readings; the archive is append-only and pruned after its retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from aquifer.core.jobs import jobs
from aquifer.telemetry import archive, store
from aquifer.telemetry.gateway import Gateway
from aquifer.telemetry.models import RawFrame, Reading
from aquifer.telemetry.protocols import sl651
from tests.telemetry.test_gateway import PASSWORD, Device, T, report, run


@pytest.fixture
def devices(world: Any) -> Any:
    world.device_a.set_secret(PASSWORD)
    world.device_a.save()
    return world


def test_gateway_archives_the_frame_as_received_with_its_readings(devices: Any) -> None:
    """Over a real TCP socket: the report's bytes are archived in the readings' commit (the
    hot path), a resend is archived again (each reception), a frame of an unknown station
    is not (the quarantine keeps it)."""
    frame = report(serial=11)
    later = report(serial=12, when=T + dt.timedelta(hours=1), depth=12.5)
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: Any) -> None:
        dev = await Device().open(gw.ports["SL651"])
        for f in (frame, frame, later):
            await dev.send(f)
            replies.append(await dev.reply())
        await dev.send(report(station="0099999999"))
        replies.append(await dev.reply(timeout=0.5))
        dev.close()

    run(scenario)
    assert replies[:3] == [sl651.acknowledge(sl651.decode(f)) for f in (frame, frame, later)]
    assert replies[3] is None
    archived = list(RawFrame.objects.order_by("id"))
    assert [bytes(a.raw) for a in archived] == [frame, frame, later]
    first = archived[0]
    assert first.device_id == devices.device_a.pk and first.protocol == "SL651"
    assert first.observed_at == T and first.remote_addr.startswith("127.0.0.1:")
    assert first.raw_hex == frame.hex().upper()
    assert Reading.objects.count() == 8  # the resend's readings once
    found = archive.frames_of(devices.device_a.pk, T, T + dt.timedelta(minutes=30))
    assert [f.raw_hex for f in found] == [frame.hex().upper()] * 2


def _frame(device_id: int, received: dt.datetime, raw: bytes = b"\x7e\x7e\x01") -> Any:
    return (device_id, "SL651", received, received, raw, "10.0.0.1:5000")


def test_archive_is_append_only_and_ingest_names_a_bad_frame(world: Any) -> None:
    now = timezone.now()
    row = [store.ReadingRow(world.device_a.pk, "depth_to_water", now, 1.0)]
    assert store.ingest(row, [_frame(world.device_a.pk, now)]) == 1
    with pytest.raises(DatabaseError), transaction.atomic():
        RawFrame.objects.update(remote_addr="changed")
    bad = (world.device_a.pk, "SL651", now.replace(tzinfo=None), None, b"\x01", "")
    later = [store.ReadingRow(world.device_a.pk, "depth_to_water", now, 2.0)]
    with pytest.raises(ValueError, match="frame 1: received_at"):
        store.ingest(later, [_frame(world.device_a.pk, now), bad])
    assert RawFrame.objects.count() == 1  # nothing of the refused batch


def test_retention_job_prunes_old_frames_and_keeps_the_rest(world: Any, settings: Any) -> None:
    now = timezone.now()
    device = world.device_a.pk
    ages = [500, 401, 399, 10, 0]
    for i, days in enumerate(ages):
        at = now - dt.timedelta(days=days)
        row = [store.ReadingRow(device, "depth_to_water", at, float(i))]
        store.ingest(row, [_frame(device, at, bytes([0x7E, i]))])
    assert jobs()["telemetry.raw_frames"].every == dt.timedelta(hours=6)
    assert jobs()["telemetry.raw_frames"].fn() == 2  # default: 400 days
    left = sorted(bytes(r)[1] for r in RawFrame.objects.values_list("raw", flat=True))
    assert left == [2, 3, 4]
    settings.AQUIFER = {**settings.AQUIFER, "TELEMETRY": {"RAW_FRAME_RETENTION_DAYS": 30}}
    assert archive.prune(now=now) == 1
    assert RawFrame.objects.count() == 2 and Reading.objects.count() == 5  # readings stay
    with pytest.raises(ValueError, match="RAW_FRAME_RETENTION_DAYS"):
        archive.prune(days=0)


def test_the_cutoff_is_found_by_the_key_across_gaps(world: Any) -> None:
    """Ids ascend with reception (with gaps where frames were pruned or rolled back): the
    first id received since the cutoff, for every cutoff."""
    now = timezone.now()
    device = world.device_a.pk
    for i in range(40):
        at = now - dt.timedelta(days=40 - i)
        store.ingest([store.ReadingRow(device, "depth_to_water", at, float(i))],
                     [_frame(device, at, bytes([0x7E, i]))])  # fmt: skip
    RawFrame.objects.filter(raw__in=[bytes([0x7E, i]) for i in (5, 6, 7, 20, 21)]).delete()
    rows = list(RawFrame.objects.order_by("pk").values_list("pk", "received_at"))
    for days in range(-1, 43):
        cutoff = now - dt.timedelta(days=days, hours=12)
        expected = next((pk for pk, at in rows if at >= cutoff), None)
        assert archive.first_id_received_since(cutoff) == expected, days
