"""Scenario files: what a budget decision would change, read from TOML (``wijkanalyse run --scenario FILE``).

Pure file reading: the places a scenario names are looked up in the run's venues later
(:func:`wijkanalyse.analysis.scenarios.resolve_scenarios`), once they are read. One file holds
one or more scenarios, each a ``[[scenario]]`` table:

.. code-block:: toml

    [[scenario]]
    name = "Buurthuis De Schakel dicht"        # required, unique in the file
    close = ["Buurthuis De Schakel", "node/2000017"]   # meeting points that close: OSM id
                                               # (node/123, way/45), own-point id (eigen/<file>/<line>) or name
    open = [
        "Basisschool De Noordster",            # a venue of the run that is not a meeting point yet (id or name)
        { name = "Kerkzaal", lat = 52.30, lon = 5.61 },  # a new place: lat/lon (WGS84) or x/y (RD)
    ]
    open_file = "nieuwe_plekken.csv"           # new places in the format of own points (relative to this file)
    walk_m = 500                               # optional: another threshold for this scenario

Every problem in the file is reported at once, in one Dutch line that names the scenario
and says what to change (:class:`~wijkanalyse.errors.ConfigError`).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from wijkanalyse.config import VenueClass
from wijkanalyse.errors import ConfigError, WijkanalyseError
from wijkanalyse._crs import to_rd
from wijkanalyse.sources.own_points import LAT_RANGE, LON_RANGE, RD_X_RANGE, RD_Y_RANGE, read_own_points

__all__ = ["SCENARIO_KEYS", "ScenarioSpec", "read_scenarios"]

CRS = "EPSG:28992"
#: The keys of a ``[[scenario]]`` table.
SCENARIO_KEYS = ("name", "close", "open", "open_file", "walk_m")
_POINT_KEYS = ("name", "lat", "lon", "x", "y")
#: A threshold above this is no walking distance (and would make every search the whole network).
MAX_WALK_M = 10_000.0


@dataclass(frozen=True)
class ScenarioSpec:
    """One scenario as written in the file (places not yet looked up).

    ``close`` and ``open`` hold the texts naming existing venues (an id or a name);
    ``new_points`` the new places (columns naam, bron and a point geometry in EPSG:28992), from
    coordinates in the file or from ``open_file``; ``walk_m`` the scenario's own threshold
    (None: the run's).
    """

    name: str
    close: tuple[str, ...] = ()
    open: tuple[str, ...] = ()
    new_points: gpd.GeoDataFrame = field(
        default_factory=lambda: gpd.GeoDataFrame({"naam": [], "bron": []}, geometry=[], crs=CRS)
    )
    walk_m: float | None = None
    file: str = ""


def _fail(path: Path, problems: list[str]) -> ConfigError:
    where = f"Scenariobestand {path.name}"
    text = problems[0] if len(problems) == 1 else "; ".join(problems)
    return ConfigError(f"{where}: {text}. Pas het bestand aan en start opnieuw (voorbeeld: config/scenario_voorbeeld.toml).")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _new_point(entry: dict[str, Any], where: str, problems: list[str]) -> tuple[str, shapely.Point] | None:  # noqa: PLR0911
    """A new place from ``{name, lat, lon}`` or ``{name, x, y}``; None (and a problem) when it is not one."""
    unknown = sorted(set(entry) - set(_POINT_KEYS))
    if unknown:
        problems.append(f"{where}: onbekende sleutel {', '.join(unknown)} (bekend: name, lat en lon, of x en y)")
        return None
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: geef de nieuwe plek een naam (name = \"...\")")
        return None
    has_latlon, has_xy = "lat" in entry or "lon" in entry, "x" in entry or "y" in entry
    if has_latlon == has_xy:
        problems.append(f"{where} ({name}): geef lat en lon (WGS84) of x en y (RD), één van beide")
        return None
    a, b = ("lat", "lon") if has_latlon else ("x", "y")
    first, second = _number(entry.get(a)), _number(entry.get(b))
    if first is None or second is None:
        problems.append(f"{where} ({name}): {a} en {b} moeten allebei getallen zijn")
        return None
    if has_latlon:
        if not (LAT_RANGE[0] <= first <= LAT_RANGE[1] and LON_RANGE[0] <= second <= LON_RANGE[1]):
            problems.append(f"{where} ({name}): lat {first:g}, lon {second:g} ligt niet in Nederland "
                            "(lat en lon omgewisseld?)")
            return None
        x, y = to_rd().transform(second, first)
    else:
        x, y = first, second
        if not (RD_X_RANGE[0] <= x <= RD_X_RANGE[1] and RD_Y_RANGE[0] <= y <= RD_Y_RANGE[1]):
            problems.append(f"{where} ({name}): x {x:g}, y {y:g} ligt niet in Nederland (RD-coördinaten in meters)")
            return None
    return name.strip(), shapely.Point(x, y)


def _texts(value: Any, key: str, where: str, problems: list[str]) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        problems.append(f"{where}: {key} moet een lijst zijn, bijvoorbeeld {key} = [\"Buurthuis De Schakel\"]")
        return []
    return value


@dataclass
class _NewPoints:
    """New places gathered from ``open`` tables and ``open_file``."""

    names: list[str] = field(default_factory=list)
    geoms: list[Any] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def frame(self) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(
            {"naam": pd.Series(self.names, dtype=object), "bron": pd.Series(self.sources, dtype=object)},
            geometry=gpd.GeoSeries(self.geoms, crs=CRS), crs=CRS,
        )


def _close(raw: dict[str, Any], where: str, problems: list[str]) -> list[str]:
    out = []
    for item in _texts(raw.get("close"), "close", where, problems):
        if isinstance(item, str) and item.strip():
            out.append(item.strip())
        else:
            problems.append(f"{where}: close noemt ontmoetingspunten met een id of naam (tekst), niet {item!r}")
    return out


def _open(raw: dict[str, Any], where: str, new: _NewPoints, problems: list[str]) -> list[str]:
    """The venues ``open`` names (texts); its new places go to ``new``."""
    out = []
    for k, item in enumerate(_texts(raw.get("open"), "open", where, problems), start=1):
        if isinstance(item, str) and item.strip():
            out.append(item.strip())
        elif isinstance(item, dict):
            point = _new_point(item, f"{where}, open nummer {k}", problems)
            if point is not None:
                new.names.append(point[0])
                new.geoms.append(point[1])
                new.sources.append("scenario")
        else:
            problems.append(f"{where}: open noemt een voorziening (id of naam) of een nieuwe plek "
                            f"{{ name = ..., lat = ..., lon = ... }}, niet {item!r}")
    return out


def _open_file(
    raw: dict[str, Any], where: str, path: Path, classes: dict[str, VenueClass], *, new: _NewPoints, problems: list[str],
) -> None:
    """The new places of ``open_file`` (own-points format, relative to the scenario file) into ``new``."""
    open_file = raw.get("open_file")
    if open_file is None:
        return
    if not isinstance(open_file, str) or not open_file.strip():
        problems.append(f"{where}: open_file moet een bestandsnaam zijn")
        return
    try:
        read = read_own_points((path.parent / open_file).expanduser(), classes, strict=True)
    except WijkanalyseError as e:
        problems.append(f"{where}: open_file {open_file}: {' '.join(str(e).split())}")
        return
    new.names += [str(n) for n in read.points["naam"]]
    new.geoms += list(read.points.geometry)
    new.sources += [str(b) for b in read.points["bron"]]


def _walk_m(raw: dict[str, Any], where: str, problems: list[str]) -> float | None:
    if "walk_m" not in raw:
        return None
    walk_m = _number(raw["walk_m"])
    if walk_m is None or not 0 < walk_m <= MAX_WALK_M:
        problems.append(f"{where}: walk_m moet een getal tussen 0 en {MAX_WALK_M:g} m zijn, niet {raw['walk_m']!r}")
        return None
    return walk_m


def _parse_one(
    raw: Any, number: int, path: Path, classes: dict[str, VenueClass], problems: list[str]
) -> ScenarioSpec | None:
    """One ``[[scenario]]`` table; None (with problems) when it has no name or is no table."""
    where = f"scenario {number}"
    if not isinstance(raw, dict):
        problems.append(f"{where} is geen tabel: schrijf elk scenario als [[scenario]] met name = \"...\"")
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where} heeft geen naam: zet name = \"...\" in de tabel")
        return None
    name = " ".join(name.split())
    where = f"scenario '{name}'"
    unknown = sorted(set(raw) - set(SCENARIO_KEYS))
    if unknown:
        problems.append(f"{where}: onbekende sleutel {', '.join(unknown)} (bekend: {', '.join(SCENARIO_KEYS)})")
    new = _NewPoints()
    close = _close(raw, where, problems)
    opened = _open(raw, where, new, problems)
    _open_file(raw, where, path, classes, new=new, problems=problems)
    walk_m = _walk_m(raw, where, problems)
    if not (close or opened or new.geoms or "walk_m" in raw or "open_file" in raw):
        problems.append(f"{where} verandert niets: zet er close, open, open_file of walk_m in")
    return ScenarioSpec(name=name, close=tuple(close), open=tuple(opened), new_points=new.frame(), walk_m=walk_m,
                        file=path.name)


def read_scenarios(path: Path | str, classes: dict[str, VenueClass]) -> tuple[ScenarioSpec, ...]:
    """Read every ``[[scenario]]`` of the TOML file at ``path`` (see the module docstring).

    ``classes`` are the run's venue classes (the classes a row of an ``open_file`` may name).

    Raises
    ------
    ConfigError
        One Dutch line naming every problem: a file that cannot be read or is not TOML, no
        scenario, a scenario without a (unique) name, unknown keys, coordinates outside the
        Netherlands, a threshold that is not a positive number, a scenario that changes nothing.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        msg = f"Scenariobestand {path} kan niet gelezen worden ({getattr(e, 'strerror', None) or e}). Controleer de naam."
        raise ConfigError(msg) from e
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = f"Scenariobestand {path.name} is geen geldige TOML: {e}. Controleer de regel die genoemd wordt."
        raise ConfigError(msg) from e
    problems: list[str] = []
    unknown = sorted(set(raw) - {"scenario"})
    if unknown:
        problems.append(f"onbekende sleutel {', '.join(unknown)} (alleen [[scenario]]-tabellen)")
    tables = raw.get("scenario")
    if isinstance(tables, dict):
        tables = [tables]
    if not isinstance(tables, list) or not tables:
        problems.append("er staat geen scenario in; schrijf elk scenario als [[scenario]] met name = \"...\"")
        raise _fail(path, problems)
    specs = [_parse_one(t, i, path, classes, problems) for i, t in enumerate(tables, start=1)]
    seen: set[str] = set()
    for spec in specs:
        if spec is None:
            continue
        key = spec.name.casefold()
        if key in seen:
            problems.append(f"de naam '{spec.name}' staat er meer dan eens in: geef elk scenario een eigen naam")
        seen.add(key)
    if problems:
        raise _fail(path, problems)
    return tuple(s for s in specs if s is not None)
