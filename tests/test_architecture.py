"""The house's rules that the import graph alone does not show (the layers themselves are
import-linter's contracts in pyproject.toml, run by the test command as ``lint-imports``)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

from django.apps import apps

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "aquifer"


def _contract(contract_id: str) -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == contract_id]
    return contract


def _app_of(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def _imports_in_functions(source: str, app: str) -> list[tuple[int, str]]:
    """(line, module) of each import of an Aquifer app other than ``app`` made inside a
    function of ``source``."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if in_function and isinstance(child, ast.Import | ast.ImportFrom):
                if isinstance(child, ast.ImportFrom):
                    modules = [child.module] if child.level == 0 and child.module else []
                else:
                    modules = [a.name for a in child.names]
                for module in modules:
                    parts = module.split(".")
                    if parts[0] == "aquifer" and len(parts) > 1 and parts[1] != app:
                        found.append((child.lineno, module))
            visit(child, inside)

    visit(ast.parse(source), False)
    return found


def test_no_app_imports_another_inside_a_function() -> None:
    """An import placed in a function to dodge a cycle hides an upward dependency from the
    layer contracts' reader; the apps' ``ready()`` (apps.py), where Django wants hooks
    registered, is the one place for it."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted(SRC.rglob("*.py"))
        if "migrations" not in path.parts and path.name != "apps.py"
        for line, module in _imports_in_functions(path.read_text(encoding="utf-8"), _app_of(path))
    ]
    assert offenders == []


def test_the_scan_finds_an_import_in_a_function() -> None:
    """The scan above is not vacuous: it sees an import of another app inside a function,
    nested or not, and lets its own app's and top-level imports be."""
    source = (
        "from aquifer.core import audit\n"
        "def f():\n"
        "    from aquifer.permits import services\n"
        "    from aquifer.registry import spatial\n"
        "    def g():\n"
        "        import aquifer.telemetry.store\n"
    )
    assert _imports_in_functions(source, "registry") == [
        (3, "aquifer.permits"),
        (6, "aquifer.telemetry.store"),
    ]


def test_every_app_has_its_layer() -> None:
    """A new app must be placed in the layers before it can be installed."""
    layered = {
        name.strip()
        for layer in _contract("layers")["layers"]
        for name in layer.replace(":", "|").split("|")
    }
    installed = {c.name for c in apps.get_app_configs() if c.name.startswith("aquifer.")}
    assert installed - layered == set()
    missing = [
        name
        for name in layered
        if not (SRC / name.split(".")[1]).is_dir()
        and not (SRC / f"{name.split('.')[1]}.py").is_file()
    ]
    assert missing == []


def test_installed_apps_are_listed_in_layer_order() -> None:
    """settings.INSTALLED_APPS lists Aquifer's apps lowest layer first, as the contract does
    highest first (so ``ready()`` runs in layer order)."""
    order = [
        name.strip()
        for layer in reversed(_contract("layers")["layers"])
        for name in layer.replace(":", "|").split("|")
    ]
    rank = {name: order.index(name) for name in order}
    installed = [c.name for c in apps.get_app_configs() if c.name in rank]
    assert installed == sorted(installed, key=rank.__getitem__)


def test_hooks_are_answered_by_the_apps_above() -> None:
    """The lower apps' hooks have their higher apps' functions once Django is ready."""
    from aquifer.accounting import hooks as accounting_hooks
    from aquifer.monitoring.sweeps import report_device_status
    from aquifer.permits import quotas, services
    from aquifer.registry.hooks import well_activation
    from aquifer.telemetry.hooks import device_status

    assert well_activation.functions == (services.activation_objections,)
    assert device_status.functions == (report_device_status,)
    assert accounting_hooks.well_quota_shares.functions == (quotas.well_quota_shares,)
    assert accounting_hooks.user_groundwater_quotas.functions == (quotas.user_groundwater_quotas,)


def test_a_hook_registers_once_and_keeps_order() -> None:
    from aquifer.core.hooks import Hook

    hook: Hook[int] = Hook("test.hook")
    assert hook(1) == []

    def one(x: int) -> int:
        return x

    def two(x: int) -> int:
        return 2 * x

    hook.register(two)
    hook.register(one)
    hook.register(two)
    assert hook(3) == [6, 3]
    hook.unregister(two)
    assert hook(3) == [3]
