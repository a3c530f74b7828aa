"""Where new meeting points reach the most residents: selection on a sparse coverage structure.

The network engine produces ``cover``, a sparse candidate x resident matrix (scipy CSR):
``cover[j, i]`` is true when a meeting point at candidate site ``j`` would bring resident
cell ``i`` within the walking threshold. The existing meeting points are fixed: ``covered0``
marks the cells already within reach. Each cell has a weight (its residents, optionally
raised where the buurt signal is high, see :func:`resident_weights`).

Two ways to choose ``p`` new sites that maximise the weight newly brought within reach
(the *maximal covering location problem*, MCLP, with the existing sites fixed):

:func:`greedy_swap` (the default)
    Greedy by marginal gain (each step takes the site that adds the most weight), then
    1-swap improvement (replace one chosen site by one other candidate while that gains
    weight) and a few seeded perturbation rounds. About 0.1 s for 8,000 residents x 2,000
    candidates and p = 20, within 1 % of the optimum there (0.990-1.000 over ten seeds;
    ``benchmarks/bench_selection.py``).
:func:`exact_mclp` (``--exact``)
    A sparse integer programme solved by CBC (through PuLP) within a time limit, warm-started
    with the greedy answer. It reports honestly whether the answer is proven optimal, the
    best bound and the relative gap.

Both return a :class:`Selection` whose sites are ranked in greedy marginal order, so the
top ``r`` sites of the ranking are a nested answer for ``r`` new sites (cumulative at rank
``r`` = what the top ``r`` reach together). :func:`proposals_table` turns a selection into
the table the outputs show (Dutch column names), and :func:`proposals_summary` gives it
to ``samenvatting.json``; the stdout line is :func:`wijkanalyse.outputs.texts.proposal_line`.

``cover`` is never made dense: every step is a sparse product or a slice of one row.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from wijkanalyse._format import format_number
from wijkanalyse.errors import WijkanalyseError

__all__ = [
    "GAP_KIND",
    "GEMEENTE_KIND",
    "NO_SOLVER_MESSAGE",
    "PROPOSAL_COLUMNS",
    "CountChoice",
    "Selection",
    "available_solver",
    "best_by_count",
    "candidate_costs",
    "count_summary",
    "covered_weight",
    "exact_mclp",
    "greedy",
    "greedy_swap",
    "proposals_summary",
    "proposals_table",
    "resident_weights",
]

log = logging.getLogger("wijkanalyse")

#: Kind of a site from the gemeente's own candidate list.
GEMEENTE_KIND = "gemeente"
#: Kind of a site generated at the resident-weighted centre of a gap area.
GAP_KIND = "gat"

#: Columns of :func:`proposals_table` (candidate metadata columns follow when a frame is given).
PROPOSAL_COLUMNS = [
    "rang",
    "kandidaat",
    "nieuw_binnen_bereik",
    "cumulatief_binnen_bereik",
    "aandeel_na",
    "nieuw_gewogen",
    "kosten_per_jaar",
    "kosten_per_inwoner",
    "alleen_binnen_bereik",
    "in_beste_keuze_bij",
]
_META_COLUMNS = ["naam", "soort", "buurtcode", "buurtnaam", "kern", "x", "y"]


@dataclass(frozen=True)
class Selection:
    """Chosen sites, ranked so that the top ``r`` are the answer for ``r`` new sites.

    Attributes
    ----------
    chosen
        Candidate row indices of ``cover`` in rank order (rank 1 first). Sites that would
        add nothing are left out, so there can be fewer than ``p``.
    gains
        Weight newly brought within reach by each site, given the sites ranked above it
        and the existing meeting points.
    cumulative
        Running total of ``gains``: what the top ``r`` sites reach together.
    objective
        Weight newly within reach of the whole set (``cumulative[-1]``, 0 when empty).
    method
        ``"greedy"``, ``"greedy_swap"`` or ``"exact"``.
    status
        ``"heuristic"`` for the greedy methods; for the exact model ``"optimal"`` (proven),
        ``"time_limit"`` (stopped with a feasible answer: see ``bound`` and ``gap``) or
        ``"not_solved"`` (no answer within the limit; the greedy answer is returned).
    bound
        Exact model only: the solver's best upper bound on the objective.
    gap
        Exact model only: ``(bound - objective) / bound`` (0 when proven optimal).
    seconds
        Wall-clock time of the selection.
    swaps
        Improving swaps made (greedy_swap only).
    """

    chosen: np.ndarray
    gains: np.ndarray
    cumulative: np.ndarray
    objective: float
    method: str
    status: str = "heuristic"
    bound: float | None = None
    gap: float | None = None
    seconds: float = 0.0
    swaps: int = 0

    @property
    def optimal(self) -> bool:
        """True only when the exact model proved the answer optimal."""
        return self.status == "optimal"


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------


def resident_weights(
    inwoners: np.ndarray | pd.Series, signal: np.ndarray | pd.Series | None = None, *, strength: float = 1.0
) -> np.ndarray:
    """Weight of each resident cell in the selection.

    Without ``signal`` the weight is the number of residents. With the buurt signal of each
    cell (``residents["buurtcode"].map(buurten["signaal"])``) the weight is::

        inwoners x (1 + strength x max(0, signaal))

    so a resident in a buurt with an above-average signal counts more (signal 1, strength 1:
    twice), and a buurt with an average or below-average signal counts as plain residents.
    A missing number of residents (CBS secret) counts as 0, a missing signal as 0.

    Parameters
    ----------
    inwoners
        Residents per cell.
    signal
        Composite signal of the cell's buurt, or None for plain residents.
    strength
        ``siting.signal_strength`` in the config (>= 0).

    Returns
    -------
    numpy.ndarray
        Float weights, >= 0.
    """
    w = np.nan_to_num(np.asarray(inwoners, dtype=float), nan=0.0)
    if np.any(w < 0):
        msg = "Residents per cell must be >= 0."
        raise ValueError(msg)
    if signal is None:
        return w
    s = np.nan_to_num(np.asarray(signal, dtype=float), nan=0.0)
    if s.shape != w.shape:
        msg = f"signal has {s.size} values for {w.size} resident cells."
        raise ValueError(msg)
    if strength < 0:
        msg = f"strength must be >= 0, got {strength}."
        raise ValueError(msg)
    return w * (1.0 + strength * np.maximum(s, 0.0))


def candidate_costs(kinds: Sequence[str], default: float, per_kind: Mapping[str, float] | None = None) -> np.ndarray:
    """Yearly cost of a meeting point at each candidate, by its kind.

    Parameters
    ----------
    kinds
        Kind of each candidate: a venue class key (``"school"``), :data:`GEMEENTE_KIND` or
        :data:`GAP_KIND`.
    default
        ``costs.meeting_point_per_year``: the cost of a kind without its own price.
    per_kind
        ``siting.cost_per_class``: yearly cost per kind, e.g. ``{"school": 15000}``.
    """
    per_kind = dict(per_kind or {})
    return np.array([float(per_kind.get(str(k), default)) for k in kinds], dtype=float)


def _prepare(
    cover: sp.spmatrix | sp.sparray, weights: np.ndarray, covered0: np.ndarray | None
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Check the inputs; return cover as a 0/1 float CSR and the weight still to reach per cell."""
    if not sp.issparse(cover):
        msg = "cover must be a scipy.sparse matrix (candidates x residents); never pass a dense array."
        raise TypeError(msg)
    c = sp.csr_matrix(cover, dtype=np.float64, copy=True)
    c.eliminate_zeros()
    c.data[:] = 1.0
    c.sum_duplicates()
    c.data[:] = 1.0
    n_res = c.shape[1]
    w = np.asarray(weights, dtype=float)
    if w.shape != (n_res,):
        msg = f"weights has shape {w.shape}, cover has {n_res} residents."
        raise ValueError(msg)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        msg = "weights must be finite and >= 0 (resident_weights turns missing residents into 0)."
        raise ValueError(msg)
    open_weight = w.copy()
    if covered0 is not None:
        done = np.asarray(covered0, dtype=bool)
        if done.shape != (n_res,):
            msg = f"covered0 has shape {done.shape}, cover has {n_res} residents."
            raise ValueError(msg)
        open_weight[done] = 0.0
    return c, open_weight


