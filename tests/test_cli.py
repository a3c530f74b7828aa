"""The command line: exit codes, one-line errors, stdout summary vs stderr progress."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import click
import pytest

from tests.conftest import dutch_keys
from click.testing import CliRunner

from wijkanalyse.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args))


def test_demo_run_writes_files_and_prints_a_summary(tmp_path: Path) -> None:
    result = invoke("run", "--demo", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    folder = tmp_path / "voorbeeldgemeente"
    assert {p.name for p in folder.iterdir() if not p.name.startswith(".")} == {
        "kaart.html", "buurten.gpkg", "buurten.csv", "buurten.xlsx", "samenvatting.json", "kernen.csv",
        "voorstellen.csv", "makelaarsgebieden.csv", "rapport.html", "kaart_signaal.png", "kaart_signaal.pdf",
        "kaart_bereik.png", "kaart_bereik.pdf", "kaart_makelaars.png", "kaart_makelaars.pdf",
    }
    assert "SYNTHETISCHE DEMO-GEMEENTE" in result.stdout
    summary = json.loads((folder / "samenvatting.json").read_text(encoding="utf-8"))
    # one key language (English); target_groups is keyed by the groups' own names from the config
    assert dutch_keys({k: v for k, v in summary.items() if k != "target_groups"}) == []
    assert all(dutch_keys(ranges) == [] for ranges in summary["target_groups"].values())
    share = f"{100 * summary['share_within_threshold']:.1f}".replace(".", ",")
    assert f"({share} %" in result.stdout
    assert "[5/8] Loopafstand" in result.stderr  # progress on stderr, not stdout
    # gaps counted with the small ones apart; the broker cost with how it is counted (see test_report.py)
    assert f"in {summary['n_gaps']} gebieden, waarvan {summary['n_gaps_small']} klein (minder dan 25 inwoners)" in result.stdout
    assert "per jaar: 3 voltijdsbanen van € 80.000 (alleen de werklast van" in result.stdout
    assert "[5/8]" not in result.stdout


def test_quiet_has_no_progress(tmp_path: Path) -> None:
    result = invoke("run", "--demo", "--out", str(tmp_path), "-q")
    assert result.exit_code == 0
    assert result.stderr == ""


def test_run_without_a_target_is_a_usage_error() -> None:
    result = invoke("run")
    assert result.exit_code == 2
    assert "Zeg wat er geanalyseerd moet worden: --demo (synthetisch voorbeeld), --snapshot MAP, of --gemeente GMxxxx." in result.stderr


def test_two_targets_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("run", "--demo", "--snapshot", str(tmp_path))
    assert result.exit_code == 2
    assert "Geef maar één van --demo, --snapshot, --gemeente (gekregen: --demo en --snapshot)" in result.stderr


def test_missing_snapshot_is_one_line(tmp_path: Path) -> None:
    result = invoke("run", "--snapshot", str(tmp_path / "nergens"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Fout: Snapshotmap")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_unwritable_output_folder_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "bestand"
    blocker.write_text("not a folder")
    result = invoke("run", "--demo", "--out", str(blocker), "-q")
    assert result.exit_code == 1
    assert result.stderr.startswith("Fout: Kan niet schrijven in de uitvoermap")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_bad_config_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[thresholds]\nwalk_m = -1\npermutations = 1\n", encoding="utf-8")
    result = invoke("run", "--demo", "--config", str(path))
    assert result.exit_code == 1
    assert "thresholds.walk_m moet > 0 zijn" in result.stderr
    assert "thresholds.permutations moet >= 99 zijn" in result.stderr


def test_live_run_without_network_says_what_to_do(tmp_path: Path) -> None:
    result = invoke("run", "--gemeente", "GM0233", "--cache-dir", str(tmp_path), "-q")
    assert result.exit_code == 1
    assert "Kan opendata.cbs.nl niet bereiken" in result.stderr and "--snapshot MAP" in result.stderr and "of --demo" in result.stderr
    assert "Traceback" not in result.output


def test_gemeente_name_instead_of_code(tmp_path: Path) -> None:
    result = invoke("run", "--gemeente", "Ermelo", "--cache-dir", str(tmp_path))
    assert result.exit_code == 1  # the name is found offline; only the download needs the network
    assert "Kan opendata.cbs.nl niet bereiken om CBS-tabel 85984NED (GM0233) te downloaden" in result.stderr


def test_demo_command_writes_a_snapshot_that_runs(tmp_path: Path) -> None:
    assert invoke("demo", str(tmp_path / "snap")).exit_code == 0
    assert (tmp_path / "snap" / "manifest.json").is_file()
    result = invoke("run", "--snapshot", str(tmp_path / "snap"), "--out", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.output


def test_config_command_prints_the_default_file() -> None:
    result = invoke("config")
    assert result.exit_code == 0
    assert result.stdout == (ROOT / "config" / "wijkanalyse.toml").read_text(encoding="utf-8")
    assert tomllib.loads(result.stdout)["thresholds"]["walk_m"] == 400


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    word = "Voorbeeld:" if "Voorbeeld:" in result.stdout else "Example:"  # the help is becoming Dutch
    assert word in result.stdout
    assert "wijkanalyse " in result.stdout.split(word)[1]


def test_year_without_gemeente_is_a_usage_error() -> None:
    result = invoke("run", "--demo", "--year", "2023")
    assert result.exit_code == 2
    assert "--year geldt alleen voor --gemeente" in result.stderr


def test_demo_map_escapes_osm_names(tmp_path: Path) -> None:
    assert invoke("run", "--demo", "--out", str(tmp_path), "-q").exit_code == 0
    page = (tmp_path / "voorbeeldgemeente" / "kaart.html").read_text(encoding="utf-8")
    assert "<Zaal>" not in page
    assert "Hoekje" in page  # the venue is on the map, escaped
