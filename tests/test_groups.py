"""Target groups ([doelgroepen]) and capacity: every number below is worked out by hand or read independently.

The rule (wijkanalyse.analysis.groups): a published band counts as published; a secret band
lies in [max(0, R - 2(m+1) - 4(k-1)), min(4, R + 2(m+1))] with R = T - sum(published bands),
m published and k secret bands; a cell with a secret total: [0, 4] for every band and the total.
"""

from __future__ import annotations

import json
import sqlite3
import tomllib

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from openpyxl import load_workbook
from shapely.geometry import box

from wijkanalyse import model
from wijkanalyse.analysis import groups
from wijkanalyse.analysis.capacity import capacity_load
from wijkanalyse.config import default_config_text, load_config, parse_config
from wijkanalyse.errors import ConfigError

from .conftest import shared_data
from .fake_services import FakeServices, grid_features

S = np.nan  # secret (-99997 once cleaned)
BANDS = ["inwoners_0_14", "inwoners_15_24", "inwoners_25_44", "inwoners_45_64", "inwoners_65plus"]


def _cells() -> pd.DataFrame:
    """Six hand-made cells: total, the five bands, buurt, within reach."""
    rows = [  # T, 0-14, 15-24, 25-44, 45-64, 65+, buurt, within
        ("A", 20, 5, S, 10, S, S, "BU00010001", True),   # R = 20-15 = 5, m=2, k=3: low 5-6-8 < 0 -> 0, high min(4, 11) = 4
        ("B", 30, 10, 5, S, S, S, "BU00010001", False),  # R = 15, m=2, k=3: low 15-6-8 = 1, high 4
        ("C", 40, 5, 5, 10, 10, 10, "BU00010001", True),  # all published
        ("D", S, S, S, S, S, S, "BU00010002", True),     # secret total: [0, 4] everywhere
        ("E", 10, S, S, S, S, 5, "BU00010002", False),   # R = 5, m=1, k=4: low < 0 -> 0, high min(4, 9) = 4
        ("F", 5, 5, S, S, S, S, "BU00010002", False),    # R = 0, m=1, k=4: low 0, high min(4, 4) = 4
    ]
    frame = pd.DataFrame(rows, columns=["cel", "inwoners", *BANDS, "buurtcode", "binnen_drempel"])
    return frame.astype({c: float for c in ["inwoners", *BANDS]})


BUURTEN = pd.DataFrame({
    "buurtcode": ["BU00010001", "BU00010002"], "buurtnaam": ["Noordbuurt", "Zuidbuurt"], "kern": ["Noord", "Zuid"],
})
GROUPS = {"alle inwoners": ("alle",), "65+": ("65+",), "jong": ("0-14", "15-24")}


def test_cell_bounds_by_hand() -> None:
    b = groups.cell_bounds(_cells())
    lo, hi = b["65+"]
    assert lo.tolist() == [0, 1, 10, 0, 5, 0]
    assert hi.tolist() == [4, 4, 10, 4, 5, 4]
    lo, hi = b["15-24"]  # A secret [0,4], B 5, C 5, D secret-total [0,4], E [0,4], F [0,4]
    assert lo.tolist() == [0, 5, 5, 0, 0, 0]
    assert hi.tolist() == [4, 5, 5, 4, 4, 4]
    lo, hi = b["alle"]
    assert lo.tolist() == [20, 30, 40, 0, 10, 5]
    assert hi.tolist() == [20, 30, 40, 4, 10, 5]


