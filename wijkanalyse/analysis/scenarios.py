"""Scenarios: the run's figures with meeting points closed or opened, side by side with the run itself.

A scenario (:class:`~wijkanalyse.sources.scenario_file.ScenarioSpec`, from ``--scenario FILE``)
closes meeting points, opens venues that are not meeting points yet or new places, and may
use another threshold. :func:`resolve_scenarios` finds the places it names in the run's
venues (an OSM id, an own-point id or a name) and refuses, in one Dutch line, an id that is
not there or a name that fits more than one place. :func:`evaluate_scenario` then measures
the walk from every resident to the nearest open meeting point on the run's own network and
attachments (:meth:`~wijkanalyse.network.WalkNetwork.nearest_open`: the graph is cut at every
meeting point, open or closed, exactly as in the run, so a resident whose meeting point stays
walks exactly the run's distance) and gives the figures per buurt, kern and gemeente: now (the
run, at its threshold) and with the scenario (at the scenario's threshold).

Closing one meeting point takes exactly its dependence figure out of reach
(:mod:`wijkanalyse.analysis.dependence`): the residents for whom it was the only one within
the threshold. No snapshot is read again; pure functions of the frames and the engine.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from wijkanalyse.analysis.coverage import straight_line_distance
from wijkanalyse.errors import ConfigError
from wijkanalyse.model import CRS, normalise_name
from wijkanalyse.network import Attachment, WalkNetwork, join_attachments
from wijkanalyse.sources.scenario_file import ScenarioSpec

__all__ = [
    "CHANGE_GAINED",
    "CHANGE_LOST",
    "FIGURE_COLUMNS",
    "POINT_CLOSED",
    "POINT_OPENED",
    "Scenario",
    "ScenarioResult",
    "evaluate_scenario",
    "resolve_scenarios",
    "scenario_frames",
]

#: ``verandering`` of a cell in :attr:`ScenarioResult.changes`: out of reach with the scenario, or newly within it.
CHANGE_LOST = "lost"
CHANGE_GAINED = "gained"
#: ``wijziging`` of a point in :attr:`ScenarioResult.points`.
POINT_CLOSED = "closed"
POINT_OPENED = "opened"
#: Columns of :attr:`ScenarioResult.figures` (one row for the gemeente, one per kern, one per buurt).
FIGURE_COLUMNS = [
    "scenario", "niveau", "code", "naam", "kern", "inwoners", "drempel_m",
    "inwoners_binnen_drempel_nu", "inwoners_binnen_drempel_scenario", "verschil",
    "aandeel_binnen_drempel_nu", "aandeel_binnen_drempel_scenario", "inwoners_verliezen", "inwoners_winnen",
]
_ID = re.compile(r"^((node|way|relation)/\d+|eigen/.+)$", flags=re.IGNORECASE)
_MAX_LISTED = 5


@dataclass(frozen=True)
class Scenario:
    """A scenario with its places found: positions (``iloc``) in the run's venues frame."""

    name: str
    close: tuple[int, ...] = ()  # meeting points that close
    open: tuple[int, ...] = ()  # venues that are no meeting point yet and open as one
    new_points: gpd.GeoDataFrame = field(
        default_factory=lambda: gpd.GeoDataFrame({"naam": [], "bron": []}, geometry=[], crs=CRS)
    )
    walk_m: float | None = None


# --------------------------------------------------------------------------- finding the places


def _label(venues: pd.DataFrame, pos: int) -> str:
    name = venues["naam"].iloc[pos]
    name = name if isinstance(name, str) and name.strip() else str(venues["categorie_label"].iloc[pos])
    return f"{name} ({venues['osm_id'].iloc[pos]})"


def _listed(venues: pd.DataFrame, positions: Sequence[int]) -> str:
    shown = [_label(venues, p) for p in positions[:_MAX_LISTED]]
    more = f" en {len(positions) - _MAX_LISTED} andere" if len(positions) > _MAX_LISTED else ""
    return ", ".join(shown) + more


