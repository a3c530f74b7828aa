"""The yearly improvement cycle (*verbetercyclus*): three or more years of one gemeente side by side.

A gemeente that sets a target ("in 2027 lives 90 % of our residents within 400 m of a meeting
point") wants to know every year whether it is getting there. :func:`trend_buurten` puts the
figures of every year on the **newest** year's buurt division, with the matching of
:mod:`wijkanalyse.analysis.compare` (:func:`~wijkanalyse.analysis.compare.compare_buurten`
of each earlier year against the newest one): an earlier year's residents, residents within
the threshold, signal and hot-spot status of a buurt are those of the same area, re-weighted
by resident cells when the run's cells are given (exact sums of old cells), else by area.

Levels
------
``buurt``     every buurt of the newest year, one row per year;
``kern``      the sums of its buurten (on the newest division) per year;
``gemeente``  the year's own totals: everyone the run of that year counted, also those who lived
              in an area that is no longer a buurt of the gemeente (``inwoners_buiten_indeling``
              says how many). The signal of a kern or the gemeente is the residents-weighted mean
              of its buurt signals, its hot spots the number of its buurten that were a hot spot.

On track (``status``)
---------------------
With a target share ``doel`` (0..1) and a target year ``doeljaar`` (later than the newest year):

``reached``    the share of the newest year is at least the target;
``on_track``   not yet, but the straight line fitted by least squares through the shares of all
               years (share = a + b x year) is at or above the target in the target year;
``off_track``  neither;
``unknown``    no share in the newest year (no residents) or fewer than two years with a share;
``None``       no target.

The line's slope (``helling_pp_per_jaar``, percentage points per year), its value in the target
year (``aandeel_doeljaar``) and the year it reaches the target (``jaar_doel_op_lijn``, a
fraction; None when the line does not rise) come with every verdict. Codes only: the Dutch
words live in :mod:`wijkanalyse.outputs.texts`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, SupportsInt, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from wijkanalyse.analysis.compare import MIN_SHARE, compare_buurten
from wijkanalyse.result import Hotspot

__all__ = [
    "STATUSES",
    "TREND_COLUMNS",
    "VERDICT_COLUMNS",
    "Trend",
    "YearRun",
    "fit_line",
    "trend_buurten",
    "verdict",
]

#: The on-track codes, best first (see the module docstring).
STATUSES = ("reached", "on_track", "off_track", "unknown")

_HOT = Hotspot.HOT.value

#: Columns of the per-year figures (:attr:`Trend.buurten`, ``kernen``, ``gemeente``), in order.
TREND_COLUMNS = [
    "jaar",
    "inwoners",
    "inwoners_binnen_drempel",
    "inwoners_buiten_drempel",
    "aandeel_binnen_drempel",
    "signaal",
]

#: Columns of :attr:`Trend.verdicts`, in order.
VERDICT_COLUMNS = [
    "niveau",
    "code",
    "naam",
    "kern",
    "doel",
    "doeljaar",
    "aandeel_eerste",
    "aandeel_laatste",
    "verschil_pp",
    "helling_pp_per_jaar",
    "aandeel_doeljaar",
    "jaar_doel_op_lijn",
    "status",
]


@dataclass(frozen=True)
class YearRun:
    """One year of the cycle: the run's buurt frame (with ``kern``) and, better, its resident cells."""

    year: int
    buurten: gpd.GeoDataFrame
    residents: gpd.GeoDataFrame | None = None


@dataclass
class Trend:
    """Every year's figures on the newest buurt division, and whether each level is on track.

    Attributes
    ----------
    years
        The years, oldest first.
    buurten
        One row per (buurt of the newest year, year): buurtcode, buurtnaam, kern,
        :data:`TREND_COLUMNS`, hotspot (the Local Moran code of that year) and is_hotspot;
        sorted by buurtcode, then year.
    kernen
        One row per (kern, year): kern, n_buurten, :data:`TREND_COLUMNS`, hotspot_buurten.
    gemeente
        One row per year: :data:`TREND_COLUMNS`, hotspot_buurten, inwoners_buiten_indeling.
    verdicts
        One row per buurt, kern and the gemeente (:data:`VERDICT_COLUMNS`).
    division
        The newest year's buurten (buurtcode, buurtnaam, kern, geometry).
    summary
        Per earlier year the match counts against the newest division (``koppelingen``), the
        reused codes and the weighting; the target and target year.
    """

    years: list[int]
    buurten: pd.DataFrame
    kernen: pd.DataFrame
    gemeente: pd.DataFrame
    verdicts: pd.DataFrame
    division: gpd.GeoDataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").astype(float).to_numpy()


