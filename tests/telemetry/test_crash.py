"""Crash safety end to end: ``aquifer gateway`` in a subprocess on an on-disk SQLite file.

Simulated devices (in this process) load the gateway and record every frame that was
acknowledged. The gateway is killed with SIGKILL mid-load and started again on the same
ports; the devices reconnect and resend what was not acknowledged. Then every acknowledged
reading must be in the database exactly once, with its value — nothing acknowledged is lost,
nothing resent is stored twice. The gateway's writer process, orphaned by the kill, must exit
on its own. The restarted gateway is stopped with SIGTERM and must drain and exit 0, its writer
having merged every reading into the rollups exactly once.

The helpers (a migrated database in a temporary directory, a gateway process) are used by
test_simulator.py too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aquifer.registry.demo import demo_device_secret
from aquifer.telemetry.mapping import map_frame
from aquifer.telemetry.protocols import CHINA_TZ, sl651
from aquifer.telemetry.simulator import Clock, SimDevice, SimStats, simulate, simulated_station

AQUIFER = [sys.executable, "-m", "aquifer.cli"]


def make_db(tmp: Path, register: dict[str, int] | None = None) -> dict[str, str]:
    """A migrated SQLite database in ``tmp`` (and registered simulated devices); its env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PYTEST"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'aquifer.sqlite3'}",
        AQUIFER_DATA_DIR=str(tmp),
        DJANGO_SETTINGS_MODULE="aquifer.config.settings",
    )
    subprocess.run([*AQUIFER, "migrate", "-v0"], env=env, cwd=tmp, check=True, timeout=120)
    for protocol, n in (register or {}).items():
        subprocess.run(
            [*AQUIFER, "simulate", "--protocol", protocol, "--devices", str(n), "--register",
             "--duration", "0"],
            env=env, cwd=tmp, check=True, timeout=120, capture_output=True,
        )  # fmt: skip
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class GatewayProcess:
    """``aquifer gateway`` as a subprocess, on fixed ports (so it can be restarted on them)."""

    env: dict[str, str]
    cwd: Path
    sl651_port: int
    szy206_port: int
    proc: subprocess.Popen[str] | None = None
    output: str = ""

    def start(self, timeout: float = 30.0) -> GatewayProcess:
        self.proc = subprocess.Popen(
            [*AQUIFER, "gateway", "--host", "127.0.0.1", "--sl651-port", str(self.sl651_port),
             "--szy206-port", str(self.szy206_port)],
            env=self.env, cwd=self.cwd, stdout=subprocess.PIPE, text=True,
            stderr=open(self.cwd / "gateway.log", "a"),  # noqa: SIM115
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                line = self.proc.stdout.readline()
                self.output += line
                if line.startswith("gateway ready"):
                    return self
            if self.proc.poll() is not None:
                break
        raise AssertionError(f"gateway did not start: {self.output}{self.log()}")

    def log(self) -> str:
        path = self.cwd / "gateway.log"
        return path.read_text()[-3000:] if path.exists() else ""

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 20.0) -> int:
        assert self.proc is not None and self.proc.stdout is not None
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=timeout)
        self.output += out
        return int(self.proc.returncode)

    def __enter__(self) -> GatewayProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def stored_readings(db_file: Path) -> dict[tuple[str, str, datetime], list[float]]:
    """(station, element, observed_at UTC) → the values stored (a list, to see duplicates)."""
    out: dict[tuple[str, str, datetime], list[float]] = {}
    with sqlite3.connect(db_file) as conn:
        rows = conn.execute(
            "SELECT d.station_address, r.element, r.observed_at, r.value "
            "FROM telemetry_reading r JOIN registry_device d ON d.id = r.device_id"
        ).fetchall()
    for station, element, observed, value in rows:
        when = datetime.fromisoformat(observed).replace(tzinfo=UTC)
        out.setdefault((station, element, when), []).append(value)
    return out


async def until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def writer_pids(log: str) -> list[int]:
    """The writer processes the gateway log says were started."""
    return [int(pid) for pid in re.findall(r"writer process (\d+) started", log)]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) is gone too.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


N_DEVICES = 20
LOAD = 400  # acknowledged frames before the kill, and again after the restart


