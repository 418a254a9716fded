"""Reading a CSV file for a management command, with errors that name the row and column.

``read_rows(path, columns)`` reads the whole file (UTF-8, a BOM allowed), checks the header
for the required columns (names stripped of blanks) and returns the data rows as
``(line, row)`` pairs, ``line`` counting the header as line 1. An unreadable file or a missing
column is a :class:`CommandError` (the command exits with status 1 and one line);
:func:`row_error` builds the same kind of error for a bad cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

Row = dict[str | None, str | None]


def row_error(line: int, column: str, error: object) -> CommandError:
    """“Row ``line``, column ``column``: ``error``”."""
    return CommandError(
        _("第 %(row)d 行，列 “%(column)s”：%(error)s")
        % {"row": line, "column": column, "error": error}
    )


def read_rows(path: str, columns: Sequence[str]) -> Iterator[tuple[int, Row]]:
    """The data rows of ``path`` with their line numbers; the file and header are checked
    before this returns. A row with more cells than the header has them under the key None,
    a row with fewer has None for the missing cells (as :class:`csv.DictReader` does)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(
            _("无法读取文件 %(path)s：%(error)s") % {"path": path, "error": exc}
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [c.strip() for c in reader.fieldnames or []]
    reader.fieldnames = header
    for col in columns:
        if col not in header:
            raise CommandError(_("第 1 行：缺少列 “%(column)s”") % {"column": col})
    return _rows(reader)


def _rows(reader: csv.DictReader[str]) -> Iterator[tuple[int, Row]]:
    yield from enumerate(reader, start=2)
