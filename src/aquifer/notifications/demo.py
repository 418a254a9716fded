"""Demo data of the notifications app: invented mobile numbers for the demo accounts (so SMS
lands in the outbox) and a few inbox messages for each of them.

Ticket and alarm notifications also arrive by themselves when the maintenance and monitoring
demos run. The demo accounts have no e-mail address, so no e-mail is attempted. Idempotent:
contacts are looked up, messages keyed by their title. The messages are stored as message
ids (core.texts), so each reader reads them in their language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_noop

from aquifer.core.audit import audit_context
from aquifer.core.texts import render, text

__all__ = ["build"]

MOBILES = {
    "bureau": "13935600001",
    "beiliu": "13935600002",
    "fengcheng": "13935600003",
    "wateruser": "13935600004",
    "inspector": "13935600005",
}


def build(log: Callable[[str], None] = print) -> None:
    """Add the notifications demo (see the module docstring); idempotent."""
    from django.contrib.auth import get_user_model

    from aquifer.notifications.models import Contact, Notice
    from aquifer.notifications.service import notify

    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=list(MOBILES))}
    if not users:
        log("notifications demo: no demo accounts (run the registry demo first)")
        return
    sent = 0
    with audit_context(source="demo"):
        for name, mobile in MOBILES.items():
            if name in users:
                Contact.objects.get_or_create(user=users[name], defaults={"mobile": mobile})
        beiliu = users.get("beiliu")
        township = beiliu.township_id if beiliu is not None else None
        water_user = users.get("wateruser")
        messages: list[dict[str, Any]] = [
            dict(
                event="permit.deadline",
                title=text(gettext_noop("取水许可证将于 60 天后到期，请及时办理延续")),
                body=text(gettext_noop("请于有效期届满 30 日前向县水务局提出延续申请。")),
                severity="warning",
                users=[water_user] if water_user else None,
            ),
            dict(
                event="trade.announced",
                title=text(gettext_noop("水权交易公示：北留镇灌溉用水 2 万 m³ 转让")),
                body=text(gettext_noop("公示期 10 个工作日，如有异议请向县水务局反映。")),
                township=township,
            ),
            dict(
                event="quality.warning",
                title=text(gettext_noop("监测井水质预警：硝酸盐（以N计）超过 III 类限值")),
                body=text(
                    gettext_noop("最近一次采样 21.3 mg/L（GB/T 14848-2017 III 类 ≤ 20 mg/L）。")
                ),
                township=township,
                severity="warning",
            ),
            dict(
                event="permit.decided",
                title=text(gettext_noop("取水许可变更申请已批准")),
                users=[water_user] if water_user else None,
            ),
        ]
        for m in messages:
            with translation.override(settings.LANGUAGE_CODE):
                as_sent = render(m["title"])
            if Notice.objects.filter(title=as_sent).exists():
                continue
            sent += notify(**m)
    log(f"notifications: {sent} messages added")
