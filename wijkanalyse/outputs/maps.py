"""The interactive map: a single self-contained HTML file (Leaflet, inlined).

Coordinators open the map from a file share, a locked-down laptop or a phone, often
without internet. So the page carries everything: Leaflet, the map script
(``static/kaart.js``), its style sheet and the data. All user-facing text is Dutch.

How the page is built: :func:`map_data` turns a :class:`RunResult` into one JSON
document (geometry as encoded polylines, see :mod:`._encode`; every text already
formatted and HTML-escaped, see :mod:`._maptext`); :func:`build_map` puts that document,
Leaflet and the script into a folium page; ``kaart.js`` draws it. The script gives each
kind of layer its own Leaflet pane, so markers always lie above polygons whatever the
user toggles.

Security: names from OpenStreetMap (``naam``), CBS (``buurtnaam`` ...) and the config are
untrusted. Every string in the data document is HTML-escaped (:func:`html.escape`), or is
a search key of only ``a-z``, ``0-9`` and spaces, an OSM id such as ``node/123``, an
encoded polyline or a colour from this module; the script inserts nothing else as HTML.
The document sits in a ``<script type="application/json">`` block with ``<``, ``>`` and
``&`` written as ``\\u003c`` etc., so no text can close the block, and page parts are
never run through Jinja (:class:`RawHtml`).

Presentation only: class breaks (mapclassify), colours, the outline of a kern (the union of
its buurten) and which gap a cell lies in are worked out here; every figure comes from
the :class:`RunResult`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, cast

import folium
import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement

from wijkanalyse._atomic import write_text
from wijkanalyse._format import _is_missing, format_int, format_number, format_percent, format_range
from wijkanalyse.analysis.opening import DAY_PART_LABELS, DAY_PARTS
from wijkanalyse.outputs._encode import encode_polyline, encode_polylines, join_lines, polygon_rings
from wijkanalyse.outputs._whatif import whatif_part
from wijkanalyse.outputs._maptext import (
    distance_label,
    SYNTHETIC_BANNER,
    Popups,
    attribution_html,
    esc,
    euro,
    format_distance,
    format_indicator,
    help_sections,
    names_text,
    plain,
    residents_text,
    search_key,
    split_list,
    summary_line,
)
from wijkanalyse.outputs.style import (
    BEYOND_COLOR,
    GAP_COLOR,
    HOTSPOT_STYLES,
    KERN_COLOR,
    MEETING_POINT_COLOR,
    MISSING_COLOR,
    OTHER_VENUE_COLOR,
    PROPOSAL_COLOR,
    SCENARIO_CLOSED_COLOR,
    SCENARIO_GAINED_COLOR,
    SCENARIO_LOST_COLOR,
    SCENARIO_OPENED_COLOR,
    STREET_COLOR,
    Classes,
    area_colors,
    reach_classes,
    signal_classes,
)
from wijkanalyse.outputs.texts import HOTSPOT_PLAIN, SCENARIO_CHANGE_LABELS, SCENARIO_POINT_LABELS, closing_line, gap_distance_text
from wijkanalyse.result import Hotspot, RunResult

__all__ = [
    "LAYER_NAMES",
    "LIGHT_TILES_ATTRIBUTION",
    "LIGHT_TILES_URL",
    "OSM_TILES_ATTRIBUTION",
    "OSM_TILES_URL",
    "SYNTHETIC_BANNER",
    "RawHtml",
    "build_map",
    "build_page",
    "format_int",
    "format_number",
    "format_percent",
    "inline_leaflet",
    "map_data",
    "save_map",
]

#: CRS of every frame in :class:`RunResult`.
SOURCE_CRS = "EPSG:28992"
#: CRS Leaflet wants.
MAP_CRS = "EPSG:4326"

#: Light base map: PDOK BRT-Achtergrondkaart "grijs" (Kadaster; free, no API key).
LIGHT_TILES_URL = (
    "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/{z}/{x}/{y}.png"
)
LIGHT_TILES_ATTRIBUTION = (
    'Achtergrond &copy; <a href="https://www.kadaster.nl" target="_blank" rel="noopener noreferrer">'
    "Kadaster</a> (PDOK)"
)
OSM_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_TILES_ATTRIBUTION = (
    'Achtergrond &copy; <a href="https://www.openstreetmap.org/copyright" target="_blank" '
    'rel="noopener noreferrer">OpenStreetMap-bijdragers</a>'
)

#: Banner shown on maps of the synthetic demo gemeente.

#: Layer names in the layer panel (``{threshold}`` is the threshold in metres).
LAYER_NAMES = {
    "signal": "Signaal per buurt",
    "reach": "Bereik ontmoetingspunt per buurt",
    "borders": "Alleen buurtgrenzen",
    "hotspots": "Hotspots (clusters van buurten)",
    "outside": "Inwoners buiten {threshold} m",
    "gaps": "Gaten (aaneengesloten gebieden buiten bereik)",
    "meeting_points": "Ontmoetingspunten",
    "other_venues": "Overige voorzieningen",
    "proposals": "Voorgestelde ontmoetingsplekken",
    "broker_areas": "Werkgebieden wijkmakelaars",
    "kernen": "Kernen",
    "streets": "Stratennet (werkt zonder internet)",
    "day_parts": "Bereik per dagdeel (openingstijden)",
}

_CELL_HALF_SIZE_M = 50.0
_SIMPLIFY_M = {"buurten": 2.0, "gaps": 2.0, "areas": 3.0, "kernen": 3.0, "streets": 3.0}
_OSM_ID = re.compile(r"^(node|way|relation)/\d+$")
_FALLBACK_BOUNDS = ((50.75, 3.3), (53.55, 7.25))  # the Netherlands


# --------------------------------------------------------------------------- geometry


def _prepared(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Rows with geometry, in EPSG:28992 (a frame without CRS is taken to be in it)."""
    if frame is None or len(frame) == 0 or not isinstance(frame, gpd.GeoDataFrame):
        return None
    if frame.crs is None:
        frame = frame.set_crs(SOURCE_CRS)
    frame = frame.to_crs(SOURCE_CRS)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    return frame if len(frame) else None


def _to_map(geoms: gpd.GeoSeries, simplify_m: float = 0.0) -> np.ndarray:
    """Simplify in metres (topology kept), then reproject to EPSG:4326."""
    if simplify_m:
        geoms = geoms.simplify(simplify_m, preserve_topology=True)
    return np.asarray(geoms.to_crs(MAP_CRS).to_numpy(), dtype=object)