@pytest.mark.slow
def test_nothing_acknowledged_is_lost_and_nothing_resent_is_stored_twice(tmp_path: Path) -> None:
    env = make_db(tmp_path, {"sl651": N_DEVICES})
    gateway = GatewayProcess(env, tmp_path, free_port(), free_port())
    devices = [
        SimDevice(s, "sl651", demo_device_secret("SL651", s))
        for s in (simulated_station("sl651", k) for k in range(1, N_DEVICES + 1))
    ]
    acked: list[tuple[str, bytes]] = []
    stats = SimStats()
    marks: dict[str, int] = {}

    async def scenario() -> None:
        stop = asyncio.Event()
        clock = Clock(timedelta(minutes=5), datetime(2026, 6, 1, tzinfo=CHINA_TZ))
        load = asyncio.create_task(
            simulate(devices, host="127.0.0.1", port=gateway.sl651_port, interval=0,
                     clock=clock, stop=stop, ack_timeout=1.0, stats=stats,
                     on_ack=lambda d, frame: acked.append((d.station, frame)))
        )  # fmt: skip
        await until(lambda: len(acked) >= LOAD, 30, "load before the kill")
        writers = writer_pids(gateway.log())
        gateway.kill()
        marks["killed"] = len(acked)
        marks["reconnects"] = stats.reconnects
        # The writer process (the gateway's default) leaves once its socket is closed.
        assert writers, gateway.log()
        await until(lambda: not any(alive(p) for p in writers), 30, "the orphaned writer")
        await asyncio.sleep(0.5)
        await asyncio.to_thread(gateway.start)
        await until(lambda: len(acked) >= marks["killed"] + LOAD, 60, "load after the restart")
        stop.set()
        await load

    with gateway.start():
        asyncio.run(scenario())
        assert gateway.terminate() == 0, gateway.log()
    assert "gateway stopped" in gateway.output

    # The kill happened mid-load: devices lost their connections and had to resend.
    assert stats.reconnects > marks["reconnects"]
    assert stats.resent + stats.timeouts > 0

    expected: dict[tuple[str, str, datetime], float] = {}
    received = datetime.now(UTC)
    for station, frame in acked:
        for r in map_frame(sl651.decode(frame), received_at=received).readings:
            expected[(station, r.element, r.observed_at.astimezone(UTC))] = r.value
    assert len(expected) >= 2 * LOAD * 5 * 0.9
    stored = stored_readings(tmp_path / "aquifer.sqlite3")
    missing = [key for key in expected if key not in stored]
    assert not missing, f"{len(missing)} acknowledged readings lost, e.g. {missing[:3]}"
    assert all(len(values) == 1 for values in stored.values())
    wrong = [k for k, v in expected.items() if stored[k][0] != v]
    assert not wrong, wrong[:3]
    # What is stored beyond the acknowledged: at most each device's last, unacknowledged report.
    assert len(stored) - len(expected) <= N_DEVICES * 5
    # The writer merged what it stored into the rollups as it went (and the rest when the
    # gateway stopped): every reading once, the kill in the middle notwithstanding.
    with sqlite3.connect(tmp_path / "aquifer.sqlite3") as conn:
        (n_readings, last_id) = conn.execute(
            "SELECT count(*), max(id) FROM telemetry_reading WHERE flags & 4 = 0"
        ).fetchone()
        for table in ("telemetry_readinghourly", "telemetry_readingdaily"):
            (n,) = conn.execute(f"SELECT sum(n) FROM {table}").fetchone()
            assert n == n_readings, table
        (mark,) = conn.execute("SELECT reading_id FROM telemetry_rollupwatermark").fetchone()
        assert mark == last_id
        # Every acknowledged frame is in the raw-frame archive as sent (the writer process
        # archived it in its readings' commit).
        archived = {bytes(r) for (r,) in conn.execute("SELECT raw FROM telemetry_rawframe")}
    assert {frame for _station, frame in acked} <= archived


@pytest.mark.slow
def test_the_writer_thread_mode_merges_its_rollups_too(tmp_path: Path) -> None:
    """``AQUIFER_GATEWAY_WRITER=thread``: ingest on the gateway's worker threads, and the
    upkeep thread (rollups, WAL checkpoints) in the gateway's own process; stopped with
    SIGTERM, every reading stored is in the rollups once."""
    env = make_db(tmp_path, {"sl651": 5})
    env["AQUIFER_GATEWAY_WRITER"] = "thread"
    gateway = GatewayProcess(env, tmp_path, free_port(), free_port())
    devices = [
        SimDevice(s, "sl651", demo_device_secret("SL651", s))
        for s in (simulated_station("sl651", k) for k in range(1, 6))
    ]
    acked: list[bytes] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        clock = Clock(timedelta(minutes=5), datetime(2026, 6, 1, tzinfo=CHINA_TZ))
        load = asyncio.create_task(
            simulate(devices, host="127.0.0.1", port=gateway.sl651_port, interval=0,
                     clock=clock, stop=stop, ack_timeout=1.0,
                     on_ack=lambda d, frame: acked.append(frame))
        )  # fmt: skip
        await until(lambda: len(acked) >= 200, 30, "the load")
        stop.set()
        await load

    with gateway.start():
        asyncio.run(scenario())
        assert gateway.terminate() == 0, gateway.log()
    assert writer_pids(gateway.output) == []  # no writer process in this mode
    with sqlite3.connect(tmp_path / "aquifer.sqlite3") as conn:
        (n_readings, last_id) = conn.execute(
            "SELECT count(*), max(id) FROM telemetry_reading WHERE flags & 4 = 0"
        ).fetchone()
        assert n_readings >= 200 * 5
        for table in ("telemetry_readinghourly", "telemetry_readingdaily"):
            (n,) = conn.execute(f"SELECT sum(n) FROM {table}").fetchone()
            assert n == n_readings, table
        (mark,) = conn.execute("SELECT reading_id FROM telemetry_rollupwatermark").fetchone()
        assert mark == last_id
        archived = {bytes(r) for (r,) in conn.execute("SELECT raw FROM telemetry_rawframe")}
    assert set(acked) <= archived  # the thread mode archives them too
