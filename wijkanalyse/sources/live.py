"""Download a gemeente's data from CBS, PDOK and OpenStreetMap into a snapshot folder.

This module needs internet. Everything it fetches goes through :mod:`._http` (cached) or
``cbsodata`` (cached here as JSON), and lands in the documented snapshot layout
(:mod:`wijkanalyse.snapshot`), which the pipeline then reads exactly as it reads the demo.

Sources:

- CBS "Kerncijfers wijken en buurten" via ``cbsodata`` (OData v3); the table id differs per
  year (``CBS_TABLES``).
- Buurt polygons: PDOK WFS of the CBS wijk- en buurtkaart of the same year.
- Population: PDOK WFS of the CBS 100 m grid (vierkantstatistieken) of ``grid_year``.
- Streets, paths and venues: one Overpass query with ``[out:xml]``, saved as ``osm.xml`` and
  parsed by osmnx (``graph_from_xml`` / ``features_from_xml``).
"""

from __future__ import annotations

import difflib
import io
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import Transformer

from wijkanalyse import __version__, _atomic, snapshot
from wijkanalyse.config import Config
from wijkanalyse.errors import DataError, SourceError
from wijkanalyse.sources import _http

__all__ = [
    "CBS_TABLES",
    "cbs_filter",
    "download_snapshot",
    "normalise_gemeente",
    "overpass_query",
]

log = logging.getLogger("wijkanalyse")

#: CBS "Kerncijfers wijken en buurten" table id per year.
CBS_TABLES = {2023: "85618NED", 2024: "85984NED", 2025: "86165NED"}
PDOK_BUURTEN_WFS = "https://service.pdok.nl/cbs/wijkenbuurten/{year}/wfs/v1_0"
PDOK_GRID_WFS = "https://service.pdok.nl/cbs/vierkantstatistieken100m/{year}/wfs/v1_0"
OVERPASS_URL = "https://overpass-api.de/api/interpreter"
#: Cells asked per WFS request (PDOK caps a response); more pages follow via startIndex.
GRID_PAGE_SIZE = 10_000
#: Years of the CBS 100 m grid that PDOK serves as WFS (service per year).
GRID_YEARS = (2019, 2021, 2023, 2024)
#: Residents may walk to a meeting point across the gemeente border: fetch OSM this far beyond it.
OSM_MARGIN_M = 1500.0
_WALK_FILTER = (
    '["highway"]["area"!~"yes"]'
    '["highway"!~"abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|raceway|razed|busway|trunk"]'
    '["foot"!~"no"]["service"!~"private"]'
)


def normalise_gemeente(text: str) -> str:
    """Turn 'GM0233', 'gm233' or '0233' into 'GM0233'; anything else is a one-line error."""
    m = re.fullmatch(r"\s*(?:GM)?\s*(\d{1,4})\s*", text, flags=re.IGNORECASE)
    if not m:
        msg = f"{text!r} is not a CBS gemeente code. Give it as GM followed by 4 digits, e.g. GM0233 for Ermelo."
        raise DataError(msg)
    return f"GM{int(m[1]):04d}"


def cbs_filter(gemeente: str) -> str:
    """OData filter for the gemeente, wijk and buurt rows of one gemeente."""
    digits = gemeente[2:]
    return " or ".join(f"startswith(Codering_3,'{p}{digits}')" for p in ("GM", "WK", "BU"))


def _table_id(year: int) -> str:
    if year not in CBS_TABLES:
        years = ", ".join(str(y) for y in sorted(CBS_TABLES))
        msg = f"No CBS Kerncijfers table known for {year}. Choose one of {years} with --year."
        raise DataError(msg)
    return CBS_TABLES[year]


def _cbs_rows(table: str, filters: str, cache_dir: Path) -> list[dict[str, Any]]:
    """Rows of a CBS table via cbsodata, cached as JSON."""
    import cbsodata  # noqa: PLC0415
    import requests  # noqa: PLC0415

    def download() -> bytes:
        log.info("    downloaden: CBS-tabel %s van opendata.cbs.nl", table)
        try:
            rows = cbsodata.get_data(table, filters=filters)
        except requests.ConnectionError as e:
            msg = "Cannot reach opendata.cbs.nl: no network connection? Run offline with --snapshot DIR or --demo."
            raise SourceError(msg) from e
        except requests.HTTPError as e:
            msg = f"CBS answered {e} for table {table}. Check the year, or try again later."
            raise SourceError(msg) from e
        return json.dumps(rows, ensure_ascii=False).encode()

    cache = cache_dir / "cbs" / f"{table}-{_http.cache_key('GET', table, None, filters)}.json"
    return json.loads(_http.cached(cache, download))


