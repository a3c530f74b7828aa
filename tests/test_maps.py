"""Tests for the interactive map: its data document and rendered HTML (no browser).

tests/test_browser.py opens the same pages in Chromium.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
import html
import json
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from scipy.spatial import Delaunay
from shapely.geometry import Point, box

from tests.mapcases import HOSTILE_NAMES, demo_result, extend
from wijkanalyse.outputs._encode import decode_polyline, encode_polyline, encode_polylines, join_lines, polygon_rings
from wijkanalyse.outputs.maps import (
    LAYER_NAMES,
    SYNTHETIC_BANNER,
    build_map,
    format_int,
    format_number,
    format_percent,
    map_data,
    save_map,
)
from wijkanalyse.outputs.style import REACH_COLORS, SIGNAL_COLORS
from wijkanalyse.result import Hotspot, RunResult
import itertools

NASTY_VENUE = "Eetcafé 't Hoekje & <Zaal> \"De Ster\""
NASTY_BUURT = "<script>alert(1)</script>"
CRS = "EPSG:28992"
X0, Y0 = 60_000.0, 480_000.0


def _buurten() -> gpd.GeoDataFrame:
    squares = [
        box(X0, Y0, X0 + 500, Y0 + 500),
        box(X0 + 500, Y0, X0 + 1000, Y0 + 500),
        box(X0, Y0 + 500, X0 + 500, Y0 + 1000),
        box(X0 + 500, Y0 + 500, X0 + 1000, Y0 + 1000),
    ]
    return gpd.GeoDataFrame(
        {
            "buurtcode": ["BU09990001", "BU09990002", "BU09990003", "BU09990004"],
            "buurtnaam": ["Centrum", NASTY_BUURT, "De Weide", "Oost"],
            "wijkcode": ["WK099900"] * 4,
            "wijknaam": ["Dorp"] * 4,
            "inwoners": np.array([1200, 800, 0, 450], dtype=np.int64),
            "inwoners_cbs": np.array([1210, 795, 5, 455], dtype=np.int64),
            "inwoners_binnen_drempel": np.array([1100, 500, 0, 100], dtype=np.int64),
            "aandeel_binnen_drempel": [1100 / 1200, 500 / 800, np.nan, 100 / 450],
            "afstand_mediaan_m": [180.0, 390.0, np.nan, np.inf],
            "werkloosheid": [3.25, 7.5, np.nan, 5.0],
            "eenzaamheid": np.array([40, 55, 48, 61], dtype=np.int64),
            "signaal": [-0.8, 1.4, np.nan, 0.6],
            "hotspot": [
                Hotspot.COLD,
                Hotspot.HOT,
                Hotspot.NONE,
                Hotspot.HIGH_LOW,
            ],
            "hotspot_p": [0.03, 0.01, 0.6, 0.04],
        },
        geometry=squares,
        crs=CRS,
    )


def _residents() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "cel": ["E0600N4800", "E0605N4800", "E0608N4803", "E0609N4808"],
            "inwoners": [120.0, 45.0, np.nan, 1.0],
            "buurtcode": ["BU09990001", "BU09990002", "BU09990002", "BU09990004"],
            "afstand_m": [150.0, 612.4, np.inf, 1234.0],
            "binnen_drempel": np.array([True, False, False, False]),
        },
        geometry=[
            Point(X0 + 50, Y0 + 50),
            Point(X0 + 550, Y0 + 50),
            Point(X0 + 850, Y0 + 350),
            Point(X0 + 950, Y0 + 850),
        ],
        crs=CRS,
    )


def _venues() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "osm_id": ["node/1", "way/2", "node/3"],
            "naam": [NASTY_VENUE, None, "Bibliotheek"],
            "categorie": ["cafe", "buurthuis", "bibliotheek"],
            "categorie_label": ["Café", "Buurthuis", "Bibliotheek"],
            "ontmoetingspunt": np.array([True, True, False]),
        },
        geometry=[Point(X0 + 100, Y0 + 100), Point(X0 + 300, Y0 + 700), Point(X0 + 900, Y0 + 900)],
        crs=CRS,
    )


def _gaps() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "gat_id": np.array([1], dtype=np.int64),
            "inwoners": [46.0],
            "cellen": np.array([2], dtype=np.int64),
            "buurtcodes": ["BU09990002,BU09990004"],
            "afstand_max_m": [np.inf],
        },
        geometry=[box(X0 + 500, Y0, X0 + 1000, Y0 + 400)],
        crs=CRS,
    )


@pytest.fixture()
def result() -> RunResult:
    return RunResult(
        gemeente_code="GM0999",
        gemeente_name="Demodorp",
        year=2024,
        synthetic=True,
        threshold_m=400.0,
        distance_method="network",
        buurten=_buurten(),
        residents=_residents(),
        venues=_venues(),
        gaps=_gaps(),
        indicators={"werkloosheid": "Werkloosheid (%)", "eenzaamheid": "Eenzaamheid (%)"},
        summary={
            "residents_total": 12345,
            "residents_within_threshold": np.int64(10777),
            "share_within_threshold": np.float64(0.873),
            "threshold_m": 400.0,
            "n_meeting_points": 2,
            "distance_method": "network",
        },
        sources={"osm": {"retrieved": "2024-03-01T10:00:00+00:00"}, "cbs": {"table": "85984NED"}},
    )


def _render(result: RunResult) -> str:
    m = build_map(result)
    assert isinstance(m, folium.Map)
    return m.get_root().render()


def test_dutch_number_formatting() -> None:
    assert format_int(12345) == "12.345"
    assert format_int(np.int64(1234567)) == "1.234.567"
    assert format_number(1234.56, 1) == "1.234,6"
    assert format_percent(0.873) == "87,3 %"
    assert format_percent(np.nan) == "onbekend"
    assert format_number(-0.01, 1) == "0,0"


def _document(page: str) -> dict:
    """The JSON data document inside a rendered page."""
    match = re.search(r'<script type="application/json" id="wa-data">(.*?)</script>', page, re.S)
    assert match
    return json.loads(match.group(1))


def _popup(part: dict, i: int) -> str:
    """Popup i of a layer as "label: value" lines (what kaart.js shows as a table)."""
    title, *values = part["pop"][i]
    lines = [title] + [f"{label}: {value}" for label, value in zip(part["cols"], values, strict=False) if value is not None]
    return "\n".join([*lines, part["note"]])


def test_page_is_dutch_with_a_title(result: RunResult) -> None:
    page = _render(result)
    assert page.startswith('<!DOCTYPE html>\n<html lang="nl">')
    assert "<title>Wijkanalyse Demodorp (GM0999), 2024</title>" in page
    document = _document(page)
    for key, name in LAYER_NAMES.items():
        assert document["names"][key] == html.escape(name.format(threshold="400")), key
    assert "Wijkanalyse Demodorp (GM0999), 2024" in page
    assert "12.345 inwoners" in page
    assert "10.777" in page
    assert "87,3 %" in page
    assert "over het looppadennetwerk" in page
    assert "2 ontmoetingspunten" in page
    assert "WA.init(" in page
    assert [t["id"] for t in document["tiles"]] == ["pdok", "osm"]
    assert "service.pdok.nl/brt/achtergrondkaart" in document["tiles"][0]["url"]
    # Credits: OpenStreetMap (ODbL), CBS (CC BY 4.0), PDOK; the full list with dates in the help.
    for credit in ("OpenStreetMap-bijdragers", "(ODbL stand 1 maart 2024)", "CBS 2024 (CC BY 4.0)", "PDOK"):
        assert credit in document["attribution"]
    sources = document["help"][-1][1]
    assert "Open Database License (ODbL)" in sources and "Kerncijfers wijken en buurten 2024" in sources


def test_synthetic_banner_only_when_synthetic(result: RunResult) -> None:
    assert SYNTHETIC_BANNER in _render(result)
    real = dataclasses.replace(result, synthetic=False)
    assert SYNTHETIC_BANNER not in _render(real)
    assert "SYNTHETISCHE" not in _render(real)


def test_straight_line_method_text(result: RunResult) -> None:
    summary = {**result.summary, "distance_method": "straight_line"}
    page = _render(dataclasses.replace(result, distance_method="straight_line", summary=summary))
    assert "hemelsbreed" in page
    assert "over het looppadennetwerk" not in page


def test_untrusted_names_are_escaped(result: RunResult) -> None:
    page = _render(result)
    assert "<Zaal>" not in page
    assert "<script>alert(1)" not in page
    # The data block holds no "<", ">" or "&" at all: no name can close it.
    block = re.search(r'id="wa-data">(.*?)</script>', page, re.S).group(1)
    assert not set("<>&") & set(block)
    # Decoded, every name is HTML-escaped text.
    decoded = json.dumps(_document(page), ensure_ascii=False)
    assert "&lt;Zaal&gt;" in decoded
    assert "&quot;De Ster&quot;" in decoded
    assert "&#x27;t Hoekje &amp;" in decoded
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in decoded
    assert "<script>alert(1)" not in decoded and "<Zaal>" not in decoded
    assert "(naamloos)" in decoded
    # Search keys are plain letters and digits.
    document = _document(page)
    for key in document["buurten"]["key"] + document["venues"]["key"]:
        assert re.fullmatch(r"[a-z0-9 ]*", key), key
    assert "script alert 1 script" in document["buurten"]["key"][1]


def test_evil_gemeente_name_is_escaped(result: RunResult) -> None:
    page = _render(dataclasses.replace(result, gemeente_name="<b>Evil</b>"))
    assert "<b>Evil</b>" not in page
    assert "&lt;b&gt;Evil&lt;/b&gt;" in page
    assert "<title>Wijkanalyse &lt;b&gt;Evil&lt;/b&gt; (GM0999), 2024</title>" in page


def test_cells_beyond_the_threshold(result: RunResult) -> None:
    cells = map_data(result)["cells"]
    # Three cells beyond 400 m, north to south: 1 resident at 1.234 m (buurt 4), a CBS-secret
    # count with no reachable meeting point (buurt 2), 45 residents at 612 m (buurt 2). The gap
    # covers the two southern ones.
    assert cells["n"] == [1, -1, 45]
    assert cells["d"] == [1234, -1, 612]
    assert cells["b"] == [3, 1, 1]
    assert cells["gat"] == [-1, 0, 0]
    centres = gpd.GeoSeries([Point(p) for p in decode_polyline(cells["p"])], crs="EPSG:4326").to_crs("EPSG:28992")
    expected = [(X0 + 950, Y0 + 850), (X0 + 850, Y0 + 350), (X0 + 550, Y0 + 50)]
    for point, (x, y) in zip(centres, expected, strict=True):
        assert abs(point.x - x) < 1.5 and abs(point.y - y) < 1.5


def test_cell_squares_are_100_m(result: RunResult) -> None:
    vectors = map_data(result)["cell"]
    geod = Geod(ellps="GRS80")
    lat, lon = 52.0, 5.0  # the offsets are small: any nearby origin gives the same length
    for dlat, dlon in (vectors["e"], vectors["n"]):
        _, _, metres = geod.inv(lon, lat, lon + dlon, lat + dlat)
        assert metres == pytest.approx(50.0, abs=0.5)


def test_geometry_is_compact_wgs84(result: RunResult) -> None:
    document = map_data(result)
    json.dumps(document, allow_nan=False)  # no NaN/inf, no numpy types
    rings = document["buurten"]["g"]
    assert len(rings) == 4
    for polygons in rings:
        (ring,) = polygons[0] if len(polygons) == 1 else pytest.fail("one polygon per buurt")
        points = decode_polyline(ring)
        assert len(points) == 4  # a square; Leaflet closes the ring itself
        for lon, lat in points:
            assert 3.0 < lon < 7.5 and 50.5 < lat < 54.0
    south, west = document["bounds"][0]
    north, east = document["bounds"][1]
    assert south < north and west < east


def test_signal_classes_are_quantiles(result: RunResult) -> None:
    document = map_data(result)
    # signal -0.8, 1.4, NaN, 0.6: three values, so three classes of one buurt each.
    assert document["buurten"]["sig"] == [0, 2, -1, 1]
    assert document["colors"]["signal"] == [SIGNAL_COLORS[0], SIGNAL_COLORS[2], SIGNAL_COLORS[4]]
    legend = document["legends"]["signal"]
    for label in ("-0,80 tot 0,13", "0,13 tot 0,87", "0,87 tot 1,40", "geen gegevens"):
        assert label in legend


def test_reach_classes_are_fixed(result: RunResult) -> None:
    document = map_data(result)
    # 1100/1200 = 91,7 %, 500/800 = 62,5 %, no residents, 100/450 = 22,2 %
    assert document["buurten"]["bereik"] == [1, 3, -1, 4]
    assert document["colors"]["reach"] == list(REACH_COLORS)
    buurten = result.buurten.copy()
    buurten["aandeel_binnen_drempel"] = [1.0, 0.75, 0.5, 0.9]
    document = map_data(dataclasses.replace(result, buurten=buurten))
    assert document["buurten"]["bereik"] == [0, 3, 4, 2]


def test_hotspots_and_plain_dutch(result: RunResult) -> None:
    document = map_data(result)
    # coldspot, hotspot, not significant, high among low -> style indexes of HOTSPOT_STYLES
    assert document["buurten"]["hot"] == [2, 0, -1, 1]
    popup = _popup(document["buurten"], 1)
    assert "Patroon: hotspot: hoog signaal, de buren ook" in popup
    assert "Kans dat dit toeval is: 1,0 %" in popup
    assert "Signaal: 1,40 (meer zorgen dan gemiddeld)" in popup
    assert "Kans dat dit toeval is" not in _popup(document["buurten"], 2)  # not significant: no chance shown
    assert "p-waarde" not in popup
    titles = [title for title, _ in document["help"]]
    assert "Signaal per buurt" in titles and "Hotspots en coldspots" in titles
    assert "Werkloosheid (%)" in document["help"][1][1]


def test_gap_popup_names_buurten(result: RunResult) -> None:
    popup = _popup(map_data(result)["gaps"], 0)
    assert "Buurten: &lt;script&gt;alert(1)&lt;/script&gt; en Oost" in popup
    assert "BU0999" not in popup


def test_venues(result: RunResult) -> None:
    venues = map_data(result)["venues"]
    assert venues["m"] == [1, 1, 0]
    assert venues["osm"] == ["node/1", "way/2", "node/3"]
    assert [venues["cats"][c] for c in venues["cat"]] == ["Café", "Buurthuis", "Bibliotheek"]
    assert _popup(venues, 1).startswith("(naamloos)\nSoort: Buurthuis\nStatus: telt mee als ontmoetingspunt")
    assert [len(decode_polyline(venues["p"]))] == [3]


def test_empty_frames_render(result: RunResult) -> None:
    buurten = result.buurten.copy()
    buurten["signaal"] = np.nan
    buurten["aandeel_binnen_drempel"] = np.nan
    buurten["hotspot"] = Hotspot.NONE
    empty = dataclasses.replace(
        result,
        buurten=buurten,
        residents=result.residents.iloc[:0],
        venues=result.venues.iloc[:0],
        gaps=result.gaps.iloc[:0],
        summary={},
    )
    page = _render(empty)
    document = _document(page)
    assert document["cells"] is None and document["venues"] is None and document["gaps"] is None
    assert document["buurten"]["sig"] == [-1] * 4
    assert "onbekend" in page
    assert "Inwoners buiten 400 m" in page


def test_all_residents_covered_renders(result: RunResult) -> None:
    residents = result.residents.copy()
    residents["binnen_drempel"] = True
    assert map_data(dataclasses.replace(result, residents=residents))["cells"] is None


def test_save_map_writes_html(result: RunResult, tmp_path: Path) -> None:
    target = tmp_path / "kaarten" / "kaart.html"
    written = save_map(build_map(result), target)
    assert written == target
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "Eetcaf" in text and "87,3 %" in text
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]


def test_map_needs_no_cdn(result: RunResult, tmp_path: Path) -> None:
    """Leaflet is inside the file: a share or intranet without CDN access still shows the map."""
    html_text = save_map(build_map(result), tmp_path / "kaart.html").read_text(encoding="utf-8")
    external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html_text)
    assert external == []
    assert 'version="1.9.3"' in html_text or '"1.9.3"' in html_text  # Leaflet's own version string
    assert "WA.init(" in html_text and "createPane" in html_text


# --------------------------------------------------------------------------- encoding


def test_polyline_round_trip() -> None:
    # The worked example of the encoded polyline format (lat, lon in the format; lon, lat here).
    text = encode_polyline([(-120.2, 38.5), (-120.95, 40.7), (-126.453, 43.252)])
    assert text == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
    assert decode_polyline(text) == [(-120.2, 38.5), (-120.95, 40.7), (-126.453, 43.252)]
    assert encode_polyline([]) == ""


def _polyline_by_hand(coords: list[tuple[float, float]]) -> str:
    """The format's algorithm step by step, one value at a time (the reference for the bulk encoder)."""
    out, previous = [], (0, 0)
    for lon, lat in coords:
        point = (round(lat * 1e5), round(lon * 1e5))
        for value in (point[0] - previous[0], point[1] - previous[1]):
            v = ~(value << 1) if value < 0 else value << 1
            while v >= 0x20:
                out.append(chr((0x20 | (v & 0x1F)) + 63))
                v >>= 5
            out.append(chr(v + 63))
        previous = point
    return "".join(out)


