"""SL651 ASCII mode: the SOH header in hex characters, and the body's space-separated tokens.

The body is the same as in HEX mode written as text: serial (4 hex digits), send time
(12 digits), then tokens: ``ST`` station address [station type letter], ``TT`` observation
time, and "symbol value" pairs (``VT 12.34``), the symbol being the element's ASCII identifier
(Appendix C). Numbers are written with their decimal point; ``M`` is no data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, tzinfo

from ..common import FrameError
from ..crc import crc16_modbus
from .elements import (
    ElementDef,
)
from .frame import (
    _CONFIG_FUNCTIONS,
    _END_NAMES,
    _STRICT_FUNCTIONS,
    STX,
    SYN,
    SL651Frame,
    _Body,
    _frame,
    _parse_or_keep,
    _short_body,
)
from .tokens import _parse_tokens

__all__: list[str] = []

_HEXDIGITS = frozenset(b"0123456789abcdefABCDEF")
_ASCII_HEAD = re.compile(rb"\x01[0-9A-Fa-f]{18}[08][0-9A-Fa-f]{3}")


_HEXBYTES = re.compile(rb"[0-9A-Fa-f]+\Z")


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
    up, length = _ascii_length(data, n)
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
        bs, total, seq = _ascii_packet(data, length)
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


def _ascii_length(data: bytes, n: int) -> tuple[bool, int]:
    """Direction (up?) and body length from the header, checked against the frame's size."""
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
    return up, length


def _ascii_packet(data: bytes, length: int) -> tuple[int, int, int]:
    """An M3 packet's field after SYN: where the body starts, packet total and sequence."""
    if length < 6:
        raise FrameError(20, f"multi-packet frame with body length {length} < 6")
    total = _ascii_int(data, 24, 3, "packet total")
    seq = _ascii_int(data, 27, 3, "packet sequence")
    if not 1 <= seq <= total:
        raise FrameError(24, f"packet {seq} of {total}: sequence must be 1…total")
    return 30, total, seq


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
        _short_body(pos, end, function, up, "characters", 16)
        return
    b.serial = _ascii_int(buf, pos, 4, "serial number")
    pos += 4
    while pos < end and buf[pos] == 0x20:
        pos += 1
    b.send_time = _ascii_time(buf, pos, end, 12, tz, "send time")
    pos += 12
    if pos >= end:
        return
    if up and function in _STRICT_FUNCTIONS and not truncated:
        _parse_tokens(buf, pos, end, function, tz, extensions, b, function in _CONFIG_FUNCTIONS)
    else:
        _parse_or_keep(_parse_tokens, buf, pos, end, function, tz, extensions, b, truncated)


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
