"""Download a gemeente's data from CBS, PDOK and OpenStreetMap into a snapshot folder.

This module needs internet (or a stand-in server: every address is a setting, see
:class:`wijkanalyse.config.Services`). Every request goes through one
:class:`~wijkanalyse.sources._http.Client` (timeouts, retries, deadline, a validating
cache) and lands in the documented snapshot layout (:mod:`wijkanalyse.snapshot`), which the
pipeline then reads exactly as it reads the demo.

Sources:

- CBS "Kerncijfers wijken en buurten" (OData v3, :mod:`.cbs_odata`): the rows of the
  Netherlands (NL00), the gemeente, its wijken and buurten, the region names and the
  column descriptions (DataProperties); the table id per year is in
  :mod:`wijkanalyse.cbs_tables`.
- Buurt polygons: PDOK WFS of the CBS wijk- en buurtkaart of the same year. The feature
  type differs per year (``wijkenbuurten:buurten`` from 2022, ``cbs_buurten_2021``,
  ``wijkenbuurten2020:cbs_buurten_2020``, ``wijkenbuurten2019:cbs_buurten_2019``): it is
  read from the service's WFS 2.0 GetCapabilities (:func:`buurt_type_name`), with the
  table :data:`BUURT_TYPE_NAMES` as the fallback when the capabilities cannot be read.
- Population: PDOK WFS of the CBS 100 m grid (vierkantstatistieken) of ``grid_year``.
- Streets, paths and venues: one Overpass query with ``[out:xml]``, or a local ``.osm.pbf``
  extract (``osm_pbf``, e.g. a Geofabrik province or all of the Netherlands) clipped to the
  gemeente plus :data:`OSM_MARGIN_M`; either is read by :func:`wijkanalyse.sources.osm.read_osm`
  and stored as the snapshot's GeoParquet network and venue layers. Overpass is asked as its
  maintainers ask: the query's ``[timeout:]`` stays below the client's read timeout
  (:func:`overpass_timeout`, so the server gives up before the client does and no heavy
  query is sent twice for that), a 429 waits at least ``rate_limit_wait_s`` (30 s) or what
  ``/api/status`` says, and the User-Agent names the project (and ``services.contact``). An
  answer whose remark says the query timed out or ran out of memory is asked once more at
  most (:func:`expect_overpass_answer`), then ends in advice: a ``.osm.pbf`` or a smaller
  area. The answer is streamed to the cache and read from there, never held in memory.

WFS answers are fetched page by page (WFS 2.0 ``count``/``startIndex``) until
``numberMatched`` features have come or a page comes back empty, whatever page size the
server honours (PDOK returns at most 1,000 features per request).
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd

from wijkanalyse import __version__, _atomic, cbs_tables, snapshot
from wijkanalyse._format import format_int
from wijkanalyse.config import Config, Services
from wijkanalyse.errors import DataError, SourceError
from wijkanalyse.gemeenten import find_gemeente
from wijkanalyse.sources import _http, cbs_odata
from wijkanalyse.sources.osm import NEVER_A_WAY, OsmExtract, read_osm

__all__ = [
    "BUURT_TYPE_NAMES",
    "GRID_YEARS",
    "OSM_MARGIN_M",
    "buurt_type_name",
    "download_snapshot",
    "expect_overpass_answer",
    "expect_wfs_capabilities",
    "feature_type_names",
    "http_client",
    "normalise_gemeente",
    "overpass_download",
    "overpass_query",
    "overpass_status_wait",
    "overpass_timeout",
    "snapshot_sources",
    "wfs_features",
    "write_parts",
]

log = logging.getLogger("wijkanalyse")

#: Years of the CBS 100 m grid that PDOK serves as WFS (service per year).
GRID_YEARS = (2019, 2021, 2023, 2024)
#: Residents may walk to a meeting point across the gemeente border: fetch OSM this far beyond it.
OSM_MARGIN_M = 1500.0
#: Every way with a highway tag except those that are no way at all: the walk rules of the
#: config decide at run time what may be walked, so a changed rule needs no new download.
_WAY_FILTER = '["highway"]["highway"!~"^(' + "|".join(sorted(NEVER_A_WAY)) + ')$"]'
#: Pages of one WFS request at most (a server that ignores startIndex would page for ever).
MAX_WFS_PAGES = 1000
#: The buurt feature type of PDOK's wijken-en-buurten WFS per year, as public code that
#: queries the live services names them (2019-2021 not confirmed live from here). Only the
#: fallback: :func:`buurt_type_name` reads the year's GetCapabilities first.
BUURT_TYPE_NAMES: dict[int, str] = {
    2019: "wijkenbuurten2019:cbs_buurten_2019",
    2020: "wijkenbuurten2020:cbs_buurten_2020",
    2021: "cbs_buurten_2021",
    2022: "wijkenbuurten:buurten",
    2023: "wijkenbuurten:buurten",
    2024: "wijkenbuurten:buurten",
    2025: "wijkenbuurten:buurten",
}
#: Seconds the Overpass ``[timeout:]`` stays below the client's read timeout.
OVERPASS_TIMEOUT_MARGIN_S = 15
#: The ``[timeout:]`` Overpass's own default allows at most without asking for more.
OVERPASS_TIMEOUT_MAX_S = 300
_WFS_NS = re.compile(r"^\{[^}]*\}")


def normalise_gemeente(text: str, year: int = 2024) -> str:
    """Turn 'GM0233', 'gm233', '0233', 'Ermelo' or 'Den Bosch' into a CBS code of ``year``.

    A code is taken as given (CBS has the last word); a name is looked up in the bundled
    list of gemeenten (:mod:`wijkanalyse.gemeenten`), offline, and an unknown name is a
    one-line error with suggestions.
    """
    if m := re.fullmatch(r"\s*(?:GM)?\s*(\d{1,4})\s*", text, flags=re.IGNORECASE):
        return f"GM{int(m[1]):04d}"
    return find_gemeente(text, year).code


def http_client(services: Services, cache_dir: Path | None = None, *, refresh: bool = False) -> _http.Client:
    """The HTTP client of a download, with the timeouts and retry policy of ``services``."""
    settings = _http.HttpSettings(
        connect_timeout_s=services.connect_timeout_s, read_timeout_s=services.read_timeout_s,
        deadline_s=services.deadline_s, retries=services.retries, backoff_s=services.backoff_s,
        rate_limit_wait_s=services.rate_limit_wait_s, user_agent=_http.user_agent(services.contact),
    )
    return _http.Client(cache_dir, settings=settings, refresh=refresh)


def _number(value: Any) -> int | None:
    """``numberMatched`` / ``numberReturned`` as int; WFS 2.0 allows "unknown"."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def wfs_features(
    client: _http.Client, url: str, params: dict[str, Any], *, what: str, page_size: int = 1000,
) -> list[dict[str, Any]]:
    """Every GeoJSON feature of a WFS 2.0 GetFeature request, page by page.

    Asks ``page_size`` features per page and moves ``startIndex`` on by the number that
    came, until ``numberMatched`` are in or a page is empty: a server that caps pages at
    fewer features (PDOK: 1,000) is followed, not trusted to have sent everything.

    Raises
    ------
    SourceError
        When the server repeats a page (ignores ``startIndex``) or sends a different
        number of features than it said matched.
    """
    features: list[dict[str, Any]] = []
    matched: int | None = None
    seen_first: set[str] = set()
    for _ in range(MAX_WFS_PAGES):
        page_params = {**params, "count": page_size, "startIndex": len(features)}
        body = client.get(url, page_params, what=what, validate=_http.expect_geojson, suffix="geojson")
        doc = json.loads(body)
        page = doc["features"]
        matched = _number(doc.get("numberMatched")) if matched is None else matched
        if not page:
            break
        first = json.dumps(page[0].get("id") or page[0].get("properties"), sort_keys=True, default=str)
        if first in seen_first:
            msg = f"De WFS voor {what} stuurde dezelfde pagina twee keer: hij negeert startIndex. Zet services.wfs_page_size hoger."
            raise SourceError(msg)
        seen_first.add(first)
        features.extend(page)
        if matched is None or matched > len(page):
            log.info("    %s: %s van %s", what, format_int(len(features)), format_int(matched, missing="?"))
        if matched is not None and len(features) >= matched:
            break
    else:
        msg = f"De WFS voor {what} bleef pagina's sturen ({MAX_WFS_PAGES} pagina's). Controleer het adres van de dienst."
        raise SourceError(msg)
    if matched is not None and len(features) != matched:
        msg = f"De WFS voor {what} meldde {matched} objecten maar stuurde er {len(features)}. Probeer het later opnieuw."
        raise SourceError(msg)
    return features