def _tolerance(open_weight: np.ndarray) -> float:
    """Gains within this of each other are ties; a swap must gain more than this."""
    return 1e-9 * max(1.0, float(open_weight.sum()))


def _row(c: sp.csr_matrix, j: int) -> np.ndarray:
    return c.indices[c.indptr[j] : c.indptr[j + 1]]


def covered_weight(
    cover: sp.spmatrix | sp.sparray, weights: np.ndarray, sites: Sequence[int] | np.ndarray,
    covered0: np.ndarray | None = None,
) -> float:
    """Weight newly within reach when meeting points are opened at ``sites``.

    The weight of residents already within reach (``covered0``) is not counted again.
    """
    c, open_weight = _prepare(cover, weights, covered0)
    return _reached_weight(c, open_weight, np.asarray(sites, dtype=int).ravel().tolist())


# --------------------------------------------------------------------------------------
# Greedy and swap
# --------------------------------------------------------------------------------------


def _pick(gains: np.ndarray, allowed: np.ndarray, cost: np.ndarray | None, tol: float) -> int | None:
    """Best allowed candidate; ties (within ``tol``) go to the lower cost, then the lowest index."""
    g = np.where(allowed, gains, -np.inf)
    best = g.max(initial=-np.inf)
    if not best > tol:
        return None
    ties = np.flatnonzero(g >= best - tol)
    if cost is not None and ties.size > 1:
        ties = ties[cost[ties] == cost[ties].min()]
    return int(ties[0])


def _greedy_order(
    c: sp.csr_matrix, open_weight: np.ndarray, p: int, allowed: np.ndarray, cost: np.ndarray | None
) -> tuple[list[int], list[float]]:
    """Greedy by marginal gain among ``allowed`` candidates; stops when nothing is gained."""
    remaining = open_weight.copy()
    allowed = allowed.copy()
    tol = _tolerance(open_weight)
    chosen: list[int] = []
    gains: list[float] = []
    for _ in range(p):
        j = _pick(c @ remaining, allowed, cost, tol)
        if j is None:
            break
        rows = _row(c, j)
        gains.append(float(remaining[rows].sum()))
        remaining[rows] = 0.0
        allowed[j] = False
        chosen.append(j)
    return chosen, gains


def _selection(
    c: sp.csr_matrix, open_weight: np.ndarray, sites: Sequence[int], cost: np.ndarray | None, **info: Any
) -> Selection:
    """Rank ``sites`` in greedy marginal order; drop sites that add nothing."""
    allowed = np.zeros(c.shape[0], dtype=bool)
    allowed[np.asarray(list(sites), dtype=int)] = True
    order, gains = _greedy_order(c, open_weight, int(allowed.sum()), allowed, cost)
    g = np.asarray(gains, dtype=float)
    cumulative = np.cumsum(g)
    return Selection(
        chosen=np.asarray(order, dtype=int), gains=g, cumulative=cumulative,
        objective=float(cumulative[-1]) if cumulative.size else 0.0, **info,
    )


def _check_p(p: int) -> int:
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 0:
        msg = f"p (the number of new sites) must be a whole number >= 0, got {p!r}."
        raise ValueError(msg)
    return int(p)


def _cost_array(cost: np.ndarray | Sequence[float] | None, n: int) -> np.ndarray | None:
    if cost is None:
        return None
    arr = np.asarray(cost, dtype=float)
    if arr.shape != (n,):
        msg = f"cost has shape {arr.shape}, cover has {n} candidates."
        raise ValueError(msg)
    return arr


