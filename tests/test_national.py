"""Many gemeenten in one run: local pool, dask, resume after a kill, the national outputs.

The gemeenten are a synthetic country (benchmarks/synthetic_national.py): four gemeenten of
2 x 4 buurten (two wijken each), one street grid across all of them in one .osm.pbf, cut per
gemeente plus 1.5 km in one pass. Every national figure is checked against the per-gemeente
``samenvatting.json`` files, read independently.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from .conftest import dutch_keys
import shapely
from click.testing import CliRunner

from wijkanalyse import batch, model, pipeline
from wijkanalyse.cli import cli
from wijkanalyse.config import load_config
from wijkanalyse.sources.national import add_osm_layers, clip_area
from wijkanalyse.sources.osm import read_osm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from synthetic_national import write_country

ROOT = Path(__file__).resolve().parents[1]
CODES = ["GM9000", "GM8999", "GM8998", "GM8997"]


def _make_country(dest: Path):
    country = write_country(dest, n=4, buurten_x=2, buurten_y=4, buurt_m=400.0, meeting_points=3, other_venues=2)
    areas = {f.name: (f, clip_area(gpd.read_file(f / "buurten.gpkg"))) for f in country.snapshots}
    assert add_osm_layers(areas, country.pbf, load_config().osm_tags(), engine="pyosmium") == {}
    return country


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory):
    return _make_country(tmp_path_factory.mktemp("land"))


@pytest.fixture(scope="module")
def national(country, tmp_path_factory: pytest.TempPathFactory):
    """One local run on 2 worker processes, maps included."""
    out = tmp_path_factory.mktemp("uit")
    return out, batch.run_national(country.snapshots, load_config(), out, workers=2)


def _summaries(out: Path) -> dict[str, dict]:
    found = {}
    for path in out.glob("*/samenvatting.json"):
        if path.parent.name == "landelijk":
            continue
        s = json.loads(path.read_text(encoding="utf-8"))
        found[s["gemeente_code"]] = s
    return found


def test_every_gemeente_analysed_and_the_national_figures_add_up(national) -> None:
    out, run = national
    assert sorted(run.ran) == sorted(CODES) and run.skipped == [] and run.failed == []
    summaries = _summaries(out)
    assert sorted(summaries) == sorted(CODES)
    total = sum(s["residents_total"] for s in summaries.values())
    within = sum(s["residents_within_threshold"] for s in summaries.values())
    t = run.national.totals
    assert t["residents_total"] == pytest.approx(total) and t["residents_within_threshold"] == pytest.approx(within)
    assert t["share_within_threshold"] == pytest.approx(within / total)
    assert t["n_buurten"] == 32 and t["n_gemeenten_done"] == 4
    table = pd.read_csv(out / "landelijk" / "gemeenten.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert sorted(table["gemeentecode"]) == sorted(CODES)
    for row in table.itertuples():
        s = summaries[row.gemeentecode]
        assert row.inwoners == pytest.approx(s["residents_total"])
        assert row.inwoners_buiten_drempel == pytest.approx(s["residents_beyond_threshold"])
        assert row.aandeel_binnen_drempel == pytest.approx(s["share_within_threshold"], abs=1e-4)
        assert row.buurten == 8 and row.status == "klaar"
    assert list(table["aandeel_binnen_drempel"]) == sorted(table["aandeel_binnen_drempel"])  # lowest first
    saved = json.loads((out / "landelijk" / "samenvatting.json").read_text(encoding="utf-8"))
    assert saved["residents_total"] == pytest.approx(total) and saved["synthetic"] is True
    assert dutch_keys(saved) == []  # one key language (English), as in a gemeente's samenvatting.json


def test_residents_reach_meeting_points_across_the_gemeente_border(country, national) -> None:
    """Each gemeente counts the meeting points within 1.5 km of its border, its neighbours' too."""
    out, _ = national
    summaries = _summaries(out)
    config = load_config()
    everything = read_osm(country.pbf, config.osm_tags())
    venues = model.venues_frame(everything.venues, config.venues)
    meeting = venues[venues["ontmoetingspunt"].astype(bool)].geometry.to_numpy()
    assert len(meeting) == 12  # 3 per gemeente
    for folder in country.snapshots:
        area = gpd.read_file(folder / "buurten.gpkg").union_all()
        expected = int((shapely.distance(area, meeting) < 1500).sum())
        assert summaries[folder.name]["n_meeting_points"] == expected
        assert expected > 3


