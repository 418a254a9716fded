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
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DatabaseError, models, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from aquifer.core import audit
from aquifer.core.codes import USCCError, normalise_uscc
from aquifer.core.geometry import ACCEPTED_CRS, GeometryError
from aquifer.core.roles import Action
from aquifer.core.scoping import can, visible_to
from aquifer.registry.choices import AquiferLayer, UseType, WellPurpose, WellStatus

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

#: ``progress(phase, done, total)``: phase is ``"validate"`` or ``"save"``.
Progress = Callable[[str, int, int], None]

#: More rows than this in one file is refused (a county has a few thousand wells).
MAX_ROWS = 50_000

#: Rows of the template that carry data validation lists (the first data row is row 3).
TEMPLATE_ROWS = 2000


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


# --- Columns ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of an import file. Headers and notes are the file format, not translated."""

    key: str
    header: str
    required: bool = False
    note: str = ""
    choices: type[models.TextChoices] | None = None
    aliases: tuple[str, ...] = ()
    width: int = 14
    text: bool = False  # keep as text in Excel (codes with leading zeros, phone numbers)


def _zh_labels(choices: type[models.TextChoices]) -> list[str]:
    with translation.override("zh-hans"):
        return [str(label) for _value, label in choices.choices]


def _choice_note(choices: type[models.TextChoices], required: bool, default: str = "") -> str:
    head = "必填" if required else (f"选填，默认“{default}”" if default else "选填")
    return f"{head}。可填：{'、'.join(_zh_labels(choices))}（或代码 {'、'.join(choices.values)}）"


_CRS_NOTE = "选填，默认 4326。可填：" + "；".join(f"{k} {v}" for k, v in ACCEPTED_CRS.items())

WELL_COLUMNS: tuple[Column, ...] = (
    Column("code", "编号", True, "必填，全县唯一，如 YC-FC-0001", aliases=("井编号",), text=True),
    Column("name", "名称", note="选填", width=18),
    Column(
        "x",
        "X(经度/东坐标)",
        True,
        "必填。经纬度坐标系填经度（如 112.417）；高斯-克吕格投影填东坐标（米）",
        aliases=("X", "经度", "东坐标", "经度/东坐标"),
    ),
    Column(
        "y",
        "Y(纬度/北坐标)",
        True,
        "必填。经纬度坐标系填纬度（如 35.486）；高斯-克吕格投影填北坐标（米）",
        aliases=("Y", "纬度", "北坐标", "纬度/北坐标"),
    ),
    Column("crs", "坐标系EPSG", note=_CRS_NOTE, aliases=("坐标系", "EPSG", "坐标系(EPSG)")),
    Column(
        "depth",
        "井深(m)",
        True,
        "必填，单位米，0.5–5000，最多两位小数",
        aliases=("井深", "井深(米)"),
    ),
    Column("layer", "含水层", True, _choice_note(AquiferLayer, True), AquiferLayer),
    Column("purpose", "用途", True, _choice_note(WellPurpose, True), WellPurpose),
    Column("status", "状态", False, _choice_note(WellStatus, False, "在用"), WellStatus),
    Column(
        "owner_uscc",
        "权属人统一社会信用代码",
        note="选填，与“权属人名称”填一项即可；须为已登记且在您管辖范围内的取用水户",
        width=22,
        text=True,
    ),
    Column(
        "owner_name",
        "权属人名称",
        note="选填；同名取用水户不止一个时请填统一社会信用代码",
        aliases=("权属人",),
        width=18,
    ),
    Column("drilled_on", "成井日期", note="选填，日期，如 2015-06-30"),
    Column("notes", "备注", note="选填", width=24),
)

USER_COLUMNS: tuple[Column, ...] = (
    Column("name", "名称", True, "必填，如 凤城供水站", aliases=("取用水户名称",), width=20),
    Column(
        "uscc",
        "统一社会信用代码",
        note="单位填写，个人和农户可空；18位，校验位须正确，不能与已登记的重复",
        width=22,
        text=True,
    ),
    Column("use_type", "用水类型", True, _choice_note(UseType, True), UseType),
    Column("contact", "联系人", note="选填"),
    Column("phone", "联系电话", note="选填，7至15位数字", aliases=("电话",), text=True),
    Column("address", "地址", note="选填", width=24),
    Column(
        "township",
        "乡镇",
        True,
        "必填：乡镇名称（如 凤城镇）或9位区划代码（如 140522100）；"
        "已更名乡镇的旧代码自动对应现行乡镇",
        aliases=("所属乡镇", "乡镇代码"),
    ),
)


