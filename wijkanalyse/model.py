"""Raw source data -> the canonical frames every analysis works on.

Everything is projected to EPSG:28992 (RD New, metres) here, once, so every distance
downstream is in metres. CBS privacy markers (-99997, -99999999 and '.') become missing
values here, once. CBS column names carry a per-year suffix (``AantalInwoners_5``); they are
resolved by their stem here, once.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from wijkanalyse.config import Indicator, Kernen, VenueClass
from wijkanalyse.errors import DataError

__all__ = [
    "CRS",
    "PRIVACY_MARKERS",
    "assign_kernen",
    "buurten_frame",
    "cbs_frame",
    "clean_markers",
    "privacy_mask",
    "require_columns",
    "require_metric_crs",
    "residents_frame",
    "resolve_column",
    "venues_frame",
    "walk_edges",
]

CRS = "EPSG:28992"
#: Values CBS and PDOK use for "secret" or "unknown"; they become missing.
PRIVACY_MARKERS = (-99997, -99998, -99999999, -99999998)
#: Column names of the PDOK grid service (camelCase) -> the CBS download names used here.
_GRID_ALIASES = {"aantalInwoners": "aantal_inwoners", "crs28992res100m": "c28992r100"}
_SUFFIX_RE = re.compile(r"^(?P<stem>.+)_(?P<n>\d+)$")

#: osmnx's "walk" network filter (plus trunk roads), as a predicate over a way's tags.
_NOT_WALKABLE_HIGHWAY = {
    "abandoned", "bus_guideway", "construction", "cycleway", "motor", "motorway", "motorway_link",
    "no", "planned", "platform", "proposed", "raceway", "razed", "busway", "trunk", "trunk_link",
}


def require_metric_crs(gdf: gpd.GeoDataFrame, what: str = "frame") -> None:
    """Raise DataError unless ``gdf`` is in a projected (metric) CRS."""
    if gdf.crs is None or not gdf.crs.is_projected:
        msg = f"Expected the {what} in a metric CRS (EPSG:28992), got {gdf.crs!r}. Project it with model.to_rd first."
        raise DataError(msg)


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise DataError naming every column of ``columns`` missing from ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = f"The {what} has no column {', '.join(repr(c) for c in missing)} (it has: {', '.join(map(str, df.columns[:20]))})."
        raise DataError(msg)


def _as_numbers(values: pd.Series) -> pd.Series:
    """``values`` as floats; '.' and blank strings (CBS "not available") become NaN."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        values = values.map(lambda v: v.strip() if isinstance(v, str) else v).replace({".": np.nan, "": np.nan})
    return pd.to_numeric(values, errors="coerce").astype(float)


def privacy_mask(values: pd.Series) -> pd.Series:
    """True where ``values`` holds a CBS privacy marker ('.', -99997, -99999999, ...)."""
    dot = values.map(lambda v: isinstance(v, str) and v.strip() == ".")
    return dot | _as_numbers(values).isin(PRIVACY_MARKERS)


def clean_markers(values: pd.Series) -> pd.Series:
    """Return ``values`` as floats with CBS privacy markers ('.', -99997, -99999999) as NaN."""
    return _as_numbers(values).mask(privacy_mask(values))


def resolve_column(columns: Iterable[str], name: str, table: str = "CBS table") -> str:
    """Find the column of ``columns`` for ``name``, with or without its per-year ``_NN`` suffix.

    Raises
    ------
    DataError
        When no column or more than one column matches; the message suggests names.
    """
    columns = list(columns)
    if name in columns:
        return name
    hits = [c for c in columns if (m := _SUFFIX_RE.match(c)) and m["stem"] == name]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        msg = f"Column {name!r} is ambiguous in {table}: {', '.join(hits)}. Write the full name in the config."
        raise DataError(msg)
    stems = sorted({(m["stem"] if (m := _SUFFIX_RE.match(c)) else c) for c in columns})
    close = difflib.get_close_matches(name, stems, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(close)}?" if close else " Check the indicator's `cbs`/`per` key."
    msg = f"Column {name!r} is not in {table}.{hint}"
    raise DataError(msg)