def greedy(
    cover: sp.spmatrix | sp.sparray, weights: np.ndarray, covered0: np.ndarray | None, p: int,
    *, cost: np.ndarray | Sequence[float] | None = None,
) -> Selection:
    """Pure greedy: each step opens the candidate that adds the most weight.

    Rank 1 is the best single site. Ties go to the cheaper candidate (when ``cost`` is
    given), then to the lowest index. Stops early when no candidate adds anything.

    Parameters
    ----------
    cover
        Sparse (CSR or any scipy.sparse) candidates x residents, nonzero = within reach.
    weights
        Weight per resident cell (:func:`resident_weights`).
    covered0
        True for cells already within reach of an existing meeting point (or None).
    p
        Number of new sites.
    cost
        Optional yearly cost per candidate, used only to break ties.
    """
    start = time.perf_counter()
    c, open_weight = _prepare(cover, weights, covered0)
    p = _check_p(p)
    cost_arr = _cost_array(cost, c.shape[0])
    order, gains = _greedy_order(c, open_weight, p, np.ones(c.shape[0], dtype=bool), cost_arr)
    g = np.asarray(gains, dtype=float)
    cumulative = np.cumsum(g)
    return Selection(
        chosen=np.asarray(order, dtype=int), gains=g, cumulative=cumulative,
        objective=float(cumulative[-1]) if cumulative.size else 0.0,
        method="greedy", seconds=time.perf_counter() - start,
    )


def _swap(
    c: sp.csr_matrix, open_weight: np.ndarray, sites: list[int], max_swaps: int, c_csc: sp.csc_matrix | None = None
) -> tuple[list[int], int]:
    """Best-improvement 1-swap: replace one chosen site by one other candidate while it gains.

    With ``cnt[i]`` the number of chosen sites covering open cell ``i``, removing site ``s``
    loses ``loss[s]`` = weight of the cells only ``s`` covers, and adding ``c`` then gains
    ``free[c]`` (cells nobody covers) plus ``M[c, s]`` (cells only ``s`` covered that ``c``
    covers). All candidate x site pairs are evaluated at once: ``free`` is one sparse
    product, ``M`` the columns of the cells covered once times a (cells x p) weight table.
    """
    tol = _tolerance(open_weight)
    sites = list(sites)
    n_cand, n_res = c.shape
    p = len(sites)
    swaps = 0
    if not sites or p >= n_cand:
        return sites, 0
    c_csc = c.tocsc() if c_csc is None else c_csc
    while swaps < max_swaps:
        rows = [_row(c, j) for j in sites]
        cnt = np.bincount(np.concatenate(rows), minlength=n_res)
        free = c @ np.where(cnt == 0, open_weight, 0.0)
        once = (cnt == 1) & (open_weight > 0)
        owner = np.full(n_res, -1, dtype=np.int64)  # the one chosen site covering a cell, if exactly one
        for k, r in enumerate(rows):
            owner[r[once[r]]] = k
        cells = np.flatnonzero(once)
        loss = np.bincount(owner[cells], weights=open_weight[cells], minlength=p)
        table = np.zeros((cells.size, p))
        table[np.arange(cells.size), owner[cells]] = open_weight[cells]
        m = np.asarray(c_csc[:, cells] @ table)  # n_candidates x p: small
        delta = free[:, np.newaxis] + m - loss[np.newaxis, :]
        delta[sites, :] = -np.inf
        flat = int(np.argmax(delta))  # first maximum: lowest candidate, then lowest rank
        cand, slot = divmod(flat, p)
        if not delta[cand, slot] > tol:
            break
        sites[slot] = cand
        swaps += 1
    return sites, swaps


def _reached_weight(c: sp.csr_matrix, open_weight: np.ndarray, sites: Sequence[int]) -> float:
    reached = np.zeros(c.shape[1], dtype=bool)
    for j in sites:
        reached[_row(c, int(j))] = True
    return float(open_weight[reached].sum())


def _perturb(
    c: sp.csr_matrix, open_weight: np.ndarray, sites: list[int], *, rounds: int, seed: int, max_swaps: int,
    cost: np.ndarray | None, c_csc: sp.csc_matrix,
) -> tuple[list[int], int]:
    """Iterated local search: drop 2-4 sites at random, refill greedily (not with those), swap; keep if better."""
    rng = np.random.default_rng(seed)
    tol = _tolerance(open_weight)
    best, best_value = list(sites), _reached_weight(c, open_weight, sites)
    improved = 0
    for r in range(rounds if best else 0):
        k = min(len(best), 2 + r % 3)
        drop = set(rng.choice(len(best), size=k, replace=False).tolist())
        rest = [s for i, s in enumerate(best) if i not in drop]
        remaining = open_weight.copy()
        for j in rest:
            remaining[_row(c, j)] = 0.0
        allowed = np.ones(c.shape[0], dtype=bool)
        allowed[rest] = False
        allowed[[best[i] for i in drop]] = False
        added, _ = _greedy_order(c, remaining, k, allowed, cost)
        trial, _ = _swap(c, open_weight, rest + added, max_swaps, c_csc)
        value = _reached_weight(c, open_weight, trial)
        if value > best_value + tol:
            best, best_value = trial, value
            improved += 1
    return best, improved


def greedy_swap(
    cover: sp.spmatrix | sp.sparray, weights: np.ndarray, covered0: np.ndarray | None, p: int,
    *, cost: np.ndarray | Sequence[float] | None = None, max_swaps: int = 1000, perturbations: int = 30,
    seed: int = 0,
) -> Selection:
    """Greedy by marginal gain, then swap improvement, then ranked in greedy order.

    1. Greedy: each step opens the candidate that adds the most weight.
    2. Swap: replace one chosen site by one unchosen candidate, each time the pair that
       gains the most, until no swap gains anything (or ``max_swaps`` swaps were made).
    3. Perturb (``perturbations`` rounds, seeded): drop 2-4 chosen sites at random, refill
       greedily with other candidates, swap again, and keep the result when it reaches
       more. This escapes the local optimum of step 2 (on clustered instances of 8,000
       residents x 2,000 candidates, p = 20: from 0.975-0.999 to 0.990-1.000 of the
       optimum over ten seeds, in about 0.1 s).
    4. The final set is ranked by greedy marginal gain among its own sites, so the top
       ``r`` sites are nested answers for ``r`` new sites.

    Parameters
    ----------
    cover
        Sparse candidates x residents (see :func:`greedy`).
    weights
        Weight per resident cell.
    covered0
        True for cells already within reach (or None).
    p
        Number of new sites.
    cost
        Optional yearly cost per candidate: breaks ties in the greedy steps.
    max_swaps
        Bound on the number of improving swaps per local search.
    perturbations
        Rounds of step 3 (0: plain greedy + swap).
    seed
        Seed of step 3: the same input gives the same answer.

    Returns
    -------
    Selection
        ``method="greedy_swap"``, ``status="heuristic"``, ``swaps`` = improving swaps of
        step 2 plus improving rounds of step 3.
    """
    start = time.perf_counter()
    c, open_weight = _prepare(cover, weights, covered0)
    p = _check_p(p)
    cost_arr = _cost_array(cost, c.shape[0])
    first, _ = _greedy_order(c, open_weight, p, np.ones(c.shape[0], dtype=bool), cost_arr)
    c_csc = c.tocsc()
    sites, swaps = _swap(c, open_weight, first, max_swaps, c_csc)
    sites, improved = _perturb(
        c, open_weight, sites, rounds=max(0, int(perturbations)), seed=seed, max_swaps=max_swaps, cost=cost_arr,
        c_csc=c_csc,
    )
    return _selection(
        c, open_weight, sites, cost_arr, method="greedy_swap", swaps=swaps + improved,
        seconds=time.perf_counter() - start,
    )


