"""Who may do what in township supervision ("Roles and scoping").

* Plans: a township officer sees and edits their own township's plan; the bureau decides
  (``decide``); inspectors read every plan.
* Targets and the scoring method: the bureau sets them; a township sees its own targets.
* Scores: a township sees its own score at any time and the others' once the bureau publishes
  the ranking; the public and water users see published results; the bureau scores
  (``Assessment`` ``score``) and adjusts (``adjust``).
* Inspections and findings: the bureau and inspectors record them; the township and the
  water user inspected see theirs. Orders: issued (``issue``) and verified (``verify``) by
  the bureau and inspectors, answered (``answer``) by the township or the water user named.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from aquifer.core.policies import (
    ALL,
    OWN,
    OWN_TOWNSHIP,
    SIGNED_IN,
    STAFF,
    Role,
    capability,
    model_policy,
    routes,
    when,
)
from aquifer.supervision.models import (
    Accountability,
    Assessment,
    Finding,
    Inspection,
    PlanTask,
    PlanVersion,
    Rectification,
    RectificationEvent,
    Score,
    ScoreAdjustment,
    ScoringMethod,
    Target,
    WorkPlan,
)


def _published_score(obj: Any) -> bool:
    return obj.assessment.published_at is not None


PUBLISHED = when(
    lambda u: True,
    lambda u: Q(assessment__published_at__isnull=False),
    lambda u, obj: _published_score(obj),
)
PUBLISHED_ADJ = when(
    lambda u: True,
    lambda u: Q(score__assessment__published_at__isnull=False),
    lambda u, obj: _published_score(obj.score),
)
TOWNSHIP_STAFF = {Role.BUREAU: ALL, Role.INSPECTOR: ALL, Role.TOWNSHIP: OWN_TOWNSHIP}
RECORDERS = {Role.BUREAU: ALL, Role.INSPECTOR: ALL}
INSPECTED = {**TOWNSHIP_STAFF, Role.WATER_USER: OWN}

model_policy(WorkPlan, view=TOWNSHIP_STAFF, decide={Role.BUREAU: ALL})
model_policy(PlanTask, view=TOWNSHIP_STAFF)
model_policy(PlanVersion, view=TOWNSHIP_STAFF)
model_policy(
    Target,
    view=TOWNSHIP_STAFF,
    add={Role.BUREAU: ALL},
    change={Role.BUREAU: ALL},
)
model_policy(ScoringMethod, view={r: ALL for r in STAFF}, add={Role.BUREAU: ALL})
model_policy(Assessment, score={Role.BUREAU: ALL})
model_policy(
    Score,
    view={
        Role.BUREAU: ALL,
        Role.INSPECTOR: ALL,
        Role.TOWNSHIP: OWN_TOWNSHIP | PUBLISHED,
        Role.WATER_USER: PUBLISHED,
        Role.PUBLIC: PUBLISHED,
    },
    adjust={Role.BUREAU: ALL},
    add={Role.BUREAU: ALL},
    change={Role.BUREAU: ALL},
)
model_policy(
    ScoreAdjustment,
    view={
        Role.BUREAU: ALL,
        Role.INSPECTOR: ALL,
        Role.TOWNSHIP: OWN_TOWNSHIP | PUBLISHED_ADJ,
    },
)
model_policy(Inspection, view=INSPECTED, add=RECORDERS, change=RECORDERS)
model_policy(Finding, view=INSPECTED, add=RECORDERS, change=RECORDERS)
model_policy(
    Rectification,
    view=INSPECTED,
    issue=RECORDERS,
    verify=RECORDERS,
    answer={Role.BUREAU: ALL, Role.TOWNSHIP: OWN_TOWNSHIP, Role.WATER_USER: OWN},
    add=RECORDERS,
    change=RECORDERS,
)
model_policy(RectificationEvent, view=INSPECTED)
model_policy(Accountability, view=TOWNSHIP_STAFF)

#: The supervision pages of plans, targets and inspections: the government's people.
capability("supervision.staff", *STAFF)
#: The assessment pages (ranking, reports): everyone; what they show follows Score's policy.
capability("supervision.results", *SIGNED_IN, Role.PUBLIC)
#: Inspections and orders: staff and water users (their own).
capability("supervision.orders", *SIGNED_IN)


# The home page's figures (core/morning.py, this app's morning.py): who sees which.
capability("supervision.morning", Role.BUREAU, Role.TOWNSHIP)  # overdue rectification orders
capability("supervision.morning_ranking", Role.BUREAU)  # the township ranking
capability("supervision.morning_township", Role.TOWNSHIP)  # its score and work plan

routes(
    {
        "supervision:index": "supervision.staff",
        "supervision:plan_detail": ("supervision.workplan", "view"),
        "supervision:plan_act": ("supervision.workplan", "view"),
        "supervision:targets": "supervision.staff",
        "supervision:assessment": "supervision.results",
        "supervision:assessment_township": "supervision.results",
        "supervision:assessment_pdf": "supervision.results",
        "supervision:evidence": "supervision.results",
        "supervision:inspection_list": "supervision.orders",
        "supervision:inspection_detail": ("supervision.inspection", "view"),
        "supervision:order_detail": ("supervision.rectification", "view"),
        "supervision:order_act": ("supervision.rectification", "view"),
        "supervision_plan_list": ("supervision.workplan", "view"),
        "supervision_plan_create": ("supervision.workplan", "add"),
        "supervision_plan_read": ("supervision.workplan", "view"),
        "supervision_plan_task_add": ("supervision.workplan", "view"),
        "supervision_plan_act": ("supervision.workplan", "view"),
        "supervision_task_progress": ("supervision.plantask", "view"),
        "supervision_target_list": ("supervision.target", "view"),
        "supervision_target_set": ("supervision.target", "add"),
        "supervision_target_defaults": ("supervision.target", "add"),
        "supervision_method_list": ("supervision.scoringmethod", "view"),
        "supervision_method_add": ("supervision.scoringmethod", "add"),
        "supervision_assessment_read": "supervision.results",
        "supervision_assessment_act": ("supervision.assessment", "score"),
        "supervision_assessment_export": "supervision.results",
        "supervision_score_evidence": "supervision.results",
        "supervision_score_adjust": ("supervision.score", "adjust"),
        "supervision_inspection_list": ("supervision.inspection", "view"),
        "supervision_inspection_create": ("supervision.inspection", "add"),
        "supervision_inspection_read": ("supervision.inspection", "view"),
        "supervision_finding_add": ("supervision.inspection", "view"),
        "supervision_finding_case": ("enforcement.case", "open"),
        "supervision_order_list": ("supervision.rectification", "view"),
        "supervision_order_issue": ("supervision.finding", "view"),
        "supervision_finding_files": ("supervision.finding", "view"),
        "supervision_order_evidence": ("supervision.rectification", "view"),
        "supervision_order_read": ("supervision.rectification", "view"),
        "supervision_order_act": ("supervision.rectification", "view"),
        "supervision_accountability_list": ("supervision.accountability", "view"),
    }
)
