"""OpenStreetMap files whose objects are not in id order (hand-edited, merged) read like the sorted file.

libosmium's multipolygon assembly refuses such a file ("Way IDs out of order") and a way
read before its nodes gets no locations, so the reader sorts a copy first
(:func:`wijkanalyse.sources.osm.file_order`, :func:`~wijkanalyse.sources.osm.sort_osm`).
Every unsorted copy here is made from a sorted file by shuffling or repeating its objects, so
the expected result is the sorted file's: the same ways, venues and walking distances, and
for tests/data/omweg.osm the hand-worked 720 m detour of tests/test_network.py. Each case runs
with the osmium command (osmium-tool, when installed) and with pyosmium alone.
"""

from __future__ import annotations

import json
import random
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from wijkanalyse import model, pipeline, snapshot
from wijkanalyse.config import load_config
from wijkanalyse.network import WalkNetwork
from wijkanalyse.sources import osm
from wijkanalyse.sources.osm import DUPLICATES, SORTED, UNSORTED, file_order, read_osm, sort_osm

DATA = Path(__file__).parent / "data"
TAGS = load_config().osm_tags()
COMMANDS = [
    pytest.param(None, id="pyosmium"),
    pytest.param("osmium", id="osmium-tool", marks=pytest.mark.skipif(
        osm.osmium_command() is None, reason="the osmium command (osmium-tool) is not installed")),
]
KINDS = ("node", "way", "relation")


