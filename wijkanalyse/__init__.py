"""wijkanalyse: where social problems cluster in a gemeente, and who lives too far from a meeting point.

The pipeline runs in one direction: sources (a snapshot folder) -> model (canonical
GeoDataFrames in EPSG:28992) -> analysis (coverage, signal, hot spots, gaps) -> outputs
(map, GeoPackage, CSV, JSON) in ``kaarten/``.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
