"""Wijkmakelaars and dorpscoördinatoren: where they are most needed, how many, and their areas.

Three questions, each a pure function on the canonical buurt frame (see ``result.py``):

*Where first?* :func:`buurt_priority` and :func:`kern_priority` score each buurt and kern
from 0 to 1::

    prioriteit = (w_s x signaal_rang + w_b x aandeel_buiten_drempel + w_h x hotspot) / (w_s + w_b + w_h)

``signaal_rang`` is the place in the ranking of the composite signal (0 = lowest, 1 =
highest; unknown = 0), ``aandeel_buiten_drempel`` the share of residents beyond the walking
threshold, ``hotspot`` 1 for a hot-spot buurt (for a kern: the share of its residents living
in hot-spot buurten). The weights are ``brokers.priority_*`` in the config;
:func:`priority_explanation` says it in Dutch for the outputs.

*How many?* :func:`workload` gives each buurt a workload: its residents, counted more where
the signal is above average (``inwoners x (1 + a x max(0, signaal))``, ``a`` =
``brokers.workload_signal_weight``). :func:`broker_need` divides the total by the workload one
fte carries (``brokers.workload_per_fte``), rounds up and prices it.

*Which areas?* :func:`broker_areas` splits the gemeente into N contiguous areas of whole
buurten (or whole kernen) with about equal workload: GerryChain's ``recursive_tree_part``
(random spanning trees cut into balanced parts, seeded) on the buurt adjacency graph
(:func:`adjacency_graph`).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from wijkanalyse._format import format_int, format_number, format_percent
from wijkanalyse.config import Brokers
from wijkanalyse.errors import DataError
from wijkanalyse.model import require_columns
from wijkanalyse.result import HOTSPOT_LABELS

__all__ = [
    "AREA_COLUMNS",
    "PRIORITY_COLUMNS",
    "BrokerAreas",
    "BrokerNeed",
    "adjacency_graph",
    "areas_summary",
    "broker_areas",
    "broker_need",
    "buurt_priority",
    "kern_priority",
    "priority_explanation",
    "workload",
    "workload_explanation",
]

log = logging.getLogger("wijkanalyse")

#: Columns of the priority frames.
PRIORITY_COLUMNS = ["signaal_rang", "aandeel_buiten_drempel", "hotspot_aandeel", "prioriteit", "prioriteit_rang"]
#: Columns of :attr:`BrokerAreas.areas` (plus geometry).
AREA_COLUMNS = [
    "gebied_id", "buurtcodes", "kernen", "n_buurten", "inwoners", "werklast", "werklast_tov_gemiddeld",
]


# --------------------------------------------------------------------------------------
# Priority
# --------------------------------------------------------------------------------------


def _signal_rank(signal: pd.Series) -> pd.Series:
    """Place in the ranking, 0 (lowest) .. 1 (highest); ties share their mean place; unknown = 0."""
    known = signal.notna()
    n = int(known.sum())
    if n == 0:
        return pd.Series(0.0, index=signal.index)
    if n == 1:
        return pd.Series(np.where(known, 0.5, 0.0), index=signal.index)
    ranks = signal.rank(method="average")
    return ((ranks - 1.0) / (n - 1.0)).fillna(0.0)


def _priority(
    signal: pd.Series, beyond: pd.Series, hotspot: pd.Series, settings: Brokers
) -> pd.DataFrame:
    ws, wb, wh = settings.priority_signal, settings.priority_beyond, settings.priority_hotspot
    total = ws + wb + wh
    if total <= 0:
        msg = "The priority weights (brokers.priority_*) are all 0; give one a weight > 0."
        raise DataError(msg)
    out = pd.DataFrame({
        "signaal_rang": _signal_rank(signal.astype(float)),
        "aandeel_buiten_drempel": beyond.astype(float).fillna(0.0).clip(0.0, 1.0),
        "hotspot_aandeel": hotspot.astype(float).fillna(0.0).clip(0.0, 1.0),
    }, index=signal.index)
    out["prioriteit"] = (
        ws * out["signaal_rang"] + wb * out["aandeel_buiten_drempel"] + wh * out["hotspot_aandeel"]
    ) / total
    out["prioriteit_rang"] = out["prioriteit"].round(12).rank(ascending=False, method="min").astype(int)
    return out[PRIORITY_COLUMNS]


def buurt_priority(buurten: pd.DataFrame, settings: Brokers | None = None) -> pd.DataFrame:
    """Priority of each buurt for a wijkmakelaar or dorpscoördinator (formula in the module doc).

    Parameters
    ----------
    buurten
        Canonical buurt frame: signaal, aandeel_binnen_drempel, hotspot.
    settings
        ``config.brokers`` (its ``priority_*`` weights).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``buurten``: signaal_rang (0..1), aandeel_buiten_drempel (0..1; no
        residents = 0), hotspot_aandeel (1 for a hot spot, else 0), prioriteit (0..1),
        prioriteit_rang (1 = most urgent; equal scores share a rank).
    """
    settings = settings or Brokers()
    require_columns(buurten, ["signaal", "aandeel_binnen_drempel", "hotspot"], "buurt table")
    beyond = 1.0 - pd.to_numeric(buurten["aandeel_binnen_drempel"], errors="coerce").astype(float)
    hot = (buurten["hotspot"] == HOTSPOT_LABELS[1]).astype(float)
    return _priority(pd.to_numeric(buurten["signaal"], errors="coerce"), beyond, hot, settings)


def kern_priority(kernen: pd.DataFrame, settings: Brokers | None = None) -> pd.DataFrame:
    """Priority of each kern: the same formula on the kern figures of ``analysis.kernen.kern_table``.

    The signal ranking is among the kernen (resident-weighted mean signal); the hot-spot
    term is the share of the kern's residents living in hot-spot buurten.
    """
    settings = settings or Brokers()
    require_columns(kernen, ["signaal", "aandeel_binnen_drempel", "inwoners", "inwoners_in_hotspot"], "kern table")
    beyond = 1.0 - pd.to_numeric(kernen["aandeel_binnen_drempel"], errors="coerce").astype(float)
    inwoners = pd.to_numeric(kernen["inwoners"], errors="coerce").astype(float)
    hot = pd.to_numeric(kernen["inwoners_in_hotspot"], errors="coerce").astype(float) / inwoners.where(inwoners > 0)
    return _priority(pd.to_numeric(kernen["signaal"], errors="coerce"), beyond, hot, settings)


def _share(weight: float, total: float) -> str:
    return format_number(weight / total, 2)


def priority_explanation(
    settings: Brokers | None = None, threshold_m: float = 400.0, distance_method: str = "network",
) -> str:
    """The priority formula in plain Dutch, with the configured weights, for the outputs.

    ``distance_method`` names the distance as the run measured it: walked (``network``) or
    ``straight_line`` (hemelsbreed).
    """
    s = settings or Brokers()
    how = "lopen" if distance_method == "network" else "hemelsbreed"
    total = s.priority_signal + s.priority_beyond + s.priority_hotspot
    return (
        "De prioriteit van een buurt of kern loopt van 0 (laag) tot 1 (hoog). Ze telt drie dingen op: "
        f"{_share(s.priority_signal, total)} × de plaats in de rangorde van het signaal "
        "(0 = laagste signaal van de gemeente, 1 = hoogste; onbekend telt als 0), "
        f"{_share(s.priority_beyond, total)} × het aandeel inwoners dat verder dan "
        f"{format_int(threshold_m)} m {how} van een ontmoetingspunt woont, en "
        f"{_share(s.priority_hotspot, total)} × hotspot (1 als de buurt een hotspot is; bij een kern: het "
        "aandeel inwoners dat in een hotspotbuurt woont). Hoe hoger, hoe eerder een wijkmakelaar of "
        "dorpscoördinator daar nodig is. De gewichten staan in [brokers] in het configuratiebestand."
    )


# --------------------------------------------------------------------------------------
# Workload and how many
# --------------------------------------------------------------------------------------


def workload(buurten: pd.DataFrame, signal_weight: float = 0.5) -> pd.Series:
    """Workload of each buurt: ``inwoners x (1 + signal_weight x max(0, signaal))``.

    Residents on the 100 m grid (missing = 0); a missing signal counts as 0 (average).
    Returns a Series named ``werklast`` indexed like ``buurten``.
    """
    require_columns(buurten, ["inwoners", "signaal"], "buurt table")
    if signal_weight < 0:
        msg = f"brokers.workload_signal_weight must be >= 0, got {signal_weight}."
        raise DataError(msg)
    inwoners = pd.to_numeric(buurten["inwoners"], errors="coerce").astype(float).fillna(0.0)
    signal = pd.to_numeric(buurten["signaal"], errors="coerce").astype(float).fillna(0.0)
    return (inwoners * (1.0 + signal_weight * signal.clip(lower=0.0))).rename("werklast")


def workload_explanation(settings: Brokers | None = None) -> str:
    """The workload formula and the fte norm in plain Dutch, for the outputs."""
    s = settings or Brokers()
    return (
        "Werklast van een buurt = inwoners × (1 + "
        f"{format_number(s.workload_signal_weight, 2)} × het signaal als dat boven het gemiddelde ligt). "
        "Een buurt met een hoger signaal vraagt dus meer tijd per inwoner. Eén fte wijkmakelaar of "
        f"dorpscoördinator kan een werklast van {format_int(s.workload_per_fte)} dragen; het aantal nodig is de "
        "totale werklast gedeeld door dat getal, naar boven afgerond."
    )


@dataclass(frozen=True)
class BrokerNeed:
    """How many brokers the workload asks for, and what they cost per year."""

    workload: float
    workload_per_fte: float
    fte: float
    brokers: int
    cost_per_year: float

    def line(self) -> str:
        """One Dutch sentence for stdout and the report."""
        return (
            f"Nodig: {self.brokers} wijkmakelaar(s) of dorpscoördinator(en) "
            f"({format_number(self.fte, 1)} fte werklast), € {format_int(self.cost_per_year)} per jaar"
        )


def broker_need(total_workload: float, workload_per_fte: float, cost_per_fte: float) -> BrokerNeed:
    """Brokers needed = ``ceil(total_workload / workload_per_fte)`` (at least 1 when there is work).

    The yearly cost is the number of brokers x ``cost_per_fte`` (``costs.broker_fte_per_year``):
    each broker counts as one fte.
    """
    if not workload_per_fte > 0:
        msg = f"brokers.workload_per_fte must be > 0, got {workload_per_fte}."
        raise DataError(msg)
    total = max(0.0, float(total_workload))
    fte = total / workload_per_fte
    brokers = math.ceil(fte - 1e-9) if total > 0 else 0
    return BrokerNeed(
        workload=total, workload_per_fte=float(workload_per_fte), fte=fte, brokers=brokers,
        cost_per_year=brokers * float(cost_per_fte),
    )


# --------------------------------------------------------------------------------------
# Areas
# --------------------------------------------------------------------------------------


def adjacency_graph(geometries: gpd.GeoSeries | np.ndarray) -> tuple[nx.Graph, list[tuple[int, int, float]]]:
    """Neighbour graph of polygons: nodes 0..n-1, an edge where two share a border.

    Two polygons are neighbours when their borders share a line (touching at a single
    corner does not count) or they overlap. Islands (polygons without neighbours) and
    separate groups are then linked, smallest group first, to the nearest polygon outside
    the group, until the graph is connected: a buurt on an island or across a river still
    belongs to an area with the buurt nearest to it.

    Returns
    -------
    tuple
        The networkx graph and the added links as ``(i, j, distance_m)``.
    """
    geoms = np.asarray(getattr(geometries, "values", geometries), dtype=object)
    n = len(geoms)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    if n == 0:
        return graph, []
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size:
        borders = shapely.boundary(geoms)
        shared = shapely.length(shapely.intersection(borders[left], borders[right])) > 0
        overlap = shapely.area(shapely.intersection(geoms[left], geoms[right])) > 0
        ok = shared | overlap
        graph.add_edges_from(zip(left[ok].tolist(), right[ok].tolist(), strict=True))
    links: list[tuple[int, int, float]] = []
    while True:
        parts = sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: (len(c), c[0]))
        if len(parts) <= 1:
            break
        group = parts[0]
        inside = np.zeros(n, dtype=bool)
        inside[group] = True
        others = np.flatnonzero(~inside)
        other_tree = shapely.STRtree(geoms[others])
        (src, dst), dist = other_tree.query_nearest(geoms[group], return_distance=True, all_matches=True)
        order = np.lexsort((others[dst], np.asarray(group)[src], np.round(dist, 6)))
        best = order[0]
        i, j = int(np.asarray(group)[src[best]]), int(others[dst[best]])
        graph.add_edge(i, j)
        links.append((min(i, j), max(i, j), float(dist[best])))
    return graph, links


@dataclass(frozen=True)
class BrokerAreas:
    """The gemeente split into broker areas.

    Attributes
    ----------
    areas
        One row per area (:data:`AREA_COLUMNS` + geometry, the buurten dissolved): gebied_id
        (1..N), buurtcodes and kernen (comma-separated), n_buurten, inwoners, werklast,
        werklast_tov_gemiddeld (1.0 = the mean workload of an area).
    assignment
        gebied_id of each buurt, indexed like the input buurten.
    balance
        Largest over smallest area workload (inf when an area has no workload).
    max_deviation
        Largest distance of an area's workload from the mean, as a fraction of the mean.
    tolerance
        The requested ``brokers.balance_tolerance``.
    tolerance_met
        ``max_deviation <= tolerance``.
    method
        ``"gerrychain"``, ``"samenvoegen"`` (fallback: merge neighbours, lightest pair first),
        ``"een gebied"`` or ``"elk een gebied"``.
    links
        Buurt (or kern) pairs linked because they had no neighbour in common borders.
    warnings
        Dutch messages for the log and ``samenvatting.json``.
    """

    areas: gpd.GeoDataFrame
    assignment: pd.Series
    balance: float
    max_deviation: float
    tolerance: float
    tolerance_met: bool
    method: str
    links: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _units(
    buurten: gpd.GeoDataFrame, weights: pd.Series, per_kern: bool
) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    """Building blocks: buurten, or kernen dissolved. Returns units, their geometries, buurt -> unit."""
    codes = buurten["buurtcode"].astype(str)
    kern = buurten["kern"].astype(str) if "kern" in buurten.columns else pd.Series("", index=buurten.index)
    frame = pd.DataFrame({
        "buurtcode": codes.to_numpy(),
        "kern": kern.to_numpy(),
        "inwoners": pd.to_numeric(buurten["inwoners"], errors="coerce").astype(float).fillna(0.0).to_numpy(),
        "werklast": weights.to_numpy(dtype=float),
    })
    key = frame["kern"] if per_kern else frame["buurtcode"]
    frame["unit"] = key.to_numpy()
    gdf = gpd.GeoDataFrame(frame, geometry=buurten.geometry.to_numpy(), crs=buurten.crs)
    units = gdf.dissolve(by="unit", aggfunc={"inwoners": "sum", "werklast": "sum"}, sort=True)
    return units, units.geometry.to_numpy(), pd.Series(frame["unit"].to_numpy(), index=buurten.index)


def _gerrychain_parts(
    graph: nx.Graph, weights: np.ndarray, n: int, epsilon: float, *, seed: int, max_attempts: int
) -> dict[int, int] | None:
    """One try of GerryChain's recursive_tree_part; None when it finds no balanced split."""
    from gerrychain import Graph  # noqa: PLC0415 (slow import)
    from gerrychain.partition import recursive_tree_part  # noqa: PLC0415
    from gerrychain.tree import BipartitionWarning, bipartition_tree  # noqa: PLC0415

    g = nx.Graph()
    for node in sorted(graph.nodes):
        g.add_node(node, werklast=float(weights[node]))
    g.add_edges_from(sorted(tuple(sorted(e)) for e in graph.edges))
    chain_graph = Graph.from_networkx(g)
    target = float(weights.sum()) / n
    split = partial(bipartition_tree, max_attempts=max_attempts, warn_attempts=max_attempts + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BipartitionWarning)
            parts = recursive_tree_part(
                chain_graph, list(range(n)), target, "werklast", epsilon, bipartition_tree_fn=split, rng=seed
            )
    except Exception as e:  # GerryChain signals "no balanced cut" in several ways (RuntimeError, KeyError, ...)
        log.debug("recursive_tree_part met epsilon %.3f: %s: %s", epsilon, type(e).__name__, e)
        return None
    if set(parts) != set(g.nodes) or len(set(parts.values())) != n:
        return None
    return {int(k): int(v) for k, v in parts.items()}


