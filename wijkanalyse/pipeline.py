"""sources -> model -> analysis -> outputs, for one snapshot folder.

``run`` is what the CLI calls; ``analyse`` and ``write_outputs`` are its two halves, for
notebooks and tests.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from wijkanalyse import __version__, model
from wijkanalyse.analysis import (
    buurt_coverage,
    composite_signal,
    find_gaps,
    local_moran_hotspots,
    network_distance,
    straight_line_distance,
)
from wijkanalyse.config import Config
from wijkanalyse.errors import DataError, WijkanalyseError
from wijkanalyse.result import HOTSPOT_LABELS, RunResult
from wijkanalyse.sources.files import SnapshotReader

__all__ = ["RunOutputs", "analyse", "prepare_output_dir", "run", "slug", "write_outputs"]

log = logging.getLogger("wijkanalyse")
STEPS = 7


@dataclass(frozen=True)
class RunOutputs:
    """The result of a run and the files it wrote."""

    result: RunResult
    folder: Path
    files: dict[str, Path]


def slug(name: str) -> str:
    """A folder name for a gemeente: lower case ASCII, words joined by '-' ("'s-Hertogenbosch" -> "s-hertogenbosch")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "gemeente"


def _step(n: int, text: str) -> None:
    log.info("[%d/%d] %s", n, STEPS, text)


def analyse(reader: SnapshotReader, config: Config) -> RunResult:
    """Read a snapshot and compute every figure; no files are written."""
    manifest = reader.manifest
    gemeente = manifest.gemeente_code
    table = reader.cbs_table_id
    threshold = config.thresholds.walk_m

    _step(1, f"CBS-kerncijfers {manifest.year} lezen ({table})")
    table_label = f"CBS table {table}"
    cbs = model.cbs_frame(reader.cbs_rows(), table_label)

    _step(2, "Buurtgrenzen lezen en koppelen aan de CBS-cijfers")
    buurten = model.buurten_frame(
        reader.buurten(), cbs, gemeente, config.indicators, table=table_label, wijk_names=reader.wijk_names()
    )
    log.info("    %d buurten in %s", len(buurten), manifest.gemeente_name)

    _step(3, "Inwoners lezen (CBS 100 m-vierkanten)")
    grid = reader.grid()
    residents = model.residents_frame(grid, buurten)
    suppressed = int(residents["inwoners"].isna().sum())
    log.info("    %d bewoonde vierkanten, %d met geheim aantal inwoners", len(residents), suppressed)

    _step(4, "Voorzieningen lezen (OpenStreetMap)")
    venues = model.venues_frame(reader.venue_features(config.osm_tags()), config.venues)
    meeting = venues[venues["ontmoetingspunt"].astype(bool)] if len(venues) else venues
    if meeting.empty:
        classes = ", ".join(config.meeting_point_classes)
        msg = (
            f"No meeting points in the OpenStreetMap data of {manifest.gemeente_name} for the classes {classes}. "
            "Check the [venues] tags in the config and the snapshot's osm.xml."
        )
        raise DataError(msg)
    log.info("    %d voorzieningen, waarvan %d ontmoetingspunt", len(venues), len(meeting))

    method = config.thresholds.distance_method
    if method == "network":
        _step(5, "Loopafstand over het netwerk berekenen (Dijkstra vanaf alle ontmoetingspunten)")
        edges = model.walk_edges(reader.walk_graph())
        log.info("    %d looproutes (%.0f km)", len(edges), edges["length"].sum() / 1000)
        distance = network_distance(residents.geometry, meeting.geometry, edges)
    else:
        _step(5, "Hemelsbrede afstand berekenen")
        distance = straight_line_distance(residents.geometry, meeting.geometry)
    residents["afstand_m"] = distance
    residents["binnen_drempel"] = distance <= threshold

    _step(6, "Bereik per buurt, signaal en hotspots (Local Moran)")
    coverage = buurt_coverage(residents, buurten.index, threshold)
    buurten = buurten.join(coverage)
    buurten["signaal"] = composite_signal(buurten, config.indicators)
    th = config.thresholds
    buurten = buurten.join(
        local_moran_hotspots(buurten, "signaal", alpha=th.hotspot_alpha, permutations=th.permutations, seed=th.seed)
        .drop(columns="hotspot_q")
    )
    gaps = find_gaps(residents, threshold)
    column_order = [
        "buurtcode", "buurtnaam", "wijkcode", "wijknaam", "inwoners", "inwoners_cbs",
        "inwoners_binnen_drempel", "aandeel_binnen_drempel", "afstand_mediaan_m",
        *config.indicators, "signaal", "hotspot", "hotspot_p", "geometry",
    ]
    buurten = buurten[column_order]
    for col in ("inwoners", "inwoners_cbs", "inwoners_binnen_drempel"):  # counts are whole numbers
        buurten[col] = buurten[col].round().astype("Int64")

    total = float(residents["inwoners"].fillna(0).sum())
    within = float(residents.loc[residents["binnen_drempel"], "inwoners"].fillna(0).sum())
    summary = {
        "gemeente_code": gemeente,
        "gemeente_name": manifest.gemeente_name,
        "year": manifest.year,
        "synthetic": manifest.synthetic,
        "threshold_m": threshold,
        "distance_method": method,
        "residents_total": total,
        "residents_within_threshold": within,
        "residents_beyond_threshold": total - within,
        "share_within_threshold": within / total if total > 0 else None,
        "n_buurten": len(buurten),
        "n_meeting_points": len(meeting),
        "n_venues": len(venues),
        "n_gaps": len(gaps),
        "cells_suppressed": suppressed,
        "hotspot_buurten": sorted(buurten.loc[buurten["hotspot"] == HOTSPOT_LABELS[1], "buurtcode"]),
        "cbs_table": table,
        "snapshot_created": manifest.created,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "wijkanalyse_version": __version__,
    }
    return RunResult(
        gemeente_code=gemeente,
        gemeente_name=manifest.gemeente_name,
        year=manifest.year,
        synthetic=manifest.synthetic,
        threshold_m=threshold,
        distance_method=method,
        buurten=buurten,
        residents=residents,
        venues=venues,
        gaps=gaps,
        indicators={k: ind.label for k, ind in config.indicators.items()},
        summary=summary,
        sources=manifest.sources,
    )


