"""Tables for people: the Excel workbook ``buurten.xlsx``, and formula-safe text for CSV and XLSX.

Names come from CBS, OpenStreetMap and config files. A spreadsheet runs a cell that starts
with ``=``, ``+``, ``-`` or ``@`` (and, in some programs, tab or carriage return) as a
formula: ``=HYPERLINK(...)`` as a buurt name would become a live link. :func:`neutralise`
puts a single quote before such text, as OWASP advises for CSV injection; numbers are left
alone, so a negative signal stays a number.

The workbook presents the :class:`RunResult` as it is: Dutch headers, numbers stored as
numbers, shares as percentages, money in euro. It computes no figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from wijkanalyse import _atomic
from wijkanalyse._format import _is_missing
from wijkanalyse.outputs._common import FORMULA_PREFIXES, neutralise, neutralise_frame
from wijkanalyse.outputs.texts import with_labels
from wijkanalyse.outputs._siting import by_count_frame
from wijkanalyse.outputs._maptext import distance_label
from wijkanalyse.analysis.opening import DAY_PART_LABELS
from wijkanalyse.result import RunResult

__all__ = ["FORMULA_PREFIXES", "SHEETS", "neutralise", "neutralise_frame", "write_xlsx"]

#: First characters that make a spreadsheet read text as a formula (OWASP, CSV injection).

#: Sheet names: the first two always, the others when the run computed them.
SHEETS = {
    "key_figures": "Kerncijfers",
    "buurten": "Buurten",
    "kernen": "Kernen",
    "proposals": "Voorstellen",
    "by_count": "Per aantal plekken",
    "broker_areas": "Werkgebieden",
    "walking": "Looptijd",
    "open_hours": "Openingstijden",
    "venue_hours": "Openingstijden per punt",
    "target_groups": "Doelgroepen",
    "capacity": "Capaciteit",
    "dependence": "Kwetsbare ontmoetingspunten",
    "scenarios": "Scenario's",
    "scenario_points": "Scenario-plekken",
}

_PERCENT = "0.0%"
_DATETIME = "d-m-yyyy hh:mm"
_INT = "#,##0"
_EURO = '"€" #,##0'
_DECIMALS = {1: "#,##0.0", 2: "0.00", 3: "0.000"}

#: column -> (Dutch header, number format or None for text). ``{t}`` is the threshold in metres,
#: ``{afstand}`` the distance's name (:func:`~wijkanalyse.outputs._maptext.distance_label`).
_COLUMNS: dict[str, tuple[str, str | None]] = {
    "buurtcode": ("Buurtcode", None),
    "buurtnaam": ("Buurtnaam", None),
    "wijkcode": ("Wijkcode", None),
    "wijknaam": ("Wijknaam", None),
    "kern": ("Kern", None),
    "inwoners": ("Inwoners", _INT),
    "inwoners_cbs": ("Inwoners volgens CBS", _INT),
    "inwoners_binnen_drempel": ("Inwoners binnen {t} m", _INT),
    "aandeel_binnen_drempel": ("Aandeel binnen {t} m", _PERCENT),
    "afstand_mediaan_m": ("{afstand} van de middelste inwoner (m)", _INT),
    "signaal": ("Signaal (gewogen z-score; hoger = meer zorgen)", _DECIMALS[2]),
    "hotspot": ("Hotspot-analyse (Local Moran)", None),
    "hotspot_p": ("Kans op toeval (p-waarde)", _DECIMALS[3]),
    "buurtcodes": ("Buurtcodes", None),
    "buurtnamen": ("Buurten", None),
    "rank": ("Volgorde", _INT),
    "rang": ("Voorstel (nummer in de volgorde)", _INT),
    "naam": ("Naam", None),
    "soort": ("Soort plek", None),
    "nieuw_binnen_bereik": ("Nieuw binnen {t} m (inwoners)", _INT),
    "cumulatief_binnen_bereik": ("Samen met de eerdere voorstellen (inwoners)", _INT),
    "aandeel_na": ("Aandeel binnen {t} m daarna", _PERCENT),
    "kosten_per_jaar": ("Kosten per jaar", _EURO),
    "kosten_per_inwoner": ("Kosten per nieuw bereikte inwoner per jaar", _EURO),
    "alleen_binnen_bereik": ("Alleen deze plek: nieuw binnen {t} m (inwoners)", _INT),
    "in_beste_keuze_bij": ("In de keuze voor (aantal plekken)", None),
    "aantal_plekken": ("Aantal nieuwe plekken", _INT),
    "voorstellen": ("Voorstellen (nummers)", None),
    "namen": ("Namen", None),
    "eerste_voorstellen": ("Zijn dit de eerste voorstellen van de lijst?", None),
    "oordeel": ("Beste keuze?", None),
    "breedtegraad": ("Breedtegraad (WGS84)", "0.000000"),
    "lengtegraad": ("Lengtegraad (WGS84)", "0.000000"),
    "gebied_id": ("Werkgebied", _INT),
    "kernen": ("Kernen", None),
    "werklast": ("Werklast", _DECIMALS[2]),
    "werklast_tov_gemiddeld": ("Werklast t.o.v. het gemiddelde gebied", _PERCENT),
    "prioriteit": ("Prioriteit voor een wijkmakelaar (0 = laag, 1 = hoog)", _DECIMALS[2]),
    "prioriteit_rang": ("Rang in de prioriteit (1 = eerst)", _INT),
    "makelaarsgebied": ("Werkgebied", _INT),
    "n_buurten": ("Aantal buurten", _INT),
    "hotspot_buurten": ("Hotspot-buurten (aantal)", _INT),
    "inwoners_in_hotspot": ("Inwoners in een hotspot-buurt", _INT),
    "nieuw_gewogen": ("Nieuw binnen {t} m, gewogen met het signaal", _DECIMALS[1]),
    "x": ("X (RD, m)", _INT),
    "y": ("Y (RD, m)", _INT),
    "inwoners_buiten_drempel": ("Inwoners verder dan {t} m", _INT),
    "cellen": ("Bewoonde vakken van 100 m", _INT),
    "afstand_max_m": ("Verste {afstand} (m)", _INT),
    "gat_id": ("Gat", _INT),
    "groep": ("Groep (sleutel)", None),
    "groep_label": ("Groep", None),
    "snelheid_m_s": ("Looptempo (m/s)", _DECIMALS[2]),
    "drempel_m": ("Drempel (m)", _INT),
    "drempel_min": ("Drempel (minuten op het looptempo)", _DECIMALS[1]),
    "profiel": ("Profiel (welke wegen niet)", None),
    "categorie_label": ("Soort", None),
    "openingstijden": ("Openingstijden (zoals opgegeven)", None),
    "openingstijden_status": ("Openingstijden gelezen?", None),
    "open_dagdelen": ("Open dagdelen per week (van 21)", _INT),
    "telt_mee": ("Telt mee als ontmoetingspunt", None),
    **{f"aandeel_{part}": (f"Aandeel binnen {{t}} m van een punt open op {label}", _PERCENT)
       for part, label in DAY_PART_LABELS.items()},
    # [doelgroepen]: every figure a range (laag-hoog), because CBS keeps small counts secret
    "niveau": ("Niveau", None),
    "code": ("Code", None),
    "doelgroep": ("Doelgroep", None),
    "inwoners_min": ("Inwoners (laag)", _INT),
    "inwoners_max": ("Inwoners (hoog)", _INT),
    "binnen_drempel_min": ("Binnen {t} m (laag)", _INT),
    "binnen_drempel_max": ("Binnen {t} m (hoog)", _INT),
    "buiten_drempel_min": ("Verder dan {t} m (laag)", _INT),
    "buiten_drempel_max": ("Verder dan {t} m (hoog)", _INT),
    "aandeel_binnen_min": ("Aandeel binnen {t} m (laag)", _PERCENT),
    "aandeel_binnen_max": ("Aandeel binnen {t} m (hoog)", _PERCENT),
    # capacity of the meeting points
    "bron": ("Bron", None),
    "capaciteit": ("Capaciteit (inwoners)", _INT),
    "inwoners_binnen_bereik": ("Inwoners binnen {t} m", _INT),
    "belasting": ("Belasting (inwoners gedeeld over de plekken binnen bereik)", _DECIMALS[1]),
    "plaatsen_per_inwoner": ("Capaciteit per inwoner binnen bereik", _DECIMALS[2]),
    "boven_capaciteit": ("Boven capaciteit?", None),
    "kwetsbaar_rang": ("Kwetsbaar (1 = de meeste inwoners verliezen hun ontmoetingspunt)", _INT),
    "osm_id": ("Id (OpenStreetMap of eigen punt)", None),
    "inwoners_dichtstbij": ("Inwoners binnen {t} m voor wie dit het dichtstbij is", _INT),
    "inwoners_alleen_hier": ("Inwoners voor wie dit het enige ontmoetingspunt binnen {t} m is", _INT),
    "cellen_alleen_hier": ("Hun vakken van 100 m", _INT),
    "inwoners_verliezen_toegang": ("Als dit punt sluit: inwoners verder dan {t} m", _INT),
    "inwoners_geen_ander_bereikbaar": ("Van hen: geen ander ontmoetingspunt bereikbaar", _INT),
    "afstand_volgende_gem_m": ("{afstand} naar het volgende ontmoetingspunt, gemiddeld (m)", _INT),
    "afstand_volgende_mediaan_m": ("{afstand} naar het volgende ontmoetingspunt, mediaan (m)", _INT),
    "scenario": ("Scenario", None),
    "inwoners_binnen_drempel_nu": ("Binnen de drempel nu (inwoners)", _INT),
    "inwoners_binnen_drempel_scenario": ("Binnen de drempel met het scenario (inwoners)", _INT),
    "verschil": ("Verschil (inwoners)", _INT),
    "aandeel_binnen_drempel_nu": ("Aandeel binnen de drempel nu", _PERCENT),
    "aandeel_binnen_drempel_scenario": ("Aandeel binnen de drempel met het scenario", _PERCENT),
    "inwoners_verliezen": ("Verliezen hun ontmoetingspunt binnen de drempel (inwoners)", _INT),
    "inwoners_winnen": ("Krijgen een ontmoetingspunt binnen de drempel (inwoners)", _INT),
    "wijziging": ("Wat verandert", None),
    "op_netwerk": ("Aan een straat of pad (telt mee)", None),
}
#: A header for a column without one above: words, not an identifier ("n_buurten" -> "Aantal buurten").
_WORDS = {"n": "aantal", "pct": "procent", "m": "(m)", "id": "nummer"}
#: ``openingstijden_status`` in Dutch.
HOURS_STATUS = {"known": "ja", "unknown": "onbekend (niet opgegeven)", "unparseable": "niet te lezen"}
_UNREACHABLE = "onbereikbaar"
_HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")


# --------------------------------------------------------------------------- cells


def _cell_value(value: Any) -> Any:
    """A value openpyxl stores as it should: numbers as numbers, inf as text, missing as empty."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or _is_missing(value):
        return None
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, float) and math.isinf(value):
        return _UNREACHABLE
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple | np.ndarray):
        value = ", ".join(str(v) for v in value)
    return neutralise(str(value))


