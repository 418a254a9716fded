"""The monitoring sweeps: quality checks over new readings, device offline / battery / status,
unregistered stations, groundwater level alarms. Each is idempotent (run by the jobs in
:mod:`aquifer.monitoring.jobs`, by ``aquifer demo`` and by the benches).

- :func:`check_sweep` reads the readings stored since its watermark (by ``Reading.id``), runs
  :func:`aquifer.monitoring.checks.check_series` per device and element with a little stored
  context before them, sets ``SUSPECT`` / ``REJECTED`` bits on ``Reading.flags`` (only ever
  adds bits; values are never touched), records :class:`ReadingFinding` rows, keeps
  :class:`DeviceState` (last report, last values) and raises ``suspicious_reading`` alarms.
- :func:`offline_sweep` turns :class:`DeviceState` into online / late / offline, and raises or
  clears ``device_offline`` and ``low_battery`` alarms; :func:`station_sweep` alarms on frames
  from unregistered stations; :func:`level_sweep` on monitoring wells whose depth to water is
  beyond the warning depth or falls faster than its threshold.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from aquifer.monitoring import alarms, checks, conf
from aquifer.monitoring.models import (
    OPEN_STATES,
    SEVERITY_RANK,
    Alarm,
    CheckSettings,
    DeviceState,
    LevelThreshold,
    MeterChange,
    ReadingFinding,
    ReviewState,
    Watermark,
)
from aquifer.registry.models import Device, MonitoringWell
from aquifer.telemetry.models import (
    QuarantinedFrame,
    QuarantineKind,
    Reading,
    ReadingDaily,
    ReadingFlag,
)
from aquifer.telemetry.store import rebuild_rollups, refresh_rollups

__all__ = [
    "SweepStats",
    "check_sweep",
    "configs",
    "level_sweep",
    "offline_sweep",
    "report_status",
    "station_sweep",
]

log = logging.getLogger(__name__)

CONTEXT = 24  # stored readings before the new ones that each series is checked with


@dataclass
class SweepStats:
    readings: int = 0
    series: int = 0
    flagged: int = 0
    findings: int = 0
    alarms_raised: int = 0
    alarms_cleared: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "readings": self.readings,
            "series": self.series,
            "flagged": self.flagged,
            "findings": self.findings,
            "alarms_raised": self.alarms_raised,
            "alarms_cleared": self.alarms_cleared,
            **self.extra,
        }


def _epoch(t: dt.datetime) -> int:
    return int(t.timestamp())


def _mark(name: str) -> int:
    return Watermark.objects.get_or_create(name=name)[0].position


def _set_mark(name: str, position: int) -> None:
    Watermark.objects.filter(name=name).update(position=position, updated_at=timezone.now())


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


@dataclass
class _Want:
    message: str  # code in monitoring.messages, rendered with params
    params: dict[str, Any]
    severity: str = "warning"
    device: Any = None
    well: Any = None
    township: Any = None
    data: dict[str, Any] | None = None
    at: dt.datetime | None = None  # when the condition began (else: now)


def _sync(
    kind: str, wanted: Mapping[str, _Want], clear: Iterable[str], now: dt.datetime
) -> tuple[int, int]:
    """Raise the ``wanted`` alarms of ``kind`` (repeats bumped in one UPDATE) and clear the
    open ones keyed in ``clear``. Returns (newly opened, cleared)."""
    with transaction.atomic():  # one commit for the lot (SQLite synchronous=FULL: one fsync)
        return _sync_in_transaction(kind, wanted, clear, now)


def _sync_in_transaction(
    kind: str, wanted: Mapping[str, _Want], clear: Iterable[str], now: dt.datetime
) -> tuple[int, int]:
    open_alarms = dict(
        Alarm.objects.filter(kind=kind, state__in=OPEN_STATES).values_list("key", "id")
    )
    repeat = [open_alarms[k] for k in wanted if k in open_alarms]
    for k in range(0, len(repeat), 900):
        Alarm.objects.filter(pk__in=repeat[k : k + 900]).update(count=F("count") + 1, last_seen=now)
    raised = 0
    for key, want in wanted.items():
        if key in open_alarms:
            continue
        alarms.raise_alarm(
            kind=kind,
            key=key,
            message=want.message,
            params=want.params,
            severity=want.severity,
            township=want.township,
            device=want.device,
            well=want.well,
            data=want.data,
            at=min(want.at, now) if want.at else now,
        )
        raised += 1
    cleared = 0
    for key in clear:
        if key in open_alarms and key not in wanted:
            alarms.clear_alarm(kind=kind, key=key, note="condition cleared")
            cleared += 1
    return raised, cleared


def device_health_state(last: dt.datetime | None, interval_min: int, now: dt.datetime) -> str:
    """online / late / offline / unknown from the last observation (LATE_ / OFFLINE_FACTOR)."""
    if last is None:
        return "unknown"
    age = (now - last).total_seconds()
    interval = 60.0 * interval_min
    if age <= float(conf.get("LATE_FACTOR")) * interval:
        return "online"
    if age <= float(conf.get("OFFLINE_FACTOR")) * interval:
        return "late"
    return "offline"


def offline_sweep(now: dt.datetime | None = None) -> SweepStats:
    """Online state of every active installed device; offline and low-battery alarms."""

    now = now or timezone.now()
    stats = SweepStats()
    devices = list(
        Device.objects.filter(active=True, well__isnull=False).select_related(
            "well__township", "well__owner"
        )
    )
    states = {s.device_id: s for s in DeviceState.objects.all()}
    by_state: dict[str, list[int]] = defaultdict(list)
    offline: dict[str, _Want] = {}
    battery: dict[str, _Want] = {}
    fine: list[str] = []
    battery_fine: list[str] = []
    thresholds = conf.get("LOW_BATTERY_V")
    hysteresis = float(conf.get("BATTERY_HYSTERESIS_V"))
    factor = float(conf.get("OFFLINE_FACTOR"))
    for d in devices:
        st = states.get(d.pk)
        last = st.last_observed_at if st else None
        state = device_health_state(last, d.reporting_interval_min, now)
        if st is not None and st.state != state:
            by_state[state].append(d.pk)
        key = f"device_offline:device:{d.pk}"
        if state == "offline" and last is not None:
            hours = (now - last).total_seconds() / 3600
            offline[key] = _Want(
                device=d,
                message="device_offline",
                params={
                    "station": d.station_address,
                    "hours": hours,
                    "last": f"{timezone.localtime(last):%Y-%m-%d %H:%M}",
                    "factor": factor,
                    "interval": d.reporting_interval_min,
                },
                severity="critical" if hours >= 72 else "warning",
                data={"last_observed_at": last.isoformat()},
                at=last + dt.timedelta(minutes=factor * d.reporting_interval_min),
            )
        else:
            fine.append(key)
        volts = (st.last_values.get("battery_voltage") if st else None) or None
        bkey = f"low_battery:device:{d.pk}"
        if volts is not None and volts[1] is not None:
            limit = float(thresholds.get(d.kind, thresholds["default"]))
            if volts[1] < limit:
                battery[bkey] = _Want(
                    device=d,
                    message="low_battery",
                    params={"station": d.station_address, "volts": volts[1], "limit": limit},
                    severity="warning",
                    data={"volts": volts[1], "at": volts[0]},
                )
            elif volts[1] >= limit + hysteresis:
                battery_fine.append(bkey)
    for state, ids in by_state.items():
        for k in range(0, len(ids), 900):
            DeviceState.objects.filter(device_id__in=ids[k : k + 900]).update(state=state)
    r1, c1 = _sync("device_offline", offline, fine, now)
    r2, c2 = _sync("low_battery", battery, battery_fine, now)
    stats.alarms_raised, stats.alarms_cleared = r1 + r2, c1 + c2
    stats.extra = {"devices": len(devices), "offline": len(offline), "low_battery": len(battery)}
    return stats


#: Status bits that mean trouble, normalised across SL651 (table 58) and SZY206 (alarm word):
#: key as the decoder names it → (alarm bit, value that means trouble, Chinese label).
STATUS_TROUBLE: dict[str, tuple[str, bool, str]] = {
    "door_closed": ("door_open", False, "箱门打开"),
    "door": ("door_open", True, "箱门打开"),
    "ac_power_off": ("ac_power_off", True, "交流电停电"),
    "magnetic_interference": ("magnetic_interference", True, "磁干扰"),
    "flow_meter_fault": ("flow_meter_fault", True, "流量仪表故障"),
    "level_meter_fault": ("level_meter_fault", True, "水位仪表故障"),
    "memory_fault": ("memory_fault", True, "存储器故障"),
    "temperature_meter_fault": ("temperature_meter_fault", True, "水温仪表故障"),
}


def report_device_status(device_id: int, bits: Mapping[str, bool], at: dt.datetime) -> int:
    """Telemetry's ``device_status`` hook: :func:`report_status` for a device id."""
    device = Device.objects.filter(pk=device_id).select_related("well").first()
    return 0 if device is None else report_status(device, bits, at)


