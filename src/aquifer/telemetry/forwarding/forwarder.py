"""The forwarder (``aquifer forward``): sends the outbox to the upstreams.

Per upstream, one TCP connection; per station, only the oldest frame not yet done is sent,
and the next waits until the upstream's reply acknowledged it — so frames arrive in order per
station. A frame is marked ``sent`` (committed) before its bytes go out and ``acknowledged``
after the reply; a timeout, a refused connection or a reply that never comes marks it
``failed`` with the next attempt after a back-off (doubling from ``BACKOFF_BASE_S`` up to
``BACKOFF_MAX_S``). A forwarder killed at any point leaves frames ``queued``, ``sent`` or
``failed``, all of which are sent (again) when it restarts: at least once, never lost; the
upstream may see the frame in flight twice (protocol serials let it de-duplicate).

Settings, ``AQUIFER["FORWARDING"]`` (no source gives values: they are ours, marked unconfirmed
in docs/open-data.md): ``BACKOFF_BASE_S`` (2), ``BACKOFF_MAX_S`` (300), ``POLL_S`` (1.0),
``CONNECT_TIMEOUT_S`` (5).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Min, Q
from django.utils import timezone

from aquifer.telemetry.forwarding.frames import frame_size, is_reply, rewrite_station
from aquifer.telemetry.models import OutboxFrame, OutboxStatus, Upstream
from aquifer.telemetry.protocols import FrameError

__all__ = ["Forwarder", "forwarding_settings"]

log = logging.getLogger("aquifer.telemetry.forwarding")

DEFAULTS: dict[str, float] = {
    "BACKOFF_BASE_S": 2.0,
    "BACKOFF_MAX_S": 300.0,
    "POLL_S": 1.0,
    "CONNECT_TIMEOUT_S": 5.0,
}


def forwarding_settings() -> dict[str, float]:
    return {**DEFAULTS, **settings.AQUIFER.get("FORWARDING", {})}


def pending(upstream: Any) -> Any:
    """The outbox frames of ``upstream`` not yet done."""
    return OutboxFrame.objects.filter(upstream=upstream).filter(
        Q(status__in=[OutboxStatus.QUEUED, OutboxStatus.FAILED])
        | Q(status=OutboxStatus.SENT, needs_reply=True)
    )


class _Link:
    """One upstream's connection and what it has sent back not yet read as frames."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()


class Forwarder:
    def __init__(self, **overrides: float) -> None:
        self.conf = {**forwarding_settings(), **overrides}
        self.links: dict[int, _Link] = {}
        self.stop = threading.Event()

    def backoff(self, attempts: int) -> float:
        base, cap = self.conf["BACKOFF_BASE_S"], self.conf["BACKOFF_MAX_S"]
        return float(min(base * 2 ** max(attempts - 1, 0), cap))

    def run(self) -> None:
        """Until :attr:`stop` is set: a pass over the upstreams, a pause when nothing was due."""
        while not self.stop.is_set():
            try:
                handled = self.step()
            except Exception:
                log.exception("forwarding pass failed")
                handled = 0
            if not handled:
                self.stop.wait(self.conf["POLL_S"])
        self.close()

    def close(self) -> None:
        for link in self.links.values():
            link.sock.close()
        self.links.clear()

    def step(self) -> int:
        """Each enabled upstream's due head frames, one per station; how many were handled."""
        handled = 0
        for upstream in Upstream.objects.filter(enabled=True):
            heads = pending(upstream).values("station").order_by().annotate(first=Min("id"))
            ids = [h["first"] for h in heads]
            now = timezone.now()
            for frame in OutboxFrame.objects.filter(pk__in=ids, next_attempt_at__lte=now).order_by(
                "id"
            ):
                if self.stop.is_set():
                    break
                self.send(upstream, frame)
                handled += 1
        return handled

    def send(self, upstream: Upstream, frame: OutboxFrame) -> bool:
        """Send one frame and wait for its reply; whether it is done."""
        data = rewrite_station(bytes(frame.raw), upstream.protocol,
                               (upstream.station_map or {}).get(frame.station))  # fmt: skip
        OutboxFrame.objects.filter(pk=frame.pk).update(
            status=OutboxStatus.SENT, attempts=F("attempts") + 1, sent_at=timezone.now()
        )
        try:
            link = self._link(upstream)
            link.sock.sendall(data)
            if frame.needs_reply:
                self._await_reply(link, upstream, data)
                OutboxFrame.objects.filter(pk=frame.pk).update(
                    status=OutboxStatus.ACKNOWLEDGED, acknowledged_at=timezone.now(),
                    last_error="",
                )  # fmt: skip
            return True
        except (OSError, FrameError) as exc:
            self._drop(upstream)
            delay = self.backoff(frame.attempts + 1)
            OutboxFrame.objects.filter(pk=frame.pk).update(
                status=OutboxStatus.FAILED,
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
                last_error=f"{type(exc).__name__}: {exc}"[:300],
            )
            log.info("%s: frame %s failed (%s); again in %.1f s", upstream.name, frame.pk,
                     exc, delay)  # fmt: skip
            return False

    def _link(self, upstream: Upstream) -> _Link:
        link = self.links.get(upstream.pk)
        if link is None:
            sock = socket.create_connection(
                (upstream.host, upstream.port), timeout=self.conf["CONNECT_TIMEOUT_S"]
            )
            link = self.links[upstream.pk] = _Link(sock)
        return link

    def _drop(self, upstream: Upstream) -> None:
        link = self.links.pop(upstream.pk, None)
        if link is not None:
            link.sock.close()

    def _await_reply(self, link: _Link, upstream: Upstream, sent: bytes) -> None:
        """Read frames until one confirms ``sent``; TimeoutError after the upstream's timeout."""
        deadline = time.monotonic() + upstream.ack_timeout_s
        while True:
            while True:  # the frames already received
                size = frame_size(link.buf, upstream.protocol)
                if size is None or len(link.buf) < size:
                    break
                reply = bytes(link.buf[:size])
                del link.buf[:size]
                if is_reply(reply, sent, upstream.protocol):
                    return
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply within {upstream.ack_timeout_s} s")
            link.sock.settimeout(left)
            chunk = link.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the upstream closed the connection")
            link.buf += chunk
