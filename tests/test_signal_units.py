"""Unit tests of the signal, the hot spots, the gaps and the candidate sites, on tiny hand-made inputs.

Every expected number is worked out by hand in the comment beside it, or (the hot spots)
comes from a direct call of esda's Moran_Local with weights built independently
(libpysal's ``lat2W`` queen lattice). None of them needs ../shared/data.
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from wijkanalyse.analysis.candidates import candidate_sites, gap_centres, straight_line_cover
from wijkanalyse.analysis.gaps import find_gaps
from wijkanalyse.analysis.hotspots import local_moran_hotspots
from wijkanalyse.analysis.signal import composite_signal, zscores
from wijkanalyse.config import Indicator, VenueClass
from wijkanalyse.result import QUADRANT_CODES, Hotspot

CRS = "EPSG:28992"
C = math.sqrt(1.5)  # 1 / sqrt(2/3): the z-score of a value 1 from the mean when the population sd is sqrt(2/3)

# ------------------------------------------------------------------------------------ signal


def test_zscores_use_the_population_sd_and_skip_missing_values() -> None:
    # 1, 2, 3: mean 2, population sd sqrt((1 + 0 + 1) / 3) = sqrt(2/3), so z = -sqrt(1.5), 0, sqrt(1.5)
    z = zscores(pd.Series([1.0, 2.0, np.nan, 3.0], index=list("abcd")))
    assert list(z.index) == list("abcd")
    np.testing.assert_allclose(z.to_numpy(), [-C, 0.0, np.nan, C], atol=1e-12)


def test_zscores_of_a_constant_are_zero_and_of_nothing_missing() -> None:
    assert zscores(pd.Series([5.0, np.nan, 5.0])).tolist()[::2] == [0.0, 0.0]
    assert np.isnan(zscores(pd.Series([5.0, np.nan, 5.0])).iloc[1])
    assert zscores(pd.Series([np.nan, np.nan])).isna().all()
    assert zscores(pd.Series([7.0])).tolist() == [0.0]  # one value: sd 0


def test_composite_signal_is_the_weighted_mean_of_the_known_signed_zscores() -> None:
    frame = pd.DataFrame({
        "a": [1.0, 3.0, np.nan, 2.0, np.nan],  # mean 2, sd sqrt(2/3): z = -C, C, -, 0
        "b": [4.0, np.nan, 2.0, 0.0, np.nan],  # mean 2, sd sqrt(8/3): z = C, -, 0, -C; lower is worse: -C, -, 0, C
    }, index=["BU1", "BU2", "BU3", "BU4", "BU5"])
    indicators = {
        "a": Indicator("a", "A", "A_cbs", weight=2.0),
        "b": Indicator("b", "B", "B_cbs", weight=1.0, higher_is_worse=False),
    }
    signal = composite_signal(frame, indicators)
    assert signal.name == "signaal" and list(signal.index) == list(frame.index)
    # BU1 (2 * -C + 1 * -C) / 3 = -C; BU2 only a: C; BU3 only b: 0; BU4 (2 * 0 + C) / 3; BU5 nothing known
    np.testing.assert_allclose(signal.to_numpy(), [-C, C, 0.0, C / 3, np.nan], atol=1e-12)


def test_an_indicator_of_weight_zero_counts_for_nothing() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [30.0, 20.0, np.nan]})
    signal = composite_signal(frame, {"a": Indicator("a", "A", "x"), "b": Indicator("b", "B", "y", weight=0.0)})
    np.testing.assert_allclose(signal.to_numpy(), [-C, 0.0, C], atol=1e-12)  # a alone


# --------------------------------------------------------------------------------- hot spots


def _moran_local(moran_local, y: np.ndarray, w, **kwargs):
    """esda's Moran_Local, quiet about its announced switch to two-sided p-values (the code keeps the directed ones)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return moran_local(y, w, **kwargs)


def _grid(values: list[float]) -> gpd.GeoDataFrame:
    """A 3 x 3 grid of 100 m squares, row by row from the south-west: square k = row * 3 + column."""
    squares = [box(100 * c, 100 * r, 100 * (c + 1), 100 * (r + 1)) for r in range(3) for c in range(3)]
    return gpd.GeoDataFrame({"signaal": values}, geometry=squares, crs=CRS, index=[f"BU{k}" for k in range(9)])


