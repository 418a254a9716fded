"""The gateway in-process: real TCP sockets on free ports, the store on the test's connection.

Django keeps database connections per thread, and per task inside a running event loop, so a
gateway calling the store from anywhere else would not see the test's (uncommitted) data. The
gateway therefore runs in an event loop on a second thread, with a ``run_db`` that hands every
blocking call back to the test's own thread (:class:`TestThreadDb`): ingest, quarantine and
device lookups run on the test's connection, inside its transaction, and are rolled back with
it. End-to-end runs of the real command are in test_crash.py. Frames here are constructed from
the layouts in docs/protocols.md (no published frame carries groundwater depth).
"""

from __future__ import annotations

import asyncio
import queue
import random
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aquifer.telemetry import store
from aquifer.telemetry.devices import DeviceCache, DeviceEntry
from aquifer.telemetry.gateway import FrameSplitter, Gateway, GatewayConfig
from aquifer.telemetry.mapping import check_reading, map_frame, parse_readings, resolve_tp
from aquifer.telemetry.models import QuarantinedFrame, Reading
from aquifer.telemetry.protocols import CHINA_TZ, decode, sl651, szy206

SL651_STATION = "0014052201"  # world.device_a
SZY206_STATION = "1405220002"  # world.device_b
PASSWORD = "1A2B"
T = datetime(2026, 11, 25, 10, 0, tzinfo=CHINA_TZ)


def report(serial: int = 7, *, password: int = 0x1A2B, station: str = SL651_STATION,
           when: datetime = T, depth: float = 12.34) -> bytes:  # fmt: skip
    """Constructed: an SL651 timed report (32H) of a groundwater station with a meter."""
    return sl651.encode_report(
        0x32,
        station,
        serial=serial,
        send_time=when,
        observation_time=when,
        elements=[(0x0E, depth), (0x27, 0.01111, 5), (0xFF2B, 123456), (0x38, 12.6)],
        password=password,
    )


@pytest.fixture
def devices(world: Any) -> Any:
    world.device_a.set_secret(PASSWORD)
    world.device_a.save()
    return world


class TestThreadDb:
    """A ``run_db`` that runs each call on the test's thread (see the module docstring)."""

    __test__ = False  # not a test class

    def __init__(self) -> None:
        self.calls: queue.Queue[Any] = queue.Queue()

    async def __call__(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self.calls.put((fn, args, kwargs, loop, fut))
        return await fut

    def serve(self, worker: threading.Thread) -> None:
        """Run the calls of ``worker``'s event loop here until it ends."""
        while worker.is_alive() or not self.calls.empty():
            try:
                fn, args, kwargs, loop, fut = self.calls.get(timeout=0.005)
            except queue.Empty:
                continue
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                loop.call_soon_threadsafe(_settle, fut, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, fut, result, None)


def _settle(fut: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if fut.done():
        return
    if exc is None:
        fut.set_result(result)
    else:
        fut.set_exception(exc)


def run_in_loop(main: Callable[[TestThreadDb], Coroutine[Any, Any, Any]]) -> Any:
    """Run ``main(db)`` in an event loop on a second thread; serve its database calls here."""
    db = TestThreadDb()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(main(db))
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=target)
    worker.start()
    db.serve(worker)
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


class Device:
    """A test device on one TCP connection."""

    def __init__(self, protocol: str = "SL651") -> None:
        self.protocol = protocol
        self.splitter = FrameSplitter(protocol)
        self.ready: list[bytes] = []

    async def open(self, port: int) -> Device:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        return self

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def reply(self, timeout: float = 2.0) -> bytes | None:
        """The next frame from the gateway, ``None`` if none within ``timeout``,
        ``b""`` if the gateway closed the connection."""
        deadline = time.monotonic() + timeout
        while not self.ready:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                data = await asyncio.wait_for(self.reader.read(4096), left)
            except TimeoutError:
                return None
            if not data:
                return b""
            self.ready += [p.data for p in self.splitter.feed(data) if not p.reason]
        return self.ready.pop(0)

    def close(self) -> None:
        self.writer.close()


def run(
    scenario: Callable[[Gateway, TestThreadDb], Awaitable[None]],
    *,
    wrap: Callable[[TestThreadDb], Any] | None = None,
    **config: Any,
) -> Gateway:
    """Start a gateway on free ports, run ``scenario(gateway, db)``, stop it (drain).

    ``wrap(db)`` may return another ``run_db`` (a slow store); ``db`` runs ORM calls of the
    scenario on the test's thread (``await db(fn)``).
    """
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "sl651_port": 0,
        "szy206_port": 0,
        "batch_max_ms": 5.0,
    }
    values.update(config)

    async def main(db: TestThreadDb) -> Gateway:
        run_db = wrap(db) if wrap else db
        gateway = Gateway(GatewayConfig(**values), devices=DeviceCache(), run_db=run_db)
        await gateway.start()
        try:
            await scenario(gateway, db)
        finally:
            await gateway.stop()
        return gateway

    result: Gateway = run_in_loop(main)
    return result


