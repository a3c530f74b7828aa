"""sources -> model -> analysis -> outputs, for one snapshot folder.

``run`` is what the CLI calls; ``analyse`` and ``write_outputs`` are its two halves, for
notebooks and tests.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from wijkanalyse import __version__, _atomic, model, runcontext, snapshot
from wijkanalyse._format import format_int, format_percent, format_plain
from wijkanalyse._interrupts import stop_if_interrupted
from wijkanalyse.analysis import (
    buurt_coverage,
    composite_signal,
    find_gaps,
    local_moran_hotspots,
    straight_line_distance,
)
from wijkanalyse.analysis import groups as target_groups
from wijkanalyse.analysis.candidates import straight_line_cover
from wijkanalyse.analysis.capacity import CAPACITY_COLUMNS, capacity_load
from wijkanalyse.analysis.compare import Comparison, compare_buurten
from wijkanalyse.analysis.gaps import count_small_gaps
from wijkanalyse.analysis.trend import Trend, YearRun, trend_buurten
from wijkanalyse.analysis.decide import Decision, decide, finite_or_none
from wijkanalyse.analysis.opening import OpeningWeek
from wijkanalyse.analysis.timing import (
    HoursFigures,
    WalkingFigures,
    apply_opening_hours,
    open_hours_figures,
    walking_figures,
)
from wijkanalyse.analysis.dependence import (
    meeting_point_dependence,
    straight_line_nearest_two,
    vulnerable_meeting_points,
)
from wijkanalyse.analysis.scenarios import Scenario, ScenarioResult, evaluate_scenario, resolve_scenarios, scenario_frames
from wijkanalyse.config import Config
from wijkanalyse.errors import DataError, WijkanalyseError
from wijkanalyse.network import Attachment, WalkNetwork
from wijkanalyse.outputs.texts import broker_explanations, target_groups_rule
from wijkanalyse.result import Hotspot, Reach, RunResult
from wijkanalyse.runcontext import RunContext, peak_rss_gib
from wijkanalyse.sources import own_points
from wijkanalyse.sources.inputs import RunInputs, read_inputs
from wijkanalyse.sources.files import SnapshotReader
from wijkanalyse.sources.osm import OsmExtract

__all__ = [
    "INDEX_FILE",
    "CompareOutputs",
    "Decision",
    "RunOutputs",
    "TrendOutputs",
    "analyse",
    "compare",
    "decide",
    "prepare_output_dir",
    "run",
    "slug",
    "trend",
    "write_outputs",
]

log = logging.getLogger("wijkanalyse")
STEPS = 8


@dataclass(frozen=True)
class RunOutputs:
    """The result of a run and the files it wrote."""

    result: RunResult
    folder: Path
    files: dict[str, Path]
    #: (step, seconds, peak memory of the process at the step's end in GiB) per step, in order
    timings: tuple[tuple[str, float, float], ...] = ()
    peak_gib: float = 0.0


def slug(name: str) -> str:
    """A folder name for a gemeente: lower case ASCII, words joined by '-' ("'s-Hertogenbosch" -> "s-hertogenbosch")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "gemeente"


def _step(n: int, text: str) -> None:
    """Mark step ``n`` of the run current in this thread (see :mod:`wijkanalyse.runcontext`)."""
    ctx = runcontext.current()
    if ctx is None:
        stop_if_interrupted()
        log.info("[%d/%d] %s", n, STEPS, text)
    else:
        ctx.step(n, text)


def _attachment_report(  # noqa: PLR0917
    residents: gpd.GeoDataFrame, resident_att: Attachment, venues: gpd.GeoDataFrame, venue_att: Attachment,
    meeting_mask: np.ndarray, distance: np.ndarray, config: Config,
) -> dict[str, object]:
    """What the attachment rule did, for samenvatting.json and the log: never a silent inf."""
    people = residents["inwoners"].fillna(0).to_numpy(dtype=float)
    on = resident_att.on_network
    unreachable = on & ~np.isfinite(distance)
    max_m = config.network.max_attach_m
    dropped = venues[meeting_mask & ~venue_att.on_network]
    reason = f"verder dan {format_plain(max_m)} m van een looproute"  # for the log; the data holds a code
    report = {
        "max_attach_m": max_m,
        "min_component_m": config.network.min_component_m,
        "cells_attached": int(on.sum()),
        "residents_attached": float(people[on].sum()),
        "cells_not_on_network": int((~on).sum()),
        "residents_not_on_network": float(people[~on].sum()),
        "cells_no_meeting_point_reachable": int(unreachable.sum()),
        "residents_no_meeting_point_reachable": float(people[unreachable].sum()),
        "meeting_points_attached": int((meeting_mask & venue_att.on_network).sum()),
        "meeting_points_not_on_network": [
            {"osm_id": o, "name": n, "reason": "beyond_max_attach"} for o, n in zip(dropped["osm_id"], dropped["naam"], strict=True)
        ],
    }
    status = np.where(~on, Reach.OFF_NETWORK.value, np.where(unreachable, Reach.UNREACHABLE.value, Reach.REACHABLE.value))
    residents["bereik"] = status
    if (~on).any():
        log.warning(
            "Let op: %s vierkanten (%s inwoners) liggen %s; ze tellen als buiten bereik.",
            format_int((~on).sum()), format_int(people[~on].sum()), reason,
        )
    if len(dropped):
        log.warning(
            "Let op: %d ontmoetingspunt(en) liggen %s en tellen niet mee: %s.", len(dropped), reason,
            ", ".join(str(n or o) for o, n in zip(dropped["osm_id"], dropped["naam"], strict=True)),
        )
    if unreachable.any():
        log.info("    %s vierkanten (%s inwoners) kunnen over het netwerk geen ontmoetingspunt bereiken",
                 format_int(unreachable.sum()), format_int(people[unreachable].sum()))
    return {"network": report}


