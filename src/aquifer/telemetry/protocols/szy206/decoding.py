"""SZY206 decoding: :func:`decode` checks the frame and reads its header, then the data field
by direction and AFN (link check, status query, the value reports of :mod:`.values`)."""

from __future__ import annotations

from collections.abc import Callable

from ..common import Element, FrameError
from ..crc import crc8
from .fields import DEFAULT_OPTIONS, Options, Tp, _hex, parse_address
from .frame import SZY206Frame, frame_size
from .tables import AFN_NAMES, LINK_STATES
from .values import _values, _words

__all__ = ["decode"]


def decode(data: bytes, options: Options = DEFAULT_OPTIONS, *, verify: bool = True) -> SZY206Frame:
    """Decode one SZY206 frame.

    Parameters
    ----------
    data
        Exactly one frame, ``68 L 68 … CS 16``.
    options
        Readings of the unconfirmed points (byte orders, decimals, auxiliary fields).
    verify
        Check CS; with ``False`` a frame with a wrong CS is decoded and reports
        ``checksum_ok=False``.

    Raises
    ------
    FrameError
        With the byte offset and the reason of the first problem found.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    n = len(data)
    length, long_frame = _length(data, n)
    c = data[3]
    pos = 4
    divs = None
    if c & 0x40:
        divs, pos = _split_count(data, length, long_frame)
    got = data[n - 2]
    calc = crc8(data[3 : n - 2])
    if got != calc and verify:
        raise FrameError(n - 2, f"CRC mismatch: frame carries {got:02X}, computed {calc:02X}")
    address = data[pos : pos + 5]
    afn = data[pos + 5]
    dstart = pos + 6 + (2 if long_frame else 0)
    payload = data[dstart : n - 2]
    station, admin, number = parse_address(address, options.a2_order)
    up = bool(c & 0x80)
    cf = c & 0x0F
    names = AFN_NAMES.get(afn) or ("未定义功能码", "undefined function")
    frame = SZY206Frame(
        protocol="SZY206",
        function=afn,
        function_name=names[0],
        function_name_en=names[1],
        station=station,
        direction="up" if up else "down",
        checksum=got,
        checksum_ok=got == calc,
        size=n,
        control=c,
        fcb=(c >> 4) & 3,
        control_function=cf,
        div=bool(c & 0x40),
        divs=divs,
        admin_code=admin,
        station_number=number,
        data=payload,
        long_frame=long_frame,
    )
    if not long_frame:
        _interpret(frame, payload, dstart, up, afn, cf, options)
    return frame


def _length(data: bytes, n: int) -> tuple[int, bool]:
    """L and whether the frame is the long form, checked: start bytes, size, end byte."""
    if n < 5:
        raise FrameError(max(n - 1, 0), f"frame cut short: {n} bytes")
    if data[0] != 0x68:
        raise FrameError(0, f"not an SZY206 frame: starts with {data[0]:02X} (68 expected)")
    if data[2] != 0x68:
        raise FrameError(2, f"second start byte is {data[2]:02X}, 68 expected")
    length = data[1]
    long_frame = length == 1
    size = _long_size(data, n) if long_frame else _short_size(length)
    if n != size:
        raise FrameError(1, f"length says a {size}-byte frame; got {n} bytes")
    if data[n - 1] != 0x16:
        raise FrameError(n - 1, f"end byte is {data[n - 1]:02X}, 16 expected")
    return length, long_frame


def _long_size(data: bytes, n: int) -> int:
    """The size of a long frame (L = 01, a 2-byte length after AFN)."""
    size = frame_size(data)
    if size is None or n < 15:
        raise FrameError(n - 1, "long frame (L = 01) cut short")
    return size


def _short_size(length: int) -> int:
    if length < 7:
        raise FrameError(1, f"L = {length}: user data needs at least 7 bytes (C, A, AFN)")
    return length + 5


def _split_count(data: bytes, length: int, long_frame: bool) -> tuple[int, int]:
    """DIV = 1: the DIVS countdown byte after C, and where the address starts."""
    if not long_frame and length < 8:
        raise FrameError(1, f"L = {length}: a split frame (DIV = 1) needs at least 8")
    return data[4], 5


def _interpret(
    frame: SZY206Frame,
    payload: bytes,
    base: int,
    up: bool,
    afn: int,
    cf: int,
    options: Options,
) -> None:
    if not up:
        _interpret_down(frame, payload, base, afn, options)
        return
    read = _UP_DATA.get(afn)
    if read is not None:
        read(frame, payload, base, cf, options)


def _interpret_down(
    frame: SZY206Frame, payload: bytes, base: int, afn: int, options: Options
) -> None:
    """A down frame: PW + Tp at the end (as :attr:`Options.down_aux` says), a link state."""
    size = len(payload)
    aux = options.down_aux
    if aux == "pw_tp" or (aux == "auto" and size >= 7):
        if size < 7:
            raise FrameError(base, f"down data of {size} bytes has no room for PW + Tp")
        frame.password = payload[-7] | payload[-6] << 8
        frame.tp = Tp.from_bytes(payload[-5:])
        payload = payload[:-7]
    if afn == 0x02 and payload:
        frame.link = payload[0]


def _link_check(frame: SZY206Frame, payload: bytes, base: int, cf: int, options: Options) -> None:
    """AFN 02H up: the link state byte (F0 log in, F1 log out, F2 keep alive) [+ Tp]."""
    if not payload:
        raise FrameError(base, "link check without its state byte")
    frame.link = payload[0]
    state = LINK_STATES.get(payload[0], ("未定义", "undefined"))
    frame.elements.append(
        Element(
            "link",
            f"链路检测：{state[0]}",
            f"link check: {state[1]}",
            "",
            _hex(payload[0]),
            0,
            payload[:1],
            "",
            None,
            None,
        )
    )
    if len(payload) == 6:
        frame.tp = Tp.from_bytes(payload[1:])


def _status_words(frame: SZY206Frame, payload: bytes, base: int, cf: int, options: Options) -> None:
    """AFN 5EH up: the alarm and terminal status words."""
    size = len(payload)
    if size < 4:
        raise FrameError(base, f"status data of {size} bytes: alarm and status need 4")
    _words(frame, payload, 0, options)


#: Readers of up data by AFN: (frame, data, offset of the data, control function, options).
_UP_DATA: dict[int, Callable[[SZY206Frame, bytes, int, int, Options], None]] = {
    0x02: _link_check,
    0x5E: _status_words,
    0xC0: _values,
    0x81: _values,
    0xB0: _values,
    0xB2: _values,
}
