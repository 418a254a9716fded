"""Pages of the portal: the public side (no login; Chinese by default, English by the language
switch) and the staff's complaint desk and news editor.

Public pages read the :class:`WellSnapshot` table and stored figures, never the readings.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from aquifer.analysis.levels import latest_zone_trends
from aquifer.analysis.models import CLASS_COLOURS, STATUS_COLOURS, RecoveryStatus
from aquifer.core.addresses import client_ip
from aquifer.core.attachments import AttachmentError, attachments_of
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, can, visible_to
from aquifer.core.tables import sort
from aquifer.portal import conf, downloads, figures, panels, services
from aquifer.portal.filters import ComplaintFilterSet
from aquifer.portal.forms import ActionForm, ComplaintForm, FollowForm, NewsForm
from aquifer.portal.hydrograph import chart
from aquifer.portal.models import Complaint, NewsItem, WellSnapshot
from aquifer.portal.tables import ComplaintTable
from aquifer.registry.choices import ZoneKind
from aquifer.registry.models import Township, Zone

PAGE_SIZE = 50
CLASS_LABELS = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V"}


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _status_label(code: str) -> str:
    try:
        return str(RecoveryStatus(code).label)
    except ValueError:
        return "—"


def _snapshot_row(s: WellSnapshot) -> dict[str, Any]:
    return {
        "s": s,
        "status_label": _status_label(s.status),
        "status_colour": STATUS_COLOURS.get(s.status, "#bdbdbd"),
        "klass": CLASS_LABELS.get(s.quality_class or 0, ""),
        "class_colour": CLASS_COLOURS.get(CLASS_LABELS.get(s.quality_class or 0, ""), "#bdbdbd"),
        "deciding": [n[1] if _english() else n[0] for n in s.quality_deciding],
    }


def _list_rows(page: Any) -> list[tuple[str, ...]]:
    """The well list's cells, formatted here rather than by template filters: the home page is
    the portal's busiest (bench/portal.py)."""
    prefix = reverse("portal:home") + "wells/"
    tz = timezone.get_current_timezone()
    statuses = {code: _status_label(code) for code in RecoveryStatus.values}
    english = _english()
    rows: list[tuple[str, ...]] = []
    for s in page:
        latest = "—"
        if s.latest_value is not None:
            when = f" {s.latest_at.astimezone(tz):%m-%d}" if s.latest_at else ""
            latest = f"{s.latest_value:.2f}{when}"
        klass = CLASS_LABELS.get(s.quality_class or 0, "")
        if klass and s.quality_deciding:
            klass += " (" + ", ".join(n[1] if english else n[0] for n in s.quality_deciding) + ")"
        rows.append(
            (
                prefix + quote(s.code, safe="") + "/",
                s.code,
                s.township,
                latest,
                f"{s.same_month_change:.2f}" if s.same_month_change is not None else "—",
                STATUS_COLOURS.get(s.status, "#bdbdbd"),
                statuses.get(s.status, "—"),
                klass or "—",
            )
        )
    return rows


def home(request: HttpRequest) -> HttpResponse:
    """The county's groundwater at a glance: every public monitoring well's condition."""
    qs = WellSnapshot.objects.all()
    counts = dict(qs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    classes = dict(
        qs.exclude(quality_class=None)
        .values_list("quality_class")
        .annotate(n=Count("id"))
        .values_list("quality_class", "n")
    )
    township = request.GET.get("township", "")
    status = request.GET.get("status", "")
    q = request.GET.get("q", "").strip()[:40]
    listed = qs
    if township.isdigit():
        listed = listed.filter(township_id_ref=int(township))
    if status in RecoveryStatus.values:
        listed = listed.filter(status=status)
    if q:
        listed = listed.filter(Q(code__icontains=q) | Q(township__icontains=q))
    page = Paginator(
        listed.only(
            "code", "name", "township", "element", "latest_value", "latest_at",
            "same_month_change", "status", "quality_class", "quality_deciding", "private",
        ),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))  # fmt: skip
    total = sum(counts.values())
    summary = [
        {
            "code": code,
            "label": _status_label(code),
            "n": counts.get(code, 0),
            "colour": STATUS_COLOURS[code],
        }
        for code in RecoveryStatus.values
    ]
    query = urlencode(
        {k: v for k, v in (("township", township), ("status", status), ("q", q)) if v}
    )
    refreshed = qs.order_by("-refreshed_at").values_list("refreshed_at", flat=True).first()
    return render(
        request,
        "portal/home.html",
        {
            "total": total,
            "summary": summary,
            "recovering": counts.get("rising", 0) + counts.get("stabilised", 0),
            "classes": [(CLASS_LABELS[k], classes.get(k, 0)) for k in sorted(CLASS_LABELS)],
            "page_obj": page,
            "rows": _list_rows(page),
            "townships": Township.objects.filter(is_current=True).order_by("code"),
            "township": township,
            "status": status,
            "statuses": RecoveryStatus.choices,
            "q": q,
            "query": query,
            "refreshed": refreshed,
            "news": NewsItem.objects.filter(published=True, published_at__lte=timezone.now())[:3],
            "map_config": {
                "url": reverse("portal:download", args=["wells", "geojson"]),
                # relative to the home page (/portal/): wells/<code>/
                "wellPath": "wells/",
                "colours": STATUS_COLOURS,
            },
        },
    )


