"""Notices are stored as message codes and params and read in the reader's language
(issue 14 point 13); notices stored before codes existed still read as they were sent."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_noop

from aquifer.core.texts import label, render, text
from aquifer.notifications.models import Delivery, Notice
from aquifer.notifications.service import notify

pytestmark = pytest.mark.django_db


def inbox(world: Any, role: str, lang: str) -> str:
    c = world.client(role)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    return c.get("/notifications/").content.decode()


def test_a_notice_reads_in_each_readers_language(world: Any) -> None:
    user = world.accounts["township"]
    notify(
        event="ticket.assigned",
        title=text(
            gettext_noop("运维工单 %(number)s 已派给您：%(title)s"), number="T-7", title="泵房"
        ),
        body=[{"zh": "请尽快处理", "en": "Please see to it soon"}],
        users=[user],
    )
    notice = Notice.objects.get()
    # As sent (e-mail, SMS, search): the default language.
    assert notice.title == "运维工单 T-7 已派给您：泵房" and notice.body == "请尽快处理"
    assert notice.message == "text" and notice.params["title"]["params"]["number"] == "T-7"
    en = inbox(world, "township", "en")
    assert "Maintenance ticket T-7 assigned to you: 泵房" in en
    assert "Please see to it soon" in en and "已派给您" not in en
    assert "运维工单 T-7 已派给您：泵房" in inbox(world, "township", "zh-hans")


def test_an_alarm_notice_is_rendered_by_monitoring(world: Any) -> None:
    from aquifer.monitoring import alarms

    alarms.raise_alarm(
        kind="device_offline",
        key=f"device_offline:device:{world.device_a.pk}",
        message="device_offline",
        params={
            "station": "0014052201",
            "hours": 30,
            "last": "2026-03-01T08:00",
            "factor": 3,
            "interval": 60,
        },
        severity="critical",
        device=world.device_a,
    )
    notice = Notice.objects.get()
    assert notice.message == "alarm:device_offline"
    assert "离线" in notice.title  # as sent
    with translation.override("en"):
        assert notice.display_title == "0014052201 offline for 30 hours"
        assert notice.display_body.startswith("Last report 2026-03-01T08:00")
    with translation.override("zh-hans"):
        assert notice.display_title == notice.title


def test_a_notice_stored_before_codes_reads_as_sent(world: Any) -> None:
    notify(event="permit.decided", title="旧通知", body="旧内容", users=[world.accounts["bureau"]])
    Notice.objects.update(message="", params={})  # as rows written before the codes
    notice = Notice.objects.get()
    with translation.override("en"):
        assert (notice.display_title, notice.display_body) == ("旧通知", "旧内容")
    assert "旧通知" in inbox(world, "bureau", "en")
    # An unknown code (an app since removed) falls back the same way.
    Notice.objects.update(message="gone:thing", params={"x": 1})
    assert Notice.objects.get().display_title == "旧通知"
    assert Delivery.objects.filter(notice=notice).exists()


def test_stored_texts_render_nested_labels_and_both_language_dicts() -> None:
    from aquifer.permits.models import ApplicationKind

    stored = text(
        gettext_noop("%(kind)s：%(verdict)s（%(permit)s）"),
        kind=label(ApplicationKind.NEW.label),
        verdict=text(gettext_noop("准予许可")),
        permit="YQ-2026-001",
    )
    with translation.override("en"):
        shown = render(stored)
        assert "YQ-2026-001" in shown and "准予" not in shown and ":" in shown
        assert render({"zh": "中", "en": "middle"}) == "middle"
        assert render([{"zh": "一", "en": "one"}, "X"]) == "one\nX"
    with translation.override("zh-hans"):
        assert render(stored).endswith("准予许可（YQ-2026-001）")
    # A message whose id is not in the catalogue still renders, as written.
    assert render(text("未知消息 %(n)s", n=3)) == "未知消息 3"
    assert render(text("坏的 %(n)d", m=3)) == "坏的 %(n)d"  # a missing param never raises


def test_the_demo_notices_read_in_english_and_are_not_added_twice(world: Any) -> None:
    from aquifer.notifications.demo import build

    build(log=lambda _line: None)
    count = Notice.objects.count()
    assert count == 4
    build(log=lambda _line: None)
    assert Notice.objects.count() == count  # keyed by the title as sent
    notice = Notice.objects.get(event="trade.announced")
    assert notice.title.startswith("水权交易公示")
    with translation.override("en"):
        assert notice.display_title.startswith("Water rights trade announced")
