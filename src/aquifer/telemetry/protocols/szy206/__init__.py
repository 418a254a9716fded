"""SZY 206-2016 水资源监测数据传输规约: decode and encode link-layer frames.

The standard's text was not available; this follows the implementations and published frames
summarised in docs/protocols.md §2 (HM, RTUA, AM206, JXJS, CXX). Frame::

    68 L 68 | C [DIVS] A(5) AFN data… | CS 16

L counts the user data (C through the last data byte); CS is CRC-8 (poly E5H, init 0, MSB
first) over those L bytes. C: D7 direction (1 = up), D6 DIV (a DIVS countdown byte follows),
D5–D4 FCB, D3–D0 function code (what kind of data). A: A1 = 3-byte BCD administrative code,
A2 = 2-byte station number (byte order unconfirmed: :attr:`Options.a2_order`). The station
identity is the raw 10 hex digits of A.

Data values are BCD, low byte first, with the sign in the top bit of the last byte. A self-report
(AFN C0H) carries the values selected by C's function code, the 2-byte alarm word, the 2-byte
terminal status word, and a 5-byte time label Tp. Down frames end with the 2-byte password PW
and Tp. Every point that no source confirms is an :class:`Options` field (docs/protocols.md).

Modules: ``tables`` (code tables, the water-quality bitmap, value layouts), ``fields`` (C, A,
Tp, BCD values, :class:`Options`), ``frame`` (:class:`SZY206Frame`, :func:`frame_size`),
``decoding`` (:func:`decode`), ``values`` (the data of self-reports), ``encoding``. This
package re-exports the public names.
"""

from __future__ import annotations

from .decoding import decode
from .encoding import (
    confirm,
    encode,
    encode_command,
    encode_frame,
    encode_link_check,
    encode_report,
)
from .fields import (
    DEFAULT_OPTIONS,
    Control,
    Options,
    Tp,
    control_byte,
    encode_value,
    parse_address,
    parse_control,
)
from .frame import SZY206Frame, frame_size
from .tables import (
    AFN_NAMES,
    ALARM_BITS,
    CONTROL_FUNCTIONS,
    DEFAULT_QUALITY_ITEMS,
    LINK_STATES,
    STATUS_BITS,
    WORK_MODES,
    QualityItem,
)

__all__ = [
    "AFN_NAMES",
    "ALARM_BITS",
    "CONTROL_FUNCTIONS",
    "DEFAULT_OPTIONS",
    "DEFAULT_QUALITY_ITEMS",
    "LINK_STATES",
    "STATUS_BITS",
    "WORK_MODES",
    "Control",
    "Options",
    "QualityItem",
    "SZY206Frame",
    "Tp",
    "confirm",
    "control_byte",
    "decode",
    "encode",
    "encode_command",
    "encode_frame",
    "encode_link_check",
    "encode_report",
    "encode_value",
    "frame_size",
    "parse_address",
    "parse_control",
]
