"""SZY 206-2016: frame kinds, data items, options for the unconfirmed points, confirmations.

Frames built here are constructed from docs/protocols.md §2 (no published 81H, B0H or 02H
frame exists); the two real ones are szy206-69 and -72 (test_examples.py) and the vendor long
frame szy206-71 (tests/telemetry/data, from hm1212/szy206-protocol's test data).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aquifer.telemetry.protocols import FrameError, szy206
from aquifer.telemetry.protocols.crc import crc8
from aquifer.telemetry.protocols.szy206 import Options, Tp

from .examples import example

ADDR = "1405220200"  # A1 = 140522 (阳城县), A2 = 02 00 → 2 read low byte first
TP = Tp(30, 15, 8, 1, 10)
LONG_FRAME = Path(__file__).parent / "data" / "szy206-71-long-frame.hex"


def items(frame: szy206.SZY206Frame) -> list[tuple[str, object]]:
    return [
        (e.code, e.value) for e in frame.elements if e.code not in ("alarm", "status", "work_mode")
    ]


def test_control_field() -> None:
    c = szy206.parse_control(0xB3)
    assert (c.up, c.div, c.fcb, c.function) == (True, False, 3, 3)
    assert c.byte == 0xB3
    assert szy206.control_byte(up=False, function=0, fcb=3) == 0x30
    assert szy206.parse_control(0x7A) == szy206.Control(False, True, 3, 10)
    with pytest.raises(ValueError):
        szy206.control_byte(up=True, function=16)


def test_address_fields_and_a2_byte_order() -> None:
    raw = bytes.fromhex(ADDR)
    assert szy206.parse_address(raw) == (ADDR, "140522", 2)
    assert szy206.parse_address(raw, "big") == (ADDR, "140522", 512)
    assert szy206.parse_address(bytes.fromhex("AB03810D00"))[1] is None  # A1 not BCD
    f = szy206.decode(szy206.encode_link_check(ADDR), Options(a2_order="big"))
    assert f.station == ADDR and f.station_number == 512


@pytest.mark.parametrize(
    ("value", "size", "decimals", "raw"),
    [
        (5.9, 5, 3, "0059000000"),
        (106182, 5, 0, "8261100000"),
        (-1.25, 4, 3, "50120080"),
        (12.345, 4, 3, "45230100"),
        (None, 4, 3, "AAAAAAAA"),
    ],
)
def test_values_are_bcd_low_byte_first_with_a_sign_bit(
    value: float | None, size: int, decimals: int, raw: str
) -> None:
    assert szy206.encode_value(value, size, decimals).hex().upper() == raw


def test_encode_value_refuses_what_collides_with_the_sign_bit() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        szy206.encode_value(80000.0, 4, 3)


def test_self_report_water_level() -> None:
    frame = szy206.encode_report(
        ADDR, function=2, values=[12.345, -0.5], alarm=0x0004, status=0x0021, tp=TP
    )
    f = szy206.decode(frame)
    assert (f.function, f.direction, f.control_function) == (0xC0, "up", 2)
    assert f.function_name == "遥测终端自报实时数据"
    assert items(f) == [("water_level_1", 12.345), ("water_level_2", -0.5)]
    assert f.elements[0].unit == "m" and f.elements[0].decimals == 3
    assert (f.alarm, f.status, f.tp) == (0x0004, 0x0021, TP)
    alarm = next(e for e in f.elements if e.code == "alarm")
    assert alarm.bits is not None and alarm.bits["level_over_limit"]
    status = next(e for e in f.elements if e.code == "status")
    assert status.bits is not None and status.bits["door_closed"]
    assert next(e for e in f.elements if e.code == "work_mode").value == 1


def test_level_decimals_option() -> None:
    frame = szy206.encode_report(
        ADDR, function=2, values=[12.34], options=Options(level_decimals=2)
    )
    assert items(szy206.decode(frame, Options(level_decimals=2))) == [("water_level_1", 12.34)]
    assert items(szy206.decode(frame)) == [("water_level_1", 1.234)]  # read with 3 decimals


def test_self_report_flow_and_volume_pairs() -> None:
    frame = szy206.encode_report(ADDR, function=3, values=[5.9, 106182, 0.25, 77], tp=TP)
    f = szy206.decode(frame)
    assert items(f) == [("flow_1", 5.9), ("volume_1", 106182), ("flow_2", 0.25), ("volume_2", 77)]
    assert f.elements[0].unit == "m³/h" and f.elements[1].unit == "m³"
    assert szy206.decode(frame, Options(flow_unit="m³/s")).elements[0].unit == "m³/s"


def test_self_report_flow_alone_without_tp() -> None:
    frame = szy206.encode_report(ADDR, function=3, values=[5.9])
    f = szy206.decode(frame)
    assert items(f) == [("flow_1", 5.9)] and f.tp is None


@pytest.mark.parametrize(
    ("function", "vals", "code", "unit"),
    [
        (9, [15.2, 9.5], "water_temperature", "°C"),
        (15, [350.25], "water_pressure", "kPa"),
        (1, [12.5], "rainfall", "mm"),
    ],
)
def test_self_report_other_items(function: int, vals: list[float], code: str, unit: str) -> None:
    for tp in (TP, None):
        f = szy206.decode(szy206.encode_report(ADDR, function=function, values=vals, tp=tp))
        assert items(f) == [(f"{code}_{i + 1}", v) for i, v in enumerate(vals)]
        assert f.elements[0].unit == unit and f.tp == tp


def test_self_report_water_quality_bitmap() -> None:
    quality = {1: 7.25, 2: 8.12, 9: 0.25, 24: 23000}  # pH, DO, NH3-N, faecal coliforms (5 B)
    frame = szy206.encode_report(ADDR, function=10, quality=quality, tp=TP)
    f = szy206.decode(frame)
    assert items(f) == [
        ("quality_ph", 7.25),
        ("quality_dissolved_oxygen", 8.12),
        ("quality_ammonia_nitrogen", 0.25),
        ("quality_fecal_coliform", 23000),
    ]
    assert len(f.elements[3].raw) == 5
    assert f.data[:5] == ((1 << 1) | (1 << 2) | (1 << 9) | (1 << 24)).to_bytes(5, "little")


def test_quality_table_is_an_option() -> None:
    custom = {3: szy206.QualityItem("tp", "总磷", "total phosphorus", "mg/L", 3)}
    options = Options(quality_items=custom)
    frame = szy206.encode_report(ADDR, function=10, quality={3: 0.125}, options=options)
    assert items(szy206.decode(frame, options)) == [("quality_tp", 0.125)]
    assert items(szy206.decode(frame)) == [("quality_permanganate_index", 12.5)]


def test_alarm_status_only_and_word_order() -> None:
    frame = szy206.encode_report(ADDR, function=13, alarm=0x2001, status=0x0040, tp=TP)
    f = szy206.decode(frame)
    assert items(f) == [] and (f.alarm, f.status) == (0x2001, 0x0040)
    big = szy206.decode(frame, Options(word_order="big"))
    assert (big.alarm, big.status) == (0x0120, 0x4000)


def test_alarm_self_report_81_and_b0_reply() -> None:
    for afn in (0x81, 0xB0):
        f = szy206.decode(
            szy206.encode_report(ADDR, function=2, values=[3.5], afn=afn, alarm=0x0004, tp=TP)
        )
        assert f.function == afn and items(f) == [("water_level_1", 3.5)]
        assert f.alarm == 0x0004
    assert szy206.decode(szy206.encode_report(ADDR, afn=0x81)).function_name == "随机自报报警数据"


def test_up_aux_option() -> None:
    frame = szy206.encode_report(ADDR, function=2, values=[1.0, 2.0, 3.0], tp=TP)
    assert szy206.decode(frame, Options(up_aux="tp")).tp == TP
    with pytest.raises(FrameError, match="multiple of 4"):
        szy206.decode(frame, Options(up_aux="none"))


@pytest.mark.parametrize("state", [0xF0, 0xF1, 0xF2])
def test_link_check(state: int) -> None:
    f = szy206.decode(szy206.encode_link_check(ADDR, state))
    assert (f.function, f.link, f.direction) == (0x02, state, "up")
    assert f.function_name == "链路检测"
    assert f.elements[0].code == "link" and f.elements[0].value == f"{state:02X}"
    assert szy206.LINK_STATES[state][0] in f.elements[0].name


def test_confirmation_as_hm_sends_it() -> None:
    """HM answers C0H and 02H with 68 08 68, C & 7F, same A and AFN, data 00, CS, 16."""
    up = szy206.decode(example("szy206-69"))
    ack = szy206.confirm(up)
    assert ack[:3] == b"\x68\x08\x68" and ack[3] == 0xB3 & 0x7F
    assert ack[4:9] == bytes.fromhex("5303810D00") and ack[9] == 0xC0 and ack[10] == 0
    assert ack[11] == crc8(ack[3:11]) and ack[12] == 0x16
    f = szy206.decode(ack)
    assert f.direction == "down" and f.is_confirmation and f.password is None


def test_confirmation_with_work_mode_and_aux() -> None:
    up = szy206.decode(szy206.encode_link_check(ADDR))
    f = szy206.decode(szy206.confirm(up, data=b"\x01", password=0x1234, tp=TP))
    assert f.is_confirmation and f.password == 0x1234 and f.tp == TP
    assert f.link == 0x01
    with pytest.raises(ValueError, match="up frames"):
        szy206.confirm(f)


def test_down_command_carries_pw_and_tp() -> None:
    f = szy206.decode(szy206.encode_command(ADDR, 0xB0, function=2, password=0x0102, tp=TP))
    assert (f.function, f.direction, f.password, f.tp, f.is_confirmation) == (
        0xB0,
        "down",
        0x0102,
        TP,
        False,
    )
    assert f.function_name == "查询遥测终端实时值"
    f = szy206.decode(szy206.encode_command(ADDR, 0xB0, password=None))
    assert f.password is None and f.data == b""
    options = Options(down_aux="none")
    frame = szy206.encode_command(ADDR, 0x1F, bytes(15), password=0x0102, tp=TP)
    assert szy206.decode(frame, options).password is None


def test_split_frame_div() -> None:
    frame = szy206.encode_frame(
        control=szy206.control_byte(up=True, function=0, div=True),
        address=ADDR,
        afn=0x61,
        data=b"\x01\x02",
        divs=3,
    )
    f = szy206.decode(frame)
    assert f.div and f.divs == 3 and f.data == b"\x01\x02" and f.station == ADDR
    assert szy206.encode(f) == frame


def test_vendor_long_frame() -> None:
    """szy206-71 (HM test data): L = 01, C F0 with DIVS, AFN 61 image, 2-byte LE length."""
    data = bytes.fromhex(LONG_FRAME.read_text().strip())
    assert szy206.frame_size(data[:13]) == len(data) == 1039
    f = szy206.decode(data)
    assert f.long_frame and f.checksum_ok and f.function == 0x61 and f.divs == 0x2A
    assert len(f.data) == 1024 and f.station == "4406070001"
    assert szy206.encode(f) == data


def test_errors_carry_offset_and_reason() -> None:
    good = example("szy206-69")
    cases = [
        (b"\x69" + good[1:], 0, "not an SZY206"),
        (good[:2] + b"\x67" + good[3:], 2, "second start"),
        (good[:-1], 1, "length"),
        (good[:-1] + b"\x17", len(good) - 1, "end byte"),
        (good[:-2] + b"\x36\x16", len(good) - 2, "CRC mismatch"),
        (b"\x68\x03\x68\x80\x00\x00\x00\x16", 1, "at least 7"),
        (b"\x68", 0, "cut short"),
    ]
    for frame, offset, words in cases:
        with pytest.raises(FrameError) as err:
            szy206.decode(frame)
        assert err.value.offset == offset, frame.hex()
        assert words in err.value.reason


def test_frame_size_for_stream_framing() -> None:
    frame = example("szy206-69")
    assert szy206.frame_size(frame[:1]) is None
    assert szy206.frame_size(frame[:2]) == len(frame)
    with pytest.raises(FrameError) as err:
        szy206.frame_size(b"\x68\x08\x69")
    assert err.value.offset == 2
    with pytest.raises(FrameError):
        szy206.frame_size(b"\x7e")


def test_bad_checksum_decodes_without_verification() -> None:
    bad = example("szy206-69")[:-2] + b"\x36\x16"
    f = szy206.decode(bad, verify=False)
    assert not f.checksum_ok and f.checksum == 0x36


def test_data_that_fits_no_layout_is_an_error() -> None:
    frame = szy206.encode_frame(control=0xB2, address=ADDR, afn=0xC0, data=bytes(3))
    with pytest.raises(FrameError, match="alarm and status"):
        szy206.decode(frame)


def test_frame_details_in_json() -> None:
    d = szy206.decode(example("szy206-69")).to_dict()
    assert d["function"] == "C0" and d["afn"] == "C0" and d["control"] == "B3"
    assert d["admin_code"] == "530381" and d["station_number"] == 13
    assert d["tp"] == {"second": 0, "minute": 45, "hour": 8, "day": 9, "delay_min": 10}
    assert d["send_time"] is None and d["checksum"] == "35"
