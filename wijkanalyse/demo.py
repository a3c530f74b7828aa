"""The demo gemeente: a synthetic, deterministic snapshot to try wijkanalyse without internet.

:func:`write_demo_snapshot` writes a complete snapshot folder (layout in
:mod:`wijkanalyse.snapshot`) for the invented gemeente *Voorbeeldgemeente* (``GM9999``).
Every number, street and venue is made up. The gemeente lies in the North Sea, about
25 km west of the Dutch coast (RD x 60 000-68 000, y 480 000-485 000, EPSG:28992), so that
nobody mistakes it for a real place.

What the demo shows
-------------------
* The town *Voorbeeldstad* (x 63 000-65 000, y 481 500-483 500): a 125 m street grid with a
  park, 12 buurten in 4 wijken and about 14 000 residents. Most residents (roughly 3 in 4)
  live within 400 m walking of one of its 23 meeting points; ``Zuidoost-Flats`` has none.
* A contiguous cluster of three south-eastern buurten (:data:`CLUSTER_BUURTCODES`) with
  many one-person households, much bijstand and Wmo use and low incomes: the hot spot.
* *Oosterdorp* (east): a village with several meeting points, covered.
* *Noorderhoek* (north-west): a village with only a school and a sports centre, which are
  not meeting points, so its residents live beyond 400 m of any meeting point.
* *Westerveld* (south-west): a small village without any venue, uncovered.
* Buitengebied buurten that tile the rest of the gemeente, with scattered farms, one buurt
  whose population PDOK hides (-99999999) and CBS privacy markers (``null``, ``"."``).
* A motorway (A99) that crosses the gemeente without joining the walking network.

A second year
-------------
``write_demo_snapshot(dest, DEMO_NEXT_YEAR)`` writes the same gemeente in 2025, for
``wijkanalyse compare``: the same draws, then a changed buurt division (Molenwijk split in two
with new codes, Oosterdorp-Kern and -Zuid merged, Noorderhoek renumbered) and changed figures
(a Dorpshuis in Westerveld, new residents in Molenwijk-Noord, a better profile for the hot-spot
buurt Zuidoost-Flats, a hot-spot profile for Molenwijk-Zuid). The 2024 demo is not affected.

The same call always writes the same data: the random generator is seeded, the creation
date is fixed and every file is written in a fixed order. GeoPackages are written with a
fixed ``OGR_CURRENT_DATE`` as well.

Like real OpenStreetMap data, ``osm.xml`` also holds venue buildings (closed ways without a
``highway`` tag) and venue nodes; the reader keeps only ways with a ``highway`` tag as
network, and the walk rules decide which of those may be walked.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import Transformer
from shapely import STRtree
from shapely.geometry import LineString, MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from wijkanalyse import __version__, _atomic
from wijkanalyse.snapshot import (
    BUURTEN_FILE,
    BUURTEN_LAYER,
    CBS_FILE,
    REGIONS_FILE,
    GRID_FILE,
    GRID_LAYER,
    OSM_FILE,
    Manifest,
    odata_document,
    staged,
    write_manifest,
    write_osm_layers,
)
from wijkanalyse.config import load_config
from wijkanalyse.sources.osm import read_osm

__all__ = [
    "CLOSED_2026",
    "CLUSTER_BUURTCODES",
    "DEMO_CODE",
    "DEMO_CREATED",
    "DEMO_NAME",
    "DEMO_NEXT_YEAR",
    "DEMO_SEED",
    "DEMO_THIRD_YEAR",
    "DEMO_YEAR",
    "DEMO_YEARS",
    "IMPROVED_2025",
    "MERGED_2025",
    "NEW_VENUE_2025",
    "NEW_VENUE_2026",
    "RENUMBERED_2025",
    "SPLIT_2025",
    "WORSENED_2025",
    "write_demo_snapshot",
]

DEMO_CODE = "GM9999"
DEMO_NAME = "Voorbeeldgemeente"
DEMO_YEAR = 2024
DEMO_SEED = 20240
DEMO_CREATED = "2024-01-01T00:00:00+00:00"
CBS_TABLE = "85984NED"
SYNTHETIC_URL = "synthetisch (gegenereerd door wijkanalyse.demo)"
CRS = "EPSG:28992"

#: The buurten of the social-problem cluster in the south-east of Voorbeeldstad.
CLUSTER_BUURTCODES = ("BU99990401", "BU99990402", "BU99990403")

# Gemeente rectangle (RD New, metres).
X0, Y0, X1, Y1 = 60_000, 480_000, 68_000, 485_000

# Voorbeeldstad: 2 km x 2 km street grid with 125 m blocks.
TOWN_X0, TOWN_Y0, TOWN_SIZE, TOWN_STEP = 63_000, 481_500, 2_000, 125
TOWN_LINES = TOWN_SIZE // TOWN_STEP + 1  # 17 streets each way
PARK = (63_125.0, 481_750.0, 63_500.0, 482_250.0)  # no streets, no residents inside

CBS_SUPPRESSED = -99997  # CBS grid: value hidden (1-4 residents)
PDOK_SECRET = -99999999  # PDOK wijk- en buurtkaart: value hidden
GRID_SUPPRESSED_AS = 2  # a suppressed grid cell counts as 2 residents in buurt totals

STREET_NODE_BASE = 1_000_000
VENUE_NODE_BASE = 2_000_000
WAY_BASE = 3_000_000
MOTORWAY = "motorway"
NOT_FOR_WALKING = {MOTORWAY, "cycleway", "service"}

_COLUMNS_NUMERIC = (
    "AantalInwoners_5",
    "Mannen_6",
    "Vrouwen_7",
    "k_0Tot15Jaar_8",
    "k_15Tot25Jaar_9",
    "k_25Tot45Jaar_10",
    "k_45Tot65Jaar_11",
    "k_65JaarOfOuder_12",
    "HuishoudensTotaal_29",
    "Eenpersoonshuishoudens_30",
    "GemiddeldeHuishoudensgrootte_33",
    "GemiddeldeWOZWaardeVanWoningen_39",
    "GemiddeldInkomenPerInwoner_78",
    "k_40HuishoudensMetLaagsteInkomen_84",
    "PersonenPerSoortUitkeringBijstand_87",
    "WmoClienten_93",
)
_PRIVATE_COLUMNS = (
    "GemiddeldInkomenPerInwoner_78",
    "k_40HuishoudensMetLaagsteInkomen_84",
    "PersonenPerSoortUitkeringBijstand_87",
    "WmoClienten_93",
)


# --------------------------------------------------------------------------------------
# Geography: wijken and buurten
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Buurt:
    """One buurt of the demo gemeente: code, name, kind and polygon."""

    wijk: int
    number: int
    name: str
    kind: str  # "town", "cluster", "village" or "rural"
    geometry: Polygon
    density: float = 0.0  # mean residents per inhabited 100 m cell (kernen only)

    @property
    def code(self) -> str:
        """Return the CBS buurtcode ``BU9999WWBB``."""
        return f"BU{DEMO_CODE[2:]}{self.wijk:02d}{self.number:02d}"

    @property
    def wijkcode(self) -> str:
        """Return the CBS wijkcode ``WK9999WW``."""
        return f"WK{DEMO_CODE[2:]}{self.wijk:02d}"


# Kernen (town quarters and villages) as axis-aligned rectangles on the 100 m grid:
# (wijk, buurt, name, kind, x0, y0, x1, y1, residents per cell).
_KERN_BUURTEN: tuple[tuple[int, int, str, str, int, int, int, int, float], ...] = (
    (1, 1, "Centrum", "town", 63_500, 482_500, 64_000, 483_000, 32.0),
    (1, 2, "Marktkwartier", "town", 63_500, 483_000, 64_000, 483_500, 33.0),
    (1, 3, "Kerkbuurt", "town", 63_000, 482_500, 63_500, 483_500, 33.0),
    (2, 1, "Stationskwartier", "town", 64_000, 482_500, 64_500, 483_000, 38.0),
    (2, 2, "Spoorzicht", "town", 64_000, 483_000, 64_500, 483_500, 34.0),
    (2, 3, "Molenwijk", "town", 64_500, 482_500, 65_000, 483_500, 30.0),
    (3, 1, "Parkwijk", "town", 63_000, 481_500, 63_500, 482_500, 32.0),
    (3, 2, "Vogelbuurt", "town", 63_500, 482_000, 64_000, 482_500, 34.0),
    (3, 3, "Bloemenbuurt", "town", 63_500, 481_500, 64_000, 482_000, 34.0),
    (4, 1, "Zuidoost-Hoven", "cluster", 64_000, 481_500, 64_500, 482_500, 42.0),
    (4, 2, "Zuidoost-Plein", "cluster", 64_500, 482_000, 65_000, 482_500, 48.0),
    (4, 3, "Zuidoost-Flats", "cluster", 64_500, 481_500, 65_000, 482_000, 62.0),
    (5, 1, "Oosterdorp-Kern", "village", 66_500, 482_500, 67_500, 483_000, 21.0),
    (5, 2, "Oosterdorp-Zuid", "village", 66_500, 482_000, 67_500, 482_500, 18.0),
    (6, 1, "Noorderhoek", "village", 60_800, 483_800, 61_600, 484_600, 20.0),
    (7, 1, "Westerveld", "village", 60_600, 480_600, 61_200, 481_200, 24.0),
)

_KERN_EXTENTS: dict[str, tuple[int, int, int, int]] = {
    "Voorbeeldstad": (TOWN_X0, TOWN_Y0, TOWN_X0 + TOWN_SIZE, TOWN_Y0 + TOWN_SIZE),
    "Oosterdorp": (66_500, 482_000, 67_500, 483_000),
    "Noorderhoek": (60_800, 483_800, 61_600, 484_600),
    "Westerveld": (60_600, 480_600, 61_200, 481_200),
}

#: Wijk names (the CBS WijkenEnBuurten dimension gives them; the TypedDataSet only has codes).
_WIJK_NAMES = {
    1: "Voorbeeldstad-Centrum",
    2: "Voorbeeldstad-Oost",
    3: "Voorbeeldstad-Zuid",
    4: "Zuidoost",
    5: "Oosterdorp",
    6: "Noorderhoek",
    7: "Westerveld",
    8: "Buitengebied",
}

# Buitengebied (wijk 08): rectangles minus the kernen inside them, plus farms per buurt.
_RURAL_WIJK = 8
_RURAL_BUURTEN: tuple[tuple[int, str, int, int, int, int, int], ...] = (
    (1, "Buitengebied Noord", 63_000, 483_500, 68_000, 485_000, 8),
    (2, "Buitengebied Oost", 65_000, 481_500, 68_000, 483_500, 6),
    (3, "Buitengebied Zuid", 63_000, 480_000, 66_000, 481_500, 8),
    (4, "Zuidpolder", 66_000, 480_000, 68_000, 481_500, 3),
    (5, "Buitengebied West", 60_000, 480_000, 63_000, 485_000, 9),
)


def _buurten() -> list[_Buurt]:
    """Return the buurten of the demo gemeente, sorted by code; they tile the gemeente."""
    buurten = [
        _Buurt(wijk, nr, name, kind, box(x0, y0, x1, y1), density)
        for wijk, nr, name, kind, x0, y0, x1, y1, density in _KERN_BUURTEN
    ]
    kernen = [box(*extent) for extent in _KERN_EXTENTS.values()]
    for nr, name, x0, y0, x1, y1, _farms in _RURAL_BUURTEN:
        shape: BaseGeometry = box(x0, y0, x1, y1)
        for kern in kernen:
            shape = shape.difference(kern)
        shape = shape.normalize()
        if not isinstance(shape, Polygon):  # pragma: no cover - layout guard
            msg = f"buitengebied-buurt {name} is niet één polygoon"
            raise TypeError(msg)
        buurten.append(_Buurt(_RURAL_WIJK, nr, name, "rural", shape))
    return sorted(buurten, key=lambda b: b.code)


# --------------------------------------------------------------------------------------
# Street network and venues (OpenStreetMap)
# --------------------------------------------------------------------------------------


@dataclass
class _Osm:
    """An OSM data set being built: nodes by coordinate, ways, venue geometry."""

    street_nodes: dict[tuple[float, float], int] = field(default_factory=dict)
    venue_nodes: list[tuple[int, float, float, dict[str, str]]] = field(default_factory=list)
    ways: list[tuple[int, list[int], dict[str, str]]] = field(default_factory=list)
    motorway_nodes: list[tuple[int, float, float]] = field(default_factory=list)
    walk_lines: list[LineString] = field(default_factory=list)

    def street_node(self, x: float, y: float) -> int:
        """Return the id of the street node at (x, y), creating it when new."""
        key = (round(x, 2), round(y, 2))
        if key not in self.street_nodes:
            self.street_nodes[key] = STREET_NODE_BASE + len(self.street_nodes) + 1
        return self.street_nodes[key]

    def add_way(self, nodes: list[int], tags: dict[str, str]) -> int:
        """Add a way and return its id."""
        way_id = WAY_BASE + len(self.ways) + 1
        self.ways.append((way_id, nodes, tags))
        return way_id

    def add_street(self, points: Sequence[tuple[float, float]], tags: dict[str, str]) -> None:
        """Add a street through ``points``, joining other streets at shared points."""
        nodes = [self.street_node(x, y) for x, y in points]
        self.add_way(nodes, tags)
        if tags["highway"] not in NOT_FOR_WALKING:
            self.walk_lines.append(LineString(points))

    def add_venue_node(self, x: float, y: float, tags: dict[str, str] | None = None) -> int:
        """Add a venue node (a point venue or a corner of a venue building)."""
        node_id = VENUE_NODE_BASE + len(self.venue_nodes) + 1
        self.venue_nodes.append((node_id, x, y, dict(tags or {})))
        return node_id


def _densify(
    vertices: Sequence[tuple[float, float]], step: float = 100.0
) -> list[tuple[float, float]]:
    """Return the polyline ``vertices`` with extra points about every ``step`` metres."""
    points: list[tuple[float, float]] = [vertices[0]]
    for (xa, ya), (xb, yb) in itertools.pairwise(vertices):
        n = max(1, math.ceil(math.hypot(xb - xa, yb - ya) / step))
        points.extend((xa + (xb - xa) * k / n, ya + (yb - ya) * k / n) for k in range(1, n + 1))
    return points


def _in_park(x: float | np.ndarray, y: float | np.ndarray) -> bool | np.ndarray:
    """True where (x, y) lies strictly inside the town park (for one point, or elementwise for arrays)."""
    px0, py0, px1, py1 = PARK
    return (px0 < x) & (x < px1) & (py0 < y) & (y < py1)


_TOWN_STREETS_NS = (
    "Westelijke Ringweg", "Eikenlaan", "Beukenlaan", "Berkenlaan", "Essenlaan", "Wilgenlaan",
    "Populierenlaan", "Lindenlaan", "Hoofdstraat", "Kastanjelaan", "Platanenlaan", "Elzenlaan",
    "Iepenlaan", "Esdoornlaan", "Meidoornlaan", "Vlierlaan", "Oostelijke Ringweg",
)  # fmt: skip
_TOWN_STREETS_EW = (
    "Zuidelijke Ringweg", "Merelstraat", "Lijsterstraat", "Spreeuwstraat", "Vinkstraat",
    "Mussenstraat", "Kievitstraat", "Reigerstraat", "Stationsweg", "Tulpstraat", "Rozenstraat",
    "Leliestraat", "Irisstraat", "Dahliastraat", "Asterstraat", "Klaverstraat",
    "Noordelijke Ringweg",
)  # fmt: skip


def _town_highway(index: int) -> str:
    """Return the highway class of town grid line ``index`` (0..16)."""
    if index in (0, TOWN_LINES - 1):
        return "tertiary"
    if index == TOWN_LINES // 2:
        return "secondary"
    return "residential"


def _add_town(osm: _Osm) -> None:
    """Add the Voorbeeldstad street grid, park paths and the footway shortcut."""
    xs = [float(TOWN_X0 + TOWN_STEP * i) for i in range(TOWN_LINES)]
    ys = [float(TOWN_Y0 + TOWN_STEP * i) for i in range(TOWN_LINES)]
    half = TOWN_STEP / 2  # a node mid-block as well (crossings, lamp posts, bends)
    for i in range(TOWN_LINES):
        for vertical in (True, False):
            points = [(xs[i], y) for y in ys] if vertical else [(x, ys[i]) for x in xs]
            name = (_TOWN_STREETS_NS if vertical else _TOWN_STREETS_EW)[i]
            highway = _town_highway(i)
            if not vertical and i == TOWN_LINES // 2:
                highway = "tertiary"  # Stationsweg; Hoofdstraat (vertical) is secondary
            # Split the line where it would cross the park.
            piece: list[tuple[float, float]] = [points[0]]
            for a, b in itertools.pairwise(points):
                if _in_park((a[0] + b[0]) / 2, (a[1] + b[1]) / 2):
                    if len(piece) > 1:
                        osm.add_street(_densify(piece, half), {"highway": highway, "name": name})
                    piece = [b]
                else:
                    piece.append(b)
            if len(piece) > 1:
                osm.add_street(_densify(piece, half), {"highway": highway, "name": name})
    px0, py0, px1, py1 = PARK
    middle = ((px0 + px1) / 2, (py0 + py1) / 2)
    osm.add_street(
        _densify([(px0, py0), middle, (px1, py1)], 80.0), {"highway": "footway", "name": "Parkpad"}
    )
    osm.add_street(
        _densify([(px0, py1), middle, (px1, py0)], 80.0), {"highway": "path", "name": "Vijverpad"}
    )
    # A footway cutting diagonally through a block in the Centrum.
    osm.add_street(
        [(63_625.0, 482_750.0), (63_750.0, 482_875.0)], {"highway": "footway", "name": "Kerksteeg"}
    )


def _add_village(
    osm: _Osm, xs: Sequence[int], ys: Sequence[int], names: Sequence[str], main_y: int | None
) -> None:
    """Add a village street grid; the street at ``main_y`` is the tertiary Dorpsstraat."""
    for x, name in zip(xs, names[: len(xs)], strict=True):
        osm.add_street(
            _densify([(x, y) for y in ys], 50.0), {"highway": "residential", "name": name}
        )
    for y, name in zip(ys, names[len(xs) :], strict=True):
        highway = "tertiary" if y == main_y else "residential"
        osm.add_street(_densify([(x, y) for x in xs], 50.0), {"highway": highway, "name": name})


def _add_roads(osm: _Osm) -> None:
    """Add the village grids, the roads between the kernen, the cycleway and the motorway."""
    _add_village(
        osm, tuple(range(66_550, 67_500, 150)), tuple(range(482_050, 483_000, 150)),
        ("Kerkstraat", "Schoolstraat", "Molenstraat", "Nieuwstraat", "Smidsstraat", "Bakkerstraat",
         "Achterweg", "Julianastraat", "Beatrixstraat", "Wilhelminastraat", "Dorpsstraat",
         "Oranjestraat", "Bernhardstraat", "Hofstede"),
        482_500,
    )  # fmt: skip
    _add_village(
        osm, (60_900, 61_100, 61_300, 61_500), (483_900, 484_100, 484_300, 484_500),
        ("Hoekweg", "Kapelweg", "Dijkweg", "Zeeweg",
         "Zuiderstraat", "Middenstraat", "Noorderstraat", "Duinstraat"),
        None,
    )  # fmt: skip
    _add_village(
        osm, (60_700, 60_900, 61_100), (480_700, 480_900, 481_100),
        ("Veldweg", "Brinkweg", "Akkerweg", "Hofstraat", "Weidestraat", "Heistraat"),
        None,
    )  # fmt: skip
    roads: tuple[tuple[str, str, list[tuple[float, float]]], ...] = (
        ("tertiary", "Oosterweg", [(65_000, 482_500), (66_550, 482_500)]),
        ("unclassified", "Noorderhoekseweg", [(63_000, 483_500), (61_500, 484_100)]),
        ("unclassified", "Westerveldseweg", [(63_000, 481_500), (61_100, 480_900)]),
        (
            "unclassified",
            "Zuiderpolderweg",
            [(64_000, 481_500), (64_000, 480_600), (67_450, 480_600), (67_450, 482_050)],
        ),
        ("unclassified", "Molenweg", [(64_000, 483_500), (64_000, 484_400)]),
        (
            "unclassified",
            "Noorderpolderweg",
            [(62_200, 484_400), (64_000, 484_400), (67_000, 484_400)],
        ),
    )
    for highway, name, vertices in roads:
        osm.add_street(_densify(vertices), {"highway": highway, "name": name})
    osm.add_street(
        _densify([(65_000, 481_750), (66_550, 482_050)]),
        {"highway": "cycleway", "name": "Fietspad De Linie"},
    )
    osm.add_street(
        [(65_000, 482_125), (65_150, 482_125), (65_150, 482_250)],
        {"highway": "service", "access": "private", "name": "Bedrijfsweg De Smidse"},
    )
    # The motorway crosses on bridges: its nodes are its own, it joins no other way.
    ids = []
    for _x, y in _densify([(65_750, 479_900), (65_750, 485_100)], 200.0):
        node_id = STREET_NODE_BASE + 900_000 + len(osm.motorway_nodes) + 1
        osm.motorway_nodes.append((node_id, 65_750.0, y))
        ids.append(node_id)
    osm.add_way(ids, {"highway": MOTORWAY, "name": "Rijksweg 99", "ref": "A99"})


def _town_block(i: int, j: int) -> tuple[float, float]:
    """Return a venue spot in town block (i, j): 25 m from its west street, mid-block."""
    return TOWN_X0 + TOWN_STEP * i + 25.0, TOWN_Y0 + TOWN_STEP * j + TOWN_STEP / 2


def _village_block(x: int, y: int, dx: float = 25.0, dy: float = 100.0) -> tuple[float, float]:
    """Return a venue spot ``dx`` m east of village street x and ``dy`` m north of street y."""
    return x + dx, y + dy


def _meeting(amenity: str, name: str, **extra: str) -> dict[str, str]:
    """Return the tags of a venue with ``amenity`` and ``name``."""
    return {"amenity": amenity, "name": name, **extra}


_CHURCH = {"religion": "christian"}

# (tags, position, drawn as a building polygon). Four have opening_hours: office hours, a library,
# a café open every day and Ontmoetingscentrum Zuidoost only on Tuesday evening; the others have
# none (unknown: they count in every day part). An unreadable value is a test fixture, not part of
# the demo: a first run of the demo warns about nothing.
# Town meeting points sit on a diagonal
# lattice (about 280 m apart) so that most, not all, of Voorbeeldstad is within 400 m;
# the south-east corner (Zuidoost-Flats) has none.
_VENUES: tuple[tuple[dict[str, str], tuple[float, float], bool], ...] = (
    (_meeting("community_centre", "Buurthuis De Parkhoek", opening_hours="Mo-Fr 09:00-17:00"), _town_block(1, 1), False),
    (_meeting("place_of_worship", "Parkkerk", **_CHURCH), _town_block(1, 6), False),
    (_meeting("place_of_worship", "Sint-Nicolaaskerk", **_CHURCH), _town_block(1, 10), True),
    (_meeting("cafe", "Café De Wachter", opening_hours="Mo-Su 10:00-23:00"), _town_block(1, 14), False),
    (_meeting("cafe", "Theehuis Parkzicht"), _town_block(4, 3), False),
    (_meeting("library", "Bibliotheek Voorbeeldstad", opening_hours="Mo-Sa 10:00-18:00; Th 10:00-20:00"),
     _town_block(3, 8), True),
    (_meeting("community_centre", "Buurthuis De Schakel"), _town_block(3, 12), False),
    (_meeting("library", "Bibliotheekpunt Zuidwest"), _town_block(6, 1), False),
    (_meeting("social_facility", "Dagbesteding De Brug", social_facility="outreach"),
     _town_block(6, 6), False),
    (_meeting("cafe", "Eetcafé 't Hoekje & <Zaal> \"De Ster\""), _town_block(6, 10), False),
    (_meeting("cafe", "Lunchroom De Markt"), _town_block(6, 14), False),
    (_meeting("community_centre", "Ontmoetingscentrum Zuidoost", opening_hours="Tu 18:00-22:00"), _town_block(8, 3), True),
    (_meeting("cafe", "Grand Café Het Station"), _town_block(8, 8), False),
    (_meeting("place_of_worship", "Protestantse Kerk De Ark", **_CHURCH), _town_block(8, 12), False),
    (_meeting("place_of_worship", "Sint-Jozefkerk", **_CHURCH), _town_block(10, 1), True),
    (_meeting("social_facility", "Inloophuis De Kompaan", social_facility="outreach"),
     _town_block(10, 6), False),
    (_meeting("community_centre", "Wijkcentrum Het Spoor"), _town_block(10, 10), False),
    (_meeting("cafe", "Café Spoorzicht"), _town_block(10, 14), False),
    (_meeting("community_centre", "Wijkcentrum De Molen"), _town_block(12, 8), False),
    (_meeting("library", "Leeszaal Molenwijk"), _town_block(12, 12), False),
    (_meeting("cafe", "Snackcafé Het Pleintje"), _town_block(14, 6), False),
    (_meeting("social_facility", "Zorgcentrum De Linde", social_facility="nursing_home"),
     _town_block(14, 10), True),
    (_meeting("place_of_worship", "Evangelische Gemeente De Bron", **_CHURCH),
     _town_block(14, 14), False),
    # Not meeting points (by default): schools and sports centres
    (_meeting("school", "Basisschool De Regenboog"), _town_block(9, 2), True),
    (_meeting("school", "Openbare Basisschool Het Kompas"), _town_block(2, 9), False),
    ({"leisure": "sports_centre", "name": "Sportcentrum De Meent"}, _town_block(13, 1), True),
    # Oosterdorp: covered
    (_meeting("community_centre", "Dorpshuis De Oosterhof"),
     _village_block(66_700, 482_650, dy=75.0), True),
    (_meeting("social_facility", "Steunpunt Oosterdorp", social_facility="outreach"),
     _village_block(66_700, 482_200, dy=75.0), False),
    (_meeting("place_of_worship", "Sint-Jacobuskerk", **_CHURCH), _village_block(67_000, 482_350, dy=75.0), False),
    (_meeting("cafe", "Café De Zwaan"), _village_block(67_300, 482_200, dy=75.0), False),
    (_meeting("library", "Bibliotheek Oosterdorp"), _village_block(67_300, 482_650, dy=75.0), False),
    (_meeting("school", "Basisschool De Wegwijzer"), _village_block(66_850, 482_350, dy=75.0), False),
    # Noorderhoek: a school and a sports centre only, no meeting point
    (_meeting("school", "Basisschool De Noordster"), _village_block(61_100, 484_100), True),
    ({"leisure": "sports_centre", "name": "Sporthal Noorderhoek"}, _village_block(61_300, 483_900), True),
    # Westerveld: nothing at all
)  # fmt: skip


def _add_venues(osm: _Osm, closed: frozenset[str] = frozenset()) -> None:
    """Add the venues: point nodes, or closed building ways with nodes of their own.

    A venue named in ``closed`` keeps its node (or its building, tagged ``building=yes`` only)
    but loses its tags, so every other node and way keeps its OSM id.
    """
    half = 10.0
    for venue_tags, (x, y), building in _VENUES:
        tags = {} if venue_tags.get("name") in closed else venue_tags
        if not building:
            osm.add_venue_node(x, y, tags)
            continue
        corners = [
            (x - half, y - half),
            (x + half, y - half),
            (x + half, y + half),
            (x - half, y + half),
        ]
        ids = [osm.add_venue_node(cx, cy) for cx, cy in corners]
        osm.add_way([*ids, ids[0]], {"building": "yes", **tags})


def _build_osm(closed: frozenset[str] = frozenset()) -> _Osm:
    """Return the complete demo OSM data set (without the venues named in ``closed``)."""
    osm = _Osm()
    _add_town(osm)
    _add_roads(osm)
    _add_venues(osm, closed)
    return osm


def _osm_xml(osm: _Osm) -> bytes:
    """Serialise ``osm`` as OSM XML 0.6 with WGS84 coordinates (7 decimals)."""
    to_wgs84 = Transformer.from_crs(28992, 4326, always_xy=True)
    nodes: list[tuple[int, float, float, dict[str, str]]] = [
        (node_id, x, y, {}) for (x, y), node_id in osm.street_nodes.items()
    ]
    nodes += [(node_id, x, y, {}) for node_id, x, y in osm.motorway_nodes]
    nodes += osm.venue_nodes
    nodes.sort(key=lambda n: n[0])
    xs = np.array([n[1] for n in nodes], dtype=float)
    ys = np.array([n[2] for n in nodes], dtype=float)
    lons, lats = to_wgs84.transform(xs, ys)
    lat_s = [f"{v:.7f}" for v in lats]
    lon_s = [f"{v:.7f}" for v in lons]

    root = ET.Element("osm", {"version": "0.6", "generator": "wijkanalyse demo (synthetisch)"})
    ET.SubElement(
        root,
        "bounds",
        {
            "minlat": f"{float(np.min(lats)):.7f}",
            "minlon": f"{float(np.min(lons)):.7f}",
            "maxlat": f"{float(np.max(lats)):.7f}",
            "maxlon": f"{float(np.max(lons)):.7f}",
        },
    )
    for (node_id, _x, _y, tags), lat, lon in zip(nodes, lat_s, lon_s, strict=True):
        element = ET.SubElement(
            root, "node", {"id": str(node_id), "version": "1", "lat": lat, "lon": lon}
        )
        for key in sorted(tags):
            ET.SubElement(element, "tag", {"k": key, "v": tags[key]})
    for way_id, refs, tags in sorted(osm.ways, key=lambda w: w[0]):
        element = ET.SubElement(root, "way", {"id": str(way_id), "version": "1"})
        for ref in refs:
            ET.SubElement(element, "nd", {"ref": str(ref)})
        for key in sorted(tags):
            ET.SubElement(element, "tag", {"k": key, "v": tags[key]})
    ET.indent(root, space="  ")
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    return text.encode("utf-8")


# --------------------------------------------------------------------------------------
# Social profile per buurt, population grid, CBS table
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Profile:
    """Rates that describe one buurt; counts follow from them and the population."""

    men: float
    ages: tuple[float, float, float, float, float]  # 0-15, 15-25, 25-45, 45-65, 65+
    household_size: float
    one_person: float
    woz: float
    income: float
    low_income: float
    bijstand: float
    wmo: float


_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "town": {
        "old": (0.16, 0.21), "hh": (2.05, 2.30), "one": (0.30, 0.38), "woz": (290, 380),
        "income": (32.0, 38.0), "low": (30.0, 38.0), "bijstand": (0.010, 0.020), "wmo": (0.050, 0.065),
    },
    "cluster": {
        "old": (0.21, 0.25), "hh": (1.55, 1.70), "one": (0.55, 0.65), "woz": (175, 210),
        "income": (21.0, 23.0), "low": (60.0, 68.0), "bijstand": (0.060, 0.080), "wmo": (0.120, 0.150),
    },
    "village": {
        "old": (0.22, 0.27), "hh": (2.35, 2.50), "one": (0.26, 0.32), "woz": (310, 360),
        "income": (31.0, 35.0), "low": (30.0, 36.0), "bijstand": (0.008, 0.014), "wmo": (0.055, 0.070),
    },
    "rural": {
        "old": (0.19, 0.24), "hh": (2.60, 2.80), "one": (0.16, 0.22), "woz": (460, 560),
        "income": (34.0, 38.0), "low": (20.0, 28.0), "bijstand": (0.003, 0.008), "wmo": (0.035, 0.050),
    },
}  # fmt: skip


def _profiles(rng: np.random.Generator, buurten: Sequence[_Buurt]) -> dict[str, _Profile]:
    """Draw one social profile per buurt (in code order, so the draws are repeatable)."""
    profiles: dict[str, _Profile] = {}
    for buurt in buurten:
        r = _RANGES[buurt.kind]

        def draw(key: str, r: dict[str, tuple[float, float]] = r) -> float:
            low, high = r[key]
            return float(rng.uniform(low, high))

        old = draw("old")
        young = float(rng.uniform(0.13, 0.18))
        teen = float(rng.uniform(0.10, 0.13))
        adult = float(rng.uniform(0.24, 0.30))
        profiles[buurt.code] = _Profile(
            men=float(rng.uniform(0.485, 0.51)),
            ages=(young, teen, adult, 1.0 - young - teen - adult - old, old),
            household_size=draw("hh"),
            one_person=draw("one"),
            woz=draw("woz"),
            income=draw("income"),
            low_income=draw("low"),
            bijstand=draw("bijstand"),
            wmo=draw("wmo"),
        )
    return profiles


def _round5(value: float) -> int:
    """Round to the nearest multiple of 5 (CBS grid rounding)."""
    return int(5 * round(value / 5))


def _cells_in(extent: tuple[float, float, float, float]) -> np.ndarray:
    """The lower-left corners of the 100 m cells inside ``extent``, by x then y (an n x 2 array)."""
    x0, y0, x1, y1 = (int(v) for v in extent)
    xs = np.arange(x0 - x0 % 100, x1, 100)
    ys = np.arange(y0 - y0 % 100, y1, 100)
    return np.column_stack([np.repeat(xs, len(ys)), np.tile(ys, len(xs))])


def _grid(
    rng: np.random.Generator,
    buurten: Sequence[_Buurt],
    profiles: dict[str, _Profile],
    walk_lines: Sequence[LineString],
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Draw the inhabited 100 m cells; return them and each buurt's resident count.

    Only cells whose centre lies within 80 m of a walkable street get residents. A buurt
    count sums its cells, a suppressed cell (1-4 residents) counting as 2. The steps draw
    from ``rng`` in a fixed order (towns and villages, kern edges, farms, cell figures), so
    the grid is repeatable.
    """
    street_distance = _street_distance(walk_lines)
    cells = _built_up_cells(rng, buurten, street_distance)
    _suppress_kern_edges(rng, cells)
    _add_farms(rng, buurten, street_distance, cells)
    return _grid_frame(rng, cells, buurten, profiles)


