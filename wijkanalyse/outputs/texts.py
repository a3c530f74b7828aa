"""Every Dutch word an output shows for a code in the data.

The analysis returns codes (:class:`~wijkanalyse.result.Hotspot`, :class:`~wijkanalyse.result.Reach`,
match kinds, reasons); the outputs turn them into Dutch here and nowhere else, so a label is
changed in one place and a code is never compared as a sentence.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from wijkanalyse.result import Hotspot, Reach

__all__ = [
    "HOTSPOT_CHANGE_LABELS",
    "HOTSPOT_LABELS",
    "HOTSPOT_PLAIN",
    "HOTSPOT_SHORT",
    "MATCH_LABELS",
    "MATCH_SHORT",
    "REACH_LABELS",
    "comparison_with_labels",
    "hotspot_label",
    "reach_label",
    "with_labels",
]

#: Local Moran pattern -> the label in tables (CSV, XLSX, GeoPackage).
HOTSPOT_LABELS = {
    Hotspot.HOT: "hotspot (hoog, omgeven door hoog)",
    Hotspot.LOW_HIGH: "uitschieter (laag, omgeven door hoog)",
    Hotspot.COLD: "coldspot (laag, omgeven door laag)",
    Hotspot.HIGH_LOW: "uitschieter (hoog, omgeven door laag)",
    Hotspot.NONE: "niet significant",
}
#: Short words for report table cells (not significant: empty).
HOTSPOT_SHORT = {
    Hotspot.HOT: "hotspot",
    Hotspot.LOW_HIGH: "laag tussen hoog",
    Hotspot.COLD: "coldspot",
    Hotspot.HIGH_LOW: "hoog tussen laag",
    Hotspot.NONE: "",
}
#: Plain sentences for the map's legend and popups.
HOTSPOT_PLAIN = {
    Hotspot.HOT: "hotspot: hoog signaal, de buren ook",
    Hotspot.HIGH_LOW: "uitschieter: hoog signaal, de buren laag",
    Hotspot.COLD: "coldspot: laag signaal, de buren ook",
    Hotspot.LOW_HIGH: "uitschieter: laag signaal, de buren hoog",
    Hotspot.NONE: "geen duidelijk patroon met de buren",
}

#: Reach of a resident cell over the network (``{max_attach_m}`` is filled in).
REACH_LABELS = {
    Reach.REACHABLE: "bereikbaar",
    Reach.UNREACHABLE: "geen ontmoetingspunt bereikbaar over het netwerk",
    Reach.OFF_NETWORK: "niet op het netwerk (verder dan {max_attach_m} m van een looproute)",
}


def _code(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):  # noqa: PLR0124 (NaN)
        return None
    return str(value)


def hotspot_label(code: Any, words: dict[Hotspot, str] = HOTSPOT_LABELS) -> str:
    """The Dutch words for a hot-spot code (``words``: which set); an unknown value as it is."""
    key = _code(code)
    if key is None:
        return ""
    try:
        return words[Hotspot(key)]
    except ValueError:
        return key


def reach_label(code: Any, max_attach_m: float | None = None) -> str:
    """The Dutch words for a reach code."""
    key = _code(code)
    if key is None:
        return ""
    try:
        text = REACH_LABELS[Reach(key)]
    except ValueError:
        return key
    return text.format(max_attach_m=f"{max_attach_m:g}" if max_attach_m is not None else "de grens")


def with_labels(frame: pd.DataFrame, *, max_attach_m: float | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with its code columns (``hotspot``, ``bereik``) in Dutch, for a file a person opens."""
    out = frame.copy()
    if "hotspot" in out.columns:
        out["hotspot"] = out["hotspot"].map(hotspot_label).astype(object)
    if "bereik" in out.columns:
        out["bereik"] = out["bereik"].map(lambda c: reach_label(c, max_attach_m)).astype(object)
    return out


# --------------------------------------------------------------------------- year on year (compare)

#: Match kind of a buurt between two years -> plain Dutch, for the map, the report and the CSV.
MATCH_LABELS = {
    "code": "zelfde buurt, zelfde code",
    "overlap": "zelfde gebied, nieuwe buurtcode",
    "split": "deel van een gesplitste buurt",
    "merged": "samengevoegd uit meer buurten",
    "redrawn": "opnieuw ingedeeld uit delen van meer buurten",
    "new": "nieuw gebied (hoorde er vorig jaar niet bij)",
    "gone": "vervallen (gebied hoort niet meer bij de gemeente)",
}
#: Match kind -> a word or two, for counts ("17 ongewijzigd, 2 uit een splitsing").
MATCH_SHORT = {
    "code": "ongewijzigd",
    "overlap": "nieuwe code",
    "split": "uit een splitsing",
    "merged": "uit een samenvoeging",
    "redrawn": "opnieuw ingedeeld",
    "new": "nieuw gebied",
    "gone": "vervallen",
}
#: Hot-spot change code (``analysis.compare.HOTSPOT_CHANGE``) -> Dutch.
HOTSPOT_CHANGE_LABELS = {"new": "nieuwe hotspot", "gone": "geen hotspot meer", "kept": "blijft hotspot", "none": "geen hotspot"}


def comparison_with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """A comparison table for people: ``koppeling`` (the match in words) after ``match``; hot-spot codes in Dutch."""
    out = frame.copy()
    if "match" in out.columns:
        out.insert(out.columns.get_loc("match") + 1, "koppeling", out["match"].map(MATCH_LABELS).astype(object))
    for col in ("hotspot_oud", "hotspot_nieuw"):
        if col in out.columns:
            out[col] = out[col].map(lambda c: hotspot_label(c) or None).astype(object)
    if "hotspot_wijziging" in out.columns:
        out["hotspot_wijziging"] = out["hotspot_wijziging"].map(HOTSPOT_CHANGE_LABELS).astype(object)
    return out
