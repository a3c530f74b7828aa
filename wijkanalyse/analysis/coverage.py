"""Walking distance from every resident to the nearest meeting point, and coverage per buurt.

The walking distance comes from the network engine (:mod:`wijkanalyse.network`): residents
and meeting points attach to the nearest eligible way, and one multi-source Dijkstra pass
(``scipy.sparse.csgraph``) gives every resident the distance to its nearest meeting point.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wijkanalyse.config import NetworkRules
from wijkanalyse.model import require_metric_crs
from wijkanalyse.network import WalkNetwork

__all__ = ["buurt_coverage", "network_distance", "straight_line_distance"]


def network_distance(
    origins: gpd.GeoSeries, targets: gpd.GeoSeries, network: WalkNetwork | gpd.GeoDataFrame,
    rules: NetworkRules | None = None,
) -> np.ndarray:
    """Walking distance in metres from each origin to the nearest target.

    Parameters
    ----------
    origins, targets
        Points in a metric CRS (residents and meeting points).
    network
        A :class:`~wijkanalyse.network.WalkNetwork`, or a ways frame (u, v, highway, ...,
        LineString geometry) to build one from with ``rules``.

    Returns
    -------
    numpy.ndarray
        One distance per origin; ``inf`` where no target can be reached or the origin is
        not on the network (see :meth:`WalkNetwork.attach`).
    """
    for frame, what in ((origins, "inwonerpunten"), (targets, "ontmoetingspunten")):
        require_metric_crs(frame, what)
    if not isinstance(network, WalkNetwork):
        network = WalkNetwork.from_ways(network, rules)
    return network.nearest(network.attach(origins), network.attach(targets))


def straight_line_distance(origins: gpd.GeoSeries, targets: gpd.GeoSeries) -> np.ndarray:
    """Distance in metres as the crow flies from each origin to the nearest target (``inf`` if none)."""
    require_metric_crs(origins, "inwonerpunten")
    require_metric_crs(targets, "ontmoetingspunten")
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
