"""SZY 206-2016 水资源监测数据传输规约: decode and encode link-layer frames.

The standard's text was not available; this follows the implementations and published frames
summarised in docs/protocols.md §2 (HM, RTUA, AM206, JXJS, CXX). Frame::

    68 L 68 | C [DIVS] A(5) AFN data… | CS 16

L counts the user data (C through the last data byte); CS is CRC-8 (poly E5H, init 0, MSB
first) over those L bytes. C: D7 direction (1 = up), D6 DIV (a DIVS countdown byte follows),
D5–D4 FCB, D3–D0 function code (what kind of data). A: A1 = 3-byte BCD administrative code,
A2 = 2-byte station number (byte order unconfirmed: :attr:`Options.a2_order`). The station
identity is the raw 10 hex digits of A.

Data values are BCD, low byte first, with the sign in the top bit of the last byte. A self-report
(AFN C0H) carries the values selected by C's function code, the 2-byte alarm word, the 2-byte
terminal status word, and a 5-byte time label Tp. Down frames end with the 2-byte password PW
and Tp. Every point that no source confirms is an :class:`Options` field (docs/protocols.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from .common import BCD, Element, Frame, FrameError
from .crc import crc8

__all__ = [
    "AFN_NAMES",
    "ALARM_BITS",
    "CONTROL_FUNCTIONS",
    "DEFAULT_OPTIONS",
    "DEFAULT_QUALITY_ITEMS",
    "LINK_STATES",
    "STATUS_BITS",
    "WORK_MODES",
    "Control",
    "Options",
    "QualityItem",
    "SZY206Frame",
    "Tp",
    "confirm",
    "control_byte",
    "decode",
    "encode",
    "encode_command",
    "encode_frame",
    "encode_link_check",
    "encode_report",
    "encode_value",
    "frame_size",
    "parse_address",
    "parse_control",
]

#: Control-field function codes (C D3–D0): code → (Chinese, English, item key).
CONTROL_FUNCTIONS: dict[int, tuple[str, str, str]] = {
    0: ("发送/确认命令", "command / confirm", "command"),
    1: ("雨量参数", "rainfall", "rainfall"),
    2: ("水位参数", "water level", "water_level"),
    3: ("流量(水量)参数", "flow (volume)", "flow"),
    4: ("流速参数", "velocity", "velocity"),
    5: ("闸位参数", "gate position", "gate_position"),
    6: ("功率参数", "power", "power"),
    7: ("气压参数", "air pressure", "air_pressure"),
    8: ("风速参数", "wind speed", "wind_speed"),
    9: ("水温参数", "water temperature", "water_temperature"),
    10: ("水质参数", "water quality", "water_quality"),
    11: ("土壤含水率参数", "soil moisture", "soil_moisture"),
    12: ("蒸发量参数", "evaporation", "evaporation"),
    13: ("报警或状态参数", "alarm or status", "alarm_status"),
    14: ("综合参数/统计雨量", "comprehensive / rainfall statistics", "comprehensive"),
    15: ("水压参数", "water pressure", "water_pressure"),
}

#: Application function codes (AFN): code → (Chinese, English).
AFN_NAMES: dict[int, tuple[str, str]] = {
    0x02: ("链路检测", "link check"),
    0x10: ("设置遥测终端、中继站地址", "set terminal/relay address"),
    0x11: ("设置遥测终端、中继站时钟", "set clock"),
    0x12: ("设置遥测终端工作模式", "set work mode"),
    0x15: ("设置遥测终端本次充值量", "set recharge volume"),
    0x16: ("设置遥测终端剩余水量报警值", "set remaining-volume alarm"),
    0x17: ("设置遥测终端的水位基值、水位上下限", "set water-level base and limits"),
    0x18: ("设置遥测终端水压上、下限", "set pressure limits"),
    0x19: ("设置遥测终端水质参数种类、上限值", "set water-quality kinds and upper limits"),
    0x1A: ("设置遥测终端水质参数种类、下限值", "set water-quality kinds and lower limits"),
    0x1B: ("设置终端站水量的表底(初始)值", "set meter base value"),
    0x1C: ("设置遥测终端转发中继引导码长", "set relay lead-code length"),
    0x1D: ("设置中继站转发终端地址", "set relay forward addresses"),
    0x1E: ("设置中继站工作机自动切换、自报状态", "set relay auto-switch"),
    0x1F: ("设置遥测终端流量参数上限值", "set flow upper limits"),
    0x20: ("设置遥测终端检测参数启报阈值及固态存储时间段间隔", "set report thresholds"),
    0x30: ("置遥测终端IC卡功能有效", "IC card on"),
    0x31: ("取消遥测终端IC卡功能", "IC card off"),
    0x32: ("定值控制投入", "fixed-value control on"),
    0x33: ("定值控制退出", "fixed-value control off"),
    0x34: ("定值量设定", "set fixed value"),
    0x50: ("查询遥测终端、中继站地址", "query terminal/relay address"),
    0x51: ("查询遥测终端、中继站时钟", "query clock"),
    0x52: ("查询遥测终端工作模式", "query work mode"),
    0x53: ("查询遥测终端的数据自报种类及时间间隔", "query self-report types and interval"),
    0x54: ("查询遥测终端需查询的实时数据种类", "query real-time data types"),
    0x55: ("查询遥测终端最近成功充值量和现有剩余水量", "query recharge and remaining volume"),
    0x56: ("查询遥测终端剩余水量和报警值", "query remaining-volume alarm"),
    0x57: ("查询遥测终端水位基值、水位上下限", "query water-level base and limits"),
    0x58: ("查询遥测终端水压上、下限", "query pressure limits"),
    0x59: ("查询遥测终端水质参数种类、上限值", "query water-quality upper limits"),
    0x5A: ("查询遥测终端水质参数种类、下限值", "query water-quality lower limits"),
    0x5D: ("查询遥测终端的事件记录", "query event record"),
    0x5E: ("查询遥测终端状态和报警状态", "query terminal status and alarm"),
    0x5F: ("查询水泵电机实时工作数据", "query pump motor data"),
    0x60: ("查询遥测终端转发中继引导码长", "query relay lead-code length"),
    0x61: ("查询遥测终端图像记录", "query image record"),
    0x62: ("查询中继站转发终端地址", "query relay forward addresses"),
    0x63: ("查询中继站工作机状态和切换记录", "query relay state and switch log"),
    0x64: ("查询遥测终端流量参数上限值", "query flow upper limits"),
    0x81: ("随机自报报警数据", "random alarm self-report"),
    0x82: ("人工置数", "manual set"),
    0x90: ("复位遥测终端参数和状态", "reset terminal"),
    0x91: ("清空遥测终端历史数据单元", "clear history"),
    0x92: ("遥控启动水泵或阀门/闸门", "remote start pump or valve/gate"),
    0x93: ("遥控关闭水泵或阀门/闸门", "remote stop pump or valve/gate"),
    0x94: ("遥控终端或中继站通信机切换", "switch communication unit"),
    0x95: ("遥控中继站工作机切换", "switch relay work unit"),
    0x96: ("修改遥测终端密码", "change password"),
    0xA0: ("设置遥测站需查询的实时数据种类", "set real-time data types"),
    0xA1: ("设置遥测终端的数据自报种类及时间间隔", "set self-report types and interval"),
    0xB0: ("查询遥测终端实时值", "query real-time values"),
    0xB1: ("查询遥测终端固态存储数据", "query stored data"),
    0xB2: ("查询遥测终端内存自报数据", "query in-memory self-report data"),
    0xC0: ("遥测终端自报实时数据", "self-report of real-time data"),
}

#: Link-check states (AFN 02H data byte).
LINK_STATES: dict[int, tuple[str, str]] = {
    0xF0: ("登录", "log in"),
    0xF1: ("退出登录", "log out"),
    0xF2: ("在线保持", "keep alive"),
}

#: Alarm word bits (RTUA ``AlarmProtocol_206``; HM ``TerminalAlarmState`` agrees except bit 9,
#: which HM leaves spare): bit → (key, Chinese, English). A set bit is an alarm.
ALARM_BITS: dict[int, tuple[str, str, str]] = {
    0: ("ac_power_off", "工作交流电停电告警", "AC power off"),
    1: ("battery_voltage", "蓄电池电压报警", "battery voltage"),
    2: ("level_over_limit", "水位超限报警", "water level over limit"),
    3: ("flow_over_limit", "流量超限报警", "flow over limit"),
    4: ("quality_over_limit", "水质超限报警", "water quality over limit"),
    5: ("flow_meter_fault", "流量仪表故障报警", "flow meter fault"),
    6: ("pump_state", "水泵开停状态", "pump on/off"),
    7: ("level_meter_fault", "水位仪表故障报警", "water-level meter fault"),
    8: ("pressure_over_limit", "水压超限报警", "water pressure over limit"),
    9: ("temperature_meter_fault", "水温仪表故障报警", "water-temperature meter fault"),
    10: ("ic_card", "终端IC卡功能报警", "IC card"),
    11: ("fixed_value_control", "定值控制报警", "fixed-value control"),
    12: ("remaining_volume_low", "剩余水量的下限报警", "remaining volume low"),
    13: ("door", "终端箱门状态报警", "cabinet door"),
}

#: Terminal status word bits D2–D6 (HM ``TerminalSate``; D0–D1 are the work mode, see
#: :data:`WORK_MODES`): bit → (key, Chinese, English). Keys name what a set bit means.
STATUS_BITS: dict[int, tuple[str, str, str]] = {
    2: ("ic_card_off", "终端IC卡功能：关闭", "IC card function off"),
    3: ("fixed_value_off", "定值控制：退出", "fixed-value control off"),
    4: ("pump_off", "水泵工作状态：关闭", "pump off"),
    5: ("door_closed", "终端箱门状态：关闭", "cabinet door closed"),
    6: ("battery_power", "电源工作状态：蓄电池供电", "on battery power"),
}

#: Work mode (status word D0–D1).
WORK_MODES: dict[int, tuple[str, str]] = {
    0: ("自报、遥测工作状态", "self-report and polling"),
    1: ("自报确认工作状态", "self-report with confirmation"),
    2: ("遥测工作状态", "polling"),
    3: ("调试或维修状态", "debugging or maintenance"),
}


@dataclass(frozen=True, slots=True)
class QualityItem:
    """A water-quality parameter of the C function 10 bitmap: key, names, unit, BCD layout."""

    key: str
    name: str
    name_en: str
    unit: str
    decimals: int
    size: int = 4


def _q(key: str, name: str, name_en: str, unit: str, decimals: int, size: int = 4) -> QualityItem:
    return QualityItem(key, name, name_en, unit, decimals, size)


#: Default bitmap of the water-quality data (C function 10). **Unconfirmed** (docs/protocols.md):
#: order as in SZY 206-2012 as far as recalled, with bit 24 (faecal coliforms) 5 bytes — the one
#: point the sources state; decimals from the CXX 利通区 configuration where it gives them.
#: A deployment replaces it through :attr:`Options.quality_items`.
DEFAULT_QUALITY_ITEMS: Mapping[int, QualityItem] = MappingProxyType(
    {
        0: _q("water_temperature", "水温", "water temperature", "°C", 1),
        1: _q("ph", "pH值", "pH", "", 2),
        2: _q("dissolved_oxygen", "溶解氧", "dissolved oxygen", "mg/L", 2),
        3: _q("permanganate_index", "高锰酸盐指数", "permanganate index", "mg/L", 1),
        4: _q("conductivity", "电导率", "conductivity", "µS/cm", 0),
        5: _q("redox", "氧化还原电位", "redox potential", "mV", 1),
        6: _q("turbidity", "浊度", "turbidity", "度", 0),
        7: _q("cod", "化学需氧量", "chemical oxygen demand", "mg/L", 1),
        8: _q("bod5", "五日生化需氧量", "BOD5", "mg/L", 1),
        9: _q("ammonia_nitrogen", "氨氮", "ammonia nitrogen", "mg/L", 2),
        10: _q("total_nitrogen", "总氮", "total nitrogen", "mg/L", 2),
        11: _q("copper", "铜", "copper", "mg/L", 4),
        12: _q("zinc", "锌", "zinc", "mg/L", 4),
        13: _q("fluoride", "氟化物", "fluoride", "mg/L", 2),
        14: _q("selenium", "硒", "selenium", "mg/L", 5),
        15: _q("arsenic", "砷", "arsenic", "mg/L", 5),
        16: _q("mercury", "汞", "mercury", "mg/L", 5),
        17: _q("cadmium", "镉", "cadmium", "mg/L", 5),
        18: _q("chromium_vi", "六价铬", "chromium (VI)", "mg/L", 3),
        19: _q("lead", "铅", "lead", "mg/L", 5),
        20: _q("cyanide", "氰化物", "cyanide", "mg/L", 3),
        21: _q("volatile_phenol", "挥发酚", "volatile phenol", "mg/L", 3),
        22: _q("petroleum", "石油类", "petroleum", "mg/L", 2),
        23: _q("sulfide", "硫化物", "sulfide", "mg/L", 3),
        24: _q("fecal_coliform", "粪大肠菌群", "faecal coliforms", "个/L", 0, 5),
    }
)


@dataclass(frozen=True, slots=True)
class Options:
    """How to read the points no source confirms (docs/protocols.md §2, all [U]).

    Attributes
    ----------
    a2_order
        Byte order of A2, the 2-byte station number: ``"little"`` (RTUA ``RtuIdProtocol``,
        the default) or ``"big"``.
    word_order
        Byte order of the alarm and status words: ``"little"`` (RTUA, the default; it also
        makes vector szy206-69 consistent: AC-power alarm with battery power) or ``"big"``
        (HM ``beToInt``).
    level_decimals
        Decimals of a water level (C function 2): 3 (RTUA B0H/B1H, default), 2 (RTUA C0H) or
        0 (HM).
    flow_unit
        Unit label of instantaneous flow (C function 3), 3 decimals: ``"m³/h"`` by default.
    up_aux
        Time label Tp at the end of C0H/81H/B0H up data: ``"auto"`` (decided from the data
        length, default), ``"tp"`` or ``"none"``.
    down_aux
        PW + Tp at the end of down data: ``"auto"`` (when the data has at least 7 bytes,
        default), ``"pw_tp"`` or ``"none"``.
    quality_items
        The water-quality bitmap (C function 10).
    """

    a2_order: str = "little"
    word_order: str = "little"
    level_decimals: int = 3
    flow_unit: str = "m³/h"
    up_aux: str = "auto"
    down_aux: str = "auto"
    quality_items: Mapping[int, QualityItem] = field(default_factory=lambda: DEFAULT_QUALITY_ITEMS)


DEFAULT_OPTIONS = Options()


@dataclass(frozen=True, slots=True)
class Control:
    """The control field C: direction, DIV, FCB, function code."""

    up: bool
    div: bool
    fcb: int
    function: int

    @property
    def byte(self) -> int:
        return control_byte(up=self.up, function=self.function, fcb=self.fcb, div=self.div)


@dataclass(frozen=True, slots=True)
class Tp:
    """Time label: second, minute, hour, day (BCD; −1 where not BCD) and allowed delay (min)."""

    second: int
    minute: int
    hour: int
    day: int
    delay: int

    def to_bytes(self) -> bytes:
        def bcd(v: int) -> int:
            if not 0 <= v <= 99:
                raise ValueError(f"Tp field {v} is not 0–99")
            return (v // 10) << 4 | v % 10

        return bytes(
            (bcd(self.second), bcd(self.minute), bcd(self.hour), bcd(self.day), self.delay & 0xFF)
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> Tp:
        b = BCD
        return cls(b[raw[0]], b[raw[1]], b[raw[2]], b[raw[3]], raw[4])

    def to_dict(self) -> dict[str, int]:
        return {
            "second": self.second,
            "minute": self.minute,
            "hour": self.hour,
            "day": self.day,
            "delay_min": self.delay,
        }


@dataclass(slots=True, kw_only=True)
class SZY206Frame(Frame):
    """A decoded SZY206 frame. ``function`` is the AFN; ``station`` the raw address A.

    Attributes (besides :class:`~.common.Frame`'s)
    ----------------------------------------------
    control, fcb, control_function, div, divs
        The control byte and its fields; ``divs`` is the split-frame countdown (DIV = 1).
    admin_code, station_number
        A1 (6 digits, or ``None`` if not BCD) and A2 (read with :attr:`Options.a2_order`).
    data
        The data field after AFN, auxiliary fields included.
    alarm, status
        Alarm and terminal status words where the data carries them.
    link
        Link-check state (F0 log in, F1 log out, F2 keep alive) of AFN 02H.
    password, tp
        Auxiliary fields: PW (down) and time label Tp.
    long_frame
        The vendor long-frame form (L = 01 and a 2-byte length), seen with image data.
    """

    control: int = 0
    fcb: int = 0
    control_function: int = 0
    div: bool = False
    divs: int | None = None
    admin_code: str | None = None
    station_number: int | None = None
    data: bytes = b""
    alarm: int | None = None
    status: int | None = None
    link: int | None = None
    password: int | None = None
    tp: Tp | None = None
    long_frame: bool = False

    @property
    def is_confirmation(self) -> bool:
        """A down frame answering a link check or a self-report (AFN 02H, C0H, 81H) with at
        most one data byte besides PW + Tp (HM, RTUA)."""
        own = len(self.data) - (7 if self.password is not None else 0)
        return self.direction == "down" and self.function in (0x02, 0xC0, 0x81) and own <= 1

    def details(self) -> dict[str, Any]:
        cf = CONTROL_FUNCTIONS.get(self.control_function, ("", "", ""))
        out: dict[str, Any] = {
            "afn": f"{self.function:02X}",
            "control": f"{self.control:02X}",
            "control_function": self.control_function,
            "control_function_name": cf[0],
            "fcb": self.fcb,
            "div": self.div,
            "divs": self.divs,
            "admin_code": self.admin_code,
            "station_number": self.station_number,
            "data": self.data.hex().upper(),
            "alarm": None if self.alarm is None else f"{self.alarm:04X}",
            "status": None if self.status is None else f"{self.status:04X}",
            "link": None if self.link is None else f"{self.link:02X}",
            "password_present": self.password is not None,
            "password": None if self.password is None else f"{self.password:04X}",
            "tp": None if self.tp is None else self.tp.to_dict(),
            "is_confirmation": self.is_confirmation,
            "checksum": f"{self.checksum:02X}",
            "size": self.size,
        }
        if self.long_frame:
            out["long_frame"] = True
        return out


# --------------------------------------------------------------------------------------------
# Fields


def parse_control(c: int) -> Control:
    """Split a control byte into direction (D7), DIV (D6), FCB (D5–D4) and function (D3–D0)."""
    return Control(bool(c & 0x80), bool(c & 0x40), (c >> 4) & 3, c & 0x0F)


def control_byte(*, up: bool, function: int, fcb: int = 3, div: bool = False) -> int:
    """The control byte; FCB defaults to 3 (AM206 ``FCB_Default``, every sample frame).

    >>> hex(control_byte(up=True, function=3))
    '0xb3'
    """
    if not 0 <= function <= 15 or not 0 <= fcb <= 3:
        raise ValueError(f"function {function} (0–15) or FCB {fcb} (0–3) out of range")
    return (0x80 if up else 0) | (0x40 if div else 0) | fcb << 4 | function


def parse_address(raw: bytes, a2_order: str = "little") -> tuple[str, str | None, int]:
    """Address A → (10 hex digits, A1 administrative code or ``None``, A2 station number).

    >>> parse_address(bytes.fromhex("5303810D00"))
    ('5303810D00', '530381', 13)
    """
    admin = raw[:3].hex()
    return (
        raw.hex().upper(),
        admin if admin.isdigit() else None,
        int.from_bytes(raw[3:5], _order(a2_order)),
    )


def _bcd_value(raw: bytes, decimals: int) -> int | float | None:
    """BCD, low byte first, sign in the top bit of the last byte; all AA/FF (or not BCD) → None."""
    last = raw[-1]
    if last & 0x80:
        digits = (bytes((last & 0x7F,)) + raw[-2::-1]).hex()
        if not digits.isdigit():
            return None
        number = -int(digits)
    else:
        digits = raw[::-1].hex()
        if not digits.isdigit():
            return None
        number = int(digits)
    return number / 10**decimals if decimals else number


def encode_value(value: float | None, size: int, decimals: int) -> bytes:
    """A value as ``size`` BCD bytes, low byte first, sign in the top bit; ``None`` → all AA.

    >>> encode_value(5.9, 5, 3).hex().upper()
    '0059000000'
    >>> encode_value(-1.25, 4, 3).hex().upper()
    '50120080'
    """
    if value is None:
        return b"\xaa" * size
    scaled = round(value * 10**decimals)
    text = str(abs(scaled)).rjust(2 * size, "0")
    if len(text) > 2 * size or text[0] > "7":
        raise ValueError(f"{value} does not fit in {size} bytes with {decimals} decimals")
    out = bytearray(bytes.fromhex(text)[::-1])
    if scaled < 0:
        out[-1] |= 0x80
    return bytes(out)


# --------------------------------------------------------------------------------------------
# Decoding


def frame_size(buf: bytes | bytearray) -> int | None:
    """Size of the frame at the start of ``buf``, or ``None`` until enough bytes arrived.

    Raises :class:`FrameError` if ``buf`` does not start with ``68 L 68``.
    """
    if not buf:
        return None
    if buf[0] != 0x68:
        raise FrameError(0, f"not an SZY206 frame: starts with {buf[0]:02X} (68 expected)")
    if len(buf) >= 3 and buf[2] != 0x68:
        raise FrameError(2, f"second start byte is {buf[2]:02X}, 68 expected")
    if len(buf) < 2:
        return None
    if buf[1] != 0x01:
        return buf[1] + 5
    if len(buf) < 4:
        return None
    at = 11 if buf[3] & 0x40 else 10  # the 2-byte length follows C, [DIVS,] A and AFN
    if len(buf) < at + 2:
        return None
    return at + 4 + (buf[at] | buf[at + 1] << 8)


def decode(data: bytes, options: Options = DEFAULT_OPTIONS, *, verify: bool = True) -> SZY206Frame:
    """Decode one SZY206 frame.

    Parameters
    ----------
    data
        Exactly one frame, ``68 L 68 … CS 16``.
    options
        Readings of the unconfirmed points (byte orders, decimals, auxiliary fields).
    verify
        Check CS; with ``False`` a frame with a wrong CS is decoded and reports
        ``checksum_ok=False``.

    Raises
    ------
    FrameError
        With the byte offset and the reason of the first problem found.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    n = len(data)
    if n < 5:
        raise FrameError(max(n - 1, 0), f"frame cut short: {n} bytes")
    if data[0] != 0x68:
        raise FrameError(0, f"not an SZY206 frame: starts with {data[0]:02X} (68 expected)")
    if data[2] != 0x68:
        raise FrameError(2, f"second start byte is {data[2]:02X}, 68 expected")
    length = data[1]
    long_frame = length == 1
    if long_frame:
        size = frame_size(data)
        if size is None or n < 15:
            raise FrameError(n - 1, "long frame (L = 01) cut short")
    else:
        if length < 7:
            raise FrameError(1, f"L = {length}: user data needs at least 7 bytes (C, A, AFN)")
        size = length + 5
    if n != size:
        raise FrameError(1, f"length says a {size}-byte frame; got {n} bytes")
    if data[n - 1] != 0x16:
        raise FrameError(n - 1, f"end byte is {data[n - 1]:02X}, 16 expected")
    c = data[3]
    pos = 4
    divs = None
    if c & 0x40:
        if not long_frame and length < 8:
            raise FrameError(1, f"L = {length}: a split frame (DIV = 1) needs at least 8")
        divs = data[4]
        pos = 5
    got = data[n - 2]
    calc = crc8(data[3 : n - 2])
    if got != calc and verify:
        raise FrameError(n - 2, f"CRC mismatch: frame carries {got:02X}, computed {calc:02X}")
    address = data[pos : pos + 5]
    afn = data[pos + 5]
    dstart = pos + 6 + (2 if long_frame else 0)
    payload = data[dstart : n - 2]
    station, admin, number = parse_address(address, options.a2_order)
    up = bool(c & 0x80)
    cf = c & 0x0F
    names = AFN_NAMES.get(afn) or ("未定义功能码", "undefined function")
    frame = SZY206Frame(
        protocol="SZY206",
        function=afn,
        function_name=names[0],
        function_name_en=names[1],
        station=station,
        direction="up" if up else "down",
        checksum=got,
        checksum_ok=got == calc,
        size=n,
        control=c,
        fcb=(c >> 4) & 3,
        control_function=cf,
        div=bool(c & 0x40),
        divs=divs,
        admin_code=admin,
        station_number=number,
        data=payload,
        long_frame=long_frame,
    )
    if not long_frame:
        _interpret(frame, payload, dstart, up, afn, cf, options)
    return frame


_VALUE_AFNS = frozenset({0xC0, 0x81, 0xB0, 0xB2})


def _interpret(
    frame: SZY206Frame,
    payload: bytes,
    base: int,
    up: bool,
    afn: int,
    cf: int,
    options: Options,
) -> None:
    size = len(payload)
    if not up:
        aux = options.down_aux
        if aux == "pw_tp" or (aux == "auto" and size >= 7):
            if size < 7:
                raise FrameError(base, f"down data of {size} bytes has no room for PW + Tp")
            frame.password = payload[-7] | payload[-6] << 8
            frame.tp = Tp.from_bytes(payload[-5:])
            payload = payload[:-7]
        if afn == 0x02 and payload:
            frame.link = payload[0]
        return
    if afn == 0x02:
        if not payload:
            raise FrameError(base, "link check without its state byte")
        frame.link = payload[0]
        state = LINK_STATES.get(payload[0], ("未定义", "undefined"))
        frame.elements.append(
            Element(
                "link",
                f"链路检测：{state[0]}",
                f"link check: {state[1]}",
                "",
                _hex(payload[0]),
                0,
                payload[:1],
                "",
                None,
                None,
            )
        )
        if len(payload) == 6:
            frame.tp = Tp.from_bytes(payload[1:])
        return
    if afn == 0x5E:
        if size < 4:
            raise FrameError(base, f"status data of {size} bytes: alarm and status need 4")
        _words(frame, payload, 0, options)
        return
    if afn in _VALUE_AFNS:
        _values(frame, payload, base, cf, options)


def _order(name: str) -> Literal["little", "big"]:
    return "little" if name == "little" else "big"


def _hex(byte: int) -> str:
    return f"{byte:02X}"


_ALARM_CACHE: dict[int, Mapping[str, bool]] = {}
_STATUS_CACHE: dict[int, Mapping[str, bool]] = {}


def _bits(
    word: int, table: Mapping[int, tuple[str, str, str]], cache: dict[int, Mapping[str, bool]]
) -> Mapping[str, bool]:
    bits = cache.get(word)
    if bits is None:
        if len(cache) > 4096:
            cache.clear()
        bits = MappingProxyType({k: bool(word >> b & 1) for b, (k, _z, _e) in table.items()})
        cache[word] = bits
    return bits


def _words(frame: SZY206Frame, payload: bytes, at: int, options: Options) -> None:
    order = _order(options.word_order)
    alarm = int.from_bytes(payload[at : at + 2], order)
    status = int.from_bytes(payload[at + 2 : at + 4], order)
    frame.alarm = alarm
    frame.status = status
    append = frame.elements.append
    append(
        Element(
            "alarm",
            "终端报警状态",
            "alarm word",
            "",
            alarm,
            0,
            payload[at : at + 2],
            "",
            None,
            None,
            _bits(alarm, ALARM_BITS, _ALARM_CACHE),
        )
    )
    append(
        Element(
            "status",
            "终端状态",
            "terminal status",
            "",
            status,
            0,
            payload[at + 2 : at + 4],
            "",
            None,
            None,
            _bits(status, STATUS_BITS, _STATUS_CACHE),
        )
    )
    mode = status & 3
    append(Element("work_mode", "终端工作模式", "work mode", "", mode, 0, b"", "", None, None))


# Sizes (bytes) and decimals of one value per control function; None where the layout is
# not known (the values are kept raw).
_LAYOUT: dict[int, tuple[int, int, str, str, str]] = {
    1: (3, 1, "雨量", "rainfall", "mm"),
    2: (4, -1, "水位", "water level", "m"),  # decimals: Options.level_decimals
    9: (2, 1, "水温", "water temperature", "°C"),
    15: (4, 2, "水压", "water pressure", "kPa"),
}


def _values(frame: SZY206Frame, payload: bytes, base: int, cf: int, options: Options) -> None:
    size = len(payload)
    aux = options.up_aux
    qmap: list[tuple[int, QualityItem]] = []
    if cf == 13:
        unit = 0
    elif cf == 3:
        unit = 5
    elif cf == 10:
        if size < 5 + 4:
            raise FrameError(base, f"water-quality data of {size} bytes: bitmap alone needs 5")
        bitmap = int.from_bytes(payload[:5], "little")
        items = options.quality_items
        qmap = [
            (bit, items.get(bit) or _unknown_quality(bit)) for bit in range(40) if bitmap >> bit & 1
        ]
        unit = 0
    elif cf in _LAYOUT:
        unit = _LAYOUT[cf][0]
    else:
        unit = -1  # unknown layout: values kept raw
    body_len = 5 + sum(q.size for _b, q in qmap) if cf == 10 else 0
    with_tp: bool
    if aux == "tp":
        with_tp = True
    elif aux == "none":
        with_tp = False
    elif cf == 10 or cf == 13:
        with_tp = size - body_len - 4 == 5
    elif unit > 0:
        # Tp or not, from the length: the reading that gives whole values (whole
        # flow/volume pairs for flow) wins; one that leaves no value at all loses.
        pair = 10 if cf == 3 else unit
        a, b = size - 9, size - 4
        fits_a = a >= 0 and a % unit == 0
        fits_b = b >= 0 and b % unit == 0
        both = fits_a and fits_b
        with_tp = a > 0 and (a % pair == 0 or b % pair != 0) if both else fits_a
    else:
        with_tp = size >= 9
    end = size - (9 if with_tp else 4)
    if end < 0:
        raise FrameError(base, f"data of {size} bytes has no room for alarm and status words")
    if with_tp:
        frame.tp = Tp.from_bytes(payload[size - 5 :])
    values = payload[:end]
    append = frame.elements.append
    if cf == 10:
        if end != body_len:
            raise FrameError(
                base, f"water-quality bitmap selects {body_len} bytes of data; {end} present"
            )
        pos = 5
        for _bit, q in qmap:
            raw = values[pos : pos + q.size]
            append(
                Element(
                    f"quality_{q.key}",
                    q.name,
                    q.name_en,
                    q.unit,
                    _bcd_value(raw, q.decimals),
                    q.decimals,
                    raw,
                    "",
                    None,
                    None,
                )
            )
            pos += q.size
    elif cf == 3:
        if end % 5:
            raise FrameError(base, f"flow data of {end} bytes is not a multiple of 5")
        for i in range(0, end, 5):
            raw = values[i : i + 5]
            k = i // 10 + 1
            if i % 10 == 0:
                append(
                    Element(
                        f"flow_{k}",
                        "瞬时流量",
                        "instantaneous flow",
                        options.flow_unit,
                        _bcd_value(raw, 3),
                        3,
                        raw,
                        "",
                        None,
                        None,
                    )
                )
            else:
                append(
                    Element(
                        f"volume_{k}",
                        "累计水量",
                        "cumulative volume",
                        "m³",
                        _bcd_value(raw, 0),
                        0,
                        raw,
                        "",
                        None,
                        None,
                    )
                )
    elif unit > 0:
        usize, dec, name, name_en, unit_name = _LAYOUT[cf]
        if dec < 0:
            dec = options.level_decimals
        if end % usize:
            raise FrameError(base, f"{name_en} data of {end} bytes is not a multiple of {usize}")
        key = CONTROL_FUNCTIONS[cf][2]
        for i in range(0, end, usize):
            raw = values[i : i + usize]
            append(
                Element(
                    f"{key}_{i // usize + 1}",
                    name,
                    name_en,
                    unit_name,
                    _bcd_value(raw, dec),
                    dec,
                    raw,
                    "",
                    None,
                    None,
                )
            )
    elif unit < 0 and end:
        append(
            Element(
                "values",
                "数据",
                "values (layout unknown)",
                "",
                values.hex().upper(),
                0,
                values,
                "",
                None,
                None,
            )
        )
    _words(frame, payload, end, options)


def _unknown_quality(bit: int) -> QualityItem:
    return QualityItem(f"bit{bit}", f"水质参数{bit}", f"water-quality parameter {bit}", "", 0)


# --------------------------------------------------------------------------------------------
# Encoding


def encode_frame(
    *, control: int, address: str, afn: int, data: bytes = b"", divs: int | None = None
) -> bytes:
    """Wrap user data into ``68 L 68 … CS 16``. Set DIV in ``control`` to send ``divs``."""
    if len(address) != 10:
        raise ValueError(f"address {address!r} must be 10 hex digits")
    if bool(control & 0x40) != (divs is not None):
        raise ValueError("DIV in the control byte and divs must go together")
    user = bytes((control,)) + (bytes((divs,)) if divs is not None else b"")
    user += bytes.fromhex(address) + bytes((afn,)) + data
    if len(user) > 255:
        raise ValueError(f"user data of {len(user)} bytes exceeds 255 (L is one byte)")
    return bytes((0x68, len(user), 0x68)) + user + bytes((crc8(user), 0x16))


def encode_report(
    station: str,
    *,
    function: int = 3,
    values: Sequence[float | None] = (),
    quality: Mapping[int, float | None] | None = None,
    alarm: int = 0,
    status: int = 0,
    tp: Tp | None = None,
    afn: int = 0xC0,
    fcb: int = 3,
    options: Options = DEFAULT_OPTIONS,
) -> bytes:
    """A self-report (AFN C0H; also 81H, B0H replies) of the values of one control function.

    Parameters
    ----------
    station
        Address A as 10 hex digits.
    function
        Control function code: 2 water level, 3 flow (values alternate instantaneous flow
        and cumulative volume), 9 water temperature, 10 water quality (``quality`` maps bit →
        value), 13 alarm/status only, 15 water pressure, 1 rainfall.
    alarm, status
        The alarm and terminal status words.
    tp
        Time label; ``None`` leaves it out.

    Examples
    --------
    >>> frame = encode_report("5303810D00", function=3, values=[5.9, 106182], alarm=0x1001,
    ...                       status=0x0060, tp=Tp(0, 45, 8, 9, 10))
    >>> frame.hex().upper()
    '681A68B35303810D00C00059000000826110000001106000004508090A3516'
    """
    parts: list[bytes] = []
    if function == 3:
        for i, v in enumerate(values):
            parts.append(encode_value(v, 5, 3 if i % 2 == 0 else 0))
    elif function == 10:
        chosen = dict(quality or {})
        bitmap = 0
        for bit in chosen:
            bitmap |= 1 << bit
        parts.append(bitmap.to_bytes(5, "little"))
        for bit in sorted(chosen):
            q = options.quality_items.get(bit) or _unknown_quality(bit)
            parts.append(encode_value(chosen[bit], q.size, q.decimals))
    elif function in _LAYOUT:
        usize, dec = _LAYOUT[function][:2]
        if dec < 0:
            dec = options.level_decimals
        parts += [encode_value(v, usize, dec) for v in values]
    elif function != 13:
        raise ValueError(f"no value layout for control function {function}")
    order = _order(options.word_order)
    parts.append(alarm.to_bytes(2, order) + status.to_bytes(2, order))
    if tp is not None:
        parts.append(tp.to_bytes())
    return encode_frame(
        control=control_byte(up=True, function=function, fcb=fcb),
        address=station,
        afn=afn,
        data=b"".join(parts),
    )


def encode_link_check(station: str, state: int = 0xF2, *, tp: Tp | None = None) -> bytes:
    """A terminal's link check (AFN 02H): F0 log in, F1 log out, F2 keep alive."""
    data = bytes((state,)) + (tp.to_bytes() if tp is not None else b"")
    return encode_frame(
        control=control_byte(up=True, function=0), address=station, afn=0x02, data=data
    )


def encode_command(
    station: str,
    afn: int,
    data: bytes = b"",
    *,
    function: int = 0,
    password: int | None = 0,
    tp: Tp | None = None,
    fcb: int = 3,
) -> bytes:
    """A down command or query from the centre, with PW + Tp appended (AM206, RTUA).

    ``password=None`` leaves out both auxiliary fields; ``tp`` defaults to zeros.
    """
    aux = b""
    if password is not None:
        aux = password.to_bytes(2, "little") + (tp or Tp(0, 0, 0, 0, 0)).to_bytes()
    return encode_frame(
        control=control_byte(up=False, function=function, fcb=fcb),
        address=station,
        afn=afn,
        data=data + aux,
    )


def confirm(
    frame: SZY206Frame,
    *,
    data: bytes = b"\x00",
    password: int | None = None,
    tp: Tp | None = None,
) -> bytes:
    """The centre's confirmation of an up frame (C0H self-report, 81H alarm, 02H link check).

    As HM answers (docs/protocols.md §2.7): C with DIR cleared (FCB and function kept), the
    same address and AFN, one data byte ``00``; pass ``data=bytes((work_mode,))`` to answer as
    RTUA does. With ``password`` (and ``tp``), PW + Tp are appended (RTUA ``Confirm_02``).
    Whether the standard requires them is unconfirmed.
    """
    if frame.direction != "up":
        raise ValueError("only up frames are confirmed")
    aux = b""
    if password is not None:
        aux = password.to_bytes(2, "little") + (tp or Tp(0, 0, 0, 0, 0)).to_bytes()
    control = frame.control & 0x3F  # DIR and DIV cleared: a confirmation is one frame
    return encode_frame(control=control, address=frame.station, afn=frame.function, data=data + aux)


def encode(frame: SZY206Frame) -> bytes:
    """A decoded frame back to bytes (its data field as decoded; CS recomputed)."""
    if frame.long_frame:
        user = bytes((frame.control,))
        if frame.divs is not None:
            user += bytes((frame.divs,))
        user += bytes.fromhex(frame.station) + bytes((frame.function,))
        user += len(frame.data).to_bytes(2, "little") + frame.data
        return b"\x68\x01\x68" + user + bytes((crc8(user), 0x16))
    return encode_frame(
        control=frame.control,
        address=frame.station,
        afn=frame.function,
        data=frame.data,
        divs=frame.divs,
    )
