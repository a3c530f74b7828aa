"""Figures across gemeenten (analysis/national.py), by hand, and the provinces of the gemeente list."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from wijkanalyse import gemeenten
from wijkanalyse.analysis.national import (
    broker_figures,
    gemeente_table,
    national_totals,
    proposal_figures,
    province_table,
    wijk_figures,
)
from wijkanalyse.config import Indicator
from wijkanalyse.errors import DataError
from wijkanalyse.result import Hotspot


def test_wijk_figures_weight_the_signal_by_residents() -> None:
    buurten = gpd.GeoDataFrame(
        {"wijkcode": ["WK1", "WK1", "WK2"], "wijknaam": ["Noord", "Noord", None],
         "inwoners": pd.array([100, 300, pd.NA], dtype="Int64"),
         "inwoners_binnen_drempel": pd.array([80, 150, pd.NA], dtype="Int64"),
         "signaal": [1.0, -1.0, 2.0], "hotspot": [Hotspot.HOT, Hotspot.NONE, Hotspot.HOT]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(0, 100, 100, 200)], crs="EPSG:28992",
    )
    wijken = wijk_figures(buurten).set_index("wijkcode")
    noord = wijken.loc["WK1"]
    assert (noord["inwoners"], noord["inwoners_binnen_drempel"]) == (400, 230)
    assert noord["aandeel_binnen_drempel"] == pytest.approx(230 / 400)
    assert noord["signaal"] == pytest.approx((100 * 1.0 + 300 * -1.0) / 400)  # -0.5
    assert (noord["hotspot_buurten"], noord["buurten"], noord.geometry.area) == (1, 2, 20_000)
    empty = wijken.loc["WK2"]
    assert empty["inwoners"] == 0 and math.isnan(empty["aandeel_binnen_drempel"])
    assert empty["signaal"] == 2.0  # no residents anywhere: the plain mean


@pytest.mark.parametrize(("summary", "expected"), [
    ({}, (None, None)),
    ({"new_meeting_points": []}, (0, 0.0)),
    ({"new_meeting_points": [{"rank": 1, "newly_within": 120}, {"rank": 2, "newly_within": 30.5}]}, (2, 150.5)),
])
def test_proposal_figures_read_what_the_summary_has(summary: dict, expected: tuple) -> None:
    assert proposal_figures(summary) == expected


@pytest.mark.parametrize(("summary", "expected"), [
    ({}, (None, None)),
    ({"brokers_needed": 4, "broker_areas": [{"id": 1}, {"id": 2}]}, (4, 2)),
    ({"brokers_needed": 3}, (3, None)),
])
def test_broker_figures_read_what_the_summary_has(summary: dict, expected: tuple) -> None:
    assert broker_figures(summary) == expected


def _marker(code: str, total: float, within: float, one_person: float, **extra: object) -> dict:
    summary = {"year": 2024, "residents_total": total, "residents_within_threshold": within,
               "residents_beyond_threshold": total - within, "share_within_threshold": within / total,
               "threshold_m": 400, "distance_method": "network", "n_buurten": 5, "n_meeting_points": 2, "n_gaps": 1,
               "hotspot_buurten": ["BU1"], "reference": {"gemeente": {"alleen": one_person}}, **extra}
    return {"gemeente_code": code, "gemeente_name": f"Naam {code}", "status": "klaar", "summary": summary,
            "residents_in_hotspots": 10.0}


def test_gemeente_table_national_signal_totals_and_provinces() -> None:
    indicators = {"alleen": Indicator(key="alleen", label="Alleenwonend", cbs="X")}
    markers = [
        _marker("GM0001", 1000, 900, 10.0),
        _marker("GM0002", 2000, 1000, 20.0, brokers_needed=2),
        _marker("GM0003", 500, 500, 30.0, new_meeting_points=[{"rank": 1, "newly_within": 40}]),
        {"gemeente_code": "GM0004", "gemeente_name": "Kapot", "status": "mislukt", "error": "geen buurten"},
    ]
    provinces = {"GM0001": "Utrecht", "GM0002": "Utrecht", "GM0003": "Zeeland"}
    table = gemeente_table(markers, indicators, provinces)
    assert list(table["gemeentecode"]) == ["GM0002", "GM0001", "GM0003", "GM0004"]  # lowest share first, failed last
    signal = table.set_index("gemeentecode")["signaal_landelijk"]
    sd = np.std([10.0, 20.0, 30.0])  # population sd over the finished gemeenten
    assert signal["GM0001"] == pytest.approx(-10 / sd) and signal["GM0003"] == pytest.approx(10 / sd)
    assert math.isnan(signal["GM0004"])
    row = table.set_index("gemeentecode").loc["GM0003"]
    assert (row["nieuwe_ontmoetingspunten"], row["inwoners_nieuw_bereikt"]) == (1, 40.0)
    assert table.set_index("gemeentecode").loc["GM0004", "melding"] == "geen buurten"
    totals = national_totals(table)
    assert (totals["residents_total"], totals["residents_within_threshold"], totals["residents_beyond_threshold"]) == (3500, 2400, 1100)
    assert totals["share_within_threshold"] == pytest.approx(2400 / 3500)
    assert totals["gemeenten_failed"] == ["GM0004"] and totals["n_gemeenten_done"] == 3
    assert (totals["brokers_needed"], totals["n_new_meeting_points"], totals["threshold_m"]) == (2, 1, 400)
    per_province = province_table(table).set_index("provincie")
    assert per_province.loc["Utrecht", "aandeel_binnen_drempel"] == pytest.approx(1900 / 3000)
    assert per_province.loc["Zeeland", "inwoners"] == 500 and list(per_province.index) == ["Utrecht", "Zeeland"]


@pytest.mark.parametrize(("province", "count"), [
    ("Noord-Brabant", 56), ("Gelderland", 51), ("Zuid-Holland", 50), ("Noord-Holland", 44), ("Limburg", 31),
    ("Utrecht", 26), ("Overijssel", 25), ("Friesland", 18), ("Zeeland", 13), ("Drenthe", 12), ("Groningen", 10),
    ("flevoland", 6),
])
def test_gemeenten_per_province_2025(province: str, count: int) -> None:
    assert len(gemeenten.gemeenten_in_province(province, 2025)) == count


def test_every_gemeente_of_every_year_has_a_province() -> None:
    for year in range(gemeenten.FIRST_YEAR, gemeenten.LAST_YEAR + 1):
        assert all(g.province in gemeenten.PROVINCES.values() for g in gemeenten.gemeenten_in(year)), year
    assert gemeenten.find_gemeente("Ermelo", 2024).province == "Gelderland"
    assert gemeenten.find_gemeente("Appingedam", 2020).province == "Groningen"  # merged into Eemsdelta in 2021
    assert [g.name for g in gemeenten.gemeenten_in_province("PV24", 2024)][:2] == ["Almere", "Zeewolde"]


def test_an_unknown_province_suggests_one() -> None:
    with pytest.raises(DataError, match="Bedoelt u Gelderland"):
        gemeenten.gemeenten_in_province("Gelderlnd", 2024)
