"""Every real frame in protocol-examples.json decodes to what its source says it holds.

``expected`` is the source's word; where it disagrees with the bytes, the file says so ("as
tabulated; hex carries …") and the hex wins, as docs/protocols.md records. Keys this test does
not know make it fail, so a new kind of statement in the file cannot pass unchecked.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from aquifer.telemetry.protocols import Frame, decode, sl651, szy206
from aquifer.telemetry.protocols.sl651 import SL651Frame
from aquifer.telemetry.protocols.szy206 import SZY206Frame

from .examples import EXAMPLES, EXAMPLES_FILE

IDS = [e["id"] for e in EXAMPLES]


def test_the_examples_file_is_there() -> None:
    assert EXAMPLES_FILE.exists(), f"missing {EXAMPLES_FILE}"
    assert len(EXAMPLES) >= 20
    assert {e["protocol"] for e in EXAMPLES} == {"SL651-HEX", "SZY206"}


def first_token(text: str) -> str:
    """``"0032 (=50)"`` → ``"0032"``; ``"0012345678 (as tabulated; hex carries 0012305678)"``
    → ``"0012305678"`` (the hex is the truth where the source's table disagrees with it)."""
    carried = re.search(r"hex carries ([0-9A-Fa-f]+)", text)
    if carried:
        return carried.group(1).upper()
    return text.split()[0].upper()


def number_in(text: str) -> float | None:
    """The number a source states (``"10.49m"``, ``"00.0"``), or None for "no data"."""
    if "无数据" in text:
        return None
    m = re.search(r"-?\d+(?:\.\d+)?", text)
    assert m, text
    return float(m.group())


def times(text: str) -> str:
    """``"2019-03-05 15:00:35"`` or ``"591011155111"`` → ``"YYMMDDHHmmSS"``."""
    digits = re.sub(r"\D", "", text)
    return digits[2:] if len(digits) == 14 else digits


def check_sl651(f: SL651Frame, key: str, want: Any) -> None:
    if key == "function_code":
        assert f"{f.function:02X}" == first_token(want)
    elif key == "center_address":
        assert f"{f.center:02X}" == first_token(want)
    elif key == "station_address":
        assert f.station == first_token(want)
    elif key == "password":
        assert f"{f.password:04X}" == first_token(want)
    elif key == "length_field":
        nibble = 8 if f.direction == "down" else 0
        assert f"{nibble:X}{f.length:03X}" == first_token(want)
    elif key == "direction":
        assert f.direction == want
    elif key == "serial":
        assert f"{f.serial:04X}" == first_token(want)
    elif key == "send_time":
        assert f.send_time is not None
        assert f.send_time.strftime("%y%m%d%H%M%S") == times(want)
    elif key == "observation_time":
        assert f.observation_time is not None
        assert f.observation_time.strftime("%y%m%d%H%M%S") == times(want)
    elif key == "end_char":
        assert f"{f.end:02X}" == first_token(want)
    elif key == "start_char":
        assert f"{f.start:02X}" == first_token(want)
    elif key == "crc":
        assert f"{f.checksum:04X}" == first_token(want)
    elif key == "station_type":
        assert f"{f.station_type:02X}" == first_token(want)
    elif key == "packet_total":
        assert f.packet_total == want
    elif key == "packet_seq":
        assert f.packet_seq == want
    elif key == "elements":
        by_code = {e.code: e for e in f.elements}
        for label, stated in want.items():
            ident = label.split()[0]
            code = ident[:4] if ident.startswith("FF") else ident[:2]
            element = by_code[code]
            if code == "F4":  # "0.5mm (first slot)": the array of 5-minute rainfall
                assert isinstance(element.value, list)
                assert element.value[0] == number_in(stated)
            else:
                assert element.value == number_in(stated), label
    elif key == "identifiers":  # a 43H read-configuration request: names in order
        assert [(e.code, e.name) for e in f.elements] == [
            (code[:2], name) for code, name in want.items()
        ]
    elif key == "element":  # the element a 38H/3AH query asks for
        assert f.elements[-1].code == first_token(want)[:2]
        assert f.elements[-1].value is None
    elif key in ("start_time", "end_time"):
        t = f.query_start if key == "start_time" else f.query_end
        assert t is not None
        assert t.strftime("%y%m%d%H") == first_token(want)
    elif key == "time_step":  # "0418 000005 = 5 minutes"
        step = next(e for e in f.elements if e.code == "04")
        assert step.value == int(re.search(r"= (\d+) minutes", want).group(1))  # type: ignore[union-attr]
    elif key == "status":  # sl651-20: "all normal except 终端箱门状态: 开启"
        status = next(e for e in f.elements if e.code == "45")
        assert status.bits is not None
        assert status.bits["door_closed"] is False  # bit 7 = 0: door open
        alarms = [k for k in status.bits if k not in ("door_closed", "pump_stopped")]
        assert not any(status.bits[k] for k in alarms)
    elif key == "statement":  # sl651-39: "上述采集数据全为零" (the collected data are all zero)
        # The period values are zero; PT (26H, a running total) is 1.5 and the level is
        # "no data" (AA fill) — the statement is about what was collected in the hour.
        period = [e for e in f.elements if e.code in ("20", "22")]
        assert period and all(e.value == 0 for e in period)
        rain = next(e for e in f.elements if e.code == "F4")
        assert isinstance(rain.value, list)
        assert all(v == 0 for v in rain.value if v is not None)
        assert next(e for e in f.elements if e.code == "26").value == 1.5
    elif key == "note":
        pass
    else:
        pytest.fail(f"unknown expected key {key!r}")


def check_szy206(f: SZY206Frame, key: str, want: Any) -> None:
    if key == "afn":
        assert f"{f.function:02X}" == first_token(want)
    else:
        pytest.fail(f"unknown expected key {key!r}")


@pytest.mark.parametrize("ex", EXAMPLES, ids=IDS)
def test_example_decodes_to_what_its_source_says(ex: dict[str, Any]) -> None:
    data = bytes.fromhex(ex["hex"])
    if not ex["crc_ok"]:
        with pytest.raises(Exception, match="CRC mismatch"):
            decode(data)
        frame: Frame = decode(data, verify=False)
        assert not frame.checksum_ok
    else:
        frame = decode(data)
        assert frame.checksum_ok
    assert frame.protocol == ex["protocol"]
    assert frame.size == len(data)
    for key, want in ex["expected"].items():
        if isinstance(frame, SL651Frame):
            check_sl651(frame, key, want)
        else:
            assert isinstance(frame, SZY206Frame)
            check_szy206(frame, key, want)


@pytest.mark.parametrize("ex", EXAMPLES, ids=IDS)
def test_example_encodes_back_to_its_bytes(ex: dict[str, Any]) -> None:
    """Decoding and re-encoding a real frame gives the same bytes: the encoder writes what
    devices write (element sizes, F0F0 groups, no-data fills, extension identifiers)."""
    data = bytes.fromhex(ex["hex"])
    frame = decode(data)
    if isinstance(frame, SL651Frame):
        assert sl651.encode(frame) == data
    else:
        assert isinstance(frame, SZY206Frame)
        assert szy206.encode(frame) == data


def test_sl651_examples_values_beyond_the_stated() -> None:
    """Values decoded here that the sources do not state, checked by hand against the bytes."""
    by_id = {e["id"]: bytes.fromhex(e["hex"]) for e in EXAMPLES}
    f = sl651.decode(by_id["sl651-30"])
    assert [(e.code, e.value) for e in f.elements] == [
        ("22", 0.0),
        ("20", 3.5),
        ("39", None),
        ("FF11", 0.008),
        ("38", 12.44),
    ]
    f = sl651.decode(by_id["sl651-48"])  # retransmission: serial 070C, centre FF
    assert f.serial == 0x070C and f.center == 0xFF
    assert next(e for e in f.elements if e.code == "39").value is None  # 391A FFFFFF
    f = sl651.decode(by_id["sl651-27"])  # M3 packet 1 of 13: JPEG after F3F3
    picture = f.elements[-1]
    assert picture.code == "F3" and picture.raw.startswith(b"\xff\xd8")
    f = sl651.decode(by_id["sl651-16"])  # 42H: runtime configuration items, named per D.4
    assert [(e.code, e.value) for e in f.elements][:4] == [
        ("20", 1),
        ("21", 5),
        ("22", 8),
        ("23", 300),
    ]
    assert f.elements[0].name == "定时报时间间隔"
    f = sl651.decode(by_id["sl651-23"])  # 49H: new password
    assert [(e.code, e.value) for e in f.elements] == [("03", "03E8")]


def test_szy206_example_69_under_the_default_options() -> None:
    """szy206-69: flow 5.900, volume 106182 m³ (protocols.md §2.6), alarm and status words
    read low byte first: AC-power alarm (bit 0) agrees with battery power (status D6)."""
    f = szy206.decode(bytes.fromhex(next(e["hex"] for e in EXAMPLES if e["id"] == "szy206-69")))
    assert [(e.code, e.value) for e in f.elements[:2]] == [("flow_1", 5.9), ("volume_1", 106182)]
    assert f.alarm == 0x1001 and f.status == 0x0060
    alarm = next(e for e in f.elements if e.code == "alarm")
    status = next(e for e in f.elements if e.code == "status")
    assert alarm.bits is not None and status.bits is not None
    assert alarm.bits["ac_power_off"] and status.bits["battery_power"]
    assert f.tp == szy206.Tp(0, 45, 8, 9, 10)
    assert (f.admin_code, f.station_number) == ("530381", 13)


def test_szy206_example_72_aux_fields() -> None:
    """szy206-72: a down 1F command ends with PW 0000 and Tp; read in HM's Tp order the day is
    53, which no calendar has: the two sources disagree on Tp (protocols.md, point [U])."""
    f = szy206.decode(bytes.fromhex(next(e["hex"] for e in EXAMPLES if e["id"] == "szy206-72")))
    assert f.direction == "down" and f.password == 0
    assert f.tp == szy206.Tp(12, 16, 7, 53, 0)
    assert len(f.data) == 15 + 7