def readings() -> dict[str, float]:
    return {r.element: r.value for r in Reading.objects.all()}


# --- SL651 -------------------------------------------------------------------------------------


def test_report_is_stored_then_acknowledged(devices: Any) -> None:
    frame = report()
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        await dev.send(frame)
        replies.append(await dev.reply())
        dev.close()

    run(scenario)
    assert replies == [sl651.acknowledge(sl651.decode(frame))]
    ack = sl651.decode(replies[0] or b"")
    assert ack.is_confirmation and ack.serial == 7 and ack.end == sl651.ESC
    assert readings() == pytest.approx(
        {
            "depth_to_water": 12.34,
            "flow_rate": 0.01111 * 3600,
            "cumulative_volume": 123456.0,
            "battery_voltage": 12.6,
        }
    )
    stored = Reading.objects.get(element="depth_to_water")
    assert stored.device_id == devices.device_a.pk
    assert stored.observed_at == T


def test_no_acknowledgement_before_the_commit_returns(devices: Any) -> None:
    """A slow store: the device hears nothing until ingest has returned (committed)."""
    gate = asyncio.Event()
    committed_at: list[float] = []

    def slow(db: TestThreadDb) -> Any:
        async def run_db(fn: Any, *args: Any, **kwargs: Any) -> Any:
            if fn is store.ingest:
                await gate.wait()
                result = await db(fn, *args, **kwargs)
                committed_at.append(time.monotonic())
                return result
            return await db(fn, *args, **kwargs)

        return run_db

    seen: dict[str, Any] = {}

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        await dev.send(report())
        seen["early"] = await dev.reply(timeout=0.5)
        seen["rows_while_waiting"] = await db(Reading.objects.count)
        gate.set()
        seen["ack"] = await dev.reply()
        seen["acked_at"] = time.monotonic()
        dev.close()

    run(scenario, wrap=slow)
    assert seen["early"] is None
    assert seen["rows_while_waiting"] == 0
    assert seen["ack"] and sl651.decode(seen["ack"]).is_confirmation
    assert committed_at and committed_at[0] <= seen["acked_at"]
    assert Reading.objects.count() == 4


def test_a_resent_frame_is_stored_once_and_acknowledged_again(devices: Any) -> None:
    frame = report(serial=9)
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        for _ in range(2):
            await dev.send(frame)
            replies.append(await dev.reply())
        # The same frame on two connections at once: most likely one batch.
        a, b = await Device().open(gw.ports["SL651"]), await Device().open(gw.ports["SL651"])
        await asyncio.gather(a.send(frame), b.send(frame))
        replies.extend(await asyncio.gather(a.reply(), b.reply()))
        for d in (dev, a, b):
            d.close()

    gw = run(scenario)
    ack = sl651.acknowledge(sl651.decode(frame))
    assert replies == [ack] * 4
    assert Reading.objects.count() == 4
    assert gw.writer.stats["rows"] == 16 and gw.writer.stats["inserted"] == 4


def test_unknown_station_is_quarantined_and_not_acknowledged(devices: Any) -> None:
    frame = report(station="1405229999")
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        await dev.send(frame)
        replies.append(await dev.reply(timeout=0.5))
        dev.close()

    run(scenario)
    assert replies == [None]
    assert Reading.objects.count() == 0
    q = QuarantinedFrame.objects.get()
    assert q.kind == "unknown_station" and q.station == "1405229999"
    assert q.raw_hex == frame.hex().upper() and q.protocol == "SL651"


def test_wrong_password_is_auth_failed(devices: Any) -> None:
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        await dev.send(report(password=0x1A2C))
        replies.append(await dev.reply(timeout=0.5))
        await dev.send(report(serial=8))  # the right password still works
        replies.append(await dev.reply())
        dev.close()

    run(scenario)
    assert replies[0] is None and replies[1]
    q = QuarantinedFrame.objects.get()
    assert q.kind == "auth_failed" and "wrong password" in q.reason