def test_many_polylines_at_once_equal_each_by_hand() -> None:
    rng = np.random.default_rng(3)
    lines = [rng.uniform(-180, 180, (int(rng.integers(0, 12)), 2)).round(5) for _ in range(300)]
    lines[0] = lines[150] = lines[-1] = np.zeros((0, 2))  # empty lines first, in between and last
    assert encode_polylines(lines) == [_polyline_by_hand(line.tolist()) for line in lines]
    assert encode_polylines([]) == []


def test_polygon_rings_drop_the_closing_vertex() -> None:
    square = shapely.Polygon([(5, 52), (5.001, 52), (5.001, 52.001), (5, 52.001)], [[(5.0002, 52.0002), (5.0004, 52.0002), (5.0004, 52.0004)]])
    (rings,) = polygon_rings(shapely.MultiPolygon([square]))
    assert [len(decode_polyline(r)) for r in rings] == [4, 3]
    assert polygon_rings(None) == [] and polygon_rings(shapely.Polygon()) == []


def test_join_lines_covers_every_piece_once() -> None:
    # A 3 x 3 street grid: 12 pieces of 100 m, one given twice (reversed).
    pieces = []
    for i in range(3):
        for j in range(2):
            pieces.append(shapely.LineString([(j * 100, i * 100), ((j + 1) * 100, i * 100)]))
            pieces.append(shapely.LineString([(i * 100, j * 100), (i * 100, (j + 1) * 100)]))
    pieces.append(shapely.LineString([(100, 0), (0, 0)]))
    paths = join_lines(pieces)
    assert sum(len(p) - 1 for p in paths) == 12
    assert sum(shapely.LineString(p).length for p in paths) == pytest.approx(1200.0)
    assert len(paths) < 12
    segments = {tuple(sorted((tuple(a), tuple(b)))) for p in paths for a, b in itertools.pairwise(p)}
    assert len(segments) == 12


