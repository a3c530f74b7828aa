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
        "thresholds.walk_m must be > 0",
        "thresholds.distance_method must be one of network, straight_line",
        "thresholds.permutations must be >= 99",
        "thresholds.wal_m is not a known key",
        "venues.buurthuis.meeting_point must be true or false",
        "venues.buurthuis: no OSM tags",
        "indicators.armoede.cbs must name a CBS column",
        "indicators.armoede.weight must be > 0",
    ):
        assert expected in text, expected
    assert str(path) in text


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[thresholds]\nwalk_m = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 2"):
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
    with pytest.raises(ConfigError, match=r"Not an http\(s\) address: WIJKANALYSE_OVERPASS_URL='ftp://x'"):
        services.with_environment({"WIJKANALYSE_OVERPASS_URL": "ftp://x"})


def test_bad_services_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[services]\ncbs_odata_url = "opendata"\nretries = -1\ndeadline_s = 0\nproxy = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    for part in ("services.cbs_odata_url must be an http(s) address", "services.retries must be >= 0",
                 "services.deadline_s must be > 0", "services.proxy is not a known key"):
        assert part in text
