"""What Aquifer measures of each township in a year: the indicators' values, their evidence,
and the targets' computed defaults.

Every measure is computed for *all* townships at once by a fixed number of aggregate queries
(grouped by township), so scoring the county costs the same number of queries whatever the
number of wells, devices or readings (bench/assessment.py). :func:`evidence` gives, for one
township and indicator, the records behind the figure (the drill-down of a score).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from aquifer.accounting.models import WithdrawalMonth
from aquifer.analysis.models import RecoveryStatus, WellTrend
from aquifer.monitoring import arrival
from aquifer.monitoring.health import local_day_start
from aquifer.monitoring.models import Alarm
from aquifer.permits.models import Permit, PermitStatus
from aquifer.registry.choices import DeviceKind, WellStatus, ZoneKind
from aquifer.registry.models import Device, MonitoringWell, Township, Well
from aquifer.supervision import conf, hooks
from aquifer.supervision.models import (
    Indicator,
    PlanState,
    PlanTask,
    Rectification,
)
from aquifer.telemetry.models import ReadingDaily

__all__ = ["Measure", "default_targets", "evidence", "measure_all", "period"]

CLOSED = (WellStatus.CLOSED, WellStatus.SEALED)
IN_USE = (WellStatus.ACTIVE, WellStatus.STANDBY)


@dataclass
class Measure:
    """A township's value of an indicator: ``value`` (a ratio 0–1, or m³, or a count),
    with the numerator and denominator it came from where it is a ratio."""

    value: float | None
    num: float | None = None
    den: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "num": self.num, "den": self.den, **self.extra}


def period(year: int, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The days of ``year`` measured so far: 1 January to yesterday (or 31 December)."""
    today = today or timezone.localdate()
    start = dt.date(year, 1, 1)
    end = min(dt.date(year, 12, 31), today - dt.timedelta(days=1))
    return start, max(start, end)


def _ratio(rows: dict[int, tuple[float, float]]) -> dict[int, Measure]:
    return {t: Measure(n / d if d else None, n, d) for t, (n, d) in rows.items()}


def withdrawal(year: int) -> dict[int, Measure]:
    rows = (
        WithdrawalMonth.objects.filter(year=year, well__township__isnull=False)
        .values("well__township_id")
        .annotate(m=Sum(F("metered_m3") + F("estimated_m3")))
    )
    return {r["well__township_id"]: Measure(float(r["m"] or 0)) for r in rows}


def closures(year: int) -> dict[int, Measure]:
    rows = Well.objects.filter(status__in=CLOSED).values("township_id").annotate(n=Count("id"))
    return {r["township_id"]: Measure(float(r["n"])) for r in rows if r["township_id"]}


def _metered_q() -> Any:
    meters = Device.objects.filter(well=OuterRef("pk"), kind=DeviceKind.FLOW_METER, active=True)
    return Exists(meters)


def meter_coverage(year: int) -> dict[int, Measure]:
    rows = (
        Well.objects.filter(status__in=IN_USE, township__isnull=False)
        .annotate(metered=_metered_q())
        .values("township_id")
        .annotate(n=Count("id"), m=Count("id", filter=Q(metered=True)))
    )
    return _ratio({r["township_id"]: (r["m"], r["n"]) for r in rows})


def _online_required() -> QuerySet[Well]:
    """Wells in use under an active permit whose volume is at or above the threshold."""
    threshold = conf.get("ONLINE_METER_THRESHOLD_M3")
    big = Permit.objects.filter(
        wells=OuterRef("pk"), status=PermitStatus.ACTIVE, annual_quota_m3__gte=threshold
    )
    return Well.objects.filter(status__in=IN_USE, township__isnull=False).filter(Exists(big))


def _online_q(year: int) -> Any:
    start, end = period(year)
    reported = ReadingDaily.objects.filter(
        device__well=OuterRef("pk"),
        device__kind=DeviceKind.FLOW_METER,
        bucket__gte=local_day_start(start),
        bucket__lt=local_day_start(end + dt.timedelta(days=1)),
    )
    return Exists(reported)


