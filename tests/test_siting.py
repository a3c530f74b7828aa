"""Choosing new meeting points on a sparse coverage structure (analysis.siting).

Every optimum here is checked against brute force over all subsets; the ranked table is
checked by hand on a four-resident example.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree
from shapely.geometry import Point

from wijkanalyse import pipeline
from wijkanalyse.config import load_config
from wijkanalyse.outputs._siting import _quality
from wijkanalyse.outputs.texts import proposal_line
from wijkanalyse.sources.files import SnapshotReader
from wijkanalyse.analysis.siting import (
    NO_SOLVER_MESSAGE,
    PROPOSAL_COLUMNS,
    available_solver,
    best_by_count,
    candidate_costs,
    count_summary,
    covered_weight,
    exact_mclp,
    greedy,
    greedy_swap,
    proposals_summary,
    proposals_table,
    resident_weights,
)


def random_instance(seed: int, n_cand: int, n_res: int, density: float, fixed_share: float = 0.0):
    rng = np.random.default_rng(seed)
    cover = sp.random(n_cand, n_res, density=density, random_state=rng, format="csr")
    cover.data[:] = 1.0
    weights = rng.integers(1, 40, n_res).astype(float)
    covered0 = rng.random(n_res) < fixed_share
    return cover, weights, covered0


def brute_force(cover, weights, covered0, p: int) -> float:
    best = 0.0
    for sites in itertools.combinations(range(cover.shape[0]), min(p, cover.shape[0])):
        best = max(best, covered_weight(cover, weights, sites, covered0))
    return best


def clustered_instance(seed: int, n_res: int, n_cand: int, n_clusters: int = 15):
    """Residents in clusters; each candidate reaches the 50-300 cells nearest to it within 400 m."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 12_000, (n_clusters, 2))
    pts = centres[rng.integers(0, n_clusters, n_res)] + rng.normal(0, 500, (n_res, 2))
    cand = centres[rng.integers(0, n_clusters, n_cand)] + rng.normal(0, 650, (n_cand, 2))
    tree = cKDTree(pts)
    rows, cols = [], []
    for j, c in enumerate(cand):
        d, idx = tree.query(c, k=300, distance_upper_bound=400)
        idx = idx[np.isfinite(d)]
        if idx.size < 50:
            idx = tree.query(c, k=50)[1]
        rows += [j] * idx.size
        cols += idx.tolist()
    cover = sp.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(n_cand, n_res))
    weights = rng.gamma(2.0, 15.0, n_res).round() + 1
    existing = centres[rng.integers(0, n_clusters, 10)] + rng.normal(0, 500, (10, 2))
    covered0 = np.zeros(n_res, dtype=bool)
    for e in existing:
        covered0[tree.query_ball_point(e, 400)] = True
    return cover, weights, covered0


# --------------------------------------------------------------------------------------
# Against brute force
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "p", "fixed"), [(1, 1, 0.0), (2, 2, 0.0), (3, 3, 0.3), (4, 4, 0.5), (5, 3, 0.2)])
def test_exact_equals_brute_force_over_all_subsets(seed: int, p: int, fixed: float) -> None:
    cover, w, c0 = random_instance(seed, n_cand=9, n_res=30, density=0.15, fixed_share=fixed)
    best = brute_force(cover, w, c0, p)
    result = exact_mclp(cover, w, c0, p, time_limit_s=30)
    assert result.status == "optimal" and result.optimal
    assert result.objective == pytest.approx(best)
    assert result.gap == 0.0 and result.bound == pytest.approx(best)
    # the reported objective is what the chosen sites reach
    assert covered_weight(cover, w, result.chosen, c0) == pytest.approx(result.objective)
    assert len(set(result.chosen.tolist())) == len(result.chosen) <= p
    # the heuristic never beats the optimum
    assert greedy_swap(cover, w, c0, p).objective <= best + 1e-9


