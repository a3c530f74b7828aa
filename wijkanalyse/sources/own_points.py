"""The gemeente's own points: places OpenStreetMap lacks, read from a CSV, GeoPackage or GeoJSON file.

Pure file reading, no network. The result is a venues frame (the columns of
``RunResult.venues``, EPSG:28992) that :func:`wijkanalyse.model.merge_venues` merges with
the OpenStreetMap venues.

File format
-----------
CSV (``;`` or ``,`` separated, UTF-8 with or without BOM, the first non-empty line is the
header; headers are case-insensitive, Dutch or English):

========================  ==============================================================
column                    meaning
========================  ==============================================================
``naam`` / ``name``       the place's name (required unless ``names_required=False``)
``klasse`` / ``class`` /  a venue class: its key (``buurthuis``) or its label, case-
``categorie``             insensitive; or a value mapped by ``class_values``
``lat`` + ``lon``         WGS84 degrees, or
``x`` + ``y``             RD New metres (EPSG:28992); per row the complete pair is used
                          (lat/lon first when a row has both)
``adres`` / ``address``   optional, free text
``kosten_per_jaar``       optional yearly cost in euro (``12500``, ``12500,50``)
``openingstijden`` /      optional, the OSM ``opening_hours`` syntax (``Tu 18:00-22:00``,
``opening_hours``         ``Mo-Fr 09:00-17:00``); a value the parser cannot read is kept and
                          reported by the run (:mod:`wijkanalyse.analysis.opening`), the row
                          is not bad
``capaciteit``            optional: how many residents the place can serve (README "Capaciteit")
========================  ==============================================================

GeoPackage / GeoJSON: the same attribute columns; the geometry gives the place (any CRS;
a polygon or line becomes a point on its surface). A row is a *line* of the CSV (the header
is line 1) or a *feature* of a GeoPackage/GeoJSON (the first is feature 1).

Bad rows
--------
A row with a missing name or class, an unknown class, coordinates or a cost that are not
numbers, lat/lon outside the Netherlands, x/y outside the RD range of the Netherlands, or
an empty geometry is *bad*. All bad rows are collected, each with its line number and every
problem it has. With ``strict=False`` (the default) every bad row is logged as a warning and
skipped, and the caller counts them (``samenvatting.json``); with ``strict=True``, or when
no valid row remains, one :class:`~wijkanalyse.errors.DataError` lists them all. A row whose
class value is not in ``class_values`` (when a mapping is given) is not bad but *skipped* on
purpose (a street furniture file also holds bike racks); skipped rows are counted per value
and logged. Blank lines are ignored. No row is ever dropped without a trace.
"""

from __future__ import annotations

import csv
import difflib
import io
import logging
import math
import numbers
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wijkanalyse._format import format_int
from wijkanalyse.config import Config, OwnPointsSettings, VenueClass
from wijkanalyse.errors import DataError, SourceError
from wijkanalyse._crs import to_rd

__all__ = [
    "LAT_RANGE",
    "LON_RANGE",
    "OWN_COLUMNS",
    "RD_X_RANGE",
    "RD_Y_RANGE",
    "OwnPoints",
    "RowProblem",
    "read_configured",
    "read_own_points",
]

log = logging.getLogger(__name__)

CRS = "EPSG:28992"
#: The columns of the frame :func:`read_own_points` returns (plus geometry), in order.
OWN_COLUMNS = (
    "osm_id", "naam", "categorie", "categorie_label", "ontmoetingspunt", "bron", "adres", "kosten_per_jaar",
    "openingstijden",
)
#: Latitude and longitude (WGS84 degrees) that lie in or just off the Netherlands.
LAT_RANGE = (50.7, 53.7)
LON_RANGE = (3.2, 7.3)
#: x and y (RD New metres) of the Netherlands.
RD_X_RANGE = (0.0, 300_000.0)
RD_Y_RANGE = (300_000.0, 625_000.0)