def test_inactive_device_and_other_protocol_are_refused(devices: Any) -> None:
    devices.device_a.active = False
    devices.device_a.save()
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        await dev.send(report())
        replies.append(await dev.reply(timeout=0.3))
        # An SZY206 station speaking SL651.
        await dev.send(report(station=SZY206_STATION, password=0))
        replies.append(await dev.reply(timeout=0.3))
        dev.close()

    run(scenario)
    assert replies == [None, None]
    reasons = sorted(QuarantinedFrame.objects.values_list("kind", "reason"))
    assert reasons == [
        ("auth_failed", f"device of station {SL651_STATION} is not active"),
        ("auth_failed", f"station {SZY206_STATION} is registered for SZY206"),
    ]


def test_malformed_frame_kept_with_offset_and_the_connection_serves_on(devices: Any) -> None:
    good = report(serial=11)
    bad = bytearray(report(serial=10))
    bad[-1] ^= 0xFF  # CRC
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        await dev.send(b"\x00\x13garbage" + bytes(bad) + good)
        replies.append(await dev.reply())
        dev.close()

    run(scenario)
    assert replies == [sl651.acknowledge(sl651.decode(good))]
    kept = {q.raw_hex: q for q in QuarantinedFrame.objects.filter(kind="malformed")}
    assert set(kept) == {b"\x00\x13garbage".hex().upper(), bytes(bad).hex().upper()}
    crc = kept[bytes(bad).hex().upper()]
    assert crc.reason.startswith(f"byte {len(bad) - 2}: CRC mismatch")
    assert Reading.objects.count() == 4


def test_keep_alive_gets_no_reply_and_test_report_without_elements_is_acknowledged(
    devices: Any,
) -> None:
    keep_alive = sl651.encode_report(0x2F, SL651_STATION, serial=3, send_time=T, password=0x1A2B)
    test = sl651.encode_report(0x30, SL651_STATION, serial=4, send_time=T, password=0x1A2B)
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        await dev.send(keep_alive)
        replies.append(await dev.reply(timeout=0.3))
        await dev.send(test)
        replies.append(await dev.reply())
        dev.close()

    run(scenario)
    assert replies == [None, sl651.acknowledge(sl651.decode(test))]
    assert not QuarantinedFrame.objects.exists()


def test_report_with_nothing_storable_is_quarantined_then_acknowledged(devices: Any) -> None:
    rain = sl651.encode_report(0x32, SL651_STATION, serial=5, send_time=T, observation_time=T,
                               elements=[(0x20, 3.5)], password=0x1A2B)  # fmt: skip
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        await dev.send(rain)
        replies.append(await dev.reply())
        dev.close()

    run(scenario)
    assert replies[0] and sl651.decode(replies[0]).is_confirmation
    q = QuarantinedFrame.objects.get()
    assert q.kind == "rejected_value" and "20: no canonical element" in q.reason


def test_multi_packet_message_is_confirmed_once_when_whole(devices: Any) -> None:
    body = sl651.encode_body(serial=21, send_time=T, station=SL651_STATION, station_type=0x47,
                             observation_time=T, elements=[(0x0E, 15.5), (0x38, 12.1)])  # fmt: skip
    packets = sl651.encode_packets(0x31, SL651_STATION, body, password=0x1A2B, max_body=16)
    assert len(packets) > 1
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        for packet in packets[:-1]:
            await dev.send(packet)
            replies.append(await dev.reply(timeout=0.2))
        await dev.send(packets[-1])
        replies.append(await dev.reply())
        dev.close()

    run(scenario)
    assert replies[:-1] == [None] * (len(packets) - 1)
    ack = sl651.decode(replies[-1] or b"")
    assert ack.start == sl651.SYN and ack.packet_seq == ack.packet_total == len(packets)
    assert readings() == {"depth_to_water": 15.5, "battery_voltage": 12.1}


def test_database_unreachable_means_no_acknowledgement_and_the_resend_is_stored(
    devices: Any,
) -> None:
    down = {"db": True}

    def flaky(db: TestThreadDb) -> Any:
        async def run_db(fn: Any, *args: Any, **kwargs: Any) -> Any:
            if down["db"]:
                raise ConnectionError("database unreachable")
            return await db(fn, *args, **kwargs)

        return run_db

    frame = report(serial=30)
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        await dev.send(frame)
        replies.append(await dev.reply(timeout=0.3))
        down["db"] = False
        await dev.send(frame)  # the device resends on the same connection
        replies.append(await dev.reply())
        dev.close()

    gw = run(scenario, wrap=flaky)
    assert replies == [None, sl651.acknowledge(sl651.decode(frame))]
    assert gw.stats["auth_unavailable"] == 1
    assert Reading.objects.count() == 4 and not QuarantinedFrame.objects.exists()


# --- SZY206 ------------------------------------------------------------------------------------


