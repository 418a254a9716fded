"""Accounting's hooks (:mod:`aquifer.core.hooks`): the permitted quotas it needs, which the
permits app above it knows. With nobody answering, there are no quotas: unmetered wells are
estimated by their purpose and no tax is exempt within a quota."""

from __future__ import annotations

from aquifer.core.hooks import Hook

__all__ = ["user_groundwater_quotas", "well_quota_shares"]

#: Called with a list of well ids; returns well id → m³ a year: each well's share of the
#: annual quota of every active permit it is under (the quota divided among the permit's wells).
well_quota_shares: Hook[dict[int, float]] = Hook("accounting.well_quota_shares")

#: Called with a list of water-user ids and a year; returns water-user id → the annual
#: groundwater quota (m³) of its permits active in that year.
user_groundwater_quotas: Hook[dict[int, float]] = Hook("accounting.user_groundwater_quotas")


def merged(answers: list[dict[int, float]]) -> dict[int, float]:
    """The answers of several functions summed per key."""
    out: dict[int, float] = {}
    for answer in answers:
        for key, value in answer.items():
            out[key] = out.get(key, 0.0) + value
    return out
