"""One style for every output: the web map, the print maps, the report and the overview pages.

Palettes, class breaks, hot-spot outlines and the colouring of broker areas live here, so the
same buurt or area has the same colour on ``kaart.html``, on ``kaart_*.png``/``.pdf`` and in
``rapport.html``. Colours are ColorBrewer schemes marked colour-blind safe and the Okabe-Ito
palette; hot spots are told apart by black/blue and solid/dashed outlines, never red/green
alone. Legend words come from :mod:`wijkanalyse.outputs.texts`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from wijkanalyse._format import format_number
from wijkanalyse._imports import parts_of
from wijkanalyse.result import Hotspot

__all__ = [
    "AREA_COLORS",
    "BEYOND_COLOR",
    "BORDER_COLOR",
    "GAIN_COLOR",
    "GAP_COLOR",
    "HOTSPOT_STYLES",
    "KERN_COLOR",
    "LOSS_COLOR",
    "MEETING_POINT_COLOR",
    "MISSING_COLOR",
    "OTHER_VENUE_COLOR",
    "PROPOSAL_COLOR",
    "REACH_COLORS",
    "REACH_LABELS",
    "SCENARIO_CLOSED_COLOR",
    "SCENARIO_GAINED_COLOR",
    "SCENARIO_LOST_COLOR",
    "SCENARIO_OPENED_COLOR",
    "SIGNAL_COLORS",
    "STREET_COLOR",
    "WITHIN_COLOR",
    "Classes",
    "area_colors",
    "load_classifiers",
    "reach_classes",
    "signal_classes",
]

#: Five classes per choropleth, light to dark.
SIGNAL_COLORS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")  # YlOrRd: more concern = darker
REACH_COLORS = ("#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d")  # PuBu: fewer reached = darker
MISSING_COLOR = "#bdbdbd"
#: Resident cells: ColorBrewer PRGn, green within reach, purple beyond it (a colour-blind safe pair).
WITHIN_COLOR = "#a6dba0"
BEYOND_COLOR = "#762a83"
GAP_COLOR = "#54278f"
MEETING_POINT_COLOR = "#1b7837"
OTHER_VENUE_COLOR = "#737373"
PROPOSAL_COLOR = "#d95f02"
KERN_COLOR = "#333333"
STREET_COLOR = "#8c8c8c"
BORDER_COLOR = "#606060"
#: The what-if on the map: cells that come within the threshold, and cells that fall beyond it
#: (ColorBrewer PiYG, a colour-blind safe pair).
GAIN_COLOR = "#4dac26"
LOSS_COLOR = "#d01c8b"
#: A scenario's changes (Okabe-Ito): cells losing their meeting point, cells gaining one, places closing and opening.
SCENARIO_LOST_COLOR = "#d55e00"
SCENARIO_GAINED_COLOR = "#009e73"
SCENARIO_CLOSED_COLOR = "#000000"
SCENARIO_OPENED_COLOR = "#0072b2"

#: Outline per Local Moran pattern: (colour, dashed).
HOTSPOT_STYLES: dict[Hotspot, tuple[str, bool]] = {
    Hotspot.HOT: ("#000000", False),
    Hotspot.HIGH_LOW: ("#000000", True),
    Hotspot.COLD: ("#2166ac", False),
    Hotspot.LOW_HIGH: ("#2166ac", True),
}

#: Okabe-Ito: eight colours told apart with every common colour blindness.
AREA_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999")


@dataclass(frozen=True)
class Classes:
    """Class of each value (-1 = missing), with a colour and a legend label per class."""

    index: np.ndarray
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    missing: bool = False

    def color_of(self, i: int) -> str:
        """The fill of value ``i`` (the missing colour for a missing value)."""
        c = int(self.index[i])
        return self.colors[c] if c >= 0 else MISSING_COLOR


def _numbers(values: Any) -> np.ndarray:
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)


def load_classifiers() -> tuple[Any, Any]:
    """mapclassify's ``Quantiles`` and ``UserDefined``, without its ``__init__`` and with k-means deferred.

    The classifiers module imports ``sklearn.cluster`` for its k-means classifier only; the
    two used here never call it (:mod:`wijkanalyse._imports`).
    """
    parts_of(("mapclassify",), ("mapclassify.classifiers",), deferred={"sklearn.cluster": ("KMeans",)})
    from mapclassify.classifiers import Quantiles, UserDefined  # noqa: PLC0415 (only the outputs need it)

    return Quantiles, UserDefined


def signal_classes(values: Any) -> Classes:
    """Quantile classes (mapclassify): each colour holds about a fifth of the buurten.

    The darkest colour reads as "the fifth of the buurten with the highest signal", whatever
    the values. Ties can merge classes; then there are fewer, spread over the palette. One
    distinct value is one class, labelled as such.
    """
    Quantiles, _ = load_classifiers()
    numbers = _numbers(values)
    finite = np.isfinite(numbers)
    index = np.full(len(numbers), -1, dtype=int)
    distinct = np.unique(numbers[finite])
    missing = bool((~finite).any())
    if distinct.size == 0:
        return Classes(index, (), (), missing)
    if distinct.size == 1:
        index[finite] = 0
        return Classes(index, (SIGNAL_COLORS[2],), (f"{format_number(distinct[0], 2)} (alle buurten gelijk)",), missing)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # mapclassify lowers k itself when values repeat
        scheme = Quantiles(numbers[finite], k=min(len(SIGNAL_COLORS), int(distinct.size)))
    index[finite] = scheme.yb
    bins = np.asarray(scheme.bins, dtype=float)
    k = len(bins)
    colors = tuple(SIGNAL_COLORS[i] for i in np.linspace(0, len(SIGNAL_COLORS) - 1, k).round().astype(int))
    lows = [float(distinct[0]), *bins[:-1].tolist()]
    labels = tuple(f"{format_number(lo, 2)} tot {format_number(hi, 2)}" for lo, hi in zip(lows, bins.tolist(), strict=True))
    return Classes(index, colors, labels, missing)


#: Reach classes: fixed, so maps of different gemeenten and years compare. Class 0 = everyone.
_REACH_BINS = (0.5, 0.75, 0.9, 1.0 - 1e-9, 1.0)
REACH_LABELS = ("100 % (iedereen)", "90 tot 100 %", "75 tot 90 %", "50 tot 75 %", "50 % of minder")


def reach_classes(values: Any) -> Classes:
    """Fixed breaks (mapclassify.UserDefined) on the share within the threshold; class 0 (lightest) = 100 %."""
    _, UserDefined = load_classifiers()
    numbers = _numbers(values)
    finite = np.isfinite(numbers)
    index = np.full(len(numbers), -1, dtype=int)
    if finite.any():
        scheme = UserDefined(np.clip(numbers[finite], 0.0, 1.0), list(_REACH_BINS))
        index[finite] = 4 - np.asarray(scheme.yb, dtype=int)
    return Classes(index, REACH_COLORS, REACH_LABELS, bool((~finite).any()))


def area_colors(geometries: Any) -> list[str]:
    """One colour per broker area, neighbours different where the eight colours allow.

    Greedy graph colouring, most neighbours first (ties by position), on "touches or overlaps"
    (shapely STRtree). The same areas always get the same colours, on the web map and the
    print map alike.
    """
    import shapely  # noqa: PLC0415

    geoms = np.asarray(geometries, dtype=object)
    if len(geoms) == 0:
        return []
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    neighbours: list[set[int]] = [set() for _ in range(len(geoms))]
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a != b:
            neighbours[a].add(b)
    order = sorted(range(len(geoms)), key=lambda i: (-len(neighbours[i]), i))
    chosen: dict[int, int] = {}
    for i in order:
        taken = {chosen[j] for j in neighbours[i] if j in chosen}
        free = [c for c in range(len(AREA_COLORS)) if c not in taken]
        chosen[i] = free[0] if free else i % len(AREA_COLORS)
    return [AREA_COLORS[chosen[i]] for i in range(len(geoms))]