def report_status(device: Any, bits: Mapping[str, bool], at: dt.datetime | None = None) -> int:
    """Alarm on the status / tamper bits a device reported (door open, power cut, magnetic
    interference, meter faults); clear those reported fine. Returns alarms newly opened.

    ``bits`` as the decoders give them (``sl651.status_bits``, SZY206 alarm word names).
    """
    at = at or timezone.now()
    severity = conf.get("STATUS_SEVERITY")
    wanted: dict[str, _Want] = {}
    clear: list[str] = []
    seen: dict[str, bool] = {}
    for name, value in bits.items():
        if name not in STATUS_TROUBLE:
            continue
        bit, trouble_when, _label = STATUS_TROUBLE[name]
        trouble = bool(value) == trouble_when
        seen[bit] = seen.get(bit, False) or trouble
        key = f"device_status:device:{device.pk}:{bit}"
        if trouble:
            wanted[key] = _Want(
                device=device,
                message="device_status",
                params={"station": device.station_address, "bit": bit},
                severity=str(severity.get(bit, "warning")),
                data={"bit": bit},
            )
        else:
            clear.append(key)
    state, _ = DeviceState.objects.get_or_create(device_id=device.pk)
    DeviceState.objects.filter(pk=state.pk).update(status_bits={**state.status_bits, **seen})
    raised, _c = _sync("device_status", wanted, clear, at)
    return raised


