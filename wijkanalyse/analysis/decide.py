"""The decision step of a run: kernen, where new meeting points reach the most residents, and the brokers.

A pure function of the canonical frames (EPSG:28992) and the settings: the candidates
(venues that are not meeting points yet, the gemeente's own list, the centre of each gap)
attach to the walking network like meeting points, bounded searches on the same engine
(:class:`wijkanalyse.network.WalkNetwork`) give the residents each brings within reach, and
the selection is greedy + swaps or the exact HiGHS model. Then the broker priority, need and
areas. It returns data; the words for it are in :mod:`wijkanalyse.outputs.texts`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from wijkanalyse import model
from wijkanalyse.analysis.groups import available_groups, group_weights
from wijkanalyse.analysis.brokers import (
    BrokerNeed,
    areas_summary,
    broker_areas,
    broker_need,
    buurt_priority,
    kern_priority,
    workload,
)
from wijkanalyse.analysis.candidates import candidate_sites, gap_centres, straight_line_cover
from wijkanalyse.analysis.kernen import kern_table
from wijkanalyse.analysis.siting import (
    PROPOSAL_COLUMNS,
    Selection,
    best_by_count,
    candidate_costs,
    count_summary,
    exact_mclp,
    greedy_swap,
    proposals_summary,
    proposals_table,
    resident_weights,
)
from wijkanalyse._format import format_int, format_number
from wijkanalyse.config import Config
from wijkanalyse.network import Attachment, WalkNetwork
from wijkanalyse.sources.own_points import OwnPoints

__all__ = ["Decision", "decide", "finite_or_none"]

log = logging.getLogger("wijkanalyse")


def finite_or_none(value: float) -> float | None:
    """``value`` as a float, or None when it is NaN or infinite (JSON has neither)."""
    return float(value) if value is not None and math.isfinite(value) else None


def _propose(  # noqa: PLR0917
    buurten: gpd.GeoDataFrame, residents: gpd.GeoDataFrame, venues: gpd.GeoDataFrame, gaps: gpd.GeoDataFrame,
    config: Config, network: WalkNetwork | None, resident_att: Attachment | None, own_candidates: OwnPoints | None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Selection | None, list[dict[str, object]]]:
    """The ranked new meeting points: (proposals, all candidates, the selection or None, the best set per count)."""
    threshold = config.thresholds.walk_m
    own = own_candidates.points if own_candidates is not None else None
    centres = gap_centres(gaps, residents)
    if network is not None and len(centres):  # a gap centre moves onto the walking network
        att = network.attach(centres.geometry)
        on = att.on_network
        feet = shapely.line_interpolate_point(network.geometry[att.edge[on]], att.along[on])
        geoms = centres.geometry.to_numpy().copy()
        geoms[on] = feet
        centres = centres.set_geometry(gpd.GeoSeries(geoms, crs=model.CRS))
    candidates = candidate_sites(
        venues, config.venues, candidate_classes=config.siting.candidate_classes, own=own, centres=centres, buurten=buurten
    )
    if network is not None and resident_att is not None:
        cover_dist = network.within(network.attach(candidates.geometry), resident_att, threshold)
    else:
        cover_dist = straight_line_cover(candidates.geometry, residents.geometry, threshold)
    cover = cover_dist.astype(bool)
    inwoners = residents["inwoners"].fillna(0.0).to_numpy(dtype=float)
    covered0 = residents["binnen_drempel"].to_numpy(dtype=bool)
    signal = residents["buurtcode"].map(buurten["signaal"]) if config.siting.signal_weighting else None
    weighed = inwoners
    if (group := config.siting.weight_group) and (bands := config.doelgroepen.groups.get(group)):
        if available_groups(residents, {group: bands})[1]:
            log.warning("Let op: het raster heeft geen leeftijdsgroepen voor doelgroep %s; nieuwe plekken worden "
                        "gekozen op alle inwoners.", group)
        else:
            weighed = group_weights(residents, bands)  # reach the most of this group: the middle of each cell's range
            log.info("    nieuwe plekken gekozen op inwoners van doelgroep %s", group)
    weights = resident_weights(weighed, signal, strength=config.siting.signal_strength)
    cost = candidate_costs(candidates["soort"].tolist(), config.costs.meeting_point_per_year, config.siting.cost_per_class)
    own_cost = candidates["kosten_per_jaar"].to_numpy(dtype=float)
    cost = np.where(np.isfinite(own_cost), own_cost, cost)
    p = min(config.siting.count, len(candidates))
    log.info("    %s kandidaat-plekken, %s paren binnen %s m", format_int(len(candidates)), format_int(cover.nnz),
             format_int(threshold))
    by_count: list[dict[str, object]] = []
    if p == 0:
        selection = None
        proposals = gpd.GeoDataFrame({c: [] for c in PROPOSAL_COLUMNS}, geometry=gpd.GeoSeries([], crs=model.CRS))
    else:
        limit = config.siting.time_limit_s
        if config.siting.exact:
            selection = exact_mclp(cover, weights, covered0, p, time_limit_s=limit, cost=cost)
        else:
            selection = greedy_swap(cover, weights, covered0, p, cost=cost, seed=config.thresholds.seed)
        # the answer for every number of sites 1..p: proven per count with --exact, else the ranks and the LP bound
        choices = best_by_count(cover, weights, covered0, selection, time_limit_s=limit, cost=cost,
                                total_time_s=config.siting.total_time_limit_s)
        if late := [c.count for c in choices if c.status == "time_limit" and c.bound is None]:
            log.warning(
                "De rekentijd voor de exacte antwoorden per aantal plekken samen (siting.total_time_limit_s = %s s) "
                "was op: voor %s plekken staan de eerste plekken van de rangorde, niet bewezen de beste. Geef meer "
                "tijd met siting.total_time_limit_s.", format_number(config.siting.total_time_limit_s),
                f"{late[0]} tot en met {late[-1]}" if len(late) > 1 else str(late[0]),
            )
        proposals = proposals_table(
            selection, cover, inwoners, covered0, weights=weights, cost=cost, candidates=candidates, choices=choices,
        )
        by_count = count_summary(choices, cover, inwoners, covered0, proposals, cost=cost)
        proposals = proposals.drop(columns="kandidaat").reset_index(drop=True)

    return proposals, candidates, selection, by_count


@dataclass(frozen=True)
class Decision:
    """What :func:`decide` adds to a run: kernen, proposals, broker need and areas."""

    buurten: gpd.GeoDataFrame  # with kern, prioriteit, prioriteit_rang, werklast, makelaarsgebied
    kernen: gpd.GeoDataFrame
    proposals: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    summary: dict[str, object]
    need: BrokerNeed


def decide(
    buurten: gpd.GeoDataFrame, residents: gpd.GeoDataFrame, venues: gpd.GeoDataFrame, gaps: gpd.GeoDataFrame,
    config: Config, *, network: WalkNetwork | None = None, resident_att: Attachment | None = None,
    candidates: OwnPoints | None = None,
) -> Decision:
    """Kernen, where new meeting points reach the most residents, and where brokers are needed.

    The candidates (venues that are not meeting points yet, the gemeente's own list, the
    centre of each gap) attach to the network like meeting points; bounded searches give the
    residents each brings within ``walk_m`` (as the crow flies with ``distance_method =
    "straight_line"``). The existing meeting points stay; the selection is greedy + swaps, or
    the exact model with ``[siting] exact``. Then the broker priority, need and areas.
    """
    kernen = kern_table(buurten)
    kp = kern_priority(kernen, config.brokers)
    kernen = kernen.join(kp[["prioriteit", "prioriteit_rang"]])
    proposals, all_candidates, selection, by_count = _propose(
        buurten, residents, venues, gaps, config, network, resident_att, candidates
    )

    # brokers
    priority = buurt_priority(buurten, config.brokers)
    buurten = buurten.join(priority[["prioriteit", "prioriteit_rang"]])
    buurten["werklast"] = workload(buurten, config.brokers.workload_signal_weight)
    need = broker_need(
        float(buurten["werklast"].sum()), config.brokers.workload_per_fte, config.costs.broker_fte_per_year,
        config.costs.broker_cost_basis,
    )
    n_areas = config.brokers.n_areas or max(1, need.brokers)
    areas = broker_areas(
        buurten, n_areas, workload=buurten["werklast"], per_kern=config.brokers.per_kern,
        tolerance=config.brokers.balance_tolerance, seed=config.thresholds.seed,
    )  # broker_areas logs its own warnings (once: _with_warnings puts each logged warning in the summary)
    buurten["makelaarsgebied"] = areas.assignment.reindex(buurten.index)
    log.info("    %s werkgebieden (verhouding zwaarste/lichtste %s)", format_int(len(areas.areas)),
             format_number(areas.balance, 2))
    summary: dict[str, object] = {
        "n_kernen": len(kernen),
        "n_candidates": len(all_candidates),
        "siting_method": selection.method if selection else None,
        "siting_weight_group": config.siting.weight_group or None,
        "siting_status": selection.status if selection else None,
        "siting_gap": finite_or_none(selection.gap) if selection and selection.gap is not None else None,
        "new_meeting_points": proposals_summary(proposals) if len(proposals) else [],
        "best_by_count": by_count,
        "brokers_needed": need.brokers,
        "broker_fte": round(need.fte, 2),
        "broker_cost_per_year": need.cost_per_year,
        "broker_cost_basis": need.cost_basis,
        "broker_cost_per_fte": need.cost_per_fte,
        "broker_cost_persons": need.cost_persons,
        "broker_cost_fte": need.cost_fte,
        "broker_areas": areas_summary(areas),
        "broker_balance": finite_or_none(areas.balance),
        "broker_balance_tolerance_met": bool(areas.tolerance_met),
        "broker_max_deviation": finite_or_none(areas.max_deviation),
        "broker_balance_tolerance": areas.tolerance,
        "broker_warnings": list(areas.warnings),
    }
    return Decision(buurten=buurten, kernen=kernen, proposals=proposals, areas=areas.areas, summary=summary, need=need)