def test_szy206_self_report_and_link_check_are_confirmed(devices: Any) -> None:
    now = datetime.now(CHINA_TZ).replace(microsecond=0) - timedelta(hours=1)
    tp = szy206.Tp(now.second, now.minute, now.hour, now.day, 5)
    level = szy206.encode_report(SZY206_STATION, function=2, values=[712.345], tp=tp)
    meter = szy206.encode_report(SZY206_STATION, function=3, values=[36.5, 106182], tp=tp)
    login = szy206.encode_link_check(SZY206_STATION, 0xF0)
    stranger = szy206.encode_report("1405220999", function=2, values=[700.0], tp=tp)
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device("SZY206").open(gw.ports["SZY206"])
        for frame in (login, level, meter, stranger):
            await dev.send(frame)
            # A reply is awaited longer than on a quiet machine (the commit can queue behind
            # the status report on the test's one database thread); the stranger gets none.
            replies.append(await dev.reply(timeout=10.0 if frame is not stranger else 0.3))
        dev.close()

    run(scenario)
    expected = [szy206.confirm(szy206.decode(f)) for f in (login, level, meter)]
    assert replies == [*expected, None]
    got = {r.element: (r.value, r.observed_at) for r in Reading.objects.all()}
    assert got == {
        "water_level": (712.345, now),
        "flow_rate": (36.5, now),
        "cumulative_volume": (106182.0, now),
    }
    assert QuarantinedFrame.objects.get().kind == "unknown_station"


# --- robustness --------------------------------------------------------------------------------


