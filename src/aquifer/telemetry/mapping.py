"""From what a device sends to canonical readings: element keys, units, observation times.

Every protocol names its values its own way; the store only knows the keys of
:mod:`aquifer.telemetry.elements`, in their units. This module is that translation, pure (no
Django), for the gateway (SL 651, SZY 206), MQTT and HTTP:

- :func:`map_frame` turns a decoded SL651 or SZY206 frame into :class:`MappedReading` values
  and lists what it left out (elements with no canonical key, missing values);
- :func:`check_reading` validates one JSON/CSV reading (``element``, ``observed_at``,
  ``value``) and :func:`parse_readings` a JSON batch, with errors naming the row and field.

Element tables (protocol code → canonical key; the unit conversion follows from the decoded
unit and the canonical one, :func:`convert`):

======================  ======================  =========================================
SL651 identifier        canonical key           conversion
======================  ======================  =========================================
0E  groundwater depth   depth_to_water          m; 444 = dry well (E.8.2.2): no value
39  water level, 3C Z1  water_level             m
03  water temperature   water_temperature       °C
27  flow, 28 Q1         flow_rate               m³/s × 3600 → m³/h
FF2B cumulative volume  cumulative_volume       m³ (vendor extension, docs/protocols.md)
58  water pressure WP1  water_pressure          kPa ÷ 1000 → MPa
38  supply voltage      battery_voltage         V
46 pH, 47 DO, 48 COND   ph, dissolved_oxygen,   as sent; 49 turbidity in 度 taken as NTU
49 TURB, 4C NH4N        conductivity, turbidity,
                        ammonia_nitrogen
======================  ======================  =========================================

SZY206 items (by position, :mod:`.protocols.szy206`): ``water_level_1`` → water_level,
``flow_1`` → flow_rate (the decoder's flow unit, m³/h by default), ``volume_1`` →
cumulative_volume, ``water_temperature_1``, ``water_pressure_1`` (kPa → MPa) and the
water-quality items ``quality_ph``, ``quality_dissolved_oxygen``, ``quality_conductivity``,
``quality_turbidity``, ``quality_ammonia_nitrogen``, ``quality_fluoride``,
``quality_water_temperature``. Channels 2…8 (a second intake on one RTU) have no canonical key
of their own: the registry models one device per metering point (SL651 E.10.1.4 gives each
intake its own station address).

Observation times: SL651 frames carry them (each element takes the ``F0F0`` group before it;
without one, the send time). SZY206 frames carry only the time label Tp (second, minute,
hour, day of month: :func:`resolve_tp` places it in the latest month that makes it no later
than the receive time, a day's clock skew allowed); a frame without Tp is dated by its receive
time, to the minute (a resend in a later minute is then a second reading: docs/protocols.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, cast

from aquifer.telemetry.elements import ELEMENTS
from aquifer.telemetry.protocols import CHINA_TZ, Frame
from aquifer.telemetry.protocols.szy206 import SZY206Frame, Tp

__all__ = [
    "DRY_WELL_DEPTH",
    "MAX_FUTURE",
    "SL651_ELEMENTS",
    "SZY206_ELEMENTS",
    "FrameMapping",
    "MappedReading",
    "RowError",
    "check_reading",
    "check_rows",
    "convert",
    "map_frame",
    "map_values",
    "parse_readings",
    "parse_time",
    "resolve_tp",
]

#: SL651 identifier (as :attr:`Element.code` writes it) → canonical element key.
SL651_ELEMENTS: Mapping[str, str] = {
    "0E": "depth_to_water",
    "39": "water_level",
    "3C": "water_level",
    "03": "water_temperature",
    "27": "flow_rate",
    "28": "flow_rate",
    "FF2B": "cumulative_volume",
    "58": "water_pressure",
    "38": "battery_voltage",
    "46": "ph",
    "47": "dissolved_oxygen",
    "48": "conductivity",
    "49": "turbidity",
    "4C": "ammonia_nitrogen",
}

#: SZY206 item code → canonical element key.
SZY206_ELEMENTS: Mapping[str, str] = {
    "water_level_1": "water_level",
    "flow_1": "flow_rate",
    "volume_1": "cumulative_volume",
    "water_temperature_1": "water_temperature",
    "water_pressure_1": "water_pressure",
    "quality_water_temperature": "water_temperature",
    "quality_ph": "ph",
    "quality_dissolved_oxygen": "dissolved_oxygen",
    "quality_conductivity": "conductivity",
    "quality_turbidity": "turbidity",
    "quality_ammonia_nitrogen": "ammonia_nitrogen",
    "quality_fluoride": "fluoride",
}

#: SL651 groundwater depth 444 m means "dry well" (STD E.8.2.2), not a measurement.
DRY_WELL_DEPTH = 444.0

#: How far in the future (device clock ahead of ours) a JSON/CSV reading may lie.
MAX_FUTURE = timedelta(days=1)
#: A reading observed before this year is refused (a clock that was never set).
EARLIEST_YEAR = 1900

# (decoded unit, canonical unit) → factor. Same unit (or none) is 1.
_FACTORS: Mapping[tuple[str, str], float] = {
    ("m³/s", "m³/h"): 3600.0,
    ("m3/s", "m³/h"): 3600.0,
    ("m³/h", "m³/h"): 1.0,
    ("m3/h", "m³/h"): 1.0,
    ("kPa", "MPa"): 0.001,
    ("度", "NTU"): 1.0,  # turbidity degrees (JTU) read as NTU: close, not equal
}


def convert(value: float, unit: str, canonical: str) -> float | None:
    """``value`` in ``unit`` expressed in the ``canonical`` unit; ``None`` if no rule."""
    if unit == canonical or not unit:
        return float(value)
    factor = _FACTORS.get((unit, canonical))
    return None if factor is None else float(value) * factor


@dataclass(frozen=True, slots=True)
class MappedReading:
    """One value in canonical form: element key, aware observation time, canonical unit."""

    element: str
    observed_at: datetime
    value: float


@dataclass(slots=True)
class FrameMapping:
    """What :func:`map_frame` found: the readings, and the elements it left out and why."""

    readings: list[MappedReading] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: The status and alarm bits the frame reported (SL651 45H, SZY206 alarm and status
    #: words), by the decoders' names; empty when it carried none. Not readings: the gateway
    #: hands them to monitoring (``monitoring.sweeps.report_status``).
    status: dict[str, bool] = field(default_factory=dict)


def map_frame(frame: Frame, *, received_at: datetime, tz: tzinfo = CHINA_TZ) -> FrameMapping:
    """The canonical readings of a decoded up frame (SL651 or SZY206).

    ``received_at`` (aware) dates SZY206 frames (see :func:`resolve_tp`). A value the device
    marked missing, an element without a canonical key and a unit without a conversion rule
    are listed in :attr:`FrameMapping.skipped` (``"<code>: <why>"``). One reading per
    (element, observation time): the first wins, as in the store.
    """
    values, skipped, status = map_values(frame, received_at=received_at, tz=tz)
    return FrameMapping([MappedReading(*v) for v in values], skipped, status)


#: A canonical reading as a plain tuple: (element key, aware observation time, value).
Value = tuple[str, datetime, float]
#: code → (decoded unit, canonical key or None, canonical unit, factor or None), per table.
_Rule = tuple[str, str | None, str, float | None]
_RULES: dict[bool, dict[str, _Rule]] = {False: {}, True: {}}
_NOT_READINGS = frozenset({"alarm", "status", "work_mode", "link"})


def _rule(szy206: bool, code: str, unit: str) -> _Rule:
    """How ``code`` in ``unit`` maps (what :func:`convert` would do, worked out once)."""
    key = (SZY206_ELEMENTS if szy206 else SL651_ELEMENTS).get(code)
    if key is None:
        return (unit, None, "", None)
    canonical = ELEMENTS[key].unit
    factor = 1.0 if unit == canonical or not unit else _FACTORS.get((unit, canonical))
    rule = (unit, key, canonical, factor)
    rules = _RULES[szy206]
    if len(rules) < 1024:
        rules[code] = rule
    return rule


def map_values(
    frame: Frame, *, received_at: datetime, tz: tzinfo = CHINA_TZ
) -> tuple[list[Value], list[str], dict[str, bool]]:
    """:func:`map_frame` as plain data: the readings as ``(element, observed_at, value)``
    tuples, the skipped elements (``"<code>: <why>"``) and the status bits (the gateway's
    hot path: no object per reading that it would throw away)."""
    values: list[Value] = []
    skipped: list[str] = []
    status: dict[str, bool] = {}
    szy = isinstance(frame, SZY206Frame)
    if szy:
        assert isinstance(frame, SZY206Frame)
        when: datetime | None = resolve_tp(frame.tp, received_at, tz) if frame.tp else None
        if when is None:
            when = received_at.astimezone(tz).replace(second=0, microsecond=0)
        default_time: datetime | None = when
    else:
        default_time = frame.observation_time or frame.send_time
    rules = _RULES[szy]
    isfinite = math.isfinite
    seen: set[tuple[str, datetime]] = set()
    last_time: datetime | None = None  # the last observation time seen, and as used
    last_aware: datetime | None = None
    for el in frame.elements:
        if el.bits:
            for name, on in el.bits.items():
                status[name] = status.get(name, False) or bool(on)
        code = el.code
        unit = el.unit
        rule = rules.get(code)
        if rule is None or rule[0] != unit:
            rule = _rule(szy, code, unit)
        key = rule[1]
        value = el.value
        if key is None:
            if value is not None and code not in _NOT_READINGS:
                skipped.append(f"{code}: no canonical element")
            continue
        if value is None:
            skipped.append(f"{code}: no value (device marked it missing)")
            continue
        kind = type(value)
        if kind is list and el.step:
            _series_values(el, key, rule, default_time, tz, seen, values, skipped)
            continue
        if (kind is not float and kind is not int) and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            skipped.append(f"{code}: not a number ({value!r})")
            continue
        if key == "depth_to_water" and value == DRY_WELL_DEPTH:
            skipped.append(f"{code}: dry well (444)")
            continue
        factor = rule[3]
        converted = None if factor is None else float(cast(float, value)) * factor
        if converted is None or not isfinite(converted):
            skipped.append(f"{code}: no conversion from {unit!r} to {rule[2]!r}")
            continue
        observed = el.observed_at or default_time
        if observed is None:
            skipped.append(f"{code}: the frame carries no time")
            continue
        if observed is last_time:
            observed = last_aware
        else:
            last_time = observed
            if observed.utcoffset() is None:
                observed = observed.replace(tzinfo=tz)
            last_aware = observed
        assert observed is not None
        pair = (key, observed)
        if pair in seen:
            continue
        seen.add(pair)
        values.append((key, observed, converted))
    return values, skipped, status


def _series_values(
    el: Any,
    key: str,
    rule: _Rule,
    default_time: datetime | None,
    tz: tzinfo,
    seen: set[tuple[str, datetime]],
    values: list[Value],
    skipped: list[str],
) -> None:
    """A uniform-period series (SL651 31H/38H): value i observed ``i × step`` minutes after
    the series' observation time; missing values are skipped one by one."""
    start = el.observed_at or default_time
    factor = rule[3]
    if start is None or factor is None:
        skipped.append(f"{el.code}: series without time or conversion")
        return
    if start.utcoffset() is None:
        start = start.replace(tzinfo=tz)
    for i, v in enumerate(el.value):
        if v is None or (key == "depth_to_water" and v == DRY_WELL_DEPTH):
            skipped.append(f"{el.code}[{i}]: no value")
            continue
        observed = start + timedelta(minutes=el.step * i)
        if (key, observed) in seen:
            continue
        seen.add((key, observed))
        values.append((key, observed, float(v) * factor))


