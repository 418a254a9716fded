"""Export any list the user can see as Excel (.xlsx), CSV or GeoJSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

__all__ = ["export_response", "rows", "write_csv", "write_xlsx"]

Column = tuple[str, str, Callable[[Any], Any]]

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
}


_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def _cell(value: Any) -> Any:
    """A value safe to put in a spreadsheet cell.

    Text that a spreadsheet would run as a formula (starting with = + - @, or a tab or carriage
    return before one) is prefixed with an apostrophe (OWASP's advice against CSV/formula
    injection); control characters that .xlsx cannot hold are dropped.
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value).translate(_CONTROL)
    if text and text.lstrip("\t\r")[:1] in ("=", "+", "-", "@"):
        text = "'" + text
    return text


def rows(objects: Iterable[Any], columns: list[Column]) -> Iterable[list[Any]]:
    for obj in objects:
        yield [_cell(get(obj)) for _key, _header, get in columns]


def write_xlsx(objects: Iterable[Any], columns: list[Column], sheet: str = "data") -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    ws.append([str(header) for _key, header, _get in columns])
    for row in rows(objects, columns):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_csv(objects: Iterable[Any], columns: list[Column]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([str(header) for _key, header, _get in columns])
    writer.writerows(rows(objects, columns))
    # A byte-order mark, so that Excel on a Chinese Windows opens UTF-8 correctly.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def geojson_collection(
    objects: Iterable[Any], geojson: Callable[[Any], dict[str, Any] | None], columns: list[Column]
) -> dict[str, Any]:
    features = []
    for obj in objects:
        geometry = geojson(obj)
        if geometry is None:
            continue
        props = {key: _cell(get(obj)) for key, _header, get in columns}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def export_response(
    objects: Iterable[Any],
    columns: list[Column],
    fmt: str,
    filename: str,
    geojson: Callable[[Any], dict[str, Any] | None] | None = None,
) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"{filename}-{stamp}.{fmt}"
    if fmt == "xlsx":
        body = write_xlsx(objects, columns, sheet=filename)
    elif fmt == "csv":
        body = write_csv(objects, columns)
    elif fmt == "geojson":
        if geojson is None:
            return JsonResponse({"detail": _("此列表没有位置，不能导出为 GeoJSON。")}, status=422)
        body = json.dumps(geojson_collection(objects, geojson, columns), ensure_ascii=False).encode(
            "utf-8"
        )
    else:
        return JsonResponse({"detail": _("不支持的导出格式：%s") % fmt}, status=422)
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
