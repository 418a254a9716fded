"""Demo water rights and market on top of the registry and permits demos (``aquifer demo``).

- Initial rights (确权) for every water user holding an active permit: per permit, 90 % of its
  quota for this year and the next four (the other 10 % stays in the county reserve), and a
  regional right for four townships; all through :func:`services.grant_right`, so the ledger
  carries every allocation.
- A few completed negotiated trades (their dates spread over the past months, so the price
  history has a shape), one trade awaiting approval, one under announcement with an
  objection, two open listings with bids, and an open auction round with sealed orders.

Idempotent: rights carry the document ``演示数据`` and a holder who has one is skipped; the
market part runs only when no demo trade exists yet.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aquifer.core.audit import audit_context
from aquifer.core.models import User
from aquifer.permits.models import Permit
from aquifer.registry.models import Township

__all__ = ["build"]

SEED = 20260707
MARK = "演示数据"
SHARE = 0.9
PRICE = {  # yuan/m³ around which demo trades are priced, by use type
    "agricultural": 0.45,
    "domestic": 1.20,
    "industrial": 2.40,
    "service": 1.80,
    "ecological": 0.60,
}


def build(log: Callable[[str], None] = print) -> None:
    """Add the demo rights, trades, listings and an auction round (module docstring)."""
    from django.utils import timezone

    from aquifer.rights import services
    from aquifer.rights.ledger import Holder
    from aquifer.rights.models import Trade, WaterRight

    rng = random.Random(SEED)
    year = timezone.localdate().year
    bureau = User.objects.filter(username="bureau").first()
    granted: set[tuple[int | None, int]] = set(
        WaterRight.objects.filter(document=MARK).values_list("water_user_id", "township_id")
    )
    n_rights = 0
    with audit_context(user=bureau, source="demo", reason=MARK):
        permits = (
            Permit.objects.filter(status="active", source__in=["shallow", "deep"])
            .select_related("holder")
            .order_by("pk")
        )
        for p in permits:
            if (p.holder_id, p.holder.township_id) in granted:
                continue
            wells = list(p.wells.all())
            zone = next((w.zone for w in wells if w.zone_id and w.layer == p.source), None)
            volume = max(500, int(p.annual_quota_m3 * SHARE) // 100 * 100)
            try:
                services.grant_right(
                    holder=Holder.of_user(p.holder), use_type=p.use_type, source=p.source,
                    zone=zone, volume_m3=volume, start_year=year, end_year=year + 4,
                    document=MARK, by=bureau,
                )  # fmt: skip
                n_rights += 1
            except services.MarketError as exc:
                log(f"  rights: {p.holder}: {exc}")
        for t in Township.objects.filter(is_current=True).order_by("code")[:4]:
            if (None, t.pk) in granted:
                continue
            services.grant_right(
                holder=Holder.of_township(t), use_type="ecological", source="shallow",
                zone=None, volume_m3=rng.choice([50_000, 80_000, 120_000]), start_year=year,
                end_year=year + 4, document=MARK, by=bureau,
            )  # fmt: skip
            n_rights += 1
        log(f"  rights: {n_rights} initial rights granted")
        if Trade.objects.filter(created_by=MARK).exists():
            return
        _market(rng, year, bureau, log)


def _holders_with_rights() -> list[tuple[Any, Any]]:
    """(right, holder) for demo rights of water users, ordered."""
    from aquifer.rights.ledger import Holder
    from aquifer.rights.models import WaterRight

    out = []
    for r in WaterRight.objects.filter(document=MARK, water_user__isnull=False).select_related(
        "water_user", "zone"
    ):
        out.append((r, Holder.of_user(r.water_user)))
    return out


def _market(rng: random.Random, year: int, bureau: Any, log: Callable[[str], None]) -> None:
    from django.utils import timezone

    from aquifer.rights import services
    from aquifer.rights.models import Trade, TradeStatus

    rights = _holders_with_rights()
    if len(rights) < 6:
        log("  rights: too few holders for a market")
        return
    rng.shuffle(rights)
    now = timezone.now()
    done = 0

    # Demo holders draw close to their whole right this year (unmetered wells are estimated
    # at their quota), so the demo trades next year's water: saved water is the whole right.
    ty = year + 1

    def propose(i: int, j: int, volume: int, **kw: Any) -> Any:
        (rs, seller), (rb, buyer) = rights[i], rights[j]
        price = Decimal(str(round(PRICE.get(rs.use_type, 1.0) * rng.uniform(0.8, 1.3), 2)))
        return services.propose_trade(
            seller=seller, buyer=buyer, use_type=rs.use_type, source=rs.source,
            seller_zone=rs.zone, buyer_zone=rb.zone,
            volume_m3=volume, price=price, start_year=ty, end_year=ty, by=bureau, **kw,
        )  # fmt: skip

    no_more = services.rules().no_increase_zone_kinds | services.rules().prohibited_zone_kinds

    def fits(i: int, j: int) -> bool:
        rs, rb = rights[i][0], rights[j][0]
        return rs.source == rb.source and (
            rb.zone_id == rs.zone_id or rb.zone is None or rb.zone.kind not in no_more
        )

    pairs = []
    used: set[int] = set()
    for i in range(len(rights)):
        for j in range(len(rights)):
            if i != j and i not in used and j not in used and fits(i, j):
                pairs.append((i, j))
                used |= {i, j}
                break
    completed_target = 8
    for i, j in pairs:
        if done >= completed_target:
            break
        rs = rights[i][0]
        try:
            t = propose(i, j, max(100, rs.volume_m3 // 10 // 100 * 100))
            if t.status == TradeStatus.PENDING:
                services.approve(t, by=bureau, note="符合交易规则")
            t.refresh_from_db()
            Trade.objects.filter(pk=t.pk).update(announcement_ends=now - dt.timedelta(seconds=1))
            services.complete(t, by=bureau)
        except services.MarketError as exc:
            log(f"  rights: demo trade skipped: {exc}")
            continue
        t.refresh_from_db()
        if t.status == TradeStatus.COMPLETED:
            back = dt.timedelta(days=20 * (completed_target - done) + rng.randint(0, 9))
            Trade.objects.filter(pk=t.pk).update(
                created_by=MARK,
                created_at=now - back - dt.timedelta(days=15),
                announced_at=now - back - dt.timedelta(days=12),
                announcement_ends=now - back - dt.timedelta(days=2),
                completed_at=now - back,
            )
            done += 1
        else:
            Trade.objects.filter(pk=t.pk).update(created_by=MARK)
    log(f"  rights: {done} completed trades")
    rest = pairs[completed_target:] or pairs
    try:
        t = propose(*rest[0], 200)
        Trade.objects.filter(pk=t.pk).update(created_by=MARK)
        t2 = propose(*rest[-1], 300)
        Trade.objects.filter(pk=t2.pk).update(created_by=MARK)
        if t2.status == TradeStatus.PENDING:
            services.approve(t2, by=bureau, note="符合交易规则")
        services.file_objection(
            t2, name="村民代表", contact="", text="转让后本村灌溉用水是否受影响，请核实。"
        )
    except services.MarketError as exc:
        log(f"  rights: demo announcement skipped: {exc}")
    for k in range(2):
        r, seller = rights[k]
        try:
            lst = services.create_listing(
                seller=seller, use_type=r.use_type, source=r.source, zone=r.zone,
                volume_m3=max(100, r.volume_m3 // 20 // 100 * 100),
                min_price=Decimal(str(PRICE.get(r.use_type, 1.0))), start_year=ty,
                end_year=ty, by=bureau,
            )  # fmt: skip
            for b in (2, 3):
                rb, bidder = rights[(k + b) % len(rights)]
                if not fits(k, (k + b) % len(rights)):
                    continue
                try:
                    services.place_bid(
                        lst, bidder=bidder, zone=rb.zone,
                        volume_m3=lst.volume_m3 // 2,
                        price=lst.min_price + Decimal(str(round(rng.uniform(0, 0.4), 2))),
                    )  # fmt: skip
                except services.MarketError:
                    continue
        except services.MarketError as exc:
            log(f"  rights: demo listing skipped: {exc}")
    rnd = services.open_round(
        source="shallow", zone=None, year=ty, closes_at=now + dt.timedelta(days=7), by=bureau
    )
    n_orders = 0
    for k, (r, holder) in enumerate(rights[:10]):
        if r.source != "shallow":
            continue
        side = "sell" if k % 2 == 0 else "buy"
        try:
            services.submit_order(
                rnd, holder=holder, side=side, use_type=r.use_type,
                zone=r.zone if side == "sell" else _county_wide_zone(r.zone),
                volume_m3=max(100, r.volume_m3 // 25 // 100 * 100),
                price=Decimal(str(round(rng.uniform(0.6, 1.8), 2))),
            )  # fmt: skip
            n_orders += 1
        except services.MarketError:
            continue
    log(f"  rights: auction round {rnd.number} open with {n_orders} sealed orders")


def _county_wide_zone(zone: Any) -> Any:
    """A buyer in a county-wide round: its zone, unless that zone may take no more water."""
    from aquifer.rights import services

    if zone is not None and zone.kind in services.rules().no_increase_zone_kinds:
        return None
    return zone
