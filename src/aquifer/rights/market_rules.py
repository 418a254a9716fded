"""The trading rules as pure functions (no Django): trade type, who may trade what, approval.

Sources (../shared/reference/standards.md §6): the three trade types of the 水权交易管理暂行办法
(水政法〔2016〕156号) — regional (between governments: here townships), abstraction-right (between
permit holders, selling saved water within the permit's term and volume; 取水许可和水资源费征收
管理条例 art. 27) and irrigation-user trades; the charter's zone rules (阳水字〔2022〕100号
二(二): no extraction in a prohibited zone, no increase in a balanced or overexploited zone).
Figures the county has not published (term limit, approval threshold, which zone kinds) come
in :class:`MarketRules`, from the settings the bureau sees and changes.

:func:`check` returns every reason a proposed trade is refused (empty: allowed), each with a
stable code, Chinese and English text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "MarketRules",
    "Party",
    "Proposal",
    "Reason",
    "TradeType",
    "check",
    "check_buyer",
    "check_seller",
    "needs_approval",
    "trade_type",
]

WATER_USER = "water_user"
TOWNSHIP = "township"


class TradeType(StrEnum):
    REGIONAL = "regional"  # 区域水权交易
    PERMIT = "permit"  # 取水权交易
    IRRIGATION = "irrigation"  # 灌溉用水户水权交易


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class MarketRules:
    """The bureau's settings that the rules read (rights.conf keys, lower-cased)."""

    prohibited_zone_kinds: frozenset[str] = frozenset({"prohibited"})
    no_increase_zone_kinds: frozenset[str] = frozenset({"balanced", "overexploited", "restricted"})
    saved_water_only: bool = True
    max_term_years: int = 5
    irrigation_no_approval_years: int = 1
    change_permits: bool = True


@dataclass(frozen=True)
class Party:
    """A side of a trade: holder kind and id, use type, zone (id and kind) and, for a water
    user, the last year covered by their active permit for the trade's source (None: none)."""

    kind: str
    holder_id: int
    use_type: str
    zone_id: int | None = None
    zone_kind: str | None = None
    permit_until_year: int | None = None


@dataclass(frozen=True)
class Proposal:
    """A proposed trade of ``volume`` m³ a year for ``start_year``…``end_year``.

    ``free_by_year``: the seller's unheld balance per year; ``used_by_year``: the seller's
    metered use of the source per year (missing = 0, as for years to come).
    """

    seller: Party
    buyer: Party
    volume: int
    start_year: int
    end_year: int
    this_year: int
    free_by_year: Mapping[int, int] = field(default_factory=dict)
    used_by_year: Mapping[int, int] = field(default_factory=dict)


def trade_type(seller: Party, buyer: Party) -> TradeType | Reason:
    """The national trade type of a pair of holders, or why they cannot trade."""
    if seller.kind == buyer.kind and seller.holder_id == buyer.holder_id:
        return Reason("same_holder", "出让方与受让方相同", "seller and buyer are the same holder")
    if seller.kind == TOWNSHIP and buyer.kind == TOWNSHIP:
        return TradeType.REGIONAL
    if seller.kind == WATER_USER and buyer.kind == WATER_USER:
        if seller.use_type == "agricultural" and buyer.use_type == "agricultural":
            return TradeType.IRRIGATION
        return TradeType.PERMIT
    return Reason(
        "mixed_holders",
        "区域水权交易限于乡镇之间；取水权和灌溉用水户交易限于取用水户之间",
        "regional trades are between townships; other trades between water users",
    )


def _years(p: Proposal, rules: MarketRules) -> list[Reason]:
    out: list[Reason] = []
    if p.volume <= 0:
        out.append(Reason("volume", "交易水量应大于 0", "volume must be > 0"))
    if p.end_year < p.start_year:
        out.append(Reason("years", "终止年度早于起始年度", "end year before start year"))
    if p.start_year < p.this_year:
        out.append(Reason("past_year", "不能交易已过年度的水权", "cannot trade a past year"))
    term = p.end_year - p.start_year + 1
    if term > rules.max_term_years:
        out.append(
            Reason(
                "term",
                f"交易期限 {term} 年，超过上限 {rules.max_term_years} 年",
                f"term of {term} years exceeds the limit of {rules.max_term_years}",
            )
        )
    return out


def check_seller(p: Proposal, rules: MarketRules, kind: TradeType | None = None) -> list[Reason]:
    """The seller's side: years and term, permit term, saved water in every year."""
    out = _years(p, rules)
    s = p.seller
    if kind is TradeType.PERMIT and rules.change_permits:
        if s.permit_until_year is None:
            out.append(
                Reason(
                    "no_permit", "出让方无该水源的有效取水许可证", "seller holds no active permit"
                )
            )
        elif p.end_year > s.permit_until_year:
            out.append(
                Reason(
                    "permit_term",
                    f"交易期限超出出让方取水许可有效期（{s.permit_until_year} 年）",
                    f"term runs past the seller's permit ({s.permit_until_year})",
                )
            )
    for year in range(p.start_year, p.end_year + 1):
        free = p.free_by_year.get(year, 0)
        used = p.used_by_year.get(year, 0) if rules.saved_water_only else 0
        saved = max(0, free - used)
        if p.volume > saved:
            if rules.saved_water_only and used:
                zh = (
                    f"{year} 年可转让的节余水量 {saved} m³"
                    f"（水权余额 {free} − 已用 {used}）不足 {p.volume} m³"
                )
                en = (
                    f"{year}: saved water {saved} m³ (balance {free} − used {used}) < {p.volume} m³"
                )
            else:
                zh = f"{year} 年可用水权余额 {free} m³ 不足 {p.volume} m³"
                en = f"{year}: free balance {free} m³ < {p.volume} m³"
            out.append(Reason("saved_water", zh, en))
    return out


def check_buyer(seller: Party, buyer: Party, rules: MarketRules) -> list[Reason]:
    """The receiving zone: never prohibited; a no-increase zone only from the same zone."""
    out: list[Reason] = []
    if buyer.zone_kind in rules.prohibited_zone_kinds:
        out.append(
            Reason("prohibited_zone", "不得向禁采区转入水权", "no transfer into a prohibited zone")
        )
    elif buyer.zone_kind in rules.no_increase_zone_kinds and buyer.zone_id != seller.zone_id:
        out.append(
            Reason(
                "zone_increase",
                "受让方位于采补平衡区/超采区/限采区，只能受让同一分区内的水权（该区开采量不得增加）",
                "the buyer's zone may not take more extraction: only trades within that zone",
            )
        )
    return out


def check(p: Proposal, rules: MarketRules) -> tuple[TradeType | None, list[Reason]]:
    """The trade type and every reason the proposal is refused (empty list: allowed)."""
    kind = trade_type(p.seller, p.buyer)
    if isinstance(kind, Reason):
        return None, [kind, *check_buyer(p.seller, p.buyer, rules)]
    return kind, [*check_seller(p, rules, kind), *check_buyer(p.seller, p.buyer, rules)]


def needs_approval(kind: TradeType, years: int, rules: MarketRules) -> bool:
    """Bureau approval: every trade, except irrigation-user trades of at most
    ``irrigation_no_approval_years`` years (2016 measures, recalled [U])."""
    return not (kind is TradeType.IRRIGATION and years <= rules.irrigation_no_approval_years)
