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
"""

from __future__ import annotations

import json
import logging
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from wijkanalyse.errors import SourceError

__all__ = ["NEVER_A_WAY", "WAY_TAGS", "OsmExtract", "empty_venues", "empty_ways", "read_osm"]

log = logging.getLogger("wijkanalyse")

CRS = "EPSG:28992"
#: Way tags kept for the walk and attachment rules (:mod:`wijkanalyse.network`).
WAY_TAGS = ("highway", "name", "foot", "access", "area", "service", "tunnel", "layer", "indoor", "level")
#: ``highway`` values that are no way at all (lifecycle prefixes and 'no'): never read.
NEVER_A_WAY = frozenset({"abandoned", "construction", "disused", "no", "planned", "proposed", "razed"})
_PROGRESS_WAYS = 500_000  # log a line every so many ways read
_FLUSH_WAYS = 200_000  # ways buffered before a clip filter runs, so a country file stays small
_TO_RD = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)


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
    wanted = {k: (True if v is True else frozenset(v)) for k, v in venue_tags.items()}

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

    def add(self, way_id: int, tags: dict[str, str], nodes: Iterable[Any]) -> None:
        """Add one way; a node without a location (cut off by the extract) breaks it in two."""
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

    def flush(self) -> None:
        """Apply the clip to the buffered ways and keep what lies (partly) inside."""
        if not self.meta:
            return
        refs = np.frombuffer(self.refs, dtype=np.int64).copy()
        lon = np.frombuffer(self.lon, dtype=np.float64).copy()
        lat = np.frombuffer(self.lat, dtype=np.float64).copy()
        part = np.frombuffer(self.part, dtype=np.int64).copy()
        meta = self.meta
        self._reset()
        counts = np.bincount(part, minlength=len(meta))
        keep_part = counts >= 2  # a single located node is no line
        if self.clip is not None:
            inside = shapely.contains_xy(self.clip, lon, lat)
            keep_part &= np.bincount(part, weights=inside, minlength=len(meta)) > 0
        node_keep = keep_part[part]
        kept_parts = np.flatnonzero(keep_part)
        renumber = np.full(len(meta), -1, dtype=np.int64)
        renumber[kept_parts] = np.arange(len(kept_parts))
        tags = [meta[i] for i in kept_parts]
        way_ids = np.array([t[0] for t in tags], dtype=np.int64)
        tag_cols = tuple(np.array([t[1].get(k, "") for t in tags], dtype=object) for k in WAY_TAGS)
        self.kept.append((refs[node_keep], lon[node_keep], lat[node_keep], renumber[part[node_keep]], way_ids, *tag_cols))

    def frame(self) -> gpd.GeoDataFrame:
        """All kept ways, cut at shared nodes, as a ways frame in EPSG:28992."""
        self.flush()
        if not self.kept:
            return empty_ways()
        offset = 0
        parts = []
        for batch in self.kept:  # part numbers are per batch: shift them
            parts.append(batch[3] + offset)
            offset += len(batch[4])
        refs = np.concatenate([b[0] for b in self.kept])
        lon = np.concatenate([b[1] for b in self.kept])
        lat = np.concatenate([b[2] for b in self.kept])
        part = np.concatenate(parts)
        way_ids = np.concatenate([b[4] for b in self.kept])
        tag_cols = {k: np.concatenate([b[5 + i] for b in self.kept]) for i, k in enumerate(WAY_TAGS)}
        return _split_at_junctions(refs, lon=lon, lat=lat, part=part, way_ids=way_ids, tag_cols=tag_cols)


def _split_at_junctions(
    refs: np.ndarray, *, lon: np.ndarray, lat: np.ndarray, part: np.ndarray, way_ids: np.ndarray, tag_cols: dict[str, np.ndarray]
) -> gpd.GeoDataFrame:
    """Cut each way part at every node it shares with another part (or itself), vectorised."""
    x, y = _TO_RD.transform(lon, lat)
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
    within = np.arange(n_vertices.sum()) - np.repeat(np.cumsum(n_vertices) - n_vertices, n_vertices)
    pos = start[edge_of_vertex] + within
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
    import osmium  # noqa: PLC0415 (only runs that read OSM need it)

    path = Path(path)
    if not path.is_file():
        msg = f"OpenStreetMap file {path} does not exist."
        raise SourceError(msg)
    fmt = "pbf" if path.name.endswith(".pbf") else "osm"
    is_venue = _matcher(venue_tags)
    keys = sorted({"highway", *venue_tags})
    ways = _WayBuffer(clip)
    venue_rows: list[tuple[str, str | None, str, bytes]] = []
    factory = osmium.geom.WKBFactory()
    log.debug("reading %s (%s)", path, fmt)
    try:
        processor = osmium.FileProcessor(osmium.io.File(str(path), fmt)).with_locations()
        if venue_tags:  # multipolygon venues (a church mapped as a relation) need area assembly
            processor = processor.with_areas(osmium.filter.KeyFilter(*venue_tags))
        processor = processor.with_filter(osmium.filter.KeyFilter(*keys))
        n_ways = 0
        for obj in processor:
            tags = obj.tags
            if obj.is_way():
                highway = tags.get("highway")
                if highway is not None and highway not in NEVER_A_WAY:
                    ways.add(obj.id, {k: v for k in WAY_TAGS if (v := tags.get(k)) is not None}, obj.nodes)
                    n_ways += 1
                    if n_ways % _PROGRESS_WAYS == 0:  # a province or country file takes a while: show it
                        log.info("    %s wegen gelezen uit %s ...", f"{n_ways:,}".replace(",", "."), path.name)
            if is_venue(tags) and (row := _venue_row(obj, tags, factory)) is not None:
                venue_rows.append(row)
    except RuntimeError as e:  # libosmium reports parse errors as RuntimeError
        msg = f"Cannot read OpenStreetMap file {path}: {e}. Download it again (a partial download is not readable)."
        raise SourceError(msg) from e
    return OsmExtract(ways=ways.frame(), venues=_venues_frame(venue_rows, clip))


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


def _venues_frame(rows: list[tuple[str, str | None, str, bytes]], clip: BaseGeometry | None) -> gpd.GeoDataFrame:
    if not rows:
        return empty_venues()
    geoms = shapely.from_wkb([r[3] for r in rows])
    points = shapely.point_on_surface(shapely.make_valid(geoms))
    keep = np.ones(len(rows), dtype=bool) if clip is None else shapely.contains(clip, points)
    lon, lat = shapely.get_x(points[keep]), shapely.get_y(points[keep])
    x, y = _TO_RD.transform(lon, lat)
    frame = pd.DataFrame(
        [r[:3] for r, k in zip(rows, keep, strict=True) if k], columns=["osm_id", "naam", "tags"]
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(shapely.points(x, y), crs=CRS), crs=CRS)
