"""Benchmark: one multi-source csgraph pass vs networkx, on a town-sized street grid.

Prints ratios measured in one run on this machine (no absolute limits). Both compute the
same thing: for every resident, the walking distance to the nearest meeting point, with
residents and meeting points attached to their nearest street.

    python benchmarks/bench_distance.py [--size 150] [--residents 20000] [--venues 150]
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from wijkanalyse.analysis.coverage import _snap, network_distance, straight_line_distance

RD = "EPSG:28992"


def grid_edges(size: int, spacing: float = 100.0) -> gpd.GeoDataFrame:
    """A ``size`` x ``size`` street grid as undirected edges (u < v)."""
    def node(i: int, j: int) -> int:
        return i * size + j

    u, v, lines = [], [], []
    for i in range(size):
        for j in range(size):
            if j + 1 < size:
                u.append(node(i, j))
                v.append(node(i, j + 1))
                lines.append(shapely.LineString([(j * spacing, i * spacing), ((j + 1) * spacing, i * spacing)]))
            if i + 1 < size:
                u.append(node(i, j))
                v.append(node(i + 1, j))
                lines.append(shapely.LineString([(j * spacing, i * spacing), (j * spacing, (i + 1) * spacing)]))
    return gpd.GeoDataFrame({"u": u, "v": v, "length": spacing}, geometry=lines, crs=RD)


def networkx_distance(origins: gpd.GeoSeries, targets: gpd.GeoSeries, edges: gpd.GeoDataFrame) -> np.ndarray:
    """The same computation with networkx.multi_source_dijkstra on a virtual source."""
    lines = edges.geometry.to_numpy()
    length = edges["length"].to_numpy()
    tree = shapely.STRtree(lines)
    graph = nx.Graph()
    graph.add_weighted_edges_from(zip(edges["u"], edges["v"], length, strict=True))
    t_line, t_snap, t_along = _snap(targets.to_numpy(), lines, tree)
    digraph = graph.to_directed()
    for k, snap, along in zip(t_line, t_snap, t_along, strict=True):
        for node, w in ((edges["u"].iat[k], snap + along), (edges["v"].iat[k], snap + length[k] - along)):
            old = digraph.get_edge_data("S", node, {"weight": np.inf})["weight"]
            digraph.add_edge("S", node, weight=min(old, w))
    dist = nx.single_source_dijkstra_path_length(digraph, "S")
    o_line, o_snap, o_along = _snap(origins.to_numpy(), lines, tree)
    du = np.array([dist.get(x, np.inf) for x in edges["u"].to_numpy()[o_line]])
    dv = np.array([dist.get(x, np.inf) for x in edges["v"].to_numpy()[o_line]])
    return o_snap + np.minimum(du + o_along, dv + length[o_line] - o_along)


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=150, help="streets per side of the grid")
    parser.add_argument("--residents", type=int, default=20000)
    parser.add_argument("--venues", type=int, default=150)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    extent = (args.size - 1) * 100.0
    edges = grid_edges(args.size)
    residents = gpd.GeoSeries(shapely.points(rng.uniform(0, extent, (args.residents, 2))), crs=RD)
    venues = gpd.GeoSeries(shapely.points(rng.uniform(0, extent, (args.venues, 2))), crs=RD)

    ours, t_ours = timed(network_distance, residents, venues, edges)
    theirs, t_nx = timed(networkx_distance, residents, venues, edges)
    _, t_straight = timed(straight_line_distance, residents, venues)
    # networkx lacks the same-street shortcut, so ours can only be shorter or equal
    assert (ours <= theirs + 1e-6).all()
    print(f"grid {args.size}x{args.size} ({len(edges):,} streets), {args.residents:,} residents, {args.venues} meeting points")
    print(f"networkx / csgraph time ratio:       {t_nx / t_ours:6.1f}x  (csgraph {t_ours:.2f} s)")
    print(f"csgraph / straight-line time ratio:  {t_ours / t_straight:6.1f}x")
    print(f"walked / straight distance (median): {np.median(ours / np.maximum(straight_line_distance(residents, venues), 1)):6.2f}")


if __name__ == "__main__":
    main()
