"""Who may do what on the public side ("Roles and scoping").

The portal's pages, its downloads and filing / following a complaint: everyone, anonymous
included. Complaints: the bureau all of them, inspectors all (read), a township officer those
routed to their township; handling (accept, reply, close, reject): the bureau and the
township's officers. The filer's name and phone: the bureau alone. News: the bureau writes.
"""

from __future__ import annotations

from aquifer.core.policies import ALL, OWN_TOWNSHIP, STAFF, Role, capability, model_policy, routes
from aquifer.portal.models import (
    Complaint,
    ComplaintEvent,
    ComplaintLink,
    FilingAttempt,
    NewsItem,
    WellSnapshot,
)

_READ = {Role.BUREAU: ALL, Role.INSPECTOR: ALL, Role.TOWNSHIP: OWN_TOWNSHIP}
_HANDLE = {Role.BUREAU: ALL, Role.TOWNSHIP: OWN_TOWNSHIP}

model_policy(Complaint, view=_READ, handle=_HANDLE)
model_policy(ComplaintEvent, view=_READ)
model_policy(ComplaintLink, view=_READ)
model_policy(FilingAttempt)
model_policy(NewsItem)
model_policy(WellSnapshot)

#: The portal, its downloads, filing and following a complaint: everyone.
capability("portal.public", *Role)
# The global search finds the portal's published well pages for the public (staff find the
# registry's own records).
capability("portal.search_published", Role.PUBLIC)
#: The complaint list (what each sees is scoped by the Complaint policy).
capability("portal.complaints", *STAFF)
#: The township filter of the list (county-wide roles).
capability("portal.all_complaints", Role.BUREAU, Role.INSPECTOR)
#: Who filed (name, phone): the bureau only.
capability("portal.filer_identity", Role.BUREAU)
#: Writing news and notices: the bureau.
capability("portal.news_edit", Role.BUREAU)


# The home page's figures (core/morning.py, this app's morning.py): who sees which.
capability("portal.morning", Role.BUREAU, Role.TOWNSHIP)  # complaints awaiting a reply

routes(
    {
        "portal:home": "portal.public",
        "portal:well": "portal.public",
        "portal:zones": "portal.public",
        "portal:withdrawals": "portal.public",
        "portal:trades": "portal.public",
        "portal:progress": "portal.public",
        "portal:news_list": "portal.public",
        "portal:news_detail": "portal.public",
        "portal:regulations": "portal.public",
        "portal:downloads": "portal.public",
        "portal:download": "portal.public",
        "portal:complaint_new": "portal.public",
        "portal:complaint_follow": "portal.public",
        "portal:complaint_list": "portal.complaints",
        "portal:complaint_detail": ("portal.complaint", "view"),
        "portal:complaint_act": ("portal.complaint", "view"),
        "portal:complaint_case": ("portal.complaint", "view"),
        "portal:news_manage": "portal.news_edit",
        "portal:news_edit": "portal.news_edit",
        "portal_complaint_file": "portal.public",
        "portal_complaint_follow": "portal.public",
        "portal_complaint_list": "portal.complaints",
        "portal_complaint_export": "portal.complaints",
        "portal_complaint_read": ("portal.complaint", "view"),
        "portal_complaint_act": ("portal.complaint", "view"),
        "portal_well_list": "portal.public",
        "portal_well_read": "portal.public",
        "portal_panels": "portal.public",
        "portal_news": "portal.public",
    }
)
