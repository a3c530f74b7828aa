"""Build small OpenStreetMap XML files from RD coordinates, for tests with hand-checkable distances."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
from pyproj import Transformer
from shapely.geometry import Point, box

from wijkanalyse import snapshot
from wijkanalyse.config import load_config
from wijkanalyse.sources.osm import read_osm

TO_WGS = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


@dataclass
class OsmBuilder:
    """Nodes, ways and venues at RD positions relative to an origin (x0, y0)."""

    x0: float = 155_000.0
    y0: float = 463_000.0
    nodes: dict[tuple[float, float], int] = field(default_factory=dict)
    venues: list[tuple[int, float, float, dict[str, str]]] = field(default_factory=list)
    ways: list[tuple[list[int], dict[str, str]]] = field(default_factory=list)

    def node(self, x: float, y: float) -> int:
        """The node at (x, y), shared by every way through it."""
        return self.nodes.setdefault((x, y), len(self.nodes) + 1)

    def way(self, points: list[tuple[float, float]], **tags: str) -> None:
        self.ways.append(([self.node(x, y) for x, y in points], tags))

    def venue(self, x: float, y: float, **tags: str) -> None:
        self.venues.append((100_000 + len(self.venues), x, y, tags))

    def xml(self) -> bytes:
        root = ET.Element("osm", version="0.6", generator="wijkanalyse tests")
        for (x, y), nid in self.nodes.items():
            lon, lat = TO_WGS.transform(self.x0 + x, self.y0 + y)
            ET.SubElement(root, "node", id=str(nid), version="1", lat=f"{lat:.9f}", lon=f"{lon:.9f}")
        for vid, x, y, tags in self.venues:
            lon, lat = TO_WGS.transform(self.x0 + x, self.y0 + y)
            n = ET.SubElement(root, "node", id=str(vid), version="1", lat=f"{lat:.9f}", lon=f"{lon:.9f}")
            for k, v in tags.items():
                ET.SubElement(n, "tag", k=k, v=v)
        for i, (refs, tags) in enumerate(self.ways, start=1):
            w = ET.SubElement(root, "way", id=str(i), version="1")
            for r in refs:
                ET.SubElement(w, "nd", ref=str(r))
            for k, v in tags.items():
                ET.SubElement(w, "tag", k=k, v=v)
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)

    def write(self, path: Path) -> Path:
        path.write_bytes(self.xml())
        return path

    def point(self, x: float, y: float) -> Point:
        """The RD point at (x, y) relative to the origin."""
        return Point(self.x0 + x, self.y0 + y)


def snapshot_with(
    demo: Path, dest: Path, osm: OsmBuilder, cells: list[tuple[float, float, int]], *, version: int = 2
) -> Path:
    """A copy of the demo snapshot whose OSM data and grid are replaced by ``osm`` and ``cells``.

    ``cells`` are (x, y, inwoners) relative to the builder's origin: 100 m cells centred there.
    Version 2 writes the GeoParquet layers, version 1 only ``osm.xml``.
    """
    shutil.copytree(demo, dest)
    for name in (snapshot.NETWORK_FILE, snapshot.VENUES_FILE):
        (dest / name).unlink(missing_ok=True)
    osm.write(dest / snapshot.OSM_FILE)
    grid = gpd.GeoDataFrame(
        {
            "c28992r100": [f"E{int(osm.x0 + x) // 100:04d}N{int(osm.y0 + y) // 100:04d}" for x, y, _ in cells],
            "aantal_inwoners": [n for _, _, n in cells],
        },
        geometry=[box(osm.x0 + x - 50, osm.y0 + y - 50, osm.x0 + x + 50, osm.y0 + y + 50) for x, y, _ in cells],
        crs="EPSG:28992",
    )
    (dest / snapshot.GRID_FILE).unlink()
    grid.to_file(dest / snapshot.GRID_FILE, layer=snapshot.GRID_LAYER, driver="GPKG")
    manifest = json.loads((dest / snapshot.MANIFEST_FILE).read_text())
    manifest["sources"].pop("network", None)
    manifest["sources"].pop("venues", None)
    manifest["format_version"] = version
    if version >= 2:
        tags = load_config().osm_tags()
        extract = read_osm(dest / snapshot.OSM_FILE, tags)
        layers = snapshot.write_osm_layers(dest, extract.ways, extract.venues)
        manifest["sources"].update(layers)
        manifest["sources"]["venues"]["tags"] = tags
    (dest / snapshot.MANIFEST_FILE).write_text(json.dumps(manifest))
    return dest
