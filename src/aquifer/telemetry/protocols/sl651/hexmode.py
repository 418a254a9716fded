"""SL651 HEX/BCD mode: the ``7E 7E`` header, and the body's element groups.

Body (STD Tables 24/25): serial number, send time ``YYMMDDHHmmSS``, then element groups:
``F1F1`` + station address (+ station type in data reports), ``F0F0`` + observation time,
and "identifier + data" pairs whose data-definition byte gives length (high 5 bits) and
decimals (low 3 bits). Values are BCD with the decimal point dropped; a leading ``FF`` byte
(or ``F`` digits) marks a negative value (STD 6.6.3.3); all-``FF`` or all-``AA`` means no data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any, TypeAlias

from ..common import BCD, CHINA_TZ, Element, FrameError, Value, parse_time
from ..crc import crc16_modbus
from .answers import ANSWER_FUNCTIONS, read_answer
from .elements import (
    CONFIG_ITEMS,
    ELEMENTS,
    EXTENSIONS,
    STATION_TYPES,
    ElementDef,
    status_bits,
)
from .frame import (
    _CONFIG_FUNCTIONS,
    _END_NAMES,
    _HEX2,
    _QUERY_LISTS,
    _SCALE,
    _SERIES_FUNCTIONS,
    _STRICT_FUNCTIONS,
    _UNKNOWN,
    DATA_FUNCTIONS,
    STX,
    SYN,
    SL651Frame,
    _Body,
    _frame,
    _parse_or_keep,
    _short_body,
)

__all__ = ["parse_body"]


def _decode_hex(
    data: bytes, verify: bool, tz: tzinfo | None, extensions: Mapping[int, ElementDef]
) -> SL651Frame:
    n = len(data)
    up, length = _hex_length(data, n)
    start = data[13]
    bs = 14
    total = seq = None
    if start == SYN:
        bs, total, seq = _hex_packet(data, length)
    elif start != STX:
        raise FrameError(13, f"start character {start:02X} is neither STX (02) nor SYN (16)")
    be = n - 3
    end = data[be]
    if end not in _END_NAMES:
        raise FrameError(be, f"end character {end:02X} is none of 03 17 05 04 06 15 1B")
    got = data[n - 2] << 8 | data[n - 1]
    calc = crc16_modbus(data[: n - 2])
    if got != calc and verify:
        raise FrameError(n - 2, f"CRC mismatch: frame carries {got:04X}, computed {calc:04X}")
    if up:
        center = data[2]
        station = data[3:8].hex().upper()
    else:
        station = data[2:7].hex().upper()
        center = data[7]
    function = data[10]
    b = _Body()
    if seq is not None and seq > 1 and up:
        b.params = data[bs:be]  # continuation of a multi-packet message
    else:
        _parse_hex_body(data, bs, be, function, up, tz, extensions, b, truncated=seq is not None)
    return _frame(
        "HEX", data, function, station, up, b, got, calc, n, center,
        data[8] << 8 | data[9], length, start, end, total, seq, bs, be,
    )  # fmt: skip


def _hex_length(data: bytes, n: int) -> tuple[bool, int]:
    """Direction (up?) and body length from the header, checked against the frame's size."""
    if n < 13:
        raise FrameError(n - 1, f"frame cut short: {n} bytes, the header alone has 14")
    dirn = data[11] >> 4
    if dirn == 0:
        up = True
    elif dirn == 8:
        up = False
    else:
        raise FrameError(11, f"direction nibble {dirn:X} is neither 0 (up) nor 8 (down)")
    length = ((data[11] & 0x0F) << 8) | data[12]
    if n != 17 + length:
        raise FrameError(
            11, f"length field says {length} body bytes, a {17 + length}-byte frame; got {n}"
        )
    return up, length


def _hex_packet(data: bytes, length: int) -> tuple[int, int, int]:
    """An M3 packet's field after SYN: where the body starts, packet total and sequence."""
    if length < 3:
        raise FrameError(11, f"multi-packet frame with body length {length} < 3")
    p = data[14] << 16 | data[15] << 8 | data[16]
    total, seq = p >> 12, p & 0xFFF
    if not 1 <= seq <= total:
        raise FrameError(14, f"packet {seq} of {total}: sequence must be 1…total")
    return 17, total, seq


