"""core.processes.settle: what a server holds before its first request leaves the collector's
generations (so a full collection does not scan Django and the URL patterns each time)."""

from __future__ import annotations

import gc
from typing import Any


def test_settle_freezes_what_lives_before_the_first_request() -> None:
    from aquifer.core.processes import settle

    warmed: list[Any] = []
    kept = {"held": ["by the server"]}
    try:
        frozen = settle(lambda: warmed.append(object()))
        assert warmed, "the warm-up ran"
        assert frozen > 1000 and gc.get_freeze_count() > 1000
        tracked = {id(o) for o in gc.get_objects()}
        assert id(kept) not in tracked and id(warmed) not in tracked
        made_after: list[Any] = [["by a request"]]
        assert id(made_after) in {id(o) for o in gc.get_objects()}
    finally:
        gc.unfreeze()
