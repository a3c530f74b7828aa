"""Year over year, the pure part (wijkanalyse.analysis.compare) on hand-made buurten.

Every buurt is a 100 m x 100 m square (or a strip of one) on a line, so every overlap share
and every re-weighted figure can be worked out by hand.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from wijkanalyse.analysis.compare import (
    BUURT_COLUMNS,
    KERN_COLUMNS,
    MIN_SHARE,
    check_codes,
    compare_buurten,
    compare_meeting_points,
    match_buurten,
)
from wijkanalyse.result import Hotspot

HOT, NOT = Hotspot.HOT, Hotspot.NONE
CRS = "EPSG:28992"


def frame(rows: list[dict]) -> gpd.GeoDataFrame:
    """A canonical buurt frame (index buurtcode) from rows with a ``shape``."""
    gdf = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "shape"} for r in rows], geometry=[r["shape"] for r in rows], crs=CRS
    )
    gdf["aandeel_binnen_drempel"] = gdf["inwoners_binnen_drempel"] / gdf["inwoners"].where(gdf["inwoners"] > 0)
    gdf.index = pd.Index(gdf["buurtcode"].to_numpy())
    return gdf


def buurt(code: str, x0: float, x1: float, inw: int, binnen: int, signaal: float, hot: bool = False, *,  # noqa: PLR0917
          kern: str = "Dorp", y0: float = 0, y1: float = 100, naam: str | None = None) -> dict:
    return {"buurtcode": code, "buurtnaam": naam or f"Buurt {code}", "kern": kern, "inwoners": inw,
            "inwoners_binnen_drempel": binnen, "signaal": signaal, "hotspot": HOT if hot else NOT,
            "shape": box(x0, y0, x1, y1)}


@pytest.fixture
def years() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Old: A, B, C, D, E, G. New: A (same), B split in B1/B2, C+D merged into CD, G renumbered G2, E gone, F new."""
    old = frame([
        buurt("BU01", 0, 100, 100, 80, 0.5),
        buurt("BU02", 100, 200, 200, 100, 0.0),
        buurt("BU03", 200, 300, 50, 50, 1.0, hot=True),
        buurt("BU04", 300, 400, 150, 30, -1.0),
        buurt("BU05", 400, 500, 30, 0, 2.0, hot=True, kern="Gehucht"),
        buurt("BU07", 0, 100, 60, 60, -0.5, y0=100, y1=200),
    ])
    new = frame([
        buurt("BU01", 0, 100, 110, 90, 0.4),
        buurt("BU21", 100, 150, 120, 120, 0.2, hot=True),
        buurt("BU22", 150, 200, 90, 0, 0.1),
        buurt("BU34", 200, 400, 210, 100, -0.3),
        buurt("BU06", 600, 700, 40, 0, 0.0, kern="Nieuwbouw"),
        buurt("BU08", 0, 100, 60, 30, -0.4, y0=100, y1=200),
    ])
    return old, new


