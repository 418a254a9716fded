"""The SensorThings entity sets over Aquifer's data (docs/open-data.md, "SensorThings").

=================  ===========================================  ==============================
entity set         rows                                         @iot.id
=================  ===========================================  ==============================
Things             wells the caller may reach (``open``)        well id
Locations          the same wells: one point each (WGS84)       well id
Sensors            devices installed at those wells             device id
ObservedProperties the canonical elements (telemetry.elements)  element key (a string)
Datastreams        one per (device, element) series: the rows   LatestReading id
                   of telemetry's LatestReading table
Observations       the readings store (non-rejected readings)   reading id
=================  ===========================================  ==============================

Each entity set declares the properties ``$filter`` and ``$orderby`` may name (``fields``: the
property path → ORM path), how one row is written (``render``), and its navigation links
(``links``: name → the target set and the rows or row of one parent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import CharField, F, Func, QuerySet

from aquifer.opendata import access
from aquifer.telemetry.elements import ELEMENTS
from aquifer.telemetry.models import Reading, ReadingFlag

__all__ = [
    "ENTITY_SETS",
    "Context",
    "EntitySet",
    "IsoUtc",
    "Nav",
    "datastream_page",
    "datastream_values",
    "iso",
]

OM_MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


@dataclass
class Context:
    """One request: the caller, whether they get public fields only, the service's root URL."""

    user: Any
    public: bool
    base: str  # ends with "/"


_ISO: dict[datetime, str] = {}


def iso(when: datetime | None) -> str | None:
    """An instant as ``2026-01-01T08:00:00Z`` (remembered: pages repeat the same times)."""
    if when is None:
        return None
    text = _ISO.get(when)
    if text is None:
        if len(_ISO) > 50000:
            _ISO.clear()
        text = _ISO[when] = when.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return text


@dataclass
class Nav:
    """A navigation link: its target set, and the rows (many) or the row (one) of a parent."""

    target: str
    many: bool
    related: Callable[[Context, Any], Any]


@dataclass
class EntitySet:
    name: str
    rows: Callable[[Context], Any]
    render: Callable[[Context, Any], dict[str, Any]]
    fields: dict[str, str]
    links: dict[str, Nav] = field(default_factory=dict)
    string_ids: bool = False
    #: Rows fetched as dicts (``values()``) are made objects by this (no model instances).
    wrap: Callable[[dict[str, Any]], Any] | None = None

    def ref(self, pk: Any) -> str:
        return f"{self.name}('{pk}')" if self.string_ids else f"{self.name}({pk})"


# Things and Locations: wells ---------------------------------------------------------------


def _wells(ctx: Context) -> QuerySet[Any]:
    return access.wells(ctx.user).select_related("township", "monitoring")


def _thing(ctx: Context, w: Any) -> dict[str, Any]:
    monitoring = getattr(w, "monitoring", None) is not None
    props: dict[str, Any] = {
        "code": w.code,
        "kind": "monitoring" if monitoring else "withdrawal",
        "township": w.township.name if w.township_id else None,
        "aquifer_layer": w.layer,
    }
    if not ctx.public:
        props.update(
            purpose=w.purpose,
            status=w.status,
            depth_m=float(w.depth_m) if w.depth_m is not None else None,
            owner_id=w.owner_id,
        )
    return {"name": w.code, "description": w.name or w.code, "properties": props}


def _location(ctx: Context, w: Any) -> dict[str, Any]:
    return {
        "name": w.code,
        "description": w.name or w.code,
        "encodingType": "application/geo+json",
        "location": {"type": "Point", "coordinates": [w.lon, w.lat]},
    }


def _same_well(ctx: Context, w: Any) -> QuerySet[Any]:
    return _wells(ctx).filter(pk=w.pk)


# Sensors: devices --------------------------------------------------------------------------


def _devices(ctx: Context) -> QuerySet[Any]:
    return access.devices(ctx.user)


def _sensor(ctx: Context, d: Any) -> dict[str, Any]:
    label = " ".join(x for x in (d.manufacturer, d.model_name) if x) or str(d.get_kind_display())
    props: dict[str, Any] = {"kind": d.kind, "protocol": d.protocol}
    if not ctx.public:
        props.update(station_address=d.station_address, serial_number=d.serial_number)
    return {
        "name": f"{d.get_kind_display()} {d.pk}",
        "description": label,
        "encodingType": "text/plain",
        "metadata": label,
        "properties": props,
    }