#: Cell -> (buurtcode, residents); residents 1..4 become suppressed cells.
_Cells = dict[tuple[int, int], tuple[str, int]]

#: The distance (m) from the centres of cells (an n x 2 array of lower-left corners) to the nearest street.
_StreetDistance = Callable[[np.ndarray], np.ndarray]


def _street_distance(walk_lines: Sequence[LineString]) -> _StreetDistance:
    """The distance from each cell's centre to the nearest of ``walk_lines`` (one GEOS tree query for all cells)."""
    tree = STRtree(list(walk_lines))

    def distance(corners: np.ndarray) -> np.ndarray:
        centres = shapely.points(corners + 50.0)
        (which, _), found = tree.query_nearest(centres, return_distance=True, all_matches=False)
        out = np.full(len(corners), np.inf)
        out[which] = found
        return out

    return distance


def _built_up_cells(rng: np.random.Generator, buurten: Sequence[_Buurt], street_distance: _StreetDistance) -> _Cells:
    """The cells of the town and village buurten near a street and outside the parks, with a drawn density."""
    cells: _Cells = {}
    for buurt in buurten:
        if buurt.kind == "rural":
            continue
        corners = _cells_in(buurt.geometry.bounds)
        in_park = _in_park(corners[:, 0] + 50, corners[:, 1] + 50)
        for x, y in corners[~in_park & (street_distance(corners) <= 80.0)].tolist():
            value = max(5, _round5(rng.normal(buurt.density, 0.3 * buurt.density)))
            cells[(x, y)] = (buurt.code, value)
    return cells


