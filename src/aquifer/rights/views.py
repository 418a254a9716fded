"""Pages of the water-rights market: the public market and announcements, holders' accounts,
certificates, trades, listings and auctions, the bureau's approvals, ledger audit and rules.

Every queryset comes from :func:`aquifer.core.scoping.visible_to` (out of scope → 404); a trade
is seen by its parties through :class:`~aquifer.rights.models.TradeParty`; the public sees
trades only as :mod:`aquifer.rights.disclosure` shows them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django import forms as djforms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aquifer.core.audit import audit_context
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, visible_to
from aquifer.registry.choices import UseType
from aquifer.registry.models import Township, Zone
from aquifer.rights import conf, disclosure, ledger, services
from aquifer.rights.forms import (
    BidForm,
    DecisionForm,
    GrantForm,
    ListingForm,
    ObjectionForm,
    OrderForm,
    RoundForm,
    SettingsForm,
    TradeForm,
)
from aquifer.rights.ledger import Holder
from aquifer.rights.models import (
    AuctionOrder,
    AuctionRound,
    Bid,
    Journal,
    Listing,
    ListingStatus,
    MarketSettings,
    Objection,
    ObjectionStatus,
    RoundStatus,
    Trade,
    TradeParty,
    TradeStatus,
    WaterRight,
)
from aquifer.rights.services import MarketError

# ----------------------------------------------------------------------------- helpers


def holder_of(user: Any) -> Holder | None:
    """The rights holder a signed-in user acts for: their water user, or their township."""
    if not allowed(user, "rights.trade"):
        return None
    if user.water_user_id:
        return Holder.of_user(user.water_user)
    return Holder.of_township(user.township)


def _require_holder(request: HttpRequest) -> Holder:
    holder = holder_of(request.user)
    if holder is None:
        raise PermissionDenied(_("只有取用水户和乡镇可以交易水权。"))
    return holder


def _require_bureau(request: HttpRequest) -> None:
    if not allowed(request.user, "rights.manage"):
        if not request.user.is_authenticated:
            raise Http404
        raise PermissionDenied(_("只有县水务局可以执行该操作。"))


def visible_trades(user: Any) -> QuerySet[Trade]:
    """The trades a user may see: the bureau all, others those their scope reaches through the
    trade's parties (own water user, own township; inspectors county-wide)."""
    if allowed(user, "rights.manage"):
        return Trade.objects.all()
    parties = visible_to(user, Action.VIEW, TradeParty).values("trade_id")
    return Trade.objects.filter(pk__in=parties)


def _errors_to_form(form: djforms.Form, exc: MarketError) -> None:
    for field, message in exc.errors:
        form.add_error(field if field in form.fields else None, message)


def _submitted(
    request: HttpRequest, form: djforms.Form, call: Callable[[], object], ok: str
) -> bool:
    """Run a market action for a valid form as the web user; a refusal goes onto the form.
    True (with ``ok`` as a message) when it went through."""
    if not form.is_valid():
        return False
    try:
        with audit_context(user=request.user, source="web"):
            call()
    except MarketError as exc:
        _errors_to_form(form, exc)
        return False
    messages.success(request, ok)
    return True


def _sells(holder: Holder | None, lst: Listing) -> bool:
    """Whether ``holder`` is the listing's seller."""
    return holder is not None and (
        (lst.water_user_id is not None and holder.water_user_id == lst.water_user_id)
        or (lst.water_user_id is None and holder.water_user_id is None
            and holder.township_id == lst.township_id)
    )  # fmt: skip


def _flash_errors(request: HttpRequest, exc: MarketError) -> None:
    for _f, message in exc.errors:
        messages.error(request, message)


def _lot_choices(holder: Holder) -> list[tuple[str, str]]:
    """The holder's (use type, source, zone) lots with a balance in some year."""
    seen: dict[str, str] = {}
    for r in services.holder_balances(holder):
        if r["free"] <= 0:
            continue
        key = f"{r['use_type']}|{r['source']}|{r['zone'].pk if r['zone'] else ''}"
        if key not in seen:
            acct = r["account"]
            label = " · ".join(
                x for x in (str(acct.get_use_type_display()), str(acct.get_source_display()),
                            str(r["zone"] or "")) if x
            )  # fmt: skip
            seen[key] = label
    return list(seen.items())


def _parse_lot(value: str) -> tuple[str, str, Zone | None]:
    use_type, source, zone_id = [*value.split("|"), "", "", ""][:3]
    zone = Zone.objects.filter(pk=int(zone_id)).first() if zone_id.isdigit() else None
    return use_type, source, zone