@pytest.fixture(params=COMMANDS)
def command(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """The osmium command the reader may use: the installed one, or none (pyosmium sorts)."""
    found = osm.osmium_command() if request.param else None
    monkeypatch.setattr(osm, "osmium_command", lambda: found)
    return found


def _rewrite(src: Path, dest: Path, order) -> Path:
    """``src`` with its objects in ``order(objects)``."""
    tree = ET.parse(src)
    root = tree.getroot()
    objects = [e for e in root if e.tag in KINDS]
    for e in objects:
        root.remove(e)
    for e in order(objects):
        root.append(ET.fromstring(ET.tostring(e)))  # a copy: an object may be written twice
    tree.write(dest, encoding="UTF-8", xml_declaration=True)
    return dest


def shuffled(objects: list) -> list:
    """Every object at a random place: ways before some of their nodes, relations among nodes."""
    out = list(objects)
    random.Random(7).shuffle(out)
    return out


def merged(objects: list) -> list:
    """Two overlapping extracts joined (``osmium cat`` or a text editor): the second half, then all of it."""
    return objects[len(objects) // 2:] + objects


def doubled(objects: list) -> list:
    """In order, but every object twice (``osmium sort`` of two overlapping extracts joined)."""
    return [o for o in objects for _ in (0, 1)]


def _as_pbf(xml: Path, dest: Path) -> Path:
    """``xml`` as .osm.pbf, objects in the same (file) order, and no 'sorted' header."""
    import osmium

    writer = osmium.SimpleWriter(str(dest))
    try:
        for obj in osmium.FileProcessor(str(xml)):
            writer.add(obj)
    finally:
        writer.close()
    return dest


def _positions(path: Path) -> tuple[dict[tuple[str, int], int], list[tuple[str, int, list[int]]]]:
    """Each object's (kind, id) -> first place in the file, and every way with its node refs."""
    root = ET.parse(path).getroot()
    objects = [e for e in root if e.tag in KINDS]
    place: dict[tuple[str, int], int] = {}
    for i, e in enumerate(objects):
        place.setdefault((e.tag, int(e.get("id"))), i)  # an object written twice: its first place
    ways = [("way", int(e.get("id")), [int(nd.get("ref")) for nd in e if nd.tag == "nd"]) for e in objects if e.tag == "way"]
    return place, ways


def _assert_really_unsorted(path: Path) -> None:
    """The copy has a way before one of its own nodes (the case that silently loses locations)."""
    place, ways = _positions(path)
    assert any(place[("node", ref)] > place[("way", wid)] for _, wid, refs in ways for ref in refs)


def _same(a: osm.OsmExtract, b: osm.OsmExtract) -> None:
    assert len(a.ways) > 0
    assert a.ways.drop(columns="geometry").equals(b.ways.drop(columns="geometry"))
    assert shapely.equals_exact(a.ways.geometry.to_numpy(), b.ways.geometry.to_numpy(), 1e-6).all()
    assert list(a.venues["osm_id"]) == list(b.venues["osm_id"])
    assert list(a.venues["tags"]) == list(b.venues["tags"])
    assert shapely.equals_exact(a.venues.geometry.to_numpy(), b.venues.geometry.to_numpy(), 1e-6).all()


def _omweg_detour(extract: osm.OsmExtract) -> float:
    """tests/test_network.py's hand-worked case: 10 m to corner A, 200 + 300 + 200 m around, 10 m from D."""
    net = WalkNetwork.from_ways(extract.ways, load_config().network)
    assert net.length.sum() == pytest.approx(700.0, abs=0.01)
    x0, y0 = 155000, 463000
    venue = net.attach(gpd.GeoSeries.from_xy([x0 - 10], [y0], crs=model.CRS))
    resident = net.attach(gpd.GeoSeries.from_xy([x0 + 310], [y0], crs=model.CRS))
    return float(net.nearest(resident, venue)[0])


@pytest.mark.parametrize("fmt", ["osm", "pbf"])
@pytest.mark.parametrize("order", [shuffled, merged, doubled])
def test_an_unsorted_omweg_reads_like_the_sorted_file(tmp_path: Path, command: str | None, order, fmt: str) -> None:
    sorted_file = DATA / "omweg.osm"
    copy = _rewrite(sorted_file, tmp_path / "omweg.osm", order)
    if order is not doubled:
        _assert_really_unsorted(copy)
    if fmt == "pbf":
        copy = _as_pbf(copy, tmp_path / "omweg.osm.pbf")
    expected = read_osm(sorted_file, TAGS)
    got = read_osm(copy, TAGS)
    _same(got, expected)
    assert list(got.venues["osm_id"]) == ["node/100"]
    assert _omweg_detour(got) == pytest.approx(720.0, abs=0.01)


def test_file_order_and_the_sorted_copy(tmp_path: Path, command: str | None) -> None:
    """The order check agrees with the files' construction, and the sorted copy passes it."""
    import osmium

    omweg = DATA / "omweg.osm"
    shuffled_copy = _rewrite(omweg, tmp_path / "s.osm", shuffled)
    merged_copy = _rewrite(omweg, tmp_path / "m.osm", merged)
    doubled_copy = _rewrite(omweg, tmp_path / "d.osm", doubled)
    assert file_order(omweg, command) == SORTED
    assert file_order(shuffled_copy, command) == UNSORTED
    assert file_order(_as_pbf(shuffled_copy, tmp_path / "s.osm.pbf"), command) == UNSORTED
    assert file_order(merged_copy, command) == UNSORTED  # its duplicates show when sorting
    assert file_order(doubled_copy, command) == DUPLICATES
    for src in (shuffled_copy, merged_copy, doubled_copy):
        dest = tmp_path / f"{src.stem}-sorted.osm.pbf"
        sort_osm(src, dest, command)
        # counted independently of the sort: every object of omweg.osm, once, in order
        place, _ = _positions(omweg)
        keys = [(o.type_str(), o.id) for o in osmium.FileProcessor(str(dest))]
        expected = sorted({(kind[0], oid) for kind, oid in place}, key=lambda k: ("nwr".index(k[0]), k[1]))
        assert keys == expected
        assert file_order(dest, None) == SORTED  # its header says so


@pytest.fixture(scope="module")
def demo_osm(demo_snapshot: Path) -> Path:
    return demo_snapshot / snapshot.OSM_FILE


@pytest.mark.parametrize("fmt", ["osm", "pbf"])
def test_an_unsorted_demo_osm_reads_like_the_sorted_file(demo_osm: Path, tmp_path: Path, command: str | None, fmt: str) -> None:
    copy = _rewrite(demo_osm, tmp_path / "osm.xml", shuffled)
    _assert_really_unsorted(copy)
    if fmt == "pbf":
        copy = _as_pbf(copy, tmp_path / "osm.osm.pbf")
    expected = read_osm(demo_osm, TAGS)
    assert len(expected.venues) > 10
    kinds = set(expected.venues["osm_id"].str.split("/").str[0])
    assert kinds == {"node", "way"}  # venue points and venue buildings (closed ways)
    _same(read_osm(copy, TAGS), expected)


def _raw_osm_snapshot(demo: Path, dest: Path, osm_file: Path) -> Path:
    """The demo snapshot with only an osm.xml for its streets and venues (format 1), read at run time."""
    shutil.copytree(demo, dest)
    manifest = json.loads((dest / snapshot.MANIFEST_FILE).read_text())
    for key in ("network", "venues", "osm"):
        (dest / manifest["sources"].pop(key)["file"]).unlink()
    shutil.copy(osm_file, dest / snapshot.OSM_FILE)
    manifest["sources"]["osm"] = {"file": snapshot.OSM_FILE}
    manifest["format_version"] = 1
    (dest / snapshot.MANIFEST_FILE).write_text(json.dumps(manifest))
    return dest


def test_an_unsorted_demo_runs_to_the_same_distances(demo_osm: Path, demo_snapshot: Path, tmp_path: Path) -> None:
    config = load_config()
    unsorted_xml = _rewrite(demo_osm, tmp_path / "unsorted.xml", merged)
    runs = {}
    for name, osm_file in (("sorted", demo_osm), ("unsorted", unsorted_xml)):
        snap = _raw_osm_snapshot(demo_snapshot, tmp_path / name, osm_file)
        runs[name] = pipeline.run(snap, config, tmp_path / f"out-{name}").result
    a, b = runs["sorted"], runs["unsorted"]
    assert np.isfinite(a.residents["afstand_m"]).sum() > 0
    np.testing.assert_array_equal(a.residents["afstand_m"].to_numpy(), b.residents["afstand_m"].to_numpy())
    assert list(a.venues["osm_id"]) == list(b.venues["osm_id"])
    for key in ("residents_within_threshold", "n_meeting_points", "n_venues", "n_gaps"):
        assert a.summary[key] == b.summary[key]
