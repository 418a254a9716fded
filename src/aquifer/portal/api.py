"""REST API of the portal: filing and following a complaint (anyone), the staff's complaint
desk (list, export, read, act), the public wells' snapshot, the progress panels and the news.

``POST /api/complaints/`` takes a multipart form (the fields and up to ``MAX_PHOTOS`` files
named ``photos``) from anyone, no account needed; it answers 201 with the tracking number and
the secret (shown this once), 422 naming a bad field, 400 for a refused photo, 429 when the
address has filed too often. ``GET /api/complaints/{number}`` with the secret in the
``X-Complaint-Secret`` header answers the status, the public timeline, the reply and the cases
opened; a wrong number or secret is a 404.

Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
"""

from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.security.base import AuthBase

from aquifer.core.addresses import client_ip
from aquifer.core.crud import page
from aquifer.core.exports import export_response
from aquifer.core.filters import filter_errors, openapi_parameters
from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, visible_to
from aquifer.core.tables import export_columns
from aquifer.portal import panels, services
from aquifer.portal.filters import ComplaintFilterSet
from aquifer.portal.models import Complaint, NewsItem, WellSnapshot
from aquifer.portal.tables import ComplaintTable

router = Router(tags=["portal"])


class Anyone(AuthBase):
    """Filing a complaint needs no account (the filer is not recorded as a user)."""

    openapi_type = "http"
    openapi_scheme = "none"

    def __call__(self, request: HttpRequest) -> Any:
        return request.user


def _iso(t: Any) -> str | None:
    return t.isoformat() if t else None


class ComplaintIn(Schema):
    category: Literal["illegal_well", "pollution", "unmetered", "device", "other"]
    description: str = Field(..., max_length=4000)
    lon: float
    lat: float
    place: str = Field("", max_length=200)
    name: str = Field("", max_length=60)
    phone: str = Field("", max_length=30)


class ComplaintFiledOut(Schema):
    number: str
    secret: str = Field(..., description="shown this once; stored only as its hash")
    state: str
    handler: str
    due_at: str


class ComplaintEventOut(Schema):
    at: str
    action: str
    state: str
    text: str


class ComplaintCaseOut(Schema):
    kind: str
    label: str
    at: str


class ComplaintFollowOut(Schema):
    number: str
    category: str
    state: str
    state_label: str
    handler: str
    filed_at: str
    due_at: str
    overdue: bool
    reply: str
    reason: str
    events: list[ComplaintEventOut]
    cases: list[ComplaintCaseOut]


def _follow_out(c: Complaint) -> dict[str, Any]:
    return {
        "number": c.number,
        "category": c.category,
        "state": c.state,
        "state_label": str(c.get_state_display()),
        "handler": str(c.handler),
        "filed_at": c.filed_at.isoformat(),
        "due_at": c.due_at.isoformat(),
        "overdue": c.overdue,
        "reply": c.reply,
        "reason": c.reason,
        "events": [
            {
                "at": e.at.isoformat(),
                "action": e.action,
                "state": e.to_state,
                "text": e.text if e.action != "file" else "",
            }
            for e in c.events.filter(public=True)
        ],
        "cases": [
            {"kind": link.kind, "label": link.label, "at": link.created_at.isoformat()}
            for link in c.links.all()
        ],
    }


