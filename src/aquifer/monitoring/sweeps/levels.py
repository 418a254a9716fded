"""Groundwater level alarms: :func:`level_sweep` on monitoring wells whose depth to water is
beyond the warning depth or falls faster than its threshold.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from aquifer.monitoring import conf
from aquifer.monitoring.models import DeviceState, LevelThreshold
from aquifer.monitoring.sweeps.common import SweepStats, _sync, _Want
from aquifer.registry.models import Device, MonitoringWell
from aquifer.telemetry.models import ReadingDaily
from aquifer.telemetry.store import refresh_rollups

__all__ = ["level_sweep"]


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