def test_wijk_figures_and_the_overview_map(national) -> None:
    out, run = national
    wijken = run.national.wijken
    assert len(wijken) == 8 and sorted(wijken["gemeentecode"].unique()) == sorted(CODES)
    for code, group in wijken.groupby("gemeentecode"):
        assert group["inwoners"].sum() == pytest.approx(run.markers[code]["summary"]["residents_total"])
    assert len(run.national.outlines) == 4
    page = (out / "landelijk" / "overzicht.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="nl">' in page
    assert "WA.init(" in page and "cdn" not in page.lower()  # the main map's kaart.js, Leaflet inlined
    document = json.loads(page.split('<script type="application/json" id="wa-data">', 1)[1].split("</script>", 1)[0])
    areas = document["buurten"]
    assert areas["lvl"] == [0] * 4 + [1] * 8  # gemeenten, then wijken: no 100 m cells
    assert len(areas["g"]) == len(areas["pop"]) == len(areas["key"]) == len(areas["sig"]) == 12
    assert document["levels"] == {"signal": 0, "reach": 1} and areas["kinds"] == ["gemeente", "wijk"]
    assert document["cells"] is None and document["streets"]  # the borders: the background without internet
    assert "../proefgemeente-1/kaart.html" in areas["link"]
    titles = [popup[0] for popup in areas["pop"]]
    assert "Proefgemeente 3 (GM8998)" in titles and sum(t.startswith("Wijk ") for t in titles) == 8
    assert "SYNTHETISCHE" in document["banner"]
    assert os.path.getsize(out / "landelijk" / "overzicht.html") < 400_000


def test_national_page_is_standalone_and_its_section_includable(national) -> None:
    from wijkanalyse.outputs.national import render_section

    out, run = national
    page = (out / "landelijk" / "landelijk.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Proefgemeente 3" in page and "SYNTHETISCHE" in page
    section = render_section(run.national)
    assert section.startswith('<section class="wa-landelijk">') and "<html" not in section
    assert section.strip().endswith("</section>")


def test_a_finished_run_is_not_redone_but_a_changed_config_is(country, national, tmp_path: Path) -> None:
    out, _ = national
    kaart = out / "proefgemeente-2" / "kaart.html"
    before = kaart.stat().st_mtime_ns
    again = batch.run_national(country.snapshots, load_config(), out, workers=2)
    assert again.ran == [] and sorted(again.skipped) == sorted(CODES)
    assert kaart.stat().st_mtime_ns == before
    jobs, done = batch.plan_jobs(country.snapshots, load_config(), out, resume=False)
    assert len(jobs) == 4 and done == {}
    config = tmp_path / "500.toml"
    config.write_text("[thresholds]\nwalk_m = 500\n", encoding="utf-8")
    jobs, done = batch.plan_jobs(country.snapshots, load_config(config), out)
    assert len(jobs) == 4 and done == {}


def test_markers_list_their_files_and_an_earlier_versions_marker_still_counts(country, national, tmp_path: Path) -> None:
    out, run = national
    marker = run.markers["GM9000"]
    folder = Path(marker["folder"])
    assert sorted(Path(f).name for f in marker["files"]) == sorted(
        json.loads((folder / pipeline.INDEX_FILE).read_text(encoding="utf-8"))["files"])
    assert marker["map_file"] == str(folder / "kaart.html")
    assert dutch_keys({k: v for k, v in marker.items() if k != "summary"}) == []  # the summary is checked above
    # an earlier version wrote the files as a map of output kind -> path, without map_file
    copy = tmp_path / "uit"
    shutil.copytree(out, copy)
    progress = copy / "landelijk" / "voortgang"
    for path in progress.glob("GM*.json"):
        text = path.read_text(encoding="utf-8").replace(str(out), str(copy))
        path.write_text(text, encoding="utf-8")
    old = json.loads((progress / "GM9000.json").read_text(encoding="utf-8"))
    old["files"] = {("kaart" if f.endswith("kaart.html") else Path(f).stem): f for f in old["files"]}
    del old["map_file"]
    (progress / "GM9000.json").write_text(json.dumps(old), encoding="utf-8")
    again = batch.run_national(country.snapshots, load_config(), copy, workers=1)
    assert again.ran == [] and sorted(again.skipped) == sorted(CODES)
    assert again.national is not None
    assert again.national.links["GM9000"].endswith("kaart.html")


def test_a_failing_gemeente_is_named_and_the_others_go_on(country, tmp_path: Path) -> None:
    broken = tmp_path / "snapshots" / "GM8997"
    shutil.copytree(country.snapshots[3], broken)
    venues = gpd.read_parquet(broken / "voorzieningen_osm.parquet")
    venues.iloc[:0].to_parquet(broken / "voorzieningen_osm.parquet")  # no venue at all: no meeting point
    folders = [*country.snapshots[:2], broken]
    run = batch.run_national(folders, load_config(), tmp_path / "uit", workers=1)
    assert run.failed == ["GM8997"] and sorted(run.ran) == sorted([*CODES[:2], "GM8997"])
    table = run.national.gemeenten
    row = table[table["gemeentecode"] == "GM8997"].iloc[0]
    assert row["status"] == "mislukt" and "Geen ontmoetingspunten" in row["melding"]
    assert table.iloc[-1]["gemeentecode"] == "GM8997"  # failed gemeenten last
    assert run.national.totals["gemeenten_failed"] == ["GM8997"]
    assert not (tmp_path / "uit" / "landelijk" / "voortgang" / "GM8997.json").exists()
    again = batch.run_national(folders, load_config(), tmp_path / "uit", workers=1)
    assert again.ran == ["GM8997"]  # tried again, the two finished ones not


def test_untrusted_names_are_neutralised_and_escaped(country, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    evil = "=HYPERLINK(\"http://x\")<script>alert(1)</script>"
    folder = tmp_path / "GM9000"
    shutil.copytree(country.snapshots[0], folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["gemeente"]["name"] = evil
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    run = batch.run_national([folder], load_config(), tmp_path / "uit", workers=1, maps=False)
    national_dir = tmp_path / "uit" / "landelijk"
    csv_text = (national_dir / "gemeenten.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in csv_text
    cell = load_workbook(national_dir / "gemeenten.xlsx")["gemeenten"]["B2"]
    assert cell.value == evil and cell.data_type == "s"
    for name in ("overzicht.html", "landelijk.html"):
        text = (national_dir / name).read_text(encoding="utf-8")
        assert "<script>alert" not in text
    marker = run.markers["GM9000"]  # --no-maps: no kaart.html
    assert marker["map_file"] is None and not any(f.endswith("kaart.html") for f in marker["files"])


def test_dask_local_cluster_gives_the_same_figures(country, national, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    _, local = national
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1", memory_limit="3GiB") as cluster:
        run = batch.run_national(country.snapshots[:2], load_config(), tmp_path, scheduler=cluster.scheduler_address)
    assert sorted(run.ran) == sorted(CODES[:2]) and run.failed == []
    for code in CODES[:2]:
        assert run.markers[code]["summary"]["residents_within_threshold"] == pytest.approx(
            local.markers[code]["summary"]["residents_within_threshold"])
    assert (tmp_path / "landelijk" / "gemeenten.csv").is_file()


def test_dask_scheduler_and_worker_started_as_processes(country, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
         "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    worker = None
    try:
        for _ in range(600):  # the scheduler writes its address when it listens (bounded wait)
            if scheduler_file.is_file() and scheduler_file.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "1", "--nthreads", "1",
             "--memory-limit", "3GiB", "--no-dashboard", "--host", "127.0.0.1"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        run = batch.run_national(country.snapshots[2:], load_config(), tmp_path / "uit", scheduler=address)
        assert sorted(run.ran) == sorted(CODES[2:]) and run.failed == []
        assert all(m["status"] == "klaar" for m in run.markers.values())
    finally:
        for process in (worker, scheduler):
            if process is not None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)


def test_an_unreachable_scheduler_is_one_line(country, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    result = CliRunner().invoke(cli, ["run", "--snapshots", str(country.snapshots[0].parent), "--out", str(tmp_path),
                                      "--scheduler", "tcp://127.0.0.1:9", "-q"])
    assert result.exit_code == 1
    assert "Kan de dask-scheduler op tcp://127.0.0.1:9 niet bereiken" in result.output


def test_a_killed_run_goes_on_where_it_stopped(tmp_path: Path) -> None:
    country = _make_country(tmp_path / "land")
    out = tmp_path / "uit"
    command = [sys.executable, "-m", "wijkanalyse", "run", "--snapshots", str(tmp_path / "land" / "snapshots"),
               "--out", str(out), "--workers", "1", "-q"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    progress = out / "landelijk" / "voortgang"
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        for _ in range(3000):  # until the first gemeente is done (bounded wait, not a time limit)
            if list(progress.glob("GM*.json")) or process.poll() is not None:
                break
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)  # the run and its worker process
    finally:
        process.wait(timeout=30)
    finished = sorted(p.stem for p in progress.glob("GM*.json"))
    assert 1 <= len(finished) < 4, finished
    assert not (out / "landelijk" / "gemeenten.csv").exists()
    first = finished[0]
    marker = json.loads((progress / f"{first}.json").read_text(encoding="utf-8"))
    stamps = {path: Path(path).stat().st_mtime_ns for path in marker["files"]}
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert f"al klaar (hervat): {len(finished)}" in result.stdout
    assert {path: Path(path).stat().st_mtime_ns for path in marker["files"]} == stamps
    assert sorted(p.stem for p in progress.glob("GM*.json")) == sorted(country.codes)
    table = pd.read_csv(out / "landelijk" / "gemeenten.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert (table["status"] == "klaar").all() and len(table) == 4


def test_cli_snapshots_with_a_selection_and_usage_errors(country, tmp_path: Path) -> None:
    root = str(country.snapshots[0].parent)
    result = CliRunner().invoke(cli, ["run", "--snapshots", root, "--gemeenten", "GM9000,GM8999", "--out",
                                      str(tmp_path), "--workers", "1", "--no-maps", "-q"])
    assert result.exit_code == 0, result.output
    assert "Landelijk: 2 van 2 gemeenten geanalyseerd (2024)" in result.output
    missing = CliRunner().invoke(cli, ["run", "--snapshots", root, "--gemeenten", "GM0233", "-q"])
    assert missing.exit_code == 2 and "Geen snapshot in" in missing.output and "GM0233" in missing.output
    both = CliRunner().invoke(cli, ["run", "--demo", "--nederland"])
    assert both.exit_code == 2 and "--demo is voor één gemeente; --nederland draait er veel" in both.output
    workers = CliRunner().invoke(cli, ["run", "--demo", "--workers", "2"])
    assert workers.exit_code == 2 and "--workers geldt alleen voor veel gemeenten" in workers.output