def _frame(features: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    if not features:
        return gpd.GeoDataFrame(geometry=[], crs="EPSG:28992")
    return gpd.GeoDataFrame.from_features(features, crs="EPSG:28992")


def expect_wfs_capabilities(body: bytes) -> None:
    """Accept a WFS GetCapabilities document (root ``WFS_Capabilities``); an ExceptionReport is final."""
    if report := _http._exception_report(body):  # noqa: SLF001 (the one reader of OGC errors)
        msg = f"de dienst antwoordde met een fout: {report!r}"
        raise _http.InvalidBody(msg, retry=False)
    try:
        root = ET.fromstring(body)  # noqa: S314 (a capabilities document; no entities are expanded by expat)
    except ET.ParseError as e:
        msg = f"geen WFS-capabilities-XML ({len(body)} bytes; {e})"
        raise _http.InvalidBody(msg) from e
    if _WFS_NS.sub("", root.tag) != "WFS_Capabilities":
        msg = f"XML met root <{_WFS_NS.sub('', root.tag)}> in plaats van <WFS_Capabilities>"
        raise _http.InvalidBody(msg)


def feature_type_names(body: bytes) -> list[str]:
    """The ``FeatureTypeList/FeatureType/Name`` values of a WFS 2.0 (or 1.1) capabilities document."""
    root = ET.fromstring(body)  # noqa: S314
    names = []
    for element in root.iter():
        if _WFS_NS.sub("", element.tag) != "FeatureType":
            continue
        for child in element:
            name = (child.text or "").strip()
            if _WFS_NS.sub("", child.tag) == "Name" and name:
                names.append(name)
    return names


def _pick_buurt_type(names: list[str], year: int) -> str | None:
    """The buurt layer among ``names``: ``buurten`` or ``cbs_buurten_<year>`` (a prefix is allowed)."""
    local = {name: name.rsplit(":", 1)[-1].lower() for name in names}
    for wanted in ("buurten", f"cbs_buurten_{year}"):
        for name, part in local.items():
            if part == wanted:
                return name
    return next((name for name, part in local.items() if re.fullmatch(r"(cbs_)?buurten(_\d{4})?", part)), None)


def buurt_type_name(client: _http.Client, url: str, year: int) -> str:
    """The buurt feature type of PDOK's WFS of ``year``, from its GetCapabilities.

    When the capabilities cannot be read (an HTTP error, a broken document) the table
    :data:`BUURT_TYPE_NAMES` gives the name, with a warning; a host that cannot be reached
    at all is an error at once.

    Raises
    ------
    DataError
        When the capabilities list no buurt layer (they name the layers there are).
    """
    params = {"service": "WFS", "version": "2.0.0", "request": "GetCapabilities"}
    what = f"WFS-capabilities buurtgrenzen {year}"
    try:
        body = client.get(url, params, what=what, validate=expect_wfs_capabilities, suffix="xml")
    except _http.Unreachable:
        raise
    except SourceError as e:
        if year not in BUURT_TYPE_NAMES:
            raise
        log.warning("    De buurtlagen van PDOK %d zijn niet op te vragen (%s); de bekende naam %s wordt gebruikt.",
                    year, e, BUURT_TYPE_NAMES[year])
        return BUURT_TYPE_NAMES[year]
    names = feature_type_names(body)
    chosen = _pick_buurt_type(names, year)
    if chosen is None:
        offered = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "") if names else "geen"
        msg = (f"De PDOK-WFS {url} van {year} biedt geen buurtlaag aan (wel: {offered}). "
               "Controleer services.pdok_buurten_wfs_url of kies een ander --year.")
        raise DataError(msg)
    log.debug("    buurtlaag %d: %s", year, chosen)
    return chosen