def _points(geoms: gpd.GeoSeries) -> str:
    """Points (or a point on each shape) as one encoded polyline."""
    points = shapely.point_on_surface(np.asarray(geoms.to_crs(MAP_CRS).to_numpy(), dtype=object))
    return encode_polyline(shapely.get_coordinates(points))


def _bounds(frame: gpd.GeoDataFrame) -> list[list[float]]:
    west, south, east, north = (float(v) for v in frame.to_crs(MAP_CRS).total_bounds)
    return [[round(south, 5), round(west, 5)], [round(north, 5), round(east, 5)]]


# --------------------------------------------------------------------------- classes


# --------------------------------------------------------------------------- legends


def _swatch(style: str, label: str) -> str:
    return f'<div class="wa-rij"><span class="wa-vak" style="{style}"></span>{esc(label)}</div>'


def _class_legend(classes: Classes, low_note: str, high_note: str) -> str:
    rows = [_swatch(f"background:{color}", label) for color, label in zip(classes.colors, classes.labels, strict=True)]
    if classes.missing:
        rows.append(_swatch(f"background:{MISSING_COLOR}", "geen gegevens"))
    return f'<div class="wa-schaal"><span>{esc(low_note)}</span><span>{esc(high_note)}</span></div>' + "".join(rows)


def _hotspot_legend(present: set[str]) -> str:
    rows = []
    for code, (color, dashed) in HOTSPOT_STYLES.items():
        if code in present:
            rows.append(_swatch(f"border:3px {'dashed' if dashed else 'solid'} {color};background:transparent",
                                HOTSPOT_PLAIN[code]))
    if not rows:
        rows.append('<div class="wa-rij">Geen buurten met een duidelijk patroon.</div>')
    return "".join(rows)


# --------------------------------------------------------------------------- the document


@dataclass
class _Lookup:
    """Names for codes, for popups that would otherwise list codes."""

    buurt_names: dict[str, str]
    buurt_index: dict[str, int]
    kern_of: dict[str, str] = field(default_factory=dict)
    area_of: dict[str, str] = field(default_factory=dict)
    #: target group -> buurtcode -> its row of ``result.target_groups`` (ranges)
    groups: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: indicator -> " (gemeente 40, NL 39,9)", the same in every buurt's popup (:func:`_beside_the_whole`)
    beside: dict[str, str] = field(default_factory=dict)

    def buurten(self, codes: Iterable[str]) -> str:
        return names_text([self.buurt_names.get(code, code) for code in codes])


def _group_label(group: str) -> str:
    return f"Doelgroep {group} binnen bereik"


def _buurt_popups(result: RunResult, threshold: str, groups: Iterable[str] = ()) -> Popups:
    within = f"Binnen {threshold} m van een ontmoetingspunt"
    labels = ["Wijk", "Buurtcode", "Kern", "Werkgebied", "Inwoners", within, "De helft woont binnen",
              "Signaal", "Patroon", "Kans dat dit toeval is", *(str(label) for label in result.indicators.values()),
              *(_group_label(g) for g in groups)]
    return Popups(labels)


def _group_popup_text(r: Mapping[str, Any]) -> str:
    """"12 tot 15 van 20 tot 24 (50 % tot 75 %)": a target group's ranges in one buurt."""
    within = format_range(r["binnen_drempel_min"], r["binnen_drempel_max"])
    total = format_range(r["inwoners_min"], r["inwoners_max"])
    share = format_range(r["aandeel_binnen_min"], r["aandeel_binnen_max"], percent=True, decimals=0)
    return f"{within} van {total} ({share})"


def _group_parts(buurten: gpd.GeoDataFrame, look: _Lookup, threshold: str) -> list[dict[str, Any]]:
    """One buurt colouring per target group: the share within the threshold (the middle of its range), reach colours."""
    codes = buurten["buurtcode"].astype(str).tolist() if "buurtcode" in buurten else []
    parts = []
    for group, rows in look.groups.items():
        middle = [
            (rows[c]["aandeel_binnen_min"] + rows[c]["aandeel_binnen_max"]) / 2 if c in rows else np.nan for c in codes
        ]
        classes = reach_classes(pd.Series(middle, dtype=float))
        parts.append({
            "name": esc(f"Doelgroep {group}: aandeel binnen {threshold} m"),
            "cls": classes.index.tolist(),
            "legend": _class_legend(classes, "iedereen binnen bereik", "veel mensen te ver")
            + '<div class="wa-rij">kleur: het midden van de bandbreedte (geheime aantallen)</div>',
        })
    return parts


def _add_buurt_popup(popups: Popups, row: Mapping[str, Any], result: RunResult, look: _Lookup) -> None:
    code = plain(row.get("buurtcode"), "")
    signal = row.get("signaal")
    if _is_missing(signal):
        signal_text = "onbekend"
    else:
        signal = cast(float, signal)  # not missing: a number
        word = "meer zorgen" if float(signal) > 0 else "minder zorgen" if float(signal) < 0 else "gemiddeld"
        signal_text = f"{format_number(signal, 2)} ({word} dan gemiddeld)" if word != "gemiddeld" else "0,00 (gemiddeld)"
    hotspot = plain(row.get("hotspot"), "")
    values = {
        "Wijk": plain(row.get("wijknaam")),
        "Buurtcode": plain(code),
        "Inwoners": format_int(row.get("inwoners")),
        popups.labels[5]: f"{format_int(row.get('inwoners_binnen_drempel'))} "
                          f"({format_percent(row.get('aandeel_binnen_drempel'))})",
        "De helft woont binnen": format_distance(row.get("afstand_mediaan_m")),
        "Signaal": signal_text,
        "Patroon": HOTSPOT_PLAIN.get(hotspot, "onbekend"),  # type: ignore[call-overload]
    }
    if code in look.kern_of:
        values["Kern"] = look.kern_of[code]
    if code in look.area_of:
        values["Werkgebied"] = look.area_of[code]
    for group, rows in look.groups.items():
        if code in rows:
            values[_group_label(group)] = _group_popup_text(rows[code])
    if hotspot in HOTSPOT_STYLES:
        values["Kans dat dit toeval is"] = format_percent(row.get("hotspot_p"))
    values |= {
        str(label): format_indicator(row.get(key)) + look.beside.get(key, "")
        for key, label in result.indicators.items()
    }
    popups.add(plain(row.get("buurtnaam"), "Buurt zonder naam"), values)


