"""Wijkmakelaars and dorpscoördinatoren: where they are most needed, how many, and their areas.

Three questions, each a pure function on the canonical buurt frame (see ``result.py``):

*Where first?* :func:`buurt_priority` and :func:`kern_priority` score each buurt and kern
from 0 to 1::

    prioriteit = (w_s x signaal_rang + w_b x aandeel_buiten_drempel + w_h x hotspot) / (w_s + w_b + w_h)

``signaal_rang`` is the place in the ranking of the composite signal (0 = lowest, 1 =
highest; unknown = 0), ``aandeel_buiten_drempel`` the share of residents beyond the walking
threshold, ``hotspot`` 1 for a hot-spot buurt (for a kern: the share of its residents living
in hot-spot buurten). The weights are ``brokers.priority_*`` in the config;
:func:`wijkanalyse.outputs.texts.priority_explanation` says it in Dutch.

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
import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from wijkanalyse._format import format_int, format_number, format_percent
from wijkanalyse.config import BROKER_COST_BASES as COST_BASES
from wijkanalyse.config import Brokers
from wijkanalyse.errors import DataError
from wijkanalyse.model import require_columns
from wijkanalyse.result import Hotspot

__all__ = [
    "AREA_COLUMNS",
    "COST_BASES",
    "PRIORITY_COLUMNS",
    "BrokerAreas",
    "BrokerNeed",
    "adjacency_graph",
    "areas_summary",
    "broker_areas",
    "broker_need",
    "buurt_priority",
    "kern_priority",
    "workload",
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
        msg = "De prioriteitsgewichten (brokers.priority_*) zijn allemaal 0; geef er één een gewicht > 0."
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
    require_columns(buurten, ["signaal", "aandeel_binnen_drempel", "hotspot"], "de buurttabel")
    beyond = 1.0 - pd.to_numeric(buurten["aandeel_binnen_drempel"], errors="coerce").astype(float)
    hot = (buurten["hotspot"] == Hotspot.HOT).astype(float)
    return _priority(pd.to_numeric(buurten["signaal"], errors="coerce"), beyond, hot, settings)


def kern_priority(kernen: pd.DataFrame, settings: Brokers | None = None) -> pd.DataFrame:
    """Priority of each kern: the same formula on the kern figures of ``analysis.kernen.kern_table``.

    The signal ranking is among the kernen (resident-weighted mean signal); the hot-spot
    term is the share of the kern's residents living in hot-spot buurten.
    """
    settings = settings or Brokers()
    require_columns(kernen, ["signaal", "aandeel_binnen_drempel", "inwoners", "inwoners_in_hotspot"], "de kerntabel")
    beyond = 1.0 - pd.to_numeric(kernen["aandeel_binnen_drempel"], errors="coerce").astype(float)
    inwoners = pd.to_numeric(kernen["inwoners"], errors="coerce").astype(float)
    hot = pd.to_numeric(kernen["inwoners_in_hotspot"], errors="coerce").astype(float) / inwoners.where(inwoners > 0)
    return _priority(pd.to_numeric(kernen["signaal"], errors="coerce"), beyond, hot, settings)


# --------------------------------------------------------------------------------------
# Workload and how many
# --------------------------------------------------------------------------------------


def workload(buurten: pd.DataFrame, signal_weight: float = 0.5) -> pd.Series:
    """Workload of each buurt: ``inwoners x (1 + signal_weight x max(0, signaal))``.

    Residents on the 100 m grid (missing = 0); a missing signal counts as 0 (average).
    Returns a Series named ``werklast`` indexed like ``buurten``.
    """
    require_columns(buurten, ["inwoners", "signaal"], "de buurttabel")
    if signal_weight < 0:
        msg = f"brokers.workload_signal_weight moet >= 0 zijn, maar is {signal_weight}."
        raise DataError(msg)
    inwoners = pd.to_numeric(buurten["inwoners"], errors="coerce").astype(float).fillna(0.0)
    signal = pd.to_numeric(buurten["signaal"], errors="coerce").astype(float).fillna(0.0)
    return (inwoners * (1.0 + signal_weight * signal.clip(lower=0.0))).rename("werklast")


@dataclass(frozen=True)
class BrokerNeed:
    """How many brokers the workload asks for, and what they cost per year.

    Both costs are given: ``cost_persons`` (brokers x cost per post: every broker a full-time
    post) and ``cost_fte`` (the fte of workload, to 0.01 fte, x cost per fte). ``cost_per_year`` is the one
    ``cost_basis`` chose.
    """

    workload: float
    workload_per_fte: float
    fte: float
    brokers: int
    cost_per_year: float
    cost_per_fte: float = 0.0
    cost_basis: str = "persons"
    cost_persons: float = 0.0
    cost_fte: float = 0.0


def broker_need(
    total_workload: float, workload_per_fte: float, cost_per_fte: float, cost_basis: str = "persons",
) -> BrokerNeed:
    """Brokers needed = ``ceil(total_workload / workload_per_fte)`` (at least 1 when there is work).

    Two yearly costs: the number of brokers x ``cost_per_fte`` (``costs.broker_fte_per_year``;
    each broker a full-time post) and the fte, rounded to 0.01 fte, x ``cost_per_fte``. ``cost_basis``
    (``costs.broker_cost_basis``, ``"persons"`` or ``"fte"``) says which is ``cost_per_year``.
    """
    if not workload_per_fte > 0:
        msg = f"brokers.workload_per_fte moet > 0 zijn, maar is {workload_per_fte}."
        raise DataError(msg)
    if cost_basis not in COST_BASES:
        msg = f"costs.broker_cost_basis must be one of {', '.join(COST_BASES)}, got {cost_basis!r}."
        raise DataError(msg)
    total = max(0.0, float(total_workload))
    fte = total / workload_per_fte
    brokers = math.ceil(fte - 1e-9) if total > 0 else 0
    per_post = float(cost_per_fte)
    persons, by_fte = brokers * per_post, round(fte, 2) * per_post  # fte in hundredths, as posts are contracted
    return BrokerNeed(
        workload=total, workload_per_fte=float(workload_per_fte), fte=fte, brokers=brokers,
        cost_per_year=persons if cost_basis == "persons" else by_fte, cost_per_fte=per_post,
        cost_basis=cost_basis, cost_persons=persons, cost_fte=by_fte,
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


#: Seeds tried at each tolerance before it counts as "not found" (GerryChain's recursive cut either
#: succeeds on its first trees or gets stuck on the last parts, so other seeds help more than more trees).
SEEDS_PER_TOLERANCE = 8
#: The search stops when the best deviation found is this close to the largest tolerance that failed.
RESOLUTION = 0.01
#: Spanning trees GerryChain may draw per unit (buurt or kern) in the whole search.
TREES_PER_UNIT = 50
#: Time for the whole search: a fixed part plus a part per unit (seconds).
SECONDS_FIXED, SECONDS_PER_UNIT = 2.0, 0.02


class _OutOfBudget(Exception):
    """The search for even areas used up its spanning trees or its time."""


@dataclass
class _Budget:
    """Bounds the spanning trees drawn and the time spent by all GerryChain calls of one split."""

    max_trees: int
    seconds: float | None
    started: float = field(default_factory=time.perf_counter)
    trees: int = 0
    calls: int = 0
    stop: str = ""  # "", "bomen" or "tijd": why the search stopped early

    def draw(self) -> None:
        if self.trees >= self.max_trees:
            self.stop = "bomen"
            raise _OutOfBudget
        if self.seconds is not None and time.perf_counter() - self.started > self.seconds:
            self.stop = "tijd"
            raise _OutOfBudget
        self.trees += 1


def _chain_graph(graph: nx.Graph, weights: np.ndarray) -> Any:
    """The adjacency graph as a rustworkx-backed GerryChain Graph (nodes 0..m-1, attribute ``werklast``).

    With rustworkx underneath, GerryChain's ``random_spanning_tree`` takes the minimum spanning
    tree of random weights in Rust instead of networkx's Python Kruskal (about 5 x faster here;
    the same trees for the same seed).
    """
    from gerrychain import Graph  # noqa: PLC0415 (slow import)

    g = nx.Graph()
    for node in sorted(graph.nodes):
        g.add_node(node, werklast=float(weights[node]))
    g.add_edges_from(sorted(tuple(sorted(e)) for e in graph.edges))
    return Graph.from_networkx(g).convert_from_nx_to_rx()


def _gerrychain_parts(
    chain_graph: Any, weights: np.ndarray, n: int, epsilon: float, *, seed: int, max_attempts: int, budget: _Budget
) -> dict[int, int] | None:
    """One try of GerryChain's recursive_tree_part; None when it finds no split within ``epsilon``.

    Raises :class:`_OutOfBudget` when ``budget`` runs out during the try.
    """
    from gerrychain.partition import recursive_tree_part  # noqa: PLC0415 (slow import)
    from gerrychain.tree import BipartitionWarning, bipartition_tree, random_spanning_tree  # noqa: PLC0415

    def spanning_tree(graph: Any, region_surcharge: dict[str, float] | None = None, *, rng: Any = None) -> Any:
        budget.draw()
        return random_spanning_tree(graph, region_surcharge, rng=rng)

    target = float(weights.sum()) / n
    split = partial(
        bipartition_tree, max_attempts=max_attempts, warn_attempts=max_attempts + 1, spanning_tree_fn=spanning_tree
    )
    budget.calls += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BipartitionWarning)
            raw = recursive_tree_part(
                chain_graph, list(range(n)), target, "werklast", epsilon, bipartition_tree_fn=split, rng=seed
            )
    except _OutOfBudget:
        raise
    except Exception as e:  # GerryChain signals "no balanced cut" in several ways (RuntimeError, KeyError, ...)
        log.debug("recursive_tree_part met epsilon %.3f, seed %d: %s: %s", epsilon, seed, type(e).__name__, e)
        return None
    parts = {int(chain_graph.node_data(k)["__networkx_node__"]): int(cast(int, v)) for k, v in raw.items()}  # the parts: range(n)
    if set(parts) != set(range(len(weights))) or len(set(parts.values())) != n:
        return None
    return parts


@dataclass
class _Found:
    """The most even split found so far and what the search learned."""

    parts: dict[int, int]
    method: str
    deviation: float
    failed_below: float = 0.0  # the largest tolerance at which no seed found a split


def _search(
    graph: nx.Graph, weights: np.ndarray, n: int, tolerance: float, *, seed: int, max_attempts: int, budget: _Budget
) -> _Found:
    """The most even split of ``graph`` into ``n`` parts that the merge and GerryChain find.

    The merge (lightest neighbours first) goes first: when it is within ``tolerance`` or as even
    as the heaviest unit allows, it is the answer. Otherwise GerryChain tries ``tolerance``
    (:data:`SEEDS_PER_TOLERANCE` seeds), then halves the gap between the largest tolerance that
    failed and the best deviation found, until they are :data:`RESOLUTION` apart or ``budget``
    runs out.
    """
    mean = float(weights.sum()) / n
    floor = max(0.0, float(weights.max()) / mean - 1.0)  # no area can be lighter than its heaviest unit
    merged = _merge_parts(graph, weights, n)
    best = _Found(merged, "samenvoegen", _evenness(merged, weights, n)[1], failed_below=floor)
    if best.deviation <= tolerance + 1e-9 or best.deviation <= floor + 1e-9:
        return best
    chain = _chain_graph(graph, weights)

    def attempt(epsilon: float) -> bool:
        for j in range(SEEDS_PER_TOLERANCE):
            parts = _gerrychain_parts(
                chain, weights, n, epsilon, seed=seed + j, max_attempts=max_attempts, budget=budget
            )
            if parts is not None:
                deviation = _evenness(parts, weights, n)[1]
                if deviation < best.deviation:
                    best.parts, best.method, best.deviation = parts, "gerrychain", deviation
                return True
        best.failed_below = max(best.failed_below, epsilon)
        return False

    try:
        epsilon = max(tolerance, floor + 1e-6)
        if attempt(epsilon) and best.deviation <= tolerance + 1e-9:
            return best
        while best.deviation - best.failed_below > RESOLUTION:
            attempt((best.failed_below + best.deviation) / 2.0)
    except _OutOfBudget:
        pass
    return best


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


def broker_areas(
    buurten: gpd.GeoDataFrame,
    n_areas: int,
    *,
    workload: pd.Series,
    per_kern: bool = False,
    tolerance: float = 0.10,
    seed: int = 0,
    max_attempts: int = 25,
    time_budget: float | None = None,
) -> BrokerAreas:
    """Split the gemeente into ``n_areas`` contiguous areas with about equal workload.

    (Longer than 80 lines only with this documentation: the code itself is 49 lines, one step each.)

    Areas are made of whole buurten (or whole kernen with ``per_kern``) that hang together
    in :func:`adjacency_graph` (islands linked to their nearest buurt). GerryChain's
    ``recursive_tree_part`` cuts random spanning trees of that graph into parts whose
    workload lies within ``tolerance`` of the mean; it is seeded, so the same input gives
    the same areas. Merging neighbours (lightest pair first) goes first and is kept when it is
    within the tolerance. Otherwise GerryChain tries the tolerance with several seeds and, when
    none finds a split, searches the smallest tolerance it can meet by bisection (see
    :func:`_search`), within a budget of spanning trees and time that grows with the number of
    units; the most even split found is kept and a warning names why the tolerance was not
    met. More areas than buurten (kernen) gives one area per buurt (kern), with a warning.

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
        Spanning trees GerryChain may draw per cut before that seed counts as failed.
    time_budget
        Seconds for the whole search; None = :data:`SECONDS_FIXED` + :data:`SECONDS_PER_UNIT`
        per unit. The spanning trees are bounded too (:data:`TREES_PER_UNIT` per unit), so the
        result depends on the time only when this budget runs out (the warning says so).
    """
    weights_in = _checked_workload(buurten, n_areas, workload, per_kern)
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

    parts, method, found, budget = _split(
        graph, balance_on, n, tolerance, seed=seed, max_attempts=max_attempts, time_budget=time_budget
    )

    assignment = _numbered(buurten, buurt_unit, names, parts)
    areas = _area_table(buurten, assignment, weights_in, by_workload=weights.sum() > 0)
    loads = areas["werklast"].to_numpy() if weights.sum() > 0 else areas["n_buurten"].to_numpy(dtype=float)
    mean = float(loads.mean())
    balance = float(loads.max() / loads.min()) if loads.min() > 0 else math.inf
    deviation = float(np.abs(loads - mean).max() / mean) if mean > 0 else 0.0
    met = deviation <= tolerance + 1e-9
    if not met and n > 1:
        notes.append(
            f"De werklast van de {n} gebieden ligt niet binnen {format_percent(tolerance, 0)} van het gemiddelde "
            f"(grootste afwijking {format_percent(deviation, 0)}, grootste/kleinste "
            f"{format_number(balance, 2)}): "
            + _cause(method, balance_on, names, n, tolerance=tolerance, per_kern=per_kern, found=found, budget=budget)
        )
    for note in notes:
        log.warning("%s", note)
    return BrokerAreas(
        areas=areas, assignment=assignment, balance=balance, max_deviation=deviation, tolerance=tolerance,
        tolerance_met=bool(met), method=method, links=links, warnings=notes,
    )


def _split(
    graph: Any, balance_on: np.ndarray, n: int, tolerance: float, *, seed: int, max_attempts: int,
    time_budget: float | None,
) -> tuple[dict[int, int], str, _Found | None, _Budget | None]:
    """The part of each unit: trivially for 1 or m areas, else the merge and the GerryChain search."""
    m = len(balance_on)
    if n == 1:
        return dict.fromkeys(range(m), 0), "een gebied", None, None
    if n == m:
        return {i: i for i in range(m)}, "elk een gebied", None, None
    budget = _Budget(
        max_trees=TREES_PER_UNIT * m,
        seconds=SECONDS_FIXED + SECONDS_PER_UNIT * m if time_budget is None else time_budget,
    )
    found = _search(graph, balance_on, n, tolerance, seed=seed, max_attempts=max_attempts, budget=budget)
    log.debug(
        "makelaarsgebieden: %s, afwijking %.3f, %d GerryChain-pogingen, %d bomen, %.1f s%s",
        found.method, found.deviation, budget.calls, budget.trees, time.perf_counter() - budget.started,
        f" (gestopt: {budget.stop})" if budget.stop else "",
    )
    return found.parts, found.method, found, budget


def _checked_workload(buurten: gpd.GeoDataFrame, n_areas: int, workload: pd.Series, per_kern: bool) -> pd.Series:
    """The workload per buurt as floats, after checking the inputs of :func:`broker_areas`."""
    require_columns(buurten, ["buurtcode", "inwoners", "geometry"], "de buurttabel")
    if per_kern:
        require_columns(buurten, ["kern"], "de buurttabel (per_kern vraagt de kern van elke buurt)")
    if isinstance(n_areas, bool) or not isinstance(n_areas, (int, np.integer)) or n_areas < 1:
        msg = f"Het aantal werkgebieden moet een geheel getal >= 1 zijn, maar is {n_areas!r}."
        raise DataError(msg)
    if len(buurten) == 0:
        msg = "Er zijn geen buurten om in werkgebieden te verdelen."
        raise DataError(msg)
    weights_in = pd.to_numeric(workload.reindex(buurten.index), errors="coerce").astype(float)
    if weights_in.isna().any() or (weights_in < 0).any():
        msg = "De werklast moet voor elke buurt bekend en >= 0 zijn (zie brokers.workload)."
        raise DataError(msg)
    return weights_in


def _numbered(buurten: gpd.GeoDataFrame, buurt_unit: pd.Series, names: list[str], parts: dict[int, int]) -> pd.Series:
    """The area of each buurt, numbered 1..n by the area's first buurtcode (so the numbers are stable)."""
    unit_part = np.array([parts[i] for i in range(len(names))])
    part_of_buurt = buurt_unit.map(dict(zip(names, unit_part.tolist(), strict=True)))
    first_code = buurten["buurtcode"].astype(str).groupby(part_of_buurt.to_numpy()).min().sort_values()
    renumber = {int(p): k for k, p in enumerate(first_code.index, start=1)}
    return part_of_buurt.map(renumber).astype(int).rename("gebied_id")