def _reference_key(point: np.ndarray) -> tuple[int, int]:
    return (round(float(point[0]) * 10), round(float(point[1]) * 10))


def _reference_join_lines(lines: list) -> list[np.ndarray]:
    """join_lines as it was before its numpy version: one piece at a time (the reference)."""
    pieces: list[np.ndarray] = []
    seen: set[bytes] = set()
    for geom in lines:
        if geom is None or geom.is_empty:
            continue
        for part in getattr(geom, "geoms", [geom]):
            if part.geom_type != "LineString" or part.is_empty:
                continue
            wkb = shapely.normalize(part).wkb
            if wkb in seen:
                continue
            seen.add(wkb)
            coords = np.asarray(part.coords, dtype=float)[:, :2]
            if len(coords) >= 2:
                pieces.append(coords)

    at_node: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, coords in enumerate(pieces):
        at_node[_reference_key(coords[0])].append(i)
        at_node[_reference_key(coords[-1])].append(i)
    used = np.zeros(len(pieces), dtype=bool)

    def take(node: tuple[int, int]) -> np.ndarray | None:
        for j in at_node[node]:
            if not used[j]:
                used[j] = True
                coords = pieces[j]
                return coords if _reference_key(coords[0]) == node else coords[::-1]
        return None

    # Start at nodes where an odd number of pieces meet: paths end there anyway.
    order = sorted(range(len(pieces)), key=lambda i: -(len(at_node[_reference_key(pieces[i][0])]) % 2))
    paths: list[np.ndarray] = []
    for i in order:
        if used[i]:
            continue
        used[i] = True
        parts = [pieces[i]]
        while (nxt := take(_reference_key(parts[-1][-1]))) is not None:
            parts.append(nxt[1:])
        head: list[np.ndarray] = []  # pieces before the start, nearest first
        while (prev := take(_reference_key((head[-1] if head else parts[0])[0]))) is not None:
            head.append(prev[::-1][:-1])
        paths.append(np.concatenate([*head[::-1], *parts]))
    return paths


