"""Demo permits on top of the registry demo (``aquifer demo``).

- Existing permits (the register as it stands): one per water user and aquifer layer for
  their wells in service, issued 2021–2025 with a 5-year term; quotas by use type and well
  count in the ranges of a county like Yangcheng (a village's domestic supply some 20–80
  thousand m³/a a well, an irrigation well 8–40 thousand, a works 50–250 thousand). They
  predate the rule engine's checks (they are the register the checks start from), so they
  are written directly, not through :func:`services.decide`; deep-aquifer permits only for
  domestic supply (the emergency reserve). Prohibited-zone wells get none. A shallow permit
  whose wells are metered gets the quota that fits what its meters show this year
  (:class:`_Pace`, the simulator's pumps): most stand at 35–72 % today, two near 80 %, one
  near 100 %, one over (:data:`NOTABLE_SHARES`) — a handful of quota alarms, not a flood.
- Pending applications through the ordinary workflow: new permits, one reviewed by its
  township, one close to its 45-working-day deadline, a renewal.
- One application for a well in the Huangcheng Xiangfu prohibited zone, refused by the
  bureau's account through the rule engine (reason ``prohibited_zone`` with its sources).

Idempotent: a water user who already holds a demo permit is skipped; the applications are
looked up by their statement before they are filed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from aquifer.core.audit import audit_context
from aquifer.core.models import User
from aquifer.registry.models import Device, WaterUser, Well
from aquifer.telemetry import simulator
from aquifer.telemetry.simulator.registry import demo_sites

__all__ = ["build"]

SEED = 20260405
MARK = "演示数据"
QUOTA_PER_WELL = {  # m³/a per well, (low, high)
    "domestic": (20_000, 80_000),
    "agricultural": (8_000, 40_000),
    "industrial": (50_000, 250_000),
    "service": (5_000, 30_000),
    "ecological": (10_000, 50_000),
}
IN_SERVICE = ("active", "standby")
REVIEW_OPINION = "材料齐全，现场核查属实。"


def _round(v: float) -> int:
    return int(round(v / 500.0) * 500) or 500


#: Where the demo's metered permits stand today (used / quota), so that a handful of problems
#: stand out: by their order among the metered permits, two near 80 %, one near 100 %, one
#: over; every other metered permit at 35–72 % (on course for the year with room to spare).
NOTABLE_SHARES = {3: 0.84, 8: 0.91, 14: 0.97, 21: 1.12}
_METERING = ("flow_meter", "rtu")


class _Pace:
    """The metered volume this year to date of each well, as the demo's meters will report it
    (the simulator's pumps: seasonal hours × pump rate; a deep well's pump stands still)."""

    def __init__(self, today: dt.date, wells: list[Any]) -> None:
        tz = timezone.get_current_timezone()
        start = dt.datetime(today.year, 1, 1, tzinfo=tz)
        now = dt.datetime.combine(today, dt.time(), tzinfo=tz)
        stations = dict(
            Device.objects.filter(
                active=True, kind__in=_METERING, well_id__in=[w.pk for w in wells]
            )
            .order_by("pk")
            .values_list("well_id", "station_address")
        )
        sites = demo_sites(stations.values())
        self.volume: dict[int, float] = {
            well: simulator.cumulative_volume(now, sites[station])
            - simulator.cumulative_volume(start, sites[station])
            for well, station in stations.items()
        }
        self.elapsed = (today - start.date()).days / 365.0


def _metered_so_far(ws: list[Any], pace: _Pace) -> float:
    return sum(pace.volume.get(w.pk, 0.0) for w in ws)


def _metered_quota(ws: list[Any], pace: _Pace, rng: random.Random, seen: int) -> float | None:
    """The annual quota that puts a permit's wells where :data:`NOTABLE_SHARES` says today
    (metered volume plus the accounting estimate of its active unmetered wells); None when
    its meters show nothing this year."""
    metered = _metered_so_far(ws, pace)
    if metered <= 0:
        return None
    share = NOTABLE_SHARES.get(seen + 1, rng.uniform(0.35, 0.72))
    # The estimate of the unmetered wells is their quota share at full pace: it takes its part
    # of the share first; the meters fill at least a quarter of the quota on top of it.
    unmetered = sum(1 for w in ws if w.pk not in pace.volume and w.status == "active")
    room = max(share - unmetered / len(ws) * pace.elapsed, 0.25)
    return max(metered / room, 500.0)


def build(log: Callable[[str], None] = print) -> None:
    """Add the demo permits and applications (see the module docstring)."""
    from django.db import transaction
    from django.utils import timezone

    from aquifer.permits.models import Permit, PermitStatus
    from aquifer.permits.rules.state import _add_years

    rng = random.Random(SEED)
    today = timezone.localdate()
    bureau = User.objects.filter(username="bureau").first()
    users = list(WaterUser.objects.order_by("pk"))
    wells_by_user: dict[int, list[Any]] = {}
    for w in Well.objects.filter(owner__isnull=False).select_related("zone").order_by("code"):
        wells_by_user.setdefault(int(w.owner_id or 0), []).append(w)
    done = set(Permit.objects.filter(notes=MARK).values_list("holder_id", flat=True))
    pace = _Pace(today, [w for ws in wells_by_user.values() for w in ws])
    metered_permits: list[int] = []
    created = 0
    seq: dict[int, int] = {}
    with transaction.atomic(), audit_context(user=bureau, source="demo", reason="aquifer demo"):
        for u in users:
            if u.pk in done:
                continue
            wells = [
                w
                for w in wells_by_user.get(u.pk, [])
                if w.status in IN_SERVICE
                and not (w.zone is not None and w.zone.kind == "prohibited")
            ]
            for layer in ("shallow", "deep"):
                ws = [w for w in wells if w.layer == layer]
                if not ws or (layer == "deep" and u.use_type != "domestic"):
                    continue
                lo, hi = QUOTA_PER_WELL.get(u.use_type, (10_000, 50_000))
                quota = sum(rng.uniform(lo, hi) for _ in ws)
                if layer == "deep":
                    quota *= 0.3  # a standby reserve, drawn in emergencies only
                else:
                    fitted = _metered_quota(ws, pace, rng, len(metered_permits))
                    if fitted is not None:
                        metered_permits.append(u.pk)
                        quota = fitted
                issued = dt.date(rng.randint(2021, 2025), rng.randint(1, 12), rng.randint(1, 28))
                year_seq = seq.get(issued.year, 0) + 1
                seq[issued.year] = year_seq
                number = f"取水(晋阳)字[{issued.year}]第{year_seq:04d}号"
                while Permit.objects.filter(number=number).exists():
                    year_seq += 1
                    number = f"取水(晋阳)字[{issued.year}]第{year_seq:04d}号"
                seq[issued.year] = year_seq
                p = Permit(
                    number=number,
                    holder=u,
                    source=layer,
                    use_type=u.use_type,
                    annual_quota_m3=_round(quota),
                    term_years=5,
                    valid_from=issued,
                    valid_until=_add_years(issued, 5),
                    status=PermitStatus.ACTIVE
                    if _add_years(issued, 5) >= today
                    else PermitStatus.EXPIRED,
                    flags=["domestic"] if u.use_type == "domestic" else [],
                    township_id=ws[0].township_id,
                    purpose=f"{u.get_use_type_display()}用水",
                    notes=MARK,
                )
                p.save()
                p.wells.set(ws)
                created += 1
    log(f"permits: {created} demo permits")

    _applications(rng, today, bureau, log)


def _applications(
    rng: random.Random, today: dt.date, bureau: Any, log: Callable[[str], None]
) -> None:
    from django.core.exceptions import ValidationError

    from aquifer.permits import services
    from aquifer.permits.models import Permit, PermitApplication, PermitStatus
    from aquifer.permits.workdays import default_calendar

    filed = set(PermitApplication.objects.values_list("statement", flat=True))
    cal = default_calendar()
    n = 0
    with audit_context(user=bureau, source="demo", reason="aquifer demo"):
        # New applications for planned wells (the register's "规划" wells) of their owners.
        planned: list[Any] = list(
            Well.objects.filter(status="planned", owner__isnull=False, layer="shallow")
            .exclude(zone__kind="prohibited")
            .select_related("owner", "township")
            .order_by("code")[:6]
        )
        for i, w in enumerate(planned):
            text = f"新建取水井 {w.code} 申请取水许可（{MARK}）"
            if text in filed:
                continue
            lo, hi = QUOTA_PER_WELL.get(w.owner.use_type, (10_000, 50_000))
            # Received some working days ago: one close to its deadline (alarm), others fresh.
            back = 40 if i == 0 else rng.randint(2, 25)
            received = today
            while cal.working_days_between(received, today) < back:
                received -= dt.timedelta(days=1)
            try:
                app = services.apply_for_permit(
                    holder=w.owner,
                    wells=[w],
                    source="shallow",
                    use_type=w.owner.use_type,
                    annual_quota_m3=_round(rng.uniform(lo, hi)),
                    flags=["domestic"] if w.owner.use_type == "domestic" else [],
                    purpose=f"{w.owner.get_use_type_display()}用水",
                    statement=text,
                    received_on=received,
                )
            except ValidationError as exc:
                log(f"permits: application for {w.code} not filed: {exc.messages}")
                continue
            n += 1
            if i == 1:
                officer = User.objects.filter(role="township", township_id=w.township_id).first()
                if officer is not None:
                    services.review(
                        app, recommends=True, opinion="材料齐全，现场核查属实。", by=officer
                    )
        # A renewal of the active permit that expires first.
        p = (
            Permit.objects.filter(status=PermitStatus.ACTIVE, notes=MARK)
            .order_by("valid_until")
            .first()
        )
        text = f"许可证延续申请（{MARK}）"
        if p is not None and text not in filed and not p.applications.exists():
            services.apply_for(p, "renewal", statement=text, received_on=today)
            n += 1
        # The prohibited zone: an application refused through the rule engine.
        hc: Any = (
            Well.objects.filter(zone__kind="prohibited", owner__isnull=False, layer="shallow")
            .select_related("owner")
            .order_by("code")
            .first()
        )
        text = f"申请恢复 {hc.code if hc else ''} 取水（{MARK}）"
        if hc is not None and text not in filed:
            app = services.apply_for_permit(
                holder=hc.owner,
                wells=[hc],
                source="shallow",
                use_type=hc.owner.use_type,
                annual_quota_m3=12_000,
                statement=text,
                received_on=today - dt.timedelta(days=20),
            )
            if bureau is not None:
                d = services.decide(app, approve=True, note="", by=bureau)
                log(
                    "permits: prohibited-zone application refused: "
                    + "; ".join(r.rule_id for r in d.reasons)
                )
            n += 1
    log(f"permits: {n} demo applications")
