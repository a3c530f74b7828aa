"""The whole pipeline on the synthetic demo gemeente, checked against independent recomputation."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from wijkanalyse import pipeline
from wijkanalyse.config import load_config
from wijkanalyse.demo import CLUSTER_BUURTCODES
from wijkanalyse.errors import DataError, WijkanalyseError
from wijkanalyse.result import Hotspot


@pytest.fixture(scope="module")
def demo_run(demo_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> pipeline.RunOutputs:
    return pipeline.run(demo_snapshot, load_config(), tmp_path_factory.mktemp("out"))


def test_every_file_is_written(demo_run: pipeline.RunOutputs) -> None:
    assert demo_run.folder.name == "voorbeeldgemeente"
    names = sorted(p.name for p in demo_run.folder.iterdir() if p.name != pipeline.INDEX_FILE)
    assert names == ["buurten.csv", "buurten.gpkg", "buurten.xlsx", "kaart.html", "kaart_bereik.pdf",
                     "kaart_bereik.png", "kaart_makelaars.pdf", "kaart_makelaars.png", "kaart_signaal.pdf",
                     "kaart_signaal.png", "kernen.csv", "makelaarsgebieden.csv", "rapport.html", "samenvatting.json",
                     "voorstellen.csv"]
    index = json.loads((demo_run.folder / pipeline.INDEX_FILE).read_text(encoding="utf-8"))
    assert index["files"] == names  # written last: what the next run may replace
    layers = {name for name, _ in pyogrio.list_layers(demo_run.files["geopackage"])}
    assert layers == {"buurten", "inwoners", "voorzieningen", "gaten", "kernen", "voorstellen", "makelaarsgebieden"}


def test_summary_share_equals_recomputation_from_geopackage(demo_run: pipeline.RunOutputs) -> None:
    summary = json.loads(demo_run.files["samenvatting"].read_text(encoding="utf-8"))
    buurten = gpd.read_file(demo_run.files["geopackage"], layer="buurten")
    share = buurten["inwoners_binnen_drempel"].sum() / buurten["inwoners"].sum()
    assert summary["share_within_threshold"] == pytest.approx(share, abs=1e-12)
    # and from the resident cells themselves
    cells = gpd.read_file(demo_run.files["geopackage"], layer="inwoners")
    within = cells.loc[cells["afstand_m"] <= 400, "inwoners"].sum()
    assert summary["residents_within_threshold"] == pytest.approx(within)
    assert summary["residents_total"] == pytest.approx(cells["inwoners"].sum())
    assert 0.5 < summary["share_within_threshold"] < 0.95


def test_summary_has_the_key_figures(demo_run: pipeline.RunOutputs) -> None:
    s = json.loads(demo_run.files["samenvatting"].read_text(encoding="utf-8"))
    assert s["gemeente_code"] == "GM9999" and s["gemeente_name"] == "Voorbeeldgemeente"
    assert s["year"] == 2024 and s["threshold_m"] == 400 and s["distance_method"] == "network"
    assert s["synthetic"] is True
    assert s["n_buurten"] == 21
    assert s["n_meeting_points"] >= 10
    assert s["residents_beyond_threshold"] == pytest.approx(s["residents_total"] - s["residents_within_threshold"])


def test_villages_without_a_meeting_point_are_out_of_reach(demo_run: pipeline.RunOutputs) -> None:
    buurten = demo_run.result.buurten.set_index("buurtnaam")
    assert buurten.loc["Westerveld", "aandeel_binnen_drempel"] == 0
    assert buurten.loc["Noorderhoek", "aandeel_binnen_drempel"] == 0  # a school and a sports hall do not count
    assert buurten.loc["Oosterdorp-Kern", "aandeel_binnen_drempel"] > 0.5
    gaps = demo_run.result.gaps
    village_gaps = gaps[gaps["buurtcodes"].str.contains("BU99990701")]
    assert village_gaps["inwoners"].sum() == buurten.loc["Westerveld", "inwoners"]


def test_walking_is_never_shorter_than_the_straight_line(demo_run: pipeline.RunOutputs, demo_snapshot: Path) -> None:
    from wijkanalyse.analysis.coverage import straight_line_distance

    residents = demo_run.result.residents
    venues = demo_run.result.venues
    straight = straight_line_distance(residents.geometry, venues[venues["ontmoetingspunt"]].geometry)
    walked = residents["afstand_m"].to_numpy()
    assert (walked >= straight - 1e-6).all()
    # in a street grid the detour is real but bounded: median ratio between 1 and 1.6
    finite = np.isfinite(walked) & (straight > 50)
    ratio = np.median(walked[finite] / straight[finite])
    assert 1.0 < ratio < 1.6


def test_the_signal_cluster_is_found(demo_run: pipeline.RunOutputs) -> None:
    buurten = demo_run.result.buurten
    hot = set(buurten.loc[buurten["hotspot"] == Hotspot.HOT, "buurtcode"])
    assert hot == set(CLUSTER_BUURTCODES)
    assert demo_run.result.summary["hotspot_buurten"] == sorted(CLUSTER_BUURTCODES)
    top = buurten.sort_values("signaal", ascending=False)["buurtcode"].head(len(CLUSTER_BUURTCODES))
    assert set(top) == set(CLUSTER_BUURTCODES)


def test_privacy_markers_are_missing_not_numbers(demo_run: pipeline.RunOutputs) -> None:
    buurten = demo_run.result.buurten
    assert buurten["wmo"].isna().sum() >= 1  # '.' and null in the CBS table
    assert (buurten[["bijstand", "wmo", "inkomen"]].dropna() >= 0).all().all()
    assert demo_run.result.summary["cells_suppressed"] > 0


def test_csv_is_for_dutch_excel(demo_run: pipeline.RunOutputs) -> None:
    raw = demo_run.files["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(demo_run.files["csv"], sep=";", decimal=",", encoding="utf-8-sig")
    assert len(table) == 21
    assert table["inwoners"].sum() == demo_run.result.summary["residents_total"]


def test_same_input_same_figures(demo_snapshot: Path, tmp_path: Path, demo_run: pipeline.RunOutputs) -> None:
    again = pipeline.run(demo_snapshot, load_config(), tmp_path)
    cols = ["inwoners_binnen_drempel", "signaal", "hotspot", "hotspot_p"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(again.result.buurten[cols]), pd.DataFrame(demo_run.result.buurten[cols])
    )


def test_straight_line_method(demo_snapshot: Path, tmp_path: Path, demo_run: pipeline.RunOutputs) -> None:
    config_path = tmp_path / "c.toml"
    config_path.write_text('[thresholds]\ndistance_method = "straight_line"\n', encoding="utf-8")
    straight = pipeline.run(demo_snapshot, load_config(config_path), tmp_path / "out")
    assert straight.result.summary["distance_method"] == "straight_line"
    # as the crow flies reaches at least as many residents as walking
    assert straight.result.summary["residents_within_threshold"] >= demo_run.result.summary["residents_within_threshold"]


def test_no_meeting_point_classes_found_says_so(demo_snapshot: Path, tmp_path: Path) -> None:
    config_path = tmp_path / "c.toml"
    config_path.write_text('[venues.hoeskamer]\nlabel = "Hoeskamer"\nmeeting_point = true\nname = ["Hoeskamer"]\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"Geen ontmoetingspunten .* hoeskamer"):
        pipeline.run(demo_snapshot, load_config(config_path), tmp_path)


def test_missing_indicator_column_says_which(demo_snapshot: Path, tmp_path: Path) -> None:
    config_path = tmp_path / "c.toml"
    config_path.write_text('[indicators.armoede]\ncbs = "PersonenInArmoed"\n', encoding="utf-8")
    with pytest.raises(DataError, match="'PersonenInArmoed' staat niet in CBS-tabel 85984NED"):
        pipeline.run(demo_snapshot, load_config(config_path), tmp_path)


def test_unwritable_output_folder(demo_snapshot: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "bestand"
    blocker.write_text("not a folder")
    with pytest.raises(WijkanalyseError, match="Kan niet schrijven in de uitvoermap"):
        pipeline.run(demo_snapshot, load_config(), blocker)


def test_slug() -> None:
    assert pipeline.slug("'s-Hertogenbosch") == "s-hertogenbosch"
    assert pipeline.slug("Súdwest-Fryslân") == "sudwest-fryslan"
