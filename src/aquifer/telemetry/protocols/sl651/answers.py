"""SL651 station answers whose data after the ``F1F1`` address group are no element groups.

Layouts (STD 6.6.4.x, Appendix B; docs/protocols.md "Answers" — the ones marked [U] there come
from the approval draft only and no real frame was found):

======  ===========================  ========================================================
code    answer                       data after ``F1F1`` + station address
======  ===========================  ========================================================
45H     software version             1 byte N, then N bytes of ASCII text
50H     event record                 32 × 2-byte HEX counters ERC1…ERC32 (64 bytes)
4CH     pump states                  1 byte N, then N bytes of bits, bit k = pump k+1 running
4DH     valve states                 1 byte N, then N bytes of bits, bit k = valve k+1 open
4EH     gate states                  1 byte N, N bytes of bits (gate k+1 open), then element
                                     groups (gate openings 09H …)
4FH     fixed-value control          1 byte: ``FF`` on, ``00`` off
======  ===========================  ========================================================

Each answer is one :class:`Element` whose ``code`` names it (``VER``, ``ERC``, ``PUMP``,
``VALVE``, ``GATE``, ``CTRL``) and whose ``raw`` is exactly the bytes it was read from, so a
decoded answer encodes back byte for byte. :func:`answer_element` builds one from a value.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..common import Element, FrameError, Value

__all__ = ["ANSWER_CODES", "ANSWER_FUNCTIONS", "answer_element", "read_answer"]

#: function → (code, Chinese name, English name)
_NAMES: dict[int, tuple[str, str, str]] = {
    0x45: ("VER", "遥测终端软件版本", "software version"),
    0x50: ("ERC", "事件记录", "event record counters"),
    0x4C: ("PUMP", "水泵状态", "pump states"),
    0x4D: ("VALVE", "阀门状态", "valve states"),
    0x4E: ("GATE", "闸门状态", "gate states"),
    0x4F: ("CTRL", "水量定值控制状态", "fixed-value control"),
}
ANSWER_FUNCTIONS = frozenset(_NAMES)
ANSWER_CODES = frozenset(code for code, _zh, _en in _NAMES.values())


def _version(raw: bytes, pos: int, end: int) -> tuple[Value, int]:
    if pos >= end:
        raise FrameError(pos, "software version: length byte missing")
    n = raw[pos]
    if pos + 1 + n > end:
        raise FrameError(pos, f"software version of {n} bytes: {end - pos - 1} left")
    return raw[pos + 1 : pos + 1 + n].decode("ascii", "replace"), pos + 1 + n


def _events(raw: bytes, pos: int, end: int) -> tuple[Value, int]:
    if pos + 64 > end:
        raise FrameError(pos, f"event record needs 64 bytes, {end - pos} left")
    counts: list[int | float | None] = [
        raw[pos + 2 * i] << 8 | raw[pos + 2 * i + 1] for i in range(32)
    ]
    return counts, pos + 64


def _bits(raw: bytes, pos: int, end: int) -> tuple[Value, int]:
    if pos >= end:
        raise FrameError(pos, "state bits: length byte missing")
    n = raw[pos]
    if pos + 1 + n > end:
        raise FrameError(pos, f"{n} bytes of state bits: {end - pos - 1} left")
    states: list[int | float | None] = [raw[pos + 1 + k // 8] >> (k % 8) & 1 for k in range(8 * n)]
    return states, pos + 1 + n


def _control(raw: bytes, pos: int, end: int) -> tuple[Value, int]:
    if pos >= end:
        raise FrameError(pos, "fixed-value control: state byte missing")
    if raw[pos] not in (0x00, 0xFF):
        raise FrameError(pos, f"fixed-value control {raw[pos]:02X}: FF (on) or 00 (off)")
    return int(raw[pos] == 0xFF), pos + 1


_READERS: dict[int, Callable[[bytes, int, int], tuple[Value, int]]] = {
    0x45: _version,
    0x50: _events,
    0x4C: _bits,
    0x4D: _bits,
    0x4E: _bits,
    0x4F: _control,
}


def read_answer(
    function: int, buf: bytes, pos: int, end: int, obs: datetime | None, station: str | None
) -> tuple[Element, int]:
    """The answer of ``function`` at ``pos`` and where its data end (4EH: element groups
    may follow). Raises :class:`FrameError` when the data do not fit the layout."""
    value, stop = _READERS[function](buf, pos, end)
    code, name, name_en = _NAMES[function]
    element = Element(code, name, name_en, "", value, 0, bytes(buf[pos:stop]), code, obs, station)
    return element, stop


def answer_element(function: int, value: Value) -> Element:
    """The answer of ``function`` (45H, 4CH–4FH, 50H) carrying ``value``: version text, the
    32 event counters, the list of 0/1 states (padded to whole bytes), or 1/0 on/off."""
    if function == 0x45:
        text = str(value).encode("ascii")
        raw = bytes((len(text),)) + text
    elif function == 0x50:
        if not isinstance(value, list) or len(value) != 32:
            raise ValueError("an event record has 32 counters")
        raw = b"".join(int(v or 0).to_bytes(2, "big") for v in value)
    elif function in (0x4C, 0x4D, 0x4E):
        if not isinstance(value, list):
            raise ValueError("states are a list of 0/1")
        n = (len(value) + 7) // 8
        data = bytearray(n)
        for k, v in enumerate(value):
            if v:
                data[k // 8] |= 1 << (k % 8)
        raw = bytes((n,)) + bytes(data)
    elif function == 0x4F:
        raw = b"\xff" if value else b"\x00"
    else:
        raise ValueError(f"function {function:02X} has no fixed answer layout")
    element, _stop = read_answer(function, raw, 0, len(raw), None, None)
    return element
