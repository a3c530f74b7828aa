"""Property-based tests (hypothesis) of the config parser and the distance engine.

The config parser, fed any TOML values (nan, inf, huge integers, text where a number
belongs, tables where a list belongs) or any text at all, gives a Config of finite numbers
or one ConfigError, never another exception.

The distance engine, on random street networks (straight ways between random junctions,
some bent, some crossing without a junction, parts not connected), random residents and
meeting points and random attachment rules:

- a walk is never shorter than the straight line: network distance >= the straight-line
  distance to the nearest meeting point (so certainly >= it minus the attach distances);
- coverage never falls as the threshold grows (per buurt and in total), and the bounded
  searches of the siting step (``within``) find nested sets and the same distances;
- adding a meeting point never raises any distance;
- shuffling the rows of the ways, residents or meeting points changes nothing.

The examples are derandomised (the same every run, no database file): a failure is a bug
to fix, never a flaky test. Distances agree to a millimetre: the engine keeps a zero-length
stretch (points on the same spot) as a 1 µm edge.
"""

from __future__ import annotations

import math
import os
import tomllib
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wijkanalyse.analysis.coverage import buurt_coverage, straight_line_distance
from wijkanalyse.config import ConfigError, default_config_text, load_config, parse_config
from wijkanalyse.network import WalkNetwork
from wijkanalyse.config import NetworkRules

CRS = "EPSG:28992"
TOL = 1e-3  # metres: the engine keeps a zero-length stretch as a 1 µm edge, so coincident points differ by µm
#: ``WIJKANALYSE_HYPOTHESIS_EXAMPLES=2000`` explores more (randomised) when hunting for bugs.
_EXPLORE = int(os.environ.get("WIJKANALYSE_HYPOTHESIS_EXAMPLES", "0"))
SETTINGS = settings(max_examples=_EXPLORE or 60, deadline=None, derandomize=not _EXPLORE, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

# ----------------------------------------------------------------------------------- config

#: Any TOML value, the awkward ones included.
toml_scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.text(max_size=12), st.sampled_from([float("nan"), float("inf"), -0.0, 0, 1, 10**30]),
)
toml_values = st.recursive(
    toml_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
NUMERIC_KEYS = {
    "thresholds": ["walk_m", "hotspot_alpha", "permutations", "seed"],
    "network": ["max_attach_m", "min_component_m"],
    "costs": ["meeting_point_per_year", "broker_fte_per_year"],
    "services": ["wfs_page_size", "connect_timeout_s", "read_timeout_s", "deadline_s", "retries", "backoff_s"],
    "siting": ["count", "time_limit_s", "signal_strength"],
    "brokers": ["workload_signal_weight", "workload_per_fte", "n_areas", "balance_tolerance", "priority_signal"],
    "area": ["year"],
}
KEYS = [(section, key) for section, keys in NUMERIC_KEYS.items() for key in keys] + [
    ("thresholds", "distance_method"), ("area", "gemeente"), ("network", "not_walkable_highway"),
    ("network", "walk_all_cycleways"), ("own_points", "file"), ("own_points", "merge_within_m"),
    ("kernen", "wijken"), ("kernen", "buurten"), ("siting", "candidate_classes"), ("siting", "cost_per_class"),
    ("venues", "buurthuis"), ("indicators", "inkomen"), ("thresholds", "onbekend"),
]


def _defaults() -> dict[str, Any]:
    return tomllib.loads(default_config_text())


def _finite_numbers(obj: Any) -> bool:
    """True when every number in a (nested) dataclass value is finite."""
    if isinstance(obj, float):
        return math.isfinite(obj)
    if isinstance(obj, dict):
        return all(_finite_numbers(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return all(_finite_numbers(v) for v in obj)
    if hasattr(obj, "__dataclass_fields__"):
        return all(_finite_numbers(getattr(obj, f)) for f in obj.__dataclass_fields__)
    return True


@SETTINGS
@given(changes=st.lists(st.tuples(st.sampled_from(KEYS), toml_values), min_size=1, max_size=4))
def test_the_parser_gives_a_config_of_finite_numbers_or_one_config_error(changes: list) -> None:
    raw = _defaults()
    for (section, key), value in changes:
        raw[section] = {**raw.get(section, {}), key: value}
    try:
        config = parse_config(raw)
    except ConfigError as e:
        text = str(e)
        assert text.startswith("Ongeldige config <dict>")
        assert ("\n" in text) == (text.count("\n  - ") > 1)  # one problem: one line; more: a list
        return
    assert _finite_numbers(config)
    assert config.thresholds.walk_m > 0 and 0 < config.thresholds.hotspot_alpha < 1
    assert 0 <= config.thresholds.seed < 2**32 and 99 <= config.thresholds.permutations < 100_000


@SETTINGS
@given(walk_m=st.floats(min_value=1e-3, max_value=1e6), alpha=st.floats(min_value=1e-6, max_value=0.999))
def test_a_valid_number_is_taken_as_written(walk_m: float, alpha: float) -> None:
    raw = _defaults()
    raw["thresholds"] = {**raw["thresholds"], "walk_m": walk_m, "hotspot_alpha": alpha}
    config = parse_config(raw)
    assert config.thresholds.walk_m == walk_m and config.thresholds.hotspot_alpha == alpha


@SETTINGS
@given(text=st.text(max_size=200))
def test_any_text_as_a_config_file_is_a_config_or_one_config_error(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("cfg") / "c.toml"
    path.write_text(text, encoding="utf-8")
    try:
        config = load_config(path)
    except ConfigError:
        return
    assert _finite_numbers(config)


# -------------------------------------------------------------------------------- networks


#: Metres with millimetre precision, as RD coordinates of real data are (no 1e-215 m bends).
coordinate = st.integers(-200_000, 1_000_000).map(lambda mm: mm / 1000)


@st.composite
def networks(draw: st.DrawFn) -> gpd.GeoDataFrame:
    """A ways frame (u, v, length, highway, geometry) on junctions of a 50 m lattice, some ways bent."""
    n = draw(st.integers(min_value=2, max_value=10))
    cells = draw(st.lists(st.tuples(st.integers(0, 16), st.integers(0, 16)), min_size=n, max_size=n, unique=True))
    xy = [(50.0 * a, 50.0 * b) for a, b in cells]
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
                          min_size=1, max_size=18))
    rows, geoms = [], []
    for k, (i, j) in enumerate(pairs):
        coords = [xy[i], xy[j]]
        if draw(st.booleans()):  # a bend
            bend = (draw(coordinate), draw(coordinate))
            coords = [xy[i], bend, xy[j]]
        line = shapely.LineString(coords)
        rows.append({"u": 1000 + i, "v": 1000 + j, "length": line.length, "way_id": k, "highway": "residential"})
        geoms.append(line)
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=CRS)


points = st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=12)
rules = st.builds(NetworkRules, max_attach_m=st.sampled_from([40.0, 150.0, 5000.0]),
                  min_component_m=st.sampled_from([0.0, 300.0, 1000.0]))


