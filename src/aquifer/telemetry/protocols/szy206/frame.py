"""SZY206 framing: :class:`SZY206Frame` and :func:`frame_size` (splitting a stream)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..common import Frame, FrameError
from .fields import Tp
from .tables import CONTROL_FUNCTIONS

__all__ = ["SZY206Frame", "frame_size"]


@dataclass(slots=True, kw_only=True)
class SZY206Frame(Frame):
    """A decoded SZY206 frame. ``function`` is the AFN; ``station`` the raw address A.

    Attributes (besides :class:`~.common.Frame`'s)
    ----------------------------------------------
    control, fcb, control_function, div, divs
        The control byte and its fields; ``divs`` is the split-frame countdown (DIV = 1).
    admin_code, station_number
        A1 (6 digits, or ``None`` if not BCD) and A2 (read with :attr:`Options.a2_order`).
    data
        The data field after AFN, auxiliary fields included.
    alarm, status
        Alarm and terminal status words where the data carries them.
    link
        Link-check state (F0 log in, F1 log out, F2 keep alive) of AFN 02H.
    password, tp
        Auxiliary fields: PW (down) and time label Tp.
    long_frame
        The vendor long-frame form (L = 01 and a 2-byte length), seen with image data.
    """

    control: int = 0
    fcb: int = 0
    control_function: int = 0
    div: bool = False
    divs: int | None = None
    admin_code: str | None = None
    station_number: int | None = None
    data: bytes = b""
    alarm: int | None = None
    status: int | None = None
    link: int | None = None
    password: int | None = None
    tp: Tp | None = None
    long_frame: bool = False

    @property
    def is_confirmation(self) -> bool:
        """A down frame answering a link check or a self-report (AFN 02H, C0H, 81H) with at
        most one data byte besides PW + Tp (HM, RTUA)."""
        own = len(self.data) - (7 if self.password is not None else 0)
        return self.direction == "down" and self.function in (0x02, 0xC0, 0x81) and own <= 1

    def details(self) -> dict[str, Any]:
        cf = CONTROL_FUNCTIONS.get(self.control_function, ("", "", ""))
        out: dict[str, Any] = {
            "afn": f"{self.function:02X}",
            "control": f"{self.control:02X}",
            "control_function": self.control_function,
            "control_function_name": cf[0],
            "fcb": self.fcb,
            "div": self.div,
            "divs": self.divs,
            "admin_code": self.admin_code,
            "station_number": self.station_number,
            "data": self.data.hex().upper(),
            "alarm": None if self.alarm is None else f"{self.alarm:04X}",
            "status": None if self.status is None else f"{self.status:04X}",
            "link": None if self.link is None else f"{self.link:02X}",
            "password_present": self.password is not None,
            "password": None if self.password is None else f"{self.password:04X}",
            "tp": None if self.tp is None else self.tp.to_dict(),
            "is_confirmation": self.is_confirmation,
            "checksum": f"{self.checksum:02X}",
            "size": self.size,
        }
        if self.long_frame:
            out["long_frame"] = True
        return out


def frame_size(buf: bytes | bytearray) -> int | None:
    """Size of the frame at the start of ``buf``, or ``None`` until enough bytes arrived.

    Raises :class:`FrameError` if ``buf`` does not start with ``68 L 68``.
    """
    if not buf:
        return None
    if buf[0] != 0x68:
        raise FrameError(0, f"not an SZY206 frame: starts with {buf[0]:02X} (68 expected)")
    if len(buf) >= 3 and buf[2] != 0x68:
        raise FrameError(2, f"second start byte is {buf[2]:02X}, 68 expected")
    if len(buf) < 2:
        return None
    if buf[1] != 0x01:
        return buf[1] + 5
    if len(buf) < 4:
        return None
    at = 11 if buf[3] & 0x40 else 10  # the 2-byte length follows C, [DIVS,] A and AFN
    if len(buf) < at + 2:
        return None
    return at + 4 + (buf[at] | buf[at + 1] << 8)
