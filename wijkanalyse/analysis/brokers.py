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
buurten (or whole kernen) with about equal workload: random spanning trees of the buurt
adjacency graph (:func:`adjacency_graph`) cut into balanced parts, seeded, as GerryChain's
``recursive_tree_part`` does, with scipy's spanning trees and cuts in halves so the search grows
linearly with the gemeente.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wijkanalyse._format import format_int, format_number, format_percent, format_percent_apart
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
    "NeighbourGraph",
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


@dataclass(frozen=True)
class NeighbourGraph:
    """Neighbours among ``n`` units: nodes 0..n-1 and the edges ``(i, j)``, ``i < j``, each once."""

    n: int
    edges: tuple[tuple[int, int], ...]

    @property
    def nodes(self) -> range:
        """The units, 0..n-1."""
        return range(self.n)

    def to_networkx(self) -> Any:
        """The same graph as a ``networkx.Graph`` (for checks and notebooks; a run does not import networkx)."""
        import networkx as nx  # noqa: PLC0415

        graph = nx.Graph()
        graph.add_nodes_from(self.nodes)
        graph.add_edges_from(self.edges)
        return graph

    def components(self) -> list[list[int]]:
        """The connected groups of units, each sorted, smallest group first (ties: lowest unit)."""
        from scipy.sparse import coo_matrix  # noqa: PLC0415
        from scipy.sparse.csgraph import connected_components  # noqa: PLC0415

        pairs = np.array(self.edges, dtype=np.int64).reshape(-1, 2)
        matrix = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(self.n, self.n))
        _, labels = connected_components(matrix, directed=False)
        groups = [np.flatnonzero(labels == c).tolist() for c in range(int(labels.max()) + 1)] if self.n else []
        return sorted(groups, key=lambda c: (len(c), c[0]))


def adjacency_graph(geometries: gpd.GeoSeries | np.ndarray) -> tuple[NeighbourGraph, list[tuple[int, int, float]]]:
    """Neighbour graph of polygons: nodes 0..n-1, an edge where two share a border.

    Two polygons are neighbours when their borders share a line (touching at a single
    corner does not count) or they overlap. Islands (polygons without neighbours) and
    separate groups are then linked, smallest group first, to the nearest polygon outside
    the group, until the graph is connected: a buurt on an island or across a river still
    belongs to an area with the buurt nearest to it.

    Returns
    -------
    tuple
        The graph and the added links as ``(i, j, distance_m)``.
    """
    geoms = np.asarray(getattr(geometries, "values", geometries), dtype=object)
    n = len(geoms)
    edges: set[tuple[int, int]] = set()
    if n == 0:
        return NeighbourGraph(0, ()), []
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size:
        borders = shapely.boundary(geoms)
        shared = shapely.length(shapely.intersection(borders[left], borders[right])) > 0
        overlap = shapely.area(shapely.intersection(geoms[left], geoms[right])) > 0
        ok = shared | overlap
        edges.update(zip(left[ok].tolist(), right[ok].tolist(), strict=True))
    links: list[tuple[int, int, float]] = []
    while True:
        parts = NeighbourGraph(n, tuple(edges)).components()
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
        edges.add((min(i, j), max(i, j)))
        links.append((min(i, j), max(i, j), float(dist[best])))
    return NeighbourGraph(n, tuple(sorted(edges))), links


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
        ``"opspannende bomen"``, ``"samenvoegen"`` (fallback: merge neighbours, lightest pair first),
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
    if frame["unit"].is_unique:  # a unit per buurt: nothing to dissolve (a union per buurt costs 0.2 s at city size)
        units = gdf.set_index("unit")[["inwoners", "werklast", "geometry"]].sort_index()
    else:
        units = gdf.dissolve(by="unit", aggfunc={"inwoners": "sum", "werklast": "sum"}, sort=True)
    return units, units.geometry.to_numpy(), pd.Series(frame["unit"].to_numpy(), index=buurten.index)


#: Seeds tried at each tolerance before it counts as "not found" (a recursive cut either
#: succeeds on its first trees or gets stuck on the last parts, so other seeds help more than more trees).
SEEDS_PER_TOLERANCE = 8
#: The search stops when the best deviation found is this close to the largest tolerance that failed.
RESOLUTION = 0.01
#: Spanning-tree work for the whole search: the trees drawn may hold this many units in all, per unit
#: (buurt or kern). A tree of the whole gemeente counts its m units, a tree of one half m / 2, so the work
#: of the search grows linearly with the gemeente, not with the number of trees times its size.
TREE_UNITS_PER_UNIT = 600
#: Time for the whole search: a fixed part plus a part per unit (seconds); a safety net behind the tree budget.
SECONDS_FIXED, SECONDS_PER_UNIT = 1.0, 0.002