def _forms_for(holder: Holder, data: Any = None, which: str = "") -> dict[str, Any]:
    lots = _lot_choices(holder)
    year = timezone.localdate().year
    initial = {"start_year": year, "end_year": year}
    tf = TradeForm(data if which == "trade" else None, initial=initial, prefix="trade")
    lf = ListingForm(data if which == "listing" else None, initial=initial, prefix="listing")
    for f in (tf, lf):
        f.fields["account"] = djforms.ChoiceField(label=_("出让水权"), choices=lots)
    return {"trade_form": tf, "listing_form": lf, "lots": lots}


# ----------------------------------------------------------------------------- public


def market(request: HttpRequest) -> HttpResponse:
    """The market for everyone: open listings and auctions, announcements, completed trades
    and the price history per use type."""
    listings = visible_to(request.user, Action.VIEW, Listing).filter(status=ListingStatus.OPEN)
    rounds = visible_to(request.user, Action.VIEW, AuctionRound).order_by("-opens_at")[:20]
    completed = Paginator(disclosure.completed_trades(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "rights/market.html",
        {
            "title": _("水权交易市场"),
            "listings": listings.select_related("zone"),
            "rounds": rounds,
            "announced": disclosure.rows(disclosure.announced_trades()),
            "completed": disclosure.rows(completed),
            "page": completed,
            "prices": json.dumps(disclosure.price_history(), ensure_ascii=False),
            "use_labels": json.dumps({k: str(v) for k, v in UseType.choices}, ensure_ascii=False),
            "holder": holder_of(request.user),
            "is_bureau": allowed(request.user, "rights.manage"),
        },
    )


def announcement(request: HttpRequest, pk: int) -> HttpResponse:
    """A trade under announcement (or completed) as the public sees it, with the objection
    form while the announcement runs."""
    qs = disclosure.announced_trades() | disclosure.completed_trades()
    t = get_object_or_404(qs, pk=pk)
    form = ObjectionForm()
    if request.method == "POST":
        form = ObjectionForm(request.POST)
        if form.is_valid():
            try:
                services.file_objection(t, **form.cleaned_data)
            except MarketError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, _("异议已提交，县水务局将在公示期满前处理。"))
                return redirect("rights:announcement", pk=t.pk)
    open_ = t.status == TradeStatus.ANNOUNCED and (
        t.announcement_ends is None or timezone.now() <= t.announcement_ends
    )
    return render(
        request,
        "rights/announcement.html",
        {"title": _("交易公示 %(n)s") % {"n": t.number}, "t": disclosure.row(t), "trade": t,
         "form": form, "open": open_},
    )  # fmt: skip


def rules_page(request: HttpRequest) -> HttpResponse:
    """The trading rules in force, their sources, and (bureau) a form for a new version."""
    is_bureau = allowed(request.user, "rights.manage")
    form = SettingsForm(initial=SettingsForm.initial_from_conf())
    if request.method == "POST":
        _require_bureau(request)
        form = SettingsForm(request.POST)
        if form.is_valid():
            with audit_context(user=request.user, source="web", reason="rights settings"):
                MarketSettings.objects.create(
                    values=form.values(),
                    document=form.cleaned_data.get("document") or "",
                    note=form.cleaned_data.get("note") or "",
                    created_by=request.user.get_username(),
                )
            messages.success(request, _("已保存为新版本，立即生效。"))
            return redirect("rights:rules")
    return render(
        request,
        "rights/rules.html",
        {
            "title": _("水权交易规则"),
            "settings": conf.current_for(request.user),
            "history": MarketSettings.objects.all()[:20],
            "form": form if is_bureau else None,
        },
    )


# ----------------------------------------------------------------------------- holders