def test_join_lines_draws_what_the_per_piece_version_drew() -> None:
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 2000, (400, 2))
    tri = Delaunay(xy)
    edges = np.unique(np.sort(np.concatenate([tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]]]), axis=1), axis=0)
    pieces = [shapely.LineString([xy[a], (xy[a] + xy[b]) / 2 + rng.normal(0, 3, 2), xy[b]]) for a, b in edges]
    pieces += [shapely.reverse(p) for p in pieces[::5]]  # twice, once per direction
    pieces += [None, shapely.LineString(), shapely.Point(1, 1), shapely.LinearRing([(0, 0), (1, 0), (1, 1)]),
               shapely.MultiLineString([[(0, 0), (5, 5)], [(5, 5), (9, 0)]]), shapely.LineString([(7, 7), (8, 8), (7, 7.00001)])]
    new, old = join_lines(pieces), _reference_join_lines(pieces)
    assert len(new) == len(old)
    assert all(np.array_equal(a, b) for a, b in zip(new, old, strict=True))
    assert [encode_polyline(p) for p in new] == [encode_polyline(p) for p in old]
    assert join_lines([]) == [] and join_lines([None, shapely.Point(0, 0)]) == []


# --------------------------------------------------------------------------- layers of later steps


@pytest.fixture(scope="module")
def extended(demo_snapshot: Path) -> RunResult:
    return extend(demo_result(demo_snapshot), demo_snapshot)