@router.post(
    "/complaints/",
    response={201: ComplaintFiledOut},
    operation_id="portal_complaint_file",
    auth=[Anyone()],
    summary="File a complaint or report (no account needed)",
)
def complaint_file(
    request: HttpRequest,
    payload: Form[ComplaintIn],
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    try:
        filed = services.file_complaint(
            category=payload.category,
            description=payload.description,
            lon=payload.lon,
            lat=payload.lat,
            place=payload.place,
            name=payload.name,
            phone=payload.phone,
            photos=list(photos or []),
            address=client_ip(request),
        )
    except services.RateLimited:
        raise HttpError(429, _("提交过于频繁，请稍后再试。")) from None
    c = filed.complaint
    return Status(
        201,
        {
            "number": c.number,
            "secret": filed.secret,
            "state": c.state,
            "handler": str(c.handler),
            "due_at": c.due_at.isoformat(),
        },
    )


@router.get(
    "/complaints/{number}",
    response=ComplaintFollowOut,
    operation_id="portal_complaint_follow",
    summary="Follow a complaint: its number in the path, its secret in X-Complaint-Secret",
)
def complaint_follow(request: HttpRequest, number: str) -> Any:
    secret = request.headers.get("X-Complaint-Secret", "")
    complaint = services.follow(number, secret)
    if complaint is None:
        raise Http404
    return _follow_out(complaint)


# --- the staff's desk ---------------------------------------------------------------------


class ComplaintOut(Schema):
    id: int
    number: str
    category: str
    description: str
    lon: float
    lat: float
    place: str
    township_id: int | None
    handler: str
    state: str
    filed_at: str
    due_at: str
    accepted_at: str | None
    replied_at: str | None
    closed_at: str | None
    reply: str
    reason: str
    overdue: bool
    name: str | None = Field(None, description="the bureau only")
    phone: str | None = Field(None, description="the bureau only")
    actions: list[str]

    @staticmethod
    def of(c: Complaint, user: Any) -> dict[str, Any]:
        identity = allowed(user, "portal.filer_identity")
        return {
            "id": c.pk,
            "number": c.number,
            "category": c.category,
            "description": c.description,
            "lon": c.lon,
            "lat": c.lat,
            "place": c.place,
            "township_id": c.township_id,
            "handler": str(c.handler),
            "state": c.state,
            "filed_at": c.filed_at.isoformat(),
            "due_at": c.due_at.isoformat(),
            "accepted_at": _iso(c.accepted_at),
            "replied_at": _iso(c.replied_at),
            "closed_at": _iso(c.closed_at),
            "reply": c.reply,
            "reason": c.reason,
            "overdue": c.overdue,
            "name": c.name if identity else None,
            "phone": c.phone if identity else None,
            "actions": services.permitted_actions(user, c),
        }


class ComplaintPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ComplaintOut]


class ComplaintActionIn(Schema):
    action: Literal["accept", "reply", "close", "reject", "note"]
    text: str = Field("", max_length=4000)


_FILTERS: dict[str, Any] = {"parameters": openapi_parameters(ComplaintFilterSet)}


def _signed_in(request: HttpRequest) -> Any:
    if not request.user.is_authenticated:
        raise HttpError(401, _("需要登录或 API 令牌。"))
    return request.user


def _complaints(request: HttpRequest) -> Any:
    return visible_to(request.user, Action.VIEW, Complaint).select_related("township")


def _filtered(request: HttpRequest) -> Any:
    filters = ComplaintFilterSet(request.GET, queryset=_complaints(request), request=request)
    if not filters.is_valid():
        raise filter_errors(filters)
    return filters.qs


@router.get(
    "/portal/complaints/",
    response=ComplaintPage,
    operation_id="portal_complaint_list",
    openapi_extra=_FILTERS,
)
def complaint_list(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=500),  # type: ignore[type-arg]
    offset: int = Query(0, ge=0),  # type: ignore[type-arg]
) -> Any:
    """Complaints the caller handles or reads (bureau, inspectors: all; officers: their
    township's); ``state=open`` (default) is the ones still owed a reply."""
    _signed_in(request)
    return page(_filtered(request), limit, offset, lambda c: ComplaintOut.of(c, request.user))


@router.get(
    "/portal/complaints/export",
    operation_id="portal_complaint_export",
    response={200: None},
    openapi_extra=_FILTERS,
)
def complaint_export(request: HttpRequest, format: Literal["xlsx", "csv"] = "xlsx") -> HttpResponse:
    """Excel (or CSV) of the filtered complaints, with the list's columns (no filer identity)."""
    _signed_in(request)
    return export_response(
        _filtered(request), export_columns(ComplaintTable, Complaint), format, "complaints"
    )


def _complaint(request: HttpRequest, pk: int) -> Complaint:
    c: Complaint | None = _complaints(request).filter(pk=pk).first()
    if c is None:
        raise Http404
    return c


@router.get("/portal/complaints/{pk}", response=ComplaintOut, operation_id="portal_complaint_read")
def complaint_read(request: HttpRequest, pk: int) -> Any:
    _signed_in(request)
    return ComplaintOut.of(_complaint(request, pk), request.user)