def _suppress_kern_edges(rng: np.random.Generator, cells: _Cells) -> None:
    """Give one cell at the edge of each village 1-4 residents (a suppressed cell), in place."""
    for name in ("Oosterdorp", "Noorderhoek", "Westerveld"):
        x0, y0, x1, y1 = _KERN_EXTENTS[name]
        edge = sorted(
            c for c in cells if c[0] in (x0, x1 - 100) and y0 <= c[1] < y1 and x0 <= c[0] < x1
        )
        pick = edge[int(rng.integers(len(edge)))]
        cells[pick] = (cells[pick][0], int(rng.integers(1, 5)))


def _add_farms(
    rng: np.random.Generator, buurten: Sequence[_Buurt], street_distance: _StreetDistance, cells: _Cells,
) -> None:
    """Add the farms (in place): scattered cells along the country roads of the rural buurten, away from the kernen."""
    kern_zone = [box(*e).buffer(150.0) for e in _KERN_EXTENTS.values()]
    farms_per_buurt = {
        f"BU{DEMO_CODE[2:]}{_RURAL_WIJK:02d}{nr:02d}": n for nr, *_, n in _RURAL_BUURTEN
    }
    for buurt in buurten:
        if buurt.kind != "rural":
            continue
        corners = _cells_in(buurt.geometry.bounds)
        cx, cy = corners[:, 0] + 50, corners[:, 1] + 50
        keep = shapely.contains_xy(buurt.geometry, cx, cy)
        for zone in kern_zone:
            keep &= ~shapely.contains_xy(zone, cx, cy)
        keep &= street_distance(corners) <= 70.0
        candidates = [(x, y) for x, y in corners[keep].tolist()]
        n = farms_per_buurt[buurt.code]
        chosen = rng.choice(len(candidates), size=n, replace=False)
        for k in sorted(int(c) for c in chosen):
            value = int(rng.choice([1, 2, 3, 4, 5, 5, 10, 10, 10, 15, 15, 20]))
            cells[candidates[k]] = (buurt.code, value)


