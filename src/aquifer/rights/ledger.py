"""The water-rights ledger: accounts, balanced journals, balances, and the conservation audit.

Every change of rights is one :func:`post`: inside one transaction it locks the accounts it
touches (``SELECT … FOR UPDATE`` in id order on PostgreSQL; on SQLite the project's
``transaction_mode = IMMEDIATE`` already holds the database's write lock from ``BEGIN``),
reads their balances from the entries, checks the journal with
:func:`aquifer.rights.ledger_core.check_journal` (balanced, no balance below zero) and writes
it. So two concurrent transfers out of one account cannot both spend the same m³: the second
waits for the first and then sees its entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum

from aquifer.rights import ledger_core
from aquifer.rights.models import Account, Entry, HolderKind, Journal

__all__ = [
    "Holder",
    "LedgerError",
    "account",
    "audit",
    "balance",
    "balances",
    "county_account",
    "post",
    "reserve_account",
    "transfer",
]


class LedgerError(ValueError):
    """A journal the ledger refuses; ``reasons`` lists why."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class Holder:
    """Who holds rights: a water user (with their township), or a township."""

    kind: str
    water_user_id: int | None
    township_id: int
    name: str = ""

    @classmethod
    def of_user(cls, wu: Any) -> Holder:
        return cls(HolderKind.WATER_USER, wu.pk, wu.township_id, str(wu))

    @classmethod
    def of_township(cls, t: Any) -> Holder:
        return cls(HolderKind.TOWNSHIP, None, t.pk, str(t))


def account(
    kind: str,
    year: int,
    *,
    water_user_id: int | None = None,
    township_id: int | None = None,
    use_type: str = "",
    source: str = "",
    zone_id: int | None = None,
    held: bool = False,
) -> Account:
    """The account with this key, created if it does not exist."""
    key = Account.make_key(kind, water_user_id, township_id, use_type, source, zone_id, year, held)
    found = Account.objects.filter(key=key).first()
    if found is not None:
        return found
    obj, _created = Account.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "water_user_id": water_user_id,
            "township_id": township_id,
            "use_type": use_type,
            "source": source,
            "zone_id": zone_id,
            "year": year,
            "held": held,
        },
    )
    return obj


def holder_account(
    holder: Holder, year: int, use_type: str, source: str, zone_id: int | None, held: bool = False
) -> Account:
    return account(
        holder.kind,
        year,
        water_user_id=holder.water_user_id,
        township_id=holder.township_id,
        use_type=use_type,
        source=source,
        zone_id=zone_id,
        held=held,
    )


def county_account(year: int) -> Account:
    """The county's cap account for a year: the contra account rights are issued from."""
    return account(HolderKind.COUNTY, year)


def reserve_account(year: int) -> Account:
    """The county reserve: issued but not yet allocated rights of a year."""
    return account(HolderKind.RESERVE, year)


def balances(ids: Iterable[int]) -> dict[int, int]:
    """Balances (m³) of the given accounts, from their entries (0 for none)."""
    wanted = list(ids)
    out = dict.fromkeys(wanted, 0)
    rows = (
        Entry.objects.filter(account_id__in=wanted)
        .values("account_id")
        .annotate(s=Sum("delta"))
        .values_list("account_id", "s")
    )
    for pk, s in rows:
        out[pk] = int(s or 0)
    return out


def balance(acct: Account | int) -> int:
    pk = acct if isinstance(acct, int) else acct.pk
    return balances([pk])[pk]


def post(
    kind: str,
    year: int,
    lines: Sequence[tuple[Account, int]],
    *,
    memo: str = "",
    ref: str = "",
    by: str = "",
) -> Journal:
    """Write one balanced journal, or raise :class:`LedgerError` and write nothing."""
    with transaction.atomic():
        ids = sorted({a.pk for a, _d in lines})
        if connection.features.has_select_for_update:
            list(
                Account.objects.select_for_update()
                .filter(pk__in=ids)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        current = balances(ids)
        contra = {a.pk for a, _d in lines if a.kind == HolderKind.COUNTY}
        core_lines = [ledger_core.Line(a.pk, int(d)) for a, d in lines]
        reasons = ledger_core.check_journal(core_lines, current, contra)
        if reasons:
            raise LedgerError(reasons)
        journal = Journal.objects.create(
            kind=kind, year=year, memo=memo[:300], ref=ref[:60], created_by=by[:150]
        )
        Entry.objects.bulk_create(
            [Entry(journal=journal, account_id=x.account, delta=x.delta) for x in core_lines]
        )
    return journal


def transfer(
    source: Account,
    target: Account,
    volume: int,
    kind: str,
    *,
    memo: str = "",
    ref: str = "",
    by: str = "",
) -> Journal:
    """Move ``volume`` m³ from one account to another of the same year."""
    if source.year != target.year:
        raise LedgerError(["accounts of different years"])
    if volume <= 0:
        raise LedgerError(["volume must be > 0"])
    return post(kind, source.year, [(source, -volume), (target, volume)], memo=memo, ref=ref, by=by)


def audit(year: int | None = None) -> ledger_core.Audit:
    """The conservation check over the whole ledger (or one year's accounts)."""
    qs = Entry.objects.all()
    contra = Account.objects.filter(kind=HolderKind.COUNTY)
    if year is not None:
        qs = qs.filter(account__year=year)
        contra = contra.filter(year=year)
    rows = qs.values_list("journal_id", "account_id", "delta").iterator(chunk_size=5000)
    return ledger_core.audit(rows, contra.values_list("pk", flat=True))
