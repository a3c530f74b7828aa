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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from wijkanalyse.errors import ConfigError

__all__ = [
    "BROKER_COST_BASES",
    "SITING_KINDS",
    "Brokers",
    "Capacity",
    "Config",
    "Costs",
    "Doelgroepen",
    "Indicator",
    "Kernen",
    "NetworkRules",
    "OpeningHoursSettings",
    "OwnPointsSettings",
    "Services",
    "Siting",
    "Thresholds",
    "VenueClass",
    "WalkGroup",
    "WalkProfile",
    "Walking",
    "default_config_text",
    "load_config",
    "parse_config",
]

DISTANCE_METHODS = ("network", "straight_line")
_GEMEENTE_RE = re.compile(r"^GM\d{4}$")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_URL_RE = re.compile(r"^https?://[^\s/]+", flags=re.IGNORECASE)
_BUURTCODE_RE = re.compile(r"^BU\d{8}$")
_WIJKCODE_RE = re.compile(r"^WK\d{6}$")
#: The smallest and largest indicator weight: weights count relative to each other, so a weight far outside
#: this range (1e308, a subnormal 5e-324) is a typing error, and would overflow or vanish in the signal.
WEIGHT_RANGE = (1e-3, 1e3)
#: More permutations than this take minutes per run and gain nothing (p-values to 1e-5).
MAX_PERMUTATIONS = 100_000
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
    min_distinct_values: int = 3  # an indicator with fewer distinct values over the buurten is left out
    min_gap_residents: int = 25  # gaps with fewer residents are counted apart as small


@dataclass(frozen=True)
class NetworkRules:
    """The walk and attachment rules of the network engine (see :mod:`wijkanalyse.network`)."""

    max_attach_m: float = 500.0
    min_component_m: float = 1000.0
    walk_all_cycleways: bool = False
    not_walkable_highway: tuple[str, ...] = (
        "abandoned", "bus_guideway", "busway", "construction", "motor", "motorway", "motorway_link", "no",
        "planned", "platform", "proposed", "raceway", "razed", "rest_area", "services", "trunk", "trunk_link",
    )
    #: a walking profile's extra exclusions (:class:`WalkProfile`); empty for the general walk rule
    exclude_highways: tuple[str, ...] = ()
    exclude_tags: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (tag, values): a way with tag = value is not walked


#: Way tags a walking profile's ``exclude_tags`` may name (kept by the OSM reader: ``WAY_TAGS``).
PROFILE_TAGS = ("access", "foot", "incline", "smoothness", "surface", "wheelchair")


@dataclass(frozen=True)
class WalkProfile:
    """A way filter for a group that cannot walk every way (``[walking.profiles.<key>]``), e.g. a rollator."""

    key: str
    label: str
    exclude_highways: tuple[str, ...] = ()
    exclude_tags: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def rules(self, base: NetworkRules) -> NetworkRules:
        """``base`` with this profile's exclusions added: the same engine, a different way filter."""
        return replace(
            base,
            exclude_highways=tuple(dict.fromkeys((*base.exclude_highways, *self.exclude_highways))),
            exclude_tags=(*base.exclude_tags, *self.exclude_tags),
        )


@dataclass(frozen=True)
class WalkGroup:
    """A group of residents with its own walking pace and, optionally, a profile (``[walking.groups.<key>]``)."""

    key: str
    label: str
    speed_m_s: float
    profile: str = ""  # a key of Walking.profiles; "" = the general walk rule


@dataclass(frozen=True)
class Walking:
    """Walking time (``[walking]``): the general pace, a threshold in minutes, and groups with their own pace.

    ``threshold_minutes`` 0: the threshold is ``thresholds.walk_m`` metres for every group
    (reported also in minutes at each group's pace); > 0: it is minutes of walking, so
    ``walk_m`` becomes ``threshold_minutes x 60 x speed_m_s`` and each group's metres follow
    from its own pace.
    """

    speed_m_s: float = 1.2
    threshold_minutes: float = 0.0
    groups: dict[str, WalkGroup] = field(default_factory=dict)
    profiles: dict[str, WalkProfile] = field(default_factory=dict)

    def threshold_m(self, walk_m: float, speed_m_s: float) -> float:
        """The threshold in metres for a group walking at ``speed_m_s``."""
        return self.threshold_minutes * 60.0 * speed_m_s if self.threshold_minutes > 0 else walk_m


@dataclass(frozen=True)
class OpeningHoursSettings:
    """Which meeting points count by their opening hours (``[opening_hours]``; :mod:`wijkanalyse.analysis.opening`)."""

    min_dagdelen: int = 0  # a meeting point with known hours counts when open at least this many day parts a week
    unknown_counts: bool = True  # a meeting point without (readable) hours counts, in every day part


#: How the yearly broker cost is counted (``costs.broker_cost_basis``): ``"persons"`` (every broker a
#: full-time post: brokers x broker_fte_per_year, the default) or ``"fte"`` (the fte of workload x it).
BROKER_COST_BASES = ("persons", "fte")


