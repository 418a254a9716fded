"""SL 651-2014 水文监测数据通信规约: decode and encode frames, HEX/BCD and ASCII.

Frame layout (STD Tables 16–23, docs/protocols.md §1.2): start ``7E 7E`` (HEX) or SOH (ASCII),
centre address, station address (down frames swap the two), password, function code,
direction nibble + body length N, STX (or SYN + packet total/sequence in multi-packet M3
messages), body, end character, CRC-16/MODBUS high byte first (ASCII: 4 hex characters).

Body (STD Tables 24/25): serial number, send time ``YYMMDDHHmmSS``, then element groups:
``F1F1`` + station address (+ station type in data reports), ``F0F0`` + observation time,
and "identifier + data" pairs whose data-definition byte gives length (high 5 bits) and
decimals (low 3 bits). Values are BCD with the decimal point dropped; a leading ``FF`` byte
(or ``F`` digits) marks a negative value (STD 6.6.3.3); all-``FF`` or all-``AA`` means no data.

Public functions
----------------
:func:`decode` (either encoding), :func:`frame_size` (stream framing), :func:`parse_body`
(a reassembled M3 body), :func:`encode_element`, :func:`encode_body`, :func:`encode_frame`,
:func:`encode_report`, :func:`encode` (a frame object back to bytes), :func:`encode_packets`
(an M3 message), :func:`acknowledge` and :func:`negative_acknowledge` (the centre's replies),
and :class:`Reassembler` for M3 messages.
"""

from __future__ import annotations

import re
import time as _time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from types import MappingProxyType
from typing import Any, TypeAlias

from .common import BCD, CHINA_TZ, Element, Frame, FrameError, Value, parse_time
from .crc import crc16_modbus
from .sl651_elements import (
    CONFIG_ITEMS,
    ELEMENTS,
    ELEMENTS_BY_SYMBOL,
    EXTENSIONS,
    FUNCTIONS,
    STATION_TYPES,
    STATUS_BITS,
    ElementDef,
    definition_byte,
)

__all__ = [
    "ACK",
    "DATA_FUNCTIONS",
    "ENQ",
    "EOT",
    "ESC",
    "ETB",
    "ETX",
    "NAK",
    "SOH",
    "STX",
    "SYN",
    "ElementInput",
    "Reassembler",
    "ReassemblyError",
    "SL651Frame",
    "acknowledge",
    "acknowledge_raw",
    "decode",
    "encode",
    "encode_body",
    "encode_element",
    "encode_frame",
    "encode_packets",
    "encode_report",
    "frame_size",
    "negative_acknowledge",
    "parse_body",
    "status_bits",
]

# Control characters (STD Table 10).
SOH = 0x01
STX = 0x02
ETX = 0x03
EOT = 0x04
ENQ = 0x05
ACK = 0x06
NAK = 0x15
SYN = 0x16
ETB = 0x17
ESC = 0x1B

_END_NAMES = {ETX: "ETX", ETB: "ETB", ENQ: "ENQ", EOT: "EOT", ACK: "ACK", NAK: "NAK", ESC: "ESC"}
_START_NAMES = {STX: "STX", SYN: "SYN"}

#: Functions whose body is a data report: the F1F1 address group is followed by the station
#: type byte (30H–3AH; STD 6.6.4).
DATA_FUNCTIONS = frozenset(range(0x30, 0x3B))
#: Functions whose identifiers are configuration items (Appendix D), not elements.
_CONFIG_FUNCTIONS = frozenset({0x40, 0x41, 0x42, 0x43, 0x49})
#: Functions whose body must parse as element groups; any other function falls back to raw
#: parameters when its body does not (event records, versions, vendor functions).
_STRICT_FUNCTIONS = frozenset(range(0x2F, 0x3B)) | frozenset({0x40, 0x41, 0x42, 0x43, 0x44, 0x46})
#: Down queries that list identifiers without data (STD 6.6.4.x).
_QUERY_LISTS = frozenset({0x3A, 0x41, 0x43})

_HEX2 = tuple(f"{i:02X}" for i in range(256))
_SCALE = (1, 10, 100, 1000, 10000, 100000, 1000000, 10000000)
_UNKNOWN = ("未定义要素", "unknown element")
_HEXDIGITS = frozenset(b"0123456789abcdefABCDEF")

#: What :func:`encode_element` and :func:`encode_body` accept for an element: an
#: :class:`Element` (e.g. from a decoded frame), or ``(code, value)`` /
#: ``(code, value, decimals)`` with the identifier as an int (``0x39``, ``0xFF2B``) or hex text.
ElementInput: TypeAlias = Element | tuple[int | str, Value] | tuple[int | str, Value, int]


@dataclass(slots=True, kw_only=True)
class SL651Frame(Frame):
    """A decoded SL651 frame (HEX or ASCII).

    Attributes (besides :class:`~.common.Frame`'s)
    ----------------------------------------------
    encoding
        ``"HEX"`` or ``"ASCII"``.
    center, password
        Centre address 0–255 and the 2-byte password.
    length
        Body length N from the length field (includes the M3 packet field).
    start, end
        Start character (STX or SYN) and end character (ETX, ETB, ENQ, EOT, ACK, NAK, ESC).
    serial
        Serial number (流水号), or ``None`` for M3 packets after the first.
    packet_total, packet_seq
        M3 packet total and sequence number; ``None`` for single-packet frames.
    station_type
        Station type code (Appendix A) from the body, e.g. 47H groundwater.
    body_station
        The address in the body's first ``F1F1`` group (normally equal to ``station``).
    body
        Body bytes after the packet field: what M3 reassembly joins.
    params
        Body bytes left undecoded (parameters of commands this codec keeps raw).
    query_start, query_end
        Start and end hour of a 38H time-range query.
    packets
        Number of packets a reassembled M3 message came from (1 otherwise).
    """

    encoding: str = "HEX"
    center: int = 0
    password: int = 0
    length: int = 0
    start: int = STX
    end: int = ETX
    serial: int | None = None
    packet_total: int | None = None
    packet_seq: int | None = None
    station_type: int | None = None
    body_station: str | None = None
    body: bytes = b""
    params: bytes = b""
    query_start: datetime | None = None
    query_end: datetime | None = None
    packets: int = 1

    @property
    def is_confirmation(self) -> bool:
        """A centre's confirmation: a down frame with only serial and send time (M2/M3)."""
        return (
            self.direction == "down"
            and self.end in (EOT, ESC, ACK, NAK)
            and not self.elements
            and not self.params
        )

    def details(self) -> dict[str, Any]:
        stype = self.station_type
        out: dict[str, Any] = {
            "encoding": self.encoding,
            "center": _HEX2[self.center],
            "password": f"{self.password:04X}",
            "password_present": self.password != 0,
            "serial": self.serial,
            "length": self.length,
            "start": _START_NAMES.get(self.start, _HEX2[self.start]),
            "end": _END_NAMES.get(self.end, _HEX2[self.end]),
            "station_type": None if stype is None else _HEX2[stype],
            "station_type_name": STATION_TYPES.get(stype, ("", "", ""))[1] if stype else None,
            "packet": (
                None
                if self.packet_total is None
                else {"total": self.packet_total, "seq": self.packet_seq}
            ),
            "is_confirmation": self.is_confirmation,
            "checksum": f"{self.checksum:04X}",
            "size": self.size,
        }
        if self.body_station is not None and self.body_station != self.station:
            out["body_station"] = self.body_station
        if self.params:
            out["params"] = self.params.hex().upper()
        if self.query_start is not None:
            out["query_start"] = self.query_start.isoformat()
        if self.query_end is not None:
            out["query_end"] = self.query_end.isoformat()
        if self.packets > 1:
            out["packets"] = self.packets
        return out


