"""``aquifer frames decode HEX``: JSON with stable keys, protocol detection, errors."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from aquifer.telemetry.protocols import CHINA_TZ, sl651, szy206

from .examples import example

STABLE = {
    "protocol",
    "function",
    "function_name",
    "station",
    "send_time",
    "observation_time",
    "elements",
    "checksum_ok",
}


def run(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("frames", *args, stdout=out)
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def test_decode_sl651_hex() -> None:
    d = run("decode", example("sl651-07").hex().upper())
    assert d.keys() >= STABLE
    assert (d["protocol"], d["function"], d["function_name"]) == ("SL651-HEX", "33", "遥测站加报报")
    assert d["station"] == "0011223344" and d["checksum_ok"] is True
    assert d["send_time"] == "2017-07-18T10:22:02+08:00"
    assert d["observation_time"] == "2017-07-18T10:22:00+08:00"
    assert [(e["code"], e["name"], e["unit"], e["value"]) for e in d["elements"]] == [
        ("20", "当前降水量", "mm", 4.0),
        ("26", "降水量累计值", "mm", 4.0),
        ("39", "瞬时河道水位、潮位", "m", 10.49),
        ("38", "电源电压", "V", 11.02),
    ]
    assert d["serial"] == 0x26 and d["direction"] == "up" and d["center"] == "05"


def test_decode_accepts_spaces_and_lower_case() -> None:
    text = example("sl651-07").hex()
    spaced = " ".join(text[i : i + 2] for i in range(0, len(text), 2))
    assert run("decode", spaced) == run("decode", text.upper())
    assert run("decode", *spaced.split()[:10], " ".join(spaced.split()[10:]))["checksum_ok"]


def test_decode_szy206_detected() -> None:
    d = run("decode", example("szy206-69").hex())
    assert d.keys() >= STABLE
    assert (d["protocol"], d["function"], d["station"]) == ("SZY206", "C0", "5303810D00")
    assert d["send_time"] is None and d["observation_time"] is None
    assert [e["code"] for e in d["elements"]][:2] == ["flow_1", "volume_1"]
    assert d["elements"][1]["value"] == 106182


def test_decode_sl651_ascii_given_as_hex() -> None:
    t = datetime(2024, 3, 1, 8, tzinfo=CHINA_TZ)
    frame = sl651.encode_report(
        0x32,
        "1405220123",
        serial=1,
        send_time=t,
        observation_time=t,
        elements=[(0x0E, 12.34)],
        encoding="ASCII",
    )
    d = run("decode", frame.hex(), "--protocol", "sl651")
    assert d["protocol"] == "SL651-ASCII" and d["station"] == "1405220123"
    assert d["elements"][0]["code"] == "0E" and d["elements"][0]["value"] == 12.34
    assert run("decode", frame.hex()) == d  # detected from SOH + ASCII


def test_wrong_crc_says_the_offset_of_the_crc() -> None:
    frame = bytearray(example("sl651-07"))
    frame[-1] ^= 0xFF
    with pytest.raises(CommandError) as err:
        run("decode", frame.hex())
    assert err.value.returncode == 2
    assert str(err.value).startswith(f"error at byte {len(frame) - 2}: CRC mismatch")
    d = run("decode", frame.hex(), "--no-verify")
    assert d["checksum_ok"] is False


def test_szy206_wrong_crc_and_forced_protocol() -> None:
    frame = bytearray(example("szy206-69"))
    frame[-2] ^= 1
    with pytest.raises(CommandError, match=rf"^error at byte {len(frame) - 2}: CRC mismatch"):
        run("decode", frame.hex(), "--protocol", "szy206")
    with pytest.raises(CommandError, match=r"^error at byte 0: not an SL651 frame"):
        run("decode", example("szy206-69").hex(), "--protocol", "sl651")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("7e7e0100", "error at byte 3: frame cut short"),
        ("AB CD", "error at byte 0: unknown protocol"),
        ("7e7e01z0", "not hex"),
        ("7e7e010", "not hex"),
    ],
)
def test_bad_input_exits_non_zero(text: str, message: str) -> None:
    with pytest.raises(CommandError) as err:
        run("decode", text)
    assert err.value.returncode == 2 and message in str(err.value)


def test_ack_prints_the_confirmation() -> None:
    out = io.StringIO()
    call_command("frames", "ack", example("szy206-69").hex(), stdout=out)
    ack = bytes.fromhex(out.getvalue().strip())
    assert szy206.decode(ack).is_confirmation
    with pytest.raises(CommandError, match="no reply"):
        call_command("frames", "ack", example("sl651-01").hex(), stdout=io.StringIO())