def _beside_the_whole(result: RunResult, key: str) -> str:
    """" (gemeente 40, NL 39,9)": the indicator for the whole gemeente and the Netherlands, if known."""
    reference = getattr(result, "reference", None)
    if reference is None or key not in reference.index:
        return ""
    parts = [
        f"{name} {format_indicator(reference.loc[key, column])}"
        for name, column in (("gemeente", "gemeente"), ("NL", "nederland"))
        if not _is_missing(reference.loc[key, column])
    ]
    return f" ({', '.join(parts)})" if parts else ""


def _records(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], pd.DataFrame(frame.drop(columns=frame.geometry.name)).to_dict("records"))


def _buurten_part(
    buurten: gpd.GeoDataFrame, result: RunResult, threshold: str, look: _Lookup
) -> tuple[dict[str, Any], Classes, Classes]:
    records = _records(buurten)
    signal = signal_classes(buurten["signaal"] if "signaal" in buurten else pd.Series([np.nan] * len(buurten)))
    reach = reach_classes(
        buurten["aandeel_binnen_drempel"] if "aandeel_binnen_drempel" in buurten else pd.Series([np.nan] * len(buurten))
    )
    styles = list(HOTSPOT_STYLES)
    hot = [styles.index(Hotspot(r["hotspot"])) if r.get("hotspot") in HOTSPOT_STYLES else -1 for r in records]
    popups = _buurt_popups(result, threshold, look.groups)
    for r in records:
        _add_buurt_popup(popups, r, result, look)
    part = {
        "g": [polygon_rings(g) for g in _to_map(buurten.geometry, _SIMPLIFY_M["buurten"])],
        "key": [search_key(r.get("buurtnaam"), r.get("buurtcode"), r.get("wijknaam")) for r in records],
        **popups.part(),
        "sig": signal.index.tolist(),
        "bereik": reach.index.tolist(),
        "hot": hot,
    }
    return part, signal, reach


def _cells_part(result: RunResult, threshold_m: float, look: _Lookup, gaps: gpd.GeoDataFrame | None) -> dict | None:
    residents = _prepared(result.residents)
    if residents is None or "binnen_drempel" not in residents:
        return None
    outside = residents[residents["binnen_drempel"].eq(False).to_numpy(dtype=bool)]
    if outside.empty:
        return None
    centres = outside.geometry.centroid
    order = np.lexsort((centres.x.to_numpy(), -centres.y.to_numpy()))  # rows north to south: small steps
    outside, centres = outside.iloc[order], centres.iloc[order]
    gap_of = np.full(len(outside), -1, dtype=int)
    if gaps is not None:
        hits = gpd.sjoin(
            gpd.GeoDataFrame(geometry=centres.to_numpy(), crs=SOURCE_CRS),
            gpd.GeoDataFrame(geometry=gaps.geometry.to_numpy(), crs=SOURCE_CRS),
            how="inner", predicate="within",
        )
        hits = hits[~hits.index.duplicated(keep="first")]
        gap_of[hits.index.to_numpy()] = hits["index_right"].to_numpy()
    people = pd.to_numeric(outside["inwoners"], errors="coerce").to_numpy(dtype=float)
    dist = (
        pd.to_numeric(outside["afstand_m"], errors="coerce").to_numpy(dtype=float)
        if "afstand_m" in outside else np.full(len(outside), np.nan)
    )
    codes = outside["buurtcode"].astype(str).to_numpy() if "buurtcode" in outside else np.array([""] * len(outside))
    return {
        "p": encode_polyline(shapely.get_coordinates(centres.to_crs(MAP_CRS).to_numpy())),
        "n": [-1 if not math.isfinite(v) else round(v) for v in people.tolist()],
        "d": [-1 if math.isinf(v) else -2 if math.isnan(v) else round(v) for v in dist.tolist()],
        "b": [look.buurt_index.get(c, -1) for c in codes],
        "gat": gap_of.tolist(),
    }


def _gaps_part(gaps: gpd.GeoDataFrame, threshold_m: float, look: _Lookup, method: str) -> dict:
    threshold = format_int(threshold_m)
    farthest = f"Grootste {distance_label(method, lower=True)}"
    popups = Popups(
        ["Inwoners", "Vakken van 100 m", "Buurten", farthest],
        f"Een aaneengesloten gebied waar mensen verder dan {threshold} m van een ontmoetingspunt wonen: "
        "één nieuwe plek hier kan velen helpen.",
    )
    names = []
    for row in _records(gaps):
        title = f"Gat {plain(row.get('gat_id'), '')}".strip()
        far = row.get("afstand_max_m")
        popups.add(f"{title}: gebied buiten {threshold} m", {
            "Inwoners": residents_text(row.get("inwoners")),
            "Vakken van 100 m": format_int(row.get("cellen")),
            "Buurten": look.buurten(split_list(row.get("buurtcodes"))),
            farthest: gap_distance_text(float(far) if far is not None and not _is_missing(far) else None, threshold_m),
        })
        names.append(esc(f"{title}: {residents_text(row.get('inwoners'))}"))
    return {"g": [polygon_rings(g) for g in _to_map(gaps.geometry, _SIMPLIFY_M["gaps"])], **popups.part(), "name": names}


