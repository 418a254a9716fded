"""The readings store: idempotent bulk ingest, exact rollups, refusals, quarantine."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aquifer.telemetry.elements import ELEMENTS
from aquifer.telemetry.models import (
    QuarantinedFrame,
    Reading,
    ReadingDaily,
    ReadingFlag,
    ReadingHourly,
)
from aquifer.telemetry.store import (
    ReadingRow,
    bucket_end,
    bucket_start,
    ingest,
    ingest_tuples,
    quarantine,
    rebuild_rollups,
    refresh_rollups,
    refresh_step,
    rollup_backlog,
    rollup_mark,
    rollup_tail,
    rollup_watermark,
)
from aquifer.telemetry.store.postgres import _Postgres
from aquifer.telemetry.store.sqlite import _SQLite

T0 = datetime(2024, 5, 1, 0, 0, tzinfo=UTC)  # 08:00 in Asia/Shanghai


pytestmark = pytest.mark.usefixtures("watermark_below_the_next_id")


def rows(
    device_id: int,
    n: int,
    step_min: int = 15,
    element: str = "depth_to_water",
    start: datetime = T0,
    value0: float = 10.0,
) -> list[ReadingRow]:
    return [
        ReadingRow(device_id, element, start + timedelta(minutes=step_min * i), value0 + i / 100)
        for i in range(n)
    ]


def expected_rollups(tz: str) -> tuple[dict[tuple[Any, ...], dict[str, Any]], dict[Any, Any]]:
    """Hourly and daily aggregates recomputed in Python from the raw rows in the database."""
    zone = ZoneInfo(tz)
    groups: dict[str, dict[tuple[Any, ...], list[tuple[datetime, float]]]] = {
        "hourly": defaultdict(list),
        "daily": defaultdict(list),
    }
    for r in Reading.objects.order_by("observed_at"):
        if r.flags & ReadingFlag.REJECTED:
            continue
        local = r.observed_at.astimezone(zone)
        hour = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
        groups["hourly"][(r.device_id, r.element, hour)].append((r.observed_at, r.value))
        groups["daily"][(r.device_id, r.element, day)].append((r.observed_at, r.value))
    out = []
    for res in ("hourly", "daily"):
        out.append(
            {
                key: {
                    "n": len(vs),
                    "min": min(v for _, v in vs),
                    "max": max(v for _, v in vs),
                    "sum": math.fsum(v for _, v in vs),
                    "first": vs[0][1],
                    "last": vs[-1][1],
                    "first_at": vs[0][0],
                    "last_at": vs[-1][0],
                }
                for key, vs in groups[res].items()
            }
        )
    return out[0], out[1]


def stored_rollups(model: Any) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {
        (r.device_id, r.element, r.bucket): {
            "n": r.n,
            "min": r.min,
            "max": r.max,
            "sum": r.sum,
            "first": r.first,
            "last": r.last,
            "first_at": r.first_at,
            "last_at": r.last_at,
        }
        for r in model.objects.all()
    }


def assert_rollups_exact(tz: str = "Asia/Shanghai", refresh: bool = True) -> None:
    """The stored rollups equal a recomputation from the raw rows, once every reading has
    been merged (``refresh``: merge what is left first)."""
    if refresh:
        refresh_rollups()
    assert rollup_backlog() == 0
    hourly, daily = expected_rollups(tz)
    for model, expected in ((ReadingHourly, hourly), (ReadingDaily, daily)):
        got = stored_rollups(model)
        assert set(got) == set(expected), model.__name__
        for key, exp in expected.items():
            g = got[key]
            fields = ("n", "min", "max", "first", "last", "first_at", "last_at")
            assert [g[f] for f in fields] == [exp[f] for f in fields], (model, key)
            assert g["sum"] == pytest.approx(exp["sum"], rel=1e-12, abs=1e-9), (model, key)


# --- Idempotence ------------------------------------------------------------------------------


def test_resent_readings_are_stored_once(world: Any) -> None:
    batch = rows(world.device_a.pk, 10)
    assert ingest(batch) == 10
    assert ingest(batch) == 0  # a full resend
    assert ingest(list(reversed(batch))) == 0
    more = rows(world.device_a.pk, 15)  # 10 old, 5 new
    assert ingest(more) == 5
    assert Reading.objects.count() == 15
    assert_rollups_exact()


def test_a_batch_meeting_stored_readings_stores_the_rest_and_changes_nothing(
    world: Any, monkeypatch: Any
) -> None:
    """PostgreSQL copies a batch straight into the readings first; a batch holding a stored
    reading is rolled back to its savepoint and stored through the conflict-ignoring path,
    which the next batches then take straight away for a while."""
    monkeypatch.setattr(_Postgres, "_slow_left", 0)
    monkeypatch.setattr(_Postgres, "SLOW_AFTER_CONFLICT", 2)
    copies: list[int] = []
    copy_fresh = _Postgres._copy_fresh

    def spy(self: Any, cursor: Any, batch: Any, received_at: Any) -> bool:
        copies.append(len(batch))
        return copy_fresh(self, cursor, batch, received_at)

    monkeypatch.setattr(_Postgres, "_copy_fresh", spy)
    a, b = world.device_a.pk, world.device_b.pk
    assert ingest(rows(a, 4)) == 4
    mixed = rows(a, 8, value0=50.0) + rows(b, 3)  # 4 of device a's stored, with other values
    assert ingest(list(reversed(mixed))) == 7
    assert ingest(rows(b, 5)) == 2  # the staged path straight away
    assert ingest(rows(b, 6)) == 1  # and once more
    assert ingest(rows(b, 7)) == 1  # copied first again
    stored = dict(Reading.objects.filter(device_id=a).values_list("observed_at", "value"))
    assert [stored[r.observed_at] for r in rows(a, 8)] == [
        10.0, 10.01, 10.02, 10.03, 50.04, 50.05, 50.06, 50.07
    ]  # fmt: skip
    assert Reading.objects.count() == 15
    if connection.vendor == "postgresql":
        assert copies == [4, 11, 7]
    assert_rollups_exact()


def test_duplicates_within_a_batch_count_once_and_the_first_value_wins(world: Any) -> None:
    r = ReadingRow(world.device_a.pk, "flow_rate", T0, 3.5)
    assert ingest([r, r, ReadingRow(world.device_a.pk, "flow_rate", T0, 99.0)]) == 1
    assert ingest([ReadingRow(world.device_a.pk, "flow_rate", T0, 42.0)]) == 0
    assert list(Reading.objects.values_list("value", flat=True)) == [3.5]
    refresh_rollups()
    assert ReadingHourly.objects.get().max == 3.5


def test_same_time_other_element_or_device_is_a_new_reading(world: Any) -> None:
    a, b = world.device_a.pk, world.device_b.pk
    assert (
        ingest(
            [
                ReadingRow(a, "depth_to_water", T0, 1.0),
                ReadingRow(a, "water_level", T0, 2.0),
                ReadingRow(b, "depth_to_water", T0, 3.0),
            ]
        )
        == 3
    )


def test_rows_stored_through_the_orm_are_recognised_by_ingest(world: Any) -> None:
    """Both paths must write times identically, or the unique constraint would not match."""
    t = T0 + timedelta(seconds=1, microseconds=250)
    Reading.objects.create(device=world.device_a, element="ph", observed_at=t, value=7.0)
    Reading.objects.create(device=world.device_a, element="ph", observed_at=T0, value=7.1)
    offset = t.astimezone(ZoneInfo("Asia/Shanghai"))  # the same instant, another offset
    assert (
        ingest(
            [
                ReadingRow(world.device_a.pk, "ph", offset, 8.0),
                ReadingRow(world.device_a.pk, "ph", T0, 8.0),
            ]
        )
        == 0
    )
    assert Reading.objects.count() == 2


def test_fields_are_stored_as_given(world: Any) -> None:
    row = ReadingRow(world.device_b.pk, "cumulative_volume", T0, 12345, ReadingFlag.MANUAL)
    assert ingest([row]) == 1
    r = Reading.objects.get()
    assert (r.device_id, r.element, r.observed_at, r.value, r.flags) == (
        world.device_b.pk,
        "cumulative_volume",
        T0,
        12345.0,
        8,
    )
    assert r.received_at is not None


# --- Refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"element": "depth"}, "row 2: unknown element 'depth'"),
        ({"value": float("nan")}, "row 2: value nan is not finite"),
        ({"value": float("inf")}, "row 2: value inf is not finite"),
        ({"value": "1.5"}, "row 2: value '1.5' is not a number"),
        ({"observed_at": datetime(2024, 5, 1)}, "row 2: observed_at"),
        ({"flags": -1}, "row 2: flags"),
        ({"flags": 70000}, "row 2: flags"),
    ],
)
def test_bad_rows_are_refused_before_anything_is_written(
    world: Any, bad: dict[str, Any], message: str
) -> None:
    batch = rows(world.device_a.pk, 4)
    fields = {
        "device_id": batch[2].device_id,
        "element": batch[2].element,
        "observed_at": batch[2].observed_at,
        "value": batch[2].value,
        **bad,
    }
    batch[2] = ReadingRow(**fields)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        ingest(batch)
    assert Reading.objects.count() == 0
    assert ReadingHourly.objects.count() == ReadingDaily.objects.count() == 0


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ((1, "depth", None, 1.0, 0), "row 2: unknown element 'depth'"),
        ((1, "ph", None, float("nan"), 0), "row 2: value nan is not finite"),
        ((1, "ph", None, True, 0), "row 2: value True is not a number"),
        ((1, "ph", datetime(2024, 5, 1), 1.0, 0), "row 2: observed_at"),
        ((1, "ph", None, 1.0, -1), "row 2: flags"),
        (("1", "ph", None, 1.0, 0), "row 2: device_id '1' is not an integer"),
        ((1, "ph", None, 1.0), "row 2: expected (device_id, element, observed_at, value, flags)"),
    ],
)
def test_ingest_tuples_refuses_bad_rows_as_ingest_does(
    world: Any, bad: tuple[Any, ...], message: str
) -> None:
    batch: list[Any] = [
        (r.device_id, r.element, r.observed_at, r.value, r.flags)
        for r in rows(world.device_a.pk, 4)
    ]
    batch[2] = tuple(T0 if v is None and i == 2 else v for i, v in enumerate(bad))
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ingest_tuples(batch)
    assert Reading.objects.count() == 0
    assert ReadingHourly.objects.count() == ReadingDaily.objects.count() == 0


def test_ingest_tuples_stores_once_like_ingest(world: Any) -> None:
    a = world.device_a.pk
    batch = [(a, "flow_rate", T0, 3.5, 0), (a, "flow_rate", T0, 99.0, 0), (a, "ph", T0, 7, 0)]
    assert ingest_tuples(batch) == 2  # the first of two rows with one key wins
    assert ingest_tuples(batch) == 0
    assert ingest([ReadingRow(a, "ph", T0, 8.0)]) == 0
    stored = dict(Reading.objects.values_list("element", "value"))
    assert stored == {"flow_rate": 3.5, "ph": 7.0}
    assert_rollups_exact()


def test_every_element_key_is_accepted(world: Any) -> None:
    batch = [ReadingRow(world.device_a.pk, key, T0, 1.0) for key in ELEMENTS]
    assert ingest(batch) == len(ELEMENTS)


def test_empty_batch(world: Any) -> None:
    assert ingest([]) == 0


def test_ingest_refuses_to_run_inside_a_callers_transaction(world: Any) -> None:
    """It must commit before it returns: inside an atomic block it could not."""
    with transaction.atomic(), pytest.raises(RuntimeError, match="durable"):
        ingest(rows(world.device_a.pk, 1))


# --- Rollups ----------------------------------------------------------------------------------


def test_rollups_of_a_day(world: Any) -> None:
    # 2024-05-01 00:00 UTC is 08:00 Beijing time: 64 quarter hours to the local midnight.
    assert ingest(rows(world.device_a.pk, 96)) == 96
    refresh_rollups()
    days = list(ReadingDaily.objects.order_by("bucket").values_list("bucket", "n"))
    assert days == [
        (datetime(2024, 4, 30, 16, tzinfo=UTC), 64),
        (datetime(2024, 5, 1, 16, tzinfo=UTC), 32),
    ]
    assert ReadingHourly.objects.count() == 24
    first_hour = ReadingHourly.objects.order_by("bucket").first()
    assert first_hour is not None
    assert (first_hour.n, first_hour.first, first_hour.last) == (4, 10.0, 10.03)
    assert first_hour.mean == pytest.approx(10.015)
    assert_rollups_exact()


def test_rejected_readings_are_kept_but_left_out_of_rollups(world: Any) -> None:
    a = world.device_a.pk
    ingest(
        [
            ReadingRow(a, "depth_to_water", T0, 10.0),
            ReadingRow(
                a,
                "depth_to_water",
                T0 + timedelta(minutes=15),
                900.0,
                ReadingFlag.REJECTED | ReadingFlag.SUSPECT,
            ),
            ReadingRow(a, "depth_to_water", T0 + timedelta(minutes=30), 11.0),
        ]
    )
    assert Reading.objects.count() == 3
    refresh_rollups()
    hour = ReadingHourly.objects.get()
    assert (hour.n, hour.max, hour.last) == (2, 11.0, 11.0)
    assert_rollups_exact()


def test_rebuild_after_a_reading_is_rejected_later(world: Any) -> None:
    a = world.device_a.pk
    ingest(rows(a, 8))
    refresh_rollups()
    spike = Reading.objects.get(observed_at=T0 + timedelta(minutes=30))
    Reading.objects.filter(pk=spike.pk).update(flags=ReadingFlag.REJECTED)
    assert ReadingHourly.objects.order_by("bucket").first().n == 4  # type: ignore[union-attr]
    assert rebuild_rollups(a, "depth_to_water", T0, T0 + timedelta(hours=1)) == 7  # usable
    assert ReadingHourly.objects.order_by("bucket").first().n == 3  # type: ignore[union-attr]
    assert_rollups_exact()
    Reading.objects.filter(device_id=a, observed_at__lt=T0 + timedelta(hours=1)).update(
        flags=ReadingFlag.REJECTED
    )
    rebuild_rollups(a, "depth_to_water")
    assert ReadingHourly.objects.count() == 1  # the first hour has no usable reading left
    assert_rollups_exact()


def test_buckets_follow_local_days_across_daylight_saving(world: Any, settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    day = datetime(2024, 3, 31, tzinfo=berlin)  # 23 hours long
    start = bucket_start(day.astimezone(UTC) + timedelta(hours=5), "daily")
    assert start == day.astimezone(UTC)
    assert bucket_end(start, "daily") - start == timedelta(hours=23)
    ingest(rows(world.device_a.pk, 26, step_min=60, start=day.astimezone(UTC)))
    refresh_rollups()
    days = list(ReadingDaily.objects.order_by("bucket").values_list("n", flat=True))
    assert days == [23, 3]
    assert_rollups_exact("Europe/Berlin")


def test_ingest_leaves_the_rollups_to_the_refresh(world: Any) -> None:
    a = world.device_a.pk
    assert ingest(rows(a, 8)) == 8
    assert ReadingHourly.objects.count() == ReadingDaily.objects.count() == 0
    assert rollup_backlog() == 8
    mark = rollup_watermark()
    assert refresh_rollups() == 8
    assert rollup_watermark() == mark + 8 == Reading.objects.order_by("-id").first().pk  # type: ignore[union-attr]
    assert refresh_rollups() == 0  # nothing new: nothing moves, nothing counted twice
    assert ReadingHourly.objects.get(bucket=T0).n == 4
    assert_rollups_exact(refresh=False)


def test_refresh_in_chunks_and_with_a_limit(world: Any) -> None:
    a, b = world.device_a.pk, world.device_b.pk
    ingest(rows(a, 10) + rows(b, 10, element="flow_rate"))
    assert refresh_rollups(max_rows=7, chunk_rows=3) == 7
    assert rollup_backlog() == 13
    assert sum(ReadingHourly.objects.values_list("n", flat=True)) == 7
    assert refresh_rollups(chunk_rows=4) == 13
    assert_rollups_exact(refresh=False)


def test_a_reading_rejected_before_its_merge_is_left_out(world: Any) -> None:
    a = world.device_a.pk
    ingest(rows(a, 4))
    Reading.objects.filter(observed_at=T0).update(flags=ReadingFlag.REJECTED)
    refresh_rollups()
    assert ReadingHourly.objects.get().n == 3
    assert_rollups_exact(refresh=False)


def test_rebuild_leaves_readings_above_the_watermark_to_the_refresh(world: Any) -> None:
    a = world.device_a.pk
    ingest(rows(a, 4))
    refresh_rollups()
    ingest(rows(a, 8))  # 4 more in the same hour and the next, not merged yet
    assert rebuild_rollups(a, "depth_to_water") == 4  # only what the rollups hold
    assert ReadingHourly.objects.get().n == 4
    refresh_rollups()
    assert sorted(ReadingHourly.objects.values_list("n", flat=True)) == [4, 4]
    assert_rollups_exact(refresh=False)


def test_a_window_is_merged_slice_by_slice(world: Any) -> None:
    a, b = sorted([world.device_a.pk, world.device_b.pk])
    ingest(rows(a, 6) + rows(b, 6) + rows(a, 2, element="flow_rate"))
    first = refresh_step(chunk_rows=100, slice_rows=7)  # 14 readings, 2 devices: 2 slices
    assert (first.moved, first.window_open, first.merged) == (0, True, True)
    mark = rollup_mark()
    assert mark.open and a < mark.next_device <= b and mark.window_end - mark.reading_id >= 14
    assert mark.merged_through(a) == mark.window_end and mark.merged_through(b) < mark.window_end
    # Device a is merged, both elements; b is not, and the tail says so.
    assert sum(ReadingHourly.objects.filter(device_id=a).values_list("n", flat=True)) == 8
    assert not ReadingHourly.objects.filter(device_id=b).exists()
    _, tail = rollup_tail(lambda found: None, [a, b], "depth_to_water", "daily")
    assert [(t.device_id, t.n) for t in tail] == [(b, 6)]
    # A rebuild of a merged device keeps its window readings, of the other leaves them out.
    assert rebuild_rollups(a, "depth_to_water") == 6
    assert rebuild_rollups(b, "depth_to_water") == 0
    last = refresh_step(chunk_rows=100, slice_rows=7)
    assert not last.window_open and last.moved == mark.window_end - mark.reading_id
    assert rollup_watermark() == mark.window_end
    assert not refresh_step().merged  # nothing left
    assert_rollups_exact(refresh=False)


def test_a_full_refresh_finishes_an_open_window(world: Any) -> None:
    a, b = world.device_a.pk, world.device_b.pk
    ingest(rows(a, 6) + rows(b, 6))
    assert refresh_step(chunk_rows=8, slice_rows=2).window_open  # a window of 8 ids
    ingest(rows(a, 9))  # more after the window
    refresh_rollups()
    assert not rollup_mark().open
    assert_rollups_exact(refresh=False)


def test_a_slice_computed_while_another_merge_moved_the_watermark_is_dropped(
    world: Any, monkeypatch: Any
) -> None:
    """SQLite computes a slice's groups outside the write transaction (ingest commits
    meanwhile); if the watermark moved in between (the job of another process merged), the
    slice writes nothing and the rollups hold every reading once. (PostgreSQL merges in
    one transaction, holding the watermark's row: the hook is not called there.)"""
    a, b = world.device_a.pk, world.device_b.pk
    ingest(rows(a, 6) + rows(b, 6))
    prepare = _SQLite.prepare
    raced: list[int] = []

    def meanwhile(self: Any, *args: Any) -> None:
        if not raced:
            raced.append(0)
            raced[0] = refresh_rollups()  # the other process: everything, at once
        prepare(self, *args)

    monkeypatch.setattr(_SQLite, "prepare", meanwhile)
    step = refresh_step(chunk_rows=8, slice_rows=2)
    if connection.vendor == "sqlite":
        assert raced == [12] and step.moved == 0 and step.merged
        assert rollup_backlog() == 0 and not refresh_step().merged
    assert_rollups_exact()


def test_a_slice_computed_before_a_reading_was_rejected_is_dropped(
    world: Any, monkeypatch: Any
) -> None:
    """A reading of the slice being computed is rejected and its rollups rebuilt (the
    monitoring sweep) before the slice is merged: the slice must not bring it back."""
    a = world.device_a.pk
    ingest(rows(a, 8))
    prepare = _SQLite.prepare
    rejected: list[int] = []

    def reject_the_first() -> None:
        reading = Reading.objects.order_by("observed_at").first()
        assert reading is not None
        Reading.objects.filter(pk=reading.pk).update(flags=ReadingFlag.REJECTED)
        rejected.append(rebuild_rollups(a, "depth_to_water"))

    def meanwhile(self: Any, *args: Any) -> None:
        prepare(self, *args)  # the groups are computed with the reading still usable
        if not rejected:
            reject_the_first()

    monkeypatch.setattr(_SQLite, "prepare", meanwhile)
    step = refresh_step(chunk_rows=100)
    if connection.vendor == "sqlite":
        assert rejected == [0] and step.moved == 0  # dropped
    else:  # one transaction holding the watermark's row: the rejection comes after it
        reject_the_first()
    refresh_rollups()
    assert sum(ReadingHourly.objects.values_list("n", flat=True)) == 7
    assert_rollups_exact()


def test_the_tail_adds_what_the_rollups_do_not_hold_yet(world: Any) -> None:
    a, b = world.device_a.pk, world.device_b.pk
    ingest(rows(a, 6))
    refresh_rollups()
    ingest(rows(a, 10) + rows(b, 3) + rows(a, 2, element="flow_rate"))
    stored, tail = rollup_tail(
        lambda found: set(ReadingHourly.objects.values_list("bucket", "n")),
        [a, b],
        "depth_to_water",
        "hourly",
    )
    assert stored == {(T0, 4), (T0 + timedelta(hours=1), 2)}  # device a's first 6
    got = [(t.device_id, t.bucket, t.n, t.first, t.last) for t in tail]
    assert got == sorted(
        [
            (a, T0 + timedelta(hours=1), 2, 10.06, 10.07),
            (a, T0 + timedelta(hours=2), 2, 10.08, 10.09),
            (b, T0, 3, 10.0, 10.02),
        ]
    )
    # A range selects whole buckets; an end inside an hour keeps that hour.
    _, late = rollup_tail(lambda found: None, [a], "depth_to_water", "daily", T0, T0)
    assert [(t.n, t.min, t.max) for t in late] == [(4, 10.06, 10.09)]
    _, none = rollup_tail(
        lambda found: None, [b], "depth_to_water", "hourly", T0 + timedelta(hours=1)
    )
    assert none == []


def test_the_tail_is_read_again_when_a_refresh_moves_the_watermark(world: Any) -> None:
    a = world.device_a.pk
    ingest(rows(a, 4))
    reads: list[bool] = []

    def read(found: bool) -> int:
        reads.append(found)
        if len(reads) == 1:
            refresh_rollups()  # a refresh commits between the two reads
        return ReadingHourly.objects.count()

    stored, tail = rollup_tail(read, [a], "depth_to_water", "hourly")
    assert reads == [True, False]  # first with the tail, then again with none left
    assert (stored, tail) == (1, [])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    readings=st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]),
            st.sampled_from(["depth_to_water", "flow_rate"]),
            st.integers(0, 3 * 24 * 4),  # quarter hours over three days
            st.sampled_from([0, 0, 0, 1, 500_000]),  # microseconds (text order in SQLite)
            st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
            st.sampled_from([0, 0, 0, int(ReadingFlag.SUSPECT), int(ReadingFlag.REJECTED)]),
        ),
        min_size=1,
        max_size=60,
    ),
    cuts=st.lists(st.integers(0, 60), max_size=6),
    resend=st.lists(st.integers(0, 59), max_size=20),
    refreshes=st.lists(
        st.none() | st.tuples(st.integers(1, 7), st.none() | st.integers(1, 20)), max_size=7
    ),
)
def test_rollups_equal_a_recomputation_after_random_interleaved_batches(
    world: Any,
    readings: list[tuple[Any, ...]],
    cuts: list[int],
    resend: list[int],
    refreshes: list[tuple[int, int | None] | None],
) -> None:
    """Through both entry points (``ingest`` and ``ingest_tuples``, batch by batch), with
    partial refreshes of random chunk sizes between the batches: every reading is merged
    exactly once."""
    Reading.objects.all().delete()
    ReadingHourly.objects.all().delete()
    ReadingDaily.objects.all().delete()
    ids = {"a": world.device_a.pk, "b": world.device_b.pk}
    all_rows = [
        ReadingRow(ids[d], el, T0 + timedelta(minutes=15 * q, microseconds=us), v, f)
        for d, el, q, us, v, f in readings
    ]
    # Split into batches at the cut points, and append resends of earlier rows to each batch.
    bounds = sorted({0, len(all_rows), *(c for c in cuts if c < len(all_rows))})
    batches = [all_rows[i:j] for i, j in itertools.pairwise(bounds)]
    for k, i in enumerate(resend):
        batches[k % len(batches)].append(all_rows[i % len(all_rows)])
    total = 0
    for k, b in enumerate(batches):
        if k % 2:
            total += ingest(b)
        else:
            total += ingest_tuples(
                [(r.device_id, r.element, r.observed_at, r.value, r.flags) for r in b]
            )
        step = refreshes[k] if k < len(refreshes) else None
        if step is not None and step[1] is not None and step[1] % 2:
            refresh_step(chunk_rows=step[1], slice_rows=step[0])  # one paced slice
        elif step is not None:
            before = rollup_backlog()
            moved = refresh_rollups(max_rows=step[1], chunk_rows=step[0])
            assert moved == before if step[1] is None else moved >= min(before, step[1])
            assert rollup_backlog() == before - moved
    distinct = {(r.device_id, r.element, r.observed_at) for r in all_rows}
    assert total == len(distinct) == Reading.objects.count()
    assert_rollups_exact()


