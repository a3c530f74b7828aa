"""The national outputs: the table of every gemeente, an overview map and a page for the report.

Written to ``OUT/landelijk/`` by a national run (:func:`wijkanalyse.batch.run_national`);
they only present a :class:`~wijkanalyse.result.NationalResult`, they compute no figures.

``gemeenten.csv`` / ``gemeenten.xlsx``
    one row per gemeente (columns in the README); CSV for Dutch Excel (``;``, decimal comma,
    UTF-8 with BOM); the workbook also has a sheet per province. Text from CBS and OSM is
    untrusted: a cell that starts with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading
    ``'`` in the CSV and is stored as plain text in the workbook, so no spreadsheet runs it.
``overzicht.html``
    an overview map: every gemeente coloured by the share of residents within the walking
    threshold, the wijken as a second layer (no 100 m cells, so the whole country stays a
    few MB); Leaflet is inlined as in ``kaart.html``; popups escape every name.
``landelijk.html``
    a standalone national page (Jinja2, autoescaped); its body is the template
    ``templates/landelijk_sectie.html.j2``, which the report can include as it is
    (:func:`render_section`).
``samenvatting.json``
    the national totals and the failed gemeenten, for machines.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wijkanalyse import __version__, _atomic
from wijkanalyse._format import _is_missing, format_int, format_number, format_percent
from wijkanalyse.outputs._common import environment, neutralise
from wijkanalyse.result import NationalResult

__all__ = [
    "SHARE_CLASSES",
    "neutralise",
    "render_page",
    "render_section",
    "write_national",
    "write_overview_map",
    "write_table",
]

#: Classes of the share within the threshold (lower bound, colour, label), lowest first
#: (ColorBrewer RdYlBu, readable with the common colour-vision deficiencies).
SHARE_CLASSES = (
    (0.0, "#d7191c", "minder dan 70 %"),
    (0.70, "#fdae61", "70 – 80 %"),
    (0.80, "#ffffbf", "80 – 90 %"),
    (0.90, "#abd9e9", "90 – 95 %"),
    (0.95, "#2c7bb6", "95 % of meer"),
)
NO_DATA_COLOUR = "#bdbdbd"
#: Simplification before drawing (m): the overview is a country map, not a buurt map.
OUTLINE_TOLERANCE_M, WIJK_TOLERANCE_M = 60.0, 20.0
LIGHT_TILES_URL = "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/{z}/{x}/{y}.png"
LIGHT_TILES_ATTRIBUTION = 'Kaartgegevens &copy; <a href="https://www.kadaster.nl">Kadaster</a>'

def _text_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if table[c].dtype == object or pd.api.types.is_string_dtype(table[c])]


def write_table(table: pd.DataFrame, csv_path: Path, xlsx_path: Path | None = None,
                sheets: dict[str, pd.DataFrame] | None = None) -> list[Path]:
    """Write ``table`` as CSV for Dutch Excel and, when ``xlsx_path`` is given, as a workbook.

    ``sheets`` are extra sheets of the workbook (name -> frame). Formula-like text is
    neutralised (see the module docstring).
    """
    safe = table.copy()
    for col in _text_columns(safe):
        safe[col] = safe[col].map(neutralise)
    text = safe.to_csv(sep=";", decimal=",", index=False, float_format="%.4f", lineterminator="\r\n")
    written = [_atomic.write_text(csv_path, "\ufeff" + text)]
    if xlsx_path is not None:
        written.append(_atomic.write_with(xlsx_path, lambda p: _write_xlsx(p, {"gemeenten": table, **(sheets or {})})))
    return written


def _cell(value: Any) -> Any:
    if _is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_xlsx(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    from openpyxl import Workbook  # noqa: PLC0415 (only the national run writes a workbook)
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        sheet = book.create_sheet(title=name[:31])
        sheet.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            sheet.append([_cell(v) for v in row])
        for col_idx, col in enumerate(frame.columns, start=1):
            letter = get_column_letter(col_idx)
            for cell in sheet[letter][1:]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text stays text, even "=..."
                elif col.startswith("aandeel") and cell.value is not None:
                    cell.number_format = "0.0%"
            sheet.column_dimensions[letter].width = max(10, min(40, len(str(col)) + 2))
        sheet.freeze_panes = "C2"
        sheet.auto_filter.ref = sheet.dimensions
    book.save(path)


# --------------------------------------------------------------------------- overview map


def _share_colour(share: Any) -> str:
    if _is_missing(share):
        return NO_DATA_COLOUR
    colour = SHARE_CLASSES[0][1]
    for lower, class_colour, _ in SHARE_CLASSES:
        if float(share) >= lower:
            colour = class_colour
    return colour


def _esc(value: Any) -> str:
    return html.escape("" if _is_missing(value) else str(value), quote=True)


def _popup(title: str, rows: Iterable[tuple[str, str]], link: tuple[str, str] | None = None) -> str:
    """An HTML fragment; every argument is plain text and escaped here."""
    parts = [f"<b>{_esc(title)}</b>", *(f"{_esc(label)}: {_esc(value)}" for label, value in rows)]
    if link:
        parts.append(f'<a href="{_esc(link[0])}" target="_blank" rel="noopener">{_esc(link[1])}</a>')
    return '<div style="min-width:200px">' + "<br>".join(parts) + "</div>"


def _signal_text(value: Any) -> str:
    return "onbekend" if _is_missing(value) else format_number(value, 2)


def _features(frame: gpd.GeoDataFrame, tolerance: float, props: list[dict[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection in lon/lat (5 decimals, about 1 m) with the given properties."""
    if frame.empty:
        return {"type": "FeatureCollection", "features": []}
    geoms = frame.geometry.simplify(tolerance, preserve_topology=True).to_crs("EPSG:4326")
    geoms = shapely.set_precision(geoms.to_numpy(), 1e-5)
    features = []
    for geom, prop in zip(geoms, props, strict=True):
        if geom is None or geom.is_empty:
            continue
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": prop})
    return {"type": "FeatureCollection", "features": features}