def test_fixed_coverage_is_not_counted_again() -> None:
    # candidate 0 reaches residents 0 and 1; resident 0 (weight 50) is already within reach
    cover = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]], dtype=bool))
    w = np.array([50.0, 10.0, 20.0])
    c0 = np.array([True, False, False])
    assert greedy(cover, w, c0, 1).chosen.tolist() == [1]  # 20 new beats 10 new
    assert exact_mclp(cover, w, c0, 1).objective == 20.0
    assert greedy(cover, w, None, 1).chosen.tolist() == [0]  # without fixed sites: 60


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_greedy_first_pick_is_the_best_single_site(seed: int) -> None:
    cover, w, c0 = random_instance(seed, n_cand=40, n_res=200, density=0.08, fixed_share=0.2)
    single = [covered_weight(cover, w, [j], c0) for j in range(40)]
    best = max(single)
    result = greedy(cover, w, c0, 5)
    assert result.chosen[0] == single.index(best)  # lowest index among equals
    assert result.gains[0] == pytest.approx(best)
    assert greedy_swap(cover, w, c0, 1).chosen.tolist() == [single.index(best)]


def test_greedy_ranking_is_nested_and_gains_add_up() -> None:
    cover, w, c0 = random_instance(21, n_cand=60, n_res=400, density=0.05, fixed_share=0.1)
    result = greedy_swap(cover, w, c0, 8)
    for r in range(1, len(result.chosen) + 1):
        assert covered_weight(cover, w, result.chosen[:r], c0) == pytest.approx(result.cumulative[r - 1])
    assert np.all(np.diff(result.gains) <= 1e-9)  # ranked in greedy order: gains never grow
    assert result.objective == pytest.approx(result.cumulative[-1])


def test_greedy_swap_within_two_percent_of_exact_on_a_larger_instance() -> None:
    cover, w, c0 = clustered_instance(5, n_res=3000, n_cand=600)
    nnz = np.diff(cover.indptr)
    assert nnz.min() >= 50 and nnz.max() <= 300
    heuristic = greedy_swap(cover, w, c0, 12)
    exact = exact_mclp(cover, w, c0, 12, time_limit_s=120)
    assert exact.status == "optimal"
    assert heuristic.objective >= 0.98 * exact.objective
    assert exact.objective >= heuristic.objective  # warm-started: never below the heuristic


def test_swap_repairs_a_greedy_trap() -> None:
    # candidate 0 reaches the middle of two groups (weight 12) and wins the first greedy
    # step; candidates 1 and 2 each reach one whole group (10 each) and together reach 20.
    cover = sp.csr_matrix(np.array([
        [0, 1, 1, 1, 1, 0],
        [1, 1, 1, 0, 0, 0],
        [0, 0, 0, 1, 1, 1],
    ], dtype=bool))
    w = np.array([4.0, 3.0, 3.0, 3.0, 3.0, 4.0])
    assert greedy(cover, w, None, 2).objective == 16.0
    result = greedy_swap(cover, w, None, 2)
    assert result.objective == 20.0 and sorted(result.chosen.tolist()) == [1, 2]
    assert result.swaps == 1
    assert exact_mclp(cover, w, None, 2).objective == 20.0


def test_time_limited_exact_says_it_is_not_proven() -> None:
    # 300 random candidates x 3000 residents: HiGHS does not close the gap in 1 second
    cover, w, _ = random_instance(7, n_cand=300, n_res=3000, density=0.03)
    result = exact_mclp(cover, w, None, 20, time_limit_s=1)
    assert result.status == "time_limit" and not result.optimal
    assert result.bound is not None and result.bound > result.objective
    assert 0 < result.gap < 1
    assert result.objective >= greedy_swap(cover, w, None, 20).objective
    assert covered_weight(cover, w, result.chosen, None) == pytest.approx(result.objective)


