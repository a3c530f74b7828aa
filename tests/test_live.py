"""The live download, run offline: recorded-format responses stand in for CBS, PDOK and Overpass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import requests
from shapely.geometry import box

from wijkanalyse import snapshot
from wijkanalyse.config import load_config
from wijkanalyse.errors import DataError, SourceError
from wijkanalyse.sources import live
from wijkanalyse.sources.files import SnapshotReader

DATA = Path(__file__).parent / "data"

# cbsodata.get_data output: the dimension key replaced by its title, codes in Codering_3
_FIGURES = {
    "k_65JaarOfOuder_12": 60, "HuishoudensTotaal_29": 150, "Eenpersoonshuishoudens_30": 50,
    "GemiddeldInkomenPerInwoner_78": 31.5, "PersonenPerSoortUitkeringBijstand_87": 10, "WmoClienten_93": 20,
}
CBS_ROWS = [
    {"ID": 0, "WijkenEnBuurten": "Proefgemeente", "Gemeentenaam_1": "Proefgemeente                           ",
     "SoortRegio_2": "Gemeente  ", "Codering_3": "GM0999    ", "AantalInwoners_5": 300},
    {"ID": 1, "WijkenEnBuurten": "Wijk 01", "Gemeentenaam_1": "Proefgemeente                           ",
     "SoortRegio_2": "Wijk      ", "Codering_3": "WK099901  ", "AantalInwoners_5": 300},
    {"ID": 2, "WijkenEnBuurten": "Noord", "Gemeentenaam_1": "Proefgemeente                           ",
     "SoortRegio_2": "Buurt     ", "Codering_3": "BU09990101", "AantalInwoners_5": 300},
]
for _row in CBS_ROWS:
    _row.update(_FIGURES)


class FakeResponse:
    def __init__(self, body: bytes, status: int = 200) -> None:
        self.content, self.status_code = body, status


@pytest.fixture
def fake_services(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Answer like CBS, PDOK and Overpass do; record every URL asked for."""
    calls: list[str] = []
    buurt = gpd.GeoDataFrame(
        {"buurtcode": ["BU09990101"], "buurtnaam": ["Noord"], "wijkcode": ["WK099901"],
         "gemeentecode": ["GM0999"], "gemeentenaam": ["Proefgemeente"], "water": ["NEE"]},
        geometry=[box(154900, 462900, 155400, 463300)], crs=28992,
    )
    cell = gpd.GeoDataFrame(  # the PDOK service's own (camelCase) names
        {"crs28992res100m": ["E155200N463000"], "aantalInwoners": [300]},
        geometry=[box(155200, 463000, 155300, 463100)], crs=28992,
    )

    def get_data(table: str, filters: str | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        calls.append(f"cbs:{table}:{filters}")
        if "GM0999" in (filters or "") or filters == "startswith(Codering_3,'GM')":
            return CBS_ROWS if "GM0999" in (filters or "") else [CBS_ROWS[0]]
        return []

    def request(method: str, url: str, **kwargs: Any) -> FakeResponse:
        calls.append(url)
        if "wijkenbuurten" in url:
            return FakeResponse(buurt.to_json().encode())
        if "vierkant" in url:
            return FakeResponse(cell.to_json().encode())
        if "overpass" in url:
            assert "[out:xml]" in kwargs["data"]
            return FakeResponse((DATA / "omweg.osm").read_bytes())
        return FakeResponse(b"", 404)

    import cbsodata

    monkeypatch.setattr(cbsodata, "get_data", get_data)
    monkeypatch.setattr(requests, "request", request)
    return calls


def test_download_writes_a_snapshot_the_reader_accepts(tmp_path: Path, fake_services: list[str]) -> None:
    dest = live.download_snapshot("GM0999", 2024, config=load_config(), cache_dir=tmp_path / "cache", dest=tmp_path / "snap")
    reader = SnapshotReader(dest)
    assert reader.manifest.gemeente_code == "GM0999"
    assert reader.manifest.gemeente_name == "Proefgemeente"
    assert reader.manifest.synthetic is False
    assert reader.cbs_table_id == "85984NED"
    assert len(reader.buurten()) == 1 and len(reader.grid()) == 1
    raw = json.loads((dest / snapshot.CBS_FILE).read_text(encoding="utf-8"))
    assert raw["odata.metadata"].endswith("#Cbs.OData.WebAPI.TypedDataSet") and len(raw["value"]) == 3
    assert len(reader.osm(load_config().osm_tags()).ways) > 0
    assert any("service.pdok.nl/cbs/wijkenbuurten/2024" in c for c in fake_services)
    assert any("vierkantstatistieken100m/2024" in c for c in fake_services)


def test_downloaded_snapshot_runs_end_to_end(tmp_path: Path, fake_services: list[str]) -> None:
    from wijkanalyse import pipeline

    config = load_config()
    dest = live.download_snapshot("GM0999", 2024, config=config, cache_dir=tmp_path / "cache", dest=tmp_path / "snap")
    outputs = pipeline.run(dest, config, tmp_path / "out")
    summary = outputs.result.summary
    assert outputs.folder.name == "proefgemeente"
    assert summary["synthetic"] is False
    assert summary["residents_total"] == 300
    # the cell centre (155250, 463050) walks 50 m to the street at x=300, up 150 m, 300 m west,
    # 200 m down and 10 m to the buurthuis: 710 m; the motorway along y=0 is no shortcut
    assert outputs.result.residents["afstand_m"].iloc[0] == pytest.approx(710.0, abs=0.01)
    assert summary["share_within_threshold"] == 0.0


def test_second_download_comes_from_the_cache(tmp_path: Path, fake_services: list[str]) -> None:
    kwargs = {"config": load_config(), "cache_dir": tmp_path / "cache"}
    live.download_snapshot("GM0999", 2024, dest=tmp_path / "a", **kwargs)
    first = len(fake_services)
    live.download_snapshot("GM0999", 2024, dest=tmp_path / "b", **kwargs)
    assert len(fake_services) == first
    for name in (snapshot.NETWORK_FILE, snapshot.VENUES_FILE):
        a, b = (gpd.read_parquet(tmp_path / d / name) for d in "ab")
        assert a.equals(b)


def test_unknown_gemeente_suggests_codes(tmp_path: Path, fake_services: list[str]) -> None:
    with pytest.raises(DataError, match=r"has no gemeente GM0998\. Did you mean GM0999 \(Proefgemeente\)"):
        live.download_snapshot("GM0998", 2024, config=load_config(), cache_dir=tmp_path)


def test_unknown_year_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="2023, 2024, 2025"):
        live.download_snapshot("GM0233", 1999, config=load_config(), cache_dir=tmp_path)


