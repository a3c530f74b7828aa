"""The council report rapport.html: its figures are those of samenvatting.json, it is escaped, self-contained and prints."""

from __future__ import annotations

import builtins
import copy
import json
import logging
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from wijkanalyse import pipeline
from wijkanalyse._format import format_int, format_number, format_percent
from wijkanalyse.config import load_config
from wijkanalyse.outputs import report
from wijkanalyse.outputs._sources import SYNTHETIC_BANNER, format_date, source_line
from wijkanalyse.result import Hotspot, RunResult
from wijkanalyse.sources.files import SnapshotReader

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = '"><script>alert(1)</script>'
NBSP = "\u00a0"


@pytest.fixture(scope="module")
def demo_run(demo_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> pipeline.RunOutputs:
    return pipeline.run(demo_snapshot, load_config(), tmp_path_factory.mktemp("out"))


@pytest.fixture(scope="module")
def html(demo_run: pipeline.RunOutputs) -> str:
    return demo_run.files["rapport"].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def summary(demo_run: pipeline.RunOutputs) -> dict:
    return json.loads(demo_run.files["samenvatting"].read_text(encoding="utf-8"))


class _Tables(HTMLParser):
    """Collects every table as rows of cell texts, with the id of the section it is in; and every src/href."""

    def __init__(self) -> None:
        super().__init__()
        self.section = ""
        self.tables: list[tuple[str, list[list[str]]]] = []
        self.cell: list[str] | None = None
        self.links: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k in {"src", "href"}]
        if tag == "section":
            self.section = a.get("id") or ""
        elif tag == "table":
            self.tables.append((self.section, []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in {"td", "th"}:
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self.cell is not None:
            self.tables[-1][1][-1].append(re.sub(r"[ \t\r\n]+", " ", "".join(self.cell)).strip())  # keeps NBSP
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def parse(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    return parser


def section_tables(html: str, section: str) -> list[list[list[str]]]:
    return [rows for sec, rows in parse(html).tables if sec == section]


def section_html(html: str, section: str) -> str:
    return html.split(f'<section id="{section}"', 1)[1].split("</section>", 1)[0]


def test_key_figures_are_those_of_the_summary(html: str, summary: dict) -> None:
    values = re.findall(r'<span class="value">(.*?)</span>', section_html(html, "samenvatting"))
    assert values == [
        format_int(summary["residents_total"]),
        format_int(summary["residents_within_threshold"]),
        format_int(summary["residents_beyond_threshold"]),
        format_int(summary["n_gaps"]),
    ]
    # regression values, copied from a run of the demo (not worked out by hand): 18,145 residents,
    # 12,810 within 400 m, 45 gaps; 5,335 beyond = 18,145 - 12,810
    assert values == ["18.145", "12.810", "5.335", "45"]
    assert f"({format_percent(summary['share_within_threshold'])})" in html
    broker = section_html(html, "makelaars")
    assert f'<span class="value">{summary["brokers_needed"]}</span>' in broker
    assert f"€{NBSP}{format_int(summary['broker_cost_per_year'])}" in broker
    assert f"€{NBSP}240.000 per jaar" in section_html(html, "samenvatting")


def test_top_proposals_in_the_summary_with_their_cost(html: str, summary: dict) -> None:
    text = section_html(html, "samenvatting")
    positions = []
    for p in summary["new_meeting_points"][:3]:
        at = text.index(f"<strong>{p['name']}</strong>")
        positions.append(at)
        line = text[at:].split("</li>", 1)[0]
        assert f"{format_int(p['newly_within'])} inwoners meer" in line
        assert f"€{NBSP}{format_int(p['cost_per_year'])} per jaar" in line
        assert f"€{NBSP}{format_int(p['cost_per_resident'])} per nieuw bereikte inwoner" in line
    assert positions == sorted(positions)


def test_every_kern_and_buurt_is_in_the_report(demo_run: pipeline.RunOutputs, html: str) -> None:
    result = demo_run.result
    [kern_table] = section_tables(html, "kernen")
    kern_cells = [row[1] for row in kern_table[1:]]
    assert len(kern_cells) == len(result.kernen) == 8
    for kern in result.kernen["kern"]:
        assert any(cell.startswith(kern) for cell in kern_cells), kern
    # in priority order: Zuidoost (the hot spots, 44 % beyond reach) first
    ranks = [int(row[0].split()[0]) for row in kern_table[1:]]
    assert ranks == list(range(1, 9))
    assert kern_cells[0].startswith("Zuidoost")

    reach, indicators = section_tables(html, "buurten")
    names = [row[0] for row in reach[1:] if len(row) > 1]
    assert len(names) == len(result.buurten) == 21
    for code, name in zip(result.buurten["buurtcode"], result.buurten["buurtnaam"], strict=True):
        assert f"{name} {code}" in names
    indicator_rows = [row[0] for row in indicators[3:]]
    assert len(indicator_rows) == 21


def test_buurt_rows_hold_their_figures(demo_run: pipeline.RunOutputs, html: str) -> None:
    b = demo_run.result.buurten.loc["BU99990403"]  # Zuidoost-Flats: a hot spot, 125 of 1,515 within reach
    reach, _ = section_tables(html, "buurten")
    [row] = [r for r in reach if r[0] == "Zuidoost-Flats BU99990403"]
    assert row[1:6] == [format_int(b["inwoners"]), "125", "8 %", f"{format_int(b['afstand_mediaan_m'])} m",
                        format_number(b["signaal"], 2)]
    assert row[1] == "1.515"
    assert row[6] == "hotspot"
    assert row[7] == format_int(b["prioriteit_rang"])


def test_buurten_beside_gemeente_and_nederland(demo_run: pipeline.RunOutputs, html: str) -> None:
    result = demo_run.result
    _, indicators = section_tables(html, "buurten")
    header, gemeente, nederland = indicators[:3]
    assert header[1:] == list(result.indicators.values())
    assert gemeente[0] == "Gemeente Voorbeeldgemeente"
    assert gemeente[1:] == [format_number(result.reference.at[k, "gemeente"], 1) for k in result.indicators]
    assert gemeente[1:3] == ["42,2", "21,6"]  # one-person households and 65+ of the demo's gemeente row
    assert nederland == ["Nederland", "–", "–", "–", "–", "–"]  # the demo table has no NL00 row
    # the reference rows sit in the table head, so every printed page repeats them
    head = section_html(html, "buurten").split("<thead>")[2].split("</thead>")[0]
    assert "Gemeente Voorbeeldgemeente" in head
    assert "Nederland" in head


def test_proposals_in_rank_order_with_costs(html: str, summary: dict) -> None:
    table, _ = section_tables(html, "voorstellen")
    rows = table[1:]
    assert [int(r[0]) for r in rows] == [p["rank"] for p in summary["new_meeting_points"]] == list(range(1, 11))
    for row, p in zip(rows, summary["new_meeting_points"], strict=True):
        assert row[1].startswith(p["name"])
        assert row[3:] == [
            format_int(p["newly_within"]), format_int(p["cumulative_within"]), format_percent(p["share_after"]),
            f"€{NBSP}{format_int(p['cost_per_year'])}", f"€{NBSP}{format_int(p['cost_per_resident'])}",
        ]
    # regression values, copied from a run of the demo: the first proposal brings 1,025 residents within reach
    # (76.2 % after it); the cost per resident follows from them: 25,000 / 1,025 = 24.4
    assert rows[0][3:] == ["1.025", "1.025", "76,2 %", f"€{NBSP}25.000", f"€{NBSP}24"]
    # greedy + swaps: "bewezen" only because, on the demo, each count reaches its LP bound (the summary says so)
    all_proven = all(b["proven_optimal"] for b in summary["best_by_count"])
    assert ("voor elk aantal plekken bewezen de beste keuze" in section_html(html, "voorstellen")) == all_proven


def test_broker_areas_table(html: str, summary: dict) -> None:
    tables = section_tables(html, "makelaars")
    [areas] = [t for t in tables if t[0][0] == "Gebied"]
    rows = areas[1:]
    assert len(rows) == len(summary["broker_areas"]) == 3
    for row, area in zip(rows, summary["broker_areas"], strict=True):
        assert row[0] == str(area["id"])
        assert row[2:5] == [str(len(area["buurtcodes"])), format_int(area["residents"]), format_int(area["workload"])]
    text = section_html(html, "makelaars")
    assert f"{format_number(summary['broker_balance'], 2)} keer de werklast" in text
    # the largest deviation from the mean, recomputed from the areas' workloads in samenvatting.json
    loads = [a["workload"] for a in summary["broker_areas"]]
    deviation = max(abs(x - sum(loads) / len(loads)) for x in loads) / (sum(loads) / len(loads))
    assert summary["broker_max_deviation"] == pytest.approx(deviation)
    assert f"wijkt hoogstens {format_percent(deviation, 0)} af van het gemiddelde" in text
    assert summary["explanations"]["workload"] in text.replace("&#39;", "'")


def test_hotspots_in_plain_dutch(html: str) -> None:
    text = section_html(html, "hotspots")
    assert "een hoog signaal, omringd door buurten met ook een hoog signaal" in text
    assert "kleiner dan 5 %" in text
    [table] = section_tables(html, "hotspots")
    names = [row[0].split(" kans op toeval")[0] for row in table[3:]]
    assert sorted(names) == ["Zuidoost-Flats", "Zuidoost-Hoven", "Zuidoost-Plein"]
    assert "Coldspots" in text and "Zuidpolder" in text


def test_gaps_named_by_buurt_not_code(html: str, demo_run: pipeline.RunOutputs) -> None:
    [gaps, _reach] = section_tables(html, "bereik")
    first = gaps[1]
    assert first[:3] == ["1", "Zuidoost-Hoven, Zuidoost-Plein, Zuidoost-Flats", "1.960"]
    assert not any("BU9999" in row[1] for row in gaps[1:])
    assert len(gaps) - 1 == report.MAX_GAPS
    assert f"Daarnaast {len(demo_run.result.gaps) - report.MAX_GAPS} kleinere gebieden" in html


def test_method_sources_dates_and_caveats(html: str, summary: dict) -> None:
    text = section_html(html, "methode")
    assert "85984NED" in text
    assert "1 januari 2024" in text  # the demo snapshot's retrieval date
    assert "Bron: CBS, PDOK; © OpenStreetMap-bijdragers" in text
    assert "OpenStreetMap is niet volledig" in text
    [sources] = [t for t in section_tables(html, "methode") if t[0][0] == "Bron"]
    assert [row[3] for row in sources[1:]] == ["CC BY 4.0", "CC BY 4.0", "CC BY 4.0", "ODbL 1.0"]
    assert "-99997" in text and f"({summary['cells_suppressed']} bewoonde vierkanten)" in text
    assert f"{summary['network']['meeting_points_attached']} ontmoetingspunten liggen aan een looproute" in text
    assert "Er is geen eigen lijst van de gemeente gebruikt" in text


def test_self_contained_no_external_reference(html: str) -> None:
    parsed = parse(html)
    assert parsed.links, "the table of contents links to its sections"
    for link in parsed.links:
        assert link.startswith(("data:image/png;base64,", "#")), link[:60]
    assert sum(link.startswith("data:image/png") for link in parsed.links) == 3  # the three print maps
    assert "script" not in parsed.tags and "link" not in parsed.tags and "iframe" not in parsed.tags
    assert not re.search(r"url\(|@import|https?://", html.split("</style>", 1)[0])


def test_print_stylesheet(html: str) -> None:
    css = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert re.search(r"@page\s*\{\s*size:\s*A4;", css)
    assert "@page kaart { size: A4 landscape;" in css
    assert "thead { display: table-header-group; }" in css
    assert "break-inside: avoid" in css
    # chapters flow (a forced break per chapter left near-empty pages); the map pages carry the map's own banner
    assert ".section { break-before: auto; }" in css
    assert "@top-center { content: none; }" in css.split("@page kaart", 1)[1].split("}", 2)[0] + "}"
    # what a printed page really looks like is checked in Chromium: tests/test_report_print.py


def test_demo_banner_on_every_page(html: str) -> None:
    css = html.split("</style>", 1)[0]
    assert f'content: "{SYNTHETIC_BANNER}"' in css  # @page top-center: every printed page
    assert f'<div class="banner screen-only" role="note">{SYNTHETIC_BANNER}</div>' in html


def _analysed(demo_snapshot: Path) -> RunResult:
    return pipeline.analyse(SnapshotReader(demo_snapshot), load_config())


@pytest.fixture(scope="module")
def analysed(demo_snapshot: Path) -> RunResult:
    return _analysed(demo_snapshot)


def test_real_gemeente_has_no_banner(analysed: RunResult) -> None:
    result = copy.deepcopy(analysed)
    result.synthetic = False
    html = report.render_report(result)
    assert SYNTHETIC_BANNER not in html
    assert "SYNTHETISCHE" not in html


def test_hostile_names_are_escaped(analysed: RunResult) -> None:
    result = copy.deepcopy(analysed)
    result.gemeente_name = SCRIPT
    result.buurten.loc["BU99990403", "buurtnaam"] = IMG
    result.buurten.loc["BU99990101", "kern"] = SCRIPT
    result.kernen.loc["Zuidoost", "kern"] = IMG
    result.proposals.loc[0, "naam"] = IMG
    result.proposals.loc[1, "naam"] = SCRIPT
    result.broker_areas.loc[0, "kernen"] = SCRIPT
    result.indicators = {**result.indicators, "ouderen": IMG}
    result.summary = {
        **result.summary,
        "broker_warnings": [SCRIPT],
        "own_points_file": f"/tmp/{IMG}.csv",
        "own_points_problems": [f"eigen.csv line 3: {SCRIPT}"],
        "network": {**result.summary["network"], "meeting_points_not_on_network": [
            {"osm_id": "node/1", "name": IMG, "reason": "beyond_max_attach"}]},
    }
    html = report.render_report(result)
    assert IMG not in html
    assert "<script" not in html
    assert "onerror=alert(1)>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    parsed = parse(html)
    assert "script" not in parsed.tags
    assert parsed.tags.count("img") == 0  # no map images given, and no injected one
    # the escaped names are where they belong
    proposals, by_count = section_tables(html, "voorstellen")
    assert proposals[1][1].startswith(IMG) and proposals[2][1].startswith(SCRIPT)
    assert by_count[2][1].startswith(f"1, 2: {IMG}, {SCRIPT}")  # the per-count table names them escaped too
    assert "<title>Wijkanalyse &#34;&gt;&lt;script&gt;" in html


def test_report_without_decisions(analysed: RunResult) -> None:
    """A result without kernen, proposals, broker areas or streets (an older run) still renders."""
    result = copy.deepcopy(analysed)
    result.kernen = None
    result.proposals = None
    result.broker_areas = None
    result.streets = None
    result.buurten.loc[:, "hotspot"] = Hotspot.NONE
    html = report.render_report(result)
    assert "Er zijn geen voorstellen" in html
    assert "Er zijn geen hotspots gevonden" in html


def test_dutch_dates_and_source_line(analysed: RunResult) -> None:
    assert format_date("2024-01-01T00:00:00+00:00") == "1 januari 2024"
    assert format_date("2025-03-15") == "15 maart 2025"
    assert format_date(None) == "onbekend"
    assert format_date("gisteren") == "gisteren"
    from wijkanalyse.outputs import maps

    assert SYNTHETIC_BANNER == maps.SYNTHETIC_BANNER  # the report and print maps say what the map says
    assert source_line(analysed) == (
        "Bron: CBS (tabel 85984NED), PDOK; © OpenStreetMap-bijdragers. Gegevens opgehaald op 1 januari 2024."
    )


def _refuse_weasyprint(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name == "weasyprint" or name.startswith("weasyprint."):
            raise error
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


@pytest.mark.parametrize("error", [
    ImportError("No module named 'weasyprint'"),
    OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file"),
])
def test_pdf_missing_is_one_line_and_the_run_goes_on(
    analysed: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    _refuse_weasyprint(monkeypatch, error)
    with caplog.at_level(logging.WARNING):
        files = pipeline.write_outputs(analysed, tmp_path, pdf=True)
    assert "rapport_pdf" not in files
    assert not (tmp_path / "rapport.pdf").exists()
    assert files["rapport"].is_file()
    lines = [r.getMessage() for r in caplog.records if "rapport.pdf" in r.getMessage()]
    assert lines == [report.PDF_MISSING]
    assert "pip install weasyprint" in lines[0] and "libpango-1.0-0" in lines[0]


def test_cli_pdf_flag_without_weasyprint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from wijkanalyse.cli import cli

    _refuse_weasyprint(monkeypatch, ImportError("No module named 'weasyprint'"))
    result = CliRunner().invoke(cli, ["run", "--demo", "--out", str(tmp_path), "--pdf"])
    assert result.exit_code == 0, result.output
    assert report.PDF_MISSING in result.stderr
    assert (tmp_path / "voorbeeldgemeente" / "rapport.html").is_file()
    assert not (tmp_path / "voorbeeldgemeente" / "rapport.pdf").exists()


def _weasyprint() -> object:
    try:
        import weasyprint
    except (ImportError, OSError) as e:
        pytest.skip(f"WeasyPrint with Pango is not installed here ({e}); rapport.pdf is optional")
    return weasyprint


def test_pdf_is_written_with_weasyprint(demo_run: pipeline.RunOutputs, html: str, tmp_path: Path) -> None:
    weasyprint = _weasyprint()
    path = report.write_pdf(html, tmp_path / "rapport.pdf")
    assert path == tmp_path / "rapport.pdf"
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    pages = weasyprint.HTML(string=html).render().pages  # type: ignore[attr-defined]
    sizes = {(round(p.width * 25.4 / 96), round(p.height * 25.4 / 96)) for p in pages}
    assert sizes == {(210, 297), (297, 210)}  # A4 portrait text, A4 landscape map pages
    assert sum((round(p.width * 25.4 / 96), round(p.height * 25.4 / 96)) == (297, 210) for p in pages) == 3


def test_the_answer_for_every_number_of_sites(html: str, summary: dict) -> None:
    """The fast method: the set for r is proposals 1..r, so its reach is the running total at rank r;
    'bewezen' only where the summary says the LP bound is reached."""
    _, table = section_tables(html, "voorstellen")
    assert table[0] == ["Aantal", "Plekken", "Nieuw binnen bereik", "Aandeel daarna", "Kosten per jaar", "Beste keuze?"]
    rows = table[1:]
    by_count = summary["best_by_count"]
    points = summary["new_meeting_points"]
    assert [int(r[0]) for r in rows] == [b["count"] for b in by_count] == list(range(1, 11))
    for row, b in zip(rows, by_count, strict=True):
        r = b["count"]
        assert b["sites"] == list(range(1, r + 1)) and b["first_ranks"]
        assert b["newly_within"] == pytest.approx(points[r - 1]["cumulative_within"])
        assert row[1].startswith(", ".join(str(s) for s in b["sites"]) + ": " + points[0]["name"])
        assert row[2] == format_int(b["newly_within"])
        assert row[4] == f"€{NBSP}{format_int(sum(points[k]['cost_per_year'] for k in range(r)))}"
        assert (row[5] == "bewezen de beste") == b["proven_optimal"]
        if not b["proven_optimal"]:
            assert row[5] == f"niet bewezen de beste; hoogstens {format_percent(b['gap'], 1)} onder het best mogelijke"


def test_gap_distance_is_never_the_threshold() -> None:
    from wijkanalyse.outputs.texts import gap_distance_text

    # a gap lies beyond the threshold by definition: 400.001 m must not read as "400 m"
    assert gap_distance_text(400.001, 400) == "meer dan 400 m"
    assert gap_distance_text(400.5, 400) == "meer dan 400 m"  # would round to 400 (or 401 half-up): still "meer dan"
    assert gap_distance_text(400.51, 400) == "401 m"
    assert gap_distance_text(1049.999827, 400) == "1.050 m"
    assert gap_distance_text(float("nan"), 400) == "geen ontmoetingspunt bereikbaar"


def test_gaps_20_to_22_read_beyond_the_threshold(html: str, demo_run: pipeline.RunOutputs) -> None:
    gaps = demo_run.result.gaps.set_index("gat_id")
    # the demo's gaps 20-22 reach just past 400 m (400.001, 400.002, 400.003 m: copied from a run)
    assert all(400 < gaps.at[i, "afstand_max_m"] < 400.01 for i in (20, 21, 22))
    [table, _reach] = section_tables(html, "bereik")
    rows = {row[0]: row for row in table[1:]}
    assert [rows[i][4] for i in ("20", "21", "22")] == ["meer dan 400 m"] * 3
    assert not any(row[4] == "400 m" for row in table[1:])


def test_small_gaps_counted_apart(html: str, summary: dict, demo_run: pipeline.RunOutputs) -> None:
    gaps = demo_run.result.gaps
    # by hand from the gaps layer: gaps with fewer than 25 residents (the default thresholds.min_gap_residents)
    small = int((gaps["inwoners"] < 25).sum())
    assert summary["min_gap_residents"] == 25
    assert summary["n_gaps"] == len(gaps) == 45 and summary["n_gaps_small"] == small == 28
    words = "45 gebieden, waarvan 28 klein (minder dan 25 inwoners)"
    assert words in section_html(html, "bereik")
    assert "gebieden waar inwoners buiten bereik wonen, waarvan 28 klein (minder dan 25 inwoners)" in html
    # the print map's legend counts them the same way; the CLI summary is checked in tests/test_cli.py
    from wijkanalyse.outputs.texts import gap_count_words

    assert gap_count_words(summary["n_gaps"], summary["n_gaps_small"], summary["min_gap_residents"]) == words
    assert gap_count_words(1, 0, 25) == "1 gebied"


def test_broker_cost_says_how_it_is_counted(html: str, summary: dict) -> None:
    # default basis "persons": 3 brokers x 80,000 = 240,000; the fte figure beside it: broker_fte x 80,000
    assert summary["broker_cost_basis"] == "persons" and summary["brokers_needed"] == 3
    assert summary["broker_cost_per_year"] == summary["broker_cost_persons"] == 3 * 80_000
    assert summary["broker_cost_fte"] == pytest.approx(summary["broker_fte"] * 80_000)
    fte, fte_cost = format_number(summary["broker_fte"], 2), format_int(summary["broker_fte"] * 80_000)
    words = f"3 voltijdsbanen van € 80.000 (alleen de werklast van {fte} fte zou € {fte_cost} kosten)"
    assert words in section_html(html, "samenvatting")
    assert words in section_html(html, "makelaars")
    assert "aantal nodig × kosten per voltijdsbaan" in section_html(html, "makelaars")
