"""A synthetic country of gemeenten: one national ``.osm.pbf`` plus each gemeente's CBS and PDOK files.

For the national benchmark (``bench_national.py``) and the national tests. Placed in the
North Sea (x from 20 km, y from 500 km in RD; nobody takes it for a real place): ``n``
square gemeenten side by side in a grid, each split into buurten (squares) grouped in
wijken, with a 100 m CBS grid of which a share of cells is inhabited. One street grid
runs across the whole country, every ``step`` m, with an OSM shape vertex every ``vertex``
m, cut into ways of ``span`` blocks (so streets run on across gemeente borders and residents
walk to a meeting point over the border). Venues (meeting points and others) are OSM nodes
in the same file. Deterministic (seeded).

:func:`write_country` writes ``<dest>/nederland.osm.pbf`` and ``<dest>/snapshots/GMxxxx/``
with ``manifest.json``, ``cbs_kerncijfers.json``, ``buurten.gpkg`` and ``vierkant100m.gpkg``;
the network and venue layers come from the pbf
(:func:`wijkanalyse.sources.national.add_osm_layers`), as in a live national fetch.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from wijkanalyse import snapshot
from wijkanalyse.config import load_config

__all__ = ["Country", "write_country"]

CRS = "EPSG:28992"
X0, Y0 = 20_000.0, 500_000.0
TO_WGS = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
TABLE, YEAR = "85984NED", 2024
#: Meeting point and other venue kinds (OSM key, value), as the default config knows them.
MEETING = [("amenity", "community_centre"), ("amenity", "cafe"), ("amenity", "library"), ("amenity", "place_of_worship")]
OTHER = [("amenity", "school"), ("leisure", "sports_centre")]


@dataclass(frozen=True)
class Country:
    """What was written: folders, files and sizes."""

    pbf: Path
    snapshots: list[Path]
    codes: list[str]
    osm_nodes: int
    ways: int
    buurten: int
    inhabited_cells: int
    venues: int


def _cbs_row(rng: np.random.Generator, name: str, region: str, kind: str, inw: float) -> dict[str, object]:
    """A CBS Kerncijfers row (2024 column names) with made-up figures."""
    hh = max(1, int(inw / 2.1))
    return {
        "WijkenEnBuurten": f"{region:<10}", "Gemeentenaam_1": f"{name:<40}", "SoortRegio_2": f"{kind:<10}",
        "Codering_3": f"{region:<10}", "AantalInwoners_5": int(inw),
        "k_65JaarOfOuder_12": int(inw * rng.uniform(0.08, 0.3)), "HuishoudensTotaal_29": hh,
        "Eenpersoonshuishoudens_30": int(hh * rng.uniform(0.2, 0.7)),
        "GemiddeldInkomenPerInwoner_78": round(float(rng.uniform(18, 45)), 1),
        "PersonenPerSoortUitkeringBijstand_87": int(inw * rng.uniform(0, 0.08)),
        "WmoClienten_93": int(inw * rng.uniform(0.02, 0.12)),
    }


def _gemeente_code(k: int) -> str:
    return f"GM{9000 - k:04d}" if k < 1000 else f"GM{k:04d}"


def write_country(  # noqa: PLR0912, PLR0915 (one country, step by step)
    dest: Path, *, n: int = 342, buurten_x: int = 6, buurten_y: int = 7, buurt_m: float = 700.0,
    step: float = 100.0, vertex: float = 20.0, span: int = 5, inhabited: float = 0.6,
    meeting_points: int = 24, other_venues: int = 24, seed: int = 11,
) -> Country:
    """Write a synthetic country of ``n`` gemeenten (see the module docstring) to ``dest``."""
    rng = np.random.default_rng(seed)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    gx = math.ceil(math.sqrt(n))
    side_x, side_y = buurten_x * buurt_m, buurten_y * buurt_m
    gy = math.ceil(n / gx)
    width, height = gx * side_x, gy * side_y
    per = round(step / vertex)

    # --- streets: lines every `step` m across the whole country, ways of `span` blocks
    nx_, ny_ = round(width / step) + 1, round(height / step) + 1
    kinds = np.array(["residential", "footway", "cycleway", "service", "tertiary", "unclassified"])
    probs = [0.55, 0.15, 0.1, 0.08, 0.07, 0.05]
    way_nodes: list[np.ndarray] = []
    next_id = nx_ * ny_ + 1  # junction ids are 1..nx*ny, shape vertices follow
    inner_xy: list[np.ndarray] = []

    def junction(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return i * ny_ + j + 1

    for horizontal in (True, False):
        lines, along = (ny_, nx_) if horizontal else (nx_, ny_)
        for line in range(lines):
            for start in range(0, along - 1, span):
                stop = min(start + span, along - 1)
                t = np.arange(start * per, stop * per + 1)  # vertex positions along the line
                ids = np.empty(len(t), dtype=np.int64)
                is_junction = t % per == 0
                pos = t[is_junction] // per
                ids[is_junction] = junction(pos, np.full(len(pos), line)) if horizontal else junction(
                    np.full(len(pos), line), pos)
                n_inner = int((~is_junction).sum())
                ids[~is_junction] = np.arange(next_id, next_id + n_inner)
                next_id += n_inner
                coord = t[~is_junction] * vertex
                fixed = np.full(n_inner, line * step)
                inner_xy.append(np.column_stack([coord, fixed]) if horizontal else np.column_stack([fixed, coord]))
                way_nodes.append(ids)
    inner = np.concatenate(inner_xy)
    junction_xy = np.column_stack([
        np.repeat(np.arange(nx_) * step, ny_), np.tile(np.arange(ny_) * step, nx_),
    ])
    node_xy = np.concatenate([junction_xy, inner]) + np.array([X0, Y0])
    node_ids = np.arange(1, len(node_xy) + 1)
    lon, lat = TO_WGS.transform(node_xy[:, 0], node_xy[:, 1])
    way_kind = rng.choice(kinds, size=len(way_nodes), p=probs)
    foot_designated = (way_kind == "cycleway") & (rng.random(len(way_nodes)) < 0.7)

    # --- gemeenten, buurten, cells, venues
    codes, folders = [], []
    venue_rows: list[tuple[float, float, str, str, str]] = []  # x, y, key, value, name
    n_buurten = n_cells = 0
    cx_local, cy_local = np.meshgrid(np.arange(50, side_x, 100.0), np.arange(50, side_y, 100.0))
    cx_local, cy_local = cx_local.ravel(), cy_local.ravel()
    for k in range(n):
        code = _gemeente_code(k)
        name = f"Proefgemeente {k + 1}"
        gx0 = X0 + (k % gx) * side_x
        gy0 = Y0 + (k // gx) * side_y
        buurt_codes, wijk_codes, polys = [], [], []
        for i in range(buurten_y):
            for j in range(buurten_x):
                wijk = f"{i // 2 + 1:02d}"
                buurt_codes.append(f"BU{code[2:]}{wijk}{(i % 2) * buurten_x + j + 1:02d}")
                wijk_codes.append(f"WK{code[2:]}{wijk}")
                polys.append(shapely.box(gx0 + j * buurt_m, gy0 + i * buurt_m, gx0 + (j + 1) * buurt_m, gy0 + (i + 1) * buurt_m))
        buurten = gpd.GeoDataFrame(
            {"buurtcode": buurt_codes, "buurtnaam": [f"Buurt {c[-4:]}" for c in buurt_codes], "wijkcode": wijk_codes,
             "gemeentecode": code, "gemeentenaam": name, "water": "NEE"},
            geometry=polys, crs=CRS,
        )
        live = rng.random(len(cx_local)) < inhabited
        xs, ys = gx0 + cx_local[live], gy0 + cy_local[live]
        people = rng.integers(5, 160, live.sum())
        people = np.where(rng.random(len(people)) < 0.02, -99997, people)
        grid = gpd.GeoDataFrame(
            {"c28992r100": [f"E{int(x) // 100:04d}N{int(y) // 100:04d}" for x, y in zip(xs, ys, strict=True)],
             "aantal_inwoners": people},
            geometry=shapely.box(xs - 50, ys - 50, xs + 50, ys + 50), crs=CRS,
        )
        bi = np.minimum(((ys - gy0) // buurt_m).astype(int), buurten_y - 1)
        bj = np.minimum(((xs - gx0) // buurt_m).astype(int), buurten_x - 1)
        per_buurt = np.bincount(bi * buurten_x + bj, weights=np.maximum(people, 0), minlength=len(buurt_codes))
        # venues on the streets (a multiple of `step` in one coordinate)
        for v in range(meeting_points + other_venues):
            key, value = MEETING[v % len(MEETING)] if v < meeting_points else OTHER[v % len(OTHER)]
            if rng.random() < 0.5:
                vx, vy = gx0 + rng.uniform(0, side_x), gy0 + round(rng.uniform(0, side_y) / step) * step
            else:
                vx, vy = gx0 + round(rng.uniform(0, side_x) / step) * step, gy0 + rng.uniform(0, side_y)
            venue_rows.append((vx, vy, key, value, f"{value.replace('_', ' ').title()} {code} {v}"))

        rows = [_cbs_row(rng, name, code, "Gemeente", float(per_buurt.sum()))]
        for wijk in sorted(set(wijk_codes)):
            inw = float(sum(p for p, w in zip(per_buurt, wijk_codes, strict=True) if w == wijk))
            rows.append(_cbs_row(rng, name, wijk, "Wijk", inw))
        rows += [_cbs_row(rng, name, b, "Buurt", float(p)) for b, p in zip(buurt_codes, per_buurt, strict=True)]
        for i, r in enumerate(rows, start=1):
            r["ID"] = i
        folder = dest / "snapshots" / code
        folder.mkdir(parents=True, exist_ok=True)
        (folder / snapshot.CBS_FILE).write_text(json.dumps(snapshot.odata_document(TABLE, "TypedDataSet", rows)))
        buurten.to_file(folder / snapshot.BUURTEN_FILE, layer=snapshot.BUURTEN_LAYER, driver="GPKG")
        grid.to_file(folder / snapshot.GRID_FILE, layer=snapshot.GRID_LAYER, driver="GPKG")
        manifest = snapshot.Manifest(
            gemeente_code=code, gemeente_name=name, year=YEAR, synthetic=True, created="2024-01-01T00:00:00+00:00",
            sources={
                "cbs": {"file": snapshot.CBS_FILE, "table": TABLE, "year": YEAR},
                "buurten": {"file": snapshot.BUURTEN_FILE, "layer": snapshot.BUURTEN_LAYER, "year": YEAR},
                "grid": {"file": snapshot.GRID_FILE, "layer": snapshot.GRID_LAYER, "year": YEAR},
                "network": {"file": snapshot.NETWORK_FILE},
                "venues": {"file": snapshot.VENUES_FILE, "tags": load_config().osm_tags()},
            },
            generator="benchmarks/synthetic_national.py",
        )
        snapshot.write_manifest(folder, manifest)
        codes.append(code)
        folders.append(folder)
        n_buurten += len(buurt_codes)
        n_cells += int(live.sum())

    # --- the national .osm.pbf: nodes (junctions, shape vertices, venues), then ways
    import osmium  # noqa: PLC0415

    pbf = dest / "nederland.osm.pbf"
    if pbf.exists():
        pbf.unlink()
    writer = osmium.SimpleWriter(str(pbf))
    try:
        for nid, x, y in zip(node_ids.tolist(), lon.tolist(), lat.tolist(), strict=True):
            writer.add_node(osmium.osm.mutable.Node(id=nid, location=(x, y)))
        vx = np.array([v[0] for v in venue_rows])
        vy = np.array([v[1] for v in venue_rows])
        vlon, vlat = TO_WGS.transform(vx, vy)
        first_venue = int(node_ids[-1]) + 1
        for i, ((_, _, key, value, name), x, y) in enumerate(zip(venue_rows, vlon.tolist(), vlat.tolist(), strict=True)):
            writer.add_node(osmium.osm.mutable.Node(id=first_venue + i, location=(x, y), tags={key: value, "name": name}))
        for w, (ids, kind, foot) in enumerate(zip(way_nodes, way_kind.tolist(), foot_designated.tolist(), strict=True), start=1):
            tags = {"highway": kind}
            if foot:
                tags["foot"] = "designated"
            writer.add_way(osmium.osm.mutable.Way(id=w, nodes=ids.tolist(), tags=tags))
    finally:
        writer.close()
    (dest / "country.json").write_text(json.dumps({"osm_nodes": len(node_xy), "ways": len(way_nodes),
                                                   "venues": len(venue_rows)}))
    return Country(pbf=pbf, snapshots=folders, codes=codes, osm_nodes=len(node_xy), ways=len(way_nodes),
                   buurten=n_buurten, inhabited_cells=n_cells, venues=len(venue_rows))
