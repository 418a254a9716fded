"""What simulated devices send: SL651 and SZY206 report frames, MQTT/HTTP JSON batches, and
whether a reply confirms a frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aquifer.telemetry.protocols import CHINA_TZ, sl651, szy206

from .series import KINDS, Site, readings_at, site_for

# --- frames -------------------------------------------------------------------------------------

# SL651 identifiers and decimals for each canonical key (flow is sent in m³/s, 5 decimals:
# the data-definition byte says so, and the standard's 3 decimals would round 40 m³/h to
# 0.011 m³/s).
_SL651_CODES: dict[str, tuple[int, int]] = {
    "depth_to_water": (0x0E, 2),
    "water_temperature": (0x03, 1),
    "flow_rate": (0x27, 5),
    "cumulative_volume": (0xFF2B, 0),
    "battery_voltage": (0x38, 2),
    "water_level": (0x39, 3),
    "ph": (0x46, 2),
    "dissolved_oxygen": (0x47, 1),
    "conductivity": (0x48, 0),
    "turbidity": (0x49, 0),
}


@dataclass
class SimDevice:
    """A simulated device: its address, protocol (sl651, szy206, mqtt, http) and secret."""

    station: str
    protocol: str
    secret: str
    kind: str = "rtu"
    site: Site = field(init=False)
    serial: int = 0

    def __post_init__(self) -> None:
        self.protocol = self.protocol.lower()
        self.site = site_for(self.station)
        self.serial = 1 + self.site.seed % 60000

    def next_serial(self) -> int:
        self.serial = self.serial % 65535 + 1
        return self.serial


def report_frames(device: SimDevice, t: datetime) -> list[bytes]:
    """The frames ``device`` sends for its readings at ``t`` (SL651: one 32H timed report;
    SZY206: one C0H self-report per control function: level, flow/volume, temperature)."""
    values = readings_at(device.kind, device.site, t)
    local = t.astimezone(CHINA_TZ)
    if device.protocol == "sl651":
        elements: list[sl651.ElementInput] = []
        for key, value in values.items():
            code, dec = _SL651_CODES[key]
            if key == "flow_rate":
                value = round(value / 3600, dec)
            elements.append((code, int(value) if dec == 0 else value, dec))
        return [
            sl651.encode_report(
                0x32,
                device.station,
                serial=device.next_serial(),
                send_time=local,
                observation_time=local,
                elements=elements,
                password=int(device.secret, 16),
            )
        ]
    if device.protocol != "szy206":
        raise ValueError(f"{device.protocol} devices send JSON, not frames")
    tp = szy206.Tp(local.second, local.minute, local.hour, local.day, 0)
    frames = []
    if "depth_to_water" in values:
        level = round(device.site.ground_elevation - values["depth_to_water"], 3)
        frames.append(szy206.encode_report(device.station, function=2, values=[level], tp=tp))
    if "flow_rate" in values:
        pair = [values["flow_rate"], values["cumulative_volume"]]
        frames.append(szy206.encode_report(device.station, function=3, values=pair, tp=tp))
    if "water_temperature" in values:
        temp = [values["water_temperature"]]
        frames.append(szy206.encode_report(device.station, function=9, values=temp, tp=tp))
    return frames


def json_body(device: SimDevice, t: datetime) -> dict[str, Any]:
    """The MQTT/HTTP JSON batch of ``device`` at ``t``."""
    when = t.astimezone(CHINA_TZ).replace(microsecond=0).isoformat()
    return {
        "token": device.secret,
        "readings": [
            {"element": k, "observed_at": when, "value": v}
            for k, v in readings_at(device.kind, device.site, t).items()
        ],
    }


def ack_matches(protocol: str, ack: bytes, frame: bytes) -> bool:
    """Whether ``ack`` is the centre's confirmation of ``frame`` (header fields only)."""
    if protocol == "sl651":
        # down: 7E7E, station(5), centre, password(2), function, 8xxx length, STX, serial
        return (
            len(ack) >= 16
            and ack[10] == frame[10]
            and ack[11] >> 4 == 8
            and ack[2:7] == frame[3:8]
            and ack[14:16] == frame[14:16]
        )
    # SZY206: 68 L 68 C A(5) AFN …: direction bit clear, same control function, address and
    # AFN. A confirmation carries no serial: a late one for an earlier frame of the same kind
    # cannot be told apart (a limit of the protocol, not of the simulator).
    return (
        len(ack) >= 10
        and not ack[3] & 0x80
        and ack[3] & 0x0F == frame[3] & 0x0F
        and ack[4:10] == frame[4:10]
    )


# --- station addresses of simulated devices ---------------------------------------------------


def simulated_station(protocol: str, k: int) -> str:
    """The station address of simulated device ``k`` (1…10000) of ``protocol``.

    SL651/SZY206: the county's code 140522 and a station number in HEX (A2–A1 of the address,
    1–60000): 50001… for SL651, 40001… for SZY206. Each has a hex letter, so no demo device
    (``140522`` + four decimal digits) has it. MQTT/HTTP: ``yc-sim-<protocol>-<k>``.
    """
    if not 1 <= k <= 10000:
        raise ValueError("simulated devices are numbered 1…10000")
    if protocol.lower() == "sl651":
        return f"140522{50000 + k:04X}"
    if protocol.lower() == "szy206":
        return f"140522{40000 + k:04X}"
    return f"yc-sim-{protocol.lower()}-{k:05d}"


def kind_of(device_kind: str) -> str:
    return device_kind if device_kind in KINDS else "rtu"