class _OutOfBudget(Exception):
    """The search for even areas used up its spanning trees or its time."""


@dataclass
class _Budget:
    """Bounds the spanning-tree work and the time spent by all tries of one split."""

    max_units: int
    seconds: float | None
    started: float = field(default_factory=time.perf_counter)
    trees: int = 0
    units: int = 0
    calls: int = 0
    stop: str = ""  # "", "bomen" or "tijd": why the search stopped early

    def draw(self, size: int) -> None:
        if self.units + size > self.max_units:
            self.stop = "bomen"
            raise _OutOfBudget
        if self.seconds is not None and time.perf_counter() - self.started > self.seconds:
            self.stop = "tijd"
            raise _OutOfBudget
        self.trees += 1
        self.units += size


@dataclass(frozen=True)
class _Adjacency:
    """The neighbour graph as a symmetric sparse matrix (for scipy's spanning trees)."""

    matrix: Any  # scipy.sparse.csr_matrix, m x m, 1 where two units are neighbours

    @classmethod
    def of(cls, graph: NeighbourGraph, m: int) -> _Adjacency:
        from scipy.sparse import csr_matrix  # noqa: PLC0415

        edges = np.array([e for e in graph.edges if e[0] != e[1]], dtype=np.int64).reshape(-1, 2)
        rows, cols = np.r_[edges[:, 0], edges[:, 1]], np.r_[edges[:, 1], edges[:, 0]]
        matrix = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(m, m))
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return cls(matrix)


#: Pieces up to this many units draw their spanning tree in Python (scipy's call costs more there).
SMALL_PIECE = 200


