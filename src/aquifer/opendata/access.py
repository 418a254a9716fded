"""Who is calling an open-data service, and the rows they may reach.

The services are plain Django views (OData paths and OGC paths are no ninja routes), so they
read the caller as the API does: ``Authorization: Bearer aq_…`` (an API token), else the
browser session, else the public. A bearer key that does not authenticate is a 401, as in the
API.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from aquifer.core.models import ApiToken
from aquifer.core.policies import allowed
from aquifer.core.scoping import visible_to
from aquifer.registry.models import Device, Well
from aquifer.telemetry.models import LatestReading, Reading


class BadToken(Exception):
    """A bearer key that is unknown, revoked or of a disabled account."""


def caller(request: HttpRequest) -> Any:
    """The user behind ``request``: the bearer token's, else the session's (maybe anonymous)."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        found = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=ApiToken.digest(header[7:].strip()), revoked=False,
                    user__is_active=True)
            .first()
        )  # fmt: skip
        if found is None:
            raise BadToken
        return found.user
    return request.user


def is_public(user: Any) -> bool:
    """Anonymous visitors and public accounts: public fields only."""
    return not allowed(user, "opendata.all_fields")


def wells(user: Any) -> QuerySet[Well]:
    return visible_to(user, "open", Well)


def devices(user: Any) -> QuerySet[Device]:
    return Device.objects.filter(well__in=wells(user))


def latest(user: Any) -> QuerySet[LatestReading]:
    return LatestReading.objects.filter(device__well__in=wells(user))


def readings(user: Any) -> QuerySet[Reading]:
    return Reading.objects.filter(device__well__in=wells(user))
