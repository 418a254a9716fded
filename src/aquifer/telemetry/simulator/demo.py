"""The demo: a gateway and simulated devices in a background thread (``aquifer demo``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from .devices import SimStats, run_tcp_device
from .frames import SimDevice
from .registry import select_devices

log = logging.getLogger("aquifer.telemetry.simulator")

# --- the demo -----------------------------------------------------------------------------------


class DemoSimulation:
    """A gateway and simulated devices running in a background thread (``aquifer demo``).

    Use :func:`start_demo_simulation`; :meth:`stop` stops the devices, drains the gateway
    and joins the thread. Attributes: ``ports`` (protocol → port the gateway listens on),
    ``devices`` and ``stats`` (:class:`SimStats`).
    """

    def __init__(
        self, n_devices: int, interval: float, host: str, ports: dict[str, int | None]
    ) -> None:
        self.n_devices = n_devices
        self.interval = interval
        self.host = host
        self.requested_ports = ports
        self.ports: dict[str, int] = {}
        self.devices: list[SimDevice] = []
        self.stats = SimStats(keep_latencies=False)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="aquifer-demo-sim", daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # reported to the starter
            self._error = exc
            self._ready.set()

    async def _run(self) -> None:
        from aquifer.telemetry.gateway import Gateway, GatewayConfig

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        base = GatewayConfig.from_settings(host=self.host)
        gateway = None
        for ports in (self.requested_ports, {"sl651": 0, "szy206": 0}):
            config = GatewayConfig.from_settings(
                host=self.host,
                sl651_port=ports.get("sl651", base.sl651_port),
                szy206_port=ports.get("szy206", base.szy206_port),
            )
            gateway = Gateway(config)
            try:
                await gateway.start()
                break
            except OSError as exc:
                log.warning("demo gateway: %s; using free ports", exc)
                await gateway.stop()
                gateway = None
        assert gateway is not None
        self.ports = dict(gateway.ports)
        half = (self.n_devices + 1) // 2
        picked = await asyncio.to_thread(select_devices, "sl651", half)
        picked += await asyncio.to_thread(select_devices, "szy206", self.n_devices - len(picked))
        if len(picked) < self.n_devices:
            more = await asyncio.to_thread(
                select_devices, "sl651", self.n_devices - len(picked) + half, register=True
            )
            known = {d.station for d in picked}
            picked += [d for d in more if d.station not in known][: self.n_devices - len(picked)]
        self.devices = picked
        self.stats.devices = len(picked)
        self._ready.set()
        try:
            target = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
            tasks = []
            for d in picked:
                port = self.ports["SL651" if d.protocol == "sl651" else "SZY206"]
                run = run_tcp_device(
                    d, target, port, stats=self.stats, stop=self._stop, interval=self.interval
                )
                tasks.append(asyncio.create_task(run))
            await self._stop.wait()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await gateway.stop()

    def start(self, timeout: float = 60.0) -> DemoSimulation:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the demo simulation did not start")
        if self._error is not None:
            raise RuntimeError(f"the demo simulation failed: {self._error}") from self._error
        return self

    def stop(self, timeout: float = 15.0) -> SimStats:
        """Stop the devices, drain the gateway, join the thread; returns the counts."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        self._thread.join(timeout)
        return self.stats

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> DemoSimulation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_demo_simulation(
    n_devices: int = 10,
    interval: float = 60.0,
    *,
    host: str = "127.0.0.1",
    sl651_port: int | None = None,
    szy206_port: int | None = None,
) -> DemoSimulation:
    """Start a gateway and ``n_devices`` simulated devices in a background thread.

    Half the devices speak SL651 and half SZY206 — registered demo devices first (their demo
    secrets), simulated stations registered when there are not enough. The gateway listens on
    ``sl651_port``/``szy206_port`` (default: the settings' ports; free ports if those are
    taken) and stores into the configured database, so the demo's charts move. Each device
    reports every ``interval`` seconds (SL651 observation times have minute resolution: below
    60 s, reports in the same minute are stored once).

    Returns a started :class:`DemoSimulation`; call its ``stop()`` (or use it as a context
    manager) to stop the devices, drain the gateway and join the thread.
    """
    ports: dict[str, int | None] = {}
    if sl651_port is not None:
        ports["sl651"] = sl651_port
    if szy206_port is not None:
        ports["szy206"] = szy206_port
    return DemoSimulation(n_devices, interval, host, ports).start()
