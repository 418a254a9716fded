"""The water-rights ledger's rules as pure functions (no Django): journals and conservation.

A *journal* is one event — an allocation, a transfer, a lease, a hold for a listing, an
expiry — written as *lines*, each moving whole m³ into (``delta > 0``, a debit) or out of
(``delta < 0``, a credit) one account. Double entry: the debits of a journal equal its
credits, so every journal sums to zero and so does the whole ledger. Balances are the sums
of the lines; only the county's cap account (the contra account an allocation year is issued
from) may go negative, so the rights held never exceed what the county issued.

:func:`check_journal` decides a journal against the balances it changes; :func:`audit` checks
a whole ledger (each journal balanced, the total zero, no account below zero but the contra
ones) — what the bureau's ledger-audit page and the concurrency tests and benches run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["Audit", "JournalError", "Line", "apply", "audit", "check_journal"]


class JournalError(ValueError):
    """A journal that must not be posted; ``reasons`` says every way it is wrong."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class Line:
    """One line of a journal: ``delta`` m³ (non-zero) into account ``account``."""

    account: int
    delta: int


def check_journal(
    lines: Iterable[Line],
    balances: Mapping[int, int],
    may_go_negative: Iterable[int] = (),
) -> list[str]:
    """Every reason the journal may not be posted (empty: it may).

    ``balances`` must hold the current balance of every account the journal touches (missing
    = 0). A journal needs at least two lines, no zero line, debits equal to credits, and no
    account other than those in ``may_go_negative`` below zero afterwards.
    """
    ls = list(lines)
    reasons: list[str] = []
    if len(ls) < 2:
        reasons.append("a journal needs at least two lines")
    if any(x.delta == 0 for x in ls):
        reasons.append("a line moves 0 m³")
    debit = sum(x.delta for x in ls if x.delta > 0)
    credit = -sum(x.delta for x in ls if x.delta < 0)
    if debit != credit:
        reasons.append(f"debits {debit} m³ != credits {credit} m³")
    negative_ok = set(may_go_negative)
    net: dict[int, int] = {}
    for x in ls:
        net[x.account] = net.get(x.account, 0) + x.delta
    for account, d in sorted(net.items()):
        after = balances.get(account, 0) + d
        if d < 0 and after < 0 and account not in negative_ok:
            reasons.append(
                f"account {account}: balance {balances.get(account, 0)} m³ cannot give {-d} m³"
            )
    return reasons


def apply(
    lines: Iterable[Line], balances: Mapping[int, int], may_go_negative: Iterable[int] = ()
) -> dict[int, int]:
    """The balances after posting a journal; raises :class:`JournalError` if it may not be."""
    ls = list(lines)
    reasons = check_journal(ls, balances, may_go_negative)
    if reasons:
        raise JournalError(reasons)
    out = dict(balances)
    for x in ls:
        out[x.account] = out.get(x.account, 0) + x.delta
    return out


@dataclass(frozen=True)
class Audit:
    """The result of :func:`audit`: ``ok`` when every invariant holds, else the findings."""

    journals: int
    entries: int
    total: int
    unbalanced_journals: tuple[int, ...] = ()
    negative_accounts: tuple[tuple[int, int], ...] = ()
    balances: Mapping[int, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.total == 0 and not self.unbalanced_journals and not self.negative_accounts


def audit(entries: Iterable[tuple[int, int, int]], may_go_negative: Iterable[int] = ()) -> Audit:
    """Check a ledger given as ``(journal_id, account_id, delta)`` rows.

    Conservation: every journal sums to zero and so does the ledger; no account outside
    ``may_go_negative`` has a negative balance.
    """
    by_journal: dict[int, int] = {}
    balances: dict[int, int] = {}
    n = 0
    total = 0
    for journal, account, delta in entries:
        n += 1
        total += delta
        by_journal[journal] = by_journal.get(journal, 0) + delta
        balances[account] = balances.get(account, 0) + delta
    ok_negative = set(may_go_negative)
    return Audit(
        journals=len(by_journal),
        entries=n,
        total=total,
        unbalanced_journals=tuple(sorted(j for j, s in by_journal.items() if s != 0)),
        negative_accounts=tuple(
            sorted((a, b) for a, b in balances.items() if b < 0 and a not in ok_negative)
        ),
        balances=balances,
    )
