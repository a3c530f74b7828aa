"""Candidate sites for a new meeting point, and the residents each would bring within reach.

Three kinds of candidate (``soort``):

- a venue that is not a meeting point yet, of a class in ``[siting] candidate_classes`` (a
  school canteen, a sports hall, ...): its class key, e.g. ``"school"``;
- a site on the gemeente's own candidate list (``[siting] candidates_file``): ``"gemeente"``;
- the resident-weighted centre of each gap area, so a village with no venue at all still
  gets a candidate: ``"gat"``. The pipeline moves it onto the walking network.

Coverage is by walking (:meth:`wijkanalyse.network.WalkNetwork.within`, bounded searches), or
as the crow flies when the run uses ``distance_method = "straight_line"``
(:func:`straight_line_cover`); either way a sparse candidate x resident matrix.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from wijkanalyse.config import VenueClass
from wijkanalyse.model import CRS

__all__ = ["CANDIDATE_COLUMNS", "candidate_sites", "gap_centres", "straight_line_cover"]

#: Columns of :func:`candidate_sites` (plus point geometry).
CANDIDATE_COLUMNS = ["naam", "soort", "soort_label", "bron", "kosten_per_jaar", "buurtcode", "buurtnaam", "kern"]
GAP_KIND = "gat"
OWN_KIND = "gemeente"


def gap_centres(gaps: gpd.GeoDataFrame, residents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The resident-weighted centre of the cells of each gap (suppressed cells weigh 1).

    Columns: gat_id, inwoners, geometry (point, EPSG:28992). A gap whose cells all have
    unknown counts gets its plain centre.
    """
    if gaps.empty or residents.empty:
        return gpd.GeoDataFrame({"gat_id": [], "inwoners": []}, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    cells = gpd.GeoDataFrame(
        {"w": residents["inwoners"].fillna(1.0).clip(lower=0).to_numpy()},
        geometry=residents.geometry.to_numpy(), crs=residents.crs,
    )
    joined = gpd.sjoin(cells, gaps[["gat_id", "geometry"]], how="inner", predicate="within")
    x, y = joined.geometry.x.to_numpy(), joined.geometry.y.to_numpy()
    frame = pd.DataFrame({"gat_id": joined["gat_id"].to_numpy(), "w": joined["w"].to_numpy(), "wx": joined["w"] * x,
                          "wy": joined["w"] * y, "x": x, "y": y})
    sums = frame.groupby("gat_id").agg(w=("w", "sum"), wx=("wx", "sum"), wy=("wy", "sum"), x=("x", "mean"), y=("y", "mean"))
    weighted = sums["w"] > 0
    cx = np.where(weighted, sums["wx"] / sums["w"].where(weighted, 1), sums["x"])
    cy = np.where(weighted, sums["wy"] / sums["w"].where(weighted, 1), sums["y"])
    people = gaps.set_index("gat_id")["inwoners"].reindex(sums.index)
    return gpd.GeoDataFrame(
        {"gat_id": sums.index.to_numpy(), "inwoners": people.to_numpy()},
        geometry=gpd.GeoSeries(shapely.points(cx, cy), crs=CRS), crs=CRS,
    )


def candidate_sites(
    venues: gpd.GeoDataFrame,
    classes: dict[str, VenueClass],
    *,
    candidate_classes: tuple[str, ...] | list[str],
    own: gpd.GeoDataFrame | None,
    centres: gpd.GeoDataFrame,
    buurten: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Every candidate site in one frame (:data:`CANDIDATE_COLUMNS`), in a fixed order.

    ``venues`` is the run's venues frame (its meeting points are never candidates); ``own``
    the gemeente's candidate list as read by :func:`wijkanalyse.sources.own_points.read_own_points`
    (its ``kosten_per_jaar`` overrides the cost per kind); ``centres`` from
    :func:`gap_centres`. Each candidate gets the buurt (and kern) it lies in, or the nearest
    one within 500 m for a site just across the border.
    """
    parts = []
    if len(venues):
        mask = venues["categorie"].isin(list(candidate_classes)).to_numpy() & ~venues["ontmoetingspunt"].astype(bool).to_numpy()
        chosen = venues[mask]
        parts.append(gpd.GeoDataFrame({
            "naam": chosen["naam"].fillna(chosen["categorie_label"]).to_numpy(),
            "soort": chosen["categorie"].to_numpy(),
            "soort_label": chosen["categorie_label"].to_numpy(),
            "bron": (chosen["bron"] if "bron" in chosen.columns else pd.Series("OpenStreetMap", index=chosen.index)).to_numpy(),
            "kosten_per_jaar": np.full(len(chosen), np.nan),
        }, geometry=chosen.geometry.to_numpy(), crs=CRS))
    if own is not None and len(own):
        label = own["categorie"].map(lambda k: classes[k].label if k in classes else str(k))
        parts.append(gpd.GeoDataFrame({
            "naam": own["naam"].fillna(label).to_numpy(),
            "soort": OWN_KIND,
            "soort_label": ("Eigen kandidaat: " + label).to_numpy(),
            "bron": own["bron"].to_numpy() if "bron" in own.columns else "gemeente",
            "kosten_per_jaar": own["kosten_per_jaar"].astype(float).to_numpy() if "kosten_per_jaar" in own.columns else np.nan,
        }, geometry=own.geometry.to_numpy(), crs=CRS))
    if len(centres):
        parts.append(gpd.GeoDataFrame({
            "naam": [f"gat {int(i)}" for i in centres["gat_id"]],  # named after its buurt below
            "soort": GAP_KIND,
            "soort_label": "Nieuwe plek (midden van een gat)",
            "bron": "berekend",
            "kosten_per_jaar": np.full(len(centres), np.nan),
        }, geometry=centres.geometry.to_numpy(), crs=CRS))
    if not parts:
        return gpd.GeoDataFrame({c: [] for c in CANDIDATE_COLUMNS}, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    sites = pd.concat(parts, ignore_index=True)
    areas = buurten[["buurtcode", "buurtnaam", *(["kern"] if "kern" in buurten.columns else []), "geometry"]].reset_index(drop=True)
    joined = gpd.sjoin_nearest(sites[["geometry"]], areas, how="left", max_distance=500.0)
    joined = joined[~joined.index.duplicated(keep="first")].reindex(sites.index)
    sites["buurtcode"] = joined["buurtcode"].to_numpy()
    sites["buurtnaam"] = joined["buurtnaam"].to_numpy()
    sites["kern"] = joined["kern"].to_numpy() if "kern" in joined.columns else None
    gap = (sites["soort"] == GAP_KIND).to_numpy()
    sites.loc[gap, "naam"] = [
        f"Nieuwe plek in {b if isinstance(b, str) else 'het buitengebied'} ({n})"
        for b, n in zip(sites.loc[gap, "buurtnaam"], sites.loc[gap, "naam"], strict=True)
    ]
    return gpd.GeoDataFrame(sites[[*CANDIDATE_COLUMNS, "geometry"]], geometry="geometry", crs=CRS)


def straight_line_cover(candidates: gpd.GeoSeries, residents: gpd.GeoSeries, limit: float) -> sparse.csr_matrix:
    """Sparse (candidate x resident) distances as the crow flies, for the pairs within ``limit``."""
    tree = shapely.STRtree(residents.to_numpy())
    cand_idx, res_idx = tree.query(candidates.to_numpy(), predicate="dwithin", distance=limit)
    dist = shapely.distance(candidates.to_numpy()[cand_idx], residents.to_numpy()[res_idx])
    return sparse.csr_matrix(
        (np.maximum(dist, 1e-6), (cand_idx, res_idx)), shape=(len(candidates), len(residents))
    )
