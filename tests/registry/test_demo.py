"""The demo county (``aquifer demo``): idempotent, inside the county, valid, one login per role."""

from __future__ import annotations

import io
import itertools
import re
from typing import Any

import pytest
from django.core.management import call_command

from aquifer.registry.demo import (
    ACCOUNTS,
    DEMO_PASSWORD,
    build_demo,
)

HUANGCHENG = (112.5895, 35.5199)
WELLS = 60


@pytest.fixture
def fast_hashers(settings: Any) -> None:
    # Account passwords with a cheap hasher; PBKDF2 stays available for the device secrets.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every demo record's stored values (passwords and timestamps aside)."""
    from aquifer.core.models import User
    from aquifer.registry.models import Device, MonitoringWell, WaterUser, Well, Zone

    skip = {"id", "updated_at", "created_at", "password", "last_login", "date_joined"}
    out = {}
    for model in (Zone, WaterUser, Well, MonitoringWell, Device, User):
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
        out[model.__name__] = sorted(model.objects.values_list(*fields), key=repr)
    return out


COUNTS = ("townships", "zones", "water_users", "wells", "monitoring_wells", "devices", "accounts")


def test_building_twice_leaves_the_same_data(db: Any, fast_hashers: None) -> None:
    from aquifer.core.models import AuditEntry

    first = build_demo(wells=WELLS)
    before, audit_entries = snapshot(), AuditEntry.objects.count()
    second = build_demo(wells=WELLS)

    assert {k: second[k] for k in COUNTS} == {k: first[k] for k in COUNTS}
    assert (first["zones"], first["wells"], first["accounts"]) == (10, WELLS, len(ACCOUNTS))
    assert first["created"]["well"] == WELLS
    assert second["created"] == {} and second["updated"] == {}
    assert snapshot() == before
    # Nothing was saved again, so the audit trail did not grow either.
    assert AuditEntry.objects.count() == audit_entries
    assert AuditEntry.objects.filter(source="demo").count() == audit_entries > WELLS


def test_fewer_wells_are_the_first_wells_of_more(db: Any, fast_hashers: None) -> None:
    from aquifer.registry.models import Well

    build_demo(wells=20)
    first_twenty = list(Well.objects.order_by("code").values_list("code", "lon", "lat", "layer"))
    more = build_demo(wells=40)
    assert more["created"]["well"] == 20 and "well" not in more["updated"]
    assert (
        list(Well.objects.order_by("code").values_list("code", "lon", "lat", "layer")[:20])
        == first_twenty
    )


class FakeServer:
    """Stands in for waitress: records how it was made, returns from run() at once."""

    made: dict[str, Any] = {}

    def __init__(self, app: Any, **kwargs: Any) -> None:
        FakeServer.made = {"app": app, **kwargs}

    def run(self) -> None:
        raise KeyboardInterrupt  # as Ctrl-C does

    def close(self) -> None:
        FakeServer.made["closed"] = True


