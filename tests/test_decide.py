"""The decision step of a run (pipeline.decide) on the demo: proposals by walking, brokers, kernen."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from wijkanalyse import pipeline
from wijkanalyse.cli import cli
from wijkanalyse.config import load_config
from wijkanalyse.network import WalkNetwork
from wijkanalyse.sources.files import SnapshotReader


@pytest.fixture(scope="module")
def demo(demo_snapshot: Path):
    return pipeline.analyse(SnapshotReader(demo_snapshot), load_config())


def test_the_village_without_any_venue_gets_a_spot_in_the_top_3(demo) -> None:
    top3 = demo.proposals.head(3)
    assert "Westerveld" in top3["kern"].tolist()
    row = top3[top3["kern"] == "Westerveld"].iloc[0]
    village = demo.residents["buurtcode"] == row["buurtcode"]
    assert not demo.residents.loc[village, "binnen_drempel"].any()  # nobody there is within reach today
    assert 0 < row["nieuw_binnen_bereik"] <= demo.residents.loc[village, "inwoners"].fillna(0).sum()


def test_proposal_figures_add_up(demo) -> None:
    p = demo.proposals
    s = demo.summary
    assert list(p["rang"]) == list(range(1, len(p) + 1))
    assert np.allclose(p["nieuw_binnen_bereik"].cumsum(), p["cumulatief_binnen_bereik"])
    assert np.allclose(p["aandeel_na"], (s["residents_within_threshold"] + p["cumulatief_binnen_bereik"]) / s["residents_total"])
    assert np.allclose(p["kosten_per_inwoner"], p["kosten_per_jaar"] / p["nieuw_binnen_bereik"])
    assert (p["nieuw_binnen_bereik"].diff().dropna() <= 1e-9).all()  # greedy order: each adds no more than the one before
    assert [m["rank"] for m in s["new_meeting_points"]] == list(p["rang"])


def test_rank_1_reaches_what_its_own_walk_says(demo, demo_snapshot: Path) -> None:
    """An independent recount: attach the first proposal and walk to every resident not yet within reach."""
    config = load_config()
    reader = SnapshotReader(demo_snapshot)
    net = WalkNetwork.from_ways(reader.osm(config.osm_tags()).ways, config.network)
    first = demo.proposals.iloc[[0]]
    dist = net.nearest(net.attach(demo.residents.geometry), net.attach(first.geometry))
    newly = (dist <= config.thresholds.walk_m) & ~demo.residents["binnen_drempel"].to_numpy()
    assert demo.proposals["nieuw_binnen_bereik"].iloc[0] == pytest.approx(demo.residents["inwoners"].fillna(0)[newly].sum())


def test_broker_areas_cover_every_buurt_once(demo) -> None:
    listed = [c for area in demo.summary["broker_areas"] for c in area["buurtcodes"]]
    assert sorted(listed) == sorted(demo.buurten["buurtcode"])
    assert demo.summary["brokers_needed"] == len(demo.summary["broker_areas"])
    assert demo.summary["broker_cost_per_year"] == demo.summary["brokers_needed"] * load_config().costs.broker_fte_per_year
    assert demo.buurten["makelaarsgebied"].notna().all()
    assert set(demo.buurten["kern"]) >= {"Westerveld", "Noorderhoek", "Oosterdorp"}
    assert demo.kernen["inwoners"].sum() == demo.buurten["inwoners"].sum()


def test_the_hot_spot_buurten_come_first_in_priority(demo) -> None:
    top = demo.buurten.sort_values("prioriteit", ascending=False).head(3)
    assert set(top["buurtcode"]) == {"BU99990401", "BU99990402", "BU99990403"}
    assert "priority" in demo.explanations and "0 (laag) tot 1 (hoog)" in demo.explanations["priority"]


def test_straight_line_runs_decide_too(demo_snapshot: Path) -> None:
    config = load_config()
    config = dataclasses.replace(config, thresholds=dataclasses.replace(config.thresholds, distance_method="straight_line"))
    result = pipeline.analyse(SnapshotReader(demo_snapshot), config)
    assert "Westerveld" in result.proposals.head(3)["kern"].tolist()


def test_cli_exact_makelaars_and_own_candidates(demo_snapshot: Path, tmp_path: Path) -> None:
    own = tmp_path / "kandidaten.csv"
    # the church hall of Westerveld the gemeente could rent: 8,000 euro a year
    own.write_text("naam;klasse;x;y;kosten_per_jaar\nZaal De Wereld;buurthuis;60900;480900;8000\n", encoding="utf-8")
    result = CliRunner().invoke(cli, [
        "run", "--snapshot", str(demo_snapshot), "--out", str(tmp_path / "out"), "-q",
        "--exact", "--makelaars", "4", "--kandidaten", str(own),
    ])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "voorbeeldgemeente" / "samenvatting.json").read_text(encoding="utf-8"))
    assert summary["siting_method"] == "exact" and summary["siting_status"] == "optimal"
    assert len(summary["broker_areas"]) == 4
    hall = [m for m in summary["new_meeting_points"] if m["name"] == "Zaal De Wereld"]
    assert hall and hall[0]["kind"] == "gemeente" and hall[0]["cost_per_year"] == 8000
    assert hall[0]["rank"] <= 3  # cheaper and as central as the gap's centre in the empty village
    assert "Nieuw ontmoetingspunt 1:" in result.stdout and "wijkmakelaar" in result.stdout