# --------------------------------------------------------------------------------------
# Exact: a sparse MCLP in HiGHS (highspy), CBC through PuLP only when HiGHS is absent
# --------------------------------------------------------------------------------------

#: One-line error when --exact finds no solver (a person reads it).
NO_SOLVER_MESSAGE = (
    "Voor --exact is een rekenmodel-solver nodig: installeer HiGHS met 'pip install highspy' "
    "(of draai zonder --exact)."
)

_RESULT_RE = re.compile(r"^Result - (?P<text>.+)$", re.MULTILINE)
_BOUND_RE = re.compile(r"^(?:Upper|Lower) bound:\s*(?P<value>[-+0-9.eE]+)", re.MULTILINE)


def _cbc_log_facts(text: str) -> tuple[str | None, float | None]:
    """The ``Result - ...`` line and the best bound from a CBC log (None when absent)."""
    result = _RESULT_RE.search(text)
    bound = _BOUND_RE.search(text)
    value = None
    if bound:
        try:
            value = float(bound["value"])
        except ValueError:
            value = None
    return (result["text"].strip() if result else None), value


def available_solver() -> str | None:
    """``"highs"`` when highspy imports, else ``"cbc"`` when PuLP finds a CBC binary, else None."""
    try:
        import highspy  # noqa: F401, PLC0415
    except ImportError:
        pass
    else:
        return "highs"
    return "cbc" if _cbc_solver_path() else None


def _cbc_solver_path() -> str | None:
    try:
        import pulp  # noqa: PLC0415
    except ImportError:
        return None
    if pulp.COIN_CMD().available():
        return "cbc"
    bundled = getattr(pulp.apis.coin_api, "pulp_cbc_path", None)
    return bundled if bundled and os.access(bundled, os.X_OK) else None


