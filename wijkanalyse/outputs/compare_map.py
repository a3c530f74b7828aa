"""The year-over-year map (``kaart.html`` of ``wijkanalyse compare``): one self-contained HTML file.

Layers: the change in the share of residents within the threshold per buurt (diverging,
colour-blind-safe ColorBrewer RdBu: red = fewer within reach, blue = more), the buurten whose
division or code changed (outlined), hot spots that appeared or disappeared, the change in
signal (PuOr, hidden at first), the kernen (hidden at first) and the meeting points that
opened (green) or closed (black). Popups in Dutch with the old and new figures
and how the buurt was matched.

As in :mod:`wijkanalyse.outputs.maps`, Leaflet itself is inlined (no CDN), the base map is
PDOK's grey map, and nothing from the input frames reaches the page unescaped: every layer
is a fresh GeoJSON whose only properties are HTML fragments built here (every value through
:func:`html.escape`) and a precomputed colour.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.colormap import LinearColormap
from shapely.geometry import mapping

from wijkanalyse._format import _is_missing, format_int, format_number, format_percent
from wijkanalyse.analysis.compare import Comparison
from wijkanalyse.outputs.texts import HOTSPOT_CHANGE_LABELS, MATCH_LABELS, hotspot_label
from wijkanalyse.outputs.compare import format_pp, format_signed
from wijkanalyse.outputs.maps import (
    LIGHT_TILES_ATTRIBUTION,
    LIGHT_TILES_URL,
    SYNTHETIC_BANNER,
    RawHtml,
    inline_leaflet,
    save_map,
)

__all__ = [
    "CHANGED_OUTLINE",
    "LAYER_NAMES",
    "SHARE_COLORS",
    "SIGNAL_COLORS",
    "build_comparison_map",
    "save_comparison_map",
]

#: Layer names (``{threshold}`` is filled in with the threshold in metres).
LAYER_NAMES = {
    "share": "Verandering aandeel binnen {threshold} m",
    "division": "Gewijzigde buurtindeling (omlijnd)",
    "hotspots": "Hotspots: nieuw en verdwenen",
    "signal": "Verandering signaal",
    "kernen": "Kernen",
    "meeting_points": "Ontmoetingspunten: nieuw en verdwenen",
}
#: ColorBrewer RdBu (7 classes, colour-blind safe): fewer residents within reach (red) .. more (blue).
SHARE_COLORS = ["#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7", "#d1e5f0", "#67a9cf", "#2166ac"]
#: ColorBrewer PuOr (7 classes, colour-blind safe), reversed: signal down (purple, better) .. up (orange, worse).
SIGNAL_COLORS = ["#542788", "#998ec3", "#d8daeb", "#f7f7f7", "#fee0b6", "#f1a340", "#b35806"]
#: Outline of a buurt whose code or boundaries changed.
CHANGED_OUTLINE = "#000000"
_NEW_HOTSPOT = "#d7191c"
_GONE_HOTSPOT = "#2c7bb6"
_MISSING = "#bdbdbd"
_KERN = "#4d4d4d"
_POINT_COLORS = {"nieuw": "#1a9641", "verdwenen": "#000000"}
_SOURCE_CRS = "EPSG:28992"
_COORD_DECIMALS = 6
_SIMPLIFY_M = 2.0
_MIN_RANGE_PP = 5.0  # the share scale spans at least -5..+5 procentpunt
_MIN_RANGE_SIGNAL = 0.5


def _esc(value: Any) -> str:
    return html.escape("" if _is_missing(value) else str(value), quote=True)


def _lines(title: str, rows: Iterable[tuple[str, str]]) -> str:
    parts = [f"<b>{_esc(title)}</b>"] + [f"{_esc(label)}: {_esc(value)}" for label, value in rows]
    return '<div style="min-width:220px">' + "<br>".join(parts) + "</div>"


def _to_map(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None:
        frame = frame.set_crs(_SOURCE_CRS)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty].copy()
    frame.geometry = frame.geometry.simplify(_SIMPLIFY_M, preserve_topology=True)
    return frame.to_crs("EPSG:4326")


def _add(
    group: folium.FeatureGroup,
    frame: gpd.GeoDataFrame,
    props: list[dict[str, str]],
    style: Callable[[dict[str, Any]], dict[str, Any]],
    marker: folium.CircleMarker | None = None,
) -> None:
    geoms = shapely.transform(
        np.asarray(frame.geometry.to_numpy(), dtype=object), lambda c: np.round(c, _COORD_DECIMALS)
    )
    features = [
        {"type": "Feature", "geometry": mapping(g), "properties": p}
        for g, p in zip(geoms, props, strict=True)
        if g is not None and not g.is_empty
    ]
    if not features:
        return
    extra: dict[str, Any] = {"marker": marker} if marker is not None else {
        "highlight_function": lambda _f: {"weight": 3, "color": "#000000"}
    }
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False, sticky=True),
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=380),
        **extra,
    ).add_to(group)


def _color(colormap: LinearColormap, value: Any) -> str:
    if _is_missing(value) or not math.isfinite(float(value)):
        return _MISSING
    return str(colormap.rgb_hex_str(min(max(float(value), colormap.vmin), colormap.vmax)))


def _symmetric(values: pd.Series, minimum: float) -> float:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    numbers = numbers[np.isfinite(numbers)]
    return max(minimum, float(np.abs(numbers).max())) if numbers.size else minimum


def _diverging(colors: list[str], bound: float, caption: str) -> LinearColormap:
    index = list(np.linspace(-bound, bound, len(colors)))
    return LinearColormap(colors, index=index, vmin=-bound, vmax=bound, caption=caption)


def _popup(row: dict[str, Any], years: tuple[int, int], threshold: str) -> str:
    old, new = years
    rows = [
        ("Buurtcode", str(row["buurtcode"])),
        ("Kern", "" if _is_missing(row.get("kern")) else str(row.get("kern"))),
        ("Buurtindeling", MATCH_LABELS.get(str(row["match"]), str(row["match"]))),
    ]
    if row.get("herkomst"):
        rows.append((f"Gebied in {old}", str(row["herkomst"])))
    if row.get("code_hergebruikt"):
        rows.append(("Let op", f"deze code hoorde in {old} bij een ander gebied"))
    rows += [
        (f"Inwoners {old} → {new}", f"{format_int(row['inwoners_oud'])} → {format_int(row['inwoners_nieuw'])} "
         f"({format_signed(row['inwoners_verschil'])})"),
        (f"Binnen {threshold} m {old} → {new}",
         f"{format_int(row['inwoners_binnen_drempel_oud'])} ({format_percent(row['aandeel_binnen_drempel_oud'])}) → "
         f"{format_int(row['inwoners_binnen_drempel_nieuw'])} ({format_percent(row['aandeel_binnen_drempel_nieuw'])})"),
        ("Verandering aandeel", format_pp(row["aandeel_binnen_drempel_verschil_pp"])),
        (f"Signaal {old} → {new}",
         f"{format_number(row['signaal_oud'], 2)} → {format_number(row['signaal_nieuw'], 2)} "
         f"({format_signed(row['signaal_verschil'], 2)})"),
        (f"Hotspot-analyse {old}", hotspot_label(row.get("hotspot_oud"))),
        (f"Hotspot-analyse {new}", hotspot_label(row.get("hotspot_nieuw"))),
        ("Hotspot", HOTSPOT_CHANGE_LABELS.get(str(row["hotspot_wijziging"]), "")),
    ]
    return _lines(f"{row['buurtnaam']}", rows)


def _title_html(summary: dict[str, Any]) -> str:
    s = summary
    title = f"Wijkanalyse {s['gemeente_name']} ({s['gemeente_code']}): {s['jaar_oud']} → {s['jaar_nieuw']}"
    line = (
        f"Binnen {format_int(s['threshold_m'])} m van een ontmoetingspunt: "
        f"{format_percent(s['aandeel_binnen_drempel_oud'])} → {format_percent(s['aandeel_binnen_drempel_nieuw'])} "
        f"({format_pp(s['aandeel_binnen_drempel_verschil_pp'])}) · inwoners {format_int(s['inwoners_oud'])} → "
        f"{format_int(s['inwoners_nieuw'])}"
    )
    banner = (
        '<div style="margin-top:6px;padding:4px 8px;background:#b30000;color:#ffffff;font-weight:bold;'
        f'border-radius:3px;">{_esc(SYNTHETIC_BANNER)}</div>'
        if s.get("synthetic") else ""
    )
    return (
        '<div id="wijkanalyse-titel" style="position:fixed;top:10px;left:60px;z-index:1000;'
        "background:rgba(255,255,255,0.93);padding:8px 14px;border:1px solid #888;border-radius:5px;"
        "box-shadow:0 1px 5px rgba(0,0,0,0.4);font-family:Arial,Helvetica,sans-serif;"
        'max-width:calc(100% - 480px);min-width:260px;">'
        f'<div style="font-size:16px;font-weight:bold;">{_esc(title)}</div>'
        f'<div style="font-size:12px;margin-top:3px;">{_esc(line)}</div>{banner}</div>'
    )


def _gradient(colormap: LinearColormap, caption: str, low: str, high: str) -> str:
    stops = ", ".join(
        colormap.rgb_hex_str(colormap.vmin + (colormap.vmax - colormap.vmin) * i / 10) for i in range(11)
    )
    return (
        f'<div style="margin-top:4px;font-style:italic;">{_esc(caption)}</div>'
        f'<div style="height:10px;width:220px;background:linear-gradient(to right, {stops});border:1px solid #888;">'
        '</div><div style="width:224px;display:flex;justify-content:space-between;">'
        f"<span>{_esc(low)}</span><span>{_esc(high)}</span></div>"
    )


def _legend_html(share: LinearColormap, signal: LinearColormap, threshold: str) -> str:
    def swatch(fill: str, border: str, label: str, dash: bool = False) -> str:
        style = "dashed" if dash else "solid"
        return (
            f'<div><span style="display:inline-block;width:12px;height:12px;background:{fill};'
            f'border:2px {style} {border};margin-right:6px;vertical-align:middle;"></span>{_esc(label)}</div>'
        )

    bound = format_number(share.vmax, 0)
    return (
        '<div id="wijkanalyse-legenda" style="position:fixed;bottom:44px;left:10px;z-index:1000;'
        "background:rgba(255,255,255,0.93);padding:6px 10px;border:1px solid #888;border-radius:5px;"
        'font-family:Arial,Helvetica,sans-serif;font-size:12px;line-height:18px;">'
        '<div style="font-weight:bold;margin-bottom:2px;">Legenda</div>'
        + _gradient(share, f"Verandering aandeel binnen {threshold} m (procentpunt)", f"-{bound} (minder)",
                    f"+{bound} (meer)")
        + _gradient(signal, "Verandering signaal (hoger = meer zorgen)", format_signed(signal.vmin, 1),
                    format_signed(signal.vmax, 1))
        + swatch("transparent", CHANGED_OUTLINE, "buurtcode of grenzen veranderd", dash=True)
        + swatch("transparent", _NEW_HOTSPOT, "nieuwe hotspot")
        + swatch("transparent", _GONE_HOTSPOT, "geen hotspot meer", dash=True)
        + swatch(_MISSING, "#555555", "onbekend (geen inwoners of gegevens)")
        + swatch(_POINT_COLORS["nieuw"], "#ffffff", "nieuw ontmoetingspunt")
        + swatch(_POINT_COLORS["verdwenen"], "#ffffff", "verdwenen ontmoetingspunt")
        + "</div>"
    )


def _share_layer(
    buurten: gpd.GeoDataFrame, records: list[dict[str, Any]], popups: list[str], threshold: str
) -> tuple[folium.FeatureGroup, LinearColormap]:
    colormap = _diverging(
        SHARE_COLORS, _symmetric(buurten["aandeel_binnen_drempel_verschil_pp"], _MIN_RANGE_PP),
        f"Verandering aandeel binnen {threshold} m (procentpunt)",
    )
    group = folium.FeatureGroup(name=LAYER_NAMES["share"].format(threshold=threshold), show=True)
    props = [
        {
            "fill": _color(colormap, r["aandeel_binnen_drempel_verschil_pp"]),
            "tooltip": _lines(f"{r['buurtnaam']} ({r['buurtcode']})", [
                (f"Binnen {threshold} m", f"{format_percent(r['aandeel_binnen_drempel_oud'])} → "
                 f"{format_percent(r['aandeel_binnen_drempel_nieuw'])}"),
                ("Verandering", format_pp(r["aandeel_binnen_drempel_verschil_pp"])),
            ]),
            "popup": p,
        }
        for r, p in zip(records, popups, strict=True)
    ]
    _add(group, buurten, props, lambda f: {
        "fillColor": f["properties"]["fill"], "color": "#555555", "weight": 0.8, "fillOpacity": 0.75,
    })
    return group, colormap


def _division_layer(buurten: gpd.GeoDataFrame, records: list[dict[str, Any]], popups: list[str]) -> folium.FeatureGroup:
    changed = np.array([r["match"] != "code" for r in records], dtype=bool)
    group = folium.FeatureGroup(name=LAYER_NAMES["division"], show=True)
    props = [
        {"fill": CHANGED_OUTLINE, "tooltip": _esc(f"{r['buurtnaam']}: {MATCH_LABELS.get(str(r['match']), '')}"),
         "popup": p}
        for r, p, c in zip(records, popups, changed, strict=True) if c
    ]
    _add(group, buurten[changed], props, lambda _f: {
        "color": CHANGED_OUTLINE, "weight": 3, "dashArray": "8 5", "fillOpacity": 0.0,
    })
    return group


def _hotspot_layer(buurten: gpd.GeoDataFrame, records: list[dict[str, Any]], popups: list[str]) -> folium.FeatureGroup:
    moved = np.array([r["hotspot_wijziging"] in ("new", "gone") for r in records], dtype=bool)
    group = folium.FeatureGroup(name=LAYER_NAMES["hotspots"], show=True)
    props = [
        {"fill": _NEW_HOTSPOT if r["hotspot_wijziging"] == "new" else _GONE_HOTSPOT,
         "tooltip": _esc(f"{r['buurtnaam']}: {HOTSPOT_CHANGE_LABELS[str(r['hotspot_wijziging'])]}"), "popup": p}
        for r, p, c in zip(records, popups, moved, strict=True) if c
    ]
    _add(group, buurten[moved], props, lambda f: {
        "color": f["properties"]["fill"], "weight": 4, "fillOpacity": 0.0,
        "dashArray": None if f["properties"]["fill"] == _NEW_HOTSPOT else "4 4",
    })
    return group


def _signal_layer(
    buurten: gpd.GeoDataFrame, records: list[dict[str, Any]], popups: list[str]
) -> tuple[folium.FeatureGroup, LinearColormap]:
    colormap = _diverging(SIGNAL_COLORS, _symmetric(buurten["signaal_verschil"], _MIN_RANGE_SIGNAL), "Verandering signaal")
    group = folium.FeatureGroup(name=LAYER_NAMES["signal"], show=False)
    props = [
        {"fill": _color(colormap, r["signaal_verschil"]),
         "tooltip": _esc(f"{r['buurtnaam']}: signaal {format_signed(r['signaal_verschil'], 2)}"), "popup": p}
        for r, p in zip(records, popups, strict=True)
    ]
    _add(group, buurten, props, lambda f: {
        "fillColor": f["properties"]["fill"], "color": "#555555", "weight": 0.8, "fillOpacity": 0.75,
    })
    return group, colormap


def _kern_layer(comparison: Comparison, years: tuple[int, int], threshold: str) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=LAYER_NAMES["kernen"], show=False)
    if comparison.kernen.empty:
        return group
    kernen = _to_map(comparison.kernen)
    props = []
    for r in pd.DataFrame(kernen.drop(columns=kernen.geometry.name)).to_dict("records"):
        text = _lines(str(r["kern"]), [
            (f"Inwoners {years[0]} → {years[1]}", f"{format_int(r['inwoners_oud'])} → {format_int(r['inwoners_nieuw'])}"),
            (f"Binnen {threshold} m", f"{format_percent(r['aandeel_binnen_drempel_oud'])} → "
             f"{format_percent(r['aandeel_binnen_drempel_nieuw'])} ({format_pp(r['aandeel_binnen_drempel_verschil_pp'])})"),
            ("Hotspot-buurten", f"{r['hotspot_buurten_oud']} → {r['hotspot_buurten_nieuw']}"),
            ("Buurten", str(r["buurtcodes"])),
        ])
        props.append({"fill": _KERN, "tooltip": _esc(str(r["kern"])), "popup": text})
    _add(group, kernen, props, lambda _f: {"color": _KERN, "weight": 2.5, "fillOpacity": 0.0})
    return group


def _meeting_point_layer(comparison: Comparison, years: tuple[int, int]) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=LAYER_NAMES["meeting_points"], show=True)
    points = comparison.meeting_points
    if points is None or points.empty:
        return group
    points = _to_map(points)
    props = []
    for r in pd.DataFrame(points.drop(columns=points.geometry.name)).to_dict("records"):
        when = years[1] if r["wijziging"] == "nieuw" else years[0]
        where = "" if _is_missing(r["buurtnaam"]) else f"{r['buurtnaam']} ({r['buurtcode']})"
        name = "(naamloos)" if _is_missing(r["naam"]) else str(r["naam"])
        text = _lines(name, [
            ("Wijziging", f"{r['wijziging']} (alleen in {when})"),
            ("Soort", "" if _is_missing(r["categorie_label"]) else str(r["categorie_label"])),
            ("Buurt", where),
        ])
        props.append({
            "fill": _POINT_COLORS[str(r["wijziging"])],
            "tooltip": _esc(f"{name}: {r['wijziging']} ontmoetingspunt"),
            "popup": text,
        })
    marker = folium.CircleMarker(radius=7, color="#ffffff", weight=2, fill=True, fill_opacity=0.95)
    _add(group, points, props, lambda f: {
        "fillColor": f["properties"]["fill"], "color": "#ffffff", "weight": 2, "fillOpacity": 0.95,
    }, marker=marker)
    return group


def build_comparison_map(comparison: Comparison, summary: dict[str, Any]) -> folium.Map:
    """Build the year-over-year map.

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
        Layers :data:`LAYER_NAMES`, title box, legend and layer control; save it with
        :func:`save_comparison_map`.
    """
    years = (int(summary["jaar_oud"]), int(summary["jaar_nieuw"]))
    threshold = format_int(summary["threshold_m"])
    m = folium.Map(location=(52.2, 5.3), zoom_start=8, tiles=None, control_scale=True)
    inline_leaflet(m)
    folium.TileLayer(tiles=LIGHT_TILES_URL, attr=LIGHT_TILES_ATTRIBUTION, name="Lichte achtergrond", max_zoom=19).add_to(m)
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap", show=False).add_to(m)

    buurten = _to_map(comparison.buurten)
    records = pd.DataFrame(buurten.drop(columns=buurten.geometry.name)).to_dict("records")
    popups = [_popup(r, years, threshold) for r in records]
    share, share_map = _share_layer(buurten, records, popups, threshold)
    signal, signal_map = _signal_layer(buurten, records, popups)
    for group in (
        share,
        _division_layer(buurten, records, popups),
        _hotspot_layer(buurten, records, popups),
        signal,
        _kern_layer(comparison, years, threshold),
        _meeting_point_layer(comparison, years),
    ):
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    root = m.get_root()
    root.html.add_child(RawHtml(_title_html(summary)), name="wijkanalyse_titel")
    root.html.add_child(RawHtml(_legend_html(share_map, signal_map, threshold)), name="wijkanalyse_legenda")
    if not buurten.empty:
        west, south, east, north = (float(b) for b in buurten.total_bounds)
        m.fit_bounds([[south, west], [north, east]])
    return m


def save_comparison_map(comparison: Comparison, summary: dict[str, Any], path: Path) -> Path:
    """Build the map and write it as one self-contained UTF-8 HTML file, atomically."""
    return save_map(build_comparison_map(comparison, summary), Path(path))
