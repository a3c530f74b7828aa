"""The walking network from real OSM XML parsing: which ways may be walked, and how far it is."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import osmnx as ox
import pytest
from shapely.geometry import Point

from wijkanalyse import model
from wijkanalyse.analysis.coverage import network_distance
from wijkanalyse.config import load_config
from wijkanalyse.sources.files import _WALK_TAGS

DATA = Path(__file__).parent / "data"
X0, Y0 = 155000, 463000


@pytest.fixture
def omweg_edges() -> gpd.GeoDataFrame:
    old = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = sorted(set(old) | set(_WALK_TAGS))
    try:
        graph = ox.graph_from_xml(DATA / "omweg.osm", bidirectional=True, simplify=False, retain_all=True)
    finally:
        ox.settings.useful_tags_way = old
    return model.walk_edges(graph)


def test_motorway_private_road_and_cycleway_are_not_walked(omweg_edges: gpd.GeoDataFrame) -> None:
    assert set(omweg_edges["highway"]) == {"residential"}
    assert omweg_edges["length"].sum() == pytest.approx(700.0, abs=0.01)


def test_distance_takes_the_detour(omweg_edges: gpd.GeoDataFrame) -> None:
    venue = gpd.GeoSeries([Point(X0 - 10, Y0)], crs=model.CRS)
    resident = gpd.GeoSeries([Point(X0 + 310, Y0)], crs=model.CRS)
    # 10 m to corner A, 200 + 300 + 200 m around, 10 m from corner D
    assert network_distance(resident, venue, omweg_edges)[0] == pytest.approx(720.0, abs=0.01)


def test_venue_from_osm_xml_keeps_its_name_verbatim() -> None:
    config = load_config()
    features = ox.features_from_xml(DATA / "omweg.osm", tags=config.osm_tags())
    venues = model.venues_frame(features, config.venues)
    assert list(venues["naam"]) == ["Buurthuis <De Brug> & Co"]
    assert list(venues["categorie"]) == ["buurthuis"]
    assert bool(venues["ontmoetingspunt"].iloc[0])
    assert venues.crs == model.CRS
    assert venues.geometry.iloc[0].distance(Point(X0 - 10, Y0)) < 0.01


@pytest.mark.parametrize(
    ("tags", "walkable"),
    [
        ({"highway": "residential"}, True),
        ({"highway": "footway"}, True),
        ({"highway": "motorway"}, False),
        ({"highway": "cycleway"}, False),
        ({"highway": "service", "access": "private"}, False),
        ({"highway": "service", "access": "private", "foot": "yes"}, True),
        ({"highway": "path", "foot": "no"}, False),
        ({"highway": "pedestrian", "area": "yes"}, False),
        ({"building": "yes"}, False),
    ],
)
def test_walk_filter(tags: dict[str, str], walkable: bool) -> None:
    import pandas as pd

    assert model.is_walkable(tags) is walkable
    assert bool(model.walkable_mask(pd.DataFrame([tags])).iloc[0]) is walkable