def test_no_network_says_so(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"Cannot reach opendata\.cbs\.nl.*--snapshot DIR or --demo"):
        live.download_snapshot("GM0233", 2024, config=load_config(), cache_dir=tmp_path)
    assert not list(tmp_path.rglob("*.json"))  # nothing half-written in the cache


@pytest.mark.parametrize(("text", "code"), [("GM0233", "GM0233"), ("gm233", "GM0233"), (" 0363 ", "GM0363")])
def test_gemeente_codes_are_normalised(text: str, code: str) -> None:
    assert live.normalise_gemeente(text) == code


def test_a_name_is_not_a_code() -> None:
    with pytest.raises(DataError, match="GM followed by 4 digits"):
        live.normalise_gemeente("Ermelo")


def test_overpass_query_asks_for_every_way_and_the_venues() -> None:
    query = live.overpass_query((5.6, 52.2, 5.7, 52.3), load_config().osm_tags())
    assert query.startswith("[out:xml]")
    # every highway but the lifecycle values: cycleways and private roads are fetched, the config's rules decide
    assert 'way["highway"]["highway"!~"^(abandoned|construction|disused|no|planned|proposed|razed)$"]' in query
    assert 'nwr["amenity"~"^(cafe|community_centre|' in query
    assert "(52.200000,5.600000,52.300000,5.700000)" in query


@pytest.mark.network
def test_live_cbs_table_has_ermelo(tmp_path: Path) -> None:  # pragma: no cover - needs internet
    dest = live.download_snapshot("GM0233", 2024, config=load_config(), cache_dir=tmp_path)
    assert SnapshotReader(dest).manifest.gemeente_name == "Ermelo"


def test_grid_is_fetched_page_by_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cells = gpd.GeoDataFrame(
        {"crs28992res100m": [f"E{x}N463000" for x in range(5)], "aantalInwoners": [5, 10, 15, 20, 25]},
        geometry=[box(155000 + 100 * i, 463000, 155100 + 100 * i, 463100) for i in range(5)], crs=28992,
    )
    asked: list[int] = []

    def request(method: str, url: str, params: dict[str, Any] | None = None, **kwargs: Any) -> FakeResponse:
        start, count = int(params["startIndex"]), int(params["count"])
        asked.append(start)
        return FakeResponse(cells.iloc[start:start + count].to_json().encode())

    monkeypatch.setattr(requests, "request", request)
    monkeypatch.setattr(live, "GRID_PAGE_SIZE", 2)
    grid = live._grid((155000, 463000, 155500, 463100), 2024, tmp_path)
    assert asked == [0, 2, 4]
    assert list(grid["aantalInwoners"]) == [5, 10, 15, 20, 25]
