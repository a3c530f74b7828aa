"""Scenarios (``wijkanalyse run --scenario FILE``): the file, the places it names, the figures and every output.

Closing a meeting point in a scenario must take exactly its dependence figure out of reach;
opening a site must bring exactly what the siting step said it would; and bad input is one
Dutch line that names the place and says what to do.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from wijkanalyse import model, pipeline
from wijkanalyse.analysis.scenarios import Scenario, evaluate_scenario, resolve_scenarios
from wijkanalyse.cli import cli
from wijkanalyse.config import load_config
from wijkanalyse.errors import ConfigError
from wijkanalyse.network import WalkNetwork
from wijkanalyse.sources.files import SnapshotReader
from wijkanalyse.sources.scenario_file import ScenarioSpec, read_scenarios

from .test_browser import browser  # noqa: F401 (the headless Chromium fixture; skips without it)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config" / "scenario_voorbeeld.toml"
CRS = model.CRS


def _file(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------ the file


def test_the_example_file_reads() -> None:
    specs = read_scenarios(EXAMPLE, load_config().venues)
    assert [s.name for s in specs][:2] == ["Snackcafé Het Pleintje sluit", "Sporthal Noorderhoek wordt ontmoetingspunt"]
    bezuiniging = specs[3]
    assert bezuiniging.close == ("node/2000013", "Bibliotheekpunt Zuidwest")
    assert list(bezuiniging.new_points["naam"]) == ["Kerkzaal op dinsdag"]
    point = bezuiniging.new_points.geometry.iloc[0]
    assert 60_000 < point.x < 68_000 and 480_000 < point.y < 485_000  # lat/lon made RD
    assert specs[4].walk_m == 500.0 and specs[4].close == specs[4].open == ()


@pytest.mark.parametrize(("text", "expected"), [
    ('[[scenario]]\nclose = ["Parkkerk"]\n', "scenario 1 heeft geen naam"),
    ("title = 'x'\n", "er staat geen scenario in"),
    ('[[scenario]]\nname = "a"\nsluit = ["Parkkerk"]\n', "scenario 'a': onbekende sleutel sluit"),
    ('[[scenario]]\nname = "a"\nopen = [{ name = "b", lat = 5.1, lon = 52.1 }]\n', "ligt niet in Nederland (lat en lon omgewisseld?)"),
    ('[[scenario]]\nname = "a"\nopen = [{ name = "b", x = 1 }]\n', "x en y moeten allebei getallen zijn"),
    ('[[scenario]]\nname = "a"\nopen = [{ lat = 52.1, lon = 5.1 }]\n', "geef de nieuwe plek een naam"),
    ('[[scenario]]\nname = "a"\nwalk_m = -5\n', "walk_m moet een getal tussen 0 en"),
    ('[[scenario]]\nname = "a"\nwalk_m = 400\n[[scenario]]\nname = "A"\nwalk_m = 300\n', "staat er meer dan eens in"),
    ('[[scenario]]\nname = "a"\n', "scenario 'a' verandert niets"),
    ('[[scenario]]\nname = "a"\nclose = "Parkkerk\n', "is geen geldige TOML"),
    ('[[scenario]]\nname = "a"\nclose = [3]\n', "close noemt ontmoetingspunten met een id of naam"),
    ('[[scenario]]\nname = "a"\nopen_file = "nergens.csv"\n', "open_file nergens.csv"),
])
def test_a_bad_file_is_one_dutch_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        read_scenarios(_file(tmp_path, text), load_config().venues)
    message = str(err.value)
    assert expected in message and "\n" not in message
    assert message.startswith("Scenariobestand s.toml") or message.startswith("Scenariobestand")


def test_every_problem_at_once(tmp_path: Path) -> None:
    text = '[[scenario]]\nname = "a"\nwalk_m = 0\n[[scenario]]\nclose = ["x"]\n'
    with pytest.raises(ConfigError) as err:
        read_scenarios(_file(tmp_path, text), load_config().venues)
    assert "walk_m moet" in str(err.value) and "scenario 2 heeft geen naam" in str(err.value)


def test_new_places_from_a_points_file(tmp_path: Path) -> None:
    (tmp_path / "plekken.csv").write_text(
        "naam;klasse;x;y\nKerkzaal Noord;gebedshuis;61200;484300\nHuiskamer Oost;buurthuis;66000;482000\n",
        encoding="utf-8",
    )
    path = _file(tmp_path, '[[scenario]]\nname = "twee plekken"\nopen_file = "plekken.csv"\n')
    (spec,) = read_scenarios(path, load_config().venues)
    assert list(spec.new_points["naam"]) == ["Kerkzaal Noord", "Huiskamer Oost"]
    assert shapely.get_coordinates(spec.new_points.geometry.to_numpy()).tolist() == [[61200, 484300], [66000, 482000]]


# ---------------------------------------------------------------------------- finding the places


def _venues(names: list[str], meeting: list[bool]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "osm_id": [f"node/{i + 1}" for i in range(len(names))], "naam": names,
        "categorie_label": ["Buurthuis" if m else "School" for m in meeting], "ontmoetingspunt": meeting,
    }, geometry=shapely.points(np.arange(len(names)) * 100.0, np.zeros(len(names))), crs=CRS)


def test_places_are_found_by_id_name_or_words() -> None:
    venues = _venues(["Buurthuis De Schakel", "Bibliotheek Noord", "Basisschool De Regenboog"], [True, True, False])
    spec = ScenarioSpec(name="x", close=("node/2", "de schakel"), open=("Basisschool de Regenboog",))
    (found,) = resolve_scenarios([spec], venues)
    assert found.close == (1, 0) and found.open == (2,)
    spec = ScenarioSpec(name="y", close=("BUURTHUIS DE SCHAKEL", "NODE/1"))  # case does not matter; once is enough
    assert resolve_scenarios([spec], venues)[0].close == (0,)
    venues.loc[2, "osm_id"] = "eigen/Ontmoetingspunten/4"  # an own point (file stem, line)
    spec = ScenarioSpec(name="z", open=("eigen/ontmoetingspunten/4",))
    assert resolve_scenarios([spec], venues)[0].open == (2,)


@pytest.mark.parametrize(("close", "open_", "expected"), [
    (("node/99",), (), "scenario 'x': 'node/99' bestaat niet in deze run"),
    (("eigen/lijst/4",), (), "'eigen/lijst/4' bestaat niet in deze run"),
    (("Parkkerk",), (), "'Parkkerk' past op 2 ontmoetingspunten: Parkkerk (node/1), Parkkerk (node/2); noem het id"),
    (("Buurthuis De Schakl",), (), "geen ontmoetingspunt heet 'Buurthuis De Schakl'; bedoelt u 'Buurthuis De Schakel'?"),
    (("De Regenboog",), (), "Basisschool De Regenboog (node/4) is geen ontmoetingspunt (School) en kan dus niet sluiten"),
    ((), ("Buurthuis De Schakel",), "Buurthuis De Schakel (node/3) is al een ontmoetingspunt"),
])
def test_a_place_not_there_or_not_one_is_named(close: tuple, open_: tuple, expected: str) -> None:
    venues = _venues(["Parkkerk", "Parkkerk", "Buurthuis De Schakel", "Basisschool De Regenboog"],
                     [True, True, True, False])
    with pytest.raises(ConfigError) as err:
        resolve_scenarios([ScenarioSpec(name="x", close=close, open=open_, file="s.toml")], venues)
    assert expected in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("Scenariobestand s.toml: scenario 'x'")


# ------------------------------------------------------------------------------- the figures


@pytest.fixture(scope="module")
def demo(demo_snapshot: Path):
    """The demo analysed, with its network and attachments rebuilt (as the pipeline builds them)."""
    config = load_config()
    reader = SnapshotReader(demo_snapshot)
    result = pipeline.analyse(reader, config)
    net = WalkNetwork.from_ways(reader.osm(config.osm_tags()).ways, config.network)
    return result, net, net.attach(result.residents.geometry), net.attach(result.venues.geometry)


def _evaluate(demo, scenario: Scenario):
    result, net, res_att, venue_att = demo
    return evaluate_scenario(
        scenario, result.residents, result.buurten, result.venues, result.venues["ontmoetingspunt"].to_numpy(bool),
        result.threshold_m, network=net, resident_att=res_att, venue_att=venue_att,
        gemeente=(result.gemeente_code, result.gemeente_name),
    )


def test_closing_a_meeting_point_loses_exactly_its_dependence_figure(demo) -> None:
    result, *_ = demo
    venues = result.venues
    now = result.summary["residents_within_threshold"]
    for pos in np.flatnonzero(venues["ontmoetingspunt"].to_numpy(bool)):
        row = venues.iloc[pos]
        s = _evaluate(demo, Scenario(name=str(row["naam"]), close=(int(pos),)))
        assert s.summary["residents_losing_access"] == row["inwoners_verliezen_toegang"], row["naam"]
        assert s.summary["residents_gaining_access"] == 0
        assert s.summary["residents_within_threshold"] == now - row["inwoners_verliezen_toegang"]
        assert len(s.changes) == row["cellen_alleen_hier"]
        assert s.changes["afstand_nu_m"].le(400).all() and s.changes["afstand_scenario_m"].gt(400).all()


def test_two_closures_lose_their_own_residents_and_those_who_had_only_these_two(demo) -> None:
    result, *_ = demo
    venues = result.venues
    ids = venues["osm_id"].tolist()
    a, b = ids.index("node/2000013"), ids.index("node/2000014")
    both = _evaluate(demo, Scenario(name="twee", close=(a, b)))
    alone = venues.iloc[[a, b]]["inwoners_verliezen_toegang"].sum()
    assert both.summary["residents_losing_access"] >= alone


def test_opening_the_first_proposal_brings_what_the_siting_said(demo) -> None:
    result, *_ = demo
    first = result.proposals.sort_values("rang").iloc[0]
    new = gpd.GeoDataFrame({"naam": ["hier"], "bron": ["test"]}, geometry=[first.geometry], crs=CRS)
    s = _evaluate(demo, Scenario(name="open", new_points=new))
    assert s.summary["residents_gaining_access"] == first["nieuw_binnen_bereik"] > 0
    assert s.summary["residents_losing_access"] == 0
    assert s.summary["opened"][0]["on_network"]


def test_opening_a_venue_is_opening_a_place_there(demo) -> None:
    result, *_ = demo
    venues = result.venues
    pos = venues["naam"].tolist().index("Sporthal Noorderhoek")
    by_venue = _evaluate(demo, Scenario(name="sporthal", open=(pos,)))
    new = gpd.GeoDataFrame({"naam": ["sporthal"], "bron": ["test"]}, geometry=[venues.geometry.iloc[pos]], crs=CRS)
    by_place = _evaluate(demo, Scenario(name="sporthal", new_points=new))
    np.testing.assert_array_equal(by_venue.distance, by_place.distance)
    assert by_venue.summary["residents_gaining_access"] > 0


def test_another_threshold(demo) -> None:
    result, *_ = demo
    s = _evaluate(demo, Scenario(name="500", walk_m=500.0))
    people = result.residents["inwoners"].fillna(0).to_numpy()
    assert s.summary["residents_within_threshold"] == people[result.residents["afstand_m"].to_numpy() <= 500].sum()
    np.testing.assert_array_equal(s.distance, result.residents["afstand_m"].to_numpy())  # the same walks
    assert s.summary["residents_losing_access"] == 0 and s.summary["threshold_m"] == 500.0


def test_the_figures_add_up_per_buurt_kern_and_gemeente(demo) -> None:
    result, *_ = demo
    s = _evaluate(demo, Scenario(name="twee", close=(0, 4), walk_m=450.0))
    f = s.figures
    whole = f[f["niveau"] == "gemeente"].iloc[0]
    assert whole["code"] == result.gemeente_code and whole["naam"] == result.gemeente_name
    assert whole["inwoners_binnen_drempel_nu"] == result.summary["residents_within_threshold"]
    for level in ("kern", "buurt"):
        rows = f[f["niveau"] == level]
        for column in ("inwoners", "inwoners_binnen_drempel_nu", "inwoners_binnen_drempel_scenario", "verschil"):
            assert rows[column].sum() == pytest.approx(whole[column]), (level, column)
    buurten = f[f["niveau"] == "buurt"].set_index("code")
    np.testing.assert_allclose(buurten.loc[result.buurten.index, "inwoners_binnen_drempel_nu"],
                               result.buurten["inwoners_binnen_drempel"].astype(float))
    assert (f["verschil"] == f["inwoners_winnen"] - f["inwoners_verliezen"]).all()


def test_a_straight_line_run_closes_alike(demo_snapshot: Path, tmp_path: Path) -> None:
    config = _file(tmp_path, '[thresholds]\ndistance_method = "straight_line"\n', "c.toml")
    result = pipeline.analyse(SnapshotReader(demo_snapshot), load_config(config))
    first = result.summary["vulnerable_meeting_points"][0]
    pos = result.venues["osm_id"].tolist().index(first["id"])
    s = evaluate_scenario(Scenario(name="dicht", close=(pos,)), result.residents, result.buurten, result.venues,
                          result.venues["ontmoetingspunt"].to_numpy(bool), result.threshold_m)
    assert s.summary["residents_losing_access"] == first["residents_losing_access"] > 0


# ------------------------------------------------------------------------------ a run, every output


@pytest.fixture(scope="module")
def run(demo_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> pipeline.RunOutputs:
    return pipeline.run(demo_snapshot, load_config(), tmp_path_factory.mktemp("out"), scenario_file=EXAMPLE)


def test_the_summary_names_every_scenario_beside_the_run(run: pipeline.RunOutputs) -> None:
    summary = json.loads(run.files["samenvatting"].read_text(encoding="utf-8"))
    scenarios = summary["scenarios"]
    assert [s["name"] for s in scenarios] == [s.name for s in read_scenarios(EXAMPLE, load_config().venues)]
    for s in scenarios:
        assert s["residents_within_threshold"] + s["residents_beyond_threshold"] == summary["residents_total"]
        assert s["share_within_threshold"] == pytest.approx(s["residents_within_threshold"] / summary["residents_total"])
        assert s["residents_within_threshold_now"] == summary["residents_within_threshold"]
    snack = summary["vulnerable_meeting_points"][0]
    assert snack["name"] == "Snackcafé Het Pleintje"  # the example closes the most vulnerable one
    assert scenarios[0]["change_within_threshold"] == -snack["residents_losing_access"]
    assert scenarios[0]["closed"] == [{"id": snack["id"], "name": snack["name"]}]
    assert summary["scenario_file"] == str(EXAMPLE)
    assert summary["inputs"]["scenarios"]["scenarios"] == [s["name"] for s in scenarios]


def test_every_output_carries_the_scenarios(run: pipeline.RunOutputs) -> None:
    folder = run.folder
    assert (folder / "scenarios.csv").is_file()
    layers = {name for name, _ in pyogrio.list_layers(folder / "buurten.gpkg")}
    assert {"scenario_buurten", "scenario_wijzigingen", "scenario_punten"} <= layers
    venues = gpd.read_file(folder / "buurten.gpkg", layer="voorzieningen")
    assert venues["inwoners_verliezen_toegang"].max() == run.result.summary["vulnerable_meeting_points"][0][
        "residents_losing_access"]
    changes = gpd.read_file(folder / "buurten.gpkg", layer="scenario_wijzigingen")
    assert set(changes["verandering"]) == {"verliest zijn ontmoetingspunt binnen de drempel",
                                           "krijgt een ontmoetingspunt binnen de drempel"}
    workbook = openpyxl.load_workbook(folder / "buurten.xlsx", read_only=True)
    assert {"Kwetsbare ontmoetingspunten", "Scenario's", "Scenario-plekken"} <= set(workbook.sheetnames)
    rows = list(workbook["Scenario's"].iter_rows(values_only=True))
    assert rows[1][:4] == ("Snackcafé Het Pleintje sluit", "gemeente", "GM9999", "Voorbeeldgemeente")
    report = (folder / "rapport.html").read_text(encoding="utf-8")
    assert 'id="kwetsbaar"' in report and 'id="scenarios"' in report
    assert "Scenario's: wat een besluit doet" in report and "10. Methode" in report
    page = (folder / "kaart.html").read_text(encoding="utf-8")
    assert "Scenario: Snackcafé Het Pleintje sluit" in page and "Als dit punt sluit" in page
    from wijkanalyse.outputs import maps

    layers_on_map = maps.map_data(run.result)["scenarios"]["layers"]
    assert [layer["id"] for layer in layers_on_map] == [f"scenario_{i}" for i in range(5)]
    assert layers_on_map[0]["cells"]["c"] == [0] * len(layers_on_map[0]["cells"]["c"])  # closing: only losses
    assert layers_on_map[4]["points"] is None  # another threshold moves no place


def test_a_run_without_scenarios_has_none(demo_snapshot: Path, tmp_path: Path) -> None:
    result = pipeline.analyse(SnapshotReader(demo_snapshot), load_config())
    assert result.summary["scenarios"] == [] and result.summary["scenario_file"] is None
    assert result.scenario_figures is None and "scenarios" not in result.summary["inputs"]


# ------------------------------------------------------------------------------------ the CLI


def _cli(demo_snapshot: Path, tmp_path: Path, text: str):
    scenario = _file(tmp_path, text, "bezuiniging.toml")
    return CliRunner().invoke(cli, ["run", "--snapshot", str(demo_snapshot), "--scenario", str(scenario),
                                    "--out", str(tmp_path / "out"), "-q"])


def test_cli_an_id_that_does_not_exist(demo_snapshot: Path, tmp_path: Path) -> None:
    result = _cli(demo_snapshot, tmp_path, '[[scenario]]\nname = "dicht"\nclose = ["node/999999"]\n')
    assert result.exit_code == 1
    assert result.stderr.startswith("Fout: Scenariobestand bezuiniging.toml: scenario 'dicht': 'node/999999' "
                                    "bestaat niet in deze run")
    assert "gebruik een osm_id uit de laag voorzieningen van buurten.gpkg" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert not (tmp_path / "out" / "voorbeeldgemeente").exists()


def test_cli_a_name_that_fits_two_places(demo_snapshot: Path, tmp_path: Path) -> None:
    result = _cli(demo_snapshot, tmp_path, '[[scenario]]\nname = "dicht"\nclose = ["Bibliotheek"]\n')
    assert result.exit_code == 1
    assert ("'Bibliotheek' past op 2 ontmoetingspunten: Bibliotheek Oosterdorp (node/2000055), "
            "Bibliotheek Voorbeeldstad (way/3000081); noem het id (tussen haakjes) of de volledige naam") in result.stderr
    assert result.stderr.count("\n") == 1


def test_cli_a_bad_file(demo_snapshot: Path, tmp_path: Path) -> None:
    result = _cli(demo_snapshot, tmp_path, '[[scenario]]\nname = "dicht"\nclose = "Parkkerk\n')
    assert result.exit_code == 1
    assert result.stderr.startswith("Fout: Scenariobestand bezuiniging.toml is geen geldige TOML")
    assert result.stderr.count("\n") == 1


def test_cli_prints_the_scenarios_and_the_most_vulnerable(demo_snapshot: Path, tmp_path: Path) -> None:
    result = _cli(demo_snapshot, tmp_path, '[[scenario]]\nname = "Pleintje dicht"\nclose = ["Het Pleintje"]\n')
    assert result.exit_code == 0, result.output
    assert "Snackcafé Het Pleintje sluit: 695 inwoners wonen dan verder dan 400 m" in result.stdout
    assert "Scenario 'Pleintje dicht': 12.115 inwoners binnen 400 m, nu 12.810 (−695; 70,6 % → 66,8 %)" in result.stdout


def test_cli_refuses_a_scenario_for_many_gemeenten(tmp_path: Path) -> None:
    scenario = _file(tmp_path, '[[scenario]]\nname = "a"\nwalk_m = 300\n')
    (tmp_path / "snaps").mkdir()
    result = CliRunner().invoke(cli, ["run", "--snapshots", str(tmp_path / "snaps"), "--scenario", str(scenario)])
    assert result.exit_code == 2 and "--scenario is voor één gemeente" in result.output


# --------------------------------------------------------------------------- the map, in a browser


def test_the_scenario_layers_in_a_browser(browser, run: pipeline.RunOutputs) -> None:  # noqa: F811
    from .test_browser import SIZES, _no_errors, _open, _toggle

    _open(browser, (run.folder / "kaart.html").as_uri(), SIZES["laptop"])
    changes = run.result.scenario_changes
    counts = browser.execute_script(
        "var out = {}; Object.keys(WA.state.layers).forEach(function (k) {"
        " if (k.indexOf('scenario_') === 0) { out[k] = WA.state.layers[k].getLayers().length; } }); return out;"
    )
    points = run.result.scenario_points
    names = list(dict.fromkeys(run.result.scenario_figures["scenario"]))
    assert counts == {
        f"scenario_{i}": int((changes["scenario"] == n).sum() + (points["scenario"] == n).sum()) for i, n in enumerate(names)
    }
    on_map = "return WA.state.map.hasLayer(WA.state.layers[arguments[0]])"
    assert browser.execute_script(on_map, "scenario_0") is False  # off until chosen
    _toggle(browser, "wa-laag-scenario_0")
    assert browser.execute_script(on_map, "scenario_0") is True
    legend = browser.find_element("css selector", "#wa-laag-scenario_0 ~ .wa-legenda").text
    assert "verliest zijn ontmoetingspunt binnen 400 m" in legend and "Met dit scenario wonen 12.115 inwoners" in legend
    text = browser.execute_script(
        "var ls = WA.state.layers.scenario_0.getLayers(), cell = ls[0];"
        "cell.fire('click', {latlng: cell.getBounds().getCenter()});"
        "return document.querySelector('.leaflet-popup-content').textContent;"
    )
    assert "Vak van 100 m: verliest zijn ontmoetingspunt binnen de drempel" in text and "Afstand met het scenario" in text
    _no_errors(browser)
