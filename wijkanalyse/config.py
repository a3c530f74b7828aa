"""The study configuration: a TOML file read into frozen dataclasses.

The defaults live in ``config/wijkanalyse.toml`` (shipped in the package as
``default_config.toml``). A user's file is laid over them: a scalar key replaces the
default, a ``[venues]`` or ``[indicators]`` table replaces the default table as a whole.
Every problem is reported at once, each with its key, in one :class:`ConfigError`.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from wijkanalyse.errors import ConfigError

__all__ = [
    "Config",
    "Costs",
    "Indicator",
    "Services",
    "Thresholds",
    "VenueClass",
    "default_config_text",
    "load_config",
    "parse_config",
]

DISTANCE_METHODS = ("network", "straight_line")
_GEMEENTE_RE = re.compile(r"^GM\d{4}$")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_URL_RE = re.compile(r"^https?://[^\s/]+", flags=re.IGNORECASE)


@dataclass(frozen=True)
class Thresholds:
    """Distances and statistical settings."""

    walk_m: float = 400.0
    distance_method: str = "network"
    hotspot_alpha: float = 0.05
    permutations: int = 999
    seed: int = 20240


@dataclass(frozen=True)
class Costs:
    """Yearly costs in euro, used to price options in the report."""

    meeting_point_per_year: float = 25000.0
    broker_fte_per_year: float = 80000.0


#: Environment variables that override a service address of the config (osmnx-style settings).
SERVICE_ENV = {
    "cbs_odata_url": "WIJKANALYSE_CBS_ODATA_URL",
    "pdok_buurten_wfs_url": "WIJKANALYSE_PDOK_BUURTEN_WFS_URL",
    "pdok_grid_wfs_url": "WIJKANALYSE_PDOK_GRID_WFS_URL",
    "overpass_url": "WIJKANALYSE_OVERPASS_URL",
}


@dataclass(frozen=True)
class Services:
    """Addresses of the live services and how patiently to talk to them.

    ``pdok_*_wfs_url`` may hold ``{year}``, filled with the year of the data. Each address
    can be overridden by an environment variable (:data:`SERVICE_ENV`), so a mirror or a
    local test server can stand in without editing the config.
    """

    cbs_odata_url: str = "https://opendata.cbs.nl/ODataApi/odata"
    pdok_buurten_wfs_url: str = "https://service.pdok.nl/cbs/wijkenbuurten/{year}/wfs/v1_0"
    pdok_grid_wfs_url: str = "https://service.pdok.nl/cbs/vierkantstatistieken100m/{year}/wfs/v1_0"
    overpass_url: str = "https://overpass-api.de/api/interpreter"
    wfs_page_size: int = 1000
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 180.0
    deadline_s: float = 900.0
    retries: int = 4
    backoff_s: float = 2.0

    def with_environment(self, environ: Mapping[str, str] | None = None) -> Services:
        """These settings with every address set in the environment (:data:`SERVICE_ENV`) put in.

        Raises
        ------
        ConfigError
            When a variable holds no http(s) address.
        """
        environ = os.environ if environ is None else environ
        changes = {key: environ[var].strip() for key, var in SERVICE_ENV.items() if environ.get(var, "").strip()}
        bad = [f"{SERVICE_ENV[k]}={v!r}" for k, v in changes.items() if not _URL_RE.match(v)]
        if bad:
            msg = f"Not an http(s) address: {', '.join(bad)}. Set it to e.g. http://127.0.0.1:8080/ or unset it."
            raise ConfigError(msg)
        return replace(self, **changes) if changes else self


@dataclass(frozen=True)
class VenueClass:
    """A class of venues found in OpenStreetMap by tags."""

    key: str
    label: str
    meeting_point: bool
    tags: dict[str, bool | tuple[str, ...]]

    def matches(self, osm_tags: dict[str, Any]) -> bool:
        """Return True when a feature's OSM tags match any of this class's tags."""
        for k, wanted in self.tags.items():
            value = osm_tags.get(k)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            if wanted is True or str(value) in wanted:
                return True
        return False


@dataclass(frozen=True)
class Indicator:
    """One indicator of the composite signal, read from a CBS column."""

    key: str
    label: str
    cbs: str
    per: str | None = None
    weight: float = 1.0
    higher_is_worse: bool = True


@dataclass(frozen=True)
class Config:
    """The whole study configuration."""

    gemeente: str | None = None
    year: int = 2024
    thresholds: Thresholds = field(default_factory=Thresholds)
    costs: Costs = field(default_factory=Costs)
    venues: dict[str, VenueClass] = field(default_factory=dict)
    indicators: dict[str, Indicator] = field(default_factory=dict)
    services: Services = field(default_factory=Services)
    source: str = "<default>"

    @property
    def meeting_point_classes(self) -> list[str]:
        """Keys of the venue classes that count as meeting point."""
        return [k for k, v in self.venues.items() if v.meeting_point]

    def osm_tags(self) -> dict[str, bool | list[str]]:
        """All venue tags merged into one osmnx ``tags`` dict (for downloads and parsing)."""
        merged: dict[str, bool | list[str]] = {}
        for venue in self.venues.values():
            for k, wanted in venue.tags.items():
                if wanted is True or merged.get(k) is True:
                    merged[k] = True
                else:
                    prev = merged.get(k) or []
                    assert isinstance(prev, list)
                    merged[k] = sorted(set(prev) | set(wanted))
        return merged


def default_config_text() -> str:
    """Return the text of the default configuration file."""
    return resources.files("wijkanalyse").joinpath("default_config.toml").read_text(encoding="utf-8")


def load_config(path: Path | str | None = None) -> Config:
    """Read the default configuration, laid over by the TOML file at ``path`` if given.

    Raises
    ------
    ConfigError
        When the file cannot be read or parsed, or lists every invalid key at once.
    """
    defaults = tomllib.loads(default_config_text())
    if path is None:
        return parse_config(defaults, source="<default>")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        msg = f"Cannot read config file {path}: {e}."
        raise ConfigError(msg) from e
    try:
        user = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = f"Config file {path} is not valid TOML: {e}. Check the line it names."
        raise ConfigError(msg) from e
    merged = dict(defaults)
    for section, value in user.items():
        if isinstance(value, dict) and section in ("area", "thresholds", "costs", "services"):
            merged[section] = {**defaults.get(section, {}), **value}
        else:
            merged[section] = value
    return parse_config(merged, source=str(path))


def _number(
    section: dict[str, Any], key: str, where: str, problems: list[str], *, minimum: float | None = None,
    exclusive: bool = True, maximum: float | None = None, integer: bool = False,
) -> Any:
    value = section.get(key)
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        problems.append(f"{where}.{key} must be {'an integer' if integer else 'a number'}, got {value!r}")
        return None
    if minimum is not None and (value <= minimum if exclusive else value < minimum):
        problems.append(f"{where}.{key} must be {'>' if exclusive else '>='} {minimum:g}, got {value!r}")
    if maximum is not None and value >= maximum:
        problems.append(f"{where}.{key} must be < {maximum:g}, got {value!r}")
    return value


def _unknown(section: dict[str, Any], allowed: set[str], where: str, problems: list[str]) -> None:
    for key in sorted(set(section) - allowed):
        problems.append(f"{where}.{key} is not a known key (known: {', '.join(sorted(allowed))})")


def parse_config(raw: dict[str, Any], source: str = "<dict>") -> Config:  # noqa: PLR0912, PLR0915
    """Check a parsed TOML document and build a :class:`Config`; report every problem at once."""
    problems: list[str] = []
    _unknown(raw, {"area", "thresholds", "costs", "services", "venues", "indicators"}, "<top>", problems)
    problems[:] = [p.replace("<top>.", "") for p in problems]

    area = raw.get("area", {})
    if not isinstance(area, dict):
        problems.append("area must be a table")
        area = {}
    _unknown(area, {"gemeente", "year"}, "area", problems)
    gemeente = str(area.get("gemeente", "") or "").strip().upper() or None
    if gemeente is not None and not _GEMEENTE_RE.match(gemeente):
        problems.append(f"area.gemeente must be a CBS code like 'GM0233', got {area.get('gemeente')!r}")
    year = _number(area, "year", "area", problems, minimum=2000, exclusive=False, maximum=2100, integer=True)

    th = raw.get("thresholds", {})
    if not isinstance(th, dict):
        problems.append("thresholds must be a table")
        th = {}
    _unknown(th, {"walk_m", "distance_method", "hotspot_alpha", "permutations", "seed"}, "thresholds", problems)
    walk_m = _number(th, "walk_m", "thresholds", problems, minimum=0)
    method = th.get("distance_method")
    if method not in DISTANCE_METHODS:
        problems.append(f"thresholds.distance_method must be one of {', '.join(DISTANCE_METHODS)}, got {method!r}")
    alpha = _number(th, "hotspot_alpha", "thresholds", problems, minimum=0, maximum=1)
    perms = _number(th, "permutations", "thresholds", problems, minimum=99, exclusive=False, integer=True)
    seed = _number(th, "seed", "thresholds", problems, minimum=0, exclusive=False, integer=True)

    costs = raw.get("costs", {})
    if not isinstance(costs, dict):
        problems.append("costs must be a table")
        costs = {}
    _unknown(costs, {"meeting_point_per_year", "broker_fte_per_year"}, "costs", problems)
    mp_cost = _number(costs, "meeting_point_per_year", "costs", problems, minimum=0, exclusive=False)
    broker_cost = _number(costs, "broker_fte_per_year", "costs", problems, minimum=0, exclusive=False)

    services = _services(raw.get("services", {}), problems)

    venues: dict[str, VenueClass] = {}
    raw_venues = raw.get("venues", {})
    if not isinstance(raw_venues, dict) or not raw_venues:
        problems.append("venues must have at least one [venues.<key>] table")
        raw_venues = {}
    for key, v in raw_venues.items():
        where = f"venues.{key}"
        if not _KEY_RE.match(key):
            problems.append(f"{where}: key must be lower-case letters, digits and _")
        if not isinstance(v, dict):
            problems.append(f"{where} must be a table")
            continue
        label = v.get("label", key)
        if not isinstance(label, str) or not label.strip():
            problems.append(f"{where}.label must be a non-empty string")
        meeting = v.get("meeting_point", False)
        if not isinstance(meeting, bool):
            problems.append(f"{where}.meeting_point must be true or false, got {meeting!r}")
        tags: dict[str, bool | tuple[str, ...]] = {}
        for tag_key, wanted in v.items():
            if tag_key in ("label", "meeting_point"):
                continue
            if wanted is True:
                tags[tag_key] = True
            elif isinstance(wanted, str) and wanted:
                tags[tag_key] = (wanted,)
            elif isinstance(wanted, list) and wanted and all(isinstance(x, str) and x for x in wanted):
                tags[tag_key] = tuple(wanted)
            else:
                problems.append(
                    f"{where}.{tag_key} must be true or a list of OSM tag values like [\"community_centre\"], got {wanted!r}"
                )
        if not tags:
            problems.append(f"{where}: no OSM tags (add e.g. amenity = [\"community_centre\"])")
        venues[key] = VenueClass(key=key, label=str(label), meeting_point=bool(meeting), tags=tags)
    if venues and not any(v.meeting_point for v in venues.values()):
        problems.append("venues: no class has meeting_point = true, so nobody can be within reach")

    indicators: dict[str, Indicator] = {}
    raw_ind = raw.get("indicators", {})
    if not isinstance(raw_ind, dict) or not raw_ind:
        problems.append("indicators must have at least one [indicators.<key>] table")
        raw_ind = {}
    for key, ind in raw_ind.items():
        where = f"indicators.{key}"
        if not _KEY_RE.match(key):
            problems.append(f"{where}: key must be lower-case letters, digits and _")
        if not isinstance(ind, dict):
            problems.append(f"{where} must be a table")
            continue
        _unknown(ind, {"label", "cbs", "per", "weight", "higher_is_worse"}, where, problems)
        cbs = ind.get("cbs")
        if not isinstance(cbs, str) or not cbs.strip():
            problems.append(f"{where}.cbs must name a CBS column, e.g. \"Eenpersoonshuishoudens\"")
        per = ind.get("per")
        if per is not None and (not isinstance(per, str) or not per.strip()):
            problems.append(f"{where}.per must name a CBS column or be left out")
        weight = _number({"weight": ind.get("weight", 1.0)}, "weight", where, problems, minimum=0)
        worse = ind.get("higher_is_worse", True)
        if not isinstance(worse, bool):
            problems.append(f"{where}.higher_is_worse must be true or false, got {worse!r}")
        indicators[key] = Indicator(
            key=key,
            label=str(ind.get("label", key)),
            cbs=str(cbs or "").strip(),
            per=per.strip() if isinstance(per, str) else None,
            weight=float(weight or 0.0),
            higher_is_worse=bool(worse),
        )

    if problems:
        msg = f"Invalid config {source}:\n  - " + "\n  - ".join(problems)
        raise ConfigError(msg)
    return Config(
        gemeente=gemeente,
        year=int(year),
        thresholds=Thresholds(
            walk_m=float(walk_m), distance_method=str(method), hotspot_alpha=float(alpha),
            permutations=int(perms), seed=int(seed),
        ),
        costs=Costs(meeting_point_per_year=float(mp_cost), broker_fte_per_year=float(broker_cost)),
        venues=venues,
        indicators=indicators,
        services=services,
        source=source,
    )


def _services(section: Any, problems: list[str]) -> Services:
    """The ``[services]`` table; missing keys keep the defaults of :class:`Services`."""
    if not isinstance(section, dict):
        problems.append("services must be a table")
        return Services()
    defaults = Services()
    _unknown(section, set(Services.__dataclass_fields__), "services", problems)
    values: dict[str, Any] = {}
    for key in SERVICE_ENV:
        if key in section:
            url = section[key]
            if not isinstance(url, str) or not _URL_RE.match(url.strip()):
                problems.append(f"services.{key} must be an http(s) address, got {url!r}")
            else:
                values[key] = url.strip()
    for key, minimum, exclusive, integer in (
        ("wfs_page_size", 1, False, True), ("connect_timeout_s", 0, True, False), ("read_timeout_s", 0, True, False),
        ("deadline_s", 0, True, False), ("retries", 0, False, True), ("backoff_s", 0, False, False),
    ):
        if key in section:
            value = _number(section, key, "services", problems, minimum=minimum, exclusive=exclusive, integer=integer)
            if value is not None:
                values[key] = int(value) if integer else float(value)
    return replace(defaults, **values)
