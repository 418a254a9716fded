"""SL651 ASCII mode: the body's tokens after serial and send time.

Tokens are separated by spaces: ``ST`` station address [station type letter], ``TT``
observation time (``YYMMDDHHmm``), ``DRxnn`` time step, ``RGZS``/``PIC`` (the rest of the body
is manual-set data or a picture), and "symbol value" pairs (``VT 12.34``), the symbol being the
element's ASCII identifier (Appendix C) — or, in configuration functions, the item's two hex
digits (Appendix D). Numbers are written with their decimal point; ``M`` is no data; status
words and 5-minute series are hex digits.

The body is read by one loop that handles the common case itself (a BCD element with a decimal
point) and hands every other token to a reader: ``TT``, ``ST``, ``RGZS`` and ``PIC`` have their
own (:data:`_SPECIAL_TOKENS`), anything else is an element (:func:`_element_token`). A reader
takes the tokens, the index of its token, the body's context, the running observation time and
station and the element list's ``append``, and returns the index of the next token with the
(new) running time and station.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import TypeAlias

from ..common import Element, FrameError, Value
from .elements import (
    CONFIG_ITEMS,
    ELEMENTS,
    ELEMENTS_BY_SYMBOL,
    STATION_TYPES,
    ElementDef,
    status_bits,
)
from .frame import _SERIES_FUNCTIONS, _UNKNOWN, DATA_FUNCTIONS, _Body

__all__: list[str] = []

_STEP = re.compile(r"DR([DHN])(\d\d)\Z")
_ASCII_DEFS = {sym: (d.hex, d) for sym, d in ELEMENTS_BY_SYMBOL.items()}
_ASCII_FAST = {
    sym: (d.hex, d.name, d.name_en, d.unit)
    for sym, d in ELEMENTS_BY_SYMBOL.items()
    if d.kind == "bcd"
}
_TOKENS = re.compile(rb"[^ ]+")
_TYPE_BY_LETTER = {letter: code for code, (letter, _zh, _en) in STATION_TYPES.items()}
_HEXTEXT = re.compile(r"[0-9A-Fa-f]+\Z")

#: What the readers need of the body: (buf, pos, end, function, tz, body, config).
_Ctx: TypeAlias = tuple[bytes, int, int, int, tzinfo | None, _Body, bool]
_Read: TypeAlias = tuple[int, datetime | None, str | None]


def _parse_tokens(
    buf: bytes,
    pos: int,
    end: int,
    function: int,
    tz: tzinfo | None,
    extensions: Mapping[int, ElementDef],
    b: _Body,
    config: bool,
) -> None:
    tokens = [t for t in buf[pos:end].decode("latin-1").split(" ") if t]
    ctx: _Ctx = (buf, pos, end, function, tz, b, config)
    append = b.elements.append
    obs = b.obs
    station = b.station
    fast = _ASCII_FAST
    special = _SPECIAL_TOKENS
    other = _element_token
    count = len(tokens)
    i = 0
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
        i, obs, station = special.get(sym, other)(tokens, i, ctx, obs, station, append)


def _fail(ctx: _Ctx, index: int, reason: str) -> FrameError:
    """The error at the ``index``-th token."""
    return FrameError(_token_offset(ctx[0], ctx[1], ctx[2], index), reason)


def _observation_token(
    tokens: list[str], i: int, ctx: _Ctx, obs: datetime | None, station: str | None,
    append: Callable[[Element], None],
) -> _Read:  # fmt: skip
    """``TT`` + observation time (10 digits): the time of the elements that follow."""
    if i + 1 >= len(tokens):
        raise _fail(ctx, i, "TT: value missing at end of body")
    val = tokens[i + 1]
    if len(val) != 10 or not val.isdecimal():
        raise _fail(ctx, i + 1, f"observation time (TT) {val!r}: 10 digits expected")
    obs = _times(val, ctx[4])
    if obs is None:
        raise _fail(ctx, i + 1, f"observation time (TT) {val} is no date")
    b = ctx[5]
    if b.obs is None:
        b.obs = obs
    return i + 2, obs, station


def _station_token(
    tokens: list[str], i: int, ctx: _Ctx, obs: datetime | None, station: str | None,
    append: Callable[[Element], None],
) -> _Read:  # fmt: skip
    """``ST`` + station address (10 hex digits), and the station type letter if one follows."""
    if i + 1 >= len(tokens):
        raise _fail(ctx, i, "ST: value missing at end of body")
    val = tokens[i + 1]
    if len(val) != 10 or not _HEXTEXT.match(val):
        raise _fail(ctx, i + 1, f"station address {val!r}: 10 hex digits expected")
    station = val.upper()
    b = ctx[5]
    if b.station is None:
        b.station = station
    i += 2
    stype = _station_type(tokens, i, ctx[3])
    if stype is not None:
        if b.stype is None:
            b.stype = stype
        i += 1
    return i, obs, station


def _station_type(tokens: list[str], i: int, function: int) -> int | None:
    """The station type of the letter at ``i``, in data reports and where ``TT`` follows it."""
    if i < len(tokens):
        letter = tokens[i]
        if letter in _TYPE_BY_LETTER and (
            function in DATA_FUNCTIONS or (i + 1 < len(tokens) and tokens[i + 1] == "TT")
        ):
            return _TYPE_BY_LETTER[letter]
    return None


def _rest(ctx: _Ctx, i: int, sym: str) -> bytes:
    """The body after the ``i``-th token ``sym`` and its space."""
    buf, pos, end = ctx[0], ctx[1], ctx[2]
    at = _token_offset(buf, pos, end, i)
    return buf[min(at + len(sym) + 1, end) : end]


def _manual_token(
    tokens: list[str], i: int, ctx: _Ctx, obs: datetime | None, station: str | None,
    append: Callable[[Element], None],
) -> _Read:  # fmt: skip
    """``RGZS`` + manual-set data: the rest of the body."""
    raw = _rest(ctx, i, "RGZS")
    text = raw.decode("latin-1").strip()
    append(Element("F2", "人工置数", "manual-set data", "", text, 0, raw, "RGZS", obs, station))
    return len(tokens), obs, station


def _picture_token(
    tokens: list[str], i: int, ctx: _Ctx, obs: datetime | None, station: str | None,
    append: Callable[[Element], None],
) -> _Read:  # fmt: skip
    """``PIC`` + picture data: the rest of the body."""
    raw = _rest(ctx, i, "PIC")
    append(Element("F3", "图片信息", "picture", "", None, 0, raw, "PIC", obs, station))
    return len(tokens), obs, station


def _element_token(
    tokens: list[str], i: int, ctx: _Ctx, obs: datetime | None, station: str | None,
    append: Callable[[Element], None],
) -> _Read:  # fmt: skip
    """An element: a time step ``DRxnn`` (no value), or a symbol and its value."""
    sym = tokens[i]
    entry = _ASCII_DEFS.get(sym)
    if entry is None or entry[1].kind != "bcd":
        step = _STEP.match(sym)
        if step:
            append(_time_step(sym, step, obs, station))
            if ctx[3] in _SERIES_FUNCTIONS and i + 2 < len(tokens):
                return _series_tokens(tokens, i + 1, ctx, obs, station, append)
            return i + 1, obs, station
        if ctx[6] and len(sym) == 2 and _HEXTEXT.match(sym):
            entry = _config_entry(sym, entry)
    if i + 1 >= len(tokens):
        raise _fail(ctx, i, f"{sym}: value missing at end of body")
    append(_element(ctx, i, sym, tokens[i + 1], entry, obs, station))
    return i + 2, obs, station


def _series_tokens(
    tokens: list[str], i: int, ctx: _Ctx, obs: datetime | None, station: str | None,
    append: Callable[[Element], None],
) -> _Read:  # fmt: skip
    """Uniform-period data in ASCII (31H, 38H): after ``DRxnn`` a symbol and its values, up to
    the first token that is no number (``M`` = no data)."""
    sym = tokens[i]
    entry = _ASCII_DEFS.get(sym)
    if entry is not None and entry[1].kind != "bcd":
        return i, obs, station
    j = i + 1
    values: list[int | float | None] = []
    decimals = 0
    texts: list[str] = []
    while j < len(tokens):
        text = tokens[j]
        if text == "M":
            values.append(None)
        else:
            num = _number(text)
            if num is None:
                break
            values.append(num[0])
            decimals = max(decimals, num[1])
        texts.append(text)
        j += 1
    if not values:
        raise _fail(ctx, i, f"{sym}: series without values")
    step = ctx[5].elements[-1].value
    code, name, name_en, unit, symbol = (
        (entry[0], entry[1].name, entry[1].name_en, entry[1].unit, entry[1].symbol)
        if entry is not None
        else (sym, *_UNKNOWN, "", sym)
    )
    append(
        Element(
            code, name, name_en, unit, values, decimals, " ".join(texts).encode("latin-1"),
            symbol, obs, station, None, step if isinstance(step, int) else None,
        )
    )  # fmt: skip
    return j, obs, station


def _time_step(sym: str, step: re.Match[str], obs: datetime | None, station: str | None) -> Element:
    """``DRxnn``: the time step (D days, H hours, N minutes) as the element 04H, in minutes."""
    minutes = {"D": 1440, "H": 60, "N": 1}[step.group(1)] * int(step.group(2))
    step_def = ELEMENTS[0x04]
    return Element(
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


def _config_entry(sym: str, entry: tuple[str, ElementDef] | None) -> tuple[str, ElementDef] | None:
    """A configuration item's two hex digits (functions 40H–43H, 49H), where the table has it."""
    cfg = CONFIG_ITEMS.get(int(sym, 16))
    return entry if cfg is None else (cfg.hex, cfg)