def _venues_part(result: RunResult) -> dict | None:
    venues = _prepared(result.venues)
    if venues is None:
        return None
    closing = "Als dit punt sluit"
    popups = Popups(["Soort", "Status", closing, "Bron", "Adres", "Capaciteit", "Inwoners binnen bereik (gedeeld)"])
    threshold_m = float((result.summary or {}).get("threshold_m", result.threshold_m))
    keys, categories, cat, meeting, osm, over = [], [], [], [], [], []
    for row in _records(venues):
        name = plain(row.get("naam"), "(naamloos)")
        category = plain(row.get("categorie_label"), "onbekende categorie")
        is_meeting = bool(row.get("ontmoetingspunt")) and not _is_missing(row.get("ontmoetingspunt"))
        status = "telt mee als ontmoetingspunt" if is_meeting else "telt niet mee als ontmoetingspunt"
        details = {"Soort": category, "Status": status, "Bron": plain(row.get("bron"), "OpenStreetMap")}
        counted = not (result.distance_method == "network" and _is_missing(row.get("aanhechting_m", 0.0)))
        if is_meeting and counted and not _is_missing(row.get("inwoners_verliezen_toegang")):
            details[closing] = closing_line(row.get("inwoners_verliezen_toegang"), threshold_m, result.distance_method,
                                            row.get("cellen_alleen_hier"))
        if not _is_missing(row.get("adres")) and plain(row.get("adres"), ""):
            details["Adres"] = plain(row.get("adres"))
        capacity, load = row.get("capaciteit"), row.get("belasting")
        flagged = row.get("boven_capaciteit") is True or row.get("boven_capaciteit") is np.True_
        if not _is_missing(capacity) and not _is_missing(load):
            details["Capaciteit"] = f"{format_int(capacity)} inwoners" + (" – BOVEN CAPACITEIT" if flagged else "")
            details["Inwoners binnen bereik (gedeeld)"] = format_number(load, 0)
        over.append(1 if flagged else 0)
        popups.add(name, details)
        if category not in categories:
            categories.append(category)
        cat.append(categories.index(category))
        keys.append(search_key(row.get("naam"), category))
        meeting.append(1 if is_meeting else 0)
        osm_id = row.get("osm_id")
        osm.append(osm_id if isinstance(osm_id, str) and _OSM_ID.match(osm_id) else None)  # [a-z/0-9] only
    return {
        "p": _points(venues.geometry), "key": keys, **popups.part(), "m": meeting, "osm": osm,
        "cats": [esc(c) for c in categories], "cat": cat, **({"over": over} if any(over) else {}),
    }


def _proposals_part(result: RunResult, threshold: str) -> dict | None:
    proposals = _prepared(getattr(result, "proposals", None))
    if proposals is None:
        return None
    if "rank" in proposals:
        proposals = proposals.sort_values("rank", kind="stable")
    new, total, after = f"Nieuw binnen {threshold} m", "Samen met de eerdere voorstellen", f"Daarna binnen {threshold} m"
    popups = Popups(
        ["Soort plek", "Buurt", "Kern", new, total, after, "Kosten per jaar", "Kosten per nieuw bereikte inwoner"],
        "Voorstellen staan in volgorde: elk volgend voorstel bereikt de meeste inwoners die na de eerdere "
        "voorstellen nog te ver weg wonen.",
    )
    keys, ranks = [], []
    for i, row in enumerate(_records(proposals), start=1):
        rank = int(row["rank"]) if not _is_missing(row.get("rank")) else i
        name = plain(row.get("naam"), f"Voorstel {rank}")
        outside = _is_missing(row.get("cumulatief_binnen_bereik")) and not _is_missing(row.get("alleen_binnen_bereik"))
        not_ranked = "hoort niet bij de volgorde: alleen in de keuze voor minder plekken"
        popups.add(f"Voorstel {rank}: {name}", {
            "Soort plek": plain(row.get("soort")),
            "Buurt": plain(row.get("buurtnaam"), plain(row.get("buurtcode"))),
            "Kern": plain(row.get("kern")),
            new: (f"{residents_text(row.get('alleen_binnen_bereik'))} als enige nieuwe plek" if outside
                  else residents_text(row.get("nieuw_binnen_bereik"))),
            total: not_ranked if outside else residents_text(row.get("cumulatief_binnen_bereik")),
            after: "–" if outside else format_percent(row.get("aandeel_na")),
            "Kosten per jaar": euro(row.get("kosten_per_jaar")),
            "Kosten per nieuw bereikte inwoner": euro(row.get("kosten_per_inwoner")),
        })
        keys.append(search_key("voorstel", rank, row.get("naam"), row.get("buurtnaam"), row.get("kern")))
        ranks.append(rank)
    return {"p": _points(proposals.geometry), "rank": ranks, "key": keys, **popups.part()}


def _areas_part(result: RunResult, look: _Lookup) -> dict | None:
    areas = _prepared(getattr(result, "broker_areas", None))
    if areas is None:
        return None
    popups = Popups(
        ["Kernen", "Buurten", "Inwoners", "Werklast"],
        "Voorgesteld werkgebied voor één wijkmakelaar of dorpscoördinator.",
    )
    keys, tags = [], []
    for row in _records(areas):
        kernen = split_list(row.get("kernen"))
        popups.add(f"Werkgebied {plain(row.get('gebied_id'), '')}".strip(), {
            "Kernen": names_text(kernen) if kernen else "geen",
            "Buurten": look.buurten(split_list(row.get("buurtcodes"))),
            "Inwoners": format_int(row.get("inwoners")),
            "Werklast": format_number(row.get("werklast"), 1),
        })
        keys.append(search_key("werkgebied", row.get("gebied_id"), *kernen))
        tags.append(esc(_area_tag(row)))
    return {
        "g": [polygon_rings(g) for g in _to_map(areas.geometry, _SIMPLIFY_M["areas"])],
        "c": area_colors(areas.geometry.to_numpy()),  # the print maps colour with the same function
        "label": _points(areas.geometry), "tag": tags,
        "key": keys, **popups.part(),
    }


def _area_tag(row: Mapping[str, Any]) -> str:
    """The label on a broker area and its row in the colour key: "Werkgebied 1 · werklast 1,4"."""
    name = f"Werkgebied {plain(row.get('gebied_id'), '')}".strip()
    load = row.get("werklast")
    return name if _is_missing(load) else f"{name} · werklast {format_number(load, 1)}"


