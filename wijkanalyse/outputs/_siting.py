"""Dutch text about the proposals: the answer for every number of new sites, and how it was chosen.

The analysis (``analysis.siting.count_summary``) returns plain data in ``summary["best_by_count"]``:
for each number of sites ``r`` the sites (their ``rang`` in the proposals), the residents they
bring within reach, whether no other ``r`` sites reach more (``proven_optimal``) and the gap to
the bound. This module turns that into the sentences, rows and table the report, workbook and
CLI show. "Bewezen" and "beste" are used only for a count whose answer is proven.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from wijkanalyse._format import _is_missing, format_int, format_percent

__all__ = ["by_count_frame", "by_count_rows", "count_line", "siting_text"]


def _names(result: Any) -> dict[int, str]:
    """Proposal rank -> name ("voorstel 3" when it has none)."""
    proposals = getattr(result, "proposals", None)
    if proposals is None or len(proposals) == 0 or "rang" not in proposals.columns:
        return {}
    out = {}
    for _, row in proposals.iterrows():
        rank = int(row["rang"])
        name = row.get("naam")
        out[rank] = " ".join(str(name).split()) if not _is_missing(name) and str(name).strip() else f"voorstel {rank}"
    return out


def _entries(result: Any) -> list[Mapping[str, Any]]:
    return list((getattr(result, "summary", None) or {}).get("best_by_count") or [])


def _quality(entry: Mapping[str, Any], method: str | None) -> str:
    """"bewezen de beste" / "hoogstens 2,0 % onder het best mogelijke" / "niet bewezen"."""
    if entry.get("proven_optimal"):
        return "bewezen de beste"
    gap = entry.get("gap")
    if gap is not None and not _is_missing(gap):
        if method == "exact" and entry.get("status") == "time_limit":
            return f"tijdslimiet bereikt: niet bewezen, hoogstens {format_percent(gap, 1)} onder het best mogelijke"
        return f"niet bewezen de beste; hoogstens {format_percent(gap, 1)} onder het best mogelijke"
    if method == "exact" and entry.get("status") == "time_limit":
        return "tijdslimiet bereikt: niet bewezen de beste"
    return "niet bewezen de beste"


def by_count_rows(result: Any) -> list[dict[str, Any]]:
    """One row per number of new sites: aantal, plekken (ranks), namen, nieuw, aandeel_na, kosten, oordeel, eerste."""
    names = _names(result)
    method = (getattr(result, "summary", None) or {}).get("siting_method")
    rows = []
    for entry in _entries(result):
        sites = [int(s) for s in entry.get("sites") or []]
        rows.append({
            "aantal": int(entry["count"]),
            "plekken": sites,
            "namen": [names.get(s, f"voorstel {s}") for s in sites],
            "nieuw": entry.get("newly_within"),
            "aandeel_na": entry.get("share_after"),
            "kosten": entry.get("cost_per_year"),
            "bewezen": bool(entry.get("proven_optimal")),
            "oordeel": _quality(entry, method),
            "eerste": bool(entry.get("first_ranks")),
        })
    return rows


def count_line(row: Mapping[str, Any]) -> str:
    """E.g. ``met 3 plekken (1, 2, 7): Sporthal, Kerk, Gat 2 - 1.005 inwoners meer binnen bereik; bewezen de beste``."""
    n = int(row["aantal"])
    places = "plek" if n == 1 else "plekken"
    ranks = ", ".join(str(s) for s in row["plekken"])
    return (f"met {n} {places} ({ranks}): {', '.join(row['namen'])} - {format_int(row['nieuw'])} inwoners meer "
            f"binnen bereik; {row['oordeel']}")


def by_count_frame(result: Any) -> pd.DataFrame | None:
    """The workbook sheet 'Per aantal plekken' (Dutch column names; None when there are no proposals)."""
    rows = by_count_rows(result)
    if not rows:
        return None
    return pd.DataFrame({
        "aantal_plekken": [r["aantal"] for r in rows],
        "voorstellen": [", ".join(str(s) for s in r["plekken"]) for r in rows],
        "namen": ["; ".join(r["namen"]) for r in rows],
        "nieuw_binnen_bereik": [r["nieuw"] for r in rows],
        "aandeel_na": [r["aandeel_na"] for r in rows],
        "kosten_per_jaar": [r["kosten"] for r in rows],
        "eerste_voorstellen": ["ja" if r["eerste"] else "nee" for r in rows],
        "oordeel": [r["oordeel"] for r in rows],
    })


def siting_text(summary: Mapping[str, Any]) -> str:
    """How the proposals were chosen and for which numbers of sites they are proven best, in plain Dutch."""
    method, status = summary.get("siting_method"), summary.get("siting_status")
    if method is None:
        return "Er zijn geen voorstellen berekend."
    entries = list(summary.get("best_by_count") or [])
    proven = [int(e["count"]) for e in entries if e.get("proven_optimal")]
    not_first = [int(e["count"]) for e in entries if not e.get("first_ranks")]
    proven_text = (
        "voor elk aantal plekken bewezen de beste keuze: geen andere combinatie van evenveel plekken bereikt meer inwoners"
        if entries and len(proven) == len(entries)
        else (f"bewezen de beste keuze bij {_counts(proven)}; bij de andere aantallen niet bewezen (zie de tabel)"
              if proven else "voor geen enkel aantal plekken bewezen de beste keuze")
    )
    own_rows = (f" Met {_counts(not_first)} is de beste keuze niet gelijk aan de eerste voorstellen van de lijst; "
                "de tabel 'per aantal plekken' noemt die keuze apart." if not_first else "")
    if method == "exact":
        head = ("Gekozen met het exacte rekenmodel (het 'maximal covering'-probleem, opgelost met de HiGHS-solver), "
                "voor elk aantal plekken apart: ")
        if status == "not_solved":
            head = ("Het exacte rekenmodel vond binnen de tijdslimiet geen antwoord voor het volle aantal; die voorstellen "
                    "komen van de snelle methode. Per aantal plekken: ")
        return head + proven_text + "." + own_rows
    return ("Gekozen met de snelle methode: telkens de plek die de meeste inwoners extra binnen bereik brengt, "
            "daarna verbeterd door plekken te ruilen zolang dat meer inwoners bereikt. De eerste r voorstellen zijn "
            "het antwoord voor r plekken; per aantal staat erbij hoeveel het hoogstens onder het best mogelijke ligt "
            "(een bovengrens uit het rekenmodel zonder hele plekken, de LP-relaxatie). Dat is "
            + proven_text + ". Met 'wijkanalyse run --exact' rekent het exacte model elk aantal na." + own_rows)


def _counts(counts: Sequence[int]) -> str:
    """"1 plek", "1 en 3 plekken", "1, 2 en 4 plekken"."""
    items = [str(c) for c in counts]
    text = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " en " + items[-1]
    return f"{text} {'plek' if items == ['1'] else 'plekken'}"