class _Piece:
    """Some units (global numbers ``nodes``) and the neighbour links among them (local numbers 0..k-1)."""

    def __init__(self, nodes: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        self.nodes, self.a, self.b = nodes, a, b
        self.size = len(nodes)
        self.edges = list(zip(a.tolist(), b.tolist(), strict=True)) if self.size <= SMALL_PIECE else []

    @classmethod
    def whole(cls, adjacency: _Adjacency) -> _Piece:
        from scipy.sparse import triu  # noqa: PLC0415

        coo = triu(adjacency.matrix, k=1).tocoo()
        return cls(np.arange(adjacency.matrix.shape[0]), coo.row.astype(np.int64), coo.col.astype(np.int64))

    def split(self, inside: np.ndarray) -> tuple[_Piece, _Piece]:
        """The pieces outside and inside ``inside`` (a mask over the local units); links across are cut."""
        local = np.cumsum(inside) - 1, np.cumsum(~inside) - 1
        pieces = []
        for side, number in ((~inside, local[1]), (inside, local[0])):
            keep = side[self.a] & side[self.b]
            pieces.append(_Piece(self.nodes[side], number[self.a[keep]], number[self.b[keep]]))
        return pieces[0], pieces[1]

    def random_tree(self, rng: np.random.Generator) -> tuple[list[int], list[int]]:
        """A random spanning tree, as (breadth-first order, parent) from a random root.

        The minimum spanning tree of random edge weights (Kruskal: scipy's in C for large pieces,
        a union-find in Python for small ones).
        """
        root = int(rng.integers(self.size))
        if self.size > SMALL_PIECE:
            from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree  # noqa: PLC0415

            from scipy.sparse import csr_matrix  # noqa: PLC0415

            weights = rng.random(len(self.a)) + 1.0  # > 0: scipy reads a 0 as "no edge"
            upper = csr_matrix((weights, (self.a, self.b)), shape=(self.size, self.size))
            order_a, parent_a = breadth_first_order(
                minimum_spanning_tree(upper), root, directed=False, return_predecessors=True
            )
            order, parent = order_a.tolist(), parent_a.tolist()
        else:
            up = list(range(self.size))

            def find(x: int) -> int:
                while up[x] != x:
                    up[x] = up[up[x]]
                    x = up[x]
                return x

            links: list[list[int]] = [[] for _ in range(self.size)]
            for e in rng.permutation(len(self.edges)).tolist():
                a, b = self.edges[e]
                ra, rb = find(a), find(b)
                if ra != rb:
                    up[ra] = rb
                    links[a].append(b)
                    links[b].append(a)
            parent = [-1] * self.size
            order = [root]
            parent[root] = root
            for v in order:
                for x in links[v]:
                    if parent[x] == -1:
                        parent[x] = v
                        order.append(x)
        if len(order) != self.size:
            msg = "de buurten van een deelgebied hangen niet samen"
            raise RuntimeError(msg)  # cannot happen: both sides of a tree cut hang together
        return order, parent


def _best_cut(
    order: list[int], parent: list[int], load: np.ndarray, k: int, target: float
) -> tuple[float, int, int]:
    """The tree edge to cut: (deviation, unit below it, parts for that side).

    Cutting the edge above unit v leaves v's subtree (load s) and the rest (load R - s). The subtree
    gets ``k1 = round(s / target)`` of the ``k`` parts; the deviation of the cut is the larger of
    the two sides' mean part load from ``target`` (a fraction of it). The most even cut wins, of the
    cuts that leave both sides at least a quarter of the parts (so the recursion stays shallow)
    when one of those is within 1.5 times the most even cut's deviation.
    """
    below = load.tolist()
    for v in reversed(order[1:]):
        below[parent[v]] += below[v]
    cut_at = np.asarray(order[1:], dtype=np.int64)
    s = np.asarray(below, dtype=float)[cut_at]
    total = float(load.sum())
    k1 = np.clip(np.rint(s / target), 1, k - 1)
    k2 = k - k1
    worst = np.maximum(np.abs(s / k1 - target), np.abs((total - s) / k2 - target)) / target
    best = int(np.argmin(worst))
    shallow = np.flatnonzero((np.minimum(k1, k2) >= max(1, k // 4)) & (worst <= 1.5 * worst[best] + 1e-12))
    if shallow.size:
        best = int(shallow[np.argmin(worst[shallow])])
    return float(worst[best]), int(cut_at[best]), int(k1[best])


def _subtree(order: list[int], parent: list[int], top: int) -> np.ndarray:
    """Mask of the units in ``top``'s subtree (local numbers)."""
    inside = [False] * len(order)
    inside[top] = True
    for v in order:
        if not inside[v] and v != order[0] and inside[parent[v]]:
            inside[v] = True
    return np.asarray(inside)


def _tree_parts(
    adjacency: _Adjacency, weights: np.ndarray, n: int, epsilon: float, *, seed: int, max_attempts: int,
    budget: _Budget,
) -> dict[int, int]:
    """One try of recursive bisection by random spanning trees.

    Each piece of the gemeente that should hold ``k > 1`` parts is cut in two along an edge of a
    random spanning tree (:meth:`_Piece.random_tree`, :func:`_best_cut`): the first cut within
    ``epsilon`` of the mean, or after ``max_attempts`` trees the most even cut they offered. The
    pieces are cut again until every piece is one part. The same recursion as GerryChain's
    ``recursive_tree_part``, but cutting in halves (depth log n instead of n) with scipy's trees.
    Raises :class:`_OutOfBudget` when ``budget`` runs out.
    """
    rng = np.random.default_rng([seed, round(epsilon * 1e6)])
    target = float(weights.sum()) / n
    labels = np.full(len(weights), -1, dtype=np.int64)
    pieces: list[tuple[_Piece, int]] = [(_Piece.whole(adjacency), n)]
    budget.calls += 1
    label = 0
    while pieces:
        piece, k = pieces.pop()
        if k == 1:
            labels[piece.nodes] = label
            label += 1
            continue
        best: tuple[float, int, int, list[int], list[int]] | None = None
        load = weights[piece.nodes]
        for _ in range(max_attempts):
            budget.draw(piece.size)
            order, parent = piece.random_tree(rng)
            deviation, top, k1 = _best_cut(order, parent, load, k, target)
            if best is None or deviation < best[0]:
                best = (deviation, top, k1, order, parent)
            if deviation <= epsilon + 1e-12:
                break
        assert best is not None  # max_attempts >= 1
        _, top, k1, order, parent = best
        outside, inside = piece.split(_subtree(order, parent, top))
        pieces += [(outside, k - k1), (inside, k1)]
    return dict(enumerate(labels.tolist()))


#: Moves of single units between neighbouring areas tried by :func:`_refine`, per unit.
MOVES_PER_UNIT = 20


def _refine(adjacency: _Adjacency, parts: dict[int, int], weights: np.ndarray, n: int) -> dict[int, int]:
    """A split made more even by moving single units across area borders (local search).

    The area furthest from the mean workload gives a unit on its border to a lighter neighbouring
    area (when it is too heavy) or takes one from a heavier neighbour (when too light), the move
    that leaves the pair nearest the mean, as long as that brings both below the area's present
    deviation and the area that gives stays in one piece. Stops when the furthest area cannot be
    improved this way, or after :data:`MOVES_PER_UNIT` moves per unit. Every move lowers the
    largest deviation or the number of areas that have it, so the result is never less even.
    """
    m = len(weights)
    if n < 2 or m <= n:
        return parts
    indptr, indices = adjacency.matrix.indptr, adjacency.matrix.indices
    nbrs = [indices[indptr[u]:indptr[u + 1]].tolist() for u in range(m)]
    part = [parts[u] for u in range(m)]
    w = weights.tolist()
    loads = [0.0] * n
    members: list[set[int]] = [set() for _ in range(n)]
    for u in range(m):
        loads[part[u]] += w[u]
        members[part[u]].add(u)
    mean = sum(loads) / n
    if mean <= 0:
        return parts

    def whole_without(area: int, u: int) -> bool:
        rest = members[area] - {u}
        if not rest:
            return False
        start = next(iter(rest))
        seen, todo = {start}, [start]
        while todo:
            for x in nbrs[todo.pop()]:
                if x in rest and x not in seen:
                    seen.add(x)
                    todo.append(x)
        return len(seen) == len(rest)

    for _ in range(MOVES_PER_UNIT * m):
        worst = max(range(n), key=lambda a: (abs(loads[a] - mean), -a))
        now = abs(loads[worst] - mean)
        heavy = loads[worst] > mean
        moves: list[tuple[float, int, int, int]] = []  # (pair deviation after, unit, giver, taker)
        for u in members[worst] if heavy else {x for v in members[worst] for x in nbrs[v] if part[x] != worst}:
            giver = part[u]
            for taker in {part[x] for x in nbrs[u] if part[x] != giver} if heavy else (worst,):
                after = max(abs(loads[giver] - w[u] - mean), abs(loads[taker] + w[u] - mean))
                if after < now - 1e-9 * mean:
                    moves.append((after, u, giver, taker))
        for _after, u, giver, taker in sorted(moves):
            if whole_without(giver, u):
                members[giver].discard(u)
                members[taker].add(u)
                part[u] = taker
                loads[giver] -= w[u]
                loads[taker] += w[u]
                break
        else:
            break
    return dict(enumerate(part))


@dataclass
class _Found:
    """The most even split found so far and what the search learned."""

    parts: dict[int, int]
    method: str
    deviation: float
    failed_below: float = 0.0  # the largest tolerance at which no seed found a split


def _search(
    graph: NeighbourGraph, weights: np.ndarray, n: int, tolerance: float, *, seed: int, max_attempts: int, budget: _Budget
) -> _Found:
    """The most even split of ``graph`` into ``n`` parts that the merge and the spanning trees find.

    The merge (lightest neighbours first) goes first: when it is within ``tolerance`` or as even
    as the heaviest unit allows, it is the answer. Otherwise the spanning-tree cut tries ``tolerance``
    (:data:`SEEDS_PER_TOLERANCE` seeds), then halves the gap between the largest tolerance that
    failed and the best deviation found, until they are :data:`RESOLUTION` apart or ``budget``
    runs out.
    """
    mean = float(weights.sum()) / n
    floor = max(0.0, float(weights.max()) / mean - 1.0)  # no area can be lighter than its heaviest unit
    adjacency = _Adjacency.of(graph, len(weights))
    merged = _refine(adjacency, _merge_parts(graph, weights, n), weights, n)
    best = _Found(merged, "samenvoegen", _evenness(merged, weights, n)[1], failed_below=floor)
    if best.deviation <= tolerance + 1e-9 or best.deviation <= floor + 1e-9:
        return best

    def attempt(epsilon: float) -> bool:
        for j in range(SEEDS_PER_TOLERANCE):
            parts = _tree_parts(adjacency, weights, n, epsilon, seed=seed + j, max_attempts=max_attempts, budget=budget)
            parts = _refine(adjacency, parts, weights, n)
            deviation = _evenness(parts, weights, n)[1]
            if deviation < best.deviation:
                best.parts, best.method, best.deviation = parts, "opspannende bomen", deviation
            if deviation <= epsilon + 1e-9:
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


def _merge_parts(graph: NeighbourGraph, weights: np.ndarray, n: int) -> dict[int, int]:
    """Fallback: start with every unit alone, merge the lightest neighbouring pair until ``n`` remain.

    The lightest pair is (load a + load b, a, b) smallest, with a < b; b joins a. A heap of the
    pairs with the loads they had when pushed; a pair whose region changed since is skipped when it
    comes up (O(E log E) instead of a scan of all pairs per merge).
    """
    load = [float(w) for w in weights]
    nbrs: dict[int, set[int]] = {node: set() for node in graph.nodes}
    for a, b in graph.edges:
        if a != b:
            nbrs[a].add(b)
            nbrs[b].add(a)
    version = dict.fromkeys(nbrs, 0)
    heap = [(load[a] + load[b], a, b, 0, 0) for a, b in (sorted(e) for e in graph.edges) if a != b]
    heapq.heapify(heap)
    joined = {node: node for node in nbrs}
    regions = len(nbrs)
    while regions > n and heap:
        _, a, b, va, vb = heapq.heappop(heap)
        if version.get(a) != va or version.get(b) != vb:
            continue  # a or b merged since: the pair is stale (or gone)
        for x in nbrs.pop(b):
            nbrs[x].discard(b)
            if x != a:
                nbrs[x].add(a)
                nbrs[a].add(x)
        nbrs[a].discard(b)
        del version[b]
        version[a] += 1
        load[a] += load[b]
        joined[b] = a
        regions -= 1
        for x in nbrs[a]:
            lo, hi = min(a, x), max(a, x)
            heapq.heappush(heap, (load[lo] + load[hi], lo, hi, version[lo], version[hi]))

    def region(node: int) -> int:
        while joined[node] != node:
            node = joined[node]
        return node

    labels = {r: i for i, r in enumerate(sorted(nbrs))}
    return {node: labels[region(node)] for node in graph.nodes}


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
    in :func:`adjacency_graph` (islands linked to their nearest buurt). Merging neighbours
    (lightest pair first) goes first and is kept when it is within the tolerance. Otherwise
    random spanning trees of that graph (the minimum spanning tree of random edge weights,
    scipy) are cut in two, and the halves again, into parts whose workload lies within
    ``tolerance`` of the mean (:func:`_tree_parts`); seeded, so the same input gives the same
    areas. The tolerance is tried with several seeds and, when none finds a split, the smallest
    tolerance that can be met is searched by bisection (see :func:`_search`), within a budget of
    spanning-tree work and time that grows linearly with the number of units; the most even
    split found is kept and a warning names why the tolerance was not met. More areas than
    buurten (kernen) gives one area per buurt (kern), with a warning.

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
        Spanning trees drawn per cut before that seed counts as failed.
    time_budget
        Seconds for the whole search; None = :data:`SECONDS_FIXED` + :data:`SECONDS_PER_UNIT`
        per unit. The spanning trees are bounded too (:data:`TREE_UNITS_PER_UNIT`), so the
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
            f"(grootste afwijking {format_percent_apart(deviation, tolerance)}, grootste/kleinste "
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
    """The part of each unit: trivially for 1 or m areas, else the merge and the spanning-tree search."""
    m = len(balance_on)
    if n == 1:
        return dict.fromkeys(range(m), 0), "een gebied", None, None
    if n == m:
        return {i: i for i in range(m)}, "elk een gebied", None, None
    budget = _Budget(
        max_units=TREE_UNITS_PER_UNIT * m,
        seconds=SECONDS_FIXED + SECONDS_PER_UNIT * m if time_budget is None else time_budget,
    )
    found = _search(graph, balance_on, n, tolerance, seed=seed, max_attempts=max_attempts, budget=budget)
    log.debug(
        "makelaarsgebieden: %s, afwijking %.3f, %d pogingen, %d bomen (%d eenheden), %.1f s%s",
        found.method, found.deviation, budget.calls, budget.trees, budget.units, time.perf_counter() - budget.started,
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
    tries = f"{budget.calls} pogingen, {format_int(budget.trees)} opspannende bomen" if budget else ""
    if budget is not None and budget.stop == "tijd":
        return (
            f"de zoektocht naar een evenere verdeling stopte na {format_number(budget.seconds or 0.0, 0)} s, de tijd "
            f"voor {len(weights)} {units} ({tries})."
        )
    if budget is not None and budget.stop == "bomen":
        return f"de zoektocht naar een evenere verdeling stopte bij het maximum voor {len(weights)} {units} ({tries})."
    tried = (
        f", ook niet met marges tot {format_percent(found.failed_below, 0)}"
        if found is not None and found.failed_below > tolerance + 1e-9 else ""
    )
    return (
        f"met {SEEDS_PER_TOLERANCE} startwaarden per marge vond de zoektocht met opspannende bomen geen "
        f"verdeling binnen {format_percent(tolerance, 0)}{tried} ({tries}); dit is de meest gelijke verdeling "
        "die is gevonden."
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
