"""The distance engine against an independent computation (hypothesis, derandomised).

On random small networks (ways between junctions of a 50 m lattice, some bent, some loops
that start and end at the same junction, some parallel, parts not connected, a mix of tags)
with random residents and meeting points and random attachment rules,
:meth:`WalkNetwork.nearest` and :meth:`WalkNetwork.within` must give the distances of
``tests/independent_paths.py``: the feet of the perpendiculars worked out segment by segment
in the test, the ways cut there, and networkx's multi-source Dijkstra on the cut graph.

Which ways are walkable and at street level is written down per tag set below, by hand from
the rules in the docstring of wijkanalyse/network.py (not by calling its masks); which parts
count (the largest, or any of ``min_component_m`` metres) comes from networkx's connected
components. The examples are derandomised like tests/test_properties.py. Distances agree
to a millimetre (the engine keeps a zero-length stretch as a 1 µm edge).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import assume, given
from hypothesis import strategies as st

from wijkanalyse.config import NetworkRules
from wijkanalyse.network import WalkNetwork

from . import independent_paths as ind
from .test_properties import SETTINGS, coordinate, rules

CRS = "EPSG:28992"
TOL = 1e-3
TAGS = ["highway", "foot", "tunnel", "layer", "indoor", "level"]

#: (tags, walkable, at street level) by the rules of wijkanalyse/network.py, default NetworkRules.
TAG_SETS = [
    ({"highway": "residential"}, True, True),
    ({"highway": "footway", "tunnel": "yes"}, True, False),  # walked through, never attached to
    ({"highway": "footway", "tunnel": "building_passage"}, True, True),
    ({"highway": "service", "layer": "-1"}, True, False),
    ({"highway": "corridor", "indoor": "yes"}, True, False),
    ({"highway": "steps", "level": "1"}, True, False),
    ({"highway": "cycleway", "foot": "designated"}, True, True),  # the Dutch fiets/voetpad
    ({"highway": "cycleway"}, False, False),  # walk_all_cycleways is off by default
    ({"highway": "motorway"}, False, False),
    ({"highway": "path", "foot": "no"}, False, False),
]


@st.composite
def networks(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, list[bool], list[bool]]:
    """A ways frame on junctions of a 50 m lattice, with per way: walkable, at street level."""
    n = draw(st.integers(min_value=2, max_value=9))
    cells = draw(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=n, max_size=n, unique=True))
    xy = [(50.0 * a, 50.0 * b) for a, b in cells]
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=1, max_size=16))
    rows, geoms, walk, street = [], [], [], []
    for k, (i, drawn_j) in enumerate(pairs):
        j = i if draw(st.integers(0, 3)) == 0 else drawn_j  # a loop way one time in four, or more
        bends = [(draw(coordinate), draw(coordinate)) for _ in range(draw(st.integers(2 if i == j else 0, 2)))]
        line = shapely.LineString([xy[i], *bends, xy[j]])
        tags, walkable, at_street = TAG_SETS[draw(st.sampled_from([0, 0, 0, 0, *range(1, len(TAG_SETS))]))]
        rows.append({"u": 1000 + i, "v": 1000 + j, "length": line.length, "way_id": k,
                     **{t: tags.get(t) for t in TAGS}})
        geoms.append(line)
        walk.append(walkable)
        street.append(walkable and at_street)
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=CRS), walk, street


points = st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=10)


def _expected_eligible(ways: gpd.GeoDataFrame, walk: list[bool], street: list[bool], rule: NetworkRules) -> list[bool]:
    """Walkable, at street level, and on the largest part or a part of ``min_component_m`` metres."""
    idx = [k for k in range(len(ways)) if walk[k]]
    part, totals = ind.components(ways["u"].iloc[idx].tolist(), ways["v"].iloc[idx].tolist(),
                                  ways["length"].iloc[idx].tolist())
    largest = max(totals)
    # two parts tied for largest, both short: the rule does not say which counts; not drawn
    assume(sum(abs(t - largest) < 1e-6 for t in totals) == 1 or largest >= rule.min_component_m)
    eligible = [False] * len(ways)
    for k, p in zip(idx, part, strict=True):
        eligible[k] = street[k] and (totals[p] >= rule.min_component_m or totals[p] == largest)
    return eligible


def _points(xy: list[tuple[float, float]]) -> list[shapely.Point]:
    return [shapely.Point(x, y) for x, y in xy]


def _setup(net_draw, rule: NetworkRules, origins: list, targets: list):
    ways, walk, street = net_draw
    assume(any(walk))
    eligible = _expected_eligible(ways, walk, street, rule)
    geoms = list(ways.geometry)
    o_att = ind.attach(geoms, eligible, _points(origins), rule.max_attach_m)
    t_att = ind.attach(geoms, eligible, _points(targets), rule.max_attach_m)
    walks = ind.Walks(ways["u"].tolist(), ways["v"].tolist(), ways["length"].tolist(), walk, o_att, t_att)
    net = WalkNetwork.from_ways(ways, rule)
    engine_o = net.attach(gpd.GeoSeries(_points(origins), crs=CRS))
    engine_t = net.attach(gpd.GeoSeries(_points(targets), crs=CRS))
    return net, engine_o, engine_t, walks, o_att, t_att


@SETTINGS
@given(net_draw=networks(), origins=points, targets=points, rule=rules)
def test_nearest_is_the_networkx_multi_source_dijkstra(net_draw, origins, targets, rule) -> None:
    net, engine_o, engine_t, walks, o_att, t_att = _setup(net_draw, rule, origins, targets)
    # the same points are on the network
    assert engine_o.on_network.tolist() == [bool(a) for a in o_att]
    assert engine_t.on_network.tolist() == [bool(a) for a in t_att]
    expected = walks.nearest(0, 1)
    got = net.nearest(engine_o, engine_t)
    assert (np.isinf(got) == np.isinf(expected)).all(), (got, expected)
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=0, atol=TOL)


@SETTINGS
@given(net_draw=networks(), origins=points, targets=points, rule=rules, limit=st.floats(0, 1500))
def test_within_is_every_networkx_walk_up_to_the_limit(net_draw, origins, targets, rule, limit) -> None:
    net, engine_o, engine_t, walks, _, _ = _setup(net_draw, rule, origins, targets)
    expected = walks.between(1, 0)  # meeting point x resident
    got = net.within(engine_t, engine_o, limit).toarray()
    inside, outside = expected <= limit - TOL, expected > limit + TOL
    np.testing.assert_allclose(got[inside], expected[inside], rtol=0, atol=TOL)
    assert (got[outside] == 0).all()
    assert (got[(got > 0) & ~inside & ~outside] <= limit).all()  # at the limit itself: either way, never beyond
