"""SL 651-2014 水文监测数据通信规约: decode and encode frames, HEX/BCD and ASCII.

Frame layout (STD Tables 16–23, docs/protocols.md §1.2): start ``7E 7E`` (HEX) or SOH (ASCII),
centre address, station address (down frames swap the two), password, function code,
direction nibble + body length N, STX (or SYN + packet total/sequence in multi-packet M3
messages), body, end character, CRC-16/MODBUS high byte first (ASCII: 4 hex characters).

Body (STD Tables 24/25): serial number, send time ``YYMMDDHHmmSS``, then element groups:
``F1F1`` + station address (+ station type in data reports), ``F0F0`` + observation time,
and "identifier + data" pairs whose data-definition byte gives length (high 5 bits) and
decimals (low 3 bits). Values are BCD with the decimal point dropped; a leading ``FF`` byte
(or ``F`` digits) marks a negative value (STD 6.6.3.3); all-``FF`` or all-``AA`` means no data.

Public functions
----------------
:func:`decode` (either encoding), :func:`frame_size` (stream framing), :func:`parse_body`
(a reassembled M3 body), :func:`encode_element`, :func:`encode_body`, :func:`encode_frame`,
:func:`encode_report`, :func:`encode` (a frame object back to bytes), :func:`encode_packets`
(an M3 message), :func:`acknowledge` and :func:`negative_acknowledge` (the centre's replies),
and :class:`Reassembler` for M3 messages.

Modules
-------
``frame``: control characters, function-code sets, :class:`SL651Frame`; ``elements``: the
identifier tables (Appendices A–D, Table 58); ``hexmode`` and ``asciimode``: each encoding's
header and body, ``tokens`` the ASCII body's tokens; ``decoding``: :func:`decode`,
:func:`frame_size`; ``groups``: one element written; ``encoding``: bodies and frames;
``replies``: the centre's confirmations; ``reassembly``: M3 messages. This package re-exports
the public names, so ``from aquifer.telemetry.protocols.sl651 import decode`` is the way in.
"""

from __future__ import annotations

from .decoding import decode, frame_size
from .elements import status_bits
from .encoding import encode, encode_body, encode_frame, encode_packets, encode_report
from .frame import (
    ACK,
    DATA_FUNCTIONS,
    ENQ,
    EOT,
    ESC,
    ETB,
    ETX,
    NAK,
    SOH,
    STX,
    SYN,
    SL651Frame,
)
from .groups import ElementInput, encode_element
from .hexmode import parse_body
from .reassembly import Reassembler, ReassemblyError
from .replies import acknowledge, acknowledge_raw, negative_acknowledge

__all__ = [
    "ACK",
    "DATA_FUNCTIONS",
    "ENQ",
    "EOT",
    "ESC",
    "ETB",
    "ETX",
    "NAK",
    "SOH",
    "STX",
    "SYN",
    "ElementInput",
    "Reassembler",
    "ReassemblyError",
    "SL651Frame",
    "acknowledge",
    "acknowledge_raw",
    "decode",
    "encode",
    "encode_body",
    "encode_element",
    "encode_frame",
    "encode_packets",
    "encode_report",
    "frame_size",
    "negative_acknowledge",
    "parse_body",
    "status_bits",
]