# ObservedProperties: the canonical elements ------------------------------------------------


class ElementRows(list[Any]):
    """The elements as rows (no table): filtered and ordered in Python."""


def _elements(ctx: Context) -> ElementRows:
    return ElementRows(ELEMENTS.values())


def _observed_property(ctx: Context, e: Any) -> dict[str, Any]:
    return {
        "name": e.name_en,
        "definition": f"urn:aquifer:element:{e.key}",
        "description": e.name_zh,
        "properties": {"unit": e.unit, "group": e.group, "name_zh": e.name_zh},
    }


def element_row(e: Any) -> dict[str, Any]:
    """What ``$filter``/``$orderby`` may name on an ObservedProperty."""
    return {"id": e.key, "name": e.name_en, "description": e.name_zh, "definition": e.key}


# Datastreams: one per series, the LatestReading table -------------------------------------


class DatastreamRow:
    """One LatestReading row as a Datastream needs it: fetched with ``values()``, no Device
    or Well model objects (tracked models, every field loaded: three times the rest)."""

    __slots__ = ("device_id", "element", "first_observed_at", "observed_at", "pk",
                 "reading_id", "thing_id", "value", "well_code")  # fmt: skip

    def __init__(self, row: dict[str, Any]) -> None:
        self.pk: int = row["pk"]
        self.device_id: int = row["device_id"]
        self.element: str = row["element"]
        self.first_observed_at: datetime = row["first_observed_at"]
        self.observed_at: datetime = row["observed_at"]
        self.reading_id: int = row["reading_id"]
        self.value: float = row["value"]
        self.thing_id: int = row["thing_id"]
        self.well_code: str = row["well_code"]


_DATASTREAM_VALUES = ("pk", "device_id", "element", "first_observed_at", "observed_at",
                      "reading_id", "value", "thing_id", "well_code")  # fmt: skip


def _datastreams(ctx: Context) -> QuerySet[Any]:
    rows: QuerySet[Any] = (
        access.latest(ctx.user)
        .annotate(well_code=F("device__well__code"), thing_id=F("device__well_id"))
        .values(*_DATASTREAM_VALUES)
    )
    return rows


#: element → (English name, Chinese name, unitOfMeasurement): one shared dict per element.
_STREAM_PARTS: dict[str, tuple[str, str, dict[str, str]]] = {
    key: (e.name_en, e.name_zh, {"name": e.unit, "symbol": e.unit, "definition": ""})
    for key, e in ELEMENTS.items()
}


def _datastream(ctx: Context, s: DatastreamRow) -> dict[str, Any]:
    code = s.well_code
    name_en, name_zh, unit = _STREAM_PARTS.get(
        s.element, (s.element, s.element, {"name": "", "symbol": "", "definition": ""})
    )
    return {
        "name": f"{code} {name_en}",
        "description": f"{code} {name_zh}",
        "unitOfMeasurement": unit,
        "observationType": OM_MEASUREMENT,
        "phenomenonTime": f"{iso(s.first_observed_at)}/{iso(s.observed_at)}",
        "properties": {"element": s.element, "device_id": s.device_id},
    }


def _series_rows(ctx: Context, s: DatastreamRow) -> QuerySet[Any]:
    """A Datastream's observations. ``s`` is one the caller may see, so its readings are
    too: no scope filter (a join per reading) is needed."""
    rows: QuerySet[Any] = (
        Reading.objects.filter(device_id=s.device_id, element=s.element)
        .exclude(flags__in=_REJECTED_FLAGS)
        .values(*_OBSERVATION_FIELDS)
    )
    return rows


def latest_observation(s: DatastreamRow) -> dict[str, Any]:
    """The newest Observation of a Datastream, from its LatestReading row (no readings read)."""
    when = iso(s.observed_at)
    return {"id": s.reading_id, "phenomenonTime": when, "resultTime": when, "result": s.value}