def cbs_frame(rows: pd.DataFrame, table: str = "CBS table") -> pd.DataFrame:
    """Clean the CBS kerncijfers rows: one row per region, indexed by its trimmed code.

    Accepts both the raw OData TypedDataSet (``WijkenEnBuurten`` holds the code) and the
    output of ``cbsodata.get_data`` (``WijkenEnBuurten`` holds the name, ``Codering_3`` the
    code). Adds ``code``, ``soort`` ('gemeente', 'wijk', 'buurt') and ``naam``.
    """
    codering = resolve_column(rows.columns, "Codering", table) if any(
        c.startswith("Codering") for c in rows.columns
    ) else None
    soort_col = resolve_column(rows.columns, "SoortRegio", table)
    key_col = "WijkenEnBuurten"
    require_columns(rows, [key_col], table)
    codes = rows[codering] if codering else rows[key_col]
    out = rows.copy()
    out["code"] = codes.astype(str).str.strip()
    out["soort"] = rows[soort_col].astype(str).str.strip().str.lower()
    keys = rows[key_col].astype(str).str.strip()
    out["naam"] = np.where(keys == out["code"], None, keys)  # cbsodata puts the title in the key column
    if "Gemeentenaam_1" in rows.columns:
        gm_name = rows["Gemeentenaam_1"].astype(str).str.strip()
        out["naam"] = np.where((out["soort"] == "gemeente") & out["naam"].isna(), gm_name, out["naam"])
    return out.set_index("code", drop=False)


def cbs_values(cbs: pd.DataFrame, column: str, table: str = "CBS table") -> pd.Series:
    """Return the numeric values of a CBS column (by stem or full name) with markers as NaN."""
    return clean_markers(cbs[resolve_column(cbs.columns, column, table)])


def indicator_values(cbs: pd.DataFrame, indicator: Indicator, table: str = "CBS table") -> pd.Series:
    """Return one indicator per CBS row: the column, divided by ``per`` (x100) if set."""
    values = cbs_values(cbs, indicator.cbs, table)
    if indicator.per:
        denominator = cbs_values(cbs, indicator.per, table)
        values = 100.0 * values / denominator.where(denominator > 0)
    return values.rename(indicator.key)


