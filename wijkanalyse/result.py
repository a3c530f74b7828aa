"""The result of one run: canonical frames plus key figures, handed to the outputs.

Column contract (all frames in EPSG:28992; names are Dutch because they reach users in
QGIS, Excel and the map):

``buurten`` (one row per buurt, polygons)
    buurtcode, buurtnaam, wijkcode, wijknaam, inwoners (residents on the 100 m grid),
    inwoners_cbs (AantalInwoners from CBS), inwoners_binnen_drempel, aandeel_binnen_drempel
    (0..1, NaN without residents), afstand_mediaan_m, one column per configured indicator
    (named by its config key), signaal (composite z-score, higher = more concern; NaN when
    no indicator is known), hotspot (Dutch label, see ``HOTSPOT_LABELS``), hotspot_p.
``residents`` (one row per inhabited 100 m cell, points at the cell centre)
    cel (c28992r100 code), inwoners (NaN when suppressed by CBS), buurtcode, afstand_m
    (walking distance to the nearest meeting point, inf when none can be reached),
    binnen_drempel (bool).
``venues`` (one row per OSM venue, points)
    osm_id ("node/123"), naam (from OSM: untrusted, escape it in HTML), categorie (config
    key), categorie_label (Dutch), ontmoetingspunt (bool: counts for the threshold rule).
``gaps`` (contiguous areas of inhabited cells beyond the threshold, polygons)
    gat_id, inwoners, cellen, buurtcodes (comma-separated), afstand_max_m.

``sources`` (not a frame) is the snapshot manifest's ``sources`` entry: per source (cbs,
buurten, grid, osm) its file, url and ``retrieved`` date; the map credits the data with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd

__all__ = ["HOTSPOT_LABELS", "RunResult"]

#: Local Moran quadrant -> Dutch label used in every output.
HOTSPOT_LABELS = {
    1: "hotspot (hoog, omgeven door hoog)",
    2: "uitschieter (laag, omgeven door hoog)",
    3: "coldspot (laag, omgeven door laag)",
    4: "uitschieter (hoog, omgeven door laag)",
    0: "niet significant",
}


@dataclass
class RunResult:
    """Everything the outputs need from one analysis run."""

    gemeente_code: str
    gemeente_name: str
    year: int
    synthetic: bool
    threshold_m: float
    distance_method: str  # "network" or "straight_line"
    buurten: gpd.GeoDataFrame
    residents: gpd.GeoDataFrame
    venues: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    indicators: dict[str, str] = field(default_factory=dict)  # config key -> Dutch label
    summary: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)  # manifest sources: url, retrieved date
