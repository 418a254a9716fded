"""Quality checks over new readings: :func:`check_sweep` reads the readings stored since its
watermark (by ``Reading.id``), runs :func:`aquifer.monitoring.checks.check_series` per device
and element with a little stored context before them, sets ``SUSPECT`` / ``REJECTED`` bits on
``Reading.flags`` (only ever adds bits; values are never touched), records
:class:`ReadingFinding` rows, keeps :class:`DeviceState` (last report, last values) and raises
``suspicious_reading`` alarms. :func:`configs` gives the check config in force.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from aquifer.monitoring import checks, conf
from aquifer.monitoring.models import (
    SEVERITY_RANK,
    CheckSettings,
    DeviceState,
    MeterChange,
    ReadingFinding,
    ReviewState,
)
from aquifer.monitoring.sweeps.common import SweepStats, _epoch, _mark, _set_mark, _sync, _Want
from aquifer.registry.models import Device
from aquifer.telemetry.models import Reading, ReadingFlag
from aquifer.telemetry.store import rebuild_rollups

__all__ = ["check_sweep", "configs"]

# The sweeps' logger keeps the name it had as one module.
log = logging.getLogger("aquifer.monitoring.sweeps")

CONTEXT = 24  # stored readings before the new ones that each series is checked with


class _Configs:
    """Check configs per (device, element): defaults, county overrides, device overrides."""

    def __init__(self) -> None:
        self.county: dict[str, dict[str, Any]] = {}
        self.device: dict[tuple[int, str], dict[str, Any]] = {}
        for element, device_id, overrides in CheckSettings.objects.values_list(
            "element", "device_id", "overrides"
        ):
            if device_id is None:
                self.county[element] = overrides
            else:
                self.device[(device_id, element)] = overrides
        self._cache: dict[tuple[int, str, int], checks.CheckConfig] = {}

    def get(self, device_id: int, element: str, interval_s: int) -> checks.CheckConfig:
        own = (device_id, element) in self.device
        key = (device_id if own else 0, element, interval_s)  # most devices share defaults
        cfg = self._cache.get(key)
        if cfg is None:
            cfg = checks.default_config(element).with_overrides({"interval_s": interval_s})
            cfg = cfg.with_overrides(self.county.get(element, {}))
            cfg = cfg.with_overrides(self.device.get((device_id, element), {}))
            self._cache[key] = cfg
        return cfg


def configs(device_id: int, element: str, interval_s: int = 3600) -> checks.CheckConfig:
    """The effective check config of one device's element (for pages and tests)."""
    return _Configs().get(device_id, element, interval_s)


def _kind_names(bits: int) -> list[str]:
    return [k.name or "" for k in checks.CheckKind if bits & int(k)]


