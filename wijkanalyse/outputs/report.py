"""The council report: ``rapport.html``, one self-contained file that prints on A4 (and ``rapport.pdf``).

Written for a council member without GIS knowledge: the key figures, a table per kern and
buurt (each buurt beside the gemeente and the Netherlands), where residents lack a meeting
point, the ranked proposals with their costs, the broker need and areas, the hot spots in
plain Dutch, and the method, sources, data dates and caveats.

The page is rendered by Jinja2 from ``templates/rapport.html.j2`` with autoescape on (names
from OpenStreetMap, CBS and the gemeente's files are untrusted) and StrictUndefined (a
missing field is an error, not an empty cell). CSS is inline, the print maps are embedded
as ``data:`` PNG images: the file makes no request, on a file share or offline.

Nothing is computed here: every number comes from :class:`~wijkanalyse.result.RunResult`;
this module only picks, orders, looks up names and formats (Dutch numbers, percentages).

``rapport.pdf`` is optional: :func:`write_pdf` uses WeasyPrint when it and its system
library Pango are installed, and otherwise logs one line and returns None.
"""

from __future__ import annotations

import base64
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any


from wijkanalyse import __version__, _atomic
from wijkanalyse._interrupts import caused_by_interrupt
from wijkanalyse.analysis.opening import DAYS, PARTS
from wijkanalyse._format import _is_missing
from wijkanalyse.outputs import style
from wijkanalyse.outputs._common import environment
from wijkanalyse.outputs._sources import SOURCE_LINE, SYNTHETIC_BANNER, data_date, source_rows
from wijkanalyse.outputs.texts import (
    HOTSPOT_SHORT, gap_count_words, gap_distance_text, hotspot_label, reach_label, small_gaps_words,
)
from wijkanalyse.result import Hotspot, Reach, RunResult
from wijkanalyse.outputs._siting import by_count_rows, siting_text
from wijkanalyse._format import format_int, format_range
from wijkanalyse.outputs._maptext import distance_label

__all__ = ["PDF_MISSING", "render_report", "report_context", "write_pdf", "write_report"]

log = logging.getLogger(__name__)

#: The one line logged when rapport.pdf cannot be made.
PDF_MISSING = (
    "rapport.pdf niet gemaakt: WeasyPrint met de Pango-bibliotheek is niet geïnstalleerd "
    "(pip install weasyprint; apt-get install libpango-1.0-0)"
)

#: Candidate kinds that are not venue classes.
KIND_LABELS = {"gat": "nog geen gebouw: hier een ruimte zoeken", "gemeente": "eigen kandidaat van de gemeente"}
#: Indicator columns per table, so a table fits an A4 page in portrait.
INDICATORS_PER_TABLE = 5
#: The print maps the report embeds, with their captions (``{binnen}``: how the distance was measured).
MAP_CAPTIONS = {
    "kaart_signaal": "Signaal per buurt en hotspots (ook als kaart_signaal.pdf voor afdrukken op A4).",
    "kaart_bereik": "Inwoners binnen en buiten {binnen}, ontmoetingspunten en de voorstellen "
    "(ook als kaart_bereik.pdf).",
    "kaart_makelaars": "Gebieden voor wijkmakelaars en dorpscoördinatoren (ook als kaart_makelaars.pdf).",
}
#: Gaps listed by name in the report (the largest first); the rest are counted.
MAX_GAPS = 25
#: Buurten listed in the priority table.
MAX_PRIORITY = 10
#: Meeting points listed in the chapter on vulnerable meeting points (the full list is in buurten.xlsx).
MAX_VULNERABLE = 15
#: Buurten listed per scenario (those that change most; the full table is in buurten.xlsx).
MAX_SCENARIO_BUURTEN = 30

_TEMPLATES = Path(__file__).with_name("templates")


def _text(value: Any, missing: str = "") -> str:
    """A name or label as plain text (escaped by the template)."""
    return missing if _is_missing(value) else " ".join(str(value).split())