# --------------------------------------------------------------------------------------
# Adding a site never lowers coverage
# --------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_cand=st.integers(1, 12),
    n_res=st.integers(1, 25),
    sites=st.lists(st.integers(0, 11), max_size=6),
    extra=st.integers(0, 11),
)
def test_adding_a_site_never_lowers_coverage(seed: int, n_cand: int, n_res: int, sites: list[int], extra: int) -> None:
    cover, w, c0 = random_instance(seed, n_cand, n_res, density=0.3, fixed_share=0.2)
    sites = [s % n_cand for s in sites]
    before = covered_weight(cover, w, sites, c0)
    after = covered_weight(cover, w, [*sites, extra % n_cand], c0)
    assert after >= before


def test_optimum_never_falls_with_more_sites() -> None:
    cover, w, c0 = random_instance(31, n_cand=10, n_res=40, density=0.12, fixed_share=0.2)
    values = [exact_mclp(cover, w, c0, p).objective for p in range(5)]
    assert values == sorted(values)
    assert values[0] == 0.0


def test_stops_when_nothing_more_can_be_reached() -> None:
    cover = sp.csr_matrix(np.array([[1, 0], [1, 0], [0, 0]], dtype=bool))
    w = np.array([5.0, 7.0])  # resident 1 is reached by no candidate
    for method in (greedy, greedy_swap, exact_mclp):
        result = method(cover, w, None, 3)
        assert result.chosen.tolist() == [0]  # tie between 0 and 1: lowest index
        assert result.objective == 5.0


def test_ties_go_to_the_cheaper_candidate() -> None:
    cover = sp.csr_matrix(np.array([[1, 0], [1, 0]], dtype=bool))
    w = np.array([5.0, 0.0])
    assert greedy(cover, w, None, 1, cost=[20_000, 15_000]).chosen.tolist() == [1]


def test_cover_is_never_accepted_dense() -> None:
    with pytest.raises(TypeError, match=r"scipy\.sparse"):
        greedy(np.ones((2, 2), dtype=bool), np.ones(2), None, 1)
    with pytest.raises(ValueError, match="weights"):
        greedy(sp.csr_matrix(np.ones((2, 3), dtype=bool)), np.ones(2), None, 1)


# --------------------------------------------------------------------------------------
# Weights, costs and the table
# --------------------------------------------------------------------------------------


def test_resident_weights_from_the_signal() -> None:
    inwoners = np.array([10.0, 10.0, np.nan, 4.0])
    signal = np.array([1.0, -2.0, 1.0, np.nan])
    assert resident_weights(inwoners).tolist() == [10.0, 10.0, 0.0, 4.0]
    # 10 x (1 + 0.5 x 1) = 15; negative signal = plain residents; unknown signal = 0
    assert resident_weights(inwoners, signal, strength=0.5).tolist() == [15.0, 10.0, 0.0, 4.0]


def test_candidate_costs_by_kind() -> None:
    costs = candidate_costs(["school", "gat", "sport"], 25_000, {"school": 15_000})
    assert costs.tolist() == [15_000, 25_000, 25_000]


def four_residents():
    """Residents a, b, c, d with 10, 20, 30, 40 inwoners; a already within reach.

    Candidate 0 reaches a, b; 1 reaches b, c; 2 reaches d; 3 reaches c, d.
    """
    cover = sp.csr_matrix(np.array([
        [1, 1, 0, 0],
        [0, 1, 1, 0],
        [0, 0, 0, 1],
        [0, 0, 1, 1],
    ], dtype=bool))
    inwoners = np.array([10.0, 20.0, 30.0, 40.0])
    covered0 = np.array([True, False, False, False])
    cost = np.array([25_000.0, 10_000.0, 25_000.0, 30_000.0])
    candidates = gpd.GeoDataFrame(
        {
            "naam": ["School A", "Kerkzaal B", "Sporthal C", "Gat 1"],
            "soort": ["school", "gemeente", "sport", "gat"],
            "buurtcode": ["BU99990101", "BU99990102", "BU99990103", "BU99990104"],
            "kern": ["Dorp", "Dorp", "Stad", "Stad"],
        },
        geometry=[Point(0, 0), Point(100, 0), Point(200, 0), Point(300, 50)],
        crs=28992,
    )
    return cover, inwoners, covered0, cost, candidates


