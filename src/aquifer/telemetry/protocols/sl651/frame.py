"""SL651 framing: control characters, function-code sets, the frame record and its scratch body.

Frame layout (STD Tables 16–23, docs/protocols.md §1.2): start ``7E 7E`` (HEX) or SOH (ASCII),
centre address, station address (down frames swap the two), password, function code,
direction nibble + body length N, STX (or SYN + packet total/sequence in multi-packet M3
messages), body, end character, CRC-16/MODBUS high byte first (ASCII: 4 hex characters).

What both encodings share lives here: :class:`SL651Frame` and the ``_Body`` record a body
parse fills, the function-code sets that decide how a body is read, and the policy for bodies
that need not parse (:func:`_parse_or_keep`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, TypeAlias

from ..common import Element, Frame, FrameError
from .elements import FUNCTIONS, STATION_TYPES, ElementDef

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
    "SL651Frame",
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
#: Functions whose time-step group ``04 18`` is followed by one identifier and a series of
#: values at that step (31H uniform-period report, 38H time-range answer; STD 6.6.4.3).
_SERIES_FUNCTIONS = frozenset({0x31, 0x38})
#: Down queries that list identifiers without data (STD 6.6.4.x).
_QUERY_LISTS = frozenset({0x3A, 0x41, 0x43})

_HEX2 = tuple(f"{i:02X}" for i in range(256))
_SCALE = (1, 10, 100, 1000, 10000, 100000, 1000000, 10000000)
_UNKNOWN = ("未定义要素", "unknown element")


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


def _short_body(pos: int, end: int, function: int, up: bool, unit: str, need: int) -> None:
    """A body too short for serial and send time: fine for an empty keep-alive, else an error."""
    if up and function == 0x2F and end == pos:
        return
    raise FrameError(pos, f"body of {end - pos} {unit}: serial and send time need {need}")


#: A parser of element groups (HEX) or tokens (ASCII) from ``pos`` to ``end`` into a body:
#: ``(buf, pos, end, function, tz, extensions, body, config)``.
GroupParser: TypeAlias = Callable[
    [bytes, int, int, int, tzinfo | None, Mapping[int, ElementDef], _Body, bool], None
]


def _parse_or_keep(
    parse: GroupParser,
    buf: bytes,
    pos: int,
    end: int,
    function: int,
    tz: tzinfo | None,
    extensions: Mapping[int, ElementDef],
    b: _Body,
    truncated: bool,
) -> None:
    """Parse a body that need not parse as element groups; keep what does not in ``params``.

    Packet 1 of an M3 message (``truncated``): its last group may continue in packet 2, so the
    groups before the failing one stay and the rest is kept raw. Otherwise (a down frame, a
    function whose body may be event records, versions or vendor data) the whole body is kept
    raw when any of it fails to parse.
    """
    mark = len(b.elements)
    try:
        parse(buf, pos, end, function, tz, extensions, b, function in _CONFIG_FUNCTIONS)
    except FrameError as exc:
        if truncated:
            b.params = buf[exc.offset : end]
        else:
            del b.elements[mark:]
            b.params = buf[pos:end]
