"""Simulated devices that speak the real protocols (``aquifer simulate``, the demo, benchmarks).

Two halves:

**The series** (pure functions of a :class:`Site` and a time, no state, no Django), realistic
enough for charts and for the quality checks of later steps:

- depth to water (:func:`depth_to_water`): a mean depth, a seasonal swing — deepest at the end
  of the spring irrigation season (May–June, after the dry winter and spring), recovering with
  the summer rains to its shallowest in September–October (:func:`seasonal_factor`) — a slow
  long-term decline, pumping drawdown cycles (the water table drops while the pump runs and
  recovers exponentially when it stops) and sensor noise;
- pumping (:func:`is_pumping`): two daily runs from 06:00 and 16:00 whose length depends on the
  month (irrigation in spring and early winter);
- the meter's cumulative volume (:func:`cumulative_volume`): it grows only while the pump runs
  (pump rate × pumped hours since 2020), so it never decreases;
- battery voltage (:func:`battery_voltage`): sags slowly, and jumps back when the battery is
  replaced (every ``battery_life_days``).

**The devices** (asyncio): :func:`run_tcp_device` keeps a TCP connection open, sends one report,
waits for the acknowledgement, resends the same bytes on a timeout (and reconnects if the
resends fail), and only then builds the next report; MQTT devices publish at QoS 1, HTTP
devices POST. :func:`simulate` runs many; :func:`start_demo_simulation` runs a gateway and a few
devices in a background thread for ``aquifer demo``.

Modules: ``series`` (the series), ``frames`` (what a device sends: frames, JSON, whether a reply
confirms a frame), ``devices`` (running devices over TCP, MQTT, HTTP; :func:`simulate`),
``registry`` (simulated devices in the registry: ``select_devices``, ``register_devices``),
``demo`` (:func:`start_demo_simulation`). The package re-exports the public names of the first
three, which need no Django (the benchmarks' load generator and field tools import them in a
bare process); ``registry`` and ``demo`` work on the database and are imported by name.
"""

from __future__ import annotations

from .devices import (
    Clock,
    FrameSource,
    OnAck,
    SimStats,
    run_http_device,
    run_mqtt_device,
    run_tcp_device,
    simulate,
)
from .frames import (
    SimDevice,
    ack_matches,
    json_body,
    kind_of,
    report_frames,
    simulated_station,
)
from .series import (
    EPOCH,
    KINDS,
    PUMP_HOURS,
    RUN_STARTS,
    SEASON,
    Site,
    battery_voltage,
    cumulative_volume,
    depth_to_water,
    flow_rate,
    is_pumping,
    pumped_hours,
    pumping_drawdown,
    readings_at,
    seasonal_factor,
    site_for,
    water_temperature,
)

__all__ = [
    "EPOCH",
    "KINDS",
    "PUMP_HOURS",
    "RUN_STARTS",
    "SEASON",
    "Clock",
    "FrameSource",
    "OnAck",
    "SimDevice",
    "SimStats",
    "Site",
    "ack_matches",
    "battery_voltage",
    "cumulative_volume",
    "depth_to_water",
    "flow_rate",
    "is_pumping",
    "json_body",
    "kind_of",
    "pumped_hours",
    "pumping_drawdown",
    "readings_at",
    "report_frames",
    "run_http_device",
    "run_mqtt_device",
    "run_tcp_device",
    "seasonal_factor",
    "simulate",
    "simulated_station",
    "site_for",
    "water_temperature",
]