def _mutate(rng: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    how = rng.randrange(4)
    if how == 0:
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif how == 1:
        del data[rng.randrange(len(data)) :]
    elif how == 2:
        at = rng.randrange(len(data))
        data[at:at] = rng.randbytes(rng.randint(1, 20))
    else:
        data = bytearray(rng.randbytes(rng.randint(1, 40))) + data
    return bytes(data)


def test_random_and_mutated_bytes_never_crash_the_gateway(devices: Any) -> None:
    rng = random.Random(20261125)
    good_sl = report(serial=40)
    tp = szy206.Tp(0, 0, 10, 25, 0)
    good_szy = szy206.encode_report(SZY206_STATION, function=2, values=[700.5], tp=tp)
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        for protocol, good in (("SL651", good_sl), ("SZY206", good_szy)):
            port = gw.ports[protocol]
            dev = await Device(protocol).open(port)
            for i in range(120):
                if i % 15 == 0:
                    dev.close()
                    dev = await Device(protocol).open(port)
                data = rng.randbytes(rng.randint(1, 300)) if i % 3 == 0 else _mutate(rng, good)
                try:
                    await dev.send(data)
                except ConnectionError:
                    dev = await Device(protocol).open(port)
            await asyncio.sleep(0.2)
            dev.close()
            fresh = await Device(protocol).open(port)
            await fresh.send(report(serial=41) if protocol == "SL651" else good_szy)
            replies.append(await fresh.reply())
            fresh.close()
        await asyncio.sleep(0.1)

    gw = run(scenario)
    assert all(replies), replies
    assert gw.stats["errors"] == 0
    assert gw.stats["quarantined_malformed"] > 50
    assert QuarantinedFrame.objects.filter(kind="malformed").count() > 50


def test_idle_connection_is_closed_and_its_partial_frame_kept(devices: Any) -> None:
    part = report()[:10]
    seen: dict[str, Any] = {}

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        await dev.send(part)
        started = time.monotonic()
        seen["reply"] = await dev.reply(timeout=3.0)
        seen["after"] = time.monotonic() - started

    gw = run(scenario, idle_timeout=0.3)
    assert seen["reply"] == b""  # closed by the gateway
    assert 0.25 <= seen["after"] < 2.5
    assert gw.stats["idle_closed"] == 1
    q = QuarantinedFrame.objects.get()
    assert q.kind == "malformed" and q.raw_hex == part.hex().upper() and "cut short" in q.reason


def test_shutdown_drains_frames_in_flight(devices: Any) -> None:
    gate = asyncio.Event()

    def gated(db: TestThreadDb) -> Any:
        async def run_db(fn: Any, *args: Any, **kwargs: Any) -> Any:
            if fn is store.ingest:
                await gate.wait()
            return await db(fn, *args, **kwargs)

        return run_db

    seen: dict[str, Any] = {}

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        port = gw.ports["SL651"]
        busy = await Device().open(port)
        idle = await Device().open(port)
        await busy.send(report())
        await asyncio.sleep(0.1)
        stopping = asyncio.create_task(gw.stop())
        await asyncio.sleep(0.1)
        try:
            await Device().open(port)
            seen["refused"] = False
        except OSError:
            seen["refused"] = True
        seen["idle"] = await idle.reply(timeout=1.0)
        seen["stopped_early"] = stopping.done()
        gate.set()
        seen["ack"] = await busy.reply()
        seen["then"] = await busy.reply()
        await stopping

    run(scenario, wrap=gated)
    assert seen["refused"] is True
    assert seen["idle"] == b""  # idle connections are closed at once
    assert seen["stopped_early"] is False
    assert seen["ack"] and sl651.decode(seen["ack"]).is_confirmation
    assert seen["then"] == b""
    assert Reading.objects.count() == 4


def test_frames_arriving_together_are_stored_and_acknowledged_in_order(devices: Any) -> None:
    """Several reports (and junk between them) in one write: each is handled in turn, in the
    order sent; every report is stored and acknowledged, the junk kept."""
    frames = [report(serial=s, when=T + timedelta(minutes=s), depth=10 + s) for s in (1, 2, 3)]
    junk = b"\x00\x13junk"
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        await dev.send(frames[0] + junk + frames[1] + frames[2])
        for _ in frames:
            replies.append(await dev.reply())
        dev.close()

    gw = run(scenario)
    assert replies == [sl651.acknowledge(sl651.decode(f)) for f in frames]
    depths = Reading.objects.filter(element="depth_to_water").order_by("observed_at")
    assert [r.value for r in depths] == pytest.approx([11, 12, 13])
    assert QuarantinedFrame.objects.get().raw_hex == junk.hex().upper()
    assert gw.stats["frames"] == 3 and gw.stats["acks"] == 3


def test_a_device_not_reading_its_acknowledgements_holds_its_next_frame(devices: Any) -> None:
    """While the connection's send buffer is full (pause_writing) the next frame waits; it is
    handled once the device reads again (resume_writing), and a device that never does is
    closed after the idle timeout."""
    seen: dict[str, Any] = {}

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        await dev.send(report(serial=1))
        seen["first"] = await dev.reply()
        (conn,) = list(gw._connections)
        conn.pause_writing()  # as the transport does when the device stops reading
        await dev.send(report(serial=2))
        seen["in_hand"] = await dev.reply()  # the frame in hand is finished …
        await dev.send(report(serial=3))
        seen["held"] = await dev.reply(timeout=0.3)  # … the next one waits
        conn.resume_writing()
        seen["resumed"] = await dev.reply()
        conn.pause_writing()
        await dev.send(report(serial=4))
        seen["last"] = await dev.reply()
        await dev.send(report(serial=5))  # waits behind the unread acknowledgement …
        started = time.monotonic()
        try:
            seen["closed"] = await dev.reply(timeout=3.0)  # … until the timeout closes it
        except ConnectionError:
            seen["closed"] = b""
        seen["after"] = time.monotonic() - started
        seen["open"] = gw.connections

    run(scenario, idle_timeout=1.0)
    serials = [sl651.decode(seen[k] or b"").serial for k in ("first", "in_hand", "resumed", "last")]
    assert serials == [1, 2, 3, 4]
    assert seen["held"] is None
    assert seen["closed"] == b"" and 0.5 <= seen["after"] < 2.5 and seen["open"] == 0
    assert Reading.objects.count() == 4  # the reports share one time: stored once


def test_batch_writer_callbacks_hear_commit_and_failure() -> None:
    """submit_nowait: the callback gets None once committed, the exception when the rows
    could not be (after the frame-by-frame retry); none is called before the commit."""
    from aquifer.telemetry.gateway import BatchWriter

    async def main() -> tuple[list[Any], list[Any], bool]:
        heard: list[Any] = []
        committed: list[list[int]] = []

        async def commit(rows: Any) -> int:
            if -1 in rows:
                raise ValueError("bad row")
            committed.append(list(rows))
            return len(rows)

        writer = BatchWriter(len, commit=commit, max_delay=0.01)
        writer.submit_nowait([1, 2], lambda exc: heard.append(("a", exc)))
        writer.submit_nowait([-1], lambda exc: heard.append(("b", type(exc))))
        fut = asyncio.ensure_future(writer.submit([3]))  # the awaitable API alongside
        early = list(heard)
        await asyncio.wait_for(fut, 5)
        for _ in range(100):
            if len(heard) == 2:
                break
            await asyncio.sleep(0.01)
        await writer.close()
        try:
            writer.submit_nowait([4], lambda exc: None)
            refused = False
        except RuntimeError:
            refused = True
        return early, sorted(heard, key=str), refused and committed == [[1, 2], [3]]

    early, heard, refused = asyncio.run(main())
    assert early == []
    assert heard == [("a", None), ("b", ValueError)]
    assert refused


# --- the frame splitter (pure) -----------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    chunks=st.lists(
        st.one_of(
            st.binary(max_size=60),
            st.sampled_from([report(serial=1), report(serial=2)[:20], b"\x7e", b"\x7e\x7e"]),
        ),
        max_size=12,
    ),
    protocol=st.sampled_from(["SL651", "SZY206"]),
)
def test_splitter_accounts_for_every_byte(chunks: list[bytes], protocol: str) -> None:
    splitter = FrameSplitter(protocol, max_frame=512)
    pieces = []
    for chunk in chunks:
        pieces += splitter.feed(chunk)
    assert b"".join(p.data for p in pieces) + splitter.pending() == b"".join(chunks)
    for p in pieces:
        assert len(p.data) <= 512 or p.reason