def test_ranges_per_buurt_kern_and_gemeente_by_hand() -> None:
    table = groups.group_table(_cells(), BUURTEN, GROUPS, ("GM0001", "Handgemeente"))
    row = table.set_index(["niveau", "code", "doelgroep"])
    g = row.loc[("gemeente", "GM0001", "65+")]
    # within: A [0,4] + C 10 + D [0,4] = [10, 18]; beyond: B [1,4] + E 5 + F [0,4] = [6, 13]
    assert (g["inwoners_min"], g["inwoners_max"]) == (16, 31)
    assert (g["binnen_drempel_min"], g["binnen_drempel_max"]) == (10, 18)
    assert (g["buiten_drempel_min"], g["buiten_drempel_max"]) == (6, 13)
    assert g["aandeel_binnen_min"] == pytest.approx(10 / (10 + 13))
    assert g["aandeel_binnen_max"] == pytest.approx(18 / (18 + 6))
    b = row.loc[("buurt", "BU00010002", "65+")]  # D [0,4] within; E 5 and F [0,4] beyond
    assert (b["binnen_drempel_min"], b["binnen_drempel_max"], b["buiten_drempel_min"], b["buiten_drempel_max"]) == (0, 4, 5, 9)
    assert (b["aandeel_binnen_min"], b["aandeel_binnen_max"]) == pytest.approx((0.0, 4 / 9))
    k = row.loc[("kern", "Noord", "65+")]  # A [0,4] + C 10 within, B [1,4] beyond
    assert (k["binnen_drempel_min"], k["binnen_drempel_max"], k["buiten_drempel_min"], k["buiten_drempel_max"]) == (10, 14, 1, 4)
    alle = row.loc[("gemeente", "GM0001", "alle inwoners")]  # 20+40+[0,4] within, 30+10+5 beyond
    assert (alle["binnen_drempel_min"], alle["binnen_drempel_max"], alle["buiten_drempel_min"]) == (60, 64, 45)
    jong = row.loc[("gemeente", "GM0001", "jong")]  # A 5+[0,4], B 15, C 10, D [0,8], E [0,8], F 5+[0,4]
    assert (jong["inwoners_min"], jong["inwoners_max"]) == (35, 59)
    summary = groups.summary_ranges(table)
    assert summary["65+"]["residents"] == [16, 31]
    assert summary["65+"]["share_within_threshold"] == [round(10 / 23, 4), 0.75]


def test_without_every_band_the_total_does_not_narrow() -> None:
    cells = _cells().drop(columns="inwoners_25_44")
    lo, hi = groups.cell_bounds(cells)["65+"]  # B would be [1, 4] with all five bands
    assert lo.tolist() == [0, 0, 10, 0, 5, 0] and hi.tolist() == [4, 4, 10, 4, 5, 4]


def test_share_range_without_residents_is_none() -> None:
    assert groups.share_range((0.0, 0.0), (0.0, 0.0)) == (None, None)
    assert groups.share_range((0.0, 4.0), (0.0, 0.0)) == (None, 1.0)  # everyone may be secret: 0..4 within


def test_weights_are_the_middle_of_the_range() -> None:
    w = groups.group_weights(_cells(), ("65+",))
    assert w.tolist() == [2, 2.5, 10, 2, 5, 2]


def _grid(columns: dict[str, list[int]]) -> gpd.GeoDataFrame:
    geoms = [box(100 * i, 0, 100 * i + 100, 100) for i in range(len(next(iter(columns.values()))))]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs="EPSG:28992")


@pytest.mark.parametrize("form", ["snake", "camel"])
def test_residents_frame_reads_both_name_forms(form: str) -> None:
    names = {"snake": ("aantal_inwoners", "aantal_inwoners_65_jaar_en_ouder", "aantal_inwoners_0_tot_15_jaar"),
             "camel": ("aantalInwoners", "aantalInwoners65JaarEnOuder", "aantalInwoners0Tot15Jaar")}[form]
    grid = _grid({names[0]: [20, -99997], names[1]: [5, -99997], names[2]: [-99997, -99997]})
    buurten = gpd.GeoDataFrame({"buurtcode": ["BU00010001"]}, geometry=[box(0, 0, 200, 100)], crs="EPSG:28992")
    res = model.residents_frame(grid, buurten)
    assert res["inwoners_65plus"].tolist()[0] == 5
    assert res[["inwoners_0_14", "inwoners_65plus"]].iloc[1].isna().all()  # secret, never 0
    assert "inwoners_45_64" not in res.columns  # a band the grid lacks is absent, not 0
    ok, missing = groups.available_groups(res, {"65+": ("65+",), "45-64": ("45-64",)})
    assert list(ok) == ["65+"] and missing == ["45-64"]


