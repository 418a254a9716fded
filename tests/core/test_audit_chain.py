"""The audit trail is append-only on SQLite too (no REPLACE) and tamper-evident: a hash chain
that ``aquifer audit verify`` and ``GET /api/audit/verify`` check, naming the first broken
link."""

from __future__ import annotations

import importlib
import itertools
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction

from aquifer.core import chain
from aquifer.core.models import AuditEntry

TRIGGERS = {
    "sqlite": ["core_auditentry_no_update", "core_auditentry_no_delete"],
    "postgresql": ["core_auditentry_no_change"],
}


@contextmanager
def triggers_off() -> Iterator[None]:
    """As an intruder with the table owner's rights would: the append-only triggers off (for
    this test's transaction only: the DDL is rolled back with it on SQLite and PostgreSQL)."""
    with connection.cursor() as cur:
        for name in TRIGGERS[connection.vendor]:
            if connection.vendor == "sqlite":
                cur.execute(f"DROP TRIGGER {name}")
            else:
                cur.execute(f"ALTER TABLE core_auditentry DISABLE TRIGGER {name}")
    yield


def tamper(sql: str, params: list[Any] | None = None) -> None:
    with triggers_off(), connection.cursor() as cur:
        cur.execute(sql, params or [])


def ids() -> list[int]:
    return list(AuditEntry.objects.order_by("id").values_list("id", flat=True))


def test_each_entry_is_chained_to_the_one_before(world: Any) -> None:
    entries = list(AuditEntry.objects.order_by("id"))
    assert len(entries) > 5
    assert entries[0].prev_hash == ""
    for before, entry in itertools.pairwise(entries):
        assert entry.prev_hash == before.entry_hash
        assert entry.entry_hash == chain.entry_hash(entry) and len(entry.entry_hash) == 64
    result = chain.verify()
    assert result.ok and result.broken is None and result.missing_triggers == []
    assert (result.checked, result.head) == (len(entries), entries[-1].entry_hash)


def test_an_edited_entry_is_named_by_verify(world: Any) -> None:
    victim = ids()[3]
    tamper("UPDATE core_auditentry SET username = %s WHERE id = %s", ["mallory", victim])
    result = chain.verify()
    assert result.broken is not None
    assert (result.broken.id, result.broken.problem) == (victim, "content")
    assert result.checked == 3
    assert f"#{victim}" in result.broken.message and "content" in result.broken.message


def test_an_edited_json_value_is_detected(world: Any) -> None:
    victim = AuditEntry.objects.filter(after__isnull=False).order_by("id")[2].pk
    entry = AuditEntry.objects.get(pk=victim)
    after = dict(entry.after)
    key = next(iter(after))
    after[key] = "forged"
    tamper("UPDATE core_auditentry SET after = %s WHERE id = %s", [json.dumps(after), victim])
    broken = chain.verify().broken
    assert broken is not None and broken.id == victim


def test_a_removed_entry_breaks_the_link_of_the_next(world: Any) -> None:
    all_ids = ids()
    tamper("DELETE FROM core_auditentry WHERE id = %s", [all_ids[2]])
    broken = chain.verify().broken
    assert broken is not None
    assert (broken.id, broken.problem) == (all_ids[3], "link")
    assert f"#{all_ids[1]}" in broken.message  # the entry now before it


def test_an_entry_edited_and_rehashed_breaks_the_next_link(world: Any) -> None:
    all_ids = ids()
    entry = AuditEntry.objects.get(pk=all_ids[1])
    entry.username = "mallory"
    tamper(
        "UPDATE core_auditentry SET username = %s, entry_hash = %s WHERE id = %s",
        ["mallory", chain.entry_hash(entry), entry.pk],
    )
    broken = chain.verify().broken
    assert broken is not None and (broken.id, broken.problem) == (all_ids[2], "link")


def test_an_entry_inserted_behind_the_application_is_detected(world: Any) -> None:
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO core_auditentry (time, username, request_id, source, action, "
            "object_type, object_id, object_repr, reason, prev_hash, entry_hash) "
            "VALUES (%s, 'mallory', '', 'web', 'create', 'registry.well', '1', 'x', '', '', '')",
            ["2026-01-01T00:00:00+00:00" if connection.vendor == "postgresql" else "2026-01-01"],
        )
    last = ids()[-1]
    broken = chain.verify().broken
    assert broken is not None and broken.id == last


@pytest.mark.parametrize("table", ["core_auditentry", "rights_journal"])
def test_insert_that_would_replace_a_row_is_refused(world: Any, table: str) -> None:
    """SQLite's INSERT OR REPLACE deletes the old row without firing the DELETE trigger;
    PostgreSQL's ON CONFLICT DO UPDATE is an UPDATE: both refused."""
    from aquifer.rights.models import Journal

    pk = (
        AuditEntry.objects.order_by("id")[0].pk
        if table == "core_auditentry"
        else Journal.objects.create(kind="issue", year=2026, memo="alice").pk
    )
    _replace_refused(table, pk)


def _replace_refused(table: str, pk: int) -> None:
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])
        cols = [c[0] for c in cur.description]
        before = cur.fetchone()
    column_list = ", ".join(cols)
    if connection.vendor == "sqlite":
        sql = (
            f"INSERT OR REPLACE INTO {table} ({column_list}) "
            f"SELECT {column_list} FROM {table} WHERE id = %s"
        )
    else:
        sql = (
            f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM {table} "
            f"WHERE id = %s ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id"
        )
    with (
        pytest.raises((DatabaseError, IntegrityError)),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(sql, [pk])
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])
        assert cur.fetchone() == before


