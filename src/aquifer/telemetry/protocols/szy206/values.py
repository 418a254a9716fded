"""SZY206 values: the data of a self-report (AFN C0H; also 81H, B0H, B2H) — the values the
control function selects, whether a time label Tp follows them, and the alarm and terminal
status words.

Values are BCD, low byte first, with the sign in the top bit of the last byte; their size and
decimals depend on the control function (flow: instantaneous flow and cumulative volume pairs
of 5 bytes; water quality: a 5-byte bitmap selects the parameters).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from ..common import Element, FrameError
from .fields import Options, Tp, _bcd_value, _order
from .frame import SZY206Frame
from .tables import (
    _LAYOUT,
    ALARM_BITS,
    CONTROL_FUNCTIONS,
    STATUS_BITS,
    QualityItem,
    _unknown_quality,
)

__all__: list[str] = []

_ALARM_CACHE: dict[int, Mapping[str, bool]] = {}
_STATUS_CACHE: dict[int, Mapping[str, bool]] = {}


def _bits(
    word: int, table: Mapping[int, tuple[str, str, str]], cache: dict[int, Mapping[str, bool]]
) -> Mapping[str, bool]:
    bits = cache.get(word)
    if bits is None:
        if len(cache) > 4096:
            cache.clear()
        bits = MappingProxyType({k: bool(word >> b & 1) for b, (k, _z, _e) in table.items()})
        cache[word] = bits
    return bits


def _words(frame: SZY206Frame, payload: bytes, at: int, options: Options) -> None:
    order = _order(options.word_order)
    alarm = int.from_bytes(payload[at : at + 2], order)
    status = int.from_bytes(payload[at + 2 : at + 4], order)
    frame.alarm = alarm
    frame.status = status
    append = frame.elements.append
    append(
        Element(
            "alarm",
            "终端报警状态",
            "alarm word",
            "",
            alarm,
            0,
            payload[at : at + 2],
            "",
            None,
            None,
            _bits(alarm, ALARM_BITS, _ALARM_CACHE),
        )
    )
    append(
        Element(
            "status",
            "终端状态",
            "terminal status",
            "",
            status,
            0,
            payload[at + 2 : at + 4],
            "",
            None,
            None,
            _bits(status, STATUS_BITS, _STATUS_CACHE),
        )
    )
    mode = status & 3
    append(Element("work_mode", "终端工作模式", "work mode", "", mode, 0, b"", "", None, None))


#: Bytes per value by control function: 0 for alarm/status only (13) and water quality (10,
#: whose sizes come from its bitmap); a function not listed has an unknown layout (-1).
_UNIT_SIZE: dict[int, int] = {13: 0, 3: 5, 10: 0} | {cf: v[0] for cf, v in _LAYOUT.items()}

_Quality = list[tuple[int, QualityItem]]


def _values(frame: SZY206Frame, payload: bytes, base: int, cf: int, options: Options) -> None:
    size = len(payload)
    unit = _UNIT_SIZE.get(cf, -1)
    qmap: _Quality = []
    body_len = 0
    if cf == 10:
        qmap, body_len = _quality_layout(payload, base, options)
    with_tp = _has_tp(size, body_len, cf, unit, options.up_aux)
    end = size - (9 if with_tp else 4)
    if end < 0:
        raise FrameError(base, f"data of {size} bytes has no room for alarm and status words")
    if with_tp:
        frame.tp = Tp.from_bytes(payload[size - 5 :])
    values = payload[:end]
    append = frame.elements.append
    if cf == 10:
        _quality_values(append, values, base, end, body_len, qmap)
    elif cf == 3:
        _flow_values(append, values, base, end, options)
    elif unit > 0:
        _layout_values(append, values, base, end, cf, options)
    elif unit < 0 and end:
        append(
            Element(
                "values",
                "数据",
                "values (layout unknown)",
                "",
                values.hex().upper(),
                0,
                values,
                "",
                None,
                None,
            )
        )
    _words(frame, payload, end, options)


def _quality_layout(payload: bytes, base: int, options: Options) -> tuple[_Quality, int]:
    """The parameters the water-quality bitmap selects, and the bytes of bitmap and values."""
    size = len(payload)
    if size < 5 + 4:
        raise FrameError(base, f"water-quality data of {size} bytes: bitmap alone needs 5")
    bitmap = int.from_bytes(payload[:5], "little")
    items = options.quality_items
    qmap = [
        (bit, items.get(bit) or _unknown_quality(bit)) for bit in range(40) if bitmap >> bit & 1
    ]
    return qmap, 5 + sum(q.size for _b, q in qmap)


def _has_tp(size: int, body_len: int, cf: int, unit: int, aux: str) -> bool:
    """Whether a time label Tp ends the data (:attr:`Options.up_aux`; ``"auto"``: by length)."""
    if aux == "tp":
        return True
    if aux == "none":
        return False
    if cf == 10 or cf == 13:
        return size - body_len - 4 == 5
    if unit > 0:
        return _tp_by_values(size, cf, unit)
    return size >= 9


def _tp_by_values(size: int, cf: int, unit: int) -> bool:
    """Tp or not, from the length: the reading that gives whole values (whole flow/volume pairs
    for flow) wins; one that leaves no value at all loses."""
    pair = 10 if cf == 3 else unit
    a, b = size - 9, size - 4
    fits_a = a >= 0 and a % unit == 0
    fits_b = b >= 0 and b % unit == 0
    if fits_a and fits_b:
        return a > 0 and (a % pair == 0 or b % pair != 0)
    return fits_a


def _quality_values(
    append: Callable[[Element], None],
    values: bytes,
    base: int,
    end: int,
    body_len: int,
    qmap: _Quality,
) -> None:
    if end != body_len:
        raise FrameError(
            base, f"water-quality bitmap selects {body_len} bytes of data; {end} present"
        )
    pos = 5
    for _bit, q in qmap:
        raw = values[pos : pos + q.size]
        append(
            Element(
                f"quality_{q.key}",
                q.name,
                q.name_en,
                q.unit,
                _bcd_value(raw, q.decimals),
                q.decimals,
                raw,
                "",
                None,
                None,
            )
        )
        pos += q.size


def _flow_values(
    append: Callable[[Element], None], values: bytes, base: int, end: int, options: Options
) -> None:
    """Pairs of instantaneous flow (3 decimals) and cumulative volume, 5 bytes each."""
    if end % 5:
        raise FrameError(base, f"flow data of {end} bytes is not a multiple of 5")
    for i in range(0, end, 5):
        raw = values[i : i + 5]
        k = i // 10 + 1
        if i % 10 == 0:
            append(
                Element(
                    f"flow_{k}",
                    "瞬时流量",
                    "instantaneous flow",
                    options.flow_unit,
                    _bcd_value(raw, 3),
                    3,
                    raw,
                    "",
                    None,
                    None,
                )
            )
        else:
            append(
                Element(
                    f"volume_{k}",
                    "累计水量",
                    "cumulative volume",
                    "m³",
                    _bcd_value(raw, 0),
                    0,
                    raw,
                    "",
                    None,
                    None,
                )
            )


def _layout_values(
    append: Callable[[Element], None],
    values: bytes,
    base: int,
    end: int,
    cf: int,
    options: Options,
) -> None:
    """Values of one size and decimals (rainfall, water level, temperature, pressure)."""
    usize, dec, name, name_en, unit_name = _LAYOUT[cf]
    if dec < 0:
        dec = options.level_decimals
    if end % usize:
        raise FrameError(base, f"{name_en} data of {end} bytes is not a multiple of {usize}")
    key = CONTROL_FUNCTIONS[cf][2]
    for i in range(0, end, usize):
        raw = values[i : i + usize]
        append(
            Element(
                f"{key}_{i // usize + 1}",
                name,
                name_en,
                unit_name,
                _bcd_value(raw, dec),
                dec,
                raw,
                "",
                None,
                None,
            )
        )