def _element(
    ctx: _Ctx,
    i: int,
    sym: str,
    val: str,
    entry: tuple[str, ElementDef] | None,
    obs: datetime | None,
    station: str | None,
) -> Element:
    """The element of symbol ``sym`` (token ``i``) and its value ``val``."""
    if entry is None:  # a vendor symbol: kept, as a number when it is one, else as text
        num = _number(val)
        kept: Value = num[0] if num is not None else (None if val == "M" else val)
        dec = num[1] if num is not None else 0
        return Element(sym, *_UNKNOWN, "", kept, dec, val.encode("latin-1"), sym, obs, station)
    code, d = entry
    bits = None
    value: Value
    if d.kind == "bcd":
        value, dec = _bcd_token(ctx, i, sym, val, d)
    else:
        value, bits = _coded_token(ctx, i, sym, val, d.kind)
        dec = 0
    return Element(
        code,
        d.name,
        d.name_en,
        "mm" if d.kind == "rain5" else d.unit,
        value,
        dec,
        val.encode("latin-1"),
        d.symbol,
        obs,
        station,
        bits,
    )


def _bcd_token(ctx: _Ctx, i: int, sym: str, val: str, d: ElementDef | None) -> tuple[Value, int]:
    """A number (``12.34``, ``-3``) and its decimals; ``M`` is no data."""
    whole, dot, frac = val.partition(".")
    if dot and whole.isdecimal() and frac.isdecimal():
        return float(val), len(frac)
    if val == "M":
        return None, d.decimals if d is not None else 0
    num = _number(val)
    if num is None:
        raise _fail(ctx, i + 1, f"value {val!r} of {sym} is not a number")
    return num


