"""Walking time per group and the rollator profile (P4c item 2), on hand-built OSM with distances by hand.

The network (RD metres relative to the builder's origin)::

    C (0,150) ------------- D (100,150)        residential: A-C-D-B = 150 + 100 + 150 = 400 m
    |                          |
    A (0,0) ==== steps ======= B (100,0)       highway=steps: 100 m
     \\                        /
      '--- G (50,-120) -------'                footway, wheelchair=no: 2 x sqrt(50^2 + 120^2) = 2 x 130 = 260 m

A resident 10 m west of A, a meeting point 10 m east of B.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from wijkanalyse import model
from wijkanalyse.config import ConfigError, NetworkRules, WalkProfile, load_config, parse_config
from wijkanalyse.network import WalkNetwork
from wijkanalyse.sources.osm import WAY_TAGS, read_osm

from .osm_builder import OsmBuilder

TOL = 0.01  # metres: RD -> lon/lat (9 decimals) -> RD


def _osm() -> OsmBuilder:
    osm = OsmBuilder()
    osm.way([(0, 0), (100, 0)], highway="steps")
    osm.way([(0, 0), (0, 150), (100, 150), (100, 0)], highway="residential")
    osm.way([(0, 0), (50, -120), (100, 0)], highway="footway", wheelchair="no")
    return osm


def _distances(tmp_path: Path, rules: NetworkRules, residents: list[tuple[float, float]]) -> list[float]:
    osm = _osm()
    ways = read_osm(osm.write(tmp_path / "trap.osm"), {}).ways
    net = WalkNetwork.from_ways(ways, rules)
    res = net.attach(gpd.GeoSeries([osm.point(x, y) for x, y in residents], crs=model.CRS))
    venue = net.attach(gpd.GeoSeries([osm.point(110, 0)], crs=model.CRS))
    return net.nearest(res, venue).tolist()


def test_the_rollator_profile_walks_round_the_steps(tmp_path: Path) -> None:
    base = NetworkRules(min_component_m=0)
    rollator = load_config().walking.profiles["rollator"]
    assert rollator.exclude_highways == ("steps",)
    assert rollator.exclude_tags == (("wheelchair", ("no",)),)
    # resident 1 at (-10, 0), resident 2 at (30, 5), 5 m above the steps
    residents = [(-10, 0), (30, 5)]
    # general: 10 + 100 (the steps) + 10 = 120; 5 + 70 (rest of the steps) + 10 = 85
    assert _distances(tmp_path, base, residents) == pytest.approx([120.0, 85.0], abs=TOL)
    # rollator (no steps, no wheelchair=no): 10 + 400 (round by C and D) + 10 = 420;
    # resident 2 attaches to A-C at (0, 5), 30 m west: 30 + 145 (up to C) + 100 + 150 (down to B) + 10 = 435
    assert _distances(tmp_path, rollator.rules(base), residents) == pytest.approx([420.0, 435.0], abs=TOL)
    # steps only: resident 1 may take the footway below: 10 + 260 + 10 = 280
    steps_only = WalkProfile(key="trap", label="geen trappen", exclude_highways=("steps",))
    assert _distances(tmp_path, steps_only.rules(base), residents[:1]) == pytest.approx([280.0], abs=TOL)


def test_a_profile_adds_to_the_base_rules() -> None:
    base = NetworkRules(exclude_highways=("steps",))
    rules = WalkProfile(key="p", label="p", exclude_highways=("steps", "path"),
                        exclude_tags=(("surface", ("sand",)),)).rules(base)
    assert rules.exclude_highways == ("steps", "path")
    assert rules.exclude_tags == (("surface", ("sand",)),)
    assert rules.not_walkable_highway == base.not_walkable_highway


def test_profile_tags_are_kept_by_the_osm_reader() -> None:
    from wijkanalyse.config import PROFILE_TAGS

    assert set(PROFILE_TAGS) <= set(WAY_TAGS)


def test_default_groups_and_their_minutes() -> None:
    walking = load_config().walking
    assert walking.speed_m_s == 1.2 and walking.threshold_minutes == 0
    assert walking.groups["ouderen"].speed_m_s == 0.9
    assert walking.groups["rollator"].profile == "rollator"
    assert walking.threshold_m(400.0, 0.9) == 400.0  # a threshold in metres is the same for everyone


def test_threshold_in_minutes(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[walking]\nthreshold_minutes = 5\n", encoding="utf-8")
    config = load_config(path)
    # 5 min x 60 s x 1.2 m/s = 360 m; the 65+ pace: 5 x 60 x 0.9 = 270 m
    assert config.thresholds.walk_m == pytest.approx(360.0)
    assert config.walking.threshold_m(config.thresholds.walk_m, 0.9) == pytest.approx(270.0)
    assert config.walking.groups["ouderen"].speed_m_s == 0.9  # the default groups stay


def test_every_walking_problem_at_once() -> None:
    raw = {
        "venues": {"buurthuis": {"meeting_point": True, "amenity": ["community_centre"]}},
        "indicators": {"x": {"cbs": "X"}},
        "thresholds": {"walk_m": 400, "distance_method": "network", "hotspot_alpha": 0.05, "permutations": 999,
                       "seed": 1},
        "area": {"year": 2024},
        "costs": {"meeting_point_per_year": 1, "broker_fte_per_year": 1},
        "walking": {
            "speed_m_s": -1, "threshold_minutes": "vijf",
            "groups": {"oud": {"speed_m_s": 0, "profile": "rolstoel"}},
            "profiles": {"rollator": {"exclude_highways": "steps", "exclude_tags": {"kerb": "raised"}, "x": 1}},
        },
        "opening_hours": {"min_dagdelen": 30, "unknown_counts": "ja"},
    }
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    text = str(info.value)
    for needle in (
        "walking.speed_m_s moet > 0 zijn", "walking.threshold_minutes moet een getal zijn",
        "walking.groups.oud.speed_m_s moet > 0 zijn", "walking.groups.oud.profile moet een tabel [walking.profiles]",
        "walking.profiles.rollator.exclude_tags.kerb", "walking.profiles.rollator.x is geen bekende sleutel",
        "opening_hours.min_dagdelen moet < 22 zijn", "opening_hours.unknown_counts moet true of false zijn",
    ):
        assert needle in text, needle
    # a single string is a list of one
    assert "exclude_highways moet" not in text
