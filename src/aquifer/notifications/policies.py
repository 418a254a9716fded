"""Who may do what with notifications (docs/architecture.md, "Roles and scoping")."""

from __future__ import annotations

from aquifer.core.policies import SIGNED_IN, Role, capability, model_policy, routes, when
from aquifer.notifications.models import Contact, Delivery, Notice, Rule, SmsOutbox

# Contact: one's own details, reached only through the inbox pages (notifications.inbox);
# the SMS outbox: the bureau's.
for _model in (Notice, Delivery, Contact, SmsOutbox):
    model_policy(_model)
# Rules are county-wide settings: the bureau edits them, township officers read them.
model_policy(Rule, view={Role.BUREAU: True, Role.TOWNSHIP: True})

#: One's own inbox and contact details: every signed-in account (the public's too; an
#: anonymous visitor has none).
capability(
    "notifications.inbox",
    *SIGNED_IN,
    public=when(lambda u: bool(getattr(u, "is_authenticated", False))),
)
capability("notifications.rules", Role.BUREAU, Role.TOWNSHIP)
capability("notifications.deliveries", Role.BUREAU)
capability("notifications.signed_in", *SIGNED_IN)

routes(
    {
        "notifications:inbox": "notifications.inbox",
        "notifications:open": "notifications.inbox",
        "notifications:read_all": "notifications.inbox",
        "notifications:contact": "notifications.inbox",
        "notifications:rules": "notifications.rules",
        "notifications:rule_edit": ("notifications.rule", "change"),
        "notifications:deliveries": "notifications.deliveries",
        "notifications_inbox": "notifications.inbox",
        "notifications_read": "notifications.inbox",
        "notifications_contact": "notifications.inbox",
        "notifications_contact_update": "notifications.inbox",
        "notifications_unread": "notifications.inbox",
        "notifications_rules": "notifications.rules",
        "notifications_rule_create": ("notifications.rule", "add"),
        "notifications_rule_update": ("notifications.rule", "change"),
        "notifications_rule_delete": ("notifications.rule", "delete"),
    }
)
