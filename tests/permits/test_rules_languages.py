"""The rules page: legal sources with an English gloss, settings as labelled rows (issue 14
point 13)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from aquifer.permits.reasons import article_en

pytestmark = pytest.mark.django_db


def page(world: Any, lang: str) -> str:
    c = world.client("bureau")
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    r = c.get("/permits/rules/")
    assert r.status_code == 200
    return r.content.decode()


@pytest.mark.parametrize(
    ("article", "english"),
    [
        ("第三十五条", "Art. 35"),
        ("第二十条第一项", "Art. 20(1)"),
        ("第十五条", "Art. 15"),
        ("二(一)", "part 2(1)"),
        ("(阳水字〔2022〕100号 引)", "(cited in 阳水字〔2022〕100号)"),
        ("附件", "附件"),  # unreadable: as it is
    ],
)
def test_articles_in_english(article: str, english: str) -> None:
    assert article_en(article) == english


def test_the_rules_page_in_english_glosses_the_regulations(world: Any) -> None:
    en = page(world, "en")
    assert (
        '<span lang="zh-hans">地下水管理条例</span> (Regulations on Groundwater Management) Art. 35'
        in en
    )
    assert '<span lang="zh-hans">阳水字〔2022〕100号</span>' in en  # a document number: a name
    assert "Deep groundwater" in en or "deep groundwater" in en.lower()


def test_the_chinese_rules_page_shows_labels_not_codes(world: Any) -> None:
    zh = page(world, "zh-hans")
    assert "地下水管理条例 第三十五条" in zh
    assert "{&#x27;" not in zh and "<Source." not in zh and "&lt;Source." not in zh
    assert "深层地下水" in zh and "新增取水许可" in zh
    assert "capped_sources" not in zh and "new_permit" not in zh.replace('data-rule="', "")
