"""Whole runs on a synthetic city at three sizes, and the distance step against two baselines.

Run: ``python benchmarks/bench_pipeline.py [--size 12000] [--layout organic]`` (``--size``: the
side of the square city in metres, a multiple of 500; 12,000 is the Amsterdam-size city, 0.5 M
OSM nodes on the organic layout; ``--layout grid``: the street grid city). Everything is measured
in this one run, on this machine:

- the whole run (``pipeline.run`` on the snapshot, outputs included), in a fresh child process
  so its peak memory and CPU are its own: seconds and peak GiB per step and in all, and the
  CPU shares of the broker areas and of the print maps; then the same at twice the side
  (4x the nodes: 2 M) and at about sqrt(10) times the side (10x: 5 M; sides rounded to 2 km,
  so that the buurten form whole wijken: 24 and 38 km for the 12 km city), for the growth ratios
  ``growth_2m/0.5m`` and ``growth_5m/2m`` (CPU seconds; linear growth is 4 and 2.5);
- our distance step: building the walk network from the snapshot's ways (walk rule,
  components), attaching every resident cell and meeting point at the foot of the
  perpendicular, and the one multi-source Dijkstra;
- a bare ``scipy.sparse.csgraph.dijkstra(min_only=True)`` on the same street network as a graph
  of its OSM nodes (every node a graph node, as osmnx's unsimplified graph has it), with
  nearest-node snapping by a KD-tree: what the distance step costs without the attachment rule
  and without cutting ways at junctions (also printed: the bare call on our junction graph);
- networkx's own multi-source Dijkstra (``multi_source_dijkstra_path_length``) from the same
  snapped sources on the same junction graph as that second bare call, building the
  ``nx.Graph`` included; its distances are checked against the bare call's.

Last line: ``pipeline: nodes=<n> seconds=<s> cpu_s=<s> peak_gib=<g> ours/csgraph=<x>
networkx_multi/ours=<y> growth_2m/0.5m=<r> growth_5m/2m=<r> brokers_share=<f> printmaps_share=<f>``
(the base city's run; ``--no-growth`` leaves the two larger runs out and prints 0 for them).
Targets on 2 cores: seconds <= 20, peak_gib <= 2, ours/csgraph <= 1.5, growth ratios <= 4.4 and
<= 2.8 (networkx_multi/ours has no target: it is there to show what a pure-Python Dijkstra costs
on the same graph).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
from queue import Empty
import resource
import sys
import shutil
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).parent))
from synthetic_city import osm_node_count, write_city

from wijkanalyse import model, pipeline
from wijkanalyse.config import load_config
from wijkanalyse.network import WalkNetwork


def _whole_run(snap: Path, out: Path, queue: mp.Queue) -> None:
    from wijkanalyse.analysis import decide  # noqa: PLC0415
    from wijkanalyse.outputs import printmaps  # noqa: PLC0415

    spent = {"brokers": 0.0, "printmaps": 0.0}

    def timed(name: str, fn):
        def wrapper(*args, **kwargs):
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.process_time() - start
        return wrapper

    decide.broker_areas = timed("brokers", decide.broker_areas)  # called from analysis.decide
    printmaps.write_print_maps = timed("printmaps", printmaps.write_print_maps)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        outputs = pipeline.run(snap, load_config(), out)
    except BaseException as exc:
        queue.put(exc)  # the parent would wait for a result for ever
        raise
    queue.put((time.perf_counter() - start, time.process_time() - cpu, outputs.timings, outputs.peak_gib, spent))


def _run_child(snap: Path, out: Path) -> tuple[float, float, list, float, dict[str, float]]:
    """The whole run in a fresh process: (seconds, cpu_s, timings, peak GiB, CPU per timed part)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_whole_run, args=(snap, out, queue))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    child.start()
    while True:  # a child that dies without an answer ends the benchmark instead of hanging it
        try:
            got = queue.get(timeout=1.0)
            break
        except Empty:
            if not child.is_alive():
                raise SystemExit(f"the whole run on {snap} died (exit code {child.exitcode}) without a result") from None
    if isinstance(got, BaseException):
        child.join()
        raise SystemExit(f"the whole run on {snap} failed: {got!r}")
    seconds, _, timings, peak, spent = got
    child.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)  # imports included
    return seconds, cpu, timings, peak, spent


