"""Device protocol codecs: SL 651-2014 (HEX/BCD and ASCII) and SZY 206-2016.

Pure Python, no Django: the gateway, the simulator and the ``aquifer frames`` command use
them. Each protocol is a module (:mod:`.sl651`, :mod:`.szy206`) with ``decode`` and
``encode_*`` functions; :func:`decode` here recognises the protocol from the leading bytes.
What is decoded, and every point the sources leave unconfirmed, is in docs/protocols.md.
"""

from __future__ import annotations

from datetime import tzinfo

from . import crc, sl651, szy206
from .common import (
    CHINA_TZ,
    PROTOCOLS,
    DecodeError,
    Element,
    Frame,
    FrameError,
    Value,
    detect,
    parse_hex,
)
from .sl651 import SL651Frame
from .szy206 import SZY206Frame

__all__ = [
    "CHINA_TZ",
    "PROTOCOLS",
    "DecodeError",
    "Element",
    "Frame",
    "FrameError",
    "SL651Frame",
    "SZY206Frame",
    "Value",
    "crc",
    "decode",
    "detect",
    "parse_hex",
    "sl651",
    "szy206",
]

_FAMILY = {
    "sl651": "SL651",
    "sl651-hex": "SL651",
    "sl651-ascii": "SL651",
    "szy206": "SZY206",
}


def decode(
    data: bytes,
    protocol: str | None = None,
    *,
    verify: bool = True,
    tz: tzinfo | None = CHINA_TZ,
    options: szy206.Options = szy206.DEFAULT_OPTIONS,
) -> Frame:
    """Decode one frame of either protocol.

    Parameters
    ----------
    data
        Exactly one frame.
    protocol
        ``"sl651"`` or ``"szy206"`` (case-insensitive; ``"SL651-HEX"`` etc. also accepted);
        ``None`` recognises it from the leading bytes: ``7E7E`` SL651 HEX, ``01`` + ASCII
        SL651 ASCII, ``68`` SZY206.
    verify
        Check the checksum (a mismatch raises :class:`FrameError` at the checksum's offset).
    tz
        Zone of SL651 times (none is sent; UTC+8 assumed).
    options
        SZY206 readings of unconfirmed points (:class:`.szy206.Options`).

    Raises
    ------
    FrameError
        For anything that is not a decodable frame; never any other exception.
    """
    if protocol is None:
        found = detect(data)
        if found is None:
            first = f"{data[0]:02X}" if data else "nothing"
            raise FrameError(
                0, f"unknown protocol: frame starts with {first} (7E7E, 01 or 68 expected)"
            )
        family = "SZY206" if found == "SZY206" else "SL651"
    else:
        family = _FAMILY.get(protocol.lower(), "")
        if not family:
            raise ValueError(f"unknown protocol {protocol!r}: sl651 or szy206")
    if family == "SZY206":
        return szy206.decode(data, options, verify=verify)
    return sl651.decode(data, verify=verify, tz=tz)