def _buurten(
    client: _http.Client, services: Services, gemeente: str, year: int, type_name: str | None = None,
) -> gpd.GeoDataFrame:
    fes_filter = (
        '<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:PropertyIsEqualTo>'
        f"<fes:ValueReference>gemeentecode</fes:ValueReference><fes:Literal>{gemeente}</fes:Literal>"
        "</fes:PropertyIsEqualTo></fes:Filter>"
    )
    url = services.pdok_buurten_wfs_url.format(year=year)
    params = {
        "service": "WFS", "version": "2.0.0", "request": "GetFeature",
        "typeNames": type_name or buurt_type_name(client, url, year),
        "outputFormat": "application/json", "srsName": "EPSG:28992", "filter": fes_filter,
    }
    features = wfs_features(client, url, params, what=f"buurtgrenzen {year}", page_size=services.wfs_page_size)
    return _frame(features)


def _grid(
    client: _http.Client, services: Services, bounds: tuple[float, float, float, float], year: int,
) -> gpd.GeoDataFrame:
    """Every inhabited cell in ``bounds`` with all its properties (no ``propertyName``): the snapshot keeps
    the age bands (``aantalInwoners65JaarEnOuder`` ...) the target groups are read from."""
    xmin, ymin, xmax, ymax = bounds
    params = {
        "service": "WFS", "version": "2.0.0", "request": "GetFeature",
        "typeNames": "vierkantstatistieken100m:vierkant_100m", "outputFormat": "application/json",
        "srsName": "EPSG:28992", "bbox": f"{xmin},{ymin},{xmax},{ymax},urn:ogc:def:crs:EPSG::28992",
    }
    url = services.pdok_grid_wfs_url.format(year=year)
    features = wfs_features(client, url, params, what=f"100 m-vierkanten {year}", page_size=services.wfs_page_size)
    return _frame(features)