def _names(codes: Any, names: Mapping[str, str]) -> list[str]:
    """Buurt names for a comma-separated string (or list) of buurtcodes; an unknown code stays a code."""
    items = codes.split(",") if isinstance(codes, str) else list(codes or [])
    return [names.get(c.strip(), c.strip()) for c in items if str(c).strip()]


def _buurt_rows(result: RunResult) -> list[dict[str, Any]]:
    b = result.buurten
    order = b.sort_values(["kern", "buurtnaam", "buurtcode"], kind="stable") if "kern" in b.columns else b
    rows = []
    for code, row in order.iterrows():
        rows.append({
            "code": str(code),
            "naam": _text(row.get("buurtnaam"), str(code)),
            "kern": _text(row.get("kern")),
            "inwoners": row.get("inwoners"),
            "binnen": row.get("inwoners_binnen_drempel"),
            "aandeel": row.get("aandeel_binnen_drempel"),
            "afstand": row.get("afstand_mediaan_m"),
            "signaal": row.get("signaal"),
            "hotspot": hotspot_label(row.get("hotspot"), HOTSPOT_SHORT),
            "is_hot": row.get("hotspot") == Hotspot.HOT,
            "prioriteit": row.get("prioriteit"),
            "prioriteit_rang": row.get("prioriteit_rang"),
            "gebied": row.get("makelaarsgebied"),
            "indicators": [row.get(key) for key in result.indicators],
        })
    return rows


def _reference(result: RunResult) -> dict[str, list[Any]]:
    ref = result.reference
    return {
        col: [ref.at[key, col] if key in ref.index and col in ref.columns else None for key in result.indicators]
        for col in ("gemeente", "nederland")
    }


def _kern_rows(result: RunResult) -> list[dict[str, Any]]:
    k = result.kernen
    if k is None or k.empty:
        return []
    order = k.sort_values(["prioriteit_rang", "kern"]) if "prioriteit_rang" in k.columns else k
    names = result.buurten["buurtnaam"].astype(str).to_dict()
    return [{
        "kern": _text(row.get("kern")),
        "n_buurten": row.get("n_buurten"),
        "buurten": _names(row.get("buurtcodes"), names),
        "inwoners": row.get("inwoners"),
        "binnen": row.get("inwoners_binnen_drempel"),
        "aandeel": row.get("aandeel_binnen_drempel"),
        "signaal": row.get("signaal"),
        "hotspot_buurten": row.get("hotspot_buurten"),
        "prioriteit": row.get("prioriteit"),
        "prioriteit_rang": row.get("prioriteit_rang"),
    } for _, row in order.iterrows()]


def _gap_rows(result: RunResult) -> tuple[list[dict[str, Any]], int, Any]:
    """(the largest gaps with residents, how many more gaps there are, the residents of the largest one left out)."""
    gaps = result.gaps
    if gaps is None or gaps.empty:
        return [], 0, None
    names = result.buurten["buurtnaam"].astype(str).to_dict()
    order = gaps.sort_values(["inwoners", "gat_id"], ascending=[False, True], kind="stable")
    shown = order.head(MAX_GAPS)
    rows = [{
        "id": row.get("gat_id"),
        "buurten": _names(row.get("buurtcodes"), names),
        "inwoners": row.get("inwoners"),
        "cellen": row.get("cellen"),
        "afstand_max": row.get("afstand_max_m"),
        "afstand_tekst": gap_distance_text(
            None if _is_missing(row.get("afstand_max_m")) else float(row.get("afstand_max_m")), result.threshold_m,
        ),
    } for _, row in shown.iterrows()]
    rest = order.iloc[MAX_GAPS:]
    return rows, len(rest), rest["inwoners"].iloc[0] if len(rest) else None


def _kind_labels(result: RunResult) -> dict[str, str]:
    labels = dict(KIND_LABELS)
    venues = result.venues
    if {"categorie", "categorie_label"} <= set(venues.columns):
        labels.update({str(k): str(v) for k, v in zip(venues["categorie"], venues["categorie_label"], strict=True)})
    return labels


