"""Every Dutch word an output shows for a code in the data.

The analysis returns codes (:class:`~wijkanalyse.result.Hotspot`, :class:`~wijkanalyse.result.Reach`,
match kinds, reasons); the outputs turn them into Dutch here and nowhere else, so a label is
changed in one place and a code is never compared as a sentence.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

import pandas as pd

from wijkanalyse._format import format_int, format_number, format_percent
from wijkanalyse.analysis.brokers import BrokerNeed
from wijkanalyse.config import Brokers
from wijkanalyse.result import Hotspot, Reach

__all__ = [
    "HOTSPOT_CHANGE_LABELS",
    "HOTSPOT_LABELS",
    "HOTSPOT_PLAIN",
    "HOTSPOT_SHORT",
    "MATCH_LABELS",
    "MATCH_SHORT",
    "REACH_LABELS",
    "SCENARIO_CHANGE_LABELS",
    "SCENARIO_POINT_LABELS",
    "TREND_STATUS_LABELS",
    "broker_cost_words",
    "broker_explanations",
    "broker_need_line",
    "closing_line",
    "comparison_with_labels",
    "gap_count_words",
    "gap_distance_text",
    "hotspot_label",
    "priority_explanation",
    "proposal_line",
    "reach_label",
    "scenario_line",
    "small_gaps_words",
    "target_groups_rule",
    "vulnerable_line",
    "what_if_lines",
    "with_labels",
    "workload_explanation",
]

#: Local Moran pattern -> the label in tables (CSV, XLSX, GeoPackage).
HOTSPOT_LABELS: dict[str, str] = {  # str keys: Hotspot is a StrEnum; frames hold plain str
    Hotspot.HOT: "hotspot (hoog, omgeven door hoog)",
    Hotspot.LOW_HIGH: "uitschieter (laag, omgeven door hoog)",
    Hotspot.COLD: "coldspot (laag, omgeven door laag)",
    Hotspot.HIGH_LOW: "uitschieter (hoog, omgeven door laag)",
    Hotspot.NONE: "niet significant",
}
#: Short words for report table cells (not significant: empty).
HOTSPOT_SHORT: dict[str, str] = {
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


def hotspot_label(code: Any, words: Mapping[str, str] = HOTSPOT_LABELS) -> str:
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


#: What a scenario does to a resident cell (``scenario_changes.verandering``).
SCENARIO_CHANGE_LABELS = {"lost": "verliest zijn ontmoetingspunt binnen de drempel", "gained": "krijgt een ontmoetingspunt binnen de drempel"}
#: What a scenario does to a place (``scenario_points.wijziging``).
SCENARIO_POINT_LABELS = {"closed": "sluit", "opened": "gaat open als ontmoetingspunt"}


def with_labels(frame: pd.DataFrame, *, max_attach_m: float | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with its code columns (``hotspot``, ``bereik``, ``verandering``, ``wijziging``) in Dutch."""
    out = frame.copy()
    if "hotspot" in out.columns:
        out["hotspot"] = out["hotspot"].map(hotspot_label).astype(object)
    if "bereik" in out.columns:
        out["bereik"] = out["bereik"].map(lambda c: reach_label(c, max_attach_m)).astype(object)
    for column, words in (("verandering", SCENARIO_CHANGE_LABELS), ("wijziging", SCENARIO_POINT_LABELS)):
        if column in out.columns:
            out[column] = out[column].map(lambda c, w=words: w.get(c, c)).astype(object)
    return out


# --------------------------------------------------------------------------- dependence and scenarios


def _beyond(threshold_m: float, distance_method: str) -> str:
    return f"{format_int(threshold_m)} m" + (" hemelsbreed" if distance_method == "straight_line" else "")


