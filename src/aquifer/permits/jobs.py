"""Periodic checks of the permits app (COMMON.md interfaces 1 and 2).

Each job is idempotent: it raises an alarm for every condition that holds (``raise_alarm``
updates an open one) and clears the alarms whose condition has gone.

- ``permits.quota`` — quota_80 / quota_100 per active permit and year: the permit's wells'
  withdrawal this year (accounting's ``well_volumes``, metered + estimated) against its
  annual quota. Key ``quota_80:permit:<id>:<year>``.
- ``permits.violations`` — deep_withdrawal: a deep well's meter shows withdrawal this month and
  no declared emergency window overlaps the month (R1.2); prohibited_withdrawal: a meter on a
  well in a prohibited zone shows withdrawal this month (地下水管理条例 art. 35). Keys
  ``…:well:<id>``. Only *metered* volume counts as evidence: accounting's estimates (gaps,
  unmetered wells) do not raise a violation.
- ``permits.deadlines`` — permit_deadline: an open application with at most
  ``DEADLINE_WARNING_WORKING_DAYS`` working days left of its 45 (art. 19), or an active
  permit expiring within ``RENEWAL_LEAD_DAYS + RENEWAL_WARNING_DAYS`` days with no renewal
  filed (art. 25). A new one also notifies ``permit.deadline``.
- ``permits.lifecycle`` — active permits past their term become ``expired`` (not while a
  renewal filed in time awaits its decision); permits with no
  withdrawal in the last ``UNUSED_YEARS`` whole calendar years (each fully inside the term)
  are flagged (``unused_since``) with a permit_unused alarm (art. 44).
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
import logging
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from aquifer.accounting import service as accounting
from aquifer.core.audit import audit_context
from aquifer.core.jobs import periodic
from aquifer.core.models import User
from aquifer.monitoring import alarms, messages
from aquifer.monitoring.models import OPEN_STATES, Alarm
from aquifer.notifications.service import notify
from aquifer.permits import services
from aquifer.permits.models import (
    OPEN_APPLICATION,
    ApplicationKind,
    Permit,
    PermitApplication,
    PermitStatus,
)
from aquifer.registry.choices import AquiferLayer, ZoneKind
from aquifer.registry.models import Well

__all__ = [
    "check_deadlines",
    "check_lifecycle",
    "check_quotas",
    "check_violations",
    "quota_use",
]

log = logging.getLogger(__name__)


def _well_volumes(year: int, month: int | None, wells: Iterable[int] | None) -> dict[int, Any]:
    return dict(accounting.well_volumes(year, month, wells=wells))


def _total(v: Any) -> float:
    return float(v.total_m3) if v is not None else 0.0


def _alarms() -> Any:
    return alarms


def _active_permits() -> list[Permit]:
    return list(
        Permit.objects.filter(status=PermitStatus.ACTIVE)
        .select_related("township", "holder")
        .defer("township__boundary")
        .prefetch_related(Prefetch("wells", queryset=Well.objects.order_by("code")))
    )


def quota_use(permits: list[Permit], year: int) -> dict[int, float]:
    """m³ withdrawn this year by each permit's wells (metered + estimated)."""
    wells = {w.pk for p in permits for w in p.wells.all()}
    vols = _well_volumes(year, None, sorted(wells)) if wells else {}
    return {p.pk: sum(_total(vols.get(w.pk)) for w in p.wells.all()) for p in permits}


