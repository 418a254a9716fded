"""MQTT ingest: devices publish JSON readings to the broker; the gateway subscribes.

Topic and payload (docs/protocols.md, "Gateway, MQTT and HTTP ingest")::

    <prefix>/<station>/readings            prefix: settings, default "aquifer"
    {"token": "<device token>",
     "readings": [{"element": "depth_to_water",
                   "observed_at": "2026-11-25T10:00:00+08:00", "value": 12.34}, …]}

``station`` is the device's registered client id (``Device.station_address``, protocol MQTT);
``token`` its secret. The token travels in the payload because the subscriber never learns
which broker account published a message. Elements are canonical keys
(:mod:`aquifer.telemetry.elements`) in their units; a time without an offset is China
Standard Time.

Delivery: the subscriber holds a **persistent session** (fixed client id, clean session off)
with a QoS 1 subscription and acknowledges each message (PUBACK) by hand, only **after** its
readings were committed — through the shared group-commit :class:`~.gateway.BatchWriter`.
A message the gateway received but had not acknowledged when it crashed is kept by the broker
and delivered again when the gateway reconnects; ingest is idempotent, so it is stored once.
aiomqtt 2.5 has no manual-acknowledgement option of its own: :class:`MqttIngest` switches on
paho-mqtt's (``manual_ack_set``) on the client aiomqtt wraps and calls its ``ack(mid, qos)``.

A payload that is not JSON, names an unknown station, carries a wrong token or invalid
readings is kept in the quarantine with the reason, then acknowledged (a redelivery could not
change it). The broker sends at most its ``max_inflight_messages`` (mosquitto: 20) unacknowledged
messages at a time, which bounds how many messages one commit can take.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from aquifer.telemetry.devices import DeviceCache
from aquifer.telemetry.gateway import BatchWriter, RunDb
from aquifer.telemetry.mapping import parse_readings

__all__ = ["SETTINGS_KEYS", "MqttConfig", "MqttIngest"]

log = logging.getLogger("aquifer.telemetry.mqtt")

#: settings.AQUIFER["GATEWAY"] key → MqttConfig attribute.
SETTINGS_KEYS = {
    "MQTT_HOST": "host",
    "MQTT_PORT": "port",
    "MQTT_TOPIC_PREFIX": "prefix",
    "MQTT_CLIENT_ID": "client_id",
    "MQTT_USERNAME": "username",
    "MQTT_PASSWORD": "password",
    "MQTT_MAX_ROWS": "max_rows",
}


@dataclass(frozen=True)
class MqttConfig:
    """Where the broker is and what to subscribe to."""

    host: str = "127.0.0.1"
    port: int = 1883
    prefix: str = "aquifer"
    client_id: str = "aquifer-gateway"
    username: str | None = None
    password: str | None = None
    max_rows: int = 10_000

    @property
    def topic(self) -> str:
        return f"{self.prefix}/+/readings"

    @classmethod
    def from_settings(cls, **overrides: Any) -> MqttConfig:
        from django.conf import settings

        configured = getattr(settings, "AQUIFER", {}).get("GATEWAY", {})
        values = {attr: configured[key] for key, attr in SETTINGS_KEYS.items() if key in configured}
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown MQTT settings: {', '.join(sorted(unknown))}")
        return cls(**values)


class MqttIngest:
    """The MQTT subscriber: validate, authenticate, group-commit, then acknowledge.

    Parameters
    ----------
    config
        Broker and topic (:class:`MqttConfig`).
    devices, writer, run_db
        Shared with the TCP gateway when both run (``aquifer gateway --mqtt``).
    quarantine
        :func:`aquifer.telemetry.store.quarantine` by default.
    """

    def __init__(
        self,
        config: MqttConfig | None = None,
        *,
        devices: DeviceCache | None = None,
        writer: BatchWriter | None = None,
        quarantine: Callable[..., Any] | None = None,
        ingest: Callable[..., int] | None = None,
        run_db: RunDb = asyncio.to_thread,
    ) -> None:
        if quarantine is None or (writer is None and ingest is None):
            from aquifer.telemetry import store

            quarantine = quarantine or store.quarantine
            ingest = ingest or store.ingest
        self.config = config or MqttConfig()
        self.devices = devices or DeviceCache()
        self.run_db = run_db
        self._quarantine_fn = quarantine
        self._own_writer = writer is None
        self.writer = writer or BatchWriter(ingest or (lambda rows: 0), run_db=run_db)
        self._tasks: set[asyncio.Task[None]] = set()
        self.stats: Counter[str] = Counter()
        self.subscribed = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Subscribe and ingest until ``stop`` is set (reconnecting after broker failures)."""
        import aiomqtt

        cfg = self.config
        self.writer.start()
        try:
            while not stop.is_set():
                client = aiomqtt.Client(
                    cfg.host,
                    cfg.port,
                    identifier=cfg.client_id,
                    username=cfg.username,
                    password=cfg.password,
                    clean_session=False,
                )
                # aiomqtt 2.5 has no manual-ack option: use paho's, on the client it wraps.
                client._client.manual_ack_set(True)
                try:
                    async with client:
                        await client.subscribe(cfg.topic, qos=1)
                        self.subscribed.set()
                        log.info("MQTT subscribed to %s on %s:%d", cfg.topic, cfg.host, cfg.port)
                        await self._consume(client, stop)
                except aiomqtt.MqttError as exc:
                    self.subscribed.clear()
                    self.stats["broker_errors"] += 1
                    log.warning("MQTT broker %s:%d: %s; reconnecting", cfg.host, cfg.port, exc)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 2.0)
        finally:
            if self._own_writer:
                await self.writer.close()

    async def _consume(self, client: Any, stop: asyncio.Event) -> None:
        messages = client.messages.__aiter__()
        stopping = asyncio.create_task(stop.wait())
        try:
            while True:
                receive = asyncio.create_task(messages.__anext__())
                done, _ = await asyncio.wait({receive, stopping}, return_when="FIRST_COMPLETED")
                if receive not in done:
                    receive.cancel()
                    break
                message = receive.result()
                task = asyncio.create_task(self._handle(client, message))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            # Drain: let messages in flight commit and be acknowledged before disconnecting.
            if self._tasks:
                await asyncio.wait(set(self._tasks), timeout=10)
        finally:
            stopping.cancel()

    async def _handle(self, client: Any, message: Any) -> None:
        try:
            ack = await self.process(str(message.topic), bytes(message.payload))
        except Exception:
            log.exception("MQTT message on %s: unexpected error", message.topic)
            ack = False
        if ack:
            client._client.ack(message.mid, message.qos)
            self.stats["acked"] += 1

    async def _quarantine(
        self, kind: str, reason: str, raw: bytes, topic: str, station: str
    ) -> bool:
        self.stats[f"quarantined_{kind}"] += 1
        log.info("MQTT %s quarantined (%s): %s", topic, kind, reason)
        try:
            await self.run_db(
                self._quarantine_fn, kind, reason, raw,
                protocol="MQTT", remote_addr=f"mqtt:{topic}"[:64], station=station[:64],
            )  # fmt: skip
        except Exception as exc:
            log.error("could not quarantine an MQTT message on %s: %s", topic, exc)
            return False
        return True

    async def process(self, topic: str, payload: bytes) -> bool:
        """Handle one message; whether it may be acknowledged (committed or quarantined)."""
        from aquifer.telemetry.store import ReadingRow

        self.stats["messages"] += 1
        prefix, _, rest = topic.partition("/")
        station, _, leaf = rest.partition("/")
        if prefix != self.config.prefix or leaf != "readings" or not station:
            reason = f"topic {topic!r} is not {self.config.prefix}/<station>/readings"
            return await self._quarantine("malformed", reason, payload, topic, "")
        try:
            body = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            where = f"byte {exc.pos}" if isinstance(exc, json.JSONDecodeError) else "encoding"
            reason = f"payload is not JSON ({where}): {exc}"
            return await self._quarantine("malformed", reason, payload, topic, station)
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            reason = "payload has no token"
            return await self._quarantine("auth_failed", reason, payload, topic, station)
        auth = self.devices.authenticate_cached("MQTT", station, token)
        if auth is None:
            auth = await self.run_db(self.devices.authenticate, "MQTT", station, token)
        if not auth.ok or auth.device is None:
            return await self._quarantine(auth.kind, auth.reason, payload, topic, station)
        readings, errors = parse_readings(body, now=datetime.now(UTC), limit=self.config.max_rows)
        if errors:
            reason = "; ".join(f"{e.field}: {e.message}" for e in errors[:20])
            return await self._quarantine("malformed", reason, payload, topic, station)
        rows = [ReadingRow(auth.device.id, r.element, r.observed_at, r.value) for r in readings]
        try:
            await self.writer.submit(rows)
        except Exception as exc:
            log.error("MQTT %s: not stored, not acknowledged: %s", topic, exc)
            self.stats["commit_failed"] += 1
            return False
        self.stats["readings"] += len(rows)
        return True
