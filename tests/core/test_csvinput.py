"""The shared CSV reader of the file-based commands (market, quality, trend)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management.base import CommandError
from django.utils import translation

from aquifer.core.csvinput import read_rows, row_error


def _file(tmp_path: Path, text: str, encoding: str = "utf-8") -> str:
    p = tmp_path / "in.csv"
    p.write_bytes(text.encode(encoding))
    return str(p)


def test_rows_come_with_line_numbers_and_stripped_header(tmp_path: Path) -> None:
    path = _file(tmp_path, "\ufeff a , b\n1,2\n3,4\n")
    rows = list(read_rows(path, ("a", "b")))
    assert rows == [(2, {"a": "1", "b": "2"}), (3, {"a": "3", "b": "4"})]


def test_short_and_long_rows_are_kept_as_dictreader_gives_them(tmp_path: Path) -> None:
    path = _file(tmp_path, "a,b\n1\n1,2,3\n")
    rows = list(read_rows(path, ("a",)))
    assert rows[0] == (2, {"a": "1", "b": None})
    assert rows[1][1][None] == ["3"]


def test_missing_column_is_an_error_on_line_1_before_any_row(tmp_path: Path) -> None:
    path = _file(tmp_path, "a\n1\n")
    with translation.override("zh-hans"), pytest.raises(CommandError) as err:
        read_rows(path, ("a", "b"))
    assert str(err.value) == "第 1 行：缺少列 “b”"


@pytest.mark.parametrize("make", ["missing", "not-utf8"])
def test_unreadable_file_names_the_path(tmp_path: Path, make: str) -> None:
    path = (
        str(tmp_path / "nope.csv") if make == "missing" else _file(tmp_path, "a\n\xe9\n", "latin-1")
    )
    with translation.override("zh-hans"), pytest.raises(CommandError) as err:
        read_rows(path, ("a",))
    assert str(err.value).startswith(f"无法读取文件 {path}：")


def test_row_error_names_row_and_column() -> None:
    with translation.override("zh-hans"):
        assert str(row_error(7, "price", "不是数字")) == "第 7 行，列 “price”：不是数字"


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    assert list(read_rows(_file(tmp_path, "a,b\n"), ("a", "b"))) == []