def resolve_tp(tp: Tp, received_at: datetime, tz: tzinfo = CHINA_TZ) -> datetime | None:
    """The full time of a SZY206 time label (second, minute, hour, day of month).

    The latest date with that day-of-month and clock time that is not more than one day
    after ``received_at`` (a device clock may run a little ahead); ``None`` when the label is
    not a valid time (non-BCD fields, hour 24…).
    """
    if not (0 <= tp.second < 60 and 0 <= tp.minute < 60 and 0 <= tp.hour < 24):
        return None
    if not 1 <= tp.day <= 31:
        return None
    local = received_at.astimezone(tz)
    limit = local + timedelta(days=1)
    year, month = limit.year, limit.month
    for _ in range(4):  # at most three months back (a day 31 needs a 31-day month)
        try:
            candidate = datetime(year, month, tp.day, tp.hour, tp.minute, tp.second, tzinfo=tz)
        except ValueError:
            candidate = None
        if candidate is not None and candidate <= limit:
            return candidate
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return None


# --- JSON and CSV readings (MQTT, HTTP) --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with one field of one submitted reading (``readings[3].value``)."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def parse_time(text: object, tz: tzinfo = CHINA_TZ) -> datetime:
    """An ISO 8601 date-time (``2026-11-25T10:00:00+08:00``, ``…Z``); without an offset it is
    China Standard Time, like the protocols' times. Raises ``ValueError`` with the reason."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("should be an ISO 8601 date-time string, e.g. 2026-11-25T10:00:00+08:00")
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 date-time (e.g. 2026-11-25T10:00:00+08:00)"
        ) from None
    if value.utcoffset() is None:
        value = value.replace(tzinfo=tz)
    return value


def check_reading(
    element: object,
    observed_at: object,
    value: object,
    *,
    where: str,
    now: datetime,
    numeric_text: bool = False,
) -> MappedReading | list[RowError]:
    """One submitted reading, validated: the reading, or the errors of its fields.

    ``where`` prefixes the field names (``readings[3]``). ``numeric_text`` accepts a value
    written as text (CSV); JSON values must be numbers.
    """
    errors: list[RowError] = []
    if not isinstance(element, str) or element not in ELEMENTS:
        errors.append(
            RowError(
                f"{where}.element",
                f"unknown element {element!r}; known: {', '.join(sorted(ELEMENTS))}",
            )
        )
    when: datetime | None = None
    try:
        when = parse_time(observed_at)
    except ValueError as exc:
        errors.append(RowError(f"{where}.observed_at", str(exc)))
    if when is not None and when.year < EARLIEST_YEAR:
        errors.append(
            RowError(
                f"{where}.observed_at", f"{observed_at} is before {EARLIEST_YEAR} (device clock?)"
            )
        )
        when = None
    if when is not None and when > now + MAX_FUTURE:
        errors.append(
            RowError(f"{where}.observed_at", f"{observed_at} is in the future (device clock?)")
        )
    number: float | None = None
    if numeric_text and isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            errors.append(RowError(f"{where}.value", f"{value!r} is not a number"))
    elif isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(RowError(f"{where}.value", f"{value!r} is not a number"))
    else:
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            number = math.inf
    if number is not None and not math.isfinite(number):
        errors.append(RowError(f"{where}.value", f"{value!r} is not a finite number"))
        number = None
    if errors or when is None or number is None:
        return errors
    return MappedReading(str(element), when, number)


def parse_readings(
    payload: object, *, now: datetime, limit: int = 10_000
) -> tuple[list[MappedReading], list[RowError]]:
    """A JSON batch ``{"readings": [{"element", "observed_at", "value"}, …]}``, validated.

    Returns the readings and every error found (all-or-nothing is the caller's choice).
    Other top-level keys (``token``) are the caller's.
    """
    if not isinstance(payload, dict):
        return [], [RowError("__all__", "the body should be a JSON object with 'readings'")]
    items = payload.get("readings")
    if not isinstance(items, list) or not items:
        return [], [RowError("readings", "should be a non-empty list of readings")]
    if len(items) > limit:
        return [], [RowError("readings", f"{len(items)} readings: at most {limit} per batch")]
    return check_rows(
        (
            (f"readings[{i}]", item)
            if isinstance(item, dict)
            else (f"readings[{i}]", {"__not_object__": item})
            for i, item in enumerate(items)
        ),
        now=now,
    )


def check_rows(
    rows: Iterable[tuple[str, dict[str, Any]]], *, now: datetime, numeric_text: bool = False
) -> tuple[list[MappedReading], list[RowError]]:
    """Validate ``(where, {"element", "observed_at", "value"})`` pairs (see
    :func:`check_reading`); returns the good readings and every error."""
    readings: list[MappedReading] = []
    errors: list[RowError] = []
    for where, item in rows:
        if "__not_object__" in item:
            errors.append(RowError(where, "should be an object with element, observed_at, value"))
            continue
        result = check_reading(
            item.get("element"),
            item.get("observed_at"),
            item.get("value"),
            where=where,
            now=now,
            numeric_text=numeric_text,
        )
        if isinstance(result, list):
            errors += result
        else:
            readings.append(result)
    return readings, errors
