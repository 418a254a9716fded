"""The registry's hooks (:mod:`aquifer.core.hooks`): what it asks of the apps above it."""

from __future__ import annotations

from aquifer.core.hooks import Hook

__all__ = ["well_activation"]

#: Called with a well whose status is about to become ``active``; each function returns the
#: reasons (sentences in the active language, with their sources) it refuses, or none. The
#: permits rule engine answers (zones, emergency windows, the Yellow River suspension).
well_activation: Hook[list[str]] = Hook("registry.well_activation")
