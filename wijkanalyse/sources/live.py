"""Download a gemeente's data from CBS, PDOK and OpenStreetMap into a snapshot folder.

This module needs internet. Everything it fetches goes through :mod:`._http` (cached) or
``cbsodata`` (cached here as JSON), and lands in the documented snapshot layout
(:mod:`wijkanalyse.snapshot`), which the pipeline then reads exactly as it reads the demo.

Sources:

- CBS "Kerncijfers wijken en buurten" via ``cbsodata`` (OData v3); the table id differs per
  year (``CBS_TABLES``).
- Buurt polygons: PDOK WFS of the CBS wijk- en buurtkaart of the same year.
- Population: PDOK WFS of the CBS 100 m grid (vierkantstatistieken) of ``grid_year``.
- Streets, paths and venues: one Overpass query with ``[out:xml]``, or a local ``.osm.pbf``
  extract (``osm_pbf``, e.g. a Geofabrik province or all of the Netherlands) clipped to the
  gemeente plus :data:`OSM_MARGIN_M`; either is read by :func:`wijkanalyse.sources.osm.read_osm`
  and stored as the snapshot's GeoParquet network and venue layers.
"""

from __future__ import annotations

import difflib
import io
import json
import logging
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from wijkanalyse import __version__, _atomic, snapshot
from wijkanalyse.config import Config
from wijkanalyse.errors import DataError, SourceError
from wijkanalyse.sources import _http
from wijkanalyse.sources.osm import NEVER_A_WAY, OsmExtract, read_osm

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
#: Every way with a highway tag except those that are no way at all: the walk rules of the
#: config decide at run time what may be walked, so a changed rule needs no new download.
_WAY_FILTER = '["highway"]["highway"!~"^(' + "|".join(sorted(NEVER_A_WAY)) + ')$"]'


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
    parts = [f"way{_WAY_FILTER}({bbox});"]
    for key, values in sorted(tags.items()):
        if values is True:
            parts.append(f'nwr["{key}"]({bbox});')
        else:
            alternatives = "|".join(re.escape(v) for v in values)
            parts.append(f'nwr["{key}"~"^({alternatives})$"]({bbox});')
    return "[out:xml][timeout:300];\n(\n  " + "\n  ".join(parts) + "\n);\n(._;>;);\nout body;\n"


def _osm(
    buurten: gpd.GeoDataFrame, config: Config, cache_dir: Path, osm_pbf: Path | None
) -> tuple[OsmExtract, dict[str, Any]]:
    """Streets and venues within :data:`OSM_MARGIN_M` of the gemeente: from a ``.osm.pbf`` or Overpass."""
    area = buurten.to_crs("EPSG:28992").union_all().buffer(OSM_MARGIN_M)
    clip = gpd.GeoSeries([area], crs="EPSG:28992").to_crs("EPSG:4326").iloc[0]
    if osm_pbf is not None:
        osm_pbf = Path(osm_pbf)
        log.info("[4/4] Straten, paden en voorzieningen uit %s (gemeente + %g m)", osm_pbf.name, OSM_MARGIN_M)
        extract = read_osm(osm_pbf, config.osm_tags(), clip=clip)
        stamp = datetime.fromtimestamp(osm_pbf.stat().st_mtime, UTC).isoformat(timespec="seconds")
        source = {"url": f"file://{osm_pbf.resolve()}", "osm_file_date": stamp}
    else:
        log.info("[4/4] Straten, paden en voorzieningen (OpenStreetMap, Overpass)")
        west, south, east, north = clip.bounds
        query = overpass_query((west, south, east, north), config.osm_tags())
        osm_xml = _http.fetch(OVERPASS_URL, data=query, cache_dir=cache_dir, what="OpenStreetMap-gegevens")
        with tempfile.TemporaryDirectory(prefix="wijkanalyse-osm-") as tmp:
            path = Path(tmp) / "overpass.osm"
            path.write_bytes(osm_xml)
            extract = read_osm(path, config.osm_tags(), clip=clip)
        source = {"url": OVERPASS_URL}
    if extract.ways.empty:
        msg = "The OpenStreetMap data around the gemeente hold no streets or paths. Check the .osm.pbf file covers it."
        raise DataError(msg)
    log.info("    %d wegdelen en %d voorzieningen", len(extract.ways), len(extract.venues))
    return extract, source


def download_snapshot(
    gemeente: str, year: int, *, config: Config, cache_dir: Path | None = None, dest: Path | None = None,
    grid_year: int | None = None, osm_pbf: Path | None = None,
) -> Path:
    """Download everything a run needs for ``gemeente`` and ``year`` into a snapshot folder.

    Returns the folder (default ``<cache_dir>/snapshots/<gemeente>-<year>``). Raises
    :class:`SourceError` when a service cannot be reached and :class:`DataError` when the
    gemeente is unknown (with suggestions). With ``osm_pbf`` the streets and venues come from
    that local ``.osm.pbf`` file instead of Overpass.
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

    extract, osm_source = _osm(buurten, config, cache_dir, osm_pbf)

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
    layers = snapshot.write_osm_layers(dest, extract.ways, extract.venues)
    (dest / snapshot.OSM_FILE).unlink(missing_ok=True)  # an older snapshot's raw XML would be stale
    manifest = snapshot.Manifest(
        gemeente_code=gemeente, gemeente_name=name, year=year, synthetic=False, created=now,
        generator=f"wijkanalyse {__version__}",
        sources={
            "cbs": {"file": snapshot.CBS_FILE, "regions_file": snapshot.REGIONS_FILE, "table": table, "url": f"https://opendata.cbs.nl/ODataApi/odata/{table}", "retrieved": now},
            "buurten": {"file": snapshot.BUURTEN_FILE, "layer": snapshot.BUURTEN_LAYER, "url": PDOK_BUURTEN_WFS.format(year=year), "retrieved": now},
            "grid": {"file": snapshot.GRID_FILE, "layer": snapshot.GRID_LAYER, "year": grid_year, "url": PDOK_GRID_WFS.format(year=grid_year), "retrieved": now},
            "network": {**layers["network"], **osm_source, "retrieved": now},
            "venues": {**layers["venues"], **osm_source, "retrieved": now, "tags": config.osm_tags()},
        },
    )
    snapshot.write_manifest(dest, manifest)  # written last: a folder with a manifest is complete
    return dest
