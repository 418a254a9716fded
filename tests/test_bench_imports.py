"""Every name a benchmark imports from Aquifer exists (a module split once broke
bench/excel_limit.py silently: its imports sit inside main(), after Django starts)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _imports() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aquifer"):
                found += [(path.name, node.module or "", alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [
                    (path.name, alias.name, "")
                    for alias in node.names
                    if alias.name.startswith("aquifer")
                ]
    return found


@pytest.mark.parametrize(("bench", "module", "name"), _imports())
def test_bench_imports_resolve(bench: str, module: str, name: str) -> None:
    imported = importlib.import_module(module)
    if name and not hasattr(imported, name):
        importlib.import_module(f"{module}.{name}")  # a submodule imported by name
