"""SL 651-2014 completeness: every function code of Appendix B decodes and round-trips.

All frames here are constructed (no real frame of 31H series, 45H, 4CH–4FH or 50H answers was
found: docs/protocols.md), built from the layouts in docs/protocols.md "Answers".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aquifer.telemetry.mapping import map_frame
from aquifer.telemetry.protocols import CHINA_TZ, sl651
from aquifer.telemetry.protocols.common import Element
from aquifer.telemetry.protocols.sl651.answers import answer_element
from aquifer.telemetry.protocols.sl651.elements import FUNCTIONS

T = datetime(2024, 3, 1, 8, 0, tzinfo=CHINA_TZ)
SEND = datetime(2024, 3, 1, 9, 0, 5, tzinfo=CHINA_TZ)
STATION = "1405220123"


def _series_report(values: list[Any], encoding: str = "HEX", code: int = 0x0E) -> bytes:
    return sl651.encode_report(
        0x31, STATION, serial=4, send_time=SEND, observation_time=T,
        elements=[(0x04, 60), (code, values)], encoding=encoding,
    )  # fmt: skip


def test_uniform_period_report_31_is_one_identifier_and_a_series() -> None:
    frame = _series_report([12.34, 12.4, None, 12.51])
    f = sl651.decode(frame)
    step, series = f.elements
    assert (step.code, step.value) == ("04", 60)
    assert (series.code, series.value, series.step) == ("0E", [12.34, 12.4, None, 12.51], 60)
    assert series.name == "地下水瞬时埋深" and series.observed_at == T
    assert series.to_dict()["step_minutes"] == 60
    assert sl651.encode(f) == frame


def test_uniform_period_series_maps_to_one_reading_per_step() -> None:
    f = sl651.decode(_series_report([12.34, 12.4, None, 12.51]))
    m = map_frame(f, received_at=SEND)
    assert [(r.element, r.observed_at, r.value) for r in m.readings] == [
        ("depth_to_water", T, 12.34),
        ("depth_to_water", T + timedelta(hours=1), 12.4),
        ("depth_to_water", T + timedelta(hours=3), 12.51),
    ]
    assert any("[2]" in s for s in m.skipped)


def test_uniform_period_report_ascii() -> None:
    frame = _series_report([1.5, None, -0.25], encoding="ASCII")
    assert b" DRH01 H 1.50 M -0.25 " in frame
    f = sl651.decode(frame)
    assert [(e.code, e.value, e.step) for e in f.elements] == [
        ("04", 60, None),
        ("0E", [1.5, None, -0.25], 60),
    ]


def test_time_range_answer_38_with_two_series_groups() -> None:
    """A 38H answer: each F0F0 group starts another step + identifier + series."""
    body = sl651.encode_body(serial=3, send_time=SEND, station=STATION, station_type=0x47)
    for start, values in ((T, [1.0, 2.0]), (T + timedelta(hours=2), [3.0])):
        body += b"\xf0\xf0" + bytes.fromhex(start.strftime("%y%m%d%H%M"))
        body += sl651.encode_element(0x04, 60) + sl651.encode_element(0x39, values)
    f = sl651.decode(sl651.encode_frame(function=0x38, station=STATION, body=body))
    series = [(e.value, e.observed_at) for e in f.elements if e.code == "39"]
    assert series == [([1.0, 2.0], T), ([3.0], T + timedelta(hours=2))]


def test_vendor_identifiers_are_kept_raw_and_never_standard() -> None:
    """A reserved leader (9A) and an unknown extension (FF0E) keep their own codes; FF0E is
    not groundwater depth 0E, and a non-BCD vendor value is kept raw instead of refused."""
    body = sl651.encode_body(serial=1, send_time=SEND, station=STATION, station_type=0x47,
                             observation_time=T)  # fmt: skip
    body += bytes.fromhex("9A10ABCD") + bytes.fromhex("FF0E19001234") + bytes.fromhex("0E1A001234")
    f = sl651.decode(sl651.encode_frame(function=0x32, station=STATION, body=body))
    assert [(e.code, e.value, e.raw.hex().upper()) for e in f.elements] == [
        ("9A", None, "ABCD"),
        ("FF0E", 123.4, "001234"),
        ("0E", 12.34, "001234"),
    ]
    assert [r.element for r in map_frame(f, received_at=SEND).readings] == ["depth_to_water"]
    ascii_frame = sl651.encode_frame(
        function=0x32, station=STATION, encoding="ASCII",
        body=b"0001240301090005 ST 1405220123 G TT 2403010800 XQ7 abc H 1.25 ",
    )  # fmt: skip
    g = sl651.decode(ascii_frame)
    assert [(e.code, e.value) for e in g.elements] == [("XQ7", "abc"), ("0E", 1.25)]


def test_fixed_layout_answers() -> None:
    cases: dict[int, Any] = {
        0x45: "RTU-V2.1.7",
        0x50: list(range(32)),
        0x4C: [1, 0, 1, 0, 0, 0, 0, 0],
        0x4D: [0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
        0x4F: 1,
    }
    for function, value in cases.items():
        body = sl651.encode_body(
            serial=2, send_time=SEND, station=STATION, elements=[answer_element(function, value)]
        )
        frame = sl651.encode_frame(function=function, station=STATION, body=body)
        f = sl651.decode(frame)
        assert not f.params, function
        assert [e.value for e in f.elements] == [value], function
        assert sl651.encode(f) == frame


def test_gate_answer_with_openings_and_a_broken_answer_kept_raw() -> None:
    body = sl651.encode_body(serial=2, send_time=SEND, station=STATION,
                             elements=[answer_element(0x4E, [1, 1, 0, 0, 0, 0, 0, 0])])  # fmt: skip
    body += sl651.encode_element(0x09, 1.25)
    f = sl651.decode(sl651.encode_frame(function=0x4E, station=STATION, body=body))
    assert [(e.code, e.value) for e in f.elements] == [("GATE", [1, 1, 0, 0, 0, 0, 0, 0]),
                                                       ("09", 1.25)]  # fmt: skip
    broken = sl651.encode_body(serial=2, send_time=SEND) + b"\xf1\xf1" + bytes.fromhex(STATION)
    broken += b"\x09AB"  # says 9 bytes of version, has 2
    g = sl651.decode(sl651.encode_frame(function=0x45, station=STATION, body=broken))
    assert g.elements == [] and g.params.endswith(b"\x09AB")


# Every function code of Appendix B, up (a station's report or answer) and, for the queries
# and commands, down (the centre's frame): decode → encode gives the same bytes back.

_ANSWERS = {0x45, 0x4C, 0x4D, 0x4E, 0x4F, 0x50}
_CONFIG = {0x40, 0x41, 0x42, 0x43, 0x49}
numbers = st.integers(-99999, 999999).map(lambda n: n / 100)
stations = st.text("0123456789ABCDEF", min_size=10, max_size=10)
times = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
    lambda t: t.replace(second=0, microsecond=0, tzinfo=CHINA_TZ)
)


def _up_elements(draw: st.DrawFn, function: int) -> list[Any]:
    if function == 0x2F:
        return []
    if function in (0x31, 0x38):
        values = draw(st.lists(st.one_of(st.none(), numbers), min_size=1, max_size=30))
        return [(0x04, draw(st.sampled_from([5, 60, 1440]))), (0x0E, values)]
    if function in _ANSWERS:
        value: Any = {
            0x45: draw(st.text("ABCDEFV0123456789.-", min_size=1, max_size=20)),
            0x50: draw(st.lists(st.integers(0, 0xFFFF), min_size=32, max_size=32)),
            0x4F: draw(st.integers(0, 1)),
        }.get(function) or draw(
            st.lists(st.integers(0, 1), min_size=1, max_size=4).map(lambda b: b * 8)
        )
        return [answer_element(function, value)]
    if function == 0x35:
        return [Element("F2", "", "", "", "", 0, draw(st.binary(max_size=40)))]
    if function == 0x36:
        return [Element("F3", "", "", "", None, 0, draw(st.binary(max_size=80)))]
    if function in _CONFIG:
        return [(0x20, draw(st.integers(0, 99)), 0), (0x21, draw(st.integers(0, 99)), 0)]
    return [(0x0E, draw(numbers)), (0x38, draw(st.integers(0, 9999)) / 100)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    function=st.sampled_from(sorted(FUNCTIONS)),
    station=stations,
    serial=st.integers(0, 0xFFFF),
    send=times,
    observed=times,
    data=st.data(),
)
def test_every_function_code_round_trips(
    function: int, station: str, serial: int, send: datetime, observed: datetime, data: Any
) -> None:
    elements = _up_elements(data.draw, function)
    answer = function in _ANSWERS or function in _CONFIG
    body = sl651.encode_body(
        serial=serial,
        send_time=send,
        station=None if function == 0x2F else station,
        station_type=None if answer or function == 0x2F else 0x47,
        observation_time=None if answer or function == 0x2F else observed,
        elements=elements,
    )
    frame = sl651.encode_frame(function=function, station=station, body=body)
    f = sl651.decode(frame)
    assert (f.function, f.station, f.serial, f.send_time) == (function, station, serial, send)
    assert f.function_name == FUNCTIONS[function][0]
    assert not f.params, f"{function:02X} left {f.params.hex()} undecoded"
    assert sl651.encode(f) == frame
    if function in (0x31, 0x38):
        assert f.elements[1].value == elements[1][1] and f.elements[1].step == elements[0][1]
    if function in _ANSWERS:
        assert f.elements[0].value == elements[0].value
    # the centre's side: a query or command down (ENQ), and the confirmation of the up frame
    down = sl651.encode_frame(function=function, station=station, direction="down",
                              body=sl651.encode_body(serial=0, send_time=send))  # fmt: skip
    d = sl651.decode(down)
    assert (d.direction, d.function, d.send_time) == ("down", function, send)
    assert sl651.encode(d) == down
    if function != 0x2F:
        ack = sl651.decode(sl651.acknowledge(f))
        assert ack.is_confirmation and ack.serial == serial
