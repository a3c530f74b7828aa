"""The workbook and the CSV files as a council member opens them: Dutch headers, formatted numbers, print set-up."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from wijkanalyse import pipeline
from wijkanalyse.config import load_config


@pytest.fixture(scope="module")
def demo_folder(demo_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tables")
    return pipeline.run(demo_snapshot, load_config(), out, maps=False).folder


def test_every_header_is_words_not_an_identifier(demo_folder: Path) -> None:
    workbook = openpyxl.load_workbook(demo_folder / "buurten.xlsx")
    for sheet in workbook.worksheets:
        headers = [c.value for c in sheet[1] if c.value is not None]
        assert headers, sheet.title
        raw = [h for h in headers if "_" in str(h) or (str(h).isidentifier() and str(h).islower())]
        assert raw == [], f"{sheet.title}: {raw}"


def test_every_sheet_prints_landscape_one_page_wide_with_its_header_on_every_page(demo_folder: Path) -> None:
    workbook = openpyxl.load_workbook(demo_folder / "buurten.xlsx")
    for sheet in workbook.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0, sheet.title
        assert sheet.print_title_rows == "$1:$1", sheet.title
        assert sheet.freeze_panes == "A2", sheet.title


def test_numbers_are_formatted_and_dates_are_dates(demo_folder: Path) -> None:
    workbook = openpyxl.load_workbook(demo_folder / "buurten.xlsx")
    key = {row[0].value: row[1] for row in workbook["Kerncijfers"].iter_rows(min_row=2)}
    assert isinstance(key["Berekend op"].value, dt.datetime) and "yyyy" in key["Berekend op"].number_format
    assert key["Aandeel binnen 400 m"].number_format == "0.0%"
    sheet = workbook["Kernen"]
    headers = {c.value: c.column for c in sheet[1]}
    for row in range(2, sheet.max_row + 1):
        count = sheet.cell(row=row, column=headers["Aantal buurten"])
        assert isinstance(count.value, int | float) and count.number_format == "#,##0"
        assert sheet.cell(row=row, column=headers["Rang in de prioriteit (1 = eerst)"]).number_format == "#,##0"
    # every numeric cell on every sheet carries a number format (no 0.1857784431137724 as "General")
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, float):
                    assert cell.number_format != "General", (sheet.title, cell.coordinate, cell.value)


def test_counts_in_every_csv_have_no_decimals(demo_folder: Path) -> None:
    """Residents are whole people: "1025", never "1025,000" (the ';'/decimal-comma format of Dutch Excel)."""
    for name in ("buurten.csv", "kernen.csv", "voorstellen.csv", "makelaarsgebieden.csv"):
        with open(demo_folder / name, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f, delimiter=";"))
        assert rows, name
        for column in ("inwoners", "inwoners_binnen_drempel", "nieuw_binnen_bereik", "cumulatief_binnen_bereik",
                       "n_buurten", "kosten_per_jaar"):
            if column in rows[0]:
                values = [r[column] for r in rows if r[column]]
                assert values and all("," not in v and v.lstrip("-").isdigit() for v in values), (name, column, values[:3])
