"""The study configuration: a TOML file read into frozen dataclasses.

The defaults live in ``config/wijkanalyse.toml`` (shipped in the package as
``default_config.toml``). A user's file is laid over them: a scalar key replaces the
default, a ``[venues]`` or ``[indicators]`` table replaces the default table as a whole.
Every problem is reported at once, each with its key, in one :class:`ConfigError`.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from wijkanalyse.errors import ConfigError

__all__ = [
    "SITING_KINDS",
    "Brokers",
    "Config",
    "Costs",
    "Indicator",
    "Kernen",
    "Siting",
    "Thresholds",
    "VenueClass",
    "default_config_text",
    "load_config",
    "parse_config",
]

DISTANCE_METHODS = ("network", "straight_line")
_GEMEENTE_RE = re.compile(r"^GM\d{4}$")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_BUURTCODE_RE = re.compile(r"^BU\d{8}$")
_WIJKCODE_RE = re.compile(r"^WK\d{6}$")
#: Candidate kinds besides venue classes: the gemeente's own list and generated gap centres.
SITING_KINDS = ("gemeente", "gat")


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


@dataclass(frozen=True)
class Siting:
    """Choosing new meeting points (``[siting]``)."""

    count: int = 10
    exact: bool = False
    time_limit_s: float = 60.0
    signal_weighting: bool = False
    signal_strength: float = 1.0
    candidate_classes: tuple[str, ...] = ("school", "sport")
    cost_per_class: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Brokers:
    """Wijkmakelaars / dorpscoördinatoren: workload, need, areas and priority (``[brokers]``)."""

    workload_signal_weight: float = 0.5
    workload_per_fte: float = 10000.0
    n_areas: int = 0
    per_kern: bool = False
    balance_tolerance: float = 0.10
    priority_signal: float = 0.5
    priority_beyond: float = 0.3
    priority_hotspot: float = 0.2


@dataclass(frozen=True)
class Kernen:
    """Which kern (village or town) each buurt belongs to (``[kernen]``); default: its wijk."""

    buurten: dict[str, str] = field(default_factory=dict)
    wijken: dict[str, str] = field(default_factory=dict)


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
    siting: Siting = field(default_factory=Siting)
    brokers: Brokers = field(default_factory=Brokers)
    kernen: Kernen = field(default_factory=Kernen)
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
        if isinstance(value, dict) and section in ("area", "thresholds", "costs", "siting", "brokers", "kernen"):
            merged[section] = {**defaults.get(section, {}), **value}
        else:
            merged[section] = value
    if "venues" in user and "candidate_classes" not in (user.get("siting") or {}) and isinstance(
        merged.get("siting"), dict
    ):  # the default candidate classes name default venue classes; derive them from the user's [venues]
        merged["siting"] = {k: v for k, v in merged["siting"].items() if k != "candidate_classes"}
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
    _unknown(
        raw, {"area", "thresholds", "costs", "venues", "indicators", "siting", "brokers", "kernen"}, "<top>", problems
    )
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

    siting = _parse_siting(raw.get("siting", {}), venues, problems)
    brokers = _parse_brokers(raw.get("brokers", {}), problems)
    kernen = _parse_kernen(raw.get("kernen", {}), problems)

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
        siting=siting,
        brokers=brokers,
        kernen=kernen,
        source=source,
    )


def _table(raw: Any, where: str, problems: list[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        problems.append(f"{where} must be a table")
        return {}
    return raw


def _flag(section: dict[str, Any], key: str, where: str, default: bool, problems: list[str]) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        problems.append(f"{where}.{key} must be true or false, got {value!r}")
        return default
    return value


def _parse_siting(raw: Any, venues: dict[str, VenueClass], problems: list[str]) -> Siting:
    """``[siting]``: how many new meeting points to rank, exact or fast, weights, candidate kinds and costs."""
    where = "siting"
    sec = _table(raw, where, problems)
    d = Siting()
    allowed = {"count", "exact", "time_limit_s", "signal_weighting", "signal_strength", "candidate_classes",
               "cost_per_class"}
    _unknown(sec, allowed, where, problems)
    count = _number({"count": sec.get("count", d.count)}, "count", where, problems, minimum=1, exclusive=False,
                    integer=True)
    time_limit = _number({"time_limit_s": sec.get("time_limit_s", d.time_limit_s)}, "time_limit_s", where, problems,
                         minimum=0)
    strength = _number({"signal_strength": sec.get("signal_strength", d.signal_strength)}, "signal_strength", where,
                       problems, minimum=0, exclusive=False)
    classes = sec.get("candidate_classes", [k for k, v in venues.items() if not v.meeting_point])
    if not isinstance(classes, list) or not all(isinstance(c, str) and c for c in classes):
        problems.append(f"{where}.candidate_classes must be a list of venue class keys like [\"school\"], got {classes!r}")
        classes = []
    valid: list[str] = []
    for key in classes:
        if venues and key not in venues:
            problems.append(
                f"{where}.candidate_classes: {key!r} is not a [venues] class (known: {', '.join(venues)})"
            )
        elif key in venues and venues[key].meeting_point:
            problems.append(
                f"{where}.candidate_classes: {key!r} is already a meeting point class; list classes with "
                "meeting_point = false"
            )
        else:
            valid.append(key)
    costs_raw = _table(sec.get("cost_per_class", {}), f"{where}.cost_per_class", problems)
    kinds = [*valid, *SITING_KINDS]
    cost_per_class: dict[str, float] = {}
    for key, value in costs_raw.items():
        if key not in kinds:
            problems.append(f"{where}.cost_per_class.{key} is not a candidate kind (known: {', '.join(kinds)})")
        amount = _number({key: value}, key, f"{where}.cost_per_class", problems, minimum=0, exclusive=False)
        if amount is not None:
            cost_per_class[key] = float(amount)
    return Siting(
        count=int(count or d.count),
        exact=_flag(sec, "exact", where, d.exact, problems),
        time_limit_s=float(time_limit or d.time_limit_s),
        signal_weighting=_flag(sec, "signal_weighting", where, d.signal_weighting, problems),
        signal_strength=float(strength if strength is not None else d.signal_strength),
        candidate_classes=tuple(classes),
        cost_per_class=cost_per_class,
    )


def _parse_brokers(raw: Any, problems: list[str]) -> Brokers:
    """``[brokers]``: workload formula, workload per fte, number of areas, balance and priority weights."""
    where = "brokers"
    sec = _table(raw, where, problems)
    d = Brokers()
    _unknown(sec, set(Brokers.__dataclass_fields__), where, problems)

    def num(key: str, **kw: Any) -> Any:
        value = _number({key: sec.get(key, getattr(d, key))}, key, where, problems, **kw)
        return getattr(d, key) if value is None else value

    signal_weight = num("workload_signal_weight", minimum=0, exclusive=False)
    per_fte = num("workload_per_fte", minimum=0)
    n_areas = num("n_areas", minimum=0, exclusive=False, integer=True)
    tolerance = num("balance_tolerance", minimum=0, maximum=1)
    weights = {k: num(k, minimum=0, exclusive=False) for k in ("priority_signal", "priority_beyond", "priority_hotspot")}
    if all(isinstance(v, (int, float)) for v in weights.values()) and sum(weights.values()) <= 0:
        problems.append(f"{where}: priority_signal, priority_beyond and priority_hotspot are all 0; give one a weight > 0")
    return Brokers(
        workload_signal_weight=float(signal_weight),
        workload_per_fte=float(per_fte),
        n_areas=int(n_areas),
        per_kern=_flag(sec, "per_kern", where, d.per_kern, problems),
        balance_tolerance=float(tolerance),
        priority_signal=float(weights["priority_signal"]),
        priority_beyond=float(weights["priority_beyond"]),
        priority_hotspot=float(weights["priority_hotspot"]),
    )


def _parse_kernen(raw: Any, problems: list[str]) -> Kernen:
    """``[kernen]``: buurtcode -> kern and wijkcode -> kern mappings."""
    where = "kernen"
    sec = _table(raw, where, problems)
    _unknown(sec, {"buurten", "wijken"}, where, problems)
    maps: dict[str, dict[str, str]] = {}
    for key, pattern, example in (("buurten", _BUURTCODE_RE, "BU02330101"), ("wijken", _WIJKCODE_RE, "WK023301")):
        table = _table(sec.get(key, {}), f"{where}.{key}", problems)
        maps[key] = {}
        for code, kern in table.items():
            if not pattern.match(code):
                problems.append(f"{where}.{key}.{code}: key must be a CBS code like {example}")
            if not isinstance(kern, str) or not kern.strip():
                problems.append(f"{where}.{key}.{code} must be the kern's name, e.g. \"Schinveld\", got {kern!r}")
                continue
            maps[key][code] = kern.strip()
    return Kernen(buurten=maps["buurten"], wijken=maps["wijken"])