def _area_table(
    buurten: gpd.GeoDataFrame, assignment: pd.Series, weights_in: pd.Series, *, by_workload: bool
) -> gpd.GeoDataFrame:
    """One row per area (:data:`AREA_COLUMNS` + the union of its buurten)."""
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
    areas["werklast_tov_gemiddeld"] = areas["werklast"] / float(areas["werklast"].mean()) if by_workload else 1.0
    return areas[[*AREA_COLUMNS, "geometry"]]


def _cause(
    method: str, weights: np.ndarray, names: list[str], n: int, *, tolerance: float, per_kern: bool,
    found: _Found | None, budget: _Budget | None,
) -> str:
    """Why the areas are not within ``tolerance``, in Dutch: the first cause that holds."""
    unit, units = ("kern", "kernen") if per_kern else ("buurt", "buurten")
    mean = float(weights.sum()) / n
    heaviest = int(np.argmax(weights))
    if method == "elk een gebied":
        return f"er zijn niet meer {units} dan gebieden, dus elk gebied is één {unit} met de werklast van die {unit}."
    if float(weights[heaviest]) > (1.0 + tolerance) * mean + 1e-9:
        return (
            f"{unit} {names[heaviest]} heeft alleen al {format_percent(float(weights[heaviest]) / mean, 0)} van "
            "de gemiddelde werklast van een gebied, meer dan de marge toelaat. Kies minder gebieden of een "
            "ruimere brokers.balance_tolerance."
        )
    tries = f"{budget.calls} pogingen met GerryChain, {format_int(budget.trees)} opspannende bomen" if budget else ""
    if budget is not None and budget.stop == "tijd":
        return (
            f"de zoektocht naar een evenere verdeling stopte na {format_number(budget.seconds or 0.0, 0)} s, de tijd "
            f"voor {len(weights)} {units} ({tries})."
        )
    if budget is not None and budget.stop == "bomen":
        return f"de zoektocht naar een evenere verdeling stopte bij het maximum voor {len(weights)} {units} ({tries})."
    below = format_percent(found.failed_below, 0) if found is not None else format_percent(tolerance, 0)
    return (
        f"met {SEEDS_PER_TOLERANCE} startwaarden per marge vond GerryChain geen verdeling binnen {below} "
        f"({tries}); dit is de meest gelijke verdeling die is gevonden."
    )


def areas_summary(result: BrokerAreas) -> list[dict[str, Any]]:
    """The ``broker_areas`` list for ``samenvatting.json``.

    id, buurtcodes, kernen, residents, workload and workload_vs_mean (1.0 = the mean area; the
    largest distance from 1.0 is :attr:`BrokerAreas.max_deviation`).
    """
    return [
        {
            "id": int(row.gebied_id),
            "buurtcodes": row.buurtcodes.split(",") if row.buurtcodes else [],
            "kernen": row.kernen.split(",") if row.kernen else [],
            "residents": float(row.inwoners),
            "workload": float(row.werklast),
            "workload_vs_mean": float(row.werklast_tov_gemiddeld),
        }
        for row in result.areas.itertuples(index=False)
    ]