def _suggest_gemeente(table: str, gemeente: str, cache_dir: Path) -> str:
    rows = _cbs_rows(table, "startswith(Codering_3,'GM')", cache_dir)
    names = {str(r.get("Codering_3", "")).strip(): str(r.get("WijkenEnBuurten", "")).strip() for r in rows}
    close = difflib.get_close_matches(gemeente, list(names), n=3, cutoff=0.5)
    hint = ", ".join(f"{c} ({names[c]})" for c in close)
    return f" Did you mean {hint}?" if hint else ""


def _wfs_geojson(url: str, params: dict[str, Any], cache_dir: Path, what: str) -> gpd.GeoDataFrame:
    body = _http.fetch(url, params=params, cache_dir=cache_dir, what=what)
    try:
        gdf = gpd.read_file(io.BytesIO(body))
    except Exception as e:
        msg = f"PDOK returned no readable GeoJSON for {what}: {body[:200]!r}."
        raise SourceError(msg) from e
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:28992")
    return gdf


def _buurten(gemeente: str, year: int, cache_dir: Path) -> gpd.GeoDataFrame:
    ogc_filter = (
        '<ogc:Filter xmlns:ogc="http://www.opengis.net/ogc"><ogc:PropertyIsEqualTo>'
        f"<ogc:PropertyName>gemeentecode</ogc:PropertyName><ogc:Literal>{gemeente}</ogc:Literal>"
        "</ogc:PropertyIsEqualTo></ogc:Filter>"
    )
    params = {
        "service": "WFS", "version": "1.1.0", "request": "GetFeature", "typeName": "wijkenbuurten:buurten",
        "outputFormat": "application/json", "srsName": "EPSG:28992", "filter": ogc_filter,
    }
    return _wfs_geojson(PDOK_BUURTEN_WFS.format(year=year), params, cache_dir, f"buurtgrenzen {year}")


def _grid(bounds: tuple[float, float, float, float], year: int, cache_dir: Path) -> gpd.GeoDataFrame:
    xmin, ymin, xmax, ymax = bounds
    pages = []
    start, page = 0, GRID_PAGE_SIZE
    while True:
        params = {
            "service": "WFS", "version": "2.0.0", "request": "GetFeature",
            "typeNames": "vierkantstatistieken100m:vierkant_100m", "outputFormat": "application/json",
            "srsName": "EPSG:28992", "bbox": f"{xmin},{ymin},{xmax},{ymax},urn:ogc:def:crs:EPSG::28992",
            "count": page, "startIndex": start,
        }
        gdf = _wfs_geojson(PDOK_GRID_WFS.format(year=year), params, cache_dir, f"100 m-vierkanten {year}")
        pages.append(gdf)
        if len(gdf) < page:
            break
        start += page
    return pd.concat(pages, ignore_index=True) if len(pages) > 1 else pages[0]


def overpass_query(bounds_wgs84: tuple[float, float, float, float], tags: dict[str, Any]) -> str:
    """Overpass QL for walkable ways and venues in a (west, south, east, north) box, as OSM XML."""
    west, south, east, north = bounds_wgs84
    bbox = f"{south:.6f},{west:.6f},{north:.6f},{east:.6f}"
    parts = [f"way{_WALK_FILTER}({bbox});"]
    for key, values in sorted(tags.items()):
        if values is True:
            parts.append(f'nwr["{key}"]({bbox});')
        else:
            alternatives = "|".join(re.escape(v) for v in values)
            parts.append(f'nwr["{key}"~"^({alternatives})$"]({bbox});')
    return "[out:xml][timeout:300];\n(\n  " + "\n  ".join(parts) + "\n);\n(._;>;);\nout body;\n"