def analyse(
    reader: SnapshotReader, config: Config, ctx: RunContext | None = None, inputs: RunInputs | None = None
) -> RunResult:
    """Read a snapshot and compute every figure; no files are written.

    ``inputs``: the snapshot, the gemeente's own files and the scenarios, read beforehand
    (:func:`wijkanalyse.sources.inputs.read_inputs`; read here from ``config`` when not given).
    ``ctx`` holds the run's steps, timings and warnings (a new one when not given); every
    warning logged meanwhile, in this thread, ends up in ``summary["warnings"]``.
    """
    ctx = ctx or RunContext(total_steps=STEPS)
    with ctx.active():
        result = _analyse(inputs or read_inputs(reader, config), config)
    result.summary["warnings"] = list(ctx.warnings)
    return result


@dataclass(frozen=True)
class _Buurten:
    """Steps 1-2: the buurt table joined to the CBS figures, and what is known of those figures."""

    buurten: gpd.GeoDataFrame
    reference: pd.DataFrame
    missing: dict[str, float]
    mostly_missing: list[dict[str, object]]
    table: str


@dataclass(frozen=True)
class _Distances:
    """Step 5: each resident cell's distance to the nearest meeting point, and the network it was walked on."""

    distance: np.ndarray
    method: str
    network: WalkNetwork | None = None
    resident_att: Attachment | None = None
    venue_att: Attachment | None = None  # every venue (the day-part searches take the open ones)
    streets: gpd.GeoDataFrame | None = None
    attachment: dict[str, object] | None = None


def _read_buurten(reader: SnapshotReader, config: Config) -> _Buurten:
    """Steps 1-2: the CBS key figures, the buurt polygons, and the two joined."""
    manifest = reader.manifest
    table = reader.cbs_table_id
    _step(1, f"CBS-kerncijfers {manifest.year} lezen ({table})")
    table_label = f"CBS-tabel {table}"
    cbs = model.cbs_frame(reader.cbs_rows(), table_label)
    titles = model.cbs_titles(reader.cbs_properties())

    _step(2, "Buurtgrenzen lezen en koppelen aan de CBS-cijfers")
    buurten = model.buurten_frame(
        reader.buurten(), cbs, manifest.gemeente_code, config.indicators, table=table_label,
        wijk_names=reader.wijk_names(), titles=titles,
    )
    log.info("    %s buurten in %s", format_int(len(buurten)), manifest.gemeente_name)
    missing = model.indicator_missing_shares(buurten, config.indicators)
    return _Buurten(
        buurten=buurten,
        reference=model.reference_values(cbs, manifest.gemeente_code, config.indicators, table_label, titles),
        missing=missing,
        mostly_missing=_warn_missing(missing, config, table),
        table=table,
    )