def test_capacity_by_hand() -> None:
    # point 0 reaches cells 0 and 1, point 1 cells 1 and 2, point 2 cell 2; cell 1 is shared by 2, cell 2 by 2
    cover = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=float))
    out = capacity_load(cover, np.array([10.0, 20.0, 30.0]), np.array([25.0, 30.0, np.nan]))
    assert out["inwoners_binnen_bereik"].tolist() == [30, 50, 30]  # 2SFCA step 1: every resident within reach
    assert out["belasting"].tolist() == [20, 25, 15]  # 10 + 20/2; 20/2 + 30/2; 30/2
    assert out["plaatsen_per_inwoner"].iloc[:2].tolist() == pytest.approx([25 / 30, 30 / 50])
    assert out["boven_capaciteit"].tolist()[:2] == [False, False]  # 20 <= 25; 25 <= 30
    out2 = capacity_load(cover, np.array([10.0, 20.0, 30.0]), np.array([15.0, 30.0, np.nan]))
    assert out2["boven_capaciteit"].tolist()[:2] == [True, False]  # 20 > 15; 25 <= 30
    assert out2["boven_capaciteit"].isna().tolist() == [False, False, True]  # unknown capacity: no verdict


def test_config_defaults_and_every_problem_at_once(tmp_path) -> None:
    config = load_config()
    assert config.doelgroepen.groups == {"alle inwoners": ("alle",), "65+": ("65+",), "0-14": ("0-14",)}
    assert config.siting.weight_group == "" and config.capacity.per_class == {}
    own = tmp_path / "c.toml"
    own.write_text('[doelgroepen]\n"ouderen" = "65+"\njong = ["0-14", "15-24"]\n[siting]\nweight_group = "ouderen"\n'
                   '[capacity]\nper_class = { buurthuis = 100 }\ngroup = "jong"\n', encoding="utf-8")
    mine = load_config(own)
    assert mine.doelgroepen.groups == {"ouderen": ("65+",), "jong": ("0-14", "15-24")}  # replaces the default table
    assert mine.siting.weight_group == "ouderen" and mine.capacity.per_class == {"buurthuis": 100.0}
    raw = tomllib.loads(default_config_text())
    raw["doelgroepen"] = {"65+": ["65+", "80+"], "a": ["alle", "65+"], "b": 3}
    raw["siting"]["weight_group"] = "0-14"
    raw["capacity"] = {"per_class": {"school": 3}, "group": "x"}
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    text = str(err.value)
    for part in ("'80+'", '"alle" bevat alle groepen al', "doelgroepen.b moet een lijst",
                 "siting.weight_group: '0-14' is geen groep in [doelgroepen]", "geen klasse van ontmoetingspunten",
                 "capacity.group: 'x'"):
        assert part in text


# ----------------------------------------------------------------------------- Ermelo 2020, read independently


def _rule_by_row(t: float | None, bands: list[float | None]) -> list[tuple[float, float]]:
    """The documented rule, one row at a time in plain Python (an independent implementation)."""
    if t is None:
        return [(0.0, 4.0)] * len(bands)
    published = [b for b in bands if b is not None]
    m, k = len(published), len(bands) - len(published)
    rest = t - sum(published)
    low = min(max(0.0, rest - 2 * (m + 1) - 4 * (k - 1)), 4.0)
    high = min(max(0.0, rest + 2 * (m + 1)), 4.0)
    return [(b, b) if b is not None else (min(low, high), high) for b in bands]


