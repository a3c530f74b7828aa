"""Write the yearly improvement cycle (``wijkanalyse trend``): a page for the council, XLSX and JSON.

The figures come from :func:`wijkanalyse.analysis.trend.trend_buurten`; this module only
presents them. Every file is written atomically. Buurt and kern names come from CBS and the
config (untrusted): the page is rendered with the project's one Jinja2 environment
(:func:`wijkanalyse.outputs._common.environment`, autoescape) and every XLSX text cell goes
through :func:`~wijkanalyse.outputs._common.neutralise`.

``trend.html`` (template ``templates/trend.html.j2``) is self-contained: the small line charts
per kern are inline SVG, laid out by the template from the coordinates :func:`report_context`
computes (no script, no external file).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, cast

import pandas as pd
from openpyxl import Workbook

from wijkanalyse import _atomic
from wijkanalyse._format import _is_missing, format_int, format_percent
from wijkanalyse.analysis.trend import Trend
from wijkanalyse.outputs._common import environment, jsonable
from wijkanalyse.outputs.compare import format_pp, format_signed
from wijkanalyse.outputs.tables import _write_sheet
from wijkanalyse.outputs.texts import HOTSPOT_SHORT, TREND_STATUS_LABELS, hotspot_label

__all__ = ["REPORT_MIN_PP", "report_context", "trend_json", "write_report", "write_trend", "write_xlsx"]

#: Buurt rows on the page: off track, a change of at least this many percentage points over the
#: years, or a hot spot in some year; every buurt is in trend.xlsx and trend.json.
REPORT_MIN_PP = 1.0

# The small line charts (SVG user units).
_W, _H = 280, 150
_LEFT, _RIGHT, _TOP, _BOTTOM = 36, 12, 10, 24


# --------------------------------------------------------------------------- helpers


def _num(value: Any) -> float | None:
    return None if _is_missing(value) else float(value)


def _status_class(status: Any) -> str:
    return {"reached": "gehaald", "on_track": "op-koers", "off_track": "niet-op-koers"}.get(status, "geen")


def _status_text(row: pd.Series | dict[str, Any]) -> str:
    """The verdict as a short Dutch phrase, with the year the line reaches the target when it helps."""
    status = row["status"] if not _is_missing(row["status"]) else None
    word = TREND_STATUS_LABELS[status]
    year = _num(row.get("jaar_doel_op_lijn"))
    if status in {"on_track", "off_track"} and year is not None:
        word += f" (op deze lijn in {math.ceil(year - 1e-9)})"
    elif status == "off_track":
        word += " (geen stijging)"
    return word


def _verdict_rows(trend: Trend, level: str) -> pd.DataFrame:
    v = trend.verdicts
    return v[v["niveau"] == level].set_index("code", drop=False)


def _verdict(rows: pd.DataFrame, code: str) -> pd.Series:
    """The verdict row of ``code`` (one per code: a Series, not the stubs' Series | DataFrame)."""
    return cast(pd.Series, rows.loc[code])


def _hot_path(frame: pd.DataFrame, column: str) -> str:
    return " → ".join(format_int(x) for x in frame[column])


# --------------------------------------------------------------------------- charts


def _chart(years: list[int], shares: list[Any], target: float | None, target_year: int, line: tuple[float, float] | None
           ) -> dict[str, Any]:
    """The coordinates of one small line chart: share (0-100 %) against the years up to the target year."""
    x0, x1 = years[0], max(target_year, years[-1])
    span = max(x1 - x0, 1)

    def x(year: float) -> float:
        return round(_LEFT + (year - x0) / span * (_W - _LEFT - _RIGHT), 1)

    def y(share: float) -> float:
        return round(_TOP + (1.0 - min(max(share, 0.0), 1.0)) * (_H - _TOP - _BOTTOM), 1)

    points = [(x(yr), y(float(s))) for yr, s in zip(years, shares, strict=True) if _num(s) is not None]
    chart: dict[str, Any] = {
        "breedte": _W,
        "hoogte": _H,
        "links": _LEFT,
        "rechts": _W - _RIGHT,
        "boven": _TOP,
        "onder": _H - _BOTTOM,
        "lijn": " ".join(f"{px},{py}" for px, py in points),
        "punten": [{"x": px, "y": py} for px, py in points],
        "jaren": [{"x": x(yr), "tekst": str(yr)} for yr in sorted({*years, target_year})],
        "rasters": [{"y": y(v / 100), "tekst": f"{v} %"} for v in (0, 50, 100)],
        "doel": None,
        "koers": None,
    }
    if target is not None:
        chart["doel"] = {"y": y(target), "tekst": f"doel {format_percent(target, 0)}"}
    if line is not None:
        a, b = line
        chart["koers"] = {"x1": x(years[0]), "y1": y(a + b * years[0]), "x2": x(target_year), "y2": y(a + b * target_year)}
    return chart


def _line(trend: Trend, row: pd.Series) -> tuple[float, float] | None:
    """The fitted line ``(a, b)`` of a verdict row, from its slope and its value in the target year."""
    slope, at_target = _num(row["helling_pp_per_jaar"]), _num(row["aandeel_doeljaar"])
    if slope is None or at_target is None:
        return None
    b = slope / 100.0
    return at_target - b * float(row["doeljaar"]), b


# --------------------------------------------------------------------------- the page


def report_context(trend: Trend, summary: dict[str, Any]) -> dict[str, Any]:
    """Everything ``trend.html`` shows, as ready-made Dutch text and chart coordinates.

    Parameters
    ----------
    trend
        The trend of the runs.
    summary
        ``trend.json``'s run facts (:func:`wijkanalyse.pipeline.trend`): gemeente_name,
        gemeente_code, years, synthetic, threshold_m, distance_method, target, target_year,
        cbs_tables and warnings.
    """
    s = summary
    years = list(trend.years)
    threshold = format_int(s["threshold_m"])
    g, gv = trend.gemeente, _verdict_rows(trend, "gemeente").iloc[0]
    kern_v = _verdict_rows(trend, "kern")
    kernen = []
    charts = [{"naam": str(s["gemeente_name"]) + " (hele gemeente)",
               "status": _status_text(gv), "klasse": _status_class(gv["status"]),
               **_chart(years, list(g["aandeel_binnen_drempel"]), _num(gv["doel"]), int(gv["doeljaar"]), _line(trend, gv))}]
    for kern, part in trend.kernen.groupby("kern", sort=True):
        v = _verdict(kern_v, str(kern))
        kernen.append(_table_row(str(kern), part, v, "hotspot_buurten"))
        charts.append({"naam": str(kern), "status": _status_text(v), "klasse": _status_class(v["status"]),
                       **_chart(years, list(part["aandeel_binnen_drempel"]), _num(v["doel"]), int(v["doeljaar"]),
                                _line(trend, v))})
    gemeente_row = _table_row("Hele gemeente", g, gv, "hotspot_buurten")
    buurten, left_out = _buurt_rows(trend)
    walk = "lopend over straat en paden" if s.get("distance_method") == "network" else "hemelsbreed"
    first, last = g.iloc[0], g.iloc[-1]
    key = [
        f"In {years[-1]} woonden {format_int(last['inwoners_binnen_drempel'])} van de {format_int(last['inwoners'])} "
        f"inwoners van {s['gemeente_name']} ({format_percent(last['aandeel_binnen_drempel'])}) binnen {threshold} meter "
        f"({walk}) van een ontmoetingspunt; {format_int(last['inwoners_buiten_drempel'])} woonden verder weg.",
        f"In {years[0]} was dat {format_percent(first['aandeel_binnen_drempel'])}: "
        f"{format_pp(100 * (last['aandeel_binnen_drempel'] - first['aandeel_binnen_drempel']))} in "
        f"{years[-1] - years[0]} jaar.",
    ]
    if _num(gv["doel"]) is not None:
        key.append(
            f"Doel: {format_percent(gv['doel'], 0)} in {int(gv['doeljaar'])}. De gemeente is "
            f"{_status_text(gv)}."
        )
    counts = {k: int((kern_v["status"] == k).sum()) for k in ("reached", "on_track", "off_track")}
    if any(counts.values()):
        key.append(
            "Kernen: " + ", ".join(f"{n} {TREND_STATUS_LABELS[k]}" for k, n in counts.items() if n) + "."
        )
    return {
        "titel": f"{s['gemeente_name']}: verbetercyclus {years[0]}–{years[-1]}",
        "gemeente": s["gemeente_name"],
        "jaren": years,
        "drempel": threshold,
        "synthetisch": bool(s.get("synthetic")),
        "kernboodschap": key,
        "heeft_doel": bool(trend.verdicts["doel"].notna().any()),
        "doeljaar": int(gv["doeljaar"]),
        "gemeente_rij": gemeente_row,
        "kernen": kernen,
        "grafieken": charts,
        "buurten": buurten,
        "buurten_weggelaten": left_out,
        "waarschuwingen": list(s.get("warnings") or []),
        "uitleg": _explanation(years, int(gv["doeljaar"])),
        "bron": _credits(years, s.get("cbs_tables") or []),
    }


def _table_row(name: str, part: pd.DataFrame, v: pd.Series, hot_column: str) -> dict[str, Any]:
    """One table row: the share per year, the change, residents beyond the threshold now, hot spots, target and verdict."""
    return {
        "naam": name,
        "aandelen": [format_percent(a, missing="–") for a in part["aandeel_binnen_drempel"]],
        "verschil": format_signed(v["verschil_pp"], 1, missing="–"),
        "buiten": format_int(part["inwoners_buiten_drempel"].iloc[-1]),
        "hotspots": _hot_path(part, hot_column),
        "doel": format_percent(v["doel"], 0, missing="–"),
        "status": _status_text(v),
        "klasse": _status_class(v["status"]),
    }


def _buurt_rows(trend: Trend) -> tuple[list[dict[str, Any]], int]:
    """The buurten worth a line (see :data:`REPORT_MIN_PP`), by kern then code; and how many were left out."""
    verdicts = _verdict_rows(trend, "buurt")
    rows, left_out = [], 0
    for code, part in trend.buurten.groupby("buurtcode", sort=False):
        v = _verdict(verdicts, str(code))
        notable = (
            v["status"] == "off_track"
            or (_num(v["verschil_pp"]) is not None and abs(float(v["verschil_pp"])) >= REPORT_MIN_PP)
            or bool(part["is_hotspot"].any())
        )
        if not notable or part["inwoners"].iloc[-1] <= 0:
            left_out += 1
            continue
        row = _table_row(str(part["buurtnaam"].iloc[0]), part, v, "is_hotspot")
        row["code"] = str(code)
        row["kern"] = str(part["kern"].iloc[0])
        row["hotspots"] = " → ".join(HOTSPOT_SHORT.get(h, "") or "–" if isinstance(h, str) else "–"
                                     for h in part["hotspot"])
        rows.append(row)
    rows.sort(key=lambda r: (r["kern"], r["code"]))
    return rows, left_out


def _explanation(years: list[int], target_year: int) -> list[str]:
    return [
        f"Alle jaren staan op de buurtindeling van {years[-1]}: elk bewoond vierkant van 100 bij 100 meter van een "
        f"eerder jaar telt mee in de buurt van {years[-1]} waarin het ligt. Zo gaat elke regel over hetzelfde gebied; "
        "een buurt die CBS splitste, samenvoegde of hernummerde is op ligging gekoppeld.",
        "Gehaald: het aandeel van het laatste jaar is minstens het doel. Op koers: nog niet, maar de rechte lijn "
        f"door de aandelen van alle jaren (kleinste kwadraten) haalt het doel uiterlijk in {target_year}. Niet op "
        "koers: geen van beide. De stippellijn in de grafieken is die lijn, de streepjeslijn het doel.",
        "De hele gemeente telt alle inwoners van elk jaar, ook wie in een gebied woonde dat niet meer bij een buurt "
        "van de gemeente hoort; een kern telt zijn buurten van het laatste jaar.",
        "Het signaal en de hotspots zeggen hoe een buurt scoort ten opzichte van de rest van de gemeente in "
        "hetzelfde jaar (Local Moran, 5 % significantie): een hotspot is een groep aangrenzende buurten met een "
        "hoog signaal.",
    ]


def _credits(years: list[int], tables: list[Any]) -> str:
    named = ", ".join(f"{t} ({y})" for y, t in zip(years, tables, strict=False) if t)
    return (
        f"Bron: CBS Kerncijfers wijken en buurten{' ' + named if named else ''} en vierkantstatistiek 100 m; "
        "buurtgrenzen PDOK/Kadaster (CBS Wijk- en buurtkaart); ontmoetingspunten en straten © OpenStreetMap-bijdragers (ODbL)."
    )


def write_report(context: dict[str, Any], path: Path) -> Path:
    """Write ``trend.html``: a self-contained Dutch page (``templates/trend.html.j2``), atomically."""
    html = environment().get_template("trend.html.j2").render(**context)
    return _atomic.write_text(path, html)


# --------------------------------------------------------------------------- JSON


def _per_year(frame: pd.DataFrame, extra: dict[str, str] | None = None) -> list[dict[str, Any]]:
    keys = {
        "jaar": "year", "inwoners": "residents", "inwoners_binnen_drempel": "residents_within_threshold",
        "inwoners_buiten_drempel": "residents_beyond_threshold", "aandeel_binnen_drempel": "share_within_threshold",
        "signaal": "signal", **(extra or {}),
    }
    counts = {"residents", "residents_within_threshold", "residents_beyond_threshold", "hotspot_buurten",
              "residents_outside_division"}
    out = []
    for record in cast(list[dict[str, Any]], frame[list(keys)].to_dict("records")):  # str columns
        row = {keys[k]: v for k, v in record.items()}
        for key in counts & row.keys():  # whole numbers (sums of cells) as integers
            if isinstance(row[key], float) and row[key].is_integer():
                row[key] = int(row[key])
        row["year"] = int(row["year"])
        out.append(row)
    return out


def _verdict_json(v: pd.Series) -> dict[str, Any]:
    return {
        "target": v["doel"],
        "target_year": int(v["doeljaar"]),
        "status": None if _is_missing(v["status"]) else v["status"],
        "share_first": v["aandeel_eerste"],
        "share_latest": v["aandeel_laatste"],
        "change_pp": v["verschil_pp"],
        "slope_pp_per_year": v["helling_pp_per_jaar"],
        "share_in_target_year": v["aandeel_doeljaar"],
        "year_target_reached_on_line": v["jaar_doel_op_lijn"],
    }


def trend_json(trend: Trend, summary: dict[str, Any]) -> dict[str, Any]:
    """``trend.json``: the run facts, the matching per earlier year, and per level the figures per year and the verdict."""
    gv = _verdict_rows(trend, "gemeente").iloc[0]
    kern_v, buurt_v = _verdict_rows(trend, "kern"), _verdict_rows(trend, "buurt")
    return jsonable({
        **summary,
        "statuses": {k: TREND_STATUS_LABELS[k] for k in ("reached", "on_track", "off_track", "unknown")},
        "division_year": trend.years[-1],
        "matching": {
            year: {"kinds": info["matching"], "reused_codes": info["reused_codes"], "weighting": info["weighting"]}
            for year, info in trend.summary["matching_per_year"].items()
        },
        "gemeente": {
            "per_year": _per_year(trend.gemeente, {"hotspot_buurten": "hotspot_buurten",
                                                   "inwoners_buiten_indeling": "residents_outside_division"}),
            **_verdict_json(gv),
        },
        "kernen": [
            {"kern": kern, "n_buurten": int(part["n_buurten"].iloc[-1]),
             "per_year": _per_year(part, {"hotspot_buurten": "hotspot_buurten"}),
             **_verdict_json(_verdict(kern_v, str(kern)))}
            for kern, part in trend.kernen.groupby("kern", sort=True)
        ],
        "buurten": [
            {"buurtcode": code, "buurtnaam": part["buurtnaam"].iloc[0], "kern": part["kern"].iloc[0],
             "per_year": _per_year(part, {"hotspot": "hotspot", "is_hotspot": "is_hotspot"}),
             **_verdict_json(_verdict(buurt_v, str(code)))}
            for code, part in trend.buurten.groupby("buurtcode", sort=True)
        ],
    })


# --------------------------------------------------------------------------- XLSX

_PERCENT, _INT, _PP = "0.0%", "#,##0", "0.0"


def _headers(threshold: str) -> dict[str, tuple[str, str | None]]:
    return {
        "niveau": ("Niveau", None),
        "code": ("Code", None),
        "naam": ("Naam", None),
        "buurtcode": ("Buurtcode", None),
        "buurtnaam": ("Buurtnaam", None),
        "kern": ("Kern", None),
        "n_buurten": ("Aantal buurten", _INT),
        "jaar": ("Jaar", "0"),
        "inwoners": ("Inwoners", _INT),
        "inwoners_binnen_drempel": (f"Inwoners binnen {threshold} m", _INT),
        "inwoners_buiten_drempel": (f"Inwoners verder dan {threshold} m", _INT),
        "aandeel_binnen_drempel": (f"Aandeel binnen {threshold} m", _PERCENT),
        "signaal": ("Signaal (gewogen z-score; hoger = meer zorgen)", "0.00"),
        "hotspot": ("Hotspot-analyse (Local Moran)", None),
        "is_hotspot": ("Hotspot?", None),
        "hotspot_buurten": ("Hotspot-buurten", _INT),
        "inwoners_buiten_indeling": ("Inwoners buiten de buurtindeling van het laatste jaar", _INT),
        "doel": (f"Doel (aandeel binnen {threshold} m)", _PERCENT),
        "doeljaar": ("Doeljaar", "0"),
        "aandeel_eerste": ("Aandeel eerste jaar", _PERCENT),
        "aandeel_laatste": ("Aandeel laatste jaar", _PERCENT),
        "verschil_pp": ("Verschil (procentpunt)", _PP),
        "helling_pp_per_jaar": ("Trend (procentpunt per jaar)", _PP),
        "aandeel_doeljaar": ("Aandeel in het doeljaar volgens de trend", _PERCENT),
        "jaar_doel_op_lijn": ("Jaar waarin de trend het doel haalt", "0.0"),
        "status": ("Op koers?", None),
    }


def write_xlsx(trend: Trend, summary: dict[str, Any], path: Path) -> Path:
    """Write ``trend.xlsx``: sheets Op koers (the verdicts), Gemeente, Kernen and Buurten (per year); Dutch headers."""
    headers = _headers(format_int(summary["threshold_m"]))
    verdicts = trend.verdicts.copy()
    verdicts["niveau"] = verdicts["niveau"].map({"gemeente": "gemeente", "kern": "kern", "buurt": "buurt"})
    verdicts.loc[verdicts["niveau"] == "gemeente", ["code", "naam"]] = [
        str(summary["gemeente_code"]), str(summary["gemeente_name"])
    ]
    verdicts["status"] = [TREND_STATUS_LABELS[None if _is_missing(x) else x] for x in verdicts["status"]]
    buurten = trend.buurten.copy()
    buurten["hotspot"] = [hotspot_label(h) if isinstance(h, str) else None for h in buurten["hotspot"]]
    workbook = Workbook()
    sheets = {"Op koers": verdicts, "Gemeente": trend.gemeente, "Kernen": trend.kernen, "Buurten": buurten}
    first = True
    for title, frame in sheets.items():
        sheet = workbook.active if first else workbook.create_sheet(title)
        sheet.title = title
        first = False
        _write_sheet(sheet, frame, headers)
    years = trend.years
    workbook.properties.title = f"Verbetercyclus {summary['gemeente_name']} {years[0]}-{years[-1]}"
    workbook.properties.creator = "wijkanalyse"
    return _atomic.write_with(path, workbook.save)


# --------------------------------------------------------------------------- everything


def write_trend(trend: Trend, summary: dict[str, Any], folder: Path) -> dict[str, Path]:
    """Write ``trend.html``, ``trend.xlsx`` and ``trend.json`` into ``folder``; return them by kind."""
    folder = Path(folder)
    return {
        "rapport": write_report(report_context(trend, summary), folder / "trend.html"),
        "xlsx": write_xlsx(trend, summary, folder / "trend.xlsx"),
        "json": _atomic.write_text(
            folder / "trend.json", json.dumps(trend_json(trend, summary), indent=2, ensure_ascii=False) + "\n"
        ),
    }