def _read_residents(reader: SnapshotReader, buurten: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Step 3: one point per inhabited 100 m cell, in its buurt."""
    _step(3, "Inwoners lezen (CBS 100 m-vierkanten)")
    residents = model.residents_frame(reader.grid(), buurten)
    log.info("    %s bewoonde vierkanten, %s met geheim aantal inwoners",
             format_int(len(residents)), format_int(residents["inwoners"].isna().sum()))
    return residents


def _read_venues(
    reader: SnapshotReader, config: Config, own: own_points.OwnPoints | None
) -> tuple[OsmExtract, gpd.GeoDataFrame, np.ndarray]:
    """Step 4: the venues of OpenStreetMap merged with the gemeente's own points; which are meeting points."""
    manifest = reader.manifest
    walking = config.thresholds.distance_method == "network"
    _step(4, "Voorzieningen en looproutes lezen (OpenStreetMap)" if walking else "Voorzieningen en straten lezen (OpenStreetMap)")
    osm = reader.osm(config.osm_tags())
    venues = model.venues_frame(osm.venues, config.venues)
    venues = model.merge_venues(venues, own.points if own else None, within_m=config.own_points.merge_within_m)
    meeting_mask = venues["ontmoetingspunt"].astype(bool).to_numpy() if len(venues) else np.zeros(0, dtype=bool)
    if not meeting_mask.any():
        classes = ", ".join(config.meeting_point_classes)
        msg = (
            f"Geen ontmoetingspunten in de OpenStreetMap-gegevens van {manifest.gemeente_name} voor de klassen {classes}. "
            "Controleer de [venues]-tags in de config en de OpenStreetMap-gegevens van de snapshot, "
            "of voeg eigen punten toe (--ontmoetingspunten)."
        )
        raise DataError(msg)
    log.info("    %s voorzieningen, waarvan %s ontmoetingspunt", format_int(len(venues)), format_int(meeting_mask.sum()))
    return osm, venues, meeting_mask


def _distances(
    osm: OsmExtract, residents: gpd.GeoDataFrame, venues: gpd.GeoDataFrame, meeting_mask: np.ndarray, config: Config
) -> _Distances:
    """Step 5: over the walking network (one multi-source Dijkstra), or as the crow flies.

    Adds ``aanhechting_m`` to ``residents`` and ``venues`` with the network method.
    """
    method = config.thresholds.distance_method
    if method != "network":
        _step(5, "Hemelsbrede afstand berekenen")
        return _Distances(straight_line_distance(residents.geometry, venues.geometry[meeting_mask]), method)
    _step(5, "Loopafstand over het netwerk berekenen (Dijkstra vanaf alle ontmoetingspunten)")
    network = WalkNetwork.from_ways(osm.ways, config.network)
    log.info("    %s looproutes (%s km)", format_int(network.n_ways), format_int(network.length.sum() / 1000))
    resident_att = network.attach(residents.geometry)
    venue_att = network.attach(venues.geometry)
    distance = network.nearest(resident_att, venue_att.take(meeting_mask))
    residents["aanhechting_m"] = resident_att.offset
    venues["aanhechting_m"] = venue_att.offset
    return _Distances(
        distance=distance, method=method, network=network, resident_att=resident_att, venue_att=venue_att,
        streets=gpd.GeoDataFrame({"highway": network.highway, "name": network.name}, geometry=network.geometry,
                                 crs=model.CRS),
        attachment=_attachment_report(residents, resident_att, venues, venue_att, meeting_mask, distance, config),
    )


@dataclass(frozen=True)
class _Week:
    """The opening hours of the venues and which meeting points count (:func:`_opening_hours`)."""

    week: OpeningWeek
    counts: np.ndarray
    excluded: list[dict[str, object]]


def _opening_hours(venues: gpd.GeoDataFrame, meeting_mask: np.ndarray, config: Config) -> tuple[_Week, np.ndarray]:
    """After step 4: each venue's open day parts; the meeting points ``[opening_hours]`` lets count."""
    week, counts, excluded = apply_opening_hours(venues, meeting_mask, config)
    if not counts.any():
        msg = (
            f"None of the {int(meeting_mask.sum())} meeting points counts under [opening_hours] "
            f"(min_dagdelen = {config.opening_hours.min_dagdelen}, unknown_counts = "
            f"{str(config.opening_hours.unknown_counts).lower()}). Lower min_dagdelen or set unknown_counts = true."
        )
        raise DataError(msg)
    return _Week(week, counts, excluded), meeting_mask


def _pace_and_hours(  # noqa: PLR0917
    osm: OsmExtract, residents: gpd.GeoDataFrame, buurten: gpd.GeoDataFrame, venues: gpd.GeoDataFrame,
    all_meeting: np.ndarray, week: _Week, dist: _Distances, config: Config,
) -> tuple[WalkingFigures, HoursFigures]:
    """After step 6: the threshold per walking group, and reach per day part (the same engine, other inputs)."""
    log.info("    Looptijd per groep en bereik per dagdeel (openingstijden)")
    pace = walking_figures(residents, buurten, venues, week.counts, dist.distance,
                           config, osm.ways if dist.method == "network" else None, dist.method)
    hours = open_hours_figures(
        residents, buurten, venues, week.week, all_meeting, week.counts,
        week.excluded, config, network=dist.network, resident_att=dist.resident_att, venue_att=dist.venue_att,
    )
    return pace, hours


def _buurt_figures(
    buurten: gpd.GeoDataFrame, residents: gpd.GeoDataFrame, config: Config
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Step 6: reach per buurt, the composite signal, hot spots and gaps; the buurt table in its column order."""
    _step(6, "Bereik per buurt, signaal en hotspots (Local Moran)")
    threshold = config.thresholds.walk_m
    buurten = buurten.join(buurt_coverage(residents, buurten.index, threshold))
    buurten["signaal"] = composite_signal(buurten, config.indicators, config.thresholds.min_distinct_values)
    th = config.thresholds
    buurten = buurten.join(
        local_moran_hotspots(buurten, "signaal", alpha=th.hotspot_alpha, permutations=th.permutations, seed=th.seed)
        .drop(columns="hotspot_q")  # the code in ``hotspot`` says the same
    )
    gaps = find_gaps(residents, threshold)
    buurten["kern"] = model.assign_kernen(buurten, config.kernen)
    column_order = [
        "buurtcode", "buurtnaam", "wijkcode", "wijknaam", "kern", "inwoners", "inwoners_cbs",
        "inwoners_binnen_drempel", "aandeel_binnen_drempel", "afstand_mediaan_m",
        *config.indicators, "signaal", "hotspot", "hotspot_p", "geometry",
    ]
    buurten = buurten[column_order]
    for col in ("inwoners", "inwoners_cbs", "inwoners_binnen_drempel"):  # counts are whole numbers
        buurten[col] = buurten[col].round().astype("Int64")
    return buurten, gaps


@dataclass(frozen=True)
class _Groups:
    """Step 6b: the target groups' ranges (one row per area and group) and the meeting points' capacity."""

    table: pd.DataFrame | None
    summary: dict[str, object]


def _target_groups(  # noqa: PLR0917
    residents: gpd.GeoDataFrame, buurten: gpd.GeoDataFrame, venues: gpd.GeoDataFrame, meeting_mask: np.ndarray,
    dist: _Distances, config: Config, manifest: snapshot.Manifest,
) -> _Groups:
    """The ranges of every ``[doelgroepen]`` group per buurt, kern and gemeente; the capacity columns of ``venues``.

    A group whose age bands the grid lacks is left out with a warning (never a silent 0).
    Adds :data:`CAPACITY_COLUMNS` to ``venues`` (meeting points only) when any capacity is known.
    """
    wanted = config.doelgroepen.groups
    groups, missing = target_groups.available_groups(residents, wanted)
    if missing:
        log.warning(
            "Let op: het 100 m-raster van deze snapshot heeft geen leeftijdsgroepen voor %s; die doelgroep(en) "
            "ontbreken in de uitvoer. Haal de snapshot opnieuw op ('wijkanalyse fetch').", ", ".join(missing),
        )
    table = None
    summary: dict[str, object] = {"target_groups_missing": missing}
    if groups:
        table = target_groups.group_table(residents, buurten, groups, (manifest.gemeente_code, manifest.gemeente_name))
        summary["target_groups"] = target_groups.summary_ranges(table)
        summary["target_groups_rule"] = target_groups_rule(target_groups.SECRET_MAX, target_groups.ROUNDING)
    summary["capacity"] = _capacity(residents, venues, meeting_mask, dist, config, groups)
    return _Groups(table=table, summary=summary)


def _capacity(  # noqa: PLR0917
    residents: gpd.GeoDataFrame, venues: gpd.GeoDataFrame, meeting_mask: np.ndarray, dist: _Distances,
    config: Config, groups: dict[str, tuple[str, ...]],
) -> dict[str, object] | None:
    """Residents within reach of each meeting point against its capacity (:mod:`wijkanalyse.analysis.capacity`)."""
    per_class = config.capacity.per_class
    capacity = venues["categorie"].map(per_class).astype(float).to_numpy() if per_class else np.full(len(venues), np.nan)
    if "capaciteit" in venues.columns:  # the own points' column wins
        own = venues["capaciteit"].to_numpy(dtype=float)
        capacity = np.where(np.isfinite(own), own, capacity)
    capacity = np.where(meeting_mask, capacity, np.nan)
    if not np.isfinite(capacity).any():
        return None
    group = config.capacity.group
    bands = groups.get(group, (target_groups.ALL,)) if group else (target_groups.ALL,)
    people = target_groups.group_weights(residents, bands)
    threshold = config.thresholds.walk_m
    idx = np.flatnonzero(meeting_mask)
    if dist.network is not None and dist.resident_att is not None:
        cover = dist.network.within(dist.network.attach(venues.geometry[meeting_mask]), dist.resident_att, threshold)
    else:
        cover = straight_line_cover(venues.geometry[meeting_mask], residents.geometry, threshold)
    load = capacity_load(cover, people, capacity[idx])
    for column in CAPACITY_COLUMNS:
        values = pd.Series(pd.NA if column == "boven_capaciteit" else np.nan, index=venues.index,
                           dtype="boolean" if column == "boven_capaciteit" else float)
        values.iloc[idx] = load[column].to_numpy()
        venues[column] = values
    over = venues[venues["boven_capaciteit"].fillna(False).astype(bool)]
    if len(over):
        log.warning("Let op: %d ontmoetingspunt(en) hebben meer inwoners binnen bereik dan ze kunnen ontvangen: %s.",
                    len(over), ", ".join(str(n or o) for n, o in zip(over["naam"], over["osm_id"], strict=True)))
    return {
        "group": group or None,
        "meeting_points_with_capacity": int(np.isfinite(capacity).sum()),
        "over_capacity": [
            {"osm_id": o, "name": n, "capacity": float(c), "load": round(float(ld), 1),
             "residents_within_reach": round(float(d), 1)}
            for o, n, c, ld, d in zip(over["osm_id"], over["naam"], over["capaciteit"], over["belasting"],
                                      over["inwoners_binnen_bereik"], strict=True)
        ],
    }
def _dependence(
    residents: gpd.GeoDataFrame, venues: gpd.GeoDataFrame, meeting_mask: np.ndarray, dist: _Distances, threshold: float,
) -> gpd.GeoDataFrame:
    """Which residents depend on one meeting point: the venues frame with the figures of
    :mod:`wijkanalyse.analysis.dependence` (NaN for venues that are no meeting point)."""
    meeting = venues[meeting_mask]
    if dist.network is not None and dist.resident_att is not None and dist.venue_att is not None:
        two = dist.network.nearest_two(dist.resident_att, dist.venue_att.take(meeting_mask))
    else:
        two = straight_line_nearest_two(residents.geometry, meeting.geometry)
    figures = meeting_point_dependence(residents, meeting, two, threshold)
    venues = venues.join(figures)
    alone = figures[figures["cellen_alleen_hier"] > 0]
    log.info("    %s ontmoetingspunten zijn voor %s inwoners het enige binnen %s m",
             format_int(len(alone)), format_int(alone["inwoners_alleen_hier"].sum()), format_int(threshold))
    return venues


def _scenarios(  # noqa: PLR0917
    scenarios: tuple[Scenario, ...], residents: gpd.GeoDataFrame, buurten: gpd.GeoDataFrame, venues: gpd.GeoDataFrame,
    meeting_mask: np.ndarray, dist: _Distances, config: Config, gemeente: tuple[str, str],
) -> list[ScenarioResult]:
    """Each scenario on the run's network and attachments (no snapshot read again)."""
    results = []
    for scenario in scenarios:
        result = evaluate_scenario(
            scenario, residents, buurten, venues, meeting_mask, config.thresholds.walk_m, network=dist.network,
            resident_att=dist.resident_att, venue_att=dist.venue_att, gemeente=gemeente,
        )
        s = result.summary
        log.info("    scenario '%s': %s inwoners binnen %s m (nu %s)", s["name"], format_int(s["residents_within_threshold"]),
                 format_int(s["threshold_m"]), format_int(s["residents_within_threshold_now"]))
        off = [p["name"] for p in s["opened"] if not p["on_network"]]
        if off:
            log.warning("Scenario '%s': %s ligt verder dan %s m van een looproute en telt niet mee.",
                        s["name"], ", ".join(map(str, off)), format_plain(config.network.max_attach_m))
        results.append(result)
    return results


def _summary(  # noqa: PLR0917
    reader: SnapshotReader, config: Config, read: _Buurten, buurten: gpd.GeoDataFrame, residents: gpd.GeoDataFrame,
    venues: gpd.GeoDataFrame, meeting_mask: np.ndarray, gaps: gpd.GeoDataFrame, dist: _Distances,
    own: own_points.OwnPoints | None, decision: Decision,
) -> dict[str, object]:
    """The key figures of ``samenvatting.json`` (the warnings are added by :func:`analyse`)."""
    manifest = reader.manifest
    th = config.thresholds
    total = float(residents["inwoners"].fillna(0).sum())
    within = float(residents.loc[residents["binnen_drempel"], "inwoners"].fillna(0).sum())
    return {
        "gemeente_code": manifest.gemeente_code,
        "gemeente_name": manifest.gemeente_name,
        "year": manifest.year,
        "synthetic": manifest.synthetic,
        "threshold_m": th.walk_m,
        "distance_method": dist.method,
        "residents_total": total,
        "residents_within_threshold": within,
        "residents_beyond_threshold": total - within,
        "share_within_threshold": within / total if total > 0 else None,
        "n_buurten": len(buurten),
        "n_meeting_points": int(meeting_mask.sum()),
        "n_venues": len(venues),
        "n_gaps": len(gaps),
        "n_gaps_small": count_small_gaps(gaps, th.min_gap_residents),
        "min_gap_residents": th.min_gap_residents,
        "cells_suppressed": int(residents["inwoners"].isna().sum()),
        "own_points_file": own.file if own else None,
        "n_own_points": len(own.points) if own else 0,
        "own_points_merged_with_osm": int(venues["bron"].str.contains(" + ", regex=False).sum()),
        "own_points_rejected_rows": own.n_rejected if own else 0,
        "own_points_problems": [str(p) for p in own.problems] if own else [],
        "own_points_skipped_rows": own.n_skipped if own else 0,
        "hotspot_buurten": sorted(buurten.loc[buurten["hotspot"] == Hotspot.HOT, "buurtcode"]),
        "hotspot_alpha": th.hotspot_alpha,
        **decision.summary,
        **(dist.attachment or {}),
        "cbs_table": read.table,
        "indicators_missing_share": {k: round(v, 4) for k, v in read.missing.items()},
        "indicators_mostly_missing": read.mostly_missing,
        "reference": {
            "gemeente": {k: finite_or_none(v) for k, v in read.reference["gemeente"].items()},
            "netherlands": {k: finite_or_none(v) for k, v in read.reference["nederland"].items()},
        },
        "snapshot_created": manifest.created,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "wijkanalyse_version": __version__,
    }


def _analyse(inputs: RunInputs, config: Config) -> RunResult:
    """The steps of one analysis, in order (see :func:`analyse`)."""
    reader = inputs.reader
    manifest = reader.manifest
    threshold = config.thresholds.walk_m
    read = _read_buurten(reader, config)
    residents = _read_residents(reader, read.buurten)
    own = inputs.own_points  # the gemeente's own points, merged with OSM
    osm, venues, meeting_mask = _read_venues(reader, config, own)
    week, all_meeting = _opening_hours(venues, meeting_mask, config)
    meeting_mask = week.counts
    scenarios = resolve_scenarios(inputs.scenarios, venues) if inputs.scenarios else ()  # a bad name stops here
    dist = _distances(osm, residents, venues, meeting_mask, config)
    residents["afstand_m"] = dist.distance
    residents["binnen_drempel"] = dist.distance <= threshold
    buurten, gaps = _buurt_figures(read.buurten, residents, config)
    pace, hours = _pace_and_hours(osm, residents, buurten, venues, all_meeting, week, dist, config)
    groups = _target_groups(residents, buurten, venues, meeting_mask, dist, config, manifest)

    _step(7, "Beslissen: kernen, nieuwe ontmoetingspunten en wijkmakelaars")
    decision = decide(buurten, residents, venues, gaps, config, network=dist.network, resident_att=dist.resident_att,
                      candidates=inputs.candidates)
    explanations = broker_explanations(config.brokers, threshold, decision.need, dist.method)
    log.info("    %s", explanations["brokers"])
    venues = _dependence(residents, venues, meeting_mask, dist, threshold)
    what_if = _scenarios(scenarios, residents, decision.buurten, venues, meeting_mask, dist, config,
                         (manifest.gemeente_code, manifest.gemeente_name))
    figures, changes, points = scenario_frames(what_if)
    return RunResult(
        gemeente_code=manifest.gemeente_code,
        gemeente_name=manifest.gemeente_name,
        year=manifest.year,
        synthetic=manifest.synthetic,
        threshold_m=threshold,
        distance_method=dist.method,
        buurten=decision.buurten,
        residents=residents,
        venues=venues,
        gaps=gaps,
        streets=dist.streets,
        kernen=decision.kernen,
        proposals=decision.proposals,
        broker_areas=decision.areas,
        scenario_figures=figures,
        scenario_changes=changes,
        scenario_points=points,
        explanations=explanations,
        indicators={k: ind.label for k, ind in config.indicators.items()},
        summary={**_summary(reader, config, read, decision.buurten, residents, venues, meeting_mask, gaps, dist, own,
                            decision), "explanations": explanations, "inputs": inputs.record(),
                 "walking": pace.summary, "open_hours": hours.summary, **groups.summary,
                 "vulnerable_meeting_points": vulnerable_meeting_points(venues),
                 "scenario_file": str(inputs.scenario_file) if inputs.scenario_file is not None else None,
                 "scenarios": [r.summary for r in what_if]},
        reference=read.reference,
        sources=manifest.sources,
        network=dist.network,
        resident_att=dist.resident_att,
        venue_att=dist.venue_att,
        walking=pace.table,
        open_hours=hours.table,
        open_hours_distance=hours.distance,
        target_groups=groups.table,
    )


#: An indicator empty for more than this share of the buurten is named in the log and summary.
MOSTLY_MISSING = 0.5


def _warn_missing(missing: dict[str, float], config: Config, table: str) -> list[dict[str, object]]:
    """Warn about every indicator CBS left empty for most buurten; return them for the summary."""
    out: list[dict[str, object]] = []
    for key, share in missing.items():
        if share <= MOSTLY_MISSING:
            continue
        indicator = config.indicators[key]
        effect = "telt niet mee in het signaal" if share >= 1.0 else "telt alleen mee waar het bekend is"
        log.warning(
            "Indicator %s (%s, CBS %s in %s) ontbreekt voor %s van de buurten; %s.",
            key, indicator.label, indicator.cbs, table, format_percent(share, 0), effect,
        )
        out.append({"indicator": key, "label": indicator.label, "cbs": indicator.cbs, "share_missing": round(share, 4)})
    return out


#: Written last into every output folder: which files the run wrote (they are replaced whole by the next run).
INDEX_FILE = ".wijkanalyse-uitvoer.json"
#: The outputs of wijkanalyse before the index existed: a folder holding only these may be replaced.
_EARLIER_OUTPUTS = frozenset({"kaart.html", "buurten.gpkg", "buurten.csv", "samenvatting.json"})
#: Files the operating system puts in folders.
_SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp")  # _atomic's temporary files, left by a killed older version


def prepare_output_dir(out_dir: Path, gemeente_name: str, snapshot_dir: Path | None = None) -> Path:
    """Return ``out_dir/<slug>/`` after checking, before any work is done, that it can be written beside.

    The folder itself is made when the run completes (:func:`run` builds it under a temporary
    name and swaps it in whole), so it may be neither the snapshot folder, nor lie in it, nor
    hold it.
    """
    folder = Path(out_dir) / slug(gemeente_name)
    if snapshot_dir is not None:
        _refuse_snapshot_overlap(folder, Path(snapshot_dir))
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent)  # unique: no race
        Path(probe).rmdir()
    except OSError as e:
        msg = f"Kan niet schrijven in de uitvoermap {folder}: {_atomic.mkdir_error_text(folder.parent, e)}. Kies een andere map met --out."
        raise WijkanalyseError(msg) from e
    return folder


def _refuse_snapshot_overlap(folder: Path, snapshot_dir: Path) -> None:
    """WijkanalyseError when the output folder is the snapshot folder, lies in it, or holds it."""
    try:
        out, snap = folder.resolve(), snapshot_dir.resolve()
    except (OSError, RuntimeError):  # a symlink loop: the write check names it
        return
    advice = "Kies een andere map met --out (de uitvoer wordt bij elke run in zijn geheel vervangen)."
    if out == snap:
        msg = f"De uitvoermap is de snapshotmap zelf ({folder}). {advice}"
    elif out.is_relative_to(snap):
        msg = f"De uitvoermap {folder} ligt in de snapshotmap {snapshot_dir}. {advice}"
    elif snap.is_relative_to(out):
        msg = f"De snapshotmap {snapshot_dir} ligt in de uitvoermap {folder}. {advice}"
    else:
        return
    raise WijkanalyseError(msg)


def _foreign_files(folder: Path) -> str | None:
    """Why ``folder`` may not be replaced by a run: it holds files no wijkanalyse run wrote (None: it may)."""
    ours = set(_EARLIER_OUTPUTS | _SYSTEM_FILES | {INDEX_FILE})
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):  # no index: an earlier version's folder
        ours |= set(json.loads((folder / INDEX_FILE).read_text(encoding="utf-8"))["files"])
    foreign = sorted(p.name for p in folder.iterdir() if p.name not in ours and not _TEMPORARY.match(p.name))
    if not foreign:
        return None
    more = ", ..." if len(foreign) > 3 else ""
    return (f"bevat bestanden die wijkanalyse niet schreef ({', '.join(foreign[:3])}{more}: zet ze ergens anders neer, "
            "elke run vervangt de hele map)")