@dataclass(frozen=True)
class Costs:
    """Yearly costs in euro, used to price options in the report."""

    meeting_point_per_year: float = 25000.0
    broker_fte_per_year: float = 80000.0
    broker_cost_basis: str = "persons"  # "persons": brokers x broker_fte_per_year; "fte": fte x it


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

    cbs_odata_url: str = "https://opendata.cbs.nl/ODataFeed/odata"
    pdok_buurten_wfs_url: str = "https://service.pdok.nl/cbs/wijkenbuurten/{year}/wfs/v1_0"
    pdok_grid_wfs_url: str = "https://service.pdok.nl/cbs/vierkantstatistieken100m/{year}/wfs/v1_0"
    overpass_url: str = "https://overpass-api.de/api/interpreter"
    wfs_page_size: int = 1000
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 180.0
    deadline_s: float = 900.0
    retries: int = 4
    backoff_s: float = 2.0
    rate_limit_wait_s: float = 30.0  # after an HTTP 429 without Retry-After (Overpass asks >= 30 s)
    overpass_max_gemeenten: int = 5  # more gemeenten at once need --osm-pbf (Overpass's 1 GB/day guideline)
    contact: str = ""  # an e-mail address or URL put in the User-Agent, as Overpass asks

    def with_environment(self, environ: Mapping[str, str] | None = None) -> Services:
        """These settings with every address set in the environment (:data:`SERVICE_ENV`) put in.

        Raises
        ------
        ConfigError
            When a variable holds no http(s) address.
        """
        environ = os.environ if environ is None else environ
        # dict[str, Any]: replace() checks each keyword against its field; these are the str address fields
        changes: dict[str, Any] = {key: environ[var].strip() for key, var in SERVICE_ENV.items() if environ.get(var, "").strip()}
        bad = [f"{SERVICE_ENV[k]}={v!r}" for k, v in changes.items() if not _URL_RE.match(v)]
        if bad:
            msg = f"Geen http(s)-adres: {', '.join(bad)}. Zet de variabele op bijvoorbeeld http://127.0.0.1:8080/ of maak haar leeg."
            raise ConfigError(msg)
        return replace(self, **changes) if changes else self


@dataclass(frozen=True)
class Siting:
    """Choosing new meeting points (``[siting]``)."""

    count: int = 10
    exact: bool = False
    time_limit_s: float = 60.0
    total_time_limit_s: float = 300.0  # the exact answers for every number of sites together
    signal_weighting: bool = False
    signal_strength: float = 1.0
    candidate_classes: tuple[str, ...] = ("school", "sport")
    cost_per_class: dict[str, float] = field(default_factory=dict)
    candidates_file: Path | None = None  # the gemeente's own candidate sites; resolved against the config's folder
    weight_group: str = ""  # a [doelgroepen] name: new sites reach the most of that group ("" = all residents)


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


#: The age bands of the CBS 100 m grid a target group can hold, and "alle" (every resident).
AGE_BANDS = ("0-14", "15-24", "25-44", "45-64", "65+")
ALL_RESIDENTS = "alle"


@dataclass(frozen=True)
class Doelgroepen:
    """Target groups (``[doelgroepen]``): name (shown in the outputs) -> the CBS age bands it holds."""

    groups: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {"alle inwoners": ("alle",), "65+": ("65+",), "0-14": ("0-14",)}
    )


@dataclass(frozen=True)
class Capacity:
    """Capacity of meeting points (``[capacity]``): residents a place can serve, and whose residents count."""

    per_class: dict[str, float] = field(default_factory=dict)  # venue class key -> capacity (own points' column wins)
    group: str = ""  # a [doelgroepen] name ("" = all residents)


@dataclass(frozen=True)
class Kernen:
    """Which kern (village or town) each buurt belongs to (``[kernen]``); default: its wijk."""

    buurten: dict[str, str] = field(default_factory=dict)
    wijken: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VenueClass:
    """A class of venues found in OpenStreetMap by tags.

    A class without tags (declared in ``[own_points.classes]``) matches no OSM feature: it
    holds only the gemeente's own points (e.g. benches and picnic tables).
    """

    key: str
    label: str
    meeting_point: bool
    tags: dict[str, Literal[True] | tuple[str, ...]]  # True: any value

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
class OwnPointsSettings:
    """The gemeente's own points file (``[own_points]``); see :mod:`wijkanalyse.sources.own_points`."""

    file: Path | None = None  # resolved against the config file's folder
    merge_within_m: float = 50.0
    strict: bool = False
    names_required: bool = True
    layer: str = ""
    name_column: str = ""
    class_column: str = ""
    class_values: dict[str, str] = field(default_factory=dict)  # value in the file -> class key


@dataclass(frozen=True)
class Config:
    """The whole study configuration."""

    gemeente: str | None = None
    year: int = 2024
    thresholds: Thresholds = field(default_factory=Thresholds)
    network: NetworkRules = field(default_factory=NetworkRules)
    costs: Costs = field(default_factory=Costs)
    venues: dict[str, VenueClass] = field(default_factory=dict)
    indicators: dict[str, Indicator] = field(default_factory=dict)
    services: Services = field(default_factory=Services)
    siting: Siting = field(default_factory=Siting)
    brokers: Brokers = field(default_factory=Brokers)
    kernen: Kernen = field(default_factory=Kernen)
    kern_targets: dict[str, float] = field(default_factory=dict)  # [doelen]: kern -> target share (wijkanalyse trend)
    source: str = "<default>"
    own_points: OwnPointsSettings = field(default_factory=OwnPointsSettings)
    walking: Walking = field(default_factory=Walking)
    opening_hours: OpeningHoursSettings = field(default_factory=OpeningHoursSettings)
    doelgroepen: Doelgroepen = field(default_factory=Doelgroepen)
    capacity: Capacity = field(default_factory=Capacity)

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
        text = path.read_text(encoding="utf-8-sig")  # a BOM (Windows Notepad) is no TOML error
    except (OSError, UnicodeDecodeError) as e:
        msg = f"Kan configbestand {path} niet lezen: {e}. Controleer het pad en of het een UTF-8-tekstbestand is."
        raise ConfigError(msg) from e
    try:
        user = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = f"Configbestand {path} is geen geldige TOML: {e}. Controleer de genoemde regel."
        raise ConfigError(msg) from e
    merged = dict(defaults)
    for section, value in user.items():
        if isinstance(value, dict) and section in (
            "area", "thresholds", "network", "costs", "own_points", "services", "siting", "brokers", "kernen",
            "walking", "opening_hours",
            "capacity",
        ):
            merged[section] = {**defaults.get(section, {}), **value}
        else:
            merged[section] = value
    if "venues" in user and "candidate_classes" not in (user.get("siting") or {}) and isinstance(
        merged.get("siting"), dict
    ):  # the default candidate classes name default venue classes; derive them from the user's [venues]
        merged["siting"] = {k: v for k, v in merged["siting"].items() if k != "candidate_classes"}
    return parse_config(merged, source=str(path), base_dir=path.parent)


