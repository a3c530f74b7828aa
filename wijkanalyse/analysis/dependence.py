"""Which residents depend on one meeting point, and what closing it does to them.

For every meeting point: the residents for whom it is the *only* meeting point within the
threshold (if it closed they would live beyond it: ``inwoners_verliezen_toegang`` counts the
same people, the figure a budget round asks for) and how far they would walk then, to the
next meeting point. Both come from one "nearest and second-nearest" search on the run's
network (:meth:`wijkanalyse.network.WalkNetwork.nearest_two`: two Dijkstra passes for all
meeting points together, never a search per point), or as the crow flies with
``distance_method = "straight_line"`` (:func:`straight_line_nearest_two`, a k-d tree with
k = 2).

A resident cell has exactly one meeting point within the threshold when its nearest lies
within it (``distance <= threshold``) and the nearest other one does not (``second >
threshold``); that nearest point is then the one it depends on, and ``second`` is its walk
after the point closes. Two meeting points at the same spot are each other's next one, so
neither is anyone's only one. Residents not on the network or with no meeting point in reach
depend on none (they are beyond the threshold already).

Pure functions: frames and the engine's arrays in, a frame out; no I/O.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from wijkanalyse.analysis.coverage import _weighted_median
from wijkanalyse.network import NearestTwo

__all__ = ["DEPENDENCE_COLUMNS", "meeting_point_dependence", "straight_line_nearest_two", "vulnerable_meeting_points"]

#: Columns of :func:`meeting_point_dependence` (the figures the venues frame gets for a meeting point).
DEPENDENCE_COLUMNS = [
    "inwoners_dichtstbij",  # residents within the threshold whose nearest meeting point this is
    "inwoners_alleen_hier",  # residents for whom it is the only meeting point within the threshold
    "cellen_alleen_hier",  # their inhabited 100 m cells (a cell with a secret count counts here, as 0 residents)
    "inwoners_verliezen_toegang",  # residents beyond the threshold if it closes (the same people)
    "inwoners_geen_ander_bereikbaar",  # of them: no other meeting point reachable at all
    "afstand_volgende_gem_m",  # their mean distance to the next meeting point (resident-weighted, reachable ones)
    "afstand_volgende_mediaan_m",  # the median resident's distance to the next one (inf: the median reaches none)
    "kwetsbaar_rang",  # 1 = the most residents would lose their meeting point; NaN: nobody depends on it alone
]


def straight_line_nearest_two(origins: gpd.GeoSeries, targets: gpd.GeoSeries) -> NearestTwo:
    """Nearest and second-nearest target of each origin as the crow flies (metres; a k-d tree with k = 2).

    Targets are taken at their point (a shape at a point on its surface). ``inf`` and -1 where
    there is no target (no second one with a single target).
    """
    n_o = len(origins)
    out = NearestTwo(np.full(n_o, np.inf), np.full(n_o, -1, dtype=np.int64), np.full(n_o, np.inf))
    if n_o == 0 or len(targets) == 0:
        return out
    tree = cKDTree(shapely.get_coordinates(shapely.point_on_surface(targets.to_numpy())))
    query = shapely.get_coordinates(shapely.point_on_surface(origins.to_numpy()))
    if len(targets) == 1:
        dist, idx = tree.query(query, k=1)
        return NearestTwo(np.asarray(dist, dtype=float), np.asarray(idx, dtype=np.int64), out.second)
    dist, idx = tree.query(query, k=2)
    return NearestTwo(dist[:, 0].astype(float), idx[:, 0].astype(np.int64), dist[:, 1].astype(float))


def meeting_point_dependence(
    residents: pd.DataFrame, meeting_points: pd.DataFrame, nearest: NearestTwo, threshold_m: float
) -> pd.DataFrame:
    """The dependence figures of every meeting point (:data:`DEPENDENCE_COLUMNS`).

    Parameters
    ----------
    residents
        One row per inhabited cell, with ``inwoners`` (NaN = secret, counted as 0).
    meeting_points
        The meeting points, in the order of the targets ``nearest`` indexes.
    nearest
        Per resident (in ``residents`` order): the nearest meeting point, its distance and the
        distance to the nearest other one (:meth:`~wijkanalyse.network.WalkNetwork.nearest_two`
        or :func:`straight_line_nearest_two`).
    threshold_m
        The walking threshold.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``meeting_points``. ``kwetsbaar_rang`` ranks the points on whom some
        cell depends alone: most residents first, then most cells, then the name.
    """
    n_points = len(meeting_points)
    people = residents["inwoners"].fillna(0.0).to_numpy(dtype=float)
    target = np.asarray(nearest.target)
    within = (target >= 0) & (nearest.distance <= threshold_m)
    only = within & ~(nearest.second <= threshold_m)
    which = np.where(within, target, n_points)  # n_points: a bin for the rest
    nearest_people = np.bincount(which, weights=people, minlength=n_points + 1)[:n_points]
    only_which = np.where(only, target, n_points)
    only_people = np.bincount(only_which, weights=people, minlength=n_points + 1)[:n_points]
    only_cells = np.bincount(only_which, minlength=n_points + 1)[:n_points]
    stranded = only & ~np.isfinite(nearest.second)
    none_left = np.bincount(np.where(stranded, target, n_points), weights=people, minlength=n_points + 1)[:n_points]
    mean = np.full(n_points, np.nan)
    median = np.full(n_points, np.nan)
    for j in np.flatnonzero(only_cells):
        cells = only & (target == j)
        second, weight = nearest.second[cells], people[cells]
        finite = np.isfinite(second) & (weight > 0)
        if finite.any():
            mean[j] = float(np.average(second[finite], weights=weight[finite]))
        median[j] = _weighted_median(second, weight)
    frame = pd.DataFrame({
        "inwoners_dichtstbij": nearest_people,
        "inwoners_alleen_hier": only_people,
        "cellen_alleen_hier": only_cells.astype(np.int64),
        "inwoners_verliezen_toegang": only_people,
        "inwoners_geen_ander_bereikbaar": none_left,
        "afstand_volgende_gem_m": mean,
        "afstand_volgende_mediaan_m": median,
    }, index=meeting_points.index)
    names = meeting_points["naam"].fillna("").astype(str).to_numpy() if "naam" in meeting_points else np.full(n_points, "")
    ranked = [j for j in np.lexsort((names, -only_cells, -only_people)) if only_cells[j] > 0]
    rank = np.full(n_points, np.nan)
    rank[ranked] = np.arange(1, len(ranked) + 1)
    frame["kwetsbaar_rang"] = pd.Series(rank, index=frame.index).astype("Int64")
    return frame


def vulnerable_meeting_points(venues: pd.DataFrame) -> list[dict[str, object]]:
    """``samenvatting.json``'s ``vulnerable_meeting_points``: every ranked meeting point, most residents first.

    ``venues`` carries :data:`DEPENDENCE_COLUMNS` (NaN for venues that are no meeting point).
    Each entry: id (``osm_id``), name, residents_only_here, residents_losing_access,
    cells_only_here, residents_no_other_reachable, next_distance_mean_m, next_distance_median_m
    (null when unknown or when the median resident reaches no other meeting point).
    """
    if "kwetsbaar_rang" not in venues.columns:
        return []
    ranked = venues[venues["kwetsbaar_rang"].notna()].sort_values("kwetsbaar_rang", kind="stable")

    def number(value: Any) -> float | None:
        return float(value) if value is not None and pd.notna(value) and np.isfinite(float(value)) else None

    return [{
        "id": row["osm_id"],
        "name": row.get("naam") if isinstance(row.get("naam"), str) else None,
        "residents_only_here": float(row["inwoners_alleen_hier"]),
        "residents_losing_access": float(row["inwoners_verliezen_toegang"]),
        "cells_only_here": int(row["cellen_alleen_hier"]),
        "residents_no_other_reachable": float(row["inwoners_geen_ander_bereikbaar"]),
        "next_distance_mean_m": number(row["afstand_volgende_gem_m"]),
        "next_distance_median_m": number(row["afstand_volgende_mediaan_m"]),
    } for _, row in ranked.iterrows()]