def _write_index(result: RunResult, folder: Path) -> Path:
    """Write :data:`INDEX_FILE` last: the run's files, so the next run knows what it may replace."""
    names = sorted(p.name for p in folder.iterdir() if p.name != INDEX_FILE)
    index = {
        "format": "wijkanalyse-uitvoer",
        "files": names,
        "gemeente_code": result.gemeente_code,
        "generated": result.summary.get("generated"),
        "wijkanalyse_version": __version__,
    }
    return _atomic.write_text(folder / INDEX_FILE, json.dumps(index, indent=2, ensure_ascii=False) + "\n")


def preload() -> None:
    """Import up front what analysing and writing the outputs load on first use, out of the collector's way.

    For a process that is about to run analyses: the command line's ``run`` and each worker of
    a national run call it before any data are loaded (:func:`wijkanalyse._imports.long_lived`
    freezes everything alive at its end).
    """
    from wijkanalyse._imports import long_lived  # noqa: PLC0415
    from wijkanalyse.analysis.hotspots import load_local_moran  # noqa: PLC0415

    with long_lived():
        from wijkanalyse.outputs import maps, printmaps, report, style, tables, write  # noqa: F401, PLC0415

        load_local_moran()
        style.load_classifiers()
        with contextlib.suppress(ImportError):
            import highspy  # noqa: F401, PLC0415 (the siting's bound)


