"""The canonical element vocabulary: what a reading measures (监测要素).

Every protocol (SL 651, SZY 206, MQTT/HTTP JSON) maps its own element identifiers into these
keys, in these units, before a reading reaches the store; the store refuses any other key.
Pure data, no Django: codecs, quality checks and analysis import it freely.

``plausible`` is the physical plausibility range in the element's unit: a value outside it
cannot be a true measurement (a sensor fault, a decoding error, a unit mix-up). It is data for
the quality checks of a later step, which flag such readings; the store does not refuse them.

``cumulative`` marks a running total (a meter's register): its chart value for an hour or a day
is the bucket's last reading, not the mean.

Depth to water (埋深) is measured downward from the land surface (or the measuring point); water
level (水位) is an elevation above the vertical datum (1985 国家高程基准); an artesian well's
depth to water is negative.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ELEMENTS", "Element", "element", "is_element"]


@dataclass(frozen=True, slots=True)
class Element:
    key: str
    name_zh: str
    name_en: str
    unit: str
    plausible: tuple[float, float]
    cumulative: bool = False
    group: str = "level"  # level | metering | quality | station

    def in_range(self, value: float) -> bool:
        """Whether ``value`` lies within the physical plausibility range (bounds included)."""
        lo, hi = self.plausible
        return lo <= value <= hi


_ALL = (
    # Groundwater level
    Element("depth_to_water", "地下水埋深", "depth to water", "m", (-20.0, 1500.0)),
    Element("water_level", "水位", "water level", "m", (-500.0, 5000.0)),
    Element("water_temperature", "水温", "water temperature", "°C", (-5.0, 100.0)),
    # Withdrawal metering
    Element("flow_rate", "瞬时流量", "flow rate", "m³/h", (0.0, 5000.0), group="metering"),
    Element(
        "cumulative_volume",
        "累计水量",
        "cumulative volume",
        "m³",
        (0.0, 1.0e10),
        cumulative=True,
        group="metering",
    ),
    Element("water_pressure", "水压", "water pressure", "MPa", (-0.1, 10.0), group="metering"),
    # Water quality (GB/T 14848-2017 indicators)
    Element("ph", "pH", "pH", "", (0.0, 14.0), group="quality"),
    Element("conductivity", "电导率", "conductivity", "µS/cm", (0.0, 200000.0), group="quality"),
    Element("turbidity", "浑浊度", "turbidity", "NTU", (0.0, 4000.0), group="quality"),
    Element("dissolved_oxygen", "溶解氧", "dissolved oxygen", "mg/L", (0.0, 25.0), group="quality"),
    Element(
        "total_dissolved_solids",
        "溶解性总固体",
        "total dissolved solids",
        "mg/L",
        (0.0, 100000.0),
        group="quality",
    ),
    Element("total_hardness", "总硬度", "total hardness", "mg/L", (0.0, 10000.0), group="quality"),
    Element("ammonia_nitrogen", "氨氮", "ammonia nitrogen", "mg/L", (0.0, 1000.0), group="quality"),
    Element(
        "nitrate_nitrogen", "硝酸盐氮", "nitrate nitrogen", "mg/L", (0.0, 1000.0), group="quality"
    ),
    Element("fluoride", "氟化物", "fluoride", "mg/L", (0.0, 100.0), group="quality"),
    # Station health
    Element("battery_voltage", "电池电压", "battery voltage", "V", (0.0, 60.0), group="station"),
)

ELEMENTS: dict[str, Element] = {e.key: e for e in _ALL}


def is_element(key: object) -> bool:
    return isinstance(key, str) and key in ELEMENTS


def element(key: str) -> Element:
    """The element for ``key``; raises KeyError naming the key and the known keys."""
    try:
        return ELEMENTS[key]
    except KeyError:
        raise KeyError(f"unknown element {key!r}; known: {', '.join(ELEMENTS)}") from None