def station_sweep(now: dt.datetime | None = None) -> SweepStats:
    """Frames from unregistered stations (a possible illegal well) → one alarm per station;
    cleared when the station is registered."""

    now = now or timezone.now()
    stats = SweepStats()
    mark = _mark("stations")
    frames = list(
        QuarantinedFrame.objects.filter(id__gt=mark, kind=QuarantineKind.UNKNOWN_STATION)
        .order_by("id")
        .values_list("id", "station", "protocol", "remote_addr", "received_at")[:100_000]
    )
    by_station: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for f in frames:
        if f[1]:
            by_station[f[1]].append(f)
    registered = set(
        Device.objects.filter(station_address__in=list(by_station)).values_list(
            "station_address", flat=True
        )
    )
    wanted = {}
    for station, fs in by_station.items():
        if station in registered:
            continue
        last = fs[-1]
        wanted[f"unregistered_station:{station}"] = _Want(
            message="unregistered_station",
            params={"station": station, "frames": len(fs), "protocol": last[2], "source": last[3]},
            severity="warning",
            data={"station": station, "protocol": last[2], "remote_addr": last[3]},
        )
    raised, _ = _sync("unregistered_station", wanted, (), now)
    open_keys = Alarm.objects.filter(
        kind="unregistered_station", state__in=OPEN_STATES
    ).values_list("key", flat=True)
    now_registered = set(
        Device.objects.filter(
            station_address__in=[k.split(":", 1)[1] for k in open_keys]
        ).values_list("station_address", flat=True)
    )
    cleared = 0
    for s in now_registered:
        if alarms.clear_alarm(
            kind="unregistered_station", key=f"unregistered_station:{s}", note="station registered"
        ):
            cleared += 1
    if frames:
        _set_mark("stations", frames[-1][0])
    stats.readings, stats.alarms_raised, stats.alarms_cleared = len(frames), raised, cleared
    return stats


