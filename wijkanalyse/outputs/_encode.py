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

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from wijkanalyse._arrays import ranges

__all__ = [
    "PRECISION",
    "decode_polyline",
    "encode_polyline",
    "encode_polylines",
    "encode_varints",
    "join_lines",
    "polygon_rings",
]

#: Decimal places kept: 5 is about 1.1 m north-south and 0.7 m east-west in the Netherlands.
PRECISION = 5
_FACTOR = 10**PRECISION


def encode_varints(values: Any, signed: bool = True) -> str:
    """Integers as one string: zigzag (when ``signed``), then 5 bits a character, low bits first.

    The alphabet is that of the encoded polylines (``?`` = 63 to ``~`` = 126; a character
    of 95 or more says another follows): a polyline is the varints of its coordinate steps.
    ``kaart_whatif.js`` reads them back with arithmetic, not bit operations, so values up to
    2**53 survive. All in numpy: no Python per value.
    """
    return _varint_chars(values, signed)[0].tobytes().decode("ascii")


def _varint_chars(values: Any, signed: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The characters of :func:`encode_varints` (uint8) and the number of characters per value."""
    v = np.asarray(values, dtype=np.int64).ravel()
    if v.size == 0:
        return np.empty(0, dtype=np.uint8), np.empty(0, dtype=np.int64)
    if signed:
        u = np.where(v < 0, -2 * v - 1, 2 * v).astype(np.uint64)
    else:
        if (v < 0).any():
            msg = "negative value for an unsigned varint"
            raise ValueError(msg)
        u = v.astype(np.uint64)
    width = max(1, -(-int(u.max()).bit_length() // 5))  # characters of the largest value
    shifts = np.arange(width, dtype=np.uint64) * np.uint64(5)
    groups = ((u[:, None] >> shifts[None, :]) & np.uint64(31)).astype(np.uint8)
    n_groups = np.ones(len(u), dtype=np.int64)
    for shift in range(1, width):
        n_groups += u >= np.uint64(1) << np.uint64(5 * shift)
    place = np.arange(width)
    groups += 63 + np.where(place[None, :] < n_groups[:, None] - 1, 32, 0).astype(np.uint8)
    return groups[place[None, :] < n_groups[:, None]], n_groups


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
    return encode_polylines([np.asarray(coords if isinstance(coords, np.ndarray) else list(coords), dtype=float)])[0]


def encode_polylines(lines: Sequence[np.ndarray]) -> list[str]:
    """:func:`encode_polyline` of many ``(n, 2)`` lon/lat arrays at once (one numpy pass for all)."""
    if not len(lines):
        return []
    arrays = [np.asarray(a, dtype=float).reshape(-1, 2) for a in lines]
    sizes = np.array([len(a) for a in arrays], dtype=np.int64)
    if not sizes.sum():
        return [""] * len(arrays)
    ints = np.round(np.concatenate(arrays)[:, ::-1] * _FACTOR).astype(np.int64)  # lat, lon
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    starts = np.cumsum(sizes) - sizes
    firsts = starts[sizes > 0]
    deltas[firsts] = ints[firsts]  # every line starts from (0, 0)
    chars, per_value = _varint_chars(deltas.ravel())
    offsets = np.concatenate([[0], np.cumsum(per_value)])[2 * np.append(starts, sizes.sum())]  # 2 values a vertex
    text = chars.tobytes().decode("ascii")
    return [text[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]


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
        out.append(encode_polylines([shapely.get_coordinates(ring)[:-1] for ring in rings]))
    return out


def _pieces(lines: Iterable[BaseGeometry]) -> np.ndarray:
    """The distinct LineString parts of ``lines`` (first occurrence kept, in input order)."""
    geoms = np.asarray(lines if isinstance(lines, np.ndarray) else list(lines), dtype=object).ravel()
    geoms = geoms[~shapely.is_missing(geoms)]
    if len(geoms) == 0:
        return np.empty(0, dtype=object)
    parts = shapely.get_parts(geoms)  # a MultiLineString or collection: its members; other types: themselves
    parts = parts[(shapely.get_type_id(parts) == shapely.GeometryType.LINESTRING) & ~shapely.is_empty(parts)]
    if len(parts) == 0:
        return parts
    # a piece given twice (once per direction) is drawn once: same normalized WKB
    first: dict[bytes, int] = {}
    for i, wkb in enumerate(shapely.to_wkb(shapely.normalize(parts)).tolist()):
        first.setdefault(wkb, i)
    return parts[np.fromiter(first.values(), dtype=np.int64, count=len(first))]


def join_lines(lines: Iterable[BaseGeometry]) -> list[np.ndarray]:
    """Join line pieces that meet end to end into long paths, to store them compactly.

    A street network arrives as one piece per street segment (often twice, once per
    direction). Drawing it needs only paths that cover every piece once: duplicates are
    dropped, pieces that share an end point (to 0.1 m) are chained, at a crossing any
    unused piece is taken next. The paths cover exactly the input pieces.

    Pieces, their end points and the paths' coordinates are numpy arrays (shapely's
    vectorised functions); only the walk from piece to piece is a Python loop, over
    integer piece and node numbers. The walk is the one of the per-piece version before
    it (same start order, same choice at a crossing), so the paths are the same arrays.

    Parameters
    ----------
    lines
        LineStrings or MultiLineStrings in a metric CRS.

    Returns
    -------
    list of numpy.ndarray
        One ``(n, 2)`` coordinate array per path.
    """
    parts = _pieces(lines)
    if len(parts) == 0:
        return []
    coords = shapely.get_coordinates(parts)
    count = shapely.get_num_coordinates(parts).astype(np.int64)
    offset = np.cumsum(count) - count
    segments, path_segments = _walk(coords, count, offset)
    return _paths(coords, count, offset, segments, path_segments)


def _node_numbers(keys: np.ndarray) -> np.ndarray:
    """One number per distinct row of ``keys`` (integer x, y): two 32-bit halves of one int64 when they fit."""
    if len(keys) and np.abs(keys).max() < 2**31:
        _, node = np.unique((keys[:, 0] << 32) | (keys[:, 1] & 0xFFFFFFFF), return_inverse=True)
    else:
        _, node = np.unique(keys, axis=0, return_inverse=True)
    return node.ravel()


def _walk(coords: np.ndarray, count: np.ndarray, offset: np.ndarray) -> tuple[tuple[list, ...], list[int]]:
    """The paths of :func:`join_lines` as pieces: (piece, reversed, drop first vertex, drop last), pieces per path."""
    # end points to 0.1 m (Python's round and numpy's both round half to even) as node numbers
    ends = coords[np.column_stack([offset, offset + count - 1]).ravel()]
    node = _node_numbers(np.round(ends * 10).astype(np.int64))
    start_node, end_node = node[0::2].tolist(), node[1::2].tolist()
    n_pieces = len(count)
    # pieces at each node, in input order (start before end): CSR lists
    by_node = np.argsort(node, kind="stable")
    at_node = (by_node // 2).tolist()
    degree = np.bincount(node, minlength=int(node.max()) + 1)
    first_at = np.concatenate([[0], np.cumsum(degree)]).tolist()
    cursor = first_at[:-1]  # the first entry at a node that may be unused (used ones before it)
    used = [False] * n_pieces

    def take(at: int) -> int:
        """An unused piece at node ``at`` (marked used), or -1."""
        k, stop = cursor[at], first_at[at + 1]
        while k < stop and used[at_node[k]]:
            k += 1
        cursor[at] = k
        if k == stop:
            return -1
        j = at_node[k]
        used[j] = True
        return j

    # Start at nodes where an odd number of pieces meet: paths end there anyway.
    order = np.argsort(-(degree[node[0::2]] % 2), kind="stable").tolist()
    seg_piece: list[int] = []  # the paths as pieces in drawing order: piece, reversed, vertex dropped at start / end
    seg_rev: list[bool] = []
    seg_drop_first: list[bool] = []
    seg_drop_last: list[bool] = []
    path_segments: list[int] = []
    for i in order:
        if used[i]:
            continue
        used[i] = True
        tail = [(i, False)]
        at = end_node[i]
        while (j := take(at)) >= 0:
            rev = start_node[j] != at
            tail.append((j, rev))
            at = start_node[j] if rev else end_node[j]
        head = []  # pieces before the start, nearest first, each drawn towards the start
        at = start_node[i]
        while (j := take(at)) >= 0:
            rev = start_node[j] == at  # it leaves the node: drawn towards it, reversed
            head.append((j, rev))
            at = end_node[j] if rev else start_node[j]
        for j, rev in reversed(head):
            seg_piece.append(j)
            seg_rev.append(rev)
            seg_drop_first.append(False)
            seg_drop_last.append(True)
        for k, (j, rev) in enumerate(tail):
            seg_piece.append(j)
            seg_rev.append(rev)
            seg_drop_first.append(k > 0)
            seg_drop_last.append(False)
        path_segments.append(len(head) + len(tail))
    return (seg_piece, seg_rev, seg_drop_first, seg_drop_last), path_segments


def _paths(
    coords: np.ndarray, count: np.ndarray, offset: np.ndarray, segments: tuple[list, ...], path_segments: list[int],
) -> list[np.ndarray]:
    """The coordinates of the walked paths (:func:`_walk`), one fancy index into ``coords``."""
    seg_piece, seg_rev, seg_drop_first, seg_drop_last = segments
    piece = np.asarray(seg_piece, dtype=np.int64)
    rev_arr = np.asarray(seg_rev, dtype=bool)
    drop_first = np.asarray(seg_drop_first, dtype=np.int64)
    n_keep = count[piece] - drop_first - np.asarray(seg_drop_last, dtype=np.int64)
    seg_of = np.repeat(np.arange(len(piece)), n_keep)
    q = ranges(drop_first, n_keep)  # each kept vertex's position in its piece
    p_of = piece[seg_of]
    index = offset[p_of] + np.where(rev_arr[seg_of], count[p_of] - 1 - q, q)
    starts = (np.cumsum(path_segments) - path_segments).astype(np.int64)  # where each path's segments begin
    path_len = np.add.reduceat(n_keep, starts)
    return np.split(coords[index], np.cumsum(path_len)[:-1])
