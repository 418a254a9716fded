"""The maintenance ticket's state machine and its figures: plain Python, no Django.

States and the actions that move a ticket between them::

    new ──assign──> assigned ──start──> in_progress ──close──> closed
     │                 │  ↺ assign          │  ↺ assign            │
     └──cancel──> cancelled <──cancel───────┘                      └──reopen──> assigned

``note`` adds to the timeline without changing the state (any state but cancelled).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ACTIONS",
    "CLOSED_STATES",
    "OPEN_STATES",
    "STATES",
    "DurationStats",
    "TransitionError",
    "allowed_actions",
    "next_state",
    "summarize",
]

NEW, ASSIGNED, IN_PROGRESS, CLOSED, CANCELLED = (
    "new",
    "assigned",
    "in_progress",
    "closed",
    "cancelled",
)
STATES: tuple[str, ...] = (NEW, ASSIGNED, IN_PROGRESS, CLOSED, CANCELLED)
OPEN_STATES: tuple[str, ...] = (NEW, ASSIGNED, IN_PROGRESS)
CLOSED_STATES: tuple[str, ...] = (CLOSED, CANCELLED)

#: action -> (states it may start from, the state it leads to; None keeps the state)
ACTIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "assign": (frozenset({NEW, ASSIGNED, IN_PROGRESS}), None),
    "start": (frozenset({ASSIGNED}), IN_PROGRESS),
    "note": (frozenset({NEW, ASSIGNED, IN_PROGRESS, CLOSED}), None),
    "close": (frozenset({ASSIGNED, IN_PROGRESS}), CLOSED),
    "cancel": (frozenset({NEW, ASSIGNED, IN_PROGRESS}), CANCELLED),
    "reopen": (frozenset({CLOSED}), ASSIGNED),
}


class TransitionError(ValueError):
    """The action is not allowed from the ticket's state."""

    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"action {action!r} is not allowed in state {state!r}")
        self.state = state
        self.action = action


def next_state(state: str, action: str) -> str:
    """The state after ``action``; raises :class:`TransitionError` when it is not allowed.

    ``assign`` moves a new ticket to ``assigned`` and keeps an assigned or in-progress one
    where it is (a reassignment).
    """
    if state not in STATES:
        raise TransitionError(state, action)
    entry = ACTIONS.get(action)
    if entry is None or state not in entry[0]:
        raise TransitionError(state, action)
    target = entry[1]
    if action == "assign" and state == NEW:
        return ASSIGNED
    return state if target is None else target


def allowed_actions(state: str) -> list[str]:
    """The actions possible from ``state``, in the order of :data:`ACTIONS`."""
    return [a for a, (sources, _) in ACTIONS.items() if state in sources]


@dataclass(frozen=True)
class DurationStats:
    """Durations in hours: how many, mean, median, 90th percentile (nearest rank)."""

    n: int
    mean_h: float | None
    median_h: float | None
    p90_h: float | None


def summarize(seconds: Sequence[float]) -> DurationStats:
    """Summary of durations given in seconds, reported in hours (None when there are none).

    The median is the middle value (mean of the two middle ones for an even count); the 90th
    percentile is the nearest-rank value ``sorted[ceil(0.9 n) - 1]``.
    """
    values = sorted(s / 3600.0 for s in seconds)
    n = len(values)
    if n == 0:
        return DurationStats(0, None, None, None)
    mid = n // 2
    median = values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2
    p90 = values[max(math.ceil(0.9 * n) - 1, 0)]
    return DurationStats(n, sum(values) / n, median, p90)
