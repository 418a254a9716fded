"""Who sees what through the open-data services (docs/open-data.md, "Who sees what").

``open`` on wells: what a caller reaches through SensorThings and OGC API – Features. Signed-in
roles see what they may ``view``; the public (anonymous visitors and public accounts) the
monitoring wells — the monitoring network's data are shared by law (地下水管理条例 第四十六条)
— with their public fields only. Withdrawal wells stay with those who may view them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from aquifer.core.policies import SIGNED_IN, Role, Rule, capability, extend, policy_of, routes, when
from aquifer.registry.models import Well


def _monitoring_q(user: Any) -> Q:
    return Q(monitoring__isnull=False)


def _is_monitoring(user: Any, well: Any) -> bool:
    return (
        well.pk is not None and Well.objects.filter(pk=well.pk, monitoring__isnull=False).exists()
    )


_view = policy_of("registry.well")
assert _view is not None
_open: dict[Role, Rule | bool] = {
    role: _view.rule(role, "view") for role in Role if role != Role.PUBLIC
}
_open[Role.PUBLIC] = when(lambda user: True, _monitoring_q, _is_monitoring)
extend(Well, open=_open)

#: The services themselves answer everybody; each answer is scoped by ``open`` above.
capability("opendata.services", *Role)
#: Every field of what one may see (owner, station address…); the public gets public fields.
capability("opendata.all_fields", *SIGNED_IN)

#: Forwarding status and the national network's exchange files: the bureau's work.
capability("opendata.forwarding", Role.BUREAU)
capability("opendata.exchange", Role.BUREAU)

routes(
    {
        "opendata:forwarding": "opendata.forwarding",
        "opendata:exchange": "opendata.exchange",
        "opendata_forwarding_destinations": "opendata.forwarding",
        "opendata_forwarding_frames": "opendata.forwarding",
        "opendata_exchange_levels": "opendata.exchange",
        "opendata_exchange_quality": "opendata.exchange",
        "opendata:sta_root": "opendata.services",
        "opendata:sta": "opendata.services",
        "opendata:ogc_landing": "opendata.services",
        "opendata:ogc_conformance": "opendata.services",
        "opendata:ogc_collections": "opendata.services",
        "opendata:ogc_collection": "opendata.services",
        "opendata:ogc_items": "opendata.services",
        "opendata:ogc_item": "opendata.services",
    }
)
