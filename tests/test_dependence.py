"""Which residents depend on one meeting point, and how far they walk when it closes.

The engine's "nearest and second-nearest" search (:meth:`WalkNetwork.nearest_two`) against
distances worked out by hand, against a search per closed meeting point on random networks
(hypothesis), and on the demo against a brute-force re-run per meeting point: the residents
each point's closing puts beyond the threshold, counted both ways, must be identical.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given

from wijkanalyse import model, pipeline
from wijkanalyse.analysis.coverage import _weighted_median, straight_line_distance
from wijkanalyse.analysis.dependence import (
    meeting_point_dependence,
    straight_line_nearest_two,
    vulnerable_meeting_points,
)
from wijkanalyse.config import NetworkRules, load_config
from wijkanalyse.network import NearestTwo, WalkNetwork
from wijkanalyse.sources.files import SnapshotReader

from .test_properties import SETTINGS, _series, networks, points, rules

CRS = model.CRS
TOL = 1e-6


def _ways(lines: list[list[tuple[float, float]]]) -> gpd.GeoDataFrame:
    """A ways frame of residential streets; ways meet where they share an end point."""
    ids: dict[tuple[float, float], int] = {}
    rows = []
    for coords in lines:
        u, v = (ids.setdefault(tuple(map(float, c)), len(ids)) for c in (coords[0], coords[-1]))
        rows.append({"u": u, "v": v, "highway": "residential"})
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=[shapely.LineString(c) for c in lines], crs=CRS)


def test_nearest_two_by_hand() -> None:
    # a street 0..1000 (junction at 500), an island street 5000..6000 far away
    net = WalkNetwork.from_ways(_ways([[(0, 0), (500, 0)], [(500, 0), (1000, 0)], [(5000, 0), (6000, 0)]]),
                                NetworkRules(min_component_m=0, max_attach_m=500))
    targets = net.attach(_series([(100, 10), (700, -5), (900, 0), (900, 0), (5500, 0)]))  # 2 and 3: one spot
    origins = net.attach(_series([(200, 20), (950, 30), (5600, 10), (100, 2000), (650, 0)]))
    two = net.nearest_two(origins, targets)
    # (200, 20): 20 + 100 + 10 = 130 to target 0; next 20 + 500 + 5 = 525 to target 1
    assert two.distance[0] == pytest.approx(130.0) and two.target[0] == 0 and two.second[0] == pytest.approx(525.0)
    # (950, 30): 30 + 50 to either of the two at (900, 0): each is the other's next one, at the same distance
    assert two.target[1] in (2, 3) and two.distance[1] == pytest.approx(80.0) and two.second[1] == pytest.approx(80.0)
    # on the island: 10 + 100 to target 4, and no other meeting point there
    assert two.target[2] == 4 and two.distance[2] == pytest.approx(110.0) and np.isinf(two.second[2])
    # 2 km from every street: not on the network
    assert two.target[3] == -1 and np.isinf(two.distance[3]) and np.isinf(two.second[3])
    # (650, 0): 50 + 5 to target 1; next: 250 to the pair at (900, 0) (not 550 back to target 0)
    assert two.target[4] == 1 and two.distance[4] == pytest.approx(55.0) and two.second[4] == pytest.approx(250.0)
    np.testing.assert_array_equal(two.distance, net.nearest(origins, targets))


def test_nearest_two_with_no_or_one_target() -> None:
    net = WalkNetwork.from_ways(_ways([[(0, 0), (500, 0)]]), NetworkRules(min_component_m=0))
    origins = net.attach(_series([(100, 10), (400, 10)]))
    none = net.nearest_two(origins, net.attach(_series([(100, 9000)])))
    assert (none.target == -1).all() and np.isinf(none.distance).all() and np.isinf(none.second).all()
    one = net.nearest_two(origins, net.attach(_series([(0, 0)])))
    np.testing.assert_allclose(one.distance, [110.0, 410.0])
    assert (one.target == 0).all() and np.isinf(one.second).all()


@SETTINGS
@given(ways=networks(), origins=points, targets=points, rule=rules)
def test_the_second_distance_is_the_walk_when_the_nearest_closes(ways, origins, targets, rule) -> None:
    """On random networks: against one search per closed target on the same cut graph, and re-attached."""
    net = WalkNetwork.from_ways(ways, rule)
    o_att, t_att = net.attach(_series(origins)), net.attach(_series(targets))
    two = net.nearest_two(o_att, t_att)
    np.testing.assert_allclose(two.distance, net.nearest(o_att, t_att), rtol=0, atol=TOL)
    reached = np.isfinite(two.distance)
    assert ((two.target >= 0) == reached).all()
    assert (two.second[reached] >= two.distance[reached] - TOL).all()
    for j in range(len(targets)):
        others = np.arange(len(targets)) != j
        closed = net.nearest_open(o_att, t_att, others)
        mine = two.target == j
        np.testing.assert_allclose(two.second[mine], closed[mine], rtol=0, atol=TOL)  # its walk when j closes
        np.testing.assert_allclose(two.distance[~mine], closed[~mine], rtol=0, atol=TOL)  # the others keep theirs
        again = net.nearest(o_att, t_att.take(others))  # the targets attached anew, without j
        np.testing.assert_allclose(closed, again, rtol=0, atol=1e-3)


def test_straight_line_nearest_two() -> None:
    origins = _series([(0, 0), (10, 0), (100, 100)])
    targets = _series([(3, 4), (10, 0), (10, 0)])
    two = straight_line_nearest_two(origins, targets)
    np.testing.assert_allclose(two.distance, straight_line_distance(origins, targets))
    np.testing.assert_allclose(two.distance[:2], [5.0, 0.0])
    assert two.second[0] == pytest.approx(10.0) and two.second[1] == pytest.approx(0.0)  # the twin at (10, 0)
    single = straight_line_nearest_two(origins, targets.iloc[:1])
    assert (single.target == 0).all() and np.isinf(single.second).all()


def test_dependence_figures_by_hand() -> None:
    residents = pd.DataFrame({"inwoners": [100.0, 50.0, np.nan, 30.0, 20.0, 10.0]})
    meeting = pd.DataFrame({"naam": ["A", "B", "C"]}, index=[7, 8, 9])
    nearest = NearestTwo(
        distance=np.array([100.0, 390.0, 200.0, 300.0, 450.0, np.inf]),
        target=np.array([0, 0, 0, 1, 1, -1]),
        second=np.array([500.0, np.inf, 800.0, 350.0, 900.0, np.inf]),
    )
    dep = meeting_point_dependence(residents, meeting, nearest, 400.0)
    assert list(dep.index) == [7, 8, 9]
    # A: cells 0, 1 and 2 (secret: 0 residents, 1 cell) depend on it alone; B's cell 3 has a second within 400 m,
    # its cell 4 is beyond the threshold already; the last cell reaches nothing
    assert dep["inwoners_alleen_hier"].tolist() == [150.0, 0.0, 0.0]
    assert dep["inwoners_verliezen_toegang"].tolist() == dep["inwoners_alleen_hier"].tolist()
    assert dep["cellen_alleen_hier"].tolist() == [3, 0, 0]
    assert dep["inwoners_dichtstbij"].tolist() == [150.0, 30.0, 0.0]
    assert dep["inwoners_geen_ander_bereikbaar"].tolist() == [50.0, 0.0, 0.0]
    assert dep.loc[7, "afstand_volgende_gem_m"] == pytest.approx(500.0)  # the reachable next ones, by residents
    assert dep.loc[7, "afstand_volgende_mediaan_m"] == 500.0  # 100 residents at 500 m, 50 reach none
    assert dep["kwetsbaar_rang"].tolist()[0] == 1 and dep["kwetsbaar_rang"].isna().tolist() == [False, True, True]


# ------------------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo(demo_snapshot: Path):
    """The demo analysed, with its network and attachments rebuilt for the brute force."""
    config = load_config()
    reader = SnapshotReader(demo_snapshot)
    result = pipeline.analyse(reader, config)
    net = WalkNetwork.from_ways(reader.osm(config.osm_tags()).ways, config.network)
    return result, net, net.attach(result.residents.geometry), net.attach(result.venues.geometry)


def test_the_demo_against_a_brute_force_run_per_meeting_point(demo) -> None:
    result, net, res_att, venue_att = demo
    venues, residents = result.venues, result.residents
    meeting = venues["ontmoetingspunt"].to_numpy(dtype=bool)
    people = residents["inwoners"].fillna(0).to_numpy(dtype=float)
    now = residents["afstand_m"].to_numpy()
    threshold = result.threshold_m
    assert venues.loc[meeting, "kwetsbaar_rang"].notna().sum() > 10
    for pos in np.flatnonzero(meeting):
        without = meeting.copy()
        without[pos] = False
        after = net.nearest(res_att, venue_att.take(without))  # the distance step again, without this point
        lost = (now <= threshold) & (after > threshold)
        row = venues.iloc[pos]
        assert people[lost].sum() == row["inwoners_verliezen_toegang"] == row["inwoners_alleen_hier"], row["naam"]
        assert lost.sum() == row["cellen_alleen_hier"]
        if lost.any():
            weights = people[lost]
            assert row["afstand_volgende_gem_m"] == pytest.approx(np.average(after[lost], weights=weights), abs=1e-4)
            assert row["afstand_volgende_mediaan_m"] == pytest.approx(_weighted_median(after[lost], weights), abs=1e-4)
        else:
            assert pd.isna(row["kwetsbaar_rang"])


def test_the_summary_ranks_the_vulnerable_meeting_points(demo) -> None:
    result, *_ = demo
    entries = result.summary["vulnerable_meeting_points"]
    assert entries == vulnerable_meeting_points(result.venues)
    losing = [e["residents_losing_access"] for e in entries]
    assert losing == sorted(losing, reverse=True) and losing[0] > 0
    first = entries[0]
    assert set(first) >= {"id", "name", "residents_only_here", "residents_losing_access"}
    row = result.venues.set_index("osm_id").loc[first["id"]]
    assert first["name"] == row["naam"] and first["residents_only_here"] == row["inwoners_alleen_hier"]
    assert row["kwetsbaar_rang"] == 1
    assert result.venues.loc[~result.venues["ontmoetingspunt"], "inwoners_alleen_hier"].isna().all()


def test_a_straight_line_run_against_a_brute_force_per_meeting_point(demo_snapshot: Path, tmp_path: Path) -> None:
    config_path = tmp_path / "hemelsbreed.toml"
    config_path.write_text('[thresholds]\ndistance_method = "straight_line"\nwalk_m = 300\n', encoding="utf-8")
    result = pipeline.analyse(SnapshotReader(demo_snapshot), load_config(config_path))
    venues, residents = result.venues, result.residents
    meeting = venues["ontmoetingspunt"].to_numpy(dtype=bool)
    people = residents["inwoners"].fillna(0).to_numpy(dtype=float)
    now = residents["afstand_m"].to_numpy()
    for pos in np.flatnonzero(meeting):
        without = meeting.copy()
        without[pos] = False
        after = straight_line_distance(residents.geometry, venues.geometry[without])
        lost = (now <= 300) & (after > 300)
        assert people[lost].sum() == venues.iloc[pos]["inwoners_verliezen_toegang"]
    assert result.summary["vulnerable_meeting_points"]


def test_the_map_popup_says_what_closing_does(demo) -> None:
    from wijkanalyse.outputs import maps

    result, *_ = demo
    document = maps.map_data(result)
    first = result.summary["vulnerable_meeting_points"][0]
    venues = document["venues"]
    label = venues["cols"].index("Als dit punt sluit") + 1
    i = list(result.venues["osm_id"]).index(first["id"])
    assert venues["pop"][i][label] == f"{first['residents_losing_access']:.0f} inwoners wonen dan verder dan 400 m"
    school = list(result.venues["ontmoetingspunt"]).index(False)
    assert len(venues["pop"][school]) <= label or venues["pop"][school][label] is None


def test_the_closing_line() -> None:
    from wijkanalyse.outputs.texts import closing_line

    assert closing_line(640.0, 400.0) == "640 inwoners wonen dan verder dan 400 m"
    assert closing_line(1.0, 400.0) == "1 inwoner woont dan verder dan 400 m"
    assert closing_line(1025.0, 300.0, "straight_line") == "1.025 inwoners wonen dan verder dan 300 m hemelsbreed"
    assert closing_line(0.0, 400.0, cells=0) == "iedereen houdt een ander ontmoetingspunt binnen 400 m"
    assert closing_line(0.0, 400.0, cells=2) == "2 vakken met een geheim aantal inwoners (1 tot 4) liggen dan verder dan 400 m"
