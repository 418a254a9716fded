"""What an import reports: its result, the faults of its rows, or why the file as a whole
cannot be imported; and how it reports progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["ImportFileError", "ImportResult", "Progress", "RowError"]

#: ``progress(phase, done, total)``: phase is ``"validate"`` or ``"save"``.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RowError:
    """One fault: the Excel row number, the column header as in the file, and why."""

    row: int
    column: str
    reason: str


@dataclass
class ImportResult:
    """What an import did: ``created`` records, or the ``errors`` that stopped it.

    ``rows`` is the number of data rows read. With errors nothing was written; on a dry run
    nothing was written either, and ``created`` stays 0.
    """

    kind: str
    created: int = 0
    rows: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message is one line a person can act on."""