def check_sweep(batch: int | None = None, now: dt.datetime | None = None) -> SweepStats:
    """Check the readings stored since the last sweep (one batch); see the module docstring."""

    batch = batch or int(conf.get("SWEEP_BATCH"))
    now = now or timezone.now()
    stats = SweepStats()
    mark = _mark("checks")
    rows = list(
        Reading.objects.filter(id__gt=mark)
        .order_by("id")
        .values_list("id", "device_id", "element", "observed_at", "value", "flags")[:batch]
    )
    if not rows:
        return stats
    stats.readings = len(rows)
    new_mark = rows[-1][0]
    series: dict[tuple[int, str], list[tuple[Any, ...]]] = defaultdict(list)
    for r in rows:
        series[(r[1], r[2])].append(r)
    stats.series = len(series)
    device_ids = {d for d, _ in series}
    intervals = dict(
        Device.objects.filter(pk__in=device_ids).values_list("pk", "reporting_interval_min")
    )
    cfgs = _Configs()
    replacements: dict[tuple[int, str], list[checks.MeterReplacement]] = defaultdict(list)
    for m in MeterChange.objects.filter(device_id__in=device_ids):
        replacements[(m.device_id, m.element)].append(
            checks.MeterReplacement(_epoch(m.changed_at), m.old_final, m.new_initial)
        )
    t_min = min(r[3] for r in rows)
    overridden = set(
        ReadingFinding.objects.filter(
            device_id__in=device_ids,
            review=ReviewState.OVERRIDDEN,
            observed_at__gte=t_min - dt.timedelta(days=30),
        ).values_list("reading_id", "check_kind")
    )
    now_s = _epoch(now)
    bits_for: dict[int, list[int]] = defaultdict(list)  # flag bits to add → reading ids
    findings: list[ReadingFinding] = []
    rebuild: list[tuple[int, str, dt.datetime, dt.datetime]] = []
    suspicious: dict[tuple[int, str], list[checks.Finding]] = {}
    for (device_id, element), new in series.items():
        new.sort(key=lambda r: r[3])
        context = _context(device_id, element, new[0][3]) if mark > 0 else []
        seq = context + new
        try:
            cfg = cfgs.get(device_id, element, 60 * int(intervals.get(device_id) or 60))
        except (KeyError, ValueError) as exc:  # an element without checks or a bad setting
            log.warning("no checks for device %s %s: %s", device_id, element, exc)
            continue
        times = np.fromiter((_epoch(r[3]) for r in seq), dtype=np.int64, count=len(seq))
        values = np.fromiter((r[4] for r in seq), dtype=np.float64, count=len(seq))
        result = checks.check_series(
            times, values, cfg, now=now_s, replacements=replacements.get((device_id, element), ())
        )
        hit = np.flatnonzero(result.kinds)
        if hit.size == 0:
            continue
        first_new = len(context)
        new_findings = [
            f for f in result.findings if f.kind != checks.CheckKind.GAP and f.end >= first_new
        ]
        rejected_any = False
        for i in hit.tolist():
            r = seq[i]
            kinds = int(result.kinds[i])
            flag = 0
            for kind in checks.CheckKind:
                if not kinds & int(kind) or kind == checks.CheckKind.GAP:
                    continue
                if (r[0], kind.name) in overridden:
                    continue
                bit = checks.KIND_FLAG[kind]
                flag |= bit
                findings.append(
                    ReadingFinding(
                        reading_id=r[0],
                        device_id=device_id,
                        element=element,
                        observed_at=r[3],
                        value=r[4] if np.isfinite(r[4]) else None,
                        check_kind=kind.name or "",
                        flag=bit,
                        severity=checks.KIND_SEVERITY[kind],
                        message=_message(kind, result.findings, i),
                        found_at=now,
                    )
                )
            add = flag & ~int(r[5])
            if add:
                bits_for[add].append(r[0])
                stats.flagged += 1
                if add & int(ReadingFlag.REJECTED):
                    rejected_any = True
        if rejected_any:
            rebuild.append((device_id, element, seq[0][3], seq[-1][3]))
        if new_findings:
            suspicious[(device_id, element)] = new_findings
    with transaction.atomic():
        for add, ids in bits_for.items():
            for k in range(0, len(ids), 900):
                Reading.objects.filter(id__in=ids[k : k + 900]).update(flags=F("flags").bitor(add))
        created = ReadingFinding.objects.bulk_create(
            findings, ignore_conflicts=True, batch_size=1000
        )
        stats.findings = len(created)
        received = dict(
            Reading.objects.filter(id__gt=mark, id__lte=new_mark)
            .values("device_id")
            .annotate(m=Max("received_at"))
            .values_list("device_id", "m")
        )
        _update_states(series, received)
        _set_mark("checks", new_mark)
    for device_id, element, start, end in rebuild:
        rebuild_rollups(device_id, element, start, end)
    stats.alarms_raised = _suspicious_alarms(suspicious, now)
    return stats


