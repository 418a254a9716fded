"""SL651: the centre's replies to up frames, built from the decoded frame or its raw header.

:func:`acknowledge` (M2/M3 confirmation), :func:`acknowledge_raw` (the gateway's fast path, from
the frame's own bytes) and :func:`negative_acknowledge` (resend one packet of an M3 message).
"""

from __future__ import annotations

from datetime import datetime

from ..common import CHINA_TZ
from ..crc import crc16_modbus
from .encoding import _bcd_time, encode_frame
from .frame import ESC, NAK, STX, SL651Frame

__all__ = ["acknowledge", "acknowledge_raw", "negative_acknowledge"]


def _echo_body(encoding: str, serial: int, when: datetime) -> bytes:
    """A reply's body: the serial and send time it echoes."""
    if encoding == "ASCII":
        return f"{serial:04X}{when:%y%m%d%H%M%S}".encode("ascii")
    return serial.to_bytes(2, "big") + _bcd_time(when, 6)


def acknowledge(
    frame: SL651Frame,
    *,
    end: int = ESC,
    send_time: datetime | None = None,
) -> bytes:
    """The centre's confirmation of an up frame (STD 6.3, M2 and M3).

    Same function code, centre, station and password; direction down; body = the echoed serial
    + send time (the up frame's send time unless ``send_time`` is given); end character EOT
    (station may go offline) or ESC (station stays online, the default). For a multi-packet
    message the reply starts with SYN and carries the packet total with sequence = total
    (the message is complete). Pass ``end=ACK`` to answer an ETB packet of a multi-frame M4
    response.

    Raises :class:`ValueError` for a keep-alive (2FH), which gets no reply, and for down
    frames and M3 packets after the first (use the first packet or the reassembled message).
    """
    if frame.direction != "up":
        raise ValueError("only up frames are acknowledged")
    if frame.function == 0x2F:
        raise ValueError("a link keep-alive (2FH) gets no reply (STD 6.6.4.2)")
    if frame.serial is None or frame.send_time is None:
        raise ValueError("the frame has no serial and send time to echo (an M3 packet > 1?)")
    body = _echo_body(frame.encoding, frame.serial, send_time or frame.send_time)
    packet = None
    if frame.packet_total is not None:
        packet = (frame.packet_total, frame.packet_total)
    return encode_frame(
        function=frame.function,
        station=frame.station,
        body=body,
        center=frame.center,
        password=frame.password,
        direction="down",
        end=end,
        packet=packet,
        encoding=frame.encoding,
    )


def acknowledge_raw(raw: bytes | bytearray, *, end: int = ESC) -> bytes | None:
    """:func:`acknowledge` built from the up frame's own header bytes, without decoding it.

    For the gateway's usual case, a single-packet HEX frame (start STX) that was decoded
    successfully: the confirmation swaps centre and station, keeps password and function,
    sets the down bit with the body length 8, and echoes the serial and send time bytes as
    they came (a frame that decoded has a valid BCD time, so they are what :func:`acknowledge`
    would encode). Returns ``None`` for anything else (ASCII, M3 packets, a keep-alive, a down
    frame, too short): call :func:`acknowledge` with the decoded frame then.
    """
    if (
        len(raw) < 25
        or raw[0] != 0x7E
        or raw[1] != 0x7E
        or raw[13] != STX
        or raw[11] & 0xF0  # a down frame (8xxx)
        or raw[10] == 0x2F  # keep-alive: no reply
    ):
        return None
    frame = (
        b"\x7e\x7e" + raw[3:8] + raw[2:3] + raw[8:11] + b"\x80\x08\x02" + raw[14:22]
        + bytes((end,))
    )  # fmt: skip
    return frame + crc16_modbus(frame).to_bytes(2, "big")


def negative_acknowledge(
    frame: SL651Frame,
    seq: int | None = None,
    *,
    serial: int | None = None,
    send_time: datetime | None = None,
) -> bytes:
    """NAK for one packet of an M3 message: resend packet ``seq`` (default: ``frame``'s).

    ``serial`` and ``send_time`` default to the frame's (packet 1's); for later packets pass
    those of packet 1, or leave them to write serial 0 and the current time.
    """
    if frame.packet_total is None:
        raise ValueError("NAK applies to multi-packet (M3) frames")
    seq = frame.packet_seq if seq is None else seq
    if seq is None or not 1 <= seq <= frame.packet_total:
        raise ValueError(f"packet {seq} is not in 1…{frame.packet_total}")
    serial = frame.serial if serial is None else serial
    when = send_time or frame.send_time or datetime.now(CHINA_TZ)
    body = _echo_body(frame.encoding, serial or 0, when)
    return encode_frame(
        function=frame.function,
        station=frame.station,
        body=body,
        center=frame.center,
        password=frame.password,
        direction="down",
        end=NAK,
        packet=(frame.packet_total, seq),
        encoding=frame.encoding,
    )
