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
    with pytest.raises(DataError, match="Bedoelt u Eenpersoonshuishoudens"):
        model.resolve_column(["Eenpersoonshuishoudens_30"], "Eenpersoonhuishoudens")


def test_ambiguous_stem_asks_for_the_full_name() -> None:
    with pytest.raises(DataError, match=r"dubbelzinnig.*VrijstaandeWoning_52, VrijstaandeWoning_60"):
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


def test_every_value_at_or_below_minus_99990_is_a_marker() -> None:
    raw = pd.Series([-99995, -99990, -99989, -99997.0, 0, -5], dtype=object)  # -99995: PDOK 2024
    cleaned = model.clean_markers(raw)
    assert cleaned.isna().tolist() == [True, True, False, True, False, False]
    assert cleaned.iloc[2] == -99989 and cleaned.iloc[5] == -5


def _fixture(table: str, entity: str) -> pd.DataFrame:
    import json
    from pathlib import Path

    path = Path(__file__).parent / "data" / "cbs" / table / f"{entity}.json"
    return pd.DataFrame(json.loads(path.read_text(encoding="utf-8"))["value"])


@pytest.mark.parametrize(("table", "column"), [("85984NED", "Koopwoningen_47"), ("85039NED", "Koopwoningen_40")])
def test_columns_resolve_through_dataproperties(table: str, column: str) -> None:
    rows, titles = _fixture(table, "TypedDataSet"), model.cbs_titles(_fixture(table, "DataProperties"))
    assert model.resolve_column(rows.columns, "Koopwoningen", table, titles) == column
    # by CBS title, as StatLine shows it
    assert model.resolve_column(rows.columns, "Gemiddelde WOZ-waarde van woningen", table, titles).startswith(
        "GemiddeldeWOZWaardeVanWoningen_")
    with pytest.raises(DataError, match="Bedoelt u Koopwoningen"):
        model.resolve_column(rows.columns, "Koopwoning", table, titles)


def test_reference_values_come_from_the_gemeente_and_nl00_rows() -> None:
    cbs = model.cbs_frame(_fixture("85984NED", "TypedDataSet"), "85984NED")
    config = load_config()
    ref = model.reference_values(cbs, "GM0999", config.indicators, "85984NED")
    assert ref.loc["eenpersoonshuishoudens", "gemeente"] == pytest.approx(40.0)  # 200 of 500 households
    assert ref.loc["ouderen", "gemeente"] == pytest.approx(25.0)  # 250 of 1,000 residents
    assert ref.loc["bijstand", "nederland"] == pytest.approx(100 * 400000 / 17942942)
    assert ref.loc["inkomen", "label"] == config.indicators["inkomen"].label
    none = model.reference_values(cbs[cbs["soort"] == "buurt"], "GM0999", config.indicators)
    assert none[["gemeente", "nederland"]].isna().all().all()


def test_missing_shares_per_indicator() -> None:
    frame = pd.DataFrame({"a": [1.0, np.nan, np.nan, np.nan], "b": [1.0, 2.0, np.nan, 4.0]})
    assert model.indicator_missing_shares(frame, ["a", "b"]) == {"a": 0.75, "b": 0.25}