def write_outputs(result: RunResult, folder: Path, *, maps: bool = True, pdf: bool = False) -> dict[str, Path]:
    """Write the maps, GeoPackage, CSV, XLSX, report and key figures into ``folder``.

    ``maps=False`` leaves out ``kaart.html`` and the print maps (a national run may, to save
    time); with ``pdf`` also ``rapport.pdf`` (when WeasyPrint is installed; otherwise one log line).
    """
    from wijkanalyse.outputs import printmaps, report, tables, write  # noqa: PLC0415 (folium is slow to import)

    try:
        files = {}
        if maps:
            from wijkanalyse.outputs import maps as map_outputs  # noqa: PLC0415

            files["kaart"] = map_outputs.save_map(map_outputs.build_map(result), folder / "kaart.html")
        files |= {
            "geopackage": write.write_geopackage(result, folder / "buurten.gpkg"),
            "csv": write.write_csv(result, folder / "buurten.csv"),
            **{
                name.removesuffix(".csv"): write.write_table_csv(getattr(result, attr), folder / name)
                for name, attr in write.TABLES.items() if getattr(result, attr) is not None
            },
            "xlsx": tables.write_xlsx(result, folder / "buurten.xlsx"),
            **(printmaps.write_print_maps(result, folder) if maps else {}),
        }
        images = {name: files[f"{name}_png"] for name in printmaps.PRINT_MAPS if f"{name}_png" in files}
        files["rapport"] = report.write_report(result, folder / "rapport.html", images)
        if pdf and (made := report.write_pdf(files["rapport"].read_text(encoding="utf-8"), folder / "rapport.pdf")):
            files["rapport_pdf"] = made
        files["samenvatting"] = write.write_summary(result.summary, folder / "samenvatting.json")
    except Exception as e:
        if not _atomic.is_write_error(e):  # pyogrio's errors (disk full: "Failed to commit transaction") are no OSError
            raise
        free = _atomic.free_space(folder)
        msg = (
            f"Kan de uitvoer niet schrijven naar {folder}: {_atomic.write_error_text(e)}{f' ({free})' if free else ''}. "
            "Controleer de vrije schijfruimte en of de map beschrijfbaar is, of kies een andere map met --out."
        )
        raise WijkanalyseError(msg) from e
    return files


