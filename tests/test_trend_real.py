"""The yearly cycle on real Ermelo polygons of two years and a simulated third (../shared/data; skipped when absent).

The years, built as tests/test_compare_real.py builds its runs (the same fixtures):

* 2021: the real 2021 buurt polygons;
* 2024: the redivision simulated from them after the 2024 figures (renumbered, split, merged);
* 2025: the 2024 division again, with every bench east of the median bench removed (a budget cut).

Residents are the real 2020 CBS 100 m grid in every year; "within the threshold" is 400 m as the
crow flies from a bench (BGT+ ``bank``). So the expected figures follow by construction: 2021 and
2024 hold the same people and benches, so on the newest division every buurt has the same share in
both (re-weighting by resident cells); 2025 can only lose reach; a kern's share is the sum of its
buurten; the verdict comes from a line fitted with numpy.polyfit (another least-squares code).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from wijkanalyse.analysis.trend import YearRun, trend_buurten

from .test_compare_real import _run, buurten_2024, polygons_2021, polygons_new, residents  # noqa: F401 (fixtures)

TARGET = 0.85


def _kern(buurten: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Kern = the wijk of the buurtcode (BU0233WWBB -> wijk WW), as the default config does."""
    return buurten.assign(kern=["wijk " + code[6:8] for code in buurten.index])


@pytest.fixture(scope="module")
def trend(polygons_2021: gpd.GeoDataFrame, polygons_new: gpd.GeoDataFrame,  # noqa: F811
          residents: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]):  # noqa: F811
    grid, benches = residents
    east = benches.geometry.x > np.median(benches.geometry.x)
    runs = []
    for year, polygons, seats in ((2021, polygons_2021, benches), (2024, polygons_new, benches),
                                  (2025, polygons_new, benches[~east])):
        buurten, cells = _run(polygons, grid, seats)
        runs.append(YearRun(year, _kern(buurten), cells))
    return trend_buurten(runs[::-1], target=TARGET, target_year=2027), runs


def test_same_people_same_benches_same_share(trend) -> None:
    t, runs = trend
    b = t.buurten.pivot(index="buurtcode", columns="jaar", values="aandeel_binnen_drempel")
    people = t.buurten.pivot(index="buurtcode", columns="jaar", values="inwoners")
    assert set(b.index) == set(runs[-1].buurten.index) and len(b) == 16  # 16 old, 2 merged into 1, 1 split in 2
    assert (people[2021] == people[2024]).all() and (people[2024] == people[2025]).all()
    assert np.allclose(b[2021], b[2024], equal_nan=True)
    assert (b[2025].fillna(0) <= b[2024].fillna(0) + 1e-12).all() and (b[2025] < b[2024]).any()
    # 2021 on the 2025 division: all of 2021's residents (nobody outside the new division)
    assert t.gemeente["inwoners_buiten_indeling"].tolist() == [0, 0, 0]
    assert t.summary["matching_per_year"]["2021"]["matching"]["split"] == 2


def test_kern_share_and_verdict_by_hand(trend) -> None:
    t, _ = trend
    v = t.verdicts.set_index(["niveau", "code"])
    years = np.array([2021, 2024, 2025])
    for kern, part in t.buurten.groupby("kern"):
        shares = []
        for year in years:
            rows = part[part["jaar"] == year]
            shares.append(rows["inwoners_binnen_drempel"].sum() / rows["inwoners"].sum())
        k = t.kernen[t.kernen["kern"] == kern]
        assert np.allclose(k["aandeel_binnen_drempel"], shares)
        slope, intercept = np.polyfit(years, shares, 1)
        at_2027 = intercept + slope * 2027
        status = "reached" if shares[-1] >= TARGET else "on_track" if at_2027 >= TARGET else "off_track"
        row = v.loc[("kern", kern)]
        assert row["status"] == status, kern
        assert row["helling_pp_per_jaar"] == pytest.approx(100 * slope, abs=1e-9)
        assert row["aandeel_doeljaar"] == pytest.approx(at_2027)
    g = t.gemeente
    assert (g["inwoners"] == g["inwoners_binnen_drempel"] + g["inwoners_buiten_drempel"]).all()
    assert g["aandeel_binnen_drempel"].iloc[-1] < g["aandeel_binnen_drempel"].iloc[0]  # the cut lowers the share
    assert v.loc[("gemeente", ""), "helling_pp_per_jaar"] < 0
