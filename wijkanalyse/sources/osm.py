"""Read OpenStreetMap files (``.osm`` XML and ``.osm.pbf``) into the two frames a run needs.

One reader for both formats: pyosmium (libosmium) parses XML and PBF alike, in C++, with
node locations filled in, so an Overpass answer (``osm.xml``) and a Geofabrik extract
(``.osm.pbf``) give the same ways and the same venues. pyosmium was chosen over osmnx
(which parses XML twice in Python and builds a LineString per edge direction: 51 s and
2.4 GiB for a 512 k-node city) and pyrosm (103 s and 5.2 GB for the whole Netherlands,
against 35 s and 1.4 GB for pyosmium); quackosm downloads a DuckDB extension at run time
and so fails offline.

:func:`read_osm` returns

``ways``
    every way with a ``highway`` tag (a superset: the walk rules of
    :mod:`wijkanalyse.network` decide later, from the config, what may be walked), cut at
    every node it shares with another way, so each row runs from junction to junction.
    Columns: ``u``, ``v`` (OSM node ids of both ends), ``length`` (metres in RD),
    ``way_id`` and the tags the rules read (:data:`WAY_TAGS`, ``""`` when absent), geometry
    (LineString, EPSG:28992, running from ``u`` to ``v``).
``venues``
    every node, way and multipolygon relation whose tags match the venue tags asked for.
    Columns: ``osm_id`` ("node/123", "way/45", "relation/6"), ``naam``, ``tags`` (all tags
    as a JSON object), geometry (a point on or in the feature, EPSG:28992).

A ``clip`` polygon (lon/lat) keeps only the ways with a node inside it and the venues
inside it: a gemeente plus its border margin out of a province or country file.

:func:`read_osm_clips` cuts many clips (every gemeente of a province or of the country) out of
one file in one pass and gives each clip exactly what :func:`read_osm` with that clip gives.
pyosmium reads the file once and every buffered batch of ways is assigned to the clips its
nodes fall in (per clip the nodes in its box, from the nodes sorted by longitude, then a
prepared point-in-polygon test; one ``np.unique`` over the (way, clip) pairs); a way is
projected to RD and its tags are read once, whatever the number of clips it is in.
Re-reading a 1.3 GB country file per gemeente would take hours. With the ``osmium`` command
(osmium-tool) installed, ``osmium tags-filter`` first keeps only the highway ways and the
venues (with the nodes they use), in C++, so the pass above reads a file a fraction of the
size and holds far fewer node locations.
``osmium extract --config`` with one extract per gemeente is not used: it keeps id sets per
extract, measured at 1.2 GB each (11.9 GB for 10 extracts of a small file with ids up to
10^10), so 342 gemeenten would need hundreds of GB.
"""

from __future__ import annotations

import itertools
import json
import logging
import shutil
import subprocess
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from wijkanalyse._arrays import ranges
from wijkanalyse._crs import to_rd
from wijkanalyse.errors import SourceError

__all__ = [
    "NEVER_A_WAY",
    "WAY_TAGS",
    "OsmExtract",
    "empty_venues",
    "empty_ways",
    "osmium_command",
    "read_osm",
    "read_osm_clips",
]

log = logging.getLogger("wijkanalyse")

CRS = "EPSG:28992"
#: Way tags kept for the walk and attachment rules (:mod:`wijkanalyse.network`).
WAY_TAGS = (
    "highway", "name", "foot", "access", "area", "service", "tunnel", "layer", "indoor", "level",
    "wheelchair", "surface", "smoothness", "incline",  # for the walking profiles' exclude_tags
)
#: ``highway`` values that are no way at all (lifecycle prefixes and 'no'): never read.
NEVER_A_WAY = frozenset({"abandoned", "construction", "disused", "no", "planned", "proposed", "razed"})
_PROGRESS_WAYS = 500_000  # log a line every so many ways read
_FLUSH_WAYS = 200_000  # ways buffered before a clip filter runs, so a country file stays small


@dataclass(frozen=True)
class OsmExtract:
    """The ways and venues read from one OSM file (see the module docstring)."""

    ways: gpd.GeoDataFrame
    venues: gpd.GeoDataFrame


def empty_ways() -> gpd.GeoDataFrame:
    """A ways frame with no rows and every column."""
    cols: dict[str, Any] = {"u": np.zeros(0, np.int64), "v": np.zeros(0, np.int64), "length": np.zeros(0), "way_id": np.zeros(0, np.int64)}
    cols.update({t: np.zeros(0, dtype=object) for t in WAY_TAGS})
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)


