"""Write a year-over-year comparison: CSV for Excel, GeoPackage, JSON, map and report section.

The figures come from :func:`wijkanalyse.analysis.compare.compare_buurten`; this module only
presents them. Every file is written atomically. Text from CBS (buurt names) is untrusted:
it is escaped in HTML (Jinja2 autoescape, :func:`html.escape` in the map) and neutralised
against formula injection in the CSV files (a cell starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return gets a leading apostrophe, so Excel shows it as text).

The report section is a Jinja2 template fragment, ``templates/vergelijking.html.j2``, fed by
:func:`report_context`; :func:`render_section` renders the fragment (for the future report to
include) and :func:`write_report` a self-contained page ``vergelijking.html`` around it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from wijkanalyse import _atomic
from wijkanalyse._format import _is_missing, format_int, format_number, format_percent
from wijkanalyse.analysis.compare import Comparison
from wijkanalyse.outputs.texts import HOTSPOT_CHANGE_LABELS, MATCH_LABELS, comparison_with_labels
from wijkanalyse.outputs._common import environment, for_file, jsonable
from wijkanalyse.outputs.write import write_table_csv

__all__ = [
    "format_pp",
    "format_signed",
    "render_section",
    "report_context",
    "write_comparison",
    "write_comparison_csv",
    "write_comparison_geopackage",
    "write_report",
]

#: A text cell starting with one of these would be read by Excel as a formula.

#: Buurt rows shown in the report table: a share change of at least this many percentage points,
#: a changed hot-spot status or a changed division; the rest is in vergelijking.csv.
REPORT_MIN_PP = 1.0


# --------------------------------------------------------------------------- formatting


def format_signed(value: Any, decimals: int = 0, missing: str = "onbekend") -> str:
    """A change with its sign, Dutch style: ``+1.250``, ``-3,5``, ``0``."""
    if _is_missing(value):
        return missing
    number = float(value)
    text = format_number(number, decimals)
    if text.strip("0,.") == "":
        return text
    return f"+{text}" if number > 0 else text


def format_pp(value: Any, missing: str = "onbekend") -> str:
    """A change of a share in percentage points: ``+51,2 procentpunt``."""
    if _is_missing(value):
        return missing
    return f"{format_signed(value, 1)} procentpunt"


def _name(row: Any) -> str:
    return f"{row['buurtnaam']} ({row['buurtcode']})"


# --------------------------------------------------------------------------- tables


def write_comparison_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a comparison table for Dutch Excel (:func:`wijkanalyse.outputs.write.write_table_csv`), booleans as ja/nee."""
    frame = comparison_with_labels(frame)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name) if isinstance(frame, gpd.GeoDataFrame) else frame)
    for col in table.columns:
        if pd.api.types.is_bool_dtype(table[col]):
            table[col] = table[col].map({True: "ja", False: "nee"})
    return write_table_csv(table, path)


def write_comparison_geopackage(comparison: Comparison, path: Path) -> Path:
    """Write layers ``buurten`` (the changes per buurt), ``kernen``, ``koppelingen`` (the overlaps) and
    ``ontmoetingspunten`` (opened and closed); an empty layer is left out."""

    def writer(tmp: Path) -> None:
        layers = {"buurten": comparison.buurten, "kernen": comparison.kernen, "koppelingen": comparison.links}
        if comparison.meeting_points is not None:
            layers["ontmoetingspunten"] = comparison.meeting_points
        for layer, frame in layers.items():
            if frame.empty:
                continue
            for_file(comparison_with_labels(frame)).to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio")

    return _atomic.write_with(path, writer)


# --------------------------------------------------------------------------- report


def _change_word(pp: Any) -> str:
    if _is_missing(pp) or abs(float(pp)) < 0.05:
        return "gelijk"
    return "beter" if float(pp) > 0 else "slechter"


def _division_sentences(comparison: Comparison) -> list[str]:
    """The changes of the buurt division in plain Dutch, one sentence each."""
    rows = comparison.buurten
    links = comparison.links
    old_names = {
        code: f"{name} ({code})" for code, name in zip(links["buurtcode_oud"], links["buurtnaam_oud"], strict=True)
    }
    sentences = []
    splits: dict[str, list[str]] = {}
    for _, row in rows[rows["match"] == "split"].iterrows():
        splits.setdefault(row["oude_buurtcodes"], []).append(_name(row))
    for source, parts in splits.items():
        sentences.append(f"{old_names.get(source, source)} is gesplitst; het gebied hoort nu bij {_and(parts)}.")
    for _, row in rows[rows["match"] == "merged"].iterrows():
        sources = [old_names.get(c, c) for c in row["oude_buurtcodes"].split(",")]
        sentences.append(f"{_and(sources)} zijn samengevoegd tot {_name(row)}.")
    for _, row in rows[rows["match"] == "overlap"].iterrows():
        source = row["oude_buurtcodes"]
        sentences.append(f"{old_names.get(source, source)} heeft een nieuwe buurtcode: {row['buurtcode']}.")
    for _, row in rows[rows["match"] == "redrawn"].iterrows():
        sources = [old_names.get(c, c) for c in row["oude_buurtcodes"].split(",")]
        sentences.append(f"{_name(row)} is nieuw ingedeeld uit delen van {_and(sources)}.")
    for _, row in rows[rows["match"] == "new"].iterrows():
        sentences.append(f"{_name(row)} is een nieuw gebied: het hoorde vorig jaar niet bij een buurt van de gemeente.")
    for _, row in rows[rows["match"] == "gone"].iterrows():
        sentences.append(f"{_name(row)} bestaat niet meer: het gebied hoort niet meer bij de gemeente.")
    return sentences


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " en " + items[-1]


