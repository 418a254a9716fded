"""The closure app's hooks (:mod:`aquifer.core.hooks`): what it tells the apps above it."""

from __future__ import annotations

from typing import Any

from aquifer.core.hooks import Hook

__all__ = ["closed_well_withdrawal"]

#: Called with the programme entry and the open ``closed_well_withdrawal`` alarm when the
#: closed-well check finds a closed well drawing water (each run while it lasts). The
#: enforcement app may answer by opening a case (its answer is ignored here); nobody answers
#: until it lands.
closed_well_withdrawal: Hook[Any] = Hook("closure.closed_well_withdrawal")