def overpass_timeout(read_timeout_s: float) -> int:
    """The Overpass ``[timeout:]`` for a client that waits ``read_timeout_s`` for data.

    :data:`OVERPASS_TIMEOUT_MARGIN_S` below the read timeout (half of it when that is
    shorter than twice the margin), at most :data:`OVERPASS_TIMEOUT_MAX_S`, at least 1 s: the
    server ends a query that takes too long with an error remark before the client stops
    waiting, so the client never cuts off (and resends) a query the server still works on.
    """
    below = read_timeout_s - OVERPASS_TIMEOUT_MARGIN_S if read_timeout_s >= 2 * OVERPASS_TIMEOUT_MARGIN_S \
        else read_timeout_s / 2
    return max(1, min(OVERPASS_TIMEOUT_MAX_S, int(below)))


def overpass_status_wait(client: _http.Client, interpreter_url: str) -> float | None:
    """Seconds until Overpass has a slot for us, from its ``/api/status`` (None when unknown).

    ``/api/status`` (next to ``/api/interpreter``) says ``N slots available now.`` (0 s) or
    ``Slot available after: <time>, in N seconds.`` per slot in use; the soonest slot counts.
    """
    if not interpreter_url.rstrip("/").endswith("/interpreter"):
        return None
    text = client.peek_text(interpreter_url.rstrip("/")[: -len("interpreter")] + "status")
    if text is None:
        return None
    if re.search(r"\b\d+ slots? available now", text):
        return 0.0
    seconds = [float(m) for m in re.findall(r"Slot available after: \S+, in (-?\d+) seconds", text)]
    return max(0.0, min(seconds)) if seconds else None