@router.post(
    "/portal/complaints/{pk}/actions",
    response=ComplaintOut,
    operation_id="portal_complaint_act",
    summary="Accept, reply, close, reject (with a reason) or note a complaint",
)
def complaint_act(request: HttpRequest, pk: int, payload: ComplaintActionIn) -> Any:
    user = _signed_in(request)
    c = _complaint(request, pk)
    try:
        services.act(c, payload.action, by=user, text=payload.text)
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and set(exc.message_dict) - {"action"}:
            messages = [m for ms in exc.message_dict.values() for m in ms]
            raise ValidationError({"text": messages}) from None
        raise
    return ComplaintOut.of(_complaint(request, pk), user)


# --- the public figures ---------------------------------------------------------------------


class PublicWellOut(Schema):
    code: str
    township: str
    zone: str
    network: str
    lon: float
    lat: float
    element: str
    latest_value: float | None
    latest_at: str | None
    same_month_change: float | None
    status: str
    slope_per_year: float | None
    quality_class: int | None
    quality_deciding: list[list[str]]
    quality_sampled_at: str | None
    refreshed_at: str


class PublicWellDetailOut(PublicWellOut):
    hydrograph: list[list[Any]]


def _well_out(s: WellSnapshot, hydrograph: bool = False) -> dict[str, Any]:
    out = {
        "code": s.code,
        "township": s.township,
        "zone": s.zone,
        "network": s.network,
        "lon": s.lon,
        "lat": s.lat,
        "element": s.element,
        "latest_value": s.latest_value,
        "latest_at": _iso(s.latest_at),
        "same_month_change": s.same_month_change,
        "status": s.status,
        "slope_per_year": s.slope_per_year,
        "quality_class": s.quality_class,
        "quality_deciding": s.quality_deciding,
        "quality_sampled_at": _iso(s.quality_sampled_at),
        "refreshed_at": s.refreshed_at.isoformat(),
    }
    if hydrograph:
        out["hydrograph"] = s.hydrograph
    return out


class PublicWellPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PublicWellOut]


@router.get("/portal/wells", response=PublicWellPage, operation_id="portal_well_list")
def well_list(
    request: HttpRequest,
    status: str | None = None,
    limit: int = Query(500, ge=1, le=5000),  # type: ignore[type-arg]
    offset: int = Query(0, ge=0),  # type: ignore[type-arg]
) -> Any:
    """Every public monitoring well's current condition (the snapshot)."""
    qs = WellSnapshot.objects.defer("hydrograph")
    if status:
        qs = qs.filter(status=status)
    return page(qs, limit, offset, _well_out)


@router.get("/portal/wells/{code}", response=PublicWellDetailOut, operation_id="portal_well_read")
def well_read(request: HttpRequest, code: str) -> Any:
    s = WellSnapshot.objects.filter(code=code).first()
    if s is None:
        raise Http404
    return _well_out(s, hydrograph=True)


class PublicPanelOut(Schema):
    key: str
    title: str
    published: bool
    headers: list[str]
    rows: list[list[Any]]


@router.get("/portal/panels", response=list[PublicPanelOut], operation_id="portal_panels")
def panel_list(request: HttpRequest) -> Any:
    """Closure progress, assessment results, enforcement decisions, credit records — as each
    governance app publishes them (``portal.panels``)."""
    return [
        {
            "key": key,
            "title": str(title),
            "published": panel is not None,
            "headers": [str(h) for h in panel.headers] if panel else [],
            "rows": [[str(v) if v is not None else None for v in r] for r in panel.rows()]
            if panel
            else [],
        }
        for key, title, panel in panels.panels()
    ]


class NewsItemOut(Schema):
    id: int
    kind: str
    title: str
    title_en: str
    body: str
    body_en: str
    published_at: str


@router.get("/portal/news", response=list[NewsItemOut], operation_id="portal_news")
def news(request: HttpRequest, limit: int = Query(20, ge=1, le=200)) -> Any:  # type: ignore[type-arg]
    items = NewsItem.objects.filter(published=True, published_at__lte=timezone.now())[:limit]
    return [
        {
            "id": n.pk,
            "kind": n.kind,
            "title": n.title,
            "title_en": n.title_en,
            "body": n.body,
            "body_en": n.body_en,
            "published_at": n.published_at.isoformat(),
        }
        for n in items
    ]


__all__ = ["router"]