def well(request: HttpRequest, code: str) -> HttpResponse:
    s = WellSnapshot.objects.filter(code=code).first()
    if s is None:
        raise Http404
    depth = s.element == "depth_to_water"
    return render(
        request,
        "portal/well.html",
        {**_snapshot_row(s), "chart": chart(s.hydrograph, inverted=depth), "depth": depth},
    )


def zones(request: HttpRequest) -> HttpResponse:
    trends = latest_zone_trends()
    rows = []
    for z in Zone.objects.order_by("kind", "code"):
        resident, firm = figures.ZONE_MEANINGS.get(z.kind, ("", ""))
        t = trends.get(z.pk)
        rows.append(
            {
                "zone": z,
                "resident": resident,
                "firm": firm,
                "status": _status_label(t.status) if t else "—",
            }
        )
    return render(
        request,
        "portal/zones.html",
        {
            "rows": rows,
            "meanings": [(label, *figures.ZONE_MEANINGS[code]) for code, label in ZoneKind.choices],
            "map_config": {"url": reverse("portal:download", args=["zones", "geojson"])},
        },
    )


def withdrawals(request: HttpRequest) -> HttpResponse:
    this = timezone.localdate().year
    try:
        year = int(request.GET.get("year", this - 1))
    except ValueError:
        year = this - 1
    year = min(max(year, 2000), this)
    rows = figures.withdrawal_rows(year)
    return render(
        request,
        "portal/withdrawals.html",
        {"rows": rows, "year": year, "years": list(range(this, this - 6, -1))},
    )


def trades(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/trades.html",
        {
            "index": figures.price_index(),
            "trades": figures.trade_rows(),
            "least": conf.get("PRICE_MIN_TRADES"),
        },
    )


def progress(request: HttpRequest) -> HttpResponse:
    sections = []
    for key, title, panel in panels.panels():
        sections.append(
            {
                "key": key,
                "title": title,
                "panel": panel,
                "rows": panel.rows() if panel is not None else [],
            }
        )
    return render(request, "portal/progress.html", {"sections": sections})


def _news(request: HttpRequest) -> Any:
    return NewsItem.objects.filter(published=True, published_at__lte=timezone.now())


def news_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(_news(request), 20).get_page(request.GET.get("page"))
    return render(request, "portal/news_list.html", {"page_obj": page, "english": _english()})


def news_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(_news(request), pk=pk)
    return render(request, "portal/news_detail.html", {"item": item, "english": _english()})