def _column_groups(c_open: sp.csc_matrix, w_open: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Merge residents covered by exactly the same candidates into one group (weights summed)."""
    groups: dict[bytes, int] = {}
    members: list[np.ndarray] = []
    weight: list[float] = []
    for i in range(c_open.shape[1]):
        rows = np.sort(c_open.indices[c_open.indptr[i] : c_open.indptr[i + 1]])
        key = rows.tobytes()
        g = groups.get(key)
        if g is None:
            groups[key] = len(members)
            members.append(rows)
            weight.append(float(w_open[i]))
        else:
            weight[g] += float(w_open[i])
    return members, np.asarray(weight, dtype=float)


@dataclass(frozen=True)
class _Solved:
    sites: list[int]
    status: str  # "optimal", "time_limit", "not_solved"
    bound: float | None  # upper bound on the objective (weight)


class _Model:
    """The maximal covering model of one instance, built once and solved for several ``p``.

    Variables: ``x_j`` (one per candidate reaching an open group) and ``y_g`` (one per
    group of residents covered by exactly the same candidates)::

        maximise   sum_g W_g y_g
        subject to sum_j x_j <= p
                   y_g <= sum_{j covers g} x_j      for every group g
                   x_j in {0, 1} (or 0 <= x_j <= 1 for the LP bound),  0 <= y_g <= 1
    """

    def __init__(self, c: sp.csr_matrix, open_weight: np.ndarray) -> None:
        open_cols = np.flatnonzero((open_weight > 0) & (np.diff(c.tocsc().indptr) > 0))
        self.empty = open_cols.size == 0
        if self.empty:
            return
        c_open = c[:, open_cols].tocsc()
        self.members, self.group_weight = _column_groups(c_open, open_weight[open_cols])
        self.used = np.flatnonzero(np.diff(c_open.tocsr().indptr) > 0)
        self.column = {int(j): k for k, j in enumerate(self.used.tolist())}
        self._rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The constraint rows in compressed form (row starts, column indices, values), built once in numpy.

        Row 0 is ``sum_j x_j``; row ``1 + g`` lists the x of the candidates covering group g,
        then ``y_g`` with -1.
        """
        if self._rows is None:
            n_x, n_y = self.used.size, len(self.members)
            col_of = np.full(int(self.used.max()) + 1, -1, dtype=np.int64)
            col_of[self.used] = np.arange(n_x)
            lengths = np.array([rows.size for rows in self.members], dtype=np.int64)
            block = lengths + 1
            first = np.cumsum(block) - block  # where group g's entries start, after row 0
            at_y = first + lengths
            index = np.empty(int(block.sum()), dtype=np.int64)
            value = np.ones(index.size)
            members = np.ones(index.size, dtype=bool)
            members[at_y] = False
            index[members] = col_of[np.concatenate(self.members)] if n_y else []
            index[at_y] = n_x + np.arange(n_y)
            value[at_y] = -1.0
            starts = np.concatenate([[0], n_x + first]).astype(np.int32)
            self._rows = (starts, np.concatenate([np.arange(n_x), index]).astype(np.int32),
                          np.concatenate([np.ones(n_x), value]))
        return self._rows

    def solve(
        self, p: int, *, integer: bool, time_limit_s: float, start: Sequence[int] = (), solver: str = "highs",
        threads: int = 1,
    ) -> _Solved:
        if self.empty or p == 0:
            return _Solved([], "optimal", 0.0)
        if solver == "cbc":
            return self._solve_cbc(p, integer=integer, time_limit_s=time_limit_s, start=start, threads=threads)
        return self._solve_highs(p, integer=integer, time_limit_s=time_limit_s, start=start, threads=threads)

    def _solve_highs(
        self, p: int, *, integer: bool, time_limit_s: float, start: Sequence[int], threads: int
    ) -> _Solved:
        import highspy  # noqa: PLC0415 (only for --exact and the bound)

        n_x, n_y = self.used.size, len(self.members)
        h = _quiet_highs(highspy)
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(time_limit_s))
        h.setOptionValue("threads", int(threads))
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 1e-6)
        inf = highspy.kHighsInf
        cost = np.concatenate([np.zeros(n_x), self.group_weight])
        h.addVars(n_x + n_y, np.zeros(n_x + n_y), np.ones(n_x + n_y))
        h.changeColsCost(n_x + n_y, np.arange(n_x + n_y, dtype=np.int32), cost)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        # row 0: sum x <= p; row 1 + g: sum_{j in g} x_j - y_g >= 0
        starts, index, value = self.rows()
        lower = np.concatenate([[-inf], np.zeros(n_y)])
        upper = np.concatenate([[float(p)], np.full(n_y, inf)])
        h.addRows(n_y + 1, lower, upper, index.size, starts, index, value)
        if integer:
            h.changeColsIntegrality(
                n_x, np.arange(n_x, dtype=np.int32), np.full(n_x, int(highspy.HighsVarType.kInteger), dtype=np.uint8)
            )
            if start:
                sol = highspy.HighsSolution()
                x0 = np.zeros(n_x + n_y)
                chosen = {self.column[int(j)] for j in start if int(j) in self.column}
                x0[list(chosen)] = 1.0
                for g, rows in enumerate(self.members):
                    x0[n_x + g] = 1.0 if any(self.column[int(j)] in chosen for j in rows) else 0.0
                sol.col_value = x0.tolist()
                sol.value_valid = True
                h.setSolution(sol)
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
        if integer:
            bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
        else:
            bound = float(info.objective_function_value) if status == highspy.HighsModelStatus.kOptimal else None
        if not has_solution:
            return _Solved([], "not_solved", bound)
        values = np.asarray(h.getSolution().col_value[:n_x])
        sites = [int(j) for j, v in zip(self.used.tolist(), values.tolist(), strict=True) if v > 0.5]
        proven = status == highspy.HighsModelStatus.kOptimal
        return _Solved(sites, "optimal" if proven else "time_limit", bound)

    def _solve_cbc(
        self, p: int, *, integer: bool, time_limit_s: float, start: Sequence[int], threads: int
    ) -> _Solved:
        import pulp  # noqa: PLC0415

        path = _cbc_solver_path()
        if path is None:
            raise WijkanalyseError(NO_SOLVER_MESSAGE)
        prob = pulp.LpProblem("mclp", pulp.LpMaximize)
        cat = pulp.LpBinary if integer else pulp.LpContinuous
        x = {int(j): prob.add_variable(f"x{j}", 0, 1, cat=cat) for j in self.used}
        y = [prob.add_variable(f"y{g}", 0, 1) for g in range(len(self.members))]
        prob += pulp.LpAffineExpression(list(zip(y, self.group_weight.tolist(), strict=True)))
        prob += pulp.LpAffineExpression([(v, 1.0) for v in x.values()]) <= p, "aantal"
        for g, rows in enumerate(self.members):
            expr = pulp.LpAffineExpression([(x[int(j)], 1.0) for j in rows])
            expr.addterm(y[g], -1.0)
            prob += expr >= 0, f"c{g}"
        start_sites = {int(j) for j in start}
        for j, var in x.items():
            var.setInitialValue(1.0 if j in start_sites else 0.0)
        for g, rows in enumerate(self.members):
            y[g].setInitialValue(1.0 if start_sites.intersection(rows.tolist()) else 0.0)
        with tempfile.TemporaryDirectory(prefix="wijkanalyse-cbc-") as tmp:
            log_path = Path(tmp) / "cbc.log"
            options: dict[str, Any] = {
                "msg": False, "timeLimit": float(time_limit_s), "warmStart": bool(start_sites) and integer,
                "logPath": str(log_path), "threads": int(threads), "timeMode": "elapsed", "keepFiles": False,
            }
            solver = pulp.COIN_CMD(**options) if path == "cbc" else pulp.COIN_CMD(path=path, **options)
            prob.solve(solver)
            log_text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
        result_line, bound = _cbc_log_facts(log_text)
        if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            return _Solved([], "not_solved", None)
        if not integer:
            return _Solved([], "optimal", float(pulp.value(prob.objective) or 0.0))
        sites = [j for j, var in x.items() if (var.value() or 0.0) > 0.5]
        proven = prob.sol_status == pulp.LpSolutionOptimal and (result_line is None or result_line.startswith("Optimal"))
        return _Solved(sites, "optimal" if proven else "time_limit", bound)


def _quiet_highs(highspy: Any) -> Any:
    """``highspy.Highs()`` without the banner it prints to stdout on construction (the CLI's stdout is a summary)."""
    import sys  # noqa: PLC0415

    sys.stdout.flush()
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
        saved = os.dup(fd)
    except (OSError, ValueError):
        return highspy.Highs()
    try:
        with open(os.devnull, "w", encoding="utf-8") as null:
            os.dup2(null.fileno(), fd)
            try:
                return highspy.Highs()
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


def _resolve_solver(solver: str) -> str:
    if solver not in ("auto", "highs", "cbc"):
        msg = f"solver must be 'auto', 'highs' or 'cbc', got {solver!r}."
        raise ValueError(msg)
    if solver == "auto":
        found = available_solver()
        if found is None:
            raise WijkanalyseError(NO_SOLVER_MESSAGE)
        return found
    if solver == "cbc" and _cbc_solver_path() is None:
        raise WijkanalyseError(NO_SOLVER_MESSAGE)
    return solver