# --- Quarantine -------------------------------------------------------------------------------


def test_quarantine_keeps_the_frame_as_hex(db: Any) -> None:
    frame = quarantine(
        "unknown_station",
        "station 0099999999 not registered",
        b"\x7e\x7e\x00\x99",
        protocol="SL651",
        remote_addr="10.0.0.7:5001",
        station="0099999999",
    )
    stored = QuarantinedFrame.objects.get(pk=frame.pk)
    assert (stored.raw_hex, stored.kind, stored.protocol, stored.station) == (
        "7E7E0099",
        "unknown_station",
        "SL651",
        "0099999999",
    )
    with pytest.raises(ValueError):
        quarantine("lost", "not a kind")


def test_latest_reading_is_kept_current_on_ingest(world: Any) -> None:
    """The latest table holds each series' newest non-rejected stored reading: an older
    resend or a rejected newer reading leaves it alone; the first stored value wins."""
    from aquifer.telemetry.models import LatestReading, Reading, ReadingFlag

    dev = world.device_a.pk
    t0 = datetime(2026, 1, 1, 8, tzinfo=UTC)
    ingest_tuples(
        [
            (dev, "depth_to_water", t0, 10.0, 0),
            (dev, "depth_to_water", t0 + timedelta(hours=1), 11.0, 0),
        ]
    )
    ingest_tuples([(dev, "depth_to_water", t0 + timedelta(hours=1), 99.0, 0)])  # resend
    ingest_tuples([(dev, "depth_to_water", t0 - timedelta(hours=5), 1.0, 0)])  # late
    ingest_tuples(
        [(dev, "depth_to_water", t0 + timedelta(hours=2), 50.0, int(ReadingFlag.REJECTED))]
    )
    latest = LatestReading.objects.get(device_id=dev, element="depth_to_water")
    stored = Reading.objects.get(
        device_id=dev, element="depth_to_water", observed_at=t0 + timedelta(hours=1)
    )
    assert (latest.observed_at, latest.value, latest.reading_id) == (
        stored.observed_at,
        11.0,
        stored.pk,
    )
    assert latest.first_observed_at == t0 + timedelta(hours=1)  # the first to reach the table
