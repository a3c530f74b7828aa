"""The year-over-year map (``kaart.html`` of ``wijkanalyse compare``): one self-contained HTML file.

Layers: the change in the share of residents within the threshold per buurt (diverging,
colour-blind-safe ColorBrewer RdBu: red = fewer within reach, blue = more), the buurten whose
division or code changed (outlined), hot spots that appeared or disappeared, the change in
signal (PuOr, hidden at first), the kernen (hidden at first) and the meeting points that
opened (green) or closed (black). Popups in Dutch with the old and new figures
and how the buurt was matched.

The page is the main map's (:func:`wijkanalyse.outputs.maps.build_page`): the same
``kaart.js`` draws a data document of the same shape, so the year-over-year map has the
same header, Dutch controls, metric scale, search, layer panel (folding up on a phone),
popups that fit the screen, offline background and credits. In that document the share
change and the signal change are the two buurt colourings, the changed buurtindeling is
the outlined-area layer, new and gone hot spots are the outlines, new and closed meeting
points are the two point layers. Every text is HTML-escaped here (:class:`._maptext.Popups`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wijkanalyse._format import _is_missing, format_int, format_number, format_percent
from wijkanalyse.analysis.compare import Comparison
from wijkanalyse.outputs import maps
from wijkanalyse.outputs._encode import encode_polyline, polygon_rings
from wijkanalyse.outputs._maptext import SYNTHETIC_BANNER, Popups, esc, plain, search_key
from wijkanalyse.outputs.compare import format_pp, format_signed
from wijkanalyse.outputs.style import KERN_COLOR, MISSING_COLOR, STREET_COLOR
from wijkanalyse.outputs.texts import HOTSPOT_CHANGE_LABELS, MATCH_LABELS, hotspot_label

__all__ = [
    "CHANGED_OUTLINE",
    "LAYER_NAMES",
    "SHARE_COLORS",
    "SIGNAL_COLORS",
    "build_comparison_map",
    "comparison_document",
    "save_comparison_map",
]

#: Layer names (``{threshold}`` is filled in with the threshold in metres).
LAYER_NAMES = {
    "share": "Verandering aandeel binnen {threshold} m",
    "division": "Gewijzigde buurtindeling (omlijnd)",
    "hotspots": "Hotspots: nieuw en verdwenen",
    "signal": "Verandering signaal",
    "kernen": "Kernen",
    "new_points": "Nieuwe ontmoetingspunten",
    "gone_points": "Verdwenen ontmoetingspunten",
}
#: ColorBrewer RdBu (7 classes, colour-blind safe): fewer residents within reach (red) .. more (blue).
SHARE_COLORS = ["#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7", "#d1e5f0", "#67a9cf", "#2166ac"]
#: ColorBrewer PuOr (7 classes, colour-blind safe), reversed: signal down (purple, better) .. up (orange, worse).
SIGNAL_COLORS = ["#542788", "#998ec3", "#d8daeb", "#f7f7f7", "#fee0b6", "#f1a340", "#b35806"]
#: Outline of a buurt whose code or boundaries changed.
CHANGED_OUTLINE = "#000000"
_NEW_HOTSPOT = "#d7191c"
_GONE_HOTSPOT = "#2c7bb6"
_POINT_COLORS = {"nieuw": "#1a9641", "verdwenen": "#000000"}
_SOURCE_CRS = "EPSG:28992"
_SIMPLIFY_M = 2.0
_MIN_RANGE_PP = 5.0  # the share scale spans at least -5..+5 procentpunt
_MIN_RANGE_SIGNAL = 0.5


def _prepared(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if frame is None or len(frame) == 0:
        return gpd.GeoDataFrame(geometry=[], crs=_SOURCE_CRS)
    if frame.crs is None:
        frame = frame.set_crs(_SOURCE_CRS)
    frame = frame.to_crs(_SOURCE_CRS)
    return frame[frame.geometry.notna() & ~frame.geometry.is_empty].reset_index(drop=True)


def _rings(frame: gpd.GeoDataFrame) -> list:
    geoms = frame.geometry.simplify(_SIMPLIFY_M, preserve_topology=True).to_crs("EPSG:4326").to_numpy()
    return [polygon_rings(g) for g in geoms]


def _records(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], pd.DataFrame(frame.drop(columns=frame.geometry.name)).to_dict("records"))


def _symmetric(values: pd.Series, minimum: float) -> float:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    numbers = numbers[np.isfinite(numbers)]
    return max(minimum, float(np.abs(numbers).max())) if numbers.size else minimum


def _diverging(values: Any, bound: float, colors: list[str], decimals: int, unit: str) -> tuple[list[int], str]:
    """Seven equal classes from -bound to +bound: the class of each value (-1 = missing) and the legend."""
    numbers = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    edges = np.linspace(-bound, bound, len(colors) + 1)
    index = np.clip(np.searchsorted(edges, numbers, side="right") - 1, 0, len(colors) - 1)
    index = np.where(np.isfinite(numbers), index, -1).astype(int).tolist()
    rows = "".join(
        f'<div class="wa-rij"><span class="wa-vak" style="background:{color}"></span>'
        f"{esc(format_signed(lo, decimals))} tot {esc(format_signed(hi, decimals))}{esc(unit)}</div>"
        for color, lo, hi in zip(colors, edges[:-1].tolist(), edges[1:].tolist(), strict=True)
    )
    rows += f'<div class="wa-rij"><span class="wa-vak" style="background:{MISSING_COLOR}"></span>onbekend</div>'
    return index, rows


def _swatch(style: str, label: str) -> str:
    return f'<div class="wa-rij"><span class="wa-vak" style="{style}"></span>{esc(label)}</div>'


def _buurt_popups(records: list[dict[str, Any]], years: tuple[int, int], threshold: str) -> Popups:
    old, new = years
    labels = ["Buurtcode", "Kern", "Buurtindeling", f"Gebied in {old}", "Let op", f"Inwoners {old} → {new}",
              f"Binnen {threshold} m {old} → {new}", "Verandering aandeel", f"Signaal {old} → {new}",
              f"Hotspot-analyse {old}", f"Hotspot-analyse {new}", "Hotspot"]
    popups = Popups(labels)
    for row in records:
        values = {
            "Buurtcode": plain(row.get("buurtcode")),
            "Buurtindeling": MATCH_LABELS.get(str(row.get("match")), plain(row.get("match"))),
            labels[5]: f"{format_int(row['inwoners_oud'])} → {format_int(row['inwoners_nieuw'])} "
                       f"({format_signed(row['inwoners_verschil'])})",
            labels[6]: f"{format_int(row['inwoners_binnen_drempel_oud'])} ({format_percent(row['aandeel_binnen_drempel_oud'])})"
                       f" → {format_int(row['inwoners_binnen_drempel_nieuw'])} "
                       f"({format_percent(row['aandeel_binnen_drempel_nieuw'])})",
            "Verandering aandeel": format_pp(row["aandeel_binnen_drempel_verschil_pp"]),
            labels[8]: f"{format_number(row['signaal_oud'], 2)} → {format_number(row['signaal_nieuw'], 2)} "
                       f"({format_signed(row['signaal_verschil'], 2)})",
            labels[9]: hotspot_label(row.get("hotspot_oud")),
            labels[10]: hotspot_label(row.get("hotspot_nieuw")),
        }
        if not _is_missing(row.get("kern")):
            values["Kern"] = str(row["kern"])
        if row.get("herkomst") and not _is_missing(row.get("herkomst")):
            values[labels[3]] = str(row["herkomst"])
        if row.get("code_hergebruikt") and not _is_missing(row.get("code_hergebruikt")):
            values["Let op"] = f"deze code hoorde in {old} bij een ander gebied"
        change = HOTSPOT_CHANGE_LABELS.get(str(row.get("hotspot_wijziging")), "")
        if change:
            values["Hotspot"] = change
        popups.add(plain(row.get("buurtnaam"), "Buurt zonder naam"), values)
    return popups


def _kernen_part(comparison: Comparison, years: tuple[int, int], threshold: str) -> dict | None:
    kernen = _prepared(comparison.kernen)
    if kernen.empty:
        return None
    bounds = kernen.to_crs("EPSG:4326").bounds
    labels = shapely.points(((bounds["minx"] + bounds["maxx"]) / 2).to_numpy(), bounds["maxy"].to_numpy())
    old, new = years
    popups = Popups([f"Inwoners {old} → {new}", f"Binnen {threshold} m", "Hotspot-buurten", "Buurten"])
    records = _records(kernen)
    for r in records:
        popups.add(f"Kern {plain(r.get('kern'), '')}".strip(), {
            popups.labels[0]: f"{format_int(r['inwoners_oud'])} → {format_int(r['inwoners_nieuw'])}",
            popups.labels[1]: f"{format_percent(r['aandeel_binnen_drempel_oud'])} → "
                              f"{format_percent(r['aandeel_binnen_drempel_nieuw'])} "
                              f"({format_pp(r['aandeel_binnen_drempel_verschil_pp'])})",
            "Hotspot-buurten": f"{plain(r.get('hotspot_buurten_oud'))} → {plain(r.get('hotspot_buurten_nieuw'))}",
            "Buurten": plain(r.get("buurtcodes")),
        })
    return {
        "g": _rings(kernen), "label": encode_polyline(shapely.get_coordinates(labels)),
        "n": [int(v) if not _is_missing(v) else 0 for v in kernen.get("inwoners_nieuw", [0] * len(kernen))],
        "name": [esc(plain(r.get("kern"), "")) for r in records],
        "key": [search_key(r.get("kern")) for r in records], **popups.part(),
    }


def _points_part(comparison: Comparison, years: tuple[int, int]) -> dict | None:
    points = _prepared(comparison.meeting_points)
    if points.empty:
        return None
    popups = Popups(["Wijziging", "Soort", "Buurt"])
    keys, kinds = [], []
    for r in _records(points):
        change = str(r["wijziging"])
        when = years[1] if change == "nieuw" else years[0]
        where = "" if _is_missing(r.get("buurtnaam")) else f"{r['buurtnaam']} ({r['buurtcode']})"
        name = "(naamloos)" if _is_missing(r.get("naam")) else str(r["naam"])
        values = {"Wijziging": f"{change} ontmoetingspunt (alleen in {when})",
                  "Soort": plain(r.get("categorie_label"), "")}
        if where:
            values["Buurt"] = where
        popups.add(name, {k: v for k, v in values.items() if v})
        keys.append(search_key(r.get("naam"), r.get("buurtnaam")))
        kinds.append(1 if change == "nieuw" else 0)
    points_4326 = points.geometry.to_crs("EPSG:4326").to_numpy()
    return {
        "p": encode_polyline(shapely.get_coordinates(shapely.point_on_surface(points_4326))),
        "key": keys, **popups.part(), "m": kinds, "osm": [None] * len(kinds),
        "cats": ["verdwenen", "nieuw"], "cat": kinds,
    }


def _attribution(years: tuple[int, int]) -> str:
    return (
        '&copy; <a href="https://www.openstreetmap.org/copyright" target="_blank" rel="noopener noreferrer">'
        f"OpenStreetMap-bijdragers</a> (ODbL) · CBS {years[0]} en {years[1]} (CC BY 4.0) · PDOK · "
        '<a href="#bronnen" class="wa-bronnen-link">bronnen</a>'
    )


def _help(threshold: str, years: tuple[int, int]) -> list[list[str]]:
    old, new = years

    def para(*texts: str) -> str:
        return "".join(f"<p>{esc(t)}</p>" for t in texts)

    return [
        ["Wat laat deze kaart zien?", para(
            f"Wat er tussen {old} en {new} per buurt veranderde. Rechtsboven, onder 'Lagen en legenda', kiest u "
            f"de kleuring: de verandering in het aandeel inwoners binnen {threshold} m van een ontmoetingspunt "
            "(rood = minder, blauw = meer) of de verandering van het signaal (oranje = meer zorgen). Tik of klik "
            "op een buurt voor de cijfers van beide jaren.",
            "Zwart omlijnd: buurten waarvan de code of de grenzen veranderden; de buurtinformatie zegt hoe de "
            "buurt aan het oude jaar is gekoppeld. Rood omlijnd: nieuwe hotspot; blauw gestreept: geen hotspot "
            "meer. Groene punten: nieuwe ontmoetingspunten; zwarte: verdwenen.",
        )],
        ["Zonder internet", para(
            "De kaart werkt zonder internet; de achtergrondkaart (PDOK of OpenStreetMap) komt van internet. "
            "Zonder verbinding ziet u de buurtgrenzen.",
        )],
        ["Bronnen", "<ul>" + "".join(f"<li>{esc(t)}</li>" for t in (
            f"Buurtcijfers en buurtgrenzen: CBS {old} en {new}, via PDOK. Licentie CC BY 4.0.",
            "Ontmoetingspunten en straten: © OpenStreetMap-bijdragers. Licentie ODbL 1.0.",
            "Achtergrondkaart (alleen met internet): BRT-Achtergrondkaart grijs, © Kadaster via PDOK, of OpenStreetMap.",
            "De cijfers per jaar staan in de uitvoer van elke run; deze kaart vergelijkt ze.",
        )) + "</ul>"],
    ]


def comparison_document(comparison: Comparison, summary: dict[str, Any]) -> dict[str, Any]:
    """The data document of the year-over-year map, in the shape of :func:`wijkanalyse.outputs.maps.map_data`."""
    s = summary
    years = (int(s["year_old"]), int(s["year_new"]))
    threshold = format_int(s["threshold_m"])
    buurten = _prepared(comparison.buurten)
    records = _records(buurten)
    share = buurten.get("aandeel_binnen_drempel_verschil_pp", [])
    signal = buurten.get("signaal_verschil", [])
    share_class, share_legend = _diverging(share, _symmetric(pd.Series(share, dtype=float), _MIN_RANGE_PP),
                                           SHARE_COLORS, 1, " procentpunt")
    signal_class, signal_legend = _diverging(signal, _symmetric(pd.Series(signal, dtype=float), _MIN_RANGE_SIGNAL),
                                             SIGNAL_COLORS, 2, "")
    popups = _buurt_popups(records, years, threshold)
    rings = _rings(buurten) if len(buurten) else []
    changed = [i for i, r in enumerate(records) if r.get("match") != "code"]
    pop = popups.part()
    title = f"Wijkanalyse {s['gemeente_name']} ({s['gemeente_code']}): {years[0]} → {years[1]}"
    line = (
        f"Binnen {threshold} m van een ontmoetingspunt: {format_percent(s['share_within_threshold_old'])} → "
        f"{format_percent(s['share_within_threshold_new'])} ({format_pp(s['share_within_threshold_change_pp'])})"
        f" · inwoners {format_int(s['residents_old'])} → {format_int(s['residents_new'])}"
    )
    circle = "border-radius:50%;border:1px solid #fff;"
    kernen = _kernen_part(comparison, years, threshold)
    return {
        "title": esc(title), "summary": esc(line), "banner": esc(SYNTHETIC_BANNER) if s.get("synthetic") else "",
        "bounds": maps._bounds(buurten) if len(buurten) else [[50.75, 3.3], [53.55, 7.25]],  # noqa: SLF001
        "tiles": maps._tiles(),  # noqa: SLF001
        "attribution": _attribution(years),
        "help": _help(threshold, years),
        "legends": {
            "signal": share_legend, "reach": signal_legend, "borders": "",
            "hotspots": _swatch(f"border:3px solid {_NEW_HOTSPOT};background:transparent", "nieuwe hotspot")
            + _swatch(f"border:3px dashed {_GONE_HOTSPOT};background:transparent", "geen hotspot meer"),
            "gaps": _swatch(f"border:2px dashed {CHANGED_OUTLINE};background:transparent", "buurtcode of grenzen veranderd"),
            "meeting_points": _swatch(f"background:{_POINT_COLORS['nieuw']};{circle}", f"alleen in {years[1]}"),
            "other_venues": _swatch(f"background:{_POINT_COLORS['verdwenen']};{circle}", f"alleen in {years[0]}"),
            "kernen": _swatch(f"border:2px dashed {KERN_COLOR};background:transparent", "grens van een kern"),
        },
        "names": {
            "signal": esc(LAYER_NAMES["share"].format(threshold=threshold)), "reach": esc(LAYER_NAMES["signal"]),
            "borders": "Alleen buurtgrenzen", "hotspots": esc(LAYER_NAMES["hotspots"]),
            "gaps": esc(LAYER_NAMES["division"]), "meeting_points": esc(LAYER_NAMES["new_points"]),
            "other_venues": esc(LAYER_NAMES["gone_points"]), "kernen": esc(LAYER_NAMES["kernen"]),
        },
        "colors": {
            "signal": SHARE_COLORS, "reach": SIGNAL_COLORS, "missing": MISSING_COLOR,
            "hotspots": [[_NEW_HOTSPOT, False], [_GONE_HOTSPOT, True]], "outside": MISSING_COLOR,
            "gaps": CHANGED_OUTLINE, "meeting": _POINT_COLORS["nieuw"], "other": _POINT_COLORS["verdwenen"],
            "proposal": MISSING_COLOR, "kern": KERN_COLOR, "street": STREET_COLOR,
        },
        "text": {"threshold": threshold, "walk": ""},
        "cell": {"e": [0, 0.0007], "n": [0.00045, 0]},
        "buurten": {
            "g": rings,
            "key": [search_key(r.get("buurtnaam"), r.get("buurtcode"), r.get("kern")) for r in records],
            **pop, "sig": share_class, "bereik": signal_class,
            "hot": [{"new": 0, "gone": 1}.get(str(r.get("hotspot_wijziging")), -1) for r in records],
        },
        "gaps": {
            "g": [rings[i] for i in changed], "cols": pop["cols"], "note": "", "pop": [pop["pop"][i] for i in changed],
            "name": [esc(f"{plain(records[i].get('buurtnaam'), '')}: "
                         f"{MATCH_LABELS.get(str(records[i].get('match')), '')}") for i in changed],
        } if changed else None,
        "venues": _points_part(comparison, years),
        "kernen": kernen,
        "show": {"gaps": True},  # the changed buurtindeling is on at first
        "cells": None, "proposals": None, "areas": None, "streets": None, "straten": None,
    }


def build_comparison_map(comparison: Comparison, summary: dict[str, Any]) -> Any:
    """Build the year-over-year map on the main map's page (:func:`wijkanalyse.outputs.maps.build_page`).

    Parameters
    ----------
    comparison
        The comparison (:func:`wijkanalyse.analysis.compare.compare_buurten`).
    summary
        ``vergelijking.json`` (:func:`wijkanalyse.pipeline.compare`): gemeente_name,
        gemeente_code, jaar_oud, jaar_nieuw, threshold_m, synthetic and the key changes.

    Returns
    -------
    folium.Map
        Save it with :func:`save_comparison_map`.
    """
    return maps.build_page(comparison_document(comparison, summary))


def save_comparison_map(comparison: Comparison, summary: dict[str, Any], path: Path) -> Path:
    """Build the map and write it as one self-contained UTF-8 HTML file, atomically."""
    return maps.save_map(build_comparison_map(comparison, summary), Path(path))
