"""Refusing an oversized Excel upload: CPU seconds and peak memory until the refusal.

Builds (streamed, in a temporary folder) a workbook of one-cell rows under a wells header —
by default 300,000 rows, about 2.3 MB — and measures reading it for the registry import:

- ``baseline``: a full, non-read-only ``load_workbook`` and reading every row (how the
  import read files before; measured in the same run, on the same file);
- ``after``: the import's reader (``aquifer.registry.imports``), which streams in read-only
  mode and stops at the row limit with its refusal.

CPU seconds are ``time.process_time`` of a plain run; peak MB is ``tracemalloc``'s peak of a
second run. ``meets_target``: the refusal takes at most half the baseline's CPU and under
64 MB (the issue measured 8 s and 128 MB before a refusal). Most of what is left is openpyxl
parsing the XML of the rows up to the limit and the workbook's shared strings.

    python bench/excel_limit.py [--quick] [--rows N]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common

HEADERS = ["编号", "名称", "X(经度/东坐标)", "Y(纬度/北坐标)", "井深(m)", "含水层", "用途"]


def build(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADERS)
    for i in range(rows):
        ws.append([f"X-{i}"])
    wb.save(path)


def measure(fn: Callable[[], Any]) -> dict[str, float]:
    started = time.process_time()
    fn()
    cpu = time.process_time() - started
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"cpu_seconds": round(cpu, 2), "peak_mb": round(peak / 2**20, 1)}


def main() -> None:
    p = _common.parser(__doc__, dbs=("sqlite",), quick="100,000 rows instead of 300,000")
    p.add_argument("--rows", type=int, default=None)
    args = p.parse_args()
    rows = args.rows or (100_000 if args.quick else 300_000)
    wall0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aquifer.config.settings")
        os.environ.setdefault("AQUIFER_DATA_DIR", tmp)
        import django

        django.setup()
        from openpyxl import load_workbook

        from aquifer.registry.imports import MAX_ROWS, ImportFileError
        from aquifer.registry.imports.reading import _read

        path = Path(tmp) / "huge.xlsx"
        build(path, rows)

        def full_load() -> None:
            wb = load_workbook(path, data_only=True)
            list(wb.worksheets[0].iter_rows(values_only=True))
            wb.close()

        refusal = ""

        def import_reader() -> None:
            nonlocal refusal
            try:
                _read(path)
            except ImportFileError as exc:
                refusal = str(exc)

        baseline, after = measure(full_load), measure(import_reader)
        out = {
            "bench": "excel_limit",
            "quick": args.quick,
            "rows": rows,
            "file_mb": round(path.stat().st_size / 2**20, 2),
            "row_limit": MAX_ROWS,
            "baseline": baseline,
            "after": after,
            "refused": bool(refusal),
            "refusal": refusal,
            "meets_target": bool(refusal)
            and after["cpu_seconds"] <= baseline["cpu_seconds"] / 2
            and after["peak_mb"] < 64,
            **_common.machine(wall0),
        }
    json.dump(out, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
