"""The config file: defaults, overrides, and every problem reported at once with its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from wijkanalyse.config import load_config
from wijkanalyse.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_match_the_documented_file() -> None:
    default = load_config()
    documented = load_config(ROOT / "config" / "wijkanalyse.toml")
    assert default.thresholds == documented.thresholds
    assert default.thresholds.walk_m == 400
    assert set(default.meeting_point_classes) == {"buurthuis", "bibliotheek", "gebedshuis", "horeca", "sociaal"}
    assert not default.venues["school"].meeting_point
    assert default.indicators["inkomen"].higher_is_worse is False


def test_user_file_overrides_single_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[thresholds]\nwalk_m = 300\n", encoding="utf-8")
    config = load_config(path)
    assert config.thresholds.walk_m == 300
    assert config.thresholds.permutations == 999  # untouched default
    assert "buurthuis" in config.venues


def test_every_problem_at_once(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        """
[thresholds]
walk_m = -1
distance_method = "vogelvlucht"
permutations = 5
wal_m = 400

[venues.buurthuis]
label = "Buurthuis"
meeting_point = "ja"

[indicators.armoede]
cbs = ""
weight = 0
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    for expected in (
        "thresholds.walk_m moet > 0 zijn",
        "thresholds.distance_method moet een van network, straight_line zijn",
        "thresholds.permutations moet >= 99 zijn",
        "thresholds.wal_m is geen bekende sleutel",
        "venues.buurthuis.meeting_point moet true of false zijn",
        "venues.buurthuis: geen OSM-tags",
        "indicators.armoede.cbs moet een CBS-kolom noemen",
        "indicators.armoede.weight moet > 0 zijn",
    ):
        assert expected in text, expected
    assert str(path) in text


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[thresholds]\nwalk_m = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"geen geldige TOML.*line 2"):
        load_config(path)


def test_osm_tags_are_merged_for_download() -> None:
    tags = load_config().osm_tags()
    assert "community_centre" in tags["amenity"] and "school" in tags["amenity"]
    assert tags["leisure"] == ["sports_centre"]


def test_services_are_settings_and_environment_variables_win(tmp_path: Path) -> None:
    from wijkanalyse.config import Services

    path = tmp_path / "c.toml"
    path.write_text('[services]\noverpass_url = "http://mirror.example/api/interpreter"\nretries = 1\n', encoding="utf-8")
    services = load_config(path).services
    assert services.overpass_url == "http://mirror.example/api/interpreter" and services.retries == 1
    assert services.cbs_odata_url == Services().cbs_odata_url  # the rest keeps its default
    env = {"WIJKANALYSE_OVERPASS_URL": "http://127.0.0.1:8080/api/interpreter"}
    assert services.with_environment(env).overpass_url == "http://127.0.0.1:8080/api/interpreter"
    with pytest.raises(ConfigError, match=r"Geen http\(s\)-adres: WIJKANALYSE_OVERPASS_URL='ftp://x'"):
        services.with_environment({"WIJKANALYSE_OVERPASS_URL": "ftp://x"})


def test_bad_services_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[services]\ncbs_odata_url = "opendata"\nretries = -1\ndeadline_s = 0\nproxy = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    for part in ("services.cbs_odata_url moet een http(s)-adres zijn", "services.retries moet >= 0 zijn",
                 "services.deadline_s moet > 0 zijn", "services.proxy is geen bekende sleutel"):
        assert part in text
def test_siting_brokers_kernen_defaults() -> None:
    config = load_config()
    assert config.siting.count == 10 and config.siting.exact is False
    assert config.siting.candidate_classes == ("school", "sport")
    assert config.siting.cost_per_class == {}
    assert config.brokers.n_areas == 0 and config.brokers.per_kern is False
    assert config.brokers.balance_tolerance == 0.10
    assert config.kernen.buurten == {} and config.kernen.wijken == {}


def test_siting_brokers_kernen_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        """
[siting]
exact = true
cost_per_class = { school = 15000, gat = 30000 }

[brokers]
n_areas = 3
per_kern = true

[kernen]
wijken = { WK999901 = "Voorbeeldstad", WK999902 = "Voorbeeldstad" }
buurten = { BU99990801 = "Noorderhoek" }
""",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.siting.exact is True and config.siting.count == 10  # untouched default
    assert config.siting.cost_per_class == {"school": 15000.0, "gat": 30000.0}
    assert config.brokers.n_areas == 3 and config.brokers.per_kern is True
    assert config.brokers.workload_per_fte == 10000.0
    assert config.kernen.wijken["WK999902"] == "Voorbeeldstad"
    assert config.kernen.buurten == {"BU99990801": "Noorderhoek"}


def test_own_venues_give_their_own_candidate_classes(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        """
[venues.buurthuis]
meeting_point = true
amenity = ["community_centre"]

[venues.gymzaal]
meeting_point = false
leisure = ["sports_hall"]
""",
        encoding="utf-8",
    )
    assert load_config(path).siting.candidate_classes == ("gymzaal",)


def test_siting_brokers_kernen_problems_all_at_once(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        """
[siting]
count = 0
exact = "ja"
time_limit_s = -5
candidate_classes = ["buurthuis", "zwembad"]
cost_per_class = { school = -1, kerk = 100 }
aantal = 3

[brokers]
workload_per_fte = 0
n_areas = 1.5
balance_tolerance = 1.5
priority_signal = 0
priority_beyond = 0
priority_hotspot = 0

[kernen]
wijken = { WK12 = "Stad" }
buurten = { BU99990101 = "" }
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    for expected in (
        "siting.count moet >= 1 zijn",
        "siting.exact moet true of false zijn",
        "siting.time_limit_s moet > 0 zijn",
        "siting.candidate_classes: 'buurthuis' is al een klasse van ontmoetingspunten",
        "siting.candidate_classes: 'zwembad' is geen klasse uit [venues]",
        "siting.cost_per_class.school moet >= 0 zijn",
        "siting.cost_per_class.kerk is geen soort kandidaat",
        "siting.aantal is geen bekende sleutel",
        "brokers.workload_per_fte moet > 0 zijn",
        "brokers.n_areas moet een geheel getal zijn",
        "brokers.balance_tolerance moet < 1 zijn",
        "brokers: priority_signal, priority_beyond en priority_hotspot zijn allemaal 0",
        "kernen.wijken.WK12: de sleutel moet een CBS-code zijn zoals WK023301",
        "kernen.buurten.BU99990101 moet de naam van de kern zijn",
    ):
        assert expected in text, expected


def test_broker_cost_basis_and_min_gap_residents(tmp_path: Path) -> None:
    default = load_config()
    assert default.costs.broker_cost_basis == "persons" and default.thresholds.min_gap_residents == 25
    path = tmp_path / "c.toml"
    path.write_text('[costs]\nbroker_cost_basis = "fte"\n[thresholds]\nmin_gap_residents = 10\n', encoding="utf-8")
    config = load_config(path)
    assert config.costs.broker_cost_basis == "fte" and config.thresholds.min_gap_residents == 10
    path.write_text('[costs]\nbroker_cost_basis = "uren"\n[thresholds]\nmin_gap_residents = -1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert "costs.broker_cost_basis moet een van persons, fte zijn, maar is 'uren'" in str(e.value)
    assert "thresholds.min_gap_residents moet >= 0 zijn, maar is -1" in str(e.value)
