"""Benchmark: the size of kaart.html for a city the size of Amsterdam.

Builds a synthetic RunResult (about 520 buurten with curved boundaries, 12,000 inhabited
100 m cells of which 30 % lie beyond 400 m, 900 venues, a street network of some 6,000 km,
proposals, broker areas, kernen, and the engine's walking network of the streets with the
cells and venues attached to it, for the what-if), renders the map and prints its size, per layer and in
total. The city is 16 x 12 km; for more than 12,000 cells it grows (same shape, so the streets
grow with it) until the cells asked for fill at most 62.5 % of its 100 m squares. The last
line is always::

    map: bytes=<size of kaart.html> buurten=<number of buurten> cells=<inhabited cells>

    python benchmarks/bench_map.py [--buurten 520] [--cells 12000] [--outside 0.3] [--street-spacing 60]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wijkanalyse.analysis import find_gaps
from wijkanalyse.network import WalkNetwork
from wijkanalyse.outputs import maps
from wijkanalyse.result import QUADRANT_CODES, RunResult

RD = "EPSG:28992"
X0, Y0 = 112_000.0, 480_000.0  # Amsterdam-ish, in RD
WIDTH, HEIGHT = 16_000.0, 12_000.0  # 19,200 cells of 100 m, for the default 12,000 inhabited ones
FILL = 12_000 / 19_200  # the share of the area's cells that are inhabited, at most


def area_for(n_cells: int) -> tuple[float, float]:
    """Width and height (m) of the city: 16 x 12 km, grown (same shape) until ``n_cells`` fill at most 62.5 %."""
    grow = max(1.0, (n_cells / (FILL * (WIDTH / 100) * (HEIGHT / 100))) ** 0.5)
    return float(np.ceil(WIDTH * grow / 100) * 100), float(np.ceil(HEIGHT * grow / 100) * 100)


def _wiggle(geom: shapely.Geometry) -> shapely.Geometry:
    """Move every vertex by a smooth function of its position: shared edges stay shared, but curve."""

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        return np.column_stack([x + 6 * np.sin(y / 41.0) + 3 * np.cos(x / 17.0), y + 6 * np.cos(x / 37.0) + 3 * np.sin(y / 23.0)])

    return shapely.transform(geom, move)


def _buurten(rng: np.random.Generator, n_buurten: int, size: tuple[float, float]) -> gpd.GeoDataFrame:
    """Voronoi buurten with curved, shared boundaries (about 50 vertices each, as in Amsterdam)."""
    width, height = size
    area = shapely.box(X0, Y0, X0 + width, Y0 + height)

    seeds = shapely.points(rng.uniform([X0, Y0], [X0 + width, Y0 + height], size=(n_buurten, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=area))
    polygons = [_wiggle(shapely.segmentize(shapely.intersection(c, area), 40.0)) for c in cells]
    n = len(polygons)
    codes = [f"BU0363{i:04d}" for i in range(n)]
    names = [f"Buurt {i} ({'Noord' if i % 3 == 0 else 'Zuid' if i % 3 == 1 else 'West'})" for i in range(n)]
    share = np.clip(rng.normal(0.75, 0.2, n), 0, 1)
    people = rng.integers(200, 4000, n)
    hotspot = rng.choice([0, 1, 2, 3, 4], size=n, p=[0.85, 0.06, 0.03, 0.04, 0.02])
    return gpd.GeoDataFrame(
        {
            "buurtcode": codes, "buurtnaam": names, "wijkcode": [f"WK0363{i // 5:02d}" for i in range(n)],
            "wijknaam": [f"Wijk {i // 5}" for i in range(n)],
            "inwoners": pd.array(people, dtype="Int64"), "inwoners_cbs": pd.array(people, dtype="Int64"),
            "inwoners_binnen_drempel": pd.array(np.round(people * share).astype(int), dtype="Int64"),
            "aandeel_binnen_drempel": share, "afstand_mediaan_m": rng.uniform(50, 900, n),
            **{f"indicator_{k}": rng.uniform(0, 60, n) for k in range(5)},
            "signaal": rng.normal(0, 0.6, n), "hotspot": [QUADRANT_CODES[h].value for h in hotspot],
            "hotspot_p": rng.uniform(0, 0.05, n),
            "kern": ["Amsterdam" if i % 40 else ("Durgerdam" if i % 80 else "Holysloot") for i in range(n)],
        },
        geometry=polygons, crs=RD,
    )


def _residents(
    rng: np.random.Generator, buurten: gpd.GeoDataFrame, n_cells: int, outside: float, size: tuple[float, float],
) -> gpd.GeoDataFrame:
    """Inhabited cells on the 100 m grid; a share of them, in blobs, beyond the threshold."""
    grid_x = np.arange(X0 + 50, X0 + size[0], 100.0)
    grid_y = np.arange(Y0 + 50, Y0 + size[1], 100.0)
    xx, yy = np.meshgrid(grid_x, grid_y)
    pick = rng.choice(xx.size, size=n_cells, replace=False)
    px, py = xx.ravel()[pick], yy.ravel()[pick]
    far = (np.sin(px / 900.0) + np.cos(py / 700.0)) > np.quantile(np.sin(px / 900.0) + np.cos(py / 700.0), 1 - outside)
    distance = np.where(far, rng.uniform(401, 1500, n_cells), rng.uniform(10, 400, n_cells))
    distance[far & (rng.uniform(size=n_cells) < 0.05)] = np.inf
    inwoners = rng.integers(5, 250, n_cells).astype(float)
    inwoners[rng.uniform(size=n_cells) < 0.08] = np.nan
    points = gpd.GeoSeries(shapely.points(px, py), crs=RD)
    owner = gpd.sjoin(gpd.GeoDataFrame(geometry=points), buurten[["buurtcode", "geometry"]], how="left", predicate="within")
    owner = owner[~owner.index.duplicated(keep="first")]
    return gpd.GeoDataFrame(
        {"cel": [f"E{int(x // 100):04d}N{int(y // 100):04d}" for x, y in zip(px, py, strict=True)],
         "inwoners": inwoners, "buurtcode": owner["buurtcode"].fillna("").to_numpy(),
         "afstand_m": distance, "binnen_drempel": distance <= 400},
        geometry=points, crs=RD,
    )


def _venues(rng: np.random.Generator, size: tuple[float, float], n_venues: int = 900) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"osm_id": [f"node/{1000 + i}" for i in range(n_venues)],
         "naam": [f"Buurthuis {i}" if i % 4 else None for i in range(n_venues)],
         "categorie": ["buurthuis"] * n_venues, "categorie_label": ["Buurthuis / wijkcentrum"] * n_venues,
         "ontmoetingspunt": rng.uniform(size=n_venues) < 0.7},
        geometry=shapely.points(rng.uniform([X0, Y0], [X0 + size[0], Y0 + size[1]], size=(n_venues, 2))), crs=RD,
    )


def _streets(rng: np.random.Generator, spacing: float, size: tuple[float, float]) -> gpd.GeoDataFrame:
    """A grid of streets with jittered crossings, half the segments bent in the middle."""
    sx = np.arange(X0, X0 + size[0] + 1, spacing)
    sy = np.arange(Y0, Y0 + size[1] + 1, spacing)
    nodes = np.stack(np.meshgrid(sx, sy), axis=-1) + rng.uniform(-15, 15, (len(sy), len(sx), 2))
    lines = []
    for start, end in ((nodes[:, :-1], nodes[:, 1:]), (nodes[:-1, :], nodes[1:, :])):
        a, b = start.reshape(-1, 2), end.reshape(-1, 2)
        mid = (a + b) / 2 + rng.uniform(-8, 8, a.shape) * (rng.uniform(size=(len(a), 1)) < 0.5)
        lines += [shapely.LineString([p, m, q]) for p, m, q in zip(a, mid, b, strict=True)]
    return gpd.GeoDataFrame(geometry=lines, crs=RD)


def _later_layers(rng: np.random.Generator, buurten: gpd.GeoDataFrame, gaps: gpd.GeoDataFrame) -> dict[str, object]:
    """Proposals on the 25 largest gaps, 20 broker areas, kernen."""
    codes, names = buurten["buurtcode"].tolist(), buurten["buurtnaam"].tolist()
    polygons, people, n = buurten.geometry.to_numpy(), buurten["inwoners"].to_numpy(dtype=float), len(buurten)
    top = gaps.head(25)
    spots = top.geometry.representative_point()
    new = top["inwoners"].to_numpy(dtype=float)
    proposals = gpd.GeoDataFrame(
        {"rank": np.arange(1, len(top) + 1), "naam": [f"Plek {i}" for i in range(len(top))],
         "soort": ["buurtkamer"] * len(top), "buurtcode": codes[: len(top)], "buurtnaam": names[: len(top)],
         "kern": ["Amsterdam"] * len(top), "nieuw_binnen_bereik": new, "cumulatief_binnen_bereik": np.cumsum(new),
         "aandeel_na": np.linspace(0.8, 0.9, len(top)), "kosten_per_jaar": [25_000.0] * len(top),
         "kosten_per_inwoner": 25_000.0 / np.maximum(new, 1)},
        geometry=spots.to_numpy(), crs=RD,
    )
    groups = np.arange(n) % 20
    broker_areas = gpd.GeoDataFrame(
        {"gebied_id": np.arange(1, 21),
         "buurtcodes": [",".join(np.asarray(codes)[groups == g]) for g in range(20)],
         "kernen": ["Amsterdam"] * 20, "inwoners": [float(people[groups == g].sum()) for g in range(20)],
         "werklast": rng.uniform(0.5, 1.5, 20)},
        geometry=[shapely.union_all(np.asarray(polygons, dtype=object)[groups == g]) for g in range(20)], crs=RD,
    )
    kernen = buurten.groupby("kern").agg(inwoners=("inwoners", "sum"), inwoners_binnen_drempel=("inwoners_binnen_drempel", "sum"),
                                         signaal=("signaal", "mean"))
    kernen["aandeel_binnen_drempel"] = kernen["inwoners_binnen_drempel"] / kernen["inwoners"]
    kernen["kern"] = kernen.index
    return {"proposals": proposals, "broker_areas": broker_areas, "kernen": kernen}


def _add_network(result: RunResult) -> None:
    """The engine's network of the streets (ends joined at 1 cm) and the attachments, for the what-if layer."""
    lines = result.streets.geometry.to_numpy()
    ends = np.round(np.vstack([shapely.get_coordinates(shapely.get_point(lines, i)) for i in (0, -1)]) * 100)
    _, node = np.unique(ends, axis=0, return_inverse=True)
    ways = gpd.GeoDataFrame(
        {"u": node[: len(lines)], "v": node[len(lines):], "highway": "residential"}, geometry=lines, crs=RD,
    )
    ways["length"] = ways.length
    result.network = WalkNetwork.from_ways(ways)
    result.resident_att = result.network.attach(result.residents.geometry)
    result.venue_att = result.network.attach(result.venues.geometry)