def _series(xy: list[tuple[float, float]]) -> gpd.GeoSeries:
    return gpd.GeoSeries(shapely.points(np.array(xy, dtype=float).reshape(-1, 2)), crs=CRS)


def _nearest(ways: gpd.GeoDataFrame, rule: NetworkRules, origins: list, targets: list) -> np.ndarray:
    net = WalkNetwork.from_ways(ways, rule)
    return net.nearest(net.attach(_series(origins)), net.attach(_series(targets)))


@SETTINGS
@given(ways=networks(), origins=points, targets=points, rule=rules)
def test_a_walk_is_never_shorter_than_the_straight_line(ways, origins, targets, rule) -> None:
    net = WalkNetwork.from_ways(ways, rule)
    o_att, t_att = net.attach(_series(origins)), net.attach(_series(targets))
    walk = net.nearest(o_att, t_att)
    straight = straight_line_distance(_series(origins), _series(targets))
    reached = np.isfinite(walk)
    assert (walk[reached] >= straight[reached] - TOL).all()
    # the weaker form of the issue: minus the attach distances of the resident and the nearest meeting point
    attached = t_att.on_network
    if attached.any():
        slack = o_att.offset[reached] + np.nanmax(t_att.offset[attached])
        assert (walk[reached] >= straight[reached] - slack - TOL).all()
    # a resident off the network (or on a part without a meeting point) is inf, never a number
    assert np.isinf(walk[~o_att.on_network]).all()


@SETTINGS
@given(ways=networks(), origins=points, targets=points, rule=rules, extra=st.tuples(coordinate, coordinate))
def test_adding_a_meeting_point_never_raises_a_distance(ways, origins, targets, rule, extra) -> None:
    before = _nearest(ways, rule, origins, targets)
    after = _nearest(ways, rule, origins, [*targets, extra])
    assert (after <= before + TOL).all()


