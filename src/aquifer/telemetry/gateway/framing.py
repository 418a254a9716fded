"""Frames cut out of a TCP byte stream (:class:`FrameSplitter`), junk kept apart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aquifer.telemetry.protocols import FrameError, sl651, szy206

__all__ = ["FrameSplitter", "Piece"]


def _szy206_size(buf: bytes | bytearray) -> int | None:
    """szy206.frame_size, also refusing a first byte 68 that is not followed by L and 68."""
    size = szy206.frame_size(buf)
    if len(buf) >= 3 and buf[2] != 0x68:
        raise FrameError(2, f"second start byte is {buf[2]:02X}, 68 expected")
    return size


_PROTOCOLS: dict[str, tuple[Callable[[bytes | bytearray], int | None], tuple[bytes, ...]]] = {
    "SL651": (sl651.frame_size, (b"\x7e\x7e", b"\x01")),
    "SZY206": (_szy206_size, (b"\x68",)),
}


@dataclass(slots=True)
class Piece:
    """A cut of the stream: a frame to decode (``reason`` empty) or junk (with the reason)."""

    data: bytes
    reason: str = ""


class FrameSplitter:
    """Cuts frames of one protocol out of a TCP byte stream.

    :meth:`feed` returns the complete frames received so far and, between them, runs of
    bytes that cannot start a frame (``Piece.reason`` says why); it resynchronises on the next
    start marker. A frame whose length field announces more than ``max_frame`` bytes is junk.
    """

    def __init__(self, protocol: str, max_frame: int = 8192) -> None:
        self.size_of, self.starts = _PROTOCOLS[protocol]
        self.max_frame = max_frame
        self.buf = bytearray()

    def _next_start(self, begin: int) -> int:
        found = [i for i in (self.buf.find(s, begin) for s in self.starts) if i >= 0]
        if found:
            return min(found)
        # A marker may be cut by the end of what has arrived: keep its first byte.
        tail = len(self.buf) - 1
        if tail >= begin and any(len(s) > 1 and self.buf[tail] == s[0] for s in self.starts):
            return tail
        return len(self.buf)

    def feed(self, data: bytes) -> list[Piece]:
        buf = self.buf
        buf += data
        out: list[Piece] = []
        while buf:
            try:
                size = self.size_of(buf)
                reason = ""
                if size is not None and size > self.max_frame:
                    reason = f"frame of {size} bytes exceeds the maximum of {self.max_frame}"
            except FrameError as exc:
                size, reason = None, f"byte {exc.offset}: {exc.reason}"
            if reason:
                end = self._next_start(1)
                junk = bytes(buf[:end])
                del buf[:end]
                if out and out[-1].reason:
                    out[-1].data += junk
                else:
                    out.append(Piece(junk, reason))
                continue
            if size is None or len(buf) < size:
                break
            out.append(Piece(bytes(buf[:size])))
            del buf[:size]
        return out

    def pending(self) -> bytes:
        """Bytes received that do not (yet) make a frame."""
        return bytes(self.buf)