def online_meter_coverage(year: int) -> dict[int, Measure]:
    rows = (
        _online_required()
        .annotate(online=_online_q(year))
        .values("township_id")
        .annotate(n=Count("id"), m=Count("id", filter=Q(online=True)))
    )
    return _ratio({r["township_id"]: (r["m"], r["n"]) for r in rows})


def arrival_rate(year: int) -> dict[int, Measure]:
    start, end = period(year)
    rows = arrival.arrival_rates(Device.objects.all(), start, end, "township")
    return {
        a.key: Measure(a.rate, a.received, a.expected, {"devices": a.devices})
        for a in rows
        if a.key is not None
    }


def _latest_trends(year: int) -> QuerySet[WellTrend]:
    latest = (
        WellTrend.objects.filter(
            monitoring_well=OuterRef("monitoring_well"), computed_on__lte=dt.date(year, 12, 31)
        )
        .order_by("-computed_on")
        .values("pk")[:1]
    )
    return WellTrend.objects.filter(pk=Subquery(latest)).exclude(
        status=RecoveryStatus.NOT_ENOUGH_DATA
    )


def levels_stable(year: int) -> dict[int, Measure]:
    good = (RecoveryStatus.RISING, RecoveryStatus.STABILISED)
    rows = (
        _latest_trends(year)
        .values("monitoring_well__well__township_id")
        .annotate(n=Count("id"), m=Count("id", filter=Q(status__in=good)))
    )
    return _ratio({r["monitoring_well__well__township_id"]: (r["m"], r["n"]) for r in rows})


def _alarms_due(year: int) -> QuerySet[Alarm]:
    return Alarm.objects.filter(
        opened_at__year=year,
        due_at__isnull=False,
        due_at__lt=timezone.now(),
        township__isnull=False,
    )


def _alarm_on_time() -> Q:
    return Q(closed_at__isnull=False, closed_at__lte=F("due_at"))


def alarm_sla(year: int) -> dict[int, Measure]:
    rows = (
        _alarms_due(year)
        .values("township_id")
        .annotate(n=Count("id"), m=Count("id", filter=_alarm_on_time()))
    )
    return _ratio({r["township_id"]: (r["m"], r["n"]) for r in rows})


def _orders_due(year: int) -> QuerySet[Rectification]:
    today = timezone.localdate()
    return Rectification.objects.filter(deadline__year=year, township__isnull=False).filter(
        Q(deadline__lt=today) | Q(closed_at__isnull=False)
    )


def _order_on_time() -> Q:
    return Q(closed_at__isnull=False, closed_at__date__lte=F("deadline"))


def rectification_on_time(year: int) -> dict[int, Measure]:
    rows = (
        _orders_due(year)
        .values("township_id")
        .annotate(n=Count("id"), m=Count("id", filter=_order_on_time()))
    )
    return _ratio({r["township_id"]: (r["m"], r["n"]) for r in rows})


def _tasks_due(year: int) -> QuerySet[PlanTask]:
    today = timezone.localdate()
    return PlanTask.objects.filter(
        plan__year=year, plan__state=PlanState.APPROVED, deadline__lt=today
    )


def plan_completion(year: int) -> dict[int, Measure]:
    rows = (
        _tasks_due(year)
        .values("plan__township_id")
        .annotate(n=Count("id"), m=Count("id", filter=Q(progress__gte=F("target"))))
    )
    return _ratio({r["plan__township_id"]: (r["m"], r["n"]) for r in rows})


def complaints_on_time(year: int) -> dict[int, Measure]:
    out: dict[int, Measure] = {}
    for answer in hooks.complaints_on_time(year=year):
        for township_id, (on_time, due, ids) in answer.items():
            out[township_id] = Measure(
                on_time / due if due else None, on_time, due, {"ids": ids[:200]}
            )
    return out