def _kernen_part(result: RunResult, buurten: gpd.GeoDataFrame, threshold: str, look: _Lookup) -> dict | None:
    """Kern outlines: the union of their buurten's polygons; figures from ``result.kernen``."""
    if "kern" not in buurten:
        return None
    named = buurten[buurten["kern"].notna() & (buurten["kern"].astype(str).str.strip() != "")]
    if named.empty:
        return None
    figures = getattr(result, "kernen", None)
    if isinstance(figures, pd.DataFrame) and "kern" in figures.columns:
        figures = figures.set_index(figures["kern"].astype(str))
    shapes = named.dissolve(by=named["kern"].astype(str)).geometry
    # Labels just above each kern's outline (top centre), clear of the markers inside it.
    bounds = shapes.to_crs(MAP_CRS).bounds
    labels = shapely.points(((bounds["minx"] + bounds["maxx"]) / 2).to_numpy(), bounds["maxy"].to_numpy())
    within = f"Binnen {threshold} m van een ontmoetingspunt"
    popups = Popups(["Buurten", "Inwoners", within, "Signaal"])
    names, keys, people = [], [], []
    for kern in shapes.index:
        codes = named.loc[named["kern"].astype(str) == kern, "buurtcode"].astype(str).tolist()
        values = {"Buurten": look.buurten(codes)}
        members = pd.to_numeric(named.loc[named["kern"].astype(str) == kern].get("inwoners", pd.Series(dtype=float)),
                                errors="coerce")
        people.append(int(members.fillna(0).sum()))
        if isinstance(figures, pd.DataFrame) and kern in figures.index:
            row = figures.loc[kern].to_dict()
            values |= {
                "Inwoners": format_int(row.get("inwoners")),
                within: f"{format_int(row.get('inwoners_binnen_drempel'))} "
                        f"({format_percent(row.get('aandeel_binnen_drempel'))})",
                "Signaal": format_number(row.get("signaal"), 2),
            }
        popups.add(f"Kern {kern}", values)
        names.append(esc(kern))
        keys.append(search_key(kern))
    return {
        "g": [polygon_rings(g) for g in _to_map(shapes, _SIMPLIFY_M["kernen"])],
        "label": encode_polyline(shapely.get_coordinates(labels)),
        "n": people,  # residents: the larger kern keeps its label where two would overlap
        "name": names, "key": keys, **popups.part(),
    }


def _scenario_legend(threshold: str, closed: bool, opened: bool, line: str) -> str:
    rows = [
        _swatch(f"background:{SCENARIO_LOST_COLOR};opacity:.85", f"vak van 100 m: verliest zijn ontmoetingspunt binnen {threshold} m"),
        _swatch(f"background:{SCENARIO_GAINED_COLOR};opacity:.85", f"vak van 100 m: krijgt een ontmoetingspunt binnen {threshold} m"),
    ]
    if closed:
        rows.append(_swatch(f"border:3px dashed {SCENARIO_CLOSED_COLOR};border-radius:50%;background:transparent",
                            "sluit in dit scenario"))
    if opened:
        rows.append(_swatch(f"border:3px solid {SCENARIO_OPENED_COLOR};border-radius:50%;background:#fff",
                            "gaat open als ontmoetingspunt"))
    return "".join(rows) + f'<div class="wa-rij">{esc(line)}</div>'


def _scenarios_part(result: RunResult, look: _Lookup) -> dict[str, Any] | None:
    """One layer per scenario (``wijkanalyse run --scenario``): the cells whose reach changes and the places.

    Each layer: ``id`` (``scenario_<n>``), ``name``, ``legend``, ``cells`` (``p`` centres,
    ``c`` 1 = gains, 0 = loses, popups) and ``points`` (``p``, ``w`` 1 = opens, 0 = closes,
    popups), each null when empty. Figures from ``result.scenario_*``.
    """
    figures = getattr(result, "scenario_figures", None)
    if figures is None or len(figures) == 0:
        return None
    changes, points = _prepared(getattr(result, "scenario_changes", None)), _prepared(getattr(result, "scenario_points", None))
    entries = {e.get("name"): e for e in (result.summary or {}).get("scenarios") or []}
    layers = []
    for k, name in enumerate(dict.fromkeys(figures["scenario"].tolist())):
        entry = entries.get(name, {})
        threshold = format_int(entry.get("threshold_m", result.threshold_m))
        whole = figures[(figures["scenario"] == name) & (figures["niveau"] == "gemeente")].iloc[0]
        line = (f"Met dit scenario wonen {format_int(whole['inwoners_binnen_drempel_scenario'])} inwoners binnen "
                f"{threshold} m ({format_percent(whole['aandeel_binnen_drempel_scenario'])}); nu "
                f"{format_int(whole['inwoners_binnen_drempel_nu'])} ({format_percent(whole['aandeel_binnen_drempel_nu'])}).")
        cells_part = None
        mine = changes[changes["scenario"] == name] if changes is not None else None
        if mine is not None and len(mine):
            now, then = "Afstand nu", "Afstand met het scenario"
            popups = Popups(["Inwoners", now, then, "Buurt"], line)
            for row in _records(mine):
                popups.add(f"Vak van 100 m: {SCENARIO_CHANGE_LABELS.get(str(row.get('verandering')), '')}".strip(), {
                    "Inwoners": residents_text(row.get("inwoners")),
                    now: format_distance(row.get("afstand_nu_m")),
                    then: format_distance(row.get("afstand_scenario_m")),
                    "Buurt": look.buurt_names.get(str(row.get("buurtcode")), plain(row.get("buurtcode"))),
                })
            cells_part = {"p": _points(mine.geometry), "c": [1 if v == "gained" else 0 for v in mine["verandering"]],
                          **popups.part()}
        points_part = None
        places = points[points["scenario"] == name] if points is not None else None
        if places is not None and len(places):
            popups = Popups(["Soort", "Scenario", "Let op"])
            for row in _records(places):
                word = SCENARIO_POINT_LABELS.get(str(row.get("wijziging")), "")
                popups.add(f"{plain(row.get('naam'), '(naamloos)')}: {word}", {
                    "Soort": plain(row.get("soort")), "Scenario": plain(name),
                    **({} if row.get("op_netwerk", True) else {"Let op": "ligt te ver van een straat of pad; telt niet mee"}),
                })
            points_part = {"p": _points(places.geometry), "w": [1 if v == "opened" else 0 for v in places["wijziging"]],
                           **popups.part()}
        has_closed = places is not None and bool((places["wijziging"] == "closed").any())
        has_opened = places is not None and bool((places["wijziging"] == "opened").any())
        layers.append({
            "id": f"scenario_{k}", "name": esc(f"Scenario: {name}"),
            "legend": _scenario_legend(threshold, has_closed, has_opened, line),
            "cells": cells_part, "points": points_part,
        })
    colors = {"lost": SCENARIO_LOST_COLOR, "gained": SCENARIO_GAINED_COLOR, "closed": SCENARIO_CLOSED_COLOR,
              "opened": SCENARIO_OPENED_COLOR}
    return {"colors": colors, "layers": layers}


def _streets_part(result: RunResult) -> list[str] | None:
    streets = _prepared(getattr(result, "streets", None))
    if streets is None:
        return None
    paths = join_lines(streets.geometry.to_numpy())
    if not paths:
        return None
    lines = gpd.GeoSeries([shapely.LineString(path) for path in paths], crs=SOURCE_CRS)
    lines = lines.simplify(_SIMPLIFY_M["streets"], preserve_topology=False).to_crs(MAP_CRS)
    kept = lines.to_numpy()
    kept = kept[~shapely.is_empty(kept)]
    encoded = encode_polylines([shapely.get_coordinates(line) for line in kept])
    return [text for text in encoded if len(text) > 4]


