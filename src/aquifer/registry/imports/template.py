"""The empty import template (.xlsx): headers with notes, a notes row, drop-down lists."""

from __future__ import annotations

from io import BytesIO

from django.utils import translation
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from aquifer.core.geometry import ACCEPTED_CRS
from aquifer.registry.imports.columns import KINDS, TEMPLATE_ROWS, _zh_labels

__all__ = ["write_template"]


def write_template(kind: str) -> bytes:
    """An empty import template (.xlsx) for ``kind`` (``"wells"`` or ``"users"``).

    Row 1 holds the headers (each with a comment explaining it), row 2 the same notes as
    text — an unchanged notes row is skipped on import — and choice columns get a drop-down
    list of the Chinese labels (codes are accepted too).
    """
    spec = KINDS[kind]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    with translation.override("zh-hans"):
        ws.title = str(spec.label)
    ws.append([c.header for c in spec.columns])
    ws.append([c.note for c in spec.columns])
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    required_font = Font(bold=True, color="C00000")
    for i, c in enumerate(spec.columns, start=1):
        letter = get_column_letter(i)
        cell = ws.cell(row=1, column=i)
        cell.font = required_font if c.required else Font(bold=True)
        cell.fill = header_fill
        cell.comment = Comment(c.note, "Aquifer", width=300, height=120)
        note = ws.cell(row=2, column=i)
        note.font = Font(italic=True, color="808080", size=9)
        note.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[letter].width = max(c.width, len(c.header) * 2 + 2)
        if c.text:  # typed as text, so that leading zeros and long numbers survive
            ws.column_dimensions[letter].number_format = "@"
        values: list[str] = []
        if c.choices is not None:
            values = _zh_labels(c.choices)
        elif c.key == "crs":
            values = [str(k) for k in ACCEPTED_CRS]
        if values:
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(values) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="warning",
                errorTitle=c.header,
                error=c.note,
            )
            ws.add_data_validation(dv)
            dv.add(f"{letter}3:{letter}{2 + TEMPLATE_ROWS}")
    ws.row_dimensions[2].height = 60
    ws.freeze_panes = "A3"
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()
