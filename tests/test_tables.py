"""buurten.csv and buurten.xlsx: Dutch Excel formats, numbers as numbers, no formula injection."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box

from tests.mapcases import FORMULA_NAME, HOSTILE_NAMES, demo_result, extend
from wijkanalyse.outputs.tables import FORMULA_PREFIXES, neutralise, neutralise_frame, write_xlsx
from wijkanalyse.outputs.write import write_csv
from wijkanalyse.result import Hotspot, RunResult

CRS = "EPSG:28992"
#: One buurt name per dangerous first character (OWASP: = + - @ tab CR), plus two that are fine.
PREFIXED = ["=1+1", "+31 6 1234", "-Noord", "@SUM(A1)", "\tTab", "\rRetour"]
NAMES = [*PREFIXED, "Centrum", HOSTILE_NAMES[0]]


@pytest.fixture()
def result() -> RunResult:
    n = len(NAMES)
    buurten = gpd.GeoDataFrame(
        {
            "buurtcode": [f"BU099900{i:02d}" for i in range(n)],
            "buurtnaam": NAMES,
            "wijkcode": ["WK099900"] * n,
            "wijknaam": ["Dorp"] * n,
            "inwoners": pd.array([1200, 800, 0, 450, 10, 20, 30, 40], dtype="Int64"),
            "inwoners_cbs": pd.array([1210, 795, 5, 455, 10, 20, 30, pd.NA], dtype="Int64"),
            "inwoners_binnen_drempel": pd.array([1100, 500, 0, 100, 10, 0, 30, 40], dtype="Int64"),
            "aandeel_binnen_drempel": [1100 / 1200, 500 / 800, np.nan, 100 / 450, 1.0, 0.0, 1.0, 1.0],
            "afstand_mediaan_m": [180.0, 390.0, np.nan, np.inf, 100.0, 900.0, 50.0, 20.0],
            "werkloosheid": [3.25, 7.5, np.nan, 5.0, 1.0, 2.0, 3.0, 4.0],
            "signaal": [-0.8, 1.4, np.nan, 0.6, 0.0, -1.25, 0.1, 0.2],
            "hotspot": [Hotspot.NONE] * n,
            "hotspot_p": [0.5] * n,
        },
        geometry=[box(i * 100, 0, i * 100 + 100, 100) for i in range(n)],
        crs=CRS,
    )
    empty = gpd.GeoDataFrame(geometry=[], crs=CRS)
    return RunResult(
        gemeente_code="GM0999", gemeente_name="Demodorp", year=2024, synthetic=False, threshold_m=400.0,
        distance_method="network", buurten=buurten, residents=empty, venues=empty, gaps=empty,
        indicators={"werkloosheid": "Werkloosheid (%)"},
        summary={
            "threshold_m": 400.0, "distance_method": "network", "residents_total": 12345.0,
            "residents_within_threshold": 10777.0, "residents_beyond_threshold": 1568.0,
            "share_within_threshold": 0.873, "n_buurten": n, "hotspot_buurten": ["BU09990001"],
        },
        sources={"osm": {"retrieved": "2024-03-01T12:00:00+00:00"}},
    )


def test_neutralise() -> None:
    assert [neutralise(name) for name in PREFIXED] == ["'" + name for name in PREFIXED]
    assert set(FORMULA_PREFIXES) == {"=", "+", "-", "@", "\t", "\r"}
    assert neutralise("Centrum") == "Centrum"
    assert neutralise("'s-Hertogenbosch") == "'s-Hertogenbosch"
    assert neutralise(-0.8) == -0.8 and neutralise(None) is None
    frame = neutralise_frame(pd.DataFrame({"naam": ["=A1", "B"], "getal": [-1.5, 2.0], "=kolom": [1, 2]}))
    assert frame["naam"].tolist() == ["'=A1", "B"]
    assert frame["getal"].tolist() == [-1.5, 2.0]
    assert list(frame.columns) == ["naam", "getal", "'=kolom"]


def test_csv_neutralises_names_and_keeps_numbers(result: RunResult, tmp_path: Path) -> None:
    path = write_csv(result, tmp_path / "buurten.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig", keep_default_na=False)
    assert table["buurtnaam"].tolist() == ["'" + name for name in PREFIXED] + ["Centrum", HOSTILE_NAMES[0]]
    # No cell of the file starts with a formula character, quoted or not.
    text = raw.decode("utf-8-sig")
    for line in text.split("\r\n")[1:]:
        for cell in line.split(";"):
            assert not cell.strip('"').startswith(("=", "+", "@")), cell
    assert ";-0,800;" in text  # a negative signal stays a number
    numbers = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")
    assert numbers["signaal"].tolist()[:2] == [-0.8, 1.4]


def _cells(path: Path) -> dict[str, list[list[openpyxl.cell.cell.Cell]]]:
    book = openpyxl.load_workbook(path)
    return {sheet.title: [list(row) for row in sheet.iter_rows()] for sheet in book.worksheets}


def test_xlsx_buurten_sheet(result: RunResult, tmp_path: Path) -> None:
    path = write_xlsx(result, tmp_path / "buurten.xlsx")
    sheets = _cells(path)
    assert list(sheets) == ["Kerncijfers", "Buurten"]
    rows = sheets["Buurten"]
    header = [c.value for c in rows[0]]
    assert header[:4] == ["Buurtcode", "Buurtnaam", "Wijkcode", "Wijknaam"]
    assert "Aandeel binnen 400 m" in header and "Werkloosheid (%)" in header
    col = {name: i for i, name in enumerate(header)}
    first = rows[1]
    assert first[col["Inwoners"]].value == 1200 and first[col["Inwoners"]].number_format == "#,##0"
    share = first[col["Aandeel binnen 400 m"]]
    assert share.value == pytest.approx(1100 / 1200) and share.number_format == "0.0%"
    assert first[col["Signaal (gewogen z-score; hoger = meer zorgen)"]].value == -0.8
    assert rows[3][col["Aandeel binnen 400 m"]].value is None  # no residents: empty, not 0
    assert rows[4][col["Loopafstand van de middelste inwoner (m)"]].value == "onbereikbaar"
    assert rows[8][col["Inwoners volgens CBS"]].value is None  # pd.NA
    # Hostile names: text, never a formula.
    names = [row[col["Buurtnaam"]].value for row in rows[1:]]
    expected = ["'" + name for name in PREFIXED] + ["Centrum", HOSTILE_NAMES[0]]
    assert names == expected  # through lxml a CR is written as &#13; and read back as it was
    for sheet in sheets.values():
        for row in sheet:
            for cell in row:
                assert cell.data_type != "f", cell.coordinate
    # Read back as a table: numbers are numbers.
    table = pd.read_excel(path, sheet_name="Buurten")
    assert table["Inwoners"].sum() == 2550
    assert pd.api.types.is_float_dtype(table["Aandeel binnen 400 m"])


def test_xlsx_key_figures(result: RunResult, tmp_path: Path) -> None:
    sheets = _cells(write_xlsx(result, tmp_path / "buurten.xlsx"))
    figures = {row[0].value: row[1] for row in sheets["Kerncijfers"][1:]}
    assert figures["Gemeente"].value == "Demodorp (GM0999)"
    assert figures["Inwoners"].value == 12345 and figures["Inwoners"].number_format == "#,##0"
    assert figures["Aandeel binnen 400 m"].value == 0.873
    assert figures["Aandeel binnen 400 m"].number_format == "0.0%"
    assert figures["Hotspot-buurten"].value == "'+31 6 1234 (BU09990001)"  # its name starts with +
    # a date a spreadsheet can sort (UTC; Excel has no time zones), not ISO text
    assert figures["Bron OpenStreetMap: opgehaald"].value == dt.datetime(2024, 3, 1, 12, 0)


@pytest.fixture(scope="module")
def extended(demo_snapshot: Path) -> RunResult:
    return extend(demo_result(demo_snapshot), demo_snapshot)


def test_xlsx_sheets_of_later_steps(extended: RunResult, tmp_path: Path) -> None:
    path = write_xlsx(extended, tmp_path / "buurten.xlsx")
    sheets = _cells(path)
    assert list(sheets) == ["Kerncijfers", "Buurten", "Kernen", "Voorstellen", "Per aantal plekken", "Werkgebieden",
                            "Looptijd", "Openingstijden", "Openingstijden per punt", "Doelgroepen",
                            "Kwetsbare ontmoetingspunten"]  # no capacity configured: no sheet "Capaciteit"
    by_count = pd.read_excel(path, sheet_name="Per aantal plekken")
    expected = extended.summary["best_by_count"]
    assert by_count["Aantal nieuwe plekken"].tolist() == [b["count"] for b in expected]
    assert by_count["Voorstellen (nummers)"].astype(str).tolist() == [", ".join(map(str, b["sites"])) for b in expected]
    assert by_count["Nieuw binnen 400 m (inwoners)"].tolist() == pytest.approx([b["newly_within"] for b in expected])
    assert [v.startswith("bewezen") for v in by_count["Beste keuze?"]] == [b["proven_optimal"] for b in expected]
    proposals = pd.read_excel(path, sheet_name="Voorstellen")
    assert proposals["Volgorde"].tolist() == [1, 2, 3]
    assert proposals["Kosten per jaar"].tolist() == [25_000] * 3
    first = extended.proposals.iloc[0]
    assert proposals["Kosten per nieuw bereikte inwoner per jaar"].iloc[0] == pytest.approx(25_000 / first["nieuw_binnen_bereik"])
    assert proposals["Breedtegraad (WGS84)"].between(50.5, 54).all()
    header = [c.value for c in sheets["Voorstellen"][0]]
    euro = sheets["Voorstellen"][1][header.index("Kosten per jaar")]
    assert euro.number_format == '"€" #,##0'
    share = sheets["Voorstellen"][1][header.index("Aandeel binnen 400 m daarna")]
    assert share.number_format == "0.0%" and share.value == pytest.approx(first["aandeel_na"])
    kernen = pd.read_excel(path, sheet_name="Kernen")
    assert kernen["Kern"].tolist() == ["Noorderhoek", "Oosterdorp", "Voorbeeldstad", "Westerveld"]
    assert kernen["Inwoners"].sum() == extended.kernen["inwoners"].sum()
    areas = pd.read_excel(path, sheet_name="Werkgebieden")
    assert areas["Werkgebied"].tolist() == [1, 2] and areas["Werklast"].tolist() == [1.4, 0.8]
    buurten = pd.read_excel(path, sheet_name="Buurten", keep_default_na=False)
    assert buurten["Buurtnaam"].tolist()[:3] == [*HOSTILE_NAMES, "'" + FORMULA_NAME]
    assert "Kern" in buurten.columns


def test_xlsx_names_the_broker_deviation(extended: RunResult, tmp_path: Path) -> None:
    summary = {**extended.summary, "broker_max_deviation": 0.25, "broker_balance_tolerance": 0.10}
    path = write_xlsx(dataclasses.replace(extended, summary=summary), tmp_path / "buurten.xlsx")
    figures = {row[0].value: row[1] for row in _cells(path)["Kerncijfers"][1:]}
    cell = figures["Werkgebieden: grootste afwijking van de gemiddelde werklast"]
    assert cell.value == 0.25 and cell.number_format == "0.0%"
    assert figures["Werkgebieden: toegestane afwijking (brokers.balance_tolerance)"].value == 0.10


def test_xlsx_without_residents_or_buurten(result: RunResult, tmp_path: Path) -> None:
    empty = dataclasses.replace(result, buurten=result.buurten.iloc[:0], summary={})
    sheets = _cells(write_xlsx(empty, tmp_path / "leeg.xlsx"))
    assert list(sheets) == ["Kerncijfers", "Buurten"]
    figures = {row[0].value: row[1].value for row in sheets["Kerncijfers"][1:]}
    assert figures["Inwoners"] is None
