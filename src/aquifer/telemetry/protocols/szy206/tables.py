"""SZY206 code tables: control functions, AFNs, link states, alarm and status bits, work modes,
the water-quality bitmap and the value layout of each control function."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "AFN_NAMES",
    "ALARM_BITS",
    "CONTROL_FUNCTIONS",
    "DEFAULT_QUALITY_ITEMS",
    "LINK_STATES",
    "STATUS_BITS",
    "WORK_MODES",
    "QualityItem",
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


# Sizes (bytes) and decimals of one value per control function; None where the layout is
# not known (the values are kept raw).
_LAYOUT: dict[int, tuple[int, int, str, str, str]] = {
    1: (3, 1, "雨量", "rainfall", "mm"),
    2: (4, -1, "水位", "water level", "m"),  # decimals: Options.level_decimals
    9: (2, 1, "水温", "water temperature", "°C"),
    15: (4, 2, "水压", "water pressure", "kPa"),
}


def _unknown_quality(bit: int) -> QualityItem:
    return QualityItem(f"bit{bit}", f"水质参数{bit}", f"water-quality parameter {bit}", "", 0)