def _proposal_rows(result: RunResult) -> list[dict[str, Any]]:
    p = result.proposals
    if p is None or p.empty:
        return []
    kinds = _kind_labels(result)
    rows = []
    for _, row in p.sort_values("rang").iterrows():
        label = row.get("soort_label") if "soort_label" in p.columns else None
        rows.append({
            "rang": int(row["rang"]),
            "naam": _text(row.get("naam"), f"voorstel {int(row['rang'])}"),
            "soort": _text(label) if not _is_missing(label) else kinds.get(str(row.get("soort")), _text(row.get("soort"))),
            "buurt": _text(row.get("buurtnaam"), _text(row.get("buurtcode"))),
            "kern": _text(row.get("kern")),
            "nieuw": row.get("nieuw_binnen_bereik"),
            "samen": row.get("cumulatief_binnen_bereik"),
            "aandeel_na": row.get("aandeel_na"),
            "kosten": row.get("kosten_per_jaar"),
            "per_inwoner": row.get("kosten_per_inwoner"),
            "alleen": row.get("alleen_binnen_bereik"),
        })
    return rows


def _area_rows(result: RunResult) -> list[dict[str, Any]]:
    a = result.broker_areas
    if a is None or a.empty:
        return []
    names = result.buurten["buurtnaam"].astype(str).to_dict()
    return [{
        "id": row.get("gebied_id"),
        "kernen": [k for k in str(row.get("kernen") or "").split(",") if k],
        "buurten": _names(row.get("buurtcodes"), names),
        "n_buurten": row.get("n_buurten"),
        "inwoners": row.get("inwoners"),
        "werklast": row.get("werklast"),
        "tov": row.get("werklast_tov_gemiddeld"),
    } for _, row in a.sort_values("gebied_id").iterrows()]


def _hotspot_groups(rows: list[dict[str, Any]], result: RunResult) -> dict[str, list[dict[str, Any]]]:
    """Buurt rows per Local Moran category (hot, cold, high among low, low among high), highest signal first."""
    codes = result.buurten["hotspot"].to_dict()
    p_values = result.buurten["hotspot_p"].to_dict() if "hotspot_p" in result.buurten.columns else {}
    groups: dict[str, list[dict[str, Any]]] = {
        Hotspot.HOT: [], Hotspot.COLD: [], Hotspot.HIGH_LOW: [], Hotspot.LOW_HIGH: [],
    }
    for row in rows:
        group = codes.get(row["code"])
        if group in groups:
            groups[group].append({**row, "p": p_values.get(row["code"])})
    for items in groups.values():
        items.sort(key=lambda r: -r["signaal"] if not _is_missing(r["signaal"]) else math.inf)
    return groups


def _images(images: Mapping[str, Path | bytes] | None, result: RunResult) -> list[dict[str, str]]:
    within = "loopafstand" if result.distance_method == "network" else f"{format_int(result.threshold_m)} m hemelsbreed"
    out = []
    for name, template in MAP_CAPTIONS.items():
        caption = template.replace("{binnen}", within)
        image = (images or {}).get(name)
        if image is None:
            continue
        data = image if isinstance(image, bytes) else Path(image).read_bytes()
        out.append({
            "name": name, "caption": caption,
            "src": "data:image/png;base64," + base64.b64encode(data).decode("ascii"),
        })
    return out


