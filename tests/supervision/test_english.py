"""The supervision detail pages in English hold no Chinese but the data's own words (the
language test walks only pages without parameters)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from aquifer.supervision import services
from aquifer.supervision.models import Finding, Rectification, WorkPlan
from tests.supervision.conftest import YEAR
from tests.test_languages import HAN, proper_names, visible_text

pytestmark = pytest.mark.django_db

DATA = ["关停禁采区井", "节水宣传", "张三", "李四", "水表铅封破损", "条例第四十三条", "更换铅封",
        "计量设施检查", "凤城供水站", "已更换", "关停工作已完成", "眼", "次"]  # fmt: skip


def test_pages_in_english(world: Any, approved_plan: WorkPlan) -> None:
    bureau = world.accounts["bureau"]
    inspection = services.record_inspection(
        by=bureau,
        township=world.township_a,
        date=approved_plan.created_at.date(),
        subject="计量设施检查",
    )
    finding = services.add_finding(
        by=bureau, inspection=inspection, description="水表铅封破损", rule="条例第四十三条"
    )
    order = services.issue_order(
        by=bureau, finding=finding, requirement="更换铅封", responsible="凤城供水站"
    )
    services.answer_order(by=world.accounts["township"], order=order, evidence="已更换")
    a = services.compute_assessment(year=YEAR)
    services.adjust_score(by=bureau, score=a.scores.first(), points=1, reason="关停工作已完成")
    c = world.client("bureau")
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    names = sorted(set(proper_names()) | set(DATA), key=len, reverse=True)
    urls = [
        approved_plan.get_absolute_url(),
        f"/supervision/targets/?year={YEAR}",
        f"/supervision/assessment/{YEAR}/",
        f"/supervision/assessment/{YEAR}/townships/{world.township_a.pk}/",
        f"/supervision/assessment/{YEAR}/townships/{world.township_a.pk}/evidence/closures/",
        f"/supervision/assessment/{YEAR}/pdf?format=html",
        inspection.get_absolute_url(),
        order.get_absolute_url(),
        "/supervision/inspections/?state=all",
        "/health/",
    ]
    assert Finding.objects.count() == 1 and Rectification.objects.count() == 1
    for url in urls:
        r = c.get(url)
        assert r.status_code == 200, url
        text = " ".join(visible_text(r.content.decode(), "en"))
        for n in names:
            text = text.replace(n, "")
        assert not HAN.findall(text), (url, HAN.findall(text))
