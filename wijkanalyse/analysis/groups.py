"""Target groups (``[doelgroepen]``): residents of an age group within and beyond the threshold, as ranges.

The CBS 100 m grid gives per cell the residents (``aantal_inwoners``) and five age bands
(0-14, 15-24, 25-44, 45-64, 65+). CBS rounds every count to a multiple of 5 and keeps a count
below 5 secret (-99997); a cell with fewer than 5 residents has a secret total and secret
bands. A secret figure is never a silent 0 here: every figure of a group is a range
``[low, high]``.

The rule per cell (the bounds of one age band)
    *Published* (a number): ``[g, g]``, the number CBS publishes, counted as published (as
    wijkanalyse counts every published grid figure; the rounding to 5 evens out over many
    cells and is not widened into a range).

    *Secret, in a cell with a published total*: CBS publishes no count below 5, so the band
    holds 0 to :data:`SECRET_MAX` (4) residents. The cell's total and its published bands
    narrow that where they can: what the total leaves for the ``k`` secret bands is
    ``R = T - sum(published)``. Because ``T`` and each of the ``m`` published bands may lie up
    to :data:`ROUNDING` (2) from the truth, the secret bands hold together between
    ``R - 2(m + 1)`` and ``R + 2(m + 1)``; one of them therefore at least
    ``R - 2(m + 1) - 4(k - 1)`` (the others at most 4 each) and at most ``R + 2(m + 1)``. The
    band's range is ``[max(0, that low), min(4, that high)]``. Example: T = 20, published
    10 + 5, three bands secret (m = 2, k = 3): R = 5, low = 5 - 6 - 8 < 0 -> 0, high =
    min(4, 11) = 4: [0, 4]. With T = 30, published 10 + 5 and three secret: R = 15, low =
    15 - 6 - 8 = 1, high = 4: [1, 4].

    *Secret, in a cell with a secret total* (fewer than 5 residents): ``[0, 4]`` for every
    band and for the total.

    A grid that lacks one of the five bands gives a secret band ``[0, 4]``: without every band
    the total cannot narrow it.

    The whole population of a cell ("alle"): ``[T, T]``, or ``[0, 4]`` when ``T`` is secret.
    A group of several bands sums their bounds.

Source of the rule: CBS, "Statistische gegevens per vierkant en postcode 2022-2021-2020-2019"
(a cell is published with at least 5 residents or 5 dwellings; counts are rounded to
multiples of 5; smaller counts are secret), checked on the Ermelo/Harderwijk/Zeewolde 2020
grid (``/work/shared/data/ermelo_cbs_vierkant100m_2020``): every published count is a
multiple of 5 and at least 5, every cell with a secret total has all bands secret, and in
the 424 cells with exactly one secret band ``T - sum(published)`` lies between -5 and 10,
which rounding (up to 5 figures off by 2) and a secret band of 0-4 explain; none needs more.

Per area (buurt, kern, gemeente) the bounds of the cells add up; the share within the
threshold is ``[w_low / (w_low + b_high), w_high / (w_high + b_low)]`` (``w``: within,
``b``: beyond), the smallest and the largest share the ranges allow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np
import pandas as pd

__all__ = [
    "ALL",
    "BANDS",
    "ROUNDING",
    "SECRET_MAX",
    "TARGET_COLUMNS",
    "available_groups",
    "cell_bounds",
    "group_bounds",
    "group_table",
    "group_weights",
    "share_range",
    "summary_ranges",
]

#: Age band (config key) -> canonical column of the residents frame (NaN = secret).
BANDS = {
    "0-14": "inwoners_0_14",
    "15-24": "inwoners_15_24",
    "25-44": "inwoners_25_44",
    "45-64": "inwoners_45_64",
    "65+": "inwoners_65plus",
}
#: The config key for all residents of a cell (``aantal_inwoners``).
ALL = "alle"
#: CBS keeps a count below 5 secret: a secret count is at most 4.
SECRET_MAX = 4.0
#: CBS rounds counts to the nearest multiple of 5: a published count lies at most 2 from the truth.
ROUNDING = 2.0
#: The columns of :func:`group_table`, in order.
TARGET_COLUMNS = (
    "niveau", "code", "naam", "doelgroep", "inwoners_min", "inwoners_max", "binnen_drempel_min",
    "binnen_drempel_max", "buiten_drempel_min", "buiten_drempel_max", "aandeel_binnen_min", "aandeel_binnen_max",
)


def available_groups(residents: pd.DataFrame, groups: Mapping[str, Sequence[str]]) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """The groups the residents frame can give (all their bands present) and the names of those it cannot."""
    ok: dict[str, tuple[str, ...]] = {}
    missing: list[str] = []
    for name, bands in groups.items():
        if all(b == ALL or BANDS[b] in residents.columns for b in bands):
            ok[name] = tuple(bands)
        else:
            missing.append(name)
    return ok, missing


def cell_bounds(residents: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per band present in ``residents`` (and :data:`ALL`) the lower and upper bound of each cell (see the module)."""
    total = residents["inwoners"].to_numpy(dtype=float)
    secret_total = np.isnan(total)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {
        ALL: (np.where(secret_total, 0.0, total), np.where(secret_total, SECRET_MAX, total)),
    }
    present = [b for b, col in BANDS.items() if col in residents.columns]
    if not present:
        return out
    values = np.column_stack([residents[BANDS[b]].to_numpy(dtype=float) for b in present])
    secret = np.isnan(values)
    m = (~secret).sum(axis=1)  # published bands
    k = secret.sum(axis=1)  # secret bands
    rest = total - np.where(secret, 0.0, values).sum(axis=1)  # R = T - sum(published)
    slack = ROUNDING * (m + 1)
    low = np.clip(rest - slack - SECRET_MAX * np.maximum(k - 1, 0), 0.0, SECRET_MAX)
    high = np.clip(rest + slack, 0.0, SECRET_MAX)
    if len(present) < len(BANDS):  # without every band the total says nothing about one of them
        low, high = np.zeros(len(total)), np.full(len(total), SECRET_MAX)
    low = np.where(secret_total, 0.0, np.minimum(low, high))
    high = np.where(secret_total, SECRET_MAX, high)
    for j, band in enumerate(present):
        v = values[:, j]
        s = secret[:, j]
        out[band] = (np.where(s, low, v), np.where(s, high, v))
    return out