#: Recognised headers (normalised: lower case, spaces and '-' as '_') per role.
_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("naam", "name"),
    "class": ("klasse", "class", "categorie", "category"),
    "address": ("adres", "address"),
    "cost": ("kosten_per_jaar", "kosten", "cost_per_year", "yearly_cost"),
    "hours": ("openingstijden", "opening_hours", "openingsuren"),
    "capacity": ("capaciteit", "capacity"),
    "lat": ("lat", "latitude", "breedtegraad"),
    "lon": ("lon", "lng", "long", "longitude", "lengtegraad"),
    "x": ("x", "rd_x", "x_rd"),
    "y": ("y", "rd_y", "y_rd"),
}
#: How a role's column is named in messages.
_ROLE_NL = {
    "name": "naamkolom", "class": "klassekolom", "address": "adreskolom", "cost": "kostenkolom",
    "lat": "lat-kolom", "lon": "lon-kolom", "x": "x-kolom", "y": "y-kolom",
}
_CSV_SUFFIXES = (".csv", ".txt")
_GEO_SUFFIXES = (".gpkg", ".geojson", ".json")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")  # 12.500: Dutch for twelve thousand five hundred


_KIND_NL = {"line": "regel", "feature": "object"}  # how a row is named in messages


@dataclass(frozen=True)
class RowProblem:
    """A bad row: where it is and everything that is wrong with it."""

    file: str
    row: int  # CSV line number (header = 1) or feature number (first = 1)
    kind: str  # "line" or "feature"
    problem: str

    def __str__(self) -> str:
        return f"{self.file} {_KIND_NL.get(self.kind, self.kind)} {self.row}: {self.problem}"


@dataclass(frozen=True)
class OwnPoints:
    """What :func:`read_own_points` read from one file."""

    points: gpd.GeoDataFrame  # the valid rows: OWN_COLUMNS + geometry, EPSG:28992
    problems: tuple[RowProblem, ...] = ()  # bad rows, skipped (strict=False)
    skipped: dict[str, int] = field(default_factory=dict)  # class value not in class_values -> rows
    file: str = ""

    @property
    def n_rejected(self) -> int:
        """Number of bad rows."""
        return len(self.problems)

    @property
    def n_skipped(self) -> int:
        """Number of rows skipped because their class value is not mapped."""
        return sum(self.skipped.values())


@dataclass
class _Row:
    """One data row before checking: attribute texts and (geo files) a geometry in RD."""

    number: int
    values: dict[str, Any]
    geometry: Any = None


def _norm_header(name: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).replace("\ufeff", "").strip().lower())


def _text(value: Any) -> str:
    """A cell as stripped text; None and NaN become ''."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _find_columns(
    headers: list[str], file: str, overrides: dict[str, str]
) -> dict[str, str]:
    """Map roles (name, class, ...) to the file's header; raise when a header is ambiguous or missing."""
    normalised = {_norm_header(h): h for h in headers}
    found: dict[str, str] = {}
    for role, aliases in _ALIASES.items():
        wanted = overrides.get(role)
        if wanted:
            key = _norm_header(wanted)
            if key not in normalised:
                msg = f"{file} heeft geen kolom {wanted!r} (own_points.{role}_column); de kolommen zijn: {', '.join(headers)}."
                raise DataError(msg)
            found[role] = normalised[key]
            continue
        hits = [normalised[a] for a in aliases if a in normalised]
        if len(hits) > 1:
            msg = f"{file} heeft meer dan één {_ROLE_NL[role]} ({', '.join(hits)}); houd er één en geef de andere een andere naam."
            raise DataError(msg)
        if hits:
            found[role] = hits[0]
    return found


def _number(text: str, what: str, problems: list[str]) -> float | None:
    """Parse a number written with a decimal point or comma; note a problem when it is not one."""
    value = text.replace("\u00a0", "").replace(" ", "")
    if _DECIMAL_COMMA.match(value):
        value = value.replace(",", ".")
    try:
        number = float(value)
    except ValueError:
        problems.append(f"{what} {text!r} is geen getal")
        return None
    if not math.isfinite(number):
        problems.append(f"{what} {text!r} is geen getal")
        return None
    return number


