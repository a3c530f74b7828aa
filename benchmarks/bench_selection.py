"""Benchmark: choosing new meeting points on a given sparse coverage structure.

Only the selection (analysis.siting), not the network searches that build the structure
(those are in bench_siting.py). A clustered synthetic instance: residents in clusters,
each candidate reaching the 50-300 cells nearest to it within 400 m, existing meeting
points fixed. Prints the time of greedy + swap and of the exact model (HiGHS, or CBC where HiGHS is missing; time limit),
and the greedy/exact ratio, measured in one run on this machine.

    python benchmarks/bench_selection.py [--residents 8000] [--candidates 2000] [--p 20] [--limit 60]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from wijkanalyse.analysis.siting import available_solver, exact_mclp, greedy, greedy_swap


def instance(
    n_res: int, n_cand: int, seed: int = 0, n_clusters: int = 25, spread: float = 500.0
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Clustered residents, candidates near the clusters, 30 existing meeting points."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 15_000, (n_clusters, 2))
    pts = centres[rng.integers(0, n_clusters, n_res)] + rng.normal(0, spread, (n_res, 2))
    cand = centres[rng.integers(0, n_clusters, n_cand)] + rng.normal(0, spread * 1.3, (n_cand, 2))
    tree = cKDTree(pts)
    dist, idx = tree.query(cand, k=300, distance_upper_bound=400)
    rows, cols = [], []
    for j in range(n_cand):
        near = idx[j][np.isfinite(dist[j])]
        if near.size < 50:
            near = tree.query(cand[j], k=50)[1]
        rows.append(np.full(near.size, j))
        cols.append(near)
    r, c = np.concatenate(rows), np.concatenate(cols)
    cover = sp.csr_matrix((np.ones(r.size, dtype=bool), (r, c)), shape=(n_cand, n_res))
    weights = rng.gamma(2.0, 15.0, n_res).round() + 1
    existing = centres[rng.integers(0, n_clusters, 30)] + rng.normal(0, spread, (30, 2))
    covered0 = np.zeros(n_res, dtype=bool)
    for e in existing:
        covered0[tree.query_ball_point(e, 400)] = True
    return cover, weights, covered0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=8000)
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--p", type=int, default=20)
    parser.add_argument("--limit", type=float, default=60.0, help="time limit of the exact model (s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    cover, weights, covered0 = instance(args.residents, args.candidates, args.seed)
    per = np.diff(cover.indptr)
    print(f"instance: {cover.shape[1]} residents x {cover.shape[0]} candidates, {cover.nnz} pairs "
          f"({per.min()}-{per.max()} per candidate), {covered0.mean():.0%} already within reach, p = {args.p}")
    plain = greedy(cover, weights, covered0, args.p)
    print(f"greedy:       {plain.seconds * 1000:8.1f} ms  objective {plain.objective:,.0f}")
    heuristic = greedy_swap(cover, weights, covered0, args.p)
    print(f"greedy+swap:  {heuristic.seconds * 1000:8.1f} ms  objective {heuristic.objective:,.0f} "
          f"({heuristic.swaps} swaps)")
    start = time.perf_counter()
    exact = exact_mclp(cover, weights, covered0, args.p, time_limit_s=args.limit)
    seconds = time.perf_counter() - start
    gap = "-" if exact.gap is None else f"{exact.gap:.2%}"
    print(f"exact ({available_solver()}):  {seconds * 1000:8.1f} ms  objective {exact.objective:,.0f}  status {exact.status}  gap {gap}")
    print(f"selection: greedy_swap_ms={heuristic.seconds * 1000:.1f} exact_s={seconds:.2f} "
          f"greedy/exact={heuristic.objective / exact.objective:.4f}")


if __name__ == "__main__":
    main()