@dataclass(frozen=True)
class KindSpec:
    name: str
    label: Any  # lazily translated; the template's sheet is named in Chinese
    columns: tuple[Column, ...]
    #: Headers accepted and not read: what an export adds that an import derives itself.
    ignored: frozenset[str] = frozenset()
    #: model field name -> column key, for the model's own validation errors.
    fields: dict[str, str] = field(default_factory=dict)

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


KINDS: dict[str, KindSpec] = {
    "wells": KindSpec(
        "wells",
        gettext_lazy("取水井"),
        WELL_COLUMNS,
        ignored=frozenset({"乡镇", "分区"}),
        fields={
            "code": "code",
            "name": "name",
            "lon": "x",
            "lat": "y",
            "input_x": "x",
            "input_y": "y",
            "input_crs": "crs",
            "township": "x",
            "zone": "x",
            "depth_m": "depth",
            "layer": "layer",
            "purpose": "purpose",
            "status": "status",
            "owner": "owner",
            "drilled_on": "drilled_on",
            "notes": "notes",
        },
    ),
    "users": KindSpec(
        "users",
        gettext_lazy("取用水户"),
        USER_COLUMNS,
        fields={
            "name": "name",
            "uscc": "uscc",
            "use_type": "use_type",
            "contact_person": "contact",
            "phone": "phone",
            "address": "address",
            "township": "township",
        },
    ),
}

#: Columns that together give a well its location; an error on one hides derived errors.
_LOCATION = frozenset({"x", "y", "crs"})


def _norm(header: Any) -> str:
    """A header as compared: no spaces, half-width brackets, ASCII in upper case."""
    text = str(header or "").replace("（", "(").replace("）", ")").replace("：", ":")
    return re.sub(r"\s+", "", text).upper()


def _lookup(spec: KindSpec) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in spec.columns:
        for name in (c.header, *c.aliases):
            out[_norm(name)] = c.key
    return out


# --- Templates --------------------------------------------------------------------------------


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


# --- Reading ----------------------------------------------------------------------------------


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


def detect_kind(headers: list[Any], kind: str | None = None) -> tuple[str, dict[int, str]]:
    """The kind of a header row and the column each header stands for: ``{index: key}``.

    With ``kind`` given, checks the headers against it. Raises :class:`ImportFileError` for
    unknown, repeated or missing required columns.
    """
    if kind is not None and kind not in KINDS:
        raise ImportFileError(_("未知的导入类型：%s（可用：wells、users）") % kind)
    candidates = [kind] if kind else list(KINDS)
    matches: list[tuple[int, str, dict[int, str], list[str], list[str]]] = []
    for name in candidates:
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
        matches.append((len(mapping), name, mapping, missing, unknown))
    complete = [m for m in matches if not m[3]]
    if not complete:
        score, name, _mapping, missing, _unknown = max(matches)
        label = KINDS[name].label
        if kind is None and score < 2:
            raise ImportFileError(
                _(
                    "无法识别表头：第1行应为取水井或取用水户模板的列名"
                    "（可用 aquifer template wells|users 生成模板）。"
                )
            )
        raise ImportFileError(
            _("表头缺少%(label)s的必填列：%(cols)s。")
            % {"label": label, "cols": "、".join(missing)}
        )
    score, name, mapping, _missing, unknown = max(complete)
    if unknown:
        raise ImportFileError(
            _("表头有无法识别的列：%(cols)s（%(label)s模板的列为：%(known)s）。")
            % {
                "cols": "、".join(unknown),
                "label": KINDS[name].label,
                "known": "、".join(c.header for c in KINDS[name].columns),
            }
        )
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
    return name, mapping


# --- Rows -------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    return str(value).strip()


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


