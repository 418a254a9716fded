"""SL651: one element written — a HEX element group (identifier, data-definition byte, data)
with :func:`encode_element`, or an ASCII symbol and value.

The data-definition byte gives the data's length (high 5 bits) and decimals (low 3 bits);
numbers are BCD with the decimal point dropped, a negative one with a leading ``FF`` byte, no
data all ``FF`` (STD 6.6.3.3). Status words, hex data, 5-minute series and the time step have
their own writers, by the element's kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeAlias

from ..common import Element, Value
from .elements import ELEMENTS, EXTENSIONS, ElementDef, definition_byte
from .frame import _SCALE

__all__ = ["ElementInput", "encode_element"]

#: What :func:`encode_element` and :func:`encode_body` accept for an element: an
#: :class:`Element` (e.g. from a decoded frame), or ``(code, value)`` /
#: ``(code, value, decimals)`` with the identifier as an int (``0x39``, ``0xFF2B``) or hex text.
ElementInput: TypeAlias = Element | tuple[int | str, Value] | tuple[int | str, Value, int]


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
    head = bytes((0xFF, code & 0xFF)) if code > 0xFF else bytes((code,))
    if d is not None and d.kind != "bcd":
        return head + _KIND_DATA.get(d.kind, _number_data)(code, d, value, decimals, size)
    if isinstance(value, list):
        return head + _series_number_data(code, d, value, decimals, size)
    return head + _number_data(code, d, value, decimals, size)


def _series_number_data(
    code: int, d: ElementDef | None, values: list[int | float | None], decimals: int | None,
    size: int | None,
) -> bytes:  # fmt: skip
    """A uniform-period series (31H, 38H): one data-definition byte, then every value at the
    same size (the largest any value needs, unless ``size`` is given)."""
    if not values:
        raise ValueError(f"series of {code:02X} has no values")
    if size is None:
        size = max(_number_data(code, d, v, decimals, None)[0] >> 3 for v in values)
    parts = [_number_data(code, d, v, decimals, size) for v in values]
    return parts[0][:1] + b"".join(p[1:] for p in parts)


# The data of one element group (data-definition byte and data), by the element's kind:
# (code, definition, value, decimals, size) → bytes.


def _status_data(
    code: int, d: ElementDef | None, value: Value, decimals: int | None, size: int | None
) -> bytes:
    return b"\x20" + int(value or 0).to_bytes(4, "big")  # type: ignore[arg-type]


def _series_data(
    code: int, d: ElementDef | None, value: Value, decimals: int | None, size: int | None
) -> bytes:
    """12 five-minute values: rainfall (1 byte, 0.1 mm) or levels (2 bytes, cm); None = FF."""
    if not isinstance(value, list):
        raise ValueError(f"{code:02X} takes a list of 12 values")
    if d is not None and d.kind == "rain5":
        data = bytes(0xFF if v is None else round(v * 10) for v in value)
    else:
        data = b"".join(b"\xff\xff" if v is None else int(v).to_bytes(2, "big") for v in value)
    return bytes((definition_byte(len(data), 0),)) + data


def _step_data(
    code: int, d: ElementDef | None, value: Value, decimals: int | None, size: int | None
) -> bytes:
    """The time step in minutes, as BCD day, hour, minute."""
    minutes = int(value or 0)  # type: ignore[arg-type]
    days, rest = divmod(minutes, 1440)
    return b"\x18" + bytes.fromhex(f"{days:02d}{rest // 60:02d}{rest % 60:02d}")


def _hex_data(
    code: int, d: ElementDef | None, value: Value, decimals: int | None, size: int | None
) -> bytes:
    data = bytes.fromhex(str(value))
    return bytes((definition_byte(len(data), 0),)) + data


def _number_data(
    code: int, d: ElementDef | None, value: Value, decimals: int | None, size: int | None
) -> bytes:
    """A BCD number; ``None`` is all ``FF``, a negative one has a leading ``FF`` byte."""
    dec, nominal = _nominal(d, decimals, size)
    if value is None:
        n = size or nominal
        return bytes((definition_byte(n, dec),)) + b"\xff" * n
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
    return bytes((definition_byte(n, dec),)) + data


def _nominal(d: ElementDef | None, decimals: int | None, size: int | None) -> tuple[int, int]:
    """Decimals (given, or the element's nominal) and the nominal byte count of its digits."""
    dec = (d.decimals if d is not None else 0) if decimals is None else decimals
    digits = d.digits if d is not None and d.digits else 2 * (size or 1)
    return dec, (digits + 1) // 2


_KIND_DATA: dict[str, Callable[[int, ElementDef | None, Value, int | None, int | None], bytes]] = {
    "status": _status_data,
    "rain5": _series_data,
    "level5": _series_data,
    "timestep": _step_data,
    "hex": _hex_data,
}


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
    if item.step is not None and isinstance(item.value, list) and item.value:
        per = len(item.raw) // len(item.value)  # a series: the definition byte is per value
        return head + bytes((definition_byte(per, item.decimals),)) + item.raw
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
    if isinstance(value, list):  # a uniform-period series (31H, 38H)
        dec = d.decimals if decimals is None else decimals
        return d.symbol, " ".join(
            "M" if v is None else (f"{v:.{dec}f}" if dec else str(round(v))) for v in value
        )
    if isinstance(value, str):
        raise ValueError(f"element {d.symbol} takes a number, not {value!r}")
    dec = d.decimals if decimals is None else decimals
    return d.symbol, f"{value:.{dec}f}" if dec else str(round(value))