def _cost(value: Any, problems: list[str]) -> float:
    """The yearly cost in euro, NaN when empty; note a problem when it is not a number >= 0."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number: float | None = float(value)
        if number is not None and math.isnan(number):
            return math.nan
    else:
        text = _text(value).removeprefix("€").strip()
        if not text:
            return math.nan
        if _THOUSANDS.match(text.replace(" ", "")):
            problems.append(f"kosten_per_jaar {text!r} is dubbelzinnig: schrijf hele euro's zonder scheidingsteken voor duizendtallen")
            return math.nan
        number = _number(text, "kosten_per_jaar", problems)
    if number is None:
        return math.nan
    if not math.isfinite(number) or number < 0:
        problems.append(f"kosten_per_jaar {number:g} moet een getal >= 0 zijn")
        return math.nan
    return number


def _capacity(value: Any, problems: list[str]) -> float:
    """The capacity (residents a meeting point can serve), NaN when empty; a problem when not a number > 0."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number: float | None = float(value)
    else:
        text = _text(value)
        if not text:
            return math.nan
        number = _number(text, "capaciteit", problems)
    if number is None or math.isnan(number):
        return math.nan
    if not math.isfinite(number) or number <= 0:
        problems.append(f"capaciteit {number:g} moet een getal > 0 zijn (hoeveel inwoners de plek kan ontvangen)")
        return math.nan
    return number


