"""Tests for the synthetic demo gemeente (wijkanalyse.demo)."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import osmnx as ox
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import box

from wijkanalyse import __version__
from wijkanalyse.demo import (
    CLUSTER_BUURTCODES,
    DEMO_CODE,
    DEMO_NAME,
    DEMO_YEAR,
    write_demo_snapshot,
)
from wijkanalyse.snapshot import read_manifest

MEETING_AMENITIES = {"community_centre", "library", "place_of_worship", "cafe", "social_facility"}
NASTY_VENUE = 'Eetcafé \'t Hoekje & <Zaal> "De Ster"'
SUPPRESSED = -99997
GRID_COLUMNS = (
    "aantal_inwoners",
    "aantal_inwoners_65_jaar_en_ouder",
    "aantal_eenpersoonshuishoudens",
)


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write the demo snapshot once for the whole module."""
    return write_demo_snapshot(tmp_path_factory.mktemp("demo") / "snapshot")


@pytest.fixture(scope="module")
def buurten(snap: Path) -> gpd.GeoDataFrame:
    """Return the buurten layer of the demo."""
    return gpd.read_file(snap / "buurten.gpkg", layer="buurten")


@pytest.fixture(scope="module")
def grid(snap: Path) -> gpd.GeoDataFrame:
    """Return the 100 m grid layer of the demo."""
    return gpd.read_file(snap / "vierkant100m.gpkg", layer="vierkant100m")


