"""The composite signal per buurt: a weighted mean of standardised indicators."""

from __future__ import annotations

import numpy as np
import pandas as pd

from wijkanalyse.config import Indicator

__all__ = ["composite_signal", "zscores"]


def zscores(values: pd.Series) -> pd.Series:
    """Standardise ``values`` (mean 0, population sd 1) ignoring NaN; constant input gives 0."""
    mean = values.mean(skipna=True)
    sd = values.std(skipna=True, ddof=0)
    if not np.isfinite(sd) or sd == 0:
        return (values * 0.0).where(values.notna())
    return (values - mean) / sd


def composite_signal(frame: pd.DataFrame, indicators: dict[str, Indicator]) -> pd.Series:
    """Weighted mean of the indicators' z-scores, signed so that higher = more concern.

    A buurt missing an indicator (CBS suppressed it) is scored on the indicators it has;
    a buurt missing all of them gets NaN. Returns a Series named ``signaal`` with the index
    of ``frame``.
    """
    total = pd.Series(0.0, index=frame.index)
    weights = pd.Series(0.0, index=frame.index)
    for key, indicator in indicators.items():
        z = zscores(frame[key].astype(float))
        if not indicator.higher_is_worse:
            z = -z
        known = z.notna()
        total = total + z.fillna(0.0) * indicator.weight
        weights = weights + known * indicator.weight
    return (total / weights.where(weights > 0)).rename("signaal")