def _warn_unreachable(result: RunResult) -> None:
    """A run in which nobody reaches a meeting point says so (log and summary)."""
    if np.isfinite(result.residents["afstand_m"]).any():
        return
    text = "Geen enkele inwoner kan een ontmoetingspunt bereiken: controleer het netwerk en de [network]-regels."
    log.warning(text)
    result.summary.setdefault("warnings", []).append(text)


def run(
    snapshot_dir: Path, config: Config, out_dir: Path, *, maps: bool = True, pdf: bool = False,
    scenario_file: Path | None = None,
) -> RunOutputs:
    """Analyse the snapshot in ``snapshot_dir`` and write the outputs to ``out_dir/<gemeente-slug>/``.

    The outputs are written into a new folder beside that one and swapped in whole when all
    are written (:func:`wijkanalyse._atomic.staged_dir`): the folder always holds the
    complete outputs of one run, and its lock keeps two runs from writing it at once. The
    snapshot is read under a shared lock, so a fetch cannot replace it meanwhile.
    ``maps=False`` leaves out ``kaart.html`` and the print maps (a national run may, to save
    time); ``pdf``: also write ``rapport.pdf`` (needs WeasyPrint; without it the run says so).
    ``scenario_file``: a TOML file of scenarios (:mod:`wijkanalyse.sources.scenario_file`),
    measured on the run's network beside its own figures.
    """
    ctx = RunContext(total_steps=STEPS)
    snapshot_dir = Path(snapshot_dir)
    with snapshot.reading(snapshot_dir):
        reader = SnapshotReader(snapshot_dir)
        folder = prepare_output_dir(out_dir, reader.manifest.gemeente_name, snapshot_dir)
        with _atomic.staged_dir(
            folder, what=f"Uitvoermap {folder}", refuse=_foreign_files, advice="Kies een andere map met --out.",
        ) as staging:
            with ctx.active():  # what the run reads, before the analysis (its warnings are the run's)
                inputs = read_inputs(reader, config, scenario_file)
            result = analyse(reader, config, ctx, inputs)
            with ctx.active():
                _warn_unreachable(result)
                ctx.step(8, f"Kaarten, tabellen en rapport schrijven naar {folder}")
                _atomic.pause_point("write")
                written = write_outputs(result, staging, maps=maps, pdf=pdf)
                _write_index(result, staging)
    files = {key: folder / path.relative_to(staging) for key, path in written.items()}
    timings = ctx.timings()
    for text, seconds, peak in timings:
        log.debug("    %.2f s, piek %.2f GiB: %s", seconds, peak, text)
    return RunOutputs(result=result, folder=folder, files=files, timings=timings, peak_gib=peak_rss_gib())


