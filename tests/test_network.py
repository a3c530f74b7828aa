"""The network engine on hand-built OpenStreetMap XML: every walk and attachment rule, exact distances.

Positions are RD metres relative to an origin; each expected distance is worked out by hand
in the comment beside it (straight stretch to the way + metres along ways + straight stretch).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from wijkanalyse import model
from wijkanalyse.config import NetworkRules, load_config
from wijkanalyse.network import WalkNetwork, street_level_mask, walkable_mask
from wijkanalyse.sources.files import SnapshotReader
from wijkanalyse.sources.osm import read_osm

from .osm_builder import OsmBuilder

DATA = Path(__file__).parent / "data"
TOL = 0.01  # metres: RD -> lon/lat (9 decimals) -> RD


def distances(tmp_path: Path, osm: OsmBuilder, residents: list[tuple[float, float]],
              meeting: list[tuple[float, float]], rules: NetworkRules | None = None) -> np.ndarray:
    """Walking distance of each resident to the nearest meeting point, via osm.xml and the reader."""
    ways = read_osm(osm.write(tmp_path / "t.osm"), {}).ways
    net = WalkNetwork.from_ways(ways, rules or NetworkRules(min_component_m=0))
    res = net.attach(gpd.GeoSeries([osm.point(x, y) for x, y in residents], crs=model.CRS))
    mp = net.attach(gpd.GeoSeries([osm.point(x, y) for x, y in meeting], crs=model.CRS))
    return net.nearest(res, mp)


def test_omweg_detour_instead_of_motorway_private_road_and_cycleway(tmp_path: Path) -> None:
    config = load_config()
    extract = read_osm(DATA / "omweg.osm", config.osm_tags())
    net = WalkNetwork.from_ways(extract.ways, config.network)
    assert set(net.highway) == {"residential"}
    assert net.length.sum() == pytest.approx(700.0, abs=0.01)
    x0, y0 = 155000, 463000
    venue = net.attach(gpd.GeoSeries.from_xy([x0 - 10], [y0], crs=model.CRS))
    resident = net.attach(gpd.GeoSeries.from_xy([x0 + 310], [y0], crs=model.CRS))
    # 10 m to corner A, 200 + 300 + 200 m around, 10 m from corner D
    assert net.nearest(resident, venue)[0] == pytest.approx(720.0, abs=TOL)


def test_venue_from_osm_xml_keeps_its_name_verbatim() -> None:
    config = load_config()
    venues = model.venues_frame(read_osm(DATA / "omweg.osm", config.osm_tags()).venues, config.venues)
    assert list(venues["naam"]) == ["Buurthuis <De Brug> & Co"]
    assert list(venues["categorie"]) == ["buurthuis"]
    assert list(venues["osm_id"]) == ["node/100"]
    assert bool(venues["ontmoetingspunt"].iloc[0])
    assert venues.crs == model.CRS
    assert venues.geometry.iloc[0].distance(gpd.points_from_xy([155000 - 10], [463000])[0]) < 0.01


def test_a_resident_beside_a_tunnel_attaches_to_the_street(tmp_path: Path) -> None:
    osm = OsmBuilder()
    osm.way([(0, 0), (400, 0), (500, 0)], highway="residential")
    osm.way([(100, -25), (500, -25)], highway="service", tunnel="yes", layer="-1")  # a parking tunnel
    osm.way([(500, -25), (500, 0)], highway="footway")  # its ramp
    d = distances(tmp_path, osm, [(300, -20)], [(0, 5)])
    # 5 m from the tunnel, 20 m from the street: 20 + 300 along the street + 5 = 325
    # (attached to the tunnel it would be 5 + 200 + 25 + 500 + 5 = 735)
    assert d[0] == pytest.approx(325.0, abs=TOL)


@pytest.mark.parametrize("tags", [
    {"tunnel": "yes"}, {"layer": "-1"}, {"layer": "-2;-1"}, {"indoor": "yes"}, {"level": "1"}, {"level": "-1;0"},
])
def test_a_way_below_or_inside_is_walked_through_but_never_attached_to(tmp_path: Path, tags: dict[str, str]) -> None:
    osm = OsmBuilder()
    osm.way([(0, 0), (100, 0)], highway="residential")
    osm.way([(100, 0), (300, 0)], highway="footway", **tags)  # the only link
    osm.way([(300, 0), (400, 0)], highway="residential")
    d = distances(tmp_path, osm, [(350, 10), (200, 8)], [(-5, 0)])
    # through the underpass: 10 + 50 + 200 + 100 + 5
    assert d[0] == pytest.approx(365.0, abs=TOL)
    # above the underpass: to its nearest street-level end B (100, 0), then 100 m and 5 m
    assert d[1] == pytest.approx(math.hypot(100, 8) + 100 + 5, abs=TOL)


@pytest.mark.parametrize("tags", [{}, {"tunnel": "no"}, {"tunnel": "building_passage"}, {"layer": "1"}, {"level": "0"}])
def test_street_level_ways(tags: dict[str, str]) -> None:
    assert street_level_mask(pd.DataFrame([{"highway": "footway", **tags}]))[0]


def test_a_resident_beside_a_disconnected_footway_attaches_to_the_street(tmp_path: Path) -> None:
    osm = OsmBuilder()
    osm.way([(0, 0), (600, 0)], highway="residential")
    osm.way([(100, 40), (300, 40)], highway="footway")  # an isolated path through a park, 200 m
    d = distances(tmp_path, osm, [(200, 37)], [(0, 5)], NetworkRules(min_component_m=1000))
    # 3 m from the isolated path, 37 m from the street: 37 + 200 + 5
    assert d[0] == pytest.approx(242.0, abs=TOL)


def test_a_meeting_point_beside_an_isolated_piece_still_serves_the_street(tmp_path: Path) -> None:
    osm = OsmBuilder()
    osm.way([(0, 0), (600, 0)], highway="residential")
    osm.way([(450, 45), (550, 45)], highway="corridor")  # a fragment 1 cm from the café's door
    d = distances(tmp_path, osm, [(520, -10)], [(500, 44.99)], NetworkRules(min_component_m=1000))
    # the café attaches to the street at (500, 0): 10 + 20 + 44.99
    assert d[0] == pytest.approx(74.99, abs=TOL)


def test_a_large_separate_part_is_a_place_of_its_own(tmp_path: Path) -> None:
    osm = OsmBuilder()
    osm.way([(0, 0), (3000, 0)], highway="residential")  # the town
    osm.way([(0, 2000), (1500, 2000)], highway="residential")  # an island village: 1.5 km of street
    d = distances(tmp_path, osm, [(700, 1990)], [(100, 2005)], NetworkRules(min_component_m=1000))
    assert d[0] == pytest.approx(10 + 600 + 5, abs=TOL)


@pytest.mark.parametrize(
    ("link", "walk_all", "expected"),
    [
        ({"highway": "cycleway", "foot": "designated"}, False, 415.0),
        ({"highway": "cycleway", "foot": "yes"}, False, 415.0),
        ({"highway": "cycleway", "foot": "permissive"}, False, 415.0),
        ({"highway": "cycleway"}, False, 1015.0),
        ({"highway": "cycleway"}, True, 415.0),
        ({"highway": "cycleway", "foot": "no"}, True, 1015.0),
        ({"highway": "footway"}, False, 415.0),
        ({"highway": "service", "access": "private"}, False, 1015.0),
        ({"highway": "service", "access": "no", "foot": "yes"}, False, 415.0),
        ({"highway": "track", "access": "no"}, False, 1015.0),
        ({"highway": "track", "access": "private", "foot": "designated"}, False, 415.0),
        ({"highway": "service", "service": "private"}, False, 1015.0),
        ({"highway": "rest_area"}, False, 1015.0),
        ({"highway": "services"}, False, 1015.0),
        ({"highway": "motorway"}, False, 1015.0),
        ({"highway": "trunk"}, False, 1015.0),
        ({"highway": "pedestrian", "area": "yes"}, False, 1015.0),
        ({"highway": "path", "foot": "private"}, False, 1015.0),
    ],
)
def test_a_link_is_walked_or_the_detour_is_taken(tmp_path: Path, link: dict[str, str], walk_all: bool, expected: float) -> None:
    osm = OsmBuilder()
    osm.way([(0, 0), (100, 0)], highway="residential")
    osm.way([(100, 0), (300, 0)], **link)  # the fiets/voetpad (or a road) as the only short link
    osm.way([(300, 0), (400, 0)], highway="residential")
    osm.way([(0, 0), (0, 300), (400, 300), (400, 0)], highway="residential")  # a 1,000 m detour
    rules = NetworkRules(min_component_m=0, walk_all_cycleways=walk_all)
    d = distances(tmp_path, osm, [(400, -10)], [(-5, 0)], rules)
    # over the link: 10 + 100 + 200 + 100 + 5 = 415; around: 10 + 300 + 400 + 300 + 5 = 1015
    assert d[0] == pytest.approx(expected, abs=TOL)


def test_a_point_far_from_every_way_is_not_on_the_network(tmp_path: Path) -> None:
    osm = OsmBuilder()
    osm.way([(0, 0), (600, 0)], highway="residential")
    ways = read_osm(osm.write(tmp_path / "t.osm"), {}).ways
    net = WalkNetwork.from_ways(ways, NetworkRules(max_attach_m=500))
    att = net.attach(gpd.GeoSeries([osm.point(300, 499), osm.point(300, 501)], crs=model.CRS))
    assert att.on_network.tolist() == [True, False]
    assert att.offset[0] == pytest.approx(499, abs=TOL)
    assert np.isnan(att.offset[1])
    assert np.isinf(net.nearest(att, net.attach(gpd.GeoSeries([osm.point(0, 0)], crs=model.CRS)))[1])


def test_points_attach_at_the_foot_of_the_perpendicular(tmp_path: Path) -> None:
    osm = OsmBuilder()
    osm.way([(0, 0), (100, 100), (200, 0)], highway="residential")  # a bent way
    ways = read_osm(osm.write(tmp_path / "t.osm"), {}).ways
    net = WalkNetwork.from_ways(ways, NetworkRules(min_component_m=0))
    att = net.attach(gpd.GeoSeries([osm.point(40, 60)], crs=model.CRS))
    # the foot of the perpendicular from (40, 60) on y = x is (50, 50): 50 * sqrt(2) along, 10 * sqrt(2) off
    assert att.offset[0] == pytest.approx(10 * math.sqrt(2), abs=TOL)
    assert att.along[0] == pytest.approx(50 * math.sqrt(2), abs=TOL)


def test_within_gives_the_pairs_inside_the_limit_only(tmp_path: Path) -> None:
    osm = OsmBuilder()
    osm.way([(0, 0), (1000, 0)], highway="residential")
    ways = read_osm(osm.write(tmp_path / "t.osm"), {}).ways
    net = WalkNetwork.from_ways(ways, NetworkRules(min_component_m=0))
    sites = net.attach(gpd.GeoSeries([osm.point(100, 10), osm.point(900, -10)], crs=model.CRS))
    people = net.attach(gpd.GeoSeries([osm.point(x, 5) for x in (0, 300, 600, 950)], crs=model.CRS))
    reach = net.within(sites, people, 400.0).toarray()
    # site 1 (100, 10): 10 + 100 + 5 = 115 to x=0, 10 + 200 + 5 = 215 to x=300; 515 to x=600 is too far
    np.testing.assert_allclose(reach[0], [115, 215, 0, 0], atol=TOL)
    # site 2 (900, -10): 10 + 300 + 5 = 315 to x=600 and 10 + 50 + 5 = 65 to x=950
    np.testing.assert_allclose(reach[1], [0, 0, 315, 65], atol=TOL)


def test_within_agrees_with_nearest(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    osm = OsmBuilder()
    for i in range(6):  # a 6 x 6 grid of 100 m blocks
        osm.way([(i * 100, j * 100) for j in range(6)], highway="residential")
        osm.way([(j * 100, i * 100) for j in range(6)], highway="residential")
    ways = read_osm(osm.write(tmp_path / "t.osm"), {}).ways
    net = WalkNetwork.from_ways(ways, NetworkRules(min_component_m=0))
    sites = gpd.GeoSeries([osm.point(*xy) for xy in rng.uniform(0, 500, (5, 2))], crs=model.CRS)
    people = gpd.GeoSeries([osm.point(*xy) for xy in rng.uniform(0, 500, (40, 2))], crs=model.CRS)
    s_att, p_att = net.attach(sites), net.attach(people)
    reach = net.within(s_att, p_att, 10_000.0).toarray()
    np.testing.assert_allclose(reach.min(axis=0), net.nearest(p_att, s_att), atol=1e-4)


@pytest.mark.parametrize(
    ("tags", "walkable"),
    [
        ({"highway": "residential"}, True),
        ({"highway": "footway"}, True),
        ({"highway": "motorway"}, False),
        ({"highway": "cycleway"}, False),
        ({"highway": "cycleway", "foot": "designated"}, True),
        ({"highway": "service", "access": "private"}, False),
        ({"highway": "service", "access": "private", "foot": "yes"}, True),
        ({"highway": "path", "foot": "no"}, False),
        ({"highway": "pedestrian", "area": "yes"}, False),
        ({"building": "yes"}, False),
    ],
)
def test_walk_filter(tags: dict[str, str], walkable: bool) -> None:
    assert bool(walkable_mask(pd.DataFrame([tags]))[0]) is walkable


def test_the_walk_rules_come_from_the_config() -> None:
    rules = load_config().network
    assert rules.max_attach_m == 500
    assert not rules.walk_all_cycleways
    relaxed = dataclasses.replace(rules, walk_all_cycleways=True)
    assert walkable_mask(pd.DataFrame([{"highway": "cycleway"}]), relaxed)[0]


def test_a_point_halfway_between_two_streets_walks_along_the_better_one(tmp_path: Path) -> None:
    """A cell centre exactly 50 m from two parallel streets (an RD grid does that) may walk out to either."""
    osm = OsmBuilder()
    osm.way([(0, 100), (1000, 100)], highway="residential")  # north street
    osm.way([(0, 0), (1000, 0)], highway="residential")  # south street
    osm.way([(0, 0), (0, 100)], highway="residential")  # they meet only at x = 0
    ways = read_osm(osm.write(tmp_path / "t.osm"), {}).ways
    for order in (slice(None), slice(None, None, -1)):  # either row order
        net = WalkNetwork.from_ways(ways.iloc[order].reset_index(drop=True), NetworkRules(min_component_m=0))
        halfway = net.attach(gpd.GeoSeries([osm.point(500, 50)], crs=model.CRS))
        north = net.attach(gpd.GeoSeries([osm.point(500, 105)], crs=model.CRS))
        assert len(halfway.tie_point) == 1  # two equally near streets: one first, one tie
        # 50 m up to the north street and 5 m to the café beside it; via the south street it is 1,155 m
        assert net.nearest(halfway, north)[0] == pytest.approx(55.0, abs=TOL)
        assert net.nearest(north, halfway)[0] == pytest.approx(55.0, abs=TOL)  # and as the target
        assert net.within(halfway, north, 400.0).toarray()[0, 0] == pytest.approx(55.0, abs=TOL)
        assert net.within(north, halfway, 400.0).toarray()[0, 0] == pytest.approx(55.0, abs=TOL)
        # a subset keeps its ties
        both = net.attach(gpd.GeoSeries([osm.point(900, 5), osm.point(500, 50)], crs=model.CRS))
        assert net.nearest(both.take(np.array([False, True])), north)[0] == pytest.approx(55.0, abs=TOL)


def test_a_venue_outside_the_gemeente_but_within_reach_counts(demo_snapshot: Path, tmp_path: Path) -> None:
    """Residents walk across the border: a buurthuis 200 m outside the gemeente serves a cell inside it."""
    from wijkanalyse import pipeline

    from .osm_builder import snapshot_with

    osm = OsmBuilder(x0=60_000.0, y0=482_500.0)  # the demo gemeente's west border is x = 60,000
    osm.way([(-300, 0), (300, 0)], highway="residential")
    osm.venue(-200, 10, amenity="community_centre", name="Buurthuis over de grens")
    snap = snapshot_with(demo_snapshot, tmp_path / "snap", osm, [(150, 30, 40)])
    result = pipeline.analyse(SnapshotReader(snap), load_config())
    assert result.residents["buurtcode"].iloc[0].startswith("BU9999")  # the cell lies in the gemeente
    # 30 m to the street, 350 m west along it, 10 m to the buurthuis across the border
    assert result.residents["afstand_m"].iloc[0] == pytest.approx(390.0, abs=TOL)
    assert result.summary["residents_within_threshold"] == 40
    assert result.summary["n_meeting_points"] == 1


def test_a_point_on_a_loop_way_walks_the_short_way_round(tmp_path: Path) -> None:
    """A closed way (a square of 4 x 100 m) meets the rest of the streets at one junction only.

    Its start and end are the same node, so a point on it cuts it into two halves between the
    same two nodes: the walk takes the shorter half (the engine used to add the two halves up).
    """
    osm = OsmBuilder()
    osm.way([(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)], highway="residential")
    osm.way([(0, 0), (-10, 0)], highway="residential")
    # resident 1 m below the loop, 10 m along it from the junction: 1 + 10 + 10 along the stub + 1
    # (the long way round would be 1 + 390 + 10 + 1 = 402); a resident at (-1, 9) beside the way back down: 1 + 9 + 10 + 1
    # (one at a time: with two points on it the loop is cut into three distinct pieces)
    assert distances(tmp_path, osm, [(10, -1)], [(-10, -1)])[0] == pytest.approx(22.0, abs=TOL)
    assert distances(tmp_path, osm, [(-1, 9)], [(-10, -1)])[0] == pytest.approx(21.0, abs=TOL)
    # and a meeting point on the loop: 1 + 10 + 10 + 1 again
    assert distances(tmp_path, osm, [(-10, -1)], [(10, -1)])[0] == pytest.approx(22.0, abs=TOL)


def _organic_ways(seed: int, size: float = 3000.0) -> gpd.GeoDataFrame:
    """A thinned Delaunay network with curved ways (the benchmarks' organic city, small)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from synthetic_city import _organic_streets

    return _organic_streets(np.random.default_rng(seed), size)


@pytest.mark.parametrize("limit", [150.0, 400.0])
def test_within_on_spatial_tiles_gives_the_whole_graphs_cover(limit: float) -> None:
    """The tiled bounded searches give the pairs and distances of one search per source on the whole graph."""
    import shapely
    from scipy.sparse.csgraph import dijkstra

    net = WalkNetwork.from_ways(_organic_ways(3))
    rng = np.random.default_rng(5)
    x0, y0 = 20_000.0, 500_000.0
    sources = net.attach(shapely.points(x0 + rng.uniform(0, 3000, 60), y0 + rng.uniform(0, 3000, 60)))
    origins = net.attach(shapely.points(x0 + rng.uniform(0, 3000, 900), y0 + rng.uniform(0, 3000, 900)))
    got = net.within(sources, origins, limit)
    graph, ((s_point, s_feet, s_off), (o_point, o_feet, o_off)) = net._graph([sources, origins])
    dist = dijkstra(graph, indices=s_feet, limit=limit)[:, o_feet] + o_off[None, :] + s_off[:, None]
    expected = np.full((len(sources), len(origins)), np.inf)
    for r, c in zip(*np.nonzero(dist <= limit), strict=True):
        expected[s_point[r], o_point[c]] = min(expected[s_point[r], o_point[c]], max(dist[r, c], 1e-6))
    dense = got.toarray()
    dense[dense == 0] = np.inf
    assert np.isfinite(expected).sum() > 100  # the test has pairs to compare, across several tiles
    assert np.array_equal(np.isfinite(dense), np.isfinite(expected))
    np.testing.assert_allclose(dense[np.isfinite(dense)], expected[np.isfinite(expected)], rtol=0, atol=1e-9)