@pytest.mark.slow
def test_demo_command_builds_prints_accounts_and_serves(
    db: Any, fast_hashers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import waitress.server
    from django.core.handlers.wsgi import WSGIHandler

    monkeypatch.setattr(waitress.server, "create_server", FakeServer)
    # The background jobs would run on their own connection, outside this test's
    # transaction (tests/core/test_jobs.py covers them and their start and stop).
    monkeypatch.setenv("AQUIFER_SCHEDULER", "0")
    out = io.StringIO()
    # The live simulation runs a gateway thread with its own database connection, which
    # cannot see this test's transaction: it is tested in tests/telemetry.
    # --fill-first: the rest of the county is built here, before serving, not by a second
    # process (which could not see this test's transaction either).
    call_command(
        "demo", wells=12, port=8123, history_days=2, live_devices=0, fill_first=True, stdout=out
    )
    text = out.getvalue()
    for account in ACCOUNTS:
        assert account.username in text
    assert DEMO_PASSWORD in text
    assert "http://127.0.0.1:8123/" in text
    made = FakeServer.made
    assert isinstance(made["app"], WSGIHandler)
    assert (made["host"], made["port"], made["threads"]) == ("127.0.0.1", 8123, 8)
    assert made["closed"] is True
    assert "已停止" in text


def test_demo_command_without_serving(
    db: Any, fast_hashers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import waitress.server

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("--no-serve must not start a server")

    monkeypatch.setattr(waitress.server, "create_server", refuse)
    out = io.StringIO()
    call_command("demo", "--no-serve", "--wells", "12", "--history-days", "0", stdout=out)
    assert "aquifer serve" in out.getvalue()


def test_history_gives_monitoring_wells_a_past_once(db: Any, fast_hashers: None) -> None:
    from aquifer.telemetry.demo import build_history
    from aquifer.telemetry.models import Reading

    build_demo(wells=60)
    stored = build_history(days=3, live_devices=2, log=lambda _step: None)
    assert stored > 0 and Reading.objects.count() == stored
    assert build_history(days=3, live_devices=2, log=lambda _step: None) == 0  # idempotent
    logger = Reading.objects.filter(
        device__well__monitoring__isnull=False, element="depth_to_water"
    )
    assert logger.exists()
    depths = list(logger.values_list("value", flat=True))
    assert all(0 < d < 300 for d in depths)
    volumes = list(
        Reading.objects.filter(element="cumulative_volume")
        .order_by("device_id", "observed_at")
        .values_list("device_id", "value")
    )
    for (d1, v1), (d2, v2) in itertools.pairwise(volumes):
        if d1 == d2:
            assert v2 >= v1  # a meter only grows


@pytest.mark.slow
def test_demo_command_reports_steps_and_real_time_off_a_terminal(
    db: Any, fast_hashers: None
) -> None:
    import time

    from aquifer.demo.management.commands.demo import DEMO_APPS

    out = io.StringIO()  # not a terminal: plain lines, no live status
    began = time.perf_counter()
    call_command(
        "demo",
        "--no-serve",
        "--wells",
        "12",
        "--history-days",
        "1",
        "--live-devices",
        "0",
        stdout=out,
    )
    wall = time.perf_counter() - began
    text = out.getvalue()
    stamped = [
        (float(m[1]), m[2])
        for m in re.finditer(r"^\[\s*(\d+\.\d) s\] (.+)$", text, flags=re.MULTILINE)
    ]
    steps = [line for _, line in stamped]
    assert any("migrating" in line for line in steps)
    assert any("building the demo county" in line for line in steps)
    assert any("reading history" in line for line in steps)
    for _build, label in DEMO_APPS:
        assert any(str(label) in line for line in steps), label
    # Sub-steps have lines of their own, each whole (not wrapped at 80 columns).
    assert len(steps) > 3 + len(DEMO_APPS)
    assert any(line.endswith("refused: prohibited_zone") for line in steps), steps
    seconds = [s for s, _ in stamped]
    assert seconds == sorted(seconds)
    assert "\x1b[" not in text and "\r" not in text  # no terminal control codes
    ready = re.search(r"[（(](\d+\.\d) (?:秒|s)[）)]", text)
    assert ready, text
    # The ready line counts from the start of the command, after every step.
    assert seconds[-1] <= float(ready[1]) <= wall + 0.05


def test_the_pages_show_the_fill_in_progress_while_the_demo_watches_it(
    world: Any, settings: Any, tmp_path: Any
) -> None:
    from aquifer.demo import progress

    settings.DATA_DIR = tmp_path
    client = world.client("bureau")
    progress.write(step="取水量核算", done=3, total=14)
    assert "demo-fill" not in client.get("/").content.decode()  # not watching: plain serve
    progress.watch()
    try:
        html = client.get("/").content.decode()
        assert "demo-fill" in html and "3/14" in html and "取水量核算" in html
        # the anonymous visitor too: the accounts themselves may not be built yet
        assert "demo-fill" in world.client("anonymous").get("/portal/").content.decode()
        progress.write(step="", done=14, total=14, finished=True)
        assert "demo-fill" not in client.get("/").content.decode()
        assert progress.current() is None  # and it stops reading the file
    finally:
        progress.stop_watching()