def parse_body(
    function: int,
    body: bytes,
    *,
    direction: str = "up",
    tz: tzinfo | None = CHINA_TZ,
    extensions: Mapping[int, ElementDef] = EXTENSIONS,
) -> dict[str, Any]:
    """Decode a HEX-mode body on its own (e.g. a reassembled M3 message).

    Returns a dict with ``serial``, ``send_time``, ``station``, ``station_type``,
    ``observation_time``, ``elements`` and ``params``. Error offsets count from the body's
    first byte.
    """
    b = _Body()
    _parse_hex_body(body, 0, len(body), function, direction == "up", tz, extensions, b)
    return {
        "serial": b.serial,
        "send_time": b.send_time,
        "station": b.station,
        "station_type": b.stype,
        "observation_time": b.obs,
        "elements": b.elements,
        "params": b.params,
    }


#: BCD times already read: (bytes, zone) → datetime. Reports of many stations carry the same
#: few times (every 5 minutes, on the hour); one shared object also pickles once per batch.
_TIMES: dict[tuple[bytes, tzinfo | None], datetime] = {}


def _read_time(buf: bytes, pos: int, count: int, tz: tzinfo | None, what: str) -> datetime:
    """:func:`parse_time` (offset 0), remembering the times it has read."""
    key = (bytes(buf[pos : pos + count]), tz)  # (a bytearray slice is no dict key)
    when = _TIMES.get(key)
    if when is None:
        when = parse_time(buf, pos, count, tz, 0, what)  # raises for what is no time
        if len(_TIMES) >= 4096:
            _TIMES.clear()
        _TIMES[key] = when
    return when


def _parse_hex_body(
    buf: bytes,
    pos: int,
    end: int,
    function: int,
    up: bool,
    tz: tzinfo | None,
    extensions: Mapping[int, ElementDef],
    b: _Body,
    truncated: bool = False,
) -> None:
    if end - pos < 8:
        _short_body(pos, end, function, up, "bytes", 8)
        return
    b.serial = buf[pos] << 8 | buf[pos + 1]
    b.send_time = _read_time(buf, pos + 2, 6, tz, "send time")
    pos += 8
    if pos >= end:
        return
    if not up and _parse_query(buf, pos, end, function, tz, extensions, b):
        return
    if up and function in ANSWER_FUNCTIONS:
        _parse_or_keep(_parse_answer, buf, pos, end, function, tz, extensions, b, truncated)
    elif up and function in _STRICT_FUNCTIONS and not truncated:
        _parse_groups(buf, pos, end, function, tz, extensions, b, function in _CONFIG_FUNCTIONS)
    else:
        _parse_or_keep(_parse_groups, buf, pos, end, function, tz, extensions, b, truncated)


def _parse_answer(
    buf: bytes,
    pos: int,
    end: int,
    function: int,
    tz: tzinfo | None,
    extensions: Mapping[int, ElementDef],
    b: _Body,
    config: bool,
) -> None:
    """A station's answer with a fixed layout (45H, 4CH–4FH, 50H; :mod:`.answers`): the
    ``F1F1`` address group, the answer, and (4EH) element groups after it."""
    if buf[pos : pos + 2] != b"\xf1\xf1":
        raise FrameError(pos, "answer without station address group (F1F1)")
    pos, obs, station = _station_group(buf, pos, end, function, tz, b, b.obs, b.station, _no)
    element, pos = read_answer(function, buf, pos, end, obs, station)
    b.elements.append(element)
    if pos < end:
        _parse_groups(buf, pos, end, function, tz, extensions, b, False)


def _no(element: Element) -> None:  # pragma: no cover - the address group appends nothing
    pass


def _parse_query(
    buf: bytes,
    pos: int,
    end: int,
    function: int,
    tz: tzinfo | None,
    extensions: Mapping[int, ElementDef],
    b: _Body,
) -> bool:
    """A down query's body after the send time (38H time range, identifier lists); ``False``
    if the function is no such query."""
    if function == 0x38 and end - pos >= 8:
        b.qstart = parse_time(buf, pos, 4, tz, 0, "query start")
        b.qend = parse_time(buf, pos + 4, 4, tz, 0, "query end")
        pos += 8
        if pos + 5 <= end and buf[pos] == 0x04:
            _parse_groups(buf, pos, pos + 5, function, tz, extensions, b, False)
            pos += 5
        _parse_list(buf, pos, end, b, False)
        return True
    if function in _QUERY_LISTS:
        _parse_list(buf, pos, end, b, function in _CONFIG_FUNCTIONS)
        return True
    return False


