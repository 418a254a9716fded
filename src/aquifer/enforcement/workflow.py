"""The administrative penalty procedure as a state machine. Pure: no Django.

open (线索) → filed (立案) → investigated (调查终结) → noticed (事先告知) → decided (处罚决定)
→ executed (执行完毕) → closed (结案). A case may be dismissed (不予立案 / 撤销) before the
decision. ``statement`` (the party's statement or hearing) and ``evidence`` are steps that do
not move the state.
"""

from __future__ import annotations

__all__ = ["NEXT", "OPEN_STATES", "StepError", "allowed_steps", "next_state"]

OPEN = "open"
FILED = "filed"
INVESTIGATED = "investigated"
NOTICED = "noticed"
DECIDED = "decided"
EXECUTED = "executed"
CLOSED = "closed"
DISMISSED = "dismissed"

#: step → (states it may be taken in, the state after it; None: unchanged)
NEXT: dict[str, tuple[frozenset[str], str | None]] = {
    "file": (frozenset({OPEN}), FILED),
    "investigate": (frozenset({FILED}), INVESTIGATED),
    "notice": (frozenset({INVESTIGATED}), NOTICED),
    "statement": (frozenset({NOTICED}), None),
    "decide": (frozenset({NOTICED}), DECIDED),
    "execute": (frozenset({DECIDED}), EXECUTED),
    "close": (frozenset({EXECUTED}), CLOSED),
    "dismiss": (frozenset({OPEN, FILED, INVESTIGATED, NOTICED}), DISMISSED),
}

OPEN_STATES = frozenset({OPEN, FILED, INVESTIGATED, NOTICED, DECIDED, EXECUTED})


class StepError(ValueError):
    """A step the case's state does not allow."""


def allowed_steps(state: str) -> list[str]:
    return [step for step, (states, _) in NEXT.items() if state in states]


def next_state(state: str, step: str) -> str:
    if step not in NEXT:
        raise StepError(f"unknown step {step!r}")
    states, after = NEXT[step]
    if state not in states:
        raise StepError(f"step {step!r} not allowed in state {state!r}")
    return after or state
