"""What one run reads, gathered before the analysis starts: the snapshot and the gemeente's own files.

The snapshot folder is the seam for CBS, PDOK and OpenStreetMap; the gemeente's own meeting
points (``[own_points] file`` / ``--ontmoetingspunten``) and own candidate sites
(``[siting] candidates_file`` / ``--kandidaten``) and the scenarios (``--scenario FILE``,
:mod:`wijkanalyse.sources.scenario_file`) are read here too, so the analysis gets data, never a
path. :meth:`RunInputs.record` says in ``samenvatting.json``
(``inputs``) which files a run read, with their SHA-256, so a figure can be traced to its files.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wijkanalyse.config import Config
from wijkanalyse.sources import own_points
from wijkanalyse.sources.files import SnapshotReader
from wijkanalyse.sources.own_points import OwnPoints
from wijkanalyse.sources.scenario_file import ScenarioSpec, read_scenarios

__all__ = ["RunInputs", "read_inputs"]

log = logging.getLogger(__name__)


def _sha256(path: Path) -> str | None:
    try:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _file_record(path: Path | None, read: OwnPoints | None) -> dict[str, Any] | None:
    if path is None or read is None:
        return None
    return {
        "file": str(path),
        "sha256": _sha256(Path(path)),
        "rows_read": len(read.points),
        "rows_rejected": read.n_rejected,
        "rows_skipped": read.n_skipped,
    }


@dataclass(frozen=True)
class RunInputs:
    """Everything a run reads: the snapshot, the own points and own candidates when configured, the scenarios."""

    reader: SnapshotReader
    own_points: OwnPoints | None = None
    candidates: OwnPoints | None = None
    own_points_file: Path | None = None
    candidates_file: Path | None = None
    scenarios: tuple[ScenarioSpec, ...] = ()
    scenario_file: Path | None = None

    def record(self) -> dict[str, Any]:
        """The ``inputs`` entry of ``samenvatting.json`` (``scenarios`` only when a scenario file was read)."""
        record: dict[str, Any] = {
            "snapshot": str(self.reader.root),
            "own_points": _file_record(self.own_points_file, self.own_points),
            "candidates": _file_record(self.candidates_file, self.candidates),
        }
        if self.scenario_file is not None:
            record["scenarios"] = {
                "file": str(self.scenario_file), "sha256": _sha256(Path(self.scenario_file)),
                "scenarios": [s.name for s in self.scenarios],
            }
        return record


def read_candidates(config: Config) -> OwnPoints | None:
    """The gemeente's own candidate sites (``[siting] candidates_file``); bad rows are warned about, not fatal."""
    path = config.siting.candidates_file
    if path is None:
        return None
    read = own_points.read_own_points(path, config.venues, names_required=False)
    for problem in read.problems:
        log.warning("Eigen kandidaat overgeslagen: %s", problem)
    return read


def read_inputs(reader: SnapshotReader, config: Config, scenario_file: Path | None = None) -> RunInputs:
    """Read the gemeente's own files named in ``config`` beside ``reader``'s snapshot, and ``scenario_file``."""
    return RunInputs(
        reader=reader,
        own_points=own_points.read_configured(config),
        candidates=read_candidates(config),
        own_points_file=config.own_points.file,
        candidates_file=config.siting.candidates_file,
        scenarios=read_scenarios(scenario_file, config.venues) if scenario_file is not None else (),
        scenario_file=scenario_file,
    )
