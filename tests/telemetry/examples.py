"""Real frames published by others: ../shared/reference/protocol-examples.json.

Each example has ``hex``, ``protocol``, ``source``, ``expected`` (only what its source states)
and ``crc_ok``. The file lives beside protocols.md in the shared reference folder, one level
above the repository root.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"
EXAMPLES_FILE = REFERENCE / "protocol-examples.json"


def load_examples() -> list[dict[str, Any]]:
    """The examples, or an empty list when the reference folder is not there."""
    if not EXAMPLES_FILE.exists():
        return []
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