class IsoUtc(Func):
    """An instant as :func:`iso` writes it (``2026-01-01T08:00:00Z``, ``…:00.250000Z`` with
    microseconds), written by the database: no datetime object is made per row, which the
    drivers build slowly (psycopg's loader, Django's SQLite converter). SQLite keeps an aware
    time as ``str()`` of its naive UTC value (telemetry.store writes the same text), so the
    ISO form is that text with a ``T``; PostgreSQL formats it in UTC, with ``.US`` only when
    there are microseconds (as ``datetime.isoformat``)."""

    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        template = "(replace(%(expressions)s, ' ', 'T') || 'Z')"
        return self.as_sql(compiler, connection, template=template)

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        utc = f"({sql} AT TIME ZONE 'UTC')"
        text = (
            f"(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
            f"date_trunc('second', {sql}) = {sql} THEN '' ELSE to_char({utc}, '.US') END || 'Z')"
        )
        return text, (*params, *params, *params, *params)


#: Datastreams links in the order :attr:`EntitySet.links` lists them (set below).
_DATASTREAM_LINKS: tuple[str, ...] = ()

#: The fields of one Datastream row in :func:`datastream_page` (``first`` and ``last`` are the
#: ISO texts of its time span).
_PAGE_FIELDS = ("pk", "device_id", "element", "first", "last", "reading_id", "value", "well_code")


def datastream_page(rows: QuerySet[Any]) -> list[tuple[Any, ...]] | None:
    """The rows of a page of Datastreams (``rows`` ordered and sliced as the page) as plain
    tuples for :func:`datastream_values`: one query, the times formatted by the database.
    None where the database cannot format them (then each row is rendered as usual)."""
    db = connections[rows.db]
    if db.vendor not in ("sqlite", "postgresql"):
        return None
    plain = rows.annotate(first=IsoUtc("first_observed_at"), last=IsoUtc("observed_at"))
    try:
        query = plain.values_list(*_PAGE_FIELDS).query
        sql, params = query.get_compiler(using=rows.db).as_sql()
    except EmptyResultSet:  # a caller who may see no well
        return []
    # the queryset's own SQL, its rows as the driver gives them: no field converters apply to
    # these columns (integers, text, a float), so Django's iterator would only add a loop
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        fetched: list[tuple[Any, ...]] = cursor.fetchall()
    return fetched


def datastream_values(
    ctx: Context, page: list[tuple[Any, ...]], latest: bool
) -> list[dict[str, Any]]:
    """Datastreams as :func:`~aquifer.opendata.sta.views._entity` writes them (no ``$select``;
    with ``latest``, ``$expand=Observations($top=1;$orderby=phenomenonTime desc)``), key for
    key, each one dict literal: the links from prefixes made once per page, no row objects, no
    per-row calls. A page of 3,000 with their newest observation is the common request
    (bench/sensorthings.py); tests/opendata/test_sensorthings.py holds it equal, byte for
    byte, to the entity-by-entity answer."""
    ds_prefix = ctx.base + "Datastreams("
    obs_prefix = ctx.base + "Observations("
    (k1, s1), (k2, s2), (k3, s3), (k4, s4) = [
        (n + "@iot.navigationLink", "/" + n) for n in _DATASTREAM_LINKS
    ]
    parts = _STREAM_PARTS
    out: list[dict[str, Any]] = []
    append = out.append
    for pk, device_id, element, first, last, reading_id, value, code in page:
        part = parts.get(element)
        if part is None:
            part = (element, element, {"name": "", "symbol": "", "definition": ""})
        link = f"{ds_prefix}{pk})"
        entity: dict[str, Any] = {
            "@iot.id": pk,
            "@iot.selfLink": link,
            "name": f"{code} {part[0]}",
            "description": f"{code} {part[1]}",
            "unitOfMeasurement": part[2],
            "observationType": OM_MEASUREMENT,
            "phenomenonTime": f"{first}/{last}",
            "properties": {"element": element, "device_id": device_id},
            k1: link + s1,
            k2: link + s2,
            k3: link + s3,
            k4: link + s4,
        }
        if latest:
            entity["Observations"] = [
                {
                    "@iot.id": reading_id,
                    "@iot.selfLink": f"{obs_prefix}{reading_id})",
                    "phenomenonTime": last,
                    "resultTime": last,
                    "result": value,
                }
            ]
        append(entity)
    return out