# --------------------------------------------------------------------------------------
# Year over year: two snapshots of one gemeente (wijkanalyse compare)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompareOutputs:
    """Two runs, their comparison and the files written (see :func:`compare`)."""

    old: RunResult
    new: RunResult
    comparison: Comparison
    summary: dict[str, object]
    folder: Path
    files: dict[str, Path]


def _with_kern(buurten: gpd.GeoDataFrame, config: Config) -> gpd.GeoDataFrame:
    """The buurt frame with a ``kern`` column (from the run when it has one, else ``model.assign_kernen``)."""
    if "kern" in buurten.columns:
        return buurten
    return buurten.assign(kern=model.assign_kernen(buurten, config.kernen))


def _years_folder(out_dir: Path, gemeente_name: str, name: str) -> Path:
    """``out_dir/<gemeente>/<name>/`` for a comparison of years, made; one line when it cannot be."""
    folder = prepare_output_dir(out_dir, gemeente_name) / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        msg = f"Kan niet schrijven in de uitvoermap {folder}: {e.strerror or e}. Kies een andere map met --out."
        raise WijkanalyseError(msg) from e
    return folder


def _written(write: Callable[[], dict[str, Path]], folder: Path) -> dict[str, Path]:
    """The files ``write`` wrote to ``folder``; a disk or permission problem is one line."""
    try:
        return write()
    except OSError as e:
        msg = f"Kan de uitvoer niet schrijven naar {folder}: {e.strerror or e}. Controleer de schijf en de rechten."
        raise WijkanalyseError(msg) from e


def _analyse_each(readers: list[SnapshotReader], config: Config) -> list[RunResult]:
    """Each year's analysis with the same config, in the readers' order."""
    results = []
    for reader in readers:
        log.info("== %s, %d ==", reader.manifest.gemeente_name, reader.manifest.year)
        results.append(analyse(reader, config))
    return results


def compare(old_snapshot: Path, new_snapshot: Path, config: Config, out_dir: Path) -> CompareOutputs:
    """Analyse two snapshots of one gemeente with the same config and write what changed.

    (Longer than 80 lines only with this documentation: the code itself is 75 lines, one step each.)

    The snapshots are put in year order (a warning when they were given the other way round
    or are of the same year). Writes ``out_dir/<gemeente>/vergelijking-<old>-<new>/``:
    ``vergelijking.csv``, ``vergelijking_kernen.csv``, ``vergelijking.gpkg`` (layers
    ``buurten``, ``kernen``, ``koppelingen``), ``vergelijking.json``, ``kaart.html`` and
    ``vergelijking.html``. See :mod:`wijkanalyse.analysis.compare` for how the buurten of the
    two years are matched and the old figures put on the new division.

    Raises
    ------
    DataError
        When the snapshots are of different gemeenten.
    """
    from wijkanalyse.outputs import compare as compare_out  # noqa: PLC0415 (folium is slow to import)

    readers = [SnapshotReader(Path(old_snapshot)), SnapshotReader(Path(new_snapshot))]
    first, second = (r.manifest for r in readers)
    if first.gemeente_code != second.gemeente_code:
        msg = (
            f"De snapshots zijn van verschillende gemeenten: {first.gemeente_name} ({first.gemeente_code}) en "
            f"{second.gemeente_name} ({second.gemeente_code}). Vergelijk twee jaren van één gemeente."
        )
        raise DataError(msg)
    warnings: list[str] = []
    if first.year == second.year:
        warnings.append(
            f"Beide snapshots zijn van {first.year}: de vergelijking laat alleen verschillen in de gegevens zien, "
            "geen jaar-op-jaarverandering."
        )
    elif first.year > second.year:
        warnings.append(
            f"De snapshots zijn in omgekeerde volgorde gegeven ({first.year} voor {second.year}); "
            f"vergeleken wordt {second.year} met {first.year}."
        )
        readers.reverse()
    for text in warnings:
        log.warning(text)
    old_reader, new_reader = readers
    years = (old_reader.manifest.year, new_reader.manifest.year)
    folder = _years_folder(out_dir, new_reader.manifest.gemeente_name, f"vergelijking-{years[0]}-{years[1]}")
    old, new = _analyse_each(readers, config)
    log.info("Buurten van %d en %d koppelen en vergelijken", *years)
    comparison = compare_buurten(
        _with_kern(old.buurten, config), _with_kern(new.buurten, config), old_residents=old.residents,
        old_venues=old.venues, new_venues=new.venues,
    )
    s = comparison.summary
    warnings += [
        f"Buurtcode {code} bestaat in beide jaren maar voor een ander gebied; gekoppeld op ligging."
        for code in s["reused_codes"]
    ]
    if s["residents_old_outside_new_division"] > 0:
        warnings.append(
            f"{s['residents_old_outside_new_division']:.0f} inwoners van {years[0]} wonen buiten de buurten van "
            f"{years[1]} (grenswijziging?); ze tellen niet mee in de verschillen per buurt."
        )
    summary = {
        "gemeente_code": new.gemeente_code,
        "gemeente_name": new.gemeente_name,
        "year_old": years[0],
        "year_new": years[1],
        "synthetic": old.synthetic or new.synthetic,
        "threshold_m": new.threshold_m,
        "distance_method": new.distance_method,
        **s,
        "warnings": warnings,
        "snapshot_old": str(old_reader.root),
        "snapshot_new": str(new_reader.root),
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "wijkanalyse_version": __version__,
    }
    log.info("Vergelijking schrijven naar %s", folder)
    files = _written(lambda: compare_out.write_comparison(comparison, summary, folder), folder)
    return CompareOutputs(old=old, new=new, comparison=comparison, summary=summary, folder=folder, files=files)


