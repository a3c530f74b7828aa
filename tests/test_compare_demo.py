"""Year over year on the two demo years: 2024 and 2025 (a changed buurt division and changed figures).

What changed in 2025 is set in wijkanalyse.demo (SPLIT_2025, MERGED_2025, RENUMBERED_2025,
NEW_VENUE_2025, GROWTH_2025, WORSENED_2025, IMPROVED_2025); most expected numbers below follow
from those and from the two snapshots' own files. The figures of the 2024 run itself (18,145
residents, buurt totals of 1,535 and 1,885, 500 of Westerveld's 820 residents within 400 m, the
three hot spots) are regression values, copied from a run, and marked so where they are used.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from geopandas.testing import assert_geodataframe_equal

from tests.conftest import documentation, dutch_keys
from wijkanalyse import pipeline
from wijkanalyse.analysis.coverage import straight_line_distance
from wijkanalyse.config import load_config
from wijkanalyse.demo import (
    DEMO_NEXT_YEAR,
    GROWTH_2025,
    IMPROVED_2025,
    MERGED_2025,
    NEW_VENUE_2025,
    RENUMBERED_2025,
    SPLIT_2025,
    WORSENED_2025,
    write_demo_snapshot,
)
from wijkanalyse.cli import cli
from wijkanalyse.snapshot import read_manifest

WESTERVELD = "BU99990701"


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("jaren")
    return write_demo_snapshot(root / "demo-2024"), write_demo_snapshot(root / "demo-2025", DEMO_NEXT_YEAR)


@pytest.fixture(scope="module")
def outputs(snapshots: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> pipeline.CompareOutputs:
    return pipeline.compare(*snapshots, load_config(), tmp_path_factory.mktemp("uit"))


def test_the_second_year_snapshot(snapshots: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = snapshots
    manifest = read_manifest(new)  # also checks that year, CBS table and files agree
    assert (manifest.year, manifest.sources["cbs"]["table"], manifest.created[:4]) == (2025, "86165NED", "2025")
    codes_old = set(gpd.read_file(old / "buurten.gpkg")["buurtcode"])
    codes_new = set(gpd.read_file(new / "buurten.gpkg")["buurtcode"])
    assert codes_old - codes_new == {"BU99990203", "BU99990501", "BU99990502", "BU99990601"}
    assert codes_new - codes_old == {"BU99990204", "BU99990205", "BU99990503", "BU99990602"}
    again = write_demo_snapshot(tmp_path / "again", DEMO_NEXT_YEAR)  # deterministic
    for name in ("osm.xml", "cbs_kerncijfers.json", "cbs_wijkenenbuurten.json", "manifest.json"):
        assert (new / name).read_bytes() == (again / name).read_bytes(), name
    for name in ("buurten.gpkg", "vierkant100m.gpkg"):
        assert_geodataframe_equal(gpd.read_file(new / name), gpd.read_file(again / name))


def test_matches_are_exactly_the_changed_division(outputs: pipeline.CompareOutputs) -> None:
    b = outputs.comparison.buurten
    kinds = b.groupby("match")["buurtcode"].apply(sorted).to_dict()
    (split_from, split_into), = SPLIT_2025.items()
    (merged_from, merged_into), = MERGED_2025.items()
    (renumbered_from, renumbered_into), = RENUMBERED_2025.items()
    assert kinds.pop("split") == sorted(split_into)
    assert kinds.pop("merged") == [merged_into]
    assert kinds.pop("overlap") == [renumbered_into]
    unchanged = set(outputs.old.buurten.index) - {split_from, *merged_from, renumbered_from}
    assert kinds.pop("code") == sorted(unchanged)
    assert kinds == {}  # nothing new, gone or redrawn
    assert len(unchanged) == 17
    assert b.loc[merged_into, "oude_buurtcodes"] == ",".join(merged_from)
    assert set(b.loc[list(split_into), "oude_buurtcodes"]) == {split_from}
    assert b.loc[renumbered_into, "oude_buurtcodes"] == renumbered_from
    assert outputs.summary["matching"] == {
        "code": 17, "overlap": 1, "split": 2, "merged": 1, "redrawn": 0, "new": 0, "gone": 0,
    }


def test_old_figures_on_the_new_division(outputs: pipeline.CompareOutputs) -> None:
    """Residents of a split buurt add up to the old buurt; of a merged one to the old two; unchanged ones equal."""
    old, b = outputs.old.buurten, outputs.comparison.buurten
    (split_from, split_into), = SPLIT_2025.items()
    (merged_from, merged_into), = MERGED_2025.items()
    # 1,535 and 1,885: regression values, copied from a run of the demo; the sums are the test
    assert b.loc[list(split_into), "inwoners_oud"].sum() == old.loc[split_from, "inwoners"] == 1535
    assert b.loc[list(split_into), "inwoners_binnen_drempel_oud"].sum() == old.loc[split_from, "inwoners_binnen_drempel"]
    assert b.loc[merged_into, "inwoners_oud"] == old.loc[list(merged_from), "inwoners"].sum() == 1885
    same = b[b["match"] == "code"].index
    assert (b.loc[same, "inwoners_oud"] == old.loc[same, "inwoners"]).all()
    assert np.allclose(b.loc[same, "signaal_oud"], old.loc[same, "signaal"])


def test_total_change_is_new_total_minus_old_total(outputs: pipeline.CompareOutputs, snapshots: tuple[Path, Path]) -> None:
    s, b = outputs.summary, outputs.comparison.buurten
    assert s["residents_old"] == outputs.old.summary["residents_total"] == 18145  # regression value, copied from a run
    assert s["residents_new"] == outputs.new.summary["residents_total"]
    assert int(b["inwoners_verschil"].sum()) == s["residents_change"] == s["residents_new"] - s["residents_old"]
    # the growth is GROWTH_2025: 10 more residents in each unsuppressed cell of Molenwijk-Noord
    grids = [gpd.read_file(snap / "vierkant100m.gpkg") for snap in snapshots]
    counted = [g.loc[g["aantal_inwoners"] > 0, "aantal_inwoners"].sum() for g in grids]
    code, extra = GROWTH_2025
    assert s["residents_change"] == counted[1] - counted[0] == 250 == b.loc[code, "inwoners_verschil"]
    assert (b.drop(index=code)["inwoners_verschil"] == 0).all()
    assert 250 % extra == 0
    assert int(b["inwoners_binnen_drempel_verschil"].sum()) == s["residents_within_threshold_change"]


def test_westerveld_gets_its_first_meeting_point(outputs: pipeline.CompareOutputs) -> None:
    row = outputs.comparison.buurten.loc[WESTERVELD]
    assert row["match"] == "code"
    assert row["inwoners_binnen_drempel_oud"] == 0 and row["aandeel_binnen_drempel_oud"] == 0.0
    new = outputs.new.buurten.loc[WESTERVELD]
    # 500 of 820: regression values, copied from a run of the 2025 demo (bounded below by the crow-flies check)
    assert row["aandeel_binnen_drempel_nieuw"] == new["aandeel_binnen_drempel"] == 500 / 820
    assert row["aandeel_binnen_drempel_verschil_pp"] == pytest.approx(100 * 500 / 820)
    # walking is never shorter than the crow flies: at most the residents within 400 m straight line
    residents = outputs.new.residents[outputs.new.residents["buurtcode"] == WESTERVELD]
    venue = outputs.new.venues[outputs.new.venues["naam"] == NEW_VENUE_2025[0]["name"]]
    crow = straight_line_distance(residents.geometry, venue.geometry)
    assert 0 < row["inwoners_binnen_drempel_nieuw"] <= residents["inwoners"].fillna(0)[crow <= 400].sum()
    points = outputs.summary["meeting_points_opened"]
    assert points == [{"name": "Dorpshuis Westerveld", "category": "Buurthuis / wijkcentrum", "buurtcode": WESTERVELD,
                       "buurtnaam": "Westerveld"}]
    assert outputs.summary["meeting_points_closed"] == []
    assert outputs.summary["n_meeting_points_new"] == outputs.summary["n_meeting_points_old"] + 1
    kern = outputs.comparison.kernen.loc["Westerveld"]
    assert kern["aandeel_binnen_drempel_verschil_pp"] == pytest.approx(100 * 500 / 820)


def test_hot_spots_added_and_removed(outputs: pipeline.CompareOutputs) -> None:
    s, b = outputs.summary, outputs.comparison.buurten
    old_hot, new_hot = outputs.old.summary["hotspot_buurten"], outputs.new.summary["hotspot_buurten"]
    # the three hot spots of 2024: regression values, copied from a run of the demo
    assert s["hotspots_old"] == old_hot == ["BU99990401", "BU99990402", "BU99990403"]
    assert s["hotspots_new"] == new_hot
    (worsened, _like), = WORSENED_2025.items()
    assert s["hotspots_added"] == [worsened] == sorted(set(new_hot) - set(old_hot))
    assert s["hotspots_removed"] == sorted(set(old_hot) - set(new_hot))
    assert IMPROVED_2025 in s["hotspots_removed"]
    assert b.loc[IMPROVED_2025, "signaal_verschil"] < -1.0  # the improved buurt's signal fell
    assert b.loc[worsened, "hotspot_wijziging"] == "new"
    assert b.loc[IMPROVED_2025, "hotspot_wijziging"] == "gone"
    assert outputs.comparison.kernen.loc["Zuidoost", "hotspot_buurten_oud"] == 3


def test_files(outputs: pipeline.CompareOutputs) -> None:
    folder = outputs.folder
    assert folder.name == "vergelijking-2024-2025" and folder.parent.name == "voorbeeldgemeente"
    assert {p.name for p in folder.iterdir()} == {
        "vergelijking.csv", "vergelijking_kernen.csv", "vergelijking.gpkg", "vergelijking.json", "kaart.html",
        "vergelijking.html",
    }
    raw = (folder / "vergelijking.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    table = pd.read_csv(folder / "vergelijking.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert len(table) == 21 and table.loc[table["buurtcode"] == WESTERVELD, "aandeel_binnen_drempel_nieuw"].iloc[0] == 0.61
    layers = {name for name, _ in pyogrio.list_layers(folder / "vergelijking.gpkg")}
    assert layers == {"buurten", "kernen", "koppelingen", "ontmoetingspunten"}
    gpkg = gpd.read_file(folder / "vergelijking.gpkg", layer="buurten")
    assert gpkg.crs.to_epsg() == 28992 and "aandeel_binnen_drempel_verschil_pp" in gpkg.columns
    summary = json.loads((folder / "vergelijking.json").read_text(encoding="utf-8"))
    assert (summary["year_old"], summary["year_new"], summary["synthetic"]) == (2024, 2025, True)
    assert summary["residents_change"] == 250 and summary["warnings"] == []
    assert dutch_keys(summary) == []  # one key language (English) in vergelijking.json, at every depth
    assert summary["meeting_points_opened"] and summary["largest_share_rises"]  # the nested lists are checked too
    page = (folder / "kaart.html").read_text(encoding="utf-8")
    assert "Verandering aandeel binnen 400 m" in page and "Gewijzigde buurtindeling" in page
    assert "SYNTHETISCHE DEMO-GEMEENTE" in page and "Dorpshuis Westerveld" in page
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page and "L.map(" in page
    report = (folder / "vergelijking.html").read_text(encoding="utf-8")
    assert '<html lang="nl">' in report and "<script" not in report and "http" not in report  # self-contained
    assert "Molenwijk (BU99990203) is gesplitst" in report
    assert "Oosterdorp-Kern (BU99990501) en Oosterdorp-Zuid (BU99990502) zijn samengevoegd" in report
    assert "Nieuwe ontmoetingspunten: Dorpshuis Westerveld (Buurthuis / wijkcentrum) in Westerveld." in report


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_cli_compare(snapshots: tuple[Path, Path], tmp_path: Path) -> None:
    result = invoke("compare", *map(str, snapshots), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Voorbeeldgemeente (GM9999), 2024 → 2025  [SYNTHETISCHE DEMO-GEMEENTE")
    assert "inwoners:                18.145 → 18.395 (+250)" in out  # 18,145: regression value; + GROWTH_2025
    assert "buurtindeling:           17 ongewijzigd, 1 nieuwe code, 2 uit een splitsing, 1 uit een samenvoeging" in out
    assert "nieuwe hotspots:         Molenwijk-Zuid (BU99990205)" in out
    assert "meest verbeterd:         Westerveld (BU99990701), +61,0 procentpunt" in out
    assert "[5/8]" in result.stderr and "[5/8]" not in out


def test_cli_reversed_and_equal_years(snapshots: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = snapshots
    result = invoke("compare", str(new), str(old), "--out", str(tmp_path), "-q")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "De snapshots zijn in omgekeerde volgorde gegeven (2025 voor 2024); vergeleken wordt 2024 met 2025.\n"
    )
    assert (tmp_path / "voorbeeldgemeente" / "vergelijking-2024-2025" / "vergelijking.json").is_file()
    result = invoke("compare", str(old), str(old), "--out", str(tmp_path), "-q")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Beide snapshots zijn van 2024")
    summary = json.loads(
        (tmp_path / "voorbeeldgemeente" / "vergelijking-2024-2024" / "vergelijking.json").read_text(encoding="utf-8")
    )
    assert summary["matching"]["code"] == 21 and summary["residents_change"] == 0
    assert summary["hotspots_added"] == summary["hotspots_removed"] == []
    assert summary["warnings"][0].startswith("Beide snapshots zijn van 2024")


def test_cli_refuses_two_gemeenten(snapshots: tuple[Path, Path], tmp_path: Path) -> None:
    other = tmp_path / "ander"
    shutil.copytree(snapshots[1], other)
    manifest = json.loads((other / "manifest.json").read_text(encoding="utf-8"))
    manifest["gemeente"] = {"code": "GM0233", "name": "Ermelo"}
    (other / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = invoke("compare", str(snapshots[0]), str(other), "--out", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == (
        "Fout: De snapshots zijn van verschillende gemeenten: Voorbeeldgemeente (GM9999) en Ermelo (GM0233). "
        "Vergelijk twee jaren van één gemeente.\n"
    )
    assert not (tmp_path / "voorbeeldgemeente").exists()


def test_cli_missing_snapshot_and_bad_demo_year(snapshots: tuple[Path, Path], tmp_path: Path) -> None:
    result = invoke("compare", str(snapshots[0]), str(tmp_path / "nergens"))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("Fout: Snapshotmap") and "Traceback" not in result.output
    result = invoke("demo", str(tmp_path / "d"), "--year", "2027")
    assert result.exit_code == 2
    assert "De demogemeente bestaat voor 2024, 2025, 2026; --year 2027 hoort daar niet bij." in result.stderr
    result = invoke("demo", str(tmp_path / "d"), "--year", "2025")
    assert result.exit_code == 0 and result.stdout == f"Demo snapshot 2025 (synthetisch) geschreven naar {tmp_path / 'd'}\n"


def test_every_output_column_and_key_is_documented(outputs: pipeline.CompareOutputs) -> None:
    readme = documentation()  # the README and docs/
    section = readme.split("## Jaar op jaar (compare)", 1)[1].split("\n## ", 1)[0]
    keys = [*outputs.summary, *outputs.comparison.buurten.columns.drop("geometry"),
            *outputs.comparison.kernen.columns.drop("geometry")]
    assert [k for k in keys if f"`{k}`" not in section] == []
