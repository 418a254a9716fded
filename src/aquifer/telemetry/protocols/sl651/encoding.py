"""SL651 encoding: bodies and frames in either encoding.

:func:`encode_body`, :func:`encode_frame`,
:func:`encode_report` (what a station sends), :func:`encode` (a frame object back to bytes) and
:func:`encode_packets` (an M3 multi-packet message).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from ..common import Element, Value
from ..crc import crc16_modbus
from .answers import ANSWER_CODES
from .elements import EXTENSIONS, STATION_TYPES, ElementDef
from .frame import _QUERY_LISTS, ENQ, ETB, ETX, STX, SYN, SL651Frame
from .groups import ElementInput, _ascii_value, _element_args, _reencode, encode_element

__all__ = [
    "encode",
    "encode_body",
    "encode_frame",
    "encode_packets",
    "encode_report",
]


def _bcd_time(t: datetime, count: int) -> bytes:
    return bytes.fromhex(t.strftime("%y%m%d%H%M%S")[: 2 * count])


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
    write = _ascii_body if encoding == "ASCII" else _hex_body
    return write(serial, send_time, station, station_type, observation_time, elements, extensions)


def _new_time(item: ElementInput, current: datetime | None) -> datetime | None:
    """The observation time of ``item`` if it starts a new time group, else None."""
    if isinstance(item, Element) and item.observed_at and item.observed_at != current:
        return item.observed_at
    return None


def _hex_body(
    serial: int,
    send_time: datetime,
    station: str | None,
    station_type: int | None,
    observation_time: datetime | None,
    elements: Iterable[ElementInput],
    extensions: Mapping[int, ElementDef],
) -> bytes:
    parts = [serial.to_bytes(2, "big"), _bcd_time(send_time, 6)]
    if station is not None:
        parts += [b"\xf1\xf1", bytes.fromhex(station)]
        if station_type is not None:
            parts.append(bytes((station_type,)))
    if observation_time is not None:
        parts += [b"\xf0\xf0", _bcd_time(observation_time, 5)]
    current = observation_time
    for item in elements:
        if isinstance(item, Element) and item.code in ANSWER_CODES:
            parts.append(item.raw)  # a fixed-layout answer (45H, 4CH–4FH, 50H) as it is
            continue
        code, value, dec, size = _element_args(item)
        new = _new_time(item, current)
        if new is not None:
            current = new
            parts += [b"\xf0\xf0", _bcd_time(current, 5)]
        parts.append(_hex_group(item, code, value, dec, size, extensions))
    return b"".join(parts)


def _hex_group(
    item: ElementInput,
    code: int,
    value: Value,
    dec: int | None,
    size: int | None,
    extensions: Mapping[int, ElementDef],
) -> bytes:
    """One element group of a HEX body: manual-set data and pictures (F2, F3) as they are, a
    decoded element at its original size, anything else at the element's nominal size."""
    if code in (0xF2, 0xF3):
        raw = item.raw if isinstance(item, Element) else str(value or "").encode("ascii")
        return bytes((code, code)) + raw
    if isinstance(item, Element) and item.raw:
        return _reencode(item, code, extensions)
    return encode_element(code, value, decimals=dec, size=size, extensions=extensions)


def _ascii_body(
    serial: int,
    send_time: datetime,
    station: str | None,
    station_type: int | None,
    observation_time: datetime | None,
    elements: Iterable[ElementInput],
    extensions: Mapping[int, ElementDef],
) -> bytes:
    out = [f"{serial:04X}{send_time:%y%m%d%H%M%S}"]
    if station is not None:
        out += ["ST", station.upper()]
        if station_type is not None:
            out.append(STATION_TYPES[station_type][0])
    if observation_time is not None:
        out += ["TT", f"{observation_time:%y%m%d%H%M}"]
    current = observation_time
    for item in elements:
        code, value, dec, _size = _element_args(item)
        new = _new_time(item, current)
        if new is not None:
            current = new
            out += ["TT", f"{current:%y%m%d%H%M}"]
        if code == 0x04:
            out.append(_ascii_step(value))
            continue
        out += list(_ascii_value(code, value, dec, extensions))
    text = out[0] + (" " + " ".join(out[1:]) + " " if len(out) > 1 else "")
    return text.encode("ascii")


def _ascii_step(value: Value) -> str:
    """The time step (minutes) as its identifier ``DRxnn``: days, hours or minutes."""
    minutes = int(value or 0)  # type: ignore[arg-type]
    unit, n = (
        ("D", minutes // 1440)
        if minutes % 1440 == 0
        else (("H", minutes // 60) if minutes % 60 == 0 else ("N", minutes))
    )
    return f"DR{unit}{n:02d}"


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
    wrap = _ascii_frame if encoding == "ASCII" else _hex_frame
    return wrap(function, station, body, center, password, up, end, packet)


def _ascii_frame(
    function: int, station: str, body: bytes, center: int, password: int, up: bool, end: int,
    packet: tuple[int, int] | None,
) -> bytes:  # fmt: skip
    if packet is not None:
        body = f"{packet[0]:03X}{packet[1]:03X}".encode("ascii") + body
    if len(body) > 0xFFF:
        raise ValueError(f"body of {len(body)} characters exceeds FFFH")
    where = f"{center:02X}{station.upper()}" if up else f"{station.upper()}{center:02X}"
    text = f"{where}{password:04X}{function:02X}{'0' if up else '8'}{len(body):03X}"
    frame = b"\x01" + text.encode("ascii") + bytes((STX if packet is None else SYN,))
    frame += body + bytes((end,))
    return frame + f"{crc16_modbus(frame):04X}".encode("ascii")


def _hex_frame(
    function: int, station: str, body: bytes, center: int, password: int, up: bool, end: int,
    packet: tuple[int, int] | None,
) -> bytes:  # fmt: skip
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
