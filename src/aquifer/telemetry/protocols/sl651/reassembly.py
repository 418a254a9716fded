"""SL651 multi-packet (M3) messages: :class:`Reassembler` joins their packets.

Packets 1…n−1 end with ETB, the last with ETX (STD 6.3, Tables 22/23); only packet 1 carries
serial and send time, so the joined body is parsed as one body once every packet has come.
"""

from __future__ import annotations

import time as _time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import tzinfo

from ..common import CHINA_TZ, FrameError
from .asciimode import _parse_ascii_body
from .elements import EXTENSIONS, ElementDef
from .frame import ETX, SL651Frame, _Body
from .hexmode import _parse_hex_body

__all__ = ["Reassembler", "ReassemblyError"]


class ReassemblyError(FrameError):
    """A packet that contradicts the message being reassembled (e.g. another packet total)."""


@dataclass
class _Partial:
    first: SL651Frame | None
    total: int
    started: float
    parts: dict[int, bytes] = field(default_factory=dict)


def _starts_new(partial: _Partial, frame: SL651Frame, total: int, seq: int) -> bool:
    """Whether ``frame`` starts a new message in place of ``partial`` (packet 1 with another
    serial); raises :class:`ReassemblyError` for a packet whose total contradicts it."""
    first = partial.first
    new_serial = seq == 1 and first is not None and frame.serial != first.serial
    if partial.total == total:
        return new_serial
    if new_serial and frame.serial is not None:
        return True  # a new message replaces a stale one
    raise ReassemblyError(
        14 if frame.encoding == "HEX" else 24,
        f"packet {seq} says {total} packets; the message in progress has {partial.total}",
    )


class Reassembler:
    """Collects the packets of M3 multi-packet messages and returns each message once whole.

    Messages are kept apart by station address and function code; a message is identified by
    its station and the serial of packet 1 (packets 2…n carry no serial: STD Table 23,
    footnote a). A packet whose total differs from the message in progress is refused with
    :class:`ReassemblyError`; a resent packet replaces the earlier copy.

    Parameters
    ----------
    max_age
        Seconds after which an incomplete message is dropped (see :meth:`expire`).
    tz, extensions
        As for :func:`decode`, to parse the reassembled body.

    Examples
    --------
    >>> r = Reassembler()
    >>> for packet in packets:  # doctest: +SKIP
    ...     message = r.add(decode(packet))
    """

    def __init__(
        self,
        *,
        max_age: float = 600.0,
        tz: tzinfo | None = CHINA_TZ,
        extensions: Mapping[int, ElementDef] = EXTENSIONS,
    ) -> None:
        self.max_age = max_age
        self.tz = tz
        self.extensions = extensions
        self._partial: dict[tuple[str, int, str], _Partial] = {}

    def __len__(self) -> int:
        return len(self._partial)

    def add(self, frame: SL651Frame, *, now: float | None = None) -> SL651Frame | None:
        """Add one packet; return the whole message when its last missing packet arrives.

        A frame that is not an up M3 packet is returned as it is. The returned message is an
        :class:`SL651Frame` with the joined ``body``, its elements parsed from the whole body,
        ``packets`` = total and ``packet_seq`` = ``None``.
        """
        total, seq = frame.packet_total, frame.packet_seq
        if total is None or seq is None or frame.direction != "up":
            return frame
        now = _time.monotonic() if now is None else now
        key = (frame.station, frame.function, frame.encoding)
        partial = self._partial_for(key, frame, total, seq, now)
        if seq == 1:
            partial.first = frame
        partial.parts[seq] = frame.body
        if len(partial.parts) < total or partial.first is None:
            return None
        del self._partial[key]
        body = b"".join(partial.parts[i] for i in range(1, total + 1))
        return self._message(partial.first, body, total)

    def _partial_for(
        self, key: tuple[str, int, str], frame: SL651Frame, total: int, seq: int, now: float
    ) -> _Partial:
        """The message in progress that ``frame`` belongs to; a new one if there is none, if
        it is older than ``max_age``, or if ``frame`` is packet 1 of another message."""
        partial = self._partial.get(key)
        if partial is not None and now - partial.started > self.max_age:
            partial = None
        if partial is None or _starts_new(partial, frame, total, seq):
            partial = _Partial(None, total, now)
            self._partial[key] = partial
        return partial

    def _message(self, first: SL651Frame, body: bytes, total: int) -> SL651Frame:
        if first.encoding == "HEX":
            b = _Body()
            _parse_hex_body(
                body,
                0,
                len(body),
                first.function,
                first.direction == "up",
                self.tz,
                self.extensions,
                b,
            )
        else:
            b = _Body()
            _parse_ascii_body(
                body,
                0,
                len(body),
                first.function,
                first.direction == "up",
                self.tz,
                self.extensions,
                b,
                False,
            )
        return replace(
            first,
            body=body,
            elements=b.elements,
            params=b.params,
            serial=b.serial,
            send_time=b.send_time,
            observation_time=b.obs,
            station_type=b.stype,
            body_station=b.station,
            packet_seq=None,
            packets=total,
            end=ETX,
        )

    def expire(self, *, now: float | None = None) -> list[tuple[str, int]]:
        """Drop incomplete messages older than ``max_age``; return their (station, function)."""
        now = _time.monotonic() if now is None else now
        old = [k for k, p in self._partial.items() if now - p.started > self.max_age]
        for k in old:
            del self._partial[k]
        return [(k[0], k[1]) for k in old]

    def missing(self, station: str, function: int, encoding: str = "HEX") -> list[int]:
        """Sequence numbers still missing from the message in progress (for NAKs)."""
        partial = self._partial.get((station, function, encoding))
        if partial is None:
            return []
        return [i for i in range(1, partial.total + 1) if i not in partial.parts]