def _summary_facts(result: RunResult, n_kernen: int) -> dict[str, Any]:
    """The key figures of ``samenvatting.json`` the report shows (the ``s`` of the template)."""
    s = result.summary
    return {
        "residents_total": s.get("residents_total"),
        "residents_within": s.get("residents_within_threshold"),
        "residents_beyond": s.get("residents_beyond_threshold"),
        "share_within": s.get("share_within_threshold"),
        "n_gaps": s.get("n_gaps", len(result.gaps)),
        "n_gaps_small": s.get("n_gaps_small", 0),
        "gap_words": gap_count_words(s.get("n_gaps", len(result.gaps)), s.get("n_gaps_small"),
                                     s.get("min_gap_residents")),
        "small_gap_words": small_gaps_words(s.get("n_gaps_small"), s.get("min_gap_residents")),
        "n_buurten": s.get("n_buurten", len(result.buurten)),
        "n_kernen": s.get("n_kernen", n_kernen),
        "n_meeting_points": s.get("n_meeting_points"),
        "n_venues": s.get("n_venues"),
        "n_candidates": s.get("n_candidates"),
        "cells_suppressed": s.get("cells_suppressed"),
        "brokers_needed": s.get("brokers_needed"),
        "broker_fte": s.get("broker_fte"),
        "broker_cost": s.get("broker_cost_per_year"),
        "broker_cost_basis": s.get("broker_cost_basis", "persons"),
        "broker_balance": s.get("broker_balance"),
        "broker_tolerance_met": s.get("broker_balance_tolerance_met"),
        "broker_deviation": s.get("broker_max_deviation"),
        "broker_tolerance": s.get("broker_balance_tolerance"),
        "broker_warnings": [_text(w) for w in s.get("broker_warnings") or []],
        "hotspot_alpha": s.get("hotspot_alpha"),
        "own_points_file": _text(Path(str(s["own_points_file"])).name) if s.get("own_points_file") else "",
        "n_own_points": s.get("n_own_points", 0),
        "own_merged": s.get("own_points_merged_with_osm", 0),
        "own_rejected": s.get("own_points_rejected_rows", 0),
        "own_skipped": s.get("own_points_skipped_rows", 0),
        "own_problems": [_text(p) for p in s.get("own_points_problems") or []],
        "cbs_table": _text(s.get("cbs_table")),
        "mostly_missing": [
            {"label": _text(m.get("label")), "share": m.get("share_missing")}
            for m in s.get("indicators_mostly_missing") or []
        ],
        "missing_share": [
            {"label": _text(result.indicators.get(k, k)), "share": v}
            for k, v in (s.get("indicators_missing_share") or {}).items() if v
        ],
        "snapshot_created": s.get("snapshot_created"),
        "generated": s.get("generated"),
        "version": s.get("wijkanalyse_version", __version__),
    }


def _network_facts(result: RunResult) -> dict[str, Any]:
    """What the attachment rule did (the ``network`` of the template); empty for a straight-line run."""
    network = result.summary.get("network") or {}
    return {
        "present": bool(network),
        "max_attach_m": network.get("max_attach_m"),
        "cells_not_on_network": network.get("cells_not_on_network", 0),
        "residents_not_on_network": network.get("residents_not_on_network", 0),
        "cells_unreachable": network.get("cells_no_meeting_point_reachable", 0),
        "residents_unreachable": network.get("residents_no_meeting_point_reachable", 0),
        "meeting_points_attached": network.get("meeting_points_attached"),
        "meeting_points_off": [
            {"naam": _text(m.get("name"), _text(m.get("osm_id"))),
             "reden": reach_label(Reach.OFF_NETWORK, network.get("max_attach_m"))}
            for m in network.get("meeting_points_not_on_network") or []
        ],
    }


def _proposal_facts(result: RunResult) -> dict[str, Any]:
    """The proposals in rank order, the sites only in a best set for a smaller count, and the per-count answers."""
    proposals = _proposal_rows(result)
    ranked = [p for p in proposals if not _is_missing(p["samen"])]
    return {
        "proposals": proposals,
        "top_proposals": ranked[:3],
        "last_proposal": ranked[-1] if ranked else None,
        "siting_text": siting_text(result.summary),
        "by_count": by_count_rows(result),
        "ranked": ranked,
        "extras": [p for p in proposals if _is_missing(p["samen"])],
    }