def group_bounds(
    residents: pd.DataFrame, groups: Mapping[str, Sequence[str]]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per group its lower and upper bound per cell: the sum of its bands' bounds (groups lacking a band are left out)."""
    bounds = cell_bounds(residents)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, bands in groups.items():
        if not all(b in bounds for b in bands):
            continue
        out[name] = (
            np.sum([bounds[b][0] for b in bands], axis=0), np.sum([bounds[b][1] for b in bands], axis=0),
        )
    return out


def group_weights(residents: pd.DataFrame, bands: Sequence[str]) -> np.ndarray:
    """A siting weight per cell for one group: the middle of its range (a secret band counts as 2, like the demo)."""
    low, high = group_bounds(residents, {"g": bands})["g"]
    return (low + high) / 2.0


def share_range(within: tuple[float, float], beyond: tuple[float, float]) -> tuple[float | None, float | None]:
    """The smallest and largest share within the threshold that the two ranges allow (None without residents)."""
    (w_lo, w_hi), (b_lo, b_hi) = within, beyond
    lo = w_lo / (w_lo + b_hi) if w_lo + b_hi > 0 else None
    hi = w_hi / (w_hi + b_lo) if w_hi + b_lo > 0 else None
    return lo, hi


def _sums(keys: pd.Series, low: np.ndarray, high: np.ndarray, within: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({
        "key": keys.to_numpy(), "lo": low, "hi": high, "w_lo": np.where(within, low, 0.0),
        "w_hi": np.where(within, high, 0.0),
    })
    return frame.groupby("key", sort=False)[["lo", "hi", "w_lo", "w_hi"]].sum()


def group_table(
    residents: pd.DataFrame, buurten: pd.DataFrame, groups: Mapping[str, Sequence[str]], gemeente: tuple[str, str],
) -> pd.DataFrame:
    """The ranges per buurt, kern and gemeente of every group: one row per area and group (:data:`TARGET_COLUMNS`).

    ``residents``: canonical frame (``inwoners``, the age band columns, ``buurtcode``,
    ``binnen_drempel``); ``buurten``: buurtcode, buurtnaam and (optional) kern; ``gemeente``:
    (code, name). Every buurt gets a row, one without residents zeros and no share.
    """
    within = residents["binnen_drempel"].to_numpy(dtype=bool)
    bounds = group_bounds(residents, groups)
    codes = residents["buurtcode"].astype(str)
    names = dict(zip(buurten["buurtcode"].astype(str), buurten["buurtnaam"], strict=True))
    kern_of = (
        dict(zip(buurten["buurtcode"].astype(str), buurten["kern"].astype(str), strict=True))
        if "kern" in buurten.columns else {}
    )
    levels: list[tuple[str, pd.Series, list[tuple[str, str]]]] = [
        ("gemeente", pd.Series([gemeente[0]] * len(residents)), [gemeente]),
    ]
    if kern_of:
        kernen = list(dict.fromkeys(kern_of.values()))
        levels.append(("kern", codes.map(kern_of).fillna(""), [(k, k) for k in kernen]))
    levels.append(("buurt", codes, [(c, str(names[c])) for c in buurten["buurtcode"].astype(str)]))
    rows: list[dict[str, object]] = []
    for level, keys, areas in levels:
        for name, (low, high) in bounds.items():
            sums = _sums(keys, low, high, within)
            for code, label in areas:
                empty = pd.Series({"lo": 0.0, "hi": 0.0, "w_lo": 0.0, "w_hi": 0.0})
                # one row per key (a groupby sum): a Series, not the Series | DataFrame of the stubs
                s = cast("pd.Series[float]", sums.loc[code]) if code in sums.index else empty
                b_lo, b_hi = float(s["lo"] - s["w_lo"]), float(s["hi"] - s["w_hi"])
                share = share_range((float(s["w_lo"]), float(s["w_hi"])), (b_lo, b_hi))
                rows.append({
                    "niveau": level, "code": code, "naam": label, "doelgroep": name,
                    "inwoners_min": float(s["lo"]), "inwoners_max": float(s["hi"]),
                    "binnen_drempel_min": float(s["w_lo"]), "binnen_drempel_max": float(s["w_hi"]),
                    "buiten_drempel_min": b_lo, "buiten_drempel_max": b_hi,
                    "aandeel_binnen_min": np.nan if share[0] is None else share[0],
                    "aandeel_binnen_max": np.nan if share[1] is None else share[1],
                })
    return pd.DataFrame.from_records(rows, columns=list(TARGET_COLUMNS))


def _pair(a: float, b: float, digits: int | None = None) -> list[float | None]:
    if digits is None:
        return [float(a), float(b)]
    return [None if pd.isna(a) else round(float(a), digits), None if pd.isna(b) else round(float(b), digits)]


def summary_ranges(table: pd.DataFrame, level: str = "gemeente") -> dict[str, dict[str, list[float | None]]]:
    """``samenvatting.json`` ``target_groups``: per group its ranges for the gemeente (``level``'s first area)."""
    rows = table[table["niveau"] == level]
    out: dict[str, dict[str, list[float | None]]] = {}
    for _, r in rows.iterrows():
        if r["doelgroep"] in out:
            continue
        out[str(r["doelgroep"])] = {
            "residents": _pair(r["inwoners_min"], r["inwoners_max"]),
            "within_threshold": _pair(r["binnen_drempel_min"], r["binnen_drempel_max"]),
            "beyond_threshold": _pair(r["buiten_drempel_min"], r["buiten_drempel_max"]),
            "share_within_threshold": _pair(r["aandeel_binnen_min"], r["aandeel_binnen_max"], 4),
        }
    return out
