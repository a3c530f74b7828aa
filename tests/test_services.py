"""The services as they really are: PDOK's buurt type per year, CBS through ODataFeed, Overpass etiquette.

Against the fake CBS/PDOK/Overpass on 127.0.0.1 (tests/fake_services.py), which serves each
year's WFS 2.0 capabilities with that year's layer names (and refuses any other buurt type),
CBS's ODataApi with its 10,000-cell cap (HTTP 500 beyond it) and ODataFeed with
``odata.nextLink`` pages, and Overpass with its ``/api/status`` page. No test sleeps: the
client's wait is injected (``sleep=waits.append``) and the requested waits are asserted.
"""

from __future__ import annotations

import json
import logging
import math
import re
import tracemalloc
from pathlib import Path

import pytest

from wijkanalyse import __version__
from wijkanalyse.config import load_config
from wijkanalyse.errors import DataError, SourceError
from wijkanalyse.sources import _http, cbs_odata, live

from .fake_services import DATA, FakeServices, capabilities_xml

#: The buurt type per year, written out by hand from the names public code uses against the
#: live services (2019-2021 not confirmed live): not read from wijkanalyse.
EXPECTED_TYPE = {
    2019: "wijkenbuurten2019:cbs_buurten_2019", 2020: "wijkenbuurten2020:cbs_buurten_2020", 2021: "cbs_buurten_2021",
    2022: "wijkenbuurten:buurten", 2023: "wijkenbuurten:buurten", 2024: "wijkenbuurten:buurten",
    2025: "wijkenbuurten:buurten",
}


@pytest.fixture
def fake() -> FakeServices:
    with FakeServices() as server:
        yield server


def _services(server: FakeServices, tmp_path: Path, **settings: object):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "services.toml"
    path.write_text(server.config_toml(**settings), encoding="utf-8")
    return load_config(path).services


# ---------------------------------------------------------------------------- PDOK per year


@pytest.mark.parametrize("year", sorted(EXPECTED_TYPE))
def test_the_buurt_type_of_each_year_comes_from_its_capabilities(fake: FakeServices, tmp_path: Path, year: int) -> None:
    services = _services(fake, tmp_path)
    url = services.pdok_buurten_wfs_url.format(year=year)
    with live.http_client(services, tmp_path / "cache") as client:
        assert live.buurt_type_name(client, url, year) == EXPECTED_TYPE[year]
        buurten = live._buurten(client, services, "GM0999", year)
    # the fake refuses every other type name (ExceptionReport), so 4 buurten means the right one was asked
    assert sorted(buurten["buurtcode"]) == [f"BU099901{i:02d}" for i in range(1, 5)]
    assert [q["typeNames"][0] for s, _, q in fake.log if s == "buurten"] == [EXPECTED_TYPE[year]]
    assert fake.requests_to("capabilities") == 1  # the second look-up came from the cache