def _timing_facts(result: RunResult) -> dict[str, Any]:
    """Walking time per group and reach per day part (summary ``walking`` / ``open_hours``); empty when absent."""
    s = result.summary or {}
    walking = s.get("walking") or {}
    hours = s.get("open_hours") or {}
    by_part = hours.get("by_day_part") or {}
    days = [
        {"dag": name, "delen": [by_part.get(f"{d}-{p}", {}) for p, _, _ in PARTS]}
        for d, name in zip(DAYS, ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
                           strict=True)
    ]
    return {
        "groups": walking.get("groups") or [],
        "minutes_basis": walking.get("threshold_basis") == "minutes",
        "threshold_minutes": walking.get("threshold_minutes"),
        "hours": hours,
        "parts": [{"naam": p, "uren": f"{a}-{b} uur"} for p, a, b in PARTS],
        "days": days if by_part else [],
        "unparseable": [{k: _text(v) for k, v in u.items()} for u in hours.get("unparseable") or []],
        "excluded": [_text(e.get("name") or e.get("id")) for e in hours.get("excluded") or []],
    }


#: At most this many kernen per target group in the report (the XLSX sheet "Doelgroepen" has them all).
MAX_GROUP_KERNEN = 12


def _group_row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "groep": _text(r["doelgroep"]), "naam": _text(r["naam"]),
        "inwoners": format_range(r["inwoners_min"], r["inwoners_max"], missing="–"),
        "binnen": format_range(r["binnen_drempel_min"], r["binnen_drempel_max"], missing="–"),
        "buiten": format_range(r["buiten_drempel_min"], r["buiten_drempel_max"], missing="–"),
        "aandeel": format_range(r["aandeel_binnen_min"], r["aandeel_binnen_max"], percent=True, missing="–"),
        "is_range": r["inwoners_min"] != r["inwoners_max"],
    }


def _group_facts(result: RunResult) -> dict[str, Any]:
    """The target groups (gemeente and kernen, as ranges) and the meeting points over capacity."""
    table = getattr(result, "target_groups", None)
    groups: list[dict[str, Any]] = []
    kernen: list[dict[str, Any]] = []
    if table is not None and len(table):
        groups = [_group_row(r) for r in table[table["niveau"] == "gemeente"].to_dict("records")]
        rows = table[table["niveau"] == "kern"].to_dict("records")
        names = list(dict.fromkeys(r["naam"] for r in rows))[:MAX_GROUP_KERNEN]
        kernen = [_group_row(r) for r in rows if r["naam"] in names]
    summary = result.summary or {}
    capacity = summary.get("capacity") or {}
    over = [
        {"naam": _text(o.get("name") or o.get("osm_id")), "capaciteit": o.get("capacity"), "belasting": o.get("load"),
         "binnen": o.get("residents_within_reach")}
        for o in capacity.get("over_capacity", [])
    ]
    return {
        "groups": groups, "group_kernen": kernen, "groups_missing": [_text(g) for g in summary.get("target_groups_missing", [])],
        "capacity": {"present": bool(capacity), "n": capacity.get("meeting_points_with_capacity", 0), "over": over,
                     "group": _text(capacity.get("group")) or "alle inwoners"},
        "weight_group": _text(summary.get("siting_weight_group")),
    }
