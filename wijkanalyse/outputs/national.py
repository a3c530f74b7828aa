"""The national outputs: the table of every gemeente, an overview map and a page for the report.

Written to ``OUT/landelijk/`` by a national run (:func:`wijkanalyse.batch.run_national`);
they only present a :class:`~wijkanalyse.result.NationalResult`, they compute no figures.

``gemeenten.csv`` / ``gemeenten.xlsx``
    one row per gemeente (columns in the README); CSV for Dutch Excel (``;``, decimal comma,
    UTF-8 with BOM); the workbook also has a sheet per province. Text from CBS and OSM is
    untrusted: a cell that starts with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading
    ``'`` in the CSV and is stored as plain text in the workbook, so no spreadsheet runs it.
``overzicht.html``
    an overview map on the main map's page (:func:`wijkanalyse.outputs.maps.build_page`, the
    same ``kaart.js``): every gemeente coloured by the share of residents within the walking
    threshold, the wijken as the second colouring (no 100 m cells, so the whole country stays
    a few MB), search on gemeente and wijk names, their borders as the background without
    internet; every name is escaped (:class:`._maptext.Popups`).
``landelijk.html``
    a standalone national page (Jinja2, autoescaped); its body is the template
    ``templates/landelijk_sectie.html.j2``, which the report can include as it is
    (:func:`render_section`).
``samenvatting.json``
    the national totals and the failed gemeenten, for machines.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import shapely
import pandas as pd

from wijkanalyse import __version__, _atomic
from wijkanalyse._format import _is_missing, format_int, format_number, format_percent
from wijkanalyse.outputs import maps
from wijkanalyse.outputs._common import environment, neutralise
from wijkanalyse.outputs._encode import encode_polylines, polygon_rings
from wijkanalyse.outputs._maptext import Popups, esc, plain, search_key
from wijkanalyse.outputs.style import STREET_COLOR
from wijkanalyse.result import NationalResult

__all__ = [
    "NATIONAL_BANNER",
    "SHARE_CLASSES",
    "neutralise",
    "overview_document",
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
#: Banner of the overview and the national page when the gemeenten are synthetic.
NATIONAL_BANNER = "SYNTHETISCHE GEGEVENS — geen echte gemeenten"

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


def _signal_text(value: Any) -> str:
    return "onbekend" if _is_missing(value) else format_number(value, 2)


def _share_class(share: Any) -> int:
    """The index in :data:`SHARE_CLASSES` of a share, -1 when it is unknown."""
    if _is_missing(share):
        return -1
    return max([0, *(i for i, (lower, _, _) in enumerate(SHARE_CLASSES) if float(share) >= lower)])


def _threshold(national: NationalResult) -> str:
    value = national.totals.get("threshold_m")
    return format_int(value) if value is not None else "de drempel"


def _method(national: NationalResult) -> str:
    return {"network": "lopen", "straight_line": "hemelsbreed"}.get(str(national.totals.get("distance_method")), "")


def _link(national: NationalResult, code: Any) -> str | None:
    """The gemeente's own map as a relative address, percent-encoded (no scheme survives, so no ``javascript:``)."""
    target = national.links.get(str(code))
    return esc(quote(str(target), safe="/")) if target else None


def _rings(frame: gpd.GeoDataFrame, tolerance: float) -> list:
    if frame.empty:
        return []
    geoms = frame.geometry.simplify(tolerance, preserve_topology=True).to_crs("EPSG:4326").to_numpy()
    return [polygon_rings(g) for g in geoms]


def _outline_lines(frames: Iterable[tuple[gpd.GeoDataFrame, float]]) -> list[str] | None:
    """The gemeente and wijk borders as lines: the background that needs no internet."""
    pieces = []
    for frame, tolerance in frames:
        if frame.empty:
            continue
        lines = frame.geometry.simplify(tolerance, preserve_topology=True).boundary.to_crs("EPSG:4326")
        for line in lines.to_numpy():
            pieces += [shapely.get_coordinates(piece) for piece in getattr(line, "geoms", [line]) if not piece.is_empty]
    return encode_polylines(pieces) or None


