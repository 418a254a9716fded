"""Read-only public figures of the portal: withdrawal against caps, the trade price index,
what each zone kind means, the regulations in force. Nothing here names a person or a firm.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from aquifer.accounting import service as accounting
from aquifer.permits.models import Permit, PermitStatus
from aquifer.permits.rules import sources
from aquifer.portal import conf
from aquifer.registry.choices import UseType, ZoneKind
from aquifer.registry.models import Township
from aquifer.rights.disclosure import completed_trades

__all__ = [
    "ZONE_MEANINGS",
    "PriceCell",
    "WithdrawalRow",
    "price_index",
    "regulations",
    "trade_rows",
    "withdrawal_rows",
]


@dataclass
class WithdrawalRow:
    key: int | None
    code: str
    name: str
    withdrawn_m3: float
    estimated: bool
    cap_m3: float | None

    @property
    def share(self) -> float | None:
        return self.withdrawn_m3 / self.cap_m3 if self.cap_m3 else None

    @property
    def percent(self) -> str:
        share = self.share
        return f"{share * 100:.0f}%" if share is not None else "—"


def _caps() -> dict[int | None, float]:
    """Annual caps: the permitted volumes of active permits, per township and county (None),
    until the township targets land (issue 18)."""
    rows = (
        Permit.objects.filter(status=PermitStatus.ACTIVE)
        .values("township_id")
        .annotate(total=Sum("annual_quota_m3"))
    )
    caps: dict[int | None, float] = {r["township_id"]: float(r["total"] or 0) for r in rows}
    caps[None] = sum(caps.values())
    return caps


def withdrawal_rows(year: int) -> list[WithdrawalRow]:
    """The county first, then each township: the year's withdrawal and its cap."""
    vols = accounting.totals_by(("township", "county"), year)
    by_township = vols["township"]
    county = vols["county"].get(None, accounting.ZERO)
    caps = _caps()
    out = [
        WithdrawalRow(
            None,
            settings.AQUIFER.get("COUNTY_CODE", ""),
            settings.AQUIFER.get("COUNTY_NAME", ""),
            round(county.total_m3),
            county.estimated,
            caps.get(None) or None,
        )
    ]
    for t in Township.objects.filter(Q(is_current=True) | Q(pk__in=list(by_township))).order_by(
        "code"
    ):
        vol = by_township.get(t.pk, accounting.ZERO)
        out.append(
            WithdrawalRow(
                t.pk, t.code, t.name, round(vol.total_m3), vol.estimated, caps.get(t.pk) or None
            )
        )
    return out


@dataclass
class PriceCell:
    year: int
    use_type: str
    trades: int
    volume_m3: int
    median: float | None  # None: fewer than PRICE_MIN_TRADES trades

    @property
    def use_type_label(self) -> str:
        try:
            return str(UseType(self.use_type).label)
        except ValueError:
            return self.use_type


def price_index() -> list[PriceCell]:
    """Completed trades per year and use type; the median price only where at least
    ``PRICE_MIN_TRADES`` trades make it, so that no single trade's price is exposed."""
    least = int(conf.get("PRICE_MIN_TRADES"))
    groups: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for t in completed_trades():
        if t.completed_at is None:
            continue
        groups[(t.completed_at.year, t.use_type)].append(t)
    out = []
    for (year, use_type), trades in sorted(groups.items(), key=lambda kv: (-kv[0][0], kv[0][1])):
        prices = [float(t.price) for t in trades]
        out.append(
            PriceCell(
                year,
                use_type,
                len(trades),
                sum(t.volume_m3 for t in trades),
                round(statistics.median(prices), 2) if len(prices) >= least else None,
            )
        )
    return out


def trade_rows(limit: int = 50) -> list[dict[str, Any]]:
    """Completed trades without their price or parties: date, use type, volume, zones."""
    rows = []
    for t in completed_trades()[:limit]:
        rows.append(
            {
                "number": t.number,
                "date": t.completed_at.date() if t.completed_at else None,
                "use_type": t.get_use_type_display(),
                "trade_type": t.get_trade_type_display(),
                "volume_m3": t.volume_m3,
                "years": f"{t.start_year}–{t.end_year}",
                "seller_township": str(t.seller_township),
                "buyer_township": str(t.buyer_township),
            }
        )
    return rows


#: What a zone kind means for a resident and for a firm (both languages through gettext).
ZONE_MEANINGS: dict[str, tuple[Any, Any]] = {
    ZoneKind.PROHIBITED: (
        _("禁止开采地下水。居民不得新打井取水，生活用水由公共供水解决；现有取水井将依计划关停。"),
        _(
            "不得新建、改建、扩建取水工程，不批准新增取水许可；已有取水井限期封停，并转用地表水或公共供水。"
        ),
    ),
    ZoneKind.RESTRICTED: (
        _("限制开采地下水。居民一般不得新打井，确需取水的应向水务局申请。"),
        _("原则上不批准新增取水；确需取水的须经审批并严格控制水量，实行计量和总量控制。"),
    ),
    ZoneKind.OVEREXPLOITED: (
        _("地下水超采。居民应节约用水，不得私自打井；区内将逐步压减开采量。"),
        _("不批准新增地下水取水，现有取水许可逐步核减，须安装计量设施并按期上报取水量。"),
    ),
    ZoneKind.BALANCED: (
        _("开采与补给大致平衡。居民取水须遵守取水管理规定，节约用水。"),
        _("新增取水须经论证和许可，不得突破可开采量，须计量取水。"),
    ),
    ZoneKind.NOT_OVEREXPLOITED: (
        _("未超采。居民取水须遵守取水管理规定，节约用水。"),
        _("取用地下水须依法申领取水许可并安装计量设施。"),
    ),
}


@dataclass(frozen=True)
class Regulation:
    document: str
    articles: list[str]
    confirmed: bool


def regulations() -> list[Regulation]:
    """The documents the rule engine cites (``permits.rules.sources``), with their articles."""
    docs: dict[str, Regulation] = {}
    for value in vars(sources).values():
        if isinstance(value, sources.SourceRef):
            reg = docs.setdefault(value.document, Regulation(value.document, [], value.confirmed))
            if value.article and value.article not in reg.articles:
                reg.articles.append(value.article)
    return sorted(docs.values(), key=lambda r: (not r.confirmed, r.document))


# The documents and articles above, for the message catalogue (shown through gettext).
_NAMES = [
    gettext_noop("取水许可和水资源费征收管理条例"),
    gettext_noop("地下水管理条例"),
    gettext_noop("晋政办发〔2015〕123号"),
    gettext_noop("阳水字〔2022〕100号"),
    gettext_noop("晋水资源〔2020〕162号"),
    gettext_noop("水资管〔2020〕380号"),
    gettext_noop("第二十条第一项"),
    gettext_noop("第二十条第二项"),
    gettext_noop("第二十四条"),
    gettext_noop("第二十五条"),
    gettext_noop("第二十七条"),
    gettext_noop("第十七条"),
    gettext_noop("第二十条"),
    gettext_noop("第十五条"),
    gettext_noop("第三十五条"),
    gettext_noop("(阳水字〔2022〕100号 引)"),
    gettext_noop("二(二)"),
    gettext_noop("二(一)"),
]