def _share(within: Any, people: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(people) > 0, np.asarray(within) / np.where(np.asarray(people) > 0, people, 1), np.nan)


def _weighted(values: np.ndarray, weights: np.ndarray) -> float:
    ok = ~np.isnan(values) & (weights > 0)
    return float(np.sum(values[ok] * weights[ok]) / np.sum(weights[ok])) if ok.any() else float("nan")


# --------------------------------------------------------------------------------------
# The line and the verdict
# --------------------------------------------------------------------------------------


def fit_line(years: Sequence[float], shares: Sequence[float]) -> tuple[float, float] | None:
    """The least-squares line ``share = a + b x year`` through the finite shares: ``(a, b)``, or None with fewer than two."""
    x = np.asarray(years, dtype=float)
    y = np.asarray(shares, dtype=float)
    ok = np.isfinite(y)
    if ok.sum() < 2 or np.ptp(x[ok]) == 0:
        return None
    x, y = x[ok], y[ok]
    b = float(np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2))
    return float(y.mean() - b * x.mean()), b


def verdict(years: Sequence[int], shares: Sequence[float], target: float | None, target_year: int) -> dict[str, Any]:
    """Whether a series of shares (0..1, one per year, oldest first) is on track for ``target`` in ``target_year``.

    Returns
    -------
    dict
        aandeel_eerste, aandeel_laatste (the first and the newest share), verschil_pp (newest
        minus first, percentage points), helling_pp_per_jaar, aandeel_doeljaar (the line in the
        target year), jaar_doel_op_lijn (the year the line reaches the target; None when it
        does not rise or there is no target) and status (see the module docstring).
    """
    shares = [float(s) for s in shares]
    first, last = shares[0], shares[-1]
    line = fit_line(years, shares)
    out: dict[str, Any] = {
        "aandeel_eerste": first,
        "aandeel_laatste": last,
        "verschil_pp": 100.0 * (last - first),
        "helling_pp_per_jaar": 100.0 * line[1] if line else np.nan,
        "aandeel_doeljaar": line[0] + line[1] * target_year if line else np.nan,
        "jaar_doel_op_lijn": None,
        "status": None,
    }
    if target is None:
        return out
    if line and line[1] > 0:
        out["jaar_doel_op_lijn"] = (target - line[0]) / line[1]
    if not np.isfinite(last):
        out["status"] = "unknown"
    elif last >= target:
        out["status"] = "reached"
    elif line is None:
        out["status"] = "unknown"
    else:
        out["status"] = "on_track" if out["aandeel_doeljaar"] >= target else "off_track"
    return out


# --------------------------------------------------------------------------------------
# Every year on the newest division
# --------------------------------------------------------------------------------------


def _codes(frame: pd.DataFrame) -> np.ndarray:
    values = frame["buurtcode"] if "buurtcode" in frame.columns else frame.index.to_series()
    return values.astype(str).str.strip().to_numpy()


