"""Who may do what with permits (on top of the Scope rules; the workflow's state checks are
in :mod:`aquifer.permits.reports`).

- apply: a water user for themself; a township officer for holders in their township; the
  bureau for anyone. The public and inspectors do not apply.
- review (初审): a township officer, for an application of their own township.
- decide, change a quota, cancel (``manage``), set rules, declare / end an emergency
  (``permits.manage``): the bureau.
- renewal / change / cancellation requests: the holder, their township's officer, the bureau.
- The public sees no permit (standards.md names no public register of permits).
"""

from __future__ import annotations

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
)
from aquifer.permits.models import (
    EmergencyWindow,
    Permit,
    PermitApplication,
    RuleDecision,
    RuleSettings,
)

_HOLDER_SIDE = {Role.BUREAU: ALL, Role.WATER_USER: OWN, Role.TOWNSHIP: OWN_TOWNSHIP}

model_policy(
    Permit,
    apply=_HOLDER_SIDE,  # judged on an unsaved Permit(holder=…, township=…)
    request=_HOLDER_SIDE,
    manage={Role.BUREAU: ALL},
)
model_policy(
    PermitApplication,
    review={Role.TOWNSHIP: OWN_TOWNSHIP},
    decide={Role.BUREAU: ALL},
)
model_policy(RuleDecision)
model_policy(EmergencyWindow)
model_policy(RuleSettings)  # read through the permits.rules page; changed by permits.manage

#: The permit register, quota use and their exports: every signed-in role.
capability("permits.register", *SIGNED_IN)
capability("permits.rules", *SIGNED_IN)
#: The zone ledger (county figures, read-only).
capability("permits.ledger", *STAFF)
#: Rule settings and emergency windows.
capability("permits.manage", Role.BUREAU)


# The home page's figures (core/morning.py, this app's morning.py): who sees which.
capability("permits.morning", Role.BUREAU, Role.TOWNSHIP)  # quota overruns, applications due
capability("permits.morning_own", Role.WATER_USER)  # its quota and permits' expiry

routes(
    {
        "permits:permit_list": "permits.register",
        "permits:permit_export": "permits.register",
        "permits:permit_apply": ("permits.permit", "apply"),
        "permits:permit_detail": ("permits.permit", "view"),
        "permits:permit_request": ("permits.permit", "request"),
        "permits:permit_quota": ("permits.permit", "manage"),
        "permits:permit_cancel": ("permits.permit", "manage"),
        "permits:application_review": ("permits.permitapplication", "review"),
        "permits:application_decide": ("permits.permitapplication", "decide"),
        "permits:quota_use": "permits.register",
        "permits:quota_export": "permits.register",
        "permits:zone_ledger": "permits.ledger",
        "permits:ledger_export": "permits.ledger",
        "permits:rules": "permits.rules",
        "permits:rules_settings": "permits.manage",
        "permits:window_declare": "permits.manage",
        "permits:window_end": "permits.manage",
        "permits_list": ("permits.permit", "view"),
        "permits_read": ("permits.permit", "view"),
        "permits_apply": ("permits.permit", "apply"),
        "permits_application": ("permits.permitapplication", "view"),
        "permits_application_review": ("permits.permitapplication", "review"),
        "permits_application_decide": ("permits.permitapplication", "decide"),
        "permits_request": ("permits.permit", "request"),
        "permits_change_quota": ("permits.permit", "manage"),
        "permits_cancel": ("permits.permit", "manage"),
        "permits_quota_use": ("permits.permit", "view"),
        "permits_quota_use_list": ("permits.permit", "view"),
        "permits_zone_ledger": "permits.ledger",
        "permits_export": "permits.register",
        "permits_rules": "permits.rules",
        "permits_rules_settings": "permits.manage",
        "permits_window_add": "permits.manage",
        "permits_window_end": "permits.manage",
    }
)
