"""Reading a workbook: its first sheet's header row and data rows, and which kind of record
the headers are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from aquifer.registry.imports.columns import KINDS, MAX_ROWS, _lookup, _norm
from aquifer.registry.imports.results import ImportFileError

__all__ = ["detect_kind"]


@dataclass
class _Sheet:
    name: str
    headers: list[Any]
    rows: list[tuple[int, tuple[Any, ...]]]


def _source_name(source: Any) -> str:
    if isinstance(source, str | Path):
        return Path(source).name
    return Path(str(getattr(source, "name", "") or "upload.xlsx")).name


def _read(source: str | Path | IO[bytes]) -> _Sheet:
    name = _source_name(source)
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.exists():
            raise ImportFileError(_("文件不存在：%s") % path)
        if not path.is_file():
            raise ImportFileError(_("不是文件：%s") % path)
        if path.suffix.lower() in (".xls", ".csv", ".et", ".ods"):
            raise ImportFileError(
                _("%(name)s 不是 .xlsx 文件：请在 Excel 或 WPS 中另存为 .xlsx 后再导入。")
                % {"name": name}
            )
    try:
        # Read-only: rows are streamed, so a huge sheet is refused at the limit, not loaded.
        wb = load_workbook(source, read_only=True, data_only=False)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike: the file is not usable
        raise ImportFileError(
            _("无法读取 %(name)s：不是有效的 Excel (.xlsx) 文件（%(why)s）。")
            % {"name": name, "why": type(exc).__name__}
        ) from exc
    try:
        if not wb.worksheets:
            raise ImportFileError(_("%(name)s 中没有工作表。") % {"name": name})
        ws = wb.worksheets[0]
        table = _rows_of(ws, name)
    finally:
        wb.close()
    if not table or all(_blank(v) for v in table[0]):
        raise ImportFileError(
            _("%(name)s 的工作表“%(sheet)s”是空的：第1行应为表头。")
            % {"name": name, "sheet": ws.title}
        )
    headers = list(table[0])
    while headers and _blank(headers[-1]):
        headers.pop()
    rows = [(i, tuple(r)) for i, r in enumerate(table[1:], start=2)]
    return _Sheet(name=name, headers=headers, rows=rows)


def _rows_of(ws: Any, name: str) -> list[tuple[Any, ...]]:
    """The sheet's rows as values, read until :data:`MAX_ROWS` (plus the header and a notes
    row) is passed. A formula is refused, naming its cell: its value is not in the file
    unless Excel computed it, and a formula is not data one can check."""
    table: list[tuple[Any, ...]] = []
    for number, row in enumerate(ws.iter_rows(), start=1):
        if number > MAX_ROWS + 2:
            raise ImportFileError(
                _("%(name)s 行数过多（超过上限 %(max)d 行），请分批导入。")
                % {"name": name, "max": MAX_ROWS}
            )
        values = []
        for cell in row:
            if getattr(cell, "data_type", None) == "f":
                raise ImportFileError(
                    _(
                        "%(name)s 第 %(row)d 行第 %(column)s 列是公式：不接受公式，请复制后“粘贴为数值”再导入。"  # noqa: E501
                    )
                    % {"name": name, "row": number, "column": cell.column_letter}
                )
            values.append(cell.value)
        table.append(tuple(values))
    width = max((len(r) for r in table), default=0)
    return [r + (None,) * (width - len(r)) for r in table]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


Match = tuple[int, str, dict[int, str], list[str], list[str]]


def _match(name: str, headers: list[Any]) -> Match:
    """How well ``headers`` fit kind ``name``: (columns recognised, the kind, ``{index: key}``,
    the required headers missing, the headers not recognised)."""
    spec = KINDS[name]
    lookup = _lookup(spec)
    ignored = {_norm(h) for h in spec.ignored}
    mapping: dict[int, str] = {}
    unknown: list[str] = []
    for i, h in enumerate(headers):
        if _blank(h):
            continue
        key = lookup.get(_norm(h))
        if key is not None:
            mapping[i] = key
        elif _norm(h) not in ignored:
            unknown.append(str(h).strip())
    missing = [c.header for c in spec.columns if c.required and c.key not in mapping.values()]
    return len(mapping), name, mapping, missing, unknown


def _incomplete(matches: list[Match], kind: str | None) -> ImportFileError:
    """The error when no kind has all its required columns."""
    score, name, _mapping, missing, _unknown = max(matches)
    label = KINDS[name].label
    if kind is None and score < 2:
        return ImportFileError(
            _(
                "无法识别表头：第1行应为取水井或取用水户模板的列名"
                "（可用 aquifer template wells|users 生成模板）。"
            )
        )
    return ImportFileError(
        _("表头缺少%(label)s的必填列：%(cols)s。") % {"label": label, "cols": "、".join(missing)}
    )


def _check_repeated(name: str, mapping: dict[int, str]) -> None:
    """Refuse a header row naming one column twice."""
    seen: dict[str, int] = {}
    for i, key in mapping.items():
        if key in seen:
            raise ImportFileError(
                _("表头中“%(header)s”出现了两次（第 %(a)s 列和第 %(b)s 列）。")
                % {
                    "header": KINDS[name].column(key).header,
                    "a": get_column_letter(seen[key] + 1),
                    "b": get_column_letter(i + 1),
                }
            )
        seen[key] = i


def detect_kind(headers: list[Any], kind: str | None = None) -> tuple[str, dict[int, str]]:
    """The kind of a header row and the column each header stands for: ``{index: key}``.

    With ``kind`` given, checks the headers against it. Raises :class:`ImportFileError` for
    unknown, repeated or missing required columns.
    """
    if kind is not None and kind not in KINDS:
        raise ImportFileError(_("未知的导入类型：%s（可用：wells、users）") % kind)
    candidates = [kind] if kind else list(KINDS)
    matches = [_match(name, headers) for name in candidates]
    complete = [m for m in matches if not m[3]]
    if not complete:
        raise _incomplete(matches, kind)
    _score, name, mapping, _missing, unknown = max(complete)
    if unknown:
        raise ImportFileError(
            _("表头有无法识别的列：%(cols)s（%(label)s模板的列为：%(known)s）。")
            % {
                "cols": "、".join(unknown),
                "label": KINDS[name].label,
                "known": "、".join(c.header for c in KINDS[name].columns),
            }
        )
    _check_repeated(name, mapping)
    return name, mapping