def _number(
    section: dict[str, Any], key: str, where: str, problems: list[str], *, minimum: float | None = None,
    exclusive: bool = True, maximum: float | None = None, integer: bool = False,
) -> Any:
    value = section.get(key)
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        problems.append(f"{where}.{key} moet {'een geheel getal' if integer else 'een getal'} zijn, maar is {value!r}")
        return None
    if isinstance(value, int) and abs(value) > 2**53:  # beyond what a float holds exactly; no setting needs it
        problems.append(f"{where}.{key} is te groot: {value!r:.30}")
        return None
    if not math.isfinite(value):  # TOML has nan and inf; no setting means either
        problems.append(f"{where}.{key} moet een eindig getal zijn, maar is {value!r}")
        return None
    if minimum is not None and (value <= minimum if exclusive else value < minimum):
        problems.append(f"{where}.{key} moet {'>' if exclusive else '>='} {minimum:g} zijn, maar is {value!r}")
    if maximum is not None and value >= maximum:
        problems.append(f"{where}.{key} moet < {maximum if isinstance(maximum, int) else f'{maximum:g}'} zijn, maar is {value!r}")
    return value


def _unknown(section: dict[str, Any], allowed: set[str], where: str, problems: list[str]) -> None:
    for key in sorted(set(section) - allowed):
        problems.append(f"{where}.{key} is geen bekende sleutel (bekend: {', '.join(sorted(allowed))})")


def _parse_network(net: Any, problems: list[str]) -> NetworkRules:
    """Check the ``[network]`` table (walk and attachment rules)."""
    if not isinstance(net, dict):
        problems.append("network moet een tabel zijn")
        return NetworkRules()
    default = NetworkRules()
    _unknown(net, {"max_attach_m", "min_component_m", "walk_all_cycleways", "not_walkable_highway"}, "network", problems)
    values = {**{k: getattr(default, k) for k in ("max_attach_m", "min_component_m")}, **net}
    max_attach = _number(values, "max_attach_m", "network", problems, minimum=0)
    min_component = _number(values, "min_component_m", "network", problems, minimum=0, exclusive=False)
    cycleways = net.get("walk_all_cycleways", default.walk_all_cycleways)
    if not isinstance(cycleways, bool):
        problems.append(f"network.walk_all_cycleways moet true of false zijn, maar is {cycleways!r}")
    highways = net.get("not_walkable_highway", list(default.not_walkable_highway))
    if not isinstance(highways, list) or not all(isinstance(h, str) and h.strip() for h in highways):
        problems.append(f"network.not_walkable_highway moet een lijst van highway-waarden zijn zoals [\"motorway\"], maar is {highways!r}")
        highways = list(default.not_walkable_highway)
    return NetworkRules(
        max_attach_m=float(max_attach if max_attach is not None else default.max_attach_m),
        min_component_m=float(min_component if min_component is not None else default.min_component_m),
        walk_all_cycleways=bool(cycleways),
        not_walkable_highway=tuple(h.strip() for h in highways),
    )


def parse_config(
    raw: dict[str, Any], source: str = "<dict>", base_dir: Path | None = None
) -> Config:
    """Check a parsed TOML document and build a :class:`Config`; report every problem at once.

    ``base_dir`` is the folder relative file names (``own_points.file``) are resolved against:
    the config file's folder; None keeps them relative to the working directory.
    """
    problems: list[str] = []
    _unknown(
        raw,
        {"area", "thresholds", "network", "costs", "services", "venues", "indicators", "own_points", "siting",
         "brokers", "kernen", "doelen", "walking", "opening_hours", "doelgroepen", "capacity"},
        "<top>",
        problems,
    )
    problems[:] = [p.replace("<top>.", "") for p in problems]

    gemeente, year = _parse_area(raw.get("area", {}), problems)
    th = _parse_thresholds(raw.get("thresholds", {}), problems)
    network = _parse_network(raw.get("network", {}), problems)
    costs = _parse_costs(raw.get("costs", {}), problems)
    services = _services(raw.get("services", {}), problems)
    venues = _parse_venues(raw.get("venues", {}), problems)
    own_points = _own_points(raw.get("own_points", {}), venues, base_dir, problems)
    if venues and not any(v.meeting_point for v in venues.values()):
        problems.append("venues: geen enkele klasse heeft meeting_point = true, dus niemand kan binnen bereik zijn; zet het bij minstens één klasse")
    indicators = _parse_indicators(raw.get("indicators", {}), problems)

    doelgroepen = _parse_doelgroepen(raw.get("doelgroepen", {}), problems)
    siting = _parse_siting(raw.get("siting", {}), venues, problems, base_dir, groups=doelgroepen.groups)
    capacity = _parse_capacity(raw.get("capacity", {}), venues, doelgroepen.groups, problems)
    brokers = _parse_brokers(raw.get("brokers", {}), problems)
    kernen = _parse_kernen(raw.get("kernen", {}), problems)
    kern_targets = _parse_targets(raw.get("doelen", {}), problems)
    walking = _parse_walking(raw.get("walking", {}), problems)
    opening = _parse_opening_hours(raw.get("opening_hours", {}), problems)
    if walking.threshold_minutes > 0:  # a threshold in minutes: walk_m follows from the general pace
        th["walk_m"] = walking.threshold_m(float(th["walk_m"] or 0.0), walking.speed_m_s)

    if problems:
        if len(problems) == 1:  # one problem, one line
            msg = f"Ongeldige config {source}: {problems[0]}."
        else:
            msg = f"Ongeldige config {source}:\n  - " + "\n  - ".join(problems)
        raise ConfigError(msg)
    return Config(
        gemeente=gemeente,
        year=int(year or 0),
        thresholds=Thresholds(
            walk_m=float(th["walk_m"]), distance_method=str(th["method"]), hotspot_alpha=float(th["alpha"]),
            permutations=int(th["perms"]), seed=int(th["seed"]), min_distinct_values=int(th["distinct"]),
            min_gap_residents=int(th["min_gap"]),
        ),
        network=network,
        costs=costs,
        venues=venues,
        indicators=indicators,
        services=services,
        siting=siting,
        brokers=brokers,
        kernen=kernen,
        kern_targets=kern_targets,
        source=source,
        own_points=own_points,
        walking=walking,
        opening_hours=opening,
        doelgroepen=doelgroepen,
        capacity=capacity,
    )


