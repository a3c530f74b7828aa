"""Figures across gemeenten: wijk totals of one run, the table of every gemeente, national totals.

Pure functions on frames and on the key figures (``samenvatting.json``) of each gemeente;
no I/O. A national run (:mod:`wijkanalyse.batch`) calls :func:`wijk_figures` in the worker
that analysed a gemeente and the rest in the parent, on the small summaries the workers
return.

Comparing gemeenten: the buurt signal is a z-score *within* a gemeente (its mean is 0 in
every gemeente), so it cannot rank gemeenten. :func:`gemeente_table` therefore gives each
gemeente a ``signaal_landelijk``: the same weighted mean of z-scores (:func:`composite_signal`),
computed over the gemeenten of the run from each gemeente's own CBS row (the ``reference``
values of its summary). Beside it: the hot-spot buurten and the residents living in them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from wijkanalyse.analysis.signal import composite_signal
from wijkanalyse.config import Indicator
from wijkanalyse.result import Hotspot

__all__ = [
    "GEMEENTE_COLUMNS",
    "broker_figures",
    "gemeente_outlines",
    "gemeente_table",
    "national_totals",
    "proposal_figures",
    "province_table",
    "wijk_figures",
]

HOTSPOT = Hotspot.HOT.value

#: Columns of :func:`gemeente_table`, in order (indicator columns follow ``signaal_landelijk``).
GEMEENTE_COLUMNS = (
    "gemeentecode", "gemeentenaam", "provincie", "jaar", "status", "melding",
    "inwoners", "inwoners_binnen_drempel", "inwoners_buiten_drempel", "aandeel_binnen_drempel",
    "drempel_m", "afstandsmethode", "buurten", "ontmoetingspunten", "gaten",
    "hotspot_buurten", "inwoners_in_hotspots", "signaal_landelijk",
    "nieuwe_ontmoetingspunten", "inwoners_nieuw_bereikt", "makelaars_nodig", "makelaar_gebieden",
)


def wijk_figures(buurten: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Per wijk of one gemeente: residents, within the threshold, share, signal and hot spots.

    Parameters
    ----------
    buurten
        ``RunResult.buurten`` (columns of :mod:`wijkanalyse.result`).

    Returns
    -------
    GeoDataFrame
        One row per wijk: ``wijkcode``, ``wijknaam``, ``inwoners``, ``inwoners_binnen_drempel``,
        ``aandeel_binnen_drempel`` (NaN without residents), ``signaal`` (the residents-weighted
        mean of its buurten's signal, the plain mean where no buurt has residents; NaN when no
        buurt has a signal), ``hotspot_buurten`` (count), ``buurten`` (count); geometry the union
        of its buurten.
    """
    frame = buurten.copy()
    frame["_people"] = frame["inwoners"].astype("Float64").fillna(0).astype(float)
    frame["_within"] = frame["inwoners_binnen_drempel"].astype("Float64").fillna(0).astype(float)
    frame["_hot"] = (frame["hotspot"] == HOTSPOT).astype(int)
    frame["wijknaam"] = frame["wijknaam"].astype(object).fillna("")  # all-missing names arrive as float NaN
    rows = []
    for code, group in frame.groupby("wijkcode", sort=True):
        signal = group["signaal"].astype(float)
        known = signal.notna()
        weights = group["_people"][known]
        if known.any():
            mean = float(np.average(signal[known], weights=weights)) if weights.sum() > 0 else float(signal[known].mean())
        else:
            mean = np.nan
        people, within = float(group["_people"].sum()), float(group["_within"].sum())
        rows.append({
            "wijkcode": code,
            "wijknaam": str(group["wijknaam"].iloc[0]),
            "inwoners": people,
            "inwoners_binnen_drempel": within,
            "aandeel_binnen_drempel": within / people if people > 0 else np.nan,
            "signaal": mean,
            "hotspot_buurten": int(group["_hot"].sum()),
            "buurten": len(group),
            "geometry": group.geometry.union_all(),
        })
    columns = ["wijkcode", "wijknaam", "inwoners", "inwoners_binnen_drempel", "aandeel_binnen_drempel", "signaal",
               "hotspot_buurten", "buurten", "geometry"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry="geometry", crs=buurten.crs)


