"""The one coordinate transformation the sources and the map's what-if need: longitude/latitude (EPSG:4326) to RD New (EPSG:28992)."""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["RD", "to_rd"]

RD = "EPSG:28992"


@functools.cache
def to_rd() -> Any:
    """pyproj's ``Transformer`` from lon/lat to RD New (x, y), made on first use.

    Making one reads PROJ's database (15-40 ms of CPU), so it is made once per process
    (a national worker: once, not once per gemeente), and a run that reads no
    OpenStreetMap file, own points or scenario file and writes no map does not pay it.
    """
    from pyproj import Transformer  # noqa: PLC0415

    return Transformer.from_crs("EPSG:4326", RD, always_xy=True)