def test_splitter_cuts_frames_split_across_reads() -> None:
    frames = [report(serial=i) for i in range(1, 4)]
    stream = b"".join(frames)
    splitter = FrameSplitter("SL651")
    out = []
    for i in range(0, len(stream), 7):
        out += splitter.feed(stream[i : i + 7])
    assert [p.data for p in out] == frames and not splitter.pending()
    oversized = FrameSplitter("SL651", max_frame=40).feed(frames[0])
    assert oversized[0].reason.startswith("frame of")


# --- mapping (pure) ----------------------------------------------------------------------------


def test_sl651_elements_map_to_canonical_units() -> None:
    from aquifer.telemetry.elements import ELEMENTS
    from aquifer.telemetry.mapping import SL651_ELEMENTS, SZY206_ELEMENTS

    assert set(SL651_ELEMENTS.values()) | set(SZY206_ELEMENTS.values()) <= set(ELEMENTS)
    got = map_frame(decode(report()), received_at=datetime.now(UTC))
    assert {r.element: r.value for r in got.readings} == pytest.approx(
        {
            "depth_to_water": 12.34,
            "flow_rate": 39.996,
            "cumulative_volume": 123456,
            "battery_voltage": 12.6,
        }
    )
    assert {r.observed_at for r in got.readings} == {T}
    dry = map_frame(decode(report(depth=444)), received_at=datetime.now(UTC))
    assert "depth_to_water" not in {r.element for r in dry.readings}
    assert dry.skipped == ["0E: dry well (444)"]


def test_szy206_time_label_is_placed_in_the_right_month() -> None:
    received = datetime(2026, 3, 1, 0, 5, tzinfo=CHINA_TZ)
    assert resolve_tp(szy206.Tp(0, 1, 0, 1, 0), received) == received.replace(minute=1)
    # Day 28 at 23:59 seen on 1 March: February.
    assert resolve_tp(szy206.Tp(0, 59, 23, 28, 0), received) == datetime(
        2026, 2, 28, 23, 59, tzinfo=CHINA_TZ
    )
    # Day 31 seen on 1 March: January (February has no 31st).
    assert resolve_tp(szy206.Tp(0, 0, 12, 31, 0), received).month == 1  # type: ignore[union-attr]
    assert resolve_tp(szy206.Tp(-1, 0, 12, 3, 0), received) is None


def test_json_readings_errors_name_the_row_and_field() -> None:
    now = datetime.now(UTC)
    readings, errors = parse_readings(
        {
            "readings": [
                {"element": "depth_to_water", "observed_at": "2026-11-25T10:00:00+08:00",
                 "value": 12.3},
                {"element": "depth", "observed_at": "2026-11-25T10:00:00", "value": "x"},
                {"element": "flow_rate", "observed_at": "yesterday", "value": float("nan")},
                "not an object",
            ]
        },
        now=now,
    )  # fmt: skip
    assert len(readings) == 1 and readings[0].observed_at == T
    assert [e.field for e in errors] == [
        "readings[1].element",
        "readings[1].value",
        "readings[2].observed_at",
        "readings[2].value",
        "readings[3]",
    ]
    future = check_reading("ph", (now + timedelta(days=3)).isoformat(), 7, where="r", now=now)
    assert isinstance(future, list) and future[0].field == "r.observed_at"


# --- the device cache (pure) -------------------------------------------------------------------


