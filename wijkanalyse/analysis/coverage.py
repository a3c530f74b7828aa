"""Walking distance from every resident to the nearest meeting point, and coverage per buurt.

The network distance is computed in one multi-source shortest-path pass
(``scipy.sparse.csgraph.dijkstra``): every meeting point is attached to the street it lies
nearest to, a virtual source is linked to both ends of those streets, and one Dijkstra run
from the virtual source gives, for every street corner, the distance to the nearest
meeting point. A resident is attached to its nearest street the same way. The straight
stretch from a point to its street counts as walked.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from wijkanalyse.errors import DataError
from wijkanalyse.model import require_metric_crs

__all__ = ["buurt_coverage", "network_distance", "straight_line_distance"]

_EPS = 1e-6  # csgraph ignores zero-weight entries; a micrometre keeps them as edges


def _snap(points: np.ndarray, lines: np.ndarray, tree: shapely.STRtree) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest line per point: (line index, distance to the line, position along the line)."""
    (point_idx, line_idx), dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    order = np.argsort(point_idx, kind="stable")
    point_idx, line_idx, dist = point_idx[order], line_idx[order], dist[order]
    first = np.unique(point_idx, return_index=True)[1]
    line_idx, dist = line_idx[first], dist[first]
    along = shapely.line_locate_point(lines[line_idx], points)
    return line_idx, dist, along


def network_distance(origins: gpd.GeoSeries, targets: gpd.GeoSeries, edges: gpd.GeoDataFrame) -> np.ndarray:
    """Walking distance in metres from each origin to the nearest target over ``edges``.

    Parameters
    ----------
    origins, targets
        Points in a metric CRS (residents and meeting points).
    edges
        Undirected walkable edges from :func:`wijkanalyse.model.walk_edges`: columns u, v,
        length, and a line geometry running from u to v.

    Returns
    -------
    numpy.ndarray
        One distance per origin, ``inf`` where no target can be reached.
    """
    for frame, what in ((origins, "resident points"), (targets, "meeting points"), (edges, "walking network")):
        require_metric_crs(frame, what)
    if len(edges) == 0:
        msg = "The walking network is empty; use distance_method = \"straight_line\"."
        raise DataError(msg)
    if len(origins) == 0:
        return np.zeros(0)
    if len(targets) == 0:
        return np.full(len(origins), np.inf)

    lines = edges.geometry.to_numpy()
    length = edges["length"].to_numpy(dtype=float)
    nodes, inverse = np.unique(np.concatenate([edges["u"].to_numpy(), edges["v"].to_numpy()]), return_inverse=True)
    n_edges = len(edges)
    ui, vi = inverse[:n_edges], inverse[n_edges:]
    source = len(nodes)  # the virtual source
    tree = shapely.STRtree(lines)

    t_line, t_snap, t_along = _snap(targets.to_numpy(), lines, tree)
    rows = np.concatenate([ui, vi, np.full(len(t_line), source), np.full(len(t_line), source)])
    cols = np.concatenate([vi, ui, ui[t_line], vi[t_line]])
    weights = np.concatenate([length, length, t_snap + t_along, t_snap + (length[t_line] - t_along)])
    frame = pd.DataFrame({"r": rows, "c": cols, "w": np.maximum(weights, _EPS)})
    frame = frame.groupby(["r", "c"], as_index=False)["w"].min()  # parallel entries would be summed
    graph = csr_matrix((frame["w"], (frame["r"], frame["c"])), shape=(source + 1, source + 1))
    from_source = dijkstra(graph, directed=True, indices=source)

    o_line, o_snap, o_along = _snap(origins.to_numpy(), lines, tree)
    via_u = from_source[ui[o_line]] + o_along
    via_v = from_source[vi[o_line]] + (length[o_line] - o_along)
    best = o_snap + np.minimum(via_u, via_v)

    # a resident and a meeting point on the same street: walk straight along it
    same = pd.DataFrame({"line": t_line, "along": t_along, "snap": t_snap})
    if len(same):
        origin_frame = pd.DataFrame({"line": o_line, "along": o_along, "snap": o_snap, "i": np.arange(len(o_line))})
        pairs = origin_frame.merge(same, on="line", suffixes=("", "_t"))
        if len(pairs):
            direct = pairs["snap"] + (pairs["along"] - pairs["along_t"]).abs() + pairs["snap_t"]
            shortest = direct.groupby(pairs["i"]).min()
            idx = shortest.index.to_numpy()
            best[idx] = np.minimum(best[idx], shortest.to_numpy())
    return best


def straight_line_distance(origins: gpd.GeoSeries, targets: gpd.GeoSeries) -> np.ndarray:
    """Distance in metres as the crow flies from each origin to the nearest target (``inf`` if none)."""
    require_metric_crs(origins, "resident points")
    require_metric_crs(targets, "meeting points")
    if len(targets) == 0:
        return np.full(len(origins), np.inf)
    if len(origins) == 0:
        return np.zeros(0)
    tree = shapely.STRtree(targets.to_numpy())
    (o_idx, _), dist = tree.query_nearest(origins.to_numpy(), return_distance=True, all_matches=False)
    out = np.full(len(origins), np.inf)
    np.minimum.at(out, o_idx, dist)
    return out


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    ok = (weights > 0) & ~np.isnan(values)
    if not ok.any():
        return float("nan")
    v, w = values[ok], weights[ok]
    order = np.argsort(v)
    cum = np.cumsum(w[order])
    return float(v[order][np.searchsorted(cum, cum[-1] / 2.0)])


def buurt_coverage(residents: pd.DataFrame, buurtcodes: pd.Index, threshold_m: float) -> pd.DataFrame:
    """Residents, residents within ``threshold_m`` and their share, per buurt.

    Parameters
    ----------
    residents
        Columns buurtcode, inwoners (NaN = suppressed by CBS, counted as 0) and afstand_m.
    buurtcodes
        The buurten to report on (every one gets a row, also those without residents).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``buurtcodes``: inwoners, inwoners_binnen_drempel,
        aandeel_binnen_drempel (NaN without residents), afstand_mediaan_m (weighted by
        residents; NaN when the median resident can reach no meeting point).
    """
    weight = residents["inwoners"].fillna(0.0).to_numpy(dtype=float)
    dist = residents["afstand_m"].to_numpy(dtype=float)
    frame = pd.DataFrame({
        "buurtcode": residents["buurtcode"].to_numpy(),
        "inwoners": weight,
        "inwoners_binnen_drempel": np.where(dist <= threshold_m, weight, 0.0),
    })
    sums = frame.groupby("buurtcode")[["inwoners", "inwoners_binnen_drempel"]].sum()
    out = sums.reindex(buurtcodes).fillna(0.0)
    out["aandeel_binnen_drempel"] = (out["inwoners_binnen_drempel"] / out["inwoners"]).where(out["inwoners"] > 0)
    medians = {  # inf (nothing reachable) takes part in the median, then shows as missing
        code: _weighted_median(dist[idx], weight[idx])
        for code, idx in frame.groupby("buurtcode").indices.items()
    }
    median = pd.Series(medians, dtype=float).reindex(buurtcodes)
    out["afstand_mediaan_m"] = median.where(np.isfinite(median))
    return out