def _year_rows(run: YearRun, newest: YearRun, min_share: float) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The figures of ``run`` on the newest division: one row per newest buurt, and the matching's summary."""
    new = newest.buurten
    codes = _codes(new)
    if run is newest:
        rows = pd.DataFrame({
            "buurtcode": codes,
            "inwoners": np.nan_to_num(_numbers(new, "inwoners")),
            "inwoners_binnen_drempel": np.nan_to_num(_numbers(new, "inwoners_binnen_drempel")),
            "signaal": _numbers(new, "signaal"),
            "hotspot": new["hotspot"].astype(str).to_numpy() if "hotspot" in new.columns else None,
        })
        return rows, {}
    c = compare_buurten(run.buurten, new, old_residents=run.residents, min_share=min_share)
    b = c.buurten.loc[codes]  # the new buurten; gone rows stay out (counted at the gemeente level)
    rows = pd.DataFrame({
        "buurtcode": codes,
        "inwoners": pd.to_numeric(b["inwoners_oud"]).astype(float).to_numpy(),
        "inwoners_binnen_drempel": pd.to_numeric(b["inwoners_binnen_drempel_oud"]).astype(float).to_numpy(),
        "signaal": b["signaal_oud"].to_numpy(dtype=float),
        "hotspot": b["hotspot_oud"].astype(object).to_numpy(),
    })
    s = c.summary
    return rows, {
        "matching": s["matching"],
        "reused_codes": s["reused_codes"],
        "weighting": s["weighting"],
        "n_changed_buurten": len(s["changed_buurten"]),
    }


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    frame["inwoners_buiten_drempel"] = frame["inwoners"] - frame["inwoners_binnen_drempel"]
    frame["aandeel_binnen_drempel"] = _share(frame["inwoners_binnen_drempel"], frame["inwoners"])
    return frame


def trend_buurten(
    runs: Sequence[YearRun],
    *,
    target: float | None = None,
    kern_targets: Mapping[str, float] | None = None,
    target_year: int | None = None,
    min_share: float = MIN_SHARE,
) -> Trend:
    """Put every year on the newest buurt division and judge each buurt, kern and the gemeente against a target.

    (Longer than 80 lines only with this documentation: the code itself is 51 lines, one step each.)

    Parameters
    ----------
    runs
        Two or more years of one gemeente, each with a different year (any order). The buurt
        frames are ``RunResult.buurten`` with a ``kern`` column; ``residents`` are the runs'
        resident cells (given: re-weighting by residents, see :mod:`~wijkanalyse.analysis.compare`).
    target
        The share (0..1) the gemeente wants within the threshold; for the gemeente and every
        kern without one of its own. None: no target (``status`` None) unless the kern has one.
    kern_targets
        Kern name -> target share; a buurt has the target of its kern.
    target_year
        The year the target is to be met; default the newest year + 2. Must be later than the
        newest year.
    min_share
        See :func:`~wijkanalyse.analysis.compare.match_buurten`.

    Returns
    -------
    Trend
        See :class:`Trend`; ``verdicts`` per the module docstring.
    """
    runs = sorted(runs, key=lambda r: r.year)
    years = [r.year for r in runs]
    if len(years) < 2 or len(set(years)) != len(years):
        msg = f"Een trend vraagt twee of meer verschillende jaren, gekregen: {years}."
        raise ValueError(msg)
    for value in (target, *(kern_targets or {}).values()):
        if value is not None and not 0.0 < float(value) <= 1.0:
            msg = f"Een doel is een aandeel tussen 0 en 1, gekregen: {value}."
            raise ValueError(msg)
    newest = runs[-1]
    target_year = years[-1] + 2 if target_year is None else int(target_year)
    if target_year <= years[-1]:
        msg = f"Het doeljaar {target_year} moet na het nieuwste jaar {years[-1]} liggen."
        raise ValueError(msg)
    new = newest.buurten
    codes = _codes(new)
    names = new["buurtnaam"].astype(str).to_numpy() if "buurtnaam" in new.columns else codes
    kerns = new["kern"].astype(str).to_numpy() if "kern" in new.columns else np.full(len(codes), "")
    parts, matched = [], {}
    for run in runs:
        rows, info = _year_rows(run, newest, min_share)
        rows.insert(1, "buurtnaam", names)
        rows.insert(2, "kern", kerns)
        rows.insert(3, "jaar", run.year)
        parts.append(rows)
        if info:
            matched[str(run.year)] = info
    buurten = _finish(pd.concat(parts, ignore_index=True))
    buurten["hotspot"] = buurten["hotspot"].where(buurten["hotspot"].notna(), None)
    buurten["is_hotspot"] = (buurten["hotspot"].astype(object) == _HOT).to_numpy(dtype=bool)
    buurten = buurten.sort_values(["buurtcode", "jaar"], kind="stable").reset_index(drop=True)
    buurten = buurten[["buurtcode", "buurtnaam", "kern", *TREND_COLUMNS, "hotspot", "is_hotspot"]]
    kernen = _kern_rows(buurten)
    gemeente = _gemeente_rows(runs, buurten)
    kern_targets = dict(kern_targets or {})
    verdicts = _verdicts(buurten, kernen, gemeente, years, target, kern_targets, target_year)
    division = gpd.GeoDataFrame(
        {"buurtcode": codes, "buurtnaam": names, "kern": kerns}, geometry=new.geometry.to_numpy(), crs=new.crs
    )
    summary = {
        "jaren": years,
        "doel": target,
        "doelen_per_kern": kern_targets,
        "doeljaar": target_year,
        "indeling_jaar": years[-1],
        "matching_per_year": matched,
    }
    return Trend(
        years=years, buurten=buurten, kernen=kernen, gemeente=gemeente, verdicts=verdicts, division=division,
        summary=summary,
    )