@pytest.fixture(scope="module")
def cbs(snap: Path) -> dict[str, Any]:
    """Return the CBS TypedDataSet response of the demo."""
    return json.loads((snap / "cbs_kerncijfers.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cbs_buurten(cbs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the CBS buurt rows by buurtcode."""
    return {
        r["WijkenEnBuurten"].strip(): r
        for r in cbs["value"]
        if r["SoortRegio_2"].strip() == "Buurt"
    }


@pytest.fixture(scope="module")
def venues(snap: Path) -> gpd.GeoDataFrame:
    """Return the venues of the demo OSM file, in EPSG:28992."""
    features = ox.features_from_xml(snap / "osm.xml", tags={"amenity": True, "leisure": True})
    return features.to_crs(28992)


def cell_buurt(grid: gpd.GeoDataFrame, buurten: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the grid cells with the buurtcode of the buurt holding each cell centre."""
    centres = grid.set_geometry(grid.geometry.centroid)
    joined = gpd.sjoin(centres, buurten[["buurtcode", "geometry"]], predicate="within")
    assert len(joined) == len(grid), "every cell centre lies in exactly one buurt"
    return joined


# --------------------------------------------------------------------------------------


def test_manifest(snap: Path) -> None:
    manifest = read_manifest(snap)
    assert manifest.gemeente_code == DEMO_CODE == "GM9999"
    assert manifest.gemeente_name == DEMO_NAME
    assert manifest.year == DEMO_YEAR == 2024
    assert manifest.synthetic is True
    assert manifest.created == "2024-01-01T00:00:00+00:00"
    assert manifest.generator == f"wijkanalyse {__version__}"
    assert set(manifest.sources) == {"cbs", "buurten", "grid", "osm", "network", "venues"}
    for entry in manifest.sources.values():
        assert (snap / entry["file"]).is_file()
        assert entry["url"] == "synthetisch (gegenereerd door wijkanalyse.demo)"
        assert entry["retrieved"] == manifest.created
    assert manifest.sources["cbs"]["table"] == "85984NED"
    assert manifest.sources["grid"]["year"] == 2024
    raw = json.loads((snap / "manifest.json").read_text(encoding="utf-8"))
    assert raw["synthetic"] is True


def test_buurten_layer(buurten: gpd.GeoDataFrame) -> None:
    assert 15 <= len(buurten) <= 30
    assert buurten.crs.to_epsg() == 28992
    assert all(re.fullmatch(r"BU9999\d{4}", c) for c in buurten["buurtcode"])
    assert buurten["buurtcode"].is_unique
    assert (buurten["wijkcode"] == "WK" + buurten["buurtcode"].str[2:8]).all()
    assert (buurten["gemeentecode"] == DEMO_CODE).all()
    assert (buurten["water"] == "NEE").all()
    assert set(buurten.geom_type) == {"MultiPolygon"}
    assert buurten["wijkcode"].nunique() >= 6
    assert (buurten["aantal_inwoners"] == -99999999).sum() == 1
    names = set(buurten["buurtnaam"])
    assert {"Zuidoost-Flats", "Oosterdorp-Kern", "Noorderhoek", "Westerveld"} <= names


def test_buurten_tile_the_gemeente(buurten: gpd.GeoDataFrame) -> None:
    union = buurten.union_all()
    assert union.area == pytest.approx(buurten.area.sum(), abs=1.0)
    assert union.area == pytest.approx(8000 * 5000, rel=1e-9)
    assert union.symmetric_difference(box(*union.bounds)).area < 1.0  # no holes
    for a, b in itertools.combinations(buurten.geometry, 2):
        assert a.intersection(b).area <= 1.0


def test_grid_cells(grid: gpd.GeoDataFrame) -> None:
    assert grid.crs.to_epsg() == 28992
    assert set(grid.geom_type) == {"Polygon"}
    assert grid["c28992r100"].is_unique
    for code, geom in zip(grid["c28992r100"], grid.geometry, strict=True):
        x0, y0, x1, y1 = geom.bounds
        assert (x1 - x0, y1 - y0) == (100.0, 100.0)
        assert x0 % 100 == 0 and y0 % 100 == 0
        assert code == f"E{int(x0) // 100:04d}N{int(y0) // 100:04d}"
    for column in GRID_COLUMNS:
        values = grid[column]
        assert values.dtype.kind == "i"
        ok = values[values != SUPPRESSED]
        assert (ok >= 0).all() and (ok % 5 == 0).all()
    residents = grid["aantal_inwoners"]
    assert (residents != 0).all()
    assert 0.01 <= (residents == SUPPRESSED).mean() <= 0.05
    assert ((grid[list(GRID_COLUMNS)] == SUPPRESSED).all(axis=1) == (residents == SUPPRESSED)).all()
    assert 15_000 <= residents.clip(lower=0).sum() <= 22_000


def test_cbs_rows(cbs: dict[str, Any], buurten: gpd.GeoDataFrame) -> None:
    assert cbs["odata.metadata"].startswith("https://opendata.cbs.nl/ODataApi/OData/85984NED/")
    rows = cbs["value"]
    for row in rows:
        assert isinstance(row["ID"], int)
        assert len(row["WijkenEnBuurten"]) == 10
        assert row["WijkenEnBuurten"] == row["WijkenEnBuurten"].strip().ljust(10)
        assert row["Codering_3"] == row["WijkenEnBuurten"]
        assert len(row["Gemeentenaam_1"]) == 40 and row["Gemeentenaam_1"].strip() == DEMO_NAME
        assert len(row["SoortRegio_2"]) == 10
        assert row["IndelingswijzigingWijkenEnBuurten_4"] == "1"
    assert rows[0]["WijkenEnBuurten"] == "GM9999    "
    assert rows[0]["SoortRegio_2"] == "Gemeente  "
    assert rows[1]["WijkenEnBuurten"] == "WK999901  "
    assert rows[2]["WijkenEnBuurten"] == "BU99990101"
    # CBS order: each wijk row is followed by its own buurt rows.
    current_wijk = ""
    for row in rows[1:]:
        code = row["WijkenEnBuurten"].strip()
        if row["SoortRegio_2"] == "Wijk      ":
            current_wijk = code
        else:
            assert row["SoortRegio_2"] == "Buurt     "
            assert code[2:8] == current_wijk[2:]
    buurt_codes = [r["WijkenEnBuurten"].strip() for r in rows if r["SoortRegio_2"] == "Buurt     "]
    assert sorted(buurt_codes) == sorted(buurten["buurtcode"])
    wijk_codes = [r["WijkenEnBuurten"].strip() for r in rows if r["SoortRegio_2"] == "Wijk      "]
    assert sorted(wijk_codes) == sorted(buurten["wijkcode"].unique())


def test_cbs_counts_match_grid_and_buurten(
    cbs: dict[str, Any],
    cbs_buurten: dict[str, dict[str, Any]],
    grid: gpd.GeoDataFrame,
    buurten: gpd.GeoDataFrame,
) -> None:
    cells = cell_buurt(grid, buurten)
    counted = cells["aantal_inwoners"].where(cells["aantal_inwoners"] != SUPPRESSED, 2)
    per_buurt = counted.groupby(cells["buurtcode"]).sum()
    for code, row in cbs_buurten.items():
        assert row["AantalInwoners_5"] == per_buurt.get(code, 0), code
        assert row["Mannen_6"] + row["Vrouwen_7"] == row["AantalInwoners_5"]
        ages = [k for k in row if re.match(r"k_\d+(Tot\d+Jaar|JaarOfOuder)_", k)]
        assert sum(row[k] for k in ages) == row["AantalInwoners_5"]
    pdok = dict(zip(buurten["buurtcode"], buurten["aantal_inwoners"], strict=True))
    for code, value in pdok.items():
        assert value in (-99999999, cbs_buurten[code]["AantalInwoners_5"])
    gemeente = cbs["value"][0]
    assert gemeente["AantalInwoners_5"] == sum(r["AantalInwoners_5"] for r in cbs_buurten.values())


def test_cbs_privacy_markers(cbs_buurten: dict[str, dict[str, Any]]) -> None:
    secret = [c for c, r in cbs_buurten.items() if r["GemiddeldInkomenPerInwoner_78"] is None]
    assert secret, "some small buurten have null (secret) values"
    for code in secret:
        assert cbs_buurten[code]["PersonenPerSoortUitkeringBijstand_87"] is None
        assert code.startswith("BU999908"), "only buitengebied buurten are secret"
    dots = [c for c, r in cbs_buurten.items() if r["WmoClienten_93"] == "."]
    assert len(dots) == 1


def test_cluster_stands_out(cbs_buurten: dict[str, dict[str, Any]]) -> None:
    def share(row: dict[str, Any], column: str, per: str) -> float:
        return row[column] / row[per]

    cluster = [cbs_buurten[c] for c in CLUSTER_BUURTCODES]
    others = [
        r
        for c, r in cbs_buurten.items()
        if c not in CLUSTER_BUURTCODES and r["GemiddeldInkomenPerInwoner_78"] is not None
    ]
    single = "Eenpersoonshuishoudens_30"
    bijstand = "PersonenPerSoortUitkeringBijstand_87"
    income = "GemiddeldInkomenPerInwoner_78"
    assert min(share(r, single, "HuishoudensTotaal_29") for r in cluster) > 0.5
    assert max(share(r, single, "HuishoudensTotaal_29") for r in others) < 0.4
    assert min(share(r, bijstand, "AantalInwoners_5") for r in cluster) > 0.05
    assert max(share(r, bijstand, "AantalInwoners_5") for r in others) < 0.025
    assert max(r[income] for r in cluster) < min(r[income] for r in others) - 5


def test_osm_network(snap: Path) -> None:
    graph = ox.graph_from_xml(snap / "osm.xml", bidirectional=True, simplify=False, retain_all=True)
    kinds = {d.get("highway") for _, _, d in graph.edges(data=True)}
    assert {"motorway", "footway", "path", "cycleway", "residential", "tertiary"} <= kinds
    streets = graph.edge_subgraph(
        [(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if "highway" in d]
    )
    without_motorway = streets.edge_subgraph(
        [
            (u, v, k)
            for u, v, k, d in streets.edges(keys=True, data=True)
            if d["highway"] != "motorway"
        ]
    )
    assert nx.number_weakly_connected_components(without_motorway) == 1
    motorway_nodes = {u for u, _, d in streets.edges(data=True) if d["highway"] == "motorway"}
    assert not motorway_nodes & set(without_motorway.nodes)


def test_osm_venues(venues: gpd.GeoDataFrame, buurten: gpd.GeoDataFrame) -> None:
    assert NASTY_VENUE in set(venues["name"])
    assert venues.loc[venues["name"] == NASTY_VENUE, "amenity"].tolist() == ["cafe"]
    assert set(venues.index.get_level_values("element")) == {"node", "way"}
    meeting = venues[venues["amenity"].isin(MEETING_AMENITIES)]
    assert len(meeting) >= 10
    noorderhoek = buurten.loc[buurten["buurtnaam"] == "Noorderhoek"].geometry.iloc[0]
    in_noorderhoek = venues[venues.geometry.centroid.within(noorderhoek)]
    assert len(in_noorderhoek) == 2
    assert not in_noorderhoek["amenity"].isin(MEETING_AMENITIES).any()
    westerveld = buurten.loc[buurten["buurtnaam"] == "Westerveld"].geometry.iloc[0]
    assert not venues.geometry.centroid.within(westerveld).any()


def test_villages_without_meeting_point_are_far(
    grid: gpd.GeoDataFrame, buurten: gpd.GeoDataFrame, venues: gpd.GeoDataFrame
) -> None:
    meeting = venues[venues["amenity"].isin(MEETING_AMENITIES)].geometry.centroid.union_all()
    cells = cell_buurt(grid, buurten)
    for name in ("Westerveld", "Noorderhoek"):
        code = buurten.loc[buurten["buurtnaam"] == name, "buurtcode"].iloc[0]
        village = cells[cells["buurtcode"] == code]
        assert len(village) > 10
        assert village.geometry.distance(meeting).min() > 400


def test_deterministic(snap: Path, tmp_path: Path) -> None:
    again = write_demo_snapshot(tmp_path / "again")
    for name in ("osm.xml", "cbs_kerncijfers.json", "manifest.json"):
        assert (snap / name).read_bytes() == (again / name).read_bytes(), name
    for name, layer in (("buurten.gpkg", "buurten"), ("vierkant100m.gpkg", "vierkant100m")):
        assert_geodataframe_equal(
            gpd.read_file(snap / name, layer=layer), gpd.read_file(again / name, layer=layer)
        )
    # Writing over an existing snapshot gives the same files again.
    write_demo_snapshot(again)
    assert (snap / "osm.xml").read_bytes() == (again / "osm.xml").read_bytes()
