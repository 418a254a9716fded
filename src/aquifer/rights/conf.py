"""Water-rights settings: the defaults, ``settings.AQUIFER["RIGHTS"]`` over them, and the
bureau's own versions (:class:`aquifer.rights.models.MarketSettings`, newest in force) over
both. docs/rights.md ("Settings") lists every key with its source; the county's own trading
measures are not public (standards.md §6: "Yangcheng, Jincheng and Shanxi water-rights trading
measures: NOT FOUND"), so each figure here is a parameter the bureau sees and changes on the
settings page, not a fact.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from aquifer.core.policies import allowed

__all__ = ["DEFAULTS", "KEYS", "current", "get"]

DEFAULTS: dict[str, Any] = {
    # The county's total of initial water rights per year (m³/a; None: no figure, rights are
    # bounded only by the townships' totals). R3.1 "within the county's total volume".
    "COUNTY_TOTAL_M3": None,
    # Each township's total (m³/a) by township code; a township not listed has no cap.
    "TOWNSHIP_TOTALS_M3": {},
    # Days of public announcement (公示) before a trade completes (2016 measures; not confirmed).
    "ANNOUNCEMENT_DAYS": 10,
    # Days a listing (挂牌) stays open for bids by default.
    "LISTING_DAYS": 20,
    # Longest term of a trade (years); abstraction-right trades also end within the seller's
    # permit term (2016 measures, recalled [U]).
    "MAX_TERM_YEARS": 5,
    # Irrigation-user trades of at most this many years need no bureau approval (2016 measures,
    # recalled [U]); 0: every trade needs approval.
    "IRRIGATION_NO_APPROVAL_YEARS": 1,
    # Zone kinds no trade may bring water into.
    "PROHIBITED_ZONE_KINDS": ["prohibited"],
    # Zone kinds a trade may bring water into only from the same zone (the zone's extraction
    # must not rise): balanced and overexploited (charter 二(二)); restricted (地下水管理条例
    # art. 35: no new extraction) as well.
    "NO_INCREASE_ZONE_KINDS": ["balanced", "overexploited", "restricted"],
    # Sellers sell only saved water: right − metered use (取水许可条例 art. 27).
    "SAVED_WATER_ONLY": True,
    # Trades between water users change both permits' quotas through the permit rule engine;
    # False: the ledger only (for holders without permits, e.g. irrigation households).
    "CHANGE_PERMITS": True,
    # What the public sees of a completed trade's parties: "none", "masked" or "full".
    "DISCLOSE_PARTIES": "masked",
}

KEYS = tuple(DEFAULTS)


def get(key: str) -> Any:
    """The setting ``key`` in force: the bureau's newest version, else AQUIFER["RIGHTS"], else
    the default."""
    return current()[key]


def current() -> dict[str, Any]:
    """Every setting in force, as a dict."""
    out = dict(DEFAULTS)
    out.update(settings.AQUIFER.get("RIGHTS", {}))
    from aquifer.rights.models import MarketSettings

    row = MarketSettings.objects.order_by("-created_at", "-id").first()
    if row is not None:
        out.update(row.values or {})
    return out


#: Settings shown to the bureau, township officers and inspectors only: the county's and the
#: townships' totals are the county's own figures, not published (docs/rights.md).
INTERNAL_KEYS = ("COUNTY_TOTAL_M3", "TOWNSHIP_TOTALS_M3")


def current_for(user: Any) -> dict[str, Any]:
    """``current()`` as ``user`` may see it: without the internal totals for water users, the
    public and anonymous visitors."""

    values = current()
    if allowed(user, "rights.internal"):
        return values
    return {k: v for k, v in values.items() if k not in INTERNAL_KEYS}