def test_ermelo_2020_65plus_from_the_raw_file() -> None:
    gpkg = shared_data("ermelo_cbs_vierkant100m_2020", "CBS_Statistiek.gpkg")
    columns = ["aantal_inwoners_0_tot_15_jaar", "aantal_inwoners_15_tot_25_jaar", "aantal_inwoners_25_tot_45_jaar",
               "aantal_inwoners_45_tot_65_jaar", "aantal_inwoners_65_jaar_en_ouder"]
    with sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True) as db:  # a GeoPackage is an SQLite database
        rows = db.execute(f"SELECT aantal_inwoners, {', '.join(columns)} FROM CBS_Statistiek "
                          "WHERE gemeentenaam = 'Ermelo'").fetchall()
    assert len(rows) == 925  # PROVENANCE.md
    old = [r[5] for r in rows]
    published = sum(v for v in old if v >= 0)
    secret = sum(1 for v in old if v == -99997)
    assert published == 5220 and secret == 518  # 518 of 925 cells (56 %) keep their 65+ secret
    expected = [0.0, 0.0]
    for r in rows:
        t = None if r[0] < 0 else float(r[0])
        low, high = _rule_by_row(t, [None if v < 0 else float(v) for v in r[1:]])[4]
        expected[0] += low
        expected[1] += high

    grid = gpd.read_file(gpkg)
    grid = grid[grid["gemeentenaam"] == "Ermelo"]
    buurten = grid.dissolve(by="buurtcode", as_index=False)[["buurtcode", "geometry"]]  # each cell in its own buurt
    buurten["buurtnaam"] = buurten["buurtcode"]
    res = model.residents_frame(grid, buurten, max_outside_m=0.0)
    assert len(res) == 925
    res["binnen_drempel"] = True
    table = groups.group_table(res, buurten, {"65+": ("65+",)}, ("GM0233", "Ermelo"))
    g = table[table["niveau"] == "gemeente"].iloc[0]
    assert (g["inwoners_min"], g["inwoners_max"]) == pytest.approx(tuple(expected))
    assert 5220 <= g["inwoners_min"] < 5220 + 50  # the few secret cells the total pins down add a little
    assert g["inwoners_max"] <= 5220 + 4 * 518
    assert table[table["niveau"] == "buurt"]["inwoners_min"].sum() == pytest.approx(g["inwoners_min"])


# ----------------------------------------------------------------------------- the demo, end to end


@pytest.fixture(scope="module")
def demo_run(demo_snapshot, tmp_path_factory):
    from wijkanalyse.pipeline import run

    cfg = tmp_path_factory.mktemp("cfg") / "groups.toml"
    cfg.write_text('[capacity]\nper_class = { buurthuis = 100 }\ngroup = "65+"\n[siting]\nweight_group = "65+"\n',
                   encoding="utf-8")
    return run(demo_snapshot, load_config(cfg), tmp_path_factory.mktemp("out"), pdf=False)


def test_demo_target_groups_in_every_output(demo_run, demo_snapshot) -> None:
    files = demo_run.files
    summary = json.loads(files["samenvatting"].read_text(encoding="utf-8"))
    tg = summary["target_groups"]
    assert set(tg) == {"alle inwoners", "65+", "0-14"}
    with sqlite3.connect(f"file:{demo_snapshot / 'vierkant100m.gpkg'}?mode=ro", uri=True) as db:
        (old,), = db.execute("SELECT SUM(aantal_inwoners_65_jaar_en_ouder) FROM vierkant100m "
                             "WHERE aantal_inwoners_65_jaar_en_ouder >= 0").fetchall()
        (n_secret,), = db.execute("SELECT COUNT(*) FROM vierkant100m WHERE aantal_inwoners_65_jaar_en_ouder < 0"
                                  ).fetchall()
    low, high = tg["65+"]["residents"]
    assert old <= low <= high <= old + 4 * n_secret and n_secret > 0  # the demo has secret cells: a real range
    assert low < high
    assert [low, high] == [2944, 3892] and old == 2900  # regression values (the README's worked example)
    w, b = tg["65+"]["within_threshold"], tg["65+"]["beyond_threshold"]
    assert w[0] + b[0] == pytest.approx(low) and w[1] + b[1] == pytest.approx(high)
    assert tg["alle inwoners"]["residents"][0] == summary["residents_total"]
    # the rule in Dutch, as every sentence a person reads: a secret band holds 1-4 residents (CBS hides counts
    # under 5) and published counts are rounded to 5, so at most 2 off
    rule = summary["target_groups_rule"]
    assert "0 tot 4 inwoners" in rule and "afgerond op 5" in rule and "tot 2 naast" in rule
    assert "secret" not in rule and "age band" not in rule
    book = load_workbook(files["xlsx"], read_only=True)
    assert {"Doelgroepen", "Capaciteit"} <= set(book.sheetnames)
    html = files["kaart"].read_text(encoding="utf-8")
    assert "Doelgroep 65+: aandeel binnen 400 m" in html
    report = files["rapport"].read_text(encoding="utf-8")
    assert "Doelgroepen: voor wie de 400 m-regel er is" in report and " tot " in report
    assert summary["siting_weight_group"] == "65+"