def _dependence_facts(result: RunResult) -> dict[str, Any]:
    """The most vulnerable meeting points (the ``dependence`` of the template): who loses their only one within reach."""
    venues = result.venues
    if "kwetsbaar_rang" not in venues.columns:
        return {"present": False, "rows": [], "n_points": 0, "residents": 0, "more": 0}
    ranked = venues[venues["kwetsbaar_rang"].notna()].sort_values("kwetsbaar_rang", kind="stable")
    rows = [{
        "rang": int(row["kwetsbaar_rang"]),
        "naam": _text(row.get("naam"), _text(row.get("categorie_label"))),
        "soort": _text(row.get("categorie_label")),
        "inwoners": row.get("inwoners_verliezen_toegang"),
        "cellen": row.get("cellen_alleen_hier"),
        "gemiddeld": None if _is_missing(row.get("afstand_volgende_gem_m")) else row.get("afstand_volgende_gem_m"),
        "mediaan": row.get("afstand_volgende_mediaan_m"),
        "mediaan_onbereikbaar": not _is_missing(row.get("afstand_volgende_mediaan_m"))
        and math.isinf(float(row.get("afstand_volgende_mediaan_m"))),
        "geen_ander": row.get("inwoners_geen_ander_bereikbaar"),
    } for _, row in ranked.head(MAX_VULNERABLE).iterrows()]
    return {
        "present": True,
        "rows": rows,
        "n_points": len(ranked),
        "residents": float(ranked["inwoners_verliezen_toegang"].sum()),
        "more": max(0, len(ranked) - MAX_VULNERABLE),
    }


def _area_figures(frame: Any) -> list[dict[str, Any]]:
    return [{
        "naam": _text(row.get("naam"), _text(row.get("code"))),
        "kern": _text(row.get("kern")),
        "inwoners": row.get("inwoners"),
        "nu": row.get("inwoners_binnen_drempel_nu"),
        "met": row.get("inwoners_binnen_drempel_scenario"),
        "verschil": row.get("verschil"),
        "aandeel_nu": row.get("aandeel_binnen_drempel_nu"),
        "aandeel_met": row.get("aandeel_binnen_drempel_scenario"),
    } for _, row in frame.iterrows()]


def _scenario_facts(result: RunResult) -> list[dict[str, Any]]:
    """Per scenario (``wijkanalyse run --scenario``): what changes, and the figures now and with it per kern and buurt."""
    figures = getattr(result, "scenario_figures", None)
    if figures is None or len(figures) == 0:
        return []
    entries = {e.get("name"): e for e in result.summary.get("scenarios") or []}
    out = []
    for name in dict.fromkeys(figures["scenario"].tolist()):
        mine = figures[figures["scenario"] == name]
        entry = entries.get(name, {})
        buurten = mine[(mine["niveau"] == "buurt") & (mine["verschil"] != 0)]
        buurten = buurten.reindex(buurten["verschil"].abs().sort_values(ascending=False, kind="stable").index)
        out.append({
            "name": _text(name),
            "threshold": entry.get("threshold_m", result.threshold_m),
            "own_threshold": entry.get("threshold_m", result.threshold_m) != result.threshold_m,
            "closed": [_text(p.get("name"), _text(p.get("id"))) for p in entry.get("closed") or []],
            "opened": [_text(p.get("name"), _text(p.get("id"))) for p in entry.get("opened") or []],
            "off_network": [_text(p.get("name")) for p in entry.get("opened") or [] if not p.get("on_network", True)],
            "whole": _area_figures(mine[mine["niveau"] == "gemeente"])[0],
            "kernen": _area_figures(mine[mine["niveau"] == "kern"]),
            "buurten": _area_figures(buurten.head(MAX_SCENARIO_BUURTEN)),
            "more_buurten": max(0, len(buurten) - MAX_SCENARIO_BUURTEN),
            "losing": entry.get("residents_losing_access"),
            "gaining": entry.get("residents_gaining_access"),
        })
    return out