def check_quotas(today: date | None = None) -> dict[str, int]:
    """Raise / clear quota_80 and quota_100 for the active permits, this year."""
    today = today or timezone.localdate()
    year = today.year
    alarms = _alarms()
    permits = _active_permits()
    use = quota_use(permits, year)
    counts = {"quota_80": 0, "quota_100": 0}
    for p in permits:
        quota = float(p.annual_quota_m3)
        used = use.get(p.pk, 0.0)
        share = used / quota if quota else 0.0
        keys = {kind: f"{kind}:permit:{p.pk}:{year}" for kind in ("quota_80", "quota_100")}
        well = next(iter(p.wells.all()), None)
        data = {"permit": p.pk, "year": year, "used_m3": round(used, 1), "quota_m3": quota}
        if share >= 0.8:
            full = share >= 1.0
            kind, other = ("quota_100", "quota_80") if full else ("quota_80", "quota_100")
            alarms.raise_alarm(
                kind=kind,
                key=keys[kind],
                message=kind,
                params={
                    "permit": str(p),
                    "year": year,
                    "pct": round(share * 100),
                    "used": used,
                    "quota": quota,
                },
                severity="critical" if full else "warning",
                township=p.township,
                well=well,
                data=data,
            )
            alarms.clear_alarm(
                kind=other, key=keys[other], note="升级为 quota_100" if full else "低于许可水量"
            )
            counts[kind] += 1
        else:
            alarms.clear_alarm(kind="quota_80", key=keys["quota_80"], note="低于80%")
            alarms.clear_alarm(kind="quota_100", key=keys["quota_100"], note="低于许可水量")
    _clear_orphans(("quota_80", "quota_100"), {f"permit:{p.pk}:{year}" for p in permits}, year)
    return counts


def _clear_orphans(kinds: tuple[str, ...], live: set[str], year: int) -> None:
    """Clear this year's quota alarms of permits that are no longer active."""

    alarms = _alarms()
    for a in Alarm.objects.filter(kind__in=kinds, state__in=OPEN_STATES, key__endswith=f":{year}"):
        rest = a.key.split(":", 1)[1] if ":" in a.key else ""
        if rest not in live:
            alarms.clear_alarm(kind=a.kind, key=a.key, note="许可证已不在有效状态")


def _month_overlaps_window(today: date) -> bool:
    start = today.replace(day=1)
    end = today.replace(day=_cal.monthrange(today.year, today.month)[1])
    return any(
        w.start <= end and (w.end is None or w.end >= start) for w in services.emergency_windows()
    )


def _raise_or_clear(
    alarms: Any, when: bool, *, kind: str, key: str, note: str, **alarm: Any
) -> int:
    """Raise the (kind, key) alarm when ``when`` holds, else clear it with ``note``; 1 if
    raised."""
    if when:
        alarms.raise_alarm(kind=kind, key=key, **alarm)
        return 1
    alarms.clear_alarm(kind=kind, key=key, note=note)
    return 0


def check_violations(today: date | None = None) -> dict[str, int]:
    """Raise / clear deep_withdrawal and prohibited_withdrawal for this month."""

    today = today or timezone.localdate()
    alarms = _alarms()
    from django.db.models import Q

    wells = list(
        Well.objects.filter(Q(layer=AquiferLayer.DEEP) | Q(zone__kind=ZoneKind.PROHIBITED))
        .select_related("zone", "township")
        .order_by("code")
    )
    vols = _well_volumes(today.year, today.month, [w.pk for w in wells]) if wells else {}
    window = _month_overlaps_window(today)
    counts = {"deep_withdrawal": 0, "prohibited_withdrawal": 0}
    month = f"{today:%Y-%m}"
    for w in wells:
        # Evidence of pumping is metered volume; an estimate (gap, unmetered well) is not.
        v = vols.get(w.pk)
        used = float(v.metered_m3) if v is not None else 0.0
        data = {"well": w.pk, "month": month, "volume_m3": round(used, 1)}
        deep = w.layer == AquiferLayer.DEEP and used > 0 and not window
        counts["deep_withdrawal"] += _raise_or_clear(
            alarms,
            deep,
            kind="deep_withdrawal",
            key=f"deep_withdrawal:well:{w.pk}",
            note="本月无应急期外取水",
            message="deep_withdrawal",
            params={"well": w.code, "month": month, "volume": used},
            severity="critical",
            well=w,
            data=data,
        )
        in_zone = w.zone is not None and w.zone.kind == ZoneKind.PROHIBITED
        counts["prohibited_withdrawal"] += _raise_or_clear(
            alarms,
            in_zone and used > 0,
            kind="prohibited_withdrawal",
            key=f"prohibited_withdrawal:well:{w.pk}",
            note="本月无取水",
            message="prohibited_withdrawal",
            params={"well": w.code, "month": month, "volume": used},
            severity="critical",
            well=w,
            data=data,
        )
    _clear_wells_gone(wells)
    return counts