class _Row:
    """One data row being read: typed values out, faults collected (never raised)."""

    def __init__(
        self, number: int, values: dict[str, Any], spec: KindSpec, headers: dict[str, str]
    ) -> None:
        self.line = number
        self.values = values
        self.spec = spec
        self.headers = headers
        self.errors: list[RowError] = []
        self.bad: set[str] = set()

    def header(self, key: str) -> str:
        return self.headers.get(key) or self.spec.column(key).header

    def error(self, key: str, reason: str) -> None:
        self.errors.append(RowError(self.line, self.header(key) if key else "", str(reason)))
        if key:
            self.bad.add(key)

    def raw(self, key: str) -> Any:
        value = self.values.get(key)
        return None if _blank(value) else value

    def present(self, key: str) -> bool:
        return self.raw(key) is not None

    def check_required(self) -> None:
        for c in self.spec.columns:
            if c.required and not self.present(c.key):
                self.error(c.key, _("必填项为空。"))

    def text(self, key: str) -> str:
        return _text(self.raw(key))

    def number(self, key: str) -> float | None:
        value = self.raw(key)
        if value is None:
            return None
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value) if isinstance(value, int | float) else float(str(value).strip())
            if not math.isfinite(number):
                raise ValueError
        except ValueError:
            self.error(key, _("“%s”不是数字。") % _text(value))
            return None
        return number

    def decimal(self, key: str) -> Decimal | None:
        value = self.raw(key)
        if value is None:
            return None
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            number = Decimal(str(value).strip())
            if not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            self.error(key, _("“%s”不是数字。") % _text(value))
            return None
        return number

    def date(self, key: str) -> dt.date | None:
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = _text(value)
        for fmt in _DATE_FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        self.error(key, _("“%s”不是日期，请按 2015-06-30 的格式填写。") % text)
        return None

    def choice(self, key: str, choices: type[models.TextChoices]) -> str | None:
        value = self.raw(key)
        if value is None:
            return None
        text = _text(value)
        accepted: dict[str, str] = {}
        for code, label in choices.choices:
            accepted[code.lower()] = code
            accepted[str(label)] = code
        for code, label in zip(choices.values, _zh_labels(choices), strict=True):
            accepted[label] = code
        found = accepted.get(text) or accepted.get(text.lower())
        if found is None:
            self.error(
                key,
                _("“%(value)s”不是可选值；可填：%(labels)s（或代码 %(codes)s）。")
                % {
                    "value": text,
                    "labels": "、".join(_zh_labels(choices)),
                    "codes": "、".join(choices.values),
                },
            )
        return found

    def epsg(self, key: str) -> int:
        value = self.raw(key)
        if value is None:
            return 4326
        text = re.sub(r"^EPSG[:：]?", "", _text(value), flags=re.IGNORECASE).strip()
        try:
            code = int(float(text))
        except ValueError:
            code = None
        if code not in ACCEPTED_CRS:
            self.error(
                key,
                _("不支持的坐标系“%(value)s”；可填：%(codes)s。")
                % {"value": _text(value), "codes": "、".join(str(c) for c in ACCEPTED_CRS)},
            )
            return 4326
        return code

    def model_errors(self, exc: ValidationError, model: type[models.Model]) -> None:
        """Put the model's own validation errors in the columns they concern."""
        by_message = {
            str(c.get_violation_error_message()): c.fields[0]
            for c in model._meta.constraints
            if isinstance(c, models.UniqueConstraint) and len(c.fields) == 1
        }
        for field_name, messages in exc.message_dict.items():
            for message in messages:
                name = field_name
                if name == NON_FIELD_ERRORS:
                    name = by_message.get(message, "")
                key = self.spec.fields.get(name, "")
                if key == "owner":
                    key = "owner_uscc" if self.present("owner_uscc") else "owner_name"
                if key in self.bad or (key in _LOCATION and self.bad & _LOCATION):
                    continue  # already reported, in the words of the file
                self.error(key, message)


