"""The network engine: which ways may be walked, where points attach, and shortest walks.

One module holds the rules and the searches, and both the coverage step (how far is the
nearest meeting point) and the siting step (whom would a new spot bring within reach) use
it, so they can never disagree.

The walk rule (:func:`walkable_mask`, settings in ``[network]`` of the config)
    A way may be walked when it has a ``highway`` tag whose value is not in
    ``not_walkable_highway`` (motorways, trunk roads, bus guideways, platforms, rest areas,
    ...), is not an area (``area=yes``), is not ``foot=no``/``foot=private``, is not a
    private service road, and is not closed to the public (``access=no``/``private``)
    unless a foot tag allows it (``foot=yes``/``designated``/``permissive``). A
    ``highway=cycleway`` is walked when a foot tag allows it (the Dutch fiets/voetpad) or,
    with ``walk_all_cycleways = true``, always (pedestrians may use a fietspad where there
    is no footway). A walking profile (``[walking.profiles]``, e.g. a rollator) adds its
    ``exclude_highways`` (``steps``) and ``exclude_tags`` (``wheelchair=no``): a profile run is
    this engine with that narrower filter.

The attachment rule (:meth:`WalkNetwork.attach`)
    A resident (the centre of a 100 m cell) or a venue attaches to the nearest *eligible*
    way, at the foot of the perpendicular; that straight stretch counts as walked. Eligible
    means: walkable; at street level (a way with ``tunnel`` other than ``no`` or
    ``building_passage``, a negative ``layer``, ``indoor=yes`` or a non-zero ``level`` is
    walked through but never attached to); and on a part of the network that matters: the
    largest connected part, or any part with at least ``min_component_m`` metres of ways.
    Why not "a part that holds a meeting point": then a café whose door lies 2 cm nearer to
    an isolated indoor corridor than to the street serves nobody, and a resident beside a
    footway fragment is cut off, though the street is 26 m away. A part of real size (an
    island, a village whose road leaves the extract) still counts. A point farther than
    ``max_attach_m`` from every eligible way is *not on the network*: it is counted and
    reported, never silently given an infinite distance.

The searches
    Points are attached by cutting their way at the foot of the perpendicular (the way's two
    halves keep their exact lengths), so two points on the same way reach each other along
    it. :meth:`WalkNetwork.nearest` runs one multi-source Dijkstra
    (``scipy.sparse.csgraph``) from a virtual source linked to every target: the distance
    from each origin to its nearest target. :meth:`WalkNetwork.within` runs bounded searches
    (``limit=``) from each source and returns a sparse source x origin matrix of the pairs
    within the limit: never a dense matrix of all pairs. :meth:`WalkNetwork.nearest_two` adds
    the distance to the nearest *other* target (which residents depend on one meeting point,
    and how far they walk when it closes) in two passes; :meth:`WalkNetwork.nearest_open` the
    nearest of a chosen part of the targets on the same cut graph (a scenario).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from wijkanalyse.config import NetworkRules
from wijkanalyse.errors import DataError

__all__ = [
    "FOOT_ALLOWS",
    "Attachment",
    "NearestTwo",
    "WalkNetwork",
    "join_attachments",
    "street_level_mask",
    "walkable_mask",
]

#: Foot tag values that open a way (a cycleway, a private road) to pedestrians.
FOOT_ALLOWS = frozenset({"yes", "designated", "permissive"})
_EPS = 1e-6  # csgraph drops zero weights; a micrometre keeps a zero-length stretch as an edge
_TIE_M = 0.5  # ways within half a metre of a point's nearest way are equally near (OSM positions: ~1 cm)
_PIECE = 16  # segments per piece of a way in the attach index (see _build_segment_tree)
_CHUNK_CELLS = 20_000_000  # dense cells a bounded-search chunk may allocate (160 MB)


def _tag(ways: pd.DataFrame, key: str) -> np.ndarray:
    if key not in ways.columns:
        return np.full(len(ways), "", dtype=object)
    return ways[key].fillna("").astype(str).str.strip().to_numpy()


def walkable_mask(ways: pd.DataFrame, rules: NetworkRules | None = None) -> np.ndarray:
    """True for each way that may be walked under ``rules`` (see the module docstring)."""
    rules = rules or NetworkRules()
    highway, foot, access = _tag(ways, "highway"), _tag(ways, "foot"), _tag(ways, "access")
    foot_ok = np.isin(foot, list(FOOT_ALLOWS))
    ok = (highway != "") & ~np.isin(highway, list(rules.not_walkable_highway))
    ok &= _tag(ways, "area") != "yes"
    ok &= ~np.isin(foot, ["no", "private"])
    ok &= _tag(ways, "service") != "private"
    ok &= ~np.isin(access, ["no", "private"]) | foot_ok
    if not rules.walk_all_cycleways:
        ok &= (highway != "cycleway") | foot_ok
    # a walking profile's own exclusions (a rollator walks no steps): the same engine, a narrower filter
    ok &= ~np.isin(highway, list(rules.exclude_highways))
    for key, values in rules.exclude_tags:
        ok &= ~np.isin(_tag(ways, key), list(values))
    return ok


def _numbers(values: np.ndarray) -> list[list[float]]:
    """Parse OSM number lists like '-1', '0;1', '1.5' (unparsable parts are skipped)."""
    out = []
    for value in values:
        parts = []
        for piece in str(value).replace(",", ";").split(";"):
            try:
                parts.append(float(piece))
            except ValueError:
                continue
        out.append(parts)
    return out


def street_level_mask(ways: pd.DataFrame) -> np.ndarray:
    """True for ways at street level: not a tunnel, not below ground, not indoors, level 0."""
    tunnel, layer, level = _tag(ways, "tunnel"), _tag(ways, "layer"), _tag(ways, "level")
    ok = np.isin(tunnel, ["", "no", "building_passage"]) & (_tag(ways, "indoor") != "yes")
    below = np.zeros(len(ways), dtype=bool)
    has_layer = np.flatnonzero(layer != "")
    below[has_layer] = [any(v < 0 for v in vals) for vals in _numbers(layer[has_layer])]
    off_level = np.zeros(len(ways), dtype=bool)
    has_level = np.flatnonzero(level != "")
    off_level[has_level] = [any(v != 0 for v in vals) for vals in _numbers(level[has_level])]
    return ok & ~below & ~off_level


@dataclass(frozen=True)
class Attachment:
    """Where points meet the network (one entry per point, in input order).

    ``edge`` is the index of the way they attach to (-1: not on the network), ``along`` the
    metres from that way's start to the foot of the perpendicular, ``offset`` the straight
    stretch from the point to that foot (NaN when not on the network).

    A point as near to several ways (within half a metre: a cell centre halfway
    between two parallel streets, a point on a junction, a way mapped twice) attaches to all
    of them: ``edge``/``along``/``offset`` hold the first by a canonical rank (for maps and
    reports), the ``tie_*`` arrays the others (``tie_point`` = the point's index). A walk
    from or to the point may start on any of them, so its distance is the shortest, and the
    result never depends on the order of the input rows.
    """

    edge: np.ndarray
    along: np.ndarray
    offset: np.ndarray
    tie_point: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    tie_edge: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    tie_along: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tie_offset: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def on_network(self) -> np.ndarray:
        """True for the points attached to the network."""
        return self.edge >= 0

    def __len__(self) -> int:
        return len(self.edge)

    def rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(point, edge, along, offset) of every attachment: the first of each point on the network, then the ties."""
        on = np.flatnonzero(self.on_network)
        return (
            np.r_[on, self.tie_point].astype(np.int64), np.r_[self.edge[on], self.tie_edge].astype(np.int64),
            np.r_[self.along[on], self.tie_along], np.r_[self.offset[on], self.tie_offset],
        )

    def take(self, mask: np.ndarray) -> Attachment:
        """The attachments of the points selected by the boolean ``mask``, ties included."""
        mask = np.asarray(mask, dtype=bool)
        new_index = np.full(len(mask), -1, dtype=np.int64)
        new_index[mask] = np.arange(int(mask.sum()))
        keep = mask[self.tie_point] if len(self.tie_point) else np.zeros(0, dtype=bool)
        return Attachment(
            self.edge[mask], self.along[mask], self.offset[mask], new_index[self.tie_point[keep]],
            self.tie_edge[keep], self.tie_along[keep], self.tie_offset[keep],
        )


@dataclass
class WalkNetwork:
    """The walkable ways of a snapshot as csgraph arrays, with the attachment rule.

    Build it with :meth:`from_ways` from a ways frame (:mod:`wijkanalyse.sources.osm`):
    columns u, v, length, the tags of ``WAY_TAGS`` and LineString geometry in EPSG:28992.
    """

    geometry: np.ndarray  # LineStrings of the walkable ways
    u: np.ndarray  # node index of each way's start
    v: np.ndarray  # node index of each way's end
    length: np.ndarray
    attachable: np.ndarray  # bool per way: the attachment rule's "eligible"
    component: np.ndarray  # connected part of each way
    n_nodes: int
    rules: NetworkRules
    highway: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    name: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))  # OSM name per way ("" when none)
    _base: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] = field(init=False, repr=False)
    _tree: shapely.STRtree | None = field(default=None, init=False, repr=False)
    _seg_way: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), init=False, repr=False)
    _rank: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), init=False, repr=False)
    _by_rank: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), init=False, repr=False)
    _eligible: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # one graph entry per pair of nodes: the shortest way between them (csr would add parallels up)
        lo, hi = np.minimum(self.u, self.v), np.maximum(self.u, self.v)
        proper = np.flatnonzero(lo != hi)  # a loop way leads nowhere; it only matters once a point sits on it
        key = lo[proper].astype(np.int64) * self.n_nodes + hi[proper]
        order = np.lexsort((self.length[proper], key))
        first = np.ones(len(order), dtype=bool)
        first[1:] = key[order][1:] != key[order][:-1]
        kept = proper[order[first]]
        self._base = (kept, self.u[kept], self.v[kept], self.length[kept])
        self._eligible = np.flatnonzero(self.attachable)

    @classmethod
    def from_ways(cls, ways: gpd.GeoDataFrame, rules: NetworkRules | None = None) -> WalkNetwork:
        """Apply the walk rule to ``ways`` and build the network; DataError when nothing is walkable."""
        rules = rules or NetworkRules()
        if len(ways) == 0:
            msg = 'De OpenStreetMap-gegevens bevatten geen straten of paden. Kies distance_method = "straight_line" of een snapshot met een netwerk.'
            raise DataError(msg)
        if ways.crs is None or not ways.crs.is_projected:
            got = ways.crs.to_string() if ways.crs is not None else "geen CRS"
            msg = (f"De straten moeten in een metrisch CRS staan (EPSG:28992), ze staan in {got}. Maak de snapshot "
                   "opnieuw ('wijkanalyse fetch'), of projecteer de straten eerst naar EPSG:28992.")
            raise DataError(msg)
        walk = ways[walkable_mask(ways, rules)]
        if walk.empty:
            msg = "De OpenStreetMap-gegevens bevatten geen beloopbare wegen. Controleer de [network]-regels in de config en de snapshot."
            raise DataError(msg)
        geometry = walk.geometry.to_numpy()
        length = shapely.length(geometry)
        ids, inverse = np.unique(np.concatenate([walk["u"].to_numpy(), walk["v"].to_numpy()]), return_inverse=True)
        n = len(walk)
        u, v = inverse[:n].astype(np.int64), inverse[n:].astype(np.int64)
        graph = csr_matrix((np.ones(n), (u, v)), shape=(len(ids), len(ids)))
        _, node_label = connected_components(graph, directed=False)
        component = node_label[u]
        part_length = np.bincount(component, weights=length)
        major = (part_length >= rules.min_component_m) | (np.arange(len(part_length)) == np.argmax(part_length))
        attachable = street_level_mask(walk) & major[component]
        return cls(
            geometry=geometry, u=u, v=v, length=length, attachable=attachable, component=component,
            n_nodes=len(ids), rules=rules, highway=_tag(walk, "highway"), name=_tag(walk, "name"),
        )

    @property
    def n_ways(self) -> int:
        """Number of walkable ways (junction to junction)."""
        return len(self.length)

    def attach(self, points: gpd.GeoSeries | np.ndarray | Sequence[shapely.Point]) -> Attachment:
        """Attach each point to the nearest eligible way within ``max_attach_m``."""
        pts = np.asarray(points.to_numpy() if isinstance(points, gpd.GeoSeries) else points, dtype=object)
        n = len(pts)
        edge = np.full(n, -1, dtype=np.int64)
        along = np.full(n, np.nan)
        offset = np.full(n, np.nan)
        valid = np.flatnonzero(~(shapely.is_missing(pts) | shapely.is_empty(pts))) if n else np.zeros(0, np.int64)
        if len(valid) == 0 or len(self._eligible) == 0:
            return Attachment(edge, along, offset)
        if self._tree is None:
            self._build_segment_tree()
        tree = self._tree
        assert tree is not None  # built just above
        (p_idx, _), dist = tree.query_nearest(
            pts[valid], max_distance=self.rules.max_attach_m, return_distance=True, all_matches=False
        )
        first = np.unique(p_idx, return_index=True)[1]  # the nearest distance of each point
        p_idx, dist = p_idx[first], dist[first]
        # every way within half a metre of the nearest is equally near: the canonical rank
        # picks the first (for maps and reports), the others are kept as ties
        q_idx, s_near = tree.query(pts[valid][p_idx], predicate="dwithin", distance=dist + _TIE_M)
        pair = np.unique(q_idx.astype(np.int64) * len(self._eligible) + self._seg_way[s_near])  # (point, way) once
        q_idx, c_idx = pair // len(self._eligible), pair % len(self._eligible)
        best = np.full(len(p_idx), np.iinfo(np.int64).max)
        np.minimum.at(best, q_idx, self._rank[c_idx])
        points = valid[p_idx]
        l_idx = self._eligible[self._by_rank[best]]
        edge[points] = l_idx
        offset[points] = shapely.distance(pts[points], self.geometry[l_idx])
        along[points] = np.clip(shapely.line_locate_point(self.geometry[l_idx], pts[points]), 0.0, self.length[l_idx])
        tie = self._rank[c_idx] != best[q_idx]
        t_point, t_edge = points[q_idx[tie]], self._eligible[c_idx[tie]]
        return Attachment(
            edge, along, offset, t_point, t_edge,
            np.clip(shapely.line_locate_point(self.geometry[t_edge], pts[t_point]), 0.0, self.length[t_edge]),
            shapely.distance(pts[t_point], self.geometry[t_edge]),
        )

    def _build_segment_tree(self) -> None:
        """The spatial index of attach: the eligible ways cut into pieces of ``_PIECE`` segments, each with its way.

        A point's distance to a way is its distance to the way's nearest piece (GEOS takes the
        nearest segment), so the nearest piece gives the nearest way and the same distance. An
        index of whole ways holds a long or curved way's whole bounding box, and on an organic
        network such boxes overlap by the dozen around a point; a piece's box is tight. Short
        ways (most, once cut at junctions) stay whole.
        """
        geoms = self.geometry[self._eligible]
        coords, which = shapely.get_coordinates(geoms, return_index=True)
        starts = np.r_[0, np.flatnonzero(np.diff(which)) + 1]
        position = np.arange(len(which)) - np.repeat(starts, np.diff(np.r_[starts, len(which)]))
        seg = np.flatnonzero(which[1:] == which[:-1])  # segment k joins vertex seg[k] to seg[k] + 1
        piece = np.cumsum(position[seg] % _PIECE == 0) - 1  # a new piece every _PIECE segments of a way
        last = np.r_[piece[1:] != piece[:-1], True]  # the last segment of each piece adds its end vertex
        vertex = np.r_[seg, seg[last] + 1]
        owner = np.r_[piece, piece[last]]
        order = np.lexsort((vertex, owner))
        self._tree = shapely.STRtree(shapely.linestrings(coords[vertex[order]], indices=owner[order]))
        self._seg_way = which[seg[np.r_[True, piece[1:] != piece[:-1]]]].astype(np.int64)
        self._rank = _canonical_rank(self.u[self._eligible], self.v[self._eligible], self.length[self._eligible])
        self._by_rank = np.argsort(self._rank)

    def _graph(
        self, attachments: Sequence[Attachment], source: int | None = None
    ) -> tuple[csr_matrix, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
        """The walk graph with every attachment as a node cutting its way (both halves kept).

        Returns the graph and, per attachment, its rows as (point, foot node, offset). With
        ``source`` (an index into ``attachments``), a virtual source node (the last node) is
        linked to the foot of each of that attachment's rows by the row's offset.
        """
        parts = [a.rows() for a in attachments]
        sizes = [len(p[0]) for p in parts]
        edge = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
        along = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0)
        foot = self.n_nodes + np.arange(len(edge))
        n_total = self.n_nodes + len(edge) + (1 if source is not None else 0)

        kept, bu, bv, bw = self._base
        order = np.lexsort((along, edge))
        e, a, node = edge[order], along[order], foot[order]
        start = np.ones(len(e), dtype=bool)
        start[1:] = e[1:] != e[:-1]
        end = np.ones(len(e), dtype=bool)
        end[:-1] = start[1:]
        prev_node = np.where(start, self.u[e], np.r_[-1, node[:-1]])
        prev_pos = np.where(start, 0.0, np.r_[0.0, a[:-1]])
        cut = np.isin(kept, e)  # a way with points on it is replaced by its pieces
        rows = [bu[~cut], prev_node, node[end]]
        cols = [bv[~cut], node, self.v[e[end]]]
        weights = [bw[~cut], a - prev_pos, self.length[e[end]] - a[end]]
        rows_all = np.concatenate(rows + cols)
        cols_all = np.concatenate(cols + rows)
        w_all = np.concatenate(weights + weights)
        feet = np.split(foot, np.cumsum(sizes)[:-1]) if parts else []
        if source is not None:
            rows_all = np.r_[rows_all, np.full(sizes[source], n_total - 1)]
            cols_all = np.r_[cols_all, feet[source]]
            w_all = np.r_[w_all, parts[source][3]]
        # one entry per pair of nodes, the shorter: csr adds duplicates up, and a loop way
        # (start = end) with one point on it gives its two halves between the same two nodes
        w_all = np.maximum(w_all, _EPS)
        key = rows_all.astype(np.int64) * n_total + cols_all
        order = np.lexsort((w_all, key))
        first = np.ones(len(order), dtype=bool)
        first[1:] = key[order][1:] != key[order][:-1]
        keep = order[first]
        graph = csr_matrix((w_all[keep], (rows_all[keep], cols_all[keep])), shape=(n_total, n_total))
        return graph, [(p[0], f, p[3]) for p, f in zip(parts, feet, strict=True)]

    def _node_xy(self, first: Attachment, second: Attachment, n_total: int) -> np.ndarray:
        """Coordinates of the nodes of :meth:`_graph` ([first, second]): junctions, then the feet in row order."""
        xy = np.zeros((n_total, 2))
        xy[self.u] = shapely.get_coordinates(shapely.get_point(self.geometry, 0))
        xy[self.v] = shapely.get_coordinates(shapely.get_point(self.geometry, -1))
        edge = np.r_[first.rows()[1], second.rows()[1]]
        along = np.r_[first.rows()[2], second.rows()[2]]
        xy[self.n_nodes:self.n_nodes + len(edge)] = shapely.get_coordinates(
            shapely.line_interpolate_point(self.geometry[edge], along))
        return xy

    def nearest(self, origins: Attachment, targets: Attachment) -> np.ndarray:
        """Walking distance from each origin to its nearest target (metres).

        ``inf`` where no target can be reached over the network, and for origins not on the
        network (their :attr:`Attachment.on_network` is False: report them as such).
        """
        out = np.full(len(origins), np.inf)
        if len(origins) == 0 or not targets.on_network.any() or not origins.on_network.any():
            return out
        graph, ((o_point, o_feet, o_off), _) = self._graph([origins, targets], source=1)
        from_source = dijkstra(graph, directed=True, indices=graph.shape[0] - 1)
        np.minimum.at(out, o_point, o_off + from_source[o_feet])
        return out

    def within(self, sources: Attachment, origins: Attachment, limit: float) -> csr_matrix:
        """Sparse (source x origin) walking distances of the pairs no farther apart than ``limit``.

        Each source gets a bounded Dijkstra search (``limit=``) on the part of the network
        around it (its spatial tile of 4 x ``limit`` and the eight around it: every walk of at
        most ``limit`` stays inside), in chunks, so that time per source and memory stay flat
        whatever the network size; an explicit entry holds the distance (a distance of 0 is
        stored as 1e-6 m so it stays an entry).
        """
        n_s, n_o = len(sources), len(origins)
        if n_s == 0 or n_o == 0 or not sources.on_network.any() or not origins.on_network.any():
            return csr_matrix((n_s, n_o))
        graph, ((s_point, s_feet, s_off), (o_point, o_feet, o_off)) = self._graph([sources, origins])
        n_total = graph.shape[0]
        xy = self._node_xy(sources, origins, n_total)
        # spatial tiles of sources, each searched on the nodes of its 3 x 3 tiles only: a walk of
        # at most `limit` never leaves the straight-line reach of its start, so the distances are
        # the whole graph's, and a search costs what its tile holds, not the whole network
        tile = max(float(limit), 1.0) * 4
        cell = np.floor(xy / tile).astype(np.int64)
        cell -= cell.min(axis=0) - 1
        width = int(cell[:, 0].max()) + 2
        key = cell[:, 1] * width + cell[:, 0]
        by_key = np.argsort(key, kind="stable")
        sorted_key = key[by_key]
        local = np.full(n_total, -1, dtype=np.int64)
        rows, cols, vals = [], [], []
        s_key = key[s_feet]
        for k in np.unique(s_key):
            mine = np.flatnonzero(s_key == k)
            near = np.concatenate([by_key[np.searchsorted(sorted_key, k + d):np.searchsorted(sorted_key, k + d + 3)]
                                   for d in (-width - 1, -1, width - 1)])
            local[near] = np.arange(len(near))
            sub = graph[near][:, near]
            o_in = np.flatnonzero(local[o_feet] >= 0)
            o_local = local[o_feet[o_in]]
            chunk = max(1, _CHUNK_CELLS // len(near))
            for i in range(0, len(mine), chunk):
                part = mine[i:i + chunk]
                reach = dijkstra(sub, directed=True, indices=local[s_feet[part]], limit=limit)
                dist = reach[:, o_local] + o_off[o_in][None, :] + s_off[part][:, None]
                r, c = np.nonzero(dist <= limit)
                rows.append(s_point[part][r])
                cols.append(o_point[o_in][c])
                vals.append(np.maximum(dist[r, c], _EPS))
            local[near] = -1
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        key = r * n_o + c  # a tie gives a pair more than once: keep its shortest walk
        order = np.lexsort((v, key))
        first = np.ones(len(order), dtype=bool)
        first[1:] = key[order][1:] != key[order][:-1]
        keep = order[first]
        return csr_matrix((v[keep], (r[keep], c[keep])), shape=(n_s, n_o))

    def _graph_with_targets(
        self, origins: Attachment, targets: Attachment
    ) -> tuple[csr_matrix, int, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The graph of :meth:`_graph` plus one node per target.

        Target node ``t0 + i`` has an edge to the foot of each of target ``i``'s rows (the
        straight stretch, as :meth:`nearest`'s virtual source has). Nothing leads into a
        target node, so it changes no other walk. Returns (graph, t0, the nodes of the
        targets on the network, the origins' rows as (point, foot node, offset)).
        """
        graph, (o_rows, (t_point, t_feet, t_off)) = self._graph([origins, targets])
        t0 = graph.shape[0]
        n_total = t0 + len(targets)
        base = graph.tocoo()
        rows = np.concatenate([base.row, t0 + t_point]).astype(np.int64)
        cols = np.concatenate([base.col, t_feet]).astype(np.int64)
        weights = np.concatenate([base.data, np.maximum(t_off, _EPS)])
        full = csr_matrix((weights, (rows, cols)), shape=(n_total, n_total))
        return full, t0, t0 + np.unique(t_point), o_rows

    def nearest_two(self, origins: Attachment, targets: Attachment) -> NearestTwo:
        """The nearest target of each origin, its distance, and the distance to the nearest *other* target.

        The second distance is what an origin walks when its nearest target closes. It takes
        two Dijkstra passes over the graph of :meth:`nearest`, whatever the number of targets
        (no search per target):

        1. One multi-source pass (``min_only``) from a node per target gives every node ``x``
           its nearest target ``a(x)`` and distance ``d1(x)``.
        2. For a node ``v`` with nearest target ``a``, take a shortest walk from the nearest
           other target ``b`` to ``v``. It starts in ``b``'s region (the nodes whose nearest
           is ``b``) and ends in ``a``'s; let ``x -> y`` be its last step from a node outside
           ``a``'s region into it. Everything after ``y`` lies in ``a``'s region, and the part
           up to ``x`` is at least ``d1(x)``, reached from ``a(x) != a``. So
           ``d2(v) = min over such steps x -> y of d1(x) + w(x, y) + (shortest walk from y to v
           inside a's region)``, and each such sum is a real walk from a target other than
           ``a``. That is one single-source pass on the graph whose steps between regions are
           replaced by a virtual start linked to each ``y`` by ``min d1(x) + w(x, y)``: the
           regions are disjoint, so it handles them all at once.

        An origin is reached from the foot of each of its rows (ties included), as in
        :meth:`nearest`: its nearest target is that of its best row, and its second distance
        the best of ``d1`` over rows whose nearest is another target and ``d2`` over rows
        whose nearest is the same. Targets are nodes of their own, so two targets at one spot
        are two targets: each is the other's "next" at the same distance, and neither is
        anyone's only one.

        Returns
        -------
        NearestTwo
            Per origin (input order): ``distance`` (:meth:`nearest`'s, ``inf`` where none),
            ``target`` (the index of that target in ``targets``; -1 where none; one of them
            when two are as near) and ``second`` (``inf`` where no other target can be reached).
        """
        n_o = len(origins)
        out = NearestTwo(np.full(n_o, np.inf), np.full(n_o, -1, dtype=np.int64), np.full(n_o, np.inf))
        if n_o == 0 or not targets.on_network.any() or not origins.on_network.any():
            return out
        graph, t0, sources, (o_point, o_feet, o_off) = self._graph_with_targets(origins, targets)
        d1, _, label = dijkstra(graph, directed=True, indices=sources, min_only=True, return_predecessors=True)
        coo = graph.tocoo()
        r, c, w = coo.row, coo.col, coo.data
        lr, lc = label[r], label[c]
        reached = (lr >= 0) & (lc >= 0)
        inside, across = reached & (lr == lc), reached & (lr != lc)
        n = graph.shape[0]
        start = np.full(n, np.inf)
        np.minimum.at(start, c[across], d1[r[across]] + w[across])
        entry = np.flatnonzero(np.isfinite(start))
        rows = np.concatenate([r[inside], np.full(len(entry), n)])
        cols = np.concatenate([c[inside], entry])
        weights = np.concatenate([w[inside], start[entry]])
        d2 = dijkstra(csr_matrix((weights, (rows, cols)), shape=(n + 1, n + 1)), directed=True, indices=n)[:n]
        # per origin: the best row gives the nearest target; the rows give the second
        row_d1 = o_off + d1[o_feet]
        np.minimum.at(out.distance, o_point, row_d1)
        best = np.isfinite(row_d1) & (row_d1 == out.distance[o_point])
        out.target[o_point[best]] = label[o_feet[best]] - t0
        same = label[o_feet] == label[out.target[o_point] + t0]
        np.minimum.at(out.second, o_point, np.where(same, o_off + d2[o_feet], row_d1))
        out.target[~np.isfinite(out.distance)] = -1
        return out

    def nearest_open(self, origins: Attachment, targets: Attachment, open_mask: np.ndarray) -> np.ndarray:
        """Walking distance from each origin to its nearest *open* target (``open_mask``), in metres.

        The graph is cut at every target, open or not, so it is the graph of
        :meth:`nearest_two` on the same targets: closing a target changes only the walks that
        went to it. ``inf`` where no open target can be reached, and for origins not on the network.
        """
        open_mask = np.asarray(open_mask, dtype=bool)
        out = np.full(len(origins), np.inf)
        if len(origins) == 0 or not (targets.on_network & open_mask).any() or not origins.on_network.any():
            return out
        graph, t0, sources, (o_point, o_feet, o_off) = self._graph_with_targets(origins, targets)
        dist = dijkstra(graph, directed=True, indices=sources[open_mask[sources - t0]], min_only=True)
        np.minimum.at(out, o_point, o_off + dist[o_feet])
        return out


@dataclass(frozen=True)
class NearestTwo:
    """Per origin: the nearest target, the distance to it and the distance to the nearest other target.

    ``distance`` and ``second`` in metres (``inf``: none reachable); ``target`` indexes the
    targets (-1: none). See :meth:`WalkNetwork.nearest_two`.
    """

    distance: np.ndarray
    target: np.ndarray
    second: np.ndarray


def join_attachments(first: Attachment, second: Attachment) -> Attachment:
    """One attachment of the points of ``first`` followed by those of ``second`` (ties kept)."""
    return Attachment(
        np.r_[first.edge, second.edge].astype(np.int64), np.r_[first.along, second.along],
        np.r_[first.offset, second.offset],
        np.r_[first.tie_point, second.tie_point + len(first)].astype(np.int64),
        np.r_[first.tie_edge, second.tie_edge].astype(np.int64), np.r_[first.tie_along, second.tie_along],
        np.r_[first.tie_offset, second.tie_offset],
    )





def _canonical_rank(u: np.ndarray, v: np.ndarray, length: np.ndarray) -> np.ndarray:
    """A rank of each way that does not depend on the input's row order: by its ends, then its length.

    Node numbers come from the sorted OSM ids, so they are canonical; a way and its reversed
    copy get the same key. Ways that tie on all three have the same ends and length: either
    gives the same walks.
    """
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((np.round(length, 6), hi, lo))
    rank = np.empty(len(u), dtype=np.int64)
    rank[order] = np.arange(len(u))
    return rank
