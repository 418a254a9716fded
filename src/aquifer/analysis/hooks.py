"""Hooks the analysis app declares for the apps above it (core/hooks.py)."""

from __future__ import annotations

from typing import Any

from aquifer.core.hooks import Hook

__all__ = ["quality_warning_sources"]

#: ``fn(well) -> list of {"id", "name", "kind", "distance_m"}``: the registered pollution
#: sources near a monitoring well whose sample raises a quality warning (answered by
#: enforcement); the warning names them.
quality_warning_sources: Hook[list[dict[str, Any]]] = Hook("quality_warning_sources")
