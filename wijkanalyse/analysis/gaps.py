"""Gaps: contiguous areas of inhabited 100 m cells beyond the walking threshold."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wijkanalyse.model import require_metric_crs

__all__ = ["cell_squares", "count_small_gaps", "find_gaps"]

CELL_M = 100.0


def cell_squares(points: gpd.GeoSeries, size: float = CELL_M) -> gpd.GeoSeries:
    """The ``size`` m square around each cell-centre point."""
    xy = shapely.get_coordinates(points.to_numpy())
    half = size / 2.0
    boxes = shapely.box(xy[:, 0] - half, xy[:, 1] - half, xy[:, 0] + half, xy[:, 1] + half)
    return gpd.GeoSeries(boxes, index=points.index, crs=points.crs)


def find_gaps(residents: gpd.GeoDataFrame, threshold_m: float) -> gpd.GeoDataFrame:
    """Merge neighbouring uncovered resident cells into gap areas, largest first.

    Cells touching at an edge or corner belong to the same gap. Returns columns gat_id (1 =
    most residents), inwoners, cellen, buurtcodes (comma-separated), afstand_max_m (NaN
    when part of the gap can reach no meeting point at all), geometry.
    """
    require_metric_crs(residents, "inwonerpunten")
    columns = ["gat_id", "inwoners", "cellen", "buurtcodes", "afstand_max_m"]
    outside = residents[residents["afstand_m"] > threshold_m]
    if outside.empty:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=residents.crs)
    squares = cell_squares(outside.geometry)
    # grow each square by a centimetre so corner-touching cells overlap, then label components
    merged = shapely.union_all(shapely.buffer(squares.to_numpy(), 0.01, join_style="mitre"))
    parts = gpd.GeoSeries(shapely.get_parts(merged), crs=residents.crs)
    which = gpd.sjoin(
        gpd.GeoDataFrame(outside.reset_index(drop=True), geometry=outside.geometry.to_numpy(), crs=residents.crs),
        gpd.GeoDataFrame(geometry=parts),
        how="left",
        predicate="within",
    )
    which = which[~which.index.duplicated(keep="first")]
    rows = []
    for part, group in which.groupby("index_right"):
        dist = group["afstand_m"].to_numpy(dtype=float)
        rows.append({
            "part": int(part),
            "inwoners": float(group["inwoners"].fillna(0.0).sum()),
            "cellen": len(group),
            "buurtcodes": ",".join(sorted(set(group["buurtcode"].astype(str)))),
            "afstand_max_m": float(dist.max()) if np.isfinite(dist).all() else np.nan,
            "geometry": shapely.union_all(cell_squares(group.geometry).to_numpy()),
        })
    gaps = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=residents.crs)
    gaps = gaps.sort_values(["inwoners", "cellen"], ascending=False, kind="stable").reset_index(drop=True)
    gaps["gat_id"] = np.arange(1, len(gaps) + 1)
    return gaps[[*columns, "geometry"]]


def count_small_gaps(gaps: pd.DataFrame, min_residents: float) -> int:
    """How many gaps have fewer than ``min_residents`` residents (``thresholds.min_gap_residents``)."""
    if gaps is None or gaps.empty:
        return 0
    residents = pd.to_numeric(gaps["inwoners"], errors="coerce").fillna(0.0)
    return int((residents < min_residents).sum())
