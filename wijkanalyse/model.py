"""Raw source data -> the canonical frames every analysis works on.

Everything is projected to EPSG:28992 (RD New, metres) here, once, so every distance
downstream is in metres. CBS and PDOK markers (any value <= -99990, such as -99997,
-99995 and -99999999, and '.') become missing values here, once. CBS column names carry a
per-year suffix (``AantalInwoners_5``, ``Koopwoningen_47``); they are resolved by their
stem, or by their title in the table's DataProperties, here, once.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wijkanalyse._format import format_int, format_percent, format_plain
from wijkanalyse.config import Indicator, Kernen, VenueClass
from wijkanalyse.errors import DataError

__all__ = [
    "CRS",
    "GRID_AGE_COLUMNS",
    "MARKER_MAX",
    "OSM_SOURCE",
    "PRIVACY_MARKERS",
    "VENUE_COLUMNS",
    "assign_kernen",
    "buurten_frame",
    "cbs_frame",
    "cbs_titles",
    "clean_markers",
    "indicator_missing_shares",
    "merge_venues",
    "normalise_name",
    "privacy_mask",
    "reference_values",
    "require_columns",
    "require_metric_crs",
    "residents_frame",
    "resolve_column",
    "similar_names",
    "venues_frame",
]

CRS = "EPSG:28992"
_log = logging.getLogger("wijkanalyse")
_AGAIN = "Maak de snapshot opnieuw ('wijkanalyse fetch')."
#: Values CBS and PDOK use for "secret" or "unknown" (examples; every value <= MARKER_MAX is one).
PRIVACY_MARKERS = (-99995, -99997, -99998, -99999999, -99999998)
#: Any number at or below this is a marker, not a figure (PDOK 2024 uses -99995 too).
MARKER_MAX = -99990
#: Column names of the PDOK grid service (camelCase) -> the CBS download names used here.
_GRID_ALIASES = {"aantalInwoners": "aantal_inwoners", "crs28992res100m": "c28992r100"}
#: The age band columns of the CBS grid, in both name forms (2019-2021 download / WFS, and the
#: camelCase of the 2023-2024 PDOK service) -> the canonical column of the residents frame
#: (see :data:`wijkanalyse.analysis.groups.BANDS`).
GRID_AGE_COLUMNS = {
    "inwoners_0_14": ("aantal_inwoners_0_tot_15_jaar", "aantalInwoners0Tot15Jaar"),
    "inwoners_15_24": ("aantal_inwoners_15_tot_25_jaar", "aantalInwoners15Tot25Jaar"),
    "inwoners_25_44": ("aantal_inwoners_25_tot_45_jaar", "aantalInwoners25Tot45Jaar"),
    "inwoners_45_64": ("aantal_inwoners_45_tot_65_jaar", "aantalInwoners45Tot65Jaar"),
    "inwoners_65plus": ("aantal_inwoners_65_jaar_en_ouder", "aantalInwoners65JaarEnOuder"),
}
_SUFFIX_RE = re.compile(r"^(?P<stem>.+)_(?P<n>\d+)$")

def require_metric_crs(gdf: gpd.GeoDataFrame, what: str = "tabel") -> None:
    """Raise DataError unless ``gdf`` is in a projected (metric) CRS."""
    if gdf.crs is None or not gdf.crs.is_projected:
        msg = f"Verwacht: {what} in een metrisch CRS (EPSG:28992), maar het CRS is {gdf.crs!r}. Projecteer eerst met model.to_rd."
        raise DataError(msg)


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str, advice: str = "") -> None:
    """Raise DataError naming every column of ``columns`` missing from ``df`` (then ``advice``, if given)."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = f"{what[:1].upper()}{what[1:]} heeft geen kolom {', '.join(repr(c) for c in missing)} (wel: {', '.join(map(str, df.columns[:20]))})."
        raise DataError(f"{msg} {advice}".strip())