def empty_venues() -> gpd.GeoDataFrame:
    """A venues frame with no rows and every column."""
    return gpd.GeoDataFrame({"osm_id": [], "naam": [], "tags": []}, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)


def _matcher(venue_tags: dict[str, Any]) -> Callable[[Any], bool]:
    """A predicate over an osmium TagList: does any tag match ``{key: True | [values]}``?"""
    wanted: dict[str, Literal[True] | frozenset[Any]] = {k: (True if v is True else frozenset(v)) for k, v in venue_tags.items()}

    def matches(tags: Any) -> bool:
        for key, values in wanted.items():
            value = tags.get(key)
            if value is not None and (values is True or value in values):
                return True
        return False

    return matches


class _WayBuffer:
    """Highway ways collected as flat arrays, clipped in batches."""

    def __init__(self, clip: BaseGeometry | None) -> None:
        self.clip = clip
        if clip is not None:
            shapely.prepare(clip)
        self.kept: list[tuple[np.ndarray, ...]] = []
        self._reset()

    def _reset(self) -> None:
        self.refs = array("q")
        self.lon = array("d")
        self.lat = array("d")
        self.part = array("q")  # index into self.meta per node
        self.meta: list[tuple[int, dict[str, str]]] = []
        self.wkb: list[Any] = []  # lines of add_located not yet in lon/lat (decoded in bulk)

    def _decode(self) -> None:
        """Move the coordinates of the pending WKB lines into lon/lat (one bulk ``shapely.from_wkb``)."""
        if self.wkb:
            # pyosmium gives hex WKB; GEOS reads binary WKB about 7 x faster than hex
            xy = shapely.get_coordinates(shapely.from_wkb([bytes.fromhex(line) for line in self.wkb]))
            self.lon.frombytes(np.ascontiguousarray(xy[:, 0]).tobytes())
            self.lat.frombytes(np.ascontiguousarray(xy[:, 1]).tobytes())
            self.wkb = []

    def add_located(self, way_id: int, tags: dict[str, str], nodes: Any, make_line: Callable[[Any], Any]) -> None:
        """:meth:`add` with the line built in C++ by ``make_line`` (pyosmium's WKB factory, every node).

        A Python loop then only reads the node ids; a way with a node without a location
        (or fewer than two nodes) takes :meth:`add`. The WKB holds ``Location.lon``/``lat``
        as libosmium computes them, so the coordinates are those :meth:`add` reads.
        """
        refs = _node_refs(nodes)
        if len(refs) < 2:
            self.add(way_id, tags, nodes)
            return
        try:
            line = make_line(nodes)
        except Exception:  # osmium.InvalidLocationError, a geometry error: the per-node path decides
            self.add(way_id, tags, nodes)
            return
        self.refs.extend(refs)
        self.part.extend(itertools.repeat(len(self.meta), len(refs)))
        self.meta.append((way_id, tags))
        self.wkb.append(line)
        if len(self.meta) >= _FLUSH_WAYS:
            self.flush()

    def add(self, way_id: int, tags: dict[str, str], nodes: Iterable[Any]) -> None:
        """Add one way; a node without a location (cut off by the extract) breaks it in two."""
        self._decode()  # keep lon/lat in the order of refs
        current = 0
        for node in nodes:
            loc = node.location
            if not loc.valid():
                if current:  # close the part so far; the next valid node starts a new part
                    self.meta.append((way_id, tags))
                    current = 0
                continue
            self.refs.append(node.ref)
            self.lon.append(loc.lon)
            self.lat.append(loc.lat)
            self.part.append(len(self.meta))
            current += 1
        if current:
            self.meta.append((way_id, tags))
        if len(self.meta) >= _FLUSH_WAYS:
            self.flush()

    def _drain(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[tuple[int, dict[str, str]]]] | None:
        """The buffered nodes as arrays (refs, lon, lat, part) and the parts' (way id, tags); empties the buffer."""
        if not self.meta:
            return None
        self._decode()
        refs = np.frombuffer(self.refs, dtype=np.int64).copy()
        lon = np.frombuffer(self.lon, dtype=np.float64).copy()
        lat = np.frombuffer(self.lat, dtype=np.float64).copy()
        part = np.frombuffer(self.part, dtype=np.int64).copy()
        meta = self.meta
        self._reset()
        return refs, lon, lat, part, meta

    def flush(self) -> None:
        """Apply the clip to the buffered ways and keep what lies (partly) inside."""
        drained = self._drain()
        if drained is None:
            return
        refs, lon, lat, part, meta = drained
        keep_part = np.bincount(part, minlength=len(meta)) >= 2  # a single located node is no line
        if self.clip is not None:
            inside = shapely.contains_xy(self.clip, lon, lat)
            keep_part &= np.bincount(part, weights=inside, minlength=len(meta)) > 0
        kept = np.flatnonzero(keep_part)
        node_keep = keep_part[part]
        x, y = to_rd().transform(lon[node_keep], lat[node_keep])
        renumber = np.full(len(meta), -1, dtype=np.int64)
        renumber[kept] = np.arange(len(kept))
        self.kept.append((refs[node_keep], x, y, renumber[part[node_keep]], *_part_columns(meta, kept)))

    def frame(self) -> gpd.GeoDataFrame:
        """All kept ways, cut at shared nodes, as a ways frame in EPSG:28992."""
        self.flush()
        return _ways_frame(self.kept)


