"""The snapshot: one folder that holds every input of a run, in a documented layout.

A live run downloads CBS, PDOK and OpenStreetMap data into a snapshot folder; the demo
gemeente is generated into the same layout. The pipeline reads only snapshots, so a run can
be kept, shared and repeated offline, and the network sits behind one seam
(:mod:`wijkanalyse.sources`).

Layout (``format_version`` 2; version 1 folders, with only ``osm.xml``, are still read)::

    SNAPDIR/
      manifest.json         what is in the folder (see below)
      cbs_kerncijfers.json  CBS "Kerncijfers wijken en buurten", the OData v3 TypedDataSet
                            response: {"odata.metadata": "...", "value": [row, ...]};
                            one row per gemeente, wijk and buurt of the gemeente, with the
                            real column names of that year's table (``AantalInwoners_5``,
                            ``WijkenEnBuurten`` = space-padded code, ``SoortRegio_2``, ...)
      cbs_wijkenenbuurten.json  (optional) the table's WijkenEnBuurten dimension, OData shape:
                            {"value": [{"Key": "WK023301  ", "Title": "Oud Ermelo"}, ...]};
                            gives wijk and buurt names
      cbs_dataproperties.json  (optional) the table's DataProperties, OData shape: one entry
                            per column {"Key": "Koopwoningen_47", "Title": "Koopwoningen",
                            "Type": "Topic", "Unit": "%", ...}; columns are resolved by it
                            (a live download also stores the national row NL00 in
                            cbs_kerncijfers.json, to compare a buurt with the country)
      buurten.gpkg          layer ``buurten``: buurt polygons as served by PDOK (CBS wijk-
                            en buurtkaart): buurtcode, buurtnaam, wijkcode, gemeentecode,
                            gemeentenaam, water, ...; EPSG:28992
      vierkant100m.gpkg     layer ``vierkant100m``: the CBS 100 m population grid cells
                            (polygons, EPSG:28992) with ``c28992r100`` and
                            ``aantal_inwoners`` (-99997 = suppressed by CBS), and every
                            other column the source has: the age bands
                            ``aantal_inwoners_0_tot_15_jaar`` ... ``_65_jaar_en_ouder``
                            (camelCase ``aantalInwoners65JaarEnOuder`` from the 2023-2024
                            service) give the target groups (``[doelgroepen]``)
      netwerk.parquet       the ways of OpenStreetMap with a ``highway`` tag, cut at
                            junctions, as GeoParquet (EPSG:28992): u, v (OSM node ids),
                            length (m), way_id, the tags the walk rules read (highway,
                            name, foot, access, area, service, tunnel, layer, indoor,
                            level; "" when absent), geometry (LineString from u to v).
                            A run reads it straight into csgraph arrays
                            (:mod:`wijkanalyse.network`), without networkx.
      voorzieningen_osm.parquet  the OSM venues as GeoParquet (EPSG:28992): osm_id
                            ("node/1"), naam, tags (JSON object), geometry (a point).
                            Both files are made by :func:`wijkanalyse.sources.osm.read_osm`
                            from an Overpass answer or a ``.osm.pbf`` extract.
      osm.xml               (optional; format_version 1 had only this) OpenStreetMap XML
                            (API 0.6); read with the same reader when the two files above
                            are absent.

``manifest.json``::

    {
      "format": "wijkanalyse-snapshot",
      "format_version": 1,
      "gemeente": {"code": "GM9999", "name": "Voorbeeldgemeente"},
      "year": 2024,
      "synthetic": true,
      "created": "2024-01-01T00:00:00+00:00",
      "generator": "wijkanalyse 0.1.0",
      "sources": {
        "cbs":     {"file": "cbs_kerncijfers.json", "regions_file": "cbs_wijkenenbuurten.json",
                    "properties_file": "cbs_dataproperties.json",
                    "table": "85984NED", "year": 2024, "url": "...", "retrieved": "..."},
        "buurten": {"file": "buurten.gpkg", "layer": "buurten", "year": 2024, "url": "...", "retrieved": "..."},
        "grid":    {"file": "vierkant100m.gpkg", "layer": "vierkant100m", "year": 2020, "url": "...", "retrieved": "..."},
        "network": {"file": "netwerk.parquet", "url": "...", "retrieved": "..."},
        "venues":  {"file": "voorzieningen_osm.parquet", "tags": {"amenity": ["library"]}, ...}
      }
    }

A manifest must agree with its files: :func:`read_manifest` checks that the CBS table is
the one of the manifest's year, that every CBS file says (in its ``odata.metadata``) it
holds that table, and that the recorded years agree. A live download builds the folder
under a temporary name and swaps it in whole (:func:`staged`), so a fetch that is killed
half-way leaves the previous snapshot as it was.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wijkanalyse import _atomic, _lock
from wijkanalyse._json import JsonTooLarge, read_json
from wijkanalyse.cbs_tables import year_for_table
from wijkanalyse.errors import SourceError

__all__ = [
    "AGAIN",
    "BUURTEN_FILE",
    "BUURTEN_LAYER",
    "CBS_FILE",
    "FORMAT",
    "FORMAT_VERSION",
    "GRID_FILE",
    "GRID_LAYER",
    "MANIFEST_FILE",
    "NETWORK_FILE",
    "OSM_FILE",
    "PROPERTIES_FILE",
    "REGIONS_FILE",
    "SUPPORTED_VERSIONS",
    "VENUES_FILE",
    "Manifest",
    "new_stage",
    "odata_document",
    "odata_table",
    "read_manifest",
    "reading",
    "staged",
    "swap_in",
    "write_manifest",
    "write_osm_layers",
]

FORMAT = "wijkanalyse-snapshot"
FORMAT_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
MANIFEST_FILE = "manifest.json"
#: A manifest is a few kB; beyond this it is no manifest (:func:`wijkanalyse._json.read_json`).
MAX_MANIFEST_BYTES = 1 << 20
#: A CBS answer of one gemeente is a few MB, all of the Netherlands some 100 MB.
MAX_CBS_BYTES = 1 << 30
CBS_FILE = "cbs_kerncijfers.json"
REGIONS_FILE = "cbs_wijkenenbuurten.json"
PROPERTIES_FILE = "cbs_dataproperties.json"
BUURTEN_FILE = "buurten.gpkg"
BUURTEN_LAYER = "buurten"
GRID_FILE = "vierkant100m.gpkg"
GRID_LAYER = "vierkant100m"
OSM_FILE = "osm.xml"
NETWORK_FILE = "netwerk.parquet"
VENUES_FILE = "voorzieningen_osm.parquet"
SOURCE_KEYS = ("cbs", "buurten", "grid")
#: What to do about a snapshot folder that is broken: every message about one ends with it.
AGAIN = "Maak de snapshot opnieuw ('wijkanalyse fetch', of 'wijkanalyse demo DIR' voor de demo)."
#: The OpenStreetMap part: the fast columnar layers (version 2), or the raw XML (version 1).
OSM_KEYS = (("network", "venues"), ("osm",))


def odata_document(table: str, entity_set: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Wrap ``rows`` the way the CBS OData v3 API returns an entity set of ``table``.

    ``entity_set`` is e.g. ``"TypedDataSet"`` (the figures) or ``"WijkenEnBuurten"`` (the
    region dimension with Key and Title).
    """
    return {
        "odata.metadata": f"https://opendata.cbs.nl/ODataApi/OData/{table}/$metadata#Cbs.OData.WebAPI.{entity_set}",
        "value": rows,
    }


