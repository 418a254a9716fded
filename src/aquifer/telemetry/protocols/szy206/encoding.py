"""SZY206 encoding: frames (:func:`encode_frame`), self-reports, link checks, the centre's
commands and confirmations, and a decoded frame back to bytes (:func:`encode`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..crc import crc8
from .fields import DEFAULT_OPTIONS, Options, Tp, _order, control_byte, encode_value
from .frame import SZY206Frame
from .tables import _LAYOUT, _unknown_quality

__all__ = [
    "confirm",
    "encode",
    "encode_command",
    "encode_frame",
    "encode_link_check",
    "encode_report",
]


def encode_frame(
    *, control: int, address: str, afn: int, data: bytes = b"", divs: int | None = None
) -> bytes:
    """Wrap user data into ``68 L 68 … CS 16``. Set DIV in ``control`` to send ``divs``."""
    if len(address) != 10:
        raise ValueError(f"address {address!r} must be 10 hex digits")
    if bool(control & 0x40) != (divs is not None):
        raise ValueError("DIV in the control byte and divs must go together")
    user = bytes((control,)) + (bytes((divs,)) if divs is not None else b"")
    user += bytes.fromhex(address) + bytes((afn,)) + data
    if len(user) > 255:
        raise ValueError(f"user data of {len(user)} bytes exceeds 255 (L is one byte)")
    return bytes((0x68, len(user), 0x68)) + user + bytes((crc8(user), 0x16))


def encode_report(
    station: str,
    *,
    function: int = 3,
    values: Sequence[float | None] = (),
    quality: Mapping[int, float | None] | None = None,
    alarm: int = 0,
    status: int = 0,
    tp: Tp | None = None,
    afn: int = 0xC0,
    fcb: int = 3,
    options: Options = DEFAULT_OPTIONS,
) -> bytes:
    """A self-report (AFN C0H; also 81H, B0H replies) of the values of one control function.

    Parameters
    ----------
    station
        Address A as 10 hex digits.
    function
        Control function code: 2 water level, 3 flow (values alternate instantaneous flow
        and cumulative volume), 9 water temperature, 10 water quality (``quality`` maps bit →
        value), 13 alarm/status only, 15 water pressure, 1 rainfall.
    alarm, status
        The alarm and terminal status words.
    tp
        Time label; ``None`` leaves it out.

    Examples
    --------
    >>> frame = encode_report("5303810D00", function=3, values=[5.9, 106182], alarm=0x1001,
    ...                       status=0x0060, tp=Tp(0, 45, 8, 9, 10))
    >>> frame.hex().upper()
    '681A68B35303810D00C00059000000826110000001106000004508090A3516'
    """
    parts = _report_values(function, values, quality, options)
    order = _order(options.word_order)
    parts.append(alarm.to_bytes(2, order) + status.to_bytes(2, order))
    if tp is not None:
        parts.append(tp.to_bytes())
    return encode_frame(
        control=control_byte(up=True, function=function, fcb=fcb),
        address=station,
        afn=afn,
        data=b"".join(parts),
    )


def _report_values(
    function: int,
    values: Sequence[float | None],
    quality: Mapping[int, float | None] | None,
    options: Options,
) -> list[bytes]:
    """The values of a self-report, laid out for its control function."""
    if function == 3:
        return [encode_value(v, 5, 3 if i % 2 == 0 else 0) for i, v in enumerate(values)]
    if function == 10:
        return _quality_report(quality, options)
    if function in _LAYOUT:
        usize, dec = _LAYOUT[function][:2]
        if dec < 0:
            dec = options.level_decimals
        return [encode_value(v, usize, dec) for v in values]
    if function != 13:
        raise ValueError(f"no value layout for control function {function}")
    return []


def _quality_report(quality: Mapping[int, float | None] | None, options: Options) -> list[bytes]:
    """The water-quality bitmap and the values it selects, by bit."""
    chosen = dict(quality or {})
    bitmap = 0
    for bit in chosen:
        bitmap |= 1 << bit
    parts = [bitmap.to_bytes(5, "little")]
    for bit in sorted(chosen):
        q = options.quality_items.get(bit) or _unknown_quality(bit)
        parts.append(encode_value(chosen[bit], q.size, q.decimals))
    return parts


def encode_link_check(station: str, state: int = 0xF2, *, tp: Tp | None = None) -> bytes:
    """A terminal's link check (AFN 02H): F0 log in, F1 log out, F2 keep alive."""
    data = bytes((state,)) + (tp.to_bytes() if tp is not None else b"")
    return encode_frame(
        control=control_byte(up=True, function=0), address=station, afn=0x02, data=data
    )


def encode_command(
    station: str,
    afn: int,
    data: bytes = b"",
    *,
    function: int = 0,
    password: int | None = 0,
    tp: Tp | None = None,
    fcb: int = 3,
) -> bytes:
    """A down command or query from the centre, with PW + Tp appended (AM206, RTUA).

    ``password=None`` leaves out both auxiliary fields; ``tp`` defaults to zeros.
    """
    aux = b""
    if password is not None:
        aux = password.to_bytes(2, "little") + (tp or Tp(0, 0, 0, 0, 0)).to_bytes()
    return encode_frame(
        control=control_byte(up=False, function=function, fcb=fcb),
        address=station,
        afn=afn,
        data=data + aux,
    )


def confirm(
    frame: SZY206Frame,
    *,
    data: bytes = b"\x00",
    password: int | None = None,
    tp: Tp | None = None,
) -> bytes:
    """The centre's confirmation of an up frame (C0H self-report, 81H alarm, 02H link check).

    As HM answers (docs/protocols.md §2.7): C with DIR cleared (FCB and function kept), the
    same address and AFN, one data byte ``00``; pass ``data=bytes((work_mode,))`` to answer as
    RTUA does. With ``password`` (and ``tp``), PW + Tp are appended (RTUA ``Confirm_02``).
    Whether the standard requires them is unconfirmed.
    """
    if frame.direction != "up":
        raise ValueError("only up frames are confirmed")
    aux = b""
    if password is not None:
        aux = password.to_bytes(2, "little") + (tp or Tp(0, 0, 0, 0, 0)).to_bytes()
    control = frame.control & 0x3F  # DIR and DIV cleared: a confirmation is one frame
    return encode_frame(control=control, address=frame.station, afn=frame.function, data=data + aux)


def encode(frame: SZY206Frame) -> bytes:
    """A decoded frame back to bytes (its data field as decoded; CS recomputed)."""
    if frame.long_frame:
        user = bytes((frame.control,))
        if frame.divs is not None:
            user += bytes((frame.divs,))
        user += bytes.fromhex(frame.station) + bytes((frame.function,))
        user += len(frame.data).to_bytes(2, "little") + frame.data
        return b"\x68\x01\x68" + user + bytes((crc8(user), 0x16))
    return encode_frame(
        control=frame.control,
        address=frame.station,
        afn=frame.function,
        data=frame.data,
        divs=frame.divs,
    )
