"""Walking distance and coverage on a hand-built network with distances one can check by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from wijkanalyse.analysis.coverage import buurt_coverage, straight_line_distance
from wijkanalyse.analysis.coverage import network_distance as _network_distance
from wijkanalyse.config import NetworkRules
from wijkanalyse.errors import DataError

#: The detached path D-E (100 m) is a part of its own here: attaching to it is allowed.
RULES = NetworkRules(min_component_m=0)


def network_distance(origins: gpd.GeoSeries, targets: gpd.GeoSeries, ways: gpd.GeoDataFrame) -> np.ndarray:
    return _network_distance(origins, targets, ways, RULES)

RD = "EPSG:28992"


@pytest.fixture
def l_street() -> gpd.GeoDataFrame:
    """An L-shaped street A(0,0)-B(300,0)-C(300,300), plus a detached path D(1000,0)-E(1100,0)."""
    return gpd.GeoDataFrame(
        {"u": [1, 2, 4], "v": [2, 3, 5], "length": [300.0, 300.0, 100.0], "highway": ["residential"] * 3},
        geometry=[
            LineString([(0, 0), (300, 0)]),
            LineString([(300, 0), (300, 300)]),
            LineString([(1000, 0), (1100, 0)]),
        ],
        crs=RD,
    )


def points(*xy: tuple[float, float]) -> gpd.GeoSeries:
    return gpd.GeoSeries([Point(x, y) for x, y in xy], crs=RD)


def test_distance_around_the_corner(l_street: gpd.GeoDataFrame) -> None:
    venue = points((0, 10))  # 10 m off the street, at A
    residents = points((300, 200), (150, -5), (1050, 0))
    d = network_distance(residents, venue, l_street)
    # 10 m to the street, 300 m A->B, 200 m up B->C
    assert d[0] == pytest.approx(510.0)
    # same street as the venue: 5 m to the street, 150 m along it, 10 m to the venue
    assert d[1] == pytest.approx(165.0)
    # a path not connected to the venue's street: unreachable
    assert np.isinf(d[2])


def test_straight_line_is_shorter_than_walking(l_street: gpd.GeoDataFrame) -> None:
    venue = points((0, 10))
    resident = points((300, 200))
    straight = straight_line_distance(resident, venue)
    assert straight[0] == pytest.approx(np.hypot(300, 190))
    assert straight[0] < 400 < network_distance(resident, venue, l_street)[0]


def test_nearest_of_two_meeting_points(l_street: gpd.GeoDataFrame) -> None:
    venues = points((0, 10), (310, 300))  # the second is 10 m from C
    d = network_distance(points((300, 200)), venues, l_street)
    assert d[0] == pytest.approx(110.0)  # 100 m down to C's level... along B->C from 200 to 300, then 10 m


def test_share_within_threshold(l_street: gpd.GeoDataFrame) -> None:
    venue = points((0, 10))
    residents = gpd.GeoDataFrame(
        {"buurtcode": ["BU1", "BU1", "BU2"], "inwoners": [100.0, 50.0, 30.0]},
        geometry=points((300, 200), (150, -5), (1050, 0)).to_numpy(),
        crs=RD,
    )
    residents["afstand_m"] = network_distance(residents.geometry, venue, l_street)
    cov = buurt_coverage(residents, pd.Index(["BU1", "BU2", "BU3"]), threshold_m=400)
    assert cov.loc["BU1", "inwoners"] == 150
    assert cov.loc["BU1", "inwoners_binnen_drempel"] == 50
    assert cov.loc["BU1", "aandeel_binnen_drempel"] == pytest.approx(1 / 3)
    assert cov.loc["BU2", "aandeel_binnen_drempel"] == 0
    assert np.isnan(cov.loc["BU2", "afstand_mediaan_m"])  # nobody there reaches a meeting point
    assert cov.loc["BU1", "afstand_mediaan_m"] == pytest.approx(510.0)  # weighted: 100 of 150 at 510 m
    assert cov.loc["BU3", "inwoners"] == 0
    assert np.isnan(cov.loc["BU3", "aandeel_binnen_drempel"])


def test_suppressed_cells_count_as_zero(l_street: gpd.GeoDataFrame) -> None:
    residents = pd.DataFrame({"buurtcode": ["BU1", "BU1"], "inwoners": [np.nan, 20.0], "afstand_m": [100.0, 900.0]})
    cov = buurt_coverage(residents, pd.Index(["BU1"]), threshold_m=400)
    assert cov.loc["BU1", "inwoners"] == 20
    assert cov.loc["BU1", "aandeel_binnen_drempel"] == 0


def test_no_meeting_points_means_nobody_reaches_one(l_street: gpd.GeoDataFrame) -> None:
    d = network_distance(points((0, 0)), gpd.GeoSeries([], crs=RD), l_street)
    assert np.isinf(d).all()


def test_lon_lat_input_is_refused(l_street: gpd.GeoDataFrame) -> None:
    with pytest.raises(DataError, match="metrisch CRS"):
        network_distance(points((0, 0)).set_crs(4326, allow_override=True), points((0, 0)), l_street)


def test_parallel_streets_do_not_add_up() -> None:
    """Two ways between the same corners: the shorter one counts (csgraph would sum duplicates)."""
    edges = gpd.GeoDataFrame(
        {"u": [1, 1, 2], "v": [2, 2, 3], "length": [100.0, 100.0, 100.0], "highway": ["footway"] * 3},
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(0, 0), (100, 0)]), LineString([(100, 0), (200, 0)])],
        crs=RD,
    )
    d = network_distance(points((200, 0)), points((0, 0)), edges)
    assert d[0] == pytest.approx(200.0)
