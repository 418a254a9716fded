"""The extension points supervision declares for the apps above it (core/hooks.py).

* :data:`finding_recorded` — asked after an inspection finding is recorded, with the
  finding and the user, for apps above supervision. Answers are ignored; nobody answering
  is fine. (Enforcement lies below supervision: a finding opens a case by calling it,
  ``services.open_case_from_finding``, not through this hook.)
* :data:`complaints_on_time` — asked by the assessment for the ``complaints_on_time``
  indicator with the year; the public/complaints app (not in this tree) answers a dict
  ``{township_id: (answered_on_time, due, evidence_ids)}``. Unanswered, the indicator has
  no value and scores nothing (it is left out of the default method).
"""

from __future__ import annotations

from typing import Any

from aquifer.core.hooks import Hook

__all__ = ["complaints_on_time", "finding_recorded"]

finding_recorded: Hook[Any] = Hook(
    "supervision.finding_recorded", "An inspection finding was recorded (finding, by)."
)
complaints_on_time: Hook[dict[int, tuple[int, int, list[int]]]] = Hook(
    "supervision.complaints_on_time",
    "Complaints answered on time per township for a year: {township_id: (on_time, due, ids)}.",
)
