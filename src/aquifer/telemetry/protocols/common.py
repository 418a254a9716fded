"""What every protocol codec shares: the decoded frame and element, the decode error, BCD.

A decoder takes the bytes of one frame and returns a :class:`Frame` (a protocol-specific
subclass), or raises :class:`FrameError` carrying the byte offset into the frame where the
problem is and the reason. It never raises anything else, whatever the input.

Times in SL 651-2014 and SZY 206-2016 carry no zone; China Standard Time (UTC+8) is assumed
(docs/protocols.md, point [U]) and is a parameter of every decoder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, TypeAlias

__all__ = [
    "BCD",
    "CHINA_TZ",
    "PROTOCOLS",
    "DecodeError",
    "Element",
    "Frame",
    "FrameError",
    "Value",
    "detect",
    "parse_hex",
    "parse_time",
]

#: China Standard Time, the zone assumed for protocol times (no zone is sent).
CHINA_TZ: tzinfo = timezone(timedelta(hours=8), "CST")

#: The protocol names a decoder reports in :attr:`Frame.protocol`.
PROTOCOLS = ("SL651-HEX", "SL651-ASCII", "SZY206")

#: A decoded value: a number, text, a list of numbers (arrays such as 5-minute rainfall), or
#: ``None`` when the device marked the value missing (all ``FF`` or ``AA``) or it is not BCD.
Value: TypeAlias = int | float | str | list[int | float | None] | None

#: ``BCD[b]`` is the value 0–99 of the packed-BCD byte ``b``, or -1 when ``b`` is not BCD.
BCD: tuple[int, ...] = tuple(
    (hi * 10 + lo) if hi < 10 and lo < 10 else -1 for hi in range(16) for lo in range(16)
)


class FrameError(ValueError):
    """A frame that cannot be decoded.

    Attributes
    ----------
    offset : int
        Byte offset into the frame (0 = first byte) where the problem was found.
    reason : str
        What is wrong, in words a field engineer can act on.
    """

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(f"error at byte {offset}: {reason}")
        self.offset = offset
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.offset, self.reason))


#: Alias: the issue calls it DecodeError as well.
DecodeError = FrameError


@dataclass(slots=True)
class Element:
    """One decoded value of a frame: what it is (code, names, unit) and its value.

    ``code`` is the protocol's own identifier: for SL651 the identifier leader as two hex digits
    (``"0E"``, ``"39"``; ``"FF11"`` for an extension identifier), for SZY206 a stable item name
    (``"water_level_1"``, ``"flow_1"``, ``"alarm"``), since SZY206 identifies data by position.
    """

    code: str
    name: str
    name_en: str
    unit: str
    value: Value
    decimals: int = 0
    raw: bytes = b""
    symbol: str = ""
    observed_at: datetime | None = None
    station: str | None = None
    bits: Mapping[str, bool] | None = None
    #: Minutes between the values of a series (SL651 31H/38H uniform-period data: ``value``
    #: is a list, its first value observed at ``observed_at``); ``None`` for single values.
    step: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The element as JSON-ready data (the shape the ``frames decode`` command prints)."""
        out: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "name_en": self.name_en,
            "unit": self.unit,
            "value": self.value,
            "decimals": self.decimals,
        }
        if self.symbol:
            out["symbol"] = self.symbol
        if self.raw:
            out["raw"] = self.raw.hex().upper()
        if self.observed_at is not None:
            out["observed_at"] = self.observed_at.isoformat()
        if self.station is not None:
            out["station"] = self.station
        if self.bits is not None:
            out["bits"] = dict(self.bits)
        if self.step is not None:
            out["step_minutes"] = self.step
        return out