def _matches(text: str, venues: pd.DataFrame, normalised: list[str]) -> tuple[list[int], bool]:
    """The positions of the venues ``text`` names, and whether it is an id (else a name).

    An id is an OSM id (``node/123``) or an own-point id (``eigen/<file>/<line>``), compared
    without regard to case. A name matches a venue whose name is the same after
    :func:`~wijkanalyse.model.normalise_name` (case, accents, punctuation and articles
    ignored); when none is, every venue whose name holds all of its words ("De Schakel" ->
    "Buurthuis De Schakel").
    """
    if _ID.match(text):
        ids = venues["osm_id"].astype(str).str.casefold().to_numpy()
        return [int(p) for p in np.flatnonzero(ids == text.casefold())], True
    wanted = normalise_name(text)
    if not wanted:
        return [], False
    exact = [i for i, name in enumerate(normalised) if name == wanted]
    if exact:
        return exact, False
    words = set(wanted.split())
    return [i for i, name in enumerate(normalised) if name and words <= set(name.split())], False


def _suggestion(text: str, venues: pd.DataFrame, pool: np.ndarray) -> str:
    names = [str(n) for n in venues["naam"].to_numpy()[pool] if isinstance(n, str)]
    close = difflib.get_close_matches(text, names, n=1, cutoff=0.6)
    return f"; bedoelt u '{close[0]}'?" if close else ""


def _find(
    text: str, venues: pd.DataFrame, normalised: list[str], meeting: np.ndarray, where: str, *, closing: bool,
    problems: list[str],
) -> int | None:
    """The one venue ``text`` names for closing (a meeting point) or opening (not one yet); None with a problem."""
    hits, is_id = _matches(text, venues, normalised)
    wanted = [h for h in hits if meeting[h] == closing]
    other = [h for h in hits if meeting[h] != closing]
    action = "sluiten" if closing else "openen"
    if len(wanted) == 1:
        return wanted[0]
    if len(wanted) > 1:
        problems.append(
            f"{where}: '{text}' past op {len(wanted)} {'ontmoetingspunten' if closing else 'voorzieningen'}: "
            f"{_listed(venues, wanted)}; noem het id (tussen haakjes) of de volledige naam"
        )
        return None
    if other:
        kind = str(venues["categorie_label"].iloc[other[0]])
        if closing:
            problems.append(
                f"{where}: {_listed(venues, other)} is geen ontmoetingspunt ({kind}) en kan dus niet sluiten; "
                "zet het bij open als het een ontmoetingspunt wordt"
            )
        else:
            problems.append(f"{where}: {_listed(venues, other)} is al een ontmoetingspunt; zet het bij close als het sluit")
        return None
    pool = meeting if closing else ~meeting
    if is_id:
        problems.append(
            f"{where}: '{text}' bestaat niet in deze run (om te {action}); gebruik een osm_id uit de laag "
            "voorzieningen van buurten.gpkg (een eigen punt dat ook in OpenStreetMap staat heeft het OSM-id) of de naam"
        )
    else:
        problems.append(
            f"{where}: geen {'ontmoetingspunt' if closing else 'voorziening'} heet '{text}'"
            f"{_suggestion(text, venues, pool)}; gebruik de naam of het osm_id uit de laag voorzieningen van buurten.gpkg"
        )
    return None


def resolve_scenarios(specs: Sequence[ScenarioSpec], venues: pd.DataFrame) -> tuple[Scenario, ...]:
    """Find the places every scenario names in the run's ``venues`` (columns osm_id, naam, ontmoetingspunt).

    Raises
    ------
    ConfigError
        One Dutch line listing every place that is not there (an id that does not exist, a
        name nothing has), fits more than one place (with their ids, to choose from), or
        is of the wrong kind (closing a venue that is no meeting point, opening one that is).
    """
    meeting = venues["ontmoetingspunt"].astype(bool).to_numpy() if len(venues) else np.zeros(0, dtype=bool)
    normalised = [normalise_name(n) for n in venues["naam"].to_numpy()] if len(venues) else []
    problems: list[str] = []
    out = []
    files = {s.file for s in specs if s.file}
    for spec in specs:
        where = f"scenario '{spec.name}'"
        close = [_find(t, venues, normalised, meeting, where, closing=True, problems=problems) for t in spec.close]
        opened = [_find(t, venues, normalised, meeting, where, closing=False, problems=problems) for t in spec.open]
        out.append(Scenario(
            name=spec.name,
            close=tuple(dict.fromkeys(p for p in close if p is not None)),
            open=tuple(dict.fromkeys(p for p in opened if p is not None)),
            new_points=spec.new_points,
            walk_m=spec.walk_m,
        ))
    if problems:
        where = f"Scenariobestand {', '.join(sorted(files))}" if files else "Scenario"
        msg = f"{where}: {'; '.join(problems)}."
        raise ConfigError(msg)
    return tuple(out)