def _hot_names(comparison: Comparison, codes: list[str]) -> list[str]:
    rows = comparison.buurten
    return [_name(rows.loc[c]) for c in codes if c in rows.index]


def report_context(comparison: Comparison, summary: dict[str, Any]) -> dict[str, Any]:
    """Everything the report section shows, as ready-made Dutch text (the template only lays it out).

    Parameters
    ----------
    comparison
        The comparison of the two runs.
    summary
        ``vergelijking.json`` (:func:`wijkanalyse.pipeline.compare`): the comparison's
        samenvatting plus gemeente_name, gemeente_code, jaar_oud, jaar_nieuw, synthetic,
        threshold_m, distance_method and waarschuwingen.
    """
    s = summary
    old_year, new_year = s["year_old"], s["year_new"]
    key = _key_message(s)
    buurten = _buurt_lines(comparison)
    kernen = _kern_lines(comparison)
    explanation = _explanation(s["weighting"])
    return {
        "titel": f"{s['gemeente_name']}: {old_year} en {new_year} vergeleken",
        "gemeente": s["gemeente_name"],
        "jaar_oud": old_year,
        "jaar_nieuw": new_year,
        "drempel": format_int(s["threshold_m"]),
        "synthetisch": bool(s.get("synthetic")),
        "kernboodschap": key,
        "hotspots_erbij": _hot_names(comparison, s["hotspots_added"]),
        "hotspots_eraf": _hot_names(comparison, s["hotspots_removed"]),
        "punten_erbij": [_point(p) for p in s.get("meeting_points_opened", [])],
        "punten_eraf": [_point(p) for p in s.get("meeting_points_closed", [])],
        "gestegen": [f"{t['buurtnaam']} ({format_pp(t['change_pp'])})" for t in s["largest_share_rises"]],
        "gedaald": [f"{t['buurtnaam']} ({format_pp(t['change_pp'])})" for t in s["largest_share_falls"]],
        "indeling": _division_sentences(comparison),
        "kernen": kernen,
        "buurten": buurten,
        "buurten_weggelaten": len(comparison.buurten) - len(buurten),
        "waarschuwingen": list(s.get("warnings") or []),
        "uitleg": explanation,
    }


def _key_message(s: dict[str, Any]) -> list[str]:
    """The two sentences at the top: residents now and then, and the share within the threshold."""
    old_year, new_year = s["year_old"], s["year_new"]
    threshold = format_int(s["threshold_m"])
    walk = "lopend over straat en paden" if s.get("distance_method") == "network" else "hemelsbreed"
    diff = s["residents_change"]
    more = "meer" if diff > 0 else "minder"
    return [
        f"In {new_year} woonden in {s['gemeente_name']} {format_int(s['residents_new'])} mensen"
        + (f", {format_int(abs(diff))} {more} dan in {old_year}." if diff else f", evenveel als in {old_year}."),
        f"Van hen woonden er {format_int(s['residents_within_threshold_new'])} "
        f"({format_percent(s['share_within_threshold_new'])}) binnen {threshold} meter ({walk}) van een "
        f"ontmoetingspunt. In {old_year} was dat {format_percent(s['share_within_threshold_old'])}: "
        f"{_pp_sentence(s['share_within_threshold_change_pp'])}",
    ]


def _buurt_lines(comparison: Comparison) -> list[dict[str, str]]:
    """The buurten worth a line: a change of at least :data:`REPORT_MIN_PP`, of hot-spot status or of division."""
    rows = comparison.buurten
    notable = rows[
        (rows["aandeel_binnen_drempel_verschil_pp"].abs() >= REPORT_MIN_PP)
        | rows["hotspot_wijziging"].isin(["new", "gone"])
        | (rows["match"] != "code")
    ]
    return [
        {
            "naam": str(r["buurtnaam"]),
            "code": str(r["buurtcode"]),
            "kern": "" if _is_missing(r["kern"]) else str(r["kern"]),
            "indeling": MATCH_LABELS[str(r["match"])] if r["match"] != "code" else "",
            "inwoners_oud": format_int(r["inwoners_oud"]),
            "inwoners_nieuw": format_int(r["inwoners_nieuw"]),
            "aandeel_oud": format_percent(r["aandeel_binnen_drempel_oud"], missing="–"),
            "aandeel_nieuw": format_percent(r["aandeel_binnen_drempel_nieuw"], missing="–"),
            "verschil": format_signed(r["aandeel_binnen_drempel_verschil_pp"], 1, missing="–"),
            "richting": _change_word(r["aandeel_binnen_drempel_verschil_pp"]),
            "hotspot": "" if r["hotspot_wijziging"] == "none" else HOTSPOT_CHANGE_LABELS[str(r["hotspot_wijziging"])],
        }
        for _, r in notable.iterrows()
    ]


