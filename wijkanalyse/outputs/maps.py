"""The interactive map: a single self-contained HTML file (Leaflet via folium).

The map is opened by village coordinators and neighbourhood brokers from a file share or
intranet, so it must work without any installation. All user-facing text is Dutch.

Security: names from OpenStreetMap and user files (``naam``) and from CBS (``buurtnaam`` ...) are
untrusted. folium's ``GeoJsonTooltip``/``GeoJsonPopup`` put property values into the page
as raw HTML, so every layer here gets a fresh GeoJSON ``FeatureCollection`` whose only
properties are HTML fragments built in this module (every value passed through
:func:`html.escape`) plus a precomputed fill colour. Nothing from the input frames reaches
the page unescaped, and no numpy scalar, NaN or inf reaches the JSON encoder.
"""

from __future__ import annotations

import html
import math
from importlib import resources
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.colormap import LinearColormap
from shapely.geometry import mapping

from wijkanalyse._atomic import write_text
from wijkanalyse._format import _is_missing, format_int, format_number, format_percent
from wijkanalyse.result import HOTSPOT_LABELS, RunResult

__all__ = [
    "HOTSPOT_COLORS",
    "LAYER_NAMES",
    "LIGHT_TILES_ATTRIBUTION",
    "LIGHT_TILES_URL",
    "SYNTHETIC_BANNER",
    "build_map",
    "format_int",
    "format_number",
    "format_percent",
    "save_map",
]

#: CRS of every frame in :class:`RunResult`.
SOURCE_CRS = "EPSG:28992"
#: CRS Leaflet wants.
MAP_CRS = "EPSG:4326"

#: Light base map: PDOK BRT-Achtergrondkaart "grijs" (Kadaster; free, no API key). CARTO's
#: positron tiles ("CartoDB positron") now carry an "API key required" watermark without a
#: key, so they are not used.
LIGHT_TILES_URL = (
    "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/{z}/{x}/{y}.png"
)
LIGHT_TILES_ATTRIBUTION = 'Kaartgegevens &copy; <a href="https://www.kadaster.nl">Kadaster</a>'

#: Banner shown on maps of the synthetic demo gemeente.
SYNTHETIC_BANNER = "SYNTHETISCHE DEMO-GEMEENTE — verzonnen gegevens, geen echte gemeente"

#: Layer names (``{threshold}`` is filled in with the threshold in metres).
LAYER_NAMES = {
    "signal": "Signaal per buurt",
    "reach": "Bereik ontmoetingspunt per buurt",
    "hotspots": "Hotspots (Local Moran)",
    "outside": "Inwoners buiten {threshold} m",
    "gaps": "Gaten (aaneengesloten gebieden buiten bereik)",
    "meeting_points": "Ontmoetingspunten",
    "other_venues": "Overige voorzieningen",
}

#: Fill/outline colour per hotspot label (labels from :data:`HOTSPOT_LABELS`).
HOTSPOT_COLORS = {
    HOTSPOT_LABELS[1]: "#d7191c",  # hotspot: red
    HOTSPOT_LABELS[2]: "#92c5de",  # low among high: light blue
    HOTSPOT_LABELS[3]: "#2c7bb6",  # coldspot: blue
    HOTSPOT_LABELS[4]: "#f4a582",  # high among low: light red
}
_NOT_SIGNIFICANT = HOTSPOT_LABELS[0]

_METHOD_TEXT = {
    "network": "over het looppadennetwerk",
    "straight_line": "hemelsbreed",
}

_MISSING_COLOR = "#bdbdbd"
_OUTSIDE_COLOR = "#7b3294"
_MEETING_POINT_COLOR = "#1a9641"
_OTHER_VENUE_COLOR = "#737373"
_GAP_COLOR = "#54278f"
_SIGNAL_COLORS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
_REACH_COLORS = ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"]
_CELL_HALF_SIZE_M = 50.0
_SIMPLIFY_TOLERANCE_M = 2.0
_COORD_DECIMALS = 6  # about 0.1 m; keeps the HTML small
_OSM_ID = re.compile(r"^(node|way|relation)/\d+$")
_FALLBACK_LOCATION = (52.2, 5.3)  # centre of the Netherlands