# Observations: the readings store ----------------------------------------------------------

#: Every flags value with the REJECTED bit (flags are 4 bits): rejected readings are kept in
#: the store but are no observation, as in the charts and the LatestReading table.
_REJECTED_FLAGS = [f for f in range(16) if f & int(ReadingFlag.REJECTED)]


_OBSERVATION_FIELDS = ("pk", "observed_at", "value", "device_id", "element")


class ObservationRow:
    """One reading as an Observation needs it (fetched with ``values()``)."""

    __slots__ = ("device_id", "element", "observed_at", "pk", "value")

    def __init__(self, row: dict[str, Any]) -> None:
        self.pk = row["pk"]
        self.observed_at = row["observed_at"]
        self.value = row["value"]
        self.device_id = row["device_id"]
        self.element = row["element"]


def _observations(ctx: Context) -> QuerySet[Any]:
    rows: QuerySet[Any] = (
        access.readings(ctx.user).exclude(flags__in=_REJECTED_FLAGS).values(*_OBSERVATION_FIELDS)
    )
    return rows


def _observation(ctx: Context, r: Any) -> dict[str, Any]:
    when = iso(r.observed_at)
    return {"phenomenonTime": when, "resultTime": when, "result": r.value}


def _series_of(ctx: Context, r: Any) -> Any:
    row = _datastreams(ctx).filter(device_id=r.device_id, element=r.element).first()
    return None if row is None else DatastreamRow(row)


def _one(rows: Iterable[Any]) -> Any:
    return next(iter(rows), None)


ENTITY_SETS: dict[str, EntitySet] = {
    s.name: s
    for s in (
        EntitySet(
            "Things",
            _wells,
            _thing,
            {"id": "pk", "name": "code", "description": "name",
             "properties/code": "code", "properties/township": "township__name"},
            {
                "Locations": Nav("Locations", True, _same_well),
                "Datastreams": Nav("Datastreams", True,
                                   lambda ctx, w: _datastreams(ctx).filter(device__well=w)),
            },
        ),
        EntitySet(
            "Locations",
            _wells,
            _location,
            {"id": "pk", "name": "code", "description": "name"},
            {"Things": Nav("Things", True, _same_well)},
        ),
        EntitySet(
            "Sensors",
            _devices,
            _sensor,
            {"id": "pk", "properties/kind": "kind", "properties/protocol": "protocol"},
            {"Datastreams": Nav("Datastreams", True,
                                lambda ctx, d: _datastreams(ctx).filter(device=d))},
        ),
        EntitySet(
            "ObservedProperties",
            _elements,
            _observed_property,
            {"id": "key", "name": "name_en", "description": "name_zh", "definition": "key"},
            {"Datastreams": Nav("Datastreams", True,
                                lambda ctx, e: _datastreams(ctx).filter(element=e.key))},
            string_ids=True,
        ),
        EntitySet(
            "Datastreams",
            _datastreams,
            _datastream,
            {"id": "pk", "Thing/id": "device__well_id", "Sensor/id": "device_id",
             "ObservedProperty/id": "element", "properties/element": "element"},
            {
                "Thing": Nav("Things", False,
                             lambda ctx, s: _one(_wells(ctx).filter(pk=s.thing_id))),
                "Sensor": Nav("Sensors", False,
                              lambda ctx, s: _one(_devices(ctx).filter(pk=s.device_id))),
                "ObservedProperty": Nav("ObservedProperties", False,
                                        lambda ctx, s: ELEMENTS.get(s.element)),
                "Observations": Nav("Observations", True, _series_rows),
            },
            wrap=DatastreamRow,
        ),
        EntitySet(
            "Observations",
            _observations,
            _observation,
            {"id": "pk", "phenomenonTime": "observed_at", "resultTime": "observed_at",
             "result": "value"},
            {"Datastream": Nav("Datastreams", False, _series_of)},
            wrap=ObservationRow,
        ),
    )
}  # fmt: skip
_DATASTREAM_LINKS = tuple(ENTITY_SETS["Datastreams"].links)
assert len(_DATASTREAM_LINKS) == 4, "datastream_values writes four navigation links"