def report_context(result: RunResult, images: Mapping[str, Path | bytes] | None = None) -> dict[str, Any]:
    """Everything the template shows, picked from ``result`` (plain values; the template formats and escapes).

    Parameters
    ----------
    result
        The run.
    images
        PNG print maps by name (``kaart_signaal``, ``kaart_bereik``, ``kaart_makelaars``): a path or
        the bytes. Missing maps are left out of the report.
    """
    buurten = _buurt_rows(result)
    gaps, more_gaps, more_gaps_max = _gap_rows(result)
    kernen = _kern_rows(result)
    priority = sorted(
        (r for r in buurten if not _is_missing(r["prioriteit_rang"])), key=lambda r: r["prioriteit_rang"],
    )[:MAX_PRIORITY]
    reach = sorted(
        (r for r in buurten if not _is_missing(r["aandeel"]) and r["aandeel"] < 1),
        key=lambda r: (r["aandeel"], r["naam"]),
    )
    reference = _reference(result)
    return {
        "r": {
            "gemeente_name": _text(result.gemeente_name), "gemeente_code": _text(result.gemeente_code),
            "year": result.year, "synthetic": bool(result.synthetic), "threshold": result.threshold_m,
            "network": result.distance_method == "network",
            "afstand": distance_label(result.distance_method),
        },
        "s": _summary_facts(result, len(kernen)),
        "network": _network_facts(result),
        "timing": _timing_facts(result),
        "explanations": {
            k: _text(result.explanations.get(k)) for k in ("priority", "workload", "brokers", "cost")
        },
        "indicators": [_text(label) for label in result.indicators.values()],
        "indicator_chunks": [
            list(range(i, min(i + INDICATORS_PER_TABLE, len(result.indicators))))
            for i in range(0, len(result.indicators), INDICATORS_PER_TABLE)
        ],
        "reference": reference,
        "has_nl": any(not _is_missing(v) for v in reference["nederland"]),
        "buurten": buurten,
        "kernen": kernen,
        "no_reach_kernen": [k["kern"] for k in kernen if not _is_missing(k["aandeel"]) and k["aandeel"] == 0],
        "reach": reach[:15],
        "gaps": gaps,
        "more_gaps": more_gaps,
        "more_gaps_max": more_gaps_max,
        **_proposal_facts(result),
        **_group_facts(result),
        "areas": _area_rows(result),
        "priority": priority,
        "hotspots": _hotspot_groups(buurten, result),
        "dependence": _dependence_facts(result),
        "scenarios": _scenario_facts(result),
        "sources": source_rows(result),
        "data_date": data_date(result),
        "source_line": SOURCE_LINE,
        "banner": SYNTHETIC_BANNER,
        "images": {img["name"]: img for img in _images(images, result)},
        "style": _style(),
    }


def _style() -> dict[str, str]:
    """The colours the report's CSS takes from the one style module (the same as the maps')."""
    return {
        "hot": style.SIGNAL_COLORS[-1], "cold": style.HOTSPOT_STYLES[Hotspot.COLD][0],
        "hot_edge": style.HOTSPOT_STYLES[Hotspot.HOT][0], "beyond": style.BEYOND_COLOR,
    }


def render_report(result: RunResult, images: Mapping[str, Path | bytes] | None = None) -> str:
    """The report as one HTML document (UTF-8 text, no external references)."""
    template = environment().get_template("rapport.html.j2")
    return template.render(**report_context(result, images))


def write_report(result: RunResult, path: Path, images: Mapping[str, Path | bytes] | None = None) -> Path:
    """Write ``rapport.html`` atomically; ``images`` are the PNG print maps to embed (see :func:`report_context`)."""
    return _atomic.write_text(path, render_report(result, images))


def write_pdf(html: str, path: Path) -> Path | None:
    """Write ``html`` as an A4 PDF with WeasyPrint; None (and one log line) when WeasyPrint or Pango is missing."""
    try:
        import weasyprint  # noqa: PLC0415 (optional: pip install 'wijkanalyse[pdf]')
    except (ImportError, OSError):  # OSError: the Python package is there but the Pango library is not
        log.warning("%s", PDF_MISSING)
        return None
    try:
        document = weasyprint.HTML(string=html, base_url=None)
        return _atomic.write_with(path, document.write_pdf)
    except OSError:
        raise  # a full disk or a folder we may not write to: the run reports it like any other output
    except Exception as e:  # an optional extra must not end a finished run; say what went wrong
        if caused_by_interrupt(e):
            raise
        log.warning("rapport.pdf niet gemaakt: WeasyPrint gaf een fout: %s", e)
        return None
