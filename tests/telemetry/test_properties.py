"""Properties (hypothesis): round trips for every frame kind, and fuzzing.

Round trip: encode → decode gives back every value. Fuzzing: random bytes, bytes that start
like a frame, and mutated valid frames (with the checksum fixed up, so the body parser is
reached) only ever give a Frame or a FrameError whose offset lies within the frame.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aquifer.telemetry.protocols import CHINA_TZ, Frame, FrameError, decode, sl651, szy206
from aquifer.telemetry.protocols.crc import crc8, crc16_modbus
from aquifer.telemetry.protocols.sl651.elements import ELEMENTS, STATION_TYPES

from .examples import EXAMPLES

# AQUIFER_FUZZ_EXAMPLES=20000 runs a long fuzzing session (the default keeps the suite fast).
_SCALE = int(os.environ.get("AQUIFER_FUZZ_EXAMPLES", "400"))
ROUND_TRIPS = settings(
    max_examples=max(_SCALE * 3 // 10, 50),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
FUZZ = settings(max_examples=_SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])

stations = st.text("0123456789ABCDEF", min_size=10, max_size=10)
seconds = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59, 59)).map(
    lambda t: t.replace(microsecond=0, tzinfo=CHINA_TZ)
)
minutes = seconds.map(lambda t: t.replace(second=0))
BCD_CODES = sorted(c for c, d in ELEMENTS.items() if d.kind == "bcd" and d.digits)
ASCII_CODES = [c for c in BCD_CODES if c not in (0x04,)]


@st.composite
def sl651_value(draw: st.DrawFn, code: int) -> tuple[int, Any]:
    d = ELEMENTS[code]
    if draw(st.integers(0, 15)) == 0:
        return code, None
    limit = 10 ** min(d.digits, 12) - 1
    scaled = draw(st.integers(-limit, limit))
    return code, scaled / 10**d.decimals if d.decimals else scaled


@st.composite
def sl651_elements(draw: st.DrawFn, ascii_mode: bool = False) -> list[tuple[int, Any]]:
    codes = draw(st.lists(st.sampled_from(ASCII_CODES if ascii_mode else BCD_CODES), max_size=8))
    out = [draw(sl651_value(c)) for c in codes]
    if draw(st.booleans()):
        out.append((0x45, draw(st.integers(0, 2**32 - 1))))
    if not ascii_mode and draw(st.booleans()):
        out.append(
            (
                0xF4,
                draw(
                    st.lists(
                        st.one_of(st.none(), st.integers(0, 254).map(lambda x: x / 10)),
                        min_size=12,
                        max_size=12,
                    )
                ),
            )
        )
    if not ascii_mode and draw(st.booleans()):
        out.append((0xFF2B, draw(st.integers(0, 10**11 - 1))))
    return out


def code_hex(code: int) -> str:
    return f"{code:02X}" if code < 0x100 else f"{code:04X}"


@ROUND_TRIPS
@given(
    function=st.sampled_from([0x30, 0x31, 0x32, 0x33, 0x34, 0x37, 0x3A]),
    station=stations,
    center=st.integers(0, 255),
    password=st.integers(0, 0xFFFF),
    serial=st.integers(0, 0xFFFF),
    send=seconds,
    observed=minutes,
    stype=st.sampled_from(sorted(STATION_TYPES)),
    encoding=st.sampled_from(["HEX", "ASCII"]),
    data=st.data(),
)
def test_sl651_report_round_trip(
    function: int,
    station: str,
    center: int,
    password: int,
    serial: int,
    send: datetime,
    observed: datetime,
    stype: int,
    encoding: str,
    data: st.DataObject,
) -> None:
    elements = data.draw(sl651_elements(encoding == "ASCII"))
    frame = sl651.encode_report(
        function,
        station,
        serial=serial,
        send_time=send,
        observation_time=observed,
        elements=elements,
        station_type=stype,
        center=center,
        password=password,
        encoding=encoding,
    )
    f = sl651.decode(frame)
    assert f.protocol == f"SL651-{encoding}" and f.checksum_ok and f.size == len(frame)
    assert (f.function, f.station, f.center, f.password, f.serial) == (
        function,
        station,
        center,
        password,
        serial,
    )
    assert (f.send_time, f.observation_time, f.station_type) == (send, observed, stype)
    assert [(e.code, e.value) for e in f.elements] == [(code_hex(c), v) for c, v in elements]
    assert sl651.encode(f) == frame


@ROUND_TRIPS
@given(
    station=stations,
    serial=st.integers(0, 0xFFFF),
    send=seconds,
    encoding=st.sampled_from(["HEX", "ASCII"]),
)
def test_sl651_keep_alive_round_trip(
    station: str, serial: int, send: datetime, encoding: str
) -> None:
    f = sl651.decode(
        sl651.encode_report(0x2F, station, serial=serial, send_time=send, encoding=encoding)
    )
    assert (f.function, f.serial, f.send_time, f.elements) == (0x2F, serial, send, [])


@ROUND_TRIPS
@given(
    function=st.sampled_from([0x30, 0x32, 0x33, 0x34, 0x37]),
    station=stations,
    serial=st.integers(1, 0xFFFF),
    send=seconds,
    reply=seconds,
    end=st.sampled_from([sl651.EOT, sl651.ESC, sl651.ACK]),
    encoding=st.sampled_from(["HEX", "ASCII"]),
)
def test_sl651_acknowledgement_round_trip(
    function: int,
    station: str,
    serial: int,
    send: datetime,
    reply: datetime,
    end: int,
    encoding: str,
) -> None:
    up = sl651.decode(
        sl651.encode_report(
            function,
            station,
            serial=serial,
            send_time=send,
            observation_time=send,
            encoding=encoding,
        )
    )
    for when, expected in ((None, send), (reply, reply)):
        ack = sl651.decode(sl651.acknowledge(up, end=end, send_time=when))
        assert ack.direction == "down" and ack.is_confirmation and ack.end == end
        assert (ack.function, ack.station, ack.serial, ack.send_time) == (
            function,
            station,
            serial,
            expected,
        )
        assert ack.length == 8 if encoding == "HEX" else ack.length == 16


@ROUND_TRIPS
@given(
    function=st.sampled_from([0x2F, 0x30, 0x31, 0x32, 0x33, 0x34, 0x37, 0x3A]),
    station=stations,
    center=st.integers(0, 0xFF),
    password=st.integers(0, 0xFFFF),
    serial=st.integers(0, 0xFFFF),
    send=seconds,
    end=st.sampled_from([sl651.EOT, sl651.ESC]),
    encoding=st.sampled_from(["HEX", "ASCII"]),
)
def test_sl651_acknowledgement_from_raw_header_bytes_is_the_same(
    function: int,
    station: str,
    center: int,
    password: int,
    serial: int,
    send: datetime,
    end: int,
    encoding: str,
) -> None:
    """The gateway's fast path (:func:`sl651.acknowledge_raw`) builds exactly what
    :func:`sl651.acknowledge` does from the decoded frame, or declines (``None``)."""
    raw = sl651.encode_report(
        function, station, serial=serial, send_time=send, observation_time=send,
        elements=[(0x0E, 12.34)] if function != 0x2F else [], password=password, center=center,
        encoding=encoding,
    )  # fmt: skip
    fast = sl651.acknowledge_raw(raw, end=end)
    if encoding == "ASCII" or function == 0x2F:
        assert fast is None
    else:
        assert fast == sl651.acknowledge(sl651.decode(raw), end=end)
        assert sl651.acknowledge_raw(fast, end=end) is None  # a down frame: never answered


@ROUND_TRIPS
@given(
    body=st.binary(min_size=0, max_size=3000),
    max_body=st.integers(20, 400),
    order=st.randoms(use_true_random=False),
)
def test_sl651_multi_packet_round_trip(body: bytes, max_body: int, order: Any) -> None:
    head = sl651.encode_body(
        serial=9,
        send_time=datetime(2024, 1, 1, tzinfo=CHINA_TZ),
        station="1405220001",
        station_type=0x47,
    )
    message = head + b"\xf3\xf3" + body
    packets = [
        sl651.decode(p)
        for p in sl651.encode_packets(0x36, "1405220001", message, max_body=max_body)
    ]
    order.shuffle(packets)
    r = sl651.Reassembler()
    results = [r.add(p, now=0.0) for p in packets]
    assert all(x is None for x in results[:-1])
    whole = results[-1]
    assert whole is not None and whole.body == message and whole.serial == 9
    assert whole.elements[-1].code == "F3" and whole.elements[-1].raw == body
    assert len(r) == 0


@st.composite
def szy206_report(draw: st.DrawFn) -> dict[str, Any]:
    function = draw(st.sampled_from([1, 2, 3, 9, 10, 13, 15]))
    options = szy206.Options(
        a2_order=draw(st.sampled_from(["little", "big"])),
        word_order=draw(st.sampled_from(["little", "big"])),
        level_decimals=draw(st.sampled_from([0, 2, 3])),
    )
    values: list[Any] = []
    quality: dict[int, Any] = {}
    nothing = st.none()
    if function == 3:
        pairs = draw(st.integers(1, 3))
        for _ in range(pairs):
            values.append(
                draw(nothing | st.integers(-(10**9 - 1), 10**9 - 1).map(lambda x: x / 1000))
            )
            values.append(draw(nothing | st.integers(0, 7 * 10**9)))
    elif function == 10:
        for bit in draw(st.sets(st.integers(0, 24), min_size=1, max_size=6)):
            q = options.quality_items[bit]
            top = 7 * 10 ** (2 * q.size - 1) - 1
            quality[bit] = draw(
                nothing | st.integers(-top, top).map(lambda x, d=q.decimals: x / 10**d if d else x)
            )
    elif function != 13:
        size, dec = {1: (3, 1), 2: (4, options.level_decimals), 9: (2, 1), 15: (4, 2)}[function]
        top = 7 * 10 ** (2 * size - 1) - 1
        values = draw(
            st.lists(
                nothing | st.integers(-top, top).map(lambda x, d=dec: x / 10**d if d else x),
                min_size=1,
                max_size=4,
            )
        )
    tp = draw(
        st.none()
        | st.builds(
            szy206.Tp,
            st.integers(0, 59),
            st.integers(0, 59),
            st.integers(0, 23),
            st.integers(1, 31),
            st.integers(0, 255),
        )
    )
    return dict(
        function=function,
        values=values,
        quality=quality,
        options=options,
        tp=tp,
        alarm=draw(st.integers(0, 0xFFFF)),
        status=draw(st.integers(0, 0xFFFF)),
        afn=draw(st.sampled_from([0xC0, 0x81, 0xB0])),
    )


@ROUND_TRIPS
@given(station=stations, report=szy206_report())
def test_szy206_report_round_trip(station: str, report: dict[str, Any]) -> None:
    options = report["options"]
    frame = szy206.encode_report(station, **report)
    f = szy206.decode(
        frame, options if report["tp"] else szy206.Options(**{**_fields(options), "up_aux": "none"})
    )
    assert f.protocol == "SZY206" and f.checksum_ok and f.direction == "up"
    assert (f.station, f.function, f.control_function) == (
        station,
        report["afn"],
        report["function"],
    )
    assert (f.alarm, f.status, f.tp) == (report["alarm"], report["status"], report["tp"])
    got = [e.value for e in f.elements if e.code not in ("alarm", "status", "work_mode")]
    if report["function"] == 10:
        assert got == [report["quality"][b] for b in sorted(report["quality"])]
    else:
        assert got == report["values"]
    if report["tp"] is not None:  # with a time label the default auto reading finds it
        assert szy206.decode(frame, options).tp == report["tp"]
    assert szy206.encode(f) == frame


def _fields(options: szy206.Options) -> dict[str, Any]:
    return {name: getattr(options, name) for name in options.__slots__}  # type: ignore[attr-defined]


@ROUND_TRIPS
@given(
    station=stations,
    state=st.sampled_from([0xF0, 0xF1, 0xF2]),
    password=st.none() | st.integers(0, 0xFFFF),
    work_mode=st.integers(0, 3),
)
def test_szy206_link_check_and_confirmation_round_trip(
    station: str, state: int, password: int | None, work_mode: int
) -> None:
    up = szy206.decode(szy206.encode_link_check(station, state))
    assert (up.station, up.link, up.direction) == (station, state, "up")
    tp = szy206.Tp(1, 2, 3, 4, 5)
    down = szy206.decode(szy206.confirm(up, data=bytes((work_mode,)), password=password, tp=tp))
    assert down.direction == "down" and down.is_confirmation and down.station == station
    assert down.function == 0x02 and down.link == work_mode
    assert down.password == password and down.tp == (tp if password is not None else None)


@ROUND_TRIPS
@given(
    station=stations,
    afn=st.sampled_from(sorted(szy206.AFN_NAMES)),
    data=st.binary(max_size=40),
    password=st.integers(0, 0xFFFF),
    function=st.integers(0, 15),
)
def test_szy206_command_round_trip(
    station: str, afn: int, data: bytes, password: int, function: int
) -> None:
    tp = szy206.Tp(59, 59, 23, 31, 0)
    f = szy206.decode(
        szy206.encode_command(station, afn, data, function=function, password=password, tp=tp)
    )
    assert (f.station, f.function, f.direction, f.control_function) == (
        station,
        afn,
        "down",
        function,
    )
    assert (f.password, f.tp, f.data[:-7]) == (password, tp, data)


# Fuzzing ---------------------------------------------------------------------------------------


def only_frame_or_frame_error(data: bytes, **kw: Any) -> None:
    try:
        frame = decode(data, **kw)
    except FrameError as exc:
        assert 0 <= exc.offset < max(len(data), 1), (exc.offset, len(data), exc.reason)
        assert exc.reason
    else:
        assert isinstance(frame, Frame)
        frame.to_dict()  # and it can be shown


def fix_checksum(data: bytes) -> bytes:
    """Recompute the checksum a mutated frame would carry, so decoding reaches the body."""
    if data[:2] == b"\x7e\x7e" and len(data) >= 17:
        return data[:-2] + crc16_modbus(data[:-2]).to_bytes(2, "big")
    if data[:1] == b"\x01" and len(data) >= 29:
        return data[:-4] + f"{crc16_modbus(data[:-4]):04X}".encode()
    if data[:1] == b"\x68" and len(data) >= 5:
        return data[:-2] + bytes((crc8(data[3:-2]), data[-1]))
    return data


def _seed_frames() -> list[bytes]:
    t = datetime(2024, 3, 1, 8, tzinfo=CHINA_TZ)
    frames = [bytes.fromhex(e["hex"]) for e in EXAMPLES if len(e["hex"]) < 400]
    for encoding in ("HEX", "ASCII"):
        frames.append(
            sl651.encode_report(
                0x32,
                "1405220123",
                serial=1,
                send_time=t,
                observation_time=t,
                encoding=encoding,
                elements=[(0x0E, 1.5), (0x03, -2.5), (0x45, 5), (0x38, 12.1)],
            )
        )
    frames.append(
        szy206.encode_report(
            "1405220200", function=10, quality={1: 7.5, 24: 9}, tp=szy206.Tp(1, 2, 3, 4, 5)
        )
    )
    frames.append(szy206.encode_link_check("1405220200"))
    return frames


SEEDS = _seed_frames()


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data: bytes) -> None:
    only_frame_or_frame_error(data)
    only_frame_or_frame_error(data, protocol="sl651")
    only_frame_or_frame_error(data, protocol="szy206")


@FUZZ
@given(st.sampled_from([b"\x7e\x7e", b"\x01", b"\x68"]), st.binary(max_size=200), st.booleans())
def test_fuzz_frame_like_bytes(prefix: bytes, rest: bytes, fix: bool) -> None:
    data = prefix + rest
    only_frame_or_frame_error(fix_checksum(data) if fix else data, verify=not fix)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            data[i] = draw(
                st.sampled_from(
                    [
                        0x00,
                        0xFF,
                        0xAA,
                        0xF0,
                        0xF1,
                        0x16,
                        0x68,
                        0x20,
                        0x30,
                        draw(st.integers(0, 255)),
                    ]
                )
            )
        elif kind == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif kind == "delete":
            del data[i : i + draw(st.integers(1, 4))]
        else:
            del data[i:]
    if draw(st.booleans()):  # also keep the length field consistent
        data = bytearray(_fix_length(bytes(data)))
    return fix_checksum(bytes(data)) if draw(st.booleans()) else bytes(data)


def _fix_length(data: bytes) -> bytes:
    if data[:2] == b"\x7e\x7e" and len(data) >= 17:
        n = len(data) - 17
        return data[:11] + bytes(((data[11] & 0xF0) | (n >> 8 & 0x0F), n & 0xFF)) + data[13:]
    if data[:1] == b"\x68" and len(data) >= 5 and data[1] != 1:
        return data[:1] + bytes((min(len(data) - 5, 255),)) + data[2:]
    return data


@FUZZ
@given(mutated())
def test_fuzz_mutated_valid_frames(data: bytes) -> None:
    only_frame_or_frame_error(data)
    only_frame_or_frame_error(data, verify=False)
    for options in (
        szy206.Options(up_aux="tp", down_aux="pw_tp"),
        szy206.Options(up_aux="none", down_aux="none"),
    ):
        if data[:1] == b"\x68":
            only_frame_or_frame_error(data, options=options, verify=False)


@FUZZ
@given(st.sampled_from(SEEDS), st.integers(0, 400))
def test_fuzz_truncations_and_stream_framing(frame: bytes, cut: int) -> None:
    part = frame[: min(cut, len(frame))]
    only_frame_or_frame_error(part)
    module = szy206 if frame[:1] == b"\x68" else sl651
    try:
        size = module.frame_size(part)
    except FrameError:
        return
    assert size is None or size == len(frame) or len(part) < len(frame)