def test_hot_spots_are_esda_moran_local_on_the_queen_lattice() -> None:
    """The same figures as Moran_Local called directly with libpysal's 3 x 3 queen lattice, row-standardised."""
    from esda.moran import Moran_Local
    from libpysal.weights import lat2W

    values = [9.0, 8.0, 1.0, 8.0, 7.0, 2.0, 1.0, 2.0, 0.5]  # high in the south-west corner, low in the north-east
    got = local_moran_hotspots(_grid(values), alpha=0.2, permutations=999, seed=7)
    w = lat2W(3, 3, rook=False)  # ids row by row, as the squares of _grid
    w.transform = "r"
    assert w.cardinalities == {0: 3, 1: 5, 2: 3, 3: 5, 4: 8, 5: 5, 6: 3, 7: 5, 8: 3}  # corners 3, edges 5, centre 8
    lisa = _moran_local(Moran_Local, np.array(values), w, permutations=999, seed=7, keep_simulations=False)
    np.testing.assert_allclose(got["hotspot_p"].to_numpy(), lisa.p_sim)
    significant = lisa.p_sim < 0.2
    assert got["hotspot_q"].tolist() == np.where(significant, lisa.q, 0).tolist()
    assert got["hotspot"].tolist() == [QUADRANT_CODES[int(q)] for q in np.where(significant, lisa.q, 0)]
    # by hand, the quadrant of the south-west corner: its value 9 is above the mean (38.5 / 9 = 4.28) and so is
    # the mean of its neighbours 8, 8, 7 (7.67): high among high, quadrant 1
    assert lisa.q[0] == 1
    # and its local I: (n - 1) z_0 * lag_0 / sum(z^2), with z the deviations from the mean (esda's formula)
    z = np.array(values) - np.mean(values)
    lag0 = (z[1] + z[3] + z[4]) / 3
    assert lisa.Is[0] == pytest.approx(8 * z[0] * lag0 / (z**2).sum())
    assert significant.any()  # the test compares a classification, not only "niet significant"