def _as_numbers(values: pd.Series) -> pd.Series:
    """``values`` as floats; '.' and blank strings (CBS "not available") become NaN."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        values = values.map(lambda v: v.strip() if isinstance(v, str) else v).replace({".": np.nan, "": np.nan})
    return pd.to_numeric(values, errors="coerce").astype(float)


def privacy_mask(values: pd.Series) -> pd.Series:
    """True where ``values`` holds a CBS/PDOK marker: '.' or any number <= -99990 (-99997, -99999999, ...)."""
    dot = values.map(lambda v: isinstance(v, str) and v.strip() == ".")
    return dot | (_as_numbers(values) <= MARKER_MAX)


def clean_markers(values: pd.Series) -> pd.Series:
    """Return ``values`` as floats with CBS/PDOK markers ('.', any value <= -99990) as NaN."""
    return _as_numbers(values).mask(privacy_mask(values))


def cbs_titles(properties: pd.DataFrame | None) -> dict[str, str]:
    """Column key -> title of the measures in a CBS ``DataProperties`` table (empty without one)."""
    if properties is None or not {"Key", "Title"} <= set(properties.columns):
        return {}
    rows = properties
    if "Type" in rows.columns:
        rows = rows[rows["Type"].astype(str).isin(["Topic", "Dimension", "GeoDimension"])]
    return {
        str(k): str(t).strip() for k, t in zip(rows["Key"], rows["Title"], strict=True)
        if isinstance(k, str) and k.strip() and isinstance(t, str)
    }


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def resolve_column(
    columns: Iterable[str], name: str, table: str = "CBS-tabel", titles: dict[str, str] | None = None,
) -> str:
    """Find the column of ``columns`` for ``name``: the full key, its stem without the per-year
    ``_NN`` suffix, or its title in the table's DataProperties (``titles``, see :func:`cbs_titles`).

    Raises
    ------
    DataError
        When no column or more than one column matches; the message suggests names.
    """
    columns = list(columns)
    if name in columns:
        return name
    hits = [c for c in columns if (m := _SUFFIX_RE.match(c)) and m["stem"] == name]
    if not hits and titles:
        wanted = _fold(name)
        hits = [c for c in columns if c in titles and _fold(titles[c]) == wanted]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        msg = f"Kolom {name!r} is dubbelzinnig in {table}: {', '.join(hits)}. Schrijf de volledige naam in de config."
        raise DataError(msg)
    stems = sorted({(m["stem"] if (m := _SUFFIX_RE.match(c)) else c) for c in columns})
    close = difflib.get_close_matches(name, stems, n=3, cutoff=0.6)
    hint = f" Bedoelt u {', '.join(close)}?" if close else " Controleer de sleutel `cbs`/`per` van de indicator."
    msg = f"Kolom {name!r} staat niet in {table}.{hint}"
    raise DataError(msg)


def cbs_frame(rows: pd.DataFrame, table: str = "CBS-tabel") -> pd.DataFrame:
    """Clean the CBS kerncijfers rows: one row per region, indexed by its trimmed code.

    Accepts both the raw OData TypedDataSet (``WijkenEnBuurten`` holds the code) and the
    output of ``cbsodata.get_data`` (``WijkenEnBuurten`` holds the name, ``Codering_3`` the
    code). Adds ``code``, ``soort`` ('gemeente', 'wijk', 'buurt') and ``naam``.
    """
    codering = resolve_column(rows.columns, "Codering", table) if any(
        c.startswith("Codering") for c in rows.columns
    ) else None
    soort_col = _kerncijfers_column(rows.columns, "SoortRegio", table)
    key_col = "WijkenEnBuurten"
    if key_col not in rows.columns:
        _kerncijfers_column([], key_col, table)
    codes = rows[codering] if codering else rows[key_col]
    out = rows.copy()
    out["code"] = codes.astype(str).str.strip().str.upper()  # codes are upper case; a lower-case copy still joins
    out["soort"] = rows[soort_col].astype(str).str.strip().str.lower()
    keys = rows[key_col].astype(str).str.strip()
    # cbsodata puts the title in the key column; numpy's stubs reject None as a value, np.where takes it (object array)
    out["naam"] = np.where(keys.str.upper() == out["code"], None, keys)  # type: ignore[call-overload]
    if "Gemeentenaam_1" in rows.columns:
        gm_name = rows["Gemeentenaam_1"].astype(str).str.strip()
        out["naam"] = np.where((out["soort"] == "gemeente") & out["naam"].isna(), gm_name, out["naam"])
    return _unique_regions(out, table).set_index("code", drop=False)


def _kerncijfers_column(columns: Iterable[str], name: str, table: str) -> str:
    """A column every Kerncijfers table has; its absence means the file is no such table."""
    try:
        return resolve_column(columns, name, table)
    except DataError as e:
        msg = (
            f"{table} heeft geen kolom {name!r}: het is geen CBS-tabel Kerncijfers wijken en buurten, of hij is "
            f"beschadigd. {_AGAIN}"
        )
        raise DataError(msg) from e


def _unique_regions(cbs: pd.DataFrame, table: str) -> pd.DataFrame:
    """One row per region code: exact copies are dropped with a warning, conflicting rows refused."""
    dup = cbs["code"].duplicated(keep=False)
    if not dup.any():
        return cbs
    same = cbs.drop(columns=[c for c in ("ID",) if c in cbs.columns]).astype(str)
    copies = same.duplicated(keep="first")
    conflicting = sorted(set(cbs.loc[dup & ~same.duplicated(keep=False), "code"]))
    if conflicting:
        msg = (
            f"{table} heeft verschillende rijen voor dezelfde regio ({', '.join(conflicting[:5])}"
            f"{', ...' if len(conflicting) > 5 else ''}): het bestand mengt downloads. "
            f"{_AGAIN}"
        )
        raise DataError(msg)
    twice = sorted(set(cbs.loc[copies, "code"]))
    _log.warning("Let op: %s heeft %d regio('s) dubbel (%s); de kopie is weggelaten.", table, len(twice),
                 ", ".join(twice[:5]))
    return cbs[~copies.to_numpy()]


#: The plausible range of a CBS figure as read (a count, an average, a percentage): beyond it
#: (and for Infinity/NaN) the value is treated as missing with a warning. No kerncijfer of a
#: region, the Netherlands included (17.9 million residents), comes near 1e9.
CBS_VALUE_RANGE = (-1e9, 1e9)
#: The plausible range of an indicator with ``per`` (a percentage of another column): CBS
#: rounds small counts (to 5), so a small buurt can pass 100 a little; far beyond is an error.
PERCENT_RANGE = (0.0, 200.0)


def cbs_values(
    cbs: pd.DataFrame, column: str, table: str = "CBS-tabel", titles: dict[str, str] | None = None,
) -> pd.Series:
    """Return the numeric values of a CBS column (by stem, full name or title) with markers as NaN.

    Non-finite values (``Infinity``) and values beyond :data:`CBS_VALUE_RANGE` are missing
    too, with a warning naming the regions.
    """
    values = clean_markers(cbs[resolve_column(cbs.columns, column, table, titles)])
    return _implausible_as_missing(values, CBS_VALUE_RANGE, f"{table} geeft bij {column}")


def _implausible_as_missing(values: pd.Series, bounds: tuple[float, float], what: str) -> pd.Series:
    """``values`` with non-finite ones and those outside ``bounds`` as NaN; a warning names the regions."""
    with np.errstate(invalid="ignore"):
        bad = values.notna() & ~(np.isfinite(values) & (values >= bounds[0]) & (values <= bounds[1]))
    if not bad.any():
        return values
    codes = [str(c).strip() for c in values.index[bad.to_numpy()]]
    shown = ", ".join(f"{c}: {format_plain(v)}" for c, v in zip(codes[:5], values[bad].to_numpy()[:5], strict=False))
    _log.warning("Let op: %s waarden die niet kunnen (%s%s; verwacht %s tot %s); ze tellen als ontbrekend. "
                 "Haal de snapshot opnieuw op.", what, shown, ", ..." if len(codes) > 5 else "",
                 *(format_plain(b) for b in bounds))
    return values.mask(bad)


def indicator_values(
    cbs: pd.DataFrame, indicator: Indicator, table: str = "CBS-tabel", titles: dict[str, str] | None = None,
) -> pd.Series:
    """Return one indicator per CBS row: the column, divided by ``per`` (x100) if set."""
    values = cbs_values(cbs, indicator.cbs, table, titles)
    if indicator.per:
        denominator = cbs_values(cbs, indicator.per, table, titles)
        values = 100.0 * values / denominator.where(denominator > 0)
        values = _implausible_as_missing(values, PERCENT_RANGE, f"indicator {indicator.key} ({indicator.cbs} per "
                                         f"{indicator.per}) geeft")
    return values.rename(indicator.key)


def buurten_frame(
    polygons: gpd.GeoDataFrame,
    cbs: pd.DataFrame,
    gemeente: str,
    indicators: dict[str, Indicator],
    *,
    table: str = "CBS-tabel",
    wijk_names: dict[str, str] | None = None,
    titles: dict[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Join buurt polygons of ``gemeente`` to the CBS figures; one row per buurt.

    Columns: buurtcode, buurtnaam, wijkcode, wijknaam, inwoners_cbs, one column per
    indicator, geometry (EPSG:28992). Indexed by buurtcode.
    """
    require_columns(polygons, ["buurtcode", "geometry"], "de buurtlaag", _AGAIN)
    gdf = to_rd(polygons, "De buurtlaag")
    gdf["buurtcode"] = gdf["buurtcode"].astype(str).str.strip().str.upper()
    if "gemeentecode" in gdf.columns:
        gdf = gdf[gdf["gemeentecode"].astype(str).str.strip().str.upper() == gemeente]
    else:
        gdf = gdf[gdf["buurtcode"].str[2:6] == gemeente[2:]]
    n_own = len(gdf)
    if "water" in gdf.columns:  # PDOK keeps pure-water buurten; nobody lives there
        gdf = gdf[gdf["water"].astype(str).str.upper() != "JA"]
    if gdf.empty and n_own:
        msg = (f"De buurtlaag heeft geen buurt op land: alle {n_own} buurten van {gemeente} in de buurtlaag zijn water "
               f"(kolom water = 'JA'). {_AGAIN}")
        raise DataError(msg)
    if gdf.empty:
        held = sorted(set(to_rd(polygons)["gemeentecode"].astype(str).str.strip().str.upper())) if (
            "gemeentecode" in polygons.columns) else []
        found = f" (wel van {', '.join(held[:3])})" if held else ""
        msg = f"De buurtlaag heeft geen buurt van {gemeente}{found}. {_AGAIN}"
        raise DataError(msg)
    gdf = _valid_polygons(gdf)
    gdf = _one_row_per_buurt(gdf)
    if "buurtnaam" not in gdf.columns:
        gdf["buurtnaam"] = gdf["buurtcode"]
    if "wijkcode" not in gdf.columns:
        gdf["wijkcode"] = "WK" + gdf["buurtcode"].str[2:8]
    gdf["wijkcode"] = gdf["wijkcode"].astype(str).str.strip().str.upper()

    buurt_rows = cbs[cbs["soort"] == "buurt"]
    wijk_rows = cbs[cbs["soort"] == "wijk"]
    names = dict(wijk_names or {})
    for code, naam in wijk_rows["naam"].items():  # the index: the codes, str (set_index("code"))
        if naam and str(code) not in names:
            names[str(code)] = naam
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
    inwoners = clean_markers(buurt_rows[_kerncijfers_column(buurt_rows.columns, "AantalInwoners", table)])
    out["inwoners_cbs"] = out["buurtcode"].map(inwoners)
    for key, indicator in indicators.items():
        out[key] = out["buurtcode"].map(indicator_values(buurt_rows, indicator, table, titles))
    _check_join(out, buurt_rows, gemeente, table)
    if indicators and out[list(indicators)].isna().all().all():
        msg = (
            f"{table} geeft voor geen enkele indicator een cijfer in een buurt van {gemeente} (CBS liet ze allemaal leeg of "
            "'.'), dus er is geen signaal. Maak de snapshot opnieuw, of kies indicatoren die de tabel vult ([indicators])."
        )
        raise DataError(msg)
    out = out.set_index("buurtcode", drop=False)
    out.index.name = None
    return out.sort_values("buurtcode")