@pytest.fixture(scope="module")
def plain_sqlite(tmp_path_factory: Any) -> str:
    """A migrated SQLite file of its own, for the plain sqlite3 module (no Django)."""
    from aquifer.rights import stress

    workdir = tmp_path_factory.mktemp("plain-sqlite")
    env = stress.fresh_database("sqlite", str(workdir), name="plain")
    return env["DATABASE_URL"].removeprefix("sqlite:///")


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("table", "row"),
    [
        (
            "core_auditentry",
            "(id, time, username, request_id, source, action, object_type, object_id, "
            "object_repr, reason, prev_hash, entry_hash) VALUES (5, '2026-01-01', 'alice', '', "
            "'web', 'create', 'registry.well', '1', 'W-1', '', '', '')",
        ),
        (
            "rights_journal",
            "(id, kind, year, memo, ref, created_at, created_by) "
            "VALUES (5, 'issue', 2026, 'alice', '', '2026-01-01', 'alice')",
        ),
        ("rights_entry", "(id, journal_id, account_id, delta) VALUES (5, 1, 1, 100)"),
    ],
)
def test_plain_sqlite3_replace_is_refused(plain_sqlite: str, table: str, row: str) -> None:
    con = sqlite3.connect(plain_sqlite)
    try:
        con.execute(f"INSERT INTO {table} {row}")
        con.commit()
        who = {"core_auditentry": "username", "rights_journal": "created_by"}.get(table, "delta")
        forged = "-100" if who == "delta" else "'mallory'"
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
        select = ", ".join(forged if c == who else c for c in cols)
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(
                f"INSERT OR REPLACE INTO {table} ({', '.join(cols)}) "
                f"SELECT {select} FROM {table} WHERE id = 5"
            )
        con.rollback()
        kept = con.execute(f"SELECT {who} FROM {table} WHERE id = 5").fetchone()[0]
        assert kept == (100 if who == "delta" else "alice")
        # Even with recursive triggers on (then REPLACE's delete would fire the DELETE one).
        con.execute("PRAGMA recursive_triggers = ON")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(f"REPLACE INTO {table} ({', '.join(cols)}) SELECT {select} FROM {table}")
    finally:
        con.close()


def test_verify_command_names_the_broken_link(world: Any, capsys: Any) -> None:
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert str(AuditEntry.objects.count()) in out
    assert AuditEntry.objects.order_by("-id")[0].entry_hash in out
    victim = ids()[4]
    tamper("UPDATE core_auditentry SET reason = 'forged' WHERE id = %s", [victim])
    with pytest.raises(CommandError) as err:
        call_command("audit", "verify")
    assert err.value.returncode == 1
    assert f"{victim}" in capsys.readouterr().err
    call_command_json = _json_verify()
    assert call_command_json["broken"]["id"] == victim


def _json_verify() -> dict[str, Any]:
    from io import StringIO

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--json", stdout=out, stderr=StringIO())
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def test_verify_reports_a_missing_trigger(world: Any) -> None:
    with triggers_off():
        result = chain.verify()
    assert result.broken is None and not result.ok
    assert set(result.missing_triggers) == set(TRIGGERS[connection.vendor])


def test_verify_api_is_the_bureaus(world: Any) -> None:
    victim = ids()[2]
    tamper("UPDATE core_auditentry SET object_repr = 'forged' WHERE id = %s", [victim])
    r = world.client("bureau").get("/api/audit/verify")
    assert r.status_code == 200, r.content
    body = json.loads(r.content)
    assert body["ok"] is False
    assert body["broken"]["id"] == victim and body["broken"]["problem"] == "content"
    for role in ("township", "inspector", "water_user", "public"):
        assert world.client(role).get("/api/audit/verify").status_code == 403
    assert world.client("anonymous").get("/api/audit/verify").status_code == 401


def test_the_migration_seals_existing_entries_in_id_order(world: Any) -> None:
    migration = importlib.import_module("aquifer.core.migrations.0005_audit_chain")

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection  # type: ignore[attr-defined]
    with triggers_off():
        with connection.cursor() as cur:
            cur.execute("UPDATE core_auditentry SET prev_hash = '', entry_hash = ''")
        assert chain.verify().broken is not None
        migration.seal(django_apps, editor)
    result = chain.verify()
    assert result.broken is None and result.checked == AuditEntry.objects.count()


def test_canonical_form_survives_the_database_round_trip(world: Any) -> None:
    from aquifer.core.audit import audit_context, record
    from aquifer.registry.models import Well

    with audit_context(source="test"):
        record(
            "update",
            world.well_a,
            {"x": 1.0, "big": 1e20, "nested": {"b": [1, 2.5], "a": None}, "s": "井"},
            {"x": 2, "when": "2026-01-01T00:00:00"},
            reason="round trip",
        )
    fresh = AuditEntry.objects.get(reason="round trip")
    assert chain.entry_hash(fresh) == fresh.entry_hash
    assert chain.verify().ok
    assert Well.objects.filter(pk=world.well_a.pk).exists()