class _Context:
    """What rows are checked against: the importing user's scope and reference lookups."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self._users: tuple[dict[str, Any], dict[str, list[Any]]] | None = None
        self._townships: tuple[dict[str, Any], dict[str, list[Any]]] | None = None
        self._township_names: dict[int, str] = {}

    def allowed(self, instance: models.Model) -> bool:
        return self.user is None or can(self.user, Action.ADD, instance)

    def water_users(self) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        if self._users is None:
            from aquifer.registry.models import WaterUser

            qs = (
                WaterUser.objects.all()
                if self.user is None
                else visible_to(self.user, Action.VIEW, WaterUser)
            )
            by_uscc: dict[str, Any] = {}
            by_name: dict[str, list[Any]] = {}
            for u in qs:
                if u.uscc:
                    by_uscc[u.uscc] = u
                by_name.setdefault(u.name.strip(), []).append(u)
            self._users = (by_uscc, by_name)
        return self._users

    def townships(self) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        if self._townships is None:
            from aquifer.registry.models import Township

            by_code: dict[str, Any] = {}
            by_name: dict[str, list[Any]] = {}
            for t in Township.objects.all():
                by_code[t.code] = t
                by_name.setdefault(t.name, []).append(t)
            self._townships = (by_code, by_name)
        return self._townships

    def township_name(self, pk: int | None) -> str:
        if pk is None:
            return ""
        if pk not in self._township_names:
            by_code, _by_name = self.townships()
            names = {t.pk: t.name for t in by_code.values()}
            self._township_names.update(names)
        return self._township_names.get(pk, str(pk))

    def owner(self, row: _Row) -> Any:
        uscc, name = row.text("owner_uscc"), row.text("owner_name")
        if not uscc and not name:
            return None
        by_uscc, by_name = self.water_users()
        if uscc:
            try:
                uscc = normalise_uscc(uscc)
            except USCCError as exc:
                row.error("owner_uscc", str(exc))
                return None
            found = by_uscc.get(uscc)
            if found is None:
                row.error(
                    "owner_uscc",
                    _("未找到统一社会信用代码为 %s 的取用水户（须已登记且在您的管辖范围内）。")
                    % uscc,
                )
                return None
            if name and found.name.strip() != name:
                row.error(
                    "owner_name",
                    _("与统一社会信用代码 %(uscc)s 登记的名称“%(name)s”不一致。")
                    % {"uscc": uscc, "name": found.name},
                )
            return found
        matches = by_name.get(name, [])
        if not matches:
            row.error(
                "owner_name",
                _("未找到名为“%s”的取用水户（须已登记且在您的管辖范围内）。") % name,
            )
            return None
        if len(matches) > 1:
            row.error(
                "owner_name",
                _("名为“%(name)s”的取用水户有 %(n)d 个，请填写权属人统一社会信用代码。")
                % {"name": name, "n": len(matches)},
            )
            return None
        return matches[0]

    def township(self, row: _Row) -> Any:
        from aquifer.registry.models import Township

        value = row.text("township")
        if not value:
            return None
        by_code, by_name = self.townships()
        if value.isdigit():
            if len(value) != 9:
                row.error("township", _("区划代码“%s”应为9位数字。") % value)
                return None
            found = Township.resolve_code(value) if value in by_code else None
            if found is None:
                row.error("township", _("未找到区划代码为 %s 的乡镇。") % value)
            return found
        named = by_name.get(value, [])
        if not named:
            row.error("township", _("未找到名为“%s”的乡镇，可填乡镇名称或9位区划代码。") % value)
            return None
        current = [t for t in named if t.is_current]
        return current[0] if current else Township.resolve_code(named[0].code)


def _build_well(row: _Row, ctx: _Context) -> models.Model:
    from aquifer.registry.models import Well

    well = Well()
    well.code = row.text("code")
    well.name = row.text("name")
    well.notes = row.text("notes")
    x, y, crs = row.number("x"), row.number("y"), row.epsg("crs")
    if x is not None and y is not None and not row.bad & _LOCATION:
        try:
            well.set_location(x, y, crs)
        except GeometryError as exc:
            row.error("crs" if "EPSG" in str(exc) else "x", str(exc))
    well.depth_m = row.decimal("depth")  # type: ignore[assignment]
    well.layer = row.choice("layer", AquiferLayer) or ""
    well.purpose = row.choice("purpose", WellPurpose) or ""
    well.status = row.choice("status", WellStatus) or WellStatus.ACTIVE
    well.owner = ctx.owner(row)
    well.drilled_on = row.date("drilled_on")
    return well


def _build_user(row: _Row, ctx: _Context) -> models.Model:
    from aquifer.registry.models import WaterUser

    user = WaterUser()
    user.name = row.text("name")
    user.uscc = row.text("uscc").upper()
    user.use_type = row.choice("use_type", UseType) or ""
    user.contact_person = row.text("contact")
    user.phone = row.text("phone")
    user.address = row.text("address")
    township = ctx.township(row)
    if township is not None:
        user.township = township
    return user


def _scope_error(row: _Row, instance: models.Model, ctx: _Context) -> None:
    """A row the importing user may not add: outside their township."""
    key = "x" if row.spec.name == "wells" else "township"
    township_id = getattr(instance, "township_id", None)
    if township_id is None or key in row.bad or (key == "x" and row.bad & _LOCATION):
        return
    if not ctx.allowed(instance):
        row.error(
            key,
            _("该记录属于%(township)s，不在您的管辖范围内。")
            % {"township": ctx.township_name(township_id)},
        )


def _unique_in_file(row: _Row, key: str, value: str, seen: dict[str, int], what: str) -> None:
    if not value or key in row.bad:
        return
    if value in seen:
        row.error(
            key,
            _("%(what)s“%(value)s”与第 %(row)d 行重复。")
            % {"what": what, "value": value, "row": seen[value]},
        )
    else:
        seen[value] = row.line


def _model_of(kind: str) -> type[models.Model]:
    from aquifer.registry.models import WaterUser, Well

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
    from aquifer.registry.spatial import pinned_index

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
    # A row's faults are listed in the order of the file's columns.
    order = {headers.get(c.key, c.header): n for n, c in enumerate(spec.columns)}
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
    result = ImportResult(kind=kind, rows=len(data), dry_run=dry_run)
    ctx = _Context(user)
    build = _build_well if kind == "wells" else _build_user
    unique_key, unique_field, unique_what = (
        ("code", "code", _("编号")) if kind == "wells" else ("uscc", "uscc", _("统一社会信用代码"))
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
    if result.errors or dry_run:
        return result

    outer = audit.current()
    with audit.audit_context(
        user=user, source="import", reason=_("Excel 导入：%s") % sheet.name
    ) as actx:
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
            return result
    result.created = len(valid)
    return result
