"""The device gateway end to end: thousands of SL651 devices, group commit against a baseline.

Starts ``aquifer gateway`` as a subprocess on a fresh database (a temporary SQLite file, or a
new PostgreSQL database ``aquifer_bench_gw_<pid>`` that is dropped afterwards), registers the
simulated devices (``aquifer simulate --register``), and loads the gateway from a **separate
process** (multiprocessing): N devices, each on its own long-lived TCP connection, each sending
its next SL651 timed report (32H, 5 elements: depth, temperature, flow, cumulative volume,
battery) as soon as the previous one was acknowledged — so the gateway sees N frames in flight
at every moment. The devices are :class:`_Device` records on one ``epoll`` loop with
non-blocking sockets, their reports built beforehand (the simulator's frames and
acknowledgement check, not its coroutine per device): on 2 cores the load generator takes CPU
from the gateway, so it takes as little as it can (~18 % of a core at 12,000 frames/s, half
what asyncio protocols took). A connection the gateway closes is counted
(``connections_lost``), not reopened.
After a warm-up (every device acknowledged at least once: its password has been verified and
cached) the acknowledged frames are counted for a fixed window.

Three runs per database, same load:

- ``group_commit``: the gateway's settings (rows of all connections collected for up to
  ``--batch-ms`` ms, one ``ingest`` call in the writer process, then the acknowledgements);
- ``group_commit_thread_writer``: the same with ``ingest`` in a worker thread of the gateway's
  interpreter (``AQUIFER_GATEWAY_WRITER=thread``), sharing the GIL with the event loop;
- ``baseline_commit_per_frame``: ``--batch-rows 1 --batch-ms 0``, one transaction per frame.

Figures: ``frames_per_second`` (acknowledged), ``readings_per_second``, acknowledgement latency
``ack_p50_ms``/``ack_p99_ms`` (send → acknowledgement, measured by the devices), the gateway's
batches and mean batch size, and ``stored_ok`` (every acknowledged reading is in the database).
``store_ingest_alone``: :func:`aquifer.telemetry.store.ingest` by itself, one thread, batches of
the group-commit run's mean size with one report per device (as the gateway's are): the
ceiling the store sets; compare ``commit_ms_per_batch`` (the same call inside the gateway, where
its Python work shares the GIL with the event loop). With every device waiting for its
acknowledgement (a closed loop), the latency is about devices ÷ throughput (Little's law):
p99 < 250 ms at 2,000 devices needs about 8,000 frames/s.
Targets: ≥ 10,000 frames/s and p99 < 250 ms on SQLite.

    python bench/gateway.py [--quick] [--devices N] [--db sqlite|postgres|both] [--seconds S]
                            [--batch-ms MS] [--modes group_commit,...]

``--quick``: 200 devices, 4 s windows. Prints one JSON object.
AQUIFER_BENCH_PG_URL: the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

AQUIFER = [sys.executable, "-m", "aquifer.cli"]
PG_URL = os.environ.get("AQUIFER_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
ELEMENTS_PER_FRAME = 5
#: Frames built per device before the load starts (then built on the fly, ~55 µs each in the
#: load generator's process: at 12,000 frames/s a run uses ~100 per device, so some margin).
PREBUILT = 160


# --- databases ----------------------------------------------------------------------------------


class Database:
    """A fresh database for one benchmark: its environment for subprocesses, and cleanup."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.workdir = workdir
        self.env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        self.env["AQUIFER_DATA_DIR"] = str(workdir)
        self.env["DJANGO_SETTINGS_MODULE"] = "aquifer.config.settings"
        if kind == "sqlite":
            self.url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        else:
            import psycopg

            self.name = f"aquifer_bench_gw_{os.getpid()}"
            with psycopg.connect(_pg(PG_URL), autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {self.name}")
                conn.execute(f"CREATE DATABASE {self.name}")
            self.url = re.sub(r"/[^/]*$", f"/{self.name}", PG_URL)
        self.env["DATABASE_URL"] = self.url

    def run(self, *args: str, timeout: float = 600) -> str:
        out = subprocess.run([*AQUIFER, *args], env=self.env, cwd=self.workdir, check=True,
                             capture_output=True, text=True, timeout=timeout)  # fmt: skip
        return out.stdout

    def readings(self) -> int:
        if self.kind == "sqlite":
            with sqlite3.connect(self.workdir / "bench.sqlite3") as conn:
                return int(conn.execute("SELECT count(*) FROM telemetry_reading").fetchone()[0])
        import psycopg

        with psycopg.connect(_pg(self.url)) as conn:
            row = conn.execute("SELECT count(*) FROM telemetry_reading").fetchone()
            return int(row[0]) if row else 0

    def drop(self) -> None:
        if self.kind == "postgres":
            import psycopg

            with psycopg.connect(_pg(PG_URL), autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def _pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class GatewayProcess:
    def __init__(
        self, db: Database, port: int, extra: list[str], env: dict[str, str] | None = None
    ) -> None:
        self.log = open(db.workdir / "gateway.log", "a")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [*AQUIFER, "gateway", "--host", "127.0.0.1", "--sl651-port", str(port),
             "--no-szy206", "-v", "0", *extra],
            env={**db.env, **(env or {})}, cwd=db.workdir, stdout=subprocess.PIPE,
            stderr=self.log, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = select.select([self.proc.stdout], [], [], 0.2)[0]
            if ready and self.proc.stdout.readline().startswith("gateway ready"):
                return
            if self.proc.poll() is not None:
                break
        raise RuntimeError("the gateway did not start; see gateway.log")

    def stop(self) -> dict[str, int]:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=120)
        self.log.close()
        stats: dict[str, int] = {}
        for line in out.splitlines():
            if line.startswith("gateway stopped:"):
                for item in line.split(":", 1)[1].split(","):
                    key, _, value = item.strip().partition("=")
                    if value.isdigit():
                        stats[key] = int(value)
        stats["exit_status"] = int(self.proc.returncode)
        return stats


# --- the load generator (its own process) -------------------------------------------------------


def _load(conn: Any, config: dict[str, Any]) -> None:
    """Entry point of the load-generator process: runs the devices, sends back the figures."""
    try:
        conn.send(_run_load(config))
    except BaseException as exc:
        conn.send({"error": repr(exc)})
    finally:
        conn.close()


class _Device:
    """One simulated SL651 device on its TCP connection: sends its next report as soon as the
    last one was acknowledged (resends it after ``ack_timeout``).

    Plain state driven by one ``epoll`` loop (:func:`_run_load`) rather than the simulator's
    coroutine per device: the load generator shares the 2 cores with the gateway, so it
    should spend as little of them as it can per frame (about half the CPU of an asyncio
    protocol per device, measured)."""

    __slots__ = ("buf", "frame", "sent_at", "station", "tick")

    def __init__(self, station: str) -> None:
        self.station = station
        self.tick = 0
        self.frame = b""
        self.sent_at = 0.0
        self.buf = b""


class _Load:
    def __init__(self, config: dict[str, Any]) -> None:
        from aquifer.telemetry.protocols import CHINA_TZ
        from aquifer.telemetry.simulator import Clock, SimDevice, SimStats, ack_matches

        self.port = config["port"]
        self.clock = Clock(
            timedelta(minutes=5), datetime.fromisoformat(config["start"]).astimezone(CHINA_TZ)
        )
        self.sim = {s: SimDevice(s, "sl651", secret) for s, secret in config["devices"]}
        self.prebuilt = {s: [self._build(s, k) for k in range(PREBUILT)] for s in self.sim}
        self.stats = SimStats(keep_latencies=False)
        self.matches = ack_matches
        self.acked_by: set[str] = set()
        self.devices = [_Device(s) for s in self.sim]

    def _build(self, station: str, tick: int) -> bytes:
        from aquifer.telemetry.simulator import report_frames

        return report_frames(self.sim[station], self.clock.at(tick))[0]

    def frame(self, device: _Device, tick: int) -> bytes:
        built = self.prebuilt[device.station]
        return built[tick] if tick < len(built) else self._build(device.station, tick)

    def acked(self, device: _Device) -> None:
        stats = self.stats
        if stats.keep_latencies:
            stats.latencies.append(time.perf_counter() - device.sent_at)
        stats.acked += 1
        self.acked_by.add(device.station)


def _run_load(config: dict[str, Any]) -> dict[str, Any]:
    """The devices on one ``epoll`` loop with non-blocking sockets (no event-loop machinery
    per frame): each still waits for its own acknowledgement before its next report."""
    from aquifer.core.processes import raise_open_files_limit

    raise_open_files_limit()
    load = _Load(config)
    stats, acked_by, devices = load.stats, load.acked_by, load.devices
    matches, frame_of, perf = load.matches, load.frame, time.perf_counter
    poller = select.epoll()
    by_fd: dict[int, tuple[socket.socket, _Device]] = {}
    for k, d in enumerate(devices):
        sock = socket.create_connection(("127.0.0.1", load.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        by_fd[sock.fileno()] = (sock, d)
        poller.register(sock.fileno(), select.EPOLLIN)
        d.frame = frame_of(d, 0)
        d.sent_at = perf()
        sock.send(d.frame)
        stats.sent += 1
        if k % 100 == 99:
            time.sleep(0.01)  # do not flood the gateway's accept backlog at once
    lost = 0

    def run_until(deadline: float, stop_when_warm: bool = False) -> None:
        nonlocal lost
        next_watch = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            if stop_when_warm and len(acked_by) == len(devices):
                return
            for fd, _ev in poller.poll(0.05):
                sock, d = by_fd[fd]
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:  # the gateway closed it: not resumed here (counted, reported)
                    poller.unregister(fd)
                    del by_fd[fd]
                    lost += 1
                    continue
                buf = d.buf + data
                while len(buf) >= 13:
                    size = 17 + ((buf[11] & 0x0F) << 8 | buf[12])
                    if len(buf) < size:
                        break
                    ack, buf = buf[:size], buf[size:]
                    if matches("sl651", ack, d.frame):
                        load.acked(d)
                        d.tick += 1
                        d.frame = frame_of(d, d.tick)
                        d.sent_at = perf()
                        sock.send(d.frame)
                        stats.sent += 1
                d.buf = buf
            if time.monotonic() >= next_watch:  # resend what waited past the timeout
                next_watch += 1.0
                now = perf()
                for sock, d in by_fd.values():
                    if now - d.sent_at > 60.0:
                        stats.timeouts += 1
                        stats.resent += 1
                        d.sent_at = now
                        sock.send(d.frame)

    started = time.monotonic()
    run_until(started + config["warmup_max"], stop_when_warm=True)
    warmed = len(acked_by)
    run_until(time.monotonic() + config["settle"])
    stats.latencies = []
    stats.keep_latencies = True
    acked0, t0 = stats.acked, time.monotonic()
    run_until(t0 + config["seconds"])
    acked1, t1 = stats.acked, time.monotonic()
    stats.keep_latencies = False
    window = stats.summary()
    longest = max(stats.latencies, default=None)
    for sock, _d in by_fd.values():
        sock.close()
    poller.close()
    frames_ps = (acked1 - acked0) / (t1 - t0)
    return {
        "frames_per_second": round(frames_ps),
        "readings_per_second": round(frames_ps * ELEMENTS_PER_FRAME),
        "ack_p50_ms": window["ack_latency_ms_p50"],
        "ack_p99_ms": window["ack_latency_ms_p99"],
        "ack_max_ms": None if longest is None else round(longest * 1000, 1),
        "window_s": round(t1 - t0, 2),
        "warmup_s": round(t0 - started, 2),
        "devices_warmed": warmed,
        "frames_acked_total": stats.acked,
        "resent": stats.resent,
        "connections_lost": lost,
    }


def run_load(port: int, devices: list[tuple[str, str]], start: datetime, seconds: float,
             warmup_max: float) -> dict[str, Any]:  # fmt: skip
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    config = {"port": port, "devices": devices, "start": start.isoformat(), "seconds": seconds,
              "warmup_max": warmup_max, "settle": 1.0}  # fmt: skip
    proc = ctx.Process(target=_load, args=(child, config), name="aquifer-bench-load")
    proc.start()
    child.close()
    result: dict[str, Any] = parent.recv()
    proc.join(60)
    if "error" in result:
        raise RuntimeError(f"load generator failed: {result['error']}")
    return result


# --- the store alone -----------------------------------------------------------------------------

INGEST_ONLY = """
import json, sys, time, django
django.setup()
from datetime import UTC, datetime, timedelta
from aquifer.registry.models import Device
from aquifer.telemetry.store import ReadingRow, ingest
size, batches = int(sys.argv[1]), int(sys.argv[2])
ids = list(Device.objects.order_by("id").values_list("id", flat=True))
keys = ["depth_to_water", "water_temperature", "flow_rate", "cumulative_volume",
        "battery_voltage"]
start = datetime(2027, 1, 1, tzinfo=UTC)
n = took = 0
for b in range(batches):
    rows = [ReadingRow(ids[(b * size + i) % len(ids)], e,
                       start + timedelta(minutes=5 * ((b * size + i) // len(ids))), 20.0)
            for i in range(size) for e in keys]
    t = time.perf_counter()
    ingest(rows)
    took += time.perf_counter() - t
    n += len(rows)
print(json.dumps({"rows_per_second": round(n / took), "rows_per_batch": len(rows)}))
"""


def ingest_only(db: Database, frames_per_batch: int, batches: int = 6) -> dict[str, Any]:
    """store.ingest alone, in one thread, with batches shaped like the gateway's (one report
    per device per batch): the ceiling the store puts on the gateway."""
    out = subprocess.run(
        [sys.executable, "-c", INGEST_ONLY, str(max(1, frames_per_batch)), str(batches)],
        env=db.env, cwd=db.workdir, check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    figures["frames_per_second"] = round(figures["rows_per_second"] / ELEMENTS_PER_FRAME)
    return figures


# --- the benchmark ------------------------------------------------------------------------------

#: name → (gateway options, environment). The gateway's default writer is a separate
#: process (``GATEWAY["WRITER"] = "process"``); ``group_commit_thread_writer`` runs ingest in a
#: worker thread of the gateway's interpreter instead, as before the writer process.
MODES: dict[str, tuple[list[str], dict[str, str]]] = {
    "group_commit": ([], {}),
    "group_commit_thread_writer": ([], {"AQUIFER_GATEWAY_WRITER": "thread"}),
    "baseline_commit_per_frame": (["--batch-rows", "1", "--batch-ms", "0"], {}),
}


def bench_database(
    kind: str, n: int, seconds: float, group_args: list[str], modes: list[str]
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"aquifer-bench-gw-{kind}-"))
    db = Database(kind, workdir)
    out: dict[str, Any] = {}
    try:
        t = time.perf_counter()
        db.run("migrate", "-v0")
        db.run("simulate", "--protocol", "sl651", "--devices", str(n), "--register",
               "--duration", "0")  # fmt: skip
        out["setup_s"] = round(time.perf_counter() - t, 1)
        from aquifer.registry.demo import demo_device_secret
        from aquifer.telemetry.simulator import simulated_station

        stations = [simulated_station("sl651", k) for k in range(1, n + 1)]
        devices = [(s, demo_device_secret("SL651", s)) for s in stations]
        for i, (mode, (extra, env)) in enumerate(MODES.items()):
            if mode not in modes:
                continue
            extra = extra or group_args
            figures: dict[str, Any]
            before = db.readings()
            port = free_port()
            gateway = GatewayProcess(db, port, extra, env)
            # Each run reports its own months, so every frame brings new readings.
            start = datetime(2026, 1 + 3 * i, 1, 8, 0).astimezone()
            try:
                figures = run_load(port, devices, start, seconds, warmup_max=120)
            finally:
                gw = gateway.stop()
            stored = db.readings() - before
            figures["gateway_batches"] = gw.get("batches", 0)
            figures["mean_batch_frames"] = round(gw.get("rows", 0) / ELEMENTS_PER_FRAME
                                                 / max(1, gw.get("batches", 1)), 1)  # fmt: skip
            figures["commit_ms_per_batch"] = round(
                gw.get("commit_ms", 0) / max(1, gw.get("batches", 1)), 1
            )
            figures["gateway_exit_status"] = gw.get("exit_status")
            figures["stored_ok"] = stored >= figures["frames_acked_total"] * ELEMENTS_PER_FRAME
            out[mode] = figures
        group = out.get("group_commit")
        base = out.get("baseline_commit_per_frame")
        thread = out.get("group_commit_thread_writer")
        if group and base:
            out["speedup"] = round(
                group["frames_per_second"] / max(1, base["frames_per_second"]), 1
            )
        if group and thread:
            out["process_writer_speedup"] = round(
                group["frames_per_second"] / max(1, thread["frames_per_second"]), 2
            )
        if group:
            out["store_ingest_alone"] = ingest_only(db, int(group["mean_batch_frames"]))
    finally:
        db.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 devices, 4 s windows")
    parser.add_argument("--devices", type=int, help="simulated devices (default 2000)")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, help="measured window per run (default 10)")
    parser.add_argument("--batch-ms", type=float, help="group commit: the gateway's --batch-ms")
    parser.add_argument(
        "--modes", help=f"comma-separated runs to make (default all: {', '.join(MODES)})"
    )
    args = parser.parse_args()
    n = args.devices or (200 if args.quick else 2000)
    seconds = args.seconds or (4.0 if args.quick else 10.0)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aquifer.config.settings")
    import django

    django.setup()

    result: dict[str, Any] = {
        "benchmark": "gateway",
        "devices": n,
        "quick": args.quick,
        "protocol": "SL651 32H timed reports over TCP, one connection per device, "
        "next frame after the acknowledgement",
        "elements_per_frame": ELEMENTS_PER_FRAME,
        "load_generator": f"a separate process (multiprocessing); on this {os.cpu_count()}-core "
        "machine it competes with the gateway for the CPU",
        "window_s": seconds,
        "targets": {"sqlite_frames_per_second": 10_000, "sqlite_ack_p99_ms": 250},
        "python": platform.python_version(),
        "django": django.get_version(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
    }
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    modes = list(MODES) if not args.modes else [m.strip() for m in args.modes.split(",")]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}")
    for kind in kinds:
        group = [] if args.batch_ms is None else ["--batch-ms", str(args.batch_ms)]
        result[kind] = bench_database(kind, n, seconds, group, modes)
    if "group_commit" in result.get("sqlite", {}):
        g = result["sqlite"]["group_commit"]
        result["meets_targets"] = {
            "frames_per_second": g["frames_per_second"] >= 10_000,
            "ack_p99_ms": g["ack_p99_ms"] is not None and g["ack_p99_ms"] < 250,
        }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