# --------------------------------------------------------------------------- formatting


def _format_distance(value: Any) -> str:
    """Distance in metres as text; inf means no meeting point can be reached."""
    if _is_missing(value):
        return "afstand onbekend"
    if math.isinf(float(value)):
        return "geen ontmoetingspunt bereikbaar"
    return f"{format_int(value)} m"


def _format_indicator(value: Any) -> str:
    """An indicator value as plain text (not yet escaped)."""
    if _is_missing(value):
        return "onbekend"
    if isinstance(value, (bool, np.bool_)):
        return "ja" if value else "nee"
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if math.isfinite(number) and number == round(number):
            return format_int(number)
        return format_number(number, 1)
    return str(value)


def _residents_text(value: Any) -> str:
    """"12 inwoners" / "1 inwoner" / CBS suppression note."""
    if _is_missing(value):
        return "aantal geheim (CBS)"
    return f"{format_int(value)} {'inwoner' if float(value) == 1 else 'inwoners'}"


def _esc(value: Any) -> str:
    """Escape any value for HTML (quotes included)."""
    return html.escape("" if _is_missing(value) else str(value), quote=True)


def _text(value: Any, missing: str = "onbekend") -> str:
    """A string-ish value as plain text with a Dutch fallback (not yet escaped)."""
    if _is_missing(value) or str(value).strip() == "":
        return missing
    return str(value)


def _lines(title: str, rows: Iterable[tuple[str, str]]) -> str:
    """An HTML fragment: bold title plus ``label: value`` lines. Arguments are plain text."""
    parts = [f"<b>{_esc(title)}</b>"]
    parts += [f"{_esc(label)}: {_esc(value)}" for label, value in rows]
    return '<div style="min-width:200px">' + "<br>".join(parts) + "</div>"


# --------------------------------------------------------------------------- geometry