def _section(raw: Any, name: str, problems: list[str]) -> dict[str, Any]:
    """A top-level table of the config; a problem (and an empty table) when it is no table."""
    if isinstance(raw, dict):
        return raw
    problems.append(f"{name} moet een tabel zijn")
    return {}


def _keyed_tables(items: dict[str, Any], prefix: str, problems: list[str]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """``(key, table, where)`` of each ``[prefix.<key>]`` that is a table; a bad key or a non-table is a problem."""
    for key, sec in items.items():
        where = f"{prefix}.{key}"
        if not _KEY_RE.match(key):
            problems.append(f"{where}: de sleutel mag alleen kleine letters, cijfers en _ bevatten")
        if not isinstance(sec, dict):
            problems.append(f"{where} moet een tabel zijn")
            continue
        yield key, sec, where


def _label(sec: dict[str, Any], key: str, where: str, problems: list[str]) -> str:
    """The ``label`` of a table (its key when not given); a problem when it is not a non-empty text."""
    label = sec.get("label", key)
    if not isinstance(label, str) or not label.strip():
        problems.append(f"{where}.label moet een niet-lege tekst zijn")
        return key
    return label.strip()


def _parse_area(raw: Any, problems: list[str]) -> tuple[str | None, int | None]:
    """``[area]``: the gemeente's CBS code (or none) and the year."""
    area = _section(raw, "area", problems)
    _unknown(area, {"gemeente", "year"}, "area", problems)
    gemeente = str(area.get("gemeente", "") or "").strip().upper() or None
    if gemeente is not None and not _GEMEENTE_RE.match(gemeente):
        problems.append(f"area.gemeente moet een CBS-code zijn zoals 'GM0233', maar is {area.get('gemeente')!r}")
    year = _number(area, "year", "area", problems, minimum=2000, exclusive=False, maximum=2100, integer=True)
    return gemeente, int(year) if year is not None else None


def _parse_thresholds(raw: Any, problems: list[str]) -> dict[str, Any]:
    """``[thresholds]`` checked: walk_m, method, alpha, perms, seed, distinct, min_gap (None where invalid)."""
    th = _section(raw, "thresholds", problems)
    _unknown(th, {"walk_m", "distance_method", "hotspot_alpha", "permutations", "seed", "min_distinct_values",
                  "min_gap_residents"},
             "thresholds", problems)
    method = th.get("distance_method")
    if method not in DISTANCE_METHODS:
        problems.append(f"thresholds.distance_method moet een van {', '.join(DISTANCE_METHODS)} zijn, maar is {method!r}")
    return {
        "walk_m": _number(th, "walk_m", "thresholds", problems, minimum=0),
        "method": method,
        "alpha": _number(th, "hotspot_alpha", "thresholds", problems, minimum=0, maximum=1),
        "perms": _number(th, "permutations", "thresholds", problems, minimum=99, exclusive=False,
                         maximum=MAX_PERMUTATIONS, integer=True),
        "seed": _number(th, "seed", "thresholds", problems, minimum=0, exclusive=False, maximum=2**32, integer=True),
        "distinct": _number({"min_distinct_values": th.get("min_distinct_values", Thresholds.min_distinct_values)},
                            "min_distinct_values", "thresholds", problems, minimum=2, exclusive=False, maximum=1000,
                            integer=True),
        "min_gap": _number({"min_gap_residents": th.get("min_gap_residents", Thresholds.min_gap_residents)},
                           "min_gap_residents", "thresholds", problems, minimum=0, exclusive=False, integer=True),
    }


def _parse_costs(raw: Any, problems: list[str]) -> Costs:
    """``[costs]``: a meeting point and a broker per year, and how the broker cost is counted."""
    costs = _section(raw, "costs", problems)
    _unknown(costs, {"meeting_point_per_year", "broker_fte_per_year", "broker_cost_basis"}, "costs", problems)
    mp_cost = _number(costs, "meeting_point_per_year", "costs", problems, minimum=0, exclusive=False)
    broker_cost = _number(costs, "broker_fte_per_year", "costs", problems, minimum=0, exclusive=False)
    cost_basis = costs.get("broker_cost_basis", "persons")
    if cost_basis not in BROKER_COST_BASES:
        problems.append(f"costs.broker_cost_basis moet een van {', '.join(BROKER_COST_BASES)} zijn, maar is {cost_basis!r}")
    return Costs(meeting_point_per_year=float(mp_cost or 0.0), broker_fte_per_year=float(broker_cost or 0.0),
                 broker_cost_basis=str(cost_basis))


def _venue_tags(v: dict[str, Any], where: str, problems: list[str]) -> dict[str, Literal[True] | tuple[str, ...]]:
    """The OSM tags of one venue class: ``key = true`` or a (list of) value(s)."""
    tags: dict[str, Literal[True] | tuple[str, ...]] = {}
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
                f"{where}.{tag_key} moet true zijn of een lijst van OSM-tagwaarden zoals [\"community_centre\"], maar is {wanted!r}"
            )
    if not tags:
        problems.append(f"{where}: geen OSM-tags (voeg er een toe, bijvoorbeeld amenity = [\"community_centre\"])")
    return tags