def _street_names_part(result: RunResult, buurten: gpd.GeoDataFrame) -> dict | None:
    """One search entry per named street and kern (or wijk): a Kerkstraat in two villages is two entries.

    Only the names the street network already carries (OSM ``name`` of each way); each entry
    is a point on the street's longest piece, its name, its place and a search key.
    """
    streets = _prepared(getattr(result, "streets", None))
    if streets is None or "name" not in streets:
        return None
    names = streets["name"].fillna("").astype(str).str.strip()
    streets = streets[names.ne("").to_numpy()].assign(name=names[names.ne("")])
    if streets.empty:
        return None
    mids = gpd.GeoDataFrame(
        {"name": streets["name"].to_numpy(), "length": streets.geometry.length.to_numpy()},
        geometry=streets.geometry.interpolate(0.5, normalized=True).to_numpy(), crs=SOURCE_CRS,
    )
    place_column = "kern" if "kern" in buurten else "wijknaam" if "wijknaam" in buurten else None
    columns = ["buurtnaam", *([place_column] if place_column else []), buurten.geometry.name]
    joined = gpd.sjoin(mids, buurten[[c for c in columns if c in buurten]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    joined["place"] = joined[place_column].map(lambda v: plain(v, "")) if place_column else ""
    joined["buurt"] = joined["buurtnaam"].map(lambda v: plain(v, "")) if "buurtnaam" in joined else ""
    joined = joined.sort_values("length", ascending=False, kind="stable").drop_duplicates(["name", "place"])
    joined = joined.sort_values(["name", "place"], kind="stable")
    popups = Popups(["Buurt", "Kern" if place_column == "kern" else "Wijk"])
    labels, keys = [], []
    for row in joined.itertuples(index=False):
        values = {label: value for label, value in zip(popups.labels, (row.buurt, row.place), strict=True) if value}
        popups.add(row.name, values)
        labels.append(esc(f"{row.name} ({row.place})" if row.place else row.name))
        keys.append(search_key(row.name, row.place))
    return {"p": _points(joined.geometry), "name": labels, "key": keys, **popups.part()}


def _cell_vectors(buurten: gpd.GeoDataFrame) -> dict[str, list[float]]:
    """Half a cell east and north at the map centre, in degrees: cells are drawn from these."""
    x, y = (float(v) for v in buurten.geometry.union_all().centroid.coords[0])
    h = _CELL_HALF_SIZE_M
    pts = gpd.GeoSeries(shapely.points([(x, y), (x + h, y), (x, y + h)]), crs=SOURCE_CRS).to_crs(MAP_CRS)
    (lon0, lat0), (lon_e, lat_e), (lon_n, lat_n) = shapely.get_coordinates(pts.to_numpy()).tolist()
    return {"e": [round(lat_e - lat0, 8), round(lon_e - lon0, 8)], "n": [round(lat_n - lat0, 8), round(lon_n - lon0, 8)]}


# --------------------------------------------------------------------------- title and legends


def _title(result: RunResult) -> str:
    return f"Wijkanalyse {result.gemeente_name} ({result.gemeente_code}), {result.year}"


def _legends(
    signal: Classes, reach: Classes, hot_present: set[str], threshold: str, has: Mapping[str, bool],
    *, areas: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    circle = "border-radius:50%;border:1px solid #fff;"
    legends = {
        "signal": _class_legend(signal, "minder zorgen", "meer zorgen"),
        "reach": _class_legend(reach, "iedereen binnen bereik", "veel mensen te ver"),
        "borders": "",
        "hotspots": _hotspot_legend(hot_present),
        "outside": _swatch(f"background:{BEYOND_COLOR};opacity:.8", f"bewoond vak van 100 m, verder dan {threshold} m"),
        "gaps": _swatch(f"border:2px dashed {GAP_COLOR};background:rgba(84,39,143,.15)", "aaneengesloten gebied"),
        "meeting_points": _swatch(f"background:{MEETING_POINT_COLOR};{circle}", "telt mee voor de regel"),
        "other_venues": _swatch(f"background:{OTHER_VENUE_COLOR};{circle}", "telt niet mee (school, sporthal ...)"),
        "streets": _swatch(f"height:2px;background:{STREET_COLOR}", "straten en paden (OpenStreetMap)"),
    }
    if has.get("proposals"):
        legends["proposals"] = (
            f'<div class="wa-rij"><span class="wa-vak wa-voorstel-vak" style="background:{PROPOSAL_COLOR}">1</span>'
            "voorstel, genummerd in volgorde</div>"
        )
    if areas:
        legends["broker_areas"] = "".join(
            f'<div class="wa-rij"><span class="wa-vak" style="border:3px solid {color};'
            f'background:{color}33"></span>{tag}</div>'  # tag: escaped in _areas_part
            for color, tag in zip(areas["c"], areas["tag"], strict=True)
        )
    if has.get("over_capacity"):
        legends["meeting_points"] += _swatch(
            f"background:{MEETING_POINT_COLOR};{circle}border:3px solid #000", "meer inwoners binnen bereik dan capaciteit",
        )
    if has.get("kernen"):
        legends["kernen"] = _swatch(f"border:2px dashed {KERN_COLOR};background:transparent", "grens van een kern")
    return legends


def map_data(result: RunResult) -> dict[str, Any]:
    """The map's data document: everything ``kaart.js`` draws, escaped and compact.

    Parameters
    ----------
    result
        The run result (frames in EPSG:28992, see :mod:`wijkanalyse.result`). Optional
        attributes ``kernen``, ``proposals``, ``broker_areas``, ``streets`` and ``sources``
        add layers and source dates when present.

    Returns
    -------
    dict
        JSON-ready: geometry as encoded polylines (:func:`._encode.decode_polyline`), per
        layer parallel lists (``name``, ``pop`` = popup HTML, ...). Keys: ``title``,
        ``summary``, ``banner``, ``bounds``, ``tiles``, ``attribution``, ``help``,
        ``legends``, ``names``, ``colors``, ``cell``, ``buurten``, ``hotspots``, ``cells``,
        ``gaps``, ``venues``, ``proposals``, ``areas``, ``kernen``, ``streets``, ``straten``
        (street names for the search; absent layers are null), ``text``, ``whatif`` (the engine's
        walking network for the what-if, see :mod:`._whatif`; null without it).
    """
    summary = result.summary or {}
    threshold_m = float(summary.get("threshold_m", result.threshold_m))
    threshold = format_int(threshold_m)
    buurten = _map_buurten(result)
    look = _lookup(result, buurten)
    buurt_part, signal, reach = _buurten_part(buurten, result, threshold, look)
    hot_present = {str(h) for h in buurten.get("hotspot", pd.Series(dtype=object)).dropna().unique()}
    parts = _layer_parts(result, buurten, threshold_m, threshold, look)
    has = {
        "proposals": parts["proposals"] is not None,
        "broker_areas": parts["areas"] is not None,
        "kernen": parts["kernen"] is not None,
        "over_capacity": bool(parts["venues"] and "over" in parts["venues"]),
    }
    layer_names = {key: esc(name.format(threshold=threshold)) for key, name in LAYER_NAMES.items()}
    method = "lopen" if result.distance_method == "network" else "hemelsbreed"
    bounds = _bounds(buurten) if len(buurten) else [list(p) for p in _FALLBACK_BOUNDS]
    return {
        "title": esc(_title(result)),
        "summary": esc(summary_line(result)),
        "banner": esc(SYNTHETIC_BANNER) if result.synthetic else "",
        "bounds": bounds,
        "tiles": _tiles(),
        "attribution": attribution_html(result),
        "help": help_sections(result, threshold, has),
        "legends": _legends(signal, reach, hot_present, threshold, has, areas=parts["areas"]),
        "names": layer_names,
        "colors": _colors(signal, reach),
        "text": {"threshold": threshold, "walk": method},
        "cell": _cell_vectors(buurten) if len(buurten) else {"e": [0, 0.0007], "n": [0.00045, 0]},
        "buurten": buurt_part,
        "day_parts": _day_parts_part(result, buurten),
        "groups": _group_parts(buurten, look, threshold),
        **parts,
        "whatif": whatif_part(result, look.buurt_index, bounds),  # the walking network for the what-if
    }


def _day_parts_part(result: RunResult, buurten: gpd.GeoDataFrame) -> dict[str, Any] | None:
    """Per day part the reach class of each buurt (share within the threshold of a point open then); None without."""
    table = getattr(result, "open_hours", None)
    if table is None or len(table) == 0 or "buurtcode" not in buurten:
        return None
    shares = table.set_index("buurtcode").reindex(buurten["buurtcode"].astype(str).to_numpy())
    return {
        "labels": [esc(label) for label in DAY_PART_LABELS.values()],
        "c": [reach_classes(shares[f"aandeel_{part}"]).index.tolist() for part in DAY_PARTS],
    }


def _map_buurten(result: RunResult) -> gpd.GeoDataFrame:
    """The buurten to draw (an empty frame when there are none), numbered from 0."""
    buurten = _prepared(result.buurten)
    if buurten is None:
        buurten = gpd.GeoDataFrame({"buurtcode": [], "buurtnaam": []}, geometry=[], crs=SOURCE_CRS)
    return buurten.reset_index(drop=True)


def _lookup(result: RunResult, buurten: gpd.GeoDataFrame) -> _Lookup:
    """Buurt names and positions by code, and each buurt's kern and werkgebied (when known), for the popups."""
    codes = buurten["buurtcode"].astype(str).tolist() if "buurtcode" in buurten else [""] * len(buurten)
    names = buurten["buurtnaam"].tolist() if "buurtnaam" in buurten else [None] * len(buurten)
    look = _Lookup(
        buurt_names={c: plain(n, c) for c, n in zip(codes, names, strict=True)},
        buurt_index={c: i for i, c in enumerate(codes)},
        beside={key: _beside_the_whole(result, key) for key in result.indicators},
    )
    if "kern" in buurten:
        look.kern_of = {c: plain(k, "") for c, k in zip(codes, buurten["kern"].tolist(), strict=True) if not _is_missing(k)}
    areas_frame = getattr(result, "broker_areas", None)
    if isinstance(areas_frame, pd.DataFrame) and "buurtcodes" in areas_frame:
        for gebied, value in zip(areas_frame.get("gebied_id", range(1, len(areas_frame) + 1)),
                                 areas_frame["buurtcodes"], strict=True):
            for code in split_list(value):
                look.area_of[code] = f"Werkgebied {plain(gebied, '')}".strip()
    table = getattr(result, "target_groups", None)
    if isinstance(table, pd.DataFrame) and len(table):
        for r in cast(list[dict[str, Any]], table[table["niveau"] == "buurt"].to_dict("records")):
            look.groups.setdefault(str(r["doelgroep"]), {})[str(r["code"])] = r
    return look


def _layer_parts(
    result: RunResult, buurten: gpd.GeoDataFrame, threshold_m: float, threshold: str, look: _Lookup
) -> dict[str, Any]:
    """The layers after the buurten, each None when absent: cells, gaps, venues, proposals, areas, kernen, streets."""
    gaps = _prepared(result.gaps)
    if gaps is not None:
        gaps = gaps.reset_index(drop=True)
    return {
        "cells": _cells_part(result, threshold_m, look, gaps),
        "gaps": _gaps_part(gaps, threshold_m, look, result.distance_method) if gaps is not None else None,
        "venues": _venues_part(result),
        "proposals": _proposals_part(result, threshold),
        "areas": _areas_part(result, look),
        "kernen": _kernen_part(result, buurten, threshold, look),
        "streets": _streets_part(result),
        "straten": _street_names_part(result, buurten),
        "scenarios": _scenarios_part(result, look),
    }


def _tiles() -> list[dict[str, Any]]:
    """The background maps to choose from: PDOK grey, then OpenStreetMap."""
    return [
        {"id": "pdok", "name": "Kaart van PDOK (grijs, internet nodig)", "url": LIGHT_TILES_URL,
         "attr": LIGHT_TILES_ATTRIBUTION, "maxZoom": 19},
        {"id": "osm", "name": "OpenStreetMap (internet nodig)", "url": OSM_TILES_URL,
         "attr": OSM_TILES_ATTRIBUTION, "maxZoom": 19},
    ]


def _colors(signal: Classes, reach: Classes) -> dict[str, Any]:
    """The colours ``kaart.js`` draws with: the class scales and one colour per layer."""
    return {
        "signal": list(signal.colors), "reach": list(reach.colors), "missing": MISSING_COLOR,
        "hotspots": [[c, d] for c, d in HOTSPOT_STYLES.values()], "outside": BEYOND_COLOR,
        "gaps": GAP_COLOR, "meeting": MEETING_POINT_COLOR, "other": OTHER_VENUE_COLOR,
        "proposal": PROPOSAL_COLOR, "kern": KERN_COLOR, "street": STREET_COLOR,
    }


# --------------------------------------------------------------------------- the page


def _json_for_html(document: Mapping[str, Any]) -> str:
    """JSON that is safe inside a ``<script>`` block: no ``<``, ``>`` or ``&`` left."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


_PAGE_TEMPLATE = jinja2.Template(
    "<!DOCTYPE html>\n"
    '<html lang="nl">\n'
    "<head>\n"
    '<meta charset="utf-8">\n'
    "{% if this.title %}<title>{{ this.title }}</title>{% endif %}\n"
    "    {{ this.header.render(**kwargs) }}\n"
    "</head>\n"
    "<body>\n"
    "    {{ this.html.render(**kwargs) }}\n"
    "</body>\n"
    "<script>\n"
    "    {{ this.script.render(**kwargs) }}\n"
    "</script>\n"
    "</html>\n",
    autoescape=False,
)


class RawHtml(Element):
    """Text put into the page as it is.

    A plain branca ``Element`` is a Jinja template: ``{{`` in a name from OpenStreetMap (or
    ``{`` in an encoded polyline) would be evaluated. This one is never templated.
    """

    def __init__(self, text: str) -> None:
        super().__init__("")
        self._text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self._text


class _MapScript(MacroElement):
    """Calls ``WA.init(map, data)`` once the folium map exists."""

    _template = jinja2.Template(
        "{% macro script(this, kwargs) %}"
        "WA.init({{ this._parent.get_name() }}, JSON.parse(document.getElementById('wa-data').textContent));"
        "{% endmacro %}"
    )


def _static(name: str) -> str:
    return (resources.files("wijkanalyse.outputs") / name).read_text(encoding="utf-8")


def _header_html(document: Mapping[str, Any]) -> str:
    banner = f'<div class="wa-banner">{document["banner"]}</div>' if document["banner"] else ""
    return (
        '<header id="wa-kop">'
        f'<div class="wa-kop-tekst"><h1>{document["title"]}</h1>'
        f'<div class="wa-kerncijfers">{document["summary"]}</div>{banner}</div>'
        '<button type="button" id="wa-uitleg-knop" class="wa-knop" aria-haspopup="dialog">'
        '<span class="wa-breed">Uitleg en bronnen</span><span class="wa-smal">Uitleg</span></button>'
        "</header>"
    )


def inline_leaflet(m: folium.Map) -> None:
    """Put Leaflet (the package's vendor copy) into the page itself, so it needs no CDN."""
    m.default_js = []
    m.default_css = []
    vendor = resources.files("wijkanalyse.outputs") / "vendor"
    header = cast(Figure, m.get_root()).header  # a Map's root is a branca Figure
    header.add_child(RawHtml(f"<style>{vendor.joinpath('leaflet.css').read_text(encoding='utf-8')}</style>"),
                     name="leaflet_css_inline")
    header.add_child(RawHtml(f"<script>{vendor.joinpath('leaflet.js').read_text(encoding='utf-8')}</script>"),
                     name="leaflet_js_inline")


def build_map(result: RunResult) -> folium.Map:
    """Build the interactive map of one run.

    Parameters
    ----------
    result
        The run result; frames in EPSG:28992 following the column contract in
        :mod:`wijkanalyse.result`.

    Returns
    -------
    folium.Map
        A page with Leaflet, ``kaart.js`` and the document of :func:`map_data` inlined:
        the buurt colouring (signal, reach or borders: one choice), the overlay layers of
        :data:`LAYER_NAMES`, backgrounds (PDOK, OpenStreetMap, the offline street network),
        search, legends, explanations and sources. Render it with :func:`save_map`.
    """
    return build_page(map_data(result))


def build_page(document: Mapping[str, Any]) -> folium.Map:
    """The page every map of the project is built on: ``kaart.js`` drawing one data document.

    Used by :func:`build_map` and the year-over-year map
    (:func:`wijkanalyse.outputs.compare_map.build_comparison_map`), so both have ``lang="nl"``,
    the title, the header, Dutch zoom buttons, a metric scale, the search, the layer panel that
    folds up on a phone, popups that fit the screen, the offline background and the credits.
    ``document`` has the keys of :func:`map_data` (layers that do not apply are null, and
    a layer or colouring without a name in ``names`` is left out of the panel).
    """
    (south, west), (north, east) = document["bounds"]
    m = folium.Map(
        location=((south + north) / 2, (west + east) / 2), zoom_start=12, tiles=None,
        zoom_control=False, control_scale=False, zoom_snap=0.5, zoom_delta=1,
    )
    root = cast(Figure, m.get_root())  # a Map's root is a branca Figure
    root._template = _PAGE_TEMPLATE  # noqa: SLF001 (branca's Figure has no setting for <html lang>)
    root.title = document["title"]  # already HTML-escaped; the template inserts it as is
    inline_leaflet(m)
    root.header.add_child(RawHtml(f"<style>{_static('static/kaart.css')}</style>"), name="wa_css")
    root.header.add_child(RawHtml(f"<script>{_static('static/kaart.js')}</script>"), name="wa_js")
    root.header.add_child(RawHtml(f"<script>{_static('static/kaart_whatif.js')}</script>"), name="wa_whatif_js")
    root.html.add_child(RawHtml(_header_html(document)), name="wa_kop")
    root.html.add_child(
        RawHtml(f'<script type="application/json" id="wa-data">{_json_for_html(document)}</script>'),
        name="wa_data",
    )
    m.add_child(_MapScript(), name="wa_init")
    return m


def save_map(m: folium.Map, path: Path) -> Path:
    """Render ``m`` to a self-contained HTML file, written atomically as UTF-8.

    Parameters
    ----------
    m
        Map from :func:`build_map`.
    path
        Target file (``.html``); parent folders are created.

    Returns
    -------
    Path
        The written path.
    """
    return write_text(Path(path), m.get_root().render(), encoding="utf-8")