def test_device_cache_loads_once_and_remembers_verifications() -> None:
    table = {"0014052201": DeviceEntry(1, "0014052201", "SL651", "hash-1", True)}
    loads: list[object] = []
    checks: list[tuple[str, str]] = []
    now = [0.0]

    def loader(stations: Any) -> list[DeviceEntry]:
        loads.append(None if stations is None else sorted(stations))
        return [e for s, e in table.items() if stations is None or s in stations]

    def checker(secret: str, secret_hash: str) -> bool:
        checks.append((secret, secret_hash))
        return secret == "1A2B" and secret_hash == "hash-1"

    cache = DeviceCache(max_age=60, miss_age=30, loader=loader, checker=checker,
                        clock=lambda: now[0])  # fmt: skip
    assert cache.authenticate_cached("SL651", "0014052201", "1A2B") is None  # not loaded
    assert cache.authenticate("SL651", "0014052201", "1A2B").ok
    for _ in range(5):
        result = cache.authenticate_cached("SL651", "0014052201", "1A2B")
        assert result is not None and result.ok
    assert len(checks) == 1 and loads == [None]
    wrong = cache.authenticate("SL651", "0014052201", "FFFF")
    assert not wrong.ok and wrong.kind == "auth_failed" and wrong.why == "secret"
    # An unknown station: one query, then remembered for miss_age.
    assert cache.authenticate("SL651", "9999999999", "1A2B").kind == "unknown_station"
    assert cache.authenticate_cached("SL651", "9999999999", "1A2B") is not None
    assert loads == [None, ["9999999999"]]
    # A new secret hash is checked afresh; the table is reloaded when stale.
    table["0014052201"] = DeviceEntry(1, "0014052201", "SL651", "hash-2", True)
    now[0] = 61
    assert not cache.authenticate("SL651", "0014052201", "1A2B").ok
    assert loads[-1] is None and checks[-1] == ("1A2B", "hash-2")


# --- the writer process ------------------------------------------------------------------------


def count_rows(rows: Any) -> int:
    """A stand-in for store.ingest in the writer process (no database): how many rows came."""
    assert all(isinstance(r, store.ReadingRow) for r in rows)
    return len(rows)


def picky(rows: Any) -> int:
    """Refuses a negative value; dies (as if killed) on -999."""
    import os

    for r in rows:
        if r.value == -999:
            os._exit(3)
        if r.value < 0:
            raise ValueError(f"negative value for {r.element}")
    return len(rows)


def test_writer_process_answers_raises_and_survives_its_child() -> None:
    from aquifer.telemetry.writer import ProcessWriter

    def row(value: float) -> Any:
        return store.ReadingRow(1, "depth_to_water", T, value)

    async def main() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        writer = ProcessWriter(f"{__name__}:picky")
        await writer.start()
        try:
            first = writer.pid
            seen["ok"] = await writer.ingest([row(1.0), (1, "ph", T, 7.0, 0)])
            with pytest.raises(ValueError, match="negative value for depth_to_water"):
                await writer.ingest([row(-1.0)])
            seen["after_error"] = await writer.ingest([row(2.0)])
            assert writer.pid == first  # an exception does not cost the child
            with pytest.raises(ConnectionError):
                await writer.ingest([row(-999)])  # the child dies mid-batch: not committed
            seen["after_death"] = await writer.ingest([row(3.0)] * 3)  # a new child
            seen["new_child"] = writer.pid != first and writer.restarts == 1
        finally:
            await writer.close()
        seen["closed"] = not writer.alive
        return seen

    assert asyncio.run(main()) == {
        "ok": 2, "after_error": 1, "after_death": 3, "new_child": True, "closed": True,
    }  # fmt: skip


@pytest.mark.parametrize("max_delay", [0.0, 0.05])
def test_batch_writer_close_during_a_commit_with_more_waiting_drains_and_returns(
    max_delay: float,
) -> None:
    """close() arriving while a batch commits and others wait: everything is committed and
    close returns (it used to wait forever when the last batch took every waiting row)."""
    from aquifer.telemetry.gateway import BatchWriter

    committed: list[int] = []

    async def main() -> list[int]:
        gate = asyncio.Event()

        async def commit(rows: Any) -> int:
            await gate.wait()
            committed.append(len(rows))
            return len(rows)

        writer = BatchWriter(len, commit=commit, max_rows=3, max_delay=max_delay)
        first = asyncio.ensure_future(writer.submit([1, 2, 3]))  # taken, held at the gate
        await asyncio.sleep(0.01)
        more = [asyncio.ensure_future(writer.submit([k])) for k in range(2)]
        await asyncio.sleep(0.01)
        closing = asyncio.ensure_future(writer.close())
        await asyncio.sleep(0.01)
        gate.set()
        async with asyncio.timeout(5):
            await asyncio.gather(first, *more, closing)
        return committed

    assert asyncio.run(main()) == [3, 2]