def test_a_buurt_without_a_value_or_without_neighbours_is_not_significant() -> None:
    grid = _grid([9.0, 8.0, 1.0, 8.0, 7.0, 2.0, 1.0, 2.0, np.nan])
    island = gpd.GeoDataFrame({"signaal": [100.0]}, geometry=[box(5000, 5000, 5100, 5100)], crs=CRS, index=["BUeiland"])
    got = local_moran_hotspots(pd.concat([grid, island]), alpha=0.2, permutations=99, seed=1)
    for code in ("BU8", "BUeiland"):
        assert got.loc[code, "hotspot"] == Hotspot.NONE
        assert np.isnan(got.loc[code, "hotspot_p"]) and got.loc[code, "hotspot_q"] == 0
    # the other eight are Moran_Local on the lattice without its north-east corner: squares 0..7
    from esda.moran import Moran_Local
    from libpysal.weights import W

    full = {k: set() for k in range(8)}
    for k in range(8):
        for m in range(8):
            if k != m and abs(k // 3 - m // 3) <= 1 and abs(k % 3 - m % 3) <= 1:
                full[k].add(m)
    w = W({k: sorted(v) for k, v in full.items()})
    w.transform = "r"
    lisa = _moran_local(Moran_Local, grid["signaal"].to_numpy()[:8], w, permutations=99, seed=1, keep_simulations=False)
    np.testing.assert_allclose(got["hotspot_p"].to_numpy()[:8], lisa.p_sim)


def test_fewer_than_three_values_give_no_hot_spots() -> None:
    got = local_moran_hotspots(_grid([1.0, 5.0] + [np.nan] * 7))
    assert (got["hotspot"] == Hotspot.NONE).all() and got["hotspot_p"].isna().all()


# -------------------------------------------------------------------------------------- gaps


def _residents() -> gpd.GeoDataFrame:
    """Cell centres (100 m cells) with residents, buurt and walking distance; threshold 400 m."""
    rows = [  # x, y, inwoners, buurtcode, afstand_m
        (50, 50, 10.0, "BU1", 500.0),  # gap A
        (150, 50, np.nan, "BU1", 450.0),  # gap A: shares an edge with the first; suppressed count
        (250, 150, 5.0, "BU2", np.inf),  # gap A: shares a corner (200, 100) with the second; no meeting point reachable
        (50, 150, 40.0, "BU1", 400.0),  # exactly 400 m: covered, though beside gap A
        (650, 50, 30.0, "BU3", 800.0),  # gap B, on its own
        (450, 50, 20.0, "BU3", 100.0),  # covered
    ]
    x, y, people, code, dist = zip(*rows, strict=True)
    return gpd.GeoDataFrame({"inwoners": people, "buurtcode": code, "afstand_m": dist},
                            geometry=gpd.points_from_xy(x, y), crs=CRS)


def test_gaps_merge_cells_touching_at_an_edge_or_a_corner_largest_first() -> None:
    gaps = find_gaps(_residents(), 400.0)
    assert gaps["gat_id"].tolist() == [1, 2]
    # gap B first: 30 residents; gap A: 10 + 0 (suppressed) + 5 = 15 in three cells
    assert gaps["inwoners"].tolist() == [30.0, 15.0]
    assert gaps["cellen"].tolist() == [1, 3]
    assert gaps["buurtcodes"].tolist() == ["BU3", "BU1,BU2"]
    assert gaps["afstand_max_m"].iloc[0] == 800.0
    assert np.isnan(gaps["afstand_max_m"].iloc[1])  # one of its cells reaches no meeting point
    assert gaps.geometry.area.tolist() == pytest.approx([10_000.0, 30_000.0])  # the cells' own squares, not grown
    assert gaps.geometry.iloc[0].equals(box(600, 0, 700, 100))


def test_no_cell_beyond_the_threshold_gives_no_gaps() -> None:
    gaps = find_gaps(_residents(), 1000.0)  # the inf cell is still beyond any threshold
    assert gaps["cellen"].tolist() == [1] and gaps["buurtcodes"].tolist() == ["BU2"]
    covered = _residents()
    covered["afstand_m"] = 10.0
    empty = find_gaps(covered, 400.0)
    assert empty.empty and list(empty.columns) == ["gat_id", "inwoners", "cellen", "buurtcodes", "afstand_max_m", "geometry"]


def test_gap_centres_weigh_the_cells_by_their_residents() -> None:
    residents = _residents()
    gaps = find_gaps(residents, 400.0)
    centres = gap_centres(gaps, residents).set_index("gat_id")
    assert centres.loc[1].geometry.equals(shapely.Point(650, 50))
    # gap 2: weights 10, 1 (suppressed weighs 1), 5 -> x = (500 + 150 + 1250) / 16, y = (500 + 50 + 750) / 16
    assert (centres.loc[2].geometry.x, centres.loc[2].geometry.y) == pytest.approx((118.75, 81.25))
    assert centres["inwoners"].tolist() == [30.0, 15.0]


def test_a_gap_of_empty_cells_gets_its_plain_centre() -> None:
    residents = _residents().iloc[[0, 1]].copy()
    residents["inwoners"] = 0.0
    gaps = find_gaps(residents, 400.0)
    centre = gap_centres(gaps, residents).geometry.iloc[0]
    assert (centre.x, centre.y) == pytest.approx((100.0, 50.0))  # midway between (50, 50) and (150, 50)


# -------------------------------------------------------------------------------- candidates

CLASSES = {
    "school": VenueClass("school", "School", meeting_point=False, tags={"amenity": ("school",)}),
    "sporthal": VenueClass("sporthal", "Sporthal", meeting_point=False, tags={"leisure": ("sports_hall",)}),
    "buurthuis": VenueClass("buurthuis", "Buurthuis", meeting_point=True, tags={"amenity": ("community_centre",)}),
}


def _buurten() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"buurtcode": ["BU1", "BU2"], "buurtnaam": ["West", "Oost"], "kern": ["Dorp", "Stad"]},
                            geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], crs=CRS)