def closing_line(
    residents_losing: Any, threshold_m: float, distance_method: str = "network", cells: Any = None,
) -> str:
    """What closing a meeting point does, for its popup after "Als dit punt sluit:".

    ``640 inwoners wonen dan verder dan 400 m`` (``hemelsbreed`` added for a straight-line run);
    ``iedereen houdt een ander ontmoetingspunt binnen 400 m`` when nobody depends on it alone;
    when only cells with a secret count (CBS: 1 to 4 residents) do, it says so (``cells``: the
    cells that depend on it alone).
    """
    if residents_losing is None or (isinstance(residents_losing, float) and math.isnan(residents_losing)):
        return "onbekend"
    n = float(residents_losing)
    where = _beyond(threshold_m, distance_method)
    if n <= 0:
        k = 0 if cells is None or (isinstance(cells, float) and math.isnan(cells)) else int(cells)
        if k > 0:
            return (f"{format_int(k)} {'vak' if k == 1 else 'vakken'} met een geheim aantal inwoners (1 tot 4) "
                    f"{'ligt' if k == 1 else 'liggen'} dan verder dan {where}")
        return f"iedereen houdt een ander ontmoetingspunt binnen {where}"
    verb = "woont" if round(n) == 1 else "wonen"
    return f"{format_int(n)} {'inwoner' if round(n) == 1 else 'inwoners'} {verb} dan verder dan {where}"


def vulnerable_line(entry: Mapping[str, Any], threshold_m: float, distance_method: str = "network") -> str:
    """One stdout line for a ``vulnerable_meeting_points`` entry of ``samenvatting.json``."""
    name = " ".join(str(entry.get("name") or entry.get("id") or "").split())
    losing = closing_line(entry.get("residents_losing_access"), threshold_m, distance_method, entry.get("cells_only_here"))
    text = f"{name} sluit: {losing}"
    mean = entry.get("next_distance_mean_m")
    if mean is not None:
        text += f" (gemiddeld {format_int(mean)} m naar het volgende)"
    return text


def scenario_line(entry: Mapping[str, Any], threshold_now_m: float) -> str:
    """One stdout line for a ``scenarios`` entry of ``samenvatting.json``, the run's own figure beside it.

    ``Scenario 'De Schakel dicht': 14.480 inwoners binnen 400 m, nu 14.810 (−330; 73,0 % → 71,4 %)``;
    a scenario with its own threshold names both.
    """
    change = float(entry.get("change_within_threshold") or 0.0)
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    threshold = float(entry.get("threshold_m") or threshold_now_m)
    now = f"nu {format_int(entry.get('residents_within_threshold_now'))}"
    if threshold != float(threshold_now_m):
        now += f" binnen {format_int(threshold_now_m)} m"
    shares = ""
    share, share_now = entry.get("share_within_threshold"), entry.get("share_within_threshold_now")
    if share is not None and share_now is not None:
        shares = f"; {format_percent(share_now)} → {format_percent(share)}"
    return (
        f"Scenario '{' '.join(str(entry.get('name')).split())}': {format_int(entry.get('residents_within_threshold'))} "
        f"inwoners binnen {format_int(threshold)} m, {now} ({sign}{format_int(abs(change))}{shares})"
    )


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


#: On-track code of ``wijkanalyse trend`` (:mod:`wijkanalyse.analysis.trend`) -> the Dutch verdict.
TREND_STATUS_LABELS = {
    "reached": "gehaald",
    "on_track": "op koers",
    "off_track": "niet op koers",
    "unknown": "onbekend",
    None: "geen doel",
}


def comparison_with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """A comparison table for people: ``koppeling`` (the match in words) after ``match``; hot-spot codes in Dutch."""
    out = frame.copy()
    if "match" in out.columns:
        out.insert(cast(int, out.columns.get_loc("match")) + 1, "koppeling", out["match"].map(MATCH_LABELS).astype(object))
    for col in ("hotspot_oud", "hotspot_nieuw"):
        if col in out.columns:
            out[col] = out[col].map(lambda c: hotspot_label(c) or None).astype(object)
    if "hotspot_wijziging" in out.columns:
        out["hotspot_wijziging"] = out["hotspot_wijziging"].map(HOTSPOT_CHANGE_LABELS).astype(object)
    return out


# --------------------------------------------------------------------------- decisions


