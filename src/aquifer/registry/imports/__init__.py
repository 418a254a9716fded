"""Excel in: import templates, and the all-or-nothing import of wells and water users.

One workbook holds one kind of record on its first sheet: a header row of Chinese column names
(:data:`KINDS` lists them), then one record per row. :func:`import_workbook` reads it, builds a
model instance for every row and validates it with the model's own ``full_clean()`` — so a file
is refused for the same reasons as the API and the pages refuse a record (a well outside the
county, a duplicate code, a wrong USCC check digit) — plus what only a file can get wrong:
a bad number or date, an unknown choice, a code twice in the same file, a row outside the
importing user's township (:func:`aquifer.core.scoping.can`). Only when every row is valid are
all rows saved, in one transaction, each with an audit entry (source ``"import"``).

The command line (``aquifer import``) and the web page (``/import/``) both call
:func:`import_workbook`; :func:`write_template` makes the empty template that
``aquifer template`` writes and the page offers for download.

The package: :mod:`~.columns` (the file format), :mod:`~.results`, :mod:`~.template`,
:mod:`~.reading` (the sheet, the kind of its headers), :mod:`~.rows` (one row into a model
instance) and :mod:`~.workbook` (the all-or-nothing import). Everything public is imported
from here.
"""

from __future__ import annotations

from aquifer.registry.imports.columns import KINDS, Column
from aquifer.registry.imports.columns import MAX_ROWS as MAX_ROWS
from aquifer.registry.imports.columns import TEMPLATE_ROWS as TEMPLATE_ROWS
from aquifer.registry.imports.columns import USER_COLUMNS as USER_COLUMNS
from aquifer.registry.imports.columns import WELL_COLUMNS as WELL_COLUMNS
from aquifer.registry.imports.columns import KindSpec as KindSpec
from aquifer.registry.imports.reading import detect_kind
from aquifer.registry.imports.results import ImportFileError, ImportResult, Progress, RowError
from aquifer.registry.imports.template import write_template
from aquifer.registry.imports.workbook import import_workbook

__all__ = [
    "KINDS",
    "Column",
    "ImportFileError",
    "ImportResult",
    "Progress",
    "RowError",
    "detect_kind",
    "import_workbook",
    "write_template",
]