@SETTINGS
@given(ways=networks(), origins=points, targets=points, rule=rules, data=st.data())
def test_shuffling_rows_changes_nothing(ways, origins, targets, rule, data) -> None:
    base = _nearest(ways, rule, origins, targets)
    way_order = data.draw(st.permutations(range(len(ways))))
    origin_order = data.draw(st.permutations(range(len(origins))))
    target_order = data.draw(st.permutations(range(len(targets))))
    shuffled = _nearest(ways.iloc[list(way_order)].reset_index(drop=True), rule,
                        [origins[i] for i in origin_order], [targets[i] for i in target_order])
    np.testing.assert_allclose(shuffled, base[list(origin_order)], rtol=0, atol=TOL)


@SETTINGS
@given(ways=networks(), origins=points, targets=points, rule=rules,
       limits=st.tuples(st.floats(0, 1500), st.floats(0, 1500)).map(sorted))
def test_bounded_searches_are_nested_and_agree_with_the_nearest(ways, origins, targets, rule, limits) -> None:
    net = WalkNetwork.from_ways(ways, rule)
    o_att, t_att = net.attach(_series(origins)), net.attach(_series(targets))
    nearest = net.nearest(o_att, t_att)
    small, large = (net.within(t_att, o_att, limit).toarray() for limit in limits)
    assert (small[small > 0] <= limits[0] + TOL).all()
    assert ((small > 0) <= (large > 0)).all()  # what is within the smaller limit is within the larger
    np.testing.assert_allclose(small[small > 0], large[small > 0], atol=TOL)
    reach = np.where(large > 0, large, np.inf).min(axis=0)  # nearest within the limit, per origin
    inside = nearest <= limits[1] - TOL
    np.testing.assert_allclose(reach[inside], nearest[inside], atol=TOL)
    assert np.isinf(reach[nearest > limits[1] + TOL]).all()


# -------------------------------------------------------------------------------- coverage


@SETTINGS
@given(
    cells=st.lists(
        st.tuples(st.sampled_from(["BU1", "BU2", "BU3"]),
                  st.one_of(st.none(), st.floats(0, 500)),
                  st.one_of(st.floats(0, 3000), st.just(float("inf")))),
        min_size=1, max_size=30),
    thresholds=st.tuples(st.floats(0, 3000), st.floats(0, 3000)).map(sorted),
)
def test_coverage_never_falls_as_the_threshold_grows(cells, thresholds) -> None:
    residents = pd.DataFrame(cells, columns=["buurtcode", "inwoners", "afstand_m"])
    residents["inwoners"] = residents["inwoners"].astype(float)
    codes = pd.Index(["BU1", "BU2", "BU3", "BU4"])  # BU4 has nobody
    low, high = (buurt_coverage(residents, codes, t) for t in thresholds)
    assert (low["inwoners_binnen_drempel"] <= high["inwoners_binnen_drempel"] + 1e-9).all()
    has = low["inwoners"] > 0
    assert (low.loc[has, "aandeel_binnen_drempel"] <= high.loc[has, "aandeel_binnen_drempel"] + 1e-12).all()
    assert low.loc[~has, "aandeel_binnen_drempel"].isna().all()
    assert low["inwoners_binnen_drempel"].sum() <= high["inwoners_binnen_drempel"].sum() + 1e-9
    assert (high["inwoners_binnen_drempel"] <= high["inwoners"] + 1e-9).all()


@SETTINGS
@given(ways=networks(), origins=points, targets=points, rule=rules,
       thresholds=st.tuples(st.floats(1, 1500), st.floats(1, 1500)).map(sorted))
def test_coverage_from_the_engine_never_falls_as_the_threshold_grows(ways, origins, targets, rule, thresholds) -> None:
    distance = _nearest(ways, rule, origins, targets)
    residents = pd.DataFrame({"buurtcode": ["BU1", "BU2"] * len(origins), "inwoners": 10.0,
                              "afstand_m": np.repeat(distance, 2)})
    low, high = (buurt_coverage(residents, pd.Index(["BU1", "BU2"]), t) for t in thresholds)
    assert (low["aandeel_binnen_drempel"] <= high["aandeel_binnen_drempel"] + 1e-12).all()
