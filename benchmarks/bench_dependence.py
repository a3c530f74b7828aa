"""Who depends on one meeting point: the two-pass search against a re-run per meeting point.

Run: ``python benchmarks/bench_dependence.py [--size 12000] [--sample 30]`` on the synthetic
city of ``bench_pipeline.py`` (12,000 m: Amsterdam-size, 9,057 inhabited cells, 600 meeting
points). It times, on the network and attachments of a run:

- ``WalkNetwork.nearest_two``: the nearest and the nearest other meeting point of every cell
  (two Dijkstra passes for all meeting points together);
- the brute force it replaces: the distance step again with one meeting point closed, timed
  for ``--sample`` meeting points (spread over the list) and counted for all of them; the
  residents each closing puts beyond 400 m must equal the two-pass figure (checked on the
  sample, or the script fails).

Last line: ``dependence: nearest_two_s=<s> per_point_s=<s> per_point/nearest_two=<x> meeting_points=<n>``
(``per_point_s``: the brute force for every meeting point, extrapolated from the sample).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from synthetic_city import write_city

from wijkanalyse import model
from wijkanalyse.analysis.dependence import meeting_point_dependence
from wijkanalyse.config import load_config
from wijkanalyse.network import WalkNetwork
from wijkanalyse.sources.files import SnapshotReader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=12_000.0, help="side of the city in metres (multiple of 500)")
    parser.add_argument("--sample", type=int, default=30, help="meeting points re-run one by one")
    args = parser.parse_args()
    config = load_config()
    threshold = config.thresholds.walk_m
    with tempfile.TemporaryDirectory() as tmp:
        reader = SnapshotReader(write_city(Path(tmp) / "city", size=args.size))
        osm = reader.osm(config.osm_tags())
        venues = model.venues_frame(osm.venues, config.venues)
        cells = reader.grid()
        people = pd.to_numeric(cells["aantal_inwoners"], errors="coerce").clip(lower=0).fillna(0).to_numpy(float)
        net = WalkNetwork.from_ways(osm.ways, config.network)
        res_att = net.attach(cells.geometry.centroid)
        meeting = venues[venues["ontmoetingspunt"].astype(bool)]
        targets = net.attach(meeting.geometry)
        now = net.nearest(res_att, targets)

        start = time.perf_counter()
        two = net.nearest_two(res_att, targets)
        two_s = time.perf_counter() - start
        figures = meeting_point_dependence(pd.DataFrame({"inwoners": people}), meeting, two, threshold)

        n = len(meeting)
        sample = np.unique(np.linspace(0, n - 1, min(args.sample, n)).round().astype(int))
        start = time.perf_counter()
        for j in sample:
            after = net.nearest(res_att, targets.take(np.arange(n) != j))
            lost = people[(now <= threshold) & (after > threshold)].sum()
            if lost != figures["inwoners_verliezen_toegang"].iloc[j]:
                sys.exit(f"meeting point {j}: a re-run loses {lost}, the two-pass search says "
                         f"{figures['inwoners_verliezen_toegang'].iloc[j]}")
        per_point_s = (time.perf_counter() - start) / len(sample) * n
    print(f"cells={len(cells)} meeting_points={n} sample={len(sample)} residents_alone="
          f"{figures['inwoners_alleen_hier'].sum():.0f}", file=sys.stderr)
    print(f"dependence: nearest_two_s={two_s:.3f} per_point_s={per_point_s:.2f} "
          f"per_point/nearest_two={per_point_s / two_s:.0f} meeting_points={n}")


if __name__ == "__main__":
    main()