def _parse_venues(raw: Any, problems: list[str]) -> dict[str, VenueClass]:
    """``[venues.<key>]``: label, meeting_point and the OSM tags of each venue class."""
    venues: dict[str, VenueClass] = {}
    if not isinstance(raw, dict) or not raw:
        problems.append("venues moet minstens één tabel [venues.<sleutel>] hebben")
        return venues
    for key, v, where in _keyed_tables(raw, "venues", problems):
        label = _label(v, key, where, problems)
        meeting = v.get("meeting_point", False)
        if not isinstance(meeting, bool):
            problems.append(f"{where}.meeting_point moet true of false zijn, maar is {meeting!r}")
        venues[key] = VenueClass(key=key, label=str(label), meeting_point=bool(meeting),
                                 tags=_venue_tags(v, where, problems))
    return venues


def _parse_indicators(raw: Any, problems: list[str]) -> dict[str, Indicator]:
    """``[indicators.<key>]``: label, the CBS column, per, weight and direction of each indicator."""
    indicators: dict[str, Indicator] = {}
    if not isinstance(raw, dict) or not raw:
        problems.append("indicators moet minstens één tabel [indicators.<sleutel>] hebben")
        return indicators
    for key, ind, where in _keyed_tables(raw, "indicators", problems):
        _unknown(ind, {"label", "cbs", "per", "weight", "higher_is_worse"}, where, problems)
        cbs = ind.get("cbs")
        if not isinstance(cbs, str) or not cbs.strip():
            problems.append(f"{where}.cbs moet een CBS-kolom noemen, bijvoorbeeld \"Eenpersoonshuishoudens\"")
        per = ind.get("per")
        if per is not None and (not isinstance(per, str) or not per.strip()):
            problems.append(f"{where}.per moet een CBS-kolom noemen of weggelaten worden")
        weight = _number({"weight": ind.get("weight", 1.0)}, "weight", where, problems, minimum=0)
        if weight is not None and weight > 0 and not WEIGHT_RANGE[0] <= weight <= WEIGHT_RANGE[1]:
            problems.append(
                f"{where}.weight moet tussen {WEIGHT_RANGE[0]:g} en {WEIGHT_RANGE[1]:g} liggen (een gewicht telt naar "
                f"verhouding: geef bijvoorbeeld 1 of 2), kreeg {weight!r}"
            )
        worse = ind.get("higher_is_worse", True)
        if not isinstance(worse, bool):
            problems.append(f"{where}.higher_is_worse moet true of false zijn, maar is {worse!r}")
        indicators[key] = Indicator(
            key=key, label=str(ind.get("label", key)), cbs=str(cbs or "").strip(),
            per=per.strip() if isinstance(per, str) else None, weight=float(weight or 0.0), higher_is_worse=bool(worse),
        )
    return indicators


_OWN_KEYS = {"file", "merge_within_m", "strict", "names_required", "layer", "name_column", "class_column",
             "class_values", "classes"}


def _own_points(
    section: Any, venues: dict[str, VenueClass], base_dir: Path | None, problems: list[str]
) -> OwnPointsSettings:
    """Check ``[own_points]``; add its ``classes`` (no OSM tags) to ``venues``."""
    if not isinstance(section, dict):
        problems.append("own_points moet een tabel zijn")
        return OwnPointsSettings()
    _unknown(section, _OWN_KEYS, "own_points", problems)
    texts: dict[str, str] = {}
    for key in ("file", "layer", "name_column", "class_column"):
        value = section.get(key, "")
        if not isinstance(value, str):
            problems.append(f"own_points.{key} moet een tekst zijn (\"\" = niet gezet), maar is {value!r}")
            value = ""
        texts[key] = value.strip()
    flags: dict[str, bool] = {}
    for key, default in (("strict", False), ("names_required", True)):
        value = section.get(key, default)
        if not isinstance(value, bool):
            problems.append(f"own_points.{key} moet true of false zijn, maar is {value!r}")
            value = default
        flags[key] = value
    within = _number({"merge_within_m": section.get("merge_within_m", 50.0)}, "merge_within_m", "own_points",
                     problems, minimum=0, exclusive=False)

    _own_classes(section.get("classes", {}), venues, problems)
    class_values = _class_values(section.get("class_values", {}), venues, problems)

    file: Path | None = None
    if texts["file"]:
        file = Path(texts["file"]).expanduser()
        if base_dir is not None and not file.is_absolute():
            file = base_dir / file
    return OwnPointsSettings(
        file=file,
        merge_within_m=float(within if within is not None else 50.0),
        strict=flags["strict"],
        names_required=flags["names_required"],
        layer=texts["layer"],
        name_column=texts["name_column"],
        class_column=texts["class_column"],
        class_values=class_values,
    )