_METADATA_RE = re.compile(rb'"odata\.metadata"\s*:\s*"[^"]*/([0-9A-Za-z]+)/\$metadata')


def odata_table(path: Path) -> str | None:
    """The table id an OData file says it holds (from its ``odata.metadata``), or None.

    Only the start of the file is read: ``odata.metadata`` comes first in CBS answers and
    in the files wijkanalyse writes.
    """
    try:
        with Path(path).open("rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    m = _METADATA_RE.search(head)
    return m[1].decode() if m else None


def new_stage(dest: Path) -> Path:
    """An empty temporary folder beside ``dest`` to build a snapshot in (then :func:`swap_in`).

    A ``dest`` that exists but is no snapshot folder (no ``manifest.json``, not empty) is
    refused rather than replaced.
    """
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or (any(dest.iterdir()) and not (dest / MANIFEST_FILE).is_file())):
        msg = f"{dest} bestaat en is geen snapshotmap; de map wordt niet vervangen. Kies een andere map voor --snapshot."
        raise SourceError(msg)
    dest.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))


def swap_in(tmp: Path, dest: Path) -> None:
    """Replace ``dest`` by the complete folder ``tmp`` (made by :func:`new_stage`), under its lock.

    The same two-rename swap as :func:`staged` (:func:`wijkanalyse._atomic.replace_dir`): a
    kill between the renames leaves the old folder in ``.old``, which the next :func:`staged`
    of that folder puts back.
    """
    dest = Path(dest)
    with _lock.locked(dest, what=f"Snapshotmap {dest}", advice="Een fetch of run gebruikt haar; wacht tot die klaar is."):
        _atomic.replace_dir(tmp, dest)