def test_proposals_table_by_hand() -> None:
    cover, inwoners, covered0, cost, candidates = four_residents()
    selection = greedy_swap(cover, inwoners, covered0, 3, cost=cost)
    # rank 1: candidate 3 reaches c + d = 70. Then b (20) is left: candidates 0 and 1
    # both add 20; 1 is cheaper. Then nothing is left, so only two proposals.
    assert selection.chosen.tolist() == [3, 1]
    table = proposals_table(selection, cover, inwoners, covered0, cost=cost, candidates=candidates)
    assert isinstance(table, gpd.GeoDataFrame)
    assert list(table.columns[: len(PROPOSAL_COLUMNS)]) == PROPOSAL_COLUMNS
    assert table["rang"].tolist() == [1, 2]
    assert table["naam"].tolist() == ["Gat 1", "Kerkzaal B"]
    assert table["soort"].tolist() == ["gat", "gemeente"]
    assert table["nieuw_binnen_bereik"].tolist() == [70.0, 20.0]
    assert table["cumulatief_binnen_bereik"].tolist() == [70.0, 90.0]
    assert table["aandeel_na"].tolist() == pytest.approx([0.8, 1.0])  # (10 + 70) / 100, (10 + 90) / 100
    assert table["kosten_per_jaar"].tolist() == [30_000.0, 10_000.0]
    assert table["kosten_per_inwoner"].tolist() == pytest.approx([30_000 / 70, 500.0])
    assert table["x"].tolist() == [300.0, 100.0] and table["y"].tolist() == [50.0, 0.0]
    assert proposal_line(table.iloc[1]) == "Nieuw ontmoetingspunt 2: Kerkzaal B, bereikt 20 inwoners meer (€ 500 per inwoner per jaar)"
    summary = proposals_summary(table)
    assert summary[0] == {
        "rank": 1, "name": "Gat 1", "kind": "gat", "x": 300.0, "y": 50.0, "buurtcode": "BU99990104",
        "newly_within": 70.0, "cumulative_within": 70.0, "share_after": pytest.approx(0.8),
        "cost_per_year": 30_000.0, "cost_per_resident": pytest.approx(30_000 / 70),
        "newly_within_alone": 70.0, "best_for_counts": [],  # no choices given: no per-count sets
    }


def test_weighted_selection_still_reports_residents() -> None:
    cover, inwoners, covered0, cost, _ = four_residents()
    # weight b 10x: candidate 1 (b + c = 200 + 30) now beats candidate 3 (c + d = 70)
    weights = inwoners * np.array([1.0, 10.0, 1.0, 1.0])
    selection = greedy(cover, weights, covered0, 1)
    assert selection.chosen.tolist() == [1]
    table = proposals_table(selection, cover, inwoners, covered0, weights=weights, cost=cost)
    assert table["nieuw_binnen_bereik"].tolist() == [50.0]
    assert table["nieuw_gewogen"].tolist() == [230.0]
    assert proposal_line(table.iloc[0]) == "Nieuw ontmoetingspunt 1: kandidaat 1, bereikt 50 inwoners meer (€ 200 per inwoner per jaar)"


def test_a_plain_frame_and_no_costs() -> None:
    cover, inwoners, covered0, _, candidates = four_residents()
    frame = pd.DataFrame(candidates.drop(columns="geometry")).assign(x=[0.0, 1.0, 2.0, 3.0], y=0.0)
    table = proposals_table(greedy(cover, inwoners, covered0, 1), cover, inwoners, covered0, candidates=frame)
    assert not isinstance(table, gpd.GeoDataFrame)
    assert table["x"].tolist() == [3.0]
    assert math.isnan(table["kosten_per_inwoner"].iloc[0])
    assert proposal_line(table.iloc[0]) == "Nieuw ontmoetingspunt 1: Gat 1, bereikt 70 inwoners meer"
    assert proposals_summary(table)[0]["cost_per_year"] is None


