"""The tax tables' categories, sources and notes in the reader's language (issue 14 point 13)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from aquifer.accounting.models import TaxMultiplier, TaxRate

pytestmark = pytest.mark.django_db


def page(world: Any, lang: str) -> str:
    c = world.client("bureau")
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    r = c.get("/accounting/tax/rates/")
    assert r.status_code == 200
    return r.content.decode()


def test_loaded_rates_are_stored_as_codes(world: Any) -> None:
    categories = set(TaxRate.objects.values_list("category", flat=True))
    assert categories <= {c for c, _label in TaxRate._meta.get_field("category").choices}
    assert "shanxi_2024_notice" in set(TaxRate.objects.values_list("source", flat=True))
    assert "over_plan_multipliers" in set(TaxMultiplier.objects.values_list("source", flat=True))


def test_the_rates_page_in_english_glosses_the_notice(world: Any) -> None:
    en = page(world, "en")
    assert "Urban public water supply" in en and "城镇公共供水" not in en
    # The notice's official title stays Chinese, marked as such, with an English gloss.
    assert (
        '<span lang="zh-hans">山西省财政厅、国家税务总局山西省税务局、山西省水利厅联合通知</span>'
        in en
    )
    assert "(joint notice of the Shanxi Department of Finance" in en
    assert "reported by Xinhua on 2024-12-03" in en
    assert "More than 40% above the plan." in en
    zh = page(world, "zh-hans")
    assert "城镇公共供水" in zh and "新华社 2024-12-03 报道" in zh and "joint notice" not in zh


def test_a_source_or_note_the_bureau_typed_is_shown_as_typed(world: Any) -> None:
    rate = TaxRate.objects.filter(category="other").first()
    assert rate is not None
    rate.source = "县水务局 2026 年 3 月核定"
    rate.notes = "按户核定"
    rate.save()
    en = page(world, "en")
    assert "县水务局 2026 年 3 月核定" in en and "按户核定" in en
