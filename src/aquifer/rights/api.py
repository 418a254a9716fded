"""REST API of the rights app: accounts, certificates, trades, listings, bids, auctions, the
public disclosure and price history, the rules, and the bureau's ledger audit.

Every query goes through ``visible_to`` (trades through their parties); out of scope is a 404,
visible but not allowed a 403; a refused rule is a 422 naming the field (or rule code).

Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from aquifer.core.audit import audit_context
from aquifer.core.crud import page
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, visible_to
from aquifer.registry.models import Township, WaterUser, Zone
from aquifer.rights import conf, disclosure, ledger, services
from aquifer.rights.ledger import Holder
from aquifer.rights.models import Account, Bid, Listing, Trade, WaterRight
from aquifer.rights.services import MarketError
from aquifer.rights.views import holder_of, visible_trades

router = Router(tags=["rights"])


def _invalid(exc: MarketError) -> ValidationError:
    return ValidationError({field: [message] for field, message in exc.errors})


@contextmanager
def _market(request: HttpRequest, reason: str = "") -> Iterator[None]:
    """Run a market service as the caller (audited as the API); its refusal → 422."""
    try:
        with audit_context(user=request.user, source="api", reason=reason):
            yield
    except MarketError as exc:
        raise _invalid(exc) from None


def _party(
    user_id: int | None, user_field: str, township_id: int | None, township_field: str, none: str
) -> Holder:
    """The holder a payload names by water-user or township id; each bad id names its field."""
    if user_id:
        wu = WaterUser.objects.filter(pk=user_id).first()
        if wu is None:
            raise ValidationError({user_field: ["不存在该取用水户。"]})
        return Holder.of_user(wu)
    if township_id:
        town = Township.objects.filter(pk=township_id).first()
        if town is None:
            raise ValidationError({township_field: ["不存在该乡镇。"]})
        return Holder.of_township(town)
    raise ValidationError({user_field: [none]})


def _holder(request: HttpRequest) -> Holder:
    holder = holder_of(request.user)
    if holder is None:
        raise PermissionDenied("只有取用水户和乡镇可以交易水权。")
    return holder


def _bureau(request: HttpRequest) -> None:
    if not allowed(request.user, "rights.manage"):
        raise PermissionDenied("只有县水务局可以执行该操作。")


def _zone(zone_id: int | None, field: str = "zone") -> Any:
    if zone_id is None:
        return None
    z = Zone.objects.filter(pk=zone_id).first()
    if z is None:
        raise ValidationError({field: [f"不存在编号为 {zone_id} 的分区。"]})
    return z


# ----------------------------------------------------------------------------- schemas


class AccountOut(Schema):
    id: int
    holder: str
    kind: str
    year: int
    use_type: str
    source: str
    zone_id: int | None
    held: bool
    balance_m3: int


class RightOut(Schema):
    id: int
    number: str
    holder: str
    township_id: int
    use_type: str
    source: str
    zone_id: int | None
    volume_m3: int
    start_year: int
    end_year: int
    status: str


class RightIn(Schema):
    water_user_id: int | None = None
    township_id: int | None = None
    use_type: str
    source: str
    zone_id: int | None = None
    volume_m3: int
    start_year: int
    end_year: int
    document: str = ""


class TradeOut(Schema):
    id: int
    number: str
    mode: str
    trade_type: str
    status: str
    seller: str
    buyer: str
    use_type: str
    source: str
    volume_m3: int
    price: float
    start_year: int
    end_year: int
    is_lease: bool
    needs_approval: bool
    announcement_ends: str | None
    completed_at: str | None
    reasons: list[dict[str, str]]


class TradeIn(Schema):
    buyer_water_user_id: int | None = None
    buyer_township_id: int | None = None
    buyer_zone_id: int | None = None
    use_type: str
    source: str
    seller_zone_id: int | None = None
    volume_m3: int
    price: Decimal
    start_year: int
    end_year: int
    is_lease: bool = False


class NoteIn(Schema):
    note: str = ""


class ListingOut(Schema):
    id: int
    number: str
    seller: str
    use_type: str
    source: str
    zone_id: int | None
    volume_m3: int
    min_price: float
    start_year: int
    end_year: int
    closes_at: str
    status: str
    bids: int


class ListingIn(Schema):
    use_type: str
    source: str
    zone_id: int | None = None
    volume_m3: int
    min_price: Decimal
    start_year: int
    end_year: int
    days: int | None = None
    is_lease: bool = False


class BidIn(Schema):
    zone_id: int | None = None
    volume_m3: int
    price: Decimal


class BidOut(Schema):
    id: int
    listing_id: int
    bidder: str
    volume_m3: int
    price: float
    status: str
    filled_m3: int


class PublicTradeOut(Schema):
    id: int
    number: str
    mode: str
    trade_type: str
    use_type: str
    source: str
    volume_m3: int
    price: float
    start_year: int
    end_year: int
    seller: str
    buyer: str
    seller_township: str
    buyer_township: str
    seller_zone: str
    buyer_zone: str
    status: str
    announcement_ends: str | None
    completed_at: str | None


class LedgerAuditOut(Schema):
    ok: bool
    journals: int
    entries: int
    total: int
    unbalanced_journals: list[int]
    negative_accounts: list[list[int]]


def _trade_out(t: Trade) -> dict[str, Any]:
    return {
        "id": t.pk,
        "number": t.number,
        "mode": t.mode,
        "trade_type": t.trade_type,
        "status": t.status,
        "seller": t.seller_name,
        "buyer": t.buyer_name,
        "use_type": t.use_type,
        "source": t.source,
        "volume_m3": t.volume_m3,
        "price": float(t.price),
        "start_year": t.start_year,
        "end_year": t.end_year,
        "is_lease": t.is_lease,
        "needs_approval": t.needs_approval,
        "announcement_ends": t.announcement_ends.isoformat() if t.announcement_ends else None,
        "completed_at": t.completed_at.isoformat() if t.completed_at else None,
        "reasons": list(t.reasons or []),
    }


def _right_out(r: WaterRight) -> dict[str, Any]:
    return {
        "id": r.pk,
        "number": r.number,
        "holder": r.holder_name(),
        "township_id": r.township_id,
        "use_type": r.use_type,
        "source": r.source,
        "zone_id": r.zone_id,
        "volume_m3": r.volume_m3,
        "start_year": r.start_year,
        "end_year": r.end_year,
        "status": r.status,
    }


def _is_seller(user: Any, lst: Listing) -> bool:
    h = holder_of(user)
    return h is not None and (h.water_user_id, h.township_id) == (
        lst.water_user_id,
        lst.township_id,
    )


def _listing_out(lst: Listing, user: Any) -> dict[str, Any]:
    seller = lst.seller_name
    if not allowed(user, "rights.manage") and not _is_seller(user, lst):
        seller = disclosure.party_names(Trade(seller_name=lst.seller_name, buyer_name=""))[0]
    return {
        "id": lst.pk,
        "number": lst.number,
        "seller": seller,
        "use_type": lst.use_type,
        "source": lst.source,
        "zone_id": lst.zone_id,
        "volume_m3": lst.volume_m3,
        "min_price": float(lst.min_price),
        "start_year": lst.start_year,
        "end_year": lst.end_year,
        "closes_at": lst.closes_at.isoformat(),
        "status": lst.status,
        "bids": lst.bids.count(),
    }


# ----------------------------------------------------------------------------- public


@router.get("/rights/public/trades", response=list[PublicTradeOut], operation_id="rights_public")
def public_trades(request: HttpRequest, status: str = "completed") -> Any:
    """Completed (or announced: ``status=announced``) trades as the public sees them."""
    qs = disclosure.announced_trades() if status == "announced" else disclosure.completed_trades()
    return disclosure.rows(qs[:500])


@router.get("/rights/public/prices", response=dict[str, list[dict[str, Any]]],
            operation_id="rights_prices")  # fmt: skip
def prices(request: HttpRequest) -> Any:
    """Price history of completed trades per use type."""
    return disclosure.price_history()


@router.get("/rights/rules", response=dict[str, Any], operation_id="rights_rules")
def rules(request: HttpRequest) -> Any:
    """The trading settings in force (the county's and townships' totals to officials only)."""
    return conf.current_for(request.user)


# ----------------------------------------------------------------------------- accounts


@router.get("/rights/accounts", response=list[AccountOut], operation_id="rights_accounts")
def accounts(request: HttpRequest, year: int | None = None) -> Any:
    """Accounts the caller may see, with balances."""
    qs = visible_to(request.user, Action.VIEW, Account).select_related("water_user", "township")
    if year is not None:
        qs = qs.filter(year=year)
    rows = list(qs[:2000])
    bal = ledger.balances([a.pk for a in rows])
    return [
        {"id": a.pk, "holder": a.holder_name(), "kind": a.kind, "year": a.year,
         "use_type": a.use_type, "source": a.source, "zone_id": a.zone_id, "held": a.held,
         "balance_m3": bal[a.pk]}
        for a in rows
    ]  # fmt: skip


@router.get("/rights/certificates", response=list[RightOut], operation_id="rights_certificates")
def certificates(request: HttpRequest) -> Any:
    qs = visible_to(request.user, Action.VIEW, WaterRight).select_related("water_user", "township")
    return [_right_out(r) for r in qs[:1000]]


@router.post("/rights/certificates", response={201: RightOut}, operation_id="rights_grant")
def grant(request: HttpRequest, payload: RightIn) -> Any:
    """Grant an initial right (bureau)."""
    _bureau(request)
    holder = _party(
        payload.water_user_id, "water_user_id", payload.township_id, "township_id",
        "请指定取用水户或乡镇。",
    )  # fmt: skip
    with _market(request):
        r = services.grant_right(
            holder=holder, use_type=payload.use_type, source=payload.source,
            zone=_zone(payload.zone_id), volume_m3=payload.volume_m3,
            start_year=payload.start_year, end_year=payload.end_year,
            document=payload.document, by=request.user,
        )  # fmt: skip
    return Status(201, _right_out(r))


# ----------------------------------------------------------------------------- trades


@router.get("/rights/trades", response=dict[str, Any], operation_id="rights_trades")
def trades(
    request: HttpRequest,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Any:
    """Trades the caller may see (own, own township's; the bureau and inspectors all)."""
    if not 1 <= limit <= 500:
        raise ValidationError({"limit": ["应为 1 至 500。"]})
    if offset < 0:
        raise ValidationError({"offset": ["不能为负数。"]})
    qs = visible_trades(request.user)
    if status:
        qs = qs.filter(status=status)
    return page(qs, limit, offset, _trade_out)


@router.get("/rights/trades/{int:pk}", response=TradeOut, operation_id="rights_trade")
def trade(request: HttpRequest, pk: int) -> Any:
    return _trade_out(get_object_or_404(visible_trades(request.user), pk=pk))


@router.post("/rights/trades", response={201: TradeOut}, operation_id="rights_trade_create")
def trade_create(request: HttpRequest, payload: TradeIn) -> Any:
    """Propose a negotiated transfer (协议转让) as the seller."""
    seller = _holder(request)
    buyer = _party(
        payload.buyer_water_user_id, "buyer_water_user_id",
        payload.buyer_township_id, "buyer_township_id", "请指定受让方。",
    )  # fmt: skip
    with _market(request):
        t = services.propose_trade(
            seller=seller, buyer=buyer, use_type=payload.use_type, source=payload.source,
            seller_zone=_zone(payload.seller_zone_id, "seller_zone_id"),
            buyer_zone=_zone(payload.buyer_zone_id, "buyer_zone_id"),
            volume_m3=payload.volume_m3, price=payload.price,
            start_year=payload.start_year, end_year=payload.end_year,
            is_lease=payload.is_lease, by=request.user,
        )  # fmt: skip
    return Status(201, _trade_out(t))


@router.post("/rights/trades/{int:pk}/{action}", response=TradeOut,
             operation_id="rights_trade_action")  # fmt: skip
def trade_action(request: HttpRequest, pk: int, action: str, payload: NoteIn) -> Any:
    """approve / reject / complete (bureau); cancel (the seller, while pending)."""
    t = get_object_or_404(visible_trades(request.user), pk=pk)
    if action not in ("approve", "reject", "complete", "cancel"):
        raise Http404
    with _market(request, reason=f"trade {action}"):
        if action == "cancel":
            holder = _holder(request)
            if holder.water_user_id != t.seller_user_id or (
                holder.water_user_id is None and holder.township_id != t.seller_township_id
            ):
                raise PermissionDenied("只有出让方可以撤销。")
            services.cancel(t, by=request.user)
        else:
            _bureau(request)
            if action == "approve":
                services.approve(t, by=request.user, note=payload.note)
            elif action == "reject":
                services.reject(t, by=request.user, note=payload.note)
            else:
                services.complete(t, by=request.user)
    t.refresh_from_db()
    return _trade_out(t)


# ----------------------------------------------------------------------------- listings


@router.get("/rights/listings", response=list[ListingOut], operation_id="rights_listings")
def listings(request: HttpRequest, status: str = "open") -> Any:
    qs = visible_to(request.user, Action.VIEW, Listing).filter(status=status)
    return [_listing_out(x, request.user) for x in qs[:500]]


@router.post("/rights/listings", response={201: ListingOut}, operation_id="rights_listing_create")
def listing_create(request: HttpRequest, payload: ListingIn) -> Any:
    import datetime as dt

    from django.utils import timezone

    seller = _holder(request)
    days = payload.days or int(conf.get("LISTING_DAYS"))
    if not 1 <= days <= 90:
        raise ValidationError({"days": ["挂牌天数应为 1 至 90。"]})
    with _market(request):
        lst = services.create_listing(
            seller=seller, use_type=payload.use_type, source=payload.source,
            zone=_zone(payload.zone_id), volume_m3=payload.volume_m3,
            min_price=payload.min_price, start_year=payload.start_year,
            end_year=payload.end_year, is_lease=payload.is_lease,
            closes_at=timezone.now() + dt.timedelta(days=days), by=request.user,
        )  # fmt: skip
    return Status(201, _listing_out(lst, request.user))


@router.post("/rights/listings/{int:pk}/bids", response={201: BidOut},
             operation_id="rights_bid")  # fmt: skip
def bid(request: HttpRequest, pk: int, payload: BidIn) -> Any:
    lst = get_object_or_404(visible_to(request.user, Action.VIEW, Listing), pk=pk)
    bidder = _holder(request)
    if _is_seller(request.user, lst):
        raise PermissionDenied("不能竞买自己的挂牌。")
    with _market(request):
        b = services.place_bid(
            lst, bidder=bidder, zone=_zone(payload.zone_id), volume_m3=payload.volume_m3,
            price=payload.price, by=request.user,
        )  # fmt: skip
    return Status(201, {"id": b.pk, "listing_id": lst.pk, "bidder": b.bidder_name,
                        "volume_m3": b.volume_m3, "price": float(b.price), "status": b.status,
                        "filled_m3": b.filled_m3})  # fmt: skip


@router.get("/rights/bids", response=list[BidOut], operation_id="rights_bids")
def bids(request: HttpRequest) -> Any:
    """The caller's bids (the bureau: all)."""
    qs = visible_to(request.user, Action.VIEW, Bid)
    return [
        {"id": b.pk, "listing_id": b.listing_id, "bidder": b.bidder_name,
         "volume_m3": b.volume_m3, "price": float(b.price), "status": b.status,
         "filled_m3": b.filled_m3}
        for b in qs[:1000]
    ]  # fmt: skip


# ----------------------------------------------------------------------------- bureau


@router.get("/rights/ledger/audit", response=LedgerAuditOut, operation_id="rights_ledger_audit")
def ledger_audit(request: HttpRequest, year: int | None = None) -> Any:
    """The conservation check of the ledger (bureau)."""
    if not allowed(request.user, "rights.manage"):
        raise Http404
    a = ledger.audit(year)
    return {
        "ok": a.ok,
        "journals": a.journals,
        "entries": a.entries,
        "total": a.total,
        "unbalanced_journals": list(a.unbalanced_journals),
        "negative_accounts": [list(x) for x in a.negative_accounts],
    }