def overpass_query(
    bounds_wgs84: tuple[float, float, float, float], tags: dict[str, Any], *, timeout_s: int = 165,
) -> str:
    """Overpass QL for walkable ways and venues in a (west, south, east, north) box, as OSM XML.

    ``timeout_s`` is the query's ``[timeout:]``: :func:`overpass_timeout` of the read timeout.
    """
    west, south, east, north = bounds_wgs84
    bbox = f"{south:.6f},{west:.6f},{north:.6f},{east:.6f}"
    parts = [f"way{_WAY_FILTER}({bbox});"]
    for key, values in sorted(tags.items()):
        if values is True:
            parts.append(f'nwr["{key}"]({bbox});')
        else:
            alternatives = "|".join(re.escape(v) for v in values)
            parts.append(f'nwr["{key}"~"^({alternatives})$"]({bbox});')
    return f"[out:xml][timeout:{timeout_s}];\n(\n  " + "\n  ".join(parts) + "\n);\n(._;>;);\nout body;\n"


def _osm(
    client: _http.Client, services: Services, buurten: gpd.GeoDataFrame, config: Config, osm_pbf: Path | None,
) -> tuple[OsmExtract, dict[str, Any]]:
    """Streets and venues within :data:`OSM_MARGIN_M` of the gemeente: from a ``.osm.pbf`` or Overpass.

    Returns the extract (:func:`wijkanalyse.sources.osm.read_osm`) and the manifest entries
    saying where it came from.
    """
    area = buurten.to_crs("EPSG:28992").union_all().buffer(OSM_MARGIN_M)
    clip = gpd.GeoSeries([area], crs="EPSG:28992").to_crs("EPSG:4326").iloc[0]
    if osm_pbf is not None:
        osm_pbf = Path(osm_pbf)
        log.info("[4/4] Straten, paden en voorzieningen uit %s (gemeente + %s m)", osm_pbf.name, format_int(OSM_MARGIN_M))
        extract = read_osm(osm_pbf, config.osm_tags(), clip=clip)
        stamp = datetime.fromtimestamp(osm_pbf.stat().st_mtime, UTC).isoformat(timespec="seconds")
        source: dict[str, Any] = {"url": f"file://{osm_pbf.resolve()}", "osm_file_date": stamp}
    else:
        log.info("[4/4] Straten, paden en voorzieningen (OpenStreetMap, Overpass)")
        query = overpass_query(clip.bounds, config.osm_tags(), timeout_s=overpass_timeout(services.read_timeout_s))
        extract = read_osm(overpass_download(client, services.overpass_url, query), config.osm_tags(), clip=clip)
        source = {"url": services.overpass_url}
    if extract.ways.empty:
        check = (f"Controleer of {osm_pbf.name} de gemeente dekt." if osm_pbf is not None
                 else "Controleer services.overpass_url (het antwoord bevatte geen enkele weg), of gebruik --osm-pbf.")
        msg = f"De OpenStreetMap-gegevens rond de gemeente bevatten geen straten of paden. {check}"
        raise DataError(msg)
    log.info("    %s wegdelen en %s voorzieningen", format_int(len(extract.ways)), format_int(len(extract.venues)))
    return extract, source


#: An Overpass remark of a query that was too heavy: sending it again mostly gives the same remark.
_HEAVY_QUERY = re.compile(r"timed out|out of memory", re.IGNORECASE)


