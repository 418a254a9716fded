"""SL 651-2014 identifiers: elements (Appendix C), configuration items (Appendix D), station
types (Appendix A), function codes (Appendix B) and the status/alarm bits (Table 58), read by
:func:`status_bits`.

The decoder never needs a table entry to decode a value: an element's length and decimals come
from its data-definition byte (STD Table 26), so unknown and vendor identifiers decode too. The
tables give names, units and, for encoding, the nominal ``N(D,d)`` of each element (D digits,
d decimals), whose shortest byte count is the "typical" data-definition byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "CONFIG_ITEMS",
    "ELEMENTS",
    "ELEMENTS_BY_SYMBOL",
    "EXTENSIONS",
    "FUNCTIONS",
    "STATION_TYPES",
    "STATUS_BITS",
    "ElementDef",
    "definition_byte",
    "status_bits",
]


@dataclass(frozen=True, slots=True)
class ElementDef:
    """One identifier of STD Appendix C (or a vendor extension).

    Attributes
    ----------
    code
        Identifier leader (one byte), or ``0xFFxx`` for an extension identifier ``FF xx``.
    symbol
        The ASCII-mode identifier (``"H"``, ``"VT"``…).
    name, name_en, unit
        Names (the standard's Chinese; English) and unit.
    digits, decimals
        Nominal ``N(D,d)``; ``digits`` is 0 for values that are not BCD numbers.
    kind
        How the value is read: ``"bcd"`` (number), ``"status"`` (4-byte HEX bit field),
        ``"rain5"`` (12 × 1-byte HEX, 0.1 mm), ``"level5"`` (12 × 2-byte HEX, cm),
        ``"timestep"`` (3-byte BCD day/hour/minute).
    """

    code: int
    symbol: str
    name: str
    name_en: str
    unit: str
    digits: int
    decimals: int
    kind: str = "bcd"

    @property
    def hex(self) -> str:
        """The identifier as the frame writes it (``"0E"``, ``"FF2B"``)."""
        return f"{self.code:02X}" if self.code < 0x100 else f"{self.code:04X}"


def definition_byte(size: int, decimals: int) -> int:
    """The data-definition byte: high 5 bits = byte length, low 3 bits = decimals (Table 26).

    >>> hex(definition_byte(3, 2))
    '0x1a'
    """
    if not 0 <= size <= 31 or not 0 <= decimals <= 7:
        raise ValueError(f"size {size} (0–31) or decimals {decimals} (0–7) out of range")
    return size << 3 | decimals


def _e(
    code: int,
    symbol: str,
    name: str,
    name_en: str,
    unit: str,
    digits: int,
    decimals: int,
    kind: str = "bcd",
) -> ElementDef:
    return ElementDef(code, symbol, name, name_en, unit, digits, decimals, kind)


def _series(
    first: int, symbol: str, name: str, name_en: str, unit: str, digits: int, decimals: int
) -> list[ElementDef]:
    return [
        _e(
            first + i,
            f"{symbol}{i + 1}",
            f"{name}{i + 1}",
            f"{name_en} {i + 1}",
            unit,
            digits,
            decimals,
        )
        for i in range(8)
    ]


_SOIL = [
    (0x10, 10),
    (0x11, 20),
    (0x12, 30),
    (0x13, 40),
    (0x14, 50),
    (0x15, 60),
    (0x16, 80),
    (0x17, 100),
]
_PERIOD_RAIN = [
    (0x1A, "P1", 1),
    (0x1B, "P2", 2),
    (0x1C, "P3", 3),
    (0x1D, "P6", 6),
    (0x1E, "P12", 12),
]
_SHORT_RAIN = [(0x21, "PN01", 1), (0x22, "PN05", 5), (0x23, "PN10", 10), (0x24, "PN30", 30)]

_TABLE: list[ElementDef] = [
    _e(0x01, "AC", "断面面积", "cross-section area", "m²", 8, 2),
    _e(0x02, "AI", "瞬时气温", "air temperature", "°C", 3, 1),
    _e(0x03, "C", "瞬时水温", "water temperature", "°C", 3, 1),
    _e(0x04, "DRxnn", "时间步长码", "time-step code", "min", 6, 0, "timestep"),
    _e(0x05, "DT", "时段长", "period length", "h.min", 5, 2),
    _e(0x06, "ED", "日蒸发量", "daily evaporation", "mm", 5, 1),
    _e(0x07, "EJ", "当前蒸发", "current evaporation", "mm", 5, 1),
    _e(0x08, "FL", "气压", "air pressure", "hPa", 5, 0),
    _e(0x09, "GH", "闸坝、水库闸门开启高度", "gate opening height", "m", 5, 2),
    _e(0x0A, "GN", "输水设备、闸门(组)编号", "gate or equipment number", "", 3, 0),
    _e(0x0B, "GS", "输水设备类别", "equipment type", "", 1, 0),
    _e(0x0C, "GT", "水库、闸坝闸门开启孔数", "gates open", "孔", 3, 0),
    _e(0x0D, "GTP", "地温", "ground temperature", "°C", 3, 1),
    _e(0x0E, "H", "地下水瞬时埋深", "groundwater depth", "m", 6, 2),
    _e(0x0F, "HW", "波浪高度", "wave height", "m", 5, 2),
    *[
        _e(c, f"M{d}", f"{d}厘米处土壤含水量", f"soil moisture at {d} cm", "%", 4, 1)
        for c, d in _SOIL
    ],
    _e(0x18, "MST", "湿度", "humidity", "%", 4, 1),
    _e(0x19, "NS", "开机台数", "units running", "台", 2, 0),
    *[
        _e(c, s, f"{h}小时时段降水量", f"{h}-hour precipitation", "mm", 5, 1)
        for c, s, h in _PERIOD_RAIN
    ],
    _e(0x1F, "PD", "日降水量", "daily precipitation", "mm", 5, 1),
    _e(0x20, "PJ", "当前降水量", "current precipitation", "mm", 5, 1),
    *[
        _e(c, s, f"{m}分钟时段降水量", f"{m}-minute precipitation", "mm", 5, 1)
        for c, s, m in _SHORT_RAIN
    ],
    _e(0x25, "PR", "暴雨量", "storm precipitation", "mm", 5, 1),
    _e(0x26, "PT", "降水量累计值", "cumulative precipitation", "mm", 6, 1),
    _e(0x27, "Q", "瞬时流量、抽水流量", "instantaneous flow", "m³/s", 9, 3),
    *_series(0x28, "Q", "取(排)水口流量", "intake flow", "m³/s", 9, 3),
    _e(0x30, "QA", "总出库流量、过闸总流量", "total outflow", "m³/s", 9, 3),
    _e(0x31, "QZ", "输水设备流量、过闸(组)流量", "equipment flow", "m³/s", 9, 3),
    _e(0x32, "SW", "输沙量", "sediment discharge", "万t", 11, 3),
    _e(0x33, "UC", "风向", "wind direction", "", 2, 0),
    _e(0x34, "UE", "风力(级)", "wind force", "级", 2, 0),
    _e(0x35, "US", "风速", "wind speed", "m/s", 3, 1),
    _e(0x36, "VA", "断面平均流速", "mean velocity", "m/s", 5, 3),
    _e(0x37, "VJ", "当前瞬时流速", "instantaneous velocity", "m/s", 5, 3),
    _e(0x38, "VT", "电源电压", "supply voltage", "V", 4, 2),
    _e(0x39, "Z", "瞬时河道水位、潮位", "water level", "m", 7, 3),
    _e(0x3A, "ZB", "库(闸、站)下水位", "downstream water level", "m", 7, 3),
    _e(0x3B, "ZU", "库(闸、站)上水位", "upstream water level", "m", 7, 3),
    *_series(0x3C, "Z", "取(排)水口水位", "intake water level", "m", 7, 3),
    _e(0x44, "SQ", "含沙量", "sediment concentration", "kg/m³", 9, 3),
    _e(0x45, "ZT", "遥测站状态及报警信息", "station status and alarms", "", 0, 0, "status"),
    _e(0x46, "PH", "pH值", "pH", "", 4, 2),
    _e(0x47, "DO", "溶解氧", "dissolved oxygen", "mg/L", 4, 1),
    _e(0x48, "COND", "电导率", "conductivity", "µS/cm", 5, 0),
    _e(0x49, "TURB", "浊度", "turbidity", "度", 3, 0),
    _e(0x4A, "CODMN", "高锰酸盐指数", "permanganate index", "mg/L", 4, 1),
    _e(0x4B, "REDOX", "氧化还原电位", "redox potential", "mV", 5, 1),
    _e(0x4C, "NH4N", "氨氮", "ammonia nitrogen", "mg/L", 6, 2),
    _e(0x4D, "TP", "总磷", "total phosphorus", "mg/L", 5, 3),
    _e(0x4E, "TN", "总氮", "total nitrogen", "mg/L", 5, 2),
    _e(0x4F, "TOC", "总有机碳", "total organic carbon", "mg/L", 4, 2),
    _e(0x50, "CU", "铜", "copper", "mg/L", 7, 4),
    _e(0x51, "ZN", "锌", "zinc", "mg/L", 6, 4),
    _e(0x52, "SE", "硒", "selenium", "mg/L", 7, 5),
    _e(0x53, "AS", "砷", "arsenic", "mg/L", 7, 5),
    _e(0x54, "THG", "总汞", "total mercury", "mg/L", 7, 5),
    _e(0x55, "CD", "镉", "cadmium", "mg/L", 7, 5),
    _e(0x56, "PB", "铅", "lead", "mg/L", 7, 5),
    _e(0x57, "CHLA", "叶绿素a", "chlorophyll a", "mg/L", 4, 2),
    *_series(0x58, "WP", "水压", "water pressure", "kPa", 5, 2),
    *_series(0x60, "SYL", "水表剩余水量", "meter remaining volume", "m³", 11, 3),
    *_series(0x68, "SBL", "水表每小时水量", "meter hourly volume", "m³/h", 10, 2),
    _e(0x70, "VTA", "交流A相电压", "phase A voltage", "V", 4, 1),
    _e(0x71, "VTB", "交流B相电压", "phase B voltage", "V", 4, 1),
    _e(0x72, "VTC", "交流C相电压", "phase C voltage", "V", 4, 1),
    _e(0x73, "VIA", "交流A相电流", "phase A current", "A", 4, 1),
    _e(0x74, "VIB", "交流B相电流", "phase B current", "A", 4, 1),
    _e(0x75, "VIC", "交流C相电流", "phase C current", "A", 4, 1),
    _e(
        0xF4,
        "DRP",
        "1小时内每5分钟时段雨量",
        "5-minute rainfall in the hour",
        "0.1mm",
        0,
        0,
        "rain5",
    ),
    *[
        _e(
            0xF5 + i,
            f"DRZ{i + 1}",
            f"1小时内5分钟间隔相对水位{i + 1}",
            f"5-minute relative water level {i + 1}",
            "cm",
            0,
            0,
            "level5",
        )
        for i in range(8)
    ],
]

#: Appendix C elements by identifier leader.
ELEMENTS: dict[int, ElementDef] = {d.code: d for d in _TABLE}

#: Extension identifiers (``FF xx`` + data-definition byte) known from vendors. Not standard:
#: ``FF2B`` cumulative volume is one vendor's (docs/protocols.md, point [U]); a deployment
#: that meets another extension passes its own table to the decoder.
EXTENSIONS: dict[int, ElementDef] = {
    0xFF2B: _e(0xFF2B, "FF2B", "累计流量(厂家扩展)", "cumulative volume (vendor)", "m³", 11, 0),
}

#: Elements by ASCII-mode identifier.
ELEMENTS_BY_SYMBOL: dict[str, ElementDef] = {d.symbol: d for d in _TABLE}
ELEMENTS_BY_SYMBOL.update({d.symbol: d for d in EXTENSIONS.values()})


def _cfg(code: int, name: str, name_en: str, unit: str = "", kind: str = "bcd") -> ElementDef:
    return ElementDef(code, f"{code:02X}", name, name_en, unit, 0, 0, kind)


_CONFIG: list[ElementDef] = [
    _cfg(0x01, "中心站地址", "centre addresses", kind="hex"),
    _cfg(0x02, "遥测站地址", "station address", kind="hex"),
    _cfg(0x03, "密码", "password", kind="hex"),
    *[
        _cfg(
            0x04 + i,
            f"{'主用' if i % 2 == 0 else '备用'}信道{i // 2 + 1}",
            f"{'main' if i % 2 == 0 else 'backup'} channel {i // 2 + 1}",
            kind="hex",
        )
        for i in range(8)
    ],
    _cfg(0x0C, "工作方式", "work mode"),
    _cfg(0x0D, "遥测站采集要素设置", "elements collected", kind="hex"),
    _cfg(0x0E, "中继站(集合转发站)服务地址范围", "relay address range", kind="hex"),
    _cfg(0x0F, "遥测站通信设备识别号", "communication device id", kind="hex"),
    _cfg(0x20, "定时报时间间隔", "timed-report interval", "h"),
    _cfg(0x21, "加报时间间隔", "added-report interval", "min"),
    _cfg(0x22, "降水量日起始时间", "precipitation day start", "h"),
    _cfg(0x23, "采样间隔", "sampling interval", "s"),
    _cfg(0x24, "水位数据存储间隔", "water-level storage interval", "min"),
    _cfg(0x25, "雨量计分辨力", "rain-gauge resolution", "mm"),
    _cfg(0x26, "水位计分辨力", "water-level gauge resolution", "cm"),
    _cfg(0x27, "雨量加报阈值", "rainfall added-report threshold", "mm"),
    *[_cfg(0x28 + i, f"水位基值{i + 1}", f"water-level base {i + 1}", "m") for i in range(8)],
    *[
        _cfg(0x30 + i, f"水位修正基值{i + 1}", f"water-level correction {i + 1}", "m")
        for i in range(8)
    ],
    *[
        _cfg(0x38 + i, f"加报水位{i + 1}", f"added-report water level {i + 1}", "m")
        for i in range(8)
    ],
    _cfg(0x40, "加报水位以上加报阈值", "threshold above added-report level", "m"),
    _cfg(0x41, "加报水位以下加报阈值", "threshold below added-report level", "m"),
    *[_cfg(0x8E + i, f"充值量{i + 1}", f"recharge volume {i + 1}", "m³") for i in range(8)],
    _cfg(0x96, "定值量", "fixed-value volume", "m³"),
    *[_cfg(0x99 + i, f"水表{i + 1}底数", f"meter {i + 1} base reading", "m³") for i in range(8)],
    *[
        _cfg(0xA1 + i, f"剩余水量{i + 1}报警值", f"remaining-volume {i + 1} alarm", "m³")
        for i in range(8)
    ],
]

#: Configuration items (Appendix D.1 basic, D.4 runtime), used by functions 40H–43H and 49H.
CONFIG_ITEMS: dict[int, ElementDef] = {d.code: d for d in _CONFIG}

#: Station type codes (Appendix A): HEX byte → (ASCII letter, Chinese, English).
STATION_TYPES: dict[int, tuple[str, str, str]] = {
    0x50: ("P", "降水", "rainfall"),
    0x48: ("H", "河道", "river"),
    0x4B: ("K", "水库(湖泊)", "reservoir"),
    0x5A: ("Z", "闸坝", "gate or dam"),
    0x44: ("D", "泵站", "pump station"),
    0x54: ("T", "潮汐", "tide"),
    0x4D: ("M", "墒情", "soil moisture"),
    0x47: ("G", "地下水", "groundwater"),
    0x51: ("Q", "水质", "water quality"),
    0x49: ("I", "取水口", "intake"),
    0x4F: ("O", "排水口", "outfall"),
}

#: Function codes (Appendix B): code → (Chinese, English).
FUNCTIONS: dict[int, tuple[str, str]] = {
    0x2F: ("链路维持报", "link keep-alive"),
    0x30: ("测试报", "test report"),
    0x31: ("均匀时段水文信息报", "evenly-timed report"),
    0x32: ("遥测站定时报", "timed report"),
    0x33: ("遥测站加报报", "added (alarm) report"),
    0x34: ("遥测站小时报", "hourly report"),
    0x35: ("遥测站人工置数报", "manual-set report"),
    0x36: ("遥测站图片报或中心站查询遥测站图片采集信息", "picture report / picture query"),
    0x37: ("中心站查询遥测站实时数据", "real-time data query"),
    0x38: ("中心站查询遥测站时段数据", "time-range data query"),
    0x39: ("中心站查询遥测站人工置数", "manual-set data query"),
    0x3A: ("中心站查询遥测站指定要素数据", "specified-element query"),
    0x40: ("中心站修改遥测站基本配置表", "write basic configuration"),
    0x41: ("中心站读取遥测站基本配置表/遥测站自报基本配置表", "read basic configuration"),
    0x42: ("中心站修改遥测站运行参数配置表", "write runtime configuration"),
    0x43: ("中心站读取遥测站运行参数配置表", "read runtime configuration"),
    0x44: ("查询水泵电机实时工作数据", "pump motor real-time data query"),
    0x45: ("查询遥测终端软件版本", "software version query"),
    0x46: ("查询遥测站状态和报警信息", "status and alarm query"),
    0x47: ("初始化固态存储数据", "initialise storage"),
    0x48: ("恢复遥测站出厂设置", "restore factory settings"),
    0x49: ("修改密码", "change password"),
    0x4A: ("设置遥测站时钟", "set clock"),
    0x4B: ("设置遥测终端IC卡状态", "set IC-card state"),
    0x4C: ("控制水泵开关命令/水泵状态信息自报", "pump on/off / pump status"),
    0x4D: ("控制阀门开关命令/阀门状态信息自报", "valve on/off / valve status"),
    0x4E: ("控制闸门开关命令/闸门状态信息自报", "gate on/off / gate status"),
    0x4F: ("水量定值控制命令", "fixed-value volume control"),
    0x50: ("中心站查询遥测站事件记录", "event record query"),
    0x51: ("中心站查询遥测站时钟", "clock query"),
}

#: Table 58, status and alarm bits (element 45H, function 46H): bit → (key, Chinese, English).
#: Each key names what a set bit (1) means.
STATUS_BITS: dict[int, tuple[str, str, str]] = {
    0: ("ac_power_off", "交流电充电状态：停电", "AC power off"),
    1: ("battery_low", "蓄电池电压状态：电压低", "battery voltage low"),
    2: ("level_over_limit", "水位超限报警", "water level over limit"),
    3: ("flow_over_limit", "流量超限报警", "flow over limit"),
    4: ("quality_over_limit", "水质超限报警", "water quality over limit"),
    5: ("flow_meter_fault", "流量仪表故障", "flow meter fault"),
    6: ("level_meter_fault", "水位仪表故障", "water-level meter fault"),
    7: ("door_closed", "终端箱门状态：关闭(0 为开启)", "cabinet door closed (0 = open)"),
    8: ("memory_fault", "存储器故障", "memory fault"),
    9: ("ic_card_valid", "IC卡功能有效", "IC card function valid"),
    10: ("pump_stopped", "水泵工作状态：停止(0 为启动)", "pump stopped (0 = running)"),
    11: ("remaining_volume_alarm", "剩余水量超限报警", "remaining volume over limit"),
}


_STATUS_CACHE: dict[int, Mapping[str, bool]] = {}


def status_bits(word: int) -> Mapping[str, bool]:
    """Table 58 bits of a status word, by name (read-only, cached per word)."""
    bits = _STATUS_CACHE.get(word)
    if bits is None:
        if len(_STATUS_CACHE) > 4096:
            _STATUS_CACHE.clear()
        bits = MappingProxyType(
            {k: bool(word >> bit & 1) for bit, (k, _z, _e) in STATUS_BITS.items()}
        )
        _STATUS_CACHE[word] = bits
    return bits