def test_demo_capacity_flags_match_the_loads(demo_run) -> None:
    venues = demo_run.result.venues
    summary = demo_run.result.summary
    known = venues[venues["capaciteit"].notna()]
    assert len(known) == int((venues["categorie"] == "buurthuis").sum()) == summary["capacity"]["meeting_points_with_capacity"]
    over = known[known["belasting"] > known["capaciteit"]]
    assert sorted(o["osm_id"] for o in summary["capacity"]["over_capacity"]) == sorted(over["osm_id"])
    assert len(over) >= 1  # with room for 100, the busiest buurthuizen are over
    # regression values (the README's worked example)
    assert sorted(over["naam"]) == ["Ontmoetingscentrum Zuidoost", "Wijkcentrum De Molen"]
    assert (known["belasting"] <= known["inwoners_binnen_bereik"] + 1e-9).all()  # sharing never adds residents


def test_live_fetch_keeps_the_camelcase_age_columns(tmp_path) -> None:
    """A PDOK 2023-2024 grid (camelCase) through ``wijkanalyse fetch`` and a run: the snapshot keeps the bands."""
    from click.testing import CliRunner

    from wijkanalyse import pipeline
    from wijkanalyse.cli import cli
    from wijkanalyse.sources.files import SnapshotReader

    features = grid_features(1, residents=300)
    features[0]["properties"] |= {"aantalInwoners65JaarEnOuder": 80, "aantalInwoners0Tot15Jaar": -99997,
                                  "aantalInwoners45Tot65Jaar": 120}
    with FakeServices(grid=features) as server:
        config = tmp_path / "services.toml"
        config.write_text(server.config_toml(), encoding="utf-8")
        result = CliRunner().invoke(cli, [
            "fetch", "--gemeente", "GM0999", "--year", "2024", "--snapshot", str(tmp_path / "snap"),
            "--config", str(config), "--cache-dir", str(tmp_path / "cache")])
        assert result.exit_code == 0, result.output
    grid = SnapshotReader(tmp_path / "snap").grid()
    assert grid["aantalInwoners65JaarEnOuder"].tolist() == [80]
    outputs = pipeline.run(tmp_path / "snap", load_config(config), tmp_path / "out", maps=False)
    tg = outputs.result.summary["target_groups"]
    # the one cell lies 710 m from the buurthuis (test_live): everyone beyond 400 m
    assert tg["65+"] == {"residents": [80, 80], "within_threshold": [0, 0], "beyond_threshold": [80, 80],
                         "share_within_threshold": [0.0, 0.0]}
    # 0-14 secret; two bands absent, so the total cannot narrow it: [0, 4]; no one within, so no upper share
    assert tg["0-14"]["residents"] == [0, 4] and tg["0-14"]["share_within_threshold"] == [0.0, None]


def test_own_points_capacity_column_survives_the_merge(tmp_path) -> None:
    from wijkanalyse.sources.own_points import read_own_points

    csv = tmp_path / "punten.csv"
    csv.write_text("naam;klasse;x;y;capaciteit\nBuurthuis De Brink;buurthuis;155000;463000;120\n"
                   "Kerkzaal;buurthuis;156000;463000;\nFout;buurthuis;157000;463000;-3\n", encoding="utf-8")
    own = read_own_points(csv, load_config().venues)
    assert own.points["capaciteit"].tolist()[:1] == [120.0] and np.isnan(own.points["capaciteit"].iloc[1])
    assert len(own.points) == 2 and "capaciteit -3 moet een getal > 0 zijn" in str(own.problems[0])
    osm = gpd.GeoDataFrame({"osm_id": ["node/1"], "naam": ["De Brink"], "categorie": ["buurthuis"],
                            "categorie_label": ["Buurthuis"], "ontmoetingspunt": [True]},
                           geometry=gpd.points_from_xy([155010], [463000]), crs="EPSG:28992")
    merged = model.merge_venues(osm, own.points)
    assert merged.loc[merged["osm_id"] == "node/1", "capaciteit"].tolist() == [120.0]  # the same place: kept