def expect_overpass_answer(path: Path) -> None:
    """:func:`~wijkanalyse.sources._http.expect_osm_xml_file`, with a heavy query's remark retried once at most.

    Overpass ends a query that ran past its ``[timeout:]`` or its memory with a remark
    ("runtime error: Query timed out ...", "... run out of memory ..."). Another try may
    find a less busy server, but a query that heavy mostly fails again: after one retry
    the error says what to do instead.
    """
    try:
        _http.expect_osm_xml_file(path)
    except _http.InvalidBody as e:
        if not (e.reason.startswith("Overpass meldde:") and _HEAVY_QUERY.search(e.reason)):
            raise
        remark = e.reason.removeprefix("Overpass meldde:").strip()
        msg = (f"Overpass brak de vraag naar straten en voorzieningen twee keer af ({remark}): het gebied is te "
               "groot of de server te druk. Gebruik een .osm.pbf (--osm-pbf, bijv. de provincie van "
               "download.geofabrik.de) of vraag een kleiner gebied.")
        raise _http.InvalidBody(e.reason, retries=1, give_up=msg) from e


def overpass_download(client: _http.Client, url: str, query: str) -> Path:
    """POST ``query`` to Overpass; the path of the answer (OSM XML) in the cache, valid while ``client`` is open.

    After a 429 it waits what ``/api/status`` says (at least ``rate_limit_wait_s``).
    """
    return client.post_file(
        url, data=query, what="OpenStreetMap-gegevens", validate=expect_overpass_answer, suffix="osm.xml",
        rate_limit_wait=lambda: overpass_status_wait(client, url),
    )


def _gemeente_name(cbs: cbs_odata.CbsTable, gemeente: str) -> str | None:
    """The gemeente's name from the region dimension or the figures; None when CBS has no such row."""
    key = gemeente.strip()
    for region in cbs.regions:
        if str(region.get("Key", "")).strip() == key and str(region.get("Title", "")).strip():
            return str(region["Title"]).strip()
    for row in cbs.rows:
        if str(row.get("WijkenEnBuurten", "")).strip() == key:
            return str(row.get("Gemeentenaam_1") or key).strip()
    return None


def download_snapshot(
    gemeente: str, year: int, *, config: Config, cache_dir: Path | None = None, dest: Path | None = None,
    grid_year: int | None = None, refresh: bool = False, osm_pbf: Path | None = None,
) -> Path:
    """Download everything a run needs for ``gemeente`` and ``year`` into a snapshot folder.

    Returns the folder (default ``<cache_dir>/snapshots/<gemeente>-<year>``). The folder is
    built under a temporary name and swapped in whole, so an interrupted download leaves an
    earlier snapshot untouched. ``refresh`` downloads every answer again instead of using
    the cache. With ``osm_pbf`` the streets and venues come from that local ``.osm.pbf`` file
    instead of Overpass.

    Raises
    ------
    SourceError
        When a service cannot be reached or keeps failing (after the configured retries).
    DataError
        When the year or the gemeente is unknown (with suggestions).
    """
    services = config.services.with_environment()
    cache_dir = Path(cache_dir) if cache_dir else _http.default_cache_dir()
    dest = Path(dest) if dest else cache_dir / "snapshots" / f"{gemeente}-{year}"
    table = cbs_tables.table_for_year(year)
    grid_year = grid_year or max((y for y in GRID_YEARS if y <= year), default=GRID_YEARS[0])
    now = datetime.now(UTC).isoformat(timespec="seconds")

    # the snapshot's lock is held from the start: a second fetch of it stops at once, not after the downloads
    with snapshot.staged(dest) as folder:
        with http_client(services, cache_dir, refresh=refresh) as client:
            log.info("[1/4] CBS-kerncijfers %d (%s) voor %s", year, table, gemeente)
            cbs = cbs_odata.download_kerncijfers(client, services.cbs_odata_url, table, gemeente)
            name = _gemeente_name(cbs, gemeente)
            if name is None:
                hint = ""
                try:
                    known = find_gemeente(gemeente, year)
                    hint = f" De meegeleverde lijst kent haar als {known.name}; controleer services.cbs_odata_url."
                except DataError as e:
                    hint = f" {e}"
                msg = f"CBS-tabel {table} heeft geen gemeente {gemeente}.{hint}"
                raise DataError(msg)

            log.info("[2/4] Buurtgrenzen %d (PDOK)", year)
            buurten = _buurten(client, services, gemeente, year)
            if buurten.empty:
                msg = f"PDOK heeft geen buurtgrenzen van {gemeente} voor {year}. Kies een ander --year."
                raise DataError(msg)
            xmin, ymin, xmax, ymax = buurten.total_bounds

            log.info("[3/4] CBS 100 m-vierkanten %d (PDOK)", grid_year)
            grid = _grid(client, services, (xmin, ymin, xmax, ymax), grid_year)
            if grid.empty:
                msg = f"PDOK heeft geen bewoonde 100 m-vierkanten van {grid_year} rond {gemeente}. Controleer services.pdok_grid_wfs_url."
                raise DataError(msg)

            extract, osm_source = _osm(client, services, buurten, config, osm_pbf)

        write_parts(folder, cbs=cbs, buurten=buurten, grid=grid, extract=extract)
        manifest = snapshot.Manifest(
            gemeente_code=gemeente, gemeente_name=name, year=year, synthetic=False, created=now,
            generator=f"wijkanalyse {__version__}",
            sources=snapshot_sources(services, table, year, grid_year, osm_source, now, config),
        )
        snapshot.write_manifest(folder, manifest)
    return dest


