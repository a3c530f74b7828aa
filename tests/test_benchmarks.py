"""Every benchmark script runs at a tiny size and ends with its documented last line.

Each ``benchmarks/bench_*.py`` must have an entry in ``BENCHMARKS`` (a new script without one
fails ``test_every_benchmark_is_run``): the small-size arguments, and the name and keys of
its last line ``name: key=value ...``, every value a finite number.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: script -> (tiny-size arguments, name of the last line, its keys in order)
BENCHMARKS: dict[str, tuple[list[str], str, list[str]]] = {
    "bench_pipeline.py": (["--size", "2000"], "pipeline",
                          ["nodes", "seconds", "cpu_s", "peak_gib", "ours/csgraph", "networkx_multi/ours", "growth_2m/0.5m",
                           "growth_5m/2m", "brokers_share", "printmaps_share"]),
    "bench_siting.py": (["--size", "2000"], "siting", ["seconds", "greedy/exact", "peak_gib"]),
    "bench_dependence.py": (["--size", "2000", "--sample", "4"], "dependence",
                            ["nearest_two_s", "per_point_s", "per_point/nearest_two", "meeting_points"]),
    "bench_selection.py": (["--residents", "400", "--candidates", "60", "--p", "5", "--limit", "30"], "selection",
                           ["greedy_swap_ms", "exact_s", "greedy/exact"]),
    "bench_map.py": (["--buurten", "30", "--cells", "600", "--street-spacing", "400"], "map", ["bytes", "buurten", "cells"]),
    "bench_national.py": (["--gemeenten", "2", "--workers", "1"], "national",
                          ["gemeenten", "nodes", "seconds", "cpu_s", "peak_gib", "per_gemeente_cpu_s", "osm_pass_s"]),
    "bench_osm.py": (["--gemeenten", "1"], "osm", ["pyosmium_s", "pyosmium_gib", "pyrosm_s", "pyrosm_gib", "osmnx_s",
                                                   "osmnx_gib", "snapshot_s", "pyosmium_cpp_s", "xml_check_s", "pyrosm/pyosmium",
                                                   "osmnx/snapshot", "read_osm/pyosmium_cpp"]),
}


def test_every_benchmark_is_run() -> None:
    assert sorted(p.name for p in (ROOT / "benchmarks").glob("bench_*.py")) == sorted(BENCHMARKS)


def _last_line(script: str, args: list[str]) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def _fields(line: str, name: str) -> dict[str, float]:
    match = re.fullmatch(rf"{re.escape(name)}: (\S+=\S+(?: \S+=\S+)*)", line)
    assert match, line
    fields = dict(pair.split("=", 1) for pair in match.group(1).split(" "))
    values = {key: float(value) for key, value in fields.items()}
    assert all(math.isfinite(v) for v in values.values()), line
    return values


@pytest.mark.parametrize("script", sorted(BENCHMARKS))
def test_benchmark_last_line(script: str) -> None:
    args, name, keys = BENCHMARKS[script]
    values = _fields(_last_line(script, args), name)
    assert list(values) == keys
    assert all(v >= 0 for v in values.values())
    if script == "bench_map.py":
        assert (values["buurten"], values["cells"]) == (30, 600)
        assert values["bytes"] > 150_000  # Leaflet alone is about 150 kB
    if script == "bench_national.py":
        assert values["gemeenten"] == 2
    if script in {"bench_siting.py", "bench_selection.py"}:
        assert 0 < values["greedy/exact"] <= 1


def test_last_line_shape_is_checked() -> None:
    with pytest.raises(AssertionError):
        _fields("pipeline: seconds=nan peak_gib=0.4", "pipeline")
    with pytest.raises(AssertionError):
        _fields("pipeline: seconds=1.0 peak_gib", "pipeline")
    assert _fields("map: bytes=3 cells=2", "map") == {"bytes": 3.0, "cells": 2.0}
