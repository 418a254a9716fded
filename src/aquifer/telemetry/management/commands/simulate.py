"""``aquifer simulate --devices N --protocol sl651|szy206|mqtt|http [--host H --port P]
[--interval S] [--duration S] [--frames N] [--register]``.

N simulated devices (:mod:`aquifer.telemetry.simulator`) speak the real protocols to a running
gateway (SL651, SZY206 over TCP), the MQTT broker, or the web server (HTTP). They are
registered devices of that protocol (demo devices first) and authenticate with their demo
secrets (``registry.demo.demo_device_secret``); ``--register`` creates simulated stations when
there are not enough (no well, audit source ``simulator``). Each TCP device keeps its
connection open, waits for the acknowledgement before its next report and resends on a
timeout. ``--time-step MIN`` dates report k at start + k × MIN minutes instead of now (a day of
readings in seconds). ``--duration 0`` only selects (and registers) the devices.

Prints the counts as one JSON object when done (SIGINT/SIGTERM stops early).
"""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from aquifer.core.processes import raise_open_files_limit
from aquifer.telemetry.protocols import CHINA_TZ
from aquifer.telemetry.simulator import Clock, SimDevice, SimStats, simulate
from aquifer.telemetry.simulator.registry import select_devices


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("模拟设备：按真实规约（SL651、SZY206、MQTT、HTTP）向网关上报读数。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--devices", type=int, default=10, help=_("设备数（默认 10）"))
        parser.add_argument(
            "--protocol",
            choices=["sl651", "szy206", "mqtt", "http"],
            type=str.lower,
            default="sl651",
            help=_("规约（默认 sl651）"),
        )
        parser.add_argument("--host", default="127.0.0.1", help=_("网关地址（默认 127.0.0.1）"))
        parser.add_argument("--port", type=int, help=_("端口（默认：该规约在设置中的端口）"))
        parser.add_argument(
            "--interval",
            type=float,
            default=60.0,
            help=_("上报间隔秒数（默认 60；0 为收到确认即发下一帧）"),
        )
        parser.add_argument("--duration", type=float, help=_("运行秒数（默认一直运行）"))
        parser.add_argument("--frames", type=int, help=_("每台设备上报次数"))
        parser.add_argument(
            "--time-step",
            type=float,
            metavar="MIN",
            help=_("第 k 次上报的观测时间 = 起点 + k×MIN 分钟"),
        )
        parser.add_argument("--register", action="store_true", help=_("设备不足时登记模拟测站"))
        parser.add_argument("--ack-timeout", type=float, default=10.0, help=_("等待确认秒数"))
        parser.add_argument("--mqtt-prefix", help=_("MQTT 主题前缀（默认设置，aquifer）"))

    def handle(self, *args: Any, **options: Any) -> None:
        n = options["devices"]
        if not 1 <= n <= 10000:
            raise CommandError(_("设备数应在 1 至 10000 之间。"))
        protocol = options["protocol"]
        devices = select_devices(protocol, n, register=options["register"])
        if not devices:
            raise CommandError(
                _("没有已登记并启用的 %s 设备；加 --register 登记模拟测站。") % protocol.upper()
            )
        if len(devices) < n:
            self.stderr.write(
                _("只有 %(k)d 台 %(p)s 设备（要求 %(n)d 台）；加 --register 补足。")
                % {"k": len(devices), "p": protocol.upper(), "n": n}
            )
        if options["duration"] == 0:
            self.stdout.write(json.dumps({"devices": len(devices), "protocol": protocol}))
            return
        raise_open_files_limit()
        stats = asyncio.run(self._run(devices, options))
        summary = {"protocol": protocol, **stats.summary()}
        self.stdout.write(json.dumps(summary, ensure_ascii=False))

    def _port(self, protocol: str, port: int | None) -> int:
        if port is not None:
            return port
        if protocol in ("sl651", "szy206"):
            from aquifer.telemetry.gateway import GatewayConfig

            config = GatewayConfig.from_settings()
            chosen = config.sl651_port if protocol == "sl651" else config.szy206_port
            return chosen if chosen else (5651 if protocol == "sl651" else 5206)
        if protocol == "mqtt":
            from aquifer.telemetry.mqtt import MqttConfig

            return MqttConfig.from_settings().port
        return 8000

    async def _run(self, devices: list[SimDevice], options: dict[str, Any]) -> SimStats:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        clock = Clock()
        if options["time_step"]:
            clock = Clock(timedelta(minutes=options["time_step"]), datetime.now(CHINA_TZ))
        prefix = options["mqtt_prefix"]
        if prefix is None and options["protocol"] == "mqtt":
            from aquifer.telemetry.mqtt import MqttConfig

            prefix = MqttConfig.from_settings().prefix
        return await simulate(
            devices,
            host=options["host"],
            port=self._port(options["protocol"], options["port"]),
            interval=options["interval"],
            duration=options["duration"],
            ticks=options["frames"],
            clock=clock,
            stop=stop,
            mqtt_prefix=prefix or "aquifer",
            ack_timeout=options["ack_timeout"],
        )
