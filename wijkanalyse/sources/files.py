"""Read a snapshot folder: the offline twin of the live sources."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from wijkanalyse import snapshot
from wijkanalyse._json import JsonTooLarge, read_json
from wijkanalyse.errors import SourceError
from wijkanalyse.sources import _http
from wijkanalyse.sources.osm import OsmExtract, read_osm

__all__ = ["SnapshotReader", "read_odata_json"]

log = logging.getLogger(__name__)


def read_odata_json(path: Path) -> pd.DataFrame:
    """Read an OData v3 JSON response (``{"odata.metadata": ..., "value": [...]}``) or a plain list of rows."""
    try:
        raw = read_json(path, max_bytes=snapshot.MAX_CBS_BYTES)
    except JsonTooLarge as e:
        msg = f"CBS table {path} {e}: dit is geen CBS-antwoord. {snapshot.AGAIN}"
        raise SourceError(msg) from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        msg = f"Kan CBS-tabel {path} niet lezen: {e}. {snapshot.AGAIN}"
        raise SourceError(msg) from e
    rows = raw.get("value") if isinstance(raw, dict) else raw
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        msg = f"CBS-tabel {path} bevat geen rijen (verwacht: een OData-antwoord met een \"value\"-lijst). {snapshot.AGAIN}"
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
        return str(self.manifest.sources["cbs"].get("table", "CBS-tabel"))

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
            msg = f"Kan {path}{f' laag {layer!r}' if layer else ''} niet lezen: {_short(e, path)}. {snapshot.AGAIN}"
            raise SourceError(msg) from e

    def buurten(self) -> gpd.GeoDataFrame:
        """The buurt polygons (PDOK wijk- en buurtkaart columns)."""
        return self._layer("buurten")

    def grid(self) -> gpd.GeoDataFrame:
        """The CBS 100 m population grid cells."""
        return self._layer("grid")

    def osm(self, venue_tags: dict[str, Any]) -> OsmExtract:
        """The ways and OSM venues: GeoParquet layers (format 2) or ``osm.xml`` parsed (format 1).

        ``venue_tags`` only matters for ``osm.xml``; the layers hold what was fetched (a warning
        names the config's venue tags the fetch did not ask for).
        """
        sources = self.manifest.sources
        if "network" in sources and "venues" in sources:
            ways = self._parquet("network", "De straatlaag (netwerk)")
            venues = self._parquet("venues", "De laag met OSM-voorzieningen")
            fetched = sources["venues"].get("tags")
            if isinstance(fetched, dict):
                missing = _tags_not_fetched(venue_tags, fetched)
                if missing:
                    log.warning(
                        "Let op: de snapshot is opgehaald zonder de OSM-tags %s; voorzieningen met die tags "
                        "ontbreken. Haal de snapshot opnieuw op met deze config.", ", ".join(missing),
                    )
            return OsmExtract(ways=ways, venues=venues)
        path = self._path("osm")
        try:  # an Overpass error page or remark saved by an old fetch: say so, not "no meeting points"
            _http.expect_osm_xml_file(path)
        except _http.InvalidBody as e:
            msg = f"{path} is geen bruikbaar OpenStreetMap-antwoord: {e.reason}. {snapshot.AGAIN}"
            raise SourceError(msg) from e
        except OSError as e:
            msg = f"Kan {path} niet lezen: {e.strerror or e}. {snapshot.AGAIN}"
            raise SourceError(msg) from e
        return read_osm(path, venue_tags)

    def _parquet(self, key: str, what: str) -> gpd.GeoDataFrame:
        """A GeoParquet layer, in EPSG:28992 (another CRS is projected; a CRS its coordinates contradict refused)."""
        from wijkanalyse import model  # noqa: PLC0415 (model imports the config; keep this module light)

        path = self._path(key)
        try:
            frame = gpd.read_parquet(path)
        except Exception as e:  # pyarrow raises several types for broken files
            msg = f"Kan {path} niet lezen: {_short(e, path)}. {snapshot.AGAIN}"
            raise SourceError(msg) from e
        if frame.crs is None:
            return frame  # the network says what it expected
        model.check_crs(frame, f"{what} {path.name}", snapshot.AGAIN)
        return frame if frame.crs == model.CRS else frame.to_crs(model.CRS)


def _short(error: Exception, path: Path, limit: int = 160) -> str:
    """A reader's error as one short line (GDAL repeats its SQL and message, Arrow the path)."""
    text = " ".join(str(error).split()).replace(str(path), path.name)
    text = re.sub(r"^\w+\(.*\) failed: ", "", text)  # sqlite3_prepare_v2(SELECT ...) failed: <reason>
    parts = text.split("; ")
    if len(parts) == 2 and parts[0] == parts[1]:
        text = parts[0]
    return text.rstrip(".") if len(text) <= limit else text[:limit] + "..."


def _tags_not_fetched(wanted: dict[str, Any], fetched: dict[str, Any]) -> list[str]:
    """``key=value`` of ``wanted`` (config venue tags) that the snapshot's fetch did not ask for."""
    missing = []
    for key, values in wanted.items():
        have = fetched.get(key)
        if have is True:
            continue
        if values is True:
            if have is None:
                missing.append(f"{key}=*")
            continue
        missing += [f"{key}={v}" for v in values if not isinstance(have, list) or v not in have]
    return missing
