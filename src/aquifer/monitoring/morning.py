"""Monitoring's figures on the home page (core/morning.py): open alarms by severity and kind,
the devices' online rate and data arrival rate, and a water user's meters."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.core.morning import Figure, register
from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.monitoring import arrival, health
from aquifer.monitoring.models import (
    Alarm,
    AlarmKind,
    AlarmSeverity,
    DeviceHealthDaily,
    DeviceState,
)
from aquifer.registry.models import Device

#: How many days the arrival rate on the home page covers (ending yesterday).
ARRIVAL_DAYS = 7
#: The most meters a water user's home page lists one by one.
METERS_SHOWN = 6

_SEVERITY_TONE = {"critical": "bad", "warning": "warn", "info": "info"}


def _board(**params: str) -> str:
    """The alarm board's flat list (not grouped by kind), filtered: the rows behind a count."""
    return f"{reverse('monitoring:alarm_list')}?{urlencode({**params, 'group': 'none'})}"


def _open_alarms(user: Any) -> Any:
    return visible_to(user, Action.VIEW, Alarm).filter(closed_at__isnull=True)


def alarms_by_severity(user: Any) -> list[Figure]:
    """Open (not closed) alarms per severity, most severe first: one query."""
    counts = dict(_open_alarms(user).order_by().values_list("severity").annotate(n=Count("id")))
    return [
        Figure(
            counts.get(s.value, 0),
            _("%(severity)s告警") % {"severity": s.label},
            url=_board(severity=s.value),
            tone=_SEVERITY_TONE[s.value] if counts.get(s.value) else "ok",
            key=f"monitoring.alarms.severity.{s.value}",
        )
        for s in reversed(AlarmSeverity)
    ]


def alarms_by_kind(user: Any) -> list[Figure]:
    """Open alarms per kind, the kinds that have any, most first: one query."""
    rows = _open_alarms(user).order_by().values_list("kind").annotate(n=Count("id")).order_by("-n")
    labels = dict(AlarmKind.choices)
    return [
        Figure(
            n,
            str(labels.get(kind, kind)),
            url=_board(kind=kind),
            tone="warn",
            key=f"monitoring.alarms.kind.{kind}",
        )
        for kind, n in rows
    ]


def device_rates(user: Any) -> list[Figure]:
    """Yesterday's online rate (stored daily health) and the arrival rate of the last
    ``ARRIVAL_DAYS`` days (到报率), of the devices the user may see."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    start = yesterday - dt.timedelta(days=ARRIVAL_DAYS - 1)
    day = health.figures(
        visible_to(user, Action.VIEW, DeviceHealthDaily), "county", yesterday, yesterday
    )
    online = day[0].online_rate if day else None
    rates = arrival.arrival_rates(
        visible_to(user, Action.VIEW, Device), start, yesterday, "county", refresh=False
    )
    rate = rates[0].rate if rates else None
    url = reverse("monitoring:health_figures")

    def tone(v: float | None, good: float) -> Any:
        return "info" if v is None else "ok" if v >= good else "warn" if v >= 0.8 else "bad"

    return [
        Figure(
            online,
            _("设备在线率"),
            unit="%",
            url=f"{url}?days=1",
            tone=tone(online, 0.95),
            detail=_("%(day)s，共 %(n)s 台")
            % {"day": yesterday, "n": day[0].devices if day else 0},
            key="monitoring.online_rate",
        ),
        Figure(
            rate,
            _("数据到报率"),
            unit="%",
            url=f"{url}?days={ARRIVAL_DAYS}",
            tone=tone(rate, arrival.TARGET),
            detail=_("近 %(days)s 天，目标 %(target)s%%")
            % {"days": ARRIVAL_DAYS, "target": int(arrival.TARGET * 100)},
            key="monitoring.arrival_rate",
        ),
    ]


def my_meters(user: Any) -> list[Figure]:
    """A water user's meters: each one's latest cumulative reading and online state (the
    first ``METERS_SHOWN``), one query."""
    states = (
        visible_to(user, Action.VIEW, DeviceState)
        .select_related("device", "device__well")
        .order_by("device__station_address")[:METERS_SHOWN]
    )
    out = []
    for s in states:
        # DeviceState.last_values: element → [observed_at (ISO), value] (sweeps/readings.py).
        values = s.last_values or {}
        volume = (values.get("cumulative_volume") or [None, None])[1]
        level = (values.get("depth_to_water") or [None, None])[1]
        value, unit = (volume, "m³") if volume is not None else (level, "m")
        online = s.state == "online"
        out.append(
            Figure(
                value,
                _("%(well)s 计量设施 %(station)s")
                % {"well": s.device.well or "—", "station": s.device.station_address},
                unit=unit if value is not None else "",
                url=reverse("registry:device_detail", args=[s.device_id]),
                tone="ok" if online else "bad" if s.state == "offline" else "info",
                detail=(
                    _("在线") if online else _("离线") if s.state == "offline" else _("状态未知")
                )
                + (
                    " · " + timezone.localtime(s.last_observed_at).strftime("%Y-%m-%d %H:%M")
                    if s.last_observed_at
                    else ""
                ),
                key=f"monitoring.meter.{s.device_id}",
            )
        )
    return out


def my_alarms(user: Any) -> Figure:
    n = _open_alarms(user).count()
    return Figure(
        n,
        _("我的未关闭告警"),
        url=_board(state="active"),
        tone="warn" if n else "ok",
        key="monitoring.my_alarms",
    )


register(
    "monitoring.alarms_by_severity",
    policy="monitoring.morning",
    group="alarms",
    order=10,
    compute=alarms_by_severity,
)
register(
    "monitoring.alarms_by_kind",
    policy="monitoring.morning",
    group="alarms",
    order=20,
    compute=alarms_by_kind,
)
register(
    "monitoring.device_rates",
    policy="monitoring.morning",
    group="devices",
    order=10,
    compute=device_rates,
)
register(
    "monitoring.my_alarms",
    policy="monitoring.morning_own",
    group="mine",
    order=30,
    compute=my_alarms,
)
register(
    "monitoring.my_meters",
    policy="monitoring.morning_own",
    group="mine",
    order=40,
    compute=my_meters,
)
