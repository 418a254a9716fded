"""Checksums of the telemetry protocols, computed by a compiled extension (``crcmod-plus``).

SL 651-2014 (STD Tables 11/20, H.3.2): CRC-16 with generator X16+X15+X2+1, register preset
FFFFH, bytes fed into the low byte and shifted right with the reflected polynomial A001H, no
final XOR. That is the algorithm known as CRC-16/MODBUS (check value ``"123456789"`` → 4B37H).
SL651 sends it high byte first, the opposite of Modbus itself. It covers every byte from the
first ``7E`` (or SOH) through the end character.

SZY 206-2016 (as implemented by the sources in docs/protocols.md): CRC-8 with polynomial
x⁷+x⁶+x⁵+x²+1 (E5H), init 0, MSB first, no reflection, no final XOR, over the user data only
(control field through the last data byte).

Each checksum has two implementations: the one the codecs use (``crcmod``'s C table loop,
a declared dependency), and a bit-by-bit reference (``*_bitwise``) that transcribes the
standard's description literally; tests check that they agree and the benchmark uses the bit
loop as its baseline.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import crcmod

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


#: CRC-16/MODBUS: polynomial 8005H fed LSB first (the reflected A001H), preset FFFFH.
_crc16: Callable[..., int] = crcmod.mkCrcFun(0x18005, initCrc=0xFFFF, rev=True, xorOut=0)


@lru_cache(maxsize=8)
def _crc8_fun(poly: int) -> Callable[..., int]:
    """The compiled MSB-first CRC-8 with polynomial ``poly`` (x⁸ implied), no final XOR."""
    fun: Callable[..., int] = crcmod.mkCrcFun(0x100 | poly, initCrc=0, rev=False, xorOut=0)
    return fun


_crc8_szy206 = _crc8_fun(CRC8_POLY_SZY206)


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
    return _crc16(data, crc)


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
    """The 256-entry table of the MSB-first CRC-8 with polynomial ``poly`` (for reference:
    :func:`crc8` computes with the extension's own table)."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


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
    if poly == CRC8_POLY_SZY206:
        return _crc8_szy206(data, init)
    return _crc8_fun(poly)(data, init)


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