def _in(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


def _check_latlon(lat: float, lon: float, problems: list[str]) -> bool:
    if _in(lat, LAT_RANGE) and _in(lon, LON_RANGE):
        return True
    if _in(lat, LON_RANGE) and _in(lon, LAT_RANGE):
        hint = "lat en lon lijken verwisseld"
    elif abs(lat) > 1000 or abs(lon) > 1000:
        hint = "dit lijken RD-coördinaten: zet ze in de kolommen x en y"
    else:
        hint = (
            f"Nederland ligt binnen lat {LAT_RANGE[0]:g}..{LAT_RANGE[1]:g} "
            f"en lon {LON_RANGE[0]:g}..{LON_RANGE[1]:g}"
        )
    problems.append(f"lat {lat:g}, lon {lon:g} ligt buiten Nederland ({hint})")
    return False


def _check_rd(x: float, y: float, problems: list[str], crs_note: str | None = None) -> bool:
    """Check a point in RD; ``crs_note`` (geo files: '' or the file's CRS) replaces the column hints."""
    if _in(x, RD_X_RANGE) and _in(y, RD_Y_RANGE):
        return True
    if crs_note is None and _in(y, RD_X_RANGE) and _in(x, RD_Y_RANGE):
        hint = "x en y lijken verwisseld"
    elif crs_note is None and abs(x) <= 180 and abs(y) <= 180:
        hint = "dit lijken graden: zet ze in de kolommen lat en lon"
    else:
        hint = (
            f"RD x loopt van {RD_X_RANGE[0]:,.0f} tot {RD_X_RANGE[1]:,.0f} en y van {RD_Y_RANGE[0]:,.0f} tot {RD_Y_RANGE[1]:,.0f}"
        )
    problems.append(f"x {x:.0f}, y {y:.0f} ligt buiten het RD-bereik van Nederland ({hint}{crs_note or ''})")
    return False


def _point_from_cells(cells: dict[str, str], problems: list[str]) -> tuple[shapely.Point | None, bool]:
    """The point of a CSV row from its lat/lon (first) or x/y cells; True when it is in degrees."""
    if cells["lat"] or cells["lon"]:
        lat = _number(cells["lat"], "lat", problems) if cells["lat"] else None
        lon = _number(cells["lon"], "lon", problems) if cells["lon"] else None
        if not cells["lat"] or not cells["lon"]:
            problems.append("lat en lon moeten allebei gevuld zijn")
        elif lat is not None and lon is not None and _check_latlon(lat, lon, problems):
            return shapely.Point(lon, lat), True
        return None, False
    if cells["x"] or cells["y"]:
        x = _number(cells["x"], "x", problems) if cells["x"] else None
        y = _number(cells["y"], "y", problems) if cells["y"] else None
        if not cells["x"] or not cells["y"]:
            problems.append("x en y moeten allebei gevuld zijn")
        elif x is not None and y is not None and _check_rd(x, y, problems):
            return shapely.Point(x, y), False
        return None, False
    problems.append("geen coördinaten (vul lat en lon, of x en y)")
    return None, False


class _ClassResolver:
    """A class cell -> a class key; None with a problem (bad) or a skip (not mapped)."""

    def __init__(self, classes: dict[str, VenueClass], class_values: dict[str, str] | None) -> None:
        self.classes = classes
        self.lookup = {k.lower(): k for k in classes}
        for key, venue in classes.items():
            self.lookup.setdefault(venue.label.strip().lower(), key)
        self.mapping: dict[str, str] = {}
        for value, target in (class_values or {}).items():
            if target not in classes:
                msg = f"class_values koppelt {value!r} aan {target!r}, maar dat is geen klasse ({', '.join(classes)}). Kies een van deze klassen."
                raise DataError(msg)
            self.mapping[str(value).strip().lower()] = target

    def resolve(self, text: str, problems: list[str], skipped: Counter[str]) -> str | None:
        key = text.lower()
        if key in self.mapping:
            return self.mapping[key]
        if key and key in self.lookup:
            return self.lookup[key]
        if self.mapping:  # a mapped file: other values are skipped on purpose
            skipped[text or "(leeg)"] += 1
            return None
        if not text:
            problems.append("geen klasse")
            return None
        close = [k for k, v in self.classes.items() if key in re.split(r"[^\w]+", v.label.lower())]
        close = close or [self.lookup[c] for c in difflib.get_close_matches(key, list(self.lookup), n=1, cutoff=0.6)]
        hint = f"; bedoelt u {close[0]!r}?" if close else ""
        problems.append(f"onbekende klasse {text!r} (bekend: {', '.join(self.classes)}){hint}")
        return None


def _read_csv(path: Path) -> tuple[list[str], list[_Row], str]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        msg = (
            f"{path.name} is geen UTF-8 (regel {line} bevat een byte die geen UTF-8 is). "
            "Sla het bestand op als 'CSV UTF-8' (Excel: Opslaan als > CSV UTF-8)."
        )
        raise DataError(msg) from e
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[_Row] = []
    start = 1
    try:
        for record in reader:
            number, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue  # a blank line is no row
            if header is None:
                header = [cell.strip() for cell in record]
                continue
            values: dict[str, Any] = dict(zip(header, record, strict=False))
            extra = [cell for cell in record[len(header):] if cell.strip()]
            if extra:
                values["__extra__"] = len(record)
            rows.append(_Row(number, values))
    except csv.Error as e:
        msg = f"{path.name} regel {reader.line_num}: {e}. Controleer de aanhalingstekens op die regel."
        raise DataError(msg) from e
    return header or [], rows, delimiter


def _read_geo(path: Path, layer: str) -> tuple[list[str], list[_Row], str]:
    import pyogrio  # noqa: PLC0415

    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as e:  # pyogrio raises several types for broken files
        msg = f"Kan {path} niet lezen: {e}. Controleer of het een geldig GeoPackage- of GeoJSON-bestand is."
        raise SourceError(msg) from e
    if layer and layer not in layers:
        msg = f"{path.name} heeft geen laag {layer!r} (wel: {', '.join(layers)}). Kies een laag met own_points.layer."
        raise DataError(msg)
    if not layer and len(layers) > 1:
        msg = f"{path.name} heeft meerdere lagen ({', '.join(layers)}). Geef met own_points.layer aan welke."
        raise DataError(msg)
    try:
        gdf = gpd.read_file(path, layer=layer or layers[0], engine="pyogrio")
    except Exception as e:
        msg = f"Kan {path} niet lezen: {e}. Controleer of het een geldig GeoPackage- of GeoJSON-bestand is."
        raise SourceError(msg) from e
    if gdf.crs is None:
        msg = f"{path.name} heeft geen coördinatenstelsel. Sla het bestand op met een CRS (bijvoorbeeld EPSG:28992)."
        raise DataError(msg)
    crs_note = "" if gdf.crs == CRS else f"; volgens het bestand is de CRS {gdf.crs.to_string()}"
    geometry = gdf.geometry
    empty = geometry.isna() | geometry.is_empty
    points = np.full(len(gdf), None, dtype=object)
    if (~empty).any():
        rd = geometry[~empty].to_crs(CRS)
        points[(~empty).to_numpy()] = shapely.point_on_surface(rd.to_numpy())
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    records = gdf[columns].to_dict("records")
    rows = [_Row(i + 1, values, geom) for i, (values, geom) in enumerate(zip(records, points, strict=True))]
    return columns, rows, crs_note


def read_own_points(
    path: Path | str,
    classes: dict[str, VenueClass],
    *,
    strict: bool = False,
    names_required: bool = True,
    layer: str = "",
    name_column: str = "",
    class_column: str = "",
    class_values: dict[str, str] | None = None,
) -> OwnPoints:
    """Read the gemeente's own points from a CSV, GeoPackage or GeoJSON file.

    Parameters
    ----------
    path
        The file (``.csv``/``.txt``, ``.gpkg``, ``.geojson``/``.json``).
    classes
        The venue classes a row may name (``Config.venues``: OSM classes and own classes).
    strict
        Raise on any bad row instead of skipping it with a warning.
    names_required
        When False, a row without a name (or a file without a name column) is named after
        its class label: street furniture has no names.
    layer
        The GeoPackage layer; '' when the file has one layer.
    name_column, class_column
        The header of the name or class column, when it is not one of the usual ones.
    class_values
        Value in the class column -> class key. When given, rows with other values are
        skipped on purpose and counted per value in :attr:`OwnPoints.skipped`.

    Returns
    -------
    OwnPoints
        ``points``: one row per valid row, columns :data:`OWN_COLUMNS` plus a point geometry
        in EPSG:28992; ``osm_id`` is ``eigen/<file stem>/<line or feature>``, ``bron``
        ``gemeente (<file name>)``, ``kosten_per_jaar`` NaN when absent. ``problems``: the
        bad rows that were skipped.

    Raises
    ------
    DataError
        When the file lacks a needed column, when no valid row remains, or (``strict``) when
        any row is bad; the message lists every bad row with its line number.
    SourceError
        When the file cannot be read at all.
    """
    path = Path(path)
    headers, rows, crs_note, kind = _read_rows(path, layer)
    columns = _find_columns(headers, path.name, {"name": name_column, "class": class_column})
    _require_columns(columns, headers, path.name, kind=kind, names_required=names_required)
    reader = _RowReader(
        path=path,
        kind=kind,
        columns=columns,
        n_headers=len(headers),
        crs_note=crs_note,
        names_required=names_required,
        classes=classes,
        resolver=_ClassResolver(classes, class_values),
    )
    records, geoms, problems, skipped = _read_records(rows, reader)
    _refuse_bad_rows(path.name, records, problems, skipped, strict=strict)
    _log_passed_over(path.name, problems, skipped)
    return OwnPoints(points=_points_frame(records, geoms), problems=tuple(problems), skipped=dict(skipped), file=path.name)


def _read_rows(path: Path, layer: str) -> tuple[list[str], list[_Row], str, str]:
    """The headers and rows of a CSV or geo file, the geo file's CRS note, and the row kind ("line" or "feature")."""
    if path.is_dir():
        msg = f"{path} is een map, geen bestand. Geef het bestand met de punten zelf (CSV, GeoPackage of GeoJSON)."
        raise SourceError(msg)
    if not path.is_file():
        msg = f"Het bestand met eigen punten {path} bestaat niet. Controleer het pad (own_points.file of --ontmoetingspunten)."
        raise SourceError(msg)
    if path.stat().st_size == 0:
        msg = f"{path} is leeg. Vul het bestand (een kopregel en een regel per punt), of laat het weg."
        raise DataError(msg)
    suffix = path.suffix.lower()
    if suffix in _CSV_SUFFIXES:
        headers, rows, _ = _read_csv(path)
        return headers, rows, "", "line"
    if suffix in _GEO_SUFFIXES:
        headers, rows, crs_note = _read_geo(path, layer)
        return headers, rows, crs_note, "feature"
    msg = f"{path.name}: onbekend bestandstype {suffix!r}. Gebruik een .csv-, .gpkg- of .geojson-bestand."
    raise DataError(msg)


def _require_columns(
    columns: dict[str, str], headers: list[str], file: str, *, kind: str, names_required: bool
) -> None:
    """Refuse a file without a class column, a name column (when names are required) or (CSV) coordinates."""
    if "class" not in columns:
        msg = (
            f"{file} heeft geen klassekolom (klasse, class, categorie of category; de kolommen zijn: "
            f"{', '.join(map(str, headers))}). Voeg er een toe of zet own_points.class_column."
        )
        raise DataError(msg)
    if "name" not in columns and names_required:
        msg = (
            f"{file} heeft geen naamkolom (naam of name; de kolommen zijn: {', '.join(map(str, headers))}). "
            "Voeg er een toe, zet own_points.name_column, of zet own_points.names_required = false voor objecten zonder naam."
        )
        raise DataError(msg)
    has_latlon = "lat" in columns and "lon" in columns
    has_xy = "x" in columns and "y" in columns
    if kind == "line" and not (has_latlon or has_xy):
        msg = (
            f"{file} heeft geen coördinatenkolommen: voeg lat en lon (WGS84-graden) of x en y (RD, "
            f"EPSG:28992) toe; de kolommen zijn: {', '.join(headers)}."
        )
        raise DataError(msg)


@dataclass(frozen=True)
class _RowReader:
    """What checking one row needs to know about its file: kind, columns, classes."""

    path: Path
    kind: str  # "line" or "feature"
    columns: dict[str, str]  # role -> header
    n_headers: int
    crs_note: str  # geo files: '' or the file's CRS
    names_required: bool
    classes: dict[str, VenueClass]
    resolver: _ClassResolver


@dataclass(frozen=True)
class _Parsed:
    """One row checked: its problems, or (none) its record and point; ``degrees`` when the point is lon/lat."""

    problems: list[str]
    record: dict[str, Any] | None = None
    point: Any = None
    degrees: bool = False


def _read_records(
    rows: list[_Row], reader: _RowReader
) -> tuple[list[dict[str, Any]], list[Any], list[RowProblem], Counter[str]]:
    """Check every row: the records and points (in RD) of the valid ones, the bad rows, and the skips per class value."""
    problems: list[RowProblem] = []
    skipped: Counter[str] = Counter()
    records: list[dict[str, Any]] = []
    geoms: list[Any] = []
    latlon_rows: list[int] = []  # positions in records whose point is still in degrees
    for row in rows:
        parsed = _parse_row(row, reader, skipped)
        if parsed is None:
            continue  # skipped on purpose: its class value is not in class_values
        if parsed.problems:
            problems.append(RowProblem(reader.path.name, row.number, reader.kind, "; ".join(parsed.problems)))
            continue
        assert parsed.record is not None
        if parsed.degrees:
            latlon_rows.append(len(records))
        records.append(parsed.record)
        geoms.append(parsed.point)
    if latlon_rows:
        lon = np.array([geoms[i].x for i in latlon_rows])
        lat = np.array([geoms[i].y for i in latlon_rows])
        xs, ys = to_rd().transform(lon, lat)
        for i, x, y in zip(latlon_rows, xs, ys, strict=True):
            geoms[i] = shapely.Point(x, y)
    return records, geoms, problems, skipped


def _parse_row(row: _Row, reader: _RowReader, skipped: Counter[str]) -> _Parsed | None:
    """Check one row; None when it is skipped on purpose (counted in ``skipped``)."""
    wrong: list[str] = []
    values = row.values
    columns = reader.columns
    if "__extra__" in values:
        wrong.append(
            f"{values['__extra__']} velden waar de kopregel er {reader.n_headers} heeft "
            "(een scheidingsteken in een naam? zet de naam tussen dubbele aanhalingstekens)"
        )
    class_problems: list[str] = []
    key = reader.resolver.resolve(_text(values.get(columns["class"])), class_problems, skipped)
    if key is None and not class_problems:
        return None
    wrong += class_problems
    name = _text(values.get(columns["name"])) if "name" in columns else ""
    if not name and reader.names_required:
        wrong.append("geen naam")
    address = _text(values.get(columns["address"])) if "address" in columns else ""
    hours = _text(values.get(columns["hours"])) if "hours" in columns else ""
    cost = _cost(values.get(columns["cost"]), wrong) if "cost" in columns else math.nan
    capacity = _capacity(values.get(columns["capacity"]), wrong) if "capacity" in columns else None
    point, degrees = _row_point(row, reader, wrong)
    if wrong:
        return _Parsed(wrong)
    assert key is not None
    venue = reader.classes[key]
    record = {
        "osm_id": f"eigen/{reader.path.stem}/{row.number}",
        "naam": name or venue.label,
        "categorie": key,
        "categorie_label": venue.label,
        "ontmoetingspunt": venue.meeting_point,
        "bron": f"gemeente ({reader.path.name})",
        "adres": address or None,
        "kosten_per_jaar": cost,
        "openingstijden": hours or None,
    }
    if capacity is not None:
        record["capaciteit"] = capacity
    return _Parsed(wrong, record, point, degrees)


def _row_point(row: _Row, reader: _RowReader, wrong: list[str]) -> tuple[Any, bool]:
    """The point of a row (a feature's geometry, a CSV line's coordinate cells); True when it is in degrees."""
    if reader.kind == "feature":
        if row.geometry is None:
            wrong.append("lege geometrie")
        elif _check_rd(row.geometry.x, row.geometry.y, wrong, reader.crs_note):
            return row.geometry, False
        return None, False
    columns = reader.columns
    cells = {r: _text(row.values.get(columns[r])) if r in columns else "" for r in ("lat", "lon", "x", "y")}
    return _point_from_cells(cells, wrong)


def _refuse_bad_rows(
    file: str, records: list[dict[str, Any]], problems: list[RowProblem], skipped: Counter[str], *, strict: bool
) -> None:
    """Raise one DataError listing every bad row (``strict``, or no valid row left), or saying why no row remains."""
    listing = "\n  - ".join(str(p) for p in problems)
    if problems and (strict or not records):
        why = "strict = true" if strict and records else "er blijft geen geldige rij over"
        msg = (  # one bad row is one line; several are listed below it
            f"{file}: 1 foute rij ({why}); verbeter die en start opnieuw: {problems[0]}" if len(problems) == 1 else
            f"{file}: {len(problems)} foute rijen ({why}); verbeter ze en start opnieuw:\n  - {listing}"
        )
        raise DataError(msg)
    if not records:
        if skipped:
            values = ", ".join(f"{v} ({n})" for v, n in skipped.most_common(5))
            msg = f"{file}: geen enkele rij heeft een klassewaarde uit own_points.class_values (gevonden waarden: {values}). Controleer own_points.class_values."
        else:
            msg = f"{file} bevat geen rijen. Vul het bestand of haal het uit de run (own_points.file / --ontmoetingspunten)."
        raise DataError(msg)


def _log_passed_over(file: str, problems: list[RowProblem], skipped: Counter[str]) -> None:
    """Log every bad row skipped as a warning, and the rows skipped per class value."""
    for problem in problems:
        log.warning("Eigen punt overgeslagen: %s", problem)
    if skipped:
        log.info(
            "    %s rijen van %s overgeslagen: klasse niet in own_points.class_values (%s)",
            format_int(sum(skipped.values())), file, ", ".join(f"{v} {format_int(n)}" for v, n in skipped.most_common()),
        )


def _points_frame(records: list[dict[str, Any]], geoms: list[Any]) -> gpd.GeoDataFrame:
    """The valid rows as a venues frame: :data:`OWN_COLUMNS` plus the points, EPSG:28992."""
    extra = ["capaciteit"] if any("capaciteit" in r for r in records) else []  # only when the file has the column
    frame = pd.DataFrame.from_records(records, columns=[*OWN_COLUMNS, *extra])
    frame["ontmoetingspunt"] = frame["ontmoetingspunt"].astype(bool)
    frame["kosten_per_jaar"] = frame["kosten_per_jaar"].astype(float)
    if extra:
        frame["capaciteit"] = frame["capaciteit"].astype(float)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=CRS)


def read_configured(config: Config) -> OwnPoints | None:
    """Read the own points file of ``config.own_points`` (None when no file is set)."""
    settings: OwnPointsSettings = config.own_points
    if settings.file is None:
        return None
    own = read_own_points(
        settings.file,
        config.venues,
        strict=settings.strict,
        names_required=settings.names_required,
        layer=settings.layer,
        name_column=settings.name_column,
        class_column=settings.class_column,
        class_values=settings.class_values,
    )
    log.info("    %s eigen punten gelezen uit %s", format_int(len(own.points)), own.file)
    return own
