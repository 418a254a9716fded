"""Checksums of the telemetry protocols, computed with precomputed tables.

SL 651-2014 (STD Tables 11/20, H.3.2): CRC-16 with generator X16+X15+X2+1, register preset
FFFFH, bytes fed into the low byte and shifted right with the reflected polynomial A001H, no
final XOR. That is the algorithm known as CRC-16/MODBUS (check value ``"123456789"`` → 4B37H).
SL651 sends it high byte first, the opposite of Modbus itself. It covers every byte from the
first ``7E`` (or SOH) through the end character.

SZY 206-2016 (as implemented by the sources in docs/protocols.md): CRC-8 with polynomial
x⁷+x⁶+x⁵+x²+1 (E5H), init 0, MSB first, no reflection, no final XOR, over the user data only
(control field through the last data byte).

Each checksum has two implementations: the table-driven one the codecs use, and a bit-by-bit
reference (``*_bitwise``) that transcribes the standard's description literally; tests check
that they agree and the benchmark uses the bit loop as its baseline.
"""

from __future__ import annotations

import struct
from functools import lru_cache

__all__ = [
    "CRC8_POLY_SZY206",
    "CRC16_POLY_SL651",
    "crc8",
    "crc8_bitwise",
    "crc8_table",
    "crc16_modbus",
    "crc16_modbus_bitwise",
]

#: Reflected form of X16+X15+X2+1 (8005H), as STD H.3.2 uses it.
CRC16_POLY_SL651 = 0xA001
#: x⁷+x⁶+x⁵+x²+1, the SZY206 CS polynomial (11100101B).
CRC8_POLY_SZY206 = 0xE5


def _crc16_byte_table(poly: int) -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_T16 = _crc16_byte_table(CRC16_POLY_SL651)


def _crc16_word_table(t: tuple[int, ...]) -> list[int]:
    # Two bytes at a time: for a 16-bit register, feeding the little-endian word w into the
    # register c gives a result that depends only on x = c ^ w (see crc16_modbus).
    out = [0] * 65536
    for x in range(65536):
        c1 = (x >> 8) ^ t[x & 0xFF]
        out[x] = (c1 >> 8) ^ t[c1 & 0xFF]
    return out


_T16W = _crc16_word_table(_T16)
_WORDS = [struct.Struct(f"<{n}H").unpack_from for n in range(256)]


def crc16_modbus(data: bytes | bytearray | memoryview, crc: int = 0xFFFF) -> int:
    """CRC-16/MODBUS of ``data`` (SL 651-2014 H.3.2), as an integer 0–FFFFH.

    Parameters
    ----------
    data
        The bytes covered: for SL651, the frame from its first byte through the end character.
    crc
        Register preset; FFFFH per the standard. Pass a previous result to continue a CRC.

    Returns
    -------
    int
        The register after the last byte. SL651 sends it high byte first.

    Examples
    --------
    >>> hex(crc16_modbus(b"123456789"))
    '0x4b37'
    """
    n = len(data)
    half = n >> 1
    t = _T16W
    words = _WORDS[half](data) if half < 256 else struct.unpack_from(f"<{half}H", data)
    for w in words:
        crc = t[crc ^ w]
    if n & 1:
        crc = (crc >> 8) ^ _T16[(crc ^ data[n - 1]) & 0xFF]
    return crc


def crc16_modbus_bitwise(
    data: bytes | bytearray | memoryview, crc: int = 0xFFFF, poly: int = CRC16_POLY_SL651
) -> int:
    """CRC-16 computed bit by bit exactly as STD H.3.2 describes it (reference and baseline)."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            if crc & 1:
                crc = (crc >> 1) ^ poly
            else:
                crc >>= 1
    return crc


@lru_cache(maxsize=8)
def crc8_table(poly: int = CRC8_POLY_SZY206) -> tuple[int, ...]:
    """The 256-entry table of the MSB-first CRC-8 with polynomial ``poly``."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


_T8 = crc8_table(CRC8_POLY_SZY206)


def crc8(data: bytes | bytearray | memoryview, poly: int = CRC8_POLY_SZY206, init: int = 0) -> int:
    """CRC-8 (MSB first, no reflection, no final XOR) of ``data``, as SZY 206 uses for CS.

    Parameters
    ----------
    data
        For SZY206, the user data: control field C through the last data byte (not ``68 L 68``).
    poly
        Generator polynomial without the x⁸ term; E5H for SZY206.
    init
        Register preset; 0 for SZY206.

    Examples
    --------
    >>> hex(crc8(bytes.fromhex("B35303810D00C00059000000826110000001106000004508090A")))
    '0x35'
    """
    t = _T8 if poly == CRC8_POLY_SZY206 else crc8_table(poly)
    crc = init
    for byte in data:
        crc = t[crc ^ byte]
    return crc


def crc8_bitwise(
    data: bytes | bytearray | memoryview, poly: int = CRC8_POLY_SZY206, init: int = 0
) -> int:
    """CRC-8 computed bit by bit (reference and baseline for :func:`crc8`)."""
    crc = init
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc
