"""Demo data of the portal: complaints in every state (new, accepted, replied, closed,
rejected, one past its deadline, one that opened a case), news and notices in both languages,
and the public wells' snapshot (refreshed after the other apps' demos).

Everything goes through ``portal.services`` (routing, deadline, audit, notifications) and is
keyed by description or title, so a second run adds nothing but a fresh snapshot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from aquifer.core.audit import audit_context
from aquifer.portal import services, snapshot
from aquifer.portal.models import Complaint, ComplaintState, NewsItem

__all__ = ["build"]

#: (category, description, lon, lat, place, named, steps, days ago); steps run in order.
COMPLAINTS: list[tuple[str, str, float, float, str, bool, list[tuple[str, str]], int]] = [
    (
        "illegal_well",
        "村东头有人夜里用钻机打井，疑似未经审批。",
        112.575,
        35.535,
        "北留镇村东",
        True,
        [],
        1,
    ),
    (
        "pollution",
        "河边渗坑排放污水，附近井水有异味。",
        112.42,
        35.49,
        "凤城镇河滨路",
        False,
        [("accept", "")],
        3,
    ),
    (
        "unmetered",
        "厂区水泵直接抽水，没有看到水表。",
        112.45,
        35.50,
        "凤城镇工业园",
        True,
        [
            ("accept", ""),
            ("reply", "经现场核查，该企业已安装计量设施并纳入在线监测，责令补缴水资源税。"),
        ],
        12,
    ),
    (
        "device",
        "监测井设备箱门被撬开，太阳能板损坏。",
        112.50,
        35.47,
        "",
        False,
        [
            ("accept", ""),
            ("reply", "已派运维人员更换太阳能板并加装门锁，设备恢复上报。"),
            ("close", ""),
        ],
        20,
    ),
    (
        "other",
        "希望公开本村的地下水水位。",
        112.43,
        35.48,
        "",
        False,
        [("reject", "该事项不属于举报范围，已通过公众服务页面公开各监测井水位。")],
        8,
    ),
    (
        "illegal_well",
        "山坡上新打了一眼井，正在安装水泵。",
        112.57,
        35.53,
        "北留镇山坡",
        False,
        [],
        30,
    ),
]

NEWS: list[tuple[str, str, str, str, str, int]] = [
    (
        "notice",
        "关于开展地下水超采综合治理的通告",
        "Notice on the comprehensive control of groundwater over-extraction",
        "根据有关规定，全县开展地下水超采综合治理。禁采区内的取水井将依计划关停，欢迎群众监督举报。",
        "The county is controlling groundwater over-extraction. Wells in prohibited zones will be "
        "closed as planned; residents are welcome to report violations.",
        10,
    ),
    (
        "news",
        "全县地下水位止降回升",
        "Groundwater levels in the county stop falling",
        "据监测，多数监测井水位与去年同期相比保持稳定或回升。",
        "Most monitoring wells show levels stable or higher than in the same month last year.",
        4,
    ),
    (
        "publicity",
        "节约用水，从我做起",
        "Save water, starting with me",
        "地下水是宝贵的资源。请节约用水，发现私打乱采可通过本网站举报。",
        "Groundwater is precious. Please save water and report illegal wells on this site.",
        1,
    ),
]


def _user(username: str) -> Any:
    return get_user_model().objects.filter(username=username, is_active=True).first()


def build(log: Callable[[str], None] = print) -> dict[str, int]:
    bureau = _user("bureau") or get_user_model().objects.filter(role="bureau").first()
    made = 0
    now = timezone.now()
    with audit_context(user=bureau, source="demo"):
        for category, text, lon, lat, place, named, steps, days in COMPLAINTS:
            if Complaint.objects.filter(description=text).exists():
                continue
            filed = services.file_complaint(
                category=category,
                description=text,
                lon=lon,
                lat=lat,
                place=place,
                name="张先生" if named else "",
                phone="139****0000" if named else "",
                address=f"demo-{made}",
            )
            c = filed.complaint
            back = dt.timedelta(days=days)
            Complaint.objects.filter(pk=c.pk).update(
                filed_at=now - back, due_at=now - back + (c.due_at - c.filed_at)
            )
            c.events.update(at=now - back)
            c.refresh_from_db()
            handler = bureau
            if c.township_id is not None:
                handler = (
                    get_user_model().objects.filter(role="township", township_id=c.township_id)
                    .first() or bureau
                )  # fmt: skip
            for action, reply in steps:
                c = services.act(c, action, by=handler, text=reply)
            if category == "pollution" and c.state == ComplaintState.ACCEPTED:
                services.link_case(
                    c,
                    kind="inspection",
                    object_id="DEMO-1",
                    label="已立案开展现场检查（演示）",
                    by=handler,
                )
            made += 1
        news = 0
        for kind, title, title_en, body, body_en, days in NEWS:
            _item, created = NewsItem.objects.get_or_create(
                title=title,
                defaults={
                    "kind": kind,
                    "title_en": title_en,
                    "body": body,
                    "body_en": body_en,
                    "published": True,
                    "published_at": now - dt.timedelta(days=days),
                    "author": bureau,
                },
            )
            news += int(created)
        wells = snapshot.refresh()
    log(f"complaints {made}, news {news}, public wells {wells}")
    return {"complaints": made, "news": news, "wells": wells}
