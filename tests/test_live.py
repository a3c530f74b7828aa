"""The live download against a fake CBS/PDOK/Overpass on 127.0.0.1: paging, retries, cache, swap.

Every test runs ``wijkanalyse fetch`` (or the download function under it) end to end
against :class:`tests.fake_services.FakeServices`, which answers in the services' real
formats and injects the faults seen in practice: a page cap of 1,000 features, HTTP 429
with Retry-After, a stalled answer, a truncated body, a 200 HTML page, an Overpass error
remark.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from wijkanalyse import snapshot
from wijkanalyse.cli import cli
from wijkanalyse.config import load_config
from wijkanalyse.errors import DataError, SourceError
from wijkanalyse.sources import _http, live
from wijkanalyse.sources.files import SnapshotReader

from .fake_services import FakeServices, grid_features


@pytest.fixture
def fake() -> FakeServices:
    with FakeServices(tables=("85984NED", "85039NED")) as server:
        yield server


def _config(server: FakeServices, tmp_path: Path, **settings: float) -> Path:
    path = tmp_path / "services.toml"
    path.write_text(server.config_toml(**settings), encoding="utf-8")
    return path


def _fetch(server: FakeServices, tmp_path: Path, *extra: str, dest: str = "snap", year: str = "2024",
           gemeente: str = "GM0999", **settings: float):
    args = ["fetch", "--gemeente", gemeente, "--year", year, "--snapshot", str(tmp_path / dest),
            "--config", str(_config(server, tmp_path, **settings)), "--cache-dir", str(tmp_path / "cache"), *extra]
    return CliRunner().invoke(cli, args)


def test_fetch_writes_a_snapshot_the_pipeline_runs(fake: FakeServices, tmp_path: Path) -> None:
    from wijkanalyse import pipeline

    result = _fetch(fake, tmp_path)
    assert result.exit_code == 0, result.output
    dest = tmp_path / "snap"
    reader = SnapshotReader(dest)
    assert (reader.manifest.gemeente_code, reader.manifest.gemeente_name, reader.cbs_table_id) == (
        "GM0999", "Proefgemeente", "85984NED")
    assert reader.manifest.sources["cbs"]["year"] == 2024
    assert len(reader.buurten()) == 4 and len(reader.grid()) == 1
    # NL00, the gemeente, its wijk and 4 buurten; the column descriptions came along
    assert [r.strip() for r in reader.cbs_rows()["WijkenEnBuurten"]] == [
        "NL00", "GM0999", "WK099901", "BU09990101", "BU09990102", "BU09990103", "BU09990104"]
    assert "Koopwoningen_47" in set(reader.cbs_properties()["Key"])

    config = load_config(tmp_path / "services.toml")
    outputs = pipeline.run(dest, config, tmp_path / "out")
    res = outputs.result
    assert res.summary["residents_total"] == 300
    # the cell centre (155250, 463050) walks 50 m to the street at x=300, up 150 m, 300 m west,
    # 200 m down and 10 m to the buurthuis: 710 m
    assert res.residents["afstand_m"].iloc[0] == pytest.approx(710.0, abs=0.01)
    # beside the whole: 200 of 500 households in the gemeente, 3,268,000 of 8,195,000 in NL00
    assert res.reference.loc["eenpersoonshuishoudens", "gemeente"] == pytest.approx(40.0)
    assert res.reference.loc["eenpersoonshuishoudens", "nederland"] == pytest.approx(100 * 3268000 / 8195000)
    assert res.reference.loc["inkomen", "nederland"] == pytest.approx(33.4)
    # income is known for 1 of the 4 buurten: named, with the share that lacks it
    assert res.summary["indicators_mostly_missing"] == [
        {"indicator": "inkomen", "label": config.indicators["inkomen"].label,
         "cbs": "GemiddeldInkomenPerInwoner", "share_missing": 0.75}]
    saved = json.loads(outputs.files["samenvatting"].read_text(encoding="utf-8"))
    assert saved["indicators_missing_share"]["inkomen"] == 0.75
    assert saved["reference"]["gemeente"]["inkomen"] == pytest.approx(30.0)
    table = pd.read_csv(outputs.files["csv"], sep=";", decimal=",", encoding="utf-8-sig")
    columns = list(table.columns)
    at = columns.index("eenpersoonshuishoudens")
    assert columns[at + 1:at + 3] == ["eenpersoonshuishoudens_gemeente", "eenpersoonshuishoudens_nederland"]
    assert table["eenpersoonshuishoudens_gemeente"].tolist() == [40.0] * 4
    assert table["eenpersoonshuishoudens_nederland"].iloc[0] == pytest.approx(39.878, abs=0.001)
    # Noord: 50 of 125 households; beside it the gemeente (40) and the Netherlands (39,9)
    page = outputs.files["kaart"].read_text(encoding="utf-8")  # popups: one label list, values per feature
    assert "Eenpersoonshuishoudens (% van huishoudens)" in page and '"40 (gemeente 40, NL 39,9)"' in page


def test_cbs_rows_are_filtered_on_the_dimension_with_padded_keys(fake: FakeServices, tmp_path: Path) -> None:
    assert _fetch(fake, tmp_path).exit_code == 0
    filters = [q["$filter"][0] for s, path, q in fake.log if s == "cbs" and path.endswith("/TypedDataSet")]
    assert filters == [
        "WijkenEnBuurten eq 'NL00      ' or WijkenEnBuurten eq 'GM0999    ' or "
        "startswith(WijkenEnBuurten,'WK0999') or startswith(WijkenEnBuurten,'BU0999')"]
    assert not any("Codering" in str(q) for _, _, q in fake.log)


def test_2021_table_has_its_own_column_numbers(fake: FakeServices, tmp_path: Path) -> None:
    from wijkanalyse import pipeline

    assert _fetch(fake, tmp_path, year="2021").exit_code == 0
    reader = SnapshotReader(tmp_path / "snap")
    assert reader.cbs_table_id == "85039NED"
    assert {"Koopwoningen_40", "Eenpersoonshuishoudens_29"} <= set(reader.cbs_rows().columns)
    result = pipeline.analyse(reader, load_config(tmp_path / "services.toml"))
    # Noord: 50 one-person households of 125, resolved through Eenpersoonshuishoudens_29
    assert result.buurten.loc["BU09990101", "eenpersoonshuishoudens"] == pytest.approx(40.0)


def test_wfs_pages_past_a_cap_of_1000(tmp_path: Path) -> None:
    with FakeServices(grid=grid_features(2500, residents=5), page_cap=1000) as server:
        result = _fetch(server, tmp_path, wfs_page_size=10000)
        assert result.exit_code == 0, result.output
        assert len(SnapshotReader(tmp_path / "snap").grid()) == 2500
        starts = [int(q["startIndex"][0]) for s, _, q in server.log if s == "grid"]
        assert starts == [0, 1000, 2000]  # numberMatched (2,500) says when it is complete


def test_wfs_without_number_matched_pages_until_an_empty_page(tmp_path: Path) -> None:
    with FakeServices(grid=grid_features(2500, residents=5), page_cap=1000, number_matched=False) as server:
        assert _fetch(server, tmp_path, wfs_page_size=10000).exit_code == 0
        assert len(SnapshotReader(tmp_path / "snap").grid()) == 2500
        assert [int(q["startIndex"][0]) for s, _, q in server.log if s == "grid"] == [0, 1000, 2000, 2500]


@pytest.mark.parametrize(
    ("service", "fault"),
    [("cbs", ("status", 429, {"Retry-After": "0"})), ("buurten", ("status", 503, {})), ("overpass", "stall"),
     ("grid", "truncate"), ("cbs", "html"), ("overpass", "remark")],
)
def test_a_passing_fault_is_retried(fake: FakeServices, tmp_path: Path, service: str, fault: object) -> None:
    fake.faults[service] = [fault]
    result = _fetch(fake, tmp_path)
    assert result.exit_code == 0, result.output
    assert SnapshotReader(tmp_path / "snap").manifest.gemeente_code == "GM0999"
    normal = {"cbs": 3, "buurten": 1, "grid": 1, "overpass": 1}
    assert fake.requests_to(service) == normal[service] + 1


def test_a_lasting_fault_ends_in_one_line_and_no_snapshot(fake: FakeServices, tmp_path: Path) -> None:
    fake.faults["cbs"] = [("status", 503, {})] * 4
    result = _fetch(fake, tmp_path)
    assert result.exit_code == 1
    last = result.output.splitlines()[-1]
    assert last.startswith("Fout: ") and "Traceback" not in result.output
    assert "gaf geen bruikbaar antwoord op CBS-tabel 85984NED (GM0999) na 4 pogingen" in last
    assert "laatste: HTTP 503" in last
    assert fake.requests_to("cbs") == 4
    assert not (tmp_path / "snap").exists()


def test_an_overpass_timeout_remark_is_retried_once_then_advice_and_never_cached(
    fake: FakeServices, tmp_path: Path,
) -> None:
    fake.faults["overpass"] = ["remark"] * 2
    result = _fetch(fake, tmp_path)  # retries = 3, but a heavy query is sent twice at most
    assert result.exit_code == 1
    line = result.output.splitlines()[-1]
    assert line.startswith("Fout: Overpass brak de vraag naar straten en voorzieningen twee keer af")
    assert "runtime error: Query timed out" in line and ".osm.pbf (--osm-pbf" in line and "kleiner gebied" in line
    assert fake.requests_to("overpass") == 2
    cached = list((tmp_path / "cache" / "http").iterdir())
    assert not [p for p in cached if p.name.endswith(".osm.xml") or ".tmp" in p.name]  # no remark, no temporary
    assert _fetch(fake, tmp_path).exit_code == 0  # the next fetch asks again and succeeds
    assert fake.requests_to("overpass") == 3


def test_a_bad_cached_file_is_named_and_downloaded_again(
    fake: FakeServices, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    assert _fetch(fake, tmp_path).exit_code == 0
    (cached,) = (tmp_path / "cache" / "http").glob("*.osm.xml")
    cached.write_bytes(cached.read_bytes()[:900])  # as a killed download of old would have left it
    logger = logging.getLogger("wijkanalyse")
    logger.addHandler(caplog.handler)  # the CLI's logging does not propagate to pytest's
    try:
        live.download_snapshot(
            "GM0999", 2024, config=load_config(tmp_path / "services.toml"), cache_dir=tmp_path / "cache",
            dest=tmp_path / "again",
        )
    finally:
        logger.removeHandler(caplog.handler)
    assert str(cached) in caplog.text and "onvolledige OSM-XML" in caplog.text
    assert fake.requests_to("overpass") == 2
    assert len(SnapshotReader(tmp_path / "again").osm({}).ways) > 0


def test_cache_and_refresh(fake: FakeServices, tmp_path: Path) -> None:
    assert _fetch(fake, tmp_path, dest="a").exit_code == 0
    first = len(fake.log)
    assert _fetch(fake, tmp_path, dest="b").exit_code == 0
    assert len(fake.log) == first  # all from the cache
    assert _fetch(fake, tmp_path, "--refresh", dest="c").exit_code == 0
    assert len(fake.log) == 2 * first


def test_a_failed_fetch_leaves_the_earlier_snapshot_whole(
    fake: FakeServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _fetch(fake, tmp_path, year="2021").exit_code == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "snap").iterdir()}
    fake.faults["cbs"] = [("status", 503, {})] * 4
    assert _fetch(fake, tmp_path, year="2024").exit_code == 1

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the user stops a fetch while it writes the new files

    monkeypatch.setattr(snapshot, "write_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        live.download_snapshot("GM0999", 2024, config=load_config(tmp_path / "services.toml"),
                               cache_dir=tmp_path / "cache", dest=tmp_path / "snap")
    after = {p.name: p.read_bytes() for p in (tmp_path / "snap").iterdir()}
    assert after == before
    assert SnapshotReader(tmp_path / "snap").manifest.year == 2021
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "services.toml", "snap"]  # no temporary left


def test_a_new_fetch_replaces_the_snapshot_whole(fake: FakeServices, tmp_path: Path) -> None:
    assert _fetch(fake, tmp_path, year="2021").exit_code == 0
    assert _fetch(fake, tmp_path, year="2024").exit_code == 0
    reader = SnapshotReader(tmp_path / "snap")
    assert (reader.manifest.year, reader.cbs_table_id) == (2024, "85984NED")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "services.toml", "snap"]


def test_environment_variables_override_the_addresses(
    fake: FakeServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the config keeps the real addresses, which the offline tests refuse; the variables win
    monkeypatch.setenv("WIJKANALYSE_CBS_ODATA_URL", f"{fake.url}/cbs/ODataFeed/odata")
    monkeypatch.setenv("WIJKANALYSE_PDOK_BUURTEN_WFS_URL", f"{fake.url}/pdok/wijkenbuurten/{{year}}/wfs/v1_0")
    monkeypatch.setenv("WIJKANALYSE_PDOK_GRID_WFS_URL", f"{fake.url}/pdok/vierkant/{{year}}/wfs/v1_0")
    monkeypatch.setenv("WIJKANALYSE_OVERPASS_URL", f"{fake.url}/overpass/api/interpreter")
    dest = live.download_snapshot("GM0999", 2024, config=load_config(), cache_dir=tmp_path, dest=tmp_path / "s")
    assert SnapshotReader(dest).manifest.sources["network"]["url"] == f"{fake.url}/overpass/api/interpreter"


def test_unknown_gemeente_says_so(fake: FakeServices, tmp_path: Path) -> None:
    result = _fetch(fake, tmp_path, gemeente="GM0998")
    assert result.exit_code == 1
    assert "CBS-tabel 85984NED heeft geen gemeente GM0998" in result.output


def test_unknown_year_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="2019, 2020, 2021, 2022, 2023, 2024, 2025"):
        live.download_snapshot("GM0233", 1999, config=load_config(), cache_dir=tmp_path)


def test_no_network_says_so(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"Kan opendata\.cbs\.nl niet bereiken.*--snapshot MAP .*of --demo"):
        live.download_snapshot("GM0233", 2024, config=load_config(), cache_dir=tmp_path)
    assert not list(tmp_path.rglob("*.json"))  # nothing half-written in the cache


@pytest.mark.parametrize(
    ("text", "code"),
    [("GM0233", "GM0233"), ("gm233", "GM0233"), (" 0363 ", "GM0363"), ("Ermelo", "GM0233"),
     ("den bosch", "GM0796"), ("SUDWEST-FRYSLAN", "GM1900"), ("Beekdaelen", "GM1954")],
)
def test_gemeente_codes_and_names_offline(text: str, code: str) -> None:
    assert live.normalise_gemeente(text, 2024) == code


def test_a_misspelt_name_gets_suggestions_offline(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--gemeente", "Amsterdm", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "Geen gemeente met de naam 'Amsterdm' in 2024. Bedoelt u Amsterdam (GM0363)" in result.output


def test_overpass_query_asks_for_every_way_and_the_venues() -> None:
    query = live.overpass_query((5.6, 52.2, 5.7, 52.3), load_config().osm_tags())
    assert query.startswith("[out:xml]")
    # every highway but the lifecycle values: cycleways and private roads are fetched, the config's rules decide
    assert 'way["highway"]["highway"!~"^(abandoned|construction|disused|no|planned|proposed|razed)$"]' in query
    assert 'nwr["amenity"~"^(cafe|community_centre|' in query
    assert "(52.200000,5.600000,52.300000,5.700000)" in query


# ---------------------------------------------------------------------------- the client itself


def test_retry_after_is_honoured_and_backoff_doubles(fake: FakeServices, tmp_path: Path) -> None:
    waits: list[float] = []
    settings = _http.HttpSettings(read_timeout_s=2, deadline_s=60, retries=3, backoff_s=1.5)
    fake.faults["overpass"] = [("status", 429, {"Retry-After": "7"}), ("status", 502, {}), ("status", 503, {})]
    with _http.Client(tmp_path, settings=settings, sleep=waits.append) as client:
        body = client.post(f"{fake.url}/overpass", data="q", what="osm", validate=_http.expect_osm_xml)
    assert body.startswith(b"<?xml")
    assert waits == [7.0, 3.0, 6.0]  # Retry-After, then 1.5 x 2**1, 1.5 x 2**2


def test_a_retry_after_past_the_deadline_gives_up_at_once(fake: FakeServices, tmp_path: Path) -> None:
    waits: list[float] = []
    settings = _http.HttpSettings(deadline_s=30, retries=4, backoff_s=0.01)
    fake.faults["overpass"] = [("status", 429, {"Retry-After": "3600"})]
    with _http.Client(tmp_path, settings=settings, sleep=waits.append) as client, pytest.raises(
        SourceError, match=r"na 1 poging .*vroeg nog 3600 s te wachten, voorbij de limiet van 30 s.*HTTP 429",
    ):
        client.post(f"{fake.url}/overpass", data="q", what="osm", validate=_http.expect_osm_xml)
    assert waits == []


def test_a_wfs_exception_report_is_not_retried(tmp_path: Path) -> None:
    report = (b'<?xml version="1.0"?><ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1">'
              b'<ows:Exception exceptionCode="InvalidParameterValue"><ows:ExceptionText>Unknown typeName'
              b'</ows:ExceptionText></ows:Exception></ows:ExceptionReport>')
    with pytest.raises(_http.InvalidBody, match="Unknown typeName") as info:
        _http.expect_geojson(report)
    assert info.value.retry is False


def test_validators_name_what_is_wrong() -> None:
    with pytest.raises(_http.InvalidBody, match="een HTML-pagina in plaats van JSON"):
        _http.expect_json(b"<!DOCTYPE html><html><body>Onderhoud</body></html>")
    with pytest.raises(_http.InvalidBody, match="geen GeoJSON-FeatureCollection"):
        _http.expect_geojson(b'{"type": "Feature"}')
    osm = Path(__file__).parent.joinpath("data", "omweg.osm").read_bytes()
    _http.expect_osm_xml(osm)
    with pytest.raises(_http.InvalidBody, match="onvolledige OSM-XML"):
        _http.expect_osm_xml(osm[: len(osm) // 2])


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])  # "<remark" split over two pieces, and one piece
def test_the_file_check_of_osm_xml_says_what_the_bytes_check_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int,
) -> None:
    from .fake_services import OVERPASS_REMARK

    monkeypatch.setattr(_http, "_FILE_CHUNK", chunk)
    osm = Path(__file__).parent.joinpath("data", "omweg.osm").read_bytes()
    bodies = [osm, osm[: len(osm) // 2], OVERPASS_REMARK, b"<!DOCTYPE html><html><body>Onderhoud</body></html>",
              b'<?xml version="1.0"?><other/>', b"", b"   ", b"<osm>" + b"<x/>" * 50 + b"<remark>out of memory</remark></osm>"]
    for i, body in enumerate(bodies):
        path = tmp_path / f"{i}.osm.xml"
        path.write_bytes(body)
        try:
            _http.expect_osm_xml(body)
            expected = None
        except _http.InvalidBody as e:
            expected = e.reason
        try:
            _http.expect_osm_xml_file(path)
            got = None
        except _http.InvalidBody as e:
            got = e.reason
        assert got == expected, body[:60]


@pytest.mark.parametrize("cut", [0, 1, 5, 40, 200, -300, -7, -1, None])
def test_the_fast_osm_xml_check_says_what_the_element_check_says(cut: int | None) -> None:
    """expect_osm_xml checks a body without ``<remark`` with expat alone: same verdict, same message."""
    osm = Path(__file__).parent.joinpath("data", "omweg.osm").read_bytes()
    bodies = [osm[:cut], b"", b"  ", b"<?xml version='1.0'?>", b"<osm/>", b"<osm></osm><osm/>", b"<html><body>x</body></html>",
              b'<x:osm xmlns:x="urn:x"/>', b'<osm xmlns="urn:x"/>', b"<osm><node id='1'></osm>", b"Onderhoud"]
    for body in bodies:
        messages = []
        for check in (_http.expect_osm_xml, _http._expect_osm_xml_events):
            try:
                check(body)
                messages.append(None)
            except _http.InvalidBody as e:
                messages.append(str(e))
        assert messages[0] == messages[1], body[:80]


def test_snapshot_swap_keeps_the_old_folder_on_error(tmp_path: Path) -> None:
    dest = tmp_path / "snap"
    dest.mkdir()
    (dest / snapshot.MANIFEST_FILE).write_text("{}", encoding="utf-8")
    with pytest.raises(RuntimeError), snapshot.staged(dest) as folder:
        (folder / "half.json").write_text("{", encoding="utf-8")
        raise RuntimeError("killed")
    assert [p.name for p in dest.iterdir()] == [snapshot.MANIFEST_FILE]
    assert [p.name for p in tmp_path.iterdir()] == ["snap"]


def test_snapshot_swap_refuses_a_folder_that_is_no_snapshot(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "rapport.docx").write_bytes(b"x")
    with pytest.raises(SourceError, match="is geen snapshotmap; de map wordt niet vervangen"), snapshot.staged(tmp_path / "docs"):
        pass


@pytest.mark.network
def test_live_cbs_table_has_ermelo(tmp_path: Path) -> None:  # pragma: no cover - needs internet
    dest = live.download_snapshot("GM0233", 2024, config=load_config(), cache_dir=tmp_path)
    assert SnapshotReader(dest).manifest.gemeente_name == "Ermelo"