def _gemeente_layer(national: NationalResult, threshold: str) -> dict[str, Any]:
    table = national.gemeenten.set_index("gemeentecode")
    outlines = national.outlines[national.outlines["gemeentecode"].isin(table.index)]
    props = []
    for code in outlines["gemeentecode"]:
        row = table.loc[code]
        rows = [
            ("Provincie", row["provincie"] or "onbekend"),
            ("Inwoners", format_int(row["inwoners"])),
            (f"Binnen {threshold} m van een ontmoetingspunt",
             f"{format_int(row['inwoners_binnen_drempel'])} ({format_percent(row['aandeel_binnen_drempel'])})"),
            ("Verder weg", format_int(row["inwoners_buiten_drempel"])),
            ("Hotspot-buurten", format_int(row["hotspot_buurten"], missing="0")),
            ("Signaal t.o.v. de andere gemeenten", _signal_text(row["signaal_landelijk"])),
        ]
        if not _is_missing(row["nieuwe_ontmoetingspunten"]):
            rows.append(("Voorgestelde nieuwe ontmoetingspunten", format_int(row["nieuwe_ontmoetingspunten"])))
        if not _is_missing(row["makelaars_nodig"]):
            rows.append(("Wijkmakelaars / dorpscoördinatoren nodig", format_int(row["makelaars_nodig"])))
        link = national.links.get(code)
        props.append({
            "fill": _share_colour(row["aandeel_binnen_drempel"]),
            "tip": f"{_esc(row['gemeentenaam'])}: {_esc(format_percent(row['aandeel_binnen_drempel']))}",
            "popup": _popup(f"{row['gemeentenaam']} ({code})", rows, (link, "Kaart van de gemeente") if link else None),
        })
    return _features(outlines, OUTLINE_TOLERANCE_M, props)


def _wijk_layer(national: NationalResult, threshold: str) -> dict[str, Any]:
    wijken = national.wijken
    props = []
    for row in wijken.itertuples(index=False):
        rows = [
            ("Gemeente", row.gemeentenaam),
            ("Inwoners", format_int(row.inwoners)),
            (f"Binnen {threshold} m", f"{format_int(row.inwoners_binnen_drempel)} ({format_percent(row.aandeel_binnen_drempel)})"),
            ("Signaal (binnen de gemeente)", _signal_text(row.signaal)),
            ("Hotspot-buurten", f"{format_int(row.hotspot_buurten)} van {format_int(row.buurten)} buurten"),
        ]
        name = str(row.wijknaam or row.wijkcode)
        props.append({
            "fill": _share_colour(row.aandeel_binnen_drempel),
            "tip": f"{_esc(name)}: {_esc(format_percent(row.aandeel_binnen_drempel))}",
            "popup": _popup(f"{name} ({row.wijkcode})", rows),
        })
    return _features(wijken, WIJK_TOLERANCE_M, props)