def test_candidate_sites_in_a_fixed_order_with_their_buurt() -> None:
    venues = gpd.GeoDataFrame({
        "naam": ["De Linde", None, "Het Anker", "Sporthal Zuid"],
        "categorie": ["school", "school", "buurthuis", "sporthal"],
        "categorie_label": ["School", "School", "Buurthuis", "Sporthal"],
        "ontmoetingspunt": [False, False, True, False],
        "bron": ["OpenStreetMap"] * 4,
    }, geometry=gpd.points_from_xy([100, 1500, 200, 300], [100, 500, 200, 300]), crs=CRS)
    own = gpd.GeoDataFrame({
        "naam": [None, "Kerkzaal"], "categorie": ["sporthal", "kerk"], "bron": ["eigen.csv", "eigen.csv"],
        "kosten_per_jaar": [12_000.0, np.nan],
    }, geometry=gpd.points_from_xy([1800, 2300], [800, 500]), crs=CRS)
    centres = gpd.GeoDataFrame({"gat_id": [1, 2], "inwoners": [30.0, 15.0]},
                               geometry=gpd.points_from_xy([500, 5000], [500, 500]), crs=CRS)
    sites = candidate_sites(venues, CLASSES, candidate_classes=("school",), own=own, centres=centres, buurten=_buurten())
    # the two schools (not the buurthuis: a meeting point; not the sporthal: not a candidate class),
    # then the gemeente's two sites, then the two gap centres
    assert sites["naam"].tolist() == [
        "De Linde", "School", "Sporthal", "Kerkzaal", "Nieuwe plek in West (gat 1)", "Nieuwe plek in het buitengebied (gat 2)",
    ]
    assert sites["soort"].tolist() == ["school", "school", "gemeente", "gemeente", "gat", "gat"]
    assert sites["soort_label"].tolist()[2:4] == ["Eigen kandidaat: Sporthal", "Eigen kandidaat: kerk"]
    assert sites["bron"].tolist() == ["OpenStreetMap", "OpenStreetMap", "eigen.csv", "eigen.csv", "berekend", "berekend"]
    np.testing.assert_array_equal(sites["kosten_per_jaar"].to_numpy(), [np.nan, np.nan, 12_000.0, np.nan, np.nan, np.nan])
    # (2300, 500) is 300 m east of Oost: the nearest buurt within 500 m; (5000, 500) is 3 km off: none
    assert sites["buurtcode"].tolist()[:5] == ["BU1", "BU2", "BU2", "BU2", "BU1"]
    assert sites["kern"].tolist()[:5] == ["Dorp", "Stad", "Stad", "Stad", "Dorp"]
    assert pd.isna(sites["buurtcode"].iloc[5]) and pd.isna(sites["buurtnaam"].iloc[5])
    assert list(sites.columns) == ["naam", "soort", "soort_label", "bron", "kosten_per_jaar", "buurtcode", "buurtnaam",
                                   "kern", "geometry"]


def test_no_candidates_give_an_empty_frame() -> None:
    venues = gpd.GeoDataFrame({"naam": ["Het Anker"], "categorie": ["buurthuis"], "categorie_label": ["Buurthuis"],
                               "ontmoetingspunt": [True]}, geometry=gpd.points_from_xy([1], [1]), crs=CRS)
    empty = gpd.GeoDataFrame({"gat_id": [], "inwoners": []}, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    sites = candidate_sites(venues, CLASSES, candidate_classes=("school",), own=None, centres=empty, buurten=_buurten())
    assert sites.empty


def test_straight_line_cover_holds_the_pairs_within_the_limit() -> None:
    candidates = gpd.GeoSeries(gpd.points_from_xy([0, 300], [0, 0]), crs=CRS)
    residents = gpd.GeoSeries(gpd.points_from_xy([0, 30, 400, 0], [0, 40, 0, 401]), crs=CRS)
    cover = straight_line_cover(candidates, residents, 400.0)
    assert cover.shape == (2, 4)
    # candidate 0: itself 0 (kept as 1e-6 so it stays an entry), 50 (3-4-5), 400 (at the limit: in), 401 (out)
    # candidate 1: 300, sqrt(270^2 + 40^2) = 272.95, 100, sqrt(300^2 + 401^2) = 500.8 (out)
    expected = np.array([[1e-6, 50.0, 400.0, 0.0], [300.0, math.hypot(270, 40), 100.0, 0.0]])
    np.testing.assert_allclose(cover.toarray(), expected, rtol=0, atol=1e-9)
    assert cover.nnz == 6
