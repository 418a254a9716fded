"""``aquifer gateway [--sl651-port 5651] [--szy206-port 5206] [--mqtt] [--host 0.0.0.0]``.

Runs the device gateway (:mod:`aquifer.telemetry.gateway`): SL651 and SZY206 TCP servers and,
with ``--mqtt``, the MQTT subscriber (:mod:`aquifer.telemetry.mqtt`), all feeding one
group-commit writer. Defaults come from ``settings.AQUIFER["GATEWAY"]``; a port of 0 picks a
free one, ``--no-sl651``/``--no-szy206`` leave a server off. Once listening it prints one line
``gateway ready: SL651 host:port, SZY206 host:port[, MQTT broker:port topic]``.

SIGTERM or SIGINT drains: no new connections, frames in flight are committed and
acknowledged, connections are closed, exit status 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from aquifer.core.processes import raise_open_files_limit
from aquifer.telemetry.gateway import Gateway, GatewayConfig

log = logging.getLogger("aquifer.telemetry.gateway")


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _(
            "启动遥测网关：SL651、SZY206 TCP 服务（可选 MQTT 订阅），"
            "数据成组提交入库后才向设备发确认。"
        )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", help=_("监听地址（默认设置 GATEWAY.HOST，0.0.0.0）"))
        parser.add_argument("--sl651-port", type=int, help=_("SL651 端口（默认 5651；0 任选）"))
        parser.add_argument("--szy206-port", type=int, help=_("SZY206 端口（默认 5206；0 任选）"))
        parser.add_argument("--no-sl651", action="store_true", help=_("不启动 SL651 服务"))
        parser.add_argument("--no-szy206", action="store_true", help=_("不启动 SZY206 服务"))
        parser.add_argument("--mqtt", action="store_true", help=_("同时订阅 MQTT 读数"))
        parser.add_argument("--mqtt-host", help=_("MQTT 服务器（默认 127.0.0.1）"))
        parser.add_argument("--mqtt-port", type=int, help=_("MQTT 端口（默认 1883）"))
        parser.add_argument("--mqtt-prefix", help=_("MQTT 主题前缀（默认 aquifer）"))
        parser.add_argument("--mqtt-client-id", help=_("MQTT 客户端标识（持久会话）"))
        parser.add_argument("--batch-rows", type=int, help=_("成组提交的最多行数"))
        parser.add_argument("--batch-ms", type=float, help=_("成组提交的最长等待（毫秒）"))
        parser.add_argument("--idle-timeout", type=float, help=_("连接空闲超时（秒）"))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verbosity"] >= 1:
            logging.getLogger("aquifer.telemetry").setLevel(
                logging.DEBUG if options["verbosity"] >= 3 else logging.INFO
            )
        raise_open_files_limit()
        config = GatewayConfig.from_settings(
            host=options["host"],
            sl651_port=options["sl651_port"],
            szy206_port=options["szy206_port"],
            batch_max_rows=options["batch_rows"],
            batch_max_ms=options["batch_ms"],
            idle_timeout=options["idle_timeout"],
        )
        if options["no_sl651"] or options["no_szy206"]:
            from dataclasses import replace

            config = replace(
                config,
                sl651_port=None if options["no_sl651"] else config.sl651_port,
                szy206_port=None if options["no_szy206"] else config.szy206_port,
            )
        asyncio.run(self._run(config, options))

    async def _run(self, config: GatewayConfig, options: dict[str, Any]) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        gateway = Gateway(config)
        ports = await gateway.start()
        parts = [f"{p} {config.host}:{port}" for p, port in ports.items()]
        mqtt_task = None
        mqtt_stop = asyncio.Event()
        if options["mqtt"]:
            from aquifer.telemetry.mqtt import MqttConfig, MqttIngest

            mconfig = MqttConfig.from_settings(
                host=options["mqtt_host"],
                port=options["mqtt_port"],
                prefix=options["mqtt_prefix"],
                client_id=options["mqtt_client_id"],
            )
            ingest = MqttIngest(mconfig, devices=gateway.devices, writer=gateway.writer)
            mqtt_task = asyncio.create_task(ingest.run(mqtt_stop))
            try:
                async with asyncio.timeout(10):
                    await ingest.subscribed.wait()
            except TimeoutError:
                log.warning("MQTT broker %s:%d not reachable yet", mconfig.host, mconfig.port)
            parts.append(f"MQTT {mconfig.host}:{mconfig.port} {mconfig.topic}")
        self.stdout.write("gateway ready: " + ", ".join(parts))
        self.stdout.flush()
        await stop.wait()
        log.info("stopping: draining connections")
        if mqtt_task is not None:
            mqtt_stop.set()
            await mqtt_task
        await gateway.stop()
        self.stdout.write(
            "gateway stopped: "
            + ", ".join(
                f"{k}={v}" for k, v in sorted((gateway.stats + gateway.writer.stats).items())
            )
        )
