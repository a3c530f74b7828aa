"""An independent walking-distance computation for tests: shapely for the feet, networkx for the walks.

It follows the attachment rule of :mod:`wijkanalyse.network` as written in its docstring, but
shares none of its code: each point is projected onto every segment of every eligible way
(foot of the perpendicular, clamped to the segment), the nearest way within ``max_attach_m``
and every eligible way within half a metre of it are the point's attachments, each way
carrying feet is cut into pieces at them, and the shortest walks come from networkx's
Dijkstra on that graph (``nx.MultiGraph``: parallel ways and loop ways stay as they are).

A walk never passes through a point: from a resident it starts at one of its feet (plus the
straight stretch to it) and it ends at a foot of a meeting point (plus that stretch).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise

import networkx as nx
import numpy as np
import shapely

TIE_M = 0.5  # the rule: ways within half a metre of a point's nearest way are as near


def components(u: Sequence, v: Sequence, length: Sequence[float]) -> tuple[list[int], list[float]]:
    """The connected part of each way (by networkx) and the total way length of each part."""
    graph = nx.MultiGraph()
    for k, (a, b) in enumerate(zip(u, v, strict=True)):
        graph.add_edge(a, b, key=k)
    label = {}
    for i, part in enumerate(nx.connected_components(graph)):
        label.update(dict.fromkeys(part, i))
    part_of = [label[a] for a in u]
    totals = [0.0] * (max(part_of) + 1 if part_of else 0)
    for p, m in zip(part_of, length, strict=True):
        totals[p] += float(m)
    return part_of, totals


def foot(line: shapely.LineString, point: shapely.Point) -> tuple[float, float]:
    """(distance, metres along ``line``) of the nearest point of ``line``, segment by segment."""
    xy = np.asarray(line.coords)
    px, py = point.x, point.y
    best, best_along, start = np.inf, 0.0, 0.0
    for (x0, y0), (x1, y1) in pairwise(xy):
        dx, dy = x1 - x0, y1 - y0
        seg = float(np.hypot(dx, dy))
        t = 0.0 if seg == 0 else min(1.0, max(0.0, ((px - x0) * dx + (py - y0) * dy) / (seg * seg)))
        d = float(np.hypot(x0 + t * dx - px, y0 + t * dy - py))
        if d < best:
            best, best_along = d, start + t * seg
        start += seg
    return best, best_along


def attach(
    geometry: Sequence[shapely.LineString], eligible: Sequence[bool], points: Sequence[shapely.Point],
    max_attach_m: float, candidates: Sequence[Sequence[int]] | None = None,
) -> list[list[tuple[int, float, float]]]:
    """Per point, its attachments as (way, along, offset); an empty list: not on the network.

    ``candidates`` (optional, per point) limits the ways looked at, for large networks: it
    must hold every eligible way within ``max_attach_m`` + half a metre of the point.
    """
    out = []
    for i, point in enumerate(points):
        ways = range(len(geometry)) if candidates is None else candidates[i]
        feet = [(k, *foot(geometry[k], point)) for k in ways if eligible[k]]
        if not feet:
            out.append([])
            continue
        nearest = min(d for _, d, _ in feet)
        if nearest > max_attach_m:
            out.append([])
            continue
        out.append([(k, along, d) for k, d, along in feet if d <= nearest + TIE_M])
    return out


class Walks:
    """The walk graph of ``walkable`` ways (u, v, length), cut at the feet of the given attachments."""

    def __init__(self, u: Sequence, v: Sequence, length: Sequence[float], walkable: Sequence[bool],
                 *attachments: list[list[tuple[int, float, float]]]) -> None:
        on_way = defaultdict(list)
        self.feet: list[list[list[tuple[object, float]]]] = []  # per attachment set, per point: (foot node, offset)
        for s, points in enumerate(attachments):
            rows = []
            for i, point in enumerate(points):
                mine = []
                for j, (k, along, offset) in enumerate(point):
                    node = ("foot", s, i, j)
                    on_way[k].append((along, node))
                    mine.append((node, offset))
                rows.append(mine)
            self.feet.append(rows)
        self.graph = nx.MultiGraph()
        for k, ok in enumerate(walkable):
            if not ok:
                continue
            a, b, m = ("node", u[k]), ("node", v[k]), float(length[k])
            prev, prev_at = a, 0.0
            for along, node in sorted(on_way.get(k, []), key=lambda t: t[0]):
                self.graph.add_edge(prev, node, weight=max(0.0, along - prev_at))
                prev, prev_at = node, along
            self.graph.add_edge(prev, b, weight=max(0.0, m - prev_at))  # summed segments may pass m by 1e-13

    def nearest(self, origins: int = 0, targets: int = 1) -> np.ndarray:
        """Per point of attachment set ``origins``, the walk to the nearest point of set ``targets``."""
        graph = self.graph.copy()
        sources = []
        for i, feet in enumerate(self.feet[targets]):
            for node, offset in feet:
                graph.add_edge(("point", i), node, weight=offset)  # a source: no walk passes through it
            if feet:
                sources.append(("point", i))
        out = np.full(len(self.feet[origins]), np.inf)
        if not sources:
            return out
        dist, _paths = nx.multi_source_dijkstra(graph, sources, weight="weight")
        for i, feet in enumerate(self.feet[origins]):
            for node, offset in feet:
                out[i] = min(out[i], offset + dist.get(node, np.inf))
        return out

    def between(self, sources: int = 0, origins: int = 1) -> np.ndarray:
        """Dense (source x origin) walks between the points of two attachment sets (inf: no walk)."""
        out = np.full((len(self.feet[sources]), len(self.feet[origins])), np.inf)
        for s, feet in enumerate(self.feet[sources]):
            if not feet:
                continue
            for node, offset in feet:
                self.graph.add_edge("start", node, weight=offset)
            dist = nx.single_source_dijkstra_path_length(self.graph, "start", weight="weight")
            self.graph.remove_node("start")
            for o, o_feet in enumerate(self.feet[origins]):
                for node, offset in o_feet:
                    out[s, o] = min(out[s, o], dist.get(node, np.inf) + offset)
        return out