def test_layers_absent_before_they_are_computed(result: RunResult) -> None:
    document = map_data(result)
    assert document["proposals"] is None and document["areas"] is None and document["kernen"] is None
    assert document["streets"] is None
    assert "proposals" not in document["legends"]


def test_proposals_layer(extended: RunResult) -> None:
    proposals = map_data(extended)["proposals"]
    assert proposals["rank"] == [1, 2, 3]
    assert len(decode_polyline(proposals["p"])) == 3
    first = extended.proposals.iloc[0]
    popup = _popup(proposals, 0)
    assert "Voorstel 1: Buurtkamer 1" in popup
    assert f"{format_int(first['nieuw_binnen_bereik'])} inwoners" in popup
    assert "€ 25.000" in popup
    assert f"€ {format_int(25_000 / first['nieuw_binnen_bereik'])}" in popup
    assert format_percent(first["aandeel_na"]) in popup


def test_broker_areas_and_kernen_use_names(extended: RunResult) -> None:
    document = map_data(extended)
    areas, kernen = document["areas"], document["kernen"]
    assert [p[0] for p in areas["pop"]] == ["Werkgebied 1", "Werkgebied 2"]
    assert "Oosterdorp-Kern" in _popup(areas, 1) and "BU9999" not in _popup(areas, 1)
    assert "Kernen: Oosterdorp, Noorderhoek en Westerveld" in _popup(areas, 1)
    assert kernen["name"] == ["Noorderhoek", "Oosterdorp", "Voorbeeldstad", "Westerveld"]
    assert len(decode_polyline(kernen["label"])) == 4
    oosterdorp = _popup(kernen, 1)
    figures = extended.kernen.loc["Oosterdorp"]
    assert format_int(figures["inwoners"]) in oosterdorp
    assert format_percent(figures["aandeel_binnen_drempel"]) in oosterdorp
    # The buurt popup tells its kern and broker area.
    code = extended.buurten["buurtcode"].tolist().index("BU99990501")
    assert "Kern: Oosterdorp" in _popup(document["buurten"], code)
    assert "Werkgebied: Werkgebied 2" in _popup(document["buurten"], code)
    assert "oosterdorp" in kernen["key"][1]


