"""The writer process's rollup pacing (``writer.RollupPacer``), on the test database."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aquifer.telemetry.models import ReadingHourly
from aquifer.telemetry.store import ReadingRow, ingest, rollup_backlog, rollup_mark
from aquifer.telemetry.writer import RollupPacer

T0 = datetime(2024, 5, 1, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("watermark_below_the_next_id")


@pytest.fixture
def small_windows(settings: Any) -> None:
    settings.AQUIFER = {
        **settings.AQUIFER,
        "TELEMETRY": {"ROLLUP_CHUNK_ROWS": 12, "ROLLUP_SLICE_ROWS": 3, "ROLLUP_MAX_LAG_S": 60},
    }


def store(world: Any, n: int, start: int = 0) -> int:
    rows = [
        ReadingRow(device, "depth_to_water", T0 + timedelta(minutes=15 * i), 10.0 + i)
        for device in (world.device_a.pk, world.device_b.pk)
        for i in range(start, start + n)
    ]
    return ingest(rows)


def test_with_no_batch_waiting_everything_is_merged_slice_by_slice(
    world: Any, small_windows: None
) -> None:
    pacer = RollupPacer()
    pacer.stored(store(world, 10))  # 20 readings: two windows
    ours, theirs = socket.socketpair()
    with ours, theirs:
        pacer.IDLE_S = 0.01
        pacer.between_batches(ours)
    assert not pacer.busy and rollup_backlog() == 0 and not rollup_mark().open
    assert sum(ReadingHourly.objects.values_list("n", flat=True)) == 20


def test_a_waiting_batch_waits_for_one_slice_at_most(world: Any, small_windows: None) -> None:
    pacer = RollupPacer()
    pacer.stored(store(world, 10))  # past the window size: due
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"a batch")
        pacer.between_batches(ours)  # one slice, then the batch
        assert rollup_mark().open and pacer.busy
        merged = sum(ReadingHourly.objects.values_list("n", flat=True))
        assert 0 < merged < 20
        pacer.between_batches(ours)  # the batch is still there: one more slice
        assert sum(ReadingHourly.objects.values_list("n", flat=True)) > merged


def test_a_few_readings_wait_for_idleness_or_the_lag(world: Any, small_windows: None) -> None:
    pacer = RollupPacer()
    pacer.stored(store(world, 2))  # 4 readings: below the window, not yet due
    assert not pacer.owed()
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"a batch")
        pacer.between_batches(ours)  # a batch came within IDLE_S: nothing merged
        assert rollup_backlog() == 4
    pacer.max_lag = 0.0
    assert pacer.owed()
    pacer.finish()
    assert rollup_backlog() == 0 and not pacer.busy
