"""Kernen: the village or town of each buurt (model.assign_kernen) and figures per kern."""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import pytest
from shapely.geometry import box

from wijkanalyse.analysis.kernen import KERN_COLUMNS, kern_table
from wijkanalyse.config import Kernen
from wijkanalyse.model import assign_kernen
from wijkanalyse.result import Hotspot

HOT = Hotspot.HOT
NOT = Hotspot.NONE


@pytest.fixture
def buurten() -> gpd.GeoDataFrame:
    """Four buurten in three wijken; the last wijk has no name."""
    frame = gpd.GeoDataFrame(
        {
            "buurtcode": ["BU99990101", "BU99990102", "BU99990201", "BU99990301"],
            "wijkcode": ["WK999901", "WK999901", "WK999902", "WK999903"],
            "wijknaam": ["Stad-Noord", "Stad-Noord", "Stad-Zuid", None],
            "inwoners": [1000, 3000, 500, 0],
            "inwoners_binnen_drempel": [900, 1500, 0, 0],
            "signaal": [1.0, -1.0, float("nan"), 2.0],
            "hotspot": [HOT, NOT, NOT, HOT],
        },
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, -1, 2, 0), box(5, 5, 6, 6)],
        crs=28992,
    )
    frame.index = frame["buurtcode"].to_numpy()
    return frame


def test_default_kern_is_the_wijk_name_or_code(buurten: gpd.GeoDataFrame) -> None:
    kern = assign_kernen(buurten)
    assert kern.name == "kern"
    assert kern.tolist() == ["Stad-Noord", "Stad-Noord", "Stad-Zuid", "WK999903"]
    assert list(kern.index) == list(buurten.index)


def test_config_maps_wijken_and_buurten_buurt_wins(
    buurten: gpd.GeoDataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    config = Kernen(
        wijken={"WK999901": "Stad", "WK999902": "Stad", "WK999999": "Elders"},
        buurten={"BU99990102": "Gehucht"},
    )
    with caplog.at_level(logging.WARNING, logger="wijkanalyse"):
        kern = assign_kernen(buurten, config)
    assert kern.tolist() == ["Stad", "Gehucht", "Stad", "WK999903"]
    assert "WK999999" in caplog.text  # a code of another gemeente or year is reported, not hidden


def test_kern_table_by_hand(buurten: gpd.GeoDataFrame) -> None:
    buurten["kern"] = assign_kernen(buurten, Kernen(wijken={"WK999901": "Stad", "WK999902": "Stad"}))
    table = kern_table(buurten)
    assert list(table.columns) == [*KERN_COLUMNS, "geometry"]
    assert table.index.tolist() == ["Stad", "WK999903"]
    stad = table.loc["Stad"]
    assert stad["buurtcodes"] == "BU99990101,BU99990102,BU99990201"
    assert stad["n_buurten"] == 3
    assert stad["inwoners"] == 4500
    assert stad["inwoners_binnen_drempel"] == 2400
    assert stad["aandeel_binnen_drempel"] == pytest.approx(2400 / 4500)
    # resident-weighted signal; the buurt without a signal is left out: (1000 x 1 + 3000 x -1) / 4000
    assert stad["signaal"] == pytest.approx(-0.5)
    assert stad["hotspot_buurten"] == 1 and stad["inwoners_in_hotspot"] == 1000
    assert stad.geometry.area == pytest.approx(4.0)
    empty = table.loc["WK999903"]
    assert empty["inwoners"] == 0
    assert math.isnan(empty["aandeel_binnen_drempel"]) and math.isnan(empty["signaal"])


def test_buurten_without_any_wijk_name_get_their_wijkcode_as_kern() -> None:
    """A wijk table without names (all missing, so a float column) falls back to the codes, silently."""
    import numpy as np
    import pandas as pd

    from wijkanalyse.model import assign_kernen

    buurten = pd.DataFrame({"buurtcode": ["BU00010101", "BU00010201"], "wijkcode": ["WK000101", "WK000102"],
                            "wijknaam": [np.nan, np.nan]})
    assert assign_kernen(buurten).tolist() == ["WK000101", "WK000102"]