def _parse_list(buf: bytes, pos: int, end: int, b: _Body, config: bool) -> None:
    """Identifiers without data (down queries: 3AH, 41H, 43H, the tail of 38H)."""
    table = CONFIG_ITEMS if config else ELEMENTS
    while pos < end:
        if pos + 2 > end:
            raise FrameError(pos, "identifier cut short")
        code = buf[pos]
        ddef = buf[pos + 1]
        step = 2
        if code == 0xFF:
            if pos + 3 > end:
                raise FrameError(pos, "extension identifier cut short")
            code = 0xFF00 | ddef
            ddef = buf[pos + 2]
            step = 3
        d = table.get(code) or EXTENSIONS.get(code)
        hexcode = _HEX2[code] if code < 0x100 else f"{code:04X}"
        if d is None:
            b.elements.append(Element(hexcode, *_UNKNOWN, "", None, ddef & 7))
        else:
            b.elements.append(
                Element(hexcode, d.name, d.name_en, d.unit, None, ddef & 7, b"", d.symbol)
            )
        pos += step


#: An identifier no table names: decoded as a BCD number, named "unknown element".
_UNKNOWN_DEF = ElementDef(0, "", _UNKNOWN[0], _UNKNOWN[1], "", 0, 0)
#: The identifier tables of element groups, by ``config``: elements, configuration items.
_GROUP_TABLES: tuple[Mapping[int, ElementDef], Mapping[int, ElementDef]] = (ELEMENTS, CONFIG_ITEMS)


def _parse_groups(
    buf: bytes,
    pos: int,
    end: int,
    function: int,
    tz: tzinfo | None,
    extensions: Mapping[int, ElementDef],
    b: _Body,
    config: bool,
) -> None:
    """Element groups from ``pos`` to ``end``: the hot loop reads BCD numbers itself and hands
    the ``Fx Fx`` groups and the other value kinds to the functions of their tables."""
    table = _GROUP_TABLES[config]
    append = b.elements.append
    obs = b.obs
    station = b.station
    hex2 = _HEX2
    scale = _SCALE
    markers = _MARKER_GROUPS
    while pos + 2 <= end:
        code = buf[pos]
        ddef = buf[pos + 1]
        if 0xF0 <= code <= 0xF3 and code == ddef:
            pos, obs, station = markers[code](buf, pos, end, function, tz, b, obs, station, append)
            continue
        if code == 0x04 and function in _SERIES_FUNCTIONS:
            pos = _series(buf, pos, end, table, extensions, obs, station, append)
            continue
        if code == 0xFF:
            code, ddef, vs, hexcode = _extension(buf, pos, end)
            d = extensions.get(code, _UNKNOWN_DEF)
        else:
            vs = pos + 2
            d = table.get(code, _UNKNOWN_DEF)
            hexcode = hex2[code]
        ve = vs + (ddef >> 3)
        if ve > end:
            raise _cut_short(pos, end, vs, hexcode, ddef)
        raw = buf[vs:ve]
        dec = ddef & 7
        if d.kind == "bcd":
            digits = raw.hex()
            if digits.isdigit():
                value: Value = int(digits) / scale[dec] if dec else int(digits)
            else:
                value = _odd_bcd(digits, dec)
            append(
                Element(hexcode, d.name, d.name_en, d.unit, value, dec, raw, d.symbol, obs, station)
            )
        else:
            append(_coded(hexcode, d, raw, dec, obs, station))
        pos = ve
    if pos < end:
        raise FrameError(pos, f"identifier {buf[pos]:02X} cut short: body ends")