def _node_refs(nodes: Any) -> list[int]:
    """The node ids of a pyosmium WayNodeList, read without its per-node generator where possible."""
    lst, data = getattr(nodes, "_list", None), getattr(nodes, "_pyosmium_data", None)
    if lst is None or data is None:  # another pyosmium version: the public iteration
        return [node.ref for node in nodes]
    size = lst.size(data)
    return [node.ref for node in map(lst.get, itertools.repeat(data, size), range(size))]


def _part_columns(meta: list[tuple[int, dict[str, str]]], parts: np.ndarray) -> tuple[np.ndarray, ...]:
    """The way ids and the :data:`WAY_TAGS` columns (``""`` when absent) of the way parts ``parts``."""
    rows = [meta[i] for i in parts]
    way_ids = np.array([r[0] for r in rows], dtype=np.int64)
    return (way_ids, *(np.array([r[1].get(k, "") for r in rows], dtype=object) for k in WAY_TAGS))


def _ways_frame(kept: list[tuple[np.ndarray, ...]]) -> gpd.GeoDataFrame:
    """Kept batches, in file order, as one ways frame cut at shared nodes.

    A batch is its nodes' ``refs``, ``x`` and ``y`` (RD) and part index (0, 1, ... in node
    order), then per part its way id and :data:`WAY_TAGS` columns (:func:`_part_columns`).
    """
    if not kept:
        return empty_ways()
    offset = 0
    parts = []
    for batch in kept:  # part numbers are per batch: shift them
        parts.append(batch[3] + offset)
        offset += len(batch[4])
    refs = np.concatenate([b[0] for b in kept])
    x = np.concatenate([b[1] for b in kept])
    y = np.concatenate([b[2] for b in kept])
    part = np.concatenate(parts)
    way_ids = np.concatenate([b[4] for b in kept])
    tag_cols = {k: np.concatenate([b[5 + i] for b in kept]) for i, k in enumerate(WAY_TAGS)}
    return _split_at_junctions(refs, x=x, y=y, part=part, way_ids=way_ids, tag_cols=tag_cols)