def test_unreadable_capabilities_fall_back_to_the_table(
    fake: FakeServices, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    fake.faults["capabilities"] = [("status", 404, {})]
    services = _services(fake, tmp_path)
    with caplog.at_level(logging.WARNING, logger="wijkanalyse"), live.http_client(services, tmp_path / "c") as client:
        buurten = live._buurten(client, services, "GM0999", 2020)
    assert len(buurten) == 4
    assert "de bekende naam wijkenbuurten2020:cbs_buurten_2020 wordt gebruikt" in caplog.text


def test_capabilities_without_a_buurt_layer_name_what_there_is(fake: FakeServices, tmp_path: Path) -> None:
    fake.capabilities[2024] = capabilities_xml(2024, ("wijkenbuurten:gemeenten", "wijkenbuurten:wijken"))
    services = _services(fake, tmp_path)
    with live.http_client(services, tmp_path / "c") as client, pytest.raises(
        DataError, match=r"biedt geen buurtlaag aan \(wel: wijkenbuurten:gemeenten, wijkenbuurten:wijken\)",
    ):
        live._buurten(client, services, "GM0999", 2024)
    assert fake.requests_to("buurten") == 0


# ---------------------------------------------------------------------------- CBS without the cap


def _big_gemeente(n_buurten: int) -> dict[str, dict[str, object]]:
    """GM0998 with one wijk and ``n_buurten`` buurten, rows shaped as the fixture's (16 columns)."""
    template = json.loads((DATA / "cbs" / "85984NED" / "TypedDataSet.json").read_text(encoding="utf-8"))["value"]
    gemeente, wijk, buurt = template[1], template[2], template[3]
    keys = ["GM0998    ", "WK099801  "] + [f"BU0998{i:04d}" for i in range(n_buurten)]
    rows = [{**(gemeente if k.startswith("GM") else wijk if k.startswith("WK") else buurt), "ID": 1000 + i,
             "WijkenEnBuurten": k, "Codering_3": k} for i, k in enumerate(keys)]
    regions = [{"Key": k, "Title": "Grootgemeente" if k.startswith("GM") else f"Naam {k.strip()}"} for k in keys]
    return {"GM0998": {"rows": rows, "regions": regions, "buurten": [], "grid": []}}


def _cbs_requests(server: FakeServices, kind: str, entity: str) -> list[dict[str, list[str]]]:
    return [q for s, path, q in server.log if s == "cbs" and f"/{kind}/" in path and path.endswith(f"/{entity}")]


def test_a_too_large_odataapi_answer_is_not_retried_and_the_feed_has_it(tmp_path: Path) -> None:
    # 700 buurten: 1 + 1 + 1 + 700 = 703 rows x 16 columns = 11,248 cells, over CBS's 10,000
    with FakeServices(gemeenten=_big_gemeente(700)) as server:
        api = f"{server.url}/cbs/ODataApi/odata"
        waits: list[float] = []
        with _http.Client(tmp_path, settings=_http.HttpSettings(retries=4, backoff_s=0.01), sleep=waits.append) as client:
            with pytest.raises(_http.AnswerTooLarge, match=r"het antwoord is te groot .*ODataFeed"):
                client.get(f"{api}/85984NED/TypedDataSet", {"$format": "json"}, what="x", validate=_http.expect_json)
            assert waits == [] and len(_cbs_requests(server, "ODataApi", "TypedDataSet")) == 1
            table = cbs_odata.download_kerncijfers(client, api, "85984NED", "GM0998")
        assert len(table.rows) == 1 + 1 + 1 + 700  # NL00, the gemeente, its wijk and 700 buurten
        assert len(_cbs_requests(server, "ODataApi", "TypedDataSet")) == 2  # once above, once in the download
        assert len(_cbs_requests(server, "ODataFeed", "TypedDataSet")) == 1  # 703 rows: one page of 10,000
        # the region names (703 x 2 = 1,406 cells) fit under the cap: ODataApi answered them itself
        assert len(_cbs_requests(server, "ODataApi", "WijkenEnBuurten")) == 1
        assert len(table.regions) == 703


def test_odatafeed_pages_give_what_one_unpaged_answer_gives(tmp_path: Path) -> None:
    gemeenten = _big_gemeente(40)
    with FakeServices(gemeenten=gemeenten, feed_page_rows=7) as paged, \
            FakeServices(gemeenten=gemeenten, feed_page_rows=10**6) as whole:
        tables = {}
        for name, server in (("paged", paged), ("whole", whole)):
            services = _services(server, tmp_path / name)
            with live.http_client(services, tmp_path / name / "cache") as client:
                tables[name] = cbs_odata.download_kerncijfers(client, services.cbs_odata_url, "85984NED", "GM0998")
        # NL00 + GM0998 + WK099801 + 40 buurten = 43 rows: ceil(43 / 7) = 7 pages, each after the first by nextLink
        typed = _cbs_requests(paged, "ODataFeed", "TypedDataSet")
        assert len(typed) == math.ceil(43 / 7) == 7
        assert [int(q.get("$skip", ["0"])[0]) for q in typed] == [0, 7, 14, 21, 28, 35, 42]
        assert all(q["$filter"] == typed[0]["$filter"] for q in typed)  # the link carries the filter, once
        assert len(_cbs_requests(whole, "ODataFeed", "TypedDataSet")) == 1
        assert tables["paged"].rows == tables["whole"].rows and len(tables["paged"].rows) == 43
        assert tables["paged"].regions == tables["whole"].regions
        assert tables["paged"].properties == tables["whole"].properties


def test_a_self_pointing_next_link_stops(fake: FakeServices, tmp_path: Path) -> None:
    fake.faults["cbs"] = ["selflink"] * 3
    services = _services(fake, tmp_path)
    with live.http_client(services, tmp_path / "c") as client, pytest.raises(
        SourceError, match="vervolgpagina die al gehaald was",
    ):
        cbs_odata.entity_set(client, services.cbs_odata_url, "85984NED", "DataProperties", what="CBS-kolommen")
    assert fake.requests_to("cbs") == 2  # the first page and its link; the link's own link is the same: stop


# ---------------------------------------------------------------------------- Overpass etiquette


@pytest.mark.parametrize(
    ("status", "minimum", "wait"),
    [
        ("2 slots available now.", 30, 30.0),  # a free slot: still the 30 s Overpass asks after a 429
        ("Slot available after: 2025-05-01T10:00:45Z, in 45 seconds.\n"
         "Slot available after: 2025-05-01T10:01:10Z, in 70 seconds.", 30, 45.0),  # the sooner slot
        ("2 slots available now.", 60, 60.0),  # the minimum is a setting
        ("<html>status page down</html>", 30, 30.0),  # an unreadable status: the minimum
    ],
)
def test_after_a_429_overpass_gets_30_s_or_what_its_status_says(
    fake: FakeServices, tmp_path: Path, status: str, minimum: float, wait: float,
) -> None:
    fake.overpass_status = "Connected as: 1\nCurrent time: 2025-05-01T10:00:00Z\nRate limit: 2\n" + status + "\n"
    fake.faults["overpass"] = [("status", 429, {})]  # Overpass sends no Retry-After
    waits: list[float] = []
    settings = _http.HttpSettings(retries=2, backoff_s=2, rate_limit_wait_s=minimum, deadline_s=600)
    with _http.Client(tmp_path, settings=settings, sleep=waits.append) as client:
        body = live.overpass_download(client, f"{fake.url}/overpass/api/interpreter", "[out:xml];node(1);out;")
        assert body.read_bytes().startswith(b"<?xml")  # the answer's file in the cache
    assert waits == [wait]
    assert fake.requests_to("overpass-status") == 1 and fake.requests_to("overpass") == 2


@pytest.mark.parametrize(("read_timeout", "query_timeout"), [(180, 165), (40, 25), (20, 10), (1000, 300), (1, 1)])
def test_the_query_timeout_stays_below_the_read_timeout(read_timeout: float, query_timeout: int) -> None:
    # 15 s below the read timeout; half of it when shorter than 30 s; Overpass's 300 s at most
    assert live.overpass_timeout(read_timeout) == query_timeout
    assert live.overpass_query((5.6, 52.2, 5.7, 52.3), {}, timeout_s=query_timeout).startswith(
        f"[out:xml][timeout:{query_timeout}];")


def test_a_fetch_sends_the_lower_timeout_and_names_itself(fake: FakeServices, tmp_path: Path) -> None:
    path = tmp_path / "services.toml"
    path.write_text(fake.config_toml(read_timeout_s=40, contact='"wijkteam@gemeente.example"'), encoding="utf-8")
    live.download_snapshot("GM0999", 2024, config=load_config(path), cache_dir=tmp_path / "c", dest=tmp_path / "s")
    (query,) = fake.posted
    assert query.startswith("[out:xml][timeout:25];")  # 40 s read timeout - 15 s
    agent = f"wijkanalyse/{__version__} (+https://pypi.org/project/wijkanalyse; wijkteam@gemeente.example)"
    assert set(fake.user_agents) == {agent} and len(fake.user_agents) == len(fake.log)


# ---------------------------------------------------------------------------- every answer bounded


def test_a_trickling_answer_ends_at_the_deadline(fake: FakeServices, tmp_path: Path) -> None:
    # one byte every 0.05 s: each byte comes well within the 2 s read timeout, so only the
    # deadline can stop it; the 1,000+ byte answer would take over 50 s, the deadline is 1 s
    fake.faults["overpass"] = ["trickle"]
    waits: list[float] = []
    settings = _http.HttpSettings(read_timeout_s=2, deadline_s=1, retries=3, backoff_s=0.01)
    with _http.Client(tmp_path, settings=settings, sleep=waits.append) as client, pytest.raises(
        SourceError, match=r"na 1 poging .*niet binnen de tijdslimiet van 1 s compleet",
    ):
        client.post(f"{fake.url}/overpass/api/interpreter", data="q", what="osm", validate=_http.expect_osm_xml)
    assert len(fake.osm) > 1000 and fake.requests_to("overpass") == 1


@pytest.mark.parametrize(("fault", "most"), [("trickle", 2 / 0.5), (("trickle", 3), 3)])
def test_the_deadline_is_hard_against_a_trickle(fake: FakeServices, tmp_path: Path, fault: object, most: float) -> None:
    # a byte every 0.5 s, a read timeout of 30 s and a deadline of 2 s: only the deadline can stop
    # it, and it stops the read in progress (the socket waits at most the time left), not the first
    # read that returns after it. Byte k leaves the fake 0.5 k s after the request at the earliest, so
    # at most 2 / 0.5 = 4 bytes can come in time. With a pause of 1.5 s after 3 bytes (1.5 s), the 4th
    # comes at 3.5 s: a client that let the read that began at 1.5 s wait its full 2 s would get it.
    fake.trickle_s, fake.stall_s = 0.5, 1.5
    fake.faults["overpass"] = [fault]
    settings = _http.HttpSettings(read_timeout_s=30, deadline_s=2, retries=3, backoff_s=0.01)
    with _http.Client(tmp_path, settings=settings, sleep=[].append) as client, pytest.raises(SourceError) as info:
        client.post(f"{fake.url}/overpass/api/interpreter", data="q", what="osm", validate=_http.expect_osm_xml)
    m = re.search(r"na 1 poging .*niet binnen de tijdslimiet van 2 s compleet \((\d+) bytes kwamen binnen\)", str(info.value))
    assert m, info.value
    assert int(m[1]) <= most
    assert fake.requests_to("overpass") == 1
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # no answer, no temporary


def _big_osm(size: int) -> bytes:
    """Valid OSM XML of about ``size`` bytes (nodes only)."""
    line = b'<node id="%d" lat="52.1000000" lon="5.3000000" version="1"/>\n'
    n = size // len(line % 1_000_000)
    return b'<?xml version="1.0"?>\n<osm version="0.6">\n' + b"".join(line % (1_000_000 + i) for i in range(n)) + b"</osm>\n"


def test_a_large_answer_is_streamed_to_disk_not_held_in_memory(fake: FakeServices, tmp_path: Path) -> None:
    fake.osm = _big_osm(50 * 2**20)  # 50 MiB; max_body_bytes (2 GiB) is far above it
    url = f"{fake.url}/overpass/api/interpreter"
    peaks = {}
    for name, refresh in (("file", False), ("bytes", True)):
        tracemalloc.start()  # every Python allocation from here, of this thread and the fake server's
        try:
            with _http.Client(tmp_path, refresh=refresh, sleep=[].append) as client:
                if name == "file":
                    path = live.overpass_download(client, url, "q")
                else:  # the control: the bytes API holds the answer, and the measure sees it
                    body = client.post(url, data="q", what="osm", validate=_http.expect_osm_xml, suffix="osm.xml")
            peaks[name] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert path.stat().st_size == len(fake.osm) and len(body) == len(fake.osm)
    assert peaks["bytes"] >= len(fake.osm)  # the measure works: holding the answer shows
    assert peaks["file"] < len(fake.osm) / 10, peaks  # streamed: a few chunks of 64 KiB and 1 MiB at a time
    assert [p.name for p in (tmp_path / "http").iterdir()] == [path.name]  # the answer, no temporary


def test_an_interrupted_download_leaves_nothing(fake: FakeServices, tmp_path: Path) -> None:
    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt  # Ctrl-C while waiting to try again, half an answer on disk

    fake.faults["overpass"] = ["truncate"]
    with _http.Client(tmp_path, sleep=interrupt) as client, pytest.raises(KeyboardInterrupt):
        live.overpass_download(client, f"{fake.url}/overpass/api/interpreter", "q")
    assert list((tmp_path / "http").iterdir()) == []
    fake.faults["overpass"] = ["truncate"] * 4  # a lasting fault: every try fails
    settings = _http.HttpSettings(retries=3, backoff_s=0.01)
    with _http.Client(tmp_path, settings=settings, sleep=[].append) as client, pytest.raises(
        SourceError, match=r"na 4 pogingen .*brak af",
    ):
        live.overpass_download(client, f"{fake.url}/overpass/api/interpreter", "q")
    assert list((tmp_path / "http").iterdir()) == []


def test_an_unwritable_cache_keeps_the_answer_in_a_private_folder_until_close(
    fake: FakeServices, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING, logger="wijkanalyse"), _http.Client(tmp_path / "cache") as client:
        path = live.overpass_download(client, f"{fake.url}/overpass/api/interpreter", "q")
        assert path.read_bytes() == fake.osm and not path.is_relative_to(tmp_path)
        body = client.get(f"{fake.url}/cbs/ODataFeed/odata/85984NED/DataProperties", {"$format": "json"},
                          what="x", validate=_http.expect_json)
        assert json.loads(body)["value"]
    assert not path.exists() and not path.parent.exists()
    assert caplog.text.count("is niet te schrijven") == 1


def test_a_remark_other_than_a_timeout_is_retried_as_any_fault(fake: FakeServices, tmp_path: Path) -> None:
    remark = "open64: 2 No such file or directory /osm3s_osm_base Dispatcher_Client::1"
    fake.faults["overpass"] = [("remark", remark)] * 4
    settings = _http.HttpSettings(retries=3, backoff_s=0.01)
    with _http.Client(tmp_path, settings=settings, sleep=[].append) as client, pytest.raises(
        SourceError, match=r"na 4 pogingen .*Overpass meldde: 'runtime error: open64",
    ):
        live.overpass_download(client, f"{fake.url}/overpass/api/interpreter", "q")
    assert fake.requests_to("overpass") == 4


def test_an_answer_over_the_size_bound_is_refused(fake: FakeServices, tmp_path: Path) -> None:
    settings = _http.HttpSettings(max_body_bytes=1000, retries=3, backoff_s=0.01)
    with _http.Client(tmp_path, settings=settings, sleep=[].append) as client, pytest.raises(
        SourceError, match=r"groter dan 1,000 bytes",
    ):
        client.post(f"{fake.url}/overpass/api/interpreter", data="q", what="osm", validate=_http.expect_osm_xml)
    assert len(fake.osm) > 1000 and fake.requests_to("overpass") == 1  # not retried: it would be as large again
    assert not list(tmp_path.rglob("*.bin"))  # nothing cached


def test_a_redirect_loop_is_named_as_a_network_problem(fake: FakeServices, tmp_path: Path) -> None:
    fake.faults["cbs"] = ["redirect"]
    path = tmp_path / "services.toml"
    path.write_text(fake.config_toml(), encoding="utf-8")
    from click.testing import CliRunner

    from wijkanalyse.cli import cli

    result = CliRunner().invoke(cli, ["fetch", "--gemeente", "GM0999", "--year", "2024", "--config", str(path),
                                      "--cache-dir", str(tmp_path / "c"), "--snapshot", str(tmp_path / "s")])
    assert result.exit_code == 1
    line = result.output.splitlines()[-1]  # after the progress lines: one error line
    assert line.startswith("Fout: ") and "in een kring door (meer dan 30 doorverwijzingen): een netwerk- of adresprobleem" in line
    assert "disk" not in line and "Traceback" not in result.output
    assert fake.requests_to("cbs") == 31  # the first request and requests' 30 redirects, then stop
