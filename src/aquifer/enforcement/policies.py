"""Who may do what in enforcement ("Roles and scoping").

Cases: the bureau everything; inspectors see and work cases county-wide; township officers
see their township's cases and open cases there (from their patrols); a water user sees its
own cases once decided. Approvals (filing, decision, dismissal) are the bureau's.
Credit records: staff as scoped, a water user its own, everybody the final ones.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from aquifer.core.policies import (
    ALL,
    OWN,
    OWN_TOWNSHIP,
    STAFF,
    Role,
    capability,
    model_policy,
    routes,
    when,
)
from aquifer.enforcement.models import (
    Case,
    CaseStep,
    CreditRecord,
    ElectricityMonth,
    Evidence,
    PollutionSource,
    PumpCoefficient,
    SourceInspection,
)


def _decided_own(user: Any) -> Q:
    return Q(owner_id=getattr(user, "water_user_id", None), decided_at__isnull=False)


def _decided_own_test(user: Any, case: Any) -> bool:
    wid = getattr(user, "water_user_id", None)
    return wid is not None and case.owner_id == wid and case.decided_at is not None


OWN_DECISIONS = when(lambda u: True, _decided_own, _decided_own_test)


def _final(user: Any) -> Q:
    return Q(final_on__lte=timezone.localdate())


FINAL = when(lambda u: True, _final, lambda u, r: r.is_final)

_CASE_VIEW = {
    Role.BUREAU: ALL,
    Role.INSPECTOR: ALL,
    Role.TOWNSHIP: OWN_TOWNSHIP,
    Role.WATER_USER: OWN_DECISIONS,
}
model_policy(
    Case,
    view=_CASE_VIEW,
    history={Role.BUREAU: ALL, Role.INSPECTOR: ALL, Role.TOWNSHIP: OWN_TOWNSHIP},
    add={Role.BUREAU: ALL},
    change={Role.BUREAU: ALL},
    open={Role.BUREAU: ALL, Role.INSPECTOR: ALL, Role.TOWNSHIP: OWN_TOWNSHIP},
    work={Role.BUREAU: ALL, Role.INSPECTOR: ALL},
    approve={Role.BUREAU: ALL},
)
_STEP_VIEW = {Role.BUREAU: ALL, Role.INSPECTOR: ALL, Role.TOWNSHIP: OWN_TOWNSHIP}
model_policy(CaseStep, view=_STEP_VIEW)
model_policy(Evidence, view=_STEP_VIEW)
model_policy(ElectricityMonth)
model_policy(PumpCoefficient)
model_policy(
    PollutionSource,
    add={Role.BUREAU: ALL, Role.INSPECTOR: ALL},
    change={Role.BUREAU: ALL, Role.INSPECTOR: ALL},
    inspect={Role.BUREAU: ALL, Role.INSPECTOR: ALL, Role.TOWNSHIP: OWN_TOWNSHIP},
)
model_policy(SourceInspection)
model_policy(
    CreditRecord,
    view={
        Role.BUREAU: ALL,
        Role.INSPECTOR: ALL,
        Role.TOWNSHIP: OWN_TOWNSHIP | FINAL,
        Role.WATER_USER: OWN | FINAL,
        Role.PUBLIC: FINAL,
    },
)

#: The case board and the pollution-source register: the government's people.
capability("enforcement.staff", *STAFF)
#: A water user's own decisions, and the staff's boards.
capability("enforcement.cases", *STAFF, Role.WATER_USER)
#: The metering compliance list and 以电折水: staff.
capability("enforcement.metering", *STAFF)
#: Every township's metering list (county-wide roles).
capability("enforcement.all_townships", Role.BUREAU, Role.INSPECTOR)
#: Importing electricity statements, fitting coefficients, raising compliance alarms: bureau.
capability("enforcement.metering_admin", Role.BUREAU)
#: The public credit list: everybody, anonymous included.
capability("enforcement.credit_public", *Role)


# The home page's figures (core/morning.py, this app's morning.py): who sees which.
capability("enforcement.morning", Role.INSPECTOR, Role.BUREAU)  # cases by deadline
capability("enforcement.morning_steps", Role.INSPECTOR)  # open cases by step

routes(
    {
        "enforcement:case_list": "enforcement.cases",
        "enforcement:case_new": ("enforcement.case", "open"),
        "enforcement:case_detail": ("enforcement.case", "view"),
        "enforcement:case_step": ("enforcement.case", "view"),
        "enforcement:case_evidence": ("enforcement.case", "view"),
        "enforcement:case_frames": ("enforcement.case", "view"),
        "enforcement:case_document": ("enforcement.case", "view"),
        "enforcement:case_from_alarm": ("monitoring.alarm", "view"),
        "enforcement:case_from_patrol": ("maintenance.patrol", "view"),
        "enforcement:metering": "enforcement.metering",
        "enforcement:electricity": "enforcement.metering",
        "enforcement:source_list": "enforcement.staff",
        "enforcement:source_detail": ("enforcement.pollutionsource", "view"),
        "enforcement:source_edit": ("enforcement.pollutionsource", "view"),
        "enforcement:credit": "enforcement.credit_public",
        "enforcement_case_list": ("enforcement.case", "view"),
        "enforcement_case_export": ("enforcement.case", "view"),
        "enforcement_case_create": ("enforcement.case", "open"),
        "enforcement_case_from_alarm": ("monitoring.alarm", "view"),
        "enforcement_case_from_patrol": ("maintenance.patrol", "view"),
        "enforcement_case_read": ("enforcement.case", "view"),
        "enforcement_case_step": ("enforcement.case", "view"),
        "enforcement_case_evidence": ("enforcement.case", "view"),
        "enforcement_case_attach": ("enforcement.case", "view"),
        "enforcement_case_attach_frames": ("enforcement.case", "view"),
        "enforcement_metering_list": "enforcement.metering",
        "enforcement_metering_export": "enforcement.metering",
        "enforcement_electricity_import": "enforcement.metering_admin",
        "enforcement_electricity_check": "enforcement.metering",
        "enforcement_source_list": ("enforcement.pollutionsource", "view"),
        "enforcement_source_create": ("enforcement.pollutionsource", "add"),
        "enforcement_source_update": ("enforcement.pollutionsource", "view"),
        "enforcement_source_inspect": ("enforcement.pollutionsource", "view"),
        "enforcement_inspection_open_case": ("enforcement.sourceinspection", "view"),
        "enforcement_credit_list": "enforcement.credit_public",
        "enforcement_credit_export": "enforcement.credit_public",
        "enforcement_case_attach_file": ("enforcement.case", "view"),
    }
)
