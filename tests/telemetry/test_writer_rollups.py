"""The writer process's upkeep: its rollup pacing (``writer.RollupPacer``) on the test
database, the schedule of its thread (``writer.Upkeep``), and the thread beside ingesting
batches on a fresh SQLite database (upkeep_driver.py, run as a script): the rollups merged
exactly once while batches commit, and the WAL kept short by its checkpoints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aquifer.rights import stress
from aquifer.telemetry.models import ReadingHourly
from aquifer.telemetry.store import ReadingRow, RefreshStep, ingest, rollup_backlog, rollup_mark
from aquifer.telemetry.writer import RollupPacer, Upkeep

T0 = datetime(2024, 5, 1, tzinfo=UTC)
DRIVER = Path(__file__).with_name("upkeep_driver.py")


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


# --- the pacer --------------------------------------------------------------------------------


@pytest.mark.usefixtures("watermark_below_the_next_id")
def test_a_due_window_is_merged_slice_by_slice(world: Any, small_windows: None) -> None:
    pacer = RollupPacer()
    pacer.stored(store(world, 10))  # 20 readings: past the window size, due
    assert pacer.owed()
    pacer.run()
    assert rollup_mark().open and pacer.busy and pacer.owed()  # the window's next slice
    merged = sum(ReadingHourly.objects.values_list("n", flat=True))
    assert 0 < merged < 20
    slices = 1
    while pacer.busy:
        pacer.run()
        slices += 1
    assert rollup_backlog() == 0 and not rollup_mark().open
    assert sum(ReadingHourly.objects.values_list("n", flat=True)) == 20
    assert slices > 2  # two windows of 12 and 8 ids, slices of ~3 readings


@pytest.mark.usefixtures("watermark_below_the_next_id")
def test_a_few_readings_wait_for_the_lag(world: Any, small_windows: None) -> None:
    pacer = RollupPacer()
    pacer.stored(store(world, 2))  # 4 readings: below the window, not yet due
    assert pacer.busy and not pacer.owed()
    assert rollup_backlog() == 4
    pacer.max_lag = 0.0
    assert pacer.owed()
    pacer.finish()
    assert rollup_backlog() == 0 and not pacer.busy


# --- the thread's schedule (no database: the pacer's slices and the checkpoints recorded) -----


class RecordingPacer(RollupPacer):
    """Each slice merges everything pending (recorded, no database)."""

    def __init__(self) -> None:
        self.chunk, self.slice, self.max_lag = 100, 10, 60.0
        self.pending, self.since, self.window_open = 0, None, False
        self.slices: list[int] = []

    def run(self, state: Any = None) -> None:
        with state:
            self.slices.append(self.pending)
            self._after(RefreshStep(self.pending, False, True))


@pytest.fixture
def checkpoints(monkeypatch: Any) -> list[float]:
    calls: list[float] = []
    monkeypatch.setattr(
        "aquifer.telemetry.store.checkpoint_wal",
        lambda pages=None: calls.append(time.monotonic()) or (0, 0),
    )
    return calls


def test_the_schedule_of_slices_and_checkpoints() -> None:
    upkeep = Upkeep(RecordingPacer())
    assert upkeep._due() == (None, False)  # nothing stored: wait for a batch
    upkeep.stored(100)  # a window's worth: a slice now
    assert upkeep._due() == (0.0, True)
    upkeep.pacer.pending = 5  # a few readings: merged once no batch has come for IDLE_S
    wait, merge = upkeep._due()
    assert not merge and 0 < wait <= upkeep.pacer.IDLE_S
    upkeep.last_batch -= upkeep.pacer.IDLE_S
    assert upkeep._due() == (0.0, True)
    upkeep.pacer.pending, upkeep.pacer.since = 0, None  # merged: a checkpoint still due
    wait, merge = upkeep._due()
    assert not merge and 0 < wait <= upkeep.CHECKPOINT_EVERY_S
    upkeep.unchecked = False
    assert upkeep._due() == (None, False)


def test_the_thread_merges_and_checkpoints_beside_the_batches(
    checkpoints: list[float],
) -> None:
    pacer = RecordingPacer()
    pacer.IDLE_S = 30.0  # a few readings are not merged within the test
    upkeep = Upkeep(pacer)
    upkeep.CHECKPOINT_EVERY_S = 0.05
    upkeep.start()
    try:
        upkeep.stored(150)  # due at once
        deadline = time.monotonic() + 5
        while not (pacer.slices and checkpoints) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pacer.slices == [150] and len(checkpoints) >= 1  # a checkpoint after a slice
        upkeep.stored(3)  # not due: a checkpoint within CHECKPOINT_EVERY_S, no slice
        seen = len(checkpoints)
        time.sleep(0.3)
        assert pacer.slices == [150] and len(checkpoints) == seen + 1
    finally:
        started = time.monotonic()
        upkeep.stop()
    assert time.monotonic() - started < 1 and not upkeep.thread.is_alive()


# --- the thread on a real database ------------------------------------------------------------


@pytest.mark.slow
def test_beside_ingest_the_rollups_are_exact_and_the_wal_stays_short(tmp_path: Path) -> None:
    """200 devices, 80 batches of 2,000 readings; ``wal_autocheckpoint`` 500 pages. With the
    upkeep thread the WAL stays within a few batches of 500 pages; without it (the batches'
    commits leave the checkpoints to the thread) it holds every batch."""
    env = stress.fresh_database("sqlite", str(tmp_path), name="upkeep")
    env["AQUIFER_SQLITE_WAL_PAGES"] = "500"
    env["PYTHONPATH"] = os.pathsep.join([str(Path.cwd()), env.get("PYTHONPATH", "")])
    migrated = tmp_path / "migrated.sqlite3"
    shutil.copy(tmp_path / "upkeep.sqlite3", migrated)
    results = {}
    for mode in ("upkeep", "none"):
        shutil.copy(migrated, tmp_path / "upkeep.sqlite3")
        out = subprocess.run(
            [sys.executable, str(DRIVER), "200", "80", mode],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr[-3000:]
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    for r in results.values():
        assert r["readings"] == 160_000 == r["max_id"] == r["watermark"], r
        assert r["hourly_n"] == r["daily_n"] == 160_000, r  # every reading merged, once
        assert r["checkpoint_pages"] == 500, r
    assert results["none"]["largest_wal_pages"] > 20_000, results
    assert results["upkeep"]["largest_wal_pages"] < 5_000, results