def test_match_kinds_by_hand(years: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> None:
    old, new = years
    m = match_buurten(old, new)
    assert m.kinds.to_dict() == {
        "BU01": "code", "BU21": "split", "BU22": "split", "BU34": "merged", "BU06": "new", "BU08": "overlap",
    }
    assert m.sources == {"BU01": ["BU01"], "BU21": ["BU02"], "BU22": ["BU02"], "BU34": ["BU03", "BU04"],
                         "BU06": [], "BU08": ["BU07"]}
    assert m.gone == ["BU05"]
    assert m.reused_codes == []
    assert m.counts() == {"code": 1, "overlap": 1, "split": 2, "merged": 1, "redrawn": 0, "new": 1, "gone": 1}
    b2 = m.links[m.links["buurtcode_oud"] == "BU02"].set_index("buurtcode_nieuw")
    assert b2["oppervlakte_m2"].to_dict() == pytest.approx({"BU21": 5000.0, "BU22": 5000.0})
    assert b2["aandeel_van_oud"].to_dict() == pytest.approx({"BU21": 0.5, "BU22": 0.5})
    assert b2["aandeel_van_nieuw"].to_dict() == pytest.approx({"BU21": 1.0, "BU22": 1.0})


def test_redrawn_and_split_in_one() -> None:
    """X wholly and half of Y make P; the other half of Y is Q."""
    old = frame([buurt("X", 0, 100, 10, 0, 0.0), buurt("Y", 100, 200, 10, 0, 0.0)])
    new = frame([buurt("P", 0, 150, 10, 0, 0.0), buurt("Q", 150, 200, 10, 0, 0.0)])
    assert match_buurten(old, new).kinds.to_dict() == {"P": "redrawn", "Q": "split"}


def test_slivers_of_redrawn_boundaries_do_not_count() -> None:
    """A boundary moved 2 m: 2 % of a buurt changes hands, below MIN_SHARE; both stay 'code'."""
    old = frame([buurt("X", 0, 100, 10, 0, 0.0), buurt("Y", 100, 200, 10, 0, 0.0)])
    new = frame([buurt("X", 0, 102, 10, 0, 0.0), buurt("Y", 102, 200, 10, 0, 0.0)])
    m = match_buurten(old, new)
    assert m.kinds.to_dict() == {"X": "code", "Y": "code"}
    sliver = m.links[(m.links["buurtcode_oud"] == "Y") & (m.links["buurtcode_nieuw"] == "X")].iloc[0]
    assert sliver["aandeel_van_oud"] == pytest.approx(0.02)
    assert not sliver["telt_mee"]
    # with a threshold below the sliver it does count: X takes part of Y, Y is split
    assert match_buurten(old, new, min_share=0.01).kinds.to_dict() == {"X": "redrawn", "Y": "split"}


def test_a_reused_code_is_matched_by_place_and_flagged() -> None:
    """CBS gives code BU2 to another area: the code join would be wrong, the overlap is right."""
    old = frame([buurt("BU1", 0, 100, 10, 0, 0.0, naam="Oost"), buurt("BU2", 100, 200, 20, 0, 0.0, naam="West")])
    new = frame([buurt("BU2", 0, 100, 10, 0, 0.0, naam="Noord"), buurt("BU3", 100, 200, 20, 0, 0.0, naam="West")])
    m = match_buurten(old, new)
    assert m.kinds.to_dict() == {"BU2": "overlap", "BU3": "overlap"}
    assert m.sources == {"BU2": ["BU1"], "BU3": ["BU2"]}
    assert m.reused_codes == ["BU2"]
    c = compare_buurten(old, new)
    assert c.buurten.loc["BU2", "inwoners_oud"] == pytest.approx(10)  # from BU1, not from the old BU2
    assert c.buurten["code_hergebruikt"].to_dict() == {"BU2": True, "BU3": False}
    assert c.summary["reused_codes"] == ["BU2"]
    codes = check_codes(old, new)
    assert codes.same == ["BU2"] and codes.renamed == {"BU2": ("West", "Noord")}
    assert codes.only_old == ["BU1"] and codes.only_new == ["BU3"]


def test_area_weighting_by_hand(years: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> None:
    old, new = years
    c = compare_buurten(old, new)
    b = c.buurten
    assert c.summary["weighting"] == "oppervlakte"
    assert list(b.columns) == [*BUURT_COLUMNS, "geometry"]
    assert list(b.index) == ["BU01", "BU21", "BU22", "BU34", "BU06", "BU08", "BU05"]  # new division, then gone
    # B split in halves: 200 residents -> 100 + 100, 100 within -> 50 + 50
    assert b.loc["BU21", "inwoners_oud"] == pytest.approx(100)
    assert b.loc["BU21", "inwoners_binnen_drempel_oud"] == pytest.approx(50)
    assert b.loc["BU21", "aandeel_binnen_drempel_verschil_pp"] == pytest.approx(100 * (120 / 120 - 50 / 100))
    # C + D merged: 50 + 150 residents, 50 + 30 within; signal weighted by residents (50 x 1 + 150 x -1) / 200
    assert b.loc["BU34", "inwoners_oud"] == pytest.approx(200)
    assert b.loc["BU34", "inwoners_binnen_drempel_oud"] == pytest.approx(80)
    assert b.loc["BU34", "signaal_oud"] == pytest.approx(-0.5)
    assert b.loc["BU34", "signaal_verschil"] == pytest.approx(-0.3 - -0.5)
    assert b.loc["BU34", "oude_buurtcodes"] == "BU03,BU04"
    # most old residents of CD lived in D, which was no hot spot
    assert b.loc["BU34", "hotspot_oud"] == NOT and b.loc["BU34", "hotspot_wijziging"] == "none"
    # new area, gone buurt
    assert b.loc["BU06", "inwoners_oud"] == 0 and np.isnan(b.loc["BU06", "aandeel_binnen_drempel_oud"])
    assert b.loc["BU05", ["inwoners_oud", "inwoners_nieuw", "inwoners_verschil"]].tolist() == [30, 0, -30]
    assert b.loc["BU05", "hotspot_wijziging"] == "gone"
    # every resident counted once: the changes add up to the change of the whole
    s = c.summary
    assert s["residents_old"] == 590 and s["residents_new"] == 630
    assert b["inwoners_verschil"].sum() == pytest.approx(630 - 590)
    assert b["inwoners_binnen_drempel_verschil"].sum() == pytest.approx(340 - 320)
    assert s["share_within_threshold_change_pp"] == pytest.approx(100 * (340 / 630 - 320 / 590))
    assert s["hotspots_old"] == ["BU03", "BU05"] and s["hotspots_new"] == ["BU21"]
    assert s["hotspots_added"] == ["BU21"] and s["hotspots_removed"] == ["BU05"]
    # shares: BU21 50 % -> 100 %, BU34 40 % -> 47.6 %, BU01 80 % -> 81.8 %, BU22 50 % -> 0 %, BU08 100 % -> 50 %
    assert [t["buurtcode"] for t in s["largest_share_rises"]] == ["BU21", "BU34", "BU01"]
    assert [t["buurtcode"] for t in s["largest_share_falls"]] == ["BU22", "BU08"]
    assert s["largest_share_falls"][0]["change_pp"] == -50.0


def test_residents_weighting_follows_where_people_live(years: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> None:
    """B's 200 residents: 180 in a cell in the west half (all within reach), 20 in the east half."""
    old, new = years
    cells = gpd.GeoDataFrame(
        {
            "buurtcode": ["BU01", "BU02", "BU02", "BU03", "BU04", "BU04", "BU05", "BU07"],
            "inwoners": [100.0, 180.0, 20.0, 50.0, 120.0, 30.0, 30.0, 60.0],
            "binnen_drempel": [True, True, False, True, False, True, False, True],
        },
        geometry=[Point(50, 50), Point(120, 50), Point(170, 50), Point(250, 50), Point(350, 50), Point(320, 50),
                  Point(450, 50), Point(50, 150)],
        crs=CRS,
    )
    old = old.assign(inwoners=[100, 200, 50, 150, 30, 60], inwoners_binnen_drempel=[100, 180, 50, 30, 0, 60])
    c = compare_buurten(old, new, old_residents=cells)
    b = c.buurten
    assert c.summary["weighting"] == "inwoners"
    assert b.loc["BU21", ["inwoners_oud", "inwoners_binnen_drempel_oud"]].tolist() == [180, 180]
    assert b.loc["BU22", ["inwoners_oud", "inwoners_binnen_drempel_oud"]].tolist() == [20, 0]
    assert b.loc["BU21", "herkomst"] == "BU02 Buurt BU02: 90 % van de inwoners"
    assert b["inwoners_oud"].dtype == "Int64"
    assert int(b["inwoners_verschil"].sum()) == 630 - 590
    links = c.links.set_index(["buurtcode_oud", "buurtcode_nieuw"])
    assert links.loc[("BU02", "BU22"), "aandeel_inwoners_van_oud"] == pytest.approx(0.1)


def test_kernen_add_up(years: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> None:
    old, new = years
    c = compare_buurten(old, new)
    k = c.kernen
    assert list(k.columns) == [*KERN_COLUMNS, "geometry"]
    assert list(k.index) == ["Dorp", "Gehucht", "Nieuwbouw"]
    assert k.loc["Dorp", "buurtcodes"] == "BU01,BU08,BU21,BU22,BU34"
    assert k.loc["Dorp", ["inwoners_oud", "inwoners_nieuw"]].tolist() == pytest.approx([560, 590])
    assert k.loc["Dorp", "inwoners_binnen_drempel_oud"] == pytest.approx(320)
    assert k.loc["Dorp", "aandeel_binnen_drempel_verschil_pp"] == pytest.approx(100 * (340 / 590 - 320 / 560))
    assert k.loc["Gehucht", ["inwoners_oud", "inwoners_nieuw", "n_buurten"]].tolist() == pytest.approx([30, 0, 0])
    assert k.loc["Dorp", ["hotspot_buurten_oud", "hotspot_buurten_nieuw"]].tolist() == [0, 1]
    assert k["inwoners_verschil"].sum() == pytest.approx(c.buurten["inwoners_verschil"].sum())


def test_without_kern_column_no_kernen(years: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> None:
    old, new = years
    c = compare_buurten(old.drop(columns="kern"), new.drop(columns="kern"))
    assert c.kernen.empty and c.buurten["kern"].isna().all()


def test_bad_input_is_refused(years: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> None:
    old, new = years
    with pytest.raises(ValueError, match="metric CRS"):
        match_buurten(old.to_crs(4326), new.to_crs(4326))
    with pytest.raises(ValueError, match="more than once"):
        match_buurten(pd.concat([old, old]), new)
    with pytest.raises(ValueError, match="min_share"):
        match_buurten(old, new, min_share=1.5)
    assert 0 < MIN_SHARE < 1


def test_meeting_points_opened_and_closed() -> None:
    def venues(rows: list[tuple[str, str, float, float, bool]]) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(
            {"osm_id": [r[0] for r in rows], "naam": [r[1] for r in rows], "categorie_label": "Buurthuis",
             "ontmoetingspunt": [r[4] for r in rows]},
            geometry=[Point(r[2], r[3]) for r in rows], crs=CRS,
        )

    old = venues([("node/1", "Buurthuis", 10, 10, True), ("eigen/a/2", "Hoeskamer", 50, 50, True),
                  ("node/3", "Café", 150, 50, True), ("node/9", "School", 160, 50, False)])
    new = venues([("node/1", "Buurthuis", 12, 10, True), ("eigen/b/7", "Hoeskamer", 60, 50, True),
                  ("node/4", "Dorpshuis", 650, 50, True)])
    out = compare_meeting_points(old, new, frame([buurt("BU06", 600, 700, 1, 0, 0.0, naam="Nieuwbouw")]))
    # node/1 by id, the Hoeskamer by place (10 m), the school is no meeting point
    assert out[["wijziging", "naam", "buurtcode"]].values.tolist() == [
        ["nieuw", "Dorpshuis", "BU06"], ["verdwenen", "Café", None],
    ]


def test_outputs_escape_and_neutralise_untrusted_names(
    years: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], tmp_path
) -> None:
    """Buurt names come from CBS: never HTML in the map or report, never a formula in Excel."""
    from wijkanalyse.outputs.compare import render_section, report_context, write_comparison
    from wijkanalyse.outputs.tables import neutralise

    old, new = years
    nasty = {"BU21": '=HYPERLINK("http://x","klik")', "BU22": "<script>alert(1)</script>", "BU34": "@SUM(A1)",
             "BU06": "-2+3", "BU08": "\tTab & <b>vet</b>"}
    new = new.assign(buurtnaam=[nasty.get(c, n) for c, n in zip(new["buurtcode"], new["buurtnaam"], strict=True)])
    c = compare_buurten(old, new)
    summary = {
        **c.summary, "gemeente_name": "Gemeente <i>X</i>", "gemeente_code": "GM0000", "year_old": 2023,
        "year_new": 2024, "threshold_m": 400.0, "distance_method": "network", "synthetic": False,
        "warnings": ["Let op: <b>niet</b> vet"],
    }
    files = write_comparison(c, summary, tmp_path)
    lines = files["csv"].read_text(encoding="utf-8-sig").splitlines()
    cells = {line.split(";")[0]: line.split(";")[1] for line in lines[1:]}
    assert cells["BU21"] == '"\'=HYPERLINK(""http://x"",""klik"")"'  # quoted by the CSV writer, then text
    assert cells["BU34"] == "'@SUM(A1)" and cells["BU06"] == "'-2+3"
    assert cells["BU08"].lstrip('"').startswith("'\t")
    assert neutralise("+31 6") == "'+31 6" and neutralise("Centrum") == "Centrum" and neutralise(-2.5) == -2.5
    for key in ("kaart", "rapport"):
        page = files[key].read_text(encoding="utf-8")
        # folium JSON-encodes the GeoJSON (& < > as \u0026 \u003c \u003e): undo that, then look
        decoded = page.replace("\\u0026", "&").replace("\\u003c", "<").replace("\\u003e", ">")
        assert "<script>alert(1)" not in decoded and "&lt;script&gt;alert(1)&lt;/script&gt;" in decoded, key
        assert "<b>vet</b>" not in decoded and "<i>X</i>" not in decoded, key
        assert "&lt;b&gt;vet&lt;/b&gt;" in decoded, key
    section = render_section(report_context(c, summary))
    assert section.startswith("<section") and "<html" not in section
    assert "Let op: &lt;b&gt;niet&lt;/b&gt; vet" in section


def test_a_template_like_name_is_not_run_by_jinja(years: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], tmp_path) -> None:
    """branca renders a plain Element as a Jinja template: a CBS name with {{ }} must stay text."""
    from wijkanalyse.outputs.compare import write_comparison

    old, new = years
    c = compare_buurten(old, new)
    summary = {
        **c.summary, "gemeente_name": "Gemeente {{ 7 * 7 }}", "gemeente_code": "GM0000", "year_old": 2023,
        "year_new": 2024, "threshold_m": 400.0, "distance_method": "network", "synthetic": False, "warnings": [],
    }
    page = write_comparison(c, summary, tmp_path)["kaart"].read_text(encoding="utf-8")
    assert "{{ 7 * 7 }}" in page and "Gemeente 49" not in page