def regulations(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/regulations.html", {"regulations": figures.regulations()})


def downloads_page(request: HttpRequest) -> HttpResponse:
    refreshed = (
        WellSnapshot.objects.order_by("-refreshed_at")
        .values_list("refreshed_at", flat=True)
        .first()
    )
    datasets = [
        {"key": k, "title": title, "formats": ("csv", "geojson")}
        for k, (title, _rows) in downloads.DATASETS.items()
    ]
    return render(
        request,
        "portal/downloads.html",
        {"datasets": datasets, "refreshed": refreshed, **downloads.licence()},
    )


def download(request: HttpRequest, dataset: str, fmt: str) -> HttpResponse:
    if dataset not in downloads.DATASETS or fmt not in ("csv", "geojson"):
        raise Http404
    response = downloads.respond(dataset, fmt)
    # The same for everyone and refreshed hourly: a browser or a proxy may keep it a while.
    patch_cache_control(response, public=True, max_age=300)
    return response


# --- complaints: the public side --------------------------------------------------------


@never_cache
def complaint_new(request: HttpRequest) -> HttpResponse:
    """File a complaint; the answer shows the tracking number and the secret, once."""
    form = ComplaintForm(request.POST or None)
    status = 200
    if request.method == "POST":
        photos = request.FILES.getlist("photos")
        if form.is_valid():
            d = form.cleaned_data
            try:
                filed = services.file_complaint(
                    category=d["category"],
                    description=d["description"],
                    lon=d["lon"],
                    lat=d["lat"],
                    place=d.get("place") or "",
                    name=d.get("name") or "",
                    phone=d.get("phone") or "",
                    photos=photos,
                    address=client_ip(request),
                )
            except services.RateLimited:
                form.add_error(None, _("提交过于频繁，请稍后再试。"))
                status = 429
            except (ValidationError, AttachmentError) as exc:
                for field, msgs in exc.message_dict.items():
                    for m in msgs:
                        form.add_error(field if field in form.fields else None, m)
                status = 422
            else:
                return render(
                    request,
                    "portal/complaint_filed.html",
                    {"complaint": filed.complaint, "secret": filed.secret},
                    status=201,
                )
        else:
            status = 422
    return render(
        request,
        "portal/complaint_new.html",
        {
            "form": form,
            "max_photos": conf.get("MAX_PHOTOS"),
            "photo_mb": int(conf.get("PHOTO_MAX_BYTES")) // (1024 * 1024),
            "reply_days": conf.get("REPLY_DAYS"),
            "map_config": {"pick": True},
        },
        status=status,
    )


@never_cache
def complaint_follow(request: HttpRequest) -> HttpResponse:
    """Follow a complaint with its tracking number and secret (sent by POST, not in the URL)."""
    form = FollowForm(request.POST or None, initial={"number": request.GET.get("number", "")})
    complaint = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            complaint = services.follow(form.cleaned_data["number"], form.cleaned_data["secret"])
            if complaint is None:
                form.add_error(None, _("受理编号或查询密码不正确。"))
                status = 404
        else:
            status = 422
    context: dict[str, Any] = {"form": form, "complaint": complaint}
    if complaint is not None:
        context["events"] = complaint.events.filter(public=True)
        context["links"] = complaint.links.all()
    return render(request, "portal/complaint_follow.html", context, status=status)


# --- complaints: the staff's desk --------------------------------------------------------


def _staff(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not allowed(request.user, "portal.complaints"):
        raise PermissionDenied(_("您的角色无权处理公众举报。"))
    return None


def _complaints(request: HttpRequest) -> Any:
    return visible_to(request.user, Action.VIEW, Complaint).select_related("township")


def complaint_list(request: HttpRequest) -> HttpResponse:
    refused = _staff(request)
    if refused is not None:
        return refused
    filters = ComplaintFilterSet(request.GET, queryset=_complaints(request), request=request)
    table = ComplaintTable(filters.qs, attrs={"id": "complaint-list", "class": "list"})
    table.request = request
    sort(table, request.GET.getlist(table.order_by_field))
    table.paginator = Paginator(table.rows, PAGE_SIZE)
    table.page = table.paginator.get_page(request.GET.get("page"))
    query = urlencode(
        [
            (n, request.GET[n])
            for n in filters.filters
            if request.GET.get(n) and n not in filters.errors
        ]
    )
    api = reverse("api:api-root") + "portal/complaints/export"
    exports = [
        (label, f"{api}?format={fmt}" + (f"&{query}" if query else ""))
        for fmt, label in (("xlsx", "Excel"), ("csv", "CSV"))
    ]
    return render(
        request,
        "portal/complaint_list.html",
        {"form": filters.form, "table": table, "page_obj": table.page, "exports": exports},
    )


def _detail_context(request: HttpRequest, complaint: Complaint) -> dict[str, Any]:
    user = request.user
    actions = services.permitted_actions(user, complaint)
    return {
        "complaint": complaint,
        "events": complaint.events.all(),
        "links": complaint.links.all(),
        "attachments": attachments_of(complaint),
        "actions": actions,
        "openers": panels.openers(user) if actions else [],
        "identity": allowed(user, "portal.filer_identity"),
    }


def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        raise Http404
    complaint = get_object_or_404(_complaints(request), pk=pk)
    return render(request, "portal/complaint_detail.html", _detail_context(request, complaint))


@require_POST
def complaint_act(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        raise Http404
    complaint = get_object_or_404(_complaints(request), pk=pk)
    form = ActionForm(request.POST)
    errors: list[str] = []
    if not form.is_valid():
        errors = [f"{k}: {m}" for k, ms in form.errors.items() for m in ms]
    else:
        try:
            services.act(
                complaint, form.cleaned_data["action"], by=request.user,
                text=form.cleaned_data.get("text") or "",
            )  # fmt: skip
        except ValidationError as exc:
            errors = [str(m) for ms in exc.message_dict.values() for m in ms]
        else:
            messages.success(request, _("举报已更新。"))
            return redirect(complaint.get_absolute_url())
    complaint.refresh_from_db()
    context = _detail_context(request, complaint)
    context["errors"] = errors
    return render(request, "portal/complaint_detail.html", context, status=422)


@require_POST
def complaint_case(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Open a case in another app from the complaint (a registered case opener)."""
    if not request.user.is_authenticated:
        raise Http404
    complaint = get_object_or_404(_complaints(request), pk=pk)
    if not can(request.user, "handle", complaint):
        raise PermissionDenied(_("您无权处理该举报。"))
    opener = next((o for o in panels.openers(request.user) if o.kind == kind), None)
    if opener is None:
        raise Http404
    try:
        object_id, label, url = opener.open(complaint, request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(complaint.get_absolute_url())
    services.link_case(
        complaint, kind=kind, object_id=object_id, label=label, url=url, by=request.user
    )
    return redirect(complaint.get_absolute_url())


def news_manage(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The bureau's news editor: every item (published or not) and the form."""
    if not allowed(request.user, "portal.news_edit"):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied(_("只有县水务局可以编辑新闻公告。"))
    instance = get_object_or_404(NewsItem, pk=pk) if pk is not None else None
    form = NewsForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        item = form.save(commit=False)
        if item.author_id is None:
            item.author = request.user
        item.save()
        messages.success(request, _("新闻公告已保存。"))
        return redirect("portal:news_manage")
    return render(
        request,
        "portal/news_manage.html",
        {"items": NewsItem.objects.all(), "form": form, "editing": instance},
        status=422 if form.is_bound and form.errors else 200,
    )
