"""Tests for the interactive map (rendered HTML only, no browser)."""

from __future__ import annotations

import re

import dataclasses
import json
import math
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from wijkanalyse.outputs.maps import (
    LAYER_NAMES,
    SYNTHETIC_BANNER,
    build_map,
    format_int,
    format_number,
    format_percent,
    save_map,
)
from wijkanalyse.result import HOTSPOT_LABELS, RunResult

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
                HOTSPOT_LABELS[3],
                HOTSPOT_LABELS[1],
                HOTSPOT_LABELS[0],
                HOTSPOT_LABELS[4],
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


def test_layers_and_title(result: RunResult) -> None:
    page = _render(result)
    for key, name in LAYER_NAMES.items():
        expected = name.format(threshold="400")
        assert json.dumps(expected)[1:-1] in page or expected in page, key
    assert "Lichte achtergrond" in page
    assert "service.pdok.nl/brt/achtergrondkaart" in page
    assert "OpenStreetMap" in page
    assert "Wijkanalyse Demodorp (GM0999), 2024" in page
    assert "12.345 inwoners" in page
    assert "10.777" in page
    assert "87,3 %" in page
    assert "over het looppadennetwerk" in page
    assert "2 ontmoetingspunten" in page
    # Colormap captions and the fixed legend.
    assert "Signaal per buurt (samengestelde z-score" in page
    assert "Aandeel inwoners binnen 400 m van een ontmoetingspunt" in page
    assert "Legenda" in page
    assert "L.control.layers" in page


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
    # folium JSON-encodes GeoJSON into the script (``&`` may become ``\u0026``); undo that
    # encoding and check the HTML-escaped form is there.
    decoded = page.replace("\\u0026", "&").replace("\\u003c", "<").replace("\\u003e", ">")
    decoded = decoded.replace("\\u0027", "'").replace('\\"', '"')
    assert "&lt;Zaal&gt;" in decoded
    assert "&quot;De Ster&quot;" in decoded
    assert "&#x27;t Hoekje &amp;" in decoded
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in decoded
    assert "<script>alert(1)" not in decoded
    assert "(naamloos)" in decoded


def test_evil_gemeente_name_is_escaped(result: RunResult) -> None:
    page = _render(dataclasses.replace(result, gemeente_name="<b>Evil</b>"))
    assert "<b>Evil</b>" not in page
    assert "&lt;b&gt;Evil&lt;/b&gt;" in page


def test_residents_outside_tooltips(result: RunResult) -> None:
    page = _render(result)
    assert "45 inwoners, 612 m lopen" in page
    assert "aantal geheim (CBS), geen ontmoetingspunt bereikbaar" in page
    assert "1 inwoner, 1.234 m lopen" in page
    # The resident inside the threshold is not drawn.
    assert "120 inwoners" not in page


def test_geojson_is_valid_and_in_wgs84(result: RunResult) -> None:
    m = build_map(result)
    geojsons = [c for c in _walk(m) if isinstance(c, folium.GeoJson)]
    assert geojsons
    for layer in geojsons:
        text = json.dumps(layer.data, allow_nan=False)  # no NaN/inf, no numpy types
        assert "NaN" not in text and "Infinity" not in text
        for feature in layer.data["features"]:
            lon, lat = _first_coordinate(feature["geometry"]["coordinates"])
            assert 3.0 < lon < 7.5 and 50.5 < lat < 54.0
    # 100 m squares: 3 uncovered cells, 5 corners each.
    squares = [g for g in geojsons if "m lopen" in json.dumps(g.data)]
    assert len(squares) == 1
    assert len(squares[0].data["features"]) == 3
    ring = squares[0].data["features"][0]["geometry"]["coordinates"][0]
    assert len(ring) == 5


def test_empty_frames_render(result: RunResult) -> None:
    buurten = result.buurten.copy()
    buurten["signaal"] = np.nan
    buurten["aandeel_binnen_drempel"] = np.nan
    buurten["hotspot"] = HOTSPOT_LABELS[0]
    empty = dataclasses.replace(
        result,
        buurten=buurten,
        residents=result.residents.iloc[:0],
        venues=result.venues.iloc[:0],
        gaps=result.gaps.iloc[:0],
        summary={},
    )
    page = _render(empty)
    assert "Ontmoetingspunten" in page
    assert "onbekend" in page
    assert "Inwoners buiten 400 m" in page


def test_all_residents_covered_renders(result: RunResult) -> None:
    residents = result.residents.copy()
    residents["binnen_drempel"] = True
    page = _render(dataclasses.replace(result, residents=residents))
    assert "m lopen" not in page


def test_save_map_writes_html(result: RunResult, tmp_path: Path) -> None:
    target = tmp_path / "kaarten" / "kaart.html"
    written = save_map(build_map(result), target)
    assert written == target
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "Eetcaf" in text and "87,3 %" in text
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]


def _walk(element):
    yield element
    for child in element._children.values():
        yield from _walk(child)


def _first_coordinate(coords):
    while isinstance(coords[0], (list, tuple)):
        coords = coords[0]
    assert all(math.isfinite(c) for c in coords)
    return coords[0], coords[1]



def test_map_needs_no_cdn(result: RunResult, tmp_path: Path) -> None:
    """Leaflet is inside the file: a share or intranet without CDN access still shows the map."""
    html_text = save_map(build_map(result), tmp_path / "kaart.html").read_text(encoding="utf-8")
    external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html_text)
    assert external == []
    assert 'version="1.9.3"' in html_text or '"1.9.3"' in html_text  # Leaflet's own version string
    assert "L.control.layers" in html_text