#: The grid's age bands below 65 (2019-2021 column names); 65+ is ``aantal_inwoners_65_jaar_en_ouder``.
_AGE_BAND_COLUMNS = (
    "aantal_inwoners_0_tot_15_jaar", "aantal_inwoners_15_tot_25_jaar", "aantal_inwoners_25_tot_45_jaar",
    "aantal_inwoners_45_tot_65_jaar",
)


def _grid_frame(
    rng: np.random.Generator, cells: _Cells, buurten: Sequence[_Buurt], profiles: dict[str, _Profile]
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """The CBS grid table of the cells and the buurt totals.

    The five age bands (65+ and one-person households drawn from ``rng`` as before, the other
    four bands from a generator of their own, so the rest of the demo is unchanged) follow
    CBS: a count below 5 is secret (-99997), the others are rounded to 5.
    """
    rows: list[dict[str, Any]] = []
    totals = {b.code: 0 for b in buurten}
    band_rng = np.random.default_rng([DEMO_SEED, 1519])
    for (x, y), (code, value) in sorted(cells.items()):
        profile = profiles[code]
        if value < 5:
            residents = old = single = CBS_SUPPRESSED
            bands = [CBS_SUPPRESSED] * 4
            totals[code] += GRID_SUPPRESSED_AS
        else:
            residents = value
            totals[code] += value
            old_true = value * profile.ages[4] * rng.uniform(0.7, 1.3)
            old = _round5(old_true) if old_true >= 5 else CBS_SUPPRESSED
            households = value / profile.household_size
            single = _round5(households * profile.one_person * rng.uniform(0.8, 1.2))
            rest = max(0.0, value - old_true)
            shares = np.asarray(profile.ages[:4]) / sum(profile.ages[:4])
            true_bands = rest * shares * band_rng.uniform(0.8, 1.2, size=4)
            bands = [_round5(t) if t >= 5 else CBS_SUPPRESSED for t in true_bands]
        rows.append(
            {
                "c28992r100": f"E{x // 100:04d}N{y // 100:04d}",
                "aantal_inwoners": residents,
                **dict(zip(_AGE_BAND_COLUMNS, bands, strict=True)),
                "aantal_inwoners_65_jaar_en_ouder": old,
                "aantal_eenpersoonshuishoudens": single,
                "geometry": box(x, y, x + 100, y + 100),
            }
        )
    grid = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    grid = grid.sort_values("c28992r100", kind="stable").reset_index(drop=True)
    for column in (
        "aantal_inwoners",
        *_AGE_BAND_COLUMNS,
        "aantal_inwoners_65_jaar_en_ouder",
        "aantal_eenpersoonshuishoudens",
    ):
        grid[column] = grid[column].astype("int64")
    return grid, totals


@dataclass
class _Counts:
    """The true (unsuppressed) figures of one area; wijk and gemeente rows sum these."""

    residents: int = 0
    men: int = 0
    ages: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])
    households: int = 0
    one_person: int = 0
    woz_x_households: float = 0.0
    income_x_residents: float = 0.0
    low_income_x_households: float = 0.0
    bijstand: int = 0
    wmo: int = 0

    def add(self, other: _Counts) -> None:
        """Add the figures of ``other`` to these."""
        self.residents += other.residents
        self.men += other.men
        self.ages = [a + b for a, b in zip(self.ages, other.ages, strict=True)]
        self.households += other.households
        self.one_person += other.one_person
        self.woz_x_households += other.woz_x_households
        self.income_x_residents += other.income_x_residents
        self.low_income_x_households += other.low_income_x_households
        self.bijstand += other.bijstand
        self.wmo += other.wmo

    def values(self) -> dict[str, Any]:
        """Return the CBS columns of this area."""
        households = max(self.households, 1)
        residents = max(self.residents, 1)
        return {
            "AantalInwoners_5": self.residents,
            "Mannen_6": self.men,
            "Vrouwen_7": self.residents - self.men,
            "k_0Tot15Jaar_8": self.ages[0],
            "k_15Tot25Jaar_9": self.ages[1],
            "k_25Tot45Jaar_10": self.ages[2],
            "k_45Tot65Jaar_11": self.ages[3],
            "k_65JaarOfOuder_12": self.ages[4],
            "HuishoudensTotaal_29": self.households,
            "Eenpersoonshuishoudens_30": self.one_person,
            "GemiddeldeHuishoudensgrootte_33": round(self.residents / households, 1),
            "GemiddeldeWOZWaardeVanWoningen_39": round(self.woz_x_households / households),
            "GemiddeldInkomenPerInwoner_78": round(self.income_x_residents / residents, 1),
            "k_40HuishoudensMetLaagsteInkomen_84": round(
                self.low_income_x_households / households, 1
            ),
            "PersonenPerSoortUitkeringBijstand_87": self.bijstand,
            "WmoClienten_93": self.wmo,
        }