# --------------------------------------------------------------------------- the figures


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario measured: per resident, per area, and what changes where.

    ``distance``/``within``: per resident cell (the run's order) the distance to the nearest
    open meeting point and whether it is within the scenario's threshold. ``figures``:
    :data:`FIGURE_COLUMNS`, the gemeente first, then the kernen, then the buurten.
    ``changes``: the cells whose reach changes (scenario, verandering = :data:`CHANGE_LOST` or
    :data:`CHANGE_GAINED`, cel, buurtcode, inwoners, afstand_nu_m, afstand_scenario_m; points).
    ``points``: the places that close or open (scenario, wijziging = :data:`POINT_CLOSED` or
    :data:`POINT_OPENED`, osm_id (None for a new place), naam, soort, op_netwerk; points).
    ``summary``: the entry of ``samenvatting.json``'s ``scenarios``.
    """

    name: str
    threshold_m: float
    distance: np.ndarray
    within: np.ndarray
    figures: pd.DataFrame
    changes: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    summary: dict[str, Any]


def _targets(
    scenario: Scenario, venues: gpd.GeoDataFrame, meeting_mask: np.ndarray, network: WalkNetwork | None,
    venue_att: Attachment | None,
) -> tuple[gpd.GeoSeries, np.ndarray, Attachment | None]:
    """Every meeting point, then the opened venues, then the new places: their points, which are open, their attachment."""
    opened_mask = np.zeros(len(venues), dtype=bool)
    opened_mask[list(scenario.open)] = True
    geoms = pd.concat([
        venues.geometry[meeting_mask], venues.geometry[opened_mask], scenario.new_points.geometry.to_crs(CRS),
    ], ignore_index=True)
    meeting_pos = np.flatnonzero(meeting_mask)
    is_open = np.r_[~np.isin(meeting_pos, list(scenario.close)), np.ones(int(opened_mask.sum()) + len(scenario.new_points), bool)]
    if network is None or venue_att is None:
        return gpd.GeoSeries(geoms, crs=CRS), is_open, None
    att = join_attachments(
        join_attachments(venue_att.take(meeting_mask), venue_att.take(opened_mask)),
        network.attach(scenario.new_points.geometry.to_crs(CRS)),
    )
    return gpd.GeoSeries(geoms, crs=CRS), is_open, att


def _area_rows(
    name: str, level: str, keys: pd.Series, *, people: np.ndarray, before: np.ndarray, after: np.ndarray,
    index: pd.Index, names: pd.Series, kern: pd.Series | None, threshold_m: float,
) -> pd.DataFrame:
    """Per area (``keys``: each cell's area, ``index``: the areas) residents now and with the scenario."""
    frame = pd.DataFrame({
        "key": keys.to_numpy(), "inwoners": people, "nu": np.where(before, people, 0.0), "scenario": np.where(after, people, 0.0),
        "verliezen": np.where(before & ~after, people, 0.0), "winnen": np.where(~before & after, people, 0.0),
    })
    sums = frame.groupby("key")[["inwoners", "nu", "scenario", "verliezen", "winnen"]].sum().reindex(index).fillna(0.0)
    total = sums["inwoners"]
    return pd.DataFrame({
        "scenario": name, "niveau": level, "code": index.astype(str), "naam": names.reindex(index).to_numpy(),
        "kern": kern.reindex(index).to_numpy() if kern is not None else None,
        "inwoners": total.to_numpy(), "drempel_m": threshold_m,
        "inwoners_binnen_drempel_nu": sums["nu"].to_numpy(),
        "inwoners_binnen_drempel_scenario": sums["scenario"].to_numpy(),
        "verschil": (sums["scenario"] - sums["nu"]).to_numpy(),
        "aandeel_binnen_drempel_nu": (sums["nu"] / total).where(total > 0).to_numpy(),
        "aandeel_binnen_drempel_scenario": (sums["scenario"] / total).where(total > 0).to_numpy(),
        "inwoners_verliezen": sums["verliezen"].to_numpy(),
        "inwoners_winnen": sums["winnen"].to_numpy(),
    })


def _figures(
    scenario: Scenario, threshold_m: float, residents: pd.DataFrame, buurten: pd.DataFrame, *, before: np.ndarray,
    after: np.ndarray, gemeente: tuple[str, str],
) -> pd.DataFrame:
    """:data:`FIGURE_COLUMNS`: the gemeente, every kern, every buurt."""
    people = residents["inwoners"].fillna(0.0).to_numpy(dtype=float)
    codes = residents["buurtcode"].astype(str)
    buurt_index = pd.Index(buurten["buurtcode"].astype(str) if "buurtcode" in buurten else buurten.index.astype(str))
    buurt_names = pd.Series(buurten["buurtnaam"].to_numpy() if "buurtnaam" in buurten else buurt_index, index=buurt_index)
    kern_of = pd.Series(buurten["kern"].astype(str).to_numpy(), index=buurt_index) if "kern" in buurten else None
    cells: dict[str, Any] = {"people": people, "before": before, "after": after, "threshold_m": threshold_m}
    parts = [_area_rows(
        scenario.name, "gemeente", pd.Series(np.zeros(len(residents), dtype=int)), **cells,
        index=pd.Index([0]), names=pd.Series([gemeente[1]]), kern=None,
    ).assign(code=gemeente[0])]
    if kern_of is not None:
        kern_names = pd.Index(sorted(kern_of.dropna().unique()))
        parts.append(_area_rows(
            scenario.name, "kern", codes.map(kern_of), **cells, index=kern_names,
            names=pd.Series(kern_names, index=kern_names), kern=pd.Series(kern_names, index=kern_names),
        ))
    parts.append(_area_rows(scenario.name, "buurt", codes, **cells, index=buurt_index, names=buurt_names, kern=kern_of))
    return pd.concat(parts, ignore_index=True)[FIGURE_COLUMNS]


def _points(
    scenario: Scenario, venues: gpd.GeoDataFrame, att: Attachment | None, meeting_mask: np.ndarray,
) -> gpd.GeoDataFrame:
    close, opened = list(scenario.close), list(scenario.open)
    new = scenario.new_points.to_crs(CRS)
    n_meeting, n_open = int(meeting_mask.sum()), len(opened)
    on = att.on_network if att is not None else None
    meeting_pos = np.flatnonzero(meeting_mask)
    closed_on = [bool(on[int(np.flatnonzero(meeting_pos == p)[0])]) if on is not None else True for p in close]
    opened_on = list(on[n_meeting:n_meeting + n_open]) if on is not None else [True] * n_open
    new_on = list(on[n_meeting + n_open:]) if on is not None else [True] * len(new)
    frame = pd.DataFrame({
        "scenario": scenario.name,
        "wijziging": [POINT_CLOSED] * len(close) + [POINT_OPENED] * (n_open + len(new)),
        "osm_id": [venues["osm_id"].iloc[p] for p in close + opened] + [None] * len(new),
        "naam": [venues["naam"].iloc[p] for p in close + opened] + list(new["naam"]),
        "soort": [venues["categorie_label"].iloc[p] for p in close + opened] + ["nieuwe plek"] * len(new),
        "op_netwerk": [bool(v) for v in closed_on + opened_on + new_on],
    })
    geoms = [venues.geometry.iloc[p] for p in close + opened] + list(new.geometry)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)


def evaluate_scenario(  # noqa: PLR0917 (the run's frames, as decide takes them)
    scenario: Scenario, residents: gpd.GeoDataFrame, buurten: pd.DataFrame, venues: gpd.GeoDataFrame,
    meeting_mask: np.ndarray, threshold_m: float, *, network: WalkNetwork | None = None,
    resident_att: Attachment | None = None, venue_att: Attachment | None = None,
    gemeente: tuple[str, str] = ("", "gemeente"),
) -> ScenarioResult:
    """The run's figures with ``scenario``, beside the run's own (now).

    Parameters
    ----------
    scenario
        From :func:`resolve_scenarios`.
    residents
        The run's resident cells with inwoners, buurtcode, afstand_m and binnen_drempel (now).
    buurten
        The run's buurt table (buurtcode, buurtnaam, kern).
    venues, meeting_mask
        The run's venues and which of them are meeting points now.
    threshold_m
        The run's threshold; the scenario's own ``walk_m`` wins for "with the scenario".
    network, resident_att, venue_att
        The run's engine and attachments (the walking method); None: as the crow flies.
    gemeente
        Code and name of the gemeente row of the figures.
    """
    threshold = float(scenario.walk_m if scenario.walk_m is not None else threshold_m)
    geoms, is_open, att = _targets(scenario, venues, meeting_mask, network, venue_att)
    if network is not None and resident_att is not None and att is not None:
        distance = network.nearest_open(resident_att, att, is_open)
    else:
        distance = straight_line_distance(residents.geometry, geoms[is_open])
    before = residents["binnen_drempel"].to_numpy(dtype=bool)
    after = distance <= threshold
    figures = _figures(scenario, threshold, residents, buurten, before=before, after=after, gemeente=gemeente)
    changed = before != after
    cells = residents[changed]
    changes = gpd.GeoDataFrame({
        "scenario": scenario.name,
        "verandering": np.where(after[changed], CHANGE_GAINED, CHANGE_LOST),
        "cel": cells["cel"].to_numpy() if "cel" in cells else None,
        "buurtcode": cells["buurtcode"].to_numpy(),
        "inwoners": cells["inwoners"].to_numpy(dtype=float),
        "afstand_nu_m": cells["afstand_m"].to_numpy(dtype=float),
        "afstand_scenario_m": distance[changed],
    }, geometry=gpd.GeoSeries(cells.geometry.to_numpy(), crs=CRS), crs=CRS)
    points = _points(scenario, venues, att, meeting_mask)
    whole = figures.iloc[0]
    buurt_rows = figures[(figures["niveau"] == "buurt") & (figures["verschil"] != 0)]
    summary = {
        "name": scenario.name,
        "threshold_m": threshold,
        "residents_within_threshold": float(whole["inwoners_binnen_drempel_scenario"]),
        "residents_beyond_threshold": float(whole["inwoners"] - whole["inwoners_binnen_drempel_scenario"]),
        "share_within_threshold": _share(whole["inwoners_binnen_drempel_scenario"], whole["inwoners"]),
        "residents_within_threshold_now": float(whole["inwoners_binnen_drempel_nu"]),
        "share_within_threshold_now": _share(whole["inwoners_binnen_drempel_nu"], whole["inwoners"]),
        "change_within_threshold": float(whole["verschil"]),
        "residents_losing_access": float(whole["inwoners_verliezen"]),
        "residents_gaining_access": float(whole["inwoners_winnen"]),
        "closed": [{"id": r.osm_id, "name": r.naam} for r in points[points["wijziging"] == POINT_CLOSED].itertuples()],
        "opened": [
            {"id": r.osm_id, "name": r.naam, "x": round(float(r.geometry.x), 1), "y": round(float(r.geometry.y), 1),
             "on_network": bool(r.op_netwerk)}
            for r in points[points["wijziging"] == POINT_OPENED].itertuples()
        ],
        "buurten_changed": [
            {"buurtcode": code, "buurtnaam": naam, "within_now": float(now), "within_scenario": float(then),
             "change": float(change)}
            for code, naam, now, then, change in zip(
                buurt_rows["code"], buurt_rows["naam"], buurt_rows["inwoners_binnen_drempel_nu"],
                buurt_rows["inwoners_binnen_drempel_scenario"], buurt_rows["verschil"], strict=True,
            )
        ],
    }
    return ScenarioResult(
        name=scenario.name, threshold_m=threshold, distance=distance, within=after, figures=figures,
        changes=changes, points=points, summary=summary,
    )


def _share(part: float, total: float) -> float | None:
    return float(part) / float(total) if float(total) > 0 else None


def scenario_frames(
    results: Sequence[ScenarioResult],
) -> tuple[pd.DataFrame | None, gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """The figures, changed cells and points of every scenario in one frame each (None without scenarios)."""
    if not results:
        return None, None, None
    figures = pd.concat([r.figures for r in results], ignore_index=True)
    changes = gpd.GeoDataFrame(pd.concat([r.changes for r in results], ignore_index=True), geometry="geometry", crs=CRS)
    points = gpd.GeoDataFrame(pd.concat([r.points for r in results], ignore_index=True), geometry="geometry", crs=CRS)
    return figures, changes, points
