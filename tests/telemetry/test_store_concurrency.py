"""The readings store under concurrent writers: the same readings ingested from four
threads at once, each on its own connection and committing its own transactions (the
gateway's writer, the MQTT subscriber and HTTP uploads all ingest at once), on a fresh
database of the pass's kind (concurrent_ingest.py, run as a script).

On PostgreSQL the batches really overlap: a batch that meets another's uncommitted reading
waits for it. Both paths — COPY straight into the readings, and the staged ``INSERT … ON
CONFLICT DO NOTHING`` of a batch holding stored readings — insert in one key order, so two
batches never wait for each other in a cycle (no deadlock error, no hang). On SQLite the
write lock takes them one at a time. Either way every reading is stored once, with its
value, and the counts the senders were told add up to the readings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from aquifer.rights import stress
from tests.conftest import fresh_database_of_this_pass

DRIVER = Path(__file__).with_name("concurrent_ingest.py")


@pytest.mark.slow
@pytest.mark.database
def test_concurrent_overlapping_batches_store_every_reading_once(tmp_path: Path) -> None:
    env = fresh_database_of_this_pass(tmp_path, "ingest_concurrency")
    env["PYTHONPATH"] = os.pathsep.join([str(Path.cwd()), env.get("PYTHONPATH", "")])
    try:
        out = subprocess.run(
            [sys.executable, str(DRIVER)],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        stress.drop_database(env)
    assert out.returncode == 0, out.stderr[-3000:]
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["mode"] for r in results] == ["copy-first", "staged-only"]
    for r in results:
        assert r["hung"] == 0 and r["errors"] == [], r
        assert sum(r["stored"]) == r["readings"] == r["rows"], r
        assert r["rows_match"], r
        if connection.vendor == "postgresql":
            # The senders did meet: each stored some readings and found others stored.
            assert all(0 < s < r["readings"] for s in r["stored"]), r