def snapshot_sources(  # noqa: PLR0917
    services: Services, table: str, year: int, grid_year: int, osm: dict[str, Any], now: str, config: Config,
) -> dict[str, Any]:
    """The manifest's ``sources`` of a downloaded snapshot: each file, its address and the date it was fetched."""
    return {
        "cbs": {
            "file": snapshot.CBS_FILE, "regions_file": snapshot.REGIONS_FILE,
            "properties_file": snapshot.PROPERTIES_FILE, "table": table, "year": year,
            "url": f"{services.cbs_odata_url.rstrip('/')}/{table}", "retrieved": now,
        },
        "buurten": {
            "file": snapshot.BUURTEN_FILE, "layer": snapshot.BUURTEN_LAYER, "year": year,
            "url": services.pdok_buurten_wfs_url.format(year=year), "retrieved": now,
        },
        "grid": {
            "file": snapshot.GRID_FILE, "layer": snapshot.GRID_LAYER, "year": grid_year,
            "url": services.pdok_grid_wfs_url.format(year=grid_year), "retrieved": now,
        },
        "network": {"file": snapshot.NETWORK_FILE, **osm, "retrieved": now},
        "venues": {"file": snapshot.VENUES_FILE, **osm, "retrieved": now, "tags": config.osm_tags()},
    }


def write_parts(
    folder: Path, *, cbs: cbs_odata.CbsTable, buurten: gpd.GeoDataFrame, grid: gpd.GeoDataFrame,
    extract: OsmExtract | None = None,
) -> None:
    """Write the downloaded parts into ``folder`` in the snapshot layout (the OSM layers when given)."""
    table = cbs.table
    for name, entity, rows in (
        (snapshot.CBS_FILE, "TypedDataSet", cbs.rows),
        (snapshot.REGIONS_FILE, "WijkenEnBuurten", cbs.regions),
        (snapshot.PROPERTIES_FILE, "DataProperties", cbs.properties),
    ):
        _atomic.write_text(folder / name, json.dumps(snapshot.odata_document(table, entity, rows), ensure_ascii=False))
    _atomic.write_with(folder / snapshot.BUURTEN_FILE, lambda p: buurten.to_file(p, layer=snapshot.BUURTEN_LAYER, driver="GPKG"))
    _atomic.write_with(folder / snapshot.GRID_FILE, lambda p: grid.to_file(p, layer=snapshot.GRID_LAYER, driver="GPKG"))
    if extract is not None:
        snapshot.write_osm_layers(folder, extract.ways, extract.venues)
