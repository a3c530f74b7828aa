"""Capacity of meeting points: how many residents live within reach of each, and is that more than it can serve.

Input: the sparse meeting point x resident cell matrix of the pairs within the threshold
(:meth:`wijkanalyse.network.WalkNetwork.within`, or
:func:`wijkanalyse.analysis.siting.straight_line_cover`), the residents per cell (of a target
group: the middle of its range, :func:`wijkanalyse.analysis.groups.group_weights`) and a
capacity per meeting point (NaN: unknown).

Per meeting point ``j``, with ``P_i`` the residents of cell ``i`` and ``n_i`` the number of
meeting points within reach of cell ``i``:

``inwoners_binnen_bereik`` ``D_j = sum of P_i over the cells within reach``
    Step 1 of the two-step floating catchment area method (2SFCA, Luo & Wang 2003): every
    resident within reach counts for every meeting point he can reach.
``plaatsen_per_inwoner`` ``C_j / D_j``
    The 2SFCA supply ratio (NaN without capacity or residents).
``belasting`` ``L_j = sum of P_i / n_i``
    The residents shared out: a resident within reach of two meeting points counts half at
    each, so the loads add up to the residents within reach of any meeting point.
``boven_capaciteit``
    ``L_j > C_j``: even with the residents shared out, more than the place can serve (NA
    when the capacity is unknown). Flagging on ``D_j`` would flag two neighbouring
    buurthuizen for the same people; the shared load counts each resident once.

Why the sparse cover and not a package (pysal ``access``): the cover already holds exactly the
pairs within the threshold on the same network the coverage uses, and the two sums are two
sparse matrix products; ``access`` would need the pairs again as a long table, for the same
numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["CAPACITY_COLUMNS", "capacity_load"]

#: The columns of :func:`capacity_load`, in order.
CAPACITY_COLUMNS = ("capaciteit", "inwoners_binnen_bereik", "belasting", "plaatsen_per_inwoner", "boven_capaciteit")


def capacity_load(cover: sp.spmatrix | sp.sparray, people: np.ndarray, capacity: np.ndarray) -> pd.DataFrame:
    """The figures of the module docstring, one row per meeting point (row of ``cover``).

    Parameters
    ----------
    cover
        Meeting points x resident cells, an entry for each pair within reach (any value).
    people
        Residents per cell (>= 0; NaN counts as 0).
    capacity
        Capacity per meeting point (> 0; NaN = unknown).
    """
    c = sp.csr_matrix(cover, dtype=float)
    c.data[:] = 1.0
    p = np.nan_to_num(np.asarray(people, dtype=float), nan=0.0)
    cap = np.asarray(capacity, dtype=float)
    if c.shape != (len(cap), len(p)):
        msg = f"cover has shape {c.shape}, expected ({len(cap)} meeting points, {len(p)} cells)."
        raise ValueError(msg)
    reach = np.asarray(c.sum(axis=0)).ravel()  # n_i
    demand = c @ p
    shared = c @ np.divide(p, reach, out=np.zeros_like(p), where=reach > 0)
    known = np.isfinite(cap)
    ratio = np.divide(cap, demand, out=np.full_like(cap, np.nan), where=known & (demand > 0))
    over = pd.array(np.where(known, shared > cap, False), dtype="boolean")
    over[~known] = pd.NA
    return pd.DataFrame({
        "capaciteit": cap, "inwoners_binnen_bereik": demand, "belasting": shared, "plaatsen_per_inwoner": ratio,
        "boven_capaciteit": over,
    })