def buurten_frame(
    polygons: gpd.GeoDataFrame,
    cbs: pd.DataFrame,
    gemeente: str,
    indicators: dict[str, Indicator],
    *,
    table: str = "CBS table",
    wijk_names: dict[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Join buurt polygons of ``gemeente`` to the CBS figures; one row per buurt.

    Columns: buurtcode, buurtnaam, wijkcode, wijknaam, inwoners_cbs, one column per
    indicator, geometry (EPSG:28992). Indexed by buurtcode.
    """
    require_columns(polygons, ["buurtcode", "geometry"], "buurt polygon layer")
    gdf = to_rd(polygons)
    gdf["buurtcode"] = gdf["buurtcode"].astype(str).str.strip()
    if "gemeentecode" in gdf.columns:
        gdf = gdf[gdf["gemeentecode"].astype(str).str.strip() == gemeente]
    else:
        gdf = gdf[gdf["buurtcode"].str[2:6] == gemeente[2:]]
    if "water" in gdf.columns:  # PDOK keeps pure-water buurten; nobody lives there
        gdf = gdf[gdf["water"].astype(str).str.upper() != "JA"]
    if gdf.empty:
        msg = f"The buurt polygon layer has no buurt of {gemeente}. Check the gemeente code and the snapshot."
        raise DataError(msg)
    gdf = gdf.dissolve(by="buurtcode", as_index=False, aggfunc="first") if gdf["buurtcode"].duplicated().any() else gdf
    if "buurtnaam" not in gdf.columns:
        gdf["buurtnaam"] = gdf["buurtcode"]
    if "wijkcode" not in gdf.columns:
        gdf["wijkcode"] = "WK" + gdf["buurtcode"].str[2:8]
    gdf["wijkcode"] = gdf["wijkcode"].astype(str).str.strip()

    buurt_rows = cbs[cbs["soort"] == "buurt"]
    wijk_rows = cbs[cbs["soort"] == "wijk"]
    names = dict(wijk_names or {})
    for code, naam in wijk_rows["naam"].items():
        if naam and code not in names:
            names[code] = naam
    out = gpd.GeoDataFrame(
        {
            "buurtcode": gdf["buurtcode"].to_numpy(),
            "buurtnaam": gdf["buurtnaam"].fillna(gdf["buurtcode"]).astype(str).str.strip().to_numpy(),
            "wijkcode": gdf["wijkcode"].to_numpy(),
        },
        geometry=gdf.geometry.to_numpy(),
        crs=CRS,
    )
    out["wijknaam"] = [names.get(code, code) for code in out["wijkcode"]]
    inwoners = cbs_values(buurt_rows, "AantalInwoners", table)
    out["inwoners_cbs"] = out["buurtcode"].map(inwoners)
    for key, indicator in indicators.items():
        out[key] = out["buurtcode"].map(indicator_values(buurt_rows, indicator, table))
    unknown = sorted(set(out["buurtcode"]) - set(buurt_rows.index))
    if len(unknown) == len(out):
        msg = (
            f"None of the {len(out)} buurt codes of the polygons is in {table} (e.g. {unknown[0]}). "
            "The polygons and the CBS table are of different years; use both of the same year."
        )
        raise DataError(msg)
    out = out.set_index("buurtcode", drop=False)
    out.index.name = None
    return out.sort_values("buurtcode")


def to_rd(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in EPSG:28992 (a frame without CRS is an error)."""
    if gdf.crs is None:
        msg = "A layer has no coordinate reference system. Save it with its CRS (EPSG:28992 expected)."
        raise DataError(msg)
    return gdf.to_crs(CRS) if gdf.crs != CRS else gdf.copy()


def residents_frame(grid: gpd.GeoDataFrame, buurten: gpd.GeoDataFrame, max_outside_m: float = 100.0) -> gpd.GeoDataFrame:
    """Turn the CBS 100 m grid into resident points: one per inhabited cell, at its centre.

    Columns: cel, inwoners (NaN when CBS suppressed it), buurtcode, geometry. Cells whose
    centre lies in no buurt are given the nearest buurt within ``max_outside_m``; farther
    cells belong to another gemeente and are dropped.
    """
    grid = grid.rename(columns={k: v for k, v in _GRID_ALIASES.items() if k in grid.columns and v not in grid.columns})
    require_columns(grid, ["aantal_inwoners", "geometry"], "population grid")
    cells = to_rd(grid)
    inwoners = clean_markers(cells["aantal_inwoners"])
    keep = (inwoners > 0) | privacy_mask(cells["aantal_inwoners"])
    cells = cells[keep.to_numpy()]
    code = cells["c28992r100"].astype(str) if "c28992r100" in cells.columns else pd.Series(
        [f"cel{i}" for i in range(len(cells))], index=cells.index
    )
    points = gpd.GeoDataFrame(
        {"cel": code.to_numpy(), "inwoners": inwoners[keep.to_numpy()].to_numpy()},
        geometry=shapely.centroid(cells.geometry.to_numpy()),
        crs=CRS,
    )
    areas = buurten[["buurtcode", "geometry"]].reset_index(drop=True)
    joined = gpd.sjoin(points, areas, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    points["buurtcode"] = joined["buurtcode"].to_numpy()
    outside = points["buurtcode"].isna()
    if outside.any():
        near = gpd.sjoin_nearest(points[outside].drop(columns="buurtcode"), areas, how="left", max_distance=max_outside_m)
        near = near[~near.index.duplicated(keep="first")]
        points.loc[outside, "buurtcode"] = near["buurtcode"].reindex(points[outside].index).to_numpy()
    points = points[points["buurtcode"].notna()].reset_index(drop=True)
    return points


def venues_frame(features: gpd.GeoDataFrame, classes: dict[str, VenueClass]) -> gpd.GeoDataFrame:
    """Classify OSM features into the configured venue classes; one point per venue.

    Columns: osm_id, naam, categorie, categorie_label, ontmoetingspunt, geometry (a point on
    or in the feature, EPSG:28992). Features matching no class are dropped.
    """
    columns = ["osm_id", "naam", "categorie", "categorie_label", "ontmoetingspunt"]
    if features is None or features.empty:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=CRS)
    feats = to_rd(features)
    records: list[dict[str, Any]] = []
    geoms = []
    tag_columns = [c for c in feats.columns if c != "geometry"]
    for idx, row in zip(feats.index, feats[tag_columns].itertuples(index=False, name=None), strict=True):
        tags = {k: v for k, v in zip(tag_columns, row, strict=True) if isinstance(v, str)}
        for venue in classes.values():
            if venue.matches(tags):
                element, osmid = idx if isinstance(idx, tuple) else ("node", idx)
                records.append({
                    "osm_id": f"{element}/{osmid}",
                    "naam": tags.get("name"),
                    "categorie": venue.key,
                    "categorie_label": venue.label,
                    "ontmoetingspunt": venue.meeting_point,
                })
                geoms.append(feats.geometry.loc[idx])
                break
    if not records:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=CRS)
    geometry = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    return gpd.GeoDataFrame(records, geometry=geometry, crs=CRS)


def is_walkable(tags: dict[str, Any]) -> bool:
    """Return True when a way with these OSM tags may be walked (osmnx's 'walk' filter)."""
    return bool(walkable_mask(pd.DataFrame([tags])).iloc[0])


def walkable_mask(ways: pd.DataFrame) -> pd.Series:
    """Vectorised :func:`is_walkable` over a frame with OSM tag columns (missing columns = no tag)."""

    def tag(key: str) -> pd.Series:
        if key not in ways.columns:
            return pd.Series("", index=ways.index)
        return ways[key].map(lambda v: v if isinstance(v, str) else "")

    highway, foot = tag("highway"), tag("foot")
    ok = (highway != "") & ~highway.isin(_NOT_WALKABLE_HIGHWAY)
    ok &= (tag("area") != "yes") & (foot != "no") & (tag("service") != "private")
    ok &= (tag("access") != "private") | foot.isin(["yes", "designated", "permissive"])
    return ok


def walk_edges(graph: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """Return the walkable edges of an osmnx graph as undirected lines in EPSG:28992.

    Columns: u, v, length (metres, measured in RD), highway, geometry. Each street appears
    once, whatever its direction in the graph.
    """
    import osmnx as ox  # noqa: PLC0415 (heavy import kept local)

    if graph.number_of_edges() == 0:
        msg = "The OpenStreetMap data hold no streets or paths. Use distance_method = \"straight_line\" or a snapshot with a network."
        raise DataError(msg)
    edges = ox.graph_to_gdfs(graph, nodes=False, fill_edge_geometry=True).reset_index()
    edges = edges[walkable_mask(edges).to_numpy()]
    if edges.empty:
        msg = "The OpenStreetMap data hold no walkable ways. Use distance_method = \"straight_line\" or check the snapshot's osm.xml."
        raise DataError(msg)
    edges = edges.to_crs(CRS)
    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    swap = u > v  # store each street as (low id, high id), its line running from u to v
    geometry = edges.geometry.to_numpy().copy()
    geometry[swap] = shapely.reverse(geometry[swap])
    edges = edges.assign(u=np.where(swap, v, u), v=np.where(swap, u, v))
    edges = edges.set_geometry(gpd.GeoSeries(geometry, index=edges.index, crs=CRS))
    edges["length"] = edges.geometry.length
    # keep one copy of each street: the shortest between a pair of nodes
    edges = edges.sort_values("length").drop_duplicates(["u", "v"], keep="first")
    edges = edges[edges["u"] != edges["v"]]
    return gpd.GeoDataFrame(edges[["u", "v", "length", "highway", "geometry"]].reset_index(drop=True), crs=CRS)


def assign_kernen(buurten: pd.DataFrame, kernen: Kernen | None = None) -> pd.Series:
    """The kern (village or town) of each buurt.

    CBS publishes no kern boundaries, so the default is the buurt's wijk (its ``wijknaam``,
    or the wijkcode when the name is unknown) as a stand-in: in most rural gemeenten a wijk
    is a village, in a town a wijk is a quarter. The config overrides this per wijk
    (``[kernen] wijken``: wijkcode -> kern name) and per buurt (``[kernen] buurten``:
    buurtcode -> kern name); a buurt entry wins over its wijk's entry. Codes in the config
    that are not in ``buurten`` are logged as a warning (a config may serve several years).

    Parameters
    ----------
    buurten
        Canonical buurt frame with buurtcode, wijkcode and wijknaam.
    kernen
        ``config.kernen`` (None: no overrides).

    Returns
    -------
    pandas.Series
        Named ``kern``, indexed like ``buurten``.
    """
    require_columns(buurten, ["buurtcode", "wijkcode"], "buurt table")
    wijkcode = buurten["wijkcode"].astype(str)
    if "wijknaam" in buurten.columns:
        names = buurten["wijknaam"].where(buurten["wijknaam"].notna() & (buurten["wijknaam"].astype(str).str.strip() != ""))
        kern = names.fillna(wijkcode).astype(str).str.strip()
    else:
        kern = wijkcode.copy()
    if kernen is not None:
        codes = buurten["buurtcode"].astype(str)
        kern = pd.Series(
            [kernen.buurten.get(b) or kernen.wijken.get(w) or k for b, w, k in zip(codes, wijkcode, kern, strict=True)],
            index=buurten.index,
        )
        unknown = sorted((set(kernen.wijken) - set(wijkcode)) | (set(kernen.buurten) - set(buurten["buurtcode"].astype(str))))
        if unknown:
            logging.getLogger("wijkanalyse").warning(
                "[kernen] noemt %d code(s) die niet in deze gemeente voorkomen: %s", len(unknown), ", ".join(unknown[:10])
            )
    return kern.astype(str).rename("kern")