def _buurt_counts(residents: int, profile: _Profile) -> _Counts:
    """Turn a buurt's residents and profile into counts."""
    ages = [round(residents * share) for share in profile.ages[:4]]
    ages.append(residents - sum(ages))
    households = max(1, round(residents / profile.household_size))
    return _Counts(
        residents=residents,
        men=round(residents * profile.men),
        ages=ages,
        households=households,
        one_person=round(households * profile.one_person),
        woz_x_households=round(profile.woz) * households,
        income_x_residents=round(profile.income, 1) * residents,
        low_income_x_households=round(profile.low_income, 1) * households,
        bijstand=round(residents * profile.bijstand),
        wmo=round(residents * profile.wmo),
    )


def _regions_document(buurten: Sequence[_Buurt], table: str = CBS_TABLE) -> dict[str, Any]:
    """Return the CBS ``WijkenEnBuurten`` dimension (code -> name) in OData v3 shape."""
    entries = [(DEMO_CODE, DEMO_NAME, "Gemeente")]
    for wijk in sorted({b.wijk for b in buurten}):
        entries.append((f"WK{DEMO_CODE[2:]}{wijk:02d}", _WIJK_NAMES[wijk], "Wijk"))
    entries += [(b.code, b.name, "Buurt") for b in sorted(buurten, key=lambda b: b.code)]
    rows = [
        {"Key": _pad(code, 10), "Title": name, "Description": None, "DimensionGroupId": kind,
         "Municipality": DEMO_CODE}
        for code, name, kind in entries
    ]
    return odata_document(table, "WijkenEnBuurten", rows)


