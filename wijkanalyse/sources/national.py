"""Download many gemeenten at once: the CBS table once, one pass over a national ``.osm.pbf``.

For ``wijkanalyse run --gemeenten/--provincie/--nederland`` (:mod:`wijkanalyse.batch`). Each
gemeente ends up in its own snapshot folder, exactly as :func:`wijkanalyse.sources.live.download_snapshot`
makes it, but:

- CBS: the Kerncijfers rows of all requested gemeenten are fetched together, in batches of
  :data:`CBS_BATCH` gemeenten per request (a filter on the ``WijkenEnBuurten`` dimension;
  the query string stays under the 2,048 characters many servers allow), the national row
  NL00 and the column descriptions once, and then split per gemeente;
- PDOK: the buurt polygons and the 100 m grid per gemeente (one WFS query each, paged);
- OpenStreetMap: the ``.osm.pbf`` is read once for all gemeenten, each clipped to its buurten
  plus :data:`~wijkanalyse.sources.live.OSM_MARGIN_M` (:func:`~wijkanalyse.sources.osm.read_osm_clips`;
  the ``osmium`` command where installed, pyosmium otherwise). Without a file each gemeente
  asks Overpass, as a single run does, but only up to ``services.overpass_max_gemeenten``
  (5) gemeenten: each is one large download, and a national run (342 of them) would be far
  over Overpass's guideline of 1 GB a day, so a larger run without ``--osm-pbf`` is refused
  at once, before any download, with one line that asks for an ``.osm.pbf``.

Each folder is built under a temporary name and swapped in whole when its gemeente is
complete. With ``resume`` a snapshot that is already there for the same year (and, with a
``.osm.pbf``, from the same file) is kept and not downloaded again. A gemeente that fails (no
buurten at PDOK, a service that keeps failing) is reported and the others go on.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from wijkanalyse import __version__, cbs_tables, snapshot
from wijkanalyse.config import Config
from wijkanalyse.errors import ConfigError, DataError, WijkanalyseError
from wijkanalyse.sources import _http, cbs_odata, live
from wijkanalyse.sources.osm import OsmExtract, read_osm_clips

__all__ = [
    "CBS_BATCH",
    "NationalFetch",
    "add_osm_layers",
    "clip_area",
    "download_snapshots",
    "fetch_kerncijfers",
    "split_kerncijfers",
]

log = logging.getLogger("wijkanalyse")

#: Gemeenten per CBS request: each adds three clauses (~160 characters once URL-encoded).
CBS_BATCH = 10


@dataclass
class NationalFetch:
    """The snapshot folder of every gemeente that could be fetched, and why the others could not."""

    snapshots: dict[str, Path] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)


def clip_area(buurten: gpd.GeoDataFrame) -> BaseGeometry:
    """The gemeente plus :data:`~wijkanalyse.sources.live.OSM_MARGIN_M`, in lon/lat (as a single fetch clips it)."""
    area = buurten.to_crs("EPSG:28992").union_all().buffer(live.OSM_MARGIN_M)
    return gpd.GeoSeries([area], crs="EPSG:28992").to_crs("EPSG:4326").iloc[0]


def _key(row: Mapping[str, Any], field_name: str) -> str:
    return str(row.get(field_name, "")).strip()


def _belongs(key: str, code: str) -> bool:
    digits = code[2:]
    return key == code or key.startswith((f"WK{digits}", f"BU{digits}"))


def split_kerncijfers(
    table: str, codes: Sequence[str], rows: list[dict[str, Any]], regions: list[dict[str, Any]],
    properties: list[dict[str, Any]],
) -> dict[str, cbs_odata.CbsTable]:
    """Split the rows of many gemeenten (plus NL00) into one :class:`~wijkanalyse.sources.cbs_odata.CbsTable` each."""
    national_rows = [r for r in rows if _key(r, "WijkenEnBuurten") == cbs_odata.NATIONAL_KEY]
    national_regions = [r for r in regions if _key(r, "Key") == cbs_odata.NATIONAL_KEY]
    by_code: dict[str, cbs_odata.CbsTable] = {}
    for code in codes:
        mine = [r for r in rows if _belongs(_key(r, "WijkenEnBuurten"), code)]
        names = [r for r in regions if _belongs(_key(r, "Key"), code)]
        by_code[code] = cbs_odata.CbsTable(
            table=table, rows=national_rows + mine, regions=national_regions + names, properties=properties,
        )
    return by_code


def fetch_kerncijfers(
    client: _http.Client, base_url: str, table: str, codes: Sequence[str], *, batch: int | None = None,
) -> dict[str, cbs_odata.CbsTable]:
    """The Kerncijfers rows, region names and column descriptions of every gemeente in ``codes``.

    One request for NL00, one for the column descriptions and ``ceil(len(codes) / batch)``
    for the rows and for the region names (``batch``, default :data:`CBS_BATCH`); then split per gemeente
    (:func:`split_kerncijfers`), each as :func:`~wijkanalyse.sources.cbs_odata.download_kerncijfers`
    would give it alone.
    """
    national = f"WijkenEnBuurten eq '{cbs_odata.padded(cbs_odata.NATIONAL_KEY)}'"
    rows = cbs_odata.entity_set(client, base_url, table, "TypedDataSet", what=f"CBS-tabel {table} (NL00)",
                                filter_=national)
    regions = cbs_odata.entity_set(client, base_url, table, "WijkenEnBuurten", what=f"CBS-regionamen {table} (NL00)",
                                   filter_=f"Key eq '{cbs_odata.padded(cbs_odata.NATIONAL_KEY)}'")
    properties = cbs_odata.entity_set(client, base_url, table, "DataProperties", what=f"CBS-kolommen {table}")
    batch = batch or CBS_BATCH
    for start in range(0, len(codes), batch):
        chunk = list(codes[start:start + batch])
        label = f"{chunk[0]}..{chunk[-1]}" if len(chunk) > 1 else chunk[0]
        log.info("    CBS %s: gemeenten %d-%d van %d", table, start + 1, start + len(chunk), len(codes))
        rows += cbs_odata.entity_set(
            client, base_url, table, "TypedDataSet", what=f"CBS-tabel {table} ({label})",
            filter_=" or ".join(cbs_odata.region_filter(c, national=False) for c in chunk),
        )
        regions += cbs_odata.entity_set(
            client, base_url, table, "WijkenEnBuurten", what=f"CBS-regionamen {table} ({label})",
            filter_=" or ".join(cbs_odata.region_filter(c, "Key", national=False) for c in chunk),
        )
    return split_kerncijfers(table, codes, rows, regions, properties)


def add_osm_layers(
    areas: Mapping[str, tuple[Path, BaseGeometry]], osm_pbf: Path, venue_tags: dict[str, Any], *, engine: str = "auto",
) -> dict[str, str]:
    """Cut every gemeente's streets and venues out of ``osm_pbf`` in one pass and write them into its folder.

    Parameters
    ----------
    areas
        Gemeente code -> (snapshot folder, clip polygon in lon/lat, see :func:`clip_area`).
    osm_pbf
        The national (or provincial) extract.
    venue_tags
        :meth:`wijkanalyse.config.Config.osm_tags`.
    engine
        See :func:`~wijkanalyse.sources.osm.read_osm_clips`.

    Returns
    -------
    dict
        Gemeente code -> problem, for the gemeenten whose clip holds no street (their
        folders get no layers).
    """
    codes = list(areas)
    log.info("Straten, paden en voorzieningen van %d gemeenten uit %s (één keer gelezen)", len(codes), Path(osm_pbf).name)
    problems: dict[str, str] = {}
    clips = [areas[c][1] for c in codes]
    for k, extract in read_osm_clips(osm_pbf, venue_tags, clips, engine=engine):
        code = codes[k]
        problems.update(_write_layers(code, areas[code][0], extract))
    return problems


def _write_layers(code: str, folder: Path, extract: OsmExtract) -> dict[str, str]:
    if extract.ways.empty:
        return {code: "het OpenStreetMap-bestand bevat geen straten of paden rond deze gemeente; controleer of het de gemeente dekt"}
    snapshot.write_osm_layers(folder, extract.ways, extract.venues)
    log.debug("    %s: %d wegdelen, %d voorzieningen", code, len(extract.ways), len(extract.venues))
    return {}


def _osm_identity(osm_pbf: Path | None) -> dict[str, Any]:
    if osm_pbf is None:
        return {}
    stamp = datetime.fromtimestamp(Path(osm_pbf).stat().st_mtime, UTC).isoformat(timespec="seconds")
    return {"url": f"file://{Path(osm_pbf).resolve()}", "osm_file_date": stamp}


def _reusable(folder: Path, year: int, osm: dict[str, Any]) -> bool:
    """A complete snapshot of ``year`` (from the same .osm.pbf file, when one is given)."""
    try:
        manifest = snapshot.read_manifest(folder)
    except WijkanalyseError:
        return False
    if manifest.year != year:
        return False
    network = manifest.sources.get("network") or {}
    return all(network.get(k) == v for k, v in osm.items())


def _not_yet_there(
    codes: Sequence[str], root: Path, year: int, osm: dict[str, Any], result: NationalFetch, *, reuse: bool
) -> list[str]:
    """The gemeenten still to fetch; a complete snapshot of the same year and OSM source is reused (resume)."""
    todo = []
    for code in codes:
        dest = root / f"{code}-{year}"
        if reuse and _reusable(dest, year, osm):
            result.snapshots[code] = dest
            result.reused.append(code)
        else:
            todo.append(code)
    if result.reused:
        log.info("%d snapshots waren er al (hervat); %d op te halen", len(result.reused), len(todo))
    return todo


def _refuse_many_overpass(todo: Sequence[str], osm_pbf: Path | None, most: int) -> None:
    """Overpass asks for light use: many gemeenten without a .osm.pbf are refused before any request."""
    if osm_pbf is None and len(todo) > most:
        msg = (f"{len(todo)} gemeenten zonder --osm-pbf zijn {len(todo)} grote Overpass-downloads, meer dan Overpass "
               f"toestaat (hoogstens {most}, services.overpass_max_gemeenten): download "
               "een .osm.pbf van Nederland (https://download.geofabrik.de/europe/netherlands-latest.osm.pbf) "
               "en geef die mee met --osm-pbf.")
        raise ConfigError(msg)


def _stage_one(
    client: Any, services: Any, config: Config, cbs_rows: Any, code: str, *, year: int, grid_year: int,
    buurt_type: str, root: Path, table: str, overpass: bool, where: str,
) -> tuple[Path, BaseGeometry, str, dict[str, Any] | None]:
    """One gemeente's CBS rows, buurten and grid (and its Overpass layers) in a new staging folder.

    Returns the folder, the clip area for the .osm.pbf pass, the gemeente name and, with
    Overpass, the OSM source entry. A failure removes the folder and raises.
    """
    name = live._gemeente_name(cbs_rows, code)  # noqa: SLF001 (the same rule as a single fetch)
    if name is None:
        msg = f"CBS-tabel {table} heeft geen gemeente {code}"
        raise DataError(msg)
    log.info("    %s %s (%s)", where, name, code)
    buurten = live._buurten(client, services, code, year, buurt_type)  # noqa: SLF001
    if buurten.empty:
        msg = f"PDOK heeft geen buurtgrenzen van {code} voor {year}"
        raise DataError(msg)
    grid = live._grid(client, services, tuple(buurten.total_bounds), grid_year)  # noqa: SLF001
    if grid.empty:
        msg = f"PDOK heeft geen bewoonde 100 m-vierkanten van {grid_year} rond {code}"
        raise DataError(msg)
    folder = snapshot.new_stage(root / f"{code}-{year}")
    try:
        live.write_parts(folder, cbs=cbs_rows, buurten=buurten, grid=grid)
        source = None
        if overpass:  # Overpass, per gemeente, as a single fetch
            extract, source = live._osm(client, services, buurten, config, None)  # noqa: SLF001
            snapshot.write_osm_layers(folder, extract.ways, extract.venues)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, clip_area(buurten), name, source


def download_snapshots(
    codes: Sequence[str], year: int, *, config: Config, cache_dir: Path | None = None, root: Path | None = None,
    osm_pbf: Path | None = None, refresh: bool = False, resume: bool = True, engine: str = "auto",
) -> NationalFetch:
    """Make a snapshot folder for every gemeente in ``codes`` (see the module docstring).

    Folders go to ``root/<code>-<year>`` (default ``<cache_dir>/snapshots``), named as a
    single ``wijkanalyse fetch`` names them.

    Raises
    ------
    SourceError
        When CBS cannot be reached (after the retries): nothing can be done without it.
    DataError
        When the year has no CBS table, or PDOK's WFS of the year has no buurt layer.
    ConfigError
        When more than ``services.overpass_max_gemeenten`` gemeenten would go to Overpass (no ``osm_pbf``).
    """
    services = config.services.with_environment()
    cache_dir = Path(cache_dir) if cache_dir else _http.default_cache_dir()
    root = Path(root) if root else cache_dir / "snapshots"
    table = cbs_tables.table_for_year(year)
    grid_year = max((y for y in live.GRID_YEARS if y <= year), default=live.GRID_YEARS[0])
    osm = _osm_identity(osm_pbf)
    result = NationalFetch()
    todo = _not_yet_there(codes, root, year, osm, result, reuse=resume and not refresh)
    if not todo:
        return result
    _refuse_many_overpass(todo, osm_pbf, services.overpass_max_gemeenten)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    staged: dict[str, tuple[Path, BaseGeometry, str]] = {}
    try:
        with live.http_client(services, cache_dir, refresh=refresh) as client:
            log.info("[1/3] CBS-kerncijfers %d (%s) voor %d gemeenten", year, table, len(todo))
            cbs = fetch_kerncijfers(client, services.cbs_odata_url, table, todo)
            log.info("[2/3] Buurtgrenzen %d en 100 m-vierkanten %d (PDOK), per gemeente", year, grid_year)
            buurt_type = live.buurt_type_name(client, services.pdok_buurten_wfs_url.format(year=year), year)
            for i, code in enumerate(todo, start=1):
                try:
                    folder, clip, name, source = _stage_one(
                        client, services, config, cbs[code], code, year=year, grid_year=grid_year,
                        buurt_type=buurt_type, root=root, table=table, overpass=osm_pbf is None,
                        where=f"[{i}/{len(todo)}]",
                    )
                    staged[code] = (folder, clip, name)
                    osm = source or osm
                except WijkanalyseError as e:
                    result.failed[code] = str(e).rstrip(".")
                    log.warning("    %s overgeslagen: %s", code, result.failed[code])
        if osm_pbf is not None and staged:
            log.info("[3/3] OpenStreetMap uit %s", Path(osm_pbf).name)
            problems = add_osm_layers({c: (f, clip) for c, (f, clip, _) in staged.items()}, osm_pbf,
                                      config.osm_tags(), engine=engine)
            for code, problem in problems.items():
                result.failed[code] = problem
                shutil.rmtree(staged.pop(code)[0], ignore_errors=True)
        for code, (folder, _, name) in staged.items():
            manifest = snapshot.Manifest(
                gemeente_code=code, gemeente_name=name, year=year, synthetic=False, created=now,
                generator=f"wijkanalyse {__version__}",
                sources=live.snapshot_sources(services, table, year, grid_year, osm, now, config),
            )
            snapshot.write_manifest(folder, manifest)
            dest = root / f"{code}-{year}"
            snapshot.swap_in(folder, dest)
            result.snapshots[code] = dest
    finally:
        for folder, *_ in staged.values():
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
    return result