def account(request: HttpRequest) -> HttpResponse:
    """A holder's water-rights account: balances per year, certificates, trades, listings,
    bids and orders, and the forms to trade."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if allowed(request.user, "rights.manage"):
        return redirect("rights:ledger")
    holder = holder_of(request.user)
    if holder is None:
        raise Http404
    ctx: dict[str, Any] = {"title": _("我的水权账户"), "holder": holder}
    which = request.POST.get("form", "") if request.method == "POST" else ""
    ctx.update(_forms_for(holder, request.POST if which else None, which))
    if which == "trade":
        resp = _new_trade(request, holder, ctx["trade_form"])
        if resp is not None:
            return resp
    elif which == "listing":
        resp = _new_listing(request, holder, ctx["listing_form"])
        if resp is not None:
            return resp
    user = request.user
    mine = {"water_user_id": holder.water_user_id} if holder.water_user_id else {
        "water_user__isnull": True, "township_id": holder.township_id}  # fmt: skip
    ctx.update(
        balances=services.holder_balances(holder),
        certificates=visible_to(user, Action.VIEW, WaterRight).filter(**mine),
        trades=visible_trades(user).filter(
            pk__in=TradeParty.objects.filter(**mine).values("trade_id")
        ),
        listings=visible_to(user, Action.VIEW, Listing).filter(**mine),
        bids=visible_to(user, Action.VIEW, Bid).filter(**mine).select_related("listing"),
        orders=visible_to(user, Action.VIEW, AuctionOrder).filter(**mine).select_related("round"),
    )
    return render(request, "rights/account.html", ctx)


def _new_trade(request: HttpRequest, holder: Holder, form: TradeForm) -> HttpResponse | None:
    if not form.is_valid():
        return None
    d = form.cleaned_data
    use_type, source, zone = _parse_lot(d["account"])
    if d["buyer_kind"] == "water_user":
        buyer = Holder.of_user(d["buyer_user"])
    else:
        buyer = Holder.of_township(d["buyer_township"])
    try:
        with audit_context(user=request.user, source="web"):
            t = services.propose_trade(
                seller=holder, buyer=buyer, use_type=use_type, source=source, seller_zone=zone,
                buyer_zone=d["buyer_zone"], volume_m3=d["volume_m3"], price=d["price"],
                start_year=d["start_year"], end_year=d["end_year"], is_lease=d["is_lease"],
                by=request.user,
            )  # fmt: skip
    except MarketError as exc:
        _errors_to_form(form, exc)
        return None
    messages.success(request, _("交易申请已提交：%(n)s") % {"n": t.number})
    return redirect("rights:trade_detail", pk=t.pk)


def _new_listing(request: HttpRequest, holder: Holder, form: ListingForm) -> HttpResponse | None:
    if not form.is_valid():
        return None
    d = form.cleaned_data
    use_type, source, zone = _parse_lot(d["account"])
    days = d.get("days") or int(conf.get("LISTING_DAYS"))
    try:
        with audit_context(user=request.user, source="web"):
            lst = services.create_listing(
                seller=holder, use_type=use_type, source=source, zone=zone,
                volume_m3=d["volume_m3"], min_price=d["min_price"], start_year=d["start_year"],
                end_year=d["end_year"], is_lease=d["is_lease"],
                closes_at=timezone.now() + dt.timedelta(days=days), by=request.user,
            )  # fmt: skip
    except MarketError as exc:
        _errors_to_form(form, exc)
        return None
    messages.success(request, _("已挂牌：%(n)s") % {"n": lst.number})
    return redirect("rights:listing_detail", pk=lst.pk)


def right_list(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    qs = visible_to(request.user, Action.VIEW, WaterRight).select_related(
        "water_user", "township", "zone"
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "rights/right_list.html",
        {"title": _("初始水权"), "page": page, "can_grant": allowed(request.user, "rights.manage")},
    )


def right_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The certificate (printable)."""
    right = get_object_or_404(visible_to(request.user, Action.VIEW, WaterRight), pk=pk)
    return render(
        request,
        "rights/certificate.html",
        {"title": _("水权证 %(n)s") % {"n": right.number}, "right": right,
         "years": range(right.start_year, right.end_year + 1),
         "can_revoke": allowed(request.user, "rights.manage") and right.status == "active"},
    )  # fmt: skip


def right_grant(request: HttpRequest) -> HttpResponse:
    _require_bureau(request)
    year = timezone.localdate().year
    form = GrantForm(request.POST or None, initial={"start_year": year, "end_year": year + 4})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        holder = (
            Holder.of_user(d["water_user"])
            if d["holder_kind"] == "water_user"
            else Holder.of_township(d["township"])
        )
        try:
            with audit_context(user=request.user, source="web"):
                right = services.grant_right(
                    holder=holder, use_type=d["use_type"], source=d["source"], zone=d["zone"],
                    volume_m3=d["volume_m3"], start_year=d["start_year"],
                    end_year=d["end_year"], document=d["document"], by=request.user,
                )  # fmt: skip
        except MarketError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("已确权：%(n)s") % {"n": right.number})
            return redirect("rights:right_detail", pk=right.pk)
    return render(request, "rights/form.html", {"title": _("确权登记"), "form": form})


