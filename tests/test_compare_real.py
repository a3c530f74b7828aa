"""Year over year on real Ermelo data (../shared/data; skipped when absent).

CBS redrew Ermelo's buurten between 2021 and 2024: of the 20 buurt codes of 2024 only 5 exist
in the 2021 polygons, and those 5 carry other names (CBS reused the codes for other areas). The
shared data has no 2024 polygons, so overlap matching is tested on a redivision simulated from
the real 2021 polygons, following what the 2024 figures say where they can:

* buurten whose 2024 land area (GM0233.json, ``oppervlakteLandHa``) is within 3 % of the 2021
  polygon and whose name is the same keep their polygon under their 2024 code (Telgt, Zuiderzeeland,
  Staverden, Speuld), as does Horst (its 2021 code BU02330005 is Veldwijk's in 2024);
* Veldwijk-'s Heerenloo is split into Veldwijk (BU02330005) and 's Heerenloo (BU02330303) by a
  north-south line at their 2024 land-area ratio 86 : 77 (simulated: the real line is unknown);
* the two "Verspreide huizen bosgebied" buurten are merged into BU02330401 (simulated);
* every other buurt keeps its 2021 code and polygon;
* every new polygon is simplified by 5 m, as boundaries drift between releases.

The residents are the real 2020 CBS 100 m grid; "within the threshold" is 400 m as the crow flies
from a real bench (BGT+ ``bank``), an informal meeting spot. The same residents in both "years"
must give a change of exactly 0 in every new buurt when the old figures are re-weighted by residents.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from wijkanalyse import model
from wijkanalyse.analysis import buurt_coverage, straight_line_distance
from wijkanalyse.analysis.compare import check_codes, compare_buurten, match_buurten
from wijkanalyse.result import Hotspot

from .conftest import shared_data

RENUMBERED = {  # 2021 code -> 2024 code, same polygon
    "BU02330007": "BU02330304",  # Verspreide huizen Telgt: 549 ha (2021) vs 540 ha (2024)
    "BU02330008": "BU02330302",  # Verspreide huizen Zuiderzeeland: 466 vs 469
    "BU02330105": "BU02330505",  # Verspreide huizen Staverden: 277 vs 272
    "BU02330100": "BU02330501",  # Speuld: 247 vs 254
    "BU02330005": "BU02330301",  # Horst (2021) -> Verspreide huizen Horst (2024)
}
SPLIT = ("BU02330003", {"BU02330005": 86.0, "BU02330303": 77.0})  # Veldwijk, 's Heerenloo (2024 land ha)
MERGED = (("BU02330009", "BU02330109"), "BU02330401")
UNCHANGED = ["BU02330000", "BU02330001", "BU02330002", "BU02330004", "BU02330006", "BU02330106", "BU02330107",
             "BU02330108"]


@pytest.fixture(scope="module")
def polygons_2021() -> gpd.GeoDataFrame:
    gdf = gpd.read_file(shared_data("ermelo_cbs_wijkbuurtkaart_2021", "CBS_buurten.gpkg"))
    gdf = gdf[gdf["water"] != "JA"][["buurtcode", "buurtnaam", "geometry"]]
    gdf.index = pd.Index(gdf["buurtcode"].to_numpy())
    return gdf.sort_index()


@pytest.fixture(scope="module")
def buurten_2024() -> list[dict]:
    path = shared_data("cbs_kerncijfers_2024_per_gemeente", "GM0233.json")
    return json.loads(path.read_text(encoding="utf-8"))["buurten"]


def test_a_join_on_code_finds_5_of_20_and_all_5_are_other_buurten(
    polygons_2021: gpd.GeoDataFrame, buurten_2024: list[dict]
) -> None:
    new = pd.DataFrame({"buurtcode": [b["code"] for b in buurten_2024], "buurtnaam": [b["name"] for b in buurten_2024]})
    codes = check_codes(polygons_2021, new)
    assert len(new) == 20 and len(polygons_2021) == 16  # the water buurt BU02339997 left out
    assert codes.same == ["BU02330001", "BU02330002", "BU02330003", "BU02330004", "BU02330005"]
    assert codes.renamed == {
        "BU02330001": ("Ermelo-Oost", "Ermelo - Noord"),
        "BU02330002": ("Ermelo-West", "Ermelo - Oost"),
        "BU02330003": ("Veldwijk-'s Heerenloo", "Ermelo - Zuid"),
        "BU02330004": ("Tonsel", "Ermelo - West"),
        "BU02330005": ("Horst", "Veldwijk"),
    }
    assert len(codes.only_new) == 15 and len(codes.only_old) == 11  # these need matching by overlap
    # the reused codes cover other land: 2021 polygon area vs 2024 land area of the same code
    land = {b["code"]: b["demografie"]["oppervlakteLandHa"] for b in buurten_2024}
    area = polygons_2021.area / 1e4
    assert area["BU02330005"] == pytest.approx(159.4, abs=0.1) and land["BU02330005"] == 86
    assert area["BU02330004"] == pytest.approx(284.6, abs=0.1) and land["BU02330004"] == 137


def _split(polygon: shapely.Geometry, west_share: float) -> tuple[shapely.Geometry, shapely.Geometry]:
    """Cut ``polygon`` by a north-south line so that the west part has ``west_share`` of the area."""
    x0, y0, x1, y1 = polygon.bounds
    lo, hi = x0, x1
    for _ in range(60):
        mid = (lo + hi) / 2
        if polygon.intersection(box(x0, y0, mid, y1)).area < west_share * polygon.area:
            lo = mid
        else:
            hi = mid
    return polygon.intersection(box(x0, y0, lo, y1)), polygon.difference(box(x0, y0, lo, y1))


@pytest.fixture(scope="module")
def polygons_new(polygons_2021: gpd.GeoDataFrame, buurten_2024: list[dict]) -> gpd.GeoDataFrame:
    names = {b["code"]: b["name"] for b in buurten_2024}
    old = polygons_2021.geometry
    rows = [(code, polygons_2021.at[code, "buurtnaam"], old[code]) for code in UNCHANGED]
    rows += [(new, names[new], old[code]) for code, new in RENUMBERED.items()]
    (source, parts) = SPLIT
    west, east = _split(old[source], parts["BU02330005"] / sum(parts.values()))
    rows += [("BU02330005", names["BU02330005"], west), ("BU02330303", names["BU02330303"], east)]
    sources, target = MERGED
    rows.append((target, names[target], shapely.union_all([old[c] for c in sources])))
    gdf = gpd.GeoDataFrame(
        {"buurtcode": [r[0] for r in rows], "buurtnaam": [r[1] for r in rows]},
        geometry=[shapely.simplify(r[2], 5.0) for r in rows], crs=polygons_2021.crs,
    )
    gdf.index = pd.Index(gdf["buurtcode"].to_numpy())
    return gdf.sort_index()


def test_renumbered_buurten_have_the_same_land_area(polygons_2021: gpd.GeoDataFrame, buurten_2024: list[dict]) -> None:
    """The recipe's premise, from the real figures: same name, same area within 3 %."""
    land = {b["code"]: b["demografie"]["oppervlakteLandHa"] for b in buurten_2024}
    for code, new in list(RENUMBERED.items())[:4]:
        assert polygons_2021.area[code] / 1e4 == pytest.approx(land[new], rel=0.03), code