def test_hostile_names_in_every_layer_are_escaped(extended: RunResult) -> None:
    page = build_map(extended).get_root().render()
    for name in HOSTILE_NAMES:
        assert name not in page
        assert name not in json.dumps(_document(page), ensure_ascii=False)
        assert html.escape(name) in json.dumps(_document(page), ensure_ascii=False)


def test_streets_are_joined_and_simplified(extended: RunResult) -> None:
    streets = map_data(extended)["streets"]
    pieces = len(extended.streets)
    assert 0 < len(streets) < pieces
    drawn = gpd.GeoSeries([shapely.LineString(decode_polyline(s)) for s in streets], crs="EPSG:4326").to_crs("EPSG:28992")
    # Joining and simplifying keep the length (straight demo streets: within 1 %).
    total = extended.streets.geometry.normalize().drop_duplicates().length.sum()
    assert drawn.length.sum() == pytest.approx(total, rel=0.01)


def test_kern_column_without_kernen_frame(result: RunResult) -> None:
    buurten = result.buurten.copy()
    buurten["kern"] = ["Dorp", "Dorp", None, "Gehucht"]
    kernen = map_data(dataclasses.replace(result, buurten=buurten))["kernen"]
    assert kernen["name"] == ["Dorp", "Gehucht"]
    assert "Buurten: Centrum en &lt;script&gt;" in _popup(kernen, 0)


