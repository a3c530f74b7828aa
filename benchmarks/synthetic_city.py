"""A synthetic Amsterdam-size city written as a snapshot in the current format (for benchmarks).

12 km x 12 km in the North Sea (nobody takes it for a real place): a street grid every 60 m
whose streets have a shape vertex every 8 m, as OSM streets do (about 560,000 OSM nodes in
the network), cut at junctions as ``sources.osm.read_osm`` cuts them; diagonal footpaths,
fiets/voetpaden, a canal with few bridges and a motorway. 576 buurten (500 m squares) in 36
wijken, about 9,000 inhabited 100 m cells, 600 meeting points and 2,400 other venues.
Deterministic (seeded).

``write_city(..., layout="organic")`` writes the same city on an organic, OSM-like network
instead (:func:`_organic_streets`): irregular blocks from a thinned Delaunay triangulation of
scattered junctions (diagonal streets at every angle), gently curved ways, dead ends, and
footways and paths among the streets, about 36 OSM nodes per hectare as in a Dutch city
(0.5 M nodes at 12 km, 2 M at 24 km, 5 M at 38 km).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import box

from wijkanalyse import snapshot
from wijkanalyse.config import load_config
from wijkanalyse.sources.osm import WAY_TAGS

__all__ = ["write_city"]

CRS = "EPSG:28992"
X0, Y0 = 20_000.0, 500_000.0
SIZE, STEP, VERTEX = 12_000.0, 60.0, 8.0
BUURT = 500.0
CODE = "GM9998"
NAME = "Proefstad"


def _streets(rng: np.random.Generator, size: float) -> gpd.GeoDataFrame:
    n = int(size // STEP) + 1
    steps = np.arange(n) * STEP
    per = round(STEP / VERTEX)  # vertices per block side
    lines, u, v, highway, foot = [], [], [], [], []

    def node_id(i: int, j: int) -> int:
        return i * n + j + 1

    t = np.linspace(0, 1, per + 1)
    canal_row = n // 3
    for i in range(n):
        for j in range(n - 1):
            # east-west block side (i fixed = row y), north-south block side (i fixed = column x)
            for horizontal in (True, False):
                if horizontal:
                    xs, ys = X0 + steps[j] + t * STEP, np.full(per + 1, Y0 + i * STEP)
                    a, b = node_id(i, j), node_id(i, j + 1)
                else:
                    xs, ys = np.full(per + 1, X0 + i * STEP), Y0 + steps[j] + t * STEP
                    a, b = node_id(j, i), node_id(j + 1, i)
                    if j == canal_row and i % 12:  # the canal: a bridge every 12th street only
                        continue
                lines.append(np.column_stack([xs, ys]))
                u.append(a)
                v.append(b)
                kind = rng.choice(["residential", "footway", "cycleway", "service", "tertiary"], p=[0.6, 0.15, 0.1, 0.1, 0.05])
                highway.append(kind)
                foot.append("designated" if kind == "cycleway" and rng.random() < 0.7 else "")
    geoms = shapely.linestrings(np.concatenate(lines), indices=np.repeat(np.arange(len(lines)), per + 1))
    frame = {"u": np.array(u, dtype=np.int64), "v": np.array(v, dtype=np.int64), "way_id": np.arange(len(u), dtype=np.int64)}
    for tag in WAY_TAGS:
        frame[tag] = np.full(len(u), "", dtype=object)
    frame["highway"] = np.array(highway, dtype=object)
    frame["foot"] = np.array(foot, dtype=object)
    ways = gpd.GeoDataFrame(frame, geometry=geoms, crs=CRS)
    ways["length"] = ways.length
    return ways


def _organic_streets(rng: np.random.Generator, size: float) -> gpd.GeoDataFrame:
    """An organic street network (see the module docstring), cut at junctions, with vertices every ~8 m."""
    from scipy.spatial import Delaunay  # noqa: PLC0415

    n_junctions = int(size * size / 70.0**2)
    xy = rng.uniform(0, size, (n_junctions, 2))
    tri = Delaunay(xy)
    edges = np.concatenate([tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]], tri.simplices[:, [2, 0]]])
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    length = np.hypot(*(xy[edges[:, 0]] - xy[edges[:, 1]]).T)
    keep = (length < 220) & (rng.random(len(edges)) < 0.62)  # irregular blocks: 38 % of the links dropped
    edges = edges[keep]
    # dead ends: short spurs from random junctions
    n_spur = n_junctions // 6
    base = rng.integers(0, n_junctions, n_spur)
    angle = rng.uniform(0, 2 * np.pi, n_spur)
    reach = rng.uniform(25, 90, n_spur)
    spur_xy = np.clip(xy[base] + np.column_stack([np.cos(angle), np.sin(angle)]) * reach[:, None], 0, size)
    xy = np.concatenate([xy, spur_xy])
    edges = np.concatenate([edges, np.column_stack([base, n_junctions + np.arange(n_spur)])])
    a, b = xy[edges[:, 0]], xy[edges[:, 1]]
    seg = np.hypot(*(b - a).T)
    per = np.maximum(1, np.round(seg / VERTEX).astype(int))  # segments per way
    way = np.repeat(np.arange(len(edges)), per + 1)
    t = np.concatenate([np.linspace(0, 1, k + 1) for k in per.tolist()])
    normal = np.column_stack([-(b - a)[:, 1], (b - a)[:, 0]]) / np.maximum(seg, 1e-9)[:, None]
    bend = rng.normal(0, 0.08, len(edges)) * seg  # a gentle curve, at most a few metres off the chord
    pts = a[way] + (b - a)[way] * t[:, None] + normal[way] * (bend[way] * np.sin(np.pi * t))[:, None]
    geoms = shapely.linestrings(pts + np.array([X0, Y0]), indices=way)
    n = len(edges)
    kinds = rng.choice(["residential", "footway", "path", "cycleway", "service", "tertiary", "unclassified"], n,
                       p=[0.5, 0.17, 0.05, 0.08, 0.1, 0.05, 0.05])
    foot = np.where((kinds == "cycleway") & (rng.random(n) < 0.7), "designated", "")
    frame = {"u": edges[:, 0].astype(np.int64) + 1, "v": edges[:, 1].astype(np.int64) + 1,
             "way_id": np.arange(n, dtype=np.int64)}
    for tag in WAY_TAGS:
        frame[tag] = np.full(n, "", dtype=object)
    frame["highway"] = kinds.astype(object)
    frame["foot"] = foot.astype(object)
    ways = gpd.GeoDataFrame(frame, geometry=geoms, crs=CRS)
    ways["length"] = ways.length
    return ways


def write_city(dest: Path, seed: int = 7, size: float = SIZE, layout: str = "grid") -> Path:
    """Write the synthetic city snapshot to ``dest`` and return it.

    ``size`` is the side of the square city in metres (a multiple of 500 m, at least 2,000 m;
    12,000 m is the Amsterdam-size city); the venues scale with its area. ``layout``: "grid"
    (the street grid) or "organic" (:func:`_organic_streets`).
    """
    if size < 4 * BUURT or size % BUURT:
        raise ValueError(f"size must be a multiple of {BUURT:g} m and at least {4 * BUURT:g} m, not {size:g}")
    rng = np.random.default_rng(seed)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    ways = {"grid": _streets, "organic": _organic_streets}[layout](rng, size)

    # buurten and wijken
    nb = int(size // BUURT)
    codes, wijken, polys = [], [], []
    for i in range(nb):
        for j in range(nb):
            wk = f"{(i // 4) * (nb // 4) + j // 4 + 1:02d}"
            codes.append(f"BU{CODE[2:]}{wk}{(i % 4) * 4 + j % 4 + 1:02d}")
            wijken.append(f"WK{CODE[2:]}{wk}")
            polys.append(box(X0 + j * BUURT, Y0 + i * BUURT, X0 + (j + 1) * BUURT, Y0 + (i + 1) * BUURT))
    buurten = gpd.GeoDataFrame(
        {"buurtcode": codes, "buurtnaam": [f"Buurt {c[-4:]}" for c in codes], "wijkcode": wijken,
         "gemeentecode": CODE, "gemeentenaam": NAME, "water": "NEE"},
        geometry=polys, crs=CRS,
    )

    # inhabited cells: most of the city, parks left empty
    cx, cy = np.meshgrid(np.arange(X0 + 50, X0 + size, 100), np.arange(Y0 + 50, Y0 + size, 100))
    cx, cy = cx.ravel(), cy.ravel()
    inhabited = rng.random(len(cx)) < 0.63
    people = rng.integers(5, 180, inhabited.sum())
    people = np.where(rng.random(len(people)) < 0.02, -99997, people)
    grid = gpd.GeoDataFrame(
        {"c28992r100": [f"E{int(x) // 100:04d}N{int(y) // 100:04d}" for x, y in zip(cx[inhabited], cy[inhabited], strict=True)],
         "aantal_inwoners": people},
        geometry=[box(x - 50, y - 50, x + 50, y + 50) for x, y in zip(cx[inhabited], cy[inhabited], strict=True)],
        crs=CRS,
    )
    per_buurt = gpd.sjoin(gpd.GeoDataFrame(geometry=grid.centroid, crs=CRS).assign(n=np.maximum(people, 0)),
                          buurten[["buurtcode", "geometry"]], predicate="within").groupby("buurtcode")["n"].sum()

    # venues: meeting points and other venues
    share = (size / SIZE) ** 2
    counts = {("amenity", "community_centre"): 150, ("amenity", "cafe"): 300, ("amenity", "library"): 50,
              ("amenity", "place_of_worship"): 100, ("amenity", "school"): 1200, ("leisure", "sports_centre"): 1200}
    kinds = [kind for kind, count in counts.items() for _ in range(max(1, round(count * share)))]
    vx = X0 + rng.uniform(0, size, len(kinds))
    vy = Y0 + rng.uniform(0, size, len(kinds))
    venues = gpd.GeoDataFrame(
        {"osm_id": [f"node/{10_000_000 + i}" for i in range(len(kinds))],
         "naam": [f"{v.title()} {i}" for i, (_, v) in enumerate(kinds)],
         "tags": [json.dumps({k: v, "name": f"{v.title()} {i}"}) for i, (k, v) in enumerate(kinds)]},
        geometry=shapely.points(vx, vy), crs=CRS,
    )

    # CBS table: gemeente, wijken, buurten (raw OData TypedDataSet, like the demo)
    def row(code: str, kind: str, inw: float) -> dict[str, object]:
        hh = max(1, int(inw / 2.1))
        return {
            "WijkenEnBuurten": f"{code:<10}", "Gemeentenaam_1": f"{NAME:<40}", "SoortRegio_2": f"{kind:<10}",
            "Codering_3": f"{code:<10}", "AantalInwoners_5": int(inw), "k_65JaarOfOuder_12": int(inw * rng.uniform(0.08, 0.3)),
            "HuishoudensTotaal_29": hh, "Eenpersoonshuishoudens_30": int(hh * rng.uniform(0.2, 0.7)),
            "GemiddeldInkomenPerInwoner_78": round(float(rng.uniform(18, 45)), 1),
            "PersonenPerSoortUitkeringBijstand_87": int(inw * rng.uniform(0, 0.08)),
            "WmoClienten_93": int(inw * rng.uniform(0.02, 0.12)),
        }

    total = float(per_buurt.sum())
    rows = [row(CODE, "Gemeente", total)]
    rows += [row(w, "Wijk", float(per_buurt[[c for c, ww in zip(codes, wijken, strict=True) if ww == w]].sum()))
             for w in sorted(set(wijken))]
    rows += [row(c, "Buurt", float(per_buurt.get(c, 0))) for c in codes]
    for i, r in enumerate(rows, start=1):
        r["ID"] = i
    doc = snapshot.odata_document("85984NED", "TypedDataSet", rows)
    (dest / snapshot.CBS_FILE).write_text(json.dumps(doc))
    buurten.to_file(dest / snapshot.BUURTEN_FILE, layer=snapshot.BUURTEN_LAYER, driver="GPKG")
    grid.to_file(dest / snapshot.GRID_FILE, layer=snapshot.GRID_LAYER, driver="GPKG")
    layers = snapshot.write_osm_layers(dest, ways, venues)
    layers["venues"]["tags"] = load_config().osm_tags()
    manifest = snapshot.Manifest(
        gemeente_code=CODE, gemeente_name=NAME, year=2024, synthetic=True, created="2024-01-01T00:00:00+00:00",
        sources={
            "cbs": {"file": snapshot.CBS_FILE, "table": "85984NED"},
            "buurten": {"file": snapshot.BUURTEN_FILE, "layer": snapshot.BUURTEN_LAYER},
            "grid": {"file": snapshot.GRID_FILE, "layer": snapshot.GRID_LAYER, "year": 2024},
            **layers,
        },
        generator="benchmarks/synthetic_city.py",
    )
    snapshot.write_manifest(dest, manifest)
    return dest


def osm_node_count(ways: gpd.GeoDataFrame) -> int:
    """Distinct OSM nodes of the network: junctions plus the shape vertices between them."""
    inner = shapely.get_num_coordinates(ways.geometry.to_numpy()) - 2
    return int(len(np.unique(np.concatenate([ways["u"], ways["v"]]))) + inner.sum())
