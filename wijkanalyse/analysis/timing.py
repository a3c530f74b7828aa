"""People, not averages: the threshold per walking group, and per part of the week a place is open.

Both run the one engine (:class:`wijkanalyse.network.WalkNetwork`) again with different
inputs, never a second search:

* :func:`walking_figures`: per walking group (``[walking.groups]``) its threshold in metres
  and minutes (:meth:`wijkanalyse.config.Walking.threshold_m`) and who is within it. A
  group with a profile (a rollator: no steps) walks a network built with the profile's
  narrower way filter (:meth:`wijkanalyse.config.WalkProfile.rules`), one per profile.
* :func:`open_hours_figures`: per day part (:data:`wijkanalyse.analysis.opening.DAY_PARTS`)
  who is within the threshold of a meeting point open then: one nearest search per distinct
  set of open meeting points (at most 21; most day parts share a set).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from wijkanalyse._format import format_int
from wijkanalyse.analysis import opening
from wijkanalyse.analysis.coverage import straight_line_distance
from wijkanalyse.config import Config, WalkGroup
from wijkanalyse.network import Attachment, WalkNetwork

__all__ = ["GENERAL_GROUP", "HoursFigures", "WalkingFigures", "apply_opening_hours", "open_hours_figures",
           "walking_figures"]

log = logging.getLogger("wijkanalyse")

#: The key of the general group (everyone at the general pace, the general walk rule).
GENERAL_GROUP = "algemeen"


@dataclass(frozen=True)
class WalkingFigures:
    """Per buurt x walking group (``table``, long) and the gemeente totals (``summary``)."""

    table: pd.DataFrame
    summary: dict[str, Any]


@dataclass(frozen=True)
class HoursFigures:
    """Per buurt the share within the threshold per day part (``table``, wide) and the gemeente totals."""

    table: pd.DataFrame
    summary: dict[str, Any]
    #: per day part the residents' distance to the nearest meeting point open then (the map's cells)
    distance: dict[str, np.ndarray] = field(default_factory=dict)


def _people(residents: pd.DataFrame) -> np.ndarray:
    return residents["inwoners"].fillna(0).to_numpy(dtype=float)


def _per_buurt(residents: pd.DataFrame, buurtcodes: pd.Index, within: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """(residents, residents within) per buurt, every buurt of ``buurtcodes`` (0 without residents)."""
    people = _people(residents)
    frame = pd.DataFrame({"buurtcode": residents["buurtcode"].to_numpy(), "all": people,
                          "within": np.where(within, people, 0.0)})
    sums = frame.groupby("buurtcode")[["all", "within"]].sum().reindex(buurtcodes).fillna(0.0)
    return sums["all"], sums["within"]


def _share(within: float, total: float) -> float | None:
    return within / total if total > 0 else None


def _groups(config: Config) -> list[WalkGroup]:
    """The general group first, then the configured ones."""
    general = WalkGroup(key=GENERAL_GROUP, label="Alle inwoners (algemeen tempo)", speed_m_s=config.walking.speed_m_s)
    return [general, *(g for k, g in config.walking.groups.items() if k != GENERAL_GROUP)]


def walking_figures(  # noqa: PLR0917
    residents: gpd.GeoDataFrame, buurten: pd.DataFrame, venues: gpd.GeoDataFrame, meeting_mask: np.ndarray,
    distance: np.ndarray, config: Config, ways: gpd.GeoDataFrame | None, method: str,
) -> WalkingFigures:
    """Threshold (metres and minutes) and residents within it, per walking group, per buurt and in total.

    ``distance``: the residents' distance under the general walk rule (the main run's); a group
    with a profile gets its own from a network with the profile's filter (``network`` method only;
    with ``straight_line`` a profile changes nothing, and the summary says so).
    """
    walking = config.walking
    by_profile: dict[str, np.ndarray] = {"": distance}
    rows, groups = [], []
    people = _people(residents)
    total = float(people.sum())
    for group in _groups(config):
        profile = walking.profiles.get(group.profile) if group.profile else None
        applied = profile is not None and method == "network" and ways is not None
        key = group.profile if applied else ""
        if key not in by_profile:
            assert profile is not None and ways is not None
            net = WalkNetwork.from_ways(ways, profile.rules(config.network))
            by_profile[key] = net.nearest(net.attach(residents.geometry), net.attach(venues.geometry[meeting_mask]))
            log.info("    profiel %s: %s looproutes", profile.label, format_int(net.n_ways))
        threshold = walking.threshold_m(config.thresholds.walk_m, group.speed_m_s)
        minutes = threshold / group.speed_m_s / 60.0
        within = by_profile[key] <= threshold
        all_, inside = _per_buurt(residents, buurten.index, within)
        rows.append(pd.DataFrame({
            "buurtcode": buurten.index, "buurtnaam": buurten["buurtnaam"].to_numpy(), "groep": group.key,
            "groep_label": group.label, "snelheid_m_s": group.speed_m_s, "drempel_m": threshold,
            "drempel_min": minutes, "profiel": profile.label if applied and profile is not None else "",
            "inwoners": all_.to_numpy(), "inwoners_binnen_drempel": inside.to_numpy(),
            "aandeel_binnen_drempel": (inside / all_).where(all_ > 0).to_numpy(),
        }))
        reached = float(people[within].sum())
        groups.append({
            "key": group.key, "label": group.label, "speed_m_s": group.speed_m_s,
            "threshold_m": round(threshold, 1), "threshold_min": round(minutes, 2),
            "profile": group.profile, "profile_applied": applied,
            "residents_within_threshold": reached, "share_within_threshold": _share(reached, total),
        })
    summary = {
        "speed_m_s": walking.speed_m_s,
        "threshold_basis": "minutes" if walking.threshold_minutes > 0 else "metres",
        "threshold_minutes": walking.threshold_minutes or None,
        "groups": groups,
        "profiles": {k: {"label": p.label, "exclude_highways": list(p.exclude_highways),
                         "exclude_tags": {t: list(v) for t, v in p.exclude_tags}} for k, p in walking.profiles.items()},
    }
    return WalkingFigures(table=pd.concat(rows, ignore_index=True), summary=summary)


def apply_opening_hours(venues: gpd.GeoDataFrame, meeting_mask: np.ndarray, config: Config) -> tuple[
    opening.OpeningWeek, np.ndarray, list[dict[str, Any]]
]:
    """Read every venue's hours; the meeting points that count (``[opening_hours]``); those that do not.

    Adds ``open_dagdelen`` (number of day parts open a week, <NA> when not known) and
    ``openingstijden_status`` (known / unknown / unparseable) to ``venues``, and sets
    ``ontmoetingspunt`` False for a meeting point that does not count.
    """
    hours = venues["openingstijden"] if "openingstijden" in venues.columns else pd.Series([None] * len(venues))
    week = opening.opening_week(list(hours))
    settings = config.opening_hours
    counts = opening.counted(week, meeting_mask, min_dagdelen=settings.min_dagdelen,
                             unknown_counts=settings.unknown_counts)
    venues["open_dagdelen"] = pd.array(np.where(week.status == opening.KNOWN, week.n_open, -1), dtype="Int64")
    venues.loc[venues["open_dagdelen"] < 0, "open_dagdelen"] = pd.NA
    venues["openingstijden_status"] = week.status
    dropped = np.flatnonzero(np.asarray(meeting_mask, dtype=bool) & ~counts)
    excluded = [
        {"id": str(venues["osm_id"].iat[i]), "name": venues["naam"].iat[i],
         "open_dagdelen": None if pd.isna(venues["open_dagdelen"].iat[i]) else int(venues["open_dagdelen"].iat[i]),
         "status": str(week.status[i])}
        for i in dropped
    ]
    if excluded:
        venues.loc[venues.index[dropped], "ontmoetingspunt"] = False
        log.warning(
            "Let op: %d ontmoetingspunt(en) tellen niet mee door hun openingstijden ([opening_hours]): %s.",
            len(excluded), ", ".join(str(e["name"] or e["id"]) for e in excluded),
        )
    return week, counts, excluded


def open_hours_figures(  # noqa: PLR0917
    residents: gpd.GeoDataFrame, buurten: pd.DataFrame, venues: gpd.GeoDataFrame, week: opening.OpeningWeek,
    meeting_mask: np.ndarray, counts: np.ndarray, excluded: list[dict[str, Any]], config: Config, *,
    network: WalkNetwork | None = None, resident_att: Attachment | None = None, venue_att: Attachment | None = None,
) -> HoursFigures:
    """Per day part: residents within the threshold of a meeting point open then (per buurt and in total).

    ``meeting_mask``: the meeting points before the hours were applied; ``counts`` those that
    count (:func:`apply_opening_hours`). With ``network`` and both attachments the searches walk
    the network; without them they go as the crow flies.
    """
    settings = config.opening_hours
    threshold = config.thresholds.walk_m
    people = _people(residents)
    total = float(people.sum())
    table = pd.DataFrame({"buurtcode": buurten.index, "buurtnaam": buurten["buurtnaam"].to_numpy()})
    by_part: dict[str, dict[str, Any]] = {}
    distances: dict[str, np.ndarray] = {}
    sets = opening.day_part_sets(week, counts, unknown_counts=settings.unknown_counts)
    for mask, parts in sets:
        if not mask.any():
            dist = np.full(len(residents), np.inf)
        elif network is not None and resident_att is not None and venue_att is not None:
            dist = network.nearest(resident_att, venue_att.take(mask))
        else:
            dist = straight_line_distance(residents.geometry, venues.geometry[mask])
        within = dist <= threshold
        all_, inside = _per_buurt(residents, buurten.index, within)
        reached = float(people[within].sum())
        for part in parts:
            distances[part] = dist
            by_part[part] = {
                "label": opening.DAY_PART_LABELS[part], "meeting_points_open": int(mask.sum()),
                "residents_within_threshold": reached, "share_within_threshold": _share(reached, total),
            }
            table[f"aandeel_{part}"] = (inside / all_).where(all_ > 0).to_numpy()
    table.insert(2, "inwoners", _per_buurt(residents, buurten.index, np.zeros(len(residents), bool))[0].to_numpy())
    table = table[["buurtcode", "buurtnaam", "inwoners", *(f"aandeel_{p}" for p in opening.DAY_PARTS)]]
    meeting = np.asarray(meeting_mask, dtype=bool)  # every meeting point, also those the hours leave out
    status = week.status[meeting]
    unparseable = [
        {"id": str(venues["osm_id"].iat[i]), "name": venues["naam"].iat[i], "raw": str(venues["openingstijden"].iat[i])}
        for i in np.flatnonzero(meeting & (week.status == opening.UNPARSEABLE))
    ]
    for item in unparseable:
        log.warning("Openingstijden van %s niet te lezen: %r; telt als onbekend.", item["name"] or item["id"], item["raw"])
    summary = {
        "day_parts": {p: f"{a:02d}:00-{b:02d}:00" for p, a, b in opening.PARTS},
        "min_day_parts": settings.min_dagdelen,
        "unknown_counts": settings.unknown_counts,
        "meeting_points": int(meeting.sum()),
        "known": int((status == opening.KNOWN).sum()),
        "unknown": int((status == opening.UNKNOWN).sum()),
        "unparseable": unparseable,
        "excluded": excluded,
        "searches": len(sets),
        "by_day_part": {p: by_part[p] for p in opening.DAY_PARTS},
    }
    return HoursFigures(table=table, summary=summary, distance=distances)
