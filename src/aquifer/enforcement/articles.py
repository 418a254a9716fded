"""The articles a case is decided under and their penalty ranges (standards.md §3.2), and the
proposal of an amount from the county's discretionary bands. Pure: no Django.

Each case kind names its legal basis and the fine range in yuan (元) as standards.md gives
them; ``minimum`` 0 where the source gives only a ceiling ("≤ 50 000").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["ARTICLES", "Article", "PenaltyError", "check_amount", "propose"]


@dataclass(frozen=True)
class Article:
    kind: str
    basis: str  # the legal basis as standards.md §3.2 cites it
    minimum: int
    maximum: int


ARTICLES: dict[str, Article] = {
    a.kind: a
    for a in (
        Article("unapproved_works", "取水许可和水资源费征收管理条例 第四十九条", 0, 50_000),
        Article(
            "unpermitted_withdrawal",
            "地下水管理条例 第五十五条 → 水法 第六十九条；"
            "取水许可和水资源费征收管理条例 第四十八条",
            20_000,
            100_000,
        ),
        Article("no_meter", "地下水管理条例 第五十六条", 100_000, 500_000),
        Article("meter_faulty", "地下水管理条例 第五十六条", 100_000, 500_000),
        Article("meter_interference", "节约用水条例 第四十六条", 10_000, 100_000),
        Article("monitoring_damage", "地下水管理条例 第六十条", 20_000, 100_000),
        Article("not_sealed", "地下水管理条例 第五十八条", 100_000, 500_000),
        Article(
            "pollution_discharge",
            "地下水管理条例 第五十五条 → 水污染防治法 第八十三条",
            100_000,
            1_000_000,
        ),
        Article("pollution_storage", "地下水管理条例 第五十九条", 100_000, 1_000_000),
        Article("seepage_control", "水污染防治法 第八十五条", 20_000, 200_000),
        Article(
            "closed_well_pumping",
            "地下水管理条例 第五十五条 → 水法 第六十九条",
            20_000,
            100_000,
        ),
    )
}


class PenaltyError(ValueError):
    """An amount outside the article's range, or an unknown band."""


def propose(kind: str, band: str, bands: Mapping[str, Sequence[float]]) -> int:
    """The proposed fine: the midpoint of ``band`` (shares of the range) within the article's
    range, rounded to 100 元."""
    article = ARTICLES[kind]
    if band not in bands:
        raise PenaltyError(f"unknown band {band!r}")
    low, high = bands[band]
    span = article.maximum - article.minimum
    amount = article.minimum + span * (float(low) + float(high)) / 2
    return int(round(amount / 100.0) * 100)


def check_amount(kind: str, amount: int) -> None:
    """Raise :class:`PenaltyError` unless ``amount`` lies within the article's range."""
    article = ARTICLES[kind]
    if not article.minimum <= amount <= article.maximum:
        raise PenaltyError(f"{amount} outside {article.minimum}–{article.maximum}")
