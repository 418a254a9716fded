"""The permits app's public functions (COMMON.md interface 5) and its rule-engine wiring.

Every permit decision, quota change and well activation goes through
:func:`aquifer.permits.rules.check` here; each answer acted on is kept as a
:class:`~aquifer.permits.models.RuleDecision` (audited on creation, with the reasons and their
sources) so that pages and the audit trail show why.

Public (other apps): :func:`change_quota`, :func:`permits_of`, :func:`county_state`,
:func:`check_well_activation`. The application workflow (:func:`apply_for_permit`,
:func:`apply_for`, :func:`review`, :func:`decide`, :func:`cancel`) is used by this app's
pages and API.

Mapping to the rule engine: a permit's id is ``str(pk)``; a township is its 9-digit code; a
zone is its code. A permit's zone (per layer) is the strictest zone (``ZONE_PRECEDENCE``) among
its wells in the permit's source layer — a permit with wells in two zones is judged by the
stricter one.

One module per workflow: :mod:`~.applications` (apply, review, preview, decide, the decision
deadline), :mod:`~.changes` (quota changes, transfers, cancellation), :mod:`~.activation`
(putting a well into service), :mod:`~.rule_settings` (the bureau's settings and emergency
windows); :mod:`~.state` (the rules in force and the county as the engine sees it),
:mod:`~.recording` (changes and their recorded decisions) and :mod:`~.common` (the refusal,
settings, calendar, audit context) beside them. Everything public is imported from here.
"""

from __future__ import annotations

from aquifer.permits.services.activation import activation_objections, check_well_activation
from aquifer.permits.services.applications import (
    apply_for,
    apply_for_permit,
    decide,
    preview,
    review,
)
from aquifer.permits.services.applications import next_number as next_number
from aquifer.permits.services.applications import (
    permit_setting_default_term as permit_setting_default_term,
)
from aquifer.permits.services.changes import cancel, change_quota, transfer_quota
from aquifer.permits.services.common import DEFAULTS as DEFAULTS
from aquifer.permits.services.common import PermitError, calendar, permit_setting
from aquifer.permits.services.rule_settings import declare_window, end_window, save_settings
from aquifer.permits.services.state import (
    county_state,
    current_settings,
    emergency_windows,
    in_emergency,
    permit_zone,
    permits_of,
    rule_set,
)
from aquifer.permits.services.state import permit_record as permit_record
from aquifer.permits.services.state import zone_ref as zone_ref

__all__ = [
    "PermitError",
    "activation_objections",
    "apply_for",
    "apply_for_permit",
    "calendar",
    "cancel",
    "change_quota",
    "check_well_activation",
    "county_state",
    "current_settings",
    "decide",
    "declare_window",
    "emergency_windows",
    "end_window",
    "in_emergency",
    "permit_setting",
    "permit_zone",
    "permits_of",
    "preview",
    "review",
    "rule_set",
    "save_settings",
    "transfer_quota",
]
