"""Demo data of the maintenance app, on top of the registry and monitoring demos.

- tickets opened from some of the monitoring demo's device alarms, in every state: new,
  assigned to the township's demo officer, in progress, closed with what was done;
- fault reports by the demo water user on their own devices (one still new, one repaired);
- patrol visits over the last two months in 北留镇 and 凤城镇 by the township demo accounts
  and the inspector, a few with faults that opened tickets.

Everything goes through ``maintenance.services`` (scope, state machine, audit, notifications)
and is keyed by device and title, or device and visit time, so a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from aquifer.core.audit import audit_context
from aquifer.monitoring.models import Alarm
from aquifer.registry.models import Device

__all__ = ["build"]

SEED = 20260402
PATROLS_PER_TOWNSHIP = 14

RESOLUTIONS = [
    "更换通信模块并重新注册，设备已恢复上报。",
    "更换蓄电池（12V 24Ah），电压恢复正常。",
    "重新加装铅封，核对表底读数无异常。",
    "清理太阳能板并紧固接线，供电恢复。",
    "更换损坏的设备箱门锁，张贴标识牌。",
]
FAULTS = [
    ("设备不上报数据", "连续两天未收到数据，现场查看信号灯不亮。"),
    ("水表读数不走", "抽水时水表读数不变，怀疑表头故障。"),
    ("设备箱进水", "雨后设备箱内有积水，担心损坏终端。"),
]


def _account(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username=username, is_active=True).first()


def _at(now: dt.datetime, rng: random.Random, lo_h: float, hi_h: float) -> dt.datetime:
    return now - dt.timedelta(hours=rng.uniform(lo_h, hi_h))


def _walk(ticket: Any, target: int, by: Any, worker: Any, rng: random.Random) -> None:
    """Move a new ticket ``target`` steps along: 1 assigned, 2 in progress, 3 closed."""
    from django.utils import timezone

    from aquifer.maintenance import services

    t = ticket.opened_at
    now = timezone.now()
    if target >= 1:
        t += dt.timedelta(hours=rng.uniform(0.5, 8))
        t = min(t, now)
        services.act(ticket, "assign", by=by, assignee=worker, note="请尽快到现场处理", at=t)
    if target >= 2:
        t += dt.timedelta(hours=rng.uniform(1, 20))
        t = min(t, now)
        services.act(ticket, "start", by=worker, at=t)
    if target >= 3:
        t += dt.timedelta(hours=rng.uniform(2, 60))
        t = min(t, now)
        services.act(ticket, "close", by=worker, resolution=rng.choice(RESOLUTIONS), at=t)


def build(log: Callable[[str], None] = print) -> None:
    """Add the maintenance demo (see the module docstring); idempotent."""
    from django.utils import timezone

    from aquifer.maintenance import services
    from aquifer.maintenance.models import Patrol, Ticket

    bureau, inspector = _account("bureau"), _account("inspector")
    officers = {u.township_id: u for u in (_account("beiliu"), _account("fengcheng")) if u}
    wateruser = _account("wateruser")
    if bureau is None:
        log("maintenance demo: no demo accounts (run the registry demo first)")
        return
    rng = random.Random(SEED)
    now = timezone.now()
    created = patrols = 0
    with audit_context(user=bureau, source="demo"):
        # Tickets from device alarms of the monitoring demo.
        try:
            alarms = list(
                Alarm.objects.filter(device__isnull=False).order_by("opened_at", "pk")[:12]
            )
        except LookupError:  # pragma: no cover - monitoring not installed
            alarms = []
        for i, alarm in enumerate(alarms):
            if Ticket.objects.filter(alarm=alarm).exists():
                continue
            ticket = services.open_ticket(
                by=bureau,
                title=alarm.title,
                description=alarm.detail or alarm.title,
                alarm=alarm,
                priority="high" if alarm.severity == "critical" else "normal",
                at=max(alarm.opened_at, now - dt.timedelta(days=5)),
            )
            worker = officers.get(ticket.township_id) or (inspector if i % 2 else bureau)
            _walk(ticket, i % 4, bureau, worker, rng)
            created += 1
        # Fault reports by the demo water user.
        if wateruser is not None and wateruser.water_user_id:
            devices = list(
                Device.objects.filter(well__owner_id=wateruser.water_user_id).order_by("pk")[:2]
            )
            for j, device in enumerate(devices):
                title, text = FAULTS[j % len(FAULTS)]
                if Ticket.objects.filter(device=device, title=title).exists():
                    continue
                ticket = services.open_ticket(
                    by=wateruser,
                    title=title,
                    description=text,
                    device=device,
                    at=_at(now, rng, 30, 240),
                )
                worker = officers.get(ticket.township_id) or bureau
                _walk(ticket, 0 if j == 0 else 3, bureau, worker, rng)
                created += 1
        # Patrols in the two demo townships.
        codes = services.checklist()
        for township_id, officer in officers.items():
            devices = list(
                Device.objects.filter(well__township_id=township_id, active=True).order_by("pk")[
                    :PATROLS_PER_TOWNSHIP
                ]
            )
            for k, device in enumerate(devices):
                visited = (now - dt.timedelta(days=2 + 4 * k, hours=rng.randint(0, 6))).replace(
                    minute=0, second=0, microsecond=0
                )
                if Patrol.objects.filter(device=device).exists():
                    continue
                results = {c.code: "ok" for c in codes}
                findings = ""
                if k % 4 == 3 and codes:
                    bad = rng.choice(codes)
                    results[bad.code] = "fault"
                    findings = f"{bad.label}：不符合要求，需维修。"
                by = inspector if (k % 3 == 2 and inspector is not None) else officer
                patrol = services.record_patrol(
                    by=by,
                    device=device,
                    results=results,
                    findings=findings,
                    meter_reading=round(rng.uniform(1000, 90000), 1),
                    visited_at=visited,
                    open_ticket_for_faults=bool(findings),
                )
                if patrol.ticket is not None:
                    _walk(patrol.ticket, (k // 4) % 4, officer, officer, rng)
                patrols += 1
    log(f"maintenance: {created} tickets and {patrols} patrols added")