def level_sweep(now: dt.datetime | None = None) -> SweepStats:
    """Depth to water beyond a monitoring well's warning depth, or falling faster than its
    threshold (m/day over its window, from daily means)."""

    now = now or timezone.now()
    stats = SweepStats()
    refresh_rollups()  # the daily means up to the last reading
    mwells = list(
        MonitoringWell.objects.filter(monitors_level=True).select_related(
            "well__township", "well__owner"
        )
    )
    thresholds = {t.monitoring_well_id: t for t in LevelThreshold.objects.all()}
    devices_of: dict[int, list[int]] = defaultdict(list)
    for pk, well_id in Device.objects.filter(
        well_id__in=[m.well_id for m in mwells], active=True
    ).values_list("pk", "well_id"):
        devices_of[well_id].append(pk)
    all_devices = [d for ds in devices_of.values() for d in ds]
    states = {
        s.device_id: s.last_values.get("depth_to_water")
        for s in DeviceState.objects.filter(device_id__in=all_devices)
    }
    default_fall = float(conf.get("LEVEL_MAX_FALL_M_PER_DAY"))
    default_window = int(conf.get("LEVEL_FALL_WINDOW_DAYS"))
    longest = max([default_window, *(t.window_days for t in thresholds.values())])
    daily: dict[int, list[tuple[dt.datetime, float]]] = defaultdict(list)
    for device_id, bucket, total, n in (
        ReadingDaily.objects.filter(
            device_id__in=all_devices,
            element="depth_to_water",
            bucket__gte=now - dt.timedelta(days=longest + 1),
        )
        .order_by("bucket")
        .values_list("device_id", "bucket", "sum", "n")
    ):
        if n:
            daily[device_id].append((bucket, total / n))
    below: dict[str, _Want] = {}
    below_ok: list[str] = []
    fast: dict[str, _Want] = {}
    fast_ok: list[str] = []
    for m in mwells:
        key = f"level_below_warning:mwell:{m.pk}"
        depths = [states[d] for d in devices_of.get(m.well_id, []) if states.get(d)]
        latest = max(depths, key=lambda v: v[0]) if depths else None
        if m.warning_depth_m is not None and latest is not None and latest[1] is not None:
            warn = float(m.warning_depth_m)
            if latest[1] > warn:
                below[key] = _Want(
                    well=m.well,
                    message="level_below_warning",
                    params={"well": m.well.code, "depth": latest[1], "warn": warn},
                    severity="critical" if latest[1] > warn + 5 else "warning",
                    data={"depth_m": latest[1], "warning_depth_m": warn, "at": latest[0]},
                )
            else:
                below_ok.append(key)
        t = thresholds.get(m.pk)
        limit = t.max_fall_m_per_day if t and t.max_fall_m_per_day is not None else default_fall
        window = t.window_days if t else default_window
        fkey = f"level_falling_fast:mwell:{m.pk}"
        for d in devices_of.get(m.well_id, []):
            series = [p for p in daily.get(d, []) if p[0] >= now - dt.timedelta(days=window + 1)]
            if len(series) < 2:
                continue
            days = (series[-1][0] - series[0][0]).total_seconds() / 86400
            if days <= 0:
                continue
            rate = (series[-1][1] - series[0][1]) / days  # depth growing = level falling
            if rate > limit:
                fast[fkey] = _Want(
                    well=m.well,
                    message="level_falling_fast",
                    params={"well": m.well.code, "rate": rate, "limit": limit},
                    severity="warning",
                    data={"rate_m_per_day": rate, "limit": limit, "window_days": window},
                )
            else:
                fast_ok.append(fkey)
            break
    r1, c1 = _sync("level_below_warning", below, below_ok, now)
    r2, c2 = _sync("level_falling_fast", fast, fast_ok, now)
    stats.alarms_raised, stats.alarms_cleared = r1 + r2, c1 + c2
    stats.extra = {"monitoring_wells": len(mwells)}
    return stats
