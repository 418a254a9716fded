"""Background jobs: a registry of periodic functions and the scheduler that runs them.

Each app declares its jobs in ``aquifer/<app>/jobs.py``::

    from aquifer.core.jobs import periodic

    @periodic("monitoring.offline", every=dt.timedelta(minutes=5))
    def offline_sweep() -> None: ...

A job is a no-argument, idempotent function (it works over a window or from a watermark, so
running it twice, or late, is harmless). :func:`discover` imports every installed Aquifer app's
``jobs`` module. The :class:`Scheduler` runs the due ones — in the foreground in
``aquifer worker``, in a daemon thread inside ``aquifer serve`` and ``aquifer demo``
(:func:`start_background`); tests call the job functions directly.

Why our own scheduler and not huey's periodic tasks (docs/monitoring.md, "Background jobs"):
huey's periodic tasks are run by its consumer process and scheduled by crontab (minute
granularity), need a second store (a SqliteHuey file or PostgresHuey), and keep no record of
when a job last ran — a restart runs nothing until the next cron match, two consumers run a job
twice. Our jobs need less and something else: "every N minutes" from the last run, remembered
across restarts, run by whichever process is up (serve, demo, worker — several at once) exactly
once per period, with a crashed run logged and retried with backoff. One table
(``core.JobState``) and a lease taken by a conditional UPDATE give that on SQLite and
PostgreSQL alike, with no broker.

Per job, in ``JobState``: ``next_due`` (when it may run again), ``lease_until`` (a process is
running it; an expired lease means that process died and the job may be taken again),
``failures`` (consecutive), ``last_error`` (the traceback). After a crash the next attempt
waits ``min(every, RETRY_BASE × 2^(failures-1))``; after success, ``every``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Job",
    "Scheduler",
    "discover",
    "jobs",
    "periodic",
    "run_due",
    "run_job",
    "start_background",
    "stop_background",
]

log = logging.getLogger(__name__)

RETRY_BASE = dt.timedelta(seconds=30)
LEASE = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Job:
    name: str
    every: dt.timedelta
    fn: Callable[[], Any]


_REGISTRY: dict[str, Job] = {}
_discovered = False
_lock = threading.Lock()


def periodic(name: str, every: dt.timedelta) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register a no-argument, idempotent function to run every ``every``."""
    if every <= dt.timedelta(0):
        raise ValueError(f"job {name}: every must be positive")

    def register(fn: Callable[[], Any]) -> Callable[[], Any]:
        _REGISTRY[name] = Job(name, every, fn)
        return fn

    return register


def discover() -> dict[str, Job]:
    """Import ``<app>.jobs`` of every installed ``aquifer.*`` app (once); the registry."""
    global _discovered
    with _lock:
        if not _discovered:
            from django.apps import apps

            for config in apps.get_app_configs():
                if not config.name.startswith("aquifer."):
                    continue
                module = f"{config.name}.jobs"
                try:
                    importlib.import_module(module)
                except ModuleNotFoundError as exc:
                    if exc.name != module:
                        raise
            _discovered = True
    return dict(_REGISTRY)


def jobs() -> dict[str, Job]:
    """The registered jobs (after discovery)."""
    return discover()


def _backoff(every: dt.timedelta, failures: int) -> dt.timedelta:
    wait: dt.timedelta = RETRY_BASE * (2 ** max(failures - 1, 0))
    return min(every, wait)


def run_job(job: Job, now: dt.datetime | None = None, *, force: bool = False) -> bool | None:
    """Run ``job`` if it is due and not leased by another process.

    Returns True (ran and succeeded), False (ran and failed: logged, retried with backoff) or
    None (not due, or another process holds it). ``force`` runs it even when not due.
    """
    from django.db.models import Q
    from django.utils import timezone

    from aquifer.core.models import JobState

    now = now or timezone.now()
    JobState.objects.get_or_create(name=job.name, defaults={"next_due": now})
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    claim = JobState.objects.filter(free, name=job.name)
    if not force:
        claim = claim.filter(next_due__lte=now)
    if not claim.update(lease_until=now + max(LEASE, job.every), last_started=now):
        return None
    try:
        job.fn()
    except Exception:
        tb = traceback.format_exc()
        log.exception("job %s failed", job.name)
        state = JobState.objects.get(name=job.name)
        failures = state.failures + 1
        end = timezone.now()
        JobState.objects.filter(name=job.name).update(
            lease_until=None,
            last_finished=end,
            last_ok=False,
            failures=failures,
            runs=state.runs + 1,
            last_error=tb[-8000:],
            next_due=end + _backoff(job.every, failures),
        )
        return False
    end = timezone.now()
    state = JobState.objects.get(name=job.name)
    JobState.objects.filter(name=job.name).update(
        lease_until=None,
        last_finished=end,
        last_ok=True,
        failures=0,
        runs=state.runs + 1,
        last_error="",
        next_due=now + job.every if now + job.every > end else end,
    )
    log.info("job %s done in %.1f s", job.name, (end - now).total_seconds())
    return True


def run_due(now: dt.datetime | None = None) -> dict[str, bool | None]:
    """Run every due job once (in name order); what each did (see :func:`run_job`)."""
    return {name: run_job(job, now) for name, job in sorted(discover().items())}


class Scheduler:
    """Runs due jobs in a loop until :meth:`stop`; never stops on an error."""

    def __init__(self, tick: float = 5.0) -> None:
        self.tick = tick
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def run_once(self) -> dict[str, bool | None]:
        from django.db import close_old_connections

        close_old_connections()
        try:
            return run_due()
        finally:
            close_old_connections()

    def run_forever(self) -> None:
        discover()
        log.info("scheduler started: %s", ", ".join(sorted(_REGISTRY)))
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the database away, a bug in the loop: log, wait, go on
                log.exception("scheduler tick failed; retrying")
                self._stop.wait(min(self.tick * 6, 60.0))
                continue
            self._stop.wait(self.tick)
        log.info("scheduler stopped")


_background: tuple[threading.Thread, Scheduler] | None = None


def start_background(tick: float = 5.0) -> Scheduler | None:
    """Start the scheduler in a daemon thread of this process (once); None when disabled by
    ``AQUIFER_SCHEDULER=0``."""
    global _background
    if os.environ.get("AQUIFER_SCHEDULER", "1") == "0":
        return None
    with _lock:
        if _background is not None and _background[0].is_alive():
            return _background[1]
    scheduler = Scheduler(tick)
    thread = threading.Thread(target=scheduler.run_forever, name="aquifer-jobs", daemon=True)
    thread.start()
    _background = (thread, scheduler)
    return scheduler


def stop_background(timeout: float = 30.0) -> None:
    """Stop the scheduler :func:`start_background` started, after the job it is running
    (``aquifer serve`` when its server stops: no job thread outlives the command)."""
    global _background
    with _lock:
        running, _background = _background, None
    if running is not None:
        running[1].stop()
        running[0].join(timeout)