def _clear_wells_gone(wells: list[Any]) -> None:
    """Clear violation alarms of wells that left the deep layer / the prohibited zone."""

    alarms = _alarms()
    live = {f"well:{w.pk}" for w in wells}
    kinds = ("deep_withdrawal", "prohibited_withdrawal")
    for a in Alarm.objects.filter(kind__in=kinds, state__in=OPEN_STATES):
        if a.key.split(":", 1)[1] not in live:
            alarms.clear_alarm(kind=a.kind, key=a.key, note="条件已不成立")


def _notify_deadline(alarm: Any, township: Any, url: str, users: Any) -> None:
    """The notice of a deadline alarm: its message code and params (shown in the reader's
    language), and its title and detail as sent (the default language)."""
    try:
        notify(
            event="permit.deadline",
            title=alarm.title,
            body=alarm.detail,
            message=messages.NOTICE_PREFIX + alarm.message if alarm.message else "",
            params=alarm.params if alarm.message else None,
            township=township,
            url=url,
            severity="warning",
            users=users,
        )
    except Exception:  # a notice must never stop the job
        log.exception("permit.deadline notice failed")


def _holder_accounts(permit: Permit) -> list[Any]:
    return list(User.objects.filter(water_user_id=permit.holder_id, is_active=True))


def check_deadlines(today: date | None = None) -> dict[str, int]:
    """Raise / clear permit_deadline for decisions and renewals that fall due."""
    today = today or timezone.localdate()
    alarms = _alarms()
    cal = services.calendar()
    warn = int(services.permit_setting("DEADLINE_WARNING_WORKING_DAYS"))
    counts = {"decision": 0, "renewal": 0}
    open_apps = PermitApplication.objects.filter(status__in=OPEN_APPLICATION).select_related(
        "permit__township"
    )
    live: set[str] = set()
    for app in open_apps:
        left = cal.working_days_between(today, app.deadline)
        key = f"permit_deadline:application:{app.pk}"
        if left <= warn:
            live.add(key)
            overdue = left < 0
            alarm = alarms.raise_alarm(
                kind="permit_deadline",
                key=key,
                message="permit_deadline.overdue" if overdue else "permit_deadline.due",
                params={"application": app.pk, "deadline": str(app.deadline), "left": left},
                severity="critical" if overdue else "warning",
                township=app.permit.township,
                data={"application": app.pk, "deadline": app.deadline.isoformat(), "left": left},
            )
            if alarm.count == 1:
                _notify_deadline(alarm, app.permit.township, _url(app.permit), None)
            counts["decision"] += 1
    lead = int(services.permit_setting("RENEWAL_LEAD_DAYS"))
    soon = today + dt.timedelta(days=lead + int(services.permit_setting("RENEWAL_WARNING_DAYS")))
    renewing = set(
        PermitApplication.objects.filter(
            kind=ApplicationKind.RENEWAL, status__in=OPEN_APPLICATION
        ).values_list("permit_id", flat=True)
    )
    for p in (
        Permit.objects.filter(
            status=PermitStatus.ACTIVE, valid_until__isnull=False, valid_until__lte=soon
        )
        .select_related("township")
        .defer("township__boundary")
    ):
        if p.pk in renewing:
            continue
        key = f"permit_deadline:renewal:{p.pk}"
        live.add(key)
        by = p.valid_until - dt.timedelta(days=lead)  # type: ignore[operator]
        alarm = alarms.raise_alarm(
            kind="permit_deadline",
            key=key,
            message="permit_deadline.renewal",
            params={"permit": str(p), "until": str(p.valid_until), "by": str(by)},
            severity="warning",
            township=p.township,
            well=p.wells.order_by("code").first(),
            data={"permit": p.pk, "valid_until": str(p.valid_until)},
        )
        if alarm.count == 1:
            _notify_deadline(alarm, p.township, _url(p), _holder_accounts(p))
        counts["renewal"] += 1

    for a in Alarm.objects.filter(kind="permit_deadline", state__in=OPEN_STATES):
        if a.key not in live:
            alarms.clear_alarm(kind="permit_deadline", key=a.key, note="已决定、已申请延续或已失效")
    return counts


def _url(permit: Permit) -> str:
    return permit.get_absolute_url()


def check_lifecycle(today: date | None = None) -> dict[str, int]:
    """Expire permits past their term; flag and alarm permits unused for two whole years."""
    today = today or timezone.localdate()
    alarms = _alarms()
    counts = {"expired": 0, "unused": 0}
    with audit_context(source="system", reason="permit term ended"):
        # A renewal filed in time and not yet decided keeps the permit in force meanwhile.
        renewing = PermitApplication.objects.filter(
            kind=ApplicationKind.RENEWAL, status__in=OPEN_APPLICATION
        ).values("permit_id")
        for p in Permit.objects.filter(status=PermitStatus.ACTIVE, valid_until__lt=today).exclude(
            pk__in=renewing
        ):
            p.status = PermitStatus.EXPIRED
            p.save()
            counts["expired"] += 1
    years = int(services.permit_setting("UNUSED_YEARS"))
    span = [today.year - i for i in range(years, 0, -1)]  # the last whole calendar years
    permits = [
        p
        for p in _active_permits()
        if p.valid_from is not None and p.valid_from <= date(span[0], 1, 1)
    ]
    wells = sorted({w.pk for p in permits for w in p.wells.all()})
    per_year = {y: _well_volumes(y, None, wells) for y in span} if wells else {}
    live: set[str] = set()
    with audit_context(source="system", reason="permit unused for two consecutive years"):
        for p in permits:
            key = f"permit_unused:permit:{p.pk}"
            ws = list(p.wells.all())
            unused = (
                bool(per_year)
                and bool(ws)
                and all(sum(_total(per_year[y].get(w.pk)) for w in ws) <= 0 for y in span)
            )
            if unused:
                live.add(key)
                if p.unused_since is None:
                    p.unused_since = date(span[0], 1, 1)
                    p.save()
                alarms.raise_alarm(
                    kind="permit_unused",
                    key=key,
                    message="permit_unused",
                    params={"permit": str(p), "years": years, "first": span[0], "last": span[-1]},
                    severity="info",
                    township=p.township,
                    well=ws[0],
                    data={"permit": p.pk, "years": span},
                )
                counts["unused"] += 1
            elif p.unused_since is not None:
                p.unused_since = None
                p.save()
    for a in Alarm.objects.filter(kind="permit_unused", state__in=OPEN_STATES):
        if a.key not in live:
            alarms.clear_alarm(kind="permit_unused", key=a.key, note="已恢复取水或已注销")
    return counts


@periodic("permits.quota", every=dt.timedelta(hours=1))
def quota_job() -> None:
    check_quotas()


@periodic("permits.violations", every=dt.timedelta(minutes=15))
def violations_job() -> None:
    check_violations()


@periodic("permits.deadlines", every=dt.timedelta(hours=6))
def deadlines_job() -> None:
    check_deadlines()


@periodic("permits.lifecycle", every=dt.timedelta(hours=24))
def lifecycle_job() -> None:
    check_lifecycle()
