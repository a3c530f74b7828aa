"""The yearly improvement cycle (wijkanalyse trend) on the three demo years 2024, 2025 and 2026.

What changed is set in wijkanalyse.demo: 2025 redraws the buurten and opens a Dorpshuis in
Westerveld (see tests/test_compare_demo.py); 2026 keeps 2025's division and residents, closes
Wijkcentrum De Molen (CLOSED_2026) and opens a dorpshuis in Noorderhoek (NEW_VENUE_2026). The
expected numbers are derived: a kern's share is recomputed from its buurt rows, the gemeente's
from each year's own run, the verdict from a line fitted by hand (for three consecutive years the
least-squares slope is (s3 - s1) / 2 and the line passes through the mean share in the middle
year), the direction of every 2026 change from what closed and what opened.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from tests.conftest import dutch_keys, documentation
from wijkanalyse import pipeline
from wijkanalyse.analysis.trend import fit_line, verdict
from wijkanalyse.cli import cli
from wijkanalyse.config import load_config
from wijkanalyse.demo import (
    CLOSED_2026,
    DEMO_NEXT_YEAR,
    DEMO_THIRD_YEAR,
    NEW_VENUE_2026,
    SPLIT_2025,
    write_demo_snapshot,
)
from wijkanalyse.outputs.trend import report_context, write_report, write_xlsx
from wijkanalyse.snapshot import read_manifest

NOORDERHOEK = "BU99990602"  # its 2025/2026 code (RENUMBERED_2025)
TARGET = 0.8
KERN_TARGET = ("Voorbeeldstad-Oost", 0.95)


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("drie-jaren")
    return [
        write_demo_snapshot(root / "demo-2024"),
        write_demo_snapshot(root / "demo-2025", DEMO_NEXT_YEAR),
        write_demo_snapshot(root / "demo-2026", DEMO_THIRD_YEAR),
    ]


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "doelen.toml"
    path.write_text(f'[doelen]\n"{KERN_TARGET[0]}" = {KERN_TARGET[1]}\n', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def outputs(snapshots: list[Path], config_file: Path, tmp_path_factory: pytest.TempPathFactory) -> pipeline.TrendOutputs:
    # given newest first: the order must not matter
    return pipeline.trend(snapshots[::-1], load_config(config_file), tmp_path_factory.mktemp("uit"), target=TARGET)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_the_third_demo_year(snapshots: list[Path], tmp_path: Path) -> None:
    manifest = read_manifest(snapshots[2])  # also checks that year, CBS table and files agree
    assert manifest.year == 2026 and manifest.created.startswith("2026")
    b25, b26 = (gpd.read_file(s / "buurten.gpkg") for s in snapshots[1:])
    assert list(b25["buurtcode"]) == list(b26["buurtcode"])  # 2025's division
    g25, g26 = (gpd.read_file(s / "vierkant100m.gpkg") for s in snapshots[1:])
    assert (g25["aantal_inwoners"].to_numpy() == g26["aantal_inwoners"].to_numpy()).all()  # the same residents
    osm25, osm26 = ((s / "osm.xml").read_text(encoding="utf-8") for s in snapshots[1:])
    assert CLOSED_2026 in osm25 and CLOSED_2026 not in osm26
    assert NEW_VENUE_2026[0]["name"] not in osm25 and NEW_VENUE_2026[0]["name"] in osm26
    again = write_demo_snapshot(tmp_path / "again", DEMO_THIRD_YEAR)  # deterministic
    for name in ("osm.xml", "cbs_kerncijfers.json", "manifest.json"):
        assert (snapshots[2] / name).read_bytes() == (again / name).read_bytes(), name


def test_every_year_on_the_newest_division(outputs: pipeline.TrendOutputs) -> None:
    t = outputs.trend
    old, new = outputs.runs[0].buurten, outputs.runs[-1].buurten
    assert t.years == [2024, 2025, 2026]
    assert set(t.buurten["buurtcode"]) == set(new.index) and len(t.buurten) == 3 * len(new)
    b24 = t.buurten[t.buurten["jaar"] == 2024].set_index("buurtcode")
    (split_from, split_into), = SPLIT_2025.items()
    # the split buurt's 2024 residents add up to the old buurt (the demo's buurten tile the gemeente)
    assert b24.loc[list(split_into), "inwoners"].sum() == old.loc[split_from, "inwoners"]
    assert b24["inwoners"].sum() == old["inwoners"].sum()
    # the newest year is the newest run itself
    b26 = t.buurten[t.buurten["jaar"] == 2026].set_index("buurtcode")
    assert (b26["inwoners_binnen_drempel"] == new["inwoners_binnen_drempel"].reindex(b26.index)).all()
    assert (b26["hotspot"] == new["hotspot"].astype(str).reindex(b26.index)).all()


def test_kern_and_gemeente_figures_by_hand(outputs: pipeline.TrendOutputs) -> None:
    t = outputs.trend
    for (kern, year), part in t.buurten.groupby(["kern", "jaar"]):
        row = t.kernen[(t.kernen["kern"] == kern) & (t.kernen["jaar"] == year)].iloc[0]
        people, within = part["inwoners"].sum(), part["inwoners_binnen_drempel"].sum()
        assert row["inwoners"] == people and row["inwoners_binnen_drempel"] == within
        assert row["inwoners_buiten_drempel"] == people - within
        assert row["aandeel_binnen_drempel"] == pytest.approx(within / people) if people else np.isnan(
            row["aandeel_binnen_drempel"])
        assert row["hotspot_buurten"] == (part["hotspot"] == "hot").sum()
    # the gemeente per year: each year's own run
    for run, (_, row) in zip(outputs.runs, t.gemeente.iterrows(), strict=True):
        assert row["jaar"] == run.year
        assert row["inwoners"] == run.summary["residents_total"]
        assert row["inwoners_binnen_drempel"] == run.summary["residents_within_threshold"]
        assert row["inwoners_buiten_drempel"] == run.summary["residents_beyond_threshold"]
        assert row["aandeel_binnen_drempel"] == pytest.approx(run.summary["share_within_threshold"])
        assert row["inwoners_buiten_indeling"] == 0
        assert row["hotspot_buurten"] == len(run.summary["hotspot_buurten"])


def test_what_closed_and_what_opened_in_2026(outputs: pipeline.TrendOutputs) -> None:
    b = outputs.trend.buurten.pivot(index="buurtcode", columns="jaar", values="aandeel_binnen_drempel")
    change = (b[2026] - b[2025]).drop(index=NOORDERHOEK)
    assert b.loc[NOORDERHOEK, 2024] == b.loc[NOORDERHOEK, 2025] == 0  # no meeting point until 2026
    assert b.loc[NOORDERHOEK, 2026] > 0
    assert (change.fillna(0) <= 0).all()  # a closure only takes reach away
    assert (change < 0).sum() >= 1
    people = outputs.trend.buurten.pivot(index="buurtcode", columns="jaar", values="inwoners")
    assert (people[2026] == people[2025]).all()  # the same residents


def _hand_verdict(shares: list[float], target: float, target_year: int) -> tuple[str, float, float]:
    """Status, slope (pp/year) and the line in the target year, for three consecutive years 2024-2026."""
    s1, s2, s3 = shares
    slope = (s3 - s1) / 2
    at_target = (s1 + s2 + s3) / 3 + slope * (target_year - 2025)
    status = "reached" if s3 >= target else "on_track" if at_target >= target else "off_track"
    return status, 100 * slope, at_target


def test_on_track_from_a_hand_fitted_line(outputs: pipeline.TrendOutputs) -> None:
    t = outputs.trend
    assert outputs.summary["target_year"] == 2028  # default: newest + 2
    v = t.verdicts.set_index(["niveau", "code"])
    seen = set()
    for kern, part in t.kernen.groupby("kern"):
        goal = KERN_TARGET[1] if kern == KERN_TARGET[0] else TARGET
        status, slope, at_target = _hand_verdict(list(part["aandeel_binnen_drempel"]), goal, 2028)
        row = v.loc[("kern", kern)]
        assert row["doel"] == goal
        assert (row["status"], row["helling_pp_per_jaar"]) == (status, pytest.approx(slope))
        assert row["aandeel_doeljaar"] == pytest.approx(at_target)
        seen.add(status)
    assert seen == {"reached", "on_track", "off_track"}  # the demo shows all three
    g = list(t.gemeente["aandeel_binnen_drempel"])
    assert v.loc[("gemeente", ""), "status"] == _hand_verdict(g, TARGET, 2028)[0]
    # a buurt has its kern's target
    buurt = v.xs("buurt", level="niveau")
    assert (buurt.loc[buurt["kern"] == KERN_TARGET[0], "doel"] == KERN_TARGET[1]).all()
    assert (buurt.loc[buurt["kern"] != KERN_TARGET[0], "doel"] == TARGET).all()


def test_the_verdict_rules() -> None:
    years = [2021, 2024, 2025]
    a, b = fit_line(years, [0.5, 0.6, 0.7])
    assert (a, b) == pytest.approx(tuple(np.polyfit(years, [0.5, 0.6, 0.7], 1)[::-1]))
    assert verdict(years, [0.5, 0.6, 0.9], 0.9, 2027)["status"] == "reached"
    # the line: slope 0.4 / 8.667 = 0.0462 a year through (2023.33, 0.6): 0.8 in 2027.7
    assert b == pytest.approx(0.4 / (26 / 3))
    on = verdict(years, [0.5, 0.6, 0.7], 0.8, 2028)
    assert on["status"] == "on_track" and on["jaar_doel_op_lijn"] == pytest.approx(2023 + 1 / 3 + 0.2 / b)
    assert verdict(years, [0.5, 0.6, 0.7], 0.8, 2027)["status"] == "off_track"
    assert verdict(years, [0.7, 0.6, 0.5], 0.8, 2030)["jaar_doel_op_lijn"] is None
    assert verdict(years, [0.5, 0.6, np.nan], 0.8, 2027)["status"] == "unknown"
    assert verdict(years, [0.5, 0.6, 0.7], None, 2027)["status"] is None


def test_files(outputs: pipeline.TrendOutputs) -> None:
    assert outputs.folder.name == "trend-2024-2026"
    assert sorted(p.name for p in outputs.files.values()) == ["trend.html", "trend.json", "trend.xlsx"]
    data = json.loads(outputs.files["json"].read_text(encoding="utf-8"))
    assert data["years"] == [2024, 2025, 2026] and data["target"] == TARGET and data["target_year"] == 2028
    assert data["kern_targets"] == {KERN_TARGET[0]: KERN_TARGET[1]}
    assert data["matching"]["2024"]["kinds"]["split"] == 2 and data["matching"]["2025"]["kinds"]["code"] == 21
    t = outputs.trend
    assert [y["residents"] for y in data["gemeente"]["per_year"]] == list(t.gemeente["inwoners"])
    assert data["gemeente"]["status"] == t.verdicts.iloc[0]["status"]
    kern = next(k for k in data["kernen"] if k["kern"] == KERN_TARGET[0])
    assert kern["target"] == KERN_TARGET[1] and len(kern["per_year"]) == 3
    assert set(kern) >= {"status", "share_latest", "slope_pp_per_year", "share_in_target_year"}
    assert len(data["buurten"]) == len(outputs.runs[-1].buurten)
    workbook = load_workbook(outputs.files["xlsx"])
    assert workbook.sheetnames == ["Op koers", "Gemeente", "Kernen", "Buurten"]
    sheet = workbook["Op koers"]
    headers = [c.value for c in sheet[1]]
    assert "Op koers?" in headers and "Doel (aandeel binnen 400 m)" in headers
    assert {r[headers.index("Op koers?")].value for r in sheet.iter_rows(min_row=2)} <= {
        "gehaald", "op koers", "niet op koers", "onbekend", "geen doel"}
    html = outputs.files["rapport"].read_text(encoding="utf-8")
    assert '<html lang="nl">' in html and "<title>Voorbeeldgemeente: verbetercyclus 2024–2026</title>" in html
    assert 'name="viewport"' in html
    assert "CBS" in html and "OpenStreetMap" in html and "PDOK/Kadaster" in html
    assert html.count("<svg") == 1 + t.kernen["kern"].nunique()  # the gemeente and every kern
    assert "<script" not in html and 'src="http' not in html and "<link" not in html  # self-contained
    assert "Synthetische demo-gemeente" in html


def test_untrusted_names_escaped_and_neutralised(outputs: pipeline.TrendOutputs, tmp_path: Path) -> None:
    evil = '=HYPERLINK("http://x")<script>alert(1)</script>'
    t = outputs.trend
    kern = t.kernen["kern"].iloc[0]
    for frame in (t.buurten, t.kernen, t.verdicts):
        frame.loc[frame["kern"] == kern, "kern"] = evil
    t.verdicts.loc[t.verdicts["code"] == kern, ["code", "naam"]] = evil
    try:
        html = write_report(report_context(t, outputs.summary), tmp_path / "t.html").read_text(encoding="utf-8")
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        sheet = load_workbook(write_xlsx(t, outputs.summary, tmp_path / "t.xlsx"))["Kernen"]
        values = [c.value for row in sheet.iter_rows(min_row=2) for c in row]
        assert "'" + evil in values and evil not in values
    finally:
        for frame in (t.buurten, t.kernen, t.verdicts):
            frame.loc[frame["kern"] == evil, "kern"] = kern
        t.verdicts.loc[t.verdicts["code"] == evil, ["code", "naam"]] = kern


def test_cli_trend(snapshots: list[Path], tmp_path: Path) -> None:
    result = invoke("trend", *map(str, snapshots), "--doel", "0.8", "--doeljaar", "2030", "--out", str(tmp_path), "-q")
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[0].startswith("Voorbeeldgemeente (GM9999), 2024 → 2025 → 2026, buurtindeling van 2026")
    assert out[2] == "  doel 80,0 % in 2030"
    assert any(line.startswith("    Noorderhoek: 0,0 % → 0,0 % → ") for line in out)
    data = json.loads((tmp_path / "voorbeeldgemeente" / "trend-2024-2026" / "trend.json").read_text(encoding="utf-8"))
    assert dutch_keys(data) == []  # one key language (English) in trend.json
    assert data["target_year"] == 2030


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("two", "Fout: Voor een trend zijn minstens 3 snapshots nodig (drie of meer jaren), gekregen: 2."),
        ("same_year", "Fout: Twee snapshots zijn van 2024 ("),
        ("two_gemeenten", "Fout: De snapshots zijn van verschillende gemeenten: Ermelo (GM0233), "
                          "Voorbeeldgemeente (GM9999). Geef snapshots van één gemeente."),
        ("percent", "Fout: --doel is een aandeel tussen 0 en 1, bijv. 0.9 voor 90 % (gekregen: 90)."),
        ("past_year", "Fout: --doeljaar moet na het nieuwste jaar (2026) liggen, gekregen: 2025."),
    ],
)
def test_cli_bad_input(snapshots: list[Path], tmp_path: Path, case: str, expected: str) -> None:
    args = [str(s) for s in snapshots]
    if case == "two":
        args = args[:2]
    elif case == "same_year":
        args = [args[0], args[0], args[1]]
    elif case == "two_gemeenten":
        other = tmp_path / "ander"
        shutil.copytree(snapshots[1], other)
        manifest = json.loads((other / "manifest.json").read_text(encoding="utf-8"))
        manifest["gemeente"] = {"code": "GM0233", "name": "Ermelo"}
        (other / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        args[1] = str(other)
    elif case == "percent":
        args += ["--doel", "90"]
    elif case == "past_year":
        args += ["--doeljaar", "2025"]
    result = invoke("trend", *args, "--out", str(tmp_path / "uit"))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(expected) and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "uit").exists()  # refused before anything was written


def test_doelen_in_the_config(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[doelen]\nNoorderhoek = 0.75\n"Oud Beijerland" = 1\n', encoding="utf-8")
    assert load_config(path).kern_targets == {"Noorderhoek": 0.75, "Oud Beijerland": 1.0}
    assert load_config().kern_targets == {}
    path.write_text("[doelen]\nNoorderhoek = 75\n", encoding="utf-8")
    result = invoke("trend", "a", "b", "c", "--config", str(path))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "doelen.Noorderhoek moet een aandeel tussen 0 en 1 zijn" in result.stderr


def test_readme_example(outputs: pipeline.TrendOutputs) -> None:
    """The README's worked example gives the figures this run gives (with --doel 0.8)."""
    readme = documentation()  # the README and docs/
    section = readme.split("## Verbetercyclus (trend)", 1)[1].split("\n## ", 1)[0]
    assert "wijkanalyse trend demo-2024 demo-2025 demo-2026 --doel 0.8" in section
    g = outputs.trend.gemeente
    shares = " → ".join(f"{100 * s:.1f} %".replace(".", ",") for s in g["aandeel_binnen_drempel"])
    assert shares in section
    frame = pd.DataFrame(outputs.trend.verdicts)
    for _, row in frame[frame["niveau"] == "kern"].iterrows():
        assert row["code"] in section