#: Indicator code → its computation (all townships at once).
MEASURES: dict[str, Callable[[int], dict[int, Measure]]] = {
    Indicator.WITHDRAWAL: withdrawal,
    Indicator.CLOSURES: closures,
    Indicator.METER_COVERAGE: meter_coverage,
    Indicator.ONLINE_METER_COVERAGE: online_meter_coverage,
    Indicator.ARRIVAL_RATE: arrival_rate,
    Indicator.LEVELS_STABLE: levels_stable,
    Indicator.ALARM_SLA: alarm_sla,
    Indicator.RECTIFICATION_ON_TIME: rectification_on_time,
    Indicator.PLAN_COMPLETION: plan_completion,
    Indicator.COMPLAINTS_ON_TIME: complaints_on_time,
}


# --- deductions ------------------------------------------------------------------------------


def _prohibited_withdrawal_wells(year: int) -> QuerySet[Well]:
    took = WithdrawalMonth.objects.filter(well=OuterRef("pk"), year=year).filter(
        Q(metered_m3__gt=0) | Q(estimated_m3__gt=0)
    )
    return Well.objects.filter(zone__kind=ZoneKind.PROHIBITED).filter(Exists(took))


def prohibited_withdrawal(year: int) -> dict[int, int]:
    rows = _prohibited_withdrawal_wells(year).values("township_id").annotate(n=Count("id"))
    return {r["township_id"]: r["n"] for r in rows if r["township_id"]}


def _orders_overdue(year: int) -> QuerySet[Rectification]:
    return _orders_due(year).exclude(_order_on_time())


def overdue_rectification(year: int) -> dict[int, int]:
    rows = _orders_overdue(year).values("township_id").annotate(n=Count("id"))
    return {r["township_id"]: r["n"] for r in rows}


DEDUCTIONS: dict[str, Callable[[int], dict[int, int]]] = {
    "prohibited_withdrawal": prohibited_withdrawal,
    "overdue_rectification": overdue_rectification,
}


def measure_all(codes: list[str], year: int) -> dict[str, dict[int, Measure]]:
    return {code: MEASURES[code](year) for code in codes}


# --- evidence (the drill-down) ----------------------------------------------------------------


def evidence(code: str, township_id: int, year: int) -> tuple[str, QuerySet[Any]]:
    """The records behind one township's figure: (model label, queryset)."""
    t = township_id
    if code == Indicator.WITHDRAWAL:
        took = WithdrawalMonth.objects.filter(well=OuterRef("pk"), year=year)
        qs: QuerySet[Any] = Well.objects.filter(township_id=t).filter(Exists(took))
        return "registry.well", qs
    if code == Indicator.CLOSURES:
        return "registry.well", Well.objects.filter(township_id=t, status__in=CLOSED)
    if code == Indicator.METER_COVERAGE:
        qs = Well.objects.filter(township_id=t, status__in=IN_USE).annotate(metered=_metered_q())
        return "registry.well", qs.filter(metered=False)
    if code == Indicator.ONLINE_METER_COVERAGE:
        qs = _online_required().filter(township_id=t).annotate(online=_online_q(year))
        return "registry.well", qs.filter(online=False)
    if code == Indicator.ARRIVAL_RATE:
        return "registry.device", Device.objects.filter(well__township_id=t, active=True)
    if code == Indicator.LEVELS_STABLE:
        ids = _latest_trends(year).filter(monitoring_well__well__township_id=t)
        return "registry.monitoringwell", MonitoringWell.objects.filter(
            pk__in=ids.values("monitoring_well_id")
        )
    if code == Indicator.ALARM_SLA:
        return "monitoring.alarm", _alarms_due(year).filter(township_id=t).exclude(_alarm_on_time())
    if code in (Indicator.RECTIFICATION_ON_TIME, "overdue_rectification"):
        return "supervision.rectification", _orders_overdue(year).filter(township_id=t)
    if code == Indicator.PLAN_COMPLETION:
        return "supervision.plantask", _tasks_due(year).filter(plan__township_id=t)
    if code == "prohibited_withdrawal":
        return "registry.well", _prohibited_withdrawal_wells(year).filter(township_id=t)
    return "", Township.objects.none()


