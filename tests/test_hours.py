"""Opening hours: the day parts a meeting point is open, and reach per day part (P4c item 3).

Every expected value is worked out by hand in the comment beside it: the day parts from the
rule in :mod:`wijkanalyse.analysis.opening` (open >= 60 minutes of the part in >= 26 of the 52
weeks from Monday 1 January 2024), the distances from hand-built OSM (straight stretch to the
street + metres along it + straight stretch to the venue).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from wijkanalyse.analysis import opening
from wijkanalyse.analysis.opening import DAY_PARTS, open_day_parts
from wijkanalyse.config import load_config
from wijkanalyse.sources.files import SnapshotReader

from .osm_builder import OsmBuilder, snapshot_with


def parts(raw: object) -> list[str]:
    status, row = open_day_parts(raw)
    assert status == opening.KNOWN
    return [DAY_PARTS[i] for i in np.flatnonzero(row)]


def test_the_21_day_parts_in_week_order() -> None:
    assert len(DAY_PARTS) == 21
    assert DAY_PARTS[:4] == ("ma-ochtend", "ma-middag", "ma-avond", "di-ochtend")
    assert DAY_PARTS[-1] == "zo-avond"
    assert opening.DAY_PART_LABELS["di-avond"] == "dinsdagavond (18-23 uur)"


def test_tuesday_evening_only() -> None:
    assert parts("Tu 18:00-22:00") == ["di-avond"]  # 4 hours of the avond 18-23, every Tuesday
    assert parts("Tu 18:00-22:00; PH off") == ["di-avond"]  # a holiday does not change a weekly part


def test_office_hours_and_always_open() -> None:
    # 09-12 = 3 h of the ochtend, 12-17 = 5 h of the middag; 17:00 is before the avond
    assert parts("Mo-Fr 09:00-17:00") == [f"{d}-{p}" for d in ("ma", "di", "wo", "do", "vr") for p in ("ochtend", "middag")]
    assert parts("24/7") == list(DAY_PARTS)
    # 22:00-02:00: one hour (22-23) of each evening, the hours after midnight fall outside every part
    assert parts("Mo-Su 22:00-02:00") == [f"{d}-avond" for d in opening.DAYS]


def test_less_than_an_hour_of_a_part_is_not_open() -> None:
    assert parts("Mo-Su 07:00-08:30") == []  # 30 minutes of each ochtend
    assert parts("Tu 11:30-12:30") == []  # 30 minutes of the ochtend, 30 of the middag
    assert parts("off") == []


def test_once_a_month_is_no_weekly_part_but_a_season_is() -> None:
    # the first Monday of each month: 12 of the 52 Mondays < 26
    assert parts("Mo[1] 14:00-17:00") == []
    # Tuesdays of Sep-Jun: 26 in Jan-Jun 2024 + 17 in Sep-Dec (3,10,17,24 / 1,8,15,22,29 / 5,12,19,26 / 3,10,17,24) = 43 >= 26
    assert parts("Sep-Jun Tu 10:00-12:00") == ["di-ochtend"]


def test_unknown_and_unparseable_never_crash() -> None:
    for raw in (None, "", "   ", math.nan):
        status, row = open_day_parts(raw)
        assert status == opening.UNKNOWN and not row.any()
    for raw in ("elke dinsdag", "ma t/m vr 9-17 uur", "Mo-Fr 25:00-26:00 <script>"):
        status, row = open_day_parts(raw)
        assert status == opening.UNPARSEABLE and not row.any()


def test_counted_and_the_distinct_sets() -> None:
    week = opening.opening_week(["Tu 18:00-22:00", "24/7", None, "elke dinsdag", "Tu 18:00-22:00"])
    meeting = np.array([True, True, True, True, False])  # the last is no meeting point
    assert list(week.n_open) == [1, 21, 0, 0, 1]
    assert list(week.status) == ["known", "known", "unknown", "unparseable", "known"]
    everyone = opening.counted(week, meeting, min_dagdelen=0, unknown_counts=True)
    assert list(everyone) == [True, True, True, True, False]
    strict = opening.counted(week, meeting, min_dagdelen=3, unknown_counts=False)
    assert list(strict) == [False, True, False, False, False]
    sets = opening.day_part_sets(week, everyone, unknown_counts=True)
    # two sets: di-avond {0, 1, 2, 3}; the 20 other parts {1, 2, 3} (unknown hours count in every part)
    assert len(sets) == 2
    by_parts = {tuple(p): list(np.flatnonzero(m)) for m, p in sets}
    assert by_parts[("di-avond",)] == [0, 1, 2, 3]
    assert by_parts[tuple(p for p in DAY_PARTS if p != "di-avond")] == [1, 2, 3]
    no_unknown = opening.day_part_sets(week, everyone, unknown_counts=False)
    assert {tuple(np.flatnonzero(m)) for m, _ in no_unknown} == {(0, 1), (1,)}


def _street_snapshot(demo_snapshot: Path, tmp_path: Path) -> Path:
    """One 1000 m street; venue A (Tu evening) 10 m north of x = 0, B (always) of x = 1000, C (unreadable) of x = 500.

    Cells 30 m north of the street at x = 100 (40 residents) and x = 900 (20):
    cell 1 -> A: 30 + 100 + 10 = 140 m; -> B: 30 + 900 + 10 = 940; -> C: 30 + 400 + 10 = 440 (> 400)
    cell 2 -> B: 30 + 100 + 10 = 140 m; -> A: 940; -> C: 440
    """
    osm = OsmBuilder(x0=60_000.0, y0=482_500.0)  # inside the demo gemeente (its west border is x = 60,000)
    osm.way([(0, 0), (1000, 0)], highway="residential")
    osm.venue(0, 10, amenity="community_centre", name="Buurthuis Dinsdagavond", opening_hours="Tu 18:00-22:00")
    osm.venue(1000, 10, amenity="community_centre", name="Wijkcentrum Altijd", opening_hours="Mo-Su 08:00-23:00")
    osm.venue(500, 10, amenity="community_centre", name="Soos <Onleesbaar>", opening_hours="elke dinsdag")
    return snapshot_with(demo_snapshot, tmp_path / "snap", osm, [(100, 30, 40), (900, 30, 20)])


def test_a_venue_open_only_on_tuesday_evening_counts_only_then(demo_snapshot: Path, tmp_path: Path) -> None:
    from wijkanalyse import pipeline

    result = pipeline.analyse(SnapshotReader(_street_snapshot(demo_snapshot, tmp_path)), load_config())
    hours = result.summary["open_hours"]
    # every meeting point counts by default: 40 + 20 within 400 m
    assert result.summary["residents_within_threshold"] == 60
    assert hours["meeting_points"] == 3 and hours["known"] == 2 and hours["unknown"] == 0
    assert hours["unparseable"] == [{"id": "node/100002", "name": "Soos <Onleesbaar>", "raw": "elke dinsdag"}]
    assert hours["searches"] == 2  # di-avond {A, B, C}; every other part {B, C}
    tuesday = hours["by_day_part"]["di-avond"]
    assert tuesday["residents_within_threshold"] == 60 and tuesday["share_within_threshold"] == 1.0
    assert tuesday["meeting_points_open"] == 3
    for part in DAY_PARTS:
        if part != "di-avond":  # only cell 2 (20 of 60) reaches B; C (440 m) reaches nobody
            assert hours["by_day_part"][part]["residents_within_threshold"] == 20
            assert hours["by_day_part"][part]["share_within_threshold"] == pytest.approx(1 / 3)
    table = result.open_hours.set_index("buurtcode")
    assert table["aandeel_di-avond"].dropna().eq(1.0).all()
    # Monday morning: cell 1's nearest open point is C (hours unknown: counts in every part), 440 m
    assert result.open_hours_distance["ma-ochtend"].tolist() == pytest.approx([440.0, 140.0], abs=0.01)
    assert result.open_hours_distance["di-avond"].tolist() == pytest.approx([140.0, 140.0], abs=0.01)
    venues = result.venues.set_index("naam")
    assert venues.loc["Buurthuis Dinsdagavond", "open_dagdelen"] == 1
    assert venues.loc["Wijkcentrum Altijd", "open_dagdelen"] == 21  # 8-12, 12-18, 18-23 every day
    assert venues.loc["Soos <Onleesbaar>", "openingstijden_status"] == "unparseable"


def test_min_dagdelen_leaves_out_the_tuesday_evening_venue(demo_snapshot: Path, tmp_path: Path) -> None:
    from wijkanalyse import config as config_module
    from wijkanalyse import pipeline

    cfg = load_config()
    cfg = config_module.replace(cfg, opening_hours=config_module.OpeningHoursSettings(min_dagdelen=3, unknown_counts=False))
    result = pipeline.analyse(SnapshotReader(_street_snapshot(demo_snapshot, tmp_path)), cfg)
    hours = result.summary["open_hours"]
    # A is open 1 day part (< 3), C's hours are unreadable (unknown_counts = false): only B counts
    assert result.summary["residents_within_threshold"] == 20
    assert [e["name"] for e in hours["excluded"]] == ["Buurthuis Dinsdagavond", "Soos <Onleesbaar>"]
    assert hours["searches"] == 1
    assert hours["by_day_part"]["di-avond"]["residents_within_threshold"] == 20
    assert not result.venues.set_index("naam").loc["Buurthuis Dinsdagavond", "ontmoetingspunt"]


def test_map_xlsx_and_report_show_the_day_parts(demo_snapshot: Path, tmp_path: Path) -> None:
    import openpyxl

    from wijkanalyse import pipeline
    from wijkanalyse.outputs import maps, report, tables

    result = pipeline.analyse(SnapshotReader(_street_snapshot(demo_snapshot, tmp_path)), load_config())
    data = maps.map_data(result)["day_parts"]
    assert len(data["labels"]) == 21 and data["labels"][5] == "dinsdagavond (18-23 uur)"
    codes = list(maps._map_buurten(result)["buurtcode"])
    inhabited = codes.index(result.residents["buurtcode"].iloc[0])
    assert data["c"][5][inhabited] == 0  # di-avond: 100 % within, the lightest class (as the reach view)
    assert data["c"][0][inhabited] > 0  # ma-ochtend: 1/3 within
    path = tables.write_xlsx(result, tmp_path / "b.xlsx")
    book = openpyxl.load_workbook(path)
    points = {row[0]: row for row in book["Openingstijden per punt"].iter_rows(min_row=2, values_only=True)}
    assert points["Buurthuis Dinsdagavond"][2:] == ("Tu 18:00-22:00", "ja", 1, "ja")
    assert points["Soos <Onleesbaar>"][2:5] == ("elke dinsdag", "niet te lezen", None)
    html = report.render_report(result)
    assert "Soos &lt;Onleesbaar&gt;: <code>elke dinsdag</code>" in html
    assert "dinsdag</td>" in html


def test_own_points_carry_openingstijden(tmp_path: Path) -> None:
    from wijkanalyse.sources.own_points import read_own_points

    csv = tmp_path / "punten.csv"
    csv.write_text(
        "naam;klasse;lat;lon;openingstijden\n"
        "Huiskamer Oost;buurthuis;52.1;5.1;Tu 18:00-22:00\n"
        "Bankje;buurthuis;52.1;5.2;\n",
        encoding="utf-8",
    )
    points = read_own_points(csv, load_config().venues).points
    assert points["openingstijden"].iloc[0] == "Tu 18:00-22:00"
    assert opening.open_day_parts(points["openingstijden"].iloc[1])[0] == opening.UNKNOWN  # empty cell
