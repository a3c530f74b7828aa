"""Where the data came from and when: the source line, data dates and the demo banner.

Shared by the report and the print maps; reads only ``RunResult.sources`` (the snapshot
manifest's sources) and ``RunResult.summary``.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlparse

from wijkanalyse.outputs._maptext import SYNTHETIC_BANNER, dutch_date, osm_source
from wijkanalyse.result import RunResult

__all__ = ["SOURCE_LINE", "SYNTHETIC_BANNER", "data_date", "format_date", "source_line", "source_rows"]

#: The credit every print map and the report carry (CBS and PDOK data, OpenStreetMap's licence).
SOURCE_LINE = "Bron: CBS, PDOK; © OpenStreetMap-bijdragers"

def format_date(value: Any, missing: str = "onbekend") -> str:
    """An ISO date or timestamp as a Dutch date: ``"2024-01-01T00:00:00+00:00"`` -> ``"1 januari 2024"``.

    Text that is not an ISO date is returned as it is (it is escaped where it is shown); no
    date gives ``missing``.
    """
    return dutch_date(value) or missing


def data_date(result: RunResult) -> str:
    """The date the CBS figures were retrieved (else the snapshot's date), in Dutch."""
    retrieved = (result.sources.get("cbs") or {}).get("retrieved") or result.summary.get("snapshot_created")
    return format_date(retrieved)


def source_line(result: RunResult) -> str:
    """``SOURCE_LINE`` with the CBS table and the data date, for the foot of a print map."""
    table = result.summary.get("cbs_table") or (result.sources.get("cbs") or {}).get("table")
    table_text = f" (tabel {table})" if table else ""
    return f"Bron: CBS{table_text}, PDOK; © OpenStreetMap-bijdragers. Gegevens opgehaald op {data_date(result)}."


def _where(url: Any) -> str:
    """A source address for print: a local file by its name only, a web address without its query."""
    if not url:
        return ""
    text = str(url)
    parsed = urlparse(text)
    if parsed.scheme == "file":
        return f"bestand {PurePosixPath(parsed.path).name}"
    if parsed.scheme in {"http", "https"}:
        return f"{parsed.netloc}{parsed.path}"
    return text


def source_rows(result: RunResult) -> list[dict[str, str]]:
    """One row per source for the report: ``wat``, ``jaar``, ``opgehaald``, ``licentie`` and ``waar`` (plain text)."""
    s = result.sources
    rows: list[dict[str, str]] = []
    cbs = s.get("cbs") or {}
    rows.append({
        "wat": f"CBS Kerncijfers wijken en buurten, tabel {cbs.get('table') or result.summary.get('cbs_table', '?')}",
        "jaar": str(cbs.get("year") or result.year),
        "opgehaald": format_date(cbs.get("retrieved")),
        "licentie": "CC BY 4.0",
        "waar": _where(cbs.get("url")),
    })
    buurten = s.get("buurten") or {}
    rows.append({
        "wat": "Buurtgrenzen (CBS wijk- en buurtkaart, via PDOK)",
        "jaar": str(buurten.get("year") or result.year),
        "opgehaald": format_date(buurten.get("retrieved")),
        "licentie": "CC BY 4.0",
        "waar": _where(buurten.get("url")),
    })
    grid = s.get("grid") or {}
    rows.append({
        "wat": "Inwoners per vierkant van 100 bij 100 meter (CBS, via PDOK)",
        "jaar": str(grid.get("year") or "onbekend"),
        "opgehaald": format_date(grid.get("retrieved")),
        "licentie": "CC BY 4.0",
        "waar": _where(grid.get("url")),
    })
    osm = osm_source(s)
    file_date = osm.get("osm_file_date")
    rows.append({
        "wat": "Straten, paden en voorzieningen (OpenStreetMap)",
        "jaar": f"stand van {format_date(file_date)}" if file_date else "actueel bij ophalen",
        "opgehaald": format_date(osm.get("retrieved")),
        "licentie": "ODbL 1.0",
        "waar": _where(osm.get("url")),
    })
    own = result.summary.get("own_points_file")
    if own:
        rows.append({
            "wat": "Eigen ontmoetingspunten van de gemeente",
            "jaar": "",
            "opgehaald": "",
            "licentie": "",
            "waar": f"bestand {PurePosixPath(str(own)).name}",
        })
    return rows