def exact_mclp(
    cover: sp.spmatrix | sp.sparray, weights: np.ndarray, covered0: np.ndarray | None, p: int,
    *, time_limit_s: float = 60.0, cost: np.ndarray | Sequence[float] | None = None, threads: int = 1,
    solver: str = "auto",
) -> Selection:
    """Solve the maximal covering model exactly with HiGHS (or CBC), within a time limit.

    The model (existing meeting points fixed) is that of :class:`_Model`. Only residents
    not yet within reach, with weight > 0 and covered by at least one candidate, enter the
    model; residents covered by exactly the same candidates form one group with their
    weights summed (same optimum, a smaller model). ``<= p`` instead of ``= p`` gives the
    same optimum (coverage never falls when a site is added) and stays feasible when there
    are fewer candidates than ``p``. ``y`` may be continuous: with ``x`` integral the
    optimum sets each ``y_g`` to 1 exactly when ``g`` is covered.

    The solver gets the greedy + swap answer as its starting solution, so a time-limited run
    never returns less than the heuristic (the better of the two is kept).

    Parameters
    ----------
    cover, weights, covered0, p
        As for :func:`greedy_swap`.
    time_limit_s
        Wall-clock limit for the solver (``siting.time_limit_s``).
    cost
        Optional yearly cost per candidate: breaks ties when ranking.
    threads
        Solver threads.
    solver
        ``"auto"`` (HiGHS through highspy; CBC through PuLP only when highspy is missing),
        ``"highs"`` or ``"cbc"``. No solver: :class:`WijkanalyseError` with a one-line message.

    Returns
    -------
    Selection
        ``method="exact"``; ``status`` ``"optimal"``, ``"time_limit"`` or ``"not_solved"``;
        ``bound`` and ``gap`` from the solver (gap 0 when optimal, None when it gave no bound).
    """
    start = time.perf_counter()
    which = _resolve_solver(solver)
    c, open_weight = _prepare(cover, weights, covered0)
    p = _check_p(p)
    cost_arr = _cost_array(cost, c.shape[0])
    heuristic = greedy_swap(cover, weights, covered0, p, cost=cost_arr)
    solved = _Model(c, open_weight).solve(
        p, integer=True, time_limit_s=time_limit_s, start=heuristic.chosen.tolist(), solver=which, threads=threads,
    )
    return _finish(c, open_weight, solved, heuristic.chosen.tolist(), cost=cost_arr, time_limit_s=time_limit_s, start=start)


def _finish(
    c: sp.csr_matrix, open_weight: np.ndarray, solved: _Solved, fallback: list[int], *, cost: np.ndarray | None,
    time_limit_s: float, start: float,
) -> Selection:
    """A Selection from a solve: the better of the solver's and the fallback sites, with status, bound and gap."""
    tol = _tolerance(open_weight)
    status = solved.status
    sites = solved.sites
    if status == "not_solved":
        sites = fallback
        log.warning(
            "De exacte berekening vond binnen %s s geen oplossing; de snelle methode is gebruikt.",
            format_number(time_limit_s),
        )
    elif _reached_weight(c, open_weight, fallback) > _reached_weight(c, open_weight, sites) + tol:
        sites = fallback  # a time-limited solve that stayed below its starting answer
    selection = _selection(c, open_weight, sites, cost, method="exact", status=status)
    objective = selection.objective
    if status == "optimal":
        bound_value: float | None = objective
        gap: float | None = 0.0
    else:
        bound = solved.bound
        bound_value = max(bound, objective) if bound is not None and math.isfinite(bound) else None
        gap = (bound_value - objective) / bound_value if bound_value else None
    return Selection(
        chosen=selection.chosen, gains=selection.gains, cumulative=selection.cumulative, objective=objective,
        method="exact", status=status, bound=bound_value, gap=gap, seconds=time.perf_counter() - start,
    )


# --------------------------------------------------------------------------------------
# The best set for every number of new sites
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountChoice:
    """The answer for ``count`` new sites.

    Attributes
    ----------
    count
        Number of new sites (1..).
    sites
        Candidate rows of ``cover``, in greedy marginal order within the set.
    objective
        Weight newly within reach of the set.
    bound
        Upper bound on the best weight any ``count`` sites reach: the exact model's bound,
        or the LP relaxation's for the greedy ranking (None when no solver gave one).
    gap
        ``(bound - objective) / bound``: at most this share below the best possible (0
        when proven); None without a bound.
    proven_optimal
        True when no set of ``count`` sites reaches more weight (objective >= bound).
    status
        ``"optimal"``, ``"time_limit"`` or ``"not_solved"`` for the exact model,
        ``"heuristic"`` for the greedy ranking.
    first_ranks
        True when ``sites`` are ranks 1..count of the main selection.
    """

    count: int
    sites: np.ndarray
    objective: float
    bound: float | None
    gap: float | None
    proven_optimal: bool
    status: str
    first_ranks: bool


