"""Portal settings: ``settings.AQUIFER["PORTAL"]`` over these defaults (docs/portal.md).

Values no source gives are our choices and marked so; the reply deadline is *unconfirmed*:
no rule the bureau gave us sets it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

__all__ = ["DEFAULTS", "get"]

DEFAULTS: dict[str, Any] = {
    # Days from filing to the reply the filer is promised. UNCONFIRMED: no source we hold sets
    # it (信访工作条例 gives 15 days to accept a 信访 matter, 60 to handle it; a 举报 under the
    # bureau's own rules may differ). 15 is our placeholder.
    "REPLY_DAYS": 15,
    # Categories that go to the bureau whatever the place (our choice: the monitoring network
    # is the bureau's); the rest go to the township the place lies in.
    "BUREAU_CATEGORIES": ["device"],
    # Photos per complaint, and the size limit of each (lower than core's 20 MB; our choice).
    "MAX_PHOTOS": 4,
    "PHOTO_MAX_BYTES": 5 * 1024 * 1024,
    # Filings accepted from one address per hour and per day (our choice).
    "RATE_PER_HOUR": 5,
    "RATE_PER_DAY": 20,
    # Decimals of the coordinates the public sees: 3 (about 100 m) for a government monitoring
    # well; 2 (about 1 km, "at most the village") for a monitoring well on a private well.
    "COORD_DECIMALS": 3,
    "PRIVATE_COORD_DECIMALS": 2,
    # A price index (median) is shown only where at least this many trades make it, so that
    # no single trade's price is exposed (issue 18; our default).
    "PRICE_MIN_TRADES": 5,
    # Months of monthly means in a well's hydrograph.
    "HYDROGRAPH_MONTHS": 60,
    # The licence of the open downloads.
    "LICENCE": "CC BY 4.0",
    "LICENCE_URL": "https://creativecommons.org/licenses/by/4.0/",
}


def get(key: str) -> Any:
    """The setting ``key`` (AQUIFER["PORTAL"][key], else the default)."""
    return settings.AQUIFER.get("PORTAL", {}).get(key, DEFAULTS[key])