def _clip_pairs(clips: Sequence[BaseGeometry], bounds: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(point index, clip index) of every point inside a clip, clip by clip.

    A clip's candidates are the points in its bounding box: a slice of the points sorted by
    longitude, then a latitude test; the exact test is a prepared point-in-polygon on those.
    No point geometry is made (for a country's seven million nodes that took 5 s, more than
    the tests).
    """
    order = np.argsort(lon, kind="stable")
    sorted_lon = lon[order]
    starts = np.searchsorted(sorted_lon, bounds[:, 0], side="left")
    ends = np.searchsorted(sorted_lon, bounds[:, 2], side="right")
    point_idx, clip_idx = [], []
    for k, clip in enumerate(clips):
        cand = order[starts[k]:ends[k]]
        cand_lat = lat[cand]
        cand = cand[(cand_lat >= bounds[k, 1]) & (cand_lat <= bounds[k, 3])]
        inside = cand[shapely.contains_xy(clip, lon[cand], lat[cand])]
        point_idx.append(inside)
        clip_idx.append(np.full(len(inside), k, dtype=np.int64))
    return np.concatenate(point_idx), np.concatenate(clip_idx)


class _MultiClipWayBuffer(_WayBuffer):
    """Highway ways collected once and kept per clip: a way goes to every clip holding one of its nodes."""

    def __init__(self, clips: Sequence[BaseGeometry]) -> None:
        super().__init__(None)
        self.clips = list(clips)
        for clip in self.clips:
            shapely.prepare(clip)
        self.bounds = shapely.bounds(np.asarray(self.clips, dtype=object)).reshape(-1, 4)
        self.kept_per_clip: list[list[tuple[np.ndarray, ...]]] = [[] for _ in self.clips]

    def flush(self) -> None:
        """Assign the buffered ways to the clips they touch (each projected and tagged once, whatever its clips)."""
        drained = self._drain()
        if drained is None:
            return
        refs, lon, lat, part, meta = drained
        counts = np.bincount(part, minlength=len(meta))  # a part's nodes are contiguous, in part order
        node_idx, clip_idx = _clip_pairs(self.clips, self.bounds, lon, lat)
        pairs = np.unique(clip_idx * len(meta) + part[node_idx])  # (clip, part), each once, by clip then part
        pair_clip, pair_part = pairs // len(meta), pairs % len(meta)
        is_line = counts[pair_part] >= 2  # a single located node is no line
        pair_clip, pair_part = pair_clip[is_line], pair_part[is_line]
        if not len(pair_part):
            return
        parts = np.unique(pair_part)  # the parts some clip keeps: projected and tagged once
        position = np.full(len(meta), -1, dtype=np.int64)
        position[parts] = np.arange(len(parts))
        columns = _part_columns(meta, parts)
        nodes = ranges((np.cumsum(counts) - counts)[parts], counts[parts])
        x, y = to_rd().transform(lon[nodes], lat[nodes])
        node_start = np.cumsum(counts[parts]) - counts[parts]  # where each of `parts` starts in `nodes`
        groups = np.flatnonzero(np.r_[True, pair_clip[1:] != pair_clip[:-1], True])
        for start, end in itertools.pairwise(groups):
            kept = position[pair_part[start:end]]
            lengths = counts[parts[kept]]
            at = ranges(node_start[kept], lengths)
            local_part = np.repeat(np.arange(len(kept)), lengths)
            self.kept_per_clip[pair_clip[start]].append(
                (refs[nodes[at]], x[at], y[at], local_part, *(column[kept] for column in columns)))

    def frame_of(self, k: int) -> gpd.GeoDataFrame:
        """The ways of clip ``k`` (call :meth:`flush` first), as :func:`read_osm` with that clip gives them."""
        frame = _ways_frame(self.kept_per_clip[k])
        self.kept_per_clip[k] = []  # handed out: free the memory
        return frame


def _split_at_junctions(
    refs: np.ndarray, *, x: np.ndarray, y: np.ndarray, part: np.ndarray, way_ids: np.ndarray, tag_cols: dict[str, np.ndarray]
) -> gpd.GeoDataFrame:
    """Cut each way part (nodes in RD) at every node it shares with another part (or itself), vectorised."""
    n = len(refs)
    first = np.ones(n, dtype=bool)
    first[1:] = part[1:] != part[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = part[:-1] != part[1:]
    _, inverse, counts = np.unique(refs, return_inverse=True, return_counts=True)
    cut = first | last | (counts[inverse] >= 2)
    cuts = np.flatnonzero(cut)
    # consecutive cut positions of the same part bound one edge
    same = part[cuts[:-1]] == part[cuts[1:]]
    start, end = cuts[:-1][same], cuts[1:][same]
    n_vertices = end - start + 1
    edge_of_vertex = np.repeat(np.arange(len(start)), n_vertices)
    pos = ranges(start, n_vertices)
    coords = np.column_stack([x[pos], y[pos]])
    lines = shapely.linestrings(coords, indices=edge_of_vertex)
    edge_part = part[start]
    columns: dict[str, Any] = {
        "u": refs[start],
        "v": refs[end],
        "length": shapely.length(lines),
        "way_id": way_ids[edge_part],
    }
    columns.update({k: col[edge_part] for k, col in tag_cols.items()})
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(lines, crs=CRS), crs=CRS)


def read_osm(path: Path | str, venue_tags: dict[str, Any], clip: BaseGeometry | None = None) -> OsmExtract:
    """Read the highway ways and the venues of an OSM XML or PBF file.

    Parameters
    ----------
    path
        ``.osm``/``.xml`` (OSM XML, e.g. an Overpass answer) or ``.osm.pbf`` (e.g. a
        Geofabrik extract).
    venue_tags
        ``{key: True | [values]}`` (:meth:`wijkanalyse.config.Config.osm_tags`): a feature
        with any matching tag is a venue.
    clip
        Optional polygon in lon/lat (EPSG:4326): keep only ways with a node inside it and
        venues inside it.

    Raises
    ------
    SourceError
        When the file cannot be read or is not OpenStreetMap data; the message names it.
    """
    ways = _WayBuffer(clip)
    venue_rows = _parse(path, venue_tags, ways)
    return OsmExtract(ways=ways.frame(), venues=_venues_frame(venue_rows, clip))


def _parse(path: Path | str, venue_tags: dict[str, Any], ways: _WayBuffer) -> list[tuple[str, str | None, str, bytes]]:
    """Read ``path``: highway ways into ``ways``, venue rows (osm_id, name, tags JSON, WKB) returned.

    A file not in OSM order (a hand-edited or merged one) is read from a sorted copy.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"Het OpenStreetMap-bestand {path} bestaat niet. Controleer het pad (--osm-pbf)."
        raise SourceError(msg)
    with _in_file_order(path) as readable:
        return _parse_ordered(path, readable, venue_tags, ways)


def _parse_ordered(
    path: Path, readable: Path, venue_tags: dict[str, Any], ways: _WayBuffer,
) -> list[tuple[str, str | None, str, bytes]]:
    """:func:`_parse` of ``readable``, a copy of ``path`` (or ``path`` itself) in OSM order."""
    import osmium  # noqa: PLC0415 (only runs that read OSM need it)

    fmt = _format(readable)
    is_venue = _matcher(venue_tags)
    keys = sorted({"highway", *venue_tags})
    venue_rows: list[tuple[str, str | None, str, bytes]] = []
    factory = osmium.geom.WKBFactory()
    all_nodes = osmium.geom.use_nodes.ALL  # every node, consecutive duplicates too, as _WayBuffer.add reads them

    def make_line(nodes: Any) -> Any:
        return factory.create_linestring(nodes, all_nodes)

    log.debug("reading %s (%s)", path, fmt)
    try:
        processor = osmium.FileProcessor(osmium.io.File(str(readable), fmt)).with_locations()
        if venue_tags:  # multipolygon venues (a church mapped as a relation) need area assembly
            processor = processor.with_areas(osmium.filter.KeyFilter(*venue_tags))
        processor = processor.with_filter(osmium.filter.KeyFilter(*keys))
        n_ways = 0
        for obj in processor:
            tags = obj.tags
            if isinstance(obj, osmium.osm.Way):  # = obj.is_way(), which mypy cannot narrow by
                highway = tags.get("highway")
                if highway is not None and highway not in NEVER_A_WAY:
                    ways.add_located(obj.id, {k: v for k in WAY_TAGS if (v := tags.get(k)) is not None}, obj.nodes, make_line)
                    n_ways += 1
                    if n_ways % _PROGRESS_WAYS == 0:  # a province or country file takes a while: show it
                        log.info("    %s wegen gelezen uit %s ...", f"{n_ways:,}".replace(",", "."), path.name)
            if is_venue(tags) and (row := _venue_row(obj, tags, factory)) is not None:
                venue_rows.append(row)
    except RuntimeError as e:  # libosmium reports parse errors as RuntimeError
        raise _unreadable(path, e) from e
    return venue_rows


def _format(path: Path) -> str:
    return "pbf" if path.name.endswith(".pbf") else "osm"


def _unreadable(path: Path, error: object) -> SourceError:
    msg = f"Kan het OpenStreetMap-bestand {path} niet lezen: {error}. Download het opnieuw (een half gedownload bestand is onleesbaar)."
    return SourceError(msg)


def _id_key(osm_id: int) -> tuple[int, int]:
    """libosmium's id order (``osmium sort``, the area assembler's check): 0, then negative ids by size, then positive."""
    return (0, 0) if osm_id == 0 else (1, -osm_id) if osm_id < 0 else (2, osm_id)


_TYPE_RANK = {"n": 0, "w": 1, "r": 2}


def _header_says_sorted(path: Path) -> bool:
    """A PBF whose header has ``Sort.Type_then_ID`` (Geofabrik, ``osmium sort``/``extract``): sorted, no pass needed."""
    import osmium  # noqa: PLC0415

    reader = osmium.io.Reader(osmium.io.File(str(path), _format(path)), osmium.osm.osm_entity_bits.NOTHING)
    try:
        return reader.header().get("sorting") == "Type_then_ID"
    finally:
        reader.close()


def _fileinfo(command: str, path: Path) -> dict[str, Any]:
    """``osmium fileinfo -e``'s data section (``objects_ordered``, ``multiple_versions``, counts)."""
    result = subprocess.run(  # noqa: S603 (our own arguments)
        [command, "fileinfo", "-e", "-j", "-F", _format(path), str(path)], capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "osmium fileinfo mislukte")
    return json.loads(result.stdout)["data"]


#: :func:`file_order`'s answers.
SORTED, UNSORTED, DUPLICATES = "sorted", "unsorted", "duplicates"


def file_order(path: Path | str, command: str | None) -> str:
    """:data:`SORTED` when the file's nodes come before its ways before its relations, each by id and once.

    Else :data:`UNSORTED`, or :data:`DUPLICATES` when an object (type and id) occurs twice (two
    overlapping extracts joined; a file out of order may hold duplicates too, found when sorting). libosmium's multipolygon assembly refuses ways out of order
    ("Way IDs out of order") or twice, and a way read before its nodes gets no locations, so
    such a file is sorted first (:func:`sort_osm`). A PBF header that says it is sorted is
    trusted; otherwise ``osmium fileinfo -e`` (C++) checks when ``command`` is the osmium
    command, else (or when fileinfo fails) one pyosmium pass over the ids does (it stops at the
    first id out of order).

    Raises
    ------
    RuntimeError
        When the file is not readable OSM data.
    """
    import osmium  # noqa: PLC0415

    path = Path(path)
    if _header_says_sorted(path):
        return SORTED
    if command is not None:
        try:
            data = _fileinfo(command, path)
        except RuntimeError:  # fileinfo -e fails on some readable files (no nodes at all): let pyosmium decide
            data = None
        if data is not None:
            if data.get("multiple_versions"):
                return DUPLICATES
            return SORTED if data.get("objects_ordered") else UNSORTED
    last = (-1, (0, 0))
    for obj in osmium.FileProcessor(osmium.io.File(str(path), _format(path))):
        key = (_TYPE_RANK[obj.type_str()], _id_key(obj.id))
        if key == last:
            return DUPLICATES
        if key < last:
            return UNSORTED
        last = key
    return SORTED


def sort_osm(path: Path | str, dest: Path | str, command: str | None) -> None:
    """Write ``path`` sorted (nodes, ways, relations, each by id) and each object once to ``dest`` (``.osm.pbf``).

    With ``command`` (the osmium command) ``osmium sort`` sorts in C++; it keeps every copy of
    an object, so when ``osmium fileinfo`` then finds one twice the sorted file is read once
    more as below. Without, pyosmium reads every object into memory, keeps one copy of each
    (the highest version; the last read of equal versions) and writes them in order: fine for
    the hand-edited and merged files that need it (an extract from Geofabrik or Overpass is
    sorted already).
    """
    import osmium  # noqa: PLC0415
    from osmium.osm import mutable  # noqa: PLC0415

    path, dest = Path(path), Path(dest)
    if command is not None:
        with tempfile.TemporaryDirectory(prefix="wijkanalyse-sort-", dir=dest.parent) as tmp:
            first = Path(tmp) / "gesorteerd.osm.pbf"
            _osmium(command, ["sort", "-F", _format(path), str(path), "-o", str(first), "--overwrite"], "sort")
            if not _fileinfo(command, first).get("multiple_versions"):
                first.replace(dest)
                return
            sort_osm(first, dest, None)
            return
    objects: dict[tuple[int, tuple[int, int]], tuple[int, Any]] = {}
    for obj in osmium.FileProcessor(osmium.io.File(str(path), _format(path))):
        key = (_TYPE_RANK[obj.type_str()], _id_key(obj.id))
        if not isinstance(obj, (osmium.osm.Node, osmium.osm.Way, osmium.osm.Relation)):  # for mypy: no areas
            continue  # (without with_areas) and a changeset's 'c' is a KeyError just above
        if key in objects and objects[key][0] > obj.version:
            continue
        common: dict[str, Any] = {"id": obj.id, "version": obj.version, "tags": {t.k: t.v for t in obj.tags}}
        if isinstance(obj, osmium.osm.Node):  # isinstance, as is_node() does, narrows for mypy
            loc = obj.location
            copy: Any = mutable.Node(location=(loc.lon, loc.lat) if loc.valid() else None, **common)
        elif isinstance(obj, osmium.osm.Way):
            copy = mutable.Way(nodes=[n.ref for n in obj.nodes], **common)
        else:
            copy = mutable.Relation(members=[(m.type, m.ref, m.role) for m in obj.members], **common)
        objects[key] = (obj.version, copy)
    header = osmium.io.Header()
    header.set("sorting", "Type_then_ID")
    writer = osmium.SimpleWriter(str(dest), header=header, overwrite=True)
    try:
        for key in sorted(objects):
            add = (writer.add_node, writer.add_way, writer.add_relation)[key[0]]
            add(objects[key][1])
    finally:
        writer.close()


@contextmanager
def _in_file_order(path: Path) -> Iterator[Path]:
    """``path`` itself when it is in OSM order, else a sorted copy in a temporary folder (logged)."""
    command = osmium_command()
    try:
        order = file_order(path, command)
    except RuntimeError as e:
        raise _unreadable(path, e) from e
    if order == SORTED:
        yield path
        return
    log.info(
        "    %s is niet op type en id gesorteerd%s (met de hand bewerkt of samengevoegd?): eerst gesorteerd",
        path.name, ", en objecten staan er dubbel in" if order == DUPLICATES else "",
    )
    with tempfile.TemporaryDirectory(prefix="wijkanalyse-sort-") as tmp:
        dest = Path(tmp) / "gesorteerd.osm.pbf"
        try:
            sort_osm(path, dest, None if order == DUPLICATES else command)
        except RuntimeError as e:
            raise _unreadable(path, e) from e
        yield dest


def osmium_command() -> str | None:
    """The ``osmium`` command (osmium-tool) when installed, else None."""
    return shutil.which("osmium")


def read_osm_clips(
    path: Path | str, venue_tags: dict[str, Any], clips: Sequence[BaseGeometry], *, engine: str = "auto",
) -> Iterator[tuple[int, OsmExtract]]:
    """Cut many clips out of one OSM file in one pass; yield ``(clip index, extract)`` in clip order.

    Each extract is what :func:`read_osm` ``(path, venue_tags, clip=clips[i])`` gives, but the
    file is read once for all clips (see the module docstring).

    Parameters
    ----------
    path
        ``.osm.pbf`` (or OSM XML) file, e.g. all of the Netherlands.
    venue_tags
        As for :func:`read_osm`.
    clips
        Polygons in lon/lat (EPSG:4326): each gemeente plus its border margin.
    engine
        ``"osmium"`` (the osmium-tool command), ``"pyosmium"`` or ``"auto"`` (osmium when
        :func:`osmium_command` finds it).

    Raises
    ------
    SourceError
        When the file cannot be read, or ``engine="osmium"`` and the command is missing or fails.
    """
    if engine not in {"auto", "osmium", "pyosmium"}:
        msg = f"Onbekende OSM-engine {engine!r}: kies 'auto', 'osmium' of 'pyosmium'."
        raise ValueError(msg)
    if not clips:
        return
    command = osmium_command()
    if engine == "osmium" and command is None:
        msg = "Het commando osmium (osmium-tool) is niet geïnstalleerd: installeer het (apt-get install osmium-tool) of kies pyosmium."
        raise SourceError(msg)
    if engine != "pyosmium" and command is not None:
        yield from _clips_with_osmium_tool(command, Path(path), venue_tags, clips)
        return
    buffer = _MultiClipWayBuffer(clips)
    venue_rows = _parse(path, venue_tags, buffer)
    buffer.flush()
    points = _venue_points(venue_rows)
    for k, clip in enumerate(buffer.clips):
        yield k, OsmExtract(ways=buffer.frame_of(k), venues=_venues_in(venue_rows, points, clip))


def _tags_filter_expressions(venue_tags: dict[str, Any]) -> list[str]:
    """``osmium tags-filter`` expressions: highway ways and every venue tag."""
    exprs = ["w/highway"]
    for key, values in sorted(venue_tags.items()):
        exprs.append(f"nwr/{key}" if values is True else f"nwr/{key}={','.join(values)}")
    return exprs


def _osmium(command: str, args: list[str], what: str) -> None:
    result = subprocess.run([command, *args], capture_output=True, text=True, check=False)  # noqa: S603 (our own arguments)
    if result.returncode != 0:
        msg = f"osmium {what} mislukte: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode}. Controleer het OpenStreetMap-bestand."
        raise SourceError(msg)


def _clips_with_osmium_tool(
    command: str, path: Path, venue_tags: dict[str, Any], clips: Sequence[BaseGeometry],
) -> Iterator[tuple[int, OsmExtract]]:
    """``osmium tags-filter`` the file once (C++), then cut every clip out of the small result in one pass."""
    if not path.is_file():
        msg = f"Het OpenStreetMap-bestand {path} bestaat niet. Controleer het pad (--osm-pbf)."
        raise SourceError(msg)
    with tempfile.TemporaryDirectory(prefix="wijkanalyse-osmium-") as tmp:
        filtered = Path(tmp) / "wegen-en-voorzieningen.osm.pbf"
        log.info("    osmium tags-filter %s (alleen wegen en voorzieningen)", path.name)
        _osmium(command, ["tags-filter", str(path), *_tags_filter_expressions(venue_tags), "-o", str(filtered),
                          "--overwrite"], "tags-filter")
        yield from read_osm_clips(filtered, venue_tags, clips, engine="pyosmium")


def _venue_row(obj: Any, tags: Any, factory: Any) -> tuple[str, str | None, str, bytes] | None:
    """(osm_id, name, tags JSON, WKB) of a venue node, way or multipolygon relation; None without geometry."""
    if obj.is_node():
        if not obj.location.valid():
            return None
        osm_id, wkb = f"node/{obj.id}", factory.create_point(obj)
    elif obj.is_way():
        osm_id, wkb = f"way/{obj.id}", _way_wkb(obj, factory)
    elif obj.is_area() and not obj.from_way():  # closed ways were taken as ways
        osm_id = f"relation/{obj.orig_id()}"
        try:
            wkb = factory.create_multipolygon(obj)
        except RuntimeError:  # a broken multipolygon: no geometry, no venue
            wkb = None
    else:
        return None
    return None if wkb is None else (osm_id, tags.get("name"), _tags_json(tags), wkb)


def _way_wkb(way: Any, factory: Any) -> bytes | None:
    """A closed way as a polygon, an open one as a line; None when its nodes lack locations."""
    try:
        if way.is_closed() and len(way.nodes) >= 4:
            coords = [(n.lon, n.lat) for n in way.nodes]
            return shapely.to_wkb(shapely.Polygon(coords))
        return factory.create_linestring(way)
    except Exception:  # osmium raises InvalidLocationError or RuntimeError for missing nodes
        return None


def _tags_json(tags: Any) -> str:
    return json.dumps({t.k: t.v for t in tags}, ensure_ascii=False, sort_keys=True)


def _venue_points(rows: list[tuple[str, str | None, str, bytes]]) -> np.ndarray:
    """A point on or in each venue (lon/lat)."""
    if not rows:
        return np.zeros(0, dtype=object)
    geoms = shapely.from_wkb([r[3] for r in rows])
    return shapely.point_on_surface(shapely.make_valid(geoms))


def _venues_in(
    rows: list[tuple[str, str | None, str, bytes]], points: np.ndarray, clip: BaseGeometry | None,
) -> gpd.GeoDataFrame:
    """The venues whose point lies in ``clip`` (all without one), as a venues frame in EPSG:28992."""
    if not rows:
        return empty_venues()
    keep = np.ones(len(rows), dtype=bool) if clip is None else shapely.contains(clip, points)
    lon, lat = shapely.get_x(points[keep]), shapely.get_y(points[keep])
    x, y = to_rd().transform(lon, lat)
    frame = pd.DataFrame(
        [r[:3] for r, k in zip(rows, keep, strict=True) if k], columns=["osm_id", "naam", "tags"]
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(shapely.points(x, y), crs=CRS), crs=CRS)


def _venues_frame(rows: list[tuple[str, str | None, str, bytes]], clip: BaseGeometry | None) -> gpd.GeoDataFrame:
    return _venues_in(rows, _venue_points(rows), clip)
