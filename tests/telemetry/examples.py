"""Real frames published by others: a copy of ../shared/reference/protocol-examples.json.

Each example has ``hex``, ``protocol``, ``source``, ``expected`` (only what its source states)
and ``crc_ok``. The copy in tests/telemetry/data/ keeps the tests independent of where the
repository is checked out; refresh it when the shared reference changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES_FILE = Path(__file__).resolve().parent / "data" / "protocol-examples.json"


def load_examples() -> list[dict[str, Any]]:
    """The examples."""
    with EXAMPLES_FILE.open(encoding="utf-8") as fh:
        data: list[dict[str, Any]] = json.load(fh)
    return data


EXAMPLES = load_examples()


def example(example_id: str) -> bytes:
    """The bytes of one example frame, by id (``"sl651-07"``)."""
    for e in EXAMPLES:
        if e["id"] == example_id:
            return bytes.fromhex(e["hex"])
    raise KeyError(example_id)
