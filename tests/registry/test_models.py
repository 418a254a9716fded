"""Registry rules: derived township and zone, lifecycle, codes, addresses, zone polygons."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from aquifer.registry.models import Device, Township, WaterUser, Well, Zone
from tests.conftest import HUANGCHENG, square


def make_well(code: str, lon: float, lat: float, layer: str = "shallow", **kw: Any) -> Well:
    w = Well(
        code=code,
        depth_m=kw.pop("depth_m", 50),
        layer=layer,
        purpose=kw.pop("purpose", "agricultural"),
        **kw,
    )
    w.set_location(lon, lat)
    return w


def test_the_fifteen_townships_and_historic_codes_are_loaded(db: Any) -> None:
    current = Township.objects.current()
    assert current.count() == 15
    assert set(current.values_list("code", flat=True)) >= {"140522100", "140522101", "140522205"}
    assert all(t.boundary for t in current)
    assert Township.resolve_code("140522200").code == "140522111"  # 白桑乡 → 白桑镇
    assert Township.resolve_code("140522203").name == "演礼镇"
    gulong = Township.resolve_code("140522204")
    assert gulong.name == "固隆乡" and not gulong.is_current
    assert Township.resolve_code("999999999") is None


def test_well_township_and_zone_are_derived_from_location(world: Any) -> None:
    w = make_well("W-HC", *HUANGCHENG)
    w.full_clean()
    w.save()
    assert w.township.name == "北留镇"
    assert w.zone == world.zone
    deep = make_well("W-HC-D", *HUANGCHENG, layer="deep", depth_m=500)
    deep.save()
    assert deep.zone is None  # the prohibited zone in the fixture is shallow only


def test_typed_township_is_overwritten_by_the_derived_one(world: Any) -> None:
    w = make_well("W-X", 112.417, 35.486)
    w.township = world.township_b
    w.save()
    assert w.township == world.township_a


def test_overlapping_zones_stricter_wins(world: Any) -> None:
    Zone.objects.create(
        code="Z-BIG",
        name="大区",
        kind="overexploited",
        layer="shallow",
        geometry=square(*HUANGCHENG, 0.05),
        allowable_extraction_m3=10,
        designation_document="doc",
    )
    inner = make_well("W-IN", *HUANGCHENG)
    inner.save()
    outer = make_well("W-OUT", HUANGCHENG[0] + 0.03, HUANGCHENG[1])
    outer.save()
    assert inner.zone.kind == "prohibited"
    assert outer.zone.code == "Z-BIG"


def test_deleting_a_zone_clears_its_wells(world: Any) -> None:
    w = make_well("W-HC2", *HUANGCHENG)
    w.save()
    world.zone.delete()
    w.refresh_from_db()
    assert w.zone is None


def test_well_outside_the_county_is_refused(db: Any) -> None:
    w = make_well("W-BJ", 116.4, 39.9)
    with pytest.raises(ValidationError) as exc:
        w.full_clean()
    assert "lon" in exc.value.message_dict


def test_cgcs2000_gauss_kruger_input_is_converted(db: Any) -> None:
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 4547, always_xy=True).transform(112.52, 35.47)
    w = Well(code="W-GK", depth_m=50, layer="shallow", purpose="industrial")
    w.set_location(x, y, 4547)
    w.full_clean()
    w.save()
    assert abs(w.lon - 112.52) < 1e-6 and abs(w.lat - 35.47) < 1e-6
    assert (w.input_crs, w.input_x, w.input_y) == (4547, x, y)
    assert w.township.name == "润城镇"


@pytest.mark.parametrize(
    ("old", "new", "ok"),
    [
        ("planned", "closed", True),  # → active is a permit question (tests/permits)
        ("active", "closed", True),
        ("closed", "sealed", True),
        ("sealed", "active", False),
        ("active", "sealed", False),
        ("planned", "standby", False),
    ],
)
def test_well_status_lifecycle(world: Any, old: str, new: str, ok: bool) -> None:
    w = make_well(f"W-{old}-{new}", 112.417, 35.486, status=old)
    w.save()
    w = Well.objects.get(pk=w.pk)
    w.status = new
    if ok:
        w.full_clean()
    else:
        with pytest.raises(ValidationError) as exc:
            w.full_clean()
        assert "status" in exc.value.message_dict


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91110000600037341K", "校验位"),
        ("9111000060003734", "18位"),
        ("91110000600037341!", "非法字符"),
    ],
)
def test_water_user_uscc_is_checked(world: Any, code: str, message: str) -> None:
    u = WaterUser(name="某公司", use_type="industrial", township=world.township_a, uscc=code)
    with pytest.raises(ValidationError) as exc:
        u.full_clean()
    assert message in exc.value.message_dict["uscc"][0]


def test_duplicate_uscc_is_refused(world: Any) -> None:
    u = WaterUser(
        name="另一家", use_type="industrial", township=world.township_b, uscc="91110000600037341L"
    )
    with pytest.raises(ValidationError) as exc:
        u.full_clean()
    assert exc.value.message_dict["uscc"] == ["该统一社会信用代码已登记。"]


def test_abolished_township_cannot_take_new_users(world: Any) -> None:
    gulong = Township.objects.get(code="140522204")
    u = WaterUser(name="某户", use_type="domestic", township=gulong)
    with pytest.raises(ValidationError) as exc:
        u.full_clean()
    assert "township" in exc.value.message_dict


@pytest.mark.parametrize(
    ("protocol", "address", "ok"),
    [
        ("SL651", "0012345678", True),
        ("SL651", "00 12 34 56 78", True),
        ("SZY206", "530381000d", True),
        ("SL651", "001234567", False),
        ("SL651", "FFFFFFFFFF", False),
        ("SZY206", "GG12345678", False),
        ("MQTT", "yc-meter-01", True),
        ("HTTP", "bad id with spaces", False),
    ],
)
def test_station_address_by_protocol(db: Any, protocol: str, address: str, ok: bool) -> None:
    d = Device(kind="rtu", protocol=protocol, station_address=address)
    if ok:
        d.full_clean()
        assert d.station_address == address.replace(" ", "").upper() or protocol in ("MQTT", "HTTP")
    else:
        with pytest.raises(ValidationError) as exc:
            d.full_clean()
        assert "station_address" in exc.value.message_dict


def test_device_secret_is_hashed(db: Any) -> None:
    d = Device(kind="rtu", protocol="SL651", station_address="0012345678")
    d.set_secret("1234")
    assert "1234" not in d.secret_hash
    assert d.check_secret("1234") and not d.check_secret("4321")


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        (
            {"type": "Polygon", "coordinates": [[[112.3, 35.5], [112.31, 35.5], [112.31, 35.51]]]},
            "at least 4",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[112.3, 35.5], [112.31, 35.5], [112.31, 35.51], [112.3, 35.51]]],
            },
            "not closed",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[112.3, 35.5], [112.31, 35.51], [112.31, 35.5], [112.3, 35.51], [112.3, 35.5]]
                ],
            },
            "Self-intersection",
        ),
        ({"type": "Point", "coordinates": [112.3, 35.5]}, "Polygon or MultiPolygon"),
        (square(116.4, 39.9, 0.01), "超出县界"),
        (square(112.03, 35.45, 0.05), "超出县界"),
    ],
)
def test_zone_polygon_is_validated(db: Any, geometry: dict[str, Any], message: str) -> None:
    z = Zone(
        code="Z-BAD",
        name="坏",
        kind="balanced",
        layer="shallow",
        geometry=geometry,
        allowable_extraction_m3=1,
        designation_document="doc",
    )
    with pytest.raises(ValidationError) as exc:
        z.full_clean()
    assert message in exc.value.message_dict["geometry"][0]


def test_zone_area_is_computed(world: Any) -> None:
    assert 4.0 < world.zone.area_km2 < 4.8  # 0.02° × 0.02° at 35.5° N ≈ 4.5 km²


def test_renaming_a_zone_leaves_wells_alone(world: Any) -> None:
    """Only a zone's polygon, kind or layer decide where wells lie."""
    from aquifer.core.models import AuditEntry

    w = make_well("W-HC3", *HUANGCHENG)
    w.save()
    n = AuditEntry.objects.filter(object_type="registry.well").count()
    world.zone.name = "改名的禁采区"
    world.zone.save()
    assert AuditEntry.objects.filter(object_type="registry.well").count() == n
    world.zone.kind = "restricted"
    world.zone.layer = "deep"
    world.zone.save()
    w.refresh_from_db()
    assert w.zone is None  # the zone moved to the deep layer: the shallow well left it
