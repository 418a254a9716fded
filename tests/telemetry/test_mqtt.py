"""MQTT ingest against the real broker at 127.0.0.1:1883 (a unique topic prefix per run).

The subscriber runs in an event loop on a second thread and stores through the test's own
connection (see test_gateway.py, :class:`TestThreadDb`). Under CI=true a missing broker fails.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from typing import Any

import pytest

from aquifer.telemetry import store
from aquifer.telemetry.devices import DeviceCache
from aquifer.telemetry.models import QuarantinedFrame, Reading
from aquifer.telemetry.mqtt import MqttConfig, MqttIngest
from tests.conftest import require_or_skip

from .test_gateway import TestThreadDb, run_in_loop

BROKER = ("127.0.0.1", 1883)
STATION = "yc-mqtt-test-1"
TOKEN = "fedcba9876543210"


def _broker_up() -> bool:
    try:
        socket.create_connection(BROKER, timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def broker() -> None:
    require_or_skip(_broker_up(), f"the MQTT broker at {BROKER[0]}:{BROKER[1]}")


@pytest.fixture
def config() -> Any:
    """A unique prefix and client id; the persistent session is removed afterwards."""
    run = uuid.uuid4().hex[:12]
    cfg = MqttConfig(host=BROKER[0], port=BROKER[1], prefix=f"aqtest{run}",
                     client_id=f"aquifer-test-{run}")  # fmt: skip
    yield cfg

    async def forget() -> None:
        import aiomqtt

        async with aiomqtt.Client(cfg.host, cfg.port, identifier=cfg.client_id,
                                  clean_session=True):  # fmt: skip
            pass

    asyncio.run(forget())


@pytest.fixture
def device(db: Any) -> Any:
    from aquifer.registry.models import Device

    d = Device(kind="quality_sonde", protocol="MQTT", station_address=STATION)
    d.set_secret(TOKEN)
    d.save()
    return d


def payload(token: str = TOKEN, value: Any = 12.34, hour: int = 10) -> bytes:
    return json.dumps(
        {
            "token": token,
            "readings": [
                {"element": "depth_to_water", "observed_at": f"2026-11-25T{hour}:00:00+08:00",
                 "value": value},
                {"element": "battery_voltage", "observed_at": f"2026-11-25T{hour}:00:00+08:00",
                 "value": 12.9},
            ],
        }
    ).encode()  # fmt: skip


async def until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.02)


async def publish(cfg: MqttConfig, messages: list[tuple[str, bytes]]) -> None:
    import aiomqtt

    async with aiomqtt.Client(cfg.host, cfg.port) as client:
        for station, body in messages:
            await client.publish(f"{cfg.prefix}/{station}/readings", body, qos=1)


def ingester(cfg: MqttConfig, db: TestThreadDb, ingest: Any = store.ingest) -> MqttIngest:
    return MqttIngest(cfg, devices=DeviceCache(), ingest=ingest, quarantine=store.quarantine,
                      run_db=db)  # fmt: skip


def test_readings_are_stored_once_and_bad_payloads_quarantined(
    broker: None, config: MqttConfig, device: Any
) -> None:
    async def main(db: TestThreadDb) -> MqttIngest:
        ing = ingester(config, db)
        stop = asyncio.Event()
        task = asyncio.create_task(ing.run(stop))
        await asyncio.wait_for(ing.subscribed.wait(), 10)
        await publish(
            config,
            [
                (STATION, payload()),
                (STATION, payload()),  # resent
                (STATION, b"{not json"),
                (STATION, payload(token="wrong")),
                ("yc-nobody", payload()),
                (STATION, payload(value="deep", hour=11)),
            ],
        )
        await until(lambda: ing.stats["acked"] >= 6)
        stop.set()
        await task
        return ing

    ing = run_in_loop(main)
    assert ing.stats["messages"] == 6 and ing.stats["acked"] == 6
    stored = {(r.element, r.value) for r in Reading.objects.filter(device=device)}
    assert stored == {("depth_to_water", 12.34), ("battery_voltage", 12.9)}
    kept = sorted(QuarantinedFrame.objects.values_list("kind", "station", "reason"))
    assert [(k, s) for k, s, _r in kept] == [
        ("auth_failed", STATION),
        ("malformed", STATION),
        ("malformed", STATION),
        ("unknown_station", "yc-nobody"),
    ]
    reasons = " | ".join(r for _k, _s, r in kept)
    assert "payload is not JSON" in reasons and "readings[0].value" in reasons
    assert all(q.protocol == "MQTT" for q in QuarantinedFrame.objects.all())


def test_a_message_not_acknowledged_before_a_crash_is_delivered_again(
    broker: None, config: MqttConfig, device: Any
) -> None:
    """The first subscriber fails before its commit (as if it crashed): no PUBACK. The broker
    keeps the message for the persistent session and delivers it to the next subscriber."""

    def crash(rows: Any) -> int:
        raise RuntimeError("crash before the commit")

    async def main(db: TestThreadDb) -> tuple[MqttIngest, MqttIngest]:
        first = ingester(config, db, ingest=crash)
        stop = asyncio.Event()
        task = asyncio.create_task(first.run(stop))
        await asyncio.wait_for(first.subscribed.wait(), 10)
        await publish(config, [(STATION, payload())])
        await until(lambda: first.stats["commit_failed"] >= 1)
        stop.set()
        await task
        assert await db(Reading.objects.count) == 0

        second = ingester(config, db)
        stop = asyncio.Event()
        task = asyncio.create_task(second.run(stop))
        await until(lambda: second.stats["acked"] >= 1)
        await publish(config, [(STATION, payload())])  # and a resend by the device
        await until(lambda: second.stats["acked"] >= 2)
        stop.set()
        await task
        return first, second

    first, second = run_in_loop(main)
    assert first.stats["acked"] == 0
    assert second.stats["messages"] == 2
    assert Reading.objects.filter(device=device).count() == 2
