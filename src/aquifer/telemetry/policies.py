"""Who may do what with telemetry (docs/architecture.md, "Roles and scoping")."""

from __future__ import annotations

from aquifer.core.policies import Role, capability, model_policy, routes
from aquifer.telemetry.models import (
    LatestReading,
    OutboxFrame,
    QuarantinedFrame,
    RawFrame,
    Reading,
    ReadingDaily,
    ReadingHourly,
    RollupWatermark,
    Upstream,
)

# RollupWatermark: the roll-up job's bookkeeping, the bureau's.
for _model in (
    Reading,
    LatestReading,
    ReadingHourly,
    ReadingDaily,
    QuarantinedFrame,
    RawFrame,  # frames as received carry station passwords: the bureau's
    RollupWatermark,
):
    model_policy(_model)

#: Forwarding upward: the destinations and their outboxes are the bureau's (raw frames carry
#: station passwords).
model_policy(Upstream)
model_policy(OutboxFrame, view={Role.BUREAU: True})

#: Raw quarantined frames may carry station passwords: the bureau only (a 403, not a list).
capability("telemetry.quarantine", Role.BUREAU)
#: Devices push readings with their own credentials, not a user's role.
capability("telemetry.ingest", *Role)

routes(
    {
        "device_series": ("registry.device", "view"),
        "well_series": ("registry.well", "view"),
        "device_series_csv": ("registry.device", "view"),
        "quarantine_list": "telemetry.quarantine",
        "aquifer_telemetry_ingest_api_ingest_readings": "telemetry.ingest",
    }
)
