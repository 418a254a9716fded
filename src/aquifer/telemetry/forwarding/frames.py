"""What the forwarder does to a frame's bytes, and how it knows the upstream took it (pure).

A frame goes upward exactly as received. The one change, when the upstream knows the station
by another address (the destination's station map), is the address field, and with it the
checksum: SL651 HEX bytes 3–7 (up frames) and the CRC-16; SL651 ASCII characters 3–12 and
the CRC's 4 hex characters; SZY206 the 5-byte A field (after C, and DIVS when C.DIV is set)
and the CS byte. Everything else is byte for byte what the device sent.

The upstream acknowledges with its protocol's reply: SL651 a down frame with the same function
code and the echoed serial (M2, STD 6.3); SZY206 a down frame with the same address and AFN
(docs/protocols.md §2.7). Frames the protocol does not confirm (SL651 2FH keep-alive, M3
packets before the last; SZY206 AFNs other than C0H, 81H, 02H) are done once sent.
"""

from __future__ import annotations

from ..protocols import FrameError, sl651, szy206
from ..protocols.crc import crc8, crc16_modbus

__all__ = ["expects_reply", "frame_size", "is_reply", "rewrite_station"]

SZY206_CONFIRMED = frozenset({0xC0, 0x81, 0x02})


def rewrite_station(raw: bytes, protocol: str, station: str | None) -> bytes:
    """``raw`` with its station address replaced by ``station`` (10 hex digits) and its
    checksum recomputed; ``raw`` itself when ``station`` is None or already the address."""
    if not station:
        return raw
    if len(station) != 10 or any(c not in "0123456789ABCDEFabcdef" for c in station):
        raise ValueError(f"station address {station!r}: 10 hex digits")
    data = bytearray(raw)
    if protocol == "SL651":
        if data[:2] == b"\x7e\x7e":
            data[3:8] = bytes.fromhex(station)
            data[-2:] = crc16_modbus(bytes(data[:-2])).to_bytes(2, "big")
        elif data[:1] == b"\x01":
            data[3:13] = station.upper().encode("ascii")
            data[-4:] = f"{crc16_modbus(bytes(data[:-4])):04X}".encode("ascii")
        else:
            raise FrameError(0, "not an SL651 frame")
    elif protocol == "SZY206":
        if data[1] == 0x01:  # the vendor long-frame escape: its address moves; not rewritten
            raise FrameError(1, "a long frame's address is not rewritten")
        at = 5 if data[3] & 0x40 else 4
        data[at : at + 5] = bytes.fromhex(station)
        data[-2] = crc8(bytes(data[3:-2]))
    else:
        raise ValueError(f"unknown protocol {protocol!r}")
    return bytes(data)


def expects_reply(raw: bytes, protocol: str) -> bool:
    """Whether the upstream confirms this (up) frame."""
    try:
        if protocol == "SL651":
            f = sl651.decode(raw, verify=False)
            return f.function != 0x2F and f.end != sl651.ETB
        return szy206.decode(raw, verify=False).function in SZY206_CONFIRMED
    except FrameError:
        return False


def frame_size(buf: bytes | bytearray, protocol: str) -> int | None:
    return (sl651.frame_size if protocol == "SL651" else szy206.frame_size)(buf)


def is_reply(reply: bytes, sent: bytes, protocol: str) -> bool:
    """Whether ``reply`` (one frame from the upstream) confirms ``sent`` (as sent)."""
    try:
        if protocol == "SL651":
            up, down = sl651.decode(sent, verify=False), sl651.decode(reply)
            return (
                down.direction == "down"
                and down.function == up.function
                and down.station == up.station
                and down.serial == up.serial
                and down.end in (sl651.EOT, sl651.ESC, sl651.ACK)
            )
        up2, down2 = szy206.decode(sent, verify=False), szy206.decode(reply)
        return (
            down2.direction == "down"
            and down2.function == up2.function
            and down2.station == up2.station
        )
    except FrameError:
        return False
