"""Forwarding upward: the outbox, the frames as received (station address mapped), the
gateway's enqueue before acknowledging, and the forwarder killed mid-stream (a real
``aquifer forward`` subprocess against a local TCP upstream speaking SL651)."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from aquifer.telemetry.forwarding.forwarder import Forwarder
from aquifer.telemetry.forwarding.frames import is_reply, rewrite_station
from aquifer.telemetry.forwarding.outbox import enqueue, status_counts
from aquifer.telemetry.models import OutboxFrame, Upstream
from aquifer.telemetry.protocols import CHINA_TZ, sl651, szy206

from .test_crash import AQUIFER, make_db
from .test_gateway import SL651_STATION, Device, TestThreadDb, report, run
from .test_gateway import devices as devices  # the fixture

T = datetime(2026, 11, 25, 10, 0, tzinfo=CHINA_TZ)


class Upstream651:
    """A higher platform on 127.0.0.1: records every frame, answers each with the SL651
    confirmation (after ``delay`` seconds), unless told to stay silent."""

    def __init__(self, delay: float = 0.0) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.frames: list[bytes] = []
        self.delay = delay
        self.silent = False
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = bytearray()
        with conn:
            while True:
                try:
                    chunk = conn.recv(4096)
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                while (size := sl651.frame_size(buf)) is not None and len(buf) >= size:
                    raw = bytes(buf[:size])
                    del buf[:size]
                    with self.lock:
                        self.frames.append(raw)
                    if self.silent:
                        continue
                    time.sleep(self.delay)
                    with contextlib.suppress(OSError):
                        conn.sendall(sl651.acknowledge(sl651.decode(raw)))

    def close(self) -> None:
        self.closed = True
        self.server.close()


def sl651_report(serial: int, station: str = SL651_STATION) -> bytes:
    return sl651.encode_report(0x32, station, serial=serial, send_time=T, observation_time=T,
                               elements=[(0x0E, 10 + serial / 100)], password=0x1A2B)  # fmt: skip


def test_station_address_rewritten_checksum_recomputed() -> None:
    raw = sl651_report(3)
    out = rewrite_station(raw, "SL651", "1405229999")
    f, g = sl651.decode(raw), sl651.decode(out)
    assert g.station == "1405229999" and g.checksum_ok
    assert (g.serial, [e.value for e in g.elements]) == (f.serial, [e.value for e in f.elements])
    assert out[:3] == raw[:3] and out[8:-2] == raw[8:-2]  # only the address and CRC differ
    assert rewrite_station(raw, "SL651", None) == raw
    asc = sl651.encode_report(0x32, SL651_STATION, serial=1, send_time=T, encoding="ASCII")
    assert sl651.decode(rewrite_station(asc, "SL651", "ABCDEF0123")).station == "ABCDEF0123"
    z = szy206.encode_link_check("1405220002")
    zz = szy206.decode(rewrite_station(z, "SZY206", "5303810001"))
    assert zz.station == "5303810001" and zz.checksum_ok
    ack = sl651.acknowledge(sl651.decode(out))
    assert is_reply(ack, out, "SL651") and not is_reply(ack, raw, "SL651")


def test_forwarder_in_process_retries_with_backoff(world: Any) -> None:
    up = Upstream651()
    target = Upstream.objects.create(name="省平台", host="127.0.0.1", port=up.port,
                                     protocol="SL651", ack_timeout_s=0.5,
                                     station_map={SL651_STATION: "1405229999"})  # fmt: skip
    target.devices.add(world.device_a)
    for serial in (1, 2):
        assert enqueue(world.device_a.pk, "SL651", SL651_STATION, sl651_report(serial)) == 1
    assert enqueue(world.device_a.pk, "SZY206", SL651_STATION, b"x") == 0  # other protocol
    fwd = Forwarder(BACKOFF_BASE_S=60.0)
    up.silent = True
    assert fwd.step() == 1  # the head frame only: no reply, so it failed
    first = OutboxFrame.objects.order_by("id").first()
    assert first is not None and first.status == "failed" and first.attempts == 1
    assert "TimeoutError" in first.last_error
    assert fwd.step() == 0  # backing off; and frame 2 waits behind frame 1
    OutboxFrame.objects.filter(pk=first.pk).update(next_attempt_at=first.sent_at)
    up.silent = False
    assert fwd.step() == 1 and fwd.step() == 1
    assert status_counts()[target.pk] == {"acknowledged": 2}
    serials = [sl651.decode(f).serial for f in up.frames]
    assert serials == [1, 1, 2]
    assert {sl651.decode(f).station for f in up.frames} == {"1405229999"}
    fwd.close()
    up.close()


def test_gateway_puts_a_forwarded_devices_frame_in_the_outbox(devices: Any) -> None:
    target = Upstream.objects.create(name="省平台", host="127.0.0.1", port=9, protocol="SL651")
    target.devices.add(devices.device_a)
    frame = report(serial=21)
    replies: list[bytes | None] = []

    async def scenario(gw: Any, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        await dev.send(frame)
        replies.append(await dev.reply())
        dev.close()

    run(scenario)
    (row,) = OutboxFrame.objects.all()
    assert bytes(row.raw) == frame and row.status == "queued" and row.needs_reply
    assert replies[0] == sl651.acknowledge_raw(frame, end=sl651.ESC)


SETUP = """
import django, json, sys
django.setup()
from aquifer.registry.models import Device
from aquifer.telemetry.forwarding.outbox import enqueue
from aquifer.telemetry.models import Upstream
from aquifer.telemetry.protocols import sl651
from datetime import datetime
from aquifer.telemetry.protocols import CHINA_TZ
port, n = int(sys.argv[1]), int(sys.argv[2])
devices = list(Device.objects.order_by("id")[:2])
up = Upstream.objects.create(
    name="province", host="127.0.0.1", port=port, protocol="SL651", ack_timeout_s=2,
    station_map={devices[0].station_address: "1405229999"},
)
up.devices.add(*devices)
t = datetime(2026, 11, 25, 10, 0, tzinfo=CHINA_TZ)
for serial in range(1, n + 1):
    for d in devices:
        raw = sl651.encode_report(0x32, d.station_address, serial=serial, send_time=t,
                                  observation_time=t, elements=[(0x0E, serial / 10)])
        enqueue(d.id, "SL651", d.station_address, raw)
