"""OGC API – Features (Part 1: Core, GeoJSON) at ``/ogcapi/``: landing page, conformance,
collections, items with ``limit``/``offset`` paging and ``bbox``, one item. Read-only; what a
caller gets is scoped as everywhere (:mod:`aquifer.opendata.access`), the public getting each
collection's public properties only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from aquifer.opendata.access import BadToken, caller, is_public
from aquifer.opendata.ogcapi.collections import COLLECTIONS, Collection

__all__ = ["collection", "collections", "conformance", "item", "items", "landing"]

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
DEFAULT_LIMIT = 10
MAX_LIMIT = 10000
_JSON = {"ensure_ascii": False}
_GEOJSON = "application/geo+json"


def _json(body: Any, status: int = 200, content_type: str = "application/json") -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params=_JSON, content_type=content_type)


def _error(status: int, message: str, field: str | None = None) -> JsonResponse:
    body: dict[str, Any] = {"code": str(status), "description": message}
    if field:
        body["errors"] = [{"field": field, "message": message}]
    return _json(body, status)


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/ogcapi/")


def _link(href: str, rel: str, type_: str = "application/json", title: str = "") -> dict[str, str]:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


@require_safe
def landing(request: HttpRequest) -> JsonResponse:
    base = _base(request)
    return _json(
        {
            "title": "Aquifer OGC API – Features",
            "description": "Yangcheng County groundwater: wells, zones, townships.",
            "links": [
                _link(base, "self"),
                _link(base + "conformance", "conformance"),
                _link(base + "collections", "data"),
            ],
        }
    )


@require_safe
def conformance(request: HttpRequest) -> JsonResponse:
    return _json({"conformsTo": CONFORMANCE})


def _describe(request: HttpRequest, c: Collection) -> dict[str, Any]:
    href = _base(request) + f"collections/{c.id}"
    return {
        "id": c.id,
        "title": c.title,
        "description": c.title_en,
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "links": [_link(href, "self"), _link(href + "/items", "items", _GEOJSON)],
    }


@require_safe
def collections(request: HttpRequest) -> JsonResponse:
    base = _base(request)
    return _json(
        {
            "links": [_link(base + "collections", "self")],
            "collections": [_describe(request, c) for c in COLLECTIONS.values()],
        }
    )


@require_safe
def collection(request: HttpRequest, cid: str) -> JsonResponse:
    c = COLLECTIONS.get(cid)
    if c is None:
        return _error(404, f"no collection {cid!r}")
    return _json(_describe(request, c))


def _feature(c: Collection, row: Any, public: bool) -> dict[str, Any]:
    props = c.properties(row)
    if public:
        props = {k: v for k, v in props.items() if k in c.public}
    return {"type": "Feature", "id": row.pk, "geometry": c.geometry(row), "properties": props}


def _bbox(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise ValueError("four numbers: min lon, min lat, max lon, max lat")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise ValueError("numbers expected") from None
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if nums[0] > nums[2] or nums[1] > nums[3]:
        raise ValueError("min must not exceed max")
    return nums[0], nums[1], nums[2], nums[3]


def _int(request: HttpRequest, name: str, default: int, limit: int | None) -> int:
    text = request.GET.get(name)
    if text is None:
        return default
    if not text.isdigit():
        raise ValueError(f"{name}: a whole number ≥ 0")
    value = int(text)
    return min(value, limit) if limit is not None else value


@require_safe
def items(request: HttpRequest, cid: str) -> JsonResponse:
    c = COLLECTIONS.get(cid)
    if c is None:
        return _error(404, f"no collection {cid!r}")
    try:
        user = caller(request)
    except BadToken:
        return _error(401, "invalid token")
    try:
        limit = max(_int(request, "limit", DEFAULT_LIMIT, MAX_LIMIT), 1)
        offset = _int(request, "offset", 0, None)
    except ValueError as exc:
        return _error(400, str(exc), str(exc).split(":")[0])
    rows = c.rows(user).order_by("pk")
    box = request.GET.get("bbox")
    if box:
        try:
            bbox = _bbox(box)
        except ValueError as exc:
            return _error(400, f"bbox: {exc}", "bbox")
        if c.bbox_rows is not None:
            rows = c.bbox_rows(rows, bbox)
            matched = rows.count()
            page = list(rows[offset : offset + limit])
        else:
            inside = [r for r in rows if c.in_bbox(r, bbox)]
            matched, page = len(inside), inside[offset : offset + limit]
    else:
        matched = rows.count()
        page = list(rows[offset : offset + limit])
    public = is_public(user)
    href = _base(request) + f"collections/{c.id}/items"
    params = {k: v for k, v in request.GET.items() if k not in ("offset", "limit")}
    links = [_link(request.build_absolute_uri(), "self", _GEOJSON)]
    if offset + limit < matched:
        q = urlencode({**params, "limit": limit, "offset": offset + limit})
        links.append(_link(f"{href}?{q}", "next", _GEOJSON))
    if offset > 0:
        q = urlencode({**params, "limit": limit, "offset": max(offset - limit, 0)})
        links.append(_link(f"{href}?{q}", "prev", _GEOJSON))
    return _json(
        {
            "type": "FeatureCollection",
            "features": [_feature(c, r, public) for r in page],
            "numberMatched": matched,
            "numberReturned": len(page),
            "timeStamp": timezone.now().isoformat(),
            "links": links,
        },
        content_type=_GEOJSON,
    )


@require_safe
def item(request: HttpRequest, cid: str, pk: str) -> JsonResponse:
    c = COLLECTIONS.get(cid)
    if c is None:
        return _error(404, f"no collection {cid!r}")
    try:
        user = caller(request)
    except BadToken:
        return _error(401, "invalid token")
    row = c.rows(user).filter(pk=pk).first() if pk.isdigit() else None
    if row is None:
        return _error(404, f"no feature {pk!r} in {cid!r}")
    feature = _feature(c, row, is_public(user))
    feature["links"] = [_link(request.build_absolute_uri(), "self", _GEOJSON)]
    return _json(feature, content_type=_GEOJSON)
