"""The file format: the columns of each kind of record (their Chinese headers, notes,
aliases and choices) and how a header is recognised."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy

from aquifer.core.geometry import ACCEPTED_CRS
from aquifer.registry.choices import AquiferLayer, UseType, WellPurpose, WellStatus

__all__ = [
    "KINDS",
    "MAX_ROWS",
    "TEMPLATE_ROWS",
    "USER_COLUMNS",
    "WELL_COLUMNS",
    "Column",
    "KindSpec",
]

#: More rows than this in one file is refused (a county has a few thousand wells).
MAX_ROWS = 50_000

#: Rows of the template that carry data validation lists (the first data row is row 3).
TEMPLATE_ROWS = 2000


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
