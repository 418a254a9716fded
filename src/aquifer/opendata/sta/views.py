"""SensorThings API 1.1 at ``/sta/v1.1/``: read-only, one view for every resource path.

Paths (STA §9.2): ``Things``, ``Things(1)``, ``Things(1)/Datastreams``,
``Datastreams(5)/Observations``, ``Observations(9)/Datastream``, ``ObservedProperties('ph')``
… and one property, ``Things(1)/name``. Query options: :mod:`.odata`. Anything but GET/HEAD
is 405 (the service is read-only); a bad path is 404, a bad option 400 naming it.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from aquifer.opendata.access import BadToken, caller, is_public
from aquifer.opendata.sta.entities import (
    ENTITY_SETS,
    Context,
    ElementRows,
    EntitySet,
    datastream_page,
    datastream_values,
    element_row,
    iso,
    latest_observation,
)
from aquifer.opendata.sta.odata import BadQuery, Options, matches, parse_options, to_q

__all__ = ["resource", "root"]

CONFORMANCE = [
    "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
]
_SEGMENT = re.compile(r"^(\$?\w+)(?:\((\d+|'[^']*')\))?$")


def _json(body: Any, status: int = 200) -> HttpResponse:
    """JSON by orjson: a page of 3,000 datastreams is ~1 MB, which the standard library
    encodes in tens of milliseconds (bench/sensorthings.py)."""
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/json")


def _error(status: int, message: str, option: str | None = None) -> HttpResponse:
    body: dict[str, Any] = {"code": status, "type": "error", "message": message}
    if option:
        body["errors"] = [{"field": option, "message": message}]
    return _json(body, status)


def _context(request: HttpRequest) -> Context:
    user = caller(request)
    return Context(user, is_public(user), request.build_absolute_uri("/sta/v1.1/"))


@require_safe
def root(request: HttpRequest) -> HttpResponse:
    try:
        ctx = _context(request)
    except BadToken:
        return _error(401, "invalid token")
    return _json(
        {
            "value": [{"name": n, "url": ctx.base + n} for n in ENTITY_SETS],
            "serverSettings": {"conformance": CONFORMANCE},
        }
    )


@require_safe
def resource(request: HttpRequest, path: str) -> HttpResponse:
    try:
        ctx = _context(request)
    except BadToken:
        return _error(401, "invalid token")
    try:
        with _gc_paused():
            opts = parse_options(request.GET)
            body = _resolve(ctx, path.strip("/"), opts, request)
            if body is not None:
                return _json(body)
    except BadQuery as exc:
        return _error(400, str(exc), exc.option)
    return _error(404, f"no such resource: {path}")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a page is built: its thousands of small objects
    (rows, dicts, strings) hold no cycles, yet their allocation triggers full collections of
    the whole process heap — half the time of a page of 3,000 datastreams
    (bench/sensorthings.py). Reference counting frees them as usual."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _parse_id(es: EntitySet, text: str) -> Any:
    if es.string_ids:
        return text.strip("'")
    if not text.isdigit():
        return None
    return int(text)


def _get(ctx: Context, es: EntitySet, rows: Any, pk: Any) -> Any:
    if isinstance(rows, ElementRows):
        return next((e for e in rows if e.key == pk), None)
    row = rows.filter(pk=pk).first()
    return es.wrap(row) if es.wrap is not None and row is not None else row


def _resolve(ctx: Context, path: str, opts: Options, request: HttpRequest) -> Any:
    """Walk the path: an entity set, an entity, navigation links, maybe a property."""
    segments = path.split("/")
    es: EntitySet | None = None
    rows: Any = None
    obj: Any = None
    single = False
    for i, seg in enumerate(segments):
        m = _SEGMENT.match(seg)
        if m is None:
            return None
        name, key = m.group(1), m.group(2)
        if i == 0:
            es = ENTITY_SETS.get(name)
            if es is None:
                return None
            rows = es.rows(ctx)
        elif single and es is not None and name in es.links:
            nav = es.links[name]
            target = ENTITY_SETS[nav.target]
            related = nav.related(ctx, obj)
            es = target
            if not nav.many:
                if related is None or key is not None:
                    return None
                obj, rows = related, None
                continue
            rows, single = related, False
        elif single and es is not None and key is None and i == len(segments) - 1:
            rendered = _entity(ctx, es, obj, Options(), request)
            return {name: rendered[name]} if name in rendered else None
        else:
            return None
        if key is not None:
            assert es is not None
            pk = _parse_id(es, key)
            obj = None if pk is None else _get(ctx, es, rows, pk)
            if obj is None:
                return None
            single = True
        else:
            single = False
    assert es is not None
    if single or rows is None:
        return _entity(ctx, es, obj, opts, request)
    return _collection(ctx, es, rows, opts, request, top_level=True)


def _ordered(es: EntitySet, rows: Any, opts: Options) -> Any:
    if isinstance(rows, ElementRows):
        out = [e for e in rows if opts.filter is None or matches(opts.filter, element_row(e))]
        for prop, desc in reversed(opts.orderby):
            out.sort(key=lambda e: element_row(e).get(prop) or "", reverse=desc)
        return out
    if opts.filter is not None:
        rows = rows.filter(to_q(rows.model, es.fields, opts.filter))
    order = []
    for prop, desc in opts.orderby:
        orm = es.fields.get(prop)
        if orm is None:
            raise BadQuery("$orderby", f"unknown property {prop!r} (known: {', '.join(es.fields)})")
        order.append(f"-{orm}" if desc else orm)
    order += _tie_breakers(es, order)
    return rows.order_by(*order)


def _tie_breakers(es: EntitySet, order: list[str]) -> list[str]:
    """What makes the order total (stable pages). Observations by time: device and element
    (a reading's key), the order of the readings' index; anything else: the id."""
    if es.name == "Observations" and order and order[0].lstrip("-") == "observed_at":
        desc = order[0].startswith("-")
        return [f"{'-' if desc else ''}{f}" for f in ("device_id", "element")]
    return [] if order[-1:] in (["pk"], ["-pk"]) else ["pk"]


def _by_time(es: EntitySet, opts: Options) -> bool | None:
    """Observations ordered by phenomenonTime first: descending?; None for any other order.
    Such pages are followed by key (``$skiptoken``), not by ``$skip``: the readings' index
    finds the next page at once, where an offset walks every row before it."""
    if es.name != "Observations" or not opts.orderby or opts.orderby[0][0] != "phenomenonTime":
        return None
    return opts.orderby[0][1]


def _after(rows: Any, token: str, desc: bool) -> Any:
    """The rows after the key ``time|device|element`` in (time, device, element) order."""
    try:
        when, device, element = token.split("|", 2)
        t = datetime.fromisoformat(when.replace("Z", "+00:00"))
        d = int(device)
    except ValueError:
        raise BadQuery("$skiptoken", "not a token this service wrote") from None
    op = "lt" if desc else "gt"
    # the plain range first: it lets the index start at the key (the OR alone would not)
    return rows.filter(**{f"observed_at__{op}e": t}).filter(
        Q(**{f"observed_at__{op}": t})
        | Q(observed_at=t, **{f"device_id__{op}": d})
        | Q(observed_at=t, device_id=d, **{f"element__{op}": element})
    )


def _collection(
    ctx: Context, es: EntitySet, rows: Any, opts: Options, request: HttpRequest, top_level: bool
) -> dict[str, Any]:
    rows = _ordered(es, rows, opts)
    out: dict[str, Any] = {}
    if opts.count:
        out["@iot.count"] = len(rows) if isinstance(rows, list) else rows.count()
    desc = _by_time(es, opts) if top_level else None
    skip = opts.skip
    if desc is not None and opts.skiptoken:
        rows, skip = _after(rows, opts.skiptoken, desc), 0
    window = rows[skip : skip + opts.top + 1]
    latest = _fast_datastreams(es, opts)
    plain = None if latest is None else datastream_page(window)
    if latest is not None and plain is not None:
        more = len(plain) > opts.top
        out["value"] = datastream_values(ctx, plain[: opts.top], latest)
    else:
        page = list(window)
        more = len(page) > opts.top
        page = page[: opts.top]
        if es.wrap is not None:
            page = [es.wrap(row) for row in page]
        out["value"] = [_entity(ctx, es, obj, opts, request) for obj in page]
    if more and top_level:
        params = {k: v for k, v in request.GET.items() if k not in ("$skip", "$skiptoken")}
        if desc is not None:
            last = page[-1]
            params["$skiptoken"] = f"{iso(last.observed_at)}|{last.device_id}|{last.element}"
        else:
            params["$skip"] = str(opts.skip + opts.top)
        if not opts.top_given:
            params["$top"] = str(opts.top)
        out["@iot.nextLink"] = request.build_absolute_uri(request.path) + "?" + urlencode(params)
    return out


def _fast_datastreams(es: EntitySet, opts: Options) -> bool | None:
    """A page of Datastreams that :func:`datastream_values` writes (no ``$select``, nothing or
    only the newest Observation expanded): whether with that Observation; None for any other
    page, which :func:`_entity` writes entity by entity."""
    if es.name != "Datastreams" or opts.select is not None:
        return None
    if not opts.expand:
        return False
    sub = opts.expand.get("Observations")
    if len(opts.expand) == 1 and sub is not None and sub.select is None and _is_latest(sub):
        return True
    return None


def _is_latest(opts: Options) -> bool:
    """``Observations($top=1;$orderby=phenomenonTime desc)``: the newest one."""
    return (
        opts.top == 1
        and opts.skip == 0
        and opts.filter is None
        and not opts.expand
        and opts.orderby[:1] == [("phenomenonTime", True)]
    )


def _entity(
    ctx: Context, es: EntitySet, obj: Any, opts: Options, request: HttpRequest
) -> dict[str, Any]:
    pk = obj.key if es.string_ids else obj.pk
    self_link = ctx.base + es.ref(pk)
    out: dict[str, Any] = {"@iot.id": pk, "@iot.selfLink": self_link}
    props = es.render(ctx, obj)
    select = opts.select
    if select is not None:
        props = {k: v for k, v in props.items() if k in select}
        if "id" not in select:
            out.pop("@iot.id")
    out.update(props)
    for name in es.links:
        if select is None or name in select:
            out[name + "@iot.navigationLink"] = self_link + "/" + name
    for name, sub in opts.expand.items():
        nav = es.links.get(name)
        if nav is None:
            raise BadQuery("$expand", f"{es.name} has no navigation property {name!r}")
        target = ENTITY_SETS[nav.target]
        if sub.latest is None:  # worked out once per request, not once per entity
            sub.latest = es.name == "Datastreams" and name == "Observations" and _is_latest(sub)
        if sub.latest:
            latest = latest_observation(obj)
            rid = latest.pop("id")
            if sub.select is not None:
                latest = {k: v for k, v in latest.items() if k in sub.select}
            out[name] = [{"@iot.id": rid, "@iot.selfLink": ctx.base + target.ref(rid), **latest}]
            continue
        related = nav.related(ctx, obj)
        if nav.many:
            if not sub.top_given:
                sub.top = 100
            part = _collection(ctx, target, related, sub, request, top_level=False)
            out[name] = part["value"]
            if "@iot.count" in part:
                out[f"{name}@iot.count"] = part["@iot.count"]
        else:
            out[name] = None if related is None else _entity(ctx, target, related, sub, request)
    return out