@contextlib.contextmanager
def staged(dest: Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``dest``; on success it replaces ``dest`` whole.

    The snapshot's lock is held meanwhile (a second fetch, or a run reading it, is told so),
    and leftovers of killed fetches beside ``dest`` are cleaned first. On an error (or an
    interrupt) the temporary folder is removed and ``dest`` is left as it was. A ``dest``
    that exists but is no snapshot folder (no ``manifest.json``, not empty) is refused
    rather than replaced. A failed write (disk full, a folder that cannot be written) is one
    :class:`SourceError` naming the free space.
    """
    dest = Path(dest)

    def refuse(folder: Path) -> str | None:
        if any(folder.iterdir()) and not (folder / MANIFEST_FILE).is_file():
            return "bestaat en is geen snapshotmap"
        return None

    with _atomic.staged_dir(
        dest, what=f"Snapshotmap {dest}", advice="Kies een andere map voor --snapshot.", refuse=refuse, error=SourceError,
    ) as tmp:
        try:
            yield tmp
        except Exception as e:
            if not _atomic.is_write_error(e):
                raise
            free = _atomic.free_space(dest.parent)
            msg = (
                f"Kan de snapshot {dest} niet schrijven: {_atomic.write_error_text(e)}{f' ({free})' if free else ''}. "
                "Controleer de vrije schijfruimte en of de map beschrijfbaar is."
            )
            raise SourceError(msg) from e


@contextlib.contextmanager
def reading(folder: Path) -> Iterator[None]:
    """Hold a shared lock on the snapshot ``folder`` while a run reads it (a fetch cannot swap it away)."""
    with _lock.locked(
        folder, shared=True, what=f"Snapshotmap {folder}",
        advice="Een fetch vervangt haar; wacht tot die klaar is.",
    ):
        yield


@dataclass(frozen=True)
class Manifest:
    """The parsed ``manifest.json`` of a snapshot folder."""

    gemeente_code: str
    gemeente_name: str
    year: int
    synthetic: bool
    created: str
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    generator: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the manifest as the JSON object written to ``manifest.json``."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "gemeente": {"code": self.gemeente_code, "name": self.gemeente_name},
            "year": self.year,
            "synthetic": self.synthetic,
            "created": self.created,
            "generator": self.generator,
            "sources": self.sources,
        }


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """Write ``manifest.json`` into ``folder`` atomically."""
    text = json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n"
    return _atomic.write_text(Path(folder) / MANIFEST_FILE, text)


def write_osm_layers(folder: Path, ways: Any, venues: Any) -> dict[str, dict[str, Any]]:
    """Write the ways and venues frames (:mod:`wijkanalyse.sources.osm`) as GeoParquet, atomically.

    Returns the manifest entries ``{"network": {...}, "venues": {...}}`` (file names only;
    the caller adds where they came from).
    """
    folder = Path(folder)
    _atomic.write_with(folder / NETWORK_FILE, lambda p: ways.to_parquet(p, index=False))
    _atomic.write_with(folder / VENUES_FILE, lambda p: venues.to_parquet(p, index=False))
    return {"network": {"file": NETWORK_FILE}, "venues": {"file": VENUES_FILE}}


def _read_raw_manifest(path: Path) -> Any:
    """The parsed JSON of ``manifest.json`` (bounded in size and depth); SourceError when unreadable."""
    try:
        return read_json(path, max_bytes=MAX_MANIFEST_BYTES)
    except JsonTooLarge as e:
        msg = f"{path} {e}: dit is geen manifest van wijkanalyse. {AGAIN}"
        raise SourceError(msg) from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        msg = f"Cannot read {path}: {e}. {AGAIN}"
        raise SourceError(msg) from e


def read_manifest(folder: Path) -> Manifest:
    """Read and check ``manifest.json`` of a snapshot folder.

    Raises
    ------
    SourceError
        When the folder or manifest is missing, or the manifest is not a wijkanalyse
        snapshot manifest; the message names the file and every problem.
    """
    folder = Path(folder)
    path = folder / MANIFEST_FILE
    if not folder.is_dir():
        state = "is een bestand, geen map" if folder.exists() else "bestaat niet"
        msg = f"Snapshotmap {folder} {state}. Geef een map die met 'wijkanalyse demo' of een live download is gemaakt."
        raise SourceError(msg)
    if not path.is_file():
        msg = f"{folder} is geen snapshotmap: {MANIFEST_FILE} ontbreekt. {AGAIN}"
        raise SourceError(msg)
    raw = _read_raw_manifest(path)
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        msg = f"{path} is geen manifest van een wijkanalyse-snapshot (verwacht: \"format\": \"{FORMAT}\"). {AGAIN}"
        raise SourceError(msg)
    problems: list[str] = []
    if raw.get("format_version") not in SUPPORTED_VERSIONS:
        problems.append(
            f"format_version {raw.get('format_version')!r} wordt niet ondersteund (deze wijkanalyse leest "
            f"{', '.join(map(str, SUPPORTED_VERSIONS))}; een nieuwere snapshot vraagt een nieuwere wijkanalyse)"
        )
    gemeente = raw.get("gemeente")
    if not isinstance(gemeente, dict):
        problems.append(f'gemeente moet een object zijn zoals {{"code": "GM0233", "name": "Ermelo"}}, maar is {gemeente!r:.60}')
    code = str(gemeente.get("code", "")).strip() if isinstance(gemeente, dict) else ""
    if isinstance(gemeente, dict) and not (code.startswith("GM") and len(code) == 6 and code[2:].isdigit()):
        problems.append(f"gemeente.code {code!r} is geen CBS-gemeentecode zoals 'GM0233'")
    gemeente = gemeente if isinstance(gemeente, dict) else {}
    year = raw.get("year")
    if isinstance(year, bool) or not isinstance(year, int):
        problems.append(f"year {year!r} is geen jaartal")
    sources = raw.get("sources")
    if isinstance(sources, dict):
        problems += _source_problems(folder, sources)
    else:
        problems.append(f'sources moet een object zijn zoals {{"cbs": {{"file": "{CBS_FILE}", ...}}, ...}}, maar is {sources!r:.60}')
    if problems:
        msg = f"Snapshot {folder} is onvolledig of beschadigd: " + "; ".join(problems) + f". {AGAIN}"
        raise SourceError(msg)
    assert isinstance(year, int) and isinstance(sources, dict)  # a problem above otherwise (for mypy)
    inconsistent = _consistency(folder, year, sources)
    if inconsistent:
        msg = (
            f"Snapshot {folder} is inconsistent: " + "; ".join(inconsistent)
            + ". Download haar opnieuw met 'wijkanalyse fetch' (de map mengt bestanden van verschillende downloads)."
        )
        raise SourceError(msg)
    return Manifest(
        gemeente_code=code,
        gemeente_name=str(gemeente.get("name", code)),
        year=int(year),
        synthetic=bool(raw.get("synthetic", False)),
        created=str(raw.get("created", "")),
        sources=sources,
        generator=str(raw.get("generator", "")),
    )


def _source_problems(folder: Path, sources: dict[str, Any]) -> list[str]:
    """Every entry of the manifest's ``sources`` that is missing, malformed or names no file in the folder."""

    def check(key: str) -> str | None:
        entry = sources.get(key)
        if not isinstance(entry, dict) or "file" not in entry:
            return f"sources.{key}.file ontbreekt"
        problem = _file_problem(folder, f"sources.{key}.file", entry["file"], required=True)
        if problem is None and not isinstance(entry.get("layer", ""), str):
            problem = f"sources.{key}.layer moet een laagnaam zijn, maar is {entry['layer']!r:.60}"
        return problem

    layered = any(key in sources for key in OSM_KEYS[0])  # format 2; else the raw osm.xml of format 1
    problems = [p for key in (*SOURCE_KEYS, *OSM_KEYS[0 if layered else 1]) if (p := check(key))]
    cbs = sources.get("cbs")
    if isinstance(cbs, dict):
        problems += [
            p for key in ("regions_file", "properties_file")
            if cbs.get(key) is not None and (p := _file_problem(folder, f"sources.cbs.{key}", cbs[key], required=False))
        ]
        if not isinstance(cbs.get("table", ""), str):
            problems.append(f"sources.cbs.table moet een CBS-tabelcode zijn zoals '85984NED', maar is {cbs['table']!r:.60}")
    return problems


def _file_problem(folder: Path, where: str, name: Any, *, required: bool) -> str | None:
    """What is wrong with a file name of the manifest (not a name, outside the folder, missing), or None."""
    if not isinstance(name, str) or not name.strip():
        return f"{where} moet een bestandsnaam zijn, maar is {name!r:.60}"
    path = Path(name)
    if path.is_absolute() or ".." in path.parts:
        return f"{where} {name!r} is geen bestand in de snapshotmap"
    if required and not (folder / path).is_file():
        return f"{where} {name!r} staat niet in de map"
    return None


def _consistency(folder: Path, year: Any, sources: dict[str, Any]) -> list[str]:
    """Every way the manifest and its files disagree about the year and the CBS table."""
    problems: list[str] = []
    cbs = sources.get("cbs") or {}
    table = str(cbs.get("table", "")).strip()
    if table:
        table_year = year_for_table(table)
        if table_year is not None and table_year != year:
            problems.append(f"year {year}, maar CBS-tabel {table} bevat {table_year}")
        for key in ("file", "regions_file", "properties_file"):
            name = cbs.get(key)
            if not isinstance(name, str) or not name or not (folder / name).is_file():
                continue
            held = odata_table(folder / name)
            if held is not None and held.upper() != table.upper():
                problems.append(f"{name} bevat CBS-tabel {held}, het manifest zegt {table}")
    for key in ("cbs", "buurten"):
        entry = sources.get(key)
        recorded = entry.get("year") if isinstance(entry, dict) else None
        if recorded is not None and recorded != year:
            problems.append(f"sources.{key}.year {recorded}, maar het jaar van de snapshot is {year}")
    return problems