def test_overlap_matching_on_real_polygons(polygons_2021: gpd.GeoDataFrame, polygons_new: gpd.GeoDataFrame) -> None:
    m = match_buurten(polygons_2021, polygons_new)
    expected = {code: "code" for code in UNCHANGED}
    expected |= {new: "overlap" for new in RENUMBERED.values()}
    expected |= {"BU02330005": "split", "BU02330303": "split", "BU02330401": "merged"}
    assert m.kinds.to_dict() == dict(sorted(expected.items()))
    assert m.sources["BU02330005"] == ["BU02330003"] and m.sources["BU02330401"] == ["BU02330109", "BU02330009"]
    assert m.gone == []
    assert m.reused_codes == ["BU02330005"]  # Horst's 2021 code now names Veldwijk
    # the 5 m simplification left slivers, none of which counts
    assert (~m.links["telt_mee"]).sum() > 0
    assert m.links.loc[~m.links["telt_mee"], ["aandeel_van_oud", "aandeel_van_nieuw"]].max().max() < 0.01


@pytest.fixture(scope="module")
def residents() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The 2020 grid cells of Ermelo, and the benches of Ermelo (BGT+), both EPSG:28992."""
    grid = gpd.read_file(shared_data("ermelo_cbs_vierkant100m_2020", "CBS_Statistiek.gpkg"))
    grid = grid[grid["gemeentecode"] == "GM0233"]
    benches = gpd.read_file(shared_data("ermelo_bgtplus_voorzieningen", "Straatmeubilair.gpkg"))
    benches = benches[benches["bgtplustype"] == "niet-bgt:bank"].to_crs(28992)
    assert len(benches) > 1000
    return grid, benches


def _run(polygons: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, benches: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The buurt figures a run would give: residents per buurt and within 400 m of a bench."""
    cells = model.residents_frame(grid, polygons)
    cells["afstand_m"] = straight_line_distance(cells.geometry, benches.geometry)
    cells["binnen_drempel"] = cells["afstand_m"] <= 400
    buurten = polygons.join(buurt_coverage(cells, polygons.index, 400.0))
    buurten["signaal"] = np.nan
    buurten["hotspot"] = Hotspot.NONE
    return buurten, cells


def test_same_people_new_division_no_change(
    polygons_2021: gpd.GeoDataFrame, polygons_new: gpd.GeoDataFrame,
    residents: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    grid, benches = residents
    old, cells = _run(polygons_2021, grid, benches)
    new, _ = _run(polygons_new, grid, benches)
    assert old["inwoners"].sum() == new["inwoners"].sum() > 25_000  # PROVENANCE: 25,935 counted residents
    assert 0.5 < old["inwoners_binnen_drempel"].sum() / old["inwoners"].sum() < 1  # most live near a bench
    c = compare_buurten(old, new, old_residents=cells)
    b = c.buurten
    assert c.summary["weighting"] == "inwoners"
    assert (b["inwoners_verschil"] == 0).all() and (b["inwoners_binnen_drempel_verschil"] == 0).all()
    assert np.nanmax(np.abs(b["aandeel_binnen_drempel_verschil_pp"])) == 0
    # the split buurt's residents add up, its parts hold what lives there
    parts = b.loc[["BU02330005", "BU02330303"], "inwoners_oud"]
    assert parts.sum() == old.loc["BU02330003", "inwoners"] and (parts > 0).all()
    assert b.loc["BU02330401", "inwoners_oud"] == old.loc[["BU02330009", "BU02330109"], "inwoners"].sum()
    # by area the split goes wrong: people do not live evenly over a buurt (about 395 of its 1,900
    # residents end up in the wrong half, a false change of +-395)
    by_area = compare_buurten(old, new).buurten
    assert by_area.loc[["BU02330005", "BU02330303"], "inwoners_verschil"].abs().min() > 300
    assert by_area["inwoners_oud"].sum() == pytest.approx(old["inwoners"].sum(), rel=0.01)