def test_batch_writer_commits_through_the_writer_process() -> None:
    from aquifer.telemetry.gateway import BatchWriter
    from aquifer.telemetry.writer import ProcessWriter

    async def main() -> tuple[Any, Any]:
        process = ProcessWriter(f"{__name__}:count_rows")
        await process.start()
        writer = BatchWriter(store.ingest, commit=process.ingest, max_delay=0.01)
        try:
            rows = [[(d, "depth_to_water", T, 1.0, 0)] * 5 for d in range(1, 41)]
            await asyncio.gather(*(writer.submit(r) for r in rows))
        finally:
            await writer.close()
            await process.close()
        return writer.stats["rows"], writer.stats["inserted"]

    assert asyncio.run(main()) == (200, 200)


def test_gateway_picks_its_writer() -> None:
    config = GatewayConfig(sl651_port=None, szy206_port=None)
    default = Gateway(config, devices=DeviceCache())
    assert default.process_writer is not None and default.upkeep is None  # the child's own
    threaded = GatewayConfig(sl651_port=None, szy206_port=None, writer="thread")
    in_threads = Gateway(threaded, devices=DeviceCache())
    assert in_threads.process_writer is None and in_threads.upkeep is not None
    # An injected run_db (the tests' database thread) or ingest keeps the writer in-process,
    # and leaves the rollups to the job.
    for gw in (
        Gateway(config, devices=DeviceCache(), run_db=TestThreadDb()),
        Gateway(config, devices=DeviceCache(), ingest=len),
        Gateway(threaded, devices=DeviceCache(), run_db=TestThreadDb()),
    ):
        assert gw.process_writer is None and gw.upkeep is None
    with pytest.raises(ValueError, match="WRITER"):
        GatewayConfig.from_settings(writer="elsewhere")


def test_a_connection_reverifies_when_its_password_or_the_device_changes(devices: Any) -> None:
    replies: list[bytes | None] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        await dev.send(report(serial=1))
        replies.append(await dev.reply())
        await dev.send(report(serial=2))  # same station and password: the verdict is reused
        replies.append(await dev.reply())
        await dev.send(report(serial=3, password=0x1A2C))  # another password on it
        replies.append(await dev.reply(timeout=0.3))
        await dev.send(report(serial=4))
        replies.append(await dev.reply())

        def deactivate() -> None:
            devices.device_a.active = False
            devices.device_a.save()
            gw.devices.refresh()

        await db(deactivate)  # the device table is reloaded: the connection's verdict is old
        await dev.send(report(serial=5))
        replies.append(await dev.reply(timeout=0.3))
        dev.close()

    gw = run(scenario)
    assert [r is not None for r in replies] == [True, True, False, True, False]
    kinds = sorted(QuarantinedFrame.objects.values_list("kind", "reason"))
    assert kinds == [
        ("auth_failed", f"device of station {SL651_STATION} is not active"),
        ("auth_failed", f"wrong password or token for station {SL651_STATION}"),
    ]
    assert gw.devices.stats["hash_checks"] == 2


def test_status_bits_raise_monitoring_alarms_at_once_and_clear_when_normal(devices: Any) -> None:
    """A report whose status word (45H) says the cabinet door is open and the mains are off
    opens those alarms as it is stored; the next report with a normal word clears them; a
    repeat of the same word is not reported again."""
    from aquifer.monitoring.models import Alarm

    door_closed = 1 << 7
    words = [0b1, 0b1, door_closed]  # door open + AC off, the same again, all normal

    def frame(serial: int, word: int) -> bytes:
        return sl651.encode_report(
            0x32, SL651_STATION, serial=serial, send_time=T + timedelta(minutes=serial),
            observation_time=T + timedelta(minutes=serial),
            elements=[(0x0E, 12.0), (0x45, word)], password=0x1A2B,
        )  # fmt: skip

    opened: list[set[str]] = []

    async def scenario(gw: Gateway, db: TestThreadDb) -> None:
        dev = await Device().open(gw.ports["SL651"])
        for serial, word in enumerate(words, start=1):
            await dev.send(frame(serial, word))
            assert await dev.reply()
            for _ in range(200):  # the report to monitoring runs beside the acknowledgement
                if not gw._status_tasks:
                    break
                await asyncio.sleep(0.01)
            opened.append(
                set(
                    await db(
                        lambda: list(
                            Alarm.objects.filter(kind="device_status", state="open").values_list(
                                "data__bit", flat=True
                            )
                        )
                    )
                )
            )
        dev.close()

    gw = run(scenario)
    assert opened[0] == {"door_open", "ac_power_off"}
    assert opened[1] == opened[0] and gw.stats["status_reports"] == 2
    assert opened[2] == set()
    assert Alarm.objects.filter(kind="device_status").count() == 2
