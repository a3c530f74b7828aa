"""Year over year: the buurten of two runs side by side, also when CBS redrew them.

CBS renumbers, splits and merges buurten between years (Ermelo: only 5 of the 20 buurt codes
of 2024 exist in 2021, and those 5 are other areas than in 2021). So a comparison cannot
join on the buurtcode alone. It works in two steps, both pure functions on the canonical
buurt frames (:mod:`wijkanalyse.result`):

:func:`match_buurten` (geometry only)
    Intersects every old buurt with every new buurt. An overlap *counts* when it covers at
    least ``min_share`` (default 10 %) of the old or of the new buurt; smaller overlaps are
    slivers from redrawn or generalised boundaries. From the overlaps that count, each new
    buurt gets a kind (``match``):

    ``code``     one old buurt, only here, with the same code: nothing changed;
    ``overlap``  one old buurt, only here, with another code: the code changed;
    ``split``    part of one old buurt that now lies in several new buurten;
    ``merged``   several old buurten, each wholly (as far as it counts) in this one;
    ``redrawn``  parts of several old buurten that also lie in other new buurten;
    ``new``      no old buurt: the area did not belong to the gemeente (or had no buurt).

    An old buurt without any overlap that counts is ``gone``. A new code that existed in the
    old year for another area (CBS reuses codes) is flagged ``code_hergebruikt``.

:func:`compare_buurten` (figures)
    Puts the old figures on the new division and subtracts. The old figures of a new buurt
    are re-weighted **by residents**, not by area, when the old run's resident cells (the
    100 m grid points with their walking result) are given: every old cell is placed in the
    new buurt that holds its centre (or the nearest one within ``max_outside_m``), so the
    old number of residents and of residents within the threshold of each new buurt are
    exact sums of old cells, not estimates. Why residents: people live in the villages, not
    spread over the land; when a village is cut out of a large rural buurt it takes nearly
    all residents and little area, and area weighting would leave most of them behind.
    Without cells the old counts are shared out by area (``inwoners_i x area(i ∩ j) /
    area(i)``), which is only right when residents are spread evenly; ``weging`` in the
    summary says which was used.

    The old *signal* of a new buurt is the mean of the old buurt signals weighted by the old
    residents each contributed (by area when none). The signal is a z-score within the
    gemeente of its own year, so its change is a change of relative position, not of
    absolute level. The old *hot-spot status* of a new buurt is that of the old buurt where
    most of its old residents lived (most of its area when none).

Both are deterministic and sorted by buurtcode.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from wijkanalyse._format import format_int
from wijkanalyse.model import require_columns
from wijkanalyse.result import Hotspot

__all__ = [
    "BUURT_COLUMNS",
    "HOTSPOT_CHANGE",
    "KERN_COLUMNS",
    "LINK_COLUMNS",
    "MATCH_KINDS",
    "MEETING_POINT_COLUMNS",
    "MIN_SHARE",
    "CodeCheck",
    "Comparison",
    "Matching",
    "check_codes",
    "compare_buurten",
    "compare_meeting_points",
    "match_buurten",
]

log = logging.getLogger("wijkanalyse")

#: An overlap counts for the match kind when it covers at least this share of the old or the new buurt.
MIN_SHARE = 0.10

#: The match kinds, in the order they are reported.
MATCH_KINDS = ("code", "overlap", "split", "merged", "redrawn", "new", "gone")

#: Hot-spot change of a buurt (was hot, is hot) -> code; the Dutch words live in ``outputs.texts``.
HOTSPOT_CHANGE = {
    (False, True): "new",
    (True, False): "gone",
    (True, True): "kept",
    (False, False): "none",
}

_HOT = Hotspot.HOT.value
_FIGURES = ("inwoners", "inwoners_binnen_drempel", "aandeel_binnen_drempel", "signaal")

#: Columns of :attr:`Comparison.buurten` (plus geometry), in order.
BUURT_COLUMNS = [
    "buurtcode",
    "buurtnaam",
    "kern",
    "match",
    "oude_buurtcodes",
    "herkomst",
    "code_hergebruikt",
    "inwoners_oud",
    "inwoners_nieuw",
    "inwoners_verschil",
    "inwoners_binnen_drempel_oud",
    "inwoners_binnen_drempel_nieuw",
    "inwoners_binnen_drempel_verschil",
    "aandeel_binnen_drempel_oud",
    "aandeel_binnen_drempel_nieuw",
    "aandeel_binnen_drempel_verschil_pp",
    "signaal_oud",
    "signaal_nieuw",
    "signaal_verschil",
    "hotspot_oud",
    "hotspot_nieuw",
    "hotspot_wijziging",
]

#: Columns of :attr:`Comparison.kernen` (plus geometry), in order.
KERN_COLUMNS = [
    "kern",
    "buurtcodes",
    "n_buurten",
    "inwoners_oud",
    "inwoners_nieuw",
    "inwoners_verschil",
    "inwoners_binnen_drempel_oud",
    "inwoners_binnen_drempel_nieuw",
    "inwoners_binnen_drempel_verschil",
    "aandeel_binnen_drempel_oud",
    "aandeel_binnen_drempel_nieuw",
    "aandeel_binnen_drempel_verschil_pp",
    "signaal_oud",
    "signaal_nieuw",
    "signaal_verschil",
    "hotspot_buurten_oud",
    "hotspot_buurten_nieuw",
]

#: Columns of :attr:`Matching.links` (plus geometry: the overlap), in order.
LINK_COLUMNS = [
    "buurtcode_oud",
    "buurtcode_nieuw",
    "oppervlakte_m2",
    "aandeel_van_oud",
    "aandeel_van_nieuw",
    "telt_mee",
]


# --------------------------------------------------------------------------------------
# Matching by geometry
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matching:
    """How the buurten of two years correspond, from their polygons alone.

    Attributes
    ----------
    links
        One row per (old, new) pair whose polygons overlap with a positive area:
        buurtcode_oud, buurtcode_nieuw, oppervlakte_m2 (the overlap), aandeel_van_oud and
        aandeel_van_nieuw (the overlap as a share 0..1 of the old and of the new buurt),
        telt_mee (the overlap counts for the kind, see :data:`MIN_SHARE`), geometry (the
        overlap). Sorted by new code, then old code.
    kinds
        The match kind (:data:`MATCH_KINDS` but ``gone``) per new buurtcode, in the new
        frame's order.
    sources
        Per new buurtcode, the old buurtcodes whose overlap counts, largest overlap first.
    gone
        The old buurtcodes without any overlap that counts, sorted.
    reused_codes
        New buurtcodes that existed in the old year for another area, sorted.
    """

    links: gpd.GeoDataFrame
    kinds: pd.Series
    sources: dict[str, list[str]]
    gone: list[str]
    reused_codes: list[str]

    def counts(self) -> dict[str, int]:
        """Number of new buurten per kind (``gone``: old buurten), every kind present."""
        counts = {kind: int((self.kinds == kind).sum()) for kind in MATCH_KINDS}
        counts["gone"] = len(self.gone)
        return counts


def _codes(frame: pd.DataFrame) -> np.ndarray:
    """The buurtcodes of a buurt frame: its ``buurtcode`` column, else its index."""
    values = frame["buurtcode"] if "buurtcode" in frame.columns else frame.index.to_series()
    codes = values.astype(str).str.strip().to_numpy()
    if len(set(codes)) != len(codes):
        dupes = sorted({c for c in codes if (codes == c).sum() > 1})
        msg = f"The buurt table has buurtcodes more than once ({', '.join(dupes[:5])}); one row per buurt is needed."
        raise ValueError(msg)
    return codes


def _polygons(frame: gpd.GeoDataFrame, what: str) -> np.ndarray:
    if frame.crs is None or not frame.crs.is_projected:
        msg = f"The {what} buurt polygons need a metric CRS (EPSG:28992), got {frame.crs!r}."
        raise ValueError(msg)
    geoms = np.asarray(frame.geometry.to_numpy(), dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    fixed = shapely.make_valid(np.where(missing, shapely.Polygon(), geoms))
    return np.asarray(fixed, dtype=object)


def match_buurten(
    old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, *, min_share: float = MIN_SHARE
) -> Matching:
    """Match the buurten of two years by polygon overlap.

    Parameters
    ----------
    old, new
        Buurt frames (buurtcode column or index, polygons) in the same metric CRS.
    min_share
        An overlap counts for the kind when it covers at least this share (0..1) of the old
        or of the new buurt; smaller ones are slivers of redrawn boundaries.

    Returns
    -------
    Matching
        The overlaps, the kind of every new buurt, the gone old buurten and reused codes.
    """
    _check_match_input(old, new, min_share)
    old_codes, new_codes = _codes(old), _codes(new)
    links = _overlap_links(old, new, old_codes, new_codes, min_share)
    sources, targets = _sources_and_targets(links, new_codes)
    kinds = _match_kinds(new_codes, sources, targets)
    old_set = set(old_codes)
    return Matching(
        links=links,
        kinds=pd.Series(kinds, name="match").reindex(new_codes),
        sources=sources,
        gone=sorted(old_set - set(targets)),
        reused_codes=sorted(c for c in new_codes if c in old_set and c not in sources[c]),
    )


def _check_match_input(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, min_share: float) -> None:
    """Refuse a ``min_share`` outside 0..1 and two frames in different CRS."""
    if not 0.0 < min_share < 1.0:
        msg = f"min_share must lie between 0 and 1, got {min_share}"
        raise ValueError(msg)
    if old.crs is not None and new.crs is not None and old.crs != new.crs:
        msg = f"The two buurt frames have different CRS ({old.crs} and {new.crs}); project both to EPSG:28992."
        raise ValueError(msg)


def _overlap_links(
    old: gpd.GeoDataFrame,
    new: gpd.GeoDataFrame,
    old_codes: np.ndarray,
    new_codes: np.ndarray,
    min_share: float,
) -> gpd.GeoDataFrame:
    """Every (old, new) overlap with a positive area: the rows of :attr:`Matching.links`.

    Sorted by new code, then old code; ``telt_mee`` says whether the overlap covers at least
    ``min_share`` of the old or of the new buurt.
    """
    old_geoms, new_geoms = _polygons(old, "old"), _polygons(new, "new")
    old_area, new_area = shapely.area(old_geoms), shapely.area(new_geoms)
    tree = STRtree(new_geoms)
    i_idx, j_idx = tree.query(old_geoms, predicate="intersects")
    overlap = shapely.intersection(old_geoms[i_idx], new_geoms[j_idx])
    area = shapely.area(overlap)
    keep = area > 0
    i_idx, j_idx, overlap, area = i_idx[keep], j_idx[keep], overlap[keep], area[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        of_old = np.where(old_area[i_idx] > 0, area / old_area[i_idx], 0.0)
        of_new = np.where(new_area[j_idx] > 0, area / new_area[j_idx], 0.0)
    counts = (of_old >= min_share) | (of_new >= min_share)
    links = gpd.GeoDataFrame(
        {
            "buurtcode_oud": old_codes[i_idx],
            "buurtcode_nieuw": new_codes[j_idx],
            "oppervlakte_m2": area,
            "aandeel_van_oud": of_old,
            "aandeel_van_nieuw": of_new,
            "telt_mee": counts,
        },
        geometry=list(overlap),
        crs=new.crs if new.crs is not None else old.crs,
    )
    return links.sort_values(["buurtcode_nieuw", "buurtcode_oud"], kind="stable").reset_index(drop=True)


def _sources_and_targets(
    links: gpd.GeoDataFrame, new_codes: np.ndarray
) -> tuple[dict[str, list[str]], dict[str, int]]:
    """From the overlaps that count: the old codes of every new buurt and the number of new buurten of every old one.

    The sources of a new buurt come largest overlap first (ties by old code); an old buurt
    without any overlap that counts is not among the targets.
    """
    real = links[links["telt_mee"]]
    by_area = real.sort_values(["buurtcode_nieuw", "oppervlakte_m2", "buurtcode_oud"], ascending=[True, False, True])
    sources: dict[str, list[str]] = {code: [] for code in new_codes}
    for code_new, code_old in zip(by_area["buurtcode_nieuw"], by_area["buurtcode_oud"], strict=True):
        sources[code_new].append(code_old)
    targets: dict[str, int] = real.groupby("buurtcode_oud").size().to_dict()
    return sources, targets


def _match_kinds(new_codes: np.ndarray, sources: dict[str, list[str]], targets: dict[str, int]) -> dict[str, str]:
    """The match kind of every new buurt (see the module docstring), from its sources and their targets."""
    kinds = {}
    for code in new_codes:
        src = sources[code]
        if not src:
            kinds[code] = "new"
        elif len(src) == 1:
            if targets[src[0]] > 1:
                kinds[code] = "split"
            else:
                kinds[code] = "code" if src[0] == code else "overlap"
        else:
            kinds[code] = "merged" if all(targets[s] == 1 for s in src) else "redrawn"
    return kinds


@dataclass(frozen=True)
class CodeCheck:
    """What a join on the buurtcode alone would give (see :func:`check_codes`)."""

    same: list[str]  # codes in both years
    renamed: dict[str, tuple[str, str]]  # code in both years -> (old name, new name) where the name differs
    only_old: list[str]
    only_new: list[str]


def _name_key(name: Any) -> str:
    text = "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
    return " ".join(text.replace("-", " ").replace("'", " ").lower().split())


def check_codes(old: pd.DataFrame, new: pd.DataFrame) -> CodeCheck:
    """Join two years' buurten on the code alone, and say where that goes wrong.

    Parameters
    ----------
    old, new
        Frames with buurtcode (column or index) and optionally buurtnaam; no geometry needed.

    Returns
    -------
    CodeCheck
        The codes in both years, those of them whose name differs (ignoring case, hyphens
        and spacing: a strong hint that CBS reused the code for another area), and the
        codes of one year only (they need matching by polygon overlap).
    """
    old_codes, new_codes = _codes(old), _codes(new)
    old_names = dict(zip(old_codes, old["buurtnaam"] if "buurtnaam" in old.columns else old_codes, strict=True))
    new_names = dict(zip(new_codes, new["buurtnaam"] if "buurtnaam" in new.columns else new_codes, strict=True))
    same = sorted(set(old_codes) & set(new_codes))
    renamed = {
        c: (str(old_names[c]), str(new_names[c])) for c in same if _name_key(old_names[c]) != _name_key(new_names[c])
    }
    return CodeCheck(
        same=same,
        renamed=renamed,
        only_old=sorted(set(old_codes) - set(new_codes)),
        only_new=sorted(set(new_codes) - set(old_codes)),
    )


# --------------------------------------------------------------------------------------
# Figures on the new division
# --------------------------------------------------------------------------------------


@dataclass
class Comparison:
    """Two runs side by side on the new buurt division.

    Attributes
    ----------
    buurten
        One row per new buurt, then one per gone old buurt (its old polygon), columns
        :data:`BUURT_COLUMNS` + geometry, indexed by buurtcode. ``*_oud`` are the old
        year's figures for the area of the new buurt, ``*_nieuw`` the new year's,
        ``*_verschil`` new minus old; ``aandeel_binnen_drempel_verschil_pp`` is in
        percentage points. A new area (``new``) has 0 old residents, a gone buurt 0 new ones.
    kernen
        One row per kern (:data:`KERN_COLUMNS` + geometry), the sums of its rows in
        ``buurten`` (a gone buurt counts in its old kern); empty without a ``kern`` column.
    links
        :attr:`Matching.links` plus buurtnaam_oud, buurtnaam_nieuw, inwoners_oud (old
        residents of the old buurt within the overlap) and aandeel_inwoners_van_oud (their share of the old buurt's residents).
    matching
        The :class:`Matching` the figures were put on.
    summary
        Key changes (see :func:`compare_buurten`).
    meeting_points
        Meeting points that opened or closed (:func:`compare_meeting_points`); empty
        when the venues were not given.
    """

    buurten: gpd.GeoDataFrame
    kernen: gpd.GeoDataFrame
    links: gpd.GeoDataFrame
    matching: Matching
    summary: dict[str, Any] = field(default_factory=dict)
    meeting_points: gpd.GeoDataFrame | None = None


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").astype(float).to_numpy()


def _hot(frame: pd.DataFrame) -> np.ndarray:
    if "hotspot" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return (frame["hotspot"].astype(object) == _HOT).to_numpy(dtype=bool)


def _cell_weights(
    old_residents: gpd.GeoDataFrame,
    new: gpd.GeoDataFrame,
    old_codes: np.ndarray,
    new_codes: np.ndarray,
    max_outside_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Old residents (and those within the threshold) per (old buurt, new buurt), from the old cells."""
    require_columns(old_residents, ["buurtcode", "inwoners", "geometry"], "de oude inwonervierkanten")
    cells = old_residents[old_residents.geometry.notna()]
    people = pd.to_numeric(cells["inwoners"], errors="coerce").astype(float).fillna(0.0).to_numpy()
    within = (
        cells["binnen_drempel"].fillna(False).astype(bool).to_numpy()
        if "binnen_drempel" in cells.columns
        else np.zeros(len(cells), dtype=bool)
    )
    old_pos = pd.Series(np.arange(len(old_codes)), index=old_codes)
    i = old_pos.reindex(cells["buurtcode"].astype(str).str.strip().to_numpy()).to_numpy()
    points = cells.geometry.to_numpy()
    if cells.crs is not None and new.crs is not None and cells.crs != new.crs:
        points = cells.geometry.to_crs(new.crs).to_numpy()
    polygons = _polygons(new, "new")
    tree = STRtree(polygons)
    p_idx, poly_idx = tree.query(shapely.centroid(points), predicate="within")
    j = np.full(len(cells), -1)
    first = ~pd.Series(p_idx).duplicated().to_numpy()  # a point on a shared edge: the first polygon
    j[p_idx[first]] = poly_idx[first]
    outside = np.flatnonzero(j < 0)
    if outside.size:
        near_p, near_poly = tree.query_nearest(
            shapely.centroid(points[outside]), max_distance=max_outside_m, return_distance=False, all_matches=False
        )
        j[outside[near_p]] = near_poly
    ok = ~np.isnan(i) & (j >= 0)
    weights = np.zeros((len(old_codes), len(new_codes)))
    inside = np.zeros_like(weights)
    np.add.at(weights, (i[ok].astype(int), j[ok]), people[ok])
    np.add.at(inside, (i[ok].astype(int), j[ok]), np.where(within[ok], people[ok], 0.0))
    return weights, inside


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    ok = ~np.isnan(values) & (weights > 0)
    return float(np.sum(values[ok] * weights[ok]) / np.sum(weights[ok])) if ok.any() else float("nan")


def _pct(value: float) -> str:
    return f"{round(100 * value):d} %"


#: Columns of :func:`compare_meeting_points` (plus geometry), in order.
MEETING_POINT_COLUMNS = ["wijziging", "naam", "categorie_label", "osm_id", "buurtcode", "buurtnaam"]
_OSM_IDS = ("node/", "way/", "relation/")


def compare_meeting_points(
    old_venues: gpd.GeoDataFrame,
    new_venues: gpd.GeoDataFrame,
    new_buurten: gpd.GeoDataFrame | None = None,
    *,
    within_m: float = 25.0,
) -> gpd.GeoDataFrame:
    """The meeting points that opened and closed between two runs.

    Two meeting points are the same place when they have the same OpenStreetMap id, or
    otherwise lie within ``within_m`` of each other (an own point's id is its file line,
    which changes between files; a venue moved from a node to a building keeps its place).

    Parameters
    ----------
    old_venues, new_venues
        ``RunResult.venues`` of the two runs (osm_id, naam, categorie_label,
        ontmoetingspunt, points).
    new_buurten
        The new buurt frame; gives each row the new buurt it lies in.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`MEETING_POINT_COLUMNS`: wijziging ("nieuw" or "verdwenen"), naam,
        categorie_label, osm_id, buurtcode and buurtnaam (new division; missing outside
        it), point geometry; new ones first, each part sorted by name.
    """
    frames = []
    for venues in (old_venues, new_venues):
        require_columns(venues, ["osm_id", "naam", "ontmoetingspunt", "geometry"], "de tabel met voorzieningen")
        meeting = venues[venues["ontmoetingspunt"].fillna(False).astype(bool).to_numpy()]
        meeting = meeting[meeting.geometry.notna() & ~meeting.geometry.is_empty].reset_index(drop=True)
        points = meeting.geometry.where(meeting.geom_type == "Point", meeting.geometry.representative_point())
        frames.append(meeting.set_geometry(points))
    old, new = frames
    old_ids, new_ids = old["osm_id"].astype(str), new["osm_id"].astype(str)
    is_osm_old, is_osm_new = old_ids.str.startswith(_OSM_IDS), new_ids.str.startswith(_OSM_IDS)
    matched_old = is_osm_old & old_ids.isin(set(new_ids[is_osm_new]))
    matched_new = is_osm_new & new_ids.isin(set(old_ids[is_osm_old]))
    rest_old, rest_new = np.flatnonzero(~matched_old.to_numpy()), np.flatnonzero(~matched_new.to_numpy())
    if len(rest_old) and len(rest_new):
        tree = STRtree(new.geometry.to_numpy()[rest_new])
        o_idx, n_idx = tree.query(old.geometry.to_numpy()[rest_old], predicate="dwithin", distance=within_m)
        distance = shapely.distance(old.geometry.to_numpy()[rest_old[o_idx]], new.geometry.to_numpy()[rest_new[n_idx]])
        used_old: set[int] = set()
        used_new: set[int] = set()
        for k in np.argsort(distance, kind="stable"):
            a, b = int(rest_old[o_idx[k]]), int(rest_new[n_idx[k]])
            if a not in used_old and b not in used_new:
                used_old.add(a)
                used_new.add(b)
        matched_old.iloc[sorted(used_old)] = True
        matched_new.iloc[sorted(used_new)] = True
    crs = new.crs if new.crs is not None else old.crs
    parts = []
    for frame, matched, label in ((new, matched_new, "nieuw"), (old, matched_old, "verdwenen")):
        part = frame[~matched.to_numpy()]
        parts.append(gpd.GeoDataFrame({
            "wijziging": label,
            "naam": part["naam"].astype(object).to_numpy(),
            "categorie_label": part["categorie_label"].astype(object).to_numpy() if "categorie_label" in part else None,
            "osm_id": part["osm_id"].astype(str).to_numpy(),
        }, geometry=part.geometry.to_numpy(), crs=crs).sort_values("naam", kind="stable", key=lambda c: c.astype(str)))
    out = pd.concat(parts, ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=crs)
    out["buurtcode"] = None
    out["buurtnaam"] = None
    if new_buurten is not None and len(out):
        codes, names = _codes(new_buurten), (
            new_buurten["buurtnaam"].astype(str).to_numpy() if "buurtnaam" in new_buurten.columns else _codes(new_buurten)
        )
        tree = STRtree(_polygons(new_buurten, "new"))
        p_idx, b_idx = tree.query(out.geometry.to_numpy(), predicate="within")
        first = ~pd.Series(p_idx).duplicated().to_numpy()
        out.loc[p_idx[first], "buurtcode"] = codes[b_idx[first]]
        out.loc[p_idx[first], "buurtnaam"] = names[b_idx[first]]
    return out[[*MEETING_POINT_COLUMNS, "geometry"]]


def compare_buurten(
    old: gpd.GeoDataFrame,
    new: gpd.GeoDataFrame,
    *,
    old_residents: gpd.GeoDataFrame | None = None,
    old_venues: gpd.GeoDataFrame | None = None,
    new_venues: gpd.GeoDataFrame | None = None,
    min_share: float = MIN_SHARE,
    max_outside_m: float = 100.0,
) -> Comparison:
    """Compare the buurten of an old and a new run on the new buurt division.

    Parameters
    ----------
    old, new
        ``RunResult.buurten`` of the two runs: buurtcode, buurtnaam, inwoners,
        inwoners_binnen_drempel, aandeel_binnen_drempel, signaal, hotspot, polygons in
        EPSG:28992, and ``kern`` when kernen are to be compared.
    old_residents
        ``RunResult.residents`` of the old run (cell centres with inwoners, buurtcode,
        binnen_drempel). Given: old figures are re-weighted by residents (exact sums of old
        cells); None: by area (an estimate). See the module docstring.
    old_venues, new_venues
        ``RunResult.venues`` of the two runs: given both, the meeting points that opened
        and closed (:func:`compare_meeting_points`) are in ``meeting_points`` and the summary.
    min_share
        See :func:`match_buurten`.
    max_outside_m
        An old cell outside every new buurt goes to the nearest one within this distance;
        farther cells left the gemeente (counted in ``inwoners_oud_buiten_nieuwe_indeling``).

    Returns
    -------
    Comparison
        Per buurt and kern the old and new figures and their change, the overlaps, and a
        ``summary`` with English keys (as ``vergelijking.json``): weighting ("inwoners" or
        "oppervlakte"), min_share, n_buurten_old, n_buurten_new, matching (kind -> count),
        changed_buurten (every new buurt whose kind is not ``code``, and every gone one:
        buurtcode, buurtnaam, match, old_buurtcodes), reused_codes, renamed_buurten (same code
        and area, other name: code -> [old, new]), residents_old/_new/_change,
        residents_within_threshold_old/_new/_change, share_within_threshold_old/_new (0..1),
        share_within_threshold_change_pp, residents_old_outside_new_division, hotspots_old and
        hotspots_new (buurtcodes of that year), hotspots_added and hotspots_removed (buurtcodes
        of the rows whose hotspot_wijziging is ``new`` / ``gone``), largest_share_rises and
        largest_share_falls (up to 3 buurten with residents in both years: buurtcode,
        buurtnaam, change_pp); with the venues also n_meeting_points_old and _new (counts),
        meeting_points_opened and _closed (name, category, buurtcode, buurtnaam).
    """
    matching = match_buurten(old, new, min_share=min_share)
    overlay = _overlay(old, new, matching, old_residents, max_outside_m)
    links = _link_table(old, new, matching, overlay)
    table, flags = _buurt_table(old, new, matching, overlay)
    left_out = _left_out(matching, overlay)
    kernen = _kern_table(table, flags)
    summary = _summary(table, flags, old, new, matching, overlay.weighting, min_share, left_out)
    points = _add_meeting_points(summary, old_venues, new_venues, new)
    _warn_changes(old, new, matching, overlay, left_out)
    return Comparison(
        buurten=table, kernen=kernen, links=links, matching=matching, summary=summary, meeting_points=points
    )


@dataclass(frozen=True)
class _Overlay:
    """The old run laid over the new division: its figures per old buurt and per (old i, new j) pair.

    ``people[i, j]`` and ``within[i, j]`` are the old residents (and those within the
    threshold) of old buurt i that live in new buurt j: sums of old cells when ``weighting``
    is "inwoners", shares by area when it is "oppervlakte". ``link_i`` and ``link_j`` are the
    positions of :attr:`Matching.links`' rows in the old and the new frame.
    """

    old_codes: np.ndarray
    new_codes: np.ndarray
    old_pos: dict[str, int]
    new_pos: dict[str, int]
    link_i: np.ndarray
    link_j: np.ndarray
    old_people: np.ndarray
    old_within: np.ndarray
    old_signal: np.ndarray
    old_hot: np.ndarray
    area: np.ndarray
    share_of_old: np.ndarray
    people: np.ndarray
    within: np.ndarray
    weighting: str


def _overlay(
    old: gpd.GeoDataFrame,
    new: gpd.GeoDataFrame,
    matching: Matching,
    old_residents: gpd.GeoDataFrame | None,
    max_outside_m: float,
) -> _Overlay:
    """Lay the old run over the new division, by resident cells when given, else by area."""
    old_codes, new_codes = _codes(old), _codes(new)
    n_old, n_new = len(old_codes), len(new_codes)
    old_people = np.nan_to_num(_numbers(old, "inwoners"))
    old_within = np.nan_to_num(_numbers(old, "inwoners_binnen_drempel"))
    old_pos = {c: k for k, c in enumerate(old_codes)}
    new_pos = {c: k for k, c in enumerate(new_codes)}
    links = matching.links
    li = links["buurtcode_oud"].map(old_pos).to_numpy(dtype=int)
    lj = links["buurtcode_nieuw"].map(new_pos).to_numpy(dtype=int)
    area = np.zeros((n_old, n_new))
    area[li, lj] = links["oppervlakte_m2"].to_numpy()
    share_of_old = np.zeros((n_old, n_new))
    share_of_old[li, lj] = links["aandeel_van_oud"].to_numpy()
    if old_residents is not None:
        weighting = "inwoners"
        people, within = _cell_weights(old_residents, new, old_codes, new_codes, max_outside_m)
    else:
        weighting = "oppervlakte"
        people = share_of_old * old_people[:, None]
        within = share_of_old * old_within[:, None]
    return _Overlay(
        old_codes=old_codes,
        new_codes=new_codes,
        old_pos=old_pos,
        new_pos=new_pos,
        link_i=li,
        link_j=lj,
        old_people=old_people,
        old_within=old_within,
        old_signal=_numbers(old, "signaal"),
        old_hot=_hot(old),
        area=area,
        share_of_old=share_of_old,
        people=people,
        within=within,
        weighting=weighting,
    )


def _link_table(old: pd.DataFrame, new: pd.DataFrame, matching: Matching, ov: _Overlay) -> gpd.GeoDataFrame:
    """:attr:`Matching.links` plus the buurt names and the old residents within each overlap."""
    links = matching.links.copy()
    li, lj = ov.link_i, ov.link_j
    old_names = old["buurtnaam"].astype(str).to_numpy() if "buurtnaam" in old.columns else ov.old_codes
    new_names = new["buurtnaam"].astype(str).to_numpy() if "buurtnaam" in new.columns else ov.new_codes
    links.insert(1, "buurtnaam_oud", old_names[li])
    links.insert(3, "buurtnaam_nieuw", new_names[lj])
    links["inwoners_oud"] = ov.people[li, lj]
    with np.errstate(divide="ignore", invalid="ignore"):
        links["aandeel_inwoners_van_oud"] = np.where(
            ov.old_people[li] > 0, ov.people[li, lj] / ov.old_people[li], np.nan
        )
    return links


def _buurt_table(
    old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, matching: Matching, ov: _Overlay
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The rows of :attr:`Comparison.buurten` (new buurten, then gone ones) and their hot-spot flags.

    The flags (``_was_hot``, ``_now_hot``) are kept apart for the kern table and the summary.
    """
    rows = _new_buurt_rows(old, new, matching, ov)
    geometry = list(new.geometry.to_numpy())
    gone_rows, gone_geometry = _gone_buurt_rows(old, matching, ov)
    if gone_rows:
        rows = pd.concat([rows, pd.DataFrame(gone_rows)], ignore_index=True)
    geometry += gone_geometry
    _add_changes(rows, ov.weighting)
    crs = new.crs if new.crs is not None else old.crs
    table = gpd.GeoDataFrame(rows, geometry=geometry, crs=crs)
    flags = table[["_was_hot", "_now_hot"]]
    table = table[[*BUURT_COLUMNS, "geometry"]]
    table.index = pd.Index(table["buurtcode"].to_numpy(), name=None)
    return table, flags


def _old_on_new(old: pd.DataFrame, ov: _Overlay) -> dict[str, Any]:
    """The old figures of every new buurt: residents, signal and hot-spot status (see the module docstring)."""
    people, area = ov.people, ov.area
    n_new = len(ov.new_codes)
    sig_old = np.array([
        _weighted_mean(ov.old_signal, people[:, j]) if people[:, j].sum() > 0
        else _weighted_mean(ov.old_signal, area[:, j])
        for j in range(n_new)
    ])
    main_source = [
        int(np.argmax(people[:, j])) if people[:, j].sum() > 0 else int(np.argmax(area[:, j])) if area[:, j].sum() > 0
        else -1
        for j in range(n_new)
    ]
    return {
        "inwoners_oud": people.sum(axis=0),
        "inwoners_binnen_drempel_oud": ov.within.sum(axis=0),
        "signaal_oud": sig_old,
        "hotspot_oud": [
            str(old["hotspot"].iloc[k]) if k >= 0 and "hotspot" in old.columns else None for k in main_source
        ],
        "_was_hot": np.array([ov.old_hot[k] if k >= 0 else False for k in main_source]),
    }


def _origin(old: pd.DataFrame, matching: Matching, ov: _Overlay, code: str) -> str:
    """The ``herkomst`` text of a new buurt: each old buurt and the share of it that lies here."""
    unit = "inwoners" if ov.weighting == "inwoners" else "oppervlakte"
    parts = []
    for src in matching.sources[code]:
        k = ov.old_pos[src]
        j = ov.new_pos[code]
        share = (
            ov.people[k, j] / ov.old_people[k] if ov.weighting == "inwoners" and ov.old_people[k] > 0
            else ov.share_of_old[k, j]
        )
        name = str(old["buurtnaam"].iloc[k]) if "buurtnaam" in old.columns else ""
        parts.append(f"{src} {name}: {_pct(share)} van de {unit}".replace("  ", " "))
    return "; ".join(parts)


def _new_buurt_rows(old: pd.DataFrame, new: pd.DataFrame, matching: Matching, ov: _Overlay) -> pd.DataFrame:
    """One row per new buurt: its match, origin, and old and new residents, signal and hot-spot status."""
    new_codes = ov.new_codes
    before = _old_on_new(old, ov)
    reused = set(matching.reused_codes)
    return pd.DataFrame({
        "buurtcode": new_codes,
        "buurtnaam": new["buurtnaam"].astype(str).to_numpy() if "buurtnaam" in new.columns else new_codes,
        "kern": new["kern"].astype(str).to_numpy() if "kern" in new.columns else None,
        "match": matching.kinds.to_numpy(),
        "oude_buurtcodes": [",".join(matching.sources[c]) for c in new_codes],
        "herkomst": [_origin(old, matching, ov, c) for c in new_codes],
        "code_hergebruikt": [c in reused for c in new_codes],
        "inwoners_oud": before["inwoners_oud"],
        "inwoners_nieuw": np.nan_to_num(_numbers(new, "inwoners")),
        "inwoners_binnen_drempel_oud": before["inwoners_binnen_drempel_oud"],
        "inwoners_binnen_drempel_nieuw": np.nan_to_num(_numbers(new, "inwoners_binnen_drempel")),
        "signaal_oud": before["signaal_oud"],
        "signaal_nieuw": _numbers(new, "signaal"),
        "hotspot_oud": before["hotspot_oud"],
        "hotspot_nieuw": new["hotspot"].astype(object).to_numpy() if "hotspot" in new.columns else None,
        "_was_hot": before["_was_hot"],
        "_now_hot": _hot(new),
    })


def _gone_buurt_rows(
    old: gpd.GeoDataFrame, matching: Matching, ov: _Overlay
) -> tuple[list[dict[str, Any]], list[Any]]:
    """One row per gone old buurt (the old residents not placed in any new buurt) and its old polygon."""
    rows = []
    geometry = []
    for code in matching.gone:
        k = ov.old_pos[code]
        rows.append({
            "buurtcode": code,
            "buurtnaam": str(old["buurtnaam"].iloc[k]) if "buurtnaam" in old.columns else code,
            "kern": str(old["kern"].iloc[k]) if "kern" in old.columns else None,
            "match": "gone",
            "oude_buurtcodes": code,
            "herkomst": "",
            "code_hergebruikt": False,
            "inwoners_oud": ov.old_people[k] - ov.people[k].sum(),
            "inwoners_nieuw": 0.0,
            "inwoners_binnen_drempel_oud": ov.old_within[k] - ov.within[k].sum(),
            "inwoners_binnen_drempel_nieuw": 0.0,
            "signaal_oud": ov.old_signal[k],
            "signaal_nieuw": np.nan,
            "hotspot_oud": str(old["hotspot"].iloc[k]) if "hotspot" in old.columns else None,
            "hotspot_nieuw": None,
            "_was_hot": bool(ov.old_hot[k]),
            "_now_hot": False,
        })
        geometry.append(old.geometry.iloc[k])
    return rows, geometry


def _add_changes(rows: pd.DataFrame, weighting: str) -> None:
    """Add the shares within the threshold, the differences and the hot-spot change to ``rows`` (in place).

    Weighted by residents, the counts are sums of whole cells and become whole numbers (Int64).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        for when in ("oud", "nieuw"):
            inw, binnen = rows[f"inwoners_{when}"].to_numpy(float), rows[f"inwoners_binnen_drempel_{when}"].to_numpy(float)
            rows[f"aandeel_binnen_drempel_{when}"] = np.where(inw > 0, binnen / np.where(inw > 0, inw, 1.0), np.nan)
    for stem in ("inwoners", "inwoners_binnen_drempel", "signaal"):
        rows[f"{stem}_verschil"] = rows[f"{stem}_nieuw"] - rows[f"{stem}_oud"]
    rows["aandeel_binnen_drempel_verschil_pp"] = 100.0 * (
        rows["aandeel_binnen_drempel_nieuw"] - rows["aandeel_binnen_drempel_oud"]
    )
    rows["hotspot_wijziging"] = [
        HOTSPOT_CHANGE[(bool(w), bool(n))] for w, n in zip(rows["_was_hot"], rows["_now_hot"], strict=True)
    ]
    if weighting == "inwoners":  # sums of whole cells: whole numbers
        for stem in ("inwoners", "inwoners_binnen_drempel"):
            for when in ("oud", "nieuw", "verschil"):
                rows[f"{stem}_{when}"] = rows[f"{stem}_{when}"].round().astype("Int64")


def _left_out(matching: Matching, ov: _Overlay) -> float:
    """The old residents of buurten that are not gone who were not placed in any new buurt."""
    gone_set = set(matching.gone)
    return float(sum(
        ov.old_people[ov.old_pos[c]] - ov.people[ov.old_pos[c]].sum() for c in ov.old_codes if c not in gone_set
    ))


def _add_meeting_points(
    summary: dict[str, Any],
    old_venues: gpd.GeoDataFrame | None,
    new_venues: gpd.GeoDataFrame | None,
    new: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame | None:
    """The meeting points that opened and closed (None without both venue frames); their counts go into ``summary``."""
    if old_venues is None or new_venues is None:
        return None
    points = compare_meeting_points(old_venues, new_venues, new)
    for key, venues in (("n_meeting_points_old", old_venues), ("n_meeting_points_new", new_venues)):
        summary[key] = int(venues["ontmoetingspunt"].fillna(False).astype(bool).sum())
    for key, label in (("meeting_points_opened", "nieuw"), ("meeting_points_closed", "verdwenen")):
        summary[key] = [
            {"name": r["naam"], "category": r["categorie_label"], "buurtcode": r["buurtcode"],
             "buurtnaam": r["buurtnaam"]}
            for _, r in points[points["wijziging"] == label].iterrows()
        ]
    return points


def _warn_changes(old: pd.DataFrame, new: pd.DataFrame, matching: Matching, ov: _Overlay, left_out: float) -> None:
    """Log the reused buurtcodes and the old residents outside the new division."""
    for code in matching.reused_codes:
        k = ov.old_pos[code]
        log.warning(
            "Buurtcode %s bestaat in beide jaren maar voor een ander gebied (was %s, nu %s); gekoppeld op ligging.",
            code, old["buurtnaam"].iloc[k] if "buurtnaam" in old.columns else "?",
            new["buurtnaam"].iloc[ov.new_pos[code]] if "buurtnaam" in new.columns else "?",
        )
    if left_out > 0:
        log.warning("%s inwoners van het oude jaar wonen buiten de nieuwe buurtindeling.", format_int(left_out))


def _kern_table(table: gpd.GeoDataFrame, flags: pd.DataFrame) -> gpd.GeoDataFrame:
    """Sum the comparison rows per kern (a gone buurt in its old kern)."""
    if table["kern"].isna().all():
        return gpd.GeoDataFrame(columns=[*KERN_COLUMNS, "geometry"], geometry="geometry", crs=table.crs)
    frame = pd.DataFrame({
        "kern": table["kern"].astype(str).to_numpy(),
        "buurtcode": table["buurtcode"].to_numpy(),
        "gone": (table["match"] == "gone").to_numpy(),
        "was_hot": flags["_was_hot"].to_numpy(dtype=bool),
        "now_hot": flags["_now_hot"].to_numpy(dtype=bool),
    })
    for when in ("oud", "nieuw"):
        frame[f"inw_{when}"] = pd.to_numeric(table[f"inwoners_{when}"]).astype(float).fillna(0.0).to_numpy()
        frame[f"binnen_{when}"] = pd.to_numeric(table[f"inwoners_binnen_drempel_{when}"]).astype(float).fillna(0.0)\
            .to_numpy()
        frame[f"sig_{when}"] = table[f"signaal_{when}"].to_numpy(dtype=float)
    out = []
    for kern, part in frame.groupby("kern", sort=True):
        row: dict[str, Any] = {
            "kern": kern,
            "buurtcodes": ",".join(sorted(part.loc[~part["gone"], "buurtcode"])),
            "n_buurten": int((~part["gone"]).sum()),
        }
        for when in ("oud", "nieuw"):
            inw, binnen = float(part[f"inw_{when}"].sum()), float(part[f"binnen_{when}"].sum())
            row[f"inwoners_{when}"] = inw
            row[f"inwoners_binnen_drempel_{when}"] = binnen
            row[f"aandeel_binnen_drempel_{when}"] = binnen / inw if inw > 0 else np.nan
            row[f"signaal_{when}"] = _weighted_mean(part[f"sig_{when}"].to_numpy(), part[f"inw_{when}"].to_numpy())
        row["hotspot_buurten_oud"] = int(part["was_hot"].sum())
        row["hotspot_buurten_nieuw"] = int(part["now_hot"].sum())
        out.append(row)
    kernen = pd.DataFrame(out)
    for stem in ("inwoners", "inwoners_binnen_drempel", "signaal"):
        kernen[f"{stem}_verschil"] = kernen[f"{stem}_nieuw"] - kernen[f"{stem}_oud"]
    kernen["aandeel_binnen_drempel_verschil_pp"] = 100.0 * (
        kernen["aandeel_binnen_drempel_nieuw"] - kernen["aandeel_binnen_drempel_oud"]
    )
    if isinstance(table["inwoners_oud"].dtype, pd.Int64Dtype):
        for stem in ("inwoners", "inwoners_binnen_drempel"):
            for when in ("oud", "nieuw", "verschil"):
                kernen[f"{stem}_{when}"] = kernen[f"{stem}_{when}"].round().astype("Int64")
    shapes = gpd.GeoDataFrame({"kern": frame["kern"]}, geometry=table.geometry.to_numpy(), crs=table.crs)
    shapes = shapes.dissolve(by="kern").geometry.reindex(kernen["kern"])
    kernen.index = pd.Index(kernen["kern"].to_numpy(), name=None)
    return gpd.GeoDataFrame(kernen[KERN_COLUMNS], geometry=shapes.to_numpy(), crs=table.crs)


def _top(table: pd.DataFrame, ascending: bool, n: int = 3) -> list[dict[str, Any]]:
    both = table[
        (pd.to_numeric(table["inwoners_oud"]).fillna(0) > 0) & (pd.to_numeric(table["inwoners_nieuw"]).fillna(0) > 0)
    ]
    change = both["aandeel_binnen_drempel_verschil_pp"]
    change = change[(change < 0) if ascending else (change > 0)]
    order = change.sort_values(ascending=ascending, kind="stable").index[:n]
    return [
        {"buurtcode": c, "buurtnaam": both.at[c, "buurtnaam"], "change_pp": round(float(change[c]), 2)} for c in order
    ]


def _summary(  # noqa: PLR0917
    table: gpd.GeoDataFrame,
    flags: pd.DataFrame,
    old: pd.DataFrame,
    new: pd.DataFrame,
    matching: Matching,
    weighting: str,
    min_share: float,
    left_out: float,
) -> dict[str, Any]:
    old_total = float(np.nansum(_numbers(old, "inwoners")))
    new_total = float(np.nansum(_numbers(new, "inwoners")))
    old_within = float(np.nansum(_numbers(old, "inwoners_binnen_drempel")))
    new_within = float(np.nansum(_numbers(new, "inwoners_binnen_drempel")))
    old_share = old_within / old_total if old_total > 0 else None
    new_share = new_within / new_total if new_total > 0 else None
    was, now = flags["_was_hot"].to_numpy(bool), flags["_now_hot"].to_numpy(bool)
    codes = table["buurtcode"].to_numpy()
    changed = table[table["match"] != "code"]
    names_changed = {}
    if "buurtnaam" in old.columns and "buurtnaam" in new.columns:
        old_names = dict(zip(_codes(old), old["buurtnaam"].astype(str), strict=True))
        for code in table.index[table["match"] == "code"]:
            if _name_key(old_names[code]) != _name_key(table.at[code, "buurtnaam"]):
                names_changed[code] = [old_names[code], str(table.at[code, "buurtnaam"])]
    return {
        "weighting": weighting,
        "min_share": min_share,
        "n_buurten_old": len(old),
        "n_buurten_new": len(new),
        "matching": matching.counts(),
        "changed_buurten": [
            {"buurtcode": c, "buurtnaam": r["buurtnaam"], "match": r["match"], "old_buurtcodes": r["oude_buurtcodes"]}
            for c, r in changed.iterrows()
        ],
        "reused_codes": list(matching.reused_codes),
        "renamed_buurten": names_changed,
        "residents_old": old_total,
        "residents_new": new_total,
        "residents_change": new_total - old_total,
        "residents_within_threshold_old": old_within,
        "residents_within_threshold_new": new_within,
        "residents_within_threshold_change": new_within - old_within,
        "share_within_threshold_old": old_share,
        "share_within_threshold_new": new_share,
        "share_within_threshold_change_pp": (
            100.0 * (new_share - old_share) if old_share is not None and new_share is not None else None
        ),
        "residents_old_outside_new_division": left_out,
        "hotspots_old": sorted(str(c) for c in np.asarray(_codes(old))[_hot(old)]),
        "hotspots_new": sorted(str(c) for c in np.asarray(_codes(new))[_hot(new)]),
        "hotspots_added": sorted(str(c) for c in codes[~was & now]),
        "hotspots_removed": sorted(str(c) for c in codes[was & ~now]),
        "largest_share_rises": _top(table, ascending=False),
        "largest_share_falls": _top(table, ascending=True),
    }
