"""Process settings for the servers and load generators (no Django: a bare process uses it)."""

from __future__ import annotations

import resource

__all__ = ["raise_open_files_limit"]


def raise_open_files_limit() -> int:
    """Raise the soft limit of open files to the hard one (thousands of connections)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard
