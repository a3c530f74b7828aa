"""The map's words: escaping, Dutch formatting of values, popup tables, explanations and sources.

Everything here returns plain text or HTML-escaped text for :mod:`wijkanalyse.outputs.maps`;
nothing computes a figure.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import numpy as np
import pandas as pd

from wijkanalyse import __version__
from wijkanalyse._format import _is_missing, format_int, format_number, format_percent
from wijkanalyse.result import RunResult

__all__ = [
    "DISTANCE_LABEL",
    "METHOD_TEXT",
    "SYNTHETIC_BANNER",
    "Popups",
    "attribution_html",
    "distance_label",
    "dutch_date",
    "esc",
    "euro",
    "format_distance",
    "format_indicator",
    "help_sections",
    "names_text",
    "osm_source",
    "plain",
    "residents_text",
    "search_key",
    "sources_html",
    "split_list",
    "summary_line",
]


#: How the distance was measured, as the header says it.
METHOD_TEXT = {"network": "over het looppadennetwerk", "straight_line": "hemelsbreed"}
#: The distance's name in a header, popup field or table column: walked, or as the crow flies.
DISTANCE_LABEL = {"network": "Loopafstand", "straight_line": "Afstand hemelsbreed"}
_MAX_NAMES = 8  # names listed in a popup before "en N andere"
_MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)


def esc(value: Any) -> str:
    """Escape any value for HTML (quotes included)."""
    return html.escape("" if _is_missing(value) else str(value), quote=True)


def plain(value: Any, missing: str = "onbekend") -> str:
    """A string-ish value as plain text with a Dutch fallback (not yet escaped)."""
    if _is_missing(value) or str(value).strip() == "":
        return missing
    return str(value)


def search_key(*parts: Any) -> str:
    """Lower-case ASCII letters, digits and single spaces: what the search box matches."""
    text = " ".join(plain(p, "") for p in parts)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", ascii_text.lower()).strip()


def format_distance(value: Any) -> str:
    """Distance in metres as text; inf means no meeting point can be reached."""
    if _is_missing(value):
        return "afstand onbekend"
    if math.isinf(float(value)):
        return "geen ontmoetingspunt bereikbaar"
    return f"{format_int(value)} m"


def format_indicator(value: Any) -> str:
    """An indicator value as plain text (not yet escaped)."""
    if _is_missing(value):
        return "onbekend"
    if isinstance(value, bool | np.bool_):
        return "ja" if value else "nee"
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        if math.isfinite(number) and number == round(number):
            return format_int(number)
        return format_number(number, 1)
    return str(value)


def residents_text(value: Any) -> str:
    """"12 inwoners" / "1 inwoner" / CBS suppression note."""
    if _is_missing(value):
        return "aantal geheim (CBS)"
    return f"{format_int(value)} {'inwoner' if float(value) == 1 else 'inwoners'}"


def euro(value: Any) -> str:
    """An amount in euro, Dutch style: "€ 25.000"."""
    return "onbekend" if _is_missing(value) else f"€ {format_int(value)}"


class Popups:
    """The popups of one layer, compactly: the row labels once, per feature a title and its values.

    ``kaart.js`` builds the table; a value left out (``None``) leaves its row out. Labels,
    titles, values and the note are HTML-escaped here.
    """

    def __init__(self, labels: Iterable[str], note: str = "") -> None:
        self.labels = list(labels)
        self.note = note
        self.rows: list[list[str | None]] = []

    def add(self, title: str, values: Mapping[str, str]) -> None:
        """One feature's popup: ``values`` maps a label to its (plain text) value."""
        unknown = set(values) - set(self.labels)
        if unknown:
            msg = f"popup rows without a label: {sorted(unknown)}"
            raise ValueError(msg)
        row: list[str | None] = [esc(title), *(esc(values[label]) if label in values else None for label in self.labels)]
        while row[-1] is None:
            row.pop()
        self.rows.append(row)

    def part(self) -> dict[str, Any]:
        """The layer's ``cols``, ``note`` and ``pop`` entries of the data document."""
        return {"cols": [esc(label) for label in self.labels], "note": esc(self.note), "pop": self.rows}


def names_text(names: Sequence[str]) -> str:
    """"A, B en C" with at most :data:`_MAX_NAMES` names listed."""
    names = [n for n in names if n]
    if len(names) > _MAX_NAMES:
        shown = names[:_MAX_NAMES]
        return f"{', '.join(shown)} en {len(names) - _MAX_NAMES} andere"
    if len(names) > 1:
        return f"{', '.join(names[:-1])} en {names[-1]}"
    return names[0] if names else "onbekend"


def split_list(value: Any) -> list[str]:
    """A list column value: a comma-separated string, a list/tuple/array, or missing."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple | np.ndarray | pd.Series):
        return [str(v).strip() for v in value if not _is_missing(v) and str(v).strip()]
    return [] if _is_missing(value) else [str(value)]


def dutch_date(value: Any) -> str:
    """ISO date/time -> "1 januari 2024"; other text unchanged."""
    text = plain(value, "")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return f"{when.day} {_MONTHS[when.month - 1]} {when.year}"


#: Shown on every map, print map and report page of the synthetic demo gemeente.
SYNTHETIC_BANNER = "SYNTHETISCHE DEMO-GEMEENTE — verzonnen gegevens, geen echte gemeente"


def osm_source(sources: Mapping[str, Any]) -> Mapping[str, Any]:
    """The manifest entry of a snapshot's OpenStreetMap data: ``network`` (format 2) or ``osm`` (format 1)."""
    return sources.get("network") or sources.get("osm") or {}


def attribution_html(result: RunResult) -> str:
    """The credit line under the map: OpenStreetMap (ODbL), CBS (CC BY 4.0), PDOK, with dates."""
    sources = getattr(result, "sources", None) or {}
    osm_date = dutch_date(osm_source(sources).get("retrieved") or (result.summary or {}).get("snapshot_created"))
    osm = " stand " + esc(osm_date) if osm_date else ""
    return (
        '&copy; <a href="https://www.openstreetmap.org/copyright" target="_blank" rel="noopener noreferrer">'
        f"OpenStreetMap-bijdragers</a> (ODbL{osm}) · CBS {esc(result.year)} (CC BY 4.0) · PDOK · "
        '<a href="#bronnen" class="wa-bronnen-link">bronnen en datums</a>'
    )


def summary_line(result: RunResult) -> str:
    """Key figures as plain Dutch text (not yet escaped)."""
    summary = result.summary or {}
    threshold = summary.get("threshold_m", result.threshold_m)
    method = summary.get("distance_method", result.distance_method)
    total = summary.get("residents_total")
    within = summary.get("residents_within_threshold")
    share = summary.get("share_within_threshold")
    if _is_missing(share) and not _is_missing(total) and not _is_missing(within) and total:
        share = float(cast(float, within)) / float(cast(float, total))  # not missing: numbers
    n_points = summary.get("n_meeting_points")
    method_text = METHOD_TEXT.get(str(method), plain(method, "onbekende methode"))
    parts = [
        f"{format_int(total)} inwoners, waarvan {format_int(within)} ({format_percent(share)}) "
        f"binnen {format_int(threshold)} m van een ontmoetingspunt ({method_text})"
    ]
    if not _is_missing(n_points):
        noun = "ontmoetingspunt" if float(cast(float, n_points)) == 1 else "ontmoetingspunten"
        parts.append(f"{format_int(n_points)} {noun}")
    return " · ".join(parts)


def sources_html(result: RunResult) -> str:
    """Every data source with its licence and date (escaped HTML list)."""
    sources = getattr(result, "sources", None) or {}
    summary = result.summary or {}

    def retrieved(key: str) -> str:
        entry = osm_source(sources) if key == "osm" else sources.get(key) or {}
        date = dutch_date(entry.get("retrieved") or summary.get("snapshot_created"))
        return f", opgehaald {date}" if date else ""

    table = plain((sources.get("cbs") or {}).get("table") or summary.get("cbs_table"), "")
    grid_year = plain((sources.get("grid") or {}).get("year"), "")
    items = [
        f"Buurtcijfers: CBS, Kerncijfers wijken en buurten {result.year}"
        + (f" (tabel {table})" if table else "") + retrieved("cbs") + ". Licentie CC BY 4.0.",
        "Inwoners per vak van 100 m: CBS, Vierkantstatistieken 100 m"
        + (f" {grid_year}" if grid_year else "") + ", via PDOK" + retrieved("grid")
        + ". Licentie CC BY 4.0; CBS houdt aantallen van 1 tot 4 inwoners geheim.",
        f"Buurtgrenzen: CBS Wijk- en buurtkaart {result.year}, via PDOK" + retrieved("buurten") + ". Licentie CC BY 4.0.",
        "Straten, paden en voorzieningen: © OpenStreetMap-bijdragers" + retrieved("osm")
        + ". Licentie Open Database License (ODbL) 1.0.",
        "Achtergrondkaart (alleen met internet): BRT-Achtergrondkaart grijs, © Kadaster via PDOK (CC BY 4.0), "
        "of OpenStreetMap.",
        f"Berekend met wijkanalyse {summary.get('wijkanalyse_version', __version__)}"
        + (f" op {dutch_date(summary['generated'])}" if summary.get("generated") else "") + ".",
    ]
    if result.synthetic:
        items.insert(0, "Let op: dit is een verzonnen demo-gemeente; alle gegevens zijn synthetisch.")
    return "<ul>" + "".join(f"<li>{esc(item)}</li>" for item in items) + "</ul>"


def distance_label(method: str, *, lower: bool = False) -> str:
    """'Loopafstand' (``network``) or 'Afstand hemelsbreed' (``straight_line``); ``lower`` for inside a sentence."""
    label = DISTANCE_LABEL.get(method, "Afstand")
    return label[0].lower() + label[1:] if lower else label


def help_sections(result: RunResult, threshold: str, has: Mapping[str, bool]) -> list[list[str]]:
    """Plain-Dutch explanations, [title, escaped HTML] each."""
    method = "lopend over straten en paden" if result.distance_method == "network" else "hemelsbreed"
    indicators = "".join(f"<li>{esc(label)}</li>" for label in result.indicators.values())

    def para(*texts: str) -> str:
        return "".join(f"<p>{esc(t)}</p>" for t in texts)

    sections = [
        ["Wat laat deze kaart zien?", para(
            "Twee vragen per buurt: waar stapelen zorgen zich op, en woont iedereen binnen "
            f"{threshold} m ({method}) van een ontmoetingspunt? Rechtsboven, onder 'Lagen en legenda', "
            "kiest u wat u ziet en zoekt u een buurt, kern, straat of plek. Tik of klik op een buurt, vak of "
            "punt voor de cijfers.",
        )],
        ["Signaal per buurt", para(
            "Het signaal vat CBS-cijfers van een buurt samen in één getal"
            + (":" if indicators else "."),
        ) + (f"<ul>{indicators}</ul>" if indicators else "") + para(
            "Per cijfer kijken we hoeveel de buurt afwijkt van het gemiddelde van alle buurten in deze "
            "gemeente; het signaal is het gewogen gemiddelde van die afwijkingen. 0 is gemiddeld, boven 0 "
            "betekent meer reden tot zorg dan gemiddeld, onder 0 minder. Het is een vergelijking binnen "
            "de gemeente, geen oordeel over een buurt.",
            "De kleuren verdelen de buurten in vijf even grote groepen: de donkerste kleur is het vijfde "
            "deel met het hoogste signaal. (Vakterm: gewogen gemiddelde van z-scores.)",
        )],
        ["Hotspots en coldspots", para(
            "Een hotspot is een buurt met een hoog signaal waarvan de buren ook hoog scoren: zorgen die "
            "zich over een groter gebied opstapelen, niet in één losse buurt. Een coldspot is het "
            "omgekeerde: laag signaal, buren ook laag.",
            "Een uitschieter wijkt af van zijn buren: hoog signaal tussen lage buren, of laag tussen hoge.",
            "Alleen buurten waar zo'n patroon vrijwel zeker geen toeval is, krijgen een rand. In de "
            "buurtinformatie staat de kans dat het toeval is (vakterm: p-waarde, uit de Local Moran-toets); "
            "hoe kleiner, hoe zekerder.",
        )],
        ["Bereik en inwoners buiten bereik", para(
            f"Voor elk bewoond vak van 100 bij 100 m (CBS) meten we de afstand {method} naar het "
            f"dichtstbijzijnde ontmoetingspunt. Het bereik van een buurt is het deel van de inwoners dat "
            f"binnen {threshold} m woont.",
            f"De paarse vakken zijn bewoonde vakken verder dan {threshold} m. Een gat is een "
            "aaneengesloten groep van zulke vakken. Kleine aantallen (1 tot 4 inwoners) houdt het CBS "
            "geheim; die vakken tellen als 'aantal geheim'.",
            "Ontmoetingspunten (groen) tellen mee voor de regel; overige voorzieningen (grijs), zoals "
            "scholen en sporthallen, staan op de kaart maar tellen niet mee.",
        )],
    ]
    if "inwoners_verliezen_toegang" in result.venues.columns:
        sections.append(["Als een ontmoetingspunt sluit", para(
            "Bij elk ontmoetingspunt staat wat er gebeurt als het sluit: hoeveel inwoners dan verder dan "
            f"{threshold} m van een ontmoetingspunt wonen. Dat zijn de inwoners voor wie dit het enige "
            f"ontmoetingspunt binnen {threshold} m is. Wie nog een ander punt binnen {threshold} m heeft, "
            "telt niet mee. Het rapport noemt de kwetsbaarste punten, met de afstand naar het volgende.",
        )])
    if getattr(result, "scenario_figures", None) is not None:
        sections.append(["Scenario's", para(
            "Een scenario laat zien wat een besluit doet: ontmoetingspunten die sluiten, plekken die opengaan, "
            "soms een andere afstandsnorm. Per scenario is er een laag: oranje vakken verliezen hun "
            "ontmoetingspunt binnen de norm, groene vakken krijgen er een. Het rapport en buurten.xlsx geven "
            "de cijfers per buurt en kern, met en zonder het scenario.",
        )])
    if has.get("proposals"):
        sections.append(["Voorgestelde ontmoetingsplekken", para(
            "Oranje vakjes met een nummer: voorstellen voor nieuwe ontmoetingsplekken, in volgorde. Nummer 1 "
            "brengt de meeste inwoners binnen bereik; elk volgend voorstel de meeste van wie dan nog te "
            "ver weg woont. Bij elk voorstel staan de kosten per jaar en per nieuw bereikte inwoner.",
        )])
    if has.get("broker_areas") or has.get("kernen"):
        sections.append(["Kernen en werkgebieden", para(
            "Een kern is een dorp of stad binnen de gemeente. Een werkgebied is een voorgesteld gebied "
            "voor één wijkmakelaar of dorpscoördinator, met de werklast die erbij hoort.",
        )])
    sections.append(["Zonder internet", para(
        "De kaart werkt zonder internet. De achtergrondkaart (PDOK of OpenStreetMap) komt van internet; "
        "zonder verbinding ziet u het stratennet dat in dit bestand zit.",
    )])
    sections.append(["Bronnen en datums", sources_html(result)])
    return sections