def proposal_line(row: Mapping[str, Any] | pd.Series) -> str:
    """One stdout line for a proposal, e.g.

    ``Nieuw ontmoetingspunt 1: Basisschool De Noordster, bereikt 1.240 inwoners meer (€ 20 per inwoner per jaar)``.
    The name is plain text (escape it before putting it in HTML).
    """
    name = row.get("naam")
    if name is None or (isinstance(name, float) and math.isnan(name)) or not str(name).strip():
        name = f"kandidaat {int(row['kandidaat'])}"
    name = " ".join(str(name).split())  # one line, whatever the OSM name holds
    newly = format_int(row["nieuw_binnen_bereik"])
    text = f"Nieuw ontmoetingspunt {int(row['rang'])}: {name}, bereikt {newly} inwoners meer"
    per = row.get("kosten_per_inwoner")
    if per is not None and not (isinstance(per, float) and math.isnan(per)):
        text += f" (€ {format_number(per)} per inwoner per jaar)"
    return text


def _share(weight: float, total: float) -> str:
    return format_number(weight / total, 2)


def priority_explanation(
    settings: Brokers | None = None, threshold_m: float = 400.0, distance_method: str = "network",
) -> str:
    """The priority formula of :func:`wijkanalyse.analysis.brokers.buurt_priority` in plain Dutch, with the weights.

    ``distance_method`` names the distance as the run measured it: walked (``network``) or
    ``straight_line`` (hemelsbreed).
    """
    s = settings or Brokers()
    total = s.priority_signal + s.priority_beyond + s.priority_hotspot
    distance = "lopen" if distance_method == "network" else "hemelsbreed"
    return (
        "De prioriteit van een buurt of kern loopt van 0 (laag) tot 1 (hoog). Ze telt drie dingen op: "
        f"{_share(s.priority_signal, total)} × de plaats in de rangorde van het signaal "
        "(0 = laagste signaal van de gemeente, 1 = hoogste; onbekend telt als 0), "
        f"{_share(s.priority_beyond, total)} × het aandeel inwoners dat verder dan "
        f"{format_int(threshold_m)} m {distance} van een ontmoetingspunt woont, en "
        f"{_share(s.priority_hotspot, total)} × hotspot (1 als de buurt een hotspot is; bij een kern: het "
        "aandeel inwoners dat in een hotspotbuurt woont). Hoe hoger, hoe eerder een wijkmakelaar of "
        "dorpscoördinator daar nodig is. De gewichten staan in [brokers] in het configuratiebestand."
    )


def target_groups_rule(secret_max: float, rounding: float) -> str:
    """How the target groups' ranges are made (``target_groups_rule`` in ``samenvatting.json``), in plain Dutch.

    ``secret_max``: the most residents a secret age band can hold; ``rounding``: how far a published
    figure can lie from the truth (:data:`wijkanalyse.analysis.groups.SECRET_MAX` and ``ROUNDING``).
    """
    return (
        f"Een leeftijdsgroep die het CBS in een vierkant geheim houdt, telt als 0 tot {format_number(secret_max, 0)} "
        "inwoners, begrensd door het totaal van het vierkant; de gepubliceerde aantallen zijn afgerond op 5 "
        f"(elk tot {format_number(rounding, 0)} naast het echte aantal). Daarom is elk doelgroepcijfer een "
        "bandbreedte van laag tot hoog."
    )


def workload_explanation(settings: Brokers | None = None) -> str:
    """The workload formula of :func:`wijkanalyse.analysis.brokers.workload` and the fte norm in plain Dutch."""
    s = settings or Brokers()
    return (
        "Werklast van een buurt = inwoners × (1 + "
        f"{format_number(s.workload_signal_weight, 2)} × het signaal als dat boven het gemiddelde ligt). "
        "Een buurt met een hoger signaal vraagt dus meer tijd per inwoner. Eén fte wijkmakelaar of "
        f"dorpscoördinator kan een werklast van {format_int(s.workload_per_fte)} dragen; het aantal nodig is de "
        "totale werklast gedeeld door dat getal, naar boven afgerond."
    )