def _script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element (no '<', '>' or '&' left)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _threshold(national: NationalResult) -> str:
    value = national.totals.get("drempel_m")
    return format_int(value) if value is not None else "de drempel"


def write_overview_map(national: NationalResult, path: Path) -> Path:
    """Write ``overzicht.html``: gemeenten and wijken coloured by the share within the threshold."""
    vendor = resources.files("wijkanalyse.outputs") / "vendor"
    threshold = _threshold(national)
    totals = national.totals
    page = environment().get_template("overzicht.html.j2").render(
        leaflet_css=vendor.joinpath("leaflet.css").read_text(encoding="utf-8"),
        leaflet_js=vendor.joinpath("leaflet.js").read_text(encoding="utf-8"),
        gemeenten_json=_script_json(_gemeente_layer(national, threshold)),
        wijken_json=_script_json(_wijk_layer(national, threshold)),
        tiles_json=_script_json({"url": LIGHT_TILES_URL, "attribution": LIGHT_TILES_ATTRIBUTION}),
        classes=[(colour, label) for _, colour, label in SHARE_CLASSES], no_data=NO_DATA_COLOUR,
        threshold=threshold, totals=totals, synthetic=national.synthetic,
    )
    return _atomic.write_text(path, page)


# --------------------------------------------------------------------------- national page


def _context(national: NationalResult, *, map_href: str, table_href: str) -> dict[str, Any]:
    table = national.gemeenten
    done = table[table["status"] == "klaar"]
    failed = table[table["status"] != "klaar"]
    rows = []
    for row in done.itertuples(index=False):
        rows.append({
            "code": row.gemeentecode, "naam": row.gemeentenaam, "provincie": row.provincie or "",
            "inwoners": row.inwoners, "binnen": row.inwoners_binnen_drempel, "buiten": row.inwoners_buiten_drempel,
            "aandeel": row.aandeel_binnen_drempel, "hotspots": row.hotspot_buurten, "signaal": row.signaal_landelijk,
            "voorstellen": row.nieuwe_ontmoetingspunten, "makelaars": row.makelaars_nodig,
            "kleur": _share_colour(row.aandeel_binnen_drempel), "link": national.links.get(str(row.gemeentecode)),
        })
    return {
        "totals": national.totals,
        "threshold": _threshold(national),
        "gemeenten": rows,
        "mislukt": [{"code": r.gemeentecode, "naam": r.gemeentenaam, "melding": r.melding} for r in failed.itertuples()],
        "provincies": national.provinces.to_dict("records"),
        "has_proposals": bool(done["nieuwe_ontmoetingspunten"].notna().any()),
        "has_brokers": bool(done["makelaars_nodig"].notna().any()),
        "indicators": national.indicators,
        "synthetic": national.synthetic,
        "map_href": map_href,
        "table_href": table_href,
        "classes": [(colour, label) for _, colour, label in SHARE_CLASSES],
        "version": __version__,
    }


def render_section(national: NationalResult, *, map_href: str = "overzicht.html",
                   table_href: str = "gemeenten.xlsx") -> str:
    """The national section as an HTML fragment (one ``<section>``, its own scoped style), for the report."""
    context = _context(national, map_href=map_href, table_href=table_href)
    return environment().get_template("landelijk_sectie.html.j2").render(**context)


def render_page(national: NationalResult) -> str:
    """The standalone national page (``landelijk.html``)."""
    context = _context(national, map_href="overzicht.html", table_href="gemeenten.xlsx")
    return environment().get_template("landelijk.html.j2").render(**context)


def write_national(national: NationalResult, folder: Path) -> dict[str, Path]:
    """Write every national output into ``folder`` (``OUT/landelijk``); return them by name."""
    from wijkanalyse.outputs.write import write_summary  # noqa: PLC0415

    folder = Path(folder)
    csv_path, xlsx_path = write_table(
        national.gemeenten, folder / "gemeenten.csv", folder / "gemeenten.xlsx",
        sheets={"provincies": national.provinces},
    )
    files = {
        "gemeenten_csv": csv_path,
        "gemeenten_xlsx": xlsx_path,
        "overzicht": write_overview_map(national, folder / "overzicht.html"),
        "landelijk": _atomic.write_text(folder / "landelijk.html", render_page(national)),
        "samenvatting": write_summary(
            {**national.totals, "synthetic": national.synthetic, "wijkanalyse_version": __version__},
            folder / "samenvatting.json",
        ),
    }
    return files
