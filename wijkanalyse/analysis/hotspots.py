"""Hot spots of the signal: Local Moran's I (PySAL esda) on queen contiguity."""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from wijkanalyse._imports import parts_of
from wijkanalyse.result import QUADRANT_CODES, Hotspot

__all__ = ["load_local_moran", "local_moran_hotspots"]


def load_local_moran() -> tuple[Any, Any]:
    """esda's ``Moran_Local`` and libpysal's ``Queen``, loaded without the two packages' ``__init__``.

    Those load scikit-learn, which Local Moran never uses (:mod:`wijkanalyse._imports`).
    """
    parts_of(("esda", "libpysal"), ("libpysal.cg", "libpysal.io", "esda.moran", "libpysal.weights"))
    from esda.moran import Moran_Local  # noqa: PLC0415 (slow import)
    from libpysal.weights import Queen  # noqa: PLC0415

    return Moran_Local, Queen


def local_moran_hotspots(
    buurten: gpd.GeoDataFrame, column: str = "signaal", *, alpha: float = 0.05, permutations: int = 999, seed: int = 0
) -> pd.DataFrame:
    """Classify buurten into hot spots, cold spots and outliers of ``column``.

    Buurten without a value, and buurten without neighbours, are "niet significant" with a
    missing p-value. Neighbours share an edge or a corner (queen contiguity), row-standardised.
    The permutation test is seeded, so a run is repeatable.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``buurten``: ``hotspot`` (a :class:`~wijkanalyse.result.Hotspot` code), ``hotspot_p`` (pseudo p-value),
        ``hotspot_q`` (Moran quadrant 1-4, 0 when not significant).
    """
    Moran_Local, Queen = load_local_moran()  # the classes keep their own names

    out = pd.DataFrame(
        {"hotspot": Hotspot.NONE.value, "hotspot_p": np.nan, "hotspot_q": 0}, index=buurten.index
    )
    known = buurten[buurten[column].notna()]
    if len(known) < 3:
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands and disconnected components are handled below
        w = Queen.from_dataframe(known.reset_index(drop=True), use_index=False)
    has_neighbours = np.array([w.cardinalities[i] > 0 for i in range(len(known))])
    if has_neighbours.sum() < 3:
        return out
    if not has_neighbours.all():
        sub = known[has_neighbours]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = Queen.from_dataframe(sub.reset_index(drop=True), use_index=False)
        known = sub
    w.transform = "r"
    y = known[column].to_numpy(dtype=float)
    if np.ptp(y) <= 1e-9 * max(1.0, float(np.abs(y).max())):  # no variation: Moran's I is undefined
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # esda announces a future switch to two-sided p-values; we keep its documented
        # folded (directed) pseudo p-value until the installed esda changes it
        warnings.simplefilter("ignore", DeprecationWarning)
        lisa = Moran_Local(y, w, permutations=permutations, seed=seed, keep_simulations=False)
    significant = lisa.p_sim < alpha
    quadrant = np.where(significant, lisa.q, 0)
    out.loc[known.index, "hotspot_p"] = lisa.p_sim
    out.loc[known.index, "hotspot_q"] = quadrant
    out.loc[known.index, "hotspot"] = [QUADRANT_CODES[int(q)].value for q in quadrant]
    return out
