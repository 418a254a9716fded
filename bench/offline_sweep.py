"""The offline / battery alarm sweep (``monitoring.sweeps.offline_sweep``) over 3,000 devices.

Sets up its own database (see bench/ingest.py) with 3,000 devices (``--quick``: 300) at a
60-minute interval and their last-seen state (what the check sweep keeps): 90 % reported
within the hour, 8 % not for 4–100 hours (offline), 2 % with a low battery.

Measured:

- ``first_s``: the first sweep — every device's state, and the offline and low-battery
  alarms opened (with their events, audit entries and notifications);
- ``repeat_s``: the same sweep five minutes later — states unchanged, every open alarm bumped
  (one UPDATE per kind), nothing new;
- ``recover_s``: after half the offline devices reported again — their alarms cleared.

    python bench/offline_sweep.py [--quick] [--db sqlite|postgres] [--devices N]

Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import head
from _common import parser as bench_parser
from ingest import bench_database
from monitoring_sweep import make_devices


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--devices", type=int)
    args = parser.parse_args()
    n = args.devices or (300 if args.quick else 3000)

    with bench_database(args.db) as info:
        from aquifer.core.audit import audit_context
        from aquifer.monitoring.models import Alarm, DeviceState
        from aquifer.monitoring.sweeps import offline_sweep

        ids = make_devices(n, kind="flow_meter", interval=60)
        now = datetime(2026, 3, 2, 12, tzinfo=UTC)
        rng = np.random.default_rng(3)
        u = rng.random(n)
        states = []
        offline = []
        for i, pk in enumerate(ids):
            if u[i] < 0.08:
                last = now - timedelta(hours=float(rng.uniform(4, 100)))
                offline.append(pk)
            else:
                last = now - timedelta(minutes=float(rng.uniform(0, 60)))
            volts = 10.6 if 0.08 <= u[i] < 0.10 else 12.8
            states.append(
                DeviceState(
                    device_id=pk,
                    last_observed_at=last,
                    last_received_at=last,
                    last_values={"battery_voltage": [last.isoformat(), volts]},
                )
            )
        DeviceState.objects.bulk_create(states, batch_size=1000)

        from django.urls import reverse

        reverse("monitoring:alarm_list")  # load the URLconf (alarm links) before timing
        with audit_context(source="bench"):
            t0 = time.perf_counter()
            first = offline_sweep(now)
            first_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            repeat = offline_sweep(now + timedelta(minutes=5))
            repeat_s = time.perf_counter() - t0
            back = offline[: len(offline) // 2]
            DeviceState.objects.filter(device_id__in=back).update(
                last_observed_at=now + timedelta(minutes=8)
            )
            t0 = time.perf_counter()
            recover = offline_sweep(now + timedelta(minutes=10))
            recover_s = time.perf_counter() - t0

        result = {
            **head("offline_sweep", args.quick, info),
            "devices": n,
            "first_s": round(first_s, 3),
            "first_raised": first.alarms_raised,
            "repeat_s": round(repeat_s, 3),
            "repeat_raised": repeat.alarms_raised,
            "recover_s": round(recover_s, 3),
            "recover_cleared": recover.alarms_cleared,
            "open_alarms": Alarm.objects.filter(state__in=["open", "acknowledged"]).count(),
        }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
