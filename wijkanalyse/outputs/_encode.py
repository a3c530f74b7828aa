"""Compact geometry for the map page: encoded polylines, joined street paths.

The map carries its geometry as *encoded polylines* (the algorithm of the Google Maps
polyline format, precision 5: 1e-5 degree, about 1 m): each coordinate is stored as the
difference to the previous one, in a few printable ASCII characters. A ring of a buurt
costs about a quarter of its GeoJSON text. The alphabet is ``?`` (63) to ``~`` (126), so an
encoded string never holds ``<``, ``&`` or a quote; the backslash (92) can occur and is
escaped by the JSON encoder like any other.

Everything here is geometry for display; no figure is computed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = [
    "PRECISION",
    "decode_polyline",
    "encode_polyline",
    "join_lines",
    "polygon_rings",
]

#: Decimal places kept: 5 is about 1.1 m north-south and 0.7 m east-west in the Netherlands.
PRECISION = 5
_FACTOR = 10**PRECISION


def encode_polyline(coords: Iterable[Sequence[float]]) -> str:
    """Encode ``(lon, lat)`` pairs as one polyline string (stored as lat, lon).

    Parameters
    ----------
    coords
        Longitude/latitude pairs in EPSG:4326 (as shapely gives them).

    Returns
    -------
    str
        The encoded string; :func:`decode_polyline` and the map's JavaScript read it back,
        rounded to :data:`PRECISION` decimals.
    """
    array = np.asarray(list(coords), dtype=float).reshape(-1, 2)
    if array.size == 0:
        return ""
    ints = np.round(array[:, ::-1] * _FACTOR).astype(np.int64)  # lat, lon
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    out: list[str] = []
    for value in deltas.tolist():
        v = ~(value << 1) if value < 0 else value << 1
        while v >= 0x20:
            out.append(chr((0x20 | (v & 0x1F)) + 63))
            v >>= 5
        out.append(chr(v + 63))
    return "".join(out)


def decode_polyline(text: str) -> list[tuple[float, float]]:
    """Decode a polyline string into ``(lon, lat)`` pairs (the inverse of :func:`encode_polyline`)."""
    values: list[int] = []
    shift = result = 0
    for char in text:
        byte = ord(char) - 63
        result |= (byte & 0x1F) << shift
        shift += 5
        if byte < 0x20:
            values.append(~(result >> 1) if result & 1 else result >> 1)
            shift = result = 0
    ints = np.cumsum(np.asarray(values, dtype=np.int64).reshape(-1, 2), axis=0)
    return [(lon / _FACTOR, lat / _FACTOR) for lat, lon in ints.tolist()]


def polygon_rings(geom: BaseGeometry | None) -> list[list[str]]:
    """A (multi)polygon as a list of polygons, each a list of encoded rings (exterior first).

    Rings are stored without their closing vertex (Leaflet closes polygons itself); empty
    or missing geometry gives an empty list.
    """
    if geom is None or geom.is_empty:
        return []
    polygons = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    out: list[list[str]] = []
    for polygon in polygons:
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        rings = [polygon.exterior, *polygon.interiors]
        out.append([encode_polyline(np.asarray(ring.coords)[:-1]) for ring in rings])
    return out


def _key(point: np.ndarray) -> tuple[int, int]:
    return (round(float(point[0]) * 10), round(float(point[1]) * 10))


def join_lines(lines: Iterable[BaseGeometry]) -> list[np.ndarray]:
    """Join line pieces that meet end to end into long paths, to store them compactly.

    A street network arrives as one piece per street segment (often twice, once per
    direction). Drawing it needs only paths that cover every piece once: duplicates are
    dropped, pieces that share an end point (to 0.1 m) are chained, at a crossing any
    unused piece is taken next. The paths cover exactly the input pieces.

    Parameters
    ----------
    lines
        LineStrings or MultiLineStrings in a metric CRS.

    Returns
    -------
    list of numpy.ndarray
        One ``(n, 2)`` coordinate array per path.
    """
    pieces: list[np.ndarray] = []
    seen: set[bytes] = set()
    for geom in lines:
        if geom is None or geom.is_empty:
            continue
        for part in getattr(geom, "geoms", [geom]):
            if part.geom_type != "LineString" or part.is_empty:
                continue
            wkb = shapely.normalize(part).wkb
            if wkb in seen:
                continue
            seen.add(wkb)
            coords = np.asarray(part.coords, dtype=float)[:, :2]
            if len(coords) >= 2:
                pieces.append(coords)

    at_node: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, coords in enumerate(pieces):
        at_node[_key(coords[0])].append(i)
        at_node[_key(coords[-1])].append(i)
    used = np.zeros(len(pieces), dtype=bool)

    def take(node: tuple[int, int]) -> np.ndarray | None:
        for j in at_node[node]:
            if not used[j]:
                used[j] = True
                coords = pieces[j]
                return coords if _key(coords[0]) == node else coords[::-1]
        return None

    # Start at nodes where an odd number of pieces meet: paths end there anyway.
    order = sorted(range(len(pieces)), key=lambda i: -(len(at_node[_key(pieces[i][0])]) % 2))
    paths: list[np.ndarray] = []
    for i in order:
        if used[i]:
            continue
        used[i] = True
        parts = [pieces[i]]
        while (nxt := take(_key(parts[-1][-1]))) is not None:
            parts.append(nxt[1:])
        head: list[np.ndarray] = []  # pieces before the start, nearest first
        while (prev := take(_key((head[-1] if head else parts[0])[0]))) is not None:
            head.append(prev[::-1][:-1])
        paths.append(np.concatenate([*head[::-1], *parts]))
    return paths
