"""Checksums: the table-driven CRCs agree with the standards' bit-by-bit descriptions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from aquifer.telemetry.protocols.crc import (
    crc8,
    crc8_bitwise,
    crc8_table,
    crc16_modbus,
    crc16_modbus_bitwise,
)

from .examples import EXAMPLES


def test_crc16_check_value() -> None:
    assert crc16_modbus(b"123456789") == 0x4B37  # CRC-16/MODBUS
    assert crc16_modbus(b"") == 0xFFFF


def test_crc8_e5_known_frames() -> None:
    """CS of the published SZY206 frames covers the L bytes of user data only."""
    for e in EXAMPLES:
        if e["protocol"] == "SZY206":
            data = bytes.fromhex(e["hex"])
            assert crc8(data[3:-2]) == data[-2], e["id"]
            assert crc8(data[:-2]) != data[-2] or crc8(data[:-2], 0xE1) != data[-2]


def test_crc16_covers_the_frame_through_the_end_character_high_byte_first() -> None:
    for e in EXAMPLES:
        if e["protocol"] == "SL651-HEX":
            data = bytes.fromhex(e["hex"])
            assert crc16_modbus(data[:-2]).to_bytes(2, "big") == data[-2:], e["id"]


@settings(max_examples=200)
@given(st.binary(max_size=300), st.integers(0, 0xFFFF))
def test_crc16_table_equals_bit_loop(data: bytes, init: int) -> None:
    assert crc16_modbus(data, init) == crc16_modbus_bitwise(data, init)


def test_crc16_long_input_and_continuation() -> None:
    data = bytes(range(256)) * 5
    assert crc16_modbus(data) == crc16_modbus_bitwise(data)
    assert crc16_modbus(data[600:], crc16_modbus(data[:600])) == crc16_modbus(data)


@settings(max_examples=200)
@given(st.binary(max_size=300), st.sampled_from([0xE5, 0x07, 0xE1]))
def test_crc8_table_equals_bit_loop(data: bytes, poly: int) -> None:
    assert crc8(data, poly) == crc8_bitwise(data, poly)


@settings(max_examples=100)
@given(st.binary(max_size=300), st.integers(0, 0xFFFF), st.integers(0, 0xFF))
def test_buffers_and_presets_agree_with_the_bit_loops(data: bytes, init16: int, init8: int) -> None:
    """The compiled CRCs take any buffer (the gateway passes bytearray and memoryview slices)
    and a preset, exactly as the bit-by-bit references do."""
    for buf in (data, bytearray(data), memoryview(data)):
        assert crc16_modbus(buf, init16) == crc16_modbus_bitwise(data, init16)
        assert crc8(buf, 0xE5, init8) == crc8_bitwise(data, 0xE5, init8)


def test_crc8_continuation_and_table() -> None:
    data = bytes(range(256)) * 3
    assert crc8(data[500:], init=crc8(data[:500])) == crc8(data) == crc8_bitwise(data)
    table = crc8_table(0xE5)
    assert len(table) == 256
    assert all(table[b] == crc8_bitwise(bytes([b])) for b in range(256))
