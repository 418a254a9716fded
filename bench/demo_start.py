"""``aquifer demo`` on a fresh SQLite data directory: seconds until the first page answers.

Starts ``aquifer demo --port P`` (``--quick``: ``--wells 150 --history-days 30``) in a new,
empty ``AQUIFER_DATA_DIR`` as a user would, polls ``GET /`` every 0.2 s until it answers 200,
and records the seconds from the command's start; with ``--full`` it then waits until the
demo reports the long history filled in (the ``/demo/status`` line, ``aquifer demo``'s
"filled in" line). The demo's own stamped lines (``[  12.3 s] …``) are kept as the steps.

    python bench/demo_start.py [--quick] [--full] [--wells N] [--keep]

Prints one JSON object; ``meets_target`` is ``first_page_s <= 20``. Run one at a time: the
demo build uses both cores.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine
from _common import parser as bench_parser

TARGET_S = 20.0
STAMP = re.compile(r"^\[\s*([0-9.]+) s\] (.*)$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, urllib.error.URLError):
        return None


def main() -> None:
    p = bench_parser(__doc__, dbs=("sqlite",), quick="150 wells, 30 days of history")
    p.add_argument("--wells", type=int, default=None, help="wells (default 600; quick 150)")
    p.add_argument("--full", action="store_true", help="also wait for the history to be filled")
    p.add_argument("--keep", action="store_true", help="keep the data directory")
    p.add_argument("--timeout", type=float, default=900.0)
    args = p.parse_args()
    wall0 = time.perf_counter()
    wells = args.wells or (150 if args.quick else 600)
    data_dir = tempfile.mkdtemp(prefix="aquifer-demo-bench-")
    port = free_port()
    command = ["aquifer", "demo", "--port", str(port), "--wells", str(wells)]
    if args.quick:
        command += ["--history-days", "30"]
    env = {**os.environ, "AQUIFER_DATA_DIR": data_dir, "PYTHONUNBUFFERED": "1"}
    log_path = Path(data_dir) / "demo.log"
    base = f"http://127.0.0.1:{port}"
    result: dict[str, Any] = {"bench": "demo_start", "quick": args.quick, "wells": wells}
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        first = None
        while time.perf_counter() - t0 < args.timeout and proc.poll() is None:
            if status(base + "/") == 200:
                first = time.perf_counter() - t0
                break
            time.sleep(0.2)
        result["first_page_s"] = None if first is None else round(first, 1)
        if first is not None and args.full:
            filled = None
            while time.perf_counter() - t0 < args.timeout and proc.poll() is None:
                if "history filled in" in log_path.read_text(errors="replace"):
                    filled = time.perf_counter() - t0
                    break
                time.sleep(1.0)
            result["history_filled_s"] = None if filled is None else round(filled, 1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    steps = []
    for line in log_path.read_text(errors="replace").splitlines():
        m = STAMP.match(line)
        if m:
            steps.append([float(m.group(1)), m.group(2)[:90]])
    result["steps"] = steps
    result["exit_code_before_page"] = None if result["first_page_s"] else proc.returncode
    result["target_s"] = TARGET_S
    result["meets_target"] = result["first_page_s"] is not None and (
        result["first_page_s"] <= TARGET_S
    )
    result.update(machine(wall0))
    if args.keep:
        result["data_dir"] = data_dir
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
