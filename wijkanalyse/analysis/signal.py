"""The composite signal per buurt: a weighted mean of standardised indicators."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from wijkanalyse.config import Indicator

__all__ = ["MIN_DISTINCT_VALUES", "composite_signal", "varying_indicators", "zscores"]

log = logging.getLogger(__name__)

#: Default of ``[thresholds] min_distinct_values``: an indicator needs this many different values.
MIN_DISTINCT_VALUES = 3


def zscores(values: pd.Series) -> pd.Series:
    """Standardise ``values`` (mean 0, population sd 1) ignoring NaN; constant input gives 0."""
    mean = values.mean(skipna=True)
    sd = values.std(skipna=True, ddof=0)
    if not np.isfinite(sd) or sd == 0:
        return (values * 0.0).where(values.notna())
    return (values - mean) / sd


def varying_indicators(
    frame: pd.DataFrame, indicators: dict[str, Indicator], min_distinct: int = MIN_DISTINCT_VALUES,
) -> dict[str, Indicator]:
    """The indicators with at least ``min_distinct`` different values in ``frame``; a warning names the others.

    An indicator that is the same everywhere (every buurt 0: z-score 0) adds nothing but
    weight, and with it alone every buurt would have the same signal.
    """
    kept: dict[str, Indicator] = {}
    for key, indicator in indicators.items():
        values = frame[key].astype(float)
        distinct = values[np.isfinite(values)].round(9).nunique()
        if distinct >= min_distinct:
            kept[key] = indicator
            continue
        log.warning(
            "Let op: indicator %s heeft in de buurten minder dan %d verschillende waarden (%d); het telt niet mee "
            "in het signaal. Kies een indicator die per buurt verschilt ([indicators]), of verlaag "
            "[thresholds] min_distinct_values.", key, min_distinct, distinct,
        )
    if indicators and not kept:
        log.warning("Let op: geen indicator verschilt genoeg per buurt: er is geen signaal met variatie, dus geen "
                    "hotspots. Kies indicatoren die per buurt verschillen ([indicators]).")
    return kept


def composite_signal(
    frame: pd.DataFrame, indicators: dict[str, Indicator], min_distinct: int = MIN_DISTINCT_VALUES,
) -> pd.Series:
    """Weighted mean of the indicators' z-scores, signed so that higher = more concern.

    Indicators with fewer than ``min_distinct`` different values are left out (with a
    warning, :func:`varying_indicators`). A buurt missing an indicator (CBS suppressed it)
    is scored on the indicators it has; a buurt missing all of them gets NaN (every buurt,
    when no indicator varies). Returns a Series named ``signaal`` with the index of ``frame``.
    """
    total = pd.Series(0.0, index=frame.index)
    weights = pd.Series(0.0, index=frame.index)
    for key, indicator in varying_indicators(frame, indicators, min_distinct).items():
        z = zscores(frame[key].astype(float))
        if not indicator.higher_is_worse:
            z = -z
        known = z.notna()
        total = total + z.fillna(0.0) * indicator.weight
        weights = weights + known * indicator.weight
    return (total / weights.where(weights > 0)).rename("signaal")