def best_by_count(
    cover: sp.spmatrix | sp.sparray, weights: np.ndarray, covered0: np.ndarray | None, selection: Selection,
    *, time_limit_s: float = 60.0, cost: np.ndarray | Sequence[float] | None = None, solver: str = "auto",
    threads: int = 1, total_time_s: float | None = None,
) -> list[CountChoice]:
    """The answer for every number of new sites r = 1..k (k = the sites of ``selection``).

    With an exact ``selection`` every ``r < k`` is solved exactly as well (its own model,
    its own time limit, warm-started with the better of the first ``r`` ranks and greedy +
    swap for ``r``); when the first ``r`` ranks reach as much as the optimum they are kept,
    so a different set is shown only where it reaches more. ``r = k`` is ``selection``
    itself. With a greedy ``selection`` the answer for ``r`` is its first ``r`` ranks, and
    the LP relaxation of the model for ``r`` bounds the best possible (HiGHS or CBC when
    present, otherwise no bound); when the ranks reach the bound they are proven optimal.

    ``total_time_s``: the exact solves for r < k together stop after this many seconds (each
    also after ``time_limit_s``); a count left when it has passed keeps its first ``r`` ranks,
    with status ``"time_limit"`` and no bound, so it is not called the best.

    More than ``k`` sites add nothing (the selection stops when no candidate adds weight),
    so the list has ``k`` entries.
    """
    c, open_weight = _prepare(cover, weights, covered0)
    cost_arr = _cost_array(cost, c.shape[0])
    tol = _tolerance(open_weight)
    ranks = selection.chosen.tolist()
    k = len(ranks)
    exact = selection.method == "exact"
    which = _resolve_solver(solver) if exact else (available_solver() if k else None)
    model = _Model(c, open_weight) if which is not None else None
    deadline = None if total_time_s is None else time.perf_counter() + total_time_s
    out: list[CountChoice] = []
    for r in range(1, k + 1):
        prefix = ranks[:r]
        prefix_value = float(selection.cumulative[r - 1])
        left = time_limit_s if deadline is None else min(time_limit_s, deadline - time.perf_counter())
        if exact and r == k:
            sites, value, bound, status = prefix, prefix_value, selection.bound, selection.status
        elif exact and left <= 0:  # the time for all counts together is up: the ranks, not called the best
            sites, value, bound, status = prefix, prefix_value, None, "time_limit"
        elif exact and model is not None and which is not None:  # (model is set exactly when which is)
            heuristic = greedy_swap(c, open_weight, None, r, cost=cost_arr)
            start = prefix if prefix_value >= heuristic.objective - tol else heuristic.chosen.tolist()
            solved = model.solve(r, integer=True, time_limit_s=left, start=start, solver=which, threads=threads)
            chosen = _finish(c, open_weight, solved, start, cost=cost_arr, time_limit_s=left, start=time.perf_counter())
            if prefix_value >= chosen.objective - tol:
                sites, value = prefix, prefix_value
            else:
                sites, value = chosen.chosen.tolist(), chosen.objective
            bound, status = chosen.bound, chosen.status
        else:
            sites, value, status = prefix, prefix_value, "heuristic"
            bound = None
            if model is not None and which is not None:
                relaxed = model.solve(r, integer=False, time_limit_s=time_limit_s, solver=which, threads=threads)
                bound = relaxed.bound
        proven = status == "optimal" or (bound is not None and value >= bound - tol)
        if bound is not None:
            bound = max(bound, value)
        gap = 0.0 if proven else ((bound - value) / bound if bound else None)
        ordered = _selection(c, open_weight, sites, cost_arr, method=selection.method).chosen
        if len(ordered) < len(sites):  # a site that adds nothing is still part of the set
            ordered = np.asarray(list(ordered) + [j for j in sites if j not in set(ordered.tolist())], dtype=int)
        out.append(CountChoice(
            count=r, sites=ordered, objective=value, bound=bound, gap=gap, proven_optimal=bool(proven),
            status=status, first_ranks=sorted(sites) == sorted(prefix),
        ))
    return out


# --------------------------------------------------------------------------------------
# The ranked proposals
# --------------------------------------------------------------------------------------


def proposals_table(
    selection: Selection,
    cover: sp.spmatrix | sp.sparray,
    inwoners: np.ndarray | pd.Series,
    covered0: np.ndarray | None,
    *,
    weights: np.ndarray | None = None,
    cost: np.ndarray | Sequence[float] | None = None,
    candidates: pd.DataFrame | None = None,
    choices: Sequence[CountChoice] = (),
) -> pd.DataFrame:
    """The ranked list of proposed meeting points: rank 1..k, what each adds and costs.

    With ``choices`` (:func:`best_by_count`) a site that is in the best set for a smaller
    number of sites but not among ranks 1..k follows as rank k+1, k+2, ...: its columns
    nieuw_binnen_bereik, cumulatief_binnen_bereik, aandeel_na, nieuw_gewogen and
    kosten_per_inwoner are empty (NaN), because it is not part of the ranking of k.

    Counts are residents (``inwoners``), also when the selection was made with signal
    weights; ``nieuw_gewogen`` holds the weight the selection maximised.

    Parameters
    ----------
    selection
        From :func:`greedy_swap`, :func:`greedy` or :func:`exact_mclp`.
    cover
        The same sparse candidates x residents structure.
    inwoners
        Residents per cell (NaN counts as 0).
    covered0
        Cells already within reach of an existing meeting point.
    weights
        The weights the selection used (None: the residents).
    cost
        Yearly cost per candidate (:func:`candidate_costs`); None leaves the costs empty.
    candidates
        Optional frame with one row per candidate, in the row order of ``cover``; its
        columns naam, soort, buurtcode, buurtnaam, kern, x, y (x and y from a point
        geometry when absent) are joined. A GeoDataFrame gives a GeoDataFrame.

    Returns
    -------
    pandas.DataFrame
        One row per rank: rang (1..), kandidaat (row index in ``cover``),
        nieuw_binnen_bereik (residents newly within reach of this site, given the sites
        ranked above it), cumulatief_binnen_bereik (of the top ``rang`` together),
        aandeel_na (share of all residents within reach once the top ``rang`` are open,
        0..1), nieuw_gewogen, kosten_per_jaar (euro), kosten_per_inwoner (euro per year per
        newly reached resident; NaN when it reaches nobody), alleen_binnen_bereik
        (residents newly within reach when this site alone is opened), in_beste_keuze_bij
        (the numbers of sites r whose best set holds this site, e.g. "1, 3, 4"; empty
        without ``choices``), then the candidate columns.
    """
    people = np.nan_to_num(np.asarray(inwoners, dtype=float), nan=0.0)
    c, open_people = _prepare(cover, people, covered0)
    w_open = open_people if weights is None else _prepare(cover, weights, covered0)[1]
    rows = _proposal_rows(selection, c, people, open_people, w_open, _cost_array(cost, c.shape[0]), choices)
    table = pd.DataFrame(rows, columns=PROPOSAL_COLUMNS)
    table = table.astype({"rang": int, "kandidaat": int})
    return table if candidates is None else _with_candidates(table, candidates, c.shape[0])