def _kern_lines(comparison: Comparison) -> list[dict[str, str]]:
    """One line per kern: residents, share within the threshold and hot-spot buurten, then and now."""
    return [
        {
            "naam": str(r["kern"]),
            "inwoners_oud": format_int(r["inwoners_oud"]),
            "inwoners_nieuw": format_int(r["inwoners_nieuw"]),
            "aandeel_oud": format_percent(r["aandeel_binnen_drempel_oud"], missing="–"),
            "aandeel_nieuw": format_percent(r["aandeel_binnen_drempel_nieuw"], missing="–"),
            "verschil": format_signed(r["aandeel_binnen_drempel_verschil_pp"], 1, missing="–"),
            "richting": _change_word(r["aandeel_binnen_drempel_verschil_pp"]),
            "hotspots": f"{r['hotspot_buurten_oud']} → {r['hotspot_buurten_nieuw']}",
        }
        for _, r in comparison.kernen.iterrows()
    ]


def _explanation(weging: str) -> list[str]:
    """The paragraphs that explain the comparison; the first says how the old figures were re-weighted."""
    how = (
        "De cijfers van het oude jaar zijn omgerekend naar de buurtindeling van het nieuwe jaar: elk bewoond "
        "vierkant van 100 bij 100 meter telt mee in de nieuwe buurt waarin het ligt. Zo vergelijkt elke regel "
        "hetzelfde gebied in twee jaren."
        if weging == "inwoners"
        else "De cijfers van het oude jaar zijn naar oppervlakte over de nieuwe buurten verdeeld (een schatting)."
    )
    return [
        how,
        "Een buurt waarvan CBS de code, de grenzen of beide heeft veranderd, is op ligging gekoppeld aan de "
        "buurten van het oude jaar (gesplitst, samengevoegd of alleen een nieuwe code).",
        "Het signaal zegt hoe een buurt scoort ten opzichte van het gemiddelde van de gemeente in hetzelfde "
        "jaar. Daalt het signaal, dan is de buurt vergeleken met de rest van de gemeente vooruitgegaan; de "
        "problemen hoeven daardoor niet in absolute zin kleiner te zijn geworden.",
        "Een hotspot is een groep aangrenzende buurten met een hoog signaal (Local Moran, 5 % "
        "significantie). Een buurt kan uit de groep vallen doordat een buurman verandert.",
    ]


def _point(point: dict[str, Any]) -> str:
    name = "naamloos" if _is_missing(point.get("name")) else str(point["name"])
    where = "" if _is_missing(point.get("buurtnaam")) else f" in {point['buurtnaam']}"
    kind = "" if _is_missing(point.get("category")) else f" ({point['category']})"
    return f"{name}{kind}{where}"


def _pp_sentence(pp: Any) -> str:
    if _is_missing(pp):
        return "de verandering is onbekend."
    if abs(float(pp)) < 0.05:
        return "vrijwel gelijk."
    word = "hoger" if float(pp) > 0 else "lager"
    return f"{format_number(abs(float(pp)), 1)} procentpunt {word}."


def render_section(context: dict[str, Any]) -> str:
    """Render the report section (``templates/vergelijking.html.j2``): an HTML fragment, escaped."""
    return environment().get_template("vergelijking.html.j2").render(**context)


def write_report(context: dict[str, Any], path: Path) -> Path:
    """Write the report section as a self-contained Dutch page (``vergelijking_pagina.html.j2``), atomically."""
    html = environment().get_template("vergelijking_pagina.html.j2").render(**context)
    return _atomic.write_text(path, html)


# --------------------------------------------------------------------------- everything


def write_comparison(comparison: Comparison, summary: dict[str, Any], folder: Path) -> dict[str, Path]:
    """Write every comparison output into ``folder``; return them by kind."""
    import json  # noqa: PLC0415

    from wijkanalyse.outputs import compare_map  # noqa: PLC0415 (folium is slow to import)

    folder = Path(folder)
    context = report_context(comparison, summary)
    return {
        "kaart": compare_map.save_comparison_map(comparison, summary, folder / "kaart.html"),
        "rapport": write_report(context, folder / "vergelijking.html"),
        "geopackage": write_comparison_geopackage(comparison, folder / "vergelijking.gpkg"),
        "csv": write_comparison_csv(comparison.buurten, folder / "vergelijking.csv"),
        "csv_kernen": write_comparison_csv(comparison.kernen, folder / "vergelijking_kernen.csv"),
        "samenvatting": _atomic.write_text(
            folder / "vergelijking.json", json.dumps(jsonable(summary), indent=2, ensure_ascii=False) + "\n"
        ),
    }
