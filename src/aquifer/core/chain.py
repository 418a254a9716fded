"""The audit trail's hash chain: each entry's SHA-256 covers its content and its predecessor's
hash, so an entry edited, removed, reordered or inserted behind the application's back breaks
the chain at that point.

An entry's hash is computed when it is inserted, under a lock held to the end of the inserting
transaction, so that two writers cannot both chain onto the same predecessor (a fork):

- SQLite: Aquifer's transactions begin ``IMMEDIATE`` (settings), so the write lock is taken at
  ``BEGIN`` and writers are already one at a time; reading the last hash inside the
  transaction is enough.
- PostgreSQL: a transaction-level advisory lock (``pg_advisory_xact_lock``) is taken before
  the last hash is read and released at commit or rollback. The next writer, once it has the
  lock, reads the committed entry (READ COMMITTED takes a new snapshot per statement). Entry
  ids come from the sequence at INSERT, after the lock, so id order is chain order.

The chain proves that the trail is the one the application wrote, not that nobody with write
access to the database recomputed every hash after an edit: ``aquifer audit verify`` prints
the head hash, and writing it down now and then (or mailing it off the server) anchors it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from aquifer.core.digest import canonical as canonical_bytes
from aquifer.core.digest import normal, sha256_hex, utc_iso

__all__ = [
    "Break",
    "Verification",
    "canonical",
    "entry_hash",
    "locked",
    "missing_triggers",
    "verify",
]

#: Version of the canonical form; a future change of the form starts a new version.
VERSION = 1
#: Key of the PostgreSQL advisory lock that serialises appends to the chain ("AQAUDIT1").
LOCK_KEY = 0x4151_4155_4449_5431 - (1 << 63)

#: The fields an entry's hash covers, in the canonical form's order (keys are sorted anyway).
FIELDS = (
    "time",
    "user_id",
    "username",
    "request_id",
    "source",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "township_id",
    "before",
    "after",
    "reason",
    "prev_hash",
)


def canonical(entry: Any) -> bytes:
    """The bytes an entry's hash is taken over: a JSON object of :data:`FIELDS`, keys sorted,
    no spaces, UTF-8. ``before``/``after`` pass through JSON first, as the database stores
    them."""
    data: dict[str, Any] = {"v": VERSION}
    for name in FIELDS:
        value = getattr(entry, name)
        if name == "time":
            value = utc_iso(value)
        elif name in ("before", "after") and value is not None:
            value = normal(json.loads(json.dumps(value)))
        elif name in ("user_id", "township_id") and value is not None:
            value = int(value)
        data[name] = value
    return canonical_bytes(data)


def entry_hash(entry: Any) -> str:
    return sha256_hex(canonical(entry))


@contextmanager
def locked(using: str = DEFAULT_DB_ALIAS) -> Iterator[Callable[[], str]]:
    """A transaction in which this writer alone appends to the chain; yields a function that
    reads the last entry's hash (``""`` for the first entry)."""
    from aquifer.core.models import AuditEntry

    with transaction.atomic(using=using):
        connection = connections[using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])

        def previous() -> str:
            last = (
                AuditEntry.objects.using(using)
                .order_by("-id")
                .values_list("entry_hash", flat=True)
                .first()
            )
            return last or ""

        yield previous


@dataclass(frozen=True)
class Break:
    """The first broken link: the entry's id, what is wrong (``content`` or ``link``) and a
    sentence saying what differs."""

    id: int
    problem: str
    message: str
    expected: str
    found: str


@dataclass(frozen=True)
class Verification:
    checked: int
    head: str
    broken: Break | None
    missing_triggers: list[str]

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.missing_triggers


def verify(using: str = DEFAULT_DB_ALIAS, chunk: int = 2000) -> Verification:
    """Walk the trail in id order, recompute every hash and check every link."""
    from aquifer.core.models import AuditEntry

    previous_hash, previous_id, checked = "", None, 0
    rows = AuditEntry.objects.using(using).order_by("id").iterator(chunk_size=chunk)
    for entry in rows:
        if entry.prev_hash != previous_hash:
            before = f"#{previous_id}" if previous_id is not None else "—"
            return Verification(
                checked,
                previous_hash,
                Break(
                    entry.pk,
                    "link",
                    f"entry #{entry.pk} names a predecessor hash that is not the hash of the "
                    f"entry before it ({before}): an entry before #{entry.pk} was removed, "
                    "inserted or re-hashed",
                    expected=previous_hash,
                    found=entry.prev_hash,
                ),
                missing_triggers(using),
            )
        computed = entry_hash(entry)
        if computed != entry.entry_hash:
            what = (
                "has no hash: it was inserted behind the application's back"
                if not entry.entry_hash
                else "no longer matches its hash: its content (time, user, action, object, "
                "before/after or reason) was changed after it was written"
            )
            return Verification(
                checked,
                previous_hash,
                Break(
                    entry.pk,
                    "content",
                    f"entry #{entry.pk} {what}",
                    expected=entry.entry_hash,
                    found=computed,
                ),
                missing_triggers(using),
            )
        previous_hash, previous_id = entry.entry_hash, entry.pk
        checked += 1
    return Verification(checked, previous_hash, None, missing_triggers(using))


#: The append-only triggers each backend must have (core 0002/0004, rights 0002/0003).
EXPECTED_TRIGGERS = {
    "sqlite": [
        f"{table}_{kind}"
        for table in ("core_auditentry", "rights_journal", "rights_entry")
        for kind in ("no_update", "no_delete", "no_replace")
    ],
    "postgresql": [
        f"{table}_{kind}"
        for table in ("core_auditentry", "rights_journal", "rights_entry")
        for kind in ("no_change", "no_truncate")
    ],
}


def missing_triggers(
    using: str = DEFAULT_DB_ALIAS, expected_by_vendor: dict[str, list[str]] | None = None
) -> list[str]:
    """The append-only triggers that are absent or (PostgreSQL) disabled.

    On SQLite, rebuilding a table (as a migration altering it does) drops its triggers; on
    PostgreSQL a table owner can disable them. Either way the trail is no longer protected.
    ``expected_by_vendor`` names another table's triggers (enforcement's evidence).
    """
    connection = connections[using]
    expected = (expected_by_vendor or EXPECTED_TRIGGERS).get(connection.vendor, [])
    if not expected:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
            )
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in expected if name not in present]