def _evenness(parts: dict[int, int], weights: np.ndarray, n: int) -> tuple[float, float]:
    """(largest / smallest, largest deviation from the mean) of the parts' loads: lower is more even."""
    loads = np.bincount(np.array([parts[i] for i in range(len(weights))]), weights=weights, minlength=n)
    mean = loads.mean()
    ratio = loads.max() / loads.min() if loads.min() > 0 else math.inf
    return float(ratio), float(np.abs(loads - mean).max() / mean) if mean > 0 else 0.0


def _merge_parts(graph: nx.Graph, weights: np.ndarray, n: int) -> dict[int, int]:
    """Fallback: start with every unit alone, merge the lightest neighbouring pair until ``n`` remain."""
    region = {node: node for node in graph.nodes}
    load = {node: float(weights[node]) for node in graph.nodes}
    members = {node: {node} for node in graph.nodes}
    rgraph = nx.Graph()
    rgraph.add_nodes_from(graph.nodes)
    rgraph.add_edges_from(graph.edges)
    while rgraph.number_of_nodes() > n:
        a, b = min(
            (tuple(sorted(e)) for e in rgraph.edges), key=lambda e: (load[e[0]] + load[e[1]], e[0], e[1])
        )
        for nb in list(rgraph.neighbors(b)):
            if nb != a:
                rgraph.add_edge(a, nb)
        rgraph.remove_node(b)
        load[a] += load.pop(b)
        members[a] |= members.pop(b)
        for node in members[a]:
            region[node] = a
    labels = {r: i for i, r in enumerate(sorted(members))}
    return {node: labels[r] for node, r in region.items()}


