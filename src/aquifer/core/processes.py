"""Process settings for the servers and load generators (no Django: a bare process uses it)."""

from __future__ import annotations

import gc
import resource
from typing import Any

__all__ = ["raise_open_files_limit", "settle"]


def raise_open_files_limit() -> int:
    """Raise the soft limit of open files to the hard one (thousands of connections)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def settle(warm: Any = None) -> int:
    """Before a long-lived server takes requests: run ``warm`` (load what every request
    needs: the URL patterns), collect, and move every object alive now into the collector's
    permanent generation (``gc.freeze``). A full collection then scans only what requests
    made, not the ~240,000 objects of Django, the apps and their URL patterns: on the
    3,000-well demo such a collection paused every request thread for up to 180 ms, now
    under 20 ms. Returns how many objects were frozen."""
    if warm is not None:
        warm()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
