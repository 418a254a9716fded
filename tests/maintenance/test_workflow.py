"""The pure state machine and the duration summary."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aquifer.maintenance import workflow
from aquifer.maintenance.workflow import TransitionError, next_state, summarize


def test_happy_path() -> None:
    s = "new"
    for action, expected in [
        ("assign", "assigned"),
        ("assign", "assigned"),
        ("start", "in_progress"),
        ("note", "in_progress"),
        ("assign", "in_progress"),
        ("close", "closed"),
        ("reopen", "assigned"),
        ("cancel", "cancelled"),
    ]:
        s = next_state(s, action)
        assert s == expected


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("new", "start"),
        ("new", "close"),
        ("closed", "assign"),
        ("cancelled", "reopen"),
        ("cancelled", "note"),
        ("assigned", "reopen"),
        ("bogus", "note"),
        ("new", "fly"),
    ],
)
def test_refused(state: str, action: str) -> None:
    with pytest.raises(TransitionError):
        next_state(state, action)


@given(st.lists(st.sampled_from(sorted(workflow.ACTIONS)), max_size=30))
def test_any_sequence_stays_in_known_states(actions: list[str]) -> None:
    s = "new"
    for a in actions:
        if a in workflow.allowed_actions(s):
            s = next_state(s, a)
        else:
            with pytest.raises(TransitionError):
                next_state(s, a)
        assert s in workflow.STATES
    # a cancelled ticket is final
    if s == "cancelled":
        assert workflow.allowed_actions(s) == []


def test_summarize() -> None:
    assert summarize([]).n == 0 and summarize([]).median_h is None
    s = summarize([3600, 7200, 10800, 36000])
    assert s.n == 4
    assert s.median_h == pytest.approx(2.5)
    assert s.p90_h == pytest.approx(10.0)
    assert s.mean_h == pytest.approx(4.0)


@given(st.lists(st.floats(min_value=0, max_value=1e7), min_size=1, max_size=50))
def test_summary_bounds(values: list[float]) -> None:
    s = summarize(values)
    lo, hi = min(values) / 3600, max(values) / 3600
    assert s.median_h is not None and s.p90_h is not None and s.mean_h is not None
    assert lo - 1e-9 <= s.median_h <= s.p90_h + 1e-9 <= hi + 2e-9
    assert lo - 1e-9 <= s.mean_h <= hi + 1e-9
