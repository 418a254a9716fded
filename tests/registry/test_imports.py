"""Excel in and out: templates, the all-or-nothing import (library, command, web page), exports.

Files are real .xlsx workbooks written with openpyxl into ``tmp_path``.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from stdnum.cn import uscc as stdnum_uscc

from aquifer.core.models import AuditEntry
from aquifer.registry.imports import (
    ImportFileError,
    detect_kind,
    import_workbook,
    write_template,
)
from aquifer.registry.models import WaterUser, Well

WELL_HEADERS = [
    "编号",
    "名称",
    "X(经度/东坐标)",
    "Y(纬度/北坐标)",
    "坐标系EPSG",
    "井深(m)",
    "含水层",
    "用途",
    "状态",
    "权属人统一社会信用代码",
    "权属人名称",
    "成井日期",
    "备注",
]
USER_HEADERS = ["名称", "统一社会信用代码", "用水类型", "联系人", "联系电话", "地址", "乡镇"]

IN_A = (112.42, 35.49)  # 凤城镇, near its seat
IN_B = (112.573, 35.533)  # 北留镇's seat
BEIJING = (116.4, 39.9)  # outside the county
BAD_USCC = "91110000600037341K"  # the world's water user A has ...41L: check digit wrong


def uscc(body: str) -> str:
    """A valid unified social credit code from its first 17 characters."""
    return body + stdnum_uscc.calc_check_digit(body)


def write_xlsx(path: Path, headers: list[str], rows: list[dict[str, Any]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h) for h in headers])
    wb.save(path)
    return path


def well(code: str, at: tuple[float, float] = IN_A, **cells: Any) -> dict[str, Any]:
    row = {
        "编号": code,
        "名称": f"{code} 井",
        "X(经度/东坐标)": at[0],
        "Y(纬度/北坐标)": at[1],
        "井深(m)": 150,
        "含水层": "浅层",
        "用途": "生活",
        "状态": "在用",
    }
    row.update(cells)
    return row


def wells_file(tmp_path: Path, rows: list[dict[str, Any]], name: str = "wells.xlsx") -> Path:
    return write_xlsx(tmp_path / name, WELL_HEADERS, rows)


def import_entries() -> Any:
    return AuditEntry.objects.filter(source="import")


# --- Templates --------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "headers"), [("wells", WELL_HEADERS), ("users", USER_HEADERS)])
def test_template_has_chinese_headers_notes_and_choice_lists(kind, headers, tmp_path):
    ws = load_workbook(io.BytesIO(write_template(kind))).worksheets[0]
    assert [c.value for c in ws[1]] == headers
    notes = [c.value for c in ws[2]]
    assert all(notes), "every column has a note in row 2"
    assert ws.freeze_panes == "A3"
    lists = {dv.formula1 for dv in ws.data_validations.dataValidation}
    if kind == "wells":
        assert '"规划,在用,备用,关停,封存"' in lists
        assert '"浅层,深层"' in lists
        assert "4490" in " ".join(lists)
    else:
        assert '"生活,农业,工业,生态,服务业"' in lists


def test_template_command_writes_the_file(tmp_path):
    out = io.StringIO()
    target = tmp_path / "w.xlsx"
    call_command("template", "wells", "-o", str(target), stdout=out)
    assert str(target) in out.getvalue()
    assert [c.value for c in load_workbook(target).worksheets[0][1]] == WELL_HEADERS


def test_filled_template_imports_and_its_notes_row_is_skipped(world, tmp_path):
    wb = load_workbook(io.BytesIO(write_template("wells")))
    ws = wb.worksheets[0]
    ws.append([well("T-1").get(h) for h in WELL_HEADERS])  # row 3
    ws.append([well("T-2", 状态="关停").get(h) for h in WELL_HEADERS])  # row 4
    ws.append([well("T-3", 备注="旧井翻新").get(h) for h in WELL_HEADERS])  # row 5
    wb.save(tmp_path / "t.xlsx")
    result = import_workbook(tmp_path / "t.xlsx")
    assert result.errors == []
    assert result.created == 3
    assert Well.objects.get(code="T-2").status == "closed"

    ws.append([well("T-1").get(h) for h in WELL_HEADERS])  # row 6: now a duplicate
    wb.save(tmp_path / "t2.xlsx")
    errors = import_workbook(tmp_path / "t2.xlsx").errors
    assert {(e.row, e.column) for e in errors} == {
        (3, "编号"),
        (4, "编号"),
        (5, "编号"),
        (6, "编号"),
    }


# --- A good file ------------------------------------------------------------------------------


def test_good_wells_file_imports_every_row_with_audit_entries(world, tmp_path):
    before = Well.objects.count()
    path = wells_file(
        tmp_path,
        [
            well("YC-1", 权属人统一社会信用代码="91110000600037341L", 成井日期="2015-06-30"),
            well(
                "YC-2", 含水层="deep", 用途="agricultural", 状态="active", 权属人名称="凤城供水站"
            ),
            # CGCS2000 / 3-degree Gauss-Kruger CM 111E: easting and northing in metres
            well(
                "YC-3", (628856.04, 3929883.12), 坐标系EPSG=4546, 状态=None, **{"井深(m)": "88.5"}
            ),
            well("YC-4", IN_B, 用途="工业"),
        ],
    )
    result = import_workbook(path)
    assert result.errors == []
    assert (result.kind, result.rows, result.created) == ("wells", 4, 4)
    assert Well.objects.count() == before + 4

    w1, w2, w3, w4 = (Well.objects.get(code=f"YC-{i}") for i in range(1, 5))
    assert w1.owner == world.user_a and w1.drilled_on.isoformat() == "2015-06-30"
    assert (w2.layer, w2.purpose, w2.owner) == ("deep", "agricultural", world.user_a)
    assert w3.input_crs == 4546 and w3.depth_m == Decimal("88.5") and w3.status == "active"
    assert w3.lon == pytest.approx(IN_A[0], abs=1e-6) and w3.lat == pytest.approx(IN_A[1], abs=1e-6)
    assert {w1.township, w3.township, w4.township} == {world.township_a, world.township_b}
    assert w4.purpose == "industrial"

    entries = import_entries().filter(object_type="registry.well", action="create")
    assert sorted(e.object_id for e in entries) == sorted(str(w.pk) for w in (w1, w2, w3, w4))
    assert all(e.reason == "Excel 导入：wells.xlsx" for e in entries)


def test_good_users_file_imports_and_resolves_townships(world, tmp_path):
    path = write_xlsx(
        tmp_path / "users.xlsx",
        USER_HEADERS,
        [
            {"名称": "润城化工", "统一社会信用代码": uscc("91140522MA0L12345"), "用水类型": "工业",
             "联系电话": 13800000000, "乡镇": "润城镇"},
            {"名称": "东村", "用水类型": "agricultural", "乡镇": "140522101"},
            # 白桑乡 (140522200) became 白桑镇 (140522111): the old code still resolves
            {"名称": "白桑农户", "用水类型": "生活", "乡镇": 140522200},
        ],
    )  # fmt: skip
    result = import_workbook(path)
    assert result.errors == []
    assert (result.kind, result.created) == ("users", 3)
    assert WaterUser.objects.get(name="润城化工").phone == "13800000000"
    assert WaterUser.objects.get(name="东村").township == world.township_b
    assert WaterUser.objects.get(name="白桑农户").township.code == "140522111"
    assert import_entries().filter(object_type="registry.wateruser").count() == 3


def test_dry_run_validates_and_writes_nothing(world, tmp_path):
    result = import_workbook(wells_file(tmp_path, [well("D-1"), well("D-2")]), dry_run=True)
    assert (result.errors, result.rows, result.created, result.dry_run) == ([], 2, 0, True)
    assert not Well.objects.filter(code__startswith="D-").exists()
    assert not import_entries().exists()


# --- One bad row among good ones: nothing is imported -----------------------------------------


@pytest.mark.parametrize(
    ("bad", "column", "reason"),
    [
        (well("NEW-X", BEIJING), "X(经度/东坐标)", "不在县域内"),
        (well("NEW-1"), "编号", "与第 2 行重复"),
        (well("W-A-1"), "编号", "已存在"),
        (well("NEW-X", 权属人统一社会信用代码=BAD_USCC), "权属人统一社会信用代码", "校验位错误"),
        (well("NEW-X", 状态="报废"), "状态", "“报废”不是可选值"),
        (well("NEW-X", 含水层="middle"), "含水层", "不是可选值"),
        (well("NEW-X", **{"井深(m)": "深井"}), "井深(m)", "“深井”不是数字"),
        (well("NEW-X", **{"井深(m)": 0.1}), "井深(m)", "0.5"),
        (well("NEW-X", **{"Y(纬度/北坐标)": "三十五"}), "Y(纬度/北坐标)", "不是数字"),
        (well("NEW-X", 坐标系EPSG=3857), "坐标系EPSG", "不支持的坐标系"),
        (well("NEW-X", 成井日期="去年"), "成井日期", "不是日期"),
        (well("NEW-X", 权属人名称="没有这户"), "权属人名称", "未找到"),
        (well("NEW-X", 编号=None), "编号", "必填"),
    ],
    ids=[
        "outside-county", "duplicate-in-file", "duplicate-in-db", "uscc-check-digit",
        "bad-status", "bad-layer", "depth-not-a-number", "depth-too-small", "y-not-a-number",
        "unsupported-crs", "bad-date", "unknown-owner", "code-missing",
    ],
)  # fmt: skip
def test_one_bad_row_imports_nothing_and_names_row_column_reason(
    world, tmp_path, bad, column, reason
):
    wells_before = Well.objects.count()
    path = wells_file(tmp_path, [well("NEW-1"), well("NEW-2"), bad, well("NEW-3", IN_B)])
    result = import_workbook(path)
    assert result.created == 0
    assert [(e.row, e.column) for e in result.errors] == [(4, column)], result.errors
    assert reason in result.errors[0].reason
    assert Well.objects.count() == wells_before
    assert not import_entries().exists()


def test_every_bad_row_is_reported_in_row_order(world, tmp_path):
    path = wells_file(
        tmp_path,
        [
            well("OK-1"),
            well("W-B-1", BEIJING, 用途="饮用"),
            well("OK-2"),
            well("OK-1", **{"井深(m)": "abc"}),
        ],
    )
    errors = import_workbook(path).errors
    assert [(e.row, e.column) for e in errors] == [
        (3, "编号"),
        (3, "X(经度/东坐标)"),
        (3, "用途"),
        (5, "编号"),
        (5, "井深(m)"),
    ], errors


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ({"名称": "甲", "统一社会信用代码": BAD_USCC, "用水类型": "工业", "乡镇": "凤城镇"},
         "统一社会信用代码", "校验位错误"),
        ({"名称": "乙", "统一社会信用代码": "91110000600037341L", "用水类型": "工业",
          "乡镇": "凤城镇"}, "统一社会信用代码", "已登记"),
        ({"名称": "丙", "用水类型": "工业", "乡镇": "固隆乡"}, "乡镇", "已撤销"),
        ({"名称": "丁", "用水类型": "工业", "乡镇": "140522204"}, "乡镇", "已撤销"),
        ({"名称": "戊", "用水类型": "工业", "乡镇": "140599999"}, "乡镇", "未找到"),
        ({"名称": "己", "用水类型": "矿业", "乡镇": "凤城镇"}, "用水类型", "不是可选值"),
        ({"名称": "庚", "用水类型": "生活", "乡镇": "凤城镇", "联系电话": "12-34"},
         "联系电话", "7至15位"),
    ],
    ids=["uscc-check-digit", "uscc-registered", "abolished-name", "abolished-code",
         "unknown-code", "bad-use-type", "bad-phone"],
)  # fmt: skip
def test_bad_water_user_row_imports_nothing(world, tmp_path, row, column, reason):
    users_before = WaterUser.objects.count()
    good = {"名称": "好户", "用水类型": "生活", "乡镇": "凤城镇"}
    path = write_xlsx(tmp_path / "u.xlsx", USER_HEADERS, [good, row])
    result = import_workbook(path)
    assert [(e.row, e.column) for e in result.errors] == [(3, column)], result.errors
    assert reason in result.errors[0].reason
    assert WaterUser.objects.count() == users_before


def test_same_uscc_twice_in_one_file(world, tmp_path):
    code = uscc("91140522MA0L12345")
    rows = [
        {"名称": n, "统一社会信用代码": code, "用水类型": "工业", "乡镇": "凤城镇"} for n in "AB"
    ]
    errors = import_workbook(write_xlsx(tmp_path / "u.xlsx", USER_HEADERS, rows)).errors
    assert [(e.row, e.column) for e in errors] == [(3, "统一社会信用代码")]
    assert "与第 2 行重复" in errors[0].reason


def test_all_or_nothing_when_writing_fails_midway(world, tmp_path, monkeypatch):
    before = Well.objects.count()
    saved: list[str] = []
    real_save = Well.save

    def flaky_save(self: Well, *args: Any, **kwargs: Any) -> None:
        if len(saved) == 2:
            raise IntegrityError("UNIQUE constraint failed: registry_well.code")
        real_save(self, *args, **kwargs)
        saved.append(self.code)

    monkeypatch.setattr(Well, "save", flaky_save)
    result = import_workbook(wells_file(tmp_path, [well("F-1"), well("F-2"), well("F-3")]))
    assert saved == ["F-1", "F-2"]
    assert result.created == 0
    assert [e.row for e in result.errors] == [4]
    assert "未导入任何记录" in result.errors[0].reason
    assert Well.objects.count() == before
    assert not import_entries().exists()


# --- Scope: importing as a township officer ---------------------------------------------------


def test_township_officer_cannot_import_a_well_in_another_township(world, tmp_path):
    officer = world.accounts["township"]
    path = wells_file(tmp_path, [well("MINE-1"), well("THEIRS-1", IN_B)])
    result = import_workbook(path, user=officer)
    assert [(e.row, e.column) for e in result.errors] == [(3, "X(经度/东坐标)")]
    assert "北留镇" in result.errors[0].reason and "管辖范围" in result.errors[0].reason
    assert not Well.objects.filter(code__in=["MINE-1", "THEIRS-1"]).exists()

    err = io.StringIO()
    with pytest.raises(CommandError, match="1 处错误"):
        call_command("import", str(path), as_user=officer.username, stderr=err)
    assert "北留镇" in err.getvalue()
    assert not Well.objects.filter(code__in=["MINE-1", "THEIRS-1"]).exists()


def test_township_officer_imports_in_own_township_as_themselves(world, tmp_path):
    officer = world.accounts["township"]
    path = wells_file(tmp_path, [well("MINE-1", 权属人名称="凤城供水站")])
    out = io.StringIO()
    call_command("import", str(path), "--as", officer.username, stdout=out)
    assert "已导入 1 条取水井记录" in out.getvalue()
    entry = import_entries().get(object_type="registry.well")
    assert (entry.username, entry.township_id) == (officer.username, world.township_a.pk)


def test_township_officer_cannot_name_an_owner_outside_their_scope(world, tmp_path):
    path = wells_file(tmp_path, [well("MINE-1", 权属人名称="北留农业合作社")])
    errors = import_workbook(path, user=world.accounts["township"]).errors
    assert [(e.row, e.column) for e in errors] == [(2, "权属人名称")]


def test_township_officer_cannot_import_water_users_of_another_township(world, tmp_path):
    rows = [{"名称": "外乡户", "用水类型": "生活", "乡镇": "北留镇"}]
    path = write_xlsx(tmp_path / "u.xlsx", USER_HEADERS, rows)
    errors = import_workbook(path, user=world.accounts["township"]).errors
    assert [(e.row, e.column) for e in errors] == [(2, "乡镇")]
    assert import_workbook(path, user=world.accounts["bureau"]).created == 1


@pytest.mark.parametrize("role", ["water_user", "inspector", "public"])
def test_roles_that_may_not_add_are_refused(world, tmp_path, role):
    path = wells_file(tmp_path, [well("R-1")])
    with pytest.raises(PermissionDenied):
        import_workbook(path, user=world.accounts[role])
    with pytest.raises(CommandError, match="无权"):
        call_command("import", str(path), as_user=world.accounts[role].username)
    assert not Well.objects.filter(code="R-1").exists()


# --- Files that cannot be imported at all -----------------------------------------------------


def _empty(path: Path) -> Path:
    Workbook().save(path)
    return path


def _text(path: Path) -> Path:
    path.write_text("编号,名称\nW-1,井\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.xlsx", "文件不存在"),
        (lambda p: _text(p / "wells.xlsx"), "不是有效的 Excel"),
        (lambda p: _text(p / "wells.csv"), "不是 .xlsx 文件"),
        (lambda p: _empty(p / "empty.xlsx"), "是空的"),
        (lambda p: write_xlsx(p / "h.xlsx", ["甲", "乙", "丙"], [{"甲": 1}]), "无法识别表头"),
        (lambda p: write_xlsx(p / "h.xlsx", WELL_HEADERS, []), "没有数据行"),
        (lambda p: write_xlsx(p / "h.xlsx", [*WELL_HEADERS, "颜色"], [well("X")]), "颜色"),
        (lambda p: write_xlsx(p / "h.xlsx", WELL_HEADERS[:5], [well("X")]), "井深(m)"),
        (lambda p: write_xlsx(p / "h.xlsx", [*WELL_HEADERS, "编号"], [well("X")]), "两次"),
    ],
    ids=["missing", "not-xlsx", "csv", "empty-sheet", "unknown-headers", "no-rows",
         "extra-column", "missing-column", "repeated-column"],
)  # fmt: skip
def test_unreadable_file_is_one_line_error(world, tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(ImportFileError, match=re.escape(message)):
        import_workbook(path)
    with pytest.raises(CommandError, match=re.escape(message)) as info:
        call_command("import", str(path))
    assert "\n" not in str(info.value)


def test_kind_option_checks_the_headers_against_that_kind(world, tmp_path):
    path = wells_file(tmp_path, [well("K-1")])
    with pytest.raises(ImportFileError, match="取用水户的必填列"):
        import_workbook(path, kind="users")
    assert import_workbook(path, kind="wells").created == 1


def test_detect_kind_accepts_header_variants():
    kind, mapping = detect_kind(
        ["编号", "X（经度/东坐标）", " Y(纬度/北坐标) ", "井深", "含水层", "用途"]
    )
    assert kind == "wells"
    assert sorted(mapping.values()) == sorted(["code", "x", "y", "depth", "layer", "purpose"])
    assert detect_kind(["名称", "用水类型", "所属乡镇"])[0] == "users"


# --- Exports ----------------------------------------------------------------------------------


def _export(client: Client, fmt: str, path: str = "wells") -> Any:
    response = client.get(f"/api/{path}/export", {"format": fmt})
    assert response.status_code == 200, response.content[:300]
    return response


def test_xlsx_export_has_chinese_headers_and_only_rows_in_scope(world):
    ws = load_workbook(io.BytesIO(_export(world.client("township"), "xlsx").content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "名称", "经度", "纬度")
    assert "乡镇" in rows[0] and "状态" in rows[0]
    assert [r[0] for r in rows[1:]] == ["W-A-1"]

    ws = load_workbook(io.BytesIO(_export(world.client("bureau"), "xlsx").content)).worksheets[0]
    assert sorted(r[0] for r in list(ws.iter_rows(values_only=True))[1:]) == ["W-A-1", "W-B-1"]


def test_xlsx_export_of_water_users_is_scoped_too(world):
    body = _export(world.client("township"), "xlsx", "water-users").content
    rows = list(load_workbook(io.BytesIO(body)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:2] == ("名称", "统一社会信用代码")
    assert [r[0] for r in rows[1:]] == ["凤城供水站"]


def test_csv_export_starts_with_a_utf8_bom(world):
    response = _export(world.client("township"), "csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "编号" and [r[0] for r in rows[1:]] == ["W-A-1"]


def test_geojson_export_is_a_feature_collection_of_points(world):
    data = json.loads(_export(world.client("bureau"), "geojson").content)
    assert data["type"] == "FeatureCollection"
    assert {f["properties"]["code"] for f in data["features"]} == {"W-A-1", "W-B-1"}
    assert all(f["geometry"]["type"] == "Point" for f in data["features"])
    a = next(f for f in data["features"] if f["properties"]["code"] == "W-A-1")
    assert a["geometry"]["coordinates"] == pytest.approx([112.417, 35.486])


def test_export_then_import_round_trip(world, tmp_path):
    body = _export(world.client("bureau"), "xlsx").content
    wb = load_workbook(io.BytesIO(body))
    ws = wb.worksheets[0]
    for (cell,) in ws.iter_rows(min_row=2, max_col=1):
        cell.value = f"{cell.value}-copy"
    wb.save(tmp_path / "export.xlsx")
    result = import_workbook(tmp_path / "export.xlsx", user=world.accounts["bureau"])
    assert result.errors == []
    assert result.created == 2
    for original in (world.well_a, world.well_b):
        copy_ = Well.objects.get(code=f"{original.code}-copy")
        fields = ("township_id", "zone_id", "owner_id", "layer", "purpose", "status", "depth_m")
        assert [getattr(copy_, f) for f in fields] == [getattr(original, f) for f in fields]
        assert copy_.lon == pytest.approx(original.lon, abs=1e-6)


# --- The web page -----------------------------------------------------------------------------


@pytest.fixture
def page(settings: Any) -> str:
    """The import page's URL. It extends base.html, which the UI work provides; until it
    exists a stub stands in, in memory and for this test only."""
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    try:
        get_template("base.html")
    except TemplateDoesNotExist:
        templates = copy.deepcopy(settings.TEMPLATES)
        templates[0]["APP_DIRS"] = False
        templates[0]["OPTIONS"]["loaders"] = [
            (
                "django.template.loaders.locmem.Loader",
                {"base.html": "<main>{% block content %}{% endblock %}</main>"},
            ),
            "django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader",
        ]
        settings.TEMPLATES = templates
    return reverse("registry:import")


def upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


def test_import_page_shows_the_form(world, page):
    response = world.client("bureau").get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html and 'name="file"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "?template=wells" in html


def test_import_page_offers_the_templates(world, page):
    response = world.client("township").get(page, {"template": "users"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in ws[1]] == USER_HEADERS


def test_web_import_success(world, page, tmp_path):
    path = wells_file(tmp_path, [well("WEB-1"), well("WEB-2", IN_B)])
    response = world.client("bureau").post(page, {"file": upload(path), "kind": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "已导入 2 条取水井记录" in html and 'id="import-errors"' not in html
    entries = import_entries().filter(object_type="registry.well")
    assert entries.count() == 2 and {e.username for e in entries} == {"bureau"}


def test_web_import_shows_the_error_table_and_writes_nothing(world, page, tmp_path):
    path = wells_file(tmp_path, [well("WEB-1"), well("WEB-2", IN_B)])
    response = world.client("township").post(page, {"file": upload(path), "kind": "wells"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="import-errors"' in html and "已导入" not in html
    assert "<td>3</td>" in html and ">X(经度/东坐标)</td>" in html and "北留镇" in html
    assert not Well.objects.filter(code__startswith="WEB-").exists()


def test_web_import_of_an_unreadable_file_says_why(world, page, tmp_path):
    path = _text(tmp_path / "wells.xlsx")
    response = world.client("bureau").post(page, {"file": upload(path)})
    assert response.status_code == 200
    assert "不是有效的 Excel" in response.content.decode()


@pytest.mark.parametrize("role", ["water_user", "inspector", "public"])
def test_import_page_is_forbidden_to_roles_that_may_not_add(world, page, tmp_path, role):
    client = world.client(role)
    assert client.get(page).status_code == 403
    path = wells_file(tmp_path, [well("WEB-1")])
    assert client.post(page, {"file": upload(path)}).status_code == 403
    assert not Well.objects.filter(code="WEB-1").exists()


def test_import_page_needs_login_and_a_csrf_token(world, page, tmp_path):
    response = Client().get(page)
    assert response.status_code == 302 and "login" in response["Location"]

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.accounts["bureau"])
    path = wells_file(tmp_path, [well("WEB-1")])
    response = client.post(page, {"file": upload(path)})
    assert response.status_code == 403 and b"CSRF" in response.content
    assert not Well.objects.filter(code="WEB-1").exists()


# --- Limits and formulas ----------------------------------------------------------------------


def big_file(path: Path, rows: int) -> Path:
    """A file of ``rows`` one-cell rows under a wells header (streamed: small and quick)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(WELL_HEADERS)
    for i in range(rows):
        ws.append([f"X-{i}"])
    wb.save(path)
    return path


def test_a_huge_sheet_is_refused_at_the_row_limit_naming_it(world, tmp_path):
    import time

    from aquifer.registry.imports import MAX_ROWS

    path = big_file(tmp_path / "huge.xlsx", 120_000)
    started = time.process_time()
    with pytest.raises(ImportFileError, match=f"超过上限 {MAX_ROWS} 行"):
        import_workbook(path, kind="wells")
    # Reading stops at the limit (a full load of this file takes several times longer; the
    # speed target itself is bench/excel_limit.py's)
    assert time.process_time() - started < 30
    assert not Well.objects.filter(code__startswith="X-").exists()


def test_a_formula_cell_is_refused_naming_its_row_and_column(world, tmp_path):
    path = wells_file(tmp_path, [well("F-1"), well("F-2", **{"井深(m)": "=100+50"})])
    with pytest.raises(ImportFileError) as err:
        import_workbook(path, kind="wells")
    assert "第 3 行第 F 列是公式" in str(err.value) and "不接受公式" in str(err.value)
    assert not Well.objects.filter(code__startswith="F-").exists()