def _proposal_rows(  # noqa: PLR0917
    selection: Selection, c: sp.csr_matrix, people: np.ndarray, open_people: np.ndarray, w_open: np.ndarray,
    cost_arr: np.ndarray | None, choices: Sequence[CountChoice],
) -> list[dict[str, Any]]:
    """The rows of :func:`proposals_table`: the ranking, then the sites only in a best set for a smaller count."""
    total = float(people.sum())
    already = total - float(open_people.sum())
    reached = np.zeros(c.shape[1], dtype=bool)
    rows: list[dict[str, Any]] = []
    cumulative = 0.0
    counts: dict[int, list[int]] = {}
    for choice in choices:
        for j in choice.sites.tolist():
            counts.setdefault(int(j), []).append(int(choice.count))
    main = selection.chosen.tolist()
    extra = [j for j in counts if j not in set(main)]
    for rank, j in enumerate(main, start=1):
        cells = _row(c, j)
        new = cells[~reached[cells]]
        newly = float(open_people[new].sum())
        reached[new] = True
        cumulative += newly
        yearly = float(cost_arr[j]) if cost_arr is not None else np.nan
        rows.append({
            "rang": rank,
            "kandidaat": j,
            "nieuw_binnen_bereik": newly,
            "cumulatief_binnen_bereik": cumulative,
            "aandeel_na": (already + cumulative) / total if total > 0 else np.nan,
            "nieuw_gewogen": float(w_open[new].sum()),
            "kosten_per_jaar": yearly,
            "kosten_per_inwoner": yearly / newly if newly > 0 else np.nan,
            "alleen_binnen_bereik": float(open_people[cells].sum()),
            "in_beste_keuze_bij": ", ".join(str(r) for r in counts.get(j, [])),
        })
    for rank, j in enumerate(extra, start=len(main) + 1):
        rows.append({
            "rang": rank, "kandidaat": j, "nieuw_binnen_bereik": np.nan, "cumulatief_binnen_bereik": np.nan,
            "aandeel_na": np.nan, "nieuw_gewogen": np.nan,
            "kosten_per_jaar": float(cost_arr[j]) if cost_arr is not None else np.nan,
            "kosten_per_inwoner": np.nan, "alleen_binnen_bereik": float(open_people[_row(c, j)].sum()),
            "in_beste_keuze_bij": ", ".join(str(r) for r in counts[j]),
        })
    return rows


def _with_candidates(table: pd.DataFrame, candidates: pd.DataFrame, n_candidates: int) -> pd.DataFrame:
    """``table`` with the candidate columns joined (a GeoDataFrame when ``candidates`` is one)."""
    if len(candidates) != n_candidates:
        msg = f"candidates has {len(candidates)} rows, cover has {n_candidates} candidates."
        raise ValueError(msg)
    import geopandas as gpd  # noqa: PLC0415

    meta = candidates.iloc[table["kandidaat"].to_numpy()].reset_index(drop=True)
    geometry = meta.geometry if isinstance(meta, gpd.GeoDataFrame) else None
    for col in _META_COLUMNS:
        if col in meta.columns:
            table[col] = meta[col].to_numpy()
        elif col in ("x", "y") and geometry is not None:
            table[col] = getattr(geometry, col).to_numpy(dtype=float)
    if geometry is not None:
        return gpd.GeoDataFrame(table, geometry=geometry.to_numpy(), crs=candidates.crs)
    return table


def _clean(value: Any) -> Any:
    """JSON-safe scalar: numpy to Python, NaN to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def proposals_summary(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The ``new_meeting_points`` list for ``samenvatting.json``, in rank order.

    Keys: rank, name, kind, x, y, buurtcode, newly_within, cumulative_within, share_after,
    cost_per_year, cost_per_resident, newly_within_alone (missing metadata or a site outside
    the ranking: None) and best_for_counts (the numbers of sites whose best set holds it).
    """
    keys = {
        "rank": "rang", "name": "naam", "kind": "soort", "x": "x", "y": "y", "buurtcode": "buurtcode",
        "newly_within": "nieuw_binnen_bereik", "cumulative_within": "cumulatief_binnen_bereik",
        "share_after": "aandeel_na", "cost_per_year": "kosten_per_jaar", "cost_per_resident": "kosten_per_inwoner",
        "newly_within_alone": "alleen_binnen_bereik",
    }
    out = []
    for _, row in table.iterrows():
        item = {key: _clean(row[col]) if col in row.index else None for key, col in keys.items()}
        counts = str(row.get("in_beste_keuze_bij") or "")
        item["best_for_counts"] = [int(r) for r in counts.split(",") if r.strip()]
        out.append(item)
    return out


def count_summary(
    choices: Sequence[CountChoice], cover: sp.spmatrix | sp.sparray, inwoners: np.ndarray | pd.Series,
    covered0: np.ndarray | None, table: pd.DataFrame, *, cost: np.ndarray | Sequence[float] | None = None,
) -> list[dict[str, Any]]:
    """The ``best_by_count`` list for ``samenvatting.json``: one entry per number of new sites.

    Keys: count, newly_within (residents the set brings newly within reach), share_after
    (share of all residents within reach once it is open, 0..1), cost_per_year, sites (the
    ``rang`` of each site in ``table``, :func:`proposals_table` built with the same
    ``choices``), proven_optimal, first_ranks (the set is ranks 1..count), status,
    newly_weighted, bound_weighted and gap (see :class:`CountChoice`; in the weights the
    selection maximised, equal to residents without signal weighting).
    """
    people = np.nan_to_num(np.asarray(inwoners, dtype=float), nan=0.0)
    c, open_people = _prepare(cover, people, covered0)
    total = float(people.sum())
    already = total - float(open_people.sum())
    cost_arr = _cost_array(cost, c.shape[0])
    rank_of = dict(zip(table["kandidaat"].astype(int).tolist(), table["rang"].astype(int).tolist(), strict=True))
    out = []
    for choice in choices:
        sites = choice.sites.tolist()
        newly = _reached_weight(c, open_people, sites)
        out.append({
            "count": int(choice.count),
            "newly_within": newly,
            "share_after": (already + newly) / total if total > 0 else None,
            "cost_per_year": float(cost_arr[sites].sum()) if cost_arr is not None else None,
            "sites": [rank_of[int(j)] for j in sites],
            "proven_optimal": bool(choice.proven_optimal),
            "first_ranks": bool(choice.first_ranks),
            "status": choice.status,
            "newly_weighted": _clean(float(choice.objective)),
            "bound_weighted": _clean(choice.bound) if choice.bound is not None else None,
            "gap": _clean(choice.gap) if choice.gap is not None else None,
        })
    return out