def _pdf_sizes(out: Path) -> str:
    """The print maps' PDF sizes of a run (the target: at most 3 MB each at 5 M nodes)."""
    sizes = sorted(p.stat().st_size / 1e6 for p in out.rglob("kaart_*.pdf"))
    return f"print-map PDFs {len(sizes)}, largest {sizes[-1]:.2f} MB" if sizes else "no print-map PDFs"


def _shortest_edges(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One undirected edge per node pair, the shortest (csr_matrix would add parallel edges up)."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((w, hi, lo))
    lo, hi, w = lo[order], hi[order], w[order]
    first = np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])]
    return lo[first], hi[first], w[first]


def _undirected(a: np.ndarray, b: np.ndarray, w: np.ndarray, n: int) -> csr_matrix:
    return csr_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n))


def _best(fn, repeat: int = 3) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:  # noqa: PLR0915 (one measurement after another)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=12_000.0, help="side of the square city (m, a multiple of 500)")
    parser.add_argument("--layout", choices=["organic", "grid"], default="organic")
    parser.add_argument("--no-growth", action="store_true", help="leave out the runs at 4x and 10x the nodes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        snap = write_city(Path(tmp) / "snap", size=args.size, layout=args.layout)
        ways = gpd.read_parquet(snap / "netwerk.parquet")
        grid = gpd.read_file(snap / "vierkant100m.gpkg")
        config = load_config()
        venues = model.venues_frame(gpd.read_parquet(snap / "voorzieningen_osm.parquet"), config.venues)
        meeting = venues[venues["ontmoetingspunt"].astype(bool)].geometry
        residents = grid.centroid
        print(f"city: {grid.shape[0]} inhabited cells, {len(ways)} ways, {osm_node_count(ways)} OSM nodes, "
              f"{len(meeting)} meeting points")

        nodes = osm_node_count(ways)
        seconds, cpu, timings, peak, spent = _run_child(snap, Path(tmp) / "out")
        for text, secs, step_peak in timings:
            print(f"  step {secs:6.2f} s  peak {step_peak:5.2f} GiB  {text}")
        print(f"whole run: {seconds:.2f} s, CPU {cpu:.2f} s, peak {peak:.2f} GiB; broker areas {spent['brokers']:.2f} s CPU, "
              f"print maps {spent['printmaps']:.2f} s CPU, {_pdf_sizes(Path(tmp) / 'out')}", flush=True)
        growth = {}
        if not args.no_growth:
            cpus = [cpu]
            for factor in (2.0, math.sqrt(10)):
                side = max(round(args.size * factor / 2000), 1) * 2000  # whole wijken of 4 x 4 buurten
                big = write_city(Path(tmp) / f"snap{side:.0f}", size=side, layout=args.layout)
                big_nodes = osm_node_count(gpd.read_parquet(big / "netwerk.parquet"))
                s_big, c_big, _, p_big, sp_big = _run_child(big, Path(tmp) / f"out{side:.0f}")
                print(f"whole run at {side / 1000:g} km ({big_nodes} OSM nodes, {big_nodes / nodes:.1f}x): {s_big:.2f} s, "
                      f"CPU {c_big:.2f} s, peak {p_big:.2f} GiB; broker areas {sp_big['brokers']:.2f} s CPU "
                      f"({sp_big['brokers'] / c_big:.0%}), print maps {sp_big['printmaps']:.2f} s CPU, "
                      f"{_pdf_sizes(Path(tmp) / f'out{side:.0f}')}", flush=True)
                cpus.append(c_big)
                shutil.rmtree(big)
            growth = {"2m": cpus[1] / cpus[0], "5m": cpus[2] / cpus[1]}

        def ours() -> np.ndarray:
            net = WalkNetwork.from_ways(ways, config.network)
            return net.nearest(net.attach(residents), net.attach(meeting))

        t_ours, d_ours = _best(ours)

        # the same streets as a graph of OSM nodes: consecutive vertices of each way are joined
        net = WalkNetwork.from_ways(ways, config.network)
        coords = shapely.get_coordinates(net.geometry)
        n_vert = shapely.get_num_coordinates(net.geometry)
        _, node = np.unique(np.round(coords, 3), axis=0, return_inverse=True)
        node = node.ravel()
        same_way = np.repeat(np.arange(len(n_vert)), n_vert)
        link = np.flatnonzero(same_way[1:] == same_way[:-1])
        seg = np.hypot(*(coords[link + 1] - coords[link]).T)
        n_nodes = node.max() + 1
        node_xy = np.zeros((n_nodes, 2))
        node_xy[node] = coords
        graph = _undirected(*_shortest_edges(node[link], node[link + 1], seg), n_nodes)

        res_xy = np.column_stack([residents.x, residents.y])
        mp_xy = np.column_stack([meeting.x, meeting.y])

        def bare() -> np.ndarray:
            tree = cKDTree(node_xy)
            sources = np.unique(tree.query(mp_xy)[1])
            return dijkstra(graph, indices=sources, min_only=True)[tree.query(res_xy)[1]]

        t_bare, d_bare = _best(bare)

        bu, bv, bw = _shortest_edges(*net._base[1:])  # our junction graph, for the second baseline and networkx
        junction = _undirected(bu, bv, bw, net.n_nodes)
        ends = np.zeros((net.n_nodes, 2))
        ends[net.u] = shapely.get_coordinates(shapely.get_point(net.geometry, 0))
        ends[net.v] = shapely.get_coordinates(shapely.get_point(net.geometry, -1))

        def bare_junction() -> np.ndarray:
            tree = cKDTree(ends)
            sources = np.unique(tree.query(mp_xy)[1])
            return dijkstra(junction, indices=sources, min_only=True)[tree.query(res_xy)[1]]

        t_junction, d_junction = _best(bare_junction)

        import networkx as nx  # noqa: PLC0415

        def networkx_multi() -> np.ndarray:
            g = nx.Graph()
            g.add_nodes_from(range(net.n_nodes))
            g.add_weighted_edges_from(zip(bu.tolist(), bv.tolist(), bw.tolist(), strict=True))
            tree = cKDTree(ends)
            sources = np.unique(tree.query(mp_xy)[1]).tolist()
            lengths = nx.multi_source_dijkstra_path_length(g, sources)
            return np.array([lengths.get(i, np.inf) for i in tree.query(res_xy)[1].tolist()])

        t_nx, d_nx = _best(networkx_multi, repeat=1)
        both = np.isfinite(d_junction)
        if not (np.array_equal(both, np.isfinite(d_nx)) and np.allclose(d_nx[both], d_junction[both])):
            sys.exit("networkx and csgraph disagree on the junction graph")

        finite = np.isfinite(d_ours) & np.isfinite(d_bare)
        print(f"distance step, ours (network + attachment + Dijkstra): {t_ours:.3f} s")
        print(f"bare csgraph on the OSM-node graph ({n_nodes} nodes) with KD-tree snapping: {t_bare:.3f} s "
              f"(mean |difference| to ours {np.abs(d_ours - d_bare)[finite].mean():.1f} m)")
        print(f"bare csgraph on our junction graph ({net.n_nodes} nodes) with KD-tree snapping: {t_junction:.3f} s")
        print(f"networkx multi_source_dijkstra_path_length on our junction graph, same sources, graph built "
              f"included: {t_nx:.3f} s (networkx/bare csgraph on the same graph {t_nx / t_junction:.0f}x; "
              f"same distances)")
        print(f"pipeline: nodes={nodes} seconds={seconds:.2f} cpu_s={cpu:.2f} peak_gib={peak:.2f} "
              f"ours/csgraph={t_ours / t_bare:.2f} networkx_multi/ours={t_nx / t_ours:.1f} "
              f"growth_2m/0.5m={growth.get('2m', 0):.2f} growth_5m/2m={growth.get('5m', 0):.2f} "
              f"brokers_share={spent['brokers'] / cpu:.3f} printmaps_share={spent['printmaps'] / cpu:.3f}")


if __name__ == "__main__":
    main()