def _kern_rows(buurten: pd.DataFrame) -> pd.DataFrame:
    """Per (kern, year): the sums of its buurten, the residents-weighted signal and the hot-spot buurten."""
    out = []
    for (kern, year), part in buurten.groupby(["kern", "jaar"], sort=True):
        people = part["inwoners"].to_numpy(float)
        out.append({
            "kern": kern,
            "n_buurten": len(part),
            "jaar": int(cast(SupportsInt, year)),  # a groupby key: Hashable to the stubs
            "inwoners": float(people.sum()),
            "inwoners_binnen_drempel": float(part["inwoners_binnen_drempel"].sum()),
            "signaal": _weighted(part["signaal"].to_numpy(float), people),
            "hotspot_buurten": int(part["is_hotspot"].sum()),
        })
    kernen = _finish(pd.DataFrame(out))
    return kernen[["kern", "n_buurten", *TREND_COLUMNS, "hotspot_buurten"]]


def _gemeente_rows(runs: Sequence[YearRun], buurten: pd.DataFrame) -> pd.DataFrame:
    """Per year: the year's own totals, the signal and hot spots of its buurten on the newest division."""
    out = []
    for run in runs:
        part = buurten[buurten["jaar"] == run.year]
        people = float(np.nansum(_numbers(run.buurten, "inwoners")))
        out.append({
            "jaar": run.year,
            "inwoners": people,
            "inwoners_binnen_drempel": float(np.nansum(_numbers(run.buurten, "inwoners_binnen_drempel"))),
            "signaal": _weighted(part["signaal"].to_numpy(float), part["inwoners"].to_numpy(float)),
            "hotspot_buurten": int(part["is_hotspot"].sum()),
            "inwoners_buiten_indeling": people - float(part["inwoners"].sum()),
        })
    gemeente = _finish(pd.DataFrame(out))
    return gemeente[[*TREND_COLUMNS, "hotspot_buurten", "inwoners_buiten_indeling"]]


def _verdicts(  # noqa: PLR0917
    buurten: pd.DataFrame,
    kernen: pd.DataFrame,
    gemeente: pd.DataFrame,
    years: list[int],
    target: float | None,
    kern_targets: dict[str, float],
    target_year: int,
) -> pd.DataFrame:
    """One verdict per gemeente, kern and buurt (in that order)."""

    def series(frame: pd.DataFrame) -> list[float]:
        by_year = dict(zip(frame["jaar"], frame["aandeel_binnen_drempel"], strict=True))
        return [float(by_year.get(y, np.nan)) for y in years]

    rows = [{"niveau": "gemeente", "code": "", "naam": "", "kern": "", "doel": target,
             **verdict(years, series(gemeente), target, target_year)}]
    for kern, part in kernen.groupby("kern", sort=True):
        goal = kern_targets.get(str(kern), target)
        rows.append({"niveau": "kern", "code": str(kern), "naam": str(kern), "kern": str(kern), "doel": goal,
                     **verdict(years, series(part), goal, target_year)})
    for code, part in buurten.groupby("buurtcode", sort=True):
        kern = str(part["kern"].iloc[0])
        goal = kern_targets.get(kern, target)
        rows.append({"niveau": "buurt", "code": str(code), "naam": str(part["buurtnaam"].iloc[0]), "kern": kern,
                     "doel": goal, **verdict(years, series(part), goal, target_year)})
    frame = pd.DataFrame(rows)
    frame["doeljaar"] = target_year
    return frame[VERDICT_COLUMNS]