def broker_cost_words(need: BrokerNeed) -> str:
    """How the broker cost is counted, in words, with the other count beside it.

    ``persons`` (the default): "3 voltijdsbanen van € 80.000 (alleen de werklast van 2,31 fte zou € 184.800
    kosten)"; ``fte``: "2,31 fte werklast × € 80.000 per fte (3 voltijdsbanen zouden € 240.000 kosten)".
    """
    per_post = f"€ {format_int(need.cost_per_fte)}"
    fte = f"{format_number(need.fte, 2)} fte"
    posts = f"{need.brokers} {'voltijdsbaan' if need.brokers == 1 else 'voltijdsbanen'}"
    if need.cost_basis == "fte":
        would = "zou" if need.brokers == 1 else "zouden"
        return f"{fte} werklast × {per_post} per fte ({posts} {would} € {format_int(need.cost_persons)} kosten)"
    return f"{posts} van {per_post} (alleen de werklast van {fte} zou € {format_int(need.cost_fte)} kosten)"


def broker_need_line(need: BrokerNeed) -> str:
    """One Dutch sentence for stdout and the report: how many brokers, their workload, the cost and how it is counted."""
    return (
        f"Nodig: {need.brokers} wijkmakelaar(s) of dorpscoördinator(en) "
        f"({format_number(need.fte, 1)} fte werklast), € {format_int(need.cost_per_year)} per jaar: "
        f"{broker_cost_words(need)}"
    )


def small_gaps_words(n_small: Any, min_residents: Any) -> str:
    """"waarvan 20 klein (minder dan 25 inwoners)"; "" without small gaps (or without a minimum)."""
    small = int(n_small or 0)
    if not small or min_residents is None:
        return ""
    return f"waarvan {format_int(small)} klein (minder dan {format_int(min_residents)} inwoners)"


def gap_count_words(n_gaps: Any, n_small: Any, min_residents: Any) -> str:
    """"45 gebieden, waarvan 20 klein (minder dan 25 inwoners)"; without small gaps just "45 gebieden"."""
    n = int(n_gaps or 0)
    text = f"{format_int(n)} {'gebied' if n == 1 else 'gebieden'}"
    small = small_gaps_words(n_small, min_residents)
    return f"{text}, {small}" if small else text


def gap_distance_text(value: Any, threshold_m: float) -> str:
    """The farthest distance in a gap: "587 m", or "meer dan 400 m" when it would round to the threshold.

    Every resident of a gap lives beyond ``threshold_m`` (400.001 m is beyond 400 m), so a gap never
    shows the threshold itself or less. NaN or inf: no meeting point can be reached at all.
    """
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "geen ontmoetingspunt bereikbaar"
    if float(value) <= threshold_m + 0.5:  # would print as the threshold (or less)
        return f"meer dan {format_int(threshold_m)} m"
    return f"{format_int(value)} m"


def broker_explanations(
    settings: Brokers, threshold_m: float, need: BrokerNeed, distance_method: str = "network",
) -> dict[str, str]:
    """The plain-Dutch texts the outputs show beside the broker figures (``RunResult.explanations``)."""
    return {
        "priority": priority_explanation(settings, threshold_m, distance_method),
        "workload": workload_explanation(settings),
        "brokers": broker_need_line(need),
        "cost": broker_cost_words(need),
    }


def what_if_lines(summary: Mapping[str, Any], n_vulnerable: int = 3) -> list[str]:
    """The CLI summary's lines on vulnerable meeting points (the first ``n_vulnerable``) and every scenario."""
    threshold = float(summary.get("threshold_m") or 0.0)
    method = str(summary.get("distance_method", "network"))
    points = list(summary.get("vulnerable_meeting_points") or [])
    lines = []
    if points:
        lines.append(f"kwetsbare ontmoetingspunten: {len(points)} (het enige binnen {format_int(threshold)} m voor een deel van de inwoners)")
        lines += ["  " + vulnerable_line(p, threshold, method) for p in points[:n_vulnerable]]
    lines += [scenario_line(entry, threshold) for entry in summary.get("scenarios") or []]
    return lines