def _valid_polygons(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Refuse buurten without a polygon; repair invalid ones (``make_valid``) with a warning naming them.

    A self-intersecting ("bow-tie") or otherwise invalid polygon breaks the overlay and
    contiguity steps (GEOS TopologyException). ``make_valid`` keeps the same area as far as
    it is defined; of what it returns only the polygonal part is kept. A buurt whose
    geometry is null or empty, or whose repair leaves no area, cannot be analysed.
    """
    geoms = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        codes = sorted(gdf.loc[missing, "buurtcode"])
        msg = (f"Buurt {', '.join(codes[:5])}{', ...' if len(codes) > 5 else ''} heeft geen vlak (leeg of ontbrekend) "
               f"in de buurtlaag. {_AGAIN}")
        raise DataError(msg)
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return gdf
    reasons = shapely.is_valid_reason(geoms[invalid])
    fixed = shapely.make_valid(geoms[invalid])
    polygonal = [_polygonal_part(g) for g in fixed]
    codes = list(gdf.loc[invalid, "buurtcode"])
    lost = [c for c, g in zip(codes, polygonal, strict=True) if g is None]
    if lost:
        msg = f"Buurt {', '.join(lost[:5])} heeft een ongeldig vlak dat niet te herstellen is. {_AGAIN}"
        raise DataError(msg)
    for code, reason in zip(codes, reasons, strict=True):
        _log.warning("Let op: Buurt %s heeft een ongeldig vlak (%s); het is hersteld (make_valid). Controleer de "
                     "buurtgrens, of haal de snapshot opnieuw op.", code, reason)
    gdf = gdf.copy()
    geoms = geoms.copy()
    geoms[invalid] = polygonal
    gdf[gdf.geometry.name] = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)
    return gdf


def _polygonal_part(geom: Any) -> Any:
    """The polygons of ``geom`` (a make_valid result) as one (Multi)Polygon; None when it has no area."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon") and p.area > 0]
    if not parts:
        return None
    return shapely.union_all(parts)