# --------------------------------------------------------------------------------------
# On the demo gemeente
# --------------------------------------------------------------------------------------


def demo_candidates(result) -> gpd.GeoDataFrame:
    """Candidates on the demo: venues that are not meeting points, plus the resident-weighted
    centre of each gap (a stand-in for the network engine's candidate generation)."""
    from wijkanalyse import model
    from wijkanalyse.config import load_config

    venues = result.venues[~result.venues["ontmoetingspunt"].astype(bool)]
    rows = [{"naam": v.naam, "soort": v.categorie, "geometry": v.geometry} for v in venues.itertuples()]
    residents = result.residents
    for gap in result.gaps.itertuples():
        inside = residents[residents.within(gap.geometry)]
        w = inside["inwoners"].fillna(0.0).to_numpy()
        if w.sum() > 0:
            xy = np.column_stack([inside.geometry.x, inside.geometry.y])
            rows.append({"naam": f"Gat {gap.gat_id}", "soort": "gat", "geometry": Point(*(xy * w[:, None]).sum(0) / w.sum())})
    cands = gpd.GeoDataFrame(rows, geometry="geometry", crs=28992)
    joined = gpd.sjoin(cands, result.buurten[["buurtcode", "geometry"]], how="left", predicate="within")
    cands["buurtcode"] = joined["buurtcode"].groupby(level=0).first()
    cands["kern"] = cands["buurtcode"].map(model.assign_kernen(result.buurten, load_config().kernen))
    return cands


def test_demo_village_without_any_venue_gets_a_spot_in_the_top_3(demo_snapshot) -> None:
    """Westerveld has no venue at all; with straight-line reach (400 m) from each candidate
    and the network distances of the run for the existing meeting points, a site in
    Westerveld is among the first three proposals."""
    from wijkanalyse import pipeline
    from wijkanalyse.config import load_config
    from wijkanalyse.sources.files import SnapshotReader

    config = load_config()
    result = pipeline.analyse(SnapshotReader(demo_snapshot), config)
    cands = demo_candidates(result)
    residents = result.residents
    tree = cKDTree(np.column_stack([residents.geometry.x, residents.geometry.y]))
    reach = tree.query_ball_point(np.column_stack([cands.geometry.x, cands.geometry.y]), config.thresholds.walk_m)
    rows = np.repeat(np.arange(len(cands)), [len(r) for r in reach])
    cover = sp.csr_matrix(
        (np.ones(rows.size, dtype=bool), (rows, np.concatenate(reach).astype(int))), shape=(len(cands), len(residents))
    )
    inwoners = residents["inwoners"].fillna(0.0).to_numpy()
    covered0 = residents["binnen_drempel"].to_numpy(dtype=bool)
    selection = greedy_swap(cover, inwoners, covered0, config.siting.count)
    cost = candidate_costs(cands["soort"], config.costs.meeting_point_per_year, config.siting.cost_per_class)
    table = proposals_table(selection, cover, inwoners, covered0, cost=cost, candidates=cands)
    assert len(table) == config.siting.count
    assert "Westerveld" in table["kern"].head(3).tolist()
    westerveld = table[table["kern"] == "Westerveld"].iloc[0]
    in_village = residents["buurtcode"] == westerveld["buurtcode"]
    assert not covered0[in_village.to_numpy()].any()  # nobody there is within reach today
    assert westerveld["nieuw_binnen_bereik"] == pytest.approx(inwoners[in_village.to_numpy()].sum())
    total = inwoners.sum()
    assert table["aandeel_na"].iloc[-1] == pytest.approx((inwoners[covered0].sum() + table["cumulatief_binnen_bereik"].iloc[-1]) / total)
    exact = exact_mclp(cover, inwoners, covered0, config.siting.count, time_limit_s=60)
    assert exact.status == "optimal" and exact.objective >= selection.objective >= 0.98 * exact.objective


