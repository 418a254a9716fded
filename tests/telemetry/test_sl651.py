"""SL 651-2014: every frame kind, elements, errors, acknowledgements, M3 reassembly.

Frames built here (marked "constructed") follow docs/protocols.md; there is no published real
frame with groundwater depth (0E), station type 47 or ASCII mode.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from aquifer.telemetry.protocols import CHINA_TZ, FrameError, sl651
from aquifer.telemetry.protocols.crc import crc16_modbus
from aquifer.telemetry.protocols.sl651 import (
    ACK,
    EOT,
    ESC,
    ETB,
    ETX,
    NAK,
    SYN,
    Reassembler,
    ReassemblyError,
    SL651Frame,
)
from aquifer.telemetry.protocols.sl651.elements import ELEMENTS, definition_byte

from .examples import example

T = datetime(2024, 3, 1, 8, 0, tzinfo=CHINA_TZ)
SEND = datetime(2024, 3, 1, 8, 0, 12, tzinfo=CHINA_TZ)
STATION = "1405220123"


def groundwater_report(function: int = 0x32, **kw: object) -> bytes:
    """Constructed: a groundwater station (type 47) report with depth, temperature, voltage."""
    args: dict[str, object] = dict(
        serial=7,
        send_time=SEND,
        observation_time=T,
        elements=[(0x0E, 12.34), (0x03, 15.2), (0x38, 12.44)],
        center=1,
        password=0x1234,
    )
    args.update(kw)
    return sl651.encode_report(function, STATION, **args)  # type: ignore[arg-type]


def values(frame: SL651Frame) -> list[tuple[str, object]]:
    return [(e.code, e.value) for e in frame.elements]


# Frame kinds ---------------------------------------------------------------------------------


def test_keep_alive_2f_real() -> None:
    f = sl651.decode(example("sl651-01"))
    assert (f.function, f.direction, f.serial, f.elements) == (0x2F, "up", 3, [])
    assert f.function_name == "链路维持报"
    assert f.send_time == datetime(2059, 10, 11, 15, 51, 11, tzinfo=CHINA_TZ)


def test_keep_alive_2f_gets_no_reply() -> None:
    with pytest.raises(ValueError, match="no reply"):
        sl651.acknowledge(sl651.decode(example("sl651-01")))


@pytest.mark.parametrize("function", [0x30, 0x32, 0x33, 0x34, 0x37])
def test_groundwater_report_kinds(function: int) -> None:
    """Constructed 30H test, 32H timed, 33H added, 34H hourly, 37H real-time reports."""
    f = sl651.decode(groundwater_report(function))
    assert f.function == function and f.direction == "up" and f.checksum_ok
    assert f.station == STATION and f.body_station == STATION
    assert f.station_type == 0x47
    assert f.serial == 7 and f.password == 0x1234 and f.center == 1
    assert f.send_time == SEND and f.observation_time == T
    assert values(f) == [("0E", 12.34), ("03", 15.2), ("38", 12.44)]
    depth = f.elements[0]
    assert (depth.name, depth.name_en, depth.unit, depth.decimals, depth.symbol) == (
        "地下水瞬时埋深",
        "groundwater depth",
        "m",
        2,
        "H",
    )
    assert depth.raw == bytes.fromhex("001234")  # 0E1A: 3 bytes, 2 decimals
    assert depth.observed_at == T


def test_evenly_timed_report_31() -> None:
    """Constructed 31H: time step 5 min, then 12 five-minute relative levels (F5C0)."""
    levels = [10, 12, None, 15, 15, 16, 17, 20, 21, 22, 22, None]
    frame = sl651.encode_report(
        0x31,
        STATION,
        serial=9,
        send_time=SEND,
        observation_time=T,
        station_type=0x49,
        elements=[(0x04, 5), (0xF5, levels)],
    )
    f = sl651.decode(frame)
    assert f.function == 0x31 and f.function_name == "均匀时段水文信息报"
    assert values(f) == [("04", 5), ("F5", levels)]
    assert f.elements[1].unit == "cm"


def test_hourly_report_with_several_observation_times_real() -> None:
    """sl651-39: an hourly report; each F0F0 group applies to the elements after it."""
    f = sl651.decode(example("sl651-39"))
    observed = {e.code: e.observed_at for e in f.elements}
    assert observed["F4"] == datetime(2024, 2, 27, 8, 5, tzinfo=CHINA_TZ)
    assert observed["26"] == datetime(2024, 2, 27, 9, 0, tzinfo=CHINA_TZ)
    assert observed["38"] == datetime(2024, 2, 27, 9, 0, tzinfo=CHINA_TZ)
    assert f.observation_time == datetime(2024, 2, 27, 8, 5, tzinfo=CHINA_TZ)


def test_multi_station_body_keeps_each_station() -> None:
    """A body may repeat F1F1 … F0F0 … per station (STD 6.6.2.7); elements keep theirs."""
    body = bytes.fromhex("0001240301080012")
    body += bytes.fromhex("F1F1140522000149F0F02403010800") + sl651.encode_element(0x3C, 1.5)
    body += bytes.fromhex("F1F1140522000249F0F02403010800") + sl651.encode_element(0x3C, 2.5)
    f = sl651.decode(sl651.encode_frame(function=0x32, station="1405220001", body=body))
    assert [(e.station, e.value) for e in f.elements] == [("1405220001", 1.5), ("1405220002", 2.5)]


def test_withdrawal_station_elements() -> None:
    """Constructed intake (I, 49H) report: flow, intake level, pressure, hourly volume,
    remaining volume, the vendor cumulative volume FF2B, status word."""
    elements = [
        (0x27, 0.012),
        (0x3C, 101.5),
        (0x58, 350.25),
        (0x68, 12.5),
        (0x60, 1234.5),
        (0xFF2B, 106182),
        (0x45, 0x0000_0481),
    ]
    f = sl651.decode(
        sl651.encode_report(
            0x32,
            STATION,
            serial=1,
            send_time=SEND,
            observation_time=T,
            station_type=0x49,
            elements=elements,
        )
    )
    assert values(f) == [(f"{c:02X}" if c < 256 else f"{c:04X}", v) for c, v in elements]
    names = {e.code: (e.name_en, e.unit) for e in f.elements}
    assert names["27"] == ("instantaneous flow", "m³/s")
    assert names["FF2B"] == ("cumulative volume (vendor)", "m³")
    assert names["68"] == ("meter hourly volume 1", "m³/h")
    status = f.elements[-1]
    assert status.bits is not None
    assert status.bits["ac_power_off"] and status.bits["door_closed"]
    assert status.bits["pump_stopped"] and not status.bits["battery_low"]


def test_water_quality_elements() -> None:
    elements = [(0x46, 7.25), (0x47, 8.1), (0x48, 512), (0x49, 3), (0x4C, 0.25)]
    f = sl651.decode(
        sl651.encode_report(
            0x32,
            STATION,
            serial=1,
            send_time=SEND,
            observation_time=T,
            station_type=0x51,
            elements=elements,
        )
    )
    assert values(f) == [(f"{c:02X}", v) for c, v in elements]
    assert [e.unit for e in f.elements] == ["", "mg/L", "µS/cm", "度", "mg/L"]


def test_multi_packet_m3_real_packet_1() -> None:
    f = sl651.decode(example("sl651-27"))
    assert (f.start, f.end, f.packet_total, f.packet_seq) == (SYN, ETB, 13, 1)
    assert f.length == 0x11C and f.size == 17 + 0x11C
    assert f.serial == 5 and f.station_type == 0x48


# Data-definition byte and values --------------------------------------------------------------


@pytest.mark.parametrize(
    ("ddef", "size", "decimals"),
    [(0x19, 3, 1), (0x23, 4, 3), (0x1A, 3, 2), (0x12, 2, 2), (0x2A, 5, 2), (0x60, 12, 0)],
)
def test_definition_byte(ddef: int, size: int, decimals: int) -> None:
    assert definition_byte(size, decimals) == ddef
    assert (ddef >> 3, ddef & 7) == (size, decimals)


def test_lengths_come_from_the_definition_byte_not_the_table() -> None:
    """Level as 3923 (4 B, 3 dec) and as 391A (3 B, 2 dec) both decode (protocols.md §1.4)."""
    for size, dec, value in ((4, 3, 10.49), (3, 2, 10.49), (5, 0, 1049)):
        element = sl651.encode_element(0x39, value, decimals=dec, size=size)
        assert element[1] == definition_byte(size, dec)
        body = bytes.fromhex("0001240301080012") + element
        f = sl651.decode(sl651.encode_frame(function=0x32, station=STATION, body=body))
        assert values(f) == [("39", value)]


@pytest.mark.parametrize(
    ("raw", "ddef", "expected"),
    [
        ("FF00000172", 0x2A, -1.72),  # sl651-64: 762A, leading FF = negative
        ("FF0172", 0x1A, -1.72),
        ("F172", 0x12, -1.72),  # F digits instead of a whole FF byte
        ("FFFFFF", 0x1A, None),  # all FF: invalid
        ("AAAAAAAA", 0x23, None),  # AA fill: no data (REF)
        ("0012A4", 0x1A, None),  # not BCD
        ("000000", 0x1A, 0.0),
    ],
)
def test_bcd_values(raw: str, ddef: int, expected: float | None) -> None:
    body = bytes.fromhex("0001240301080012F0F0240301080076") + bytes((ddef,))
    body += bytes.fromhex(raw)
    f = sl651.decode(sl651.encode_frame(function=0x32, station=STATION, body=body))
    assert f.elements[0].value == expected
    assert f.elements[0].code == "76"  # a reserved leader, kept by its hex
    assert f.elements[0].name_en == "unknown element"


def test_negative_values_encode_with_a_leading_ff() -> None:
    assert sl651.encode_element(0x03, -5.5) == bytes.fromhex("0311FF55")  # shortest size
    assert sl651.encode_element(0x03, -12.5) == bytes.fromhex("0319FF0125")
    assert sl651.encode_element(0x76, -1.72, decimals=2, size=5).hex().upper() == "762AFF00000172"
    f = sl651.decode(groundwater_report(elements=[(0x03, -5.5), (0x0E, -0.25)]))
    assert values(f) == [("03", -5.5), ("0E", -0.25)]


def test_extension_identifier_ff() -> None:
    """FF + extension byte + its own data-definition byte (sl651-30: FF 11 23)."""
    f = sl651.decode(example("sl651-30"))
    ext = next(e for e in f.elements if e.code == "FF11")
    assert (ext.value, ext.decimals, ext.raw) == (0.008, 3, bytes.fromhex("00000008"))


def test_no_data_value_encodes_as_ff() -> None:
    assert sl651.encode_element(0x0E, None) == bytes.fromhex("0E1AFFFFFF")
    f = sl651.decode(groundwater_report(elements=[(0x0E, None)]))
    assert values(f) == [("0E", None)]


def test_encode_element_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        sl651.encode_element(0x0E, 123456.78, size=3)


def test_every_groundwater_element_has_names_and_unit() -> None:
    for code in (
        0x0E,
        0x03,
        0x27,
        0x39,
        0x38,
        0x45,
        0x46,
        0x47,
        0x48,
        0x49,
        *range(0x28, 0x30),
        *range(0x3C, 0x44),
        *range(0x58, 0x70),
    ):
        d = ELEMENTS[code]
        assert d.name and d.name_en and d.symbol, hex(code)
        if d.kind == "bcd" and code not in (0x46,):
            assert d.unit, hex(code)


# ASCII mode (constructed: no real ASCII frame was found) ------------------------------------


def test_ascii_report_layout() -> None:
    frame = groundwater_report(encoding="ASCII", elements=[(0x0E, 12.34), (0x38, 12.44)])
    assert frame[:1] == b"\x01"
    text = frame.decode("ascii")
    assert text[1:3] == "01" and text[3:13] == STATION and text[13:17] == "1234"
    assert text[17:19] == "32" and text[19] == "0"
    assert text[23] == "\x02"
    assert " ST 1405220123 G TT 2403010800 H 12.34 VT 12.44 " in text
    assert text[-5] == "\x03"
    assert text[-4:] == f"{crc16_modbus(frame[:-4]):04X}"


def test_ascii_report_decodes() -> None:
    f = sl651.decode(groundwater_report(encoding="ASCII"))
    assert f.protocol == "SL651-ASCII" and f.encoding == "ASCII"
    assert (f.station, f.center, f.password, f.serial) == (STATION, 1, 0x1234, 7)
    assert f.station_type == 0x47 and f.send_time == SEND and f.observation_time == T
    assert values(f) == [("0E", 12.34), ("03", 15.2), ("38", 12.44)]
    assert [e.symbol for e in f.elements] == ["H", "C", "VT"]


def test_ascii_missing_value_m_and_status_and_step() -> None:
    body = b"0007240301080012 ST 1405220123 G TT 2403010800 DRN05 H M ZT 00000081 Z -1.250 "
    f = sl651.decode(
        sl651.encode_frame(function=0x32, station=STATION, body=body, encoding="ASCII")
    )
    assert values(f) == [("04", 5), ("0E", None), ("45", 0x81), ("39", -1.25)]
    assert f.elements[2].bits is not None and f.elements[2].bits["ac_power_off"]
    assert f.elements[3].decimals == 3


def test_ascii_bad_value_offset() -> None:
    body = b"0007240301080012 ST 1405220123 G TT 2403010800 H 12,34 "
    frame = sl651.encode_frame(function=0x32, station=STATION, body=body, encoding="ASCII")
    with pytest.raises(FrameError) as err:
        sl651.decode(frame)
    assert err.value.offset == frame.index(b"12,34")
    assert "not a number" in err.value.reason


# Acknowledgements -----------------------------------------------------------------------------


def test_acknowledge_reproduces_the_published_confirmation() -> None:
    """QDOC sl651-51 confirms a 32H frame: serial 0012, send time 141205110002, ESC."""
    up = sl651.encode_report(
        0x32,
        "0012345678",
        serial=0x12,
        send_time=datetime(2014, 12, 5, 11, 0, 2, tzinfo=CHINA_TZ),
        observation_time=T,
        center=2,
        password=0x04D2,
    )
    assert sl651.acknowledge(sl651.decode(up), end=ESC) == example("sl651-51")


def test_acknowledge_layout_and_decode() -> None:
    up = sl651.decode(groundwater_report())
    ack = sl651.acknowledge(up, end=EOT)
    assert ack[2:7] == bytes.fromhex(STATION) and ack[7] == 1  # station before centre
    assert ack[11:13] == b"\x80\x08"
    f = sl651.decode(ack)
    assert f.direction == "down" and f.is_confirmation
    assert (f.function, f.serial, f.send_time, f.end) == (0x32, 7, SEND, EOT)
    assert f.password == 0x1234


def m3_picture() -> list[bytes]:
    """Constructed 36H picture message: packet 1 carries serial, time, F1F1, F0F0, F3F3."""
    body = (
        sl651.encode_body(
            serial=5, send_time=SEND, station=STATION, station_type=0x47, observation_time=T
        )
        + b"\xf3\xf3"
        + bytes(400)
    )
    return sl651.encode_packets(0x36, STATION, body, max_body=200)


def test_acknowledge_m3_message_and_nak() -> None:
    packets = m3_picture()
    first = sl651.decode(packets[0])
    assert (first.packet_total, first.packet_seq, first.serial) == (3, 1, 5)
    # The whole message is confirmed once: SYN, total copied, sequence = total.
    ack = sl651.decode(sl651.acknowledge(first, end=ESC))
    assert (ack.start, ack.packet_total, ack.packet_seq, ack.end) == (SYN, 3, 3, ESC)
    assert ack.direction == "down" and ack.serial == 5 and ack.is_confirmation
    # A bad packet is asked for again with NAK and that packet's sequence number.
    second = sl651.decode(packets[1])
    assert second.serial is None
    nak = sl651.decode(sl651.negative_acknowledge(second, serial=5, send_time=SEND))
    assert (nak.end, nak.packet_seq, nak.serial, nak.direction) == (NAK, 2, 5, "down")
    with pytest.raises(ValueError, match="M3"):
        sl651.negative_acknowledge(sl651.decode(groundwater_report()))


def test_acknowledge_ascii() -> None:
    ack = sl651.acknowledge(sl651.decode(groundwater_report(encoding="ASCII")))
    f = sl651.decode(ack)
    assert f.encoding == "ASCII" and f.direction == "down" and f.is_confirmation
    assert f.serial == 7 and f.end == ESC


def test_vendor_ack_with_06_decodes() -> None:
    f = sl651.decode(example("sl651-63"))
    assert f.end == ACK and f.is_confirmation


# M3 reassembly -------------------------------------------------------------------------------


def m3_message(total_bytes: int = 900) -> tuple[bytes, list[bytes]]:
    body = sl651.encode_body(
        serial=11,
        send_time=SEND,
        station=STATION,
        station_type=0x47,
        observation_time=T,
        elements=[(0x0E, float(i)) for i in range(total_bytes // 5)],
    )
    return body, sl651.encode_packets(0x31, STATION, body, max_body=120)


def test_reassembler_returns_the_whole_body_once() -> None:
    body, packets = m3_message()
    assert len(packets) > 3
    r = Reassembler()
    frames = [sl651.decode(p) for p in packets]
    assert [f.end for f in frames][-2:] == [ETB, ETX]
    results = [r.add(f, now=0.0) for f in reversed(frames)]  # any order
    assert results[:-1] == [None] * (len(frames) - 1)
    message = results[-1]
    assert message is not None and message.body == body
    assert message.packets == len(packets) and message.serial == 11
    assert len(message.elements) == 900 // 5 and message.elements[3].value == 3.0
    assert len(r) == 0


def test_reassembler_refuses_inconsistent_totals() -> None:
    _body, packets = m3_message()
    r = Reassembler()
    r.add(sl651.decode(packets[1]), now=0.0)
    other = sl651.encode_frame(
        function=0x31, station=STATION, body=b"x" * 10, packet=(len(packets) + 1, 2)
    )
    with pytest.raises(ReassemblyError) as err:
        r.add(sl651.decode(other), now=1.0)
    assert err.value.offset == 14 and "packets" in err.value.reason


def test_reassembler_resend_missing_expiry_and_plain_frames() -> None:
    _body, packets = m3_message()
    r = Reassembler(max_age=60)
    for p in packets[:-1]:
        assert r.add(sl651.decode(p), now=0.0) is None
    assert r.add(sl651.decode(packets[1]), now=1.0) is None  # a resent packet
    assert r.missing(STATION, 0x31) == [len(packets)]
    assert r.expire(now=61.0) == [(STATION, 0x31)]
    assert r.missing(STATION, 0x31) == []
    plain = sl651.decode(groundwater_report())
    assert r.add(plain) is plain


def test_reassembler_keeps_stations_apart() -> None:
    _b, packets_a = m3_message()
    body = sl651.encode_body(serial=3, send_time=SEND) + bytes(300)
    packets_b = sl651.encode_packets(0x31, "1405229999", body, max_body=200)
    r = Reassembler()
    r.add(sl651.decode(packets_a[0]), now=0)
    r.add(sl651.decode(packets_b[0]), now=0)
    assert len(r) == 2


# Errors: offset and reason ------------------------------------------------------------------


def test_wrong_crc_points_at_the_crc() -> None:
    frame = bytearray(example("sl651-07"))
    frame[-1] ^= 1
    with pytest.raises(FrameError) as err:
        sl651.decode(bytes(frame))
    assert err.value.offset == len(frame) - 2
    assert err.value.reason == "CRC mismatch: frame carries F510, computed F511"
    assert str(err.value) == f"error at byte {len(frame) - 2}: {err.value.reason}"
    f = sl651.decode(bytes(frame), verify=False)
    assert not f.checksum_ok and f.checksum == 0xF510


@pytest.mark.parametrize(
    ("mutate", "offset", "words"),
    [
        (lambda b: b[:-5], 11, "length field"),
        (lambda b: b[:10], 9, "cut short"),
        (lambda b: b"\x7e\x7f" + b[2:], 1, "not an SL651"),
        (lambda b: b"\x68" + b[1:], 0, "not an SL651"),
        (lambda b: b[:11] + b"\x40" + b[12:], 11, "direction"),
        (lambda b: b[:13] + b"\x05" + b[14:], 13, "start character"),
    ],
)
def test_structural_errors(mutate: object, offset: int, words: str) -> None:
    frame = mutate(example("sl651-07"))  # type: ignore[operator]
    with pytest.raises(FrameError) as err:
        sl651.decode(frame)
    assert err.value.offset == offset and words in err.value.reason


def _with_crc(frame: bytes) -> bytes:
    return frame[:-2] + crc16_modbus(frame[:-2]).to_bytes(2, "big")


def test_bad_end_character() -> None:
    frame = bytearray(example("sl651-07"))
    frame[-3] = 0x09
    with pytest.raises(FrameError) as err:
        sl651.decode(_with_crc(bytes(frame)))
    assert err.value.offset == len(frame) - 3 and "end character" in err.value.reason


def test_bad_send_time_points_at_the_time() -> None:
    frame = bytearray(example("sl651-07"))  # send time 170718102202 at bytes 16–21
    frame[17] = 0x13  # month 13
    with pytest.raises(FrameError) as err:
        sl651.decode(_with_crc(bytes(frame)))
    assert err.value.offset == 16 and "send time" in err.value.reason
    frame[17] = 0x1A  # not BCD
    with pytest.raises(FrameError) as err:
        sl651.decode(_with_crc(bytes(frame)))
    assert err.value.offset == 17 and "not BCD" in err.value.reason


def test_element_overrunning_the_body_points_at_its_identifier() -> None:
    body = bytes.fromhex("00012403010800120E1A0012")  # 0E1A says 3 bytes, 2 present
    frame = sl651.encode_frame(function=0x32, station=STATION, body=body)
    with pytest.raises(FrameError) as err:
        sl651.decode(frame)
    assert err.value.offset == 14 + 8 and "needs 3 bytes, 2 left" in err.value.reason


def test_frame_size_for_stream_framing() -> None:
    frame = example("sl651-07")
    assert sl651.frame_size(frame[:5]) is None
    assert sl651.frame_size(frame[:13]) == len(frame)
    ascii_frame = groundwater_report(encoding="ASCII")
    assert sl651.frame_size(ascii_frame[:23]) == len(ascii_frame)
    with pytest.raises(FrameError):
        sl651.frame_size(b"\x68\x00")


def test_encode_reproduces_decoded_frames() -> None:
    for frame in (groundwater_report(), groundwater_report(encoding="ASCII")):
        assert sl651.encode(sl651.decode(frame)) == frame


def test_parse_body_of_a_reassembled_message() -> None:
    body, _packets = m3_message(50)
    parsed = sl651.parse_body(0x31, body)
    assert parsed["serial"] == 11 and parsed["station"] == STATION
    assert len(parsed["elements"]) == 10


def test_frame_to_dict_details() -> None:
    d = sl651.decode(groundwater_report()).to_dict()
    assert d["center"] == "01" and d["password"] == "1234" and d["password_present"]
    assert d["station_type"] == "47" and d["station_type_name"] == "地下水"
    assert d["start"] == "STX" and d["end"] == "ETX" and d["packet"] is None
    assert d["elements"][0]["raw"] == "001234"
