"""Siting on a synthetic Amsterdam-size city: the coverage structure and the selection of 20 sites.

Run: ``python benchmarks/bench_siting.py [--size 12000]`` (``--size``: the side of the square
city in metres, a multiple of 500). On the city of ``synthetic_city.py`` (9,057
inhabited cells, a 602,000-node walking network, 600 meeting points) the candidates are the
2,400 venues that are not meeting points plus the centre of every gap, as in a run. Measured
in this one run:

- the coverage structure: attaching every candidate to the network and one bounded Dijkstra
  search per candidate (``limit=`` 400 m), giving the sparse candidate x resident matrix;
- the selection: greedy by marginal gain plus swaps (the default), p = 20;
- the exact model (HiGHS, or CBC where HiGHS is missing; time limit 120 s) on the same instance, for greedy/exact;
- peak memory of the process.

Last line: ``siting: seconds=<s> greedy/exact=<r> peak_gib=<g>`` where seconds is coverage
structure + selection. Targets on 2 cores: seconds <= 20, greedy/exact >= 0.98.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd

sys.path.insert(0, str(Path(__file__).parent))
from synthetic_city import osm_node_count, write_city

from wijkanalyse import model
from wijkanalyse.analysis import find_gaps
from wijkanalyse.analysis.candidates import candidate_sites, gap_centres
from wijkanalyse.analysis.siting import available_solver, exact_mclp, greedy_swap
from wijkanalyse.config import load_config
from wijkanalyse.network import WalkNetwork
from wijkanalyse.sources.files import SnapshotReader

P = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=12_000.0, help="side of the square city (m, a multiple of 500)")
    args = parser.parse_args()
    config = load_config()
    with tempfile.TemporaryDirectory(prefix="bench-siting-") as tmp:
        snap = write_city(Path(tmp) / "snap", size=args.size)
        reader = SnapshotReader(snap)
        cbs = model.cbs_frame(reader.cbs_rows())
        buurten = model.buurten_frame(reader.buurten(), cbs, reader.manifest.gemeente_code, config.indicators)
        residents = model.residents_frame(reader.grid(), buurten)
        osm = reader.osm(config.osm_tags())
        venues = model.venues_frame(osm.venues, config.venues)
        meeting = venues[venues["ontmoetingspunt"].astype(bool)]
        net = WalkNetwork.from_ways(osm.ways, config.network)
        res_att = net.attach(residents.geometry)
        residents["afstand_m"] = net.nearest(res_att, net.attach(meeting.geometry))
        residents["binnen_drempel"] = residents["afstand_m"] <= config.thresholds.walk_m
        gaps = find_gaps(residents, config.thresholds.walk_m)
        candidates = candidate_sites(
            venues, config.venues, candidate_classes=config.siting.candidate_classes, own=None,
            centres=gap_centres(gaps, residents), buurten=buurten,
        )
        print(f"city: {len(residents)} inhabited cells, {osm_node_count(osm.ways)} OSM nodes, "
              f"{len(meeting)} meeting points, {len(candidates)} candidates, p = {P}")

        start = time.perf_counter()
        cover = net.within(net.attach(candidates.geometry), res_att, config.thresholds.walk_m).astype(bool)
        t_cover = time.perf_counter() - start
        weights = residents["inwoners"].fillna(0.0).to_numpy()
        covered0 = residents["binnen_drempel"].to_numpy()

        start = time.perf_counter()
        greedy = greedy_swap(cover, weights, covered0, P)
        t_greedy = time.perf_counter() - start

        start = time.perf_counter()
        exact = exact_mclp(cover, weights, covered0, P, time_limit_s=120)
        t_exact = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

        print(f"coverage structure: {t_cover:.2f} s, {cover.nnz} candidate-resident pairs within "
              f"{config.thresholds.walk_m:g} m (a dense matrix would hold {cover.shape[0] * cover.shape[1]})")
        print(f"greedy + swaps: {t_greedy:.3f} s, reaches {greedy.objective:.0f} more residents")
        print(f"exact ({available_solver()}): {t_exact:.2f} s, status {exact.status}, reaches {exact.objective:.0f}, gap {exact.gap}")
        ratio = greedy.objective / exact.objective if exact.objective else float("nan")
        if not exact.optimal:
            print("note: the exact model stopped at its time limit; greedy/exact is against its best answer")
        print(f"siting: seconds={t_cover + t_greedy:.2f} greedy/exact={ratio:.4f} peak_gib={peak:.2f}")


if __name__ == "__main__":
    gpd.options.io_engine = "pyogrio"
    main()