def broker_areas(  # noqa: PLR0912, PLR0915
    buurten: gpd.GeoDataFrame,
    n_areas: int,
    *,
    workload: pd.Series,
    per_kern: bool = False,
    tolerance: float = 0.10,
    seed: int = 0,
    max_attempts: int = 300,
) -> BrokerAreas:
    """Split the gemeente into ``n_areas`` contiguous areas with about equal workload.

    Areas are made of whole buurten (or whole kernen with ``per_kern``) that hang together
    in :func:`adjacency_graph` (islands linked to their nearest buurt). GerryChain's
    ``recursive_tree_part`` cuts random spanning trees of that graph into parts whose
    workload lies within ``tolerance`` of the mean; it is seeded, so the same input gives
    the same areas. When no split within the tolerance is found, the tolerance is widened
    step by step (a warning gives the balance reached); when even that fails, neighbouring
    areas are merged, lightest pair first. More areas than buurten (kernen) gives one area
    per buurt (kern), with a warning.

    Parameters
    ----------
    buurten
        Canonical buurt frame: buurtcode, inwoners, geometry; ``kern`` for ``per_kern``
        and for the kernen column of the result.
    n_areas
        Number of areas (>= 1): ``--makelaars``, ``brokers.n_areas`` or the brokers needed.
    workload
        Workload per buurt (:func:`workload`), indexed like ``buurten``.
    per_kern
        Keep kernen whole.
    tolerance
        ``brokers.balance_tolerance``: allowed distance from the mean workload (0.10 = 10 %).
    seed
        Random seed (``thresholds.seed``).
    max_attempts
        Spanning trees GerryChain may draw per cut before a wider tolerance is tried.
    """
    require_columns(buurten, ["buurtcode", "inwoners", "geometry"], "buurt table")
    if per_kern:
        require_columns(buurten, ["kern"], "buurt table (per_kern needs the kern of each buurt)")
    if isinstance(n_areas, bool) or not isinstance(n_areas, (int, np.integer)) or n_areas < 1:
        msg = f"The number of broker areas must be a whole number >= 1, got {n_areas!r}."
        raise DataError(msg)
    if len(buurten) == 0:
        msg = "There are no buurten to divide into broker areas."
        raise DataError(msg)
    weights_in = pd.to_numeric(workload.reindex(buurten.index), errors="coerce").astype(float)
    if weights_in.isna().any() or (weights_in < 0).any():
        msg = "The workload must be known and >= 0 for every buurt (see brokers.workload)."
        raise DataError(msg)
    notes: list[str] = []
    unit_word = "kernen" if per_kern else "buurten"
    units, geoms, buurt_unit = _units(buurten, weights_in, per_kern)
    m = len(units)
    n = int(n_areas)
    if n > m:
        notes.append(
            f"Er zijn {m} {unit_word}; {n} gebieden van hele {unit_word} kan niet, er zijn er {m} gemaakt."
        )
        n = m
    graph, raw_links = adjacency_graph(geoms)
    names = units.index.astype(str).to_list()
    links = [(names[i], names[j]) for i, j, _ in raw_links]
    if links:
        notes.append(
            f"Zonder gemeenschappelijke grens met de rest, daarom verbonden met de dichtstbijzijnde van de {unit_word}: "
            + ", ".join(f"{a}–{b}" for a, b in links[:10])
        )
    weights = units["werklast"].to_numpy(dtype=float)
    balance_on = weights
    if weights.sum() <= 0:
        notes.append("De totale werklast is 0; de gebieden zijn verdeeld op aantal " + unit_word + ".")
        balance_on = np.ones(m)

    if n == 1:
        parts, method = dict.fromkeys(range(m), 0), "een gebied"
    elif n == m:
        parts, method = {i: i for i in range(m)}, "elk een gebied"
    else:
        method = "gerrychain"
        parts = _gerrychain_parts(graph, balance_on, n, tolerance, seed=seed, max_attempts=max_attempts)
        if parts is None:
            # widen the tolerance step by step (two answers at most), add the merge fallback, keep the most even
            options: list[tuple[dict[int, int], str]] = []
            cap = max(1.0, float(balance_on.max()) / (balance_on.sum() / n))
            epsilon = tolerance
            while epsilon < cap and len(options) < 2:
                epsilon = min(cap, epsilon * 2.0)
                found = _gerrychain_parts(graph, balance_on, n, epsilon, seed=seed, max_attempts=max_attempts)
                if found is not None:
                    options.append((found, "gerrychain"))
            options.append((_merge_parts(graph, balance_on, n), "samenvoegen"))
            parts, method = min(options, key=lambda o: _evenness(o[0], balance_on, n))

    # number areas 1..n by their first buurtcode
    unit_part = np.array([parts[i] for i in range(m)])
    part_of_buurt = buurt_unit.map(dict(zip(names, unit_part.tolist(), strict=True)))
    first_code = buurten["buurtcode"].astype(str).groupby(part_of_buurt.to_numpy()).min().sort_values()
    renumber = {int(p): k for k, p in enumerate(first_code.index, start=1)}
    assignment = part_of_buurt.map(renumber).astype(int).rename("gebied_id")

    frame = gpd.GeoDataFrame({
        "gebied_id": assignment.to_numpy(),
        "buurtcode": buurten["buurtcode"].astype(str).to_numpy(),
        "kern": (buurten["kern"].astype(str) if "kern" in buurten.columns else pd.Series("", index=buurten.index))
        .to_numpy(),
        "inwoners": pd.to_numeric(buurten["inwoners"], errors="coerce").astype(float).fillna(0.0).to_numpy(),
        "werklast": weights_in.to_numpy(),
    }, geometry=buurten.geometry.to_numpy(), crs=buurten.crs)
    rows: list[dict[str, Any]] = []
    for gid, group in frame.groupby("gebied_id", sort=True):
        rows.append({
            "gebied_id": int(gid),
            "buurtcodes": ",".join(sorted(group["buurtcode"])),
            "kernen": ",".join(sorted({k for k in group["kern"] if k})),
            "n_buurten": len(group),
            "inwoners": float(group["inwoners"].sum()),
            "werklast": float(group["werklast"].sum()),
            "geometry": shapely.union_all(group.geometry.to_numpy()),
        })
    areas = gpd.GeoDataFrame(rows, geometry="geometry", crs=buurten.crs)
    loads = areas["werklast"].to_numpy() if weights.sum() > 0 else areas["n_buurten"].to_numpy(dtype=float)
    mean = float(loads.mean())
    areas["werklast_tov_gemiddeld"] = areas["werklast"] / float(areas["werklast"].mean()) if weights.sum() > 0 else 1.0
    areas = areas[[*AREA_COLUMNS, "geometry"]]
    balance = float(loads.max() / loads.min()) if loads.min() > 0 else math.inf
    deviation = float(np.abs(loads - mean).max() / mean) if mean > 0 else 0.0
    met = deviation <= tolerance + 1e-9
    if not met and n > 1:
        notes.append(
            f"De werklast van de {n} gebieden ligt niet binnen {format_percent(tolerance, 0)} van het gemiddelde "
            f"(grootste afwijking {format_percent(deviation, 0)}, grootste/kleinste "
            f"{format_number(balance, 2)}): een buurt of kern is te zwaar of te los van de rest voor een "
            "betere verdeling."
        )
    for note in notes:
        log.warning("%s", note)
    return BrokerAreas(
        areas=areas, assignment=assignment, balance=balance, max_deviation=deviation, tolerance=tolerance,
        tolerance_met=bool(met), method=method, links=links, warnings=notes,
    )


def areas_summary(result: BrokerAreas) -> list[dict[str, Any]]:
    """The ``broker_areas`` list for ``samenvatting.json``: id, buurtcodes, kernen, residents, workload."""
    return [
        {
            "id": int(row.gebied_id),
            "buurtcodes": row.buurtcodes.split(",") if row.buurtcodes else [],
            "kernen": row.kernen.split(",") if row.kernen else [],
            "residents": float(row.inwoners),
            "workload": float(row.werklast),
        }
        for row in result.areas.itertuples(index=False)
    ]
