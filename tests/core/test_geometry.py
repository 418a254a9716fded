"""aquifer.core.geometry: GeoJSON validation, coordinate systems, point-in-zone assignment.

Pure tests: no database.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Polygon, box

from aquifer.core.geometry import (
    GeometryError,
    PointIndex,
    Region,
    area_km2,
    parse_polygon,
    to_wgs84,
)

HUANGCHENG = (112.5895, 35.5199)


def ring(*points: tuple[float, float]) -> list[list[float]]:
    return [list(p) for p in points]


SQUARE = ring((112.0, 35.0), (112.1, 35.0), (112.1, 35.1), (112.0, 35.1), (112.0, 35.0))


# --- parse_polygon ----------------------------------------------------------------------------


def test_parse_polygon_accepts_a_polygon_and_a_feature() -> None:
    geom = parse_polygon({"type": "Polygon", "coordinates": [SQUARE]})
    assert geom.bounds == (112.0, 35.0, 112.1, 35.1)
    feature = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
    }
    assert parse_polygon(feature).equals(geom)


def test_unclosed_ring_is_refused_naming_the_ring() -> None:
    open_ring = [*SQUARE[:-1], [112.0, 35.05]]
    with pytest.raises(GeometryError, match=r"coordinates\[0\]: ring is not closed"):
        parse_polygon({"type": "Polygon", "coordinates": [open_ring]})


def test_unclosed_ring_in_a_multipolygon_names_polygon_and_ring() -> None:
    hole_open = ring(
        (112.02, 35.02), (112.04, 35.02), (112.04, 35.04), (112.02, 35.04), (112.02, 35.03)
    )
    geojson = {"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE, hole_open]]}
    with pytest.raises(GeometryError, match=r"coordinates\[1\]\[1\]: ring is not closed"):
        parse_polygon(geojson)


def test_self_intersecting_bow_tie_is_refused_with_the_reason() -> None:
    bow_tie = ring((112.0, 35.0), (112.1, 35.1), (112.1, 35.0), (112.0, 35.1), (112.0, 35.0))
    with pytest.raises(GeometryError, match=r"invalid polygon: Self-intersection\[112\.05 35\.05"):
        parse_polygon({"type": "Polygon", "coordinates": [bow_tie]})


@pytest.mark.parametrize(
    ("geojson", "message"),
    [
        ({"type": "Point", "coordinates": [112.0, 35.0]}, "type must be Polygon or MultiPolygon"),
        ({"type": "LineString", "coordinates": SQUARE}, "got 'LineString'"),
        ([SQUARE], "geometry must be a GeoJSON object"),
        ({"type": "Polygon", "coordinates": []}, "coordinates must be a non-empty list"),
    ],
)
def test_wrong_type_is_refused(geojson: Any, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        parse_polygon(geojson)


@pytest.mark.parametrize(
    ("bad_ring", "message"),
    [
        (SQUARE[:3], r"coordinates\[0\]: a ring needs at least 4 positions"),
        ([*SQUARE[:2], ["112.1", 35.1], *SQUARE[3:]], r"coordinates\[0\]\[2\]: a position is"),
        ([*SQUARE[:2], [112.1], *SQUARE[3:]], r"coordinates\[0\]\[2\]: a position is"),
        ([*SQUARE[:1], [True, 35.0], *SQUARE[2:]], r"coordinates\[0\]\[1\]: a position is"),
        ([*SQUARE[:3], [212.0, 35.1], *SQUARE[4:]], r"\[0\]\[3\]: .* is not a longitude"),
        ([*SQUARE[:3], [112.0, 95.0], *SQUARE[4:]], r"\[0\]\[3\]: .* is not a longitude"),
    ],
)
def test_bad_positions_are_refused_with_their_index(bad_ring: Any, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        parse_polygon({"type": "Polygon", "coordinates": [bad_ring]})


def test_polygon_without_area_is_refused() -> None:
    flat = ring((112.0, 35.0), (112.1, 35.0), (112.2, 35.0), (112.0, 35.0))
    with pytest.raises(GeometryError):
        parse_polygon({"type": "Polygon", "coordinates": [flat]})


# --- to_wgs84 ---------------------------------------------------------------------------------


def test_gauss_kruger_cm111_converts_to_lon_lat() -> None:
    # The expected value goes the other way, WGS84 -> EPSG:4546, through PROJ directly.
    forward = Transformer.from_crs("EPSG:4326", "EPSG:4546", always_xy=True)
    easting, northing = forward.transform(*HUANGCHENG)
    # CM 111E, false easting 500 km, no zone prefix: 1.59 degrees east of the CM at 35.5 N.
    assert 640_000 < easting < 650_000
    assert 3_925_000 < northing < 3_935_000
    lon, lat = to_wgs84(easting, northing, 4546)
    assert lon == pytest.approx(HUANGCHENG[0], abs=1e-6)
    assert lat == pytest.approx(HUANGCHENG[1], abs=1e-6)


def test_geographic_systems_keep_lon_lat() -> None:
    assert to_wgs84(*HUANGCHENG) == HUANGCHENG
    lon, lat = to_wgs84(*HUANGCHENG, epsg=4490)
    assert lon == pytest.approx(HUANGCHENG[0], abs=1e-6)
    assert lat == pytest.approx(HUANGCHENG[1], abs=1e-6)


@pytest.mark.parametrize("epsg", [3857, 4214, 2383, 0])
def test_unsupported_epsg_is_refused(epsg: int) -> None:
    with pytest.raises(GeometryError, match=f"unsupported coordinate system EPSG:{epsg}"):
        to_wgs84(645_000.0, 3_930_000.0, epsg)


@pytest.mark.parametrize(
    ("x", "y", "epsg"),
    [(float("nan"), 35.0, 4326), (112.0, float("inf"), 4326), (200.0, 35.0, 4326)],
)
def test_impossible_coordinates_are_refused(x: float, y: float, epsg: int) -> None:
    with pytest.raises(GeometryError):
        to_wgs84(x, y, epsg)


# --- PointIndex -------------------------------------------------------------------------------

BIG = box(112.0, 35.0, 112.4, 35.4)
SMALL = box(112.1, 35.1, 112.2, 35.2)  # inside BIG


@pytest.mark.parametrize("reverse", [False, True])
def test_overlapping_regions_resolve_by_rank(reverse: bool) -> None:
    regions = [Region(1, BIG, rank=4), Region(2, SMALL, rank=0)]
    index = PointIndex(reversed(regions) if reverse else regions)
    assert index.assign([112.15, 112.3], [35.15, 35.3]) == [2, 1]
    # The lower rank wins, not the smaller polygon.
    flipped = PointIndex([Region(1, BIG, rank=0), Region(2, SMALL, rank=4)])
    assert flipped.assign_one(112.15, 35.15) == 1


def test_groups_restrict_points_to_their_layer() -> None:
    index = PointIndex(
        [Region(1, BIG, rank=3, group="shallow"), Region(2, SMALL, rank=0, group="deep")]
    )
    lon, lat = [112.15, 112.15, 112.3], [35.15, 35.15, 35.3]
    assert index.assign(lon, lat, ["shallow", "deep", "deep"]) == [1, 2, None]
    assert index.assign_one(112.15, 35.15, group="confined") is None
    assert index.assign_one(112.15, 35.15) == 2  # no group: every region counts


def test_nearest_fills_gaps_only_when_asked() -> None:
    west, east = box(112.0, 35.0, 112.1, 35.1), box(112.3, 35.0, 112.4, 35.1)
    index = PointIndex([Region(10, west), Region(20, east)])
    gap = ([112.12, 112.28, 112.05], [35.05, 35.05, 35.05])
    assert index.assign(*gap) == [None, None, 10]
    assert index.assign(*gap, nearest=True) == [10, 20, 10]


def test_empty_inputs() -> None:
    assert PointIndex([]).assign([112.0], [35.0], nearest=True) == [None]
    assert PointIndex([Region(1, BIG)]).assign([], []) == []


@given(
    lon=st.floats(112.0, 112.6),
    lat=st.floats(35.2, 35.7),
    half=st.floats(0.001, 0.05),
    u=st.floats(-0.99, 0.99),
    v=st.floats(-0.99, 0.99),
)
def test_any_point_inside_a_square_is_assigned_to_it(
    lon: float, lat: float, half: float, u: float, v: float
) -> None:
    square = box(lon - half, lat - half, lon + half, lat + half)
    decoy = box(lon + 3 * half, lat - half, lon + 5 * half, lat + half)  # east, not touching
    index = PointIndex([Region(7, square, rank=1), Region(8, decoy, rank=0)])
    assert index.assign_one(lon + u * half, lat + v * half) == 7
    # Just outside the square, on the side away from the decoy: nothing, or the square.
    outside = (lon - half * 1.01 - 1e-9, lat + v * half)
    assert index.assign_one(*outside) is None
    assert index.assign_one(*outside, nearest=True) == 7


# --- area_km2 ---------------------------------------------------------------------------------


def test_area_of_a_hundredth_degree_square_at_35_5_n() -> None:
    square = box(112.5, 35.495, 112.51, 35.505)
    assert area_km2(square) == pytest.approx(1.0, rel=0.02)
    # Independently: the WGS84 radii of curvature at 35.5 N (meridian M, prime vertical N).
    a, e2, phi = 6_378_137.0, 0.00669437999014, math.radians(35.5)
    w = 1 - e2 * math.sin(phi) ** 2
    north_south = math.radians(0.01) * a * (1 - e2) / w**1.5
    east_west = math.radians(0.01) * a / math.sqrt(w) * math.cos(phi)
    assert area_km2(square) == pytest.approx(north_south * east_west / 1e6, rel=1e-3)


def test_area_does_not_depend_on_ring_orientation() -> None:
    cw = Polygon(list(box(112.5, 35.495, 112.51, 35.505).exterior.coords)[::-1])
    assert area_km2(cw) == pytest.approx(area_km2(box(112.5, 35.495, 112.51, 35.505)))
