"""Recovery classes as the Water Resources Bulletin reports level change (pure, no Django).

A level change (metres, positive = the water level rose) against the same period falls in one
of four classes: 上升 (rise ≥ ``rise_m``), 弱上升 (0 ≤ rise < ``rise_m``), 弱下降
(−``fall_m`` < rise < 0), 下降 (rise ≤ −``fall_m``). The bounds are settings
(``AQUIFER["CLOSURE"]["RECOVERY_RISE_M"]`` and ``["RECOVERY_FALL_M"]``), UNCONFIRMED: the
bulletin's own bounds are not in the sources we hold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum

__all__ = ["RecoveryClass", "classify", "mean_change", "rise"]


class RecoveryClass(StrEnum):
    RISE = "rise"  # 上升
    SLIGHT_RISE = "slight_rise"  # 弱上升
    SLIGHT_FALL = "slight_fall"  # 弱下降
    FALL = "fall"  # 下降


def classify(change_m: float | None, rise_m: float, fall_m: float) -> RecoveryClass | None:
    """The class of a level change (None: no change known)."""
    if rise_m <= 0 or fall_m <= 0:
        raise ValueError("class bounds must be positive")
    if change_m is None or not math.isfinite(change_m):
        return None
    if change_m >= rise_m:
        return RecoveryClass.RISE
    if change_m >= 0:
        return RecoveryClass.SLIGHT_RISE
    if change_m > -fall_m:
        return RecoveryClass.SLIGHT_FALL
    return RecoveryClass.FALL


def rise(before: float | None, after: float | None, value_is: str) -> float | None:
    """The rise of the water level from ``before`` to ``after`` (values as measured: depth to
    water, where a smaller depth is a rise, or water level)."""
    if before is None or after is None or not (math.isfinite(before) and math.isfinite(after)):
        return None
    return before - after if value_is == "depth" else after - before


def mean_change(changes: Sequence[float | None]) -> float | None:
    """The mean of the known changes (None when none is known)."""
    known = [c for c in changes if c is not None and math.isfinite(c)]
    return sum(known) / len(known) if known else None