def _own_classes(classes: Any, venues: dict[str, VenueClass], problems: list[str]) -> None:
    """Check ``[own_points.classes.<key>]`` tables and add them to ``venues`` (without OSM tags)."""
    if not isinstance(classes, dict):
        problems.append("own_points.classes moet een tabel van tabellen [own_points.classes.<sleutel>] zijn")
        classes = {}
    for key, c in classes.items():
        where = f"own_points.classes.{key}"
        if not _KEY_RE.match(key):
            problems.append(f"{where}: de sleutel mag alleen kleine letters, cijfers en _ bevatten")
        if key in venues:
            problems.append(f"{where}: [venues.{key}] bestaat al; geef deze klasse een andere sleutel")
            continue
        if not isinstance(c, dict):
            problems.append(f"{where} moet een tabel zijn")
            continue
        extra = sorted(set(c) - {"label", "meeting_point"})
        if extra:
            problems.append(
                f"{where}.{extra[0]} is geen bekende sleutel (bekend: label, meeting_point); "
                "een klasse die in OpenStreetMap op tags gevonden wordt, hoort in [venues]"
            )
        label = c.get("label", key)
        if not isinstance(label, str) or not label.strip():
            problems.append(f"{where}.label moet een niet-lege tekst zijn")
        meeting = c.get("meeting_point", False)
        if not isinstance(meeting, bool):
            problems.append(f"{where}.meeting_point moet true of false zijn, maar is {meeting!r}")
        venues[key] = VenueClass(key=key, label=str(label), meeting_point=meeting is True, tags={})


def _class_values(raw_values: Any, venues: dict[str, VenueClass], problems: list[str]) -> dict[str, str]:
    """Check ``[own_points.class_values]``: value in the file -> a class key."""
    class_values: dict[str, str] = {}
    if not isinstance(raw_values, dict):
        problems.append("own_points.class_values moet een tabel zijn: \"waarde in het bestand\" = \"klassesleutel\"")
        raw_values = {}
    for value, target in raw_values.items():
        if not isinstance(target, str) or target not in venues:
            problems.append(
                f"own_points.class_values.{value!r} moet een klasse uit [venues] of [own_points.classes] noemen "
                f"({', '.join(venues)}), maar is {target!r}"
            )
            continue
        class_values[str(value)] = target
    return class_values


def _services(section: Any, problems: list[str]) -> Services:
    """The ``[services]`` table; missing keys keep the defaults of :class:`Services`."""
    if not isinstance(section, dict):
        problems.append("services moet een tabel zijn")
        return Services()
    defaults = Services()
    _unknown(section, set(Services.__dataclass_fields__), "services", problems)
    values: dict[str, Any] = {}
    for key in SERVICE_ENV:
        if key in section:
            url = section[key]
            if not isinstance(url, str) or not _URL_RE.match(url.strip()):
                problems.append(f"services.{key} moet een http(s)-adres zijn, maar is {url!r}")
            else:
                values[key] = url.strip()
    for key, minimum, exclusive, integer in (
        ("wfs_page_size", 1, False, True), ("connect_timeout_s", 0, True, False), ("read_timeout_s", 0, True, False),
        ("deadline_s", 0, True, False), ("retries", 0, False, True), ("backoff_s", 0, False, False),
        ("rate_limit_wait_s", 0, False, False), ("overpass_max_gemeenten", 0, False, True),
    ):
        if key in section:
            value = _number(section, key, "services", problems, minimum=minimum, exclusive=exclusive, integer=integer)
            if value is not None:
                values[key] = int(value) if integer else float(value)
    if "contact" in section:
        contact = section["contact"]
        if not isinstance(contact, str) or "\n" in contact:
            problems.append(f"services.contact moet één regel tekst zijn (een e-mailadres of URL), maar is {contact!r}")
        else:
            values["contact"] = contact.strip()
    return replace(defaults, **values)