def _pad(text: str, width: int) -> str:
    """Left-justify ``text`` in ``width`` characters, as CBS does in its key columns."""
    return text.ljust(width)


def _cbs_document(
    buurten: Sequence[_Buurt],
    profiles: dict[str, _Profile],
    residents: dict[str, int],
    secret: Sequence[str],
    untyped_dot: str,
    *,
    table: str = CBS_TABLE,
) -> dict[str, Any]:
    """Return the CBS OData v3 TypedDataSet response for the demo gemeente.

    ``secret`` buurten get ``null`` in the income, bijstand and Wmo columns; ``untyped_dot``
    gets ``"."`` in ``WmoClienten_93``. Wijk and gemeente rows hold the true totals.
    """
    counts = {b.code: _buurt_counts(residents[b.code], profiles[b.code]) for b in buurten}
    wijken: dict[str, list[_Buurt]] = {}
    for buurt in buurten:
        wijken.setdefault(buurt.wijkcode, []).append(buurt)
    gemeente = _Counts()
    for buurt in buurten:
        gemeente.add(counts[buurt.code])

    entries: list[tuple[str, str, dict[str, Any]]] = [(DEMO_CODE, "Gemeente", gemeente.values())]
    for wijkcode in sorted(wijken):
        wijk = _Counts()
        for buurt in wijken[wijkcode]:
            wijk.add(counts[buurt.code])
        entries.append((wijkcode, "Wijk", wijk.values()))
        for buurt in sorted(wijken[wijkcode], key=lambda b: b.code):
            values = counts[buurt.code].values()
            if buurt.code in secret:
                values.update(dict.fromkeys(_PRIVATE_COLUMNS, None))
            if buurt.code == untyped_dot:
                values["WmoClienten_93"] = "."
            entries.append((buurt.code, "Buurt", values))

    rows = []
    for number, (code, kind, values) in enumerate(entries, start=1):
        row: dict[str, Any] = {
            "ID": number,
            "WijkenEnBuurten": _pad(code, 10),
            "Gemeentenaam_1": _pad(DEMO_NAME, 40),
            "SoortRegio_2": _pad(kind, 10),
            "Codering_3": _pad(code, 10),
            "IndelingswijzigingWijkenEnBuurten_4": "1",
        }
        row.update({column: values[column] for column in _COLUMNS_NUMERIC})
        rows.append(row)
    return odata_document(table, "TypedDataSet", rows)


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _fixed_gdal_date() -> Iterator[None]:
    """Make GDAL stamp GeoPackages with the fixed demo date, restoring the old setting."""
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2024-01-01T00:00:00.000Z"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def _write_gpkg(target: Path, frame: gpd.GeoDataFrame, layer: str) -> Path:
    """Write ``frame`` as the only layer of a GeoPackage, atomically."""

    def writer(tmp: Path) -> None:
        frame.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio", index=False)

    with _fixed_gdal_date():
        return _atomic.write_with(target, writer)