@dataclass(slots=True, kw_only=True)
class Frame:
    """A decoded frame: the fields every protocol has. Subclasses add their own.

    Attributes
    ----------
    protocol
        ``"SL651-HEX"``, ``"SL651-ASCII"`` or ``"SZY206"``.
    function
        SL651 function code, or SZY206 application function code (AFN).
    function_name, function_name_en
        Its name in Chinese (the standard's words) and English.
    station
        The station or terminal address as the frame writes it: 10 hex digits, upper case.
    direction
        ``"up"`` (station → centre) or ``"down"`` (centre → station).
    send_time, observation_time
        Where the frame carries them (SL651); ``None`` otherwise.
    elements
        The decoded values, in frame order.
    checksum, checksum_ok
        The checksum the frame carries, and whether it matches the one computed.
    size
        Number of bytes of the frame.
    """

    protocol: str
    function: int
    function_name: str
    function_name_en: str
    station: str
    direction: str
    send_time: datetime | None = None
    observation_time: datetime | None = None
    elements: list[Element] = field(default_factory=list)
    checksum: int = 0
    checksum_ok: bool = True
    size: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data with the stable keys of ``aquifer frames decode``.

        ``protocol``, ``function`` (two hex digits), ``function_name``, ``station``,
        ``send_time`` and ``observation_time`` (ISO 8601 or ``null``), ``elements`` (each
        with ``code``, ``name``, ``unit``, ``value``) and ``checksum_ok`` are stable; the rest
        are protocol details.
        """
        out: dict[str, Any] = {
            "protocol": self.protocol,
            "function": f"{self.function:02X}",
            "function_name": self.function_name,
            "function_name_en": self.function_name_en,
            "station": self.station,
            "direction": self.direction,
            "send_time": self.send_time.isoformat() if self.send_time else None,
            "observation_time": (
                self.observation_time.isoformat() if self.observation_time else None
            ),
            "elements": [e.to_dict() for e in self.elements],
            "checksum_ok": self.checksum_ok,
        }
        out.update(self.details())
        return out

    def details(self) -> dict[str, Any]:
        """Protocol-specific keys added to :meth:`to_dict` (overridden by subclasses)."""
        return {"size": self.size}


_HEX_JUNK = re.compile(r"[\s:,_-]+")


def parse_hex(text: str) -> bytes:
    """Bytes from hex text as field engineers paste it: any case, spaces or ``:`` allowed.

    A ``0x`` prefix is dropped. Raises :class:`ValueError` for anything that is not an even
    number of hex digits.

    Examples
    --------
    >>> parse_hex("7e7e 01 00").hex()
    '7e7e0100'
    """
    cleaned = _HEX_JUNK.sub("", text.strip())
    if cleaned[:2].lower() == "0x":
        cleaned = cleaned[2:]
    if len(cleaned) % 2:
        raise ValueError(f"odd number of hex digits ({len(cleaned)})")
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        bad = next((i for i, ch in enumerate(cleaned) if ch not in "0123456789abcdefABCDEF"), 0)
        raise ValueError(f"not a hex digit at position {bad}: {cleaned[bad]!r}") from None


def detect(data: bytes) -> str | None:
    """Which protocol a frame speaks, from its leading bytes; ``None`` if none matches.

    ``7E 7E`` → SL651 HEX/BCD; ``01`` (SOH) followed by ASCII → SL651 ASCII;
    ``68`` → SZY206.
    """
    if data[:2] == b"\x7e\x7e":
        return "SL651-HEX"
    if data[:1] == b"\x01" and (len(data) < 2 or 0x20 <= data[1] < 0x7F):
        return "SL651-ASCII"
    if data[:1] == b"\x68":
        return "SZY206"
    return None


def parse_time(
    data: bytes, pos: int, count: int, tz: tzinfo | None, offset: int, what: str
) -> datetime:
    """Read ``count`` BCD bytes ``YY MM DD HH [mm [SS]]`` at ``pos`` as a datetime (20YY).

    ``offset`` is the position of ``data[0]`` within the frame, for the error.
    """
    chunk = data[pos : pos + count]
    if len(chunk) < count:
        raise FrameError(offset + pos, f"{what}: needs {count} bytes, {len(chunk)} left")
    b = BCD
    parts = [b[x] for x in chunk]
    if -1 in parts:
        bad = parts.index(-1)
        raise FrameError(offset + pos + bad, f"{what}: {chunk.hex().upper()} is not BCD")
    parts += [0] * (6 - count)
    try:
        return datetime(2000 + parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], 0, tz)
    except ValueError as exc:
        raise FrameError(
            offset + pos, f"{what}: {chunk.hex().upper()} is no date ({exc})"
        ) from None
