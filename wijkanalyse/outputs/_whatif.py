"""The map's what-if: the engine's walking network, shipped so the browser can walk it.

A coordinator taps "Zet hier een ontmoetingsplek" and a place, or closes a meeting point,
and the page shows who comes within (or falls beyond) the threshold. The page has no
server: ``static/kaart_whatif.js`` attaches the tapped point and runs a bounded Dijkstra
itself, over *the engine's graph* (:class:`wijkanalyse.network.WalkNetwork`), so its
numbers equal the Python engine's to the resident.

What is shipped (:func:`whatif_part`)
    * every walkable way of the parts of the network a point can attach to: its two ends
      (node numbers), its length and, when it is eligible for attachment, its shape
      (the interior vertices in RD centimetres; vertices within 1 cm of the line through
      their neighbours are dropped);
    * the RD position of every node, in centimetres;
    * per resident cell (in the order of ``result.residents``): its residents, buurt,
      whether it lies within the threshold now (the engine's figure) and its attachment
      rows (way, metres along it, perpendicular stretch; a tie gives several rows, as in
      :class:`wijkanalyse.network.Attachment`);
    * per meeting point on the network: its attachment rows;
    * a polynomial from longitude/latitude to RD (fitted with pyproj over the map's extent,
      error well below a centimetre), so the tapped point is attached in metres.

Lengths, offsets and the threshold are integers in units of 10 micrometres, so the browser
adds exactly; a path of a hundred ways is off by at most half a millimetre from the engine's
floating-point sum. Numbers are stored as zigzag varints in the polyline alphabet
(``?`` to ``~``): nothing needs escaping in HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import shapely

from wijkanalyse._crs import to_rd
from wijkanalyse.network import _TIE_M, Attachment, WalkNetwork
from wijkanalyse.outputs._encode import encode_polyline, encode_varints
from wijkanalyse.outputs.style import GAIN_COLOR, LOSS_COLOR

__all__ = ["UNIT_M", "decode_varints", "encode_varints", "fit_projection", "project", "whatif_part"]

#: Metres per unit of the shipped lengths: 10 micrometres.
UNIT_M = 1e-5
_SHAPE_TOLERANCE_M = 0.01
_CM = 100.0
_EXPONENTS = [(i, d - i) for d in range(4) for i in range(d, -1, -1)]  # cubic: 1, u, v, u2, uv, v2, ...


# --------------------------------------------------------------------------- numbers as text


def decode_varints(text: str, signed: bool = True) -> list[int]:
    """The inverse of :func:`encode_varints`."""
    out: list[int] = []
    shift = result = 0
    for char in text:
        byte = ord(char) - 63
        result |= (byte & 31) << shift
        shift += 5
        if byte < 32:
            out.append((-(result + 1) // 2 if result & 1 else result // 2) if signed else result)
            shift = result = 0
    return out


# --------------------------------------------------------------------------- longitude/latitude -> RD


def fit_projection(bounds: list[list[float]], margin_deg: float = 0.05) -> dict[str, Any]:
    """A cubic polynomial from (lon, lat) to RD x and y, fitted over ``bounds`` (south-west, north-east) plus a margin.

    Returns ``{"lon0", "lat0", "s", "x", "y", "err_m"}``: ``u = (lon - lon0) * s``,
    ``v = (lat - lat0) * s``, x = sum of ``x[k] * u**i * v**j`` over the exponents
    (1, u, v, u², uv, v², u³, u²v, uv², v³); ``err_m`` is the largest error on a finer check grid.
    """
    (south, west), (north, east) = bounds
    south, west, north, east = south - margin_deg, west - margin_deg, north + margin_deg, east + margin_deg
    lon0, lat0 = (west + east) / 2, (south + north) / 2
    scale = 1.0 / max(east - west, north - south, 1e-3)
    transformer = to_rd()

    def design(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        u, v = (lon - lon0) * scale, (lat - lat0) * scale
        return np.column_stack([u**i * v**j for i, j in _EXPONENTS])

    lon, lat = np.meshgrid(np.linspace(west, east, 30), np.linspace(south, north, 30))
    x, y = transformer.transform(lon.ravel(), lat.ravel())
    a = design(lon.ravel(), lat.ravel())
    cx = np.linalg.lstsq(a, x, rcond=None)[0]
    cy = np.linalg.lstsq(a, y, rcond=None)[0]
    lon, lat = np.meshgrid(np.linspace(west, east, 47), np.linspace(south, north, 47))
    x, y = transformer.transform(lon.ravel(), lat.ravel())
    a = design(lon.ravel(), lat.ravel())
    err = float(np.max(np.hypot(a @ cx - x, a @ cy - y)))
    return {"lon0": lon0, "lat0": lat0, "s": scale, "x": cx.tolist(), "y": cy.tolist(), "err_m": err}


def project(proj: Mapping[str, Any], lon: float, lat: float) -> tuple[float, float]:
    """RD (x, y) of a point by the polynomial of :func:`fit_projection` (as ``kaart_whatif.js`` computes it)."""
    u, v = (lon - proj["lon0"]) * proj["s"], (lat - proj["lat0"]) * proj["s"]
    terms = [u**i * v**j for i, j in _EXPONENTS]
    return (sum(c * t for c, t in zip(proj["x"], terms, strict=True)),
            sum(c * t for c, t in zip(proj["y"], terms, strict=True)))


# --------------------------------------------------------------------------- the part


def _units(values: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(values, dtype=float) / UNIT_M + 0.5).astype(np.int64)


def _rows(att: Attachment, n: int, edge_map: np.ndarray) -> dict[str, str]:
    """The attachment rows of ``n`` points, grouped by point: row count, way (delta), along, offset."""
    point, edge, along, offset = att.rows()
    keep = edge_map[edge] >= 0
    point, edge, along, offset = point[keep], edge_map[edge[keep]], along[keep], offset[keep]
    order = np.lexsort((edge, point))
    point, edge, along, offset = point[order], edge[order], along[order], offset[order]
    return {
        "k": encode_varints(np.bincount(point, minlength=n), signed=False),
        "e": encode_varints(np.diff(edge, prepend=0)),
        "a": encode_varints(_units(along), signed=False),
        "o": encode_varints(_units(offset), signed=False),
    }


def _graph(network: WalkNetwork) -> tuple[dict[str, str], np.ndarray]:
    """The ways and nodes to ship, and the shipped number of each engine way (-1: not shipped)."""
    # a part of the network without an eligible way can never be walked from a point
    useful = np.zeros(int(network.component.max()) + 1 if network.n_ways else 0, dtype=bool)
    useful[network.component[network.attachable]] = True
    ways = np.flatnonzero(useful[network.component])
    starts = shapely.get_coordinates(shapely.get_point(network.geometry[ways], 0))
    ends = shapely.get_coordinates(shapely.get_point(network.geometry[ways], -1))
    node_xy = np.zeros((network.n_nodes, 2))
    node_xy[network.v[ways]] = ends
    node_xy[network.u[ways]] = starts
    used = np.unique(np.r_[network.u[ways], network.v[ways]])
    cm = np.floor(node_xy[used] * _CM + 0.5).astype(np.int64)
    node_order = np.lexsort((cm[:, 0], cm[:, 1] // 25_000))  # bands of 250 m, west to east: small steps
    new_node = np.full(network.n_nodes, -1, dtype=np.int64)
    new_node[used[node_order]] = np.arange(len(used))
    cm = cm[node_order]
    u, v = new_node[network.u[ways]], new_node[network.v[ways]]
    order = np.lexsort((v, u))
    ways, u, v = ways[order], u[order], v[order]
    edge_map = np.full(network.n_ways, -1, dtype=np.int64)
    edge_map[ways] = np.arange(len(ways))

    eligible = network.attachable[ways]
    shapes = shapely.simplify(network.geometry[ways[eligible]], _SHAPE_TOLERANCE_M, preserve_topology=False)
    coords, index = shapely.get_coordinates(shapes, return_index=True)
    counts = np.bincount(index, minlength=len(shapes))
    first = np.r_[0, np.cumsum(counts)[:-1]]
    interior = np.ones(len(coords), dtype=bool)
    interior[first] = False
    interior[first + counts - 1] = False
    code = np.zeros(len(ways), dtype=np.int64)
    code[eligible] = counts - 1  # 0: not eligible; k + 1: eligible with k interior vertices
    # each interior vertex as a step from the previous vertex of its way (the first from the start node)
    coords_cm = np.floor(coords * _CM + 0.5).astype(np.int64)
    coords_cm[first] = cm[u[eligible]]
    steps = np.diff(coords_cm, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))[interior]
    graph = {
        "nodes": encode_varints(np.diff(cm, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()),
        "u": encode_varints(np.diff(u, prepend=0), signed=False),
        "v": encode_varints(v - u),
        "len": encode_varints(_units(network.length[ways]), signed=False),
        "g": encode_varints(code, signed=False),
        "xy": encode_varints(steps.ravel()),
    }
    return graph, edge_map


def whatif_part(result: Any, buurt_index: Mapping[str, int], bounds: list[list[float]]) -> dict[str, Any] | None:
    """The what-if document of the map, or None without the engine's network (straight-line runs, old results).

    ``result`` needs ``network``, ``resident_att`` and ``venue_att`` (set by the pipeline);
    ``buurt_index`` numbers the buurten as the map does; ``bounds`` is the map's extent.
    The meeting points are numbered as the map's venue layer numbers them (the venues with
    a geometry, in order).
    """
    network: WalkNetwork | None = getattr(result, "network", None)
    resident_att: Attachment | None = getattr(result, "resident_att", None)
    venue_att: Attachment | None = getattr(result, "venue_att", None)
    residents, venues = result.residents, result.venues
    if (network is None or resident_att is None or venue_att is None or result.distance_method != "network"
            or len(residents) != len(resident_att) or len(venues) != len(venue_att) or not network.attachable.any()):
        return None
    graph, edge_map = _graph(network)

    people = pd.to_numeric(residents["inwoners"], errors="coerce").to_numpy(dtype=float)
    codes = residents["buurtcode"].astype(str).to_numpy() if "buurtcode" in residents else np.array([""] * len(residents))
    within = residents["binnen_drempel"].to_numpy(dtype=bool)
    centres = residents.geometry.centroid.to_crs("EPSG:4326")
    cells = {
        "p": encode_polyline(shapely.get_coordinates(centres.to_numpy())),
        "n": encode_varints(np.where(np.isfinite(people), np.round(np.nan_to_num(people)), -1)),
        "b": encode_varints([buurt_index.get(c, -1) for c in codes]),
        "w": "".join("1" if w else "0" for w in within.tolist()),
        **_rows(resident_att, len(residents), edge_map),
    }

    has_geometry = (venues.geometry.notna() & ~venues.geometry.is_empty).to_numpy()
    map_index = np.cumsum(has_geometry) - 1  # the venue layer's number of each venue
    meeting = venues["ontmoetingspunt"].fillna(False).astype(bool).to_numpy() & has_geometry & venue_att.on_network
    chosen = np.flatnonzero(meeting)
    points = {"i": encode_varints(np.diff(map_index[chosen], prepend=0), signed=False),
              **_rows(venue_att.take(meeting), len(chosen), edge_map)}

    threshold_m = float((result.summary or {}).get("threshold_m", result.threshold_m))
    return {
        "unit": UNIT_M,
        "threshold": int(_units(np.array([threshold_m]))[0]),
        "max_attach_m": float(network.rules.max_attach_m),
        "tie_m": _TIE_M,
        "proj": fit_projection(bounds),
        "graph": graph,
        "cells": cells,
        "meeting": points,
        "colors": {"gain": GAIN_COLOR, "loss": LOSS_COLOR},
    }