def prepare_output_dir(out_dir: Path, gemeente_name: str) -> Path:
    """Create ``out_dir/<slug>/`` and check it can be written to, before any work is done."""
    folder = Path(out_dir) / slug(gemeente_name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".schrijftest"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        msg = f"Cannot write to output folder {folder}: {e.strerror or e}. Choose another folder with --out."
        raise WijkanalyseError(msg) from e
    return folder


def write_outputs(result: RunResult, folder: Path) -> dict[str, Path]:
    """Write the map, GeoPackage, CSV, XLSX and key figures into ``folder``."""
    from wijkanalyse.outputs import maps, tables, write  # noqa: PLC0415 (folium is slow to import)

    try:
        files = {
            "kaart": maps.save_map(maps.build_map(result), folder / "kaart.html"),
            "geopackage": write.write_geopackage(result, folder / "buurten.gpkg"),
            "csv": write.write_csv(result, folder / "buurten.csv"),
            "xlsx": tables.write_xlsx(result, folder / "buurten.xlsx"),
            "samenvatting": write.write_summary(result.summary, folder / "samenvatting.json"),
        }
    except OSError as e:
        msg = f"Cannot write the outputs to {folder}: {e.strerror or e}. Check the disk and permissions."
        raise WijkanalyseError(msg) from e
    return files


def run(snapshot_dir: Path, config: Config, out_dir: Path) -> RunOutputs:
    """Analyse the snapshot in ``snapshot_dir`` and write the outputs to ``out_dir/<gemeente-slug>/``."""
    reader = SnapshotReader(Path(snapshot_dir))
    folder = prepare_output_dir(out_dir, reader.manifest.gemeente_name)
    result = analyse(reader, config)
    _step(7, f"Kaart en tabellen schrijven naar {folder}")
    files = write_outputs(result, folder)
    if not np.isfinite(result.residents["afstand_m"]).any():
        log.warning("Geen enkele inwoner kan een ontmoetingspunt bereiken: controleer het netwerk.")
    return RunOutputs(result=result, folder=folder, files=files)
