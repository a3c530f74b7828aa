"""The search for even broker areas (analysis.brokers): the merge, the spanning-tree cuts, the border moves.

Expected values come from independent code written here: the old merge (a scan of every pair per merge,
as the code was before the heap), an exhaustive enumeration of every split of a small grid, and
networkx for contiguity.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wijkanalyse.analysis import brokers
from wijkanalyse.analysis.brokers import _Adjacency, _Budget, _evenness, _merge_parts, _refine, _tree_parts

from .test_brokers import grid_buurten


def _grid(nx_: int, ny: int) -> nx.Graph:
    return nx.convert_node_labels_to_integers(nx.grid_2d_graph(nx_, ny), ordering="sorted")


def _old_merge(graph: nx.Graph, weights: np.ndarray, n: int) -> dict[int, int]:
    """The merge as it was: scan every pair for the lightest (load a + load b, a, b) each time."""
    region = {node: node for node in graph.nodes}
    load = {node: float(weights[node]) for node in graph.nodes}
    members = {node: {node} for node in graph.nodes}
    rgraph = nx.Graph(graph.edges)
    rgraph.add_nodes_from(graph.nodes)
    while rgraph.number_of_nodes() > n:
        a, b = min((tuple(sorted(e)) for e in rgraph.edges), key=lambda e: (load[e[0]] + load[e[1]], e[0], e[1]))
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


def _contiguous(graph: nx.Graph, parts: dict[int, int], n: int) -> bool:
    groups = [[u for u, p in parts.items() if p == k] for k in range(n)]
    return all(g and nx.is_connected(graph.subgraph(g)) for g in groups)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000), side=st.integers(2, 9), n=st.integers(1, 12),
    ties=st.booleans(),
)
def test_the_heap_merge_is_the_old_merge(seed: int, side: int, n: int, ties: bool) -> None:
    """Same lightest pair each time, ties (equal integer loads) broken the same way: the same split."""
    rng = np.random.default_rng(seed)
    graph = _grid(side, side + 1)
    # plus some diagonals, so regions get more than four neighbours
    cells = list(graph.nodes)
    for a, b in rng.choice(len(cells), size=(side, 2)):
        if a != b:
            graph.add_edge(int(a), int(b))
    m = graph.number_of_nodes()
    weights = rng.integers(1, 4, m).astype(float) if ties else rng.random(m) * 100
    n = min(n, m)
    assert _merge_parts(graph, weights, n) == _old_merge(graph, weights, n)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 9))
def test_border_moves_never_make_a_split_less_even_or_broken(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    graph = _grid(7, 6)
    weights = rng.random(42) * 10 + 1
    start = _merge_parts(graph, weights, n)
    moved = _refine(_Adjacency.of(graph, 42), start, weights, n)
    assert sorted(set(moved.values())) == list(range(n))
    assert _contiguous(graph, moved, n)
    assert _evenness(moved, weights, n)[1] <= _evenness(start, weights, n)[1] + 1e-12


def test_a_border_move_by_hand() -> None:
    """A path 0-1-2-3 with loads 1, 1, 1, 3 merged into 2 areas: {0,1,2} = 3 and {3} = 3 is even already;
    with loads 2, 1, 1, 2 the split {0}, {1,2,3} (2 against 4) becomes {0,1}, {2,3} (3 and 3)."""
    graph = nx.path_graph(4)
    adjacency = _Adjacency.of(graph, 4)
    weights = np.array([2.0, 1.0, 1.0, 2.0])
    moved = _refine(adjacency, {0: 0, 1: 1, 2: 1, 3: 1}, weights, 2)
    assert moved == {0: 0, 1: 0, 2: 1, 3: 1}


def _optimum(graph: nx.Graph, weights: np.ndarray, n: int) -> float:
    """The least largest deviation from the mean over every split into n contiguous non-empty areas."""
    m = len(weights)
    best = math.inf
    for labels in itertools.product(range(n), repeat=m - 1):
        parts = dict(enumerate((0, *labels)))  # unit 0 in area 0: each split counted fewer times
        if len(set(parts.values())) != n:
            continue
        dev = _evenness(parts, weights, n)[1]
        if dev < best and _contiguous(graph, parts, n):
            best = dev
    return best


@pytest.mark.parametrize("seed", [1, 3, 5])
def test_the_search_finds_the_most_even_split_of_a_small_grid(seed: int) -> None:
    """3 x 4 buurten into 3 areas with random workloads: the brute-force optimum (3^11 labelings)."""
    buurten = grid_buurten(3, 4, seed=seed)
    load = buurten["inwoners"]
    graph, _ = brokers.adjacency_graph(buurten.geometry)
    optimum = _optimum(graph.to_networkx(), load.to_numpy(dtype=float), 3)
    result = brokers.broker_areas(buurten, 3, workload=load, tolerance=0.0, seed=seed, time_budget=3600.0)
    assert result.max_deviation == pytest.approx(optimum, abs=1e-9)


def test_tree_cuts_give_complete_contiguous_areas_within_the_margin() -> None:
    graph = _grid(20, 20)
    weights = np.random.default_rng(4).random(400) * 10 + 5
    budget = _Budget(max_units=10**9, seconds=None)
    parts = _tree_parts(_Adjacency.of(graph, 400), weights, 16, 0.10, seed=1, max_attempts=25, budget=budget)
    assert sorted(set(parts.values())) == list(range(16)) and len(parts) == 400
    assert _contiguous(graph, parts, 16)
    assert _evenness(parts, weights, 16)[1] <= 0.10
    assert budget.trees >= 15  # at least one tree per cut: 15 cuts make 16 areas


def test_the_search_work_grows_linearly_with_the_buurten() -> None:
    """Spanning-tree work (units in the trees drawn) per buurt stays under the budget's constant at any size,
    and a search that must give up stops at that bound: 4 x the buurten is at most 4 x the work."""
    spent = []
    for side in (16, 32):
        graph = _grid(side, side)
        m = side * side
        weights = np.random.default_rng(side).random(m) * 10 + 5
        budget = _Budget(max_units=brokers.TREE_UNITS_PER_UNIT * m, seconds=None)
        # tolerance 0: never met, so only the budget or the bisection's resolution ends the search
        found = brokers._search(graph, weights, m // 8, 0.0, seed=1, max_attempts=25, budget=budget)
        assert found.deviation < 0.5
        assert budget.units <= brokers.TREE_UNITS_PER_UNIT * m
        spent.append(budget.units / m)
    assert spent[1] <= brokers.TREE_UNITS_PER_UNIT


def test_at_least_as_even_as_gerrychain() -> None:
    """GerryChain (an independent districting library) on the same 10 x 10 grid: its most even split of
    15 seeds at three margins is no more even than what broker_areas finds."""
    gerrychain = pytest.importorskip("gerrychain")
    from gerrychain.partition import recursive_tree_part

    buurten = grid_buurten(10, 10, seed=8)
    load = buurten["inwoners"].to_numpy(dtype=float)
    graph, _ = brokers.adjacency_graph(buurten.geometry)
    chain = nx.Graph()
    for node in graph.nodes:
        chain.add_node(node, werklast=float(load[node]))
    chain.add_edges_from(graph.edges)
    chain_graph = gerrychain.Graph.from_networkx(chain)
    theirs = math.inf
    for epsilon in (0.02, 0.05, 0.10):
        for seed in range(5):
            try:
                raw = recursive_tree_part(chain_graph, list(range(8)), load.sum() / 8, "werklast", epsilon, rng=seed)
            except Exception:
                continue
            theirs = min(theirs, _evenness({int(k): int(v) for k, v in raw.items()}, load, 8)[1])
    assert theirs < math.inf  # GerryChain found something to compare with
    ours = brokers.broker_areas(buurten, 8, workload=buurten["inwoners"], tolerance=0.0, seed=8, time_budget=3600.0)
    assert ours.max_deviation <= theirs + 1e-9
