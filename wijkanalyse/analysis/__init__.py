"""Pure analysis functions: frames in, frames or Series out; no I/O, no global settings."""

from __future__ import annotations

from wijkanalyse.analysis.coverage import buurt_coverage, network_distance, straight_line_distance
from wijkanalyse.analysis.gaps import find_gaps
from wijkanalyse.analysis.hotspots import local_moran_hotspots
from wijkanalyse.analysis.signal import composite_signal

__all__ = [
    "buurt_coverage",
    "composite_signal",
    "find_gaps",
    "local_moran_hotspots",
    "network_distance",
    "straight_line_distance",
]
