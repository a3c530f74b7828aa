"""The result of one run: canonical frames plus key figures, handed to the outputs.

Column contract (all frames in EPSG:28992; names are Dutch because they reach users in
QGIS, Excel and the map):

``buurten`` (one row per buurt, polygons)
    buurtcode, buurtnaam, wijkcode, wijknaam, inwoners (residents on the 100 m grid),
    inwoners_cbs (AantalInwoners from CBS), inwoners_binnen_drempel, aandeel_binnen_drempel
    (0..1, NaN without residents), afstand_mediaan_m, one column per configured indicator
    (named by its config key), signaal (composite z-score, higher = more concern; NaN when
    no indicator is known), hotspot (a code of :class:`Hotspot`: ``hot``, ``cold``,
    ``high_low``, ``low_high`` or ``none``; the outputs show it in Dutch), hotspot_p.
``residents`` (one row per inhabited 100 m cell, points at the cell centre)
    cel (c28992r100 code), inwoners (NaN when suppressed by CBS), buurtcode, afstand_m
    (walking distance to the nearest meeting point, inf when none can be reached),
    binnen_drempel (bool); with the network method also aanhechting_m (the straight
    stretch to the way it attaches to, NaN when not on the network) and bereik (a code of
    :class:`Reach`: ``reachable``, ``unreachable`` or ``off_network``; the outputs show it
    in Dutch, with the reason a cell is not on the network).
``venues`` (one row per venue from OSM or the gemeente's own points file, points)
    osm_id ("node/123"; an own point "eigen/<file stem>/<line>"), naam (from OSM or a user
    file: untrusted, escape it in HTML), categorie (config key), categorie_label (Dutch),
    ontmoetingspunt (bool: counts for the threshold rule), bron ("OpenStreetMap",
    "gemeente (<file>)" or, for the same place in both, "OpenStreetMap + gemeente (<file>)"),
    adres (own points; missing otherwise), kosten_per_jaar (euro, own points; NaN otherwise);
    with the network method also aanhechting_m (NaN: not on the network, so not counted).
    For meeting points the dependence figures of :mod:`wijkanalyse.analysis.dependence`
    (NaN for other venues): inwoners_dichtstbij, inwoners_alleen_hier (residents for whom it
    is the only meeting point within the threshold), cellen_alleen_hier,
    inwoners_verliezen_toegang (beyond the threshold if it closes: the same residents),
    inwoners_geen_ander_bereikbaar, afstand_volgende_gem_m and afstand_volgende_mediaan_m
    (their walk to the next meeting point), kwetsbaar_rang (1 = most residents lose their
    meeting point; missing when nobody depends on it alone).
``gaps`` (contiguous areas of inhabited cells beyond the threshold, polygons)
    gat_id, inwoners, cellen, buurtcodes (comma-separated), afstand_max_m.
``scenario_figures`` (only with ``--scenario``; no geometry)
    One row per scenario and area: :data:`wijkanalyse.analysis.scenarios.FIGURE_COLUMNS`
    (niveau ``gemeente``, ``kern`` or ``buurt``; the run now beside the scenario).
``scenario_changes`` (points at the cell centre)
    The cells whose reach a scenario changes: scenario, verandering (``lost``/``gained``), cel,
    buurtcode, inwoners, afstand_nu_m, afstand_scenario_m.
``scenario_points`` (points)
    The places a scenario closes or opens: scenario, wijziging (``closed``/``opened``),
    osm_id (None for a new place), naam, soort, op_netwerk.
``reference`` (one row per configured indicator, indexed by its config key; no geometry)
    label, gemeente (the indicator for the whole gemeente, from the CBS table's gemeente
    row), nederland (from its NL00 row); NaN when the table has no such row or figure.

``sources`` (not a frame) is the snapshot manifest's ``sources`` entry: per source (cbs,
buurten, grid, osm, network, venues) its file, url and ``retrieved`` date (cbs: ``table``;
grid: ``year``; an .osm.pbf: ``osm_file_date``); the map, the report and the print maps date
the data with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

if TYPE_CHECKING:
    from wijkanalyse.network import Attachment, WalkNetwork

__all__ = ["QUADRANT_CODES", "Hotspot", "NationalResult", "Reach", "RunResult"]


class Hotspot(StrEnum):
    """Local Moran pattern of a buurt: a code in the data; its Dutch words live in ``outputs.texts``."""

    HOT = "hot"  # high signal among high neighbours (quadrant HH)
    LOW_HIGH = "low_high"  # low among high (LH)
    COLD = "cold"  # low among low (LL)
    HIGH_LOW = "high_low"  # high among low (HL)
    NONE = "none"  # not significant, or no value / no neighbours


#: esda's Local Moran quadrant (``q``: 1 HH, 2 LH, 3 LL, 4 HL; 0 = not significant) -> code.
QUADRANT_CODES = {1: Hotspot.HOT, 2: Hotspot.LOW_HIGH, 3: Hotspot.COLD, 4: Hotspot.HIGH_LOW, 0: Hotspot.NONE}


class Reach(StrEnum):
    """Whether a resident cell reaches a meeting point over the network (``residents.bereik``)."""

    REACHABLE = "reachable"
    UNREACHABLE = "unreachable"  # on the network, but no meeting point in its part of it
    OFF_NETWORK = "off_network"  # farther than max_attach_m from any walkable way


@dataclass
class RunResult:
    """Everything the outputs need from one analysis run."""

    gemeente_code: str
    gemeente_name: str
    year: int
    synthetic: bool
    threshold_m: float
    distance_method: str  # "network" or "straight_line"
    buurten: gpd.GeoDataFrame
    residents: gpd.GeoDataFrame
    venues: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame | None = None
    kernen: gpd.GeoDataFrame | None = None
    proposals: gpd.GeoDataFrame | None = None
    broker_areas: gpd.GeoDataFrame | None = None
    scenario_figures: pd.DataFrame | None = None
    scenario_changes: gpd.GeoDataFrame | None = None
    scenario_points: gpd.GeoDataFrame | None = None
    explanations: dict[str, str] = field(default_factory=dict)  # plain-Dutch texts: priority, workload, brokers, cost  # walkable ways (highway, LineString), for the offline background
    indicators: dict[str, str] = field(default_factory=dict)  # config key -> Dutch label
    summary: dict[str, Any] = field(default_factory=dict)
    reference: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["label", "gemeente", "nederland"], dtype=float)
    )
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)  # manifest sources: url, retrieved date
    # the engine's walking network and where the cells and venues attach to it (network runs
    # only): the map ships them for its what-if (outputs._whatif)
    network: WalkNetwork | None = None
    resident_att: Attachment | None = None
    venue_att: Attachment | None = None
    #: per buurt x walking group: threshold in metres and minutes, residents within (analysis.timing)
    walking: pd.DataFrame | None = None
    #: per buurt the share within the threshold of a meeting point open per day part (aandeel_<dagdeel>)
    open_hours: pd.DataFrame | None = None
    #: per day part the residents' distance to the nearest meeting point open then (the map)
    open_hours_distance: dict[str, Any] = field(default_factory=dict)
    #: ``[doelgroepen]`` ranges, one row per area (gemeente, kern, buurt) and group: the columns of
    #: :data:`wijkanalyse.analysis.groups.TARGET_COLUMNS` (None: no group available)
    target_groups: pd.DataFrame | None = None


@dataclass
class NationalResult:
    """Everything the national outputs need from a run over many gemeenten (:mod:`wijkanalyse.batch`).

    ``gemeenten``: one row per gemeente, the columns of
    :data:`wijkanalyse.analysis.national.GEMEENTE_COLUMNS` plus one per indicator (the
    gemeente's own CBS figure); ``status`` "klaar" or "mislukt" (with ``melding``).
    ``provinces``: per province ``gemeenten``, ``inwoners``, ``inwoners_binnen_drempel``,
    ``inwoners_buiten_drempel``, ``aandeel_binnen_drempel``. ``totals``: see
    :func:`wijkanalyse.analysis.national.national_totals`. ``outlines``: gemeentecode and
    polygon (EPSG:28992) of every finished gemeente. ``wijken``: gemeentecode, gemeentenaam and
    the columns of :func:`wijkanalyse.analysis.national.wijk_figures`. ``links``: gemeentecode
    -> the gemeente's ``kaart.html`` (or its folder) relative to the national folder.
    """

    gemeenten: pd.DataFrame
    provinces: pd.DataFrame
    totals: dict[str, Any]
    outlines: gpd.GeoDataFrame
    wijken: gpd.GeoDataFrame
    links: dict[str, str] = field(default_factory=dict)
    indicators: dict[str, str] = field(default_factory=dict)  # config key -> Dutch label
    synthetic: bool = False