def _one_row_per_buurt(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Merge rows of one buurt (parts of its area, the same name); refuse one code for different buurten."""
    dup = gdf["buurtcode"].duplicated(keep=False)
    if not dup.any():
        return gdf
    names = gdf.loc[dup, "buurtnaam"].astype(str).str.strip() if "buurtnaam" in gdf.columns else None
    if names is not None:
        per_code = names.groupby(gdf.loc[dup, "buurtcode"]).agg(lambda n: sorted(set(n)))
        mixed = per_code[per_code.map(len) > 1]
        if len(mixed):
            code = mixed.index[0]
            msg = (f"De buurtlaag heeft buurtcode {code} voor verschillende buurten ({', '.join(mixed.iloc[0][:3])})"
                   f"{f' (en {len(mixed) - 1} codes meer: ' + ', '.join(mixed.index[1:4]) + ')' if len(mixed) > 1 else ''}"
                   f": een buurt zou wegvallen. {_AGAIN}")
            raise DataError(msg)
    codes = sorted(set(gdf.loc[dup, "buurtcode"]))
    _log.info("De buurtlaag heeft %s buurt(en) in meer delen (%s); die zijn samengevoegd.", format_int(len(codes)),
              ", ".join(codes[:5]))
    return gdf.dissolve(by="buurtcode", as_index=False, aggfunc="first")


def _check_join(out: pd.DataFrame, buurt_rows: pd.DataFrame, gemeente: str, table: str) -> None:
    """Refuse polygons none of which are in the CBS table (saying why); warn when some are not."""
    unknown = sorted(set(out["buurtcode"]) - set(buurt_rows.index))
    if not unknown:
        return
    if len(unknown) < len(out):
        _log.warning(
            "Let op: %s van de %s buurten staan niet in %s (%s%s); hun cijfers ontbreken.",
            format_int(len(unknown)), format_int(len(out)), table, ", ".join(unknown[:10]), ", ..." if len(unknown) > 10 else "",
        )
        return
    ours = [c for c in buurt_rows.index if str(c).startswith("BU" + gemeente[2:])]
    if buurt_rows.empty:
        why = "de tabel heeft helemaal geen buurtrijen (SoortRegio 'Buurt')"
    elif not ours:
        others = sorted({"GM" + str(c)[2:6] for c in buurt_rows.index})
        why = f"de tabel bevat de buurten van {', '.join(others[:3])}, niet van {gemeente}: de snapshot mengt gemeenten"
    else:
        why = (f"de tabel heeft andere buurtcodes van {gemeente} (bijv. {ours[0]}): de buurtgrenzen en de CBS-tabel "
               "zijn van verschillende jaren")
    msg = f"Geen van de {len(out)} buurtcodes van de buurtgrenzen (bijv. {unknown[0]}) staat in {table}: {why}. " \
          "Maak de snapshot opnieuw met beide van hetzelfde jaar ('wijkanalyse fetch')."
    raise DataError(msg)


def indicator_missing_shares(buurten: pd.DataFrame, indicators: Iterable[str]) -> dict[str, float]:
    """Share (0-1) of the buurten that lack each indicator (CBS left it empty or secret)."""
    n = len(buurten)
    return {key: float(buurten[key].isna().sum()) / n if n else 1.0 for key in indicators}


def reference_values(
    cbs: pd.DataFrame, gemeente: str, indicators: dict[str, Indicator], table: str = "CBS-tabel",
    titles: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Each indicator for the whole gemeente and for the Netherlands, from the CBS table's own rows.

    Returns a frame indexed by indicator key with columns ``label``, ``gemeente`` and
    ``nederland`` (NaN when the table has no such row, e.g. a snapshot without NL00, or CBS
    left the figure empty). The values are computed the same way as the buurt values.
    """
    rows = cbs[cbs.index.isin([gemeente, "NL00"])]
    records = []
    for key, indicator in indicators.items():
        values = indicator_values(rows, indicator, table, titles) if len(rows) else pd.Series(dtype=float)
        records.append({
            "indicator": key,
            "label": indicator.label,
            "gemeente": float(values.get(gemeente, np.nan)),
            "nederland": float(values.get("NL00", np.nan)),
        })
    frame = pd.DataFrame.from_records(records, columns=["indicator", "label", "gemeente", "nederland"])
    return frame.set_index("indicator")


def to_rd(gdf: gpd.GeoDataFrame, what: str = "Een laag", advice: str = _AGAIN) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in EPSG:28992 (a frame without CRS, or whose CRS contradicts its coordinates, is an error)."""
    if gdf.crs is None:
        msg = "Een laag heeft geen coördinatenstelsel. Sla haar op met haar CRS (verwacht: EPSG:28992)."
        raise DataError(msg)
    check_crs(gdf, what, advice)
    return gdf.to_crs(CRS) if gdf.crs != CRS else gdf.copy()


#: Where RD coordinates (EPSG:28992, metres) of the Netherlands lie, with a margin: x, y ranges.
RD_EXTENT = ((-50_000.0, 350_000.0), (250_000.0, 700_000.0))
#: Where the Netherlands lie in degrees (longitude, latitude), with a margin.
NL_DEGREES = ((2.0, 8.5), (50.0, 54.5))


def check_crs(gdf: gpd.GeoDataFrame, what: str = "Een laag", advice: str = _AGAIN) -> None:
    """Raise DataError when the CRS label of ``gdf`` contradicts its coordinates.

    A layer labelled geographic (EPSG:4326, degrees) whose coordinates are beyond +-180/+-90
    holds metres (RD, if they lie where RD puts the Netherlands); a layer labelled projected
    whose coordinates all lie within a few degrees holds degrees. Either way every distance
    would be wrong ("the nearest is nan km away").
    """
    if gdf.crs is None or gdf.empty:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-empty geometries: NaN bounds
        x0, y0, x1, y1 = (float(v) for v in gdf.total_bounds)
    if not all(np.isfinite([x0, y0, x1, y1])):
        return
    label = gdf.crs.to_string()
    if gdf.crs.is_geographic and (min(x0, y0) < -180 or max(x1, y1) > 180 or min(y0, -y1) < -90):
        (rx0, rx1), (ry0, ry1) = RD_EXTENT
        holds = "RD-coördinaten (meters)" if rx0 <= x0 and x1 <= rx1 and ry0 <= y0 and y1 <= ry1 else (
            f"coördinaten in meters ({x0:.0f}..{x1:.0f}, {y0:.0f}..{y1:.0f})")
        msg = f"{what} zegt {label} maar bevat {holds}: het CRS-label is fout. {advice}"
        raise DataError(msg)
    (lon0, lon1), (lat0, lat1) = NL_DEGREES
    if gdf.crs == CRS and lon0 <= x0 and x1 <= lon1 and lat0 <= y0 and y1 <= lat1:
        msg = f"{what} zegt {label} maar bevat lengte- en breedtegraden (EPSG:4326): het CRS-label is fout. {advice}"
        raise DataError(msg)


def residents_frame(grid: gpd.GeoDataFrame, buurten: gpd.GeoDataFrame, max_outside_m: float = 100.0) -> gpd.GeoDataFrame:
    """Turn the CBS 100 m grid into resident points: one per inhabited cell, at its centre.

    Columns: cel, inwoners (NaN when CBS suppressed it), buurtcode, geometry, and each age
    band the grid has (:data:`GRID_AGE_COLUMNS`, in either name form) as ``inwoners_0_14`` ...
    ``inwoners_65plus`` (NaN when secret; a grid without the band has no such column). Cells whose
    centre lies in no buurt are given the nearest buurt within ``max_outside_m``; farther
    cells belong to another gemeente and are dropped.
    """
    grid = grid.rename(columns={k: v for k, v in _GRID_ALIASES.items() if k in grid.columns and v not in grid.columns})
    require_columns(grid, ["aantal_inwoners", "geometry"], "het bevolkingsraster (100 m-vierkanten)", _AGAIN)
    cells = to_rd(grid, "Het 100 m-raster")
    inwoners = clean_markers(cells["aantal_inwoners"])
    secret = privacy_mask(cells["aantal_inwoners"])
    negative = inwoners < 0  # no count can be; not a marker either: treated as secret
    if negative.any():
        _log.warning(
            "Let op: het 100 m-raster heeft %s cellen met een negatief aantal inwoners (samen %s); ze tellen als "
            "geheim (onbekend). Haal de snapshot opnieuw op.", format_int(negative.sum()),
            format_int(inwoners[negative].sum()),
        )
        inwoners = inwoners.mask(negative)
        secret = secret | negative
    keep = (inwoners > 0) | secret
    cells = cells[keep.to_numpy()]
    code = cells["c28992r100"].astype(str) if "c28992r100" in cells.columns else pd.Series(
        [f"cel{i}" for i in range(len(cells))], index=cells.index
    )
    data = {"cel": code.to_numpy(), "inwoners": inwoners[keep.to_numpy()].to_numpy()}
    for canonical, names in GRID_AGE_COLUMNS.items():
        found = next((n for n in names if n in cells.columns), None)
        if found is not None:
            data[canonical] = clean_markers(cells[found]).to_numpy(dtype=float)
    points = gpd.GeoDataFrame(data, geometry=shapely.centroid(cells.geometry.to_numpy()), crs=CRS)
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
    _check_residents(points, cells, len(grid), buurten)
    return points


#: The grid and the CBS buurt counts may differ (secret cells, another year); beyond these ratios it is named.
GRID_CBS_RATIO = (0.75, 1.33)


def _check_residents(points: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, n_grid: int, buurten: gpd.GeoDataFrame) -> None:
    """Refuse a grid that gives no resident in the gemeente (saying why); warn when it disagrees with CBS."""
    again = _AGAIN
    total = float(points["inwoners"].fillna(0).sum())
    if total <= 0:
        if n_grid == 0:
            why = "het bevolkingsraster heeft geen vierkanten"
        elif cells.empty:
            why = f"geen van de {n_grid} vierkanten van het bevolkingsraster heeft inwoners"
        elif points.empty:
            gap = shapely.distance(shapely.union_all(buurten.geometry.to_numpy()), shapely.union_all(cells.geometry.to_numpy()))
            why = (f"geen van de {len(cells)} bewoonde vierkanten van het bevolkingsraster ligt in de buurten van de gemeente; "
                   f"het dichtstbijzijnde ligt {gap / 1000:.1f} km verderop (een raster van een ander gebied)")
        else:
            why = f"alle {len(points)} bewoonde vierkanten in de gemeente zijn geheim (-99997)"
        msg = f"Geen inwoners om te tellen: {why}. {again}"
        raise DataError(msg)
    if "inwoners_cbs" not in buurten.columns:
        return
    known = buurten.loc[buurten["inwoners_cbs"].notna(), "buurtcode"]  # buurten CBS counted
    cbs_total = float(buurten["inwoners_cbs"].sum())
    grid_total = float(points.loc[points["buurtcode"].isin(known), "inwoners"].fillna(0).sum())
    if cbs_total > 0 and not GRID_CBS_RATIO[0] <= grid_total / cbs_total <= GRID_CBS_RATIO[1]:
        _log.warning(
            "Let op: het 100 m-raster telt %s inwoners in de buurten, CBS telt er %s (%s); het raster dekt "
            "de gemeente niet goed of is van een ander gebied. Haal de snapshot opnieuw op.",
            format_int(grid_total), format_int(cbs_total), format_percent(grid_total / cbs_total, 0),
        )


def venues_frame(features: gpd.GeoDataFrame, classes: dict[str, VenueClass]) -> gpd.GeoDataFrame:
    """Classify OSM venues (:mod:`wijkanalyse.sources.osm`) into the configured venue classes.

    ``features`` has osm_id, naam, tags (a JSON object or a dict) and point geometry. Each
    venue belongs to the first class (in config order) whose tags it matches; venues matching
    no class are dropped. Columns: osm_id, naam, categorie, categorie_label, ontmoetingspunt,
    openingstijden (the OSM ``opening_hours`` value as written, None when absent), geometry
    (EPSG:28992).
    """
    columns = ["osm_id", "naam", "categorie", "categorie_label", "ontmoetingspunt", "openingstijden"]
    if features is None or features.empty:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=CRS)
    feats = to_rd(features, "De laag met OSM-voorzieningen")
    keep, records = [], []
    for i, (osm_id, raw_tags) in enumerate(zip(feats["osm_id"], feats["tags"], strict=True)):
        tags = _venue_tags(osm_id, raw_tags)
        venue = next((v for v in classes.values() if v.matches(tags)), None)
        if venue is None:
            continue
        keep.append(i)
        name = tags.get("name")
        records.append({
            "osm_id": str(osm_id),
            "naam": name if isinstance(name, str) else None,
            "categorie": venue.key,
            "categorie_label": venue.label,
            "ontmoetingspunt": venue.meeting_point,
            "openingstijden": hours if isinstance(hours := tags.get("opening_hours"), str) and hours.strip() else None,
        })
    if not records:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=CRS)
    return gpd.GeoDataFrame(records, geometry=feats.geometry.to_numpy()[keep], crs=CRS)


def _venue_tags(osm_id: Any, raw: Any) -> dict[str, Any]:
    """The tags of one venue: a JSON object (text) or a mapping; anything else is refused, naming the venue."""
    try:
        tags = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
    except (ValueError, TypeError, RecursionError):
        tags = None
    if not isinstance(tags, dict):
        msg = (f"De laag van de OSM-voorzieningen heeft bij {osm_id} tags die geen JSON-object zijn "
               f"({str(raw)[:60]!r}). {_AGAIN}")
        raise DataError(msg)
    return tags


#: The columns of a venues frame (plus geometry), in order; see :mod:`wijkanalyse.result`.
VENUE_COLUMNS = (
    "osm_id", "naam", "categorie", "categorie_label", "ontmoetingspunt", "bron", "adres", "kosten_per_jaar",
    "openingstijden",
)
#: ``bron`` of a venue from OpenStreetMap.
OSM_SOURCE = "OpenStreetMap"
#: Words that say nothing about which place a name means.
_NAME_STOPWORDS = frozenset({"de", "het", "t", "een", "van", "der", "den", "en", "in", "op", "aan", "the", "of"})
_NAME_RATIO = 0.8


def normalise_name(name: Any) -> str:
    """A name for comparison: accents, case, punctuation and articles removed ("'t Hôeskämer!" -> "hoeskamer")."""
    if not isinstance(name, str):
        return ""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    words = re.sub(r"[^a-z0-9]+", " ", ascii_name).split()
    return " ".join(w for w in words if w not in _NAME_STOPWORDS)


def similar_names(a: Any, b: Any, min_ratio: float = _NAME_RATIO) -> bool:
    """True when two names likely mean the same place.

    After :func:`normalise_name`, the names are similar when their whole-string
    ``difflib`` ratio is at least ``min_ratio`` (spelling variants and typos: "Buurthuis De
    Brink" / "buurthuis de brinck"), or when every word of the shorter name is (nearly, ratio
    >= ``min_ratio``) a word of the longer one (a short and a full name: "De Brink" /
    "Buurthuis De Brink"). Neither test alone does both. A missing name is similar to nothing.
    """
    x, y = normalise_name(a), normalise_name(b)
    if not x or not y:
        return False
    if difflib.SequenceMatcher(None, x, y).ratio() >= min_ratio:
        return True
    short, long = sorted((x.split(), y.split()), key=len)
    return all(
        any(difflib.SequenceMatcher(None, word, other).ratio() >= min_ratio for other in long) for word in short
    )


def _venue_columns(frame: gpd.GeoDataFrame | None, source: str) -> gpd.GeoDataFrame:
    """``frame`` with every column of :data:`VENUE_COLUMNS` first (``bron`` = ``source`` where missing)."""
    if frame is None or len(frame) == 0:
        empty = {c: pd.Series([], dtype=object) for c in VENUE_COLUMNS}
        empty["ontmoetingspunt"] = pd.Series([], dtype=bool)
        empty["kosten_per_jaar"] = pd.Series([], dtype=float)
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    require_metric_crs(frame, "voorzieningen")
    out = frame.copy()
    defaults: dict[str, Any] = {"bron": source, "adres": None, "kosten_per_jaar": np.nan, "openingstijden": None}
    for column, default in defaults.items():
        if column not in out.columns:
            out[column] = default
    out["bron"] = out["bron"].fillna(source)
    out["ontmoetingspunt"] = out["ontmoetingspunt"].astype(bool)
    out["kosten_per_jaar"] = out["kosten_per_jaar"].astype(float)
    others = [c for c in out.columns if c not in VENUE_COLUMNS and c != out.geometry.name]
    return gpd.GeoDataFrame(out[[*VENUE_COLUMNS, *others, out.geometry.name]].reset_index(drop=True), crs=out.crs)


def merge_venues(
    osm: gpd.GeoDataFrame | None, own: gpd.GeoDataFrame | None, within_m: float = 50.0
) -> gpd.GeoDataFrame:
    """Merge the OSM venues with the gemeente's own points, counting the same place once.

    An own point is the same place as an OSM venue when it lies within ``within_m`` metres
    of it and their names are similar (:func:`similar_names`); each venue pairs with at
    most one own point, the closest pairs first. A pair becomes one row: the own point's
    attributes and location win (the gemeente vouches for its name, class and address; its
    ``openingstijden`` when it has them, else OpenStreetMap's ``opening_hours``), it
    keeps the OSM ``osm_id`` (so the map links to OpenStreetMap) and its ``bron`` names both,
    e.g. "OpenStreetMap + gemeente (ontmoetingspunten.csv)". A venue without a name never
    pairs. OSM rows without ``bron`` get "OpenStreetMap".

    Parameters
    ----------
    osm
        Venues from :func:`venues_frame` (None or empty: none).
    own
        Own points from :func:`wijkanalyse.sources.own_points.read_own_points` (None: none).
    within_m
        The largest distance (metres) at which two rows can be the same place.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`VENUE_COLUMNS` plus geometry (EPSG:28992): the OSM rows in their order (paired
        ones replaced by the merged row), then the unpaired own points.
    """
    base = _venue_columns(osm, OSM_SOURCE)
    extra = _venue_columns(own, "gemeente")
    if extra.empty:
        return base
    if base.empty:
        return extra
    others = [c for c in extra.columns if c not in VENUE_COLUMNS and c != extra.geometry.name]
    for column in others:  # e.g. the own points' capaciteit: a merged row keeps it
        if column not in base.columns:
            base[column] = pd.Series(np.nan, index=base.index, dtype=extra[column].dtype)
    tree = shapely.STRtree(base.geometry.to_numpy())
    own_idx, osm_idx = tree.query(extra.geometry.to_numpy(), predicate="dwithin", distance=within_m)
    distance = shapely.distance(extra.geometry.to_numpy()[own_idx], base.geometry.to_numpy()[osm_idx])
    taken_own: set[int] = set()
    taken_osm: set[int] = set()
    for k in np.argsort(distance, kind="stable"):
        i, j = int(own_idx[k]), int(osm_idx[k])
        if i in taken_own or j in taken_osm or not similar_names(extra.at[i, "naam"], base.at[j, "naam"]):
            continue
        taken_own.add(i)
        taken_osm.add(j)
        osm_id, osm_source, osm_hours = base.at[j, "osm_id"], base.at[j, "bron"], base.at[j, "openingstijden"]
        for column in (*VENUE_COLUMNS, *others, base.geometry.name):
            base.at[j, column] = extra.at[i, column]
        base.at[j, "osm_id"] = osm_id
        if not isinstance(extra.at[i, "openingstijden"], str):  # the own file's hours win when it has them
            base.at[j, "openingstijden"] = osm_hours
        base.at[j, "bron"] = f"{osm_source} + {extra.at[i, 'bron']}"
    rest = extra.drop(index=sorted(taken_own))
    merged = pd.concat([base, rest], ignore_index=True)
    merged["ontmoetingspunt"] = merged["ontmoetingspunt"].astype(bool)
    return gpd.GeoDataFrame(merged, geometry=base.geometry.name, crs=CRS)


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
    require_columns(buurten, ["buurtcode", "wijkcode"], "de buurttabel")
    wijkcode = buurten["wijkcode"].astype(str)
    if "wijknaam" in buurten.columns:
        raw = buurten["wijknaam"].astype(object)  # all-missing names arrive as float NaN
        names = raw.where(raw.notna() & (raw.astype(str).str.strip() != ""))
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