# --- target defaults ------------------------------------------------------------------------


def default_targets(year: int) -> dict[int, dict[str, tuple[float | None, dict[str, Any]]]]:
    """Per township and indicator: the computed default and how (``basis``)."""
    townships = list(Township.objects.values_list("pk", flat=True))
    quota = (
        Permit.objects.filter(status=PermitStatus.ACTIVE, wells__township__isnull=False)
        .values("wells__township_id")
        .annotate(q=Sum("annual_quota_m3"))
    )
    permitted = {r["wells__township_id"]: float(r["q"] or 0) for r in quota}
    # Each zone's allowable volume shared among townships by their wells in use in the zone.
    zone_rows = (
        Well.objects.filter(status__in=IN_USE, zone__allowable_extraction_m3__isnull=False)
        .values("zone_id", "zone__allowable_extraction_m3", "township_id")
        .annotate(n=Count("id"))
    )
    zone_wells: dict[int, int] = {}
    for r in zone_rows:
        zone_wells[r["zone_id"]] = zone_wells.get(r["zone_id"], 0) + r["n"]
    allowable: dict[int, float] = {}
    for r in zone_rows:
        if r["township_id"]:
            share = r["zone__allowable_extraction_m3"] * r["n"] / zone_wells[r["zone_id"]]
            allowable[r["township_id"]] = allowable.get(r["township_id"], 0.0) + share
    closed = closures(year)
    to_close = dict(
        Well.objects.filter(status__in=IN_USE, zone__kind=ZoneKind.PROHIBITED)
        .values("township_id")
        .annotate(n=Count("id"))
        .values_list("township_id", "n")
    )
    online_wells = dict(
        _online_required()
        .values("township_id")
        .annotate(n=Count("id"))
        .values_list("township_id", "n")
    )
    threshold = conf.get("ONLINE_METER_THRESHOLD_M3")
    out: dict[int, dict[str, tuple[float | None, dict[str, Any]]]] = {}
    for t in townships:
        p, a = permitted.get(t), allowable.get(t)
        caps = [v for v in (p, a) if v is not None]
        already = closed.get(t, Measure(0.0)).value or 0.0
        out[t] = {
            Indicator.WITHDRAWAL: (
                min(caps) if caps else None,
                {"rule": "min(permitted, allowable share)", "permitted_m3": p, "allowable_m3": a},
            ),
            Indicator.CLOSURES: (
                already + to_close.get(t, 0),
                {
                    "rule": "closed + in use in prohibited zones",
                    "closed": already,
                    "prohibited_in_use": to_close.get(t, 0),
                },
            ),
            Indicator.METER_COVERAGE: (1.0, {"rule": "every groundwater well metered"}),
            Indicator.ONLINE_METER_COVERAGE: (
                1.0,
                {
                    "rule": "online metering at or above the threshold",
                    "threshold_m3": threshold,
                    "wells": online_wells.get(t, 0),
                },
            ),
            Indicator.ARRIVAL_RATE: (
                conf.get("ARRIVAL_RATE_TARGET"),
                {"rule": "national monitoring programme"},
            ),
            Indicator.LEVELS_STABLE: (
                conf.get("LEVELS_STABLE_TARGET"),
                {"rule": "setting (unconfirmed)"},
            ),
            Indicator.ALARM_SLA: (conf.get("ALARM_SLA_TARGET"), {"rule": "setting (unconfirmed)"}),
            Indicator.RECTIFICATION_ON_TIME: (
                conf.get("RECTIFICATION_ON_TIME_TARGET"),
                {"rule": "setting (unconfirmed)"},
            ),
            Indicator.PLAN_COMPLETION: (
                conf.get("PLAN_COMPLETION_TARGET"),
                {"rule": "setting (unconfirmed)"},
            ),
            Indicator.COMPLAINTS_ON_TIME: (
                conf.get("COMPLAINTS_ON_TIME_TARGET"),
                {"rule": "setting (unconfirmed); measured once the complaints app answers"},
            ),
        }
    return out