def _table(raw: Any, where: str, problems: list[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        problems.append(f"{where} moet een tabel zijn")
        return {}
    return raw


def _flag(section: dict[str, Any], key: str, where: str, default: bool, problems: list[str]) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        problems.append(f"{where}.{key} moet true of false zijn, maar is {value!r}")
        return default
    return value


def _parse_siting(
    raw: Any, venues: dict[str, VenueClass], problems: list[str], base_dir: Path | None = None,
    groups: Mapping[str, tuple[str, ...]] | None = None,
) -> Siting:
    """``[siting]``: how many new meeting points to rank, exact or fast, weights, candidate kinds and costs."""
    where = "siting"
    sec = _table(raw, where, problems)
    d = Siting()
    allowed = {"count", "exact", "time_limit_s", "total_time_limit_s", "signal_weighting", "signal_strength", "candidate_classes",
               "cost_per_class", "candidates_file", "weight_group"}
    _unknown(sec, allowed, where, problems)
    count = _number({"count": sec.get("count", d.count)}, "count", where, problems, minimum=1, exclusive=False,
                    integer=True)
    time_limit = _number({"time_limit_s": sec.get("time_limit_s", d.time_limit_s)}, "time_limit_s", where, problems,
                         minimum=0)
    total_limit = _number({"total_time_limit_s": sec.get("total_time_limit_s", d.total_time_limit_s)},
                          "total_time_limit_s", where, problems, minimum=0)
    strength = _number({"signal_strength": sec.get("signal_strength", d.signal_strength)}, "signal_strength", where,
                       problems, minimum=0, exclusive=False)
    classes = sec.get("candidate_classes", [k for k, v in venues.items() if not v.meeting_point])
    if not isinstance(classes, list) or not all(isinstance(c, str) and c for c in classes):
        problems.append(f"{where}.candidate_classes moet een lijst van klassesleutels zijn zoals [\"school\"], maar is {classes!r}")
        classes = []
    valid: list[str] = []
    for key in classes:
        if venues and key not in venues:
            problems.append(
                f"{where}.candidate_classes: {key!r} is geen klasse uit [venues] (bekend: {', '.join(venues)})"
            )
        elif key in venues and venues[key].meeting_point:
            problems.append(
                f"{where}.candidate_classes: {key!r} is al een klasse van ontmoetingspunten; noem klassen met "
                "meeting_point = false"
            )
        else:
            valid.append(key)
    costs_raw = _table(sec.get("cost_per_class", {}), f"{where}.cost_per_class", problems)
    kinds = [*valid, *SITING_KINDS]
    cost_per_class: dict[str, float] = {}
    for key, value in costs_raw.items():
        if key not in kinds:
            problems.append(f"{where}.cost_per_class.{key} is geen soort kandidaat (bekend: {', '.join(kinds)})")
        amount = _number({key: value}, key, f"{where}.cost_per_class", problems, minimum=0, exclusive=False)
        if amount is not None:
            cost_per_class[key] = float(amount)
    candidates_file = sec.get("candidates_file", "")
    if not isinstance(candidates_file, str):
        problems.append(f"{where}.candidates_file moet een bestandsnaam zijn (\"\" = geen), maar is {candidates_file!r}")
        candidates_file = ""
    file = Path(candidates_file.strip()).expanduser() if candidates_file.strip() else None
    if file is not None and base_dir is not None and not file.is_absolute():
        file = base_dir / file
    if file is not None and file.is_dir():
        problems.append(f"{where}.candidates_file {file} is een map, geen bestand. Geef in [siting] candidates_file een "
                        "bestand (CSV, GeoPackage of GeoJSON)")
    weight_group = _group_name(sec.get("weight_group", ""), f"{where}.weight_group", groups or {}, problems)
    return Siting(
        weight_group=weight_group,
        candidates_file=file,
        count=int(count or d.count),
        exact=_flag(sec, "exact", where, d.exact, problems),
        time_limit_s=float(time_limit or d.time_limit_s),
        total_time_limit_s=float(total_limit or d.total_time_limit_s),
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
        problems.append(f"{where}: priority_signal, priority_beyond en priority_hotspot zijn allemaal 0; geef er één een gewicht > 0")
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
                problems.append(f"{where}.{key}.{code}: de sleutel moet een CBS-code zijn zoals {example}")
            if not isinstance(kern, str) or not kern.strip():
                problems.append(f"{where}.{key}.{code} moet de naam van de kern zijn, bijvoorbeeld \"Schinveld\", maar is {kern!r}")
                continue
            maps[key][code] = kern.strip()
    return Kernen(buurten=maps["buurten"], wijken=maps["wijken"])


def _parse_targets(raw: Any, problems: list[str]) -> dict[str, float]:
    """``[doelen]``: kern name -> the share (0-1) within walk_m the gemeente wants (``wijkanalyse trend``)."""
    targets: dict[str, float] = {}
    for kern, value in _table(raw, "doelen", problems).items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            problems.append(f"doelen.{kern} moet een aandeel tussen 0 en 1 zijn, bijvoorbeeld 0.9 voor 90 %, maar is {value!r}")
            continue
        targets[kern.strip()] = float(value)
    return targets


def _strings(value: Any) -> tuple[str, ...] | None:
    """A string or a list of non-empty strings as a tuple; None when it is neither."""
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.strip() for v in value)
    return None


def _parse_profiles(raw: Any, problems: list[str]) -> dict[str, WalkProfile]:
    """``[walking.profiles.<key>]``: label, exclude_highways, exclude_tags."""
    profiles: dict[str, WalkProfile] = {}
    for key, sec, where in _keyed_tables(_table(raw, "walking.profiles", problems), "walking.profiles", problems):
        _unknown(sec, {"label", "exclude_highways", "exclude_tags"}, where, problems)
        label = _label(sec, key, where, problems)
        highways = _strings(sec.get("exclude_highways", []) or [])
        if highways is None:
            problems.append(f"{where}.exclude_highways moet een lijst van highway-waarden zijn zoals [\"steps\"], "
                            f"maar is {sec.get('exclude_highways')!r}")
            highways = ()
        tags: list[tuple[str, tuple[str, ...]]] = []
        for tag, values in _table(sec.get("exclude_tags", {}), f"{where}.exclude_tags", problems).items():
            wanted = _strings(values)
            if tag not in PROFILE_TAGS:
                problems.append(f"{where}.exclude_tags.{tag}: de OSM-lezer bewaart alleen {', '.join(PROFILE_TAGS)}; kies daaruit")
            elif wanted is None:
                problems.append(f"{where}.exclude_tags.{tag} moet een waarde of een lijst zijn zoals [\"no\"], maar is {values!r}")
            else:
                tags.append((tag, wanted))
        profiles[key] = WalkProfile(key=key, label=label.strip(), exclude_highways=highways, exclude_tags=tuple(tags))
    return profiles


def _parse_walking(raw: Any, problems: list[str]) -> Walking:
    """``[walking]``: the general pace, a threshold in minutes, groups with their pace, profiles."""
    where = "walking"
    sec = _table(raw, where, problems)
    d = Walking()
    _unknown(sec, {"speed_m_s", "threshold_minutes", "groups", "profiles"}, where, problems)
    speed = _number({"speed_m_s": sec.get("speed_m_s", d.speed_m_s)}, "speed_m_s", where, problems, minimum=0,
                    maximum=5)
    minutes = _number({"threshold_minutes": sec.get("threshold_minutes", d.threshold_minutes)}, "threshold_minutes",
                      where, problems, minimum=0, exclusive=False)
    profiles = _parse_profiles(sec.get("profiles", {}), problems)
    groups: dict[str, WalkGroup] = {}
    for key, g, at in _keyed_tables(_table(sec.get("groups", {}), f"{where}.groups", problems), f"{where}.groups",
                                    problems):
        _unknown(g, {"label", "speed_m_s", "profile"}, at, problems)
        label = _label(g, key, at, problems)
        pace = _number({"speed_m_s": g.get("speed_m_s")}, "speed_m_s", at, problems, minimum=0, maximum=5)
        profile = g.get("profile", "")
        if not isinstance(profile, str) or (profile.strip() and profile.strip() not in profiles):
            known = ", ".join(profiles) or "none"
            problems.append(f"{at}.profile moet een tabel [walking.profiles] noemen (bekend: {known}) of \"\" zijn, maar is {profile!r}")
            profile = ""
        groups[key] = WalkGroup(key=key, label=label.strip(), speed_m_s=float(pace or d.speed_m_s),
                                profile=profile.strip())
    return Walking(
        speed_m_s=float(speed or d.speed_m_s), threshold_minutes=float(minutes or 0.0), groups=groups,
        profiles=profiles,
    )


def _parse_opening_hours(raw: Any, problems: list[str]) -> OpeningHoursSettings:
    """``[opening_hours]``: min_dagdelen (0-21) and unknown_counts."""
    where = "opening_hours"
    sec = _table(raw, where, problems)
    d = OpeningHoursSettings()
    _unknown(sec, {"min_dagdelen", "unknown_counts"}, where, problems)
    n = _number({"min_dagdelen": sec.get("min_dagdelen", d.min_dagdelen)}, "min_dagdelen", where, problems, minimum=0,
                exclusive=False, maximum=22, integer=True)
    return OpeningHoursSettings(
        min_dagdelen=int(n if n is not None else d.min_dagdelen),
        unknown_counts=_flag(sec, "unknown_counts", where, d.unknown_counts, problems),
    )
def _group_name(value: Any, where: str, groups: Mapping[str, tuple[str, ...]], problems: list[str]) -> str:
    """A key that names a [doelgroepen] group ("" = all residents)."""
    if not isinstance(value, str):
        problems.append(f"{where} moet de naam van een groep in [doelgroepen] zijn (\"\" = alle inwoners), maar is {value!r}")
        return ""
    name = value.strip()
    if name and name not in groups:
        known = ", ".join(f"\"{g}\"" for g in groups) or "geen"
        problems.append(f"{where}: {name!r} is geen groep in [doelgroepen] (bekend: {known})")
        return ""
    return name


#: The longest name of a target group (it heads a table column and a map choice).
MAX_GROUP_NAME = 40


def _parse_doelgroepen(raw: Any, problems: list[str]) -> Doelgroepen:
    """``[doelgroepen]``: group name = the CBS age bands it holds (a list, or one band as a string)."""
    where = "doelgroepen"
    sec = _table(raw, where, problems)
    bands_text = ", ".join(f"\"{b}\"" for b in (ALL_RESIDENTS, *AGE_BANDS))
    groups: dict[str, tuple[str, ...]] = {}
    for name, value in sec.items():
        key = f"{where}.{name!r}" if not _KEY_RE.match(name) else f"{where}.{name}"
        label = name.strip()
        if not label or len(label) > MAX_GROUP_NAME or any(ord(c) < 32 for c in label):
            problems.append(f"{key}: een groepsnaam moet 1 tot {MAX_GROUP_NAME} leesbare tekens hebben")
            continue
        bands = [value] if isinstance(value, str) else value
        if not isinstance(bands, list) or not bands or not all(isinstance(b, str) for b in bands):
            problems.append(f"{key} moet een lijst van leeftijdsgroepen zijn zoals [\"65+\"] (groepen: {bands_text}), maar is {value!r}")
            continue
        bands = [b.strip() for b in bands]
        unknown = [b for b in bands if b not in (ALL_RESIDENTS, *AGE_BANDS)]
        if unknown:
            problems.append(f"{key}: onbekende leeftijdsgroep(en) {', '.join(map(repr, unknown))} (groepen: {bands_text})")
            continue
        if len(set(bands)) != len(bands):
            problems.append(f"{key} names an age band twice: {bands!r}")
            continue
        if ALL_RESIDENTS in bands and len(bands) > 1:
            problems.append(f"{key}: \"{ALL_RESIDENTS}\" bevat alle groepen al; zet het alleen")
            continue
        groups[label] = tuple(bands)
    return Doelgroepen(groups=groups)


def _parse_capacity(
    raw: Any, venues: dict[str, VenueClass], groups: Mapping[str, tuple[str, ...]], problems: list[str]
) -> Capacity:
    """``[capacity]``: a capacity per meeting point class and the target group whose residents count."""
    where = "capacity"
    sec = _table(raw, where, problems)
    _unknown(sec, {"per_class", "group"}, where, problems)
    per_class: dict[str, float] = {}
    for key, value in _table(sec.get("per_class", {}), f"{where}.per_class", problems).items():
        if venues and key not in venues:
            problems.append(f"{where}.per_class.{key} is not a [venues] class (known: {', '.join(venues)})")
            continue
        if key in venues and not venues[key].meeting_point:
            problems.append(f"{where}.per_class.{key}: {key!r} is geen klasse van ontmoetingspunten (meeting_point = false)")
            continue
        amount = _number({key: value}, key, f"{where}.per_class", problems, minimum=0)
        if amount is not None:
            per_class[key] = float(amount)
    return Capacity(per_class=per_class, group=_group_name(sec.get("group", ""), f"{where}.group", groups, problems))