def _to_map_crs(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326 (a frame without CRS is taken to be EPSG:28992)."""
    if frame.crs is None:
        frame = frame.set_crs(SOURCE_CRS)
    return frame.to_crs(MAP_CRS)


def _simplify(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop vertices closer than a few metres (in EPSG:28992) to keep the HTML small."""
    frame = frame.copy()
    frame.geometry = frame.geometry.simplify(_SIMPLIFY_TOLERANCE_M, preserve_topology=True)
    return frame


def _feature_collection(
    frame: gpd.GeoDataFrame, properties: list[dict[str, str]]
) -> dict[str, Any]:
    """GeoJSON of ``frame`` (already EPSG:4326) with the given plain-string properties."""
    geoms = shapely.transform(
        np.asarray(frame.geometry.values, dtype=object),
        lambda coords: np.round(coords, _COORD_DECIMALS),
    )
    features = [
        {"type": "Feature", "geometry": mapping(geom), "properties": props}
        for geom, props in zip(geoms, properties, strict=True)
        if geom is not None and not geom.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}


def _records(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Attribute rows of ``frame`` as dicts (geometry dropped)."""
    return pd.DataFrame(frame.drop(columns=frame.geometry.name)).to_dict("records")


def _add_geojson(
    group: folium.FeatureGroup,
    frame: gpd.GeoDataFrame,
    properties: list[dict[str, str]],
    style: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    popup: bool = True,
    highlight: bool = True,
    marker: folium.CircleMarker | None = None,
) -> None:
    """Add one GeoJson layer with escaped ``tooltip``/``popup`` properties to ``group``.

    Empty frames add nothing (folium cannot validate tooltips on an empty collection), so
    the layer still shows in the layer control, just without features.
    """
    data = _feature_collection(frame, properties)
    if not data["features"]:
        return
    kwargs: dict[str, Any] = {
        "style_function": style,
        "tooltip": folium.GeoJsonTooltip(fields=["tooltip"], labels=False, sticky=True),
    }
    if popup:
        kwargs["popup"] = folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=360)
    if highlight:
        kwargs["highlight_function"] = lambda _feature: {"weight": 3, "color": "#000000"}
    if marker is not None:
        kwargs["marker"] = marker
    folium.GeoJson(data, **kwargs).add_to(group)


def _fill_style(
    weight: float = 0.8, color: str = "#555555", fill_opacity: float = 0.7, **extra: Any
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Style function reading the precomputed ``fill`` property."""

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        return {
            "fillColor": feature["properties"]["fill"],
            "color": color,
            "weight": weight,
            "fillOpacity": fill_opacity,
            **extra,
        }

    return style


def _value_range(values: pd.Series, default: tuple[float, float]) -> tuple[float, float]:
    """Finite min/max of ``values``; ``default`` when there are none; never zero-width."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    numbers = numbers[np.isfinite(numbers)]
    if numbers.size == 0:
        return default
    low, high = float(numbers.min()), float(numbers.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    return low, high


def _color(colormap: LinearColormap, value: Any) -> str:
    """Colour for ``value``; grey when missing or not finite."""
    if _is_missing(value):
        return _MISSING_COLOR
    number = float(value)
    if not math.isfinite(number):
        return _MISSING_COLOR
    return str(colormap.rgb_hex_str(number))


# --------------------------------------------------------------------------- layers


def _buurt_title(row: Mapping[str, Any]) -> str:
    return f"{_text(row.get('buurtnaam'), 'Buurt zonder naam')} ({_text(row.get('buurtcode'))})"


def _beside_the_whole(result: RunResult, key: str) -> str:
    """" (gemeente 40, NL 39,9)": the indicator for the whole gemeente and the Netherlands, if known."""
    if key not in result.reference.index:
        return ""
    parts = [
        f"{name} {_format_indicator(result.reference.loc[key, column])}"
        for name, column in (("gemeente", "gemeente"), ("NL", "nederland"))
        if not _is_missing(result.reference.loc[key, column])
    ]
    return f" ({', '.join(parts)})" if parts else ""


def _buurt_popup(row: Mapping[str, Any], result: RunResult, threshold: str) -> str:
    """Full buurt details (escaped HTML)."""
    rows = [
        ("Buurtcode", _text(row.get("buurtcode"))),
        ("Wijk", _text(row.get("wijknaam"))),
        ("Inwoners", format_int(row.get("inwoners"))),
        (f"Aandeel binnen {threshold} m", format_percent(row.get("aandeel_binnen_drempel"))),
        ("Mediane afstand", _format_distance(row.get("afstand_mediaan_m"))),
        ("Signaal", format_number(row.get("signaal"), 2)),
        ("Hotspot-analyse", _text(row.get("hotspot"))),
    ]
    rows += [
        (str(label), _format_indicator(row.get(key)) + _beside_the_whole(result, key))
        for key, label in result.indicators.items()
    ]
    return _lines(_text(row.get("buurtnaam"), "Buurt zonder naam"), rows)


def _signal_layer(
    buurten: gpd.GeoDataFrame, records: list[dict[str, Any]], result: RunResult, threshold: str
) -> tuple[folium.FeatureGroup, LinearColormap]:
    low, high = _value_range(
        buurten["signaal"] if "signaal" in buurten else pd.Series(dtype=float), (-1.0, 1.0)
    )
    colormap = LinearColormap(
        _SIGNAL_COLORS,
        vmin=low,
        vmax=high,
        caption="Signaal per buurt (samengestelde z-score; hoger = meer zorgen)",
    )
    props = [
        {
            "fill": _color(colormap, row.get("signaal")),
            "tooltip": _lines(
                _buurt_title(row),
                [
                    ("Signaal", format_number(row.get("signaal"), 2)),
                    (f"Binnen {threshold} m", format_percent(row.get("aandeel_binnen_drempel"))),
                    ("Hotspot-analyse", _text(row.get("hotspot"))),
                ],
            ),
            "popup": _buurt_popup(row, result, threshold),
        }
        for row in records
    ]
    group = folium.FeatureGroup(name=LAYER_NAMES["signal"], show=True)
    _add_geojson(group, buurten, props, _fill_style())
    return group, colormap


def _reach_layer(
    buurten: gpd.GeoDataFrame, records: list[dict[str, Any]], result: RunResult, threshold: str
) -> tuple[folium.FeatureGroup, LinearColormap]:
    colormap = LinearColormap(
        _REACH_COLORS,
        vmin=0.0,
        vmax=100.0,
        caption=f"Aandeel inwoners binnen {threshold} m van een ontmoetingspunt (%)",
    )
    props = []
    for row in records:
        share = row.get("aandeel_binnen_drempel")
        percent = None if _is_missing(share) else float(share) * 100.0
        props.append(
            {
                "fill": _color(colormap, percent),
                "tooltip": _lines(
                    _buurt_title(row),
                    [
                        ("Inwoners", format_int(row.get("inwoners"))),
                        (
                            f"Binnen {threshold} m",
                            f"{format_int(row.get('inwoners_binnen_drempel'))} "
                            f"({format_percent(share)})",
                        ),
                        ("Mediane afstand", _format_distance(row.get("afstand_mediaan_m"))),
                    ],
                ),
                "popup": _buurt_popup(row, result, threshold),
            }
        )
    group = folium.FeatureGroup(name=LAYER_NAMES["reach"], show=False)
    _add_geojson(group, buurten, props, _fill_style())
    return group, colormap


def _hotspot_layer(
    buurten: gpd.GeoDataFrame, records: list[dict[str, Any]], result: RunResult, threshold: str
) -> folium.FeatureGroup:
    keep = [
        not _is_missing(row.get("hotspot")) and str(row.get("hotspot")) != _NOT_SIGNIFICANT
        for row in records
    ]
    subset = buurten[np.asarray(keep, dtype=bool)] if records else buurten
    props = []
    for row, kept in zip(records, keep, strict=True):
        if not kept:
            continue
        label = str(row.get("hotspot"))
        props.append(
            {
                "fill": HOTSPOT_COLORS.get(label, _MISSING_COLOR),
                "tooltip": _lines(
                    _buurt_title(row),
                    [
                        ("Hotspot-analyse", label),
                        ("p-waarde", format_number(row.get("hotspot_p"), 3)),
                        ("Signaal", format_number(row.get("signaal"), 2)),
                    ],
                ),
                "popup": _buurt_popup(row, result, threshold),
            }
        )

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        fill = feature["properties"]["fill"]
        return {"fillColor": fill, "color": fill, "weight": 4, "fillOpacity": 0.35}

    group = folium.FeatureGroup(name=LAYER_NAMES["hotspots"], show=True)
    _add_geojson(group, subset, props, style)
    return group


def _outside_layer(result: RunResult, threshold: str) -> folium.FeatureGroup:
    group = folium.FeatureGroup(
        name=LAYER_NAMES["outside"].format(threshold=threshold), show=True
    )
    residents = result.residents
    if residents is None or residents.empty or "binnen_drempel" not in residents:
        return group
    outside = residents[residents["binnen_drempel"].eq(False).to_numpy(dtype=bool)]
    outside = outside[outside.geometry.notna() & ~outside.geometry.is_empty]
    if outside.empty:
        return group
    if outside.crs is None:
        outside = outside.set_crs(SOURCE_CRS)
    centres = outside.to_crs(SOURCE_CRS).geometry.centroid
    x, y = centres.x.to_numpy(), centres.y.to_numpy()
    h = _CELL_HALF_SIZE_M
    squares = gpd.GeoDataFrame(
        geometry=shapely.box(x - h, y - h, x + h, y + h), crs=SOURCE_CRS, index=outside.index
    )
    walk = "lopen" if result.distance_method == "network" else "hemelsbreed"
    props = []
    for row in _records(outside):
        distance = _format_distance(row.get("afstand_m"))
        if distance.endswith(" m"):
            distance = f"{distance} {walk}"
        text = f"{_residents_text(row.get('inwoners'))}, {distance}"
        props.append({"fill": _OUTSIDE_COLOR, "tooltip": _esc(text)})
    _add_geojson(
        group,
        _to_map_crs(squares),
        props,
        _fill_style(weight=0.5, color=_OUTSIDE_COLOR, fill_opacity=0.55),
        popup=False,
        highlight=False,
    )
    return group


def _gap_layer(result: RunResult, threshold: str) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=LAYER_NAMES["gaps"], show=False)
    gaps = result.gaps
    if gaps is None or gaps.empty:
        return group
    gaps = _to_map_crs(_simplify(gaps if gaps.crs is not None else gaps.set_crs(SOURCE_CRS)))
    props = []
    for row in _records(gaps):
        title = f"Gat {_text(row.get('gat_id'), '')}".strip()
        details = _lines(
            title,
            [
                ("Inwoners", _residents_text(row.get("inwoners"))),
                ("Cellen van 100 m", format_int(row.get("cellen"))),
                ("Buurten", _text(row.get("buurtcodes"))),
                ("Grootste afstand", _format_distance(row.get("afstand_max_m"))),
            ],
        )
        tooltip = _esc(f"{title}: {_residents_text(row.get('inwoners'))} buiten {threshold} m")
        props.append({"fill": _GAP_COLOR, "tooltip": tooltip, "popup": details})
    _add_geojson(
        group,
        gaps,
        props,
        _fill_style(weight=2, color=_GAP_COLOR, fill_opacity=0.2, dashArray="6 4"),
    )
    return group


def _venue_layers(result: RunResult) -> tuple[folium.FeatureGroup, folium.FeatureGroup]:
    meeting = folium.FeatureGroup(name=LAYER_NAMES["meeting_points"], show=True)
    other = folium.FeatureGroup(name=LAYER_NAMES["other_venues"], show=True)
    venues = result.venues
    if venues is None or venues.empty:
        return meeting, other
    venues = venues[venues.geometry.notna() & ~venues.geometry.is_empty]
    if venues.empty:
        return meeting, other
    venues = _to_map_crs(venues)
    points = venues.geometry.where(
        venues.geom_type == "Point", venues.geometry.representative_point()
    )
    venues = venues.set_geometry(points)
    is_meeting = (
        venues["ontmoetingspunt"].eq(True).to_numpy(dtype=bool)
        if "ontmoetingspunt" in venues
        else np.zeros(len(venues), dtype=bool)
    )
    for group, mask, color, role in (
        (meeting, is_meeting, _MEETING_POINT_COLOR, "Telt mee als ontmoetingspunt"),
        (other, ~is_meeting, _OTHER_VENUE_COLOR, "Telt niet mee als ontmoetingspunt"),
    ):
        subset = venues[mask]
        props = []
        for row in _records(subset):
            name = _text(row.get("naam"), "(naamloos)")
            category = _text(row.get("categorie_label"), "onbekende categorie")
            lines = [("Categorie", category), ("Status", role), ("Bron", _text(row.get("bron"), "OpenStreetMap"))]
            if address := _text(row.get("adres"), ""):
                lines.append(("Adres", address))
            popup = _lines(name, lines)
            osm_id = row.get("osm_id")
            if isinstance(osm_id, str) and _OSM_ID.match(osm_id):
                url = _esc(f"https://www.openstreetmap.org/{osm_id}")
                popup += (
                    f'<a href="{url}" target="_blank" rel="noopener noreferrer">'
                    "Bekijk of verbeter op OpenStreetMap</a>"
                )
            props.append(
                {"fill": color, "tooltip": _esc(f"{name} ({category})"), "popup": popup}
            )
        marker = folium.CircleMarker(
            radius=6 if group is meeting else 4,
            color="#ffffff",
            weight=1,
            fill=True,
            fill_color=color,
            fill_opacity=0.95,
        )
        _add_geojson(
            group,
            subset,
            props,
            _fill_style(weight=1, color="#ffffff", fill_opacity=0.95),
            highlight=False,
            marker=marker,
        )
    return meeting, other


# --------------------------------------------------------------------------- page furniture


def _summary_line(result: RunResult) -> str:
    """Key figures as plain Dutch text (not yet escaped)."""
    summary = result.summary or {}
    threshold = summary.get("threshold_m", result.threshold_m)
    method = summary.get("distance_method", result.distance_method)
    total = summary.get("residents_total")
    within = summary.get("residents_within_threshold")
    share = summary.get("share_within_threshold")
    if _is_missing(share) and not _is_missing(total) and not _is_missing(within) and total:
        share = float(within) / float(total)
    n_points = summary.get("n_meeting_points")
    method_text = _METHOD_TEXT.get(str(method), _text(method, "onbekende methode"))
    parts = [
        f"{format_int(total)} inwoners, waarvan {format_int(within)} ({format_percent(share)}) "
        f"binnen {format_int(threshold)} m van een ontmoetingspunt ({method_text})"
    ]
    if not _is_missing(n_points):
        noun = "ontmoetingspunt" if float(n_points) == 1 else "ontmoetingspunten"
        parts.append(f"{format_int(n_points)} {noun}")
    return " · ".join(parts)


def _title_html(result: RunResult) -> str:
    title = f"Wijkanalyse {result.gemeente_name} ({result.gemeente_code}), {result.year}"
    banner = ""
    if result.synthetic:
        banner = (
            '<div style="margin-top:6px;padding:4px 8px;background:#b30000;color:#ffffff;'
            'font-weight:bold;border-radius:3px;">'
            f"{_esc(SYNTHETIC_BANNER)}</div>"
        )
    return (
        '<div id="wijkanalyse-titel" style="position:fixed;top:10px;left:60px;'
        "z-index:1000;background:rgba(255,255,255,0.93);"
        "padding:8px 14px;border:1px solid #888;border-radius:5px;"
        "box-shadow:0 1px 5px rgba(0,0,0,0.4);font-family:Arial,Helvetica,sans-serif;"
        'max-width:calc(100% - 480px);min-width:260px;">'
        f'<div style="font-size:16px;font-weight:bold;">{_esc(title)}</div>'
        f'<div style="font-size:12px;margin-top:3px;">{_esc(_summary_line(result))}</div>'
        f"{banner}</div>"
    )


def _gradient_html(colormap: LinearColormap, caption: str, low: str, high: str) -> str:
    """A colour bar with its caption and end labels, for the legend box."""
    stops = ", ".join(colormap.rgb_hex_str(colormap.vmin + (colormap.vmax - colormap.vmin) * i / 10) for i in range(11))
    return (
        f'<div style="margin-top:4px;font-style:italic;">{_esc(caption)}</div>'
        f'<div style="height:10px;width:220px;background:linear-gradient(to right, {stops});'
        'border:1px solid #888;"></div>'
        '<div style="width:224px;display:flex;justify-content:space-between;">'
        f"<span>{_esc(low)}</span><span>{_esc(high)}</span></div>"
    )


def _legend_html(threshold: str, gradients: str = "") -> str:
    def swatch(color: str, label: str, border: str | None = None) -> str:
        return (
            f'<div><span style="display:inline-block;width:12px;height:12px;'
            f"background:{color};border:2px solid {border or color};margin-right:6px;"
            f'vertical-align:middle;opacity:0.8;"></span>{_esc(label)}</div>'
        )

    rows = [swatch(color, label) for label, color in HOTSPOT_COLORS.items()]
    rows.append(swatch(_MISSING_COLOR, "onbekend (geen gegevens)", "#555555"))
    rows.append(swatch(_OUTSIDE_COLOR, f"100 m-vak met inwoners buiten {threshold} m"))
    rows.append(swatch("#ffffff", "gat: aaneengesloten gebied buiten bereik", _GAP_COLOR))
    rows.append(swatch(_MEETING_POINT_COLOR, "ontmoetingspunt"))
    rows.append(swatch(_OTHER_VENUE_COLOR, "overige voorziening"))
    return (
        '<div id="wijkanalyse-legenda" style="position:fixed;bottom:44px;left:10px;'
        "z-index:1000;background:rgba(255,255,255,0.93);padding:6px 10px;"
        "border:1px solid #888;border-radius:5px;font-family:Arial,Helvetica,sans-serif;"
        'font-size:12px;line-height:18px;">'
        '<div style="font-weight:bold;margin-bottom:2px;">Legenda</div>'
        + gradients
        + '<div style="font-style:italic;margin-top:4px;">Local Moran (buurten met significant patroon):</div>'
        + "".join(rows)
        + "</div>"
    )


def _fit(m: folium.Map, frames: Iterable[gpd.GeoDataFrame]) -> None:
    """Fit the view to the first non-empty frame (buurten first)."""
    for frame in frames:
        if frame is None or frame.empty:
            continue
        bounds = _to_map_crs(frame).total_bounds
        if np.all(np.isfinite(bounds)):
            west, south, east, north = (float(b) for b in bounds)
            m.fit_bounds([[south, west], [north, east]])
            return


def _inline_leaflet(m: folium.Map) -> None:
    """Put Leaflet itself into the page instead of linking folium's CDN files.

    The map only uses Leaflet (no jQuery, Bootstrap or icon fonts), so with Leaflet inlined
    the file works from a share or intranet that blocks CDNs; only the tiles need internet.
    """
    m.default_js = []
    m.default_css = []
    vendor = resources.files("wijkanalyse.outputs") / "vendor"
    css = vendor.joinpath("leaflet.css").read_text(encoding="utf-8")
    js = vendor.joinpath("leaflet.js").read_text(encoding="utf-8")
    header = m.get_root().header
    header.add_child(folium.Element(f"<style>{css}</style>"), name="leaflet_css_inline")
    header.add_child(folium.Element(f"<script>{js}</script>"), name="leaflet_js_inline")


# --------------------------------------------------------------------------- public API


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
        Map with base layers "Lichte achtergrond" (PDOK, see :data:`LIGHT_TILES_URL`) and
        "OpenStreetMap", the overlay layers
        named in :data:`LAYER_NAMES`, a title box with the key figures, colour legends and
        a layer control. Render it with :func:`save_map`.
    """
    threshold = format_int((result.summary or {}).get("threshold_m", result.threshold_m))
    m = folium.Map(
        location=_FALLBACK_LOCATION, zoom_start=8, tiles=None, control_scale=True
    )
    _inline_leaflet(m)
    folium.TileLayer(
        tiles=LIGHT_TILES_URL,
        attr=LIGHT_TILES_ATTRIBUTION,
        name="Lichte achtergrond",
        max_zoom=19,
    ).add_to(m)
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap", show=False).add_to(m)

    buurten = result.buurten
    if buurten.crs is None:
        buurten = buurten.set_crs(SOURCE_CRS)
    buurten = buurten[buurten.geometry.notna() & ~buurten.geometry.is_empty]
    buurten_map = _to_map_crs(_simplify(buurten))
    records = _records(buurten_map)

    signal, signal_colormap = _signal_layer(buurten_map, records, result, threshold)
    reach, reach_colormap = _reach_layer(buurten_map, records, result, threshold)
    layers = [
        signal,
        reach,
        _hotspot_layer(buurten_map, records, result, threshold),
        _outside_layer(result, threshold),
        _gap_layer(result, threshold),
        *_venue_layers(result),
    ]
    for layer in layers:
        layer.add_to(m)
    gradients = _gradient_html(
        signal_colormap, str(signal_colormap.caption),
        f"{format_number(signal_colormap.vmin, 1)} (minder zorgen)", f"{format_number(signal_colormap.vmax, 1)} (meer)",
    ) + _gradient_html(reach_colormap, str(reach_colormap.caption), "0 %", "100 %")
    folium.LayerControl(collapsed=False).add_to(m)

    root = m.get_root()
    root.html.add_child(folium.Element(_title_html(result)), name="wijkanalyse_titel")
    root.html.add_child(folium.Element(_legend_html(threshold, gradients)), name="wijkanalyse_legenda")
    _fit(m, [buurten, result.residents, result.venues])
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