@require_POST
def right_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _require_bureau(request)
    right = get_object_or_404(WaterRight, pk=pk)
    note = request.POST.get("note", "").strip()
    try:
        if not note:
            raise MarketError([("note", _("请填写收回理由。"))])
        with audit_context(user=request.user, source="web", reason=note):
            back = services.revoke_right(right, reason=note, by=request.user)
    except MarketError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("已收回，%(v)d m³ 返还县级预留。") % {"v": back})
    return redirect("rights:right_detail", pk=pk)


# ----------------------------------------------------------------------------- trades


def trade_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    t = get_object_or_404(visible_trades(request.user), pk=pk)
    holder = holder_of(request.user)
    is_seller = holder is not None and (
        (holder.water_user_id and holder.water_user_id == t.seller_user_id)
        or (holder.water_user_id is None and t.seller_user_id is None
            and holder.township_id == t.seller_township_id)
    )  # fmt: skip
    is_bureau = allowed(request.user, "rights.manage")
    return render(
        request,
        "rights/trade_detail.html",
        {
            "title": _("水权交易 %(n)s") % {"n": t.number},
            "t": t,
            "is_bureau": is_bureau,
            "can_cancel": is_seller and t.status == TradeStatus.PENDING,
            "objections": t.objections.all() if is_bureau else [],
            "form": DecisionForm(),
            "entries": Journal.objects.filter(ref=f"trade:{t.pk}").prefetch_related(
                "entries__account"
            )
            if is_bureau
            else [],
        },
    )


@require_POST
def trade_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """approve / reject / complete (bureau), cancel (the seller)."""
    if not request.user.is_authenticated:
        raise Http404
    t = get_object_or_404(visible_trades(request.user), pk=pk)
    note = request.POST.get("note", "")
    try:
        with audit_context(user=request.user, source="web", reason=f"trade {action}"):
            if action == "cancel":
                holder = holder_of(request.user)
                seller = holder is not None and (
                    holder.water_user_id == t.seller_user_id
                    and (holder.water_user_id or holder.township_id == t.seller_township_id)
                )
                if not seller:
                    raise PermissionDenied(_("只有出让方可以撤销。"))
                services.cancel(t, by=request.user)
            else:
                _require_bureau(request)
                if action == "approve":
                    services.approve(t, by=request.user, note=note)
                elif action == "reject":
                    services.reject(t, by=request.user, note=note)
                elif action == "complete":
                    services.complete(t, by=request.user)
                else:
                    raise Http404
    except MarketError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("已处理。"))
    return redirect("rights:trade_detail", pk=t.pk)


@require_POST
def objection_decide(request: HttpRequest, pk: int) -> HttpResponse:
    _require_bureau(request)
    obj = get_object_or_404(Objection, pk=pk)
    upheld = request.POST.get("upheld") == "1"
    try:
        with audit_context(user=request.user, source="web"):
            services.decide_objection(
                obj, upheld=upheld, by=request.user, note=request.POST.get("note", "")
            )
    except MarketError as exc:
        _flash_errors(request, exc)
    return redirect("rights:trade_detail", pk=obj.trade_id)


def approvals(request: HttpRequest) -> HttpResponse:
    """The bureau's desk: trades awaiting approval, under announcement, open objections."""
    _require_bureau(request)
    return render(
        request,
        "rights/approvals.html",
        {
            "title": _("交易审批与公示"),
            "pending": Trade.objects.filter(status=TradeStatus.PENDING).order_by("created_at"),
            "announced": Trade.objects.filter(status=TradeStatus.ANNOUNCED).order_by(
                "announcement_ends"
            ),
            "objections": Objection.objects.filter(status=ObjectionStatus.OPEN).select_related(
                "trade"
            ),
            "recent": Trade.objects.exclude(status__in=["pending", "announced"])[:30],
        },
    )


def ledger_page(request: HttpRequest) -> HttpResponse:
    """The bureau's ledger audit: the conservation check per year and the journals."""
    _require_bureau(request)
    year = request.GET.get("year", "")
    y = int(year) if year.isdigit() else None
    result = ledger.audit(y)
    # An account's name reads its holder, township and zone: each kind fetched once.
    journals = Journal.objects.prefetch_related(
        "entries__account__water_user",
        Prefetch("entries__account__township", Township.objects.defer("boundary")),
        Prefetch("entries__account__zone", Zone.objects.defer("geometry")),
    )
    if y is not None:
        journals = journals.filter(year=y)
    page = Paginator(journals, 50).get_page(request.GET.get("page"))
    years = sorted(set(Journal.objects.values_list("year", flat=True)))
    return render(
        request,
        "rights/ledger.html",
        {"title": _("水权台账审计"), "audit": result, "page": page, "years": years, "year": y},
    )


# ----------------------------------------------------------------------------- listings


