"""Read a snapshot folder: the offline twin of the live sources."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd

from wijkanalyse import snapshot
from wijkanalyse.errors import DataError, SourceError

__all__ = ["SnapshotReader", "read_odata_json"]

log = logging.getLogger(__name__)

#: Way tags osmnx must keep so the walk filter can be applied after parsing.
_WALK_TAGS = ("highway", "access", "area", "foot", "service", "name", "sidewalk")


def read_odata_json(path: Path) -> pd.DataFrame:
    """Read an OData v3 JSON response (``{"odata.metadata": ..., "value": [...]}``) or a plain list of rows."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        msg = f"Cannot read CBS table {path}: {e}."
        raise SourceError(msg) from e
    rows = raw.get("value") if isinstance(raw, dict) else raw
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        msg = f"CBS table {path} holds no rows (expected an OData response with a \"value\" list)."
        raise SourceError(msg)
    return pd.DataFrame.from_records(rows)


@dataclass
class SnapshotReader:
    """Reads the inputs of one run from a snapshot folder (layout: :mod:`wijkanalyse.snapshot`)."""

    root: Path
    manifest: snapshot.Manifest = field(init=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.manifest = snapshot.read_manifest(self.root)

    def _path(self, key: str) -> Path:
        return self.root / self.manifest.sources[key]["file"]

    @property
    def cbs_table_id(self) -> str:
        """The CBS table id the figures come from (e.g. 85984NED)."""
        return str(self.manifest.sources["cbs"].get("table", "CBS table"))

    def cbs_rows(self) -> pd.DataFrame:
        """The CBS kerncijfers rows, as returned by the OData API."""
        return read_odata_json(self._path("cbs"))

    def cbs_properties(self) -> pd.DataFrame | None:
        """The table's ``DataProperties`` (column key, title, unit, ...), or None when the snapshot has none."""
        entry = self.manifest.sources["cbs"].get("properties_file")
        if not entry or not (self.root / entry).is_file():
            return None
        return read_odata_json(self.root / entry)

    def wijk_names(self) -> dict[str, str]:
        """Wijk code -> name from the optional CBS ``WijkenEnBuurten`` dimension file."""
        entry = self.manifest.sources["cbs"].get("regions_file")
        if not entry or not (self.root / entry).is_file():
            return {}
        rows = read_odata_json(self.root / entry)
        if not {"Key", "Title"} <= set(rows.columns):
            return {}
        return {str(k).strip(): str(t).strip() for k, t in zip(rows["Key"], rows["Title"], strict=True)}

    def _layer(self, key: str) -> gpd.GeoDataFrame:
        path = self._path(key)
        layer = self.manifest.sources[key].get("layer")
        try:
            return gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
        except Exception as e:  # pyogrio raises several types for broken files
            msg = f"Cannot read {path}{f' layer {layer!r}' if layer else ''}: {e}."
            raise SourceError(msg) from e

    def buurten(self) -> gpd.GeoDataFrame:
        """The buurt polygons (PDOK wijk- en buurtkaart columns)."""
        return self._layer("buurten")

    def grid(self) -> gpd.GeoDataFrame:
        """The CBS 100 m population grid cells."""
        return self._layer("grid")

    def walk_graph(self) -> nx.MultiDiGraph:
        """The street network from ``osm.xml``, parsed by osmnx, unfiltered and unsimplified."""
        import osmnx as ox  # noqa: PLC0415

        path = self._path("osm")
        old = list(ox.settings.useful_tags_way)
        ox.settings.useful_tags_way = sorted(set(old) | set(_WALK_TAGS))
        try:
            return ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
        except ox._errors.InsufficientResponseError as e:  # noqa: SLF001 (osmnx documents it there)
            msg = f"{path} holds no OpenStreetMap ways, so there is no walking network."
            raise DataError(msg) from e
        except Exception as e:
            msg = f"Cannot parse OpenStreetMap XML {path}: {e}."
            raise SourceError(msg) from e
        finally:
            ox.settings.useful_tags_way = old

    def venue_features(self, tags: dict[str, Any]) -> gpd.GeoDataFrame:
        """OSM features of ``osm.xml`` matching ``tags`` (osmnx ``features_from_xml``); empty if none."""
        import osmnx as ox  # noqa: PLC0415

        path = self._path("osm")
        try:
            return ox.features_from_xml(path, tags=tags)
        except ox._errors.InsufficientResponseError:  # noqa: SLF001
            return gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
        except Exception as e:
            msg = f"Cannot parse OpenStreetMap XML {path}: {e}."
            raise SourceError(msg) from e
