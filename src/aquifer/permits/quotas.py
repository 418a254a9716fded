"""Permitted quotas as accounting asks for them (its hooks ``well_quota_shares`` and
``user_groundwater_quotas``, registered in :class:`aquifer.permits.apps.PermitsConfig`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Q

from aquifer.permits.models import Permit

__all__ = ["user_groundwater_quotas", "well_quota_shares"]


def well_quota_shares(well_ids: list[int]) -> dict[int, float]:
    """Each well's share (m³/year) of the annual quota of every active permit it is under."""
    if not well_ids:
        return {}
    through = Permit.wells.through
    links = list(
        through.objects.filter(permit__status="active", well_id__in=well_ids).values_list(
            "permit_id", "well_id"
        )
    )
    permit_ids = {p for p, _ in links}
    quotas = dict(Permit.objects.filter(pk__in=permit_ids).values_list("pk", "annual_quota_m3"))
    n_wells: dict[int, int] = defaultdict(int)
    for p, _w in through.objects.filter(permit_id__in=permit_ids).values_list(
        "permit_id", "well_id"
    ):
        n_wells[p] += 1
    share: dict[int, float] = {}
    for p, w in links:
        share[w] = share.get(w, 0.0) + float(quotas[p]) / max(n_wells[p], 1)
    return share


def user_groundwater_quotas(user_ids: list[int], year: int) -> dict[int, float]:
    """Annual groundwater quota per water user from its permits active in ``year``."""
    out: dict[int, float] = {}
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    qs = Permit.objects.filter(
        holder_id__in=user_ids, status="active", source__in=["shallow", "deep"]
    ).filter(Q(valid_from__isnull=True) | Q(valid_from__lte=end))
    qs = qs.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=start))
    for holder, quota in qs.values_list("holder_id", "annual_quota_m3"):
        out[holder] = out.get(holder, 0.0) + float(quota)
    return out