def _buurten_frame(
    buurten: Sequence[_Buurt], residents: dict[str, int], hidden: str
) -> gpd.GeoDataFrame:
    """Return the PDOK-style buurten layer; ``hidden`` gets the PDOK secret marker."""
    rows = [
        {
            "buurtcode": b.code,
            "buurtnaam": b.name,
            "wijkcode": b.wijkcode,
            "gemeentecode": DEMO_CODE,
            "gemeentenaam": DEMO_NAME,
            "water": "NEE",
            "aantal_inwoners": PDOK_SECRET if b.code == hidden else residents[b.code],
            "geometry": MultiPolygon([b.geometry]),
        }
        for b in buurten
    ]
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    frame["aantal_inwoners"] = frame["aantal_inwoners"].astype("int64")
    return frame


# --------------------------------------------------------------------------------------
# The second demo year (2025): a changed buurt division and changed figures
# --------------------------------------------------------------------------------------

#: The second demo year, for ``wijkanalyse compare``.
DEMO_NEXT_YEAR = 2025
#: The third demo year, for ``wijkanalyse trend`` (2025's buurt division; see CLOSED_2026 and NEW_VENUE_2026).
DEMO_THIRD_YEAR = 2026
#: Every year the demo can write.
DEMO_YEARS = (DEMO_YEAR, DEMO_NEXT_YEAR, DEMO_THIRD_YEAR)
_NEXT_TABLE = "86165NED"  # CBS Kerncijfers 2025 (see wijkanalyse.cbs_tables)
_NEXT_CREATED = "2025-01-01T00:00:00+00:00"

#: 2025: Molenwijk (BU99990203) is split into two buurten with new codes.
SPLIT_2025 = {"BU99990203": ("BU99990204", "BU99990205")}
#: 2025: Oosterdorp-Kern and Oosterdorp-Zuid are merged into one buurt with a new code.
MERGED_2025 = {("BU99990501", "BU99990502"): "BU99990503"}
#: 2025: Noorderhoek keeps its area but gets a new code.
RENUMBERED_2025 = {"BU99990601": "BU99990602"}
#: 2025: the hot-spot buurt whose figures improve (fewer one-person households, bijstand, Wmo).
IMPROVED_2025 = "BU99990403"
#: 2025: Molenwijk-Zuid gets the social profile of Zuidoost-Plein, next to it (a new hot spot).
WORSENED_2025 = {"BU99990205": "BU99990402"}
#: 2025: a new meeting point opens in Westerveld, which had none.
NEW_VENUE_2025 = (_meeting("community_centre", "Dorpshuis Westerveld"), _village_block(60_900, 480_900, dy=75.0))
#: 2025: every inhabited cell of Molenwijk-Noord gains this many residents (new flats).
GROWTH_2025 = ("BU99990204", 10)

# The third demo year (2026): the buurt division, residents and profiles of 2025; one meeting point
# closes (a budget cut) and the village that had none opens a dorpshuis.
_THIRD_TABLE = "99992026NED"  # made up: no CBS table of 2026 exists yet (and no real table has this id)
_THIRD_CREATED = "2026-01-01T00:00:00+00:00"
#: 2026: Wijkcentrum De Molen (in Molenwijk-Zuid) closes: a budget cut.
CLOSED_2026 = "Wijkcentrum De Molen"
#: 2026: Noorderhoek, which had a school and a sports hall but no meeting point, gets a dorpshuis.
NEW_VENUE_2026 = (_meeting("community_centre", "Dorpshuis De Noordster"), _village_block(61_100, 484_100))


def _buurten_2025(buurten: Sequence[_Buurt]) -> list[_Buurt]:
    """The 2024 buurten with the 2025 changes: one split, two merged, one renumbered."""
    by_code = {b.code: b for b in buurten}
    out = [b for b in buurten if b.code not in {*SPLIT_2025, *RENUMBERED_2025, *itertools.chain(*MERGED_2025)}]
    for code, (north, south) in SPLIT_2025.items():
        old = by_code[code]
        x0, y0, x1, y1 = old.geometry.bounds
        middle = (y0 + y1) / 2
        for new_code, suffix, shape in ((north, "Noord", box(x0, middle, x1, y1)), (south, "Zuid", box(x0, y0, x1, middle))):
            out.append(_Buurt(old.wijk, int(new_code[-2:]), f"{old.name}-{suffix}", old.kind, shape, old.density))
    for codes, new_code in MERGED_2025.items():
        parts = [by_code[c] for c in codes]
        shape = shapely.union_all([p.geometry for p in parts]).normalize()
        name = parts[0].name.split("-")[0]
        out.append(_Buurt(parts[0].wijk, int(new_code[-2:]), name, parts[0].kind, shape, parts[0].density))
    for code, new_code in RENUMBERED_2025.items():
        old = by_code[code]
        out.append(_Buurt(old.wijk, int(new_code[-2:]), old.name, old.kind, old.geometry, old.density))
    return sorted(out, key=lambda b: b.code)