# --------------------------------------------------------------------------------------------
# Decoding


def frame_size(buf: bytes | bytearray) -> int | None:
    """Size in bytes of the frame at the start of ``buf``, or ``None`` if not yet known.

    For splitting a TCP stream: returns as soon as the length field has arrived. Raises
    :class:`FrameError` if ``buf`` does not start like an SL651 frame.
    """
    if not buf:
        return None
    if buf[0] == 0x7E:
        if len(buf) >= 2 and buf[1] != 0x7E:
            raise FrameError(1, f"not an SL651 HEX frame: starts 7E {buf[1]:02X}")
        if len(buf) < 13:
            return None
        return 17 + (((buf[11] & 0x0F) << 8) | buf[12])
    if buf[0] == SOH:
        if len(buf) < 23:
            return None
        n = _ascii_int(bytes(buf), 20, 3, "body length")
        return 29 + n
    raise FrameError(0, f"not an SL651 frame: starts with {buf[0]:02X}")


def decode(
    data: bytes,
    *,
    verify: bool = True,
    tz: tzinfo | None = CHINA_TZ,
    extensions: Mapping[int, ElementDef] = EXTENSIONS,
) -> SL651Frame:
    """Decode one SL651 frame, HEX/BCD (``7E7E``…) or ASCII (SOH…).

    Parameters
    ----------
    data
        Exactly one frame.
    verify
        Check the CRC (STD H.3.2). With ``False`` a frame with a wrong CRC is still decoded
        and reports ``checksum_ok=False``.
    tz
        Zone of the frame's times (none is sent; UTC+8 assumed). ``None`` gives naive times.
    extensions
        Names of ``FF xx`` extension identifiers (vendor-specific).

    Returns
    -------
    SL651Frame

    Raises
    ------
    FrameError
        With the byte offset and reason of the first problem found.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    if data[:2] == b"\x7e\x7e":
        return _decode_hex(data, verify, tz, extensions)
    if data[:1] == b"\x01":
        return _decode_ascii(data, verify, tz, extensions)
    if not data:
        raise FrameError(0, "empty frame")
    return _fail_start(data)


def _fail_start(data: bytes) -> SL651Frame:
    if data == b"\x7e":
        raise FrameError(0, "frame cut short: 1 byte")
    if data[0] == 0x7E:
        raise FrameError(1, f"not an SL651 HEX frame: starts 7E {data[1:2].hex().upper()}")
    raise FrameError(0, f"not an SL651 frame: starts with {data[0]:02X} (7E7E or 01 expected)")


def _frame(
    encoding: str, data: bytes, function: int, station: str, up: bool, b: _Body, got: int,
    calc: int, n: int, center: int, password: int, length: int, start: int, end: int,
    total: int | None, seq: int | None, bs: int, be: int,
) -> SL651Frame:  # fmt: skip
    """The decoded frame, for both encodings (what differs is passed in)."""
    names = FUNCTIONS.get(function) or ("未定义功能码", "undefined function")
    return SL651Frame(
        protocol="SL651-" + encoding,
        function=function,
        function_name=names[0],
        function_name_en=names[1],
        station=station,
        direction="up" if up else "down",
        send_time=b.send_time,
        observation_time=b.obs,
        elements=b.elements,
        checksum=got,
        checksum_ok=got == calc,
        size=n,
        encoding=encoding,
        center=center,
        password=password,
        length=length,
        start=start,
        end=end,
        serial=b.serial,
        packet_total=total,
        packet_seq=seq,
        station_type=b.stype,
        body_station=b.station,
        body=data[bs:be],
        params=b.params,
        query_start=b.qstart,
        query_end=b.qend,
    )


class _Body:
    """What a body parse finds (a mutable scratch record)."""

    __slots__ = (
        "elements",
        "obs",
        "params",
        "qend",
        "qstart",
        "send_time",
        "serial",
        "station",
        "stype",
    )

    def __init__(self) -> None:
        self.serial: int | None = None
        self.send_time: datetime | None = None
        self.station: str | None = None
        self.stype: int | None = None
        self.obs: datetime | None = None
        self.elements: list[Element] = []
        self.params = b""
        self.qstart: datetime | None = None
        self.qend: datetime | None = None


def _decode_hex(
    data: bytes, verify: bool, tz: tzinfo | None, extensions: Mapping[int, ElementDef]
) -> SL651Frame:
    n = len(data)
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
    start = data[13]
    bs = 14
    total = seq = None
    if start == SYN:
        if length < 3:
            raise FrameError(11, f"multi-packet frame with body length {length} < 3")
        p = data[14] << 16 | data[15] << 8 | data[16]
        total, seq = p >> 12, p & 0xFFF
        if not 1 <= seq <= total:
            raise FrameError(14, f"packet {seq} of {total}: sequence must be 1…total")
        bs = 17
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
        if up and function == 0x2F and end == pos:
            return
        raise FrameError(pos, f"body of {end - pos} bytes: serial and send time need 8")
    b.serial = buf[pos] << 8 | buf[pos + 1]
    b.send_time = _read_time(buf, pos + 2, 6, tz, "send time")
    pos += 8
    if pos >= end:
        return
    config = function in _CONFIG_FUNCTIONS
    if not up:
        if function == 0x38 and end - pos >= 8:
            b.qstart = parse_time(buf, pos, 4, tz, 0, "query start")
            b.qend = parse_time(buf, pos + 4, 4, tz, 0, "query end")
            pos += 8
            if pos + 5 <= end and buf[pos] == 0x04:
                _parse_groups(buf, pos, pos + 5, function, tz, extensions, b, False)
                pos += 5
            _parse_list(buf, pos, end, b, False)
            return
        if function in _QUERY_LISTS:
            _parse_list(buf, pos, end, b, function in _CONFIG_FUNCTIONS)
            return
    if truncated:
        # Packet 1 of an M3 message: its last group may continue in packet 2.
        try:
            _parse_groups(buf, pos, end, function, tz, extensions, b, config)
        except FrameError as exc:
            b.params = buf[exc.offset : end]
        return
    if up and function in _STRICT_FUNCTIONS:
        _parse_groups(buf, pos, end, function, tz, extensions, b, config)
        return
    mark = len(b.elements)
    try:
        _parse_groups(buf, pos, end, function, tz, extensions, b, config)
    except FrameError:
        del b.elements[mark:]
        b.params = buf[pos:end]


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
    table = CONFIG_ITEMS if config else ELEMENTS
    elements = b.elements
    append = elements.append
    obs = b.obs
    station = b.station
    hex2 = _HEX2
    scale = _SCALE
    while pos < end:
        if pos + 2 > end:
            raise FrameError(pos, f"identifier {buf[pos]:02X} cut short: body ends")
        code = buf[pos]
        ddef = buf[pos + 1]
        if code >= 0xF0 and code == ddef and code <= 0xF3:
            if code == 0xF0:
                if pos + 7 > end:
                    raise FrameError(pos, "observation time (F0F0) cut short")
                obs = _read_time(buf, pos + 2, 5, tz, "observation time (F0F0)")
                if b.obs is None:
                    b.obs = obs
                pos += 7
                continue
            if code == 0xF1:
                if pos + 7 > end:
                    raise FrameError(pos, "station address (F1F1) cut short")
                station = buf[pos + 2 : pos + 7].hex().upper()
                if b.station is None:
                    b.station = station
                pos += 7
                if pos < end and (
                    function in DATA_FUNCTIONS
                    or (
                        pos + 3 <= end
                        and buf[pos] in STATION_TYPES
                        and buf[pos + 1 : pos + 3] == b"\xf0\xf0"
                    )
                ):
                    if b.stype is None:
                        b.stype = buf[pos]
                    pos += 1
                continue
            raw = buf[pos + 2 : end]
            if code == 0xF2:
                text = raw.decode("ascii", "replace")
                append(
                    Element(
                        "F2", "人工置数", "manual-set data", "", text, 0, raw, "RGZS", obs, station
                    )
                )
            else:
                append(Element("F3", "图片信息", "picture", "", None, 0, raw, "PIC", obs, station))
            return
        if code == 0xFF:
            if pos + 3 > end:
                raise FrameError(pos, "extension identifier (FF xx) cut short")
            code = 0xFF00 | ddef
            ddef = buf[pos + 2]
            vs = pos + 3
            d = extensions.get(code)
            hexcode = f"{code:04X}"
        else:
            vs = pos + 2
            d = table.get(code)
            hexcode = hex2[code]
        size = ddef >> 3
        ve = vs + size
        if ve > end:
            raise FrameError(
                pos,
                f"identifier {hexcode} (data definition {ddef:02X}) needs {size} bytes, "
                f"{end - vs} left",
            )
        raw = buf[vs:ve]
        dec = ddef & 7
        kind = "bcd" if d is None else d.kind
        bits = None
        value: Value
        if kind == "bcd":
            digits = raw.hex()
            if digits.isdigit():
                value = int(digits) / scale[dec] if dec else int(digits)
            else:
                value = _odd_bcd(digits, dec)
        elif kind == "hex":
            value = raw.hex().upper()
        elif kind == "status":
            word = int.from_bytes(raw, "big")
            value = word
            bits = status_bits(word)
        elif kind == "rain5":
            value = [None if x == 0xFF else x / 10 for x in raw]
        elif kind == "level5":
            value = [
                None if (w := raw[i] << 8 | raw[i + 1]) == 0xFFFF else w
                for i in range(0, len(raw) - 1, 2)
            ]
        else:  # timestep: day, hour, minute in BCD
            dhm = [BCD[x] for x in raw]
            value = (
                dhm[0] * 1440 + dhm[1] * 60 + dhm[2] if len(dhm) == 3 and -1 not in dhm else None
            )
        if d is None:
            append(Element(hexcode, *_UNKNOWN, "", value, dec, raw, "", obs, station))
        else:
            unit = "mm" if kind == "rain5" else d.unit
            append(
                Element(
                    hexcode, d.name, d.name_en, unit, value, dec, raw, d.symbol, obs, station, bits
                )
            )
        pos = ve


_STATUS_CACHE: dict[int, Mapping[str, bool]] = {}


def status_bits(word: int) -> Mapping[str, bool]:
    """Table 58 bits of a status word, by name (read-only, cached per word)."""
    bits = _STATUS_CACHE.get(word)
    if bits is None:
        if len(_STATUS_CACHE) > 4096:
            _STATUS_CACHE.clear()
        bits = MappingProxyType(
            {k: bool(word >> bit & 1) for bit, (k, _z, _e) in STATUS_BITS.items()}
        )
        _STATUS_CACHE[word] = bits
    return bits


def _odd_bcd(digits: str, dec: int) -> int | float | None:
    """Values that are not plain BCD: negatives (leading F digits), or no data (None)."""
    if digits and digits[0] == "f":
        rest = digits.lstrip("f")
        if rest and rest.isdigit():
            number = -int(rest)
            return number / _SCALE[dec] if dec else number
    return None


# ASCII mode ---------------------------------------------------------------------------------

_ASCII_HEAD = re.compile(rb"\x01[0-9A-Fa-f]{18}[08][0-9A-Fa-f]{3}")
_NUMBER = re.compile(r"[+-]?\d+(?:\.(\d*))?\Z")
_STEP = re.compile(r"DR([DHN])(\d\d)\Z")
_ASCII_DEFS = {sym: (d.hex, d) for sym, d in ELEMENTS_BY_SYMBOL.items()}
_ASCII_FAST = {
    sym: (d.hex, d.name, d.name_en, d.unit)
    for sym, d in ELEMENTS_BY_SYMBOL.items()
    if d.kind == "bcd"
}
_TOKENS = re.compile(rb"[^ ]+")
_TYPE_BY_LETTER = {letter: code for code, (letter, _zh, _en) in STATION_TYPES.items()}


_HEXBYTES = re.compile(rb"[0-9A-Fa-f]+\Z")
_HEXTEXT = re.compile(r"[0-9A-Fa-f]+\Z")


def _ascii_int(data: bytes, pos: int, count: int, what: str) -> int:
    chunk = data[pos : pos + count]
    if len(chunk) == count and _HEXBYTES.match(chunk):
        return int(chunk, 16)
    if len(chunk) < count:
        raise FrameError(max(pos, 0), f"{what}: cut short")
    for i, ch in enumerate(chunk):
        if ch not in _HEXDIGITS:
            raise FrameError(pos + i, f"{what}: {chr(ch)!r} is not a hex digit")
    return int(chunk, 16)


def _decode_ascii(
    data: bytes, verify: bool, tz: tzinfo | None, extensions: Mapping[int, ElementDef]
) -> SL651Frame:
    n = len(data)
    if n < 23:
        raise FrameError(n - 1, f"ASCII frame cut short: {n} bytes, the header alone has 24")
    dch = data[19]
    if dch == 0x30:
        up = True
    elif dch == 0x38:
        up = False
    else:
        raise FrameError(19, f"direction character {chr(dch)!r} is neither '0' (up) nor '8'")
    m = _ASCII_HEAD.match(data)
    if m is None:
        # Find the field at fault, for the offset.
        _ascii_int(data, 1, 12, "centre and station address")
        _ascii_int(data, 13, 4, "password")
        _ascii_int(data, 17, 2, "function code")
        _ascii_int(data, 20, 3, "body length")
    length = int(data[20:23], 16)
    if n != 29 + length:
        raise FrameError(
            20, f"length field says {length} body bytes, a {29 + length}-byte frame; got {n}"
        )
    if up:
        center = int(data[1:3], 16)
        station = data[3:13].decode("ascii").upper()
    else:
        station = data[1:11].decode("ascii").upper()
        center = int(data[11:13], 16)
    password = int(data[13:17], 16)
    function = int(data[17:19], 16)
    start = data[23]
    bs = 24
    total = seq = None
    if start == SYN:
        if length < 6:
            raise FrameError(20, f"multi-packet frame with body length {length} < 6")
        total = _ascii_int(data, 24, 3, "packet total")
        seq = _ascii_int(data, 27, 3, "packet sequence")
        if not 1 <= seq <= total:
            raise FrameError(24, f"packet {seq} of {total}: sequence must be 1…total")
        bs = 30
    elif start != STX:
        raise FrameError(23, f"start character {start:02X} is neither STX (02) nor SYN (16)")
    be = n - 5
    end = data[be]
    if end not in _END_NAMES:
        raise FrameError(be, f"end character {end:02X} is none of 03 17 05 04 06 15 1B")
    got = _ascii_int(data, n - 4, 4, "CRC")
    calc = crc16_modbus(data[: n - 4])
    if got != calc and verify:
        raise FrameError(n - 4, f"CRC mismatch: frame carries {got:04X}, computed {calc:04X}")
    b = _Body()
    if seq is not None and seq > 1 and up:
        b.params = data[bs:be]
    else:
        _parse_ascii_body(data, bs, be, function, up, tz, extensions, b, seq is not None)
    return _frame(
        "ASCII", data, function, station, up, b, got, calc, n, center,
        password, length, start, end, total, seq, bs, be,
    )  # fmt: skip


def _parse_ascii_body(
    buf: bytes,
    pos: int,
    end: int,
    function: int,
    up: bool,
    tz: tzinfo | None,
    extensions: Mapping[int, ElementDef],
    b: _Body,
    truncated: bool,
) -> None:
    if end - pos < 16:
        if up and function == 0x2F and end == pos:
            return
        raise FrameError(pos, f"body of {end - pos} characters: serial and send time need 16")
    b.serial = _ascii_int(buf, pos, 4, "serial number")
    pos += 4
    while pos < end and buf[pos] == 0x20:
        pos += 1
    b.send_time = _ascii_time(buf, pos, end, 12, tz, "send time")
    pos += 12
    if pos >= end:
        return
    if not up or function not in _STRICT_FUNCTIONS or truncated:
        mark = len(b.elements)
        try:
            _parse_tokens(buf, pos, end, function, tz, extensions, b)
        except FrameError as exc:
            if truncated:
                b.params = buf[exc.offset : end]
            else:
                del b.elements[mark:]
                b.params = buf[pos:end]
        return
    _parse_tokens(buf, pos, end, function, tz, extensions, b)


def _ascii_time(
    buf: bytes, pos: int, end: int, count: int, tz: tzinfo | None, what: str
) -> datetime:
    chunk = buf[pos : min(pos + count, end)]
    if len(chunk) < count or not chunk.isdigit():
        raise FrameError(pos, f"{what}: {chunk.decode('latin-1')!r} is not {count} digits")
    try:
        return datetime(
            2000 + int(chunk[0:2]),
            int(chunk[2:4]),
            int(chunk[4:6]),
            int(chunk[6:8]),
            int(chunk[8:10]),
            int(chunk[10:12]) if count == 12 else 0,
            0,
            tz,
        )
    except ValueError as exc:
        raise FrameError(pos, f"{what}: {chunk.decode('ascii')} is no date ({exc})") from None


def _number(text: str) -> tuple[int | float, int] | None:
    """A decimal number as ASCII mode writes it (``-1.72``), with its decimals; else None."""
    if text.isdecimal():
        return int(text), 0
    whole, dot, frac = text.partition(".")
    sign = whole[:1]
    if sign == "+" or sign == "-":
        whole = whole[1:]
    if dot:
        if (whole.isdecimal() or not whole) and (frac.isdecimal() or (not frac and whole)):
            return float(text), len(frac)
        return None
    if whole.isdecimal():
        return int(text), 0
    return None


def _times(text: str, tz: tzinfo | None) -> datetime | None:
    """``YYMMDDHHmm[SS]`` digits as a datetime, or None when they are no date."""
    try:
        return datetime(
            2000 + int(text[0:2]),
            int(text[2:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12] or 0),
            0,
            tz,
        )
    except ValueError:
        return None


def _token_offset(buf: bytes, pos: int, end: int, index: int) -> int:
    """Byte offset of the ``index``-th space-separated token of ``buf[pos:end]`` (errors only)."""
    for i, m in enumerate(_TOKENS.finditer(buf, pos, end)):
        if i == index:
            return m.start()
    return max(end - 1, pos)


def _parse_tokens(
    buf: bytes,
    pos: int,
    end: int,
    function: int,
    tz: tzinfo | None,
    extensions: Mapping[int, ElementDef],
    b: _Body,
) -> None:
    tokens = [t for t in buf[pos:end].decode("latin-1").split(" ") if t]
    elements = b.elements
    append = elements.append
    obs = b.obs
    station = b.station
    config = function in _CONFIG_FUNCTIONS
    by_symbol = _ASCII_DEFS
    i = 0
    count = len(tokens)

    def fail(index: int, reason: str) -> FrameError:
        return FrameError(_token_offset(buf, pos, end, index), reason)

    fast = _ASCII_FAST
    while i < count:
        sym = tokens[i]
        info = fast.get(sym)
        if info is not None and i + 1 < count:
            # The common case: a numeric element with a decimal point ("12.34").
            val = tokens[i + 1]
            whole, dot, frac = val.partition(".")
            if dot and whole.isdecimal() and frac.isdecimal():
                append(
                    Element(
                        info[0],
                        info[1],
                        info[2],
                        info[3],
                        float(val),
                        len(frac),
                        val.encode("latin-1"),
                        sym,
                        obs,
                        station,
                    )
                )
                i += 2
                continue
        entry = by_symbol.get(sym)
        if entry is None or entry[1].kind != "bcd":
            if sym == "TT" or sym == "ST":
                if i + 1 >= count:
                    raise fail(i, f"{sym}: value missing at end of body")
                val = tokens[i + 1]
                if sym == "TT":
                    if len(val) != 10 or not val.isdecimal():
                        raise fail(i + 1, f"observation time (TT) {val!r}: 10 digits expected")
                    obs = _times(val, tz)
                    if obs is None:
                        raise fail(i + 1, f"observation time (TT) {val} is no date")
                    if b.obs is None:
                        b.obs = obs
                    i += 2
                    continue
                if len(val) != 10 or not _HEXTEXT.match(val):
                    raise fail(i + 1, f"station address {val!r}: 10 hex digits expected")
                station = val.upper()
                if b.station is None:
                    b.station = station
                i += 2
                if i < count:
                    letter = tokens[i]
                    if letter in _TYPE_BY_LETTER and (
                        function in DATA_FUNCTIONS or (i + 1 < count and tokens[i + 1] == "TT")
                    ):
                        if b.stype is None:
                            b.stype = _TYPE_BY_LETTER[letter]
                        i += 1
                continue
            if sym in ("RGZS", "PIC"):
                at = _token_offset(buf, pos, end, i)
                raw = buf[min(at + len(sym) + 1, end) : end]
                if sym == "RGZS":
                    append(
                        Element(
                            "F2",
                            "人工置数",
                            "manual-set data",
                            "",
                            raw.decode("latin-1").strip(),
                            0,
                            raw,
                            "RGZS",
                            obs,
                            station,
                        )
                    )
                else:
                    append(
                        Element("F3", "图片信息", "picture", "", None, 0, raw, "PIC", obs, station)
                    )
                return
            step = _STEP.match(sym)
            if step:
                minutes = {"D": 1440, "H": 60, "N": 1}[step.group(1)] * int(step.group(2))
                step_def = ELEMENTS[0x04]
                append(
                    Element(
                        "04",
                        step_def.name,
                        step_def.name_en,
                        step_def.unit,
                        minutes,
                        0,
                        sym.encode("latin-1"),
                        sym,
                        obs,
                        station,
                    )
                )
                i += 1
                continue
            if config and len(sym) == 2 and _HEXTEXT.match(sym):
                cfg = CONFIG_ITEMS.get(int(sym, 16))
                if cfg is not None:
                    entry = (cfg.hex, cfg)
        if i + 1 >= count:
            raise fail(i, f"{sym}: value missing at end of body")
        val = tokens[i + 1]
        d: ElementDef | None = None if entry is None else entry[1]
        kind = "bcd" if d is None else d.kind
        bits = None
        dec = 0
        value: Value
        if kind == "bcd":
            whole, dot, frac = val.partition(".")
            if dot and whole.isdecimal() and frac.isdecimal():
                value = float(val)
                dec = len(frac)
            elif val == "M":
                value = None
                dec = d.decimals if d is not None else 0
            else:
                num = _number(val)
                if num is None:
                    raise fail(i + 1, f"value {val!r} of {sym} is not a number")
                value, dec = num
        else:
            if len(val) % 2 or not _HEXTEXT.match(val):
                raise fail(i + 1, f"{sym}: {val!r} is not hex")
            if kind == "status":
                value = int(val, 16)
                bits = status_bits(value)
            elif kind == "hex":
                value = val.upper()
            elif kind == "rain5":
                value = [None if x == 0xFF else x / 10 for x in bytes.fromhex(val)]
            elif kind == "level5":
                rawv = bytes.fromhex(val)
                value = [
                    None if (w := rawv[k] << 8 | rawv[k + 1]) == 0xFFFF else w
                    for k in range(0, len(rawv) - 1, 2)
                ]
            else:
                raise fail(i, f"{sym} takes no value in ASCII mode")
        raw_value = val.encode("latin-1")
        if entry is None or d is None:
            append(Element(sym, *_UNKNOWN, "", value, dec, raw_value, sym, obs, station))
        else:
            append(
                Element(
                    entry[0],
                    d.name,
                    d.name_en,
                    "mm" if kind == "rain5" else d.unit,
                    value,
                    dec,
                    raw_value,
                    d.symbol,
                    obs,
                    station,
                    bits,
                )
            )
        i += 2


# --------------------------------------------------------------------------------------------
# Encoding


def _code_of(code: int | str) -> int:
    return int(code, 16) if isinstance(code, str) else code


def _lookup(code: int, extensions: Mapping[int, ElementDef]) -> ElementDef | None:
    return ELEMENTS.get(code) if code < 0x100 else extensions.get(code)


def encode_element(
    code: int | str,
    value: Value,
    *,
    decimals: int | None = None,
    size: int | None = None,
    extensions: Mapping[int, ElementDef] = EXTENSIONS,
) -> bytes:
    """One HEX-mode element group: identifier, data-definition byte, data.

    Parameters
    ----------
    code
        Identifier leader (``0x0E``), or ``0xFFxx`` for an extension identifier.
    value
        The value in the element's unit; ``None`` writes "no data" (all ``FF``). A negative
        number is written with a leading ``FF`` byte (STD 6.6.3.3).
    decimals
        Digits after the decimal point; default: the element's nominal ``N(D,d)``.
    size
        Data bytes; default: the shortest that holds the element's ``D`` digits (and the value).

    Examples
    --------
    >>> encode_element(0x0E, 12.34).hex().upper()
    '0E1A001234'
    >>> encode_element(0x76, -1.72, decimals=2, size=5).hex().upper()
    '762AFF00000172'
    """
    code = _code_of(code)
    d = _lookup(code, extensions)
    kind = "bcd" if d is None else d.kind
    head = bytes((0xFF, code & 0xFF)) if code > 0xFF else bytes((code,))
    if kind == "status":
        return head + b"\x20" + int(value or 0).to_bytes(4, "big")  # type: ignore[arg-type]
    if kind in ("rain5", "level5"):
        if not isinstance(value, list):
            raise ValueError(f"{code:02X} takes a list of 12 values")
        if kind == "rain5":
            data = bytes(0xFF if v is None else round(v * 10) for v in value)
        else:
            data = b"".join(b"\xff\xff" if v is None else int(v).to_bytes(2, "big") for v in value)
        return head + bytes((definition_byte(len(data), 0),)) + data
    if kind == "timestep":
        minutes = int(value or 0)  # type: ignore[arg-type]
        days, rest = divmod(minutes, 1440)
        data = bytes.fromhex(f"{days:02d}{rest // 60:02d}{rest % 60:02d}")
        return head + b"\x18" + data
    if kind == "hex":
        data = bytes.fromhex(str(value))
        return head + bytes((definition_byte(len(data), 0),)) + data
    dec = (d.decimals if d is not None else 0) if decimals is None else decimals
    digits = d.digits if d is not None and d.digits else 2 * (size or 1)
    nominal = (digits + 1) // 2
    if value is None:
        n = size or nominal
        return head + bytes((definition_byte(n, dec),)) + b"\xff" * n
    if isinstance(value, (str, list)):
        raise ValueError(f"element {code:02X} takes a number, not {value!r}")
    scaled = round(value * _SCALE[dec])
    text = str(abs(scaled))
    need = (len(text) + 1) // 2 + (1 if scaled < 0 else 0)
    n = max(nominal, need) if size is None else size
    if need > n:
        raise ValueError(f"{value} does not fit in {n} bytes with {dec} decimals")
    if scaled < 0:
        data = b"\xff" + bytes.fromhex(text.rjust(2 * n - 2, "0"))
    else:
        data = bytes.fromhex(text.rjust(2 * n, "0"))
    return head + bytes((definition_byte(n, dec),)) + data


def _element_args(item: ElementInput) -> tuple[int, Value, int | None, int | None]:
    if isinstance(item, Element):
        size = len(item.raw) if item.raw and item.value is not None else None
        return _code_of(item.code), item.value, item.decimals, size
    if len(item) == 3:
        return _code_of(item[0]), item[1], item[2], None
    return _code_of(item[0]), item[1], None, None


def _reencode(item: Element, code: int, extensions: Mapping[int, ElementDef]) -> bytes:
    """A decoded element: from its value at its original size, or as sent if it has none."""
    head = bytes((0xFF, code & 0xFF)) if code > 0xFF else bytes((code,))
    ddef = definition_byte(len(item.raw), item.decimals)
    if item.value is not None:
        try:
            out = encode_element(
                code, item.value, decimals=item.decimals, size=len(item.raw), extensions=extensions
            )
        except ValueError:
            pass
        else:
            if len(out) == len(head) + 1 + len(item.raw):
                return out
    return head + bytes((ddef,)) + item.raw


def _bcd_time(t: datetime, count: int) -> bytes:
    return bytes.fromhex(t.strftime("%y%m%d%H%M%S")[: 2 * count])


def _ascii_value(
    code: int, value: Value, decimals: int | None, extensions: Mapping[int, ElementDef]
) -> tuple[str, str]:
    d = _lookup(code, extensions)
    if d is None:
        raise ValueError(f"element {code:02X} has no ASCII identifier")
    if d.kind == "status":
        return d.symbol, f"{int(value or 0):08X}"  # type: ignore[arg-type]
    if d.kind == "timestep":
        raise ValueError("the time step is written as its own identifier DRxnn")
    if d.kind in ("rain5", "level5"):
        return d.symbol, encode_element(code, value, extensions=extensions)[2:].hex().upper()
    if value is None:
        return d.symbol, "M"
    if isinstance(value, (str, list)):
        raise ValueError(f"element {d.symbol} takes a number, not {value!r}")
    dec = d.decimals if decimals is None else decimals
    return d.symbol, f"{value:.{dec}f}" if dec else str(round(value))


def encode_body(
    *,
    serial: int,
    send_time: datetime,
    station: str | None = None,
    station_type: int | None = None,
    observation_time: datetime | None = None,
    elements: Iterable[ElementInput] = (),
    encoding: str = "HEX",
    extensions: Mapping[int, ElementDef] = EXTENSIONS,
) -> bytes:
    """A body: serial, send time, ``F1F1`` station (+ type), ``F0F0`` time, element groups.

    An :class:`Element` whose ``observed_at`` differs from the running observation time
    starts a new ``F0F0`` group, so a decoded hourly report encodes back as it was.
    """
    ascii_mode = encoding == "ASCII"
    if ascii_mode:
        out = [f"{serial:04X}{send_time:%y%m%d%H%M%S}"]
        if station is not None:
            out += ["ST", station.upper()]
            if station_type is not None:
                out.append(STATION_TYPES[station_type][0])
        if observation_time is not None:
            out += ["TT", f"{observation_time:%y%m%d%H%M}"]
    else:
        parts = [serial.to_bytes(2, "big"), _bcd_time(send_time, 6)]
        if station is not None:
            parts += [b"\xf1\xf1", bytes.fromhex(station)]
            if station_type is not None:
                parts.append(bytes((station_type,)))
        if observation_time is not None:
            parts += [b"\xf0\xf0", _bcd_time(observation_time, 5)]
    current = observation_time
    for item in elements:
        code, value, dec, size = _element_args(item)
        if isinstance(item, Element) and item.observed_at and item.observed_at != current:
            current = item.observed_at
            if ascii_mode:
                out += ["TT", f"{current:%y%m%d%H%M}"]
            else:
                parts += [b"\xf0\xf0", _bcd_time(current, 5)]
        if ascii_mode:
            if code == 0x04:
                minutes = int(value or 0)  # type: ignore[arg-type]
                unit, n = (
                    ("D", minutes // 1440)
                    if minutes % 1440 == 0
                    else (("H", minutes // 60) if minutes % 60 == 0 else ("N", minutes))
                )
                out.append(f"DR{unit}{n:02d}")
                continue
            out += list(_ascii_value(code, value, dec, extensions))
        elif code in (0xF2, 0xF3):
            raw = item.raw if isinstance(item, Element) else str(value or "").encode("ascii")
            parts += [bytes((code, code)), raw]
        elif isinstance(item, Element) and item.raw:
            parts.append(_reencode(item, code, extensions))
        else:
            parts.append(
                encode_element(code, value, decimals=dec, size=size, extensions=extensions)
            )
    if ascii_mode:
        text = out[0] + (" " + " ".join(out[1:]) + " " if len(out) > 1 else "")
        return text.encode("ascii")
    return b"".join(parts)


def encode_frame(
    *,
    function: int,
    station: str,
    body: bytes,
    center: int = 1,
    password: int = 0,
    direction: str = "up",
    end: int | None = None,
    packet: tuple[int, int] | None = None,
    encoding: str = "HEX",
) -> bytes:
    """Wrap a body into a frame: header, start character, end character and CRC.

    Parameters
    ----------
    function
        Function code.
    station
        Station address, 10 hex digits.
    body
        Body bytes (after the packet field), e.g. from :func:`encode_body`.
    center, password
        Centre address (0–255) and password (0–FFFFH).
    direction
        ``"up"`` or ``"down"`` (down frames put the station before the centre).
    end
        End character; default ETX up, ENQ down.
    packet
        ``(total, seq)`` for an M3 packet (start SYN); ``None`` for STX.
    encoding
        ``"HEX"`` or ``"ASCII"``.
    """
    up = direction == "up"
    if end is None:
        end = ETX if up else ENQ
    if len(station) != 10:
        raise ValueError(f"station address {station!r} must be 10 hex digits")
    if encoding == "ASCII":
        if packet is not None:
            body = f"{packet[0]:03X}{packet[1]:03X}".encode("ascii") + body
        if len(body) > 0xFFF:
            raise ValueError(f"body of {len(body)} characters exceeds FFFH")
        where = f"{center:02X}{station.upper()}" if up else f"{station.upper()}{center:02X}"
        text = f"{where}{password:04X}{function:02X}{'0' if up else '8'}{len(body):03X}"
        frame = b"\x01" + text.encode("ascii") + bytes((STX if packet is None else SYN,))
        frame += body + bytes((end,))
        return frame + f"{crc16_modbus(frame):04X}".encode("ascii")
    if packet is not None:
        total, seq = packet
        body = (total << 12 | seq).to_bytes(3, "big") + body
    if len(body) > 0xFFF:
        raise ValueError(f"body of {len(body)} bytes exceeds FFFH")
    st = bytes.fromhex(station)
    addr = bytes((center,)) + st if up else st + bytes((center,))
    head = b"\x7e\x7e" + addr + password.to_bytes(2, "big") + bytes((function,))
    head += ((0 if up else 0x8000) | len(body)).to_bytes(2, "big")
    frame = head + bytes((STX if packet is None else SYN,)) + body + bytes((end,))
    return frame + crc16_modbus(frame).to_bytes(2, "big")


def encode_report(
    function: int,
    station: str,
    *,
    serial: int,
    send_time: datetime,
    observation_time: datetime | None = None,
    elements: Iterable[ElementInput] = (),
    station_type: int | None = 0x47,
    center: int = 1,
    password: int = 0,
    encoding: str = "HEX",
    end: int = ETX,
    extensions: Mapping[int, ElementDef] = EXTENSIONS,
) -> bytes:
    """An up report (30H–37H, 3AH…): what a station sends. 2FH keep-alive has no groups.

    Examples
    --------
    >>> from datetime import datetime
    >>> t = datetime(2024, 1, 9, 15, 30)
    >>> frame = encode_report(0x32, "0014052201", serial=3, send_time=t, observation_time=t,
    ...                       elements=[(0x0E, 12.34), (0x38, 12.44)])
    >>> decode(frame).elements[0].value
    12.34
    """
    if function == 0x2F:
        body = encode_body(serial=serial, send_time=send_time, encoding=encoding)
    else:
        body = encode_body(
            serial=serial,
            send_time=send_time,
            station=station,
            station_type=station_type,
            observation_time=observation_time,
            elements=elements,
            encoding=encoding,
            extensions=extensions,
        )
    return encode_frame(
        function=function,
        station=station,
        body=body,
        center=center,
        password=password,
        end=end,
        encoding=encoding,
    )


def encode(frame: SL651Frame, *, extensions: Mapping[int, ElementDef] = EXTENSIONS) -> bytes:
    """A frame object back to bytes, its body rebuilt from serial, times and elements.

    Bodies this codec keeps (partly) raw are written as they were: ``params``, M3 packets
    after the first, down queries (38H, 3AH, 41H, 43H). The checksum is recomputed.
    """
    rebuild = (
        frame.serial is not None
        and not frame.params
        and frame.packets == 1
        and not (frame.direction == "down" and frame.function in _QUERY_LISTS | {0x38})
    )
    if rebuild:
        body = encode_body(
            serial=frame.serial or 0,
            send_time=frame.send_time or datetime(2000, 1, 1),
            station=frame.body_station,
            station_type=frame.station_type,
            observation_time=frame.observation_time,
            elements=frame.elements,
            encoding=frame.encoding,
            extensions=extensions,
        )
    else:
        body = frame.body
    packet = None
    if frame.packet_total is not None and frame.packet_seq is not None:
        packet = (frame.packet_total, frame.packet_seq)
    return encode_frame(
        function=frame.function,
        station=frame.station,
        body=body,
        center=frame.center,
        password=frame.password,
        direction=frame.direction,
        end=frame.end,
        packet=packet,
        encoding=frame.encoding,
    )


def encode_packets(
    function: int,
    station: str,
    body: bytes,
    *,
    center: int = 1,
    password: int = 0,
    max_body: int = 220,
) -> list[bytes]:
    """An M3 multi-packet message: the body split into packets of at most ``max_body`` bytes.

    Packets 1…n−1 end with ETB, the last with ETX (STD 6.3, Tables 22/23). Only packet 1
    carries serial and send time, so pass a body from :func:`encode_body`.
    """
    size = max(1, max_body - 3)
    chunks = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    total = len(chunks)
    if total > 0xFFF:
        raise ValueError(f"{total} packets exceed the 4095 an M3 message can have")
    return [
        encode_frame(
            function=function,
            station=station,
            body=chunk,
            center=center,
            password=password,
            end=ETB if seq < total else ETX,
            packet=(total, seq),
        )
        for seq, chunk in enumerate(chunks, 1)
    ]


def acknowledge(
    frame: SL651Frame,
    *,
    end: int = ESC,
    send_time: datetime | None = None,
) -> bytes:
    """The centre's confirmation of an up frame (STD 6.3, M2 and M3).

    Same function code, centre, station and password; direction down; body = the echoed serial
    + send time (the up frame's send time unless ``send_time`` is given); end character EOT
    (station may go offline) or ESC (station stays online, the default). For a multi-packet
    message the reply starts with SYN and carries the packet total with sequence = total
    (the message is complete). Pass ``end=ACK`` to answer an ETB packet of a multi-frame M4
    response.

    Raises :class:`ValueError` for a keep-alive (2FH), which gets no reply, and for down
    frames and M3 packets after the first (use the first packet or the reassembled message).
    """
    if frame.direction != "up":
        raise ValueError("only up frames are acknowledged")
    if frame.function == 0x2F:
        raise ValueError("a link keep-alive (2FH) gets no reply (STD 6.6.4.2)")
    if frame.serial is None or frame.send_time is None:
        raise ValueError("the frame has no serial and send time to echo (an M3 packet > 1?)")
    when = send_time or frame.send_time
    if frame.encoding == "ASCII":
        body = f"{frame.serial:04X}{when:%y%m%d%H%M%S}".encode("ascii")
    else:
        body = frame.serial.to_bytes(2, "big") + _bcd_time(when, 6)
    packet = None
    if frame.packet_total is not None:
        packet = (frame.packet_total, frame.packet_total)
    return encode_frame(
        function=frame.function,
        station=frame.station,
        body=body,
        center=frame.center,
        password=frame.password,
        direction="down",
        end=end,
        packet=packet,
        encoding=frame.encoding,
    )


def acknowledge_raw(raw: bytes | bytearray, *, end: int = ESC) -> bytes | None:
    """:func:`acknowledge` built from the up frame's own header bytes, without decoding it.

    For the gateway's usual case, a single-packet HEX frame (start STX) that was decoded
    successfully: the confirmation swaps centre and station, keeps password and function,
    sets the down bit with the body length 8, and echoes the serial and send time bytes as
    they came (a frame that decoded has a valid BCD time, so they are what :func:`acknowledge`
    would encode). Returns ``None`` for anything else (ASCII, M3 packets, a keep-alive, a down
    frame, too short): call :func:`acknowledge` with the decoded frame then.
    """
    if (
        len(raw) < 25
        or raw[0] != 0x7E
        or raw[1] != 0x7E
        or raw[13] != STX
        or raw[11] & 0xF0  # a down frame (8xxx)
        or raw[10] == 0x2F  # keep-alive: no reply
    ):
        return None
    frame = (
        b"\x7e\x7e" + raw[3:8] + raw[2:3] + raw[8:11] + b"\x80\x08\x02" + raw[14:22]
        + bytes((end,))
    )  # fmt: skip
    return frame + crc16_modbus(frame).to_bytes(2, "big")


def negative_acknowledge(
    frame: SL651Frame,
    seq: int | None = None,
    *,
    serial: int | None = None,
    send_time: datetime | None = None,
) -> bytes:
    """NAK for one packet of an M3 message: resend packet ``seq`` (default: ``frame``'s).

    ``serial`` and ``send_time`` default to the frame's (packet 1's); for later packets pass
    those of packet 1, or leave them to write serial 0 and the current time.
    """
    if frame.packet_total is None:
        raise ValueError("NAK applies to multi-packet (M3) frames")
    seq = frame.packet_seq if seq is None else seq
    if seq is None or not 1 <= seq <= frame.packet_total:
        raise ValueError(f"packet {seq} is not in 1…{frame.packet_total}")
    serial = frame.serial if serial is None else serial
    when = send_time or frame.send_time or datetime.now(CHINA_TZ)
    if frame.encoding == "ASCII":
        body = f"{serial or 0:04X}{when:%y%m%d%H%M%S}".encode("ascii")
    else:
        body = (serial or 0).to_bytes(2, "big") + _bcd_time(when, 6)
    return encode_frame(
        function=frame.function,
        station=frame.station,
        body=body,
        center=frame.center,
        password=frame.password,
        direction="down",
        end=NAK,
        packet=(frame.packet_total, seq),
        encoding=frame.encoding,
    )


# --------------------------------------------------------------------------------------------
# Multi-packet (M3) reassembly


class ReassemblyError(FrameError):
    """A packet that contradicts the message being reassembled (e.g. another packet total)."""


@dataclass
class _Partial:
    first: SL651Frame | None
    total: int
    started: float
    parts: dict[int, bytes] = field(default_factory=dict)


class Reassembler:
    """Collects the packets of M3 multi-packet messages and returns each message once whole.

    Messages are kept apart by station address and function code; a message is identified by
    its station and the serial of packet 1 (packets 2…n carry no serial: STD Table 23,
    footnote a). A packet whose total differs from the message in progress is refused with
    :class:`ReassemblyError`; a resent packet replaces the earlier copy.

    Parameters
    ----------
    max_age
        Seconds after which an incomplete message is dropped (see :meth:`expire`).
    tz, extensions
        As for :func:`decode`, to parse the reassembled body.

    Examples
    --------
    >>> r = Reassembler()
    >>> for packet in packets:  # doctest: +SKIP
    ...     message = r.add(decode(packet))
    """

    def __init__(
        self,
        *,
        max_age: float = 600.0,
        tz: tzinfo | None = CHINA_TZ,
        extensions: Mapping[int, ElementDef] = EXTENSIONS,
    ) -> None:
        self.max_age = max_age
        self.tz = tz
        self.extensions = extensions
        self._partial: dict[tuple[str, int, str], _Partial] = {}

    def __len__(self) -> int:
        return len(self._partial)

    def add(self, frame: SL651Frame, *, now: float | None = None) -> SL651Frame | None:
        """Add one packet; return the whole message when its last missing packet arrives.

        A frame that is not an up M3 packet is returned as it is. The returned message is an
        :class:`SL651Frame` with the joined ``body``, its elements parsed from the whole body,
        ``packets`` = total and ``packet_seq`` = ``None``.
        """
        total, seq = frame.packet_total, frame.packet_seq
        if total is None or seq is None or frame.direction != "up":
            return frame
        now = _time.monotonic() if now is None else now
        key = (frame.station, frame.function, frame.encoding)
        partial = self._partial.get(key)
        if partial is not None and now - partial.started > self.max_age:
            partial = None
        if partial is None:
            partial = _Partial(None, total, now)
            self._partial[key] = partial
        elif partial.total != total:
            if (
                seq == 1
                and frame.serial is not None
                and partial.first is not None
                and frame.serial != partial.first.serial
            ):
                partial = _Partial(None, total, now)  # a new message replaces a stale one
                self._partial[key] = partial
            else:
                raise ReassemblyError(
                    14 if frame.encoding == "HEX" else 24,
                    f"packet {seq} says {total} packets; the message in progress has "
                    f"{partial.total}",
                )
        elif seq == 1 and partial.first is not None and frame.serial != partial.first.serial:
            partial = _Partial(None, total, now)  # new serial: a new message
            self._partial[key] = partial
        if seq == 1:
            partial.first = frame
        partial.parts[seq] = frame.body
        if len(partial.parts) < total or partial.first is None:
            return None
        del self._partial[key]
        body = b"".join(partial.parts[i] for i in range(1, total + 1))
        return self._message(partial.first, body, total)

    def _message(self, first: SL651Frame, body: bytes, total: int) -> SL651Frame:
        if first.encoding == "HEX":
            b = _Body()
            _parse_hex_body(
                body,
                0,
                len(body),
                first.function,
                first.direction == "up",
                self.tz,
                self.extensions,
                b,
            )
        else:
            b = _Body()
            _parse_ascii_body(
                body,
                0,
                len(body),
                first.function,
                first.direction == "up",
                self.tz,
                self.extensions,
                b,
                False,
            )
        return replace(
            first,
            body=body,
            elements=b.elements,
            params=b.params,
            serial=b.serial,
            send_time=b.send_time,
            observation_time=b.obs,
            station_type=b.stype,
            body_station=b.station,
            packet_seq=None,
            packets=total,
            end=ETX,
        )

    def expire(self, *, now: float | None = None) -> list[tuple[str, int]]:
        """Drop incomplete messages older than ``max_age``; return their (station, function)."""
        now = _time.monotonic() if now is None else now
        old = [k for k, p in self._partial.items() if now - p.started > self.max_age]
        for k in old:
            del self._partial[k]
        return [(k[0], k[1]) for k in old]

    def missing(self, station: str, function: int, encoding: str = "HEX") -> list[int]:
        """Sequence numbers still missing from the message in progress (for NAKs)."""
        partial = self._partial.get((station, function, encoding))
        if partial is None:
            return []
        return [i for i in range(1, partial.total + 1) if i not in partial.parts]