def test_names_are_not_templates(result: RunResult) -> None:
    """Names go into the page as text: branca renders page parts with Jinja, names must not be."""
    buurten = result.buurten.copy()
    buurten["buurtnaam"] = ["{{ 7*7 }}", "{% for x in y %}", "{# commentaar #}", "{{ config }}"]
    page = _render(dataclasses.replace(result, buurten=buurten, gemeente_name="{{ 6*7 }}"))
    assert "Wijkanalyse {{ 6*7 }} (GM0999)" in page and "42" not in page.split("<script>")[0]
    document = _document(page)
    assert [p[0] for p in document["buurten"]["pop"]] == ["{{ 7*7 }}", "{% for x in y %}", "{# commentaar #}", "{{ config }}"]


def test_kernen_figures_found_by_column_or_index(extended: RunResult) -> None:
    by_column = extended.kernen.reset_index(drop=True)
    by_index = extended.kernen.drop(columns="kern")
    for figures in (by_column, by_index):
        again = dataclasses.replace(extended)
        again.kernen = figures
        assert "Inwoners: " in _popup(map_data(again)["kernen"], 1)


def test_no_buurten_at_all(result: RunResult) -> None:
    empty = dataclasses.replace(result, buurten=result.buurten.iloc[:0], residents=result.residents.iloc[:0])
    document = map_data(empty)
    assert document["buurten"]["g"] == [] and document["bounds"] == [[50.75, 3.3], [53.55, 7.25]]
    assert "WA.init(" in _render(empty)


def test_the_osm_date_comes_from_a_fetched_snapshot_too(result: RunResult) -> None:
    """A fetched snapshot (format 2) has ``network``, not ``osm``: the credit line and the sources still date OSM."""
    from wijkanalyse.outputs._maptext import attribution_html, sources_html
    from wijkanalyse.outputs._sources import source_rows

    result.sources = {"network": {"file": "netwerk.parquet", "url": "https://overpass.example/api",
                                  "retrieved": "2025-03-04T10:00:00+00:00"}}
    result.summary = {**result.summary, "snapshot_created": "2024-01-01T00:00:00+00:00"}
    assert "ODbL stand 4 maart 2025" in attribution_html(result)
    assert "OpenStreetMap-bijdragers, opgehaald 4 maart 2025" in sources_html(result)
    osm_row = next(r for r in source_rows(result) if "OpenStreetMap" in r["wat"])
    assert osm_row["opgehaald"] == "4 maart 2025"