def _coded_token(
    ctx: _Ctx, i: int, sym: str, val: str, kind: str
) -> tuple[Value, Mapping[str, bool] | None]:
    """A value in hex digits (status word, hex data, 5-minute series) and its status bits."""
    if len(val) % 2 or not _HEXTEXT.match(val):
        raise _fail(ctx, i + 1, f"{sym}: {val!r} is not hex")
    read = _KIND_VALUES.get(kind)
    if read is None:
        raise _fail(ctx, i, f"{sym} takes no value in ASCII mode")
    return read(val)


def _status_value(val: str) -> tuple[Value, Mapping[str, bool] | None]:
    word = int(val, 16)
    return word, status_bits(word)


def _hex_value(val: str) -> tuple[Value, Mapping[str, bool] | None]:
    return val.upper(), None


def _rain_value(val: str) -> tuple[Value, Mapping[str, bool] | None]:
    return [None if x == 0xFF else x / 10 for x in bytes.fromhex(val)], None


def _level_value(val: str) -> tuple[Value, Mapping[str, bool] | None]:
    rawv = bytes.fromhex(val)
    values: list[float | None] = [
        None if (w := rawv[k] << 8 | rawv[k + 1]) == 0xFFFF else w
        for k in range(0, len(rawv) - 1, 2)
    ]
    return values, None


_KIND_VALUES: dict[str, Callable[[str], tuple[Value, Mapping[str, bool] | None]]] = {
    "status": _status_value,
    "hex": _hex_value,
    "rain5": _rain_value,
    "level5": _level_value,
}

_TokenReader: TypeAlias = Callable[
    [list[str], int, _Ctx, datetime | None, str | None, Callable[[Element], None]], _Read
]

#: Readers of the tokens that are no element (a symbol of a BCD element is never one of them).
_SPECIAL_TOKENS: dict[str, _TokenReader] = {
    sym: reader
    for sym, reader in (
        ("TT", _observation_token),
        ("ST", _station_token),
        ("RGZS", _manual_token),
        ("PIC", _picture_token),
    )
    if sym not in _ASCII_FAST
}


def _number(text: str) -> tuple[int | float, int] | None:
    """A decimal number as ASCII mode writes it (``-1.72``), with its decimals; else None."""
    if text.isdecimal():
        return int(text), 0
    whole, dot, frac = text.partition(".")
    if whole[:1] in ("+", "-"):
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