def download_snapshot(
    gemeente: str, year: int, *, config: Config, cache_dir: Path | None = None, dest: Path | None = None,
    grid_year: int | None = None,
) -> Path:
    """Download everything a run needs for ``gemeente`` and ``year`` into a snapshot folder.

    Returns the folder (default ``<cache_dir>/snapshots/<gemeente>-<year>``). Raises
    :class:`SourceError` when a service cannot be reached and :class:`DataError` when the
    gemeente is unknown (with suggestions).
    """
    cache_dir = Path(cache_dir) if cache_dir else _http.default_cache_dir()
    dest = Path(dest) if dest else cache_dir / "snapshots" / f"{gemeente}-{year}"
    table = _table_id(year)
    grid_year = grid_year or max((y for y in GRID_YEARS if y <= year), default=GRID_YEARS[0])
    now = datetime.now(UTC).isoformat(timespec="seconds")

    log.info("[1/4] CBS-kerncijfers %d (%s) voor %s", year, table, gemeente)
    rows = _cbs_rows(table, cbs_filter(gemeente), cache_dir)
    if not rows:
        msg = f"CBS table {table} has no gemeente {gemeente}.{_suggest_gemeente(table, gemeente, cache_dir)}"
        raise DataError(msg)
    name = next(
        (str(r.get("Gemeentenaam_1") or r.get("WijkenEnBuurten", "")).strip()
         for r in rows if str(r.get("SoortRegio_2", "")).strip() == "Gemeente"),
        gemeente,
    )

    log.info("[2/4] Buurtgrenzen %d (PDOK)", year)
    buurten = _buurten(gemeente, year, cache_dir)
    if buurten.empty:
        msg = f"PDOK has no buurt polygons of {gemeente} for {year}. Try another --year."
        raise DataError(msg)
    buurten = buurten.to_crs("EPSG:28992")
    xmin, ymin, xmax, ymax = buurten.total_bounds

    log.info("[3/4] CBS 100 m-vierkanten %d (PDOK)", grid_year)
    grid = _grid((xmin, ymin, xmax, ymax), grid_year, cache_dir)

    log.info("[4/4] Straten, paden en voorzieningen (OpenStreetMap, Overpass)")
    to_wgs = Transformer.from_crs(28992, 4326, always_xy=True)
    m = OSM_MARGIN_M
    west, south = to_wgs.transform(xmin - m, ymin - m)
    east, north = to_wgs.transform(xmax + m, ymax + m)
    query = overpass_query((west, south, east, north), config.osm_tags())
    osm_xml = _http.fetch(OVERPASS_URL, data=query, cache_dir=cache_dir, what="OpenStreetMap-gegevens")

    dest.mkdir(parents=True, exist_ok=True)
    typed = snapshot.odata_document(table, "TypedDataSet", rows)
    _atomic.write_text(dest / snapshot.CBS_FILE, json.dumps(typed, ensure_ascii=False))
    regions = [  # cbsodata already put the names in WijkenEnBuurten; keep them as the dimension
        {"Key": str(r.get("Codering_3", "")), "Title": str(r.get("WijkenEnBuurten", "")).strip()} for r in rows
    ]
    dimension = snapshot.odata_document(table, "WijkenEnBuurten", regions)
    _atomic.write_text(dest / snapshot.REGIONS_FILE, json.dumps(dimension, ensure_ascii=False))
    _atomic.write_with(dest / snapshot.BUURTEN_FILE, lambda p: buurten.to_file(p, layer=snapshot.BUURTEN_LAYER, driver="GPKG"))
    _atomic.write_with(dest / snapshot.GRID_FILE, lambda p: grid.to_file(p, layer=snapshot.GRID_LAYER, driver="GPKG"))
    _atomic.write_bytes(dest / snapshot.OSM_FILE, osm_xml)
    manifest = snapshot.Manifest(
        gemeente_code=gemeente, gemeente_name=name, year=year, synthetic=False, created=now,
        generator=f"wijkanalyse {__version__}",
        sources={
            "cbs": {"file": snapshot.CBS_FILE, "regions_file": snapshot.REGIONS_FILE, "table": table, "url": f"https://opendata.cbs.nl/ODataApi/odata/{table}", "retrieved": now},
            "buurten": {"file": snapshot.BUURTEN_FILE, "layer": snapshot.BUURTEN_LAYER, "url": PDOK_BUURTEN_WFS.format(year=year), "retrieved": now},
            "grid": {"file": snapshot.GRID_FILE, "layer": snapshot.GRID_LAYER, "year": grid_year, "url": PDOK_GRID_WFS.format(year=grid_year), "retrieved": now},
            "osm": {"file": snapshot.OSM_FILE, "url": OVERPASS_URL, "retrieved": now},
        },
    )
    snapshot.write_manifest(dest, manifest)  # written last: a folder with a manifest is complete
    return dest
