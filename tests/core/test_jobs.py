"""The job scheduler: registry, due runs, leases, crash → logged and retried with backoff."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from aquifer.core import jobs
from aquifer.core.models import JobState

pytestmark = pytest.mark.django_db


def _job(fn: Any, every: dt.timedelta = dt.timedelta(minutes=5)) -> jobs.Job:
    return jobs.Job("test.job", every, fn)


def test_discovery_finds_the_apps_jobs() -> None:
    registry = jobs.discover()
    assert "monitoring.checks" in registry
    assert "monitoring.offline" in registry
    assert all(j.every > dt.timedelta(0) for j in registry.values())


def test_runs_when_due_then_waits_its_period() -> None:
    calls: list[int] = []
    job = _job(lambda: calls.append(1))
    t0 = timezone.now()
    assert jobs.run_job(job, t0) is True
    assert jobs.run_job(job, t0 + dt.timedelta(minutes=1)) is None  # not due yet
    assert jobs.run_job(job, t0 + dt.timedelta(minutes=5, seconds=1)) is True
    assert calls == [1, 1]
    state = JobState.objects.get(name="test.job")
    assert state.runs == 2 and state.last_ok and state.failures == 0


def test_a_crash_is_logged_and_retried_with_backoff(caplog: Any) -> None:
    attempts: list[int] = []

    def flaky() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("database hiccup")

    job = _job(flaky, dt.timedelta(hours=1))
    t0 = timezone.now()
    assert jobs.run_job(job, t0) is False
    assert "job test.job failed" in caplog.text
    state = JobState.objects.get(name="test.job")
    assert state.failures == 1 and not state.last_ok and "database hiccup" in state.last_error
    first_wait = state.next_due - state.last_finished
    assert dt.timedelta(seconds=25) <= first_wait <= dt.timedelta(seconds=35)
    assert jobs.run_job(job, state.next_due + dt.timedelta(seconds=1)) is False
    state = JobState.objects.get(name="test.job")
    assert state.failures == 2
    assert state.next_due - state.last_finished >= dt.timedelta(seconds=55)  # doubled
    assert jobs.run_job(job, state.next_due + dt.timedelta(seconds=1)) is True
    state = JobState.objects.get(name="test.job")
    assert state.failures == 0 and state.last_ok and state.last_error == ""


def test_backoff_never_exceeds_the_period() -> None:
    every = dt.timedelta(minutes=2)
    assert jobs._backoff(every, 1) == dt.timedelta(seconds=30)
    assert jobs._backoff(every, 10) == every


def test_a_leased_job_is_not_run_twice() -> None:
    job = _job(lambda: None)
    now = timezone.now()
    JobState.objects.create(name="test.job", next_due=now, lease_until=now + dt.timedelta(hours=1))
    assert jobs.run_job(job, now) is None
    # an expired lease (the process holding it died) is taken over
    JobState.objects.filter(name="test.job").update(lease_until=now - dt.timedelta(seconds=1))
    assert jobs.run_job(job, now) is True


def test_scheduler_survives_a_broken_tick(monkeypatch: Any) -> None:
    scheduler = jobs.Scheduler(tick=0.01)
    calls: list[int] = []

    def boom() -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("tick broke")
        scheduler.stop()
        return {}

    monkeypatch.setattr(scheduler, "run_once", boom)
    monkeypatch.setattr(jobs, "discover", lambda: {})
    monkeypatch.setattr(scheduler._stop, "wait", lambda t: None)
    logged: list[tuple[Any, ...]] = []
    monkeypatch.setattr(jobs.log, "exception", lambda *a, **k: logged.append(a))
    scheduler.run_forever()
    assert len(calls) == 2
    assert logged == [("scheduler tick failed; retrying",)]  # said, not swallowed


def test_the_background_scheduler_starts_once_and_stops(monkeypatch: Any) -> None:
    import threading

    ticks = threading.Event()
    monkeypatch.delenv("AQUIFER_SCHEDULER", raising=False)
    monkeypatch.setattr(jobs.Scheduler, "run_once", lambda self: ticks.set() or {})
    scheduler = jobs.start_background(tick=0.01)
    assert scheduler is not None and jobs.start_background() is scheduler  # once
    assert ticks.wait(5)
    jobs.stop_background()
    assert scheduler.stopped
    assert not any(t.name == "aquifer-jobs" and t.is_alive() for t in threading.enumerate())
    monkeypatch.setenv("AQUIFER_SCHEDULER", "0")
    assert jobs.start_background() is None


def test_periodic_refuses_a_non_positive_period() -> None:
    with pytest.raises(ValueError):
        jobs.periodic("x", dt.timedelta(0))


def test_worker_command_runs_due_jobs_once_and_names_unknown_ones(monkeypatch: Any) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    calls: list[int] = []
    monkeypatch.setattr(jobs, "discover", lambda: {"test.job": _job(lambda: calls.append(1))})
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert "test.job: True" in out.getvalue() and calls == [1]
    call_command("worker", "--job", "test.job", stdout=out)  # forced, though not due
    assert calls == [1, 1]
    with pytest.raises(CommandError, match="nope"):
        call_command("worker", "--job", "nope")


def test_worker_command_fails_when_a_forced_job_fails(monkeypatch: Any) -> None:
    from django.core.management import CommandError, call_command

    def boom() -> None:
        raise RuntimeError("x")

    monkeypatch.setattr(jobs, "discover", lambda: {"test.job": _job(boom)})
    with pytest.raises(CommandError):
        call_command("worker", "--job", "test.job")