def _series(
    buf: bytes,
    pos: int,
    end: int,
    table: Mapping[int, ElementDef],
    extensions: Mapping[int, ElementDef],
    obs: datetime | None,
    station: str | None,
    append: Callable[[Element], None],
) -> int:
    """Uniform-period data (31H report, 38H answer; STD 6.6.4.3): the time-step group ``04 18``
    + day/hour/minute, one identifier, then its values one after another at that step, up to
    the next ``F0F0``/``F1F1`` group or the end of the body. One :class:`Element` with the list
    of values and ``step`` in minutes; the step group is kept as its own element too."""
    ddef = buf[pos + 1]
    ve = pos + 2 + (ddef >> 3)
    if ve > end:
        raise _cut_short(pos, end, pos + 2, "04", ddef)
    step = _coded("04", ELEMENTS[0x04], buf[pos + 2 : ve], ddef & 7, obs, station)
    append(step)
    pos = ve
    if pos + 2 > end or _is_marker(buf, pos):
        return pos
    start = pos
    code = buf[pos]
    if code == 0xFF:
        code, ddef, vs, hexcode = _extension(buf, pos, end)
        d = extensions.get(code, _UNKNOWN_DEF)
    else:
        ddef = buf[pos + 1]
        vs = pos + 2
        d = table.get(code, _UNKNOWN_DEF)
        hexcode = _HEX2[code]
        if d.kind != "bcd":  # a 12-value array (F4H, F5H…) is a series of its own
            return start
    size = ddef >> 3
    if size == 0:
        raise FrameError(start, f"series of {hexcode}: data definition {ddef:02X} has no length")
    dec = ddef & 7
    values: list[int | float | None] = []
    pos = vs
    while pos < end and not _is_marker(buf, pos):
        if pos + size > end:
            raise _cut_short(start, end, pos, hexcode, ddef)
        digits = buf[pos : pos + size].hex()
        if digits.isdigit():
            values.append(int(digits) / _SCALE[dec] if dec else int(digits))
        else:
            v = _odd_bcd(digits, dec)
            values.append(v)
        pos += size
    minutes = step.value if isinstance(step.value, int) else None
    append(
        Element(
            hexcode, d.name, d.name_en, d.unit, values, dec, bytes(buf[vs:pos]), d.symbol, obs,
            station, None, minutes,
        )
    )  # fmt: skip
    return pos


def _is_marker(buf: bytes, pos: int) -> bool:
    """An ``F0F0`` or ``F1F1`` group starts at ``pos``."""
    return pos + 1 < len(buf) and buf[pos] in (0xF0, 0xF1) and buf[pos + 1] == buf[pos]


def _extension(buf: bytes, pos: int, end: int) -> tuple[int, int, int, str]:
    """An extension identifier ``FF xx``: its code ``FFxx``, data definition, data start, name."""
    if pos + 3 > end:
        raise FrameError(pos, "extension identifier (FF xx) cut short")
    code = 0xFF00 | buf[pos + 1]
    return code, buf[pos + 2], pos + 3, f"{code:04X}"


def _cut_short(pos: int, end: int, vs: int, hexcode: str, ddef: int) -> FrameError:
    return FrameError(
        pos,
        f"identifier {hexcode} (data definition {ddef:02X}) needs {ddef >> 3} bytes, "
        f"{end - vs} left",
    )


def _odd_bcd(digits: str, dec: int) -> int | float | None:
    """Values that are not plain BCD: negatives (leading F digits), or no data (None)."""
    if digits and digits[0] == "f":
        rest = digits.lstrip("f")
        if rest and rest.isdigit():
            number = -int(rest)
            return number / _SCALE[dec] if dec else number
    return None


# The value kinds other than BCD numbers: raw data → (value, status bits or None).


def _hex_value(raw: bytes) -> tuple[Value, Mapping[str, bool] | None]:
    return raw.hex().upper(), None


def _status_value(raw: bytes) -> tuple[Value, Mapping[str, bool] | None]:
    word = int.from_bytes(raw, "big")
    return word, status_bits(word)


def _rain_value(raw: bytes) -> tuple[Value, Mapping[str, bool] | None]:
    return [None if x == 0xFF else x / 10 for x in raw], None


def _level_value(raw: bytes) -> tuple[Value, Mapping[str, bool] | None]:
    values: list[float | None] = [
        None if (w := raw[i] << 8 | raw[i + 1]) == 0xFFFF else w for i in range(0, len(raw) - 1, 2)
    ]
    return values, None


def _step_value(raw: bytes) -> tuple[Value, Mapping[str, bool] | None]:
    """Time step: day, hour, minute in BCD → minutes."""
    dhm = [BCD[x] for x in raw]
    minutes = dhm[0] * 1440 + dhm[1] * 60 + dhm[2] if len(dhm) == 3 and -1 not in dhm else None
    return minutes, None


