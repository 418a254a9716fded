"""SZY206 fields: the control byte C, the address A, the time label Tp, BCD values, and the
:class:`Options` that say how to read the points no source confirms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..common import BCD
from .tables import DEFAULT_QUALITY_ITEMS, QualityItem

__all__ = [
    "DEFAULT_OPTIONS",
    "Control",
    "Options",
    "Tp",
    "control_byte",
    "encode_value",
    "parse_address",
    "parse_control",
]


@dataclass(frozen=True, slots=True)
class Options:
    """How to read the points no source confirms (docs/protocols.md §2, all [U]).

    Attributes
    ----------
    a2_order
        Byte order of A2, the 2-byte station number: ``"little"`` (RTUA ``RtuIdProtocol``,
        the default) or ``"big"``.
    word_order
        Byte order of the alarm and status words: ``"little"`` (RTUA, the default; it also
        makes vector szy206-69 consistent: AC-power alarm with battery power) or ``"big"``
        (HM ``beToInt``).
    level_decimals
        Decimals of a water level (C function 2): 3 (RTUA B0H/B1H, default), 2 (RTUA C0H) or
        0 (HM).
    flow_unit
        Unit label of instantaneous flow (C function 3), 3 decimals: ``"m³/h"`` by default.
    up_aux
        Time label Tp at the end of C0H/81H/B0H up data: ``"auto"`` (decided from the data
        length, default), ``"tp"`` or ``"none"``.
    down_aux
        PW + Tp at the end of down data: ``"auto"`` (when the data has at least 7 bytes,
        default), ``"pw_tp"`` or ``"none"``.
    quality_items
        The water-quality bitmap (C function 10).
    """

    a2_order: str = "little"
    word_order: str = "little"
    level_decimals: int = 3
    flow_unit: str = "m³/h"
    up_aux: str = "auto"
    down_aux: str = "auto"
    quality_items: Mapping[int, QualityItem] = field(default_factory=lambda: DEFAULT_QUALITY_ITEMS)


DEFAULT_OPTIONS = Options()


@dataclass(frozen=True, slots=True)
class Control:
    """The control field C: direction, DIV, FCB, function code."""

    up: bool
    div: bool
    fcb: int
    function: int

    @property
    def byte(self) -> int:
        return control_byte(up=self.up, function=self.function, fcb=self.fcb, div=self.div)


@dataclass(frozen=True, slots=True)
class Tp:
    """Time label: second, minute, hour, day (BCD; −1 where not BCD) and allowed delay (min)."""

    second: int
    minute: int
    hour: int
    day: int
    delay: int

    def to_bytes(self) -> bytes:
        def bcd(v: int) -> int:
            if not 0 <= v <= 99:
                raise ValueError(f"Tp field {v} is not 0–99")
            return (v // 10) << 4 | v % 10

        return bytes(
            (bcd(self.second), bcd(self.minute), bcd(self.hour), bcd(self.day), self.delay & 0xFF)
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> Tp:
        b = BCD
        return cls(b[raw[0]], b[raw[1]], b[raw[2]], b[raw[3]], raw[4])

    def to_dict(self) -> dict[str, int]:
        return {
            "second": self.second,
            "minute": self.minute,
            "hour": self.hour,
            "day": self.day,
            "delay_min": self.delay,
        }


def parse_control(c: int) -> Control:
    """Split a control byte into direction (D7), DIV (D6), FCB (D5–D4) and function (D3–D0)."""
    return Control(bool(c & 0x80), bool(c & 0x40), (c >> 4) & 3, c & 0x0F)


def control_byte(*, up: bool, function: int, fcb: int = 3, div: bool = False) -> int:
    """The control byte; FCB defaults to 3 (AM206 ``FCB_Default``, every sample frame).

    >>> hex(control_byte(up=True, function=3))
    '0xb3'
    """
    if not 0 <= function <= 15 or not 0 <= fcb <= 3:
        raise ValueError(f"function {function} (0–15) or FCB {fcb} (0–3) out of range")
    return (0x80 if up else 0) | (0x40 if div else 0) | fcb << 4 | function


def parse_address(raw: bytes, a2_order: str = "little") -> tuple[str, str | None, int]:
    """Address A → (10 hex digits, A1 administrative code or ``None``, A2 station number).

    >>> parse_address(bytes.fromhex("5303810D00"))
    ('5303810D00', '530381', 13)
    """
    admin = raw[:3].hex()
    return (
        raw.hex().upper(),
        admin if admin.isdigit() else None,
        int.from_bytes(raw[3:5], _order(a2_order)),
    )


def _bcd_value(raw: bytes, decimals: int) -> int | float | None:
    """BCD, low byte first, sign in the top bit of the last byte; all AA/FF (or not BCD) → None."""
    last = raw[-1]
    if last & 0x80:
        digits = (bytes((last & 0x7F,)) + raw[-2::-1]).hex()
        if not digits.isdigit():
            return None
        number = -int(digits)
    else:
        digits = raw[::-1].hex()
        if not digits.isdigit():
            return None
        number = int(digits)
    return number / 10**decimals if decimals else number


def encode_value(value: float | None, size: int, decimals: int) -> bytes:
    """A value as ``size`` BCD bytes, low byte first, sign in the top bit; ``None`` → all AA.

    >>> encode_value(5.9, 5, 3).hex().upper()
    '0059000000'
    >>> encode_value(-1.25, 4, 3).hex().upper()
    '50120080'
    """
    if value is None:
        return b"\xaa" * size
    scaled = round(value * 10**decimals)
    text = str(abs(scaled)).rjust(2 * size, "0")
    if len(text) > 2 * size or text[0] > "7":
        raise ValueError(f"{value} does not fit in {size} bytes with {decimals} decimals")
    out = bytearray(bytes.fromhex(text)[::-1])
    if scaled < 0:
        out[-1] |= 0x80
    return bytes(out)


def _order(name: str) -> Literal["little", "big"]:
    return "little" if name == "little" else "big"


def _hex(byte: int) -> str:
    return f"{byte:02X}"
