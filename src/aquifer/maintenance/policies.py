"""Who may do what with maintenance tickets and patrols ("Roles and scoping")."""

from __future__ import annotations

from aquifer.core.policies import (
    ALL,
    OWN,
    OWN_TOWNSHIP,
    SIGNED_IN,
    STAFF,
    Role,
    capability,
    extend,
    model_policy,
    routes,
)
from aquifer.maintenance.models import ChecklistItem, Patrol, Ticket, TicketEvent
from aquifer.registry.models import Device

# patrol: whose devices a patrol may visit (a township officer: their township's).
extend(Device, patrol={Role.BUREAU: ALL, Role.INSPECTOR: ALL, Role.TOWNSHIP: OWN_TOWNSHIP})
model_policy(TicketEvent)
model_policy(ChecklistItem)
model_policy(Patrol)
# open: a water user reports a fault on their own devices; inspectors county-wide; township
# officers in their township; the bureau anywhere.
model_policy(
    Ticket,
    open={Role.BUREAU: ALL, Role.INSPECTOR: ALL, Role.TOWNSHIP: OWN_TOWNSHIP, Role.WATER_USER: OWN},
)

#: The ticket board and one's devices: every signed-in role.
capability("maintenance.use", *SIGNED_IN)
#: Patrols, figures, the checklist: the government's people.
capability("maintenance.staff", *STAFF)
#: A water user's ticket is a fault report (its label, source and priority say so).
capability("maintenance.fault_report", Role.WATER_USER)
#: The township filter of the ticket board (county-wide roles).
capability("maintenance.all_townships", Role.BUREAU, Role.INSPECTOR)
#: Editing the patrol checklist: the bureau.
capability("maintenance.checklist_edit", Role.BUREAU)

routes(
    {
        "maintenance:ticket_list": "maintenance.use",
        "maintenance:ticket_new": ("maintenance.ticket", "open"),
        "maintenance:ticket_detail": ("maintenance.ticket", "view"),
        "maintenance:ticket_act": ("maintenance.ticket", "view"),
        "maintenance:device_list": "maintenance.use",
        "maintenance:patrol_list": "maintenance.use",
        "maintenance:patrol_new": "maintenance.staff",
        "maintenance:patrol_detail": ("maintenance.patrol", "view"),
        "maintenance:figures": "maintenance.staff",
        "maintenance:checklist": "maintenance.staff",
        "maintenance:checklist_edit": "maintenance.checklist_edit",
        "maintenance_ticket_list": ("maintenance.ticket", "view"),
        "maintenance_ticket_export": ("maintenance.ticket", "view"),
        "maintenance_ticket_create": ("maintenance.ticket", "open"),
        "maintenance_ticket_read": ("maintenance.ticket", "view"),
        "maintenance_ticket_events": ("maintenance.ticket", "view"),
        "maintenance_ticket_act": ("maintenance.ticket", "view"),
        "maintenance_patrol_list": ("maintenance.patrol", "view"),
        "maintenance_patrol_create": "maintenance.staff",
        "maintenance_patrol_read": ("maintenance.patrol", "view"),
        "maintenance_checklist": "maintenance.staff",  # internal, as the page
        "maintenance_figures": "maintenance.staff",
    }
)
