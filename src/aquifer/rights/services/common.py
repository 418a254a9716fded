"""What every workflow of the market shares: the refusal (:class:`MarketError`), the
shape checks of every entry point, numbering, the trading rules in force."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.registry.choices import UseType
from aquifer.rights import conf, market_rules
from aquifer.rights.models import Source

__all__ = ["MarketError", "rules", "this_year"]


class MarketError(ValueError):
    """Refused: ``errors`` is a list of (field, message) the pages and API show."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(m for _f, m in errors))
        self.errors = errors


def _refuse(field: str, message: str) -> MarketError:
    return MarketError([(field, message)])


MAX_VOLUME_M3 = 10**12
MAX_PRICE = Decimal("99999999.99")
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _check_input(
    *,
    use_type: str | None = None,
    source: str | None = None,
    volume: int | None = None,
    price: Decimal | None = None,
    price_field: str = "price",
    years: tuple[int, int] | None = None,
) -> None:
    """Shape checks every entry point shares (choices, ranges, 2 decimals): a MarketError
    naming each bad field, before anything is looked up or written."""
    errors: list[tuple[str, str]] = []
    if use_type is not None and use_type not in UseType.values:
        errors.append(("use_type", _("未知用水类型：%(v)s") % {"v": use_type}))
    if source is not None and source not in Source.values:
        errors.append(("source", _("未知水源：%(v)s") % {"v": source}))
    if volume is not None and not 0 < volume <= MAX_VOLUME_M3:
        errors.append(("volume_m3", _("水量应为 1 至 %(max)d m³。") % {"max": MAX_VOLUME_M3}))
    if price is not None:
        ok = price.is_finite() and 0 <= price <= MAX_PRICE
        if not ok or price != price.quantize(Decimal("0.01")):
            errors.append(
                (price_field, _("价格应为 0 至 %(max)s 元/m³，最多两位小数。") % {"max": MAX_PRICE})
            )
    if years is not None:
        a, b = years
        for field, y in (("start_year", a), ("end_year", b)):
            if not FIRST_YEAR <= y <= LAST_YEAR:
                errors.append(
                    (field, _("年度应在 %(a)d 至 %(b)d 之间。") % {"a": FIRST_YEAR, "b": LAST_YEAR})
                )
        if b < a:
            errors.append(("end_year", _("终止年度不能早于起始年度。")))
    if errors:
        raise MarketError(errors)


def _username(by: Any) -> str:
    if by is not None and getattr(by, "is_authenticated", False):
        return str(by.get_username())
    return ""


def this_year() -> int:
    return timezone.localdate().year


def rules() -> market_rules.MarketRules:
    """The trading rules in force (the bureau's settings over the defaults)."""
    c = conf.current()
    return market_rules.MarketRules(
        prohibited_zone_kinds=frozenset(c["PROHIBITED_ZONE_KINDS"]),
        no_increase_zone_kinds=frozenset(c["NO_INCREASE_ZONE_KINDS"]),
        saved_water_only=bool(c["SAVED_WATER_ONLY"]),
        max_term_years=int(c["MAX_TERM_YEARS"]),
        irrigation_no_approval_years=int(c["IRRIGATION_NO_APPROVAL_YEARS"]),
        change_permits=bool(c["CHANGE_PERMITS"]),
    )


def _next_number(prefix: str, model: Any) -> str:
    year = this_year()
    stem = f"{prefix}{year}-"
    last = model.objects.filter(number__startswith=stem).order_by("-number").first()
    n = int(last.number.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{n:05d}"


def _pk(obj: Any) -> int | None:
    return None if obj is None else int(obj.pk)
