"""The portal's figure on the home page (core/morning.py): complaints still awaiting a reply
(and how many of them are past their due time), of those the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.core.morning import Figure, register
from aquifer.core.roles import Action
from aquifer.core.scoping import visible_to
from aquifer.portal.models import OPEN_STATES, Complaint


def awaiting_reply(user: Any) -> Figure:
    counts = (
        visible_to(user, Action.VIEW, Complaint)
        .filter(state__in=OPEN_STATES)
        .aggregate(n=Count("id"), late=Count("id", filter=Q(due_at__lt=timezone.now())))
    )
    n, late = counts["n"], counts["late"]
    return Figure(
        n,
        _("待答复的投诉举报"),
        url=reverse("portal:complaint_list"),  # the list's default: a reply still owed
        tone="bad" if late else "warn" if n else "ok",
        detail=_("其中已超期 %(late)s 件") % {"late": late},
        key="portal.awaiting_reply",
    )


register(
    "portal.awaiting_reply",
    policy="portal.morning",
    group="public",
    order=10,
    compute=awaiting_reply,
)