def listing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lst = get_object_or_404(visible_to(request.user, Action.VIEW, Listing), pk=pk)
    holder = holder_of(request.user)
    is_bureau = allowed(request.user, "rights.manage")
    is_seller = _sells(holder, lst)
    form = BidForm(request.POST or None)
    if request.method == "POST":
        bidder = _require_holder(request)
        if is_seller:
            raise PermissionDenied(_("不能竞买自己的挂牌。"))
        if _submitted(
            request,
            form,
            lambda: services.place_bid(lst, bidder=bidder, by=request.user, **form.cleaned_data),
            _("报价已提交。"),
        ):
            return redirect("rights:listing_detail", pk=lst.pk)
    if is_bureau or is_seller:
        bids = lst.bids.all()
    else:
        bids = visible_to(request.user, Action.VIEW, Bid).filter(listing=lst)
    seller, _b = disclosure.party_names(Trade(seller_name=lst.seller_name, buyer_name=""))
    return render(
        request,
        "rights/listing_detail.html",
        {
            "title": _("挂牌 %(n)s") % {"n": lst.number},
            "l": lst,
            "seller": lst.seller_name if (is_bureau or is_seller) else seller,
            "bids": bids,
            "bid_count": lst.bids.count(),
            "form": form if holder is not None and not is_seller and lst.status == "open" else None,
            "can_close": (is_bureau or is_seller) and lst.status == ListingStatus.OPEN,
            "trades": visible_trades(request.user).filter(listing=lst),
        },
    )


@require_POST
def listing_close(request: HttpRequest, pk: int) -> HttpResponse:
    lst = get_object_or_404(visible_to(request.user, Action.VIEW, Listing), pk=pk)
    is_seller = _sells(holder_of(request.user), lst)
    if not (is_seller or allowed(request.user, "rights.manage")):
        if not request.user.is_authenticated:
            raise Http404
        raise PermissionDenied(_("只有出让方或县水务局可以结束挂牌。"))
    cancel = request.POST.get("cancel") == "1"
    try:
        with audit_context(user=request.user, source="web"):
            trades = services.close_listing(lst, by=request.user, cancel=cancel)
    except MarketError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("挂牌已结束，成交 %(n)d 笔（待审批）。") % {"n": len(trades)})
    return redirect("rights:listing_detail", pk=lst.pk)


# ----------------------------------------------------------------------------- auctions


def round_new(request: HttpRequest) -> HttpResponse:
    _require_bureau(request)
    form = RoundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            rnd = services.open_round(
                source=d["source"], zone=d["zone"], year=d["year"],
                closes_at=timezone.now() + dt.timedelta(days=d["days"]), by=request.user,
            )  # fmt: skip
        except MarketError as exc:
            _errors_to_form(form, exc)
        else:
            return redirect("rights:round_detail", pk=rnd.pk)
    return render(request, "rights/form.html", {"title": _("新拍卖场次"), "form": form})


def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rnd = get_object_or_404(visible_to(request.user, Action.VIEW, AuctionRound), pk=pk)
    holder = holder_of(request.user)
    is_bureau = allowed(request.user, "rights.manage")
    form = OrderForm(request.POST or None)
    if request.method == "POST":
        bidder = _require_holder(request)
        if _submitted(
            request,
            form,
            lambda: services.submit_order(rnd, holder=bidder, by=request.user, **form.cleaned_data),
            _("报价已密封提交。"),
        ):
            return redirect("rights:round_detail", pk=rnd.pk)
    orders = rnd.orders.all() if is_bureau else visible_to(
        request.user, Action.VIEW, AuctionOrder).filter(round=rnd)  # fmt: skip
    return render(
        request,
        "rights/round_detail.html",
        {
            "title": _("拍卖场次 %(n)s") % {"n": rnd.number},
            "r": rnd,
            "orders": orders,
            "order_count": rnd.orders.count(),
            "form": form if holder is not None and rnd.status == RoundStatus.OPEN else None,
            "can_clear": is_bureau and rnd.status == RoundStatus.OPEN,
            "trades": visible_trades(request.user).filter(auction=rnd),
        },
    )


@require_POST
def round_clear(request: HttpRequest, pk: int) -> HttpResponse:
    _require_bureau(request)
    rnd = get_object_or_404(AuctionRound, pk=pk)
    try:
        with audit_context(user=request.user, source="web"):
            trades = services.clear_round(rnd, by=request.user)
    except MarketError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("已出清，生成 %(n)d 笔交易（待审批）。") % {"n": len(trades)})
    return redirect("rights:round_detail", pk=pk)