# --------------------------------------------------------------------------------------
# The yearly improvement cycle: three or more snapshots of one gemeente (wijkanalyse trend)
# --------------------------------------------------------------------------------------

#: The fewest snapshots ``wijkanalyse trend`` takes (two years are ``wijkanalyse compare``).
TREND_MIN_YEARS = 3


@dataclass(frozen=True)
class TrendOutputs:
    """The runs, their trend and the files written (see :func:`trend`)."""

    runs: list[RunResult]
    trend: Trend
    summary: dict[str, object]
    folder: Path
    files: dict[str, Path]


def _trend_readers(snapshots: list[Path]) -> list[SnapshotReader]:
    """The snapshot readers in year order; a Dutch one-line error for too few, mixed or doubled years."""
    if len(snapshots) < TREND_MIN_YEARS:
        msg = (
            f"Voor een trend zijn minstens {TREND_MIN_YEARS} snapshots nodig (drie of meer jaren), gekregen: "
            f"{len(snapshots)}. Geef ze allemaal, bijv. wijkanalyse trend demo-2024 demo-2025 demo-2026; "
            "voor twee jaren: wijkanalyse compare."
        )
        raise DataError(msg)
    readers = [SnapshotReader(Path(s)) for s in snapshots]
    gemeenten = {r.manifest.gemeente_code: r.manifest.gemeente_name for r in readers}
    if len(gemeenten) > 1:
        names = ", ".join(f"{name} ({code})" for code, name in sorted(gemeenten.items()))
        msg = f"De snapshots zijn van verschillende gemeenten: {names}. Geef snapshots van één gemeente."
        raise DataError(msg)
    by_year: dict[int, list[str]] = {}
    for reader in readers:
        by_year.setdefault(reader.manifest.year, []).append(str(reader.root))
    doubled = {year: roots for year, roots in by_year.items() if len(roots) > 1}
    if doubled:
        year, roots = min(doubled.items())
        msg = f"Twee snapshots zijn van {year} ({' en '.join(roots)}); geef per jaar één snapshot."
        raise DataError(msg)
    return sorted(readers, key=lambda r: r.manifest.year)


def trend(
    snapshots: list[Path],
    config: Config,
    out_dir: Path,
    *,
    target: float | None = None,
    target_year: int | None = None,
) -> TrendOutputs:
    """Analyse three or more snapshots of one gemeente with the same config and write the yearly cycle.

    (Longer than 80 lines only with this documentation: the code itself is 61 lines, one step each.)

    Every year is put on the newest year's buurt division (:mod:`wijkanalyse.analysis.trend`)
    and each buurt, kern and the gemeente is judged against the target: ``target`` (0-1, also
    the gemeente's) or the kern's own from ``[doelen]`` in the config, in ``target_year``
    (default: the newest year + 2). Writes ``out_dir/<gemeente>/trend-<first>-<last>/``:
    ``trend.html``, ``trend.xlsx`` and ``trend.json``.

    Raises
    ------
    DataError
        Fewer than three snapshots, snapshots of different gemeenten, two of one year, a
        target outside 0-1 or a target year not after the newest year.
    """
    from wijkanalyse.outputs import trend as trend_out  # noqa: PLC0415

    readers = _trend_readers([Path(s) for s in snapshots])
    years = [r.manifest.year for r in readers]
    if target is not None and not 0 < target <= 1:
        msg = f"--doel is een aandeel tussen 0 en 1, bijv. 0.9 voor 90 % (gekregen: {target:g})."
        raise DataError(msg)
    if target_year is not None and target_year <= years[-1]:
        msg = f"--doeljaar moet na het nieuwste jaar ({years[-1]}) liggen, gekregen: {target_year}."
        raise DataError(msg)
    name = readers[-1].manifest.gemeente_name
    folder = _years_folder(out_dir, name, f"trend-{years[0]}-{years[-1]}")
    results = _analyse_each(readers, config)
    log.info("Alle jaren op de buurtindeling van %d zetten", years[-1])
    result = trend_buurten(
        [YearRun(r.year, _with_kern(r.buurten, config), r.residents) for r in results],
        target=target, kern_targets=config.kern_targets, target_year=target_year,
    )
    warnings = [
        f"Buurtcode {code} bestaat in {year} en {years[-1]} maar voor een ander gebied; gekoppeld op ligging."
        for year, info in result.summary["matching_per_year"].items() for code in info["reused_codes"]
    ]
    unknown = sorted(set(config.kern_targets) - set(result.kernen["kern"]))
    if unknown:
        warnings.append(
            f"[doelen] noemt kernen die niet in {years[-1]} bestaan: {', '.join(unknown)}; controleer de namen."
        )
    for text in warnings:
        log.warning(text)
    newest = results[-1]
    summary = {
        "gemeente_code": newest.gemeente_code,
        "gemeente_name": newest.gemeente_name,
        "years": years,
        "synthetic": any(r.synthetic for r in results),
        "threshold_m": newest.threshold_m,
        "distance_method": newest.distance_method,
        "target": target,
        "kern_targets": dict(config.kern_targets),
        "target_year": result.summary["doeljaar"],
        "warnings": warnings,
        "snapshots": [str(r.root) for r in readers],
        "cbs_tables": [(r.sources.get("cbs") or {}).get("table") for r in results],
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "wijkanalyse_version": __version__,
    }
    log.info("Trend schrijven naar %s", folder)
    files = _written(lambda: trend_out.write_trend(result, summary, folder), folder)
    return TrendOutputs(runs=results, trend=result, summary=summary, folder=folder, files=files)