def _aware(value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise ValueError(f"not a datetime: {value!r}")
        value = parsed
    aware: dt.datetime = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware


def _context(device_id: int, element: str, before: dt.datetime) -> list[tuple[Any, ...]]:
    """The ``CONTEXT`` stored readings of a series just before ``before``, oldest first.

    Plain SQL on the (device, element, observed_at) index: the ORM's query building cost
    more than the query itself, once per series."""

    table = Reading._meta.db_table
    sql = (
        f"SELECT id, device_id, element, observed_at, value, flags FROM {table} "
        "WHERE device_id = %s AND element = %s AND observed_at < %s "
        "ORDER BY observed_at DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [device_id, element, connection.ops.adapt_datetimefield_value(before), CONTEXT]
        )
        rows = cursor.fetchall()
    rows.reverse()
    return [(r[0], r[1], r[2], _aware(r[3]), float(r[4]), r[5]) for r in rows]


def _message(kind: checks.CheckKind, found: list[checks.Finding], i: int) -> str:
    for f in found:
        if f.kind == kind and f.start <= i <= f.end:
            return f.message_zh[:300]
    return kind.name or ""


def _update_states(
    series: Mapping[tuple[int, str], list[tuple[Any, ...]]], received_at: Mapping[int, Any]
) -> None:
    latest: dict[int, dict[str, Any]] = defaultdict(dict)
    for (device_id, element), rows in series.items():
        last = max(rows, key=lambda r: r[3])
        latest[device_id][element] = last
    existing = {s.device_id: s for s in DeviceState.objects.filter(device_id__in=list(latest))}
    create: list[DeviceState] = []
    update: list[DeviceState] = []
    for device_id, by_element in latest.items():
        state = existing.get(device_id) or DeviceState(device_id=device_id)
        values = dict(state.last_values)
        for element, r in by_element.items():
            old = values.get(element)
            if old is None or old[0] < r[3].isoformat():
                values[element] = [r[3].isoformat(), r[4] if np.isfinite(r[4]) else None]
        observed = max(r[3] for r in by_element.values())
        received = received_at.get(device_id)
        if state.last_observed_at is None or observed > state.last_observed_at:
            state.last_observed_at = observed
        if received is not None and (
            state.last_received_at is None or received > state.last_received_at
        ):
            state.last_received_at = received
        state.last_values = values
        (update if device_id in existing else create).append(state)
    DeviceState.objects.bulk_create(create, batch_size=1000, ignore_conflicts=True)
    if not update:
        return
    # One prepared UPDATE per row (executemany): bulk_update's CASE WHEN costs ~0.2 ms a row.
    field = DeviceState._meta.get_field
    prep = {
        name: field(name).get_db_prep_value  # type: ignore[union-attr]
        for name in ("last_observed_at", "last_received_at", "last_values", "updated_at")
    }
    now = timezone.now()
    sql = (
        f"UPDATE {DeviceState._meta.db_table} SET last_observed_at = %s, "
        "last_received_at = %s, last_values = %s, updated_at = %s WHERE device_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (
                    prep["last_observed_at"](st.last_observed_at, connection),
                    prep["last_received_at"](st.last_received_at, connection),
                    prep["last_values"](st.last_values, connection),
                    prep["updated_at"](now, connection),
                    st.device_id,
                )
                for st in update
            ],
        )


def _suspicious_alarms(
    suspicious: Mapping[tuple[int, str], list[checks.Finding]], now: dt.datetime
) -> int:

    if not suspicious:
        return 0
    devices = Device.objects.select_related("well__township", "well__owner").in_bulk(
        {d for d, _ in suspicious}
    )
    wanted = {}
    for (device_id, element), found in suspicious.items():
        device = devices.get(device_id)
        if device is None:
            continue
        worst = max(found, key=lambda f: SEVERITY_RANK[f.severity])
        if worst.severity == "info":
            continue
        wanted[f"suspicious_reading:device:{device_id}:{element}"] = _Want(
            device=device,
            message="suspicious_reading",
            params={
                "station": device.station_address,
                "element": element,
                "findings": [{"zh": f.message_zh, "en": f.message_en} for f in found[:10]],
            },
            severity=worst.severity,
            data={"element": element, "checks": sorted({f.kind.name or "" for f in found})},
        )
    raised, _ = _sync("suspicious_reading", wanted, clear=(), now=now)
    return raised
