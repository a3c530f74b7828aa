"""Fetching many gemeenten: the CBS table once (in batches), PDOK per gemeente, the .osm.pbf once.

Against the fake CBS/PDOK server on 127.0.0.1 (tests/fake_services.py) serving three
gemeenten of a synthetic country (benchmarks/synthetic_national.py), whose one .osm.pbf
holds the streets and venues of all three.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner

from wijkanalyse.cli import cli
from wijkanalyse.config import load_config
from wijkanalyse.sources import cbs_odata, live, national
from wijkanalyse.sources.files import SnapshotReader
from wijkanalyse.sources.osm import read_osm

from .fake_services import FakeServices, gemeenten_from_snapshots

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from synthetic_national import write_country


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory):
    return write_country(tmp_path_factory.mktemp("land"), n=3, buurten_x=2, buurten_y=2, buurt_m=500.0,
                         meeting_points=3, other_venues=1)


@pytest.fixture
def server(country):
    with FakeServices(gemeenten=gemeenten_from_snapshots(country.snapshots)) as fake:
        yield fake


def _config(server: FakeServices, tmp_path: Path) -> Path:
    path = tmp_path / "services.toml"
    path.write_text(server.config_toml(), encoding="utf-8")
    return path


def _entity_requests(server: FakeServices, entity: str) -> int:
    return sum(1 for s, path, _ in server.log if s == "cbs" and path.endswith(f"/{entity}"))


def test_cbs_once_pdok_per_gemeente_osm_in_one_pass(country, server: FakeServices, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(national, "CBS_BATCH", 2)
    config = load_config(_config(server, tmp_path))
    fetched = national.download_snapshots(country.codes, 2024, config=config, cache_dir=tmp_path / "cache",
                                          root=tmp_path / "snap", osm_pbf=country.pbf, engine="pyosmium")
    assert fetched.failed == {} and sorted(fetched.snapshots) == sorted(country.codes)
    # NL00 once, then ceil(3 / 2) = 2 batches; the column descriptions once
    assert _entity_requests(server, "TypedDataSet") == 1 + math.ceil(3 / 2)
    assert _entity_requests(server, "WijkenEnBuurten") == 1 + 2
    assert _entity_requests(server, "DataProperties") == 1
    assert server.requests_to("buurten") == 3 and server.requests_to("grid") == 3
    assert server.requests_to("overpass") == 0
    for code, folder in fetched.snapshots.items():
        assert folder == tmp_path / "snap" / f"{code}-2024"
        reader = SnapshotReader(folder)
        assert reader.manifest.gemeente_code == code
        keys = [k.strip() for k in reader.cbs_rows()["WijkenEnBuurten"]]
        assert keys[0] == "NL00" and keys[1] == code and len(keys) == 1 + 1 + 1 + 4  # NL, gemeente, its wijk, 4 buurten
        assert len(reader.buurten()) == 4
        generated = gpd.read_file(country.pbf.parent / "snapshots" / code / "vierkant100m.gpkg")
        assert set(generated["c28992r100"]) <= set(reader.grid()["c28992r100"])  # the bbox: its cells and a rim
        clip = national.clip_area(reader.buurten())
        expected = read_osm(country.pbf, config.osm_tags(), clip=clip)
        assert len(reader.osm(config.osm_tags()).ways) == len(expected.ways) > 100
        assert reader.manifest.sources["network"]["url"].endswith("nederland.osm.pbf")


def test_the_split_is_what_one_gemeente_alone_gets(country, server: FakeServices, tmp_path: Path) -> None:
    config = load_config(_config(server, tmp_path))
    services = config.services
    with live.http_client(services, tmp_path / "cache") as client:
        together = national.fetch_kerncijfers(client, services.cbs_odata_url, "85984NED", country.codes)
        for code in country.codes:
            alone = cbs_odata.download_kerncijfers(client, services.cbs_odata_url, "85984NED", code)
            assert together[code].rows == alone.rows
            assert together[code].regions == alone.regions
            assert together[code].properties == alone.properties


def test_resume_keeps_snapshots_and_a_missing_gemeente_is_named(country, server: FakeServices, tmp_path: Path) -> None:
    config = load_config(_config(server, tmp_path))
    first = national.download_snapshots(country.codes[:2], 2024, config=config, cache_dir=tmp_path / "cache",
                                        root=tmp_path / "snap", osm_pbf=country.pbf)
    assert sorted(first.snapshots) == sorted(country.codes[:2])
    stamp = (first.snapshots[country.codes[0]] / "manifest.json").stat().st_mtime_ns
    requests = len(server.log)
    # GM0998 is no gemeente of the fake PDOK: named, the others go on; the first two are kept
    again = national.download_snapshots([*country.codes, "GM0998"], 2024, config=config,
                                        cache_dir=tmp_path / "cache", root=tmp_path / "snap", osm_pbf=country.pbf)
    assert sorted(again.reused) == sorted(country.codes[:2])
    assert sorted(again.snapshots) == sorted(country.codes)
    assert list(again.failed) == ["GM0998"] and "geen gemeente GM0998" in again.failed["GM0998"]
    assert (first.snapshots[country.codes[0]] / "manifest.json").stat().st_mtime_ns == stamp
    assert server.requests_to("buurten") == 2 + 1  # only the new gemeente asked PDOK again
    assert len(server.log) > requests
    assert not list((tmp_path / "snap").glob(".*.tmp"))  # no half-built folder left


def test_cli_run_gemeenten_from_one_pbf(country, server: FakeServices, tmp_path: Path) -> None:
    args = ["run", "--gemeenten", ",".join(country.codes), "--year", "2024", "--osm-pbf", str(country.pbf),
            "--config", str(_config(server, tmp_path)), "--cache-dir", str(tmp_path / "cache"),
            "--out", str(tmp_path / "uit"), "--workers", "1", "--no-maps", "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Landelijk: 3 van 3 gemeenten geanalyseerd (2024)" in result.output
    assert (tmp_path / "uit" / "landelijk" / "overzicht.html").is_file()
    snapshots = sorted(p.name for p in (tmp_path / "cache" / "snapshots").iterdir())
    assert snapshots == sorted(f"{c}-2024" for c in country.codes)


def test_many_gemeenten_without_a_pbf_are_refused_before_any_download(country, server: FakeServices,
                                                                      tmp_path: Path) -> None:
    path = tmp_path / "services.toml"
    path.write_text(server.config_toml(overpass_max_gemeenten=2), encoding="utf-8")
    args = ["run", "--gemeenten", ",".join(country.codes), "--year", "2024", "--config", str(path),
            "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "uit"), "--workers", "1", "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    (line,) = [text for text in result.output.splitlines() if text.strip()]  # one line, no traceback
    assert line.startswith("Fout: 3 gemeenten zonder --osm-pbf zijn 3 grote Overpass-downloads")
    assert "hoogstens 2" in line and "geef die mee met --osm-pbf" in line and ".osm.pbf" in line
    assert server.log == []  # refused before CBS, PDOK or Overpass was asked anything