def _areas(national: NationalResult, threshold: str) -> tuple[dict[str, Any], gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Gemeenten (level 0) then wijken (level 1) as the map's one area part: popups, share classes, search keys."""
    table = national.gemeenten.set_index("gemeentecode")
    outlines = national.outlines[national.outlines["gemeentecode"].isin(table.index)].reset_index(drop=True)
    wijken = national.wijken.reset_index(drop=True)
    within = f"Binnen {threshold} m van een ontmoetingspunt"
    popups = Popups(["Provincie", "Gemeente", "Wijkcode", "Inwoners", within, "Verder weg", "Hotspot-buurten",
                     "Signaal t.o.v. de andere gemeenten", "Signaal (binnen de gemeente)",
                     "Voorgestelde nieuwe ontmoetingspunten", "Wijkmakelaars / dorpscoördinatoren nodig"])
    names, keys, classes, links = [], [], [], []
    for code in outlines["gemeentecode"]:
        row = table.loc[code]
        values = {
            "Provincie": plain(row["provincie"] or None),
            "Inwoners": format_int(row["inwoners"]),
            within: f"{format_int(row['inwoners_binnen_drempel'])} ({format_percent(row['aandeel_binnen_drempel'])})",
            "Verder weg": format_int(row["inwoners_buiten_drempel"]),
            "Hotspot-buurten": format_int(row["hotspot_buurten"], missing="0"),
            "Signaal t.o.v. de andere gemeenten": _signal_text(row["signaal_landelijk"]),
        }
        if not _is_missing(row["nieuwe_ontmoetingspunten"]):
            values["Voorgestelde nieuwe ontmoetingspunten"] = format_int(row["nieuwe_ontmoetingspunten"])
        if not _is_missing(row["makelaars_nodig"]):
            values["Wijkmakelaars / dorpscoördinatoren nodig"] = format_int(row["makelaars_nodig"])
        name = plain(row["gemeentenaam"], str(code))
        popups.add(f"{name} ({code})", values)
        names.append(esc(f"{name}: {format_percent(row['aandeel_binnen_drempel'])}"))
        keys.append(search_key(name, code))
        classes.append(_share_class(row["aandeel_binnen_drempel"]))
        links.append(_link(national, code))
    for row in wijken.to_dict("records"):
        name = plain(row.get("wijknaam") or None, plain(row.get("wijkcode"), "Wijk zonder naam"))
        popups.add(f"Wijk {name}", {
            "Gemeente": plain(row.get("gemeentenaam")),
            "Wijkcode": plain(row.get("wijkcode")),
            "Inwoners": format_int(row.get("inwoners")),
            within: f"{format_int(row.get('inwoners_binnen_drempel'))} ({format_percent(row.get('aandeel_binnen_drempel'))})",
            "Signaal (binnen de gemeente)": _signal_text(row.get("signaal")),
            "Hotspot-buurten": f"{format_int(row.get('hotspot_buurten'))} van {format_int(row.get('buurten'))} buurten",
        })
        names.append(esc(f"{name} ({plain(row.get('gemeentenaam'), '')}): "
                         f"{format_percent(row.get('aandeel_binnen_drempel'))}"))
        keys.append(search_key(name, row.get("wijkcode"), row.get("gemeentenaam")))
        classes.append(_share_class(row.get("aandeel_binnen_drempel")))
        links.append(_link(national, row.get("gemeentecode")))
    return {
        "g": _rings(outlines, OUTLINE_TOLERANCE_M) + _rings(wijken, WIJK_TOLERANCE_M),
        "lvl": [0] * len(outlines) + [1] * len(wijken),
        "kinds": ["gemeente", "wijk"],
        "key": keys, "name": names, **popups.part(),
        "link": links, "linkText": "Kaart van de gemeente",
        "sig": classes, "bereik": classes, "hot": [-1] * len(classes),
    }, outlines, wijken


def _help(national: NationalResult, threshold: str) -> list[list[str]]:
    years = ", ".join(str(y) for y in national.totals.get("years") or []) or "het jaar van elke gemeente"

    def para(*texts: str) -> str:
        return "".join(f"<p>{esc(t)}</p>" for t in texts)

    return [
        ["Wat laat deze kaart zien?", para(
            f"Per gemeente (of per wijk) het aandeel inwoners dat binnen {threshold} m van een ontmoetingspunt "
            "woont: rood = veel mensen te ver, blauw = bijna iedereen dichtbij. Rechtsboven, onder 'Lagen en "
            "legenda', kiest u gemeenten of wijken. Tik of klik op een gebied voor de cijfers en de kaart van "
            "de gemeente zelf; met Zoeken vindt u een gemeente of wijk op naam.",
            "Het signaal zegt waar de zorgen groter zijn dan gemiddeld: bij een gemeente vergeleken met de "
            "andere gemeenten, bij een wijk vergeleken met de rest van de gemeente.",
        )],
        ["Zonder internet", para(
            "De kaart werkt zonder internet; alleen de achtergrondkaart (PDOK of OpenStreetMap) komt van internet. "
            "Zonder verbinding ziet u de gemeente- en wijkgrenzen.",
        )],
        ["Bronnen", "<ul>" + "".join(f"<li>{esc(t)}</li>" for t in (
            f"Inwoners, wijk- en buurtgrenzen: CBS ({years}), via PDOK. Licentie CC BY 4.0.",
            "Ontmoetingspunten en looppaden: © OpenStreetMap-bijdragers. Licentie ODbL 1.0.",
            "Achtergrondkaart (alleen met internet): BRT-Achtergrondkaart grijs, © Kadaster via PDOK, of OpenStreetMap.",
            "De cijfers per gemeente komen uit de run van die gemeente; de kaart van elke gemeente heeft de details.",
        )) + "</ul>"],
    ]


def overview_document(national: NationalResult) -> dict[str, Any]:
    """The data document of ``overzicht.html``, in the shape of :func:`wijkanalyse.outputs.maps.map_data`.

    The gemeenten and the wijken are the map's area part on two levels (``lvl``): the first
    colouring shows the gemeenten, the second the wijken, both by the share within the
    threshold (:data:`SHARE_CLASSES`); their borders are the background without internet.
    """
    threshold = _threshold(national)
    totals = national.totals
    part, outlines, wijken = _areas(national, threshold)
    method = _method(national)
    title = f"Overzicht: inwoners binnen {threshold} m van een ontmoetingspunt"
    line = (
        f"{format_int(totals.get('n_gemeenten_done'))} gemeenten, {format_int(totals.get('residents_total'))} inwoners: "
        f"{format_int(totals.get('residents_within_threshold'))} ({format_percent(totals.get('share_within_threshold'))}) "
        f"binnen {threshold} m{' ' + method if method else ''}, {format_int(totals.get('residents_beyond_threshold'))} verder weg"
    )
    if totals.get("gemeenten_failed"):
        line += f" · niet gelukt: {', '.join(str(c) for c in totals['gemeenten_failed'])}"
    legend = "".join(
        f'<div class="wa-rij"><span class="wa-vak" style="background:{colour}"></span>{esc(label)}</div>'
        for _, colour, label in SHARE_CLASSES
    ) + f'<div class="wa-rij"><span class="wa-vak" style="background:{NO_DATA_COLOUR}"></span>geen gegevens</div>'
    years = " en ".join(str(y) for y in totals.get("years") or [])
    shape = outlines if len(outlines) else wijken
    colours = [colour for _, colour, _ in SHARE_CLASSES]
    return {
        "title": esc(title), "summary": esc(line), "banner": esc(NATIONAL_BANNER) if national.synthetic else "",
        "bounds": maps._bounds(shape) if len(shape) else [[50.75, 3.3], [53.55, 7.25]],  # noqa: SLF001
        "tiles": maps._tiles(),  # noqa: SLF001
        "attribution": (
            '&copy; <a href="https://www.openstreetmap.org/copyright" target="_blank" rel="noopener noreferrer">'
            f"OpenStreetMap-bijdragers</a> (ODbL) · CBS{' ' + esc(years) if years else ''} (CC BY 4.0) · PDOK · "
            '<a href="#bronnen" class="wa-bronnen-link">bronnen</a>'
        ),
        "help": _help(national, threshold),
        "legends": {"signal": legend, "reach": legend, "borders": "",
                    "streets": f'<div class="wa-rij"><span class="wa-vak" style="height:2px;background:{STREET_COLOR}">'
                               "</span>grenzen van gemeenten en wijken</div>"},
        "names": {"signal": "Gemeenten: aandeel binnen " + esc(threshold) + " m",
                  "reach": "Wijken: aandeel binnen " + esc(threshold) + " m",
                  "borders": "Alleen grenzen", "streets": "Gemeente- en wijkgrenzen (werkt zonder internet)"},
        "levels": {"signal": 0, "reach": 1},
        "colors": {"signal": colours, "reach": colours, "missing": NO_DATA_COLOUR, "hotspots": [],
                   "outside": NO_DATA_COLOUR, "gaps": NO_DATA_COLOUR, "meeting": NO_DATA_COLOUR,
                   "other": NO_DATA_COLOUR, "proposal": NO_DATA_COLOUR, "kern": NO_DATA_COLOUR, "street": STREET_COLOR},
        "text": {"threshold": esc(threshold), "walk": esc(method), "modes": "Kleuren",
                 "none": "Geen gebieden", "search": "Gemeente of wijk"},
        "cell": {"e": [0, 0.0007], "n": [0.00045, 0]},
        "buurten": part,
        "streets": _outline_lines([(outlines, OUTLINE_TOLERANCE_M), (wijken, WIJK_TOLERANCE_M)]),
        "day_parts": None, "groups": [], "cells": None, "gaps": None, "venues": None, "proposals": None,
        "areas": None, "kernen": None, "straten": None, "whatif": None,
    }


def write_overview_map(national: NationalResult, path: Path) -> Path:
    """Write ``overzicht.html``: the main map's page (:func:`wijkanalyse.outputs.maps.build_page`) of every gemeente and wijk."""
    return maps.save_map(maps.build_page(overview_document(national)), Path(path))


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
