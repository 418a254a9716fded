"""Initial rights (确权): granted within the township and county totals, revoked, and the
balances a holder's certificates stand for."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from aquifer.registry.models import Township
from aquifer.rights import conf, ledger
from aquifer.rights.ledger import Holder, LedgerError
from aquifer.rights.models import Account, JournalKind, RightStatus, WaterRight
from aquifer.rights.services.common import (
    MarketError,
    _check_input,
    _next_number,
    _pk,
    _refuse,
    _username,
    this_year,
)

__all__ = ["grant_right", "holder_balances", "revoke_right"]


def _township_allocated(township_id: int, year: int, exclude: int | None = None) -> int:
    qs = WaterRight.objects.filter(
        township_id=township_id,
        status=RightStatus.ACTIVE,
        start_year__lte=year,
        end_year__gte=year,
    )
    if exclude:
        qs = qs.exclude(pk=exclude)
    return int(qs.aggregate(s=Sum("volume_m3"))["s"] or 0)


def _fund_reserve(year: int, needed: int, by: str) -> None:
    """Issue the year's county total into the reserve (or, with no total set, what is needed)."""
    county, reserve = ledger.county_account(year), ledger.reserve_account(year)
    issued = -ledger.balance(county)
    total = conf.get("COUNTY_TOTAL_M3")
    if total is None:
        short = needed - ledger.balance(reserve)
        if short > 0:
            ledger.transfer(county, reserve, short, JournalKind.ISSUE, memo="县总量下达", by=by)
    elif int(total) > issued:
        ledger.transfer(
            county, reserve, int(total) - issued, JournalKind.ISSUE, memo="县总量下达", by=by
        )


def grant_right(
    *,
    holder: Holder,
    use_type: str,
    source: str,
    zone: Any,
    volume_m3: int,
    start_year: int,
    end_year: int,
    document: str = "",
    by: Any = None,
) -> WaterRight:
    """Grant an initial right (确权): within each township's and the county's totals for every
    year of its period; allocates it year by year from the county reserve."""
    _check_input(use_type=use_type, source=source, volume=volume_m3, years=(start_year, end_year))
    if end_year - start_year >= 30:
        raise _refuse("end_year", _("确权期限不超过 30 年。"))
    if zone is not None and source != zone.layer:
        raise _refuse("zone", _("分区的含水层与水源不符。"))

    town = Township.objects.get(pk=holder.township_id)
    caps = conf.get("TOWNSHIP_TOTALS_M3") or {}
    cap = caps.get(town.code)
    name = _username(by)
    with transaction.atomic():
        if cap is not None:
            for year in range(start_year, end_year + 1):
                used = _township_allocated(town.pk, year)
                if used + volume_m3 > int(cap):
                    raise _refuse(
                        "volume_m3",
                        _(
                            "%(town)s %(year)d 年已确权 %(used)d m³，加上本次超过乡镇总量 %(cap)d m³。"  # noqa: E501
                        )
                        % {"town": town, "year": year, "used": used, "cap": int(cap)},
                    )
        right = WaterRight(
            number=_next_number("QQ", WaterRight),
            kind=holder.kind,
            water_user_id=holder.water_user_id,
            township_id=holder.township_id,
            use_type=use_type,
            source=source,
            zone=zone,
            volume_m3=volume_m3,
            start_year=start_year,
            end_year=end_year,
            document=document,
            issued_by=name,
        )
        try:
            right.full_clean()
        except ValidationError as exc:
            raise MarketError(
                [(f, str(m)) for f, msgs in exc.message_dict.items() for m in msgs]
            ) from None
        right.save()
        for year in range(start_year, end_year + 1):
            _fund_reserve(year, volume_m3, name)
            target = ledger.holder_account(holder, year, use_type, source, _pk(zone))
            try:
                ledger.transfer(
                    ledger.reserve_account(year),
                    target,
                    volume_m3,
                    JournalKind.ALLOCATION,
                    memo=f"初始水权 {right.number}",
                    ref=f"right:{right.pk}",
                    by=name,
                )
            except LedgerError:
                raise _refuse(
                    "volume_m3",
                    _("%(year)d 年县级预留水量不足（全县总量 %(total)s m³）。")
                    % {"year": year, "total": conf.get("COUNTY_TOTAL_M3")},
                ) from None
    return right


def revoke_right(right: WaterRight, *, reason: str, by: Any = None) -> int:
    """Revoke (or expire) a right: its unheld balance of this and later years returns to the
    reserve (an expiry journal per year). Returns the m³ returned."""
    name = _username(by)
    back = 0
    with transaction.atomic():
        right = WaterRight.objects.select_for_update().get(pk=right.pk)
        if right.status != RightStatus.ACTIVE:
            raise _refuse("status", _("该水权已收回。"))
        holder = Holder(right.kind, right.water_user_id, right.township_id)
        for year in range(max(right.start_year, this_year()), right.end_year + 1):
            acct = ledger.holder_account(holder, year, right.use_type, right.source, right.zone_id)
            amount = min(right.volume_m3, ledger.balance(acct))
            if amount > 0:
                ledger.transfer(
                    acct,
                    ledger.reserve_account(year),
                    amount,
                    JournalKind.EXPIRY,
                    memo=f"水权收回 {right.number}: {reason}"[:300],
                    ref=f"right:{right.pk}",
                    by=name,
                )
                back += amount
        right.status = RightStatus.REVOKED
        right.save()
    return back


def holder_balances(holder: Holder, years: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """The holder's accounts with their balances (free and held), newest year first."""
    qs = Account.objects.filter(kind=holder.kind, township_id=holder.township_id)
    if holder.water_user_id is not None:
        qs = qs.filter(water_user_id=holder.water_user_id)
    if years is not None:
        qs = qs.filter(year__in=list(years))
    accts = list(qs.select_related("zone"))
    bal = ledger.balances([a.pk for a in accts])
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for a in accts:
        k = (a.year, a.use_type, a.source, a.zone_id)
        row = rows.setdefault(
            k, {"year": a.year, "use_type": a.use_type, "source": a.source, "zone": a.zone,
                "free": 0, "held": 0, "account": None},
        )  # fmt: skip
        if a.held:
            row["held"] += bal[a.pk]
        else:
            row["free"] += bal[a.pk]
            row["account"] = a
    return sorted(rows.values(), key=lambda r: (-r["year"], r["use_type"], r["source"]))
