"""How far ``aquifer demo`` has filled in the demo county behind the running server.

``aquifer demo`` serves as soon as the database is migrated and the registry is built, and
fills in the rest (the reading history and every app's demo) in a second process,
``aquifer demo --fill-only``. That process writes its progress to a small JSON file beside
the database (:func:`progress_path`); the serving process, which started it, reads the file
for the banner on every page (:func:`current`, a context processor) — only while it is
watching a fill (:func:`watch`), so a plain ``aquifer serve`` pays nothing.

Why a file and not a table: the two processes share the data directory anyway, a write
never waits on SQLite's single writer (the filling process holds long write transactions),
and a page reads it without a query.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest

__all__ = ["current", "demo_fill", "progress_path", "stop_watching", "watch", "write"]

_watching: Path | None = None


def progress_path() -> Path:
    """The progress file: ``demo-fill.json`` in the data directory."""
    return Path(settings.DATA_DIR) / "demo-fill.json"


def write(*, step: str, done: int, total: int, finished: bool = False, failed: str = "") -> None:
    """Record the filling process's progress (atomically: a reader never sees half a file)."""
    path = progress_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    data = {
        "step": step,
        "done": done,
        "total": total,
        "finished": finished,
        "failed": failed,
        "at": time.time(),
    }
    tmp.write_text(json.dumps(data, ensure_ascii=False))
    os.replace(tmp, path)


def watch() -> None:
    """Show the fill's progress on this process's pages (the server ``aquifer demo`` runs)."""
    global _watching
    _watching = progress_path()


def stop_watching() -> None:
    global _watching
    _watching = None


def current() -> dict[str, Any] | None:
    """The fill's progress while this process watches an unfinished one, else None."""
    path = _watching
    if path is None:
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("finished") and not data.get("failed"):
        stop_watching()
        return None
    data["percent"] = round(100 * int(data["done"]) / max(int(data["total"]), 1))
    return data


def demo_fill(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``demo_fill`` (see :func:`current`) while the demo's server watches
    a fill — for every visitor, the anonymous one on the portal included: the registry itself
    (and with it the demo accounts) is built behind the server."""
    if _watching is None:
        return {}
    data = current()
    return {"demo_fill": data} if data else {}
