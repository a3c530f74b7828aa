"""The map benchmark runs and prints its documented last line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_map_prints_size_line() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_map.py"), "--buurten", "30", "--cells", "600",
         "--street-spacing", "400"],
        capture_output=True, text=True, check=True, env=env,
    ).stdout
    last = out.strip().splitlines()[-1]
    match = re.fullmatch(r"map: bytes=(\d+) buurten=(\d+) cells=(\d+)", last)
    assert match, last
    assert (int(match.group(2)), int(match.group(3))) == (30, 600)
    assert int(match.group(1)) > 150_000  # Leaflet alone is about 150 kB