_KIND_VALUES: dict[str, Callable[[bytes], tuple[Value, Mapping[str, bool] | None]]] = {
    "hex": _hex_value,
    "status": _status_value,
    "rain5": _rain_value,
    "level5": _level_value,
    "timestep": _step_value,
}


def _coded(
    hexcode: str, d: ElementDef, raw: bytes, dec: int, obs: datetime | None, station: str | None
) -> Element:
    """An element of a kind other than BCD number (status word, hex, 5-minute series, step)."""
    kind = d.kind
    value, bits = _KIND_VALUES.get(kind, _step_value)(raw)
    unit = "mm" if kind == "rain5" else d.unit
    return Element(hexcode, d.name, d.name_en, unit, value, dec, raw, d.symbol, obs, station, bits)


# The ``Fx Fx`` groups: (buf, pos, end, function, tz, body, running observation time, running
# station, append) → (next position, observation time, station) after the group.

_Marker: TypeAlias = Callable[
    [
        bytes,
        int,
        int,
        int,
        tzinfo | None,
        _Body,
        datetime | None,
        str | None,
        Callable[[Element], None],
    ],
    tuple[int, datetime | None, str | None],
]


def _observation_group(
    buf: bytes, pos: int, end: int, function: int, tz: tzinfo | None, b: _Body,
    obs: datetime | None, station: str | None, append: Callable[[Element], None],
) -> tuple[int, datetime | None, str | None]:  # fmt: skip
    """``F0F0`` + observation time (5 BCD bytes): the time of the groups that follow."""
    if pos + 7 > end:
        raise FrameError(pos, "observation time (F0F0) cut short")
    obs = _read_time(buf, pos + 2, 5, tz, "observation time (F0F0)")
    if b.obs is None:
        b.obs = obs
    return pos + 7, obs, station


def _station_group(
    buf: bytes, pos: int, end: int, function: int, tz: tzinfo | None, b: _Body,
    obs: datetime | None, station: str | None, append: Callable[[Element], None],
) -> tuple[int, datetime | None, str | None]:  # fmt: skip
    """``F1F1`` + station address (5 bytes), and the station type byte where one follows."""
    if pos + 7 > end:
        raise FrameError(pos, "station address (F1F1) cut short")
    station = buf[pos + 2 : pos + 7].hex().upper()
    if b.station is None:
        b.station = station
    pos += 7
    if _has_station_type(buf, pos, end, function):
        if b.stype is None:
            b.stype = buf[pos]
        pos += 1
    return pos, obs, station


def _has_station_type(buf: bytes, pos: int, end: int, function: int) -> bool:
    """A station type byte follows the address: in data reports, and where it precedes F0F0."""
    return pos < end and (
        function in DATA_FUNCTIONS
        or (pos + 3 <= end and buf[pos] in STATION_TYPES and buf[pos + 1 : pos + 3] == b"\xf0\xf0")
    )


def _manual_group(
    buf: bytes, pos: int, end: int, function: int, tz: tzinfo | None, b: _Body,
    obs: datetime | None, station: str | None, append: Callable[[Element], None],
) -> tuple[int, datetime | None, str | None]:  # fmt: skip
    """``F2F2`` + manual-set data (text): the rest of the body."""
    raw = buf[pos + 2 : end]
    text = raw.decode("ascii", "replace")
    append(Element("F2", "人工置数", "manual-set data", "", text, 0, raw, "RGZS", obs, station))
    return end, obs, station


def _picture_group(
    buf: bytes, pos: int, end: int, function: int, tz: tzinfo | None, b: _Body,
    obs: datetime | None, station: str | None, append: Callable[[Element], None],
) -> tuple[int, datetime | None, str | None]:  # fmt: skip
    """``F3F3`` + picture data: the rest of the body."""
    raw = buf[pos + 2 : end]
    append(Element("F3", "图片信息", "picture", "", None, 0, raw, "PIC", obs, station))
    return end, obs, station


_MARKER_GROUPS: dict[int, _Marker] = {
    0xF0: _observation_group,
    0xF1: _station_group,
    0xF2: _manual_group,
    0xF3: _picture_group,
}