def synthetic_result(n_buurten: int, n_cells: int, outside: float, street_spacing: float, seed: int = 1) -> RunResult:
    """An Amsterdam-size RunResult with every optional layer filled."""
    rng = np.random.default_rng(seed)
    size = area_for(n_cells)
    buurten = _buurten(rng, n_buurten, size)
    residents = _residents(rng, buurten, n_cells, outside, size)
    gaps = find_gaps(residents, 400.0)
    venues = _venues(rng, size)
    inwoners, distance = residents["inwoners"].to_numpy(), residents["afstand_m"].to_numpy()
    total, within = float(np.nansum(inwoners)), float(np.nansum(inwoners[distance <= 400]))
    result = RunResult(
        gemeente_code="GM0363", gemeente_name="Grootstad (synthetisch)", year=2024, synthetic=True, threshold_m=400.0,
        distance_method="network", buurten=buurten, residents=residents, venues=venues, gaps=gaps,
        indicators={f"indicator_{k}": f"Indicator {k} (%)" for k in range(5)},
        summary={"threshold_m": 400.0, "distance_method": "network", "residents_total": total,
                 "residents_within_threshold": within, "share_within_threshold": within / total,
                 "n_meeting_points": int(venues["ontmoetingspunt"].sum())},
    )
    result.streets = _streets(rng, street_spacing, size)
    _add_network(result)
    for name, frame in _later_layers(rng, buurten, gaps).items():
        setattr(result, name, frame)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buurten", type=int, default=520)
    parser.add_argument("--cells", type=int, default=12_000)
    parser.add_argument("--outside", type=float, default=0.3, help="share of cells beyond 400 m")
    parser.add_argument("--street-spacing", type=float, default=60.0, help="metres between grid streets")
    args = parser.parse_args()

    result = synthetic_result(args.buurten, args.cells, args.outside, args.street_spacing)
    document = maps.map_data(result)
    print(f"street pieces: {len(result.streets)}, {result.streets.length.sum() / 1000:,.0f} km; "
          f"cells beyond 400 m: {int((~result.residents['binnen_drempel']).sum())}; gaps: {len(result.gaps)}")
    for key, part in document.items():
        size = len(json.dumps(part, ensure_ascii=False, separators=(",", ":")).encode())
        if size > 10_000:
            print(f"  {key:<12} {size:>10,} bytes")
    with tempfile.TemporaryDirectory() as tmp:
        path = maps.save_map(maps.build_map(result), Path(tmp) / "kaart.html")
        size = path.stat().st_size
    print(f"map: bytes={size} buurten={len(result.buurten)} cells={len(result.residents)}")


if __name__ == "__main__":
    main()
