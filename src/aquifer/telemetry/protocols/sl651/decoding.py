"""SL651 decoding: :func:`decode` (either encoding) and :func:`frame_size` (stream framing)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo

from ..common import CHINA_TZ, FrameError
from .asciimode import _ascii_int, _decode_ascii
from .elements import EXTENSIONS, ElementDef
from .frame import SOH, SL651Frame
from .hexmode import _decode_hex

__all__ = ["decode", "frame_size"]


def frame_size(buf: bytes | bytearray) -> int | None:
    """Size in bytes of the frame at the start of ``buf``, or ``None`` if not yet known.

    For splitting a TCP stream: returns as soon as the length field has arrived. Raises
    :class:`FrameError` if ``buf`` does not start like an SL651 frame.
    """
    if not buf:
        return None
    if buf[0] == 0x7E:
        if len(buf) >= 2 and buf[1] != 0x7E:
            raise FrameError(1, f"not an SL651 HEX frame: starts 7E {buf[1]:02X}")
        if len(buf) < 13:
            return None
        return 17 + (((buf[11] & 0x0F) << 8) | buf[12])
    if buf[0] == SOH:
        if len(buf) < 23:
            return None
        n = _ascii_int(bytes(buf), 20, 3, "body length")
        return 29 + n
    raise FrameError(0, f"not an SL651 frame: starts with {buf[0]:02X}")


def decode(
    data: bytes,
    *,
    verify: bool = True,
    tz: tzinfo | None = CHINA_TZ,
    extensions: Mapping[int, ElementDef] = EXTENSIONS,
) -> SL651Frame:
    """Decode one SL651 frame, HEX/BCD (``7E7E``…) or ASCII (SOH…).

    Parameters
    ----------
    data
        Exactly one frame.
    verify
        Check the CRC (STD H.3.2). With ``False`` a frame with a wrong CRC is still decoded
        and reports ``checksum_ok=False``.
    tz
        Zone of the frame's times (none is sent; UTC+8 assumed). ``None`` gives naive times.
    extensions
        Names of ``FF xx`` extension identifiers (vendor-specific).

    Returns
    -------
    SL651Frame

    Raises
    ------
    FrameError
        With the byte offset and reason of the first problem found.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    if data[:2] == b"\x7e\x7e":
        return _decode_hex(data, verify, tz, extensions)
    if data[:1] == b"\x01":
        return _decode_ascii(data, verify, tz, extensions)
    if not data:
        raise FrameError(0, "empty frame")
    return _fail_start(data)


def _fail_start(data: bytes) -> SL651Frame:
    if data == b"\x7e":
        raise FrameError(0, "frame cut short: 1 byte")
    if data[0] == 0x7E:
        raise FrameError(1, f"not an SL651 HEX frame: starts 7E {data[1:2].hex().upper()}")
    raise FrameError(0, f"not an SL651 frame: starts with {data[0]:02X} (7E7E or 01 expected)")