print(json.dumps([d.station_address for d in devices]))
"""


@pytest.mark.slow
def test_forwarder_killed_mid_stream_loses_nothing_and_keeps_order(tmp_path: Path) -> None:
    env = make_db(tmp_path, {"sl651": 2})
    env["AQUIFER_FORWARD_BACKOFF_S"] = "0.2"
    up = Upstream651(delay=0.02)
    n = 40
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(SETUP), str(up.port), str(n)],
                         env=env, cwd=tmp_path, check=True, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    stations = json.loads(out.stdout.strip().splitlines()[-1])

    def start() -> subprocess.Popen[str]:
        proc = subprocess.Popen([*AQUIFER, "forward"], env=env, cwd=tmp_path,
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert proc.stdout is not None and proc.stdout.readline().startswith("forwarder ready")
        return proc

    proc = start()
    deadline = time.monotonic() + 60
    while len(up.frames) < n // 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)  # mid-stream: frames in flight, others queued
    proc.wait(10)
    killed_at = len(up.frames)
    assert 0 < killed_at < 2 * n
    proc = start()
    deadline = time.monotonic() + 90
    done = False
    while not done and time.monotonic() < deadline:
        time.sleep(0.2)
        query = "SELECT count(*) FROM telemetry_outboxframe WHERE status != 'acknowledged'"
        import sqlite3

        with contextlib.closing(sqlite3.connect(tmp_path / "aquifer.sqlite3")) as con:
            done = con.execute(query).fetchone()[0] == 0
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    up.close()
    assert done, "not every frame was acknowledged"
    by_station: dict[str, list[int]] = {}
    for raw in up.frames:
        f = sl651.decode(raw)
        assert f.checksum_ok
        by_station.setdefault(f.station, []).append(f.serial or 0)
    assert set(by_station) == {"1405229999", stations[1]}  # the first station mapped
    for serials in by_station.values():
        assert sorted(set(serials)) == list(range(1, n + 1))  # nothing lost
        assert serials == sorted(serials)  # in order; a resend repeats the frame in flight
        assert len(serials) - n <= 2  # at most the frames in flight at the kill, again