# --------------------------------------------------------------------------------------
# The answer for every number of sites (best_by_count)
# --------------------------------------------------------------------------------------


def best_single_not_in_best_pair():
    """Four cells in a row (2, 3, 3, 2 residents). Candidate 0 reaches the middle two (6),
    candidate 1 the left two (5), candidate 2 the right two (5). The best single site is 0
    (6); the best pair is 1 + 2 (10), while 0 + either other reaches only 6 + 2 = 8."""
    cover = sp.csr_matrix(np.array([[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=bool))
    return cover, np.array([2.0, 3.0, 3.0, 2.0])


def test_best_single_site_outside_the_best_pair_gets_its_own_row() -> None:
    cover, w = best_single_not_in_best_pair()
    selection = exact_mclp(cover, w, None, 2)
    choices = best_by_count(cover, w, None, selection)
    assert [c.count for c in choices] == [1, 2]
    assert choices[0].sites.tolist() == [0] and choices[0].objective == 6.0 and choices[0].proven_optimal
    assert sorted(choices[1].sites.tolist()) == [1, 2] and choices[1].objective == 10.0 and choices[1].proven_optimal
    assert not choices[0].first_ranks and choices[1].first_ranks
    table = proposals_table(selection, cover, w, None, choices=choices)
    # ranks 1-2 are the best pair; the best single site follows as rank 3, outside the ranking of 2
    assert table["kandidaat"].tolist() == [1, 2, 0]
    assert table["in_beste_keuze_bij"].tolist() == ["2", "2", "1"]
    assert table["alleen_binnen_bereik"].tolist() == [5.0, 5.0, 6.0]
    assert math.isnan(table["cumulatief_binnen_bereik"].iloc[2])
    summary = count_summary(choices, cover, w, None, table)
    assert [(s["count"], s["sites"], s["newly_within"], s["proven_optimal"]) for s in summary] == [
        (1, [3], 6.0, True), (2, [1, 2], 10.0, True),
    ]
    assert summary[0]["share_after"] == pytest.approx(0.6)  # 6 of 10 residents


def test_greedy_ranking_states_its_gap_to_the_lp_bound() -> None:
    cover, w = best_single_not_in_best_pair()
    selection = greedy_swap(cover, w, None, 2)  # swap finds the best pair 1 + 2, ranked 1 then 2
    choices = best_by_count(cover, w, None, selection)
    # r = 1: the first rank (candidate 1, 5) is not the best single site (6). The LP bound for
    # one site is 6 as well (x_0 = 1 is the LP optimum too): gap (6 - 5) / 6
    assert choices[0].sites.tolist() == [1] and choices[0].objective == 5.0
    assert not choices[0].proven_optimal and choices[0].status == "heuristic"
    assert choices[0].bound == pytest.approx(6.0) and choices[0].gap == pytest.approx(1 / 6)
    # r = 2: 10 reaches the LP bound (all residents), so it is proven
    assert choices[1].objective == 10.0 and choices[1].proven_optimal and choices[1].gap == 0.0


def brute_force_sets(cover, weights, covered0, r: int) -> float:
    """Best weight of any r candidates, by enumeration on a dense 0/1 table (small instances only)."""
    dense = cover.toarray().astype(bool)
    w_open = np.where(covered0, 0.0, weights) if covered0 is not None else weights
    best = 0.0
    for sites in itertools.combinations(range(dense.shape[0]), r):
        best = max(best, float(w_open[dense[list(sites)].any(axis=0)].sum()))
    return best


@pytest.mark.parametrize("seed", range(24))
def test_best_by_count_equals_brute_force_for_up_to_three_sites(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    n_cand = int(rng.integers(6, 13))
    cover, w, c0 = random_instance(seed + 500, n_cand=n_cand, n_res=int(rng.integers(15, 50)), density=0.18,
                                   fixed_share=0.2)
    best = [brute_force_sets(cover, w, c0, r) for r in (1, 2, 3)]
    exact = best_by_count(cover, w, c0, exact_mclp(cover, w, c0, 3))
    heuristic = best_by_count(cover, w, c0, greedy_swap(cover, w, c0, 3))
    for choice in exact:
        optimum = best[choice.count - 1]
        assert choice.proven_optimal and choice.status == "optimal"
        assert choice.objective == pytest.approx(optimum)
        assert covered_weight(cover, w, choice.sites, c0) == pytest.approx(optimum)
        assert len(set(choice.sites.tolist())) == len(choice.sites) <= choice.count
    for choice in heuristic:
        optimum = best[choice.count - 1]
        assert choice.objective <= optimum + 1e-9 <= choice.bound + 2e-9  # the LP bound is an upper bound
        # "proven" only where the ranks reach the optimum
        assert not choice.proven_optimal or choice.objective == pytest.approx(optimum)
        assert choice.first_ranks


def ermelo_size_instance(seed: int = 11):
    """≈ Ermelo with straight-line reach: 68 candidates (gap centres), 3,000 resident cells
    on a 100 m grid, 400 m reach, a third already within reach of an existing point."""
    rng = np.random.default_rng(seed)
    cells = rng.uniform(0, 9_000, (3_000, 2)).round(-2)
    cand = cells[rng.choice(3_000, 68, replace=False)] + rng.normal(0, 150, (68, 2))
    tree = cKDTree(cells)
    reach = tree.query_ball_point(cand, 400)
    rows = np.repeat(np.arange(68), [len(r) for r in reach])
    cover = sp.csr_matrix((np.ones(rows.size, dtype=bool), (rows, np.concatenate(reach).astype(int))), shape=(68, 3_000))
    weights = rng.integers(0, 60, 3_000).astype(float)
    existing = cells[rng.choice(3_000, 25, replace=False)]
    covered0 = np.zeros(3_000, dtype=bool)
    for e in existing:
        covered0[tree.query_ball_point(e, 400)] = True
    return cover, weights, covered0


def brute_force_three(cover, weights, covered0) -> list[float]:
    """Best weight of 1, 2 and 3 sites by enumerating all pairs and extending each by every third site."""
    dense = cover.toarray().astype(bool)
    w_open = np.where(covered0, 0.0, weights)
    single = dense @ w_open
    best2 = best3 = 0.0
    for i, j in itertools.combinations(range(dense.shape[0]), 2):
        union = dense[i] | dense[j]
        best2 = max(best2, float(w_open[union].sum()))
        best3 = max(best3, float(((dense | union) @ w_open).max()))
    return [float(single.max()), best2, best3]


def test_the_time_for_all_counts_together_is_bounded_and_what_it_left_is_not_called_the_best() -> None:
    cover, w, c0 = ermelo_size_instance()
    exact = exact_mclp(cover, w, c0, 4, time_limit_s=120)
    # no time at all for the counts 1..3: each keeps its first ranks, with no bound, and is not proven
    rushed = best_by_count(cover, w, c0, exact, time_limit_s=120, total_time_s=0.0)
    assert [c.status for c in rushed] == ["time_limit", "time_limit", "time_limit", exact.status]
    for choice in rushed[:3]:
        assert choice.first_ranks and choice.bound is None and not choice.proven_optimal
        assert choice.objective == pytest.approx(covered_weight(cover, w, exact.chosen[: choice.count], c0))
    assert _quality({"status": "time_limit", "proven_optimal": False, "gap": None}, "exact") == (
        "tijdslimiet bereikt: niet bewezen de beste")
    # time enough: the same answers as without a total limit
    plenty = best_by_count(cover, w, c0, exact, time_limit_s=120, total_time_s=3600.0)
    free = best_by_count(cover, w, c0, exact, time_limit_s=120)
    assert [(c.objective, c.proven_optimal) for c in plenty] == [(c.objective, c.proven_optimal) for c in free]
    assert all(c.proven_optimal for c in plenty)


def test_a_run_whose_counts_ran_out_of_time_says_so(demo_snapshot: Path) -> None:
    config = load_config(None)
    config = replace(config, siting=replace(config.siting, exact=True, count=3, total_time_limit_s=1e-9))
    result = pipeline.analyse(SnapshotReader(demo_snapshot), config)
    text = " ".join(result.summary["warnings"])
    assert "siting.total_time_limit_s" in text and "voor 1 tot en met 2 plekken" in text
    statuses = [entry["status"] for entry in result.summary["best_by_count"]]
    assert statuses[:2] == ["time_limit", "time_limit"]


def test_ermelo_size_best_by_count_against_brute_force_and_a_second_solver() -> None:
    cover, w, c0 = ermelo_size_instance()
    exact = exact_mclp(cover, w, c0, 6, time_limit_s=120)
    choices = best_by_count(cover, w, c0, exact, time_limit_s=120)
    assert [c.count for c in choices] == [1, 2, 3, 4, 5, 6]
    assert all(c.proven_optimal for c in choices)
    values = [c.objective for c in choices]
    assert values == sorted(values)
    for choice, optimum in zip(choices[:3], brute_force_three(cover, w, c0), strict=True):
        assert choice.objective == pytest.approx(optimum)
    for choice in choices:  # what the listed sites reach, counted again from the cover
        assert covered_weight(cover, w, choice.sites, c0) == pytest.approx(choice.objective)
    # r = 4..6 beyond brute force: CBC (PuLP's bundled binary), an independent solver, finds the same optima
    if available_cbc():
        for choice in choices[3:]:
            other = exact_mclp(cover, w, c0, choice.count, time_limit_s=120, solver="cbc")
            assert other.status == "optimal" and other.objective == pytest.approx(choice.objective)
    # the greedy ranking for each count: never above the optimum, never above its LP bound
    heuristic = best_by_count(cover, w, c0, greedy_swap(cover, w, c0, 6))
    for h, e in zip(heuristic, choices, strict=True):
        assert h.objective <= e.objective + 1e-9 <= h.bound + 1e-6
        assert h.proven_optimal == (h.objective >= h.bound - 1e-6)


def available_cbc() -> bool:
    from wijkanalyse.analysis.siting import _cbc_solver_path

    return _cbc_solver_path() is not None


def test_cbc_is_the_alternative_when_present() -> None:
    if not available_cbc():
        pytest.skip("no CBC (pulp with a cbc binary) installed")
    cover, w, c0 = random_instance(3, n_cand=9, n_res=30, density=0.15, fixed_share=0.3)
    result = exact_mclp(cover, w, c0, 3, solver="cbc")
    assert result.status == "optimal" and result.objective == pytest.approx(brute_force(cover, w, c0, 3))


def test_highs_is_the_default_solver() -> None:
    assert available_solver() == "highs"  # highspy is a dependency of the project


def test_no_solver_is_one_dutch_line(monkeypatch) -> None:
    import sys

    from wijkanalyse.errors import WijkanalyseError

    # as on a machine without highspy and without pulp: both imports fail
    monkeypatch.setitem(sys.modules, "highspy", None)
    monkeypatch.setitem(sys.modules, "pulp", None)
    assert available_solver() is None
    cover, w = best_single_not_in_best_pair()
    with pytest.raises(WijkanalyseError) as info:
        exact_mclp(cover, w, None, 1)
    assert str(info.value) == NO_SOLVER_MESSAGE and "\n" not in NO_SOLVER_MESSAGE and "pip install highspy" in str(info.value)
    # the greedy ranking still runs, only without a bound
    choices = best_by_count(cover, w, None, greedy_swap(cover, w, None, 2))
    assert [c.bound for c in choices] == [None, None] and choices[0].gap is None


def test_the_highs_banner_stays_off_stdout(capfd) -> None:
    cover, w = best_single_not_in_best_pair()
    exact_mclp(cover, w, None, 2)
    assert "HiGHS" not in capfd.readouterr().out
