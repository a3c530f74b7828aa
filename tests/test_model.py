"""Raw source data -> canonical frames: privacy markers, column suffixes, CRS, resident points."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from wijkanalyse import model
from wijkanalyse.config import Indicator, load_config
from wijkanalyse.errors import DataError

from .conftest import shared_data


def test_privacy_markers_become_missing() -> None:
    raw = pd.Series([12, -99997, -99999999, ".", " 7 ", None], dtype=object)
    cleaned = model.clean_markers(raw)
    assert cleaned.iloc[0] == 12 and cleaned.iloc[4] == 7
    assert cleaned.iloc[1:4].isna().all() and np.isnan(cleaned.iloc[5])


def test_columns_resolve_by_stem_across_years() -> None:
    cols_2024 = ["ID", "AantalInwoners_5", "Eenpersoonshuishoudens_30", "HuishoudensTotaal_29"]
    assert model.resolve_column(cols_2024, "Eenpersoonshuishoudens") == "Eenpersoonshuishoudens_30"
    assert model.resolve_column(["Eenpersoonshuishoudens_29"], "Eenpersoonshuishoudens") == "Eenpersoonshuishoudens_29"
    assert model.resolve_column(cols_2024, "AantalInwoners_5") == "AantalInwoners_5"


def test_unknown_column_suggests_the_near_one() -> None:
    with pytest.raises(DataError, match="Did you mean Eenpersoonshuishoudens"):
        model.resolve_column(["Eenpersoonshuishoudens_30"], "Eenpersoonhuishoudens")


def test_ambiguous_stem_asks_for_the_full_name() -> None:
    with pytest.raises(DataError, match=r"ambiguous.*VrijstaandeWoning_52, VrijstaandeWoning_60"):
        model.resolve_column(["VrijstaandeWoning_52", "VrijstaandeWoning_60"], "VrijstaandeWoning")


def test_cbs_rows_from_odata_and_from_cbsodata_give_the_same_codes() -> None:
    odata = pd.DataFrame({
        "WijkenEnBuurten": ["GM0233    ", "WK023301  ", "BU02330101"],
        "Gemeentenaam_1": ["Ermelo" + " " * 34] * 3,
        "SoortRegio_2": ["Gemeente  ", "Wijk      ", "Buurt     "],
        "Codering_3": ["GM0233    ", "WK023301  ", "BU02330101"],
        "AantalInwoners_5": [27000, 5000, "."],
    })
    cbsodata_style = odata.assign(WijkenEnBuurten=["Ermelo", "Oud Ermelo", "Centrum"])
    a, b = model.cbs_frame(odata), model.cbs_frame(cbsodata_style)
    assert list(a.index) == list(b.index) == ["GM0233", "WK023301", "BU02330101"]
    assert list(a["soort"]) == ["gemeente", "wijk", "buurt"]
    assert a.loc["GM0233", "naam"] == "Ermelo"
    assert b.loc["WK023301", "naam"] == "Oud Ermelo"
    assert np.isnan(model.cbs_values(a, "AantalInwoners").loc["BU02330101"])


def test_indicator_per_makes_a_percentage() -> None:
    cbs = pd.DataFrame({"Eenpersoonshuishoudens_30": [30, 5], "HuishoudensTotaal_29": [120, 0]})
    ind = Indicator(key="eenpers", label="", cbs="Eenpersoonshuishoudens", per="HuishoudensTotaal")
    values = model.indicator_values(cbs, ind)
    assert values.iloc[0] == pytest.approx(25.0)
    assert np.isnan(values.iloc[1])  # no households: no share, not infinity


def test_ermelo_grid_becomes_resident_points() -> None:
    """Real CBS data: the 2020 100 m grid on the 2021 Ermelo buurten."""
    grid = gpd.read_file(shared_data("ermelo_cbs_vierkant100m_2020", "CBS_Statistiek.gpkg"))
    polygons = gpd.read_file(shared_data("ermelo_cbs_wijkbuurtkaart_2021", "CBS_buurten.gpkg"))
    buurten = polygons.rename(columns=str.lower)[["buurtcode", "geometry"]].copy()
    residents = model.residents_frame(grid, buurten)
    assert residents.crs == model.CRS
    assert set(residents["buurtcode"]) <= set(buurten["buurtcode"])
    total = residents["inwoners"].sum()
    # PROVENANCE: 25,935 residents in the unsuppressed Ermelo cells; border cells shift a few hundred
    assert 25_000 < total < 27_000
    ermelo = grid[grid["gemeentenaam"] == "Ermelo"]
    suppressed = (ermelo["aantal_inwoners"] == -99997).sum()
    assert suppressed > 0
    assert abs(residents["inwoners"].isna().sum() - suppressed) <= 3
    assert (residents["inwoners"].dropna() > 0).all()


def test_venues_without_any_match_give_an_empty_frame() -> None:
    venues = model.venues_frame(gpd.GeoDataFrame(geometry=[], crs=4326), load_config().venues)
    assert venues.empty and venues.crs == model.CRS