def proposal_figures(summary: Mapping[str, Any]) -> tuple[int | None, float | None]:
    """(new meeting points proposed, residents they newly bring within reach) from a gemeente's summary.

    Reads ``new_meeting_points`` (the ranked proposals of ``samenvatting.json``, each with
    ``newly_within``); (None, None) for a summary without it (an older run).
    """
    proposals = summary.get("new_meeting_points")
    if not isinstance(proposals, list):
        return None, None
    return len(proposals), float(sum(float(p.get("newly_within") or 0) for p in proposals))


def broker_figures(summary: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(brokers needed, broker areas) from a gemeente's summary (``brokers_needed``, ``broker_areas``)."""
    needed = summary.get("brokers_needed")
    areas = summary.get("broker_areas")
    return (int(needed) if isinstance(needed, int | float) else None,
            len(areas) if isinstance(areas, list) else None)


def _row(marker: Mapping[str, Any], province: str) -> dict[str, Any]:
    summary = marker.get("summary") or {}
    proposals, reached = proposal_figures(summary)
    needed, areas = broker_figures(summary)
    share = summary.get("share_within_threshold")
    return {
        "gemeentecode": marker.get("gemeente_code"),
        "gemeentenaam": marker.get("gemeente_name"),
        "provincie": province,
        "jaar": summary.get("year", marker.get("year")),
        "status": marker.get("status", "mislukt"),
        "melding": marker.get("error") or "",
        "inwoners": summary.get("residents_total"),
        "inwoners_binnen_drempel": summary.get("residents_within_threshold"),
        "inwoners_buiten_drempel": summary.get("residents_beyond_threshold"),
        "aandeel_binnen_drempel": share,
        "drempel_m": summary.get("threshold_m"),
        "afstandsmethode": summary.get("distance_method"),
        "buurten": summary.get("n_buurten"),
        "ontmoetingspunten": summary.get("n_meeting_points"),
        "gaten": summary.get("n_gaps"),
        "hotspot_buurten": len(summary["hotspot_buurten"]) if isinstance(summary.get("hotspot_buurten"), list) else None,
        "inwoners_in_hotspots": marker.get("residents_in_hotspots"),
        "nieuwe_ontmoetingspunten": proposals,
        "inwoners_nieuw_bereikt": reached,
        "makelaars_nodig": needed,
        "makelaar_gebieden": areas,
    }


def gemeente_table(
    markers: Iterable[Mapping[str, Any]], indicators: Mapping[str, Indicator], provinces: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per gemeente of a national run (columns :data:`GEMEENTE_COLUMNS` + one per indicator).

    Parameters
    ----------
    markers
        What each gemeente's job returned (:func:`wijkanalyse.batch.run_job`): ``gemeente_code``,
        ``gemeente_name``, ``status`` ("klaar" or "mislukt"), ``error``, ``summary`` (its
        ``samenvatting.json``), ``residents_in_hotspots``.
    indicators
        The config's indicators: their gemeente values (from each summary's ``reference``)
        become columns, and their weighted z-scores over the finished gemeenten the
        ``signaal_landelijk`` (higher = more concern than the other gemeenten of the run).
    provinces
        Gemeente code -> province name.

    Returns
    -------
    DataFrame
        Sorted by ``aandeel_binnen_drempel`` (lowest first, failed gemeenten last), index 0..n-1.
    """
    provinces = provinces or {}
    markers = list(markers)
    rows = [_row(m, provinces.get(str(m.get("gemeente_code")), "")) for m in markers]
    table = pd.DataFrame(rows, columns=[c for c in GEMEENTE_COLUMNS if c != "signaal_landelijk"])
    for key in indicators:
        table[key] = [
            ((m.get("summary") or {}).get("reference") or {}).get("gemeente", {}).get(key) for m in markers
        ]
        table[key] = pd.to_numeric(table[key], errors="coerce").astype(float)
    done = table["status"] == "klaar"
    signal = pd.Series(np.nan, index=table.index)
    if done.any() and indicators:
        signal[done] = composite_signal(table[done], dict(indicators))
    table.insert(cast(int, table.columns.get_loc("hotspot_buurten")) + 2, "signaal_landelijk", signal)  # unique columns
    for col in ("aandeel_binnen_drempel", "drempel_m"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    for col in ("inwoners", "inwoners_binnen_drempel", "inwoners_buiten_drempel", "inwoners_in_hotspots",
                "inwoners_nieuw_bereikt"):  # residents are whole people
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float).round().astype("Int64")
    for col in ("buurten", "ontmoetingspunten", "gaten", "hotspot_buurten", "nieuwe_ontmoetingspunten",
                "makelaars_nodig", "makelaar_gebieden"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype("Int64")
    order = table.assign(_failed=~done).sort_values(
        ["_failed", "aandeel_binnen_drempel", "gemeentecode"], na_position="last", kind="stable"
    )
    return order.drop(columns="_failed").reset_index(drop=True)


def national_totals(table: pd.DataFrame) -> dict[str, Any]:
    """Totals over the finished gemeenten of :func:`gemeente_table`.

    Returns
    -------
    dict
        English keys (as the gemeente's ``samenvatting.json``): ``n_gemeenten`` (rows),
        ``n_gemeenten_done``, ``gemeenten_failed`` (codes), ``residents_total``,
        ``residents_within_threshold``, ``residents_beyond_threshold``, ``share_within_threshold``
        (residents within / residents, None without residents), ``n_buurten``, ``n_meeting_points``,
        ``n_hotspot_buurten``, ``n_new_meeting_points`` and ``brokers_needed`` (sums; None when no
        gemeente has the figure), ``threshold_m`` (the threshold when all gemeenten share one, else
        None), ``distance_method`` (``network`` or ``straight_line`` when all gemeenten were
        measured alike, else None), ``years``.
    """
    done = table[table["status"] == "klaar"]

    def total(col: str) -> float | None:
        values = done[col].dropna()
        return float(values.sum()) if len(values) else None

    people, within = total("inwoners"), total("inwoners_binnen_drempel")
    thresholds = sorted(set(done["drempel_m"].dropna()))
    methods = sorted(set(done["afstandsmethode"].dropna())) if "afstandsmethode" in done else []
    return {
        "n_gemeenten": len(table),
        "n_gemeenten_done": len(done),
        "gemeenten_failed": sorted(table.loc[table["status"] != "klaar", "gemeentecode"].astype(str)),
        "residents_total": people,
        "residents_within_threshold": within,
        "residents_beyond_threshold": total("inwoners_buiten_drempel"),
        "share_within_threshold": within / people if people and within is not None else None,
        "n_buurten": total("buurten"),
        "n_meeting_points": total("ontmoetingspunten"),
        "n_hotspot_buurten": total("hotspot_buurten"),
        "n_new_meeting_points": total("nieuwe_ontmoetingspunten"),
        "brokers_needed": total("makelaars_nodig"),
        "threshold_m": thresholds[0] if len(thresholds) == 1 else None,
        "distance_method": methods[0] if len(methods) == 1 else None,
        "years": sorted({int(y) for y in done["jaar"].dropna()}),
    }


def province_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per province (finished gemeenten): gemeenten, inwoners, binnen/buiten drempel, aandeel; lowest share first."""
    done = table[table["status"] == "klaar"].copy()
    done["provincie"] = done["provincie"].replace("", "onbekend").fillna("onbekend")
    grouped = done.groupby("provincie", sort=True).agg(
        gemeenten=("gemeentecode", "count"), inwoners=("inwoners", "sum"),
        inwoners_binnen_drempel=("inwoners_binnen_drempel", "sum"),
        inwoners_buiten_drempel=("inwoners_buiten_drempel", "sum"),
    )
    grouped["aandeel_binnen_drempel"] = grouped["inwoners_binnen_drempel"] / grouped["inwoners"].where(grouped["inwoners"] > 0)
    return grouped.reset_index().sort_values(["aandeel_binnen_drempel", "provincie"], kind="stable").reset_index(drop=True)


def gemeente_outlines(wijken: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One polygon per gemeente: the union of its wijken (``gemeentecode``, geometry)."""
    if wijken.empty:
        return gpd.GeoDataFrame({"gemeentecode": []}, geometry=[], crs=wijken.crs)
    codes, shapes = [], []
    for code, group in wijken.groupby("gemeentecode", sort=True):
        codes.append(code)
        shapes.append(group.geometry.union_all())
    return gpd.GeoDataFrame({"gemeentecode": codes}, geometry=shapes, crs=wijken.crs)