def _profiles_2025(profiles: dict[str, _Profile]) -> dict[str, _Profile]:
    """The 2024 profiles carried over to the 2025 codes; the improved hot-spot buurt gets better rates."""
    out = dict(profiles)
    for code, parts in SPLIT_2025.items():
        out.update(dict.fromkeys(parts, profiles[code]))
    for codes, new_code in MERGED_2025.items():
        out[new_code] = profiles[codes[0]]
    for code, new_code in RENUMBERED_2025.items():
        out[new_code] = profiles[code]
    for code, like in WORSENED_2025.items():
        out[code] = profiles[like]
    before = profiles[IMPROVED_2025]
    young, teen, adult, _middle, _old = before.ages
    out[IMPROVED_2025] = replace(
        before, ages=(young, teen, adult, 1.0 - young - teen - adult - 0.17, 0.17), one_person=0.30, income=34.0,
        low_income=34.0, bijstand=0.012, wmo=0.052, woz=290.0,
    )
    return out


def _totals(grid: gpd.GeoDataFrame, buurten: Sequence[_Buurt]) -> dict[str, int]:
    """Residents per buurt from the grid (the buurt holding the cell centre; a suppressed cell counts as 2)."""
    totals = {b.code: 0 for b in buurten}
    tree = STRtree([b.geometry for b in buurten])
    for geom, value in zip(grid.geometry, grid["aantal_inwoners"], strict=True):
        hits = tree.query(geom.centroid, predicate="within")
        if len(hits):
            code = buurten[int(hits[0])].code
            totals[code] += GRID_SUPPRESSED_AS if value == CBS_SUPPRESSED else int(value)
    return totals


def _grow(grid: gpd.GeoDataFrame, buurten: Sequence[_Buurt]) -> gpd.GeoDataFrame:
    """Add the 2025 growth: more residents in every (unsuppressed) cell of :data:`GROWTH_2025`."""
    code, extra = GROWTH_2025
    shape = next(b.geometry for b in buurten if b.code == code)
    grid = grid.copy()
    inside = grid.geometry.centroid.within(shape) & (grid["aantal_inwoners"] != CBS_SUPPRESSED)
    grid.loc[inside, "aantal_inwoners"] += extra
    return grid


def write_demo_snapshot(dest: Path, year: int = DEMO_YEAR) -> Path:
    """Write the synthetic demo gemeente as a complete snapshot folder.

    Parameters
    ----------
    dest
        The snapshot folder; created when missing. It is built under a temporary name
        beside and swapped in whole (:func:`wijkanalyse.snapshot.staged`), so an earlier
        demo in it is replaced whole and a killed write leaves it as it was.
    year
        :data:`DEMO_YEAR` (2024, the demo) or :data:`DEMO_NEXT_YEAR` (2025: the same
        gemeente a year later, to try ``wijkanalyse compare``). In 2025 Molenwijk is split
        in two (:data:`SPLIT_2025`), Oosterdorp-Kern and -Zuid are merged
        (:data:`MERGED_2025`), Noorderhoek has a new code (:data:`RENUMBERED_2025`),
        Westerveld has its first meeting point (:data:`NEW_VENUE_2025`), Molenwijk-Noord
        has more residents (:data:`GROWTH_2025`) and the hot-spot buurt Zuidoost-Flats
        (:data:`IMPROVED_2025`) has fewer one-person households, less bijstand and Wmo use
        and higher incomes. Everything else is as in 2024.

    Returns
    -------
    Path
        ``dest``, now holding ``manifest.json``, ``cbs_kerncijfers.json``,
        ``buurten.gpkg``, ``vierkant100m.gpkg``, ``osm.xml`` and the network and venue
        layers made from it (``netwerk.parquet``, ``voorzieningen_osm.parquet``).

    Notes
    -----
    The output is deterministic: the random generator is seeded with
    :data:`DEMO_SEED` and the manifest carries a fixed date (:data:`DEMO_CREATED` in 2024).
    Both years draw the same numbers; 2025 changes them afterwards.
    """
    if year not in DEMO_YEARS:
        msg = f"De demogemeente bestaat voor {', '.join(map(str, DEMO_YEARS))}, niet voor {year}. Kies een van die jaren."
        raise ValueError(msg)
    dest = Path(dest)
    with staged(dest) as folder:
        _write_demo(folder, year)
    return dest


def _write_demo(dest: Path, year: int) -> None:
    """Write every file of the demo snapshot of ``year`` into the (empty, temporary) folder ``dest``."""
    rng = np.random.default_rng(DEMO_SEED)

    buurten = _buurten()
    osm = _build_osm(frozenset({CLOSED_2026}) if year == DEMO_THIRD_YEAR else frozenset())
    profiles = _profiles(rng, buurten)
    grid, residents = _grid(rng, buurten, profiles, osm.walk_lines)
    table, created = CBS_TABLE, DEMO_CREATED
    if year in {DEMO_NEXT_YEAR, DEMO_THIRD_YEAR}:
        table, created = _NEXT_TABLE, _NEXT_CREATED
        buurten = _buurten_2025(buurten)
        profiles = _profiles_2025(profiles)
        grid = _grow(grid, buurten)
        residents = _totals(grid, buurten)
        tags, (x, y) = NEW_VENUE_2025
        osm.add_venue_node(x, y, tags)
    if year == DEMO_THIRD_YEAR:
        table, created = _THIRD_TABLE, _THIRD_CREATED
        tags, (x, y) = NEW_VENUE_2026
        osm.add_venue_node(x, y, tags)

    rural = sorted(
        (b for b in buurten if b.kind == "rural"), key=lambda b: (residents[b.code], b.code)
    )
    secret = [rural[0].code, rural[1].code]  # the two smallest: CBS hides the sensitive figures
    untyped_dot = rural[-1].code  # the largest: "." in WmoClienten_93
    cbs = _cbs_document(buurten, profiles, residents, secret, untyped_dot, table=table)

    _atomic.write_text(dest / CBS_FILE, json.dumps(cbs, ensure_ascii=False, indent=2) + "\n")
    regions = _regions_document(buurten, table)
    _atomic.write_text(dest / REGIONS_FILE, json.dumps(regions, ensure_ascii=False, indent=2) + "\n")
    _write_gpkg(
        dest / BUURTEN_FILE, _buurten_frame(buurten, residents, rural[0].code), BUURTEN_LAYER
    )
    _write_gpkg(dest / GRID_FILE, grid, GRID_LAYER)
    _atomic.write_bytes(dest / OSM_FILE, _osm_xml(osm))
    # the fast layers, made from osm.xml by the same reader a live fetch uses
    venue_tags = load_config().osm_tags()
    extract = read_osm(dest / OSM_FILE, venue_tags)
    layers = write_osm_layers(dest, extract.ways, extract.venues)

    def source(file: str, **extra: Any) -> dict[str, Any]:
        return {"file": file, **extra, "url": SYNTHETIC_URL, "retrieved": created}

    manifest = Manifest(
        gemeente_code=DEMO_CODE,
        gemeente_name=DEMO_NAME,
        year=year,
        synthetic=True,
        created=created,
        sources={
            "cbs": source(CBS_FILE, table=table, regions_file=REGIONS_FILE),
            "buurten": source(BUURTEN_FILE, layer=BUURTEN_LAYER),
            "grid": source(GRID_FILE, layer=GRID_LAYER, year=year),
            "osm": source(OSM_FILE),
            "network": source(layers["network"]["file"], made_from=OSM_FILE),
            "venues": source(layers["venues"]["file"], made_from=OSM_FILE, tags=venue_tags),
        },
        generator=f"wijkanalyse {__version__}",
    )
    write_manifest(dest, manifest)
