"""The ledger: balanced journals, no negative balance, append-only, and concurrency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from aquifer.rights import ledger, ledger_core
from aquifer.rights.models import Entry, HolderKind, Journal, JournalKind
from tests.conftest import fresh_database_of_this_pass

# ----------------------------------------------------------------------------- pure core


def test_check_journal_reasons() -> None:
    L = ledger_core.Line
    assert ledger_core.check_journal([L(1, -5), L(2, 5)], {1: 5}) == []
    assert "debits 6 m³ != credits 5 m³" in ledger_core.check_journal([L(1, -5), L(2, 6)], {1: 9})
    assert any("cannot give" in r for r in ledger_core.check_journal([L(1, -5), L(2, 5)], {1: 4}))
    assert ledger_core.check_journal([L(1, -5), L(2, 5)], {}, may_go_negative=[1]) == []
    assert ledger_core.check_journal([L(1, 0), L(2, 0)], {})
    assert ledger_core.check_journal([L(1, 5)], {})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(1, 300)), max_size=60))
def test_random_transfers_conserve_and_never_go_negative(
    moves: list[tuple[int, int, int]],
) -> None:
    """Any sequence of transfers, applied where allowed, keeps the total and no negatives."""
    bal = {0: -600, **{k: 100 for k in range(1, 6)}}  # account 0: the contra account
    rows: list[tuple[int, int, int]] = [(0, 0, -500)] + [(0, k, 100) for k in range(1, 6)]
    for j, (a, b, v) in enumerate(moves, start=1):
        if a == b or 0 in (a, b):
            continue
        lines = [ledger_core.Line(a, -v), ledger_core.Line(b, v)]
        try:
            bal = ledger_core.apply(lines, bal, may_go_negative=[0])
        except ledger_core.JournalError:
            assert bal[a] < v
            continue
        rows += [(j, a, -v), (j, b, v)]
        assert all(x >= 0 for k, x in bal.items() if k)
    result = ledger_core.audit(rows, may_go_negative=[0])
    assert result.ok, result
    assert sum(v for k, v in result.balances.items() if k) == 500


# ----------------------------------------------------------------------------- database


@pytest.fixture
def accounts(db: Any) -> tuple[Any, Any, Any, Any]:
    county, reserve = ledger.county_account(2026), ledger.reserve_account(2026)
    a = ledger.account(HolderKind.RESERVE, 2026, use_type="domestic")
    b = ledger.account(HolderKind.RESERVE, 2026, use_type="industrial")
    ledger.transfer(county, reserve, 1000, JournalKind.ISSUE)
    ledger.transfer(reserve, a, 300, JournalKind.ALLOCATION)
    return county, reserve, a, b


def test_post_moves_and_refuses_overdraft(accounts: Any) -> None:
    county, reserve, a, b = accounts
    ledger.transfer(a, b, 200, JournalKind.TRANSFER)
    assert ledger.balances([a.pk, b.pk, reserve.pk, county.pk]) == {
        a.pk: 100, b.pk: 200, reserve.pk: 700, county.pk: -1000,
    }  # fmt: skip
    n = Journal.objects.count()
    with pytest.raises(ledger.LedgerError, match="cannot give"):
        ledger.transfer(a, b, 101, JournalKind.TRANSFER)
    with pytest.raises(ledger.LedgerError, match="debits"):
        ledger.post(JournalKind.TRANSFER, 2026, [(a, -10), (b, 11)])
    assert Journal.objects.count() == n  # nothing half-written
    assert ledger.audit(2026).ok


def test_account_keys_are_unique_and_reused(accounts: Any) -> None:
    _c, _r, a, _b = accounts
    assert ledger.account(HolderKind.RESERVE, 2026, use_type="domestic").pk == a.pk
    assert ledger.account(HolderKind.RESERVE, 2026, use_type="domestic", held=True).pk != a.pk


@pytest.mark.parametrize("table", ["rights_journal", "rights_entry"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET id = id", "DELETE FROM {t}"])
def test_ledger_is_append_only_in_the_database(accounts: Any, table: str, statement: str) -> None:
    from django.db import DatabaseError

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(statement.format(t=table))
    assert Entry.objects.exists()


def test_orm_refuses_to_resave(accounts: Any) -> None:
    from django.core.exceptions import ValidationError

    j = Journal.objects.first()
    assert j is not None
    with pytest.raises(ValidationError):
        j.save()


def test_audit_finds_what_is_wrong() -> None:
    bad = ledger_core.audit([(1, 1, -5), (1, 2, 4), (2, 3, -1), (2, 1, 1)], may_go_negative=[])
    assert not bad.ok
    assert bad.unbalanced_journals == (1,)
    assert (3, -1) in bad.negative_accounts


# ----------------------------------------------------------------------------- concurrency


@pytest.mark.slow
@pytest.mark.database
def test_concurrent_transfers_conserve_every_cubic_metre(tmp_path: Path) -> None:
    """Four processes, each with its own connection, make 400 transfers among 4 hot accounts
    (volumes up to 60% of a balance, so many would overdraw): afterwards every journal is
    balanced, the total is zero, no account is negative and the rights held equal the issue.
    On the database this pass runs on: SQLite in the first pass, PostgreSQL in the second."""
    from aquifer.rights import stress

    env = fresh_database_of_this_pass(tmp_path, "rights_stress")
    try:
        result = stress.run_concurrent(
            env, str(tmp_path), accounts=4, each=500, transfers=400, workers=4, max_volume=300
        )
    finally:
        stress.drop_database(env)
    c = result["conservation"]
    assert c["ok"], result
    assert c["issued_m3"] == c["held_m3"] == 2000
    assert c["negative_accounts"] == [] and c["unbalanced_journals"] == []
    assert result["done"] > 50 and result["refused_insufficient"] > 0
    assert c["journals"] == 1 + 4 + result["done"]
