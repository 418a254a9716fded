"""The all-or-nothing import of a workbook: every row validated, then all saved or none."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, models, transaction
from django.utils.translation import gettext as _

from aquifer.core import audit
from aquifer.core.geometry import GeometryError
from aquifer.core.roles import Action
from aquifer.core.scoping import can
from aquifer.registry.imports.columns import KINDS, MAX_ROWS, KindSpec
from aquifer.registry.imports.reading import _blank, _read, _Sheet, detect_kind
from aquifer.registry.imports.results import ImportFileError, ImportResult, Progress, RowError
from aquifer.registry.imports.rows import (
    _build_user,
    _build_well,
    _Context,
    _Row,
    _scope_error,
    _unique_in_file,
)
from aquifer.registry.models import WaterUser, Well
from aquifer.registry.spatial import pinned_index

__all__ = ["import_workbook"]


def _model_of(kind: str) -> type[models.Model]:
    return Well if kind == "wells" else WaterUser


def _is_notes_row(spec: KindSpec, mapping: dict[int, str], values: tuple[Any, ...]) -> bool:
    notes = {c.key: c.note for c in spec.columns}
    seen = False
    for i, key in mapping.items():
        value = values[i] if i < len(values) else None
        if _blank(value):
            continue
        if str(value).strip() != notes[key]:
            return False
        seen = True
    return seen


def import_workbook(
    source: str | Path | IO[bytes],
    user: Any = None,
    kind: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate every row of an .xlsx file, then create all of its records or none.

    ``source`` is a path or a binary file object (an upload). ``user`` is the account the
    import runs as: each row must be one it may add (``None``: the system, county-wide).
    ``kind`` (``"wells"``/``"users"``) is detected from the header row when not given.
    On a ``dry_run`` rows are validated and nothing is written.

    Raises :class:`ImportFileError` when the file cannot be read as an import at all, and
    :class:`~django.core.exceptions.PermissionDenied` when ``user``'s role may not add records
    of this kind. Row faults are returned in :attr:`ImportResult.errors`, never raised.
    """
    sheet = _read(source)
    with pinned_index():  # one zone/township index for the whole file
        return _import_sheet(sheet, user, kind, dry_run, progress)


def _import_sheet(
    sheet: _Sheet, user: Any, kind: str | None, dry_run: bool, progress: Progress | None
) -> ImportResult:
    kind, mapping = detect_kind(sheet.headers, kind)
    spec = KINDS[kind]
    model = _model_of(kind)
    if user is not None and not can(user, Action.ADD, model):
        raise PermissionDenied(
            _("用户 %(user)s 的角色无权新增%(what)s。")
            % {"user": user.get_username(), "what": spec.label}
        )
    headers = {key: str(sheet.headers[i]).strip() for i, key in mapping.items()}
    data = _data_rows(sheet, spec, mapping)
    result = ImportResult(kind=kind, rows=len(data), dry_run=dry_run)
    valid = _validate(data, spec, mapping, headers, user, result, progress)
    if result.errors or dry_run:
        return result
    _save(sheet.name, user, valid, len(data), result, progress)
    return result


def _data_rows(
    sheet: _Sheet, spec: KindSpec, mapping: dict[int, str]
) -> list[tuple[int, tuple[Any, ...]]]:
    """The sheet's rows with data (not blank, not the template's notes row); refuses a file
    with none or too many."""
    data = [
        (number, values)
        for number, values in sheet.rows
        if any(not _blank(v) for v in values)
        and not (number == 2 and _is_notes_row(spec, mapping, values))
    ]
    if not data:
        raise ImportFileError(_("%(name)s 中没有数据行（第1行为表头）。") % {"name": sheet.name})
    if len(data) > MAX_ROWS:
        raise ImportFileError(
            _("%(name)s 行数过多（%(n)d 行，上限 %(max)d 行），请分批导入。")
            % {"name": sheet.name, "n": len(data), "max": MAX_ROWS}
        )
    return data


def _validate(
    data: list[tuple[int, tuple[Any, ...]]],
    spec: KindSpec,
    mapping: dict[int, str],
    headers: dict[str, str],
    user: Any,
    result: ImportResult,
    progress: Progress | None,
) -> list[tuple[int, models.Model]]:
    """Every row built and validated; faults into ``result.errors``; the valid instances."""
    model = _model_of(spec.name)
    # A row's faults are listed in the order of the file's columns.
    order = {headers.get(c.key, c.header): n for n, c in enumerate(spec.columns)}
    ctx = _Context(user)
    build = _build_well if spec.name == "wells" else _build_user
    unique_key, unique_field, unique_what = (
        ("code", "code", _("编号"))
        if spec.name == "wells"
        else ("uscc", "uscc", _("统一社会信用代码"))
    )
    seen: dict[str, int] = {}
    valid: list[tuple[int, models.Model]] = []
    total = len(data)
    for done, (number, values) in enumerate(data, start=1):
        row = _Row(
            number,
            {key: values[i] if i < len(values) else None for i, key in mapping.items()},
            spec,
            headers,
        )
        row.check_required()
        instance = build(row, ctx)
        try:
            instance.full_clean()
        except ValidationError as exc:
            row.model_errors(exc, model)
        _scope_error(row, instance, ctx)
        _unique_in_file(row, unique_key, getattr(instance, unique_field), seen, unique_what)
        if row.errors:
            result.errors.extend(sorted(row.errors, key=lambda e: order.get(e.column, len(order))))
        else:
            valid.append((number, instance))
        if progress is not None:
            progress("validate", done, total)
    return valid


def _save(
    name: str,
    user: Any,
    valid: list[tuple[int, models.Model]],
    total: int,
    result: ImportResult,
    progress: Progress | None,
) -> None:
    """Save every valid row in one transaction, audited; all or nothing."""
    outer = audit.current()
    with audit.audit_context(user=user, source="import", reason=_("Excel 导入：%s") % name) as actx:
        actx.request_id = outer.request_id
        current = 0  # the row being written, should writing fail
        try:
            with transaction.atomic():
                for done, (number, instance) in enumerate(valid, start=1):
                    current = number
                    instance.save()
                    if progress is not None:
                        progress("save", done, total)
        except (DatabaseError, GeometryError, ValidationError) as exc:
            # Something changed between validation and writing (a well registered meanwhile):
            # the transaction is rolled back whole.
            result.errors.append(
                RowError(current, "", _("写入失败，已全部撤销，未导入任何记录：%s") % exc)
            )
            return
    result.created = len(valid)
