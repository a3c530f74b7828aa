"""Hot spots of the signal: Local Moran's I (PySAL esda) on queen contiguity."""

from __future__ import annotations

import importlib.util
import sys
import types
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from wijkanalyse.result import QUADRANT_CODES, Hotspot

__all__ = ["local_moran_hotspots"]


def _moran_and_queen() -> tuple[Any, Any]:
    """esda's ``Moran_Local`` and libpysal's ``Queen`` without the two packages' ``__init__``.

    ``import esda`` loads every esda statistic, among them ``adbscan``, which imports
    scikit-learn, and ``import libpysal`` loads ``libpysal.graph``, which imports it again:
    about 0.45 s of CPU that Local Moran never uses. The two modules needed are loaded under
    stand-in packages (the real folders on their ``__path__``), and the stand-ins are removed
    again, so a later ``import esda`` runs the real package and finds these modules loaded.
    Should that fail on another version, the packages are imported the ordinary way.
    """
    if "esda.moran" not in sys.modules and "esda" not in sys.modules and "libpysal" not in sys.modules:
        stubs = []
        try:
            for name in ("esda", "libpysal"):
                spec = importlib.util.find_spec(name)
                if spec is None or not spec.submodule_search_locations:
                    raise ImportError(name)
                stub = types.ModuleType(name)
                stub.__path__ = list(spec.submodule_search_locations)
                stub.__spec__ = spec
                sys.modules[name] = stub
                stubs.append(name)
            import libpysal.cg  # noqa: PLC0415 (the order libpysal's __init__ uses; weights needs both)
            import libpysal.io  # noqa: PLC0415
            import esda.moran  # noqa: PLC0415, F401
            import libpysal.weights  # noqa: PLC0415, F401
        except Exception:
            for name in [m for m in sys.modules if m.split(".")[0] in {"esda", "libpysal"}]:
                del sys.modules[name]
            stubs = []
        finally:
            for name in stubs:
                sys.modules.pop(name, None)
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
    Moran_Local, Queen = _moran_and_queen()  # the classes keep their own names

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
