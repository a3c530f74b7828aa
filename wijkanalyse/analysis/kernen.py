"""Figures per kern (village or town): residents, reach and signal.

The kern of each buurt comes from :func:`wijkanalyse.model.assign_kernen` (default: its CBS
wijk as a stand-in, overridable in ``[kernen]``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from wijkanalyse.model import require_columns
from wijkanalyse.result import Hotspot

__all__ = ["KERN_COLUMNS", "kern_table"]

#: Columns of :func:`kern_table` (plus geometry).
KERN_COLUMNS = [
    "kern",
    "buurtcodes",
    "n_buurten",
    "inwoners",
    "inwoners_binnen_drempel",
    "aandeel_binnen_drempel",
    "signaal",
    "hotspot_buurten",
    "inwoners_in_hotspot",
]


def kern_table(buurten: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Sum the buurten of each kern.

    Parameters
    ----------
    buurten
        Canonical buurt frame with a ``kern`` column (see ``model.assign_kernen``),
        buurtcode, inwoners, inwoners_binnen_drempel, signaal, hotspot and geometry.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per kern, sorted by name: kern, buurtcodes (comma-separated), n_buurten,
        inwoners, inwoners_binnen_drempel, aandeel_binnen_drempel (0..1, NaN without
        residents), signaal (mean of the buurt signals weighted by residents; buurten
        without a signal or without residents left out; NaN when none is left),
        hotspot_buurten (number of hot-spot buurten), inwoners_in_hotspot, geometry (the
        buurten dissolved), indexed by kern.
    """
    require_columns(
        buurten, ["kern", "buurtcode", "inwoners", "inwoners_binnen_drempel", "signaal", "hotspot"], "de buurttabel"
    )
    frame = pd.DataFrame({
        "kern": buurten["kern"].astype(str).to_numpy(),
        "buurtcode": buurten["buurtcode"].astype(str).to_numpy(),
        "inwoners": pd.to_numeric(buurten["inwoners"], errors="coerce").astype(float).fillna(0.0).to_numpy(),
        "binnen": pd.to_numeric(buurten["inwoners_binnen_drempel"], errors="coerce").astype(float).fillna(0.0)
        .to_numpy(),
        "signaal": pd.to_numeric(buurten["signaal"], errors="coerce").astype(float).to_numpy(),
        "hot": (buurten["hotspot"] == Hotspot.HOT).to_numpy(),
    })
    known = frame["signaal"].notna() & (frame["inwoners"] > 0)
    frame["sw"] = np.where(known, frame["signaal"].fillna(0.0) * frame["inwoners"], 0.0)
    frame["w"] = np.where(known, frame["inwoners"], 0.0)
    frame["hot_inw"] = np.where(frame["hot"], frame["inwoners"], 0.0)
    grouped = frame.sort_values("buurtcode").groupby("kern", sort=True)
    table = pd.DataFrame({
        "kern": grouped.size().index,
        "buurtcodes": grouped["buurtcode"].agg(",".join).to_numpy(),
        "n_buurten": grouped.size().to_numpy(),
        "inwoners": grouped["inwoners"].sum().to_numpy(),
        "inwoners_binnen_drempel": grouped["binnen"].sum().to_numpy(),
    })
    w = grouped["w"].sum().to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        table["aandeel_binnen_drempel"] = np.where(
            table["inwoners"] > 0, table["inwoners_binnen_drempel"] / table["inwoners"], np.nan
        )
        table["signaal"] = np.where(w > 0, grouped["sw"].sum().to_numpy() / np.where(w > 0, w, 1.0), np.nan)
    table["hotspot_buurten"] = grouped["hot"].sum().astype(int).to_numpy()
    table["inwoners_in_hotspot"] = grouped["hot_inw"].sum().to_numpy()
    shapes = gpd.GeoDataFrame({"kern": frame["kern"]}, geometry=buurten.geometry.to_numpy(), crs=buurten.crs)
    shapes = shapes.dissolve(by="kern").geometry
    table.index = pd.Index(table["kern"].to_numpy(), name=None)
    return gpd.GeoDataFrame(table[KERN_COLUMNS], geometry=shapes.reindex(table.index).to_numpy(), crs=buurten.crs)
