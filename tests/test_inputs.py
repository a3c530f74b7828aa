"""The inputs seam: the gemeente's own files are read before the analysis, and the run records which it read."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from wijkanalyse import pipeline
from wijkanalyse.config import load_config
from wijkanalyse.sources.files import SnapshotReader
from wijkanalyse.sources.inputs import RunInputs, read_inputs


def _config_with_files(tmp_path: Path):
    points = tmp_path / "eigen.csv"
    # one good point and one row without coordinates (rejected, not fatal)
    points.write_text("naam;klasse;x;y\nHoeskamer De Brink;buurthuis;61500;481200\nKapot;buurthuis;;\n", encoding="utf-8")
    candidates = tmp_path / "kandidaten.csv"
    candidates.write_text("naam;klasse;x;y;kosten_per_jaar\nZaal De Wereld;buurthuis;60900;480900;8000\n", encoding="utf-8")
    config = load_config()
    config = dataclasses.replace(
        config,
        own_points=dataclasses.replace(config.own_points, file=points),
        siting=dataclasses.replace(config.siting, candidates_file=candidates),
    )
    return config, points, candidates


def test_the_run_records_the_files_it_read(demo_snapshot: Path, tmp_path: Path) -> None:
    config, points, candidates = _config_with_files(tmp_path)
    result = pipeline.analyse(SnapshotReader(demo_snapshot), config)
    record = result.summary["inputs"]
    assert record["snapshot"] == str(demo_snapshot)
    # SHA-256 computed here, independently of the tool
    assert record["own_points"] == {
        "file": str(points), "sha256": hashlib.sha256(points.read_bytes()).hexdigest(),
        "rows_read": 1, "rows_rejected": 1, "rows_skipped": 0,
    }
    assert record["candidates"]["sha256"] == hashlib.sha256(candidates.read_bytes()).hexdigest()
    assert record["candidates"]["rows_read"] == 1
    # the church hall in the village without any venue (see test_decide) is among the proposals
    assert "Zaal De Wereld" in {m["name"] for m in result.summary["new_meeting_points"]}


def test_the_analysis_reads_no_path_of_the_config(demo_snapshot: Path, tmp_path: Path) -> None:
    """Inputs read first; then the files are gone: the analysis still runs on what was read."""
    config, points, candidates = _config_with_files(tmp_path)
    reader = SnapshotReader(demo_snapshot)
    inputs = read_inputs(reader, config)
    points.unlink()
    candidates.unlink()
    result = pipeline.analyse(reader, config, inputs=inputs)
    assert "Hoeskamer De Brink" in set(result.venues["naam"])
    assert result.summary["n_own_points"] == 1


def test_no_own_files_no_records(demo_snapshot: Path) -> None:
    inputs = RunInputs(reader=SnapshotReader(demo_snapshot))
    assert inputs.record() == {"snapshot": str(demo_snapshot), "own_points": None, "candidates": None}