def _write_sheet(
    sheet: Worksheet,
    frame: pd.DataFrame,
    headers: Mapping[str, tuple[str, str | None]],
) -> None:
    """Write ``frame`` under one bold header row, with number formats, filter and frozen header."""
    columns = list(frame.columns)
    headers = {**headers, **{c: (_readable(c), _default_format(frame[c])) for c in columns if c not in headers}}
    for j, column in enumerate(columns, start=1):
        header, _fmt = headers[column]
        cell = sheet.cell(row=1, column=j, value=neutralise(header))
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [min(max(len(str(headers.get(c, (str(c), None))[0])) // 2 + 2, 10), 40) for c in columns]
    for i, row in enumerate(frame.itertuples(index=False, name=None), start=2):
        for j, (column, raw) in enumerate(zip(columns, row, strict=True), start=1):
            value = _cell_value(raw)
            cell = sheet.cell(row=i, column=j, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text
                widths[j - 1] = min(max(widths[j - 1], len(value) + 2), 60)
            else:
                fmt = headers.get(column, ("", None))[1]
                if fmt and value is not None:
                    cell.number_format = fmt
    for j, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(j)].width = width
    sheet.row_dimensions[1].height = 45
    sheet.freeze_panes = "A2"
    _print_setup(sheet)
    if len(frame):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(frame) + 1}"


def _default_format(column: pd.Series) -> str | None:
    """Whole numbers without decimals, other numbers with two; text as it is."""
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        return None
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    return _INT if finite.size == 0 or np.all(finite == np.round(finite)) else _DECIMALS[2]


def _readable(column: str) -> str:
    """A Dutch header made of the column's words, for a column the table above does not name."""
    words = [_WORDS.get(w, w) for w in str(column).split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else str(column)


def _print_setup(sheet: Worksheet) -> None:
    """A4 landscape, one page wide, the header row repeated on every page (as a council prints it)."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4


def _headers(result: RunResult) -> dict[str, tuple[str, str | None]]:
    threshold = f"{float((result.summary or {}).get('threshold_m', result.threshold_m)):g}"
    afstand = distance_label(str((result.summary or {}).get("distance_method", result.distance_method)))
    headers = {key: (label.replace("{t}", threshold).replace("{afstand}", afstand), fmt) for key, (label, fmt) in _COLUMNS.items()}
    for key, label in result.indicators.items():
        headers[key] = (str(label), _DECIMALS[1])
    return headers


def _table(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """Attributes only (geometry dropped), plain index; None when there is nothing."""
    if frame is None or len(frame) == 0:
        return None
    if isinstance(frame, gpd.GeoDataFrame):
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- sheets


def _key_figures(result: RunResult) -> pd.DataFrame:
    """The summary as label/value rows (shares as numbers with a percent format)."""
    s = result.summary or {}
    threshold = f"{float(s.get('threshold_m', result.threshold_m)):g}"
    method_key = str(s.get("distance_method", result.distance_method))
    method = {"network": "lopend over straten en paden", "straight_line": "hemelsbreed"}.get(
        method_key, str(s.get("distance_method", ""))
    )
    names = {}
    if "buurtcode" in result.buurten and "buurtnaam" in result.buurten:
        names = dict(zip(result.buurten["buurtcode"].astype(str), result.buurten["buurtnaam"], strict=True))
    hotspots = ", ".join(f"{names.get(code, code)} ({code})" for code in s.get("hotspot_buurten", []) or [])
    rows: list[tuple[str, Any, str | None]] = [
        ("Gemeente", f"{result.gemeente_name} ({result.gemeente_code})", None),
        ("Jaar van de CBS-cijfers", result.year, None),
        ("Synthetische demo-gemeente (verzonnen gegevens)", "ja" if result.synthetic else "nee", None),
        (f"Drempel: {distance_label(method_key, lower=True)} tot een ontmoetingspunt (m)", s.get("threshold_m", result.threshold_m), _INT),
        ("Afstand gemeten", method, None),
        ("Inwoners", s.get("residents_total"), _INT),
        (f"Inwoners binnen {threshold} m", s.get("residents_within_threshold"), _INT),
        (f"Inwoners verder dan {threshold} m", s.get("residents_beyond_threshold"), _INT),
        (f"Aandeel binnen {threshold} m", s.get("share_within_threshold"), _PERCENT),
        ("Buurten", s.get("n_buurten"), _INT),
        ("Ontmoetingspunten", s.get("n_meeting_points"), _INT),
        ("Voorzieningen (alle)", s.get("n_venues"), _INT),
        ("Gaten (aaneengesloten gebieden buiten bereik)", s.get("n_gaps"), _INT),
        (f"Waarvan kleine gaten (minder dan {s.get('min_gap_residents', '?')} inwoners)", s.get("n_gaps_small"), _INT),
        ("Vakken van 100 m met geheim aantal inwoners (CBS)", s.get("cells_suppressed"), _INT),
        ("Hotspot-buurten", hotspots or "geen", None),
        ("CBS-tabel", s.get("cbs_table"), None),
        ("Gegevens opgehaald (snapshot)", _when(s.get("snapshot_created")), _DATETIME),
        ("Berekend op", _when(s.get("generated")), _DATETIME),
        ("Versie van wijkanalyse", s.get("wijkanalyse_version"), None),
    ]
    if s.get("broker_max_deviation") is not None:
        rows += [
            ("Werkgebieden: grootste afwijking van de gemiddelde werklast", s["broker_max_deviation"], _PERCENT),
            ("Werkgebieden: toegestane afwijking (brokers.balance_tolerance)", s.get("broker_balance_tolerance"),
             _PERCENT),
        ]
    rows += _walking_rows(s)
    sources = getattr(result, "sources", None) or {}
    labels = {"cbs": "CBS-kerncijfers", "buurten": "Buurtgrenzen (PDOK)", "grid": "100 m-vierkanten (CBS, PDOK)",
              "osm": "OpenStreetMap"}
    for key, label in labels.items():
        entry = sources.get(key) or {}
        if entry.get("retrieved"):
            rows.append((f"Bron {label}: opgehaald", _when(entry["retrieved"]), _DATETIME))
    frame = pd.DataFrame({"kerncijfer": [r[0] for r in rows], "waarde": [r[1] for r in rows]})
    frame.attrs["formats"] = [r[2] for r in rows]
    return frame


def _when(value: Any) -> Any:
    """An ISO date or timestamp as a date a spreadsheet can sort (time zone dropped: Excel has none); else as is."""
    if not isinstance(value, str) or not value:
        return value
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return value
    return stamp.replace(tzinfo=None)


def _walking_rows(s: dict[str, Any]) -> list[tuple[str, Any, str | None]]:
    """Key figures per walking group (metres and minutes) and of the opening hours."""
    rows: list[tuple[str, Any, str | None]] = []
    for g in (s.get("walking") or {}).get("groups", []):
        what = f"{g['label']} ({str(g['speed_m_s']).replace('.', ',')} m/s{', ' + g['profile'] if g.get('profile_applied') else ''})"
        rows += [
            (f"Looptijd {what}: drempel (m)", g["threshold_m"], _INT),
            (f"Looptijd {what}: drempel (minuten)", g["threshold_min"], _DECIMALS[1]),
            (f"Looptijd {what}: aandeel binnen de drempel", g["share_within_threshold"], _PERCENT),
        ]
    hours = s.get("open_hours") or {}
    if hours:
        rows += [
            ("Ontmoetingspunten zonder openingstijden", hours.get("unknown"), _INT),
            ("Ontmoetingspunten met onleesbare openingstijden", len(hours.get("unparseable") or []), _INT),
            ("Ontmoetingspunten die door hun openingstijden niet meetellen", len(hours.get("excluded") or []), _INT),
        ]
    return rows


def _walking(result: RunResult) -> pd.DataFrame | None:
    return _table(getattr(result, "walking", None))


def _open_hours(result: RunResult) -> pd.DataFrame | None:
    return _table(getattr(result, "open_hours", None))


def _venue_hours(result: RunResult) -> pd.DataFrame | None:
    """Every meeting point (also those its hours leave out) with its hours as given and as read."""
    venues = result.venues
    if venues is None or "openingstijden_status" not in venues.columns:
        return None
    meeting = venues["ontmoetingspunt"].astype(bool) | venues["osm_id"].astype(str).isin(
        [e["id"] for e in (result.summary.get("open_hours") or {}).get("excluded", [])]
    )
    frame = _table(venues[meeting])
    if frame is None:
        return None
    frame["openingstijden_status"] = frame["openingstijden_status"].map(HOURS_STATUS)
    frame["telt_mee"] = frame["ontmoetingspunt"].astype(bool)
    return frame[["naam", "categorie_label", "openingstijden", "openingstijden_status", "open_dagdelen", "telt_mee"]]


def _write_key_figures(sheet: Worksheet, result: RunResult) -> None:
    frame = _key_figures(result)
    _write_sheet(sheet, frame, {"kerncijfer": ("Kerncijfer", None), "waarde": ("Waarde", None)})
    for i, fmt in enumerate(frame.attrs["formats"], start=2):
        if fmt and not isinstance(sheet.cell(row=i, column=2).value, str):
            sheet.cell(row=i, column=2).number_format = fmt
    sheet.column_dimensions["A"].width = 52
    sheet.column_dimensions["B"].width = 40
    sheet.row_dimensions[1].height = 18


def _buurten(result: RunResult) -> pd.DataFrame | None:
    return _table(with_labels(result.buurten))


def _kernen(result: RunResult) -> pd.DataFrame | None:
    kernen = getattr(result, "kernen", None)
    if kernen is None or len(kernen) == 0:
        return None
    frame = kernen.copy()
    if "kern" not in frame.columns:
        frame.insert(0, "kern", frame.index.astype(str))
    return _table(frame)


def _proposals(result: RunResult) -> pd.DataFrame | None:
    proposals = getattr(result, "proposals", None)
    table = _table(proposals)
    if table is None:
        return None
    if isinstance(proposals, gpd.GeoDataFrame) and proposals.geometry.notna().all():
        frame = proposals if proposals.crs is not None else proposals.set_crs("EPSG:28992")
        points = frame.geometry.to_crs("EPSG:4326").representative_point()
        table["breedtegraad"] = np.round(points.y.to_numpy(), 6)
        table["lengtegraad"] = np.round(points.x.to_numpy(), 6)
    if "rank" in table:
        table = table.sort_values("rank", kind="stable").reset_index(drop=True)
    return table


def _broker_areas(result: RunResult) -> pd.DataFrame | None:
    return _table(getattr(result, "broker_areas", None))


def _target_groups(result: RunResult) -> pd.DataFrame | None:
    return _table(getattr(result, "target_groups", None))


#: The columns of the capacity sheet (venues with a known capacity).
CAPACITY_SHEET_COLUMNS = (
    "naam", "categorie_label", "bron", "capaciteit", "inwoners_binnen_bereik", "belasting", "plaatsen_per_inwoner",
    "boven_capaciteit",
)


def _capacity(result: RunResult) -> pd.DataFrame | None:
    venues = result.venues
    if venues is None or "capaciteit" not in venues.columns or "belasting" not in venues.columns:
        return None
    rows = venues[np.isfinite(venues["capaciteit"].to_numpy(dtype=float))]
    return _table(rows[list(CAPACITY_SHEET_COLUMNS)])
#: The columns of the sheet "Kwetsbare ontmoetingspunten", in order.
DEPENDENCE_SHEET_COLUMNS = [
    "kwetsbaar_rang", "naam", "categorie_label", "osm_id", "bron", "inwoners_dichtstbij", "inwoners_alleen_hier",
    "cellen_alleen_hier", "inwoners_verliezen_toegang", "inwoners_geen_ander_bereikbaar", "afstand_volgende_gem_m",
    "afstand_volgende_mediaan_m",
]


def _dependence(result: RunResult) -> pd.DataFrame | None:
    """Every meeting point with its dependence figures: the ranked (kwetsbare) ones first, most residents first."""
    venues = result.venues
    if "kwetsbaar_rang" not in venues.columns or len(venues) == 0:
        return None
    points = venues[venues["ontmoetingspunt"].astype(bool)]
    ranked = points.assign(_rest=points["kwetsbaar_rang"].isna(), _name=points["naam"].fillna("").astype(str))
    ranked = ranked.sort_values(["_rest", "kwetsbaar_rang", "_name"], kind="stable")
    return _table(ranked[[c for c in DEPENDENCE_SHEET_COLUMNS if c in ranked.columns]])


def _scenarios(result: RunResult) -> pd.DataFrame | None:
    return _table(getattr(result, "scenario_figures", None))


def _scenario_points(result: RunResult) -> pd.DataFrame | None:
    points = getattr(result, "scenario_points", None)
    return _table(with_labels(points)) if points is not None else None


_SHEET_FRAMES: dict[str, Callable[[RunResult], pd.DataFrame | None]] = {
    "buurten": _buurten,
    "kernen": _kernen,
    "proposals": _proposals,
    "by_count": by_count_frame,
    "broker_areas": _broker_areas,
    "walking": _walking,
    "open_hours": _open_hours,
    "venue_hours": _venue_hours,
    "target_groups": _target_groups,
    "capacity": _capacity,
    "dependence": _dependence,
    "scenarios": _scenarios,
    "scenario_points": _scenario_points,
}


def write_xlsx(result: RunResult, path: Path) -> Path:
    """Write ``buurten.xlsx``: key figures, buurten, and kernen/proposals/broker areas when computed.

    Parameters
    ----------
    result
        The run result.
    path
        Target file; written atomically.

    Returns
    -------
    Path
        The written path.
    """
    workbook = Workbook()
    first = workbook.active
    first.title = SHEETS["key_figures"]
    _write_key_figures(first, result)
    headers = _headers(result)
    for key, build in _SHEET_FRAMES.items():
        frame = build(result)
        if frame is None and key != "buurten":
            continue
        sheet = workbook.create_sheet(SHEETS[key])
        _write_sheet(sheet, frame if frame is not None else pd.DataFrame(), headers)
    workbook.properties.title = f"Wijkanalyse {result.gemeente_name} {result.year}"
    workbook.properties.creator = "wijkanalyse"
    return _atomic.write_with(path, workbook.save)

