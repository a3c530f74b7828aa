"""Real CBS data from ../shared/data: the loaders and the hot-spot analysis find known patterns.

Amsterdam, 2024 figures on the 2022 buurt polygons: house values (WOZ) and owner-occupation
are lowest in Nieuw-West (stadsdeel F) and Zuidoost (T), highest in Zuid (K) and Centrum (A).
The shared JSON is a reshaped copy of the CBS table, so it is turned back into OData rows here.
"""

from __future__ import annotations

import collections
import json

import geopandas as gpd
import pandas as pd
import pytest

from wijkanalyse import model
from wijkanalyse.analysis import composite_signal, local_moran_hotspots
from wijkanalyse.config import Indicator

from .conftest import shared_data

INDICATORS = {
    "woz": Indicator("woz", "WOZ-waarde", "GemiddeldeWOZWaardeVanWoningen", higher_is_worse=False),
    "koop": Indicator("koop", "Koopwoningen", "Koopwoningen", higher_is_worse=False),
}


@pytest.fixture(scope="module")
def raw() -> dict:
    return json.loads(shared_data("cbs_kerncijfers_2024_per_gemeente", "GM0363.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def amsterdam(raw: dict) -> gpd.GeoDataFrame:
    rows = [
        {
            "WijkenEnBuurten": b["code"].ljust(10),
            "SoortRegio_2": "Buurt     ",
            "Codering_3": b["code"].ljust(10),
            "AantalInwoners_5": b["demografie"]["inwoners"],
            "GemiddeldeWOZWaardeVanWoningen_39": b["demografie"]["wozWaarde"],
            "Koopwoningen_47": b["demografie"]["koopwoningen"],  # 85984NED's real column names
            "GemiddeldInkomenPerInwoner_78": b["demografie"]["inkomenPerInwoner"],
        }
        for b in raw["buurten"]
    ]
    cbs = model.cbs_frame(pd.DataFrame(rows), "85984NED")
    polygons = gpd.read_file(shared_data("amsterdam_buurten_2022", "buurten.geojson"))
    polygons = polygons.rename(columns={"cbsCode": "buurtcode", "naam": "buurtnaam"})
    buurten = model.buurten_frame(polygons, cbs, "GM0363", INDICATORS, table="85984NED")
    buurten["signaal"] = composite_signal(buurten, INDICATORS)
    return buurten.join(local_moran_hotspots(buurten, "signaal", permutations=999, seed=1))


def test_polygons_join_the_cbs_figures(amsterdam: gpd.GeoDataFrame, raw: dict) -> None:
    assert amsterdam.crs == model.CRS  # reprojected from lon/lat
    assert len(amsterdam) == 518
    # PROVENANCE: all 517 CBS buurt codes join; CBS keeps the count of some small buurten secret
    published = {b["code"]: b["demografie"]["inwoners"] for b in raw["buurten"]}
    assert set(published) <= set(amsterdam["buurtcode"])
    known = {c: v for c, v in published.items() if v is not None}
    assert amsterdam["inwoners_cbs"].notna().sum() == len(known)
    assert amsterdam["inwoners_cbs"].sum() == sum(known.values())
    assert amsterdam.set_index("buurtcode").loc["BU0363KA05", "inwoners_cbs"] == 2175


def test_known_clusters_of_low_house_values(amsterdam: gpd.GeoDataFrame) -> None:
    stadsdeel = amsterdam["buurtcode"].str[6]
    hot = collections.Counter(stadsdeel[amsterdam["hotspot_q"] == 1])
    cold = collections.Counter(stadsdeel[amsterdam["hotspot_q"] == 3])
    assert sum(hot.values()) >= 20
    assert (hot["F"] + hot["T"]) / sum(hot.values()) >= 0.6  # Nieuw-West and Zuidoost
    assert hot["A"] == 0 and hot["K"] == 0  # never Centrum or Zuid
    assert cold.most_common(1)[0][0] == "K"  # Zuid is the largest cold spot


def test_income_missing_for_most_buurten_is_measured(amsterdam: gpd.GeoDataFrame, raw: dict) -> None:
    # the first 2024 release gives income for 150 of Amsterdam's 517 buurten
    income = Indicator("inkomen", "Inkomen", "GemiddeldInkomenPerInwoner", higher_is_worse=False)
    rows = [{"WijkenEnBuurten": b["code"].ljust(10), "SoortRegio_2": "Buurt     ", "AantalInwoners_5": 0,
             "GemiddeldInkomenPerInwoner_78": b["demografie"]["inkomenPerInwoner"]} for b in raw["buurten"]]
    cbs = model.cbs_frame(pd.DataFrame(rows), "85984NED")
    polygons = gpd.read_file(shared_data("amsterdam_buurten_2022", "buurten.geojson"))
    polygons = polygons.rename(columns={"cbsCode": "buurtcode", "naam": "buurtnaam"})
    buurten = model.buurten_frame(polygons, cbs, "GM0363", {"inkomen": income}, table="85984NED")
    assert buurten["inkomen"].notna().sum() == 150
    assert model.indicator_missing_shares(buurten, ["inkomen"])["inkomen"] == pytest.approx(368 / 518)


def test_broker_areas_of_amsterdam(amsterdam: gpd.GeoDataFrame) -> None:
    """518 real buurten, 8 areas balanced on residents: complete, contiguous, within 10 %."""
    import networkx as nx

    from wijkanalyse.analysis.brokers import adjacency_graph, broker_areas

    buurten = amsterdam.assign(inwoners=amsterdam["inwoners_cbs"].fillna(0.0))
    result = broker_areas(buurten, 8, workload=buurten["inwoners"], tolerance=0.10, seed=20240)
    assert result.tolerance_met and result.max_deviation <= 0.10
    # Weespertrekvaart shares no border with another Amsterdam buurt: linked to the nearest one
    assert result.links == [("BU0363MQ07", "BU0363TB02")]
    listed = sorted(code for codes in result.areas["buurtcodes"] for code in codes.split(","))
    assert listed == sorted(buurten["buurtcode"])
    neighbours, _ = adjacency_graph(buurten.geometry)
    graph = nx.relabel_nodes(neighbours.to_networkx(), dict(enumerate(buurten["buurtcode"])))
    for codes in result.areas["buurtcodes"]:
        assert nx.is_connected(graph.subgraph(codes.split(",")))
    assert result.areas["inwoners"].sum() == buurten["inwoners"].sum()


def test_103_broker_areas_of_amsterdam_are_as_even_as_the_search_allows(amsterdam: gpd.GeoDataFrame) -> None:
    """518 real buurten in 103 areas (the issue's case): within 15 % of the mean, complete, contiguous.

    Regression values of earlier code on this workload: the old doubling ladder (10 % -> 20 % -> 40 %)
    reached 0.39, GerryChain's recursive_tree_part with the bisection 0.18; the spanning-tree halves with
    border moves reach 0.12. Contiguity is checked on a neighbour graph built here, independently of
    ``adjacency_graph``: two buurten are neighbours when their borders share a line (DE-9IM
    boundary/boundary dimension 1, or overlapping interiors), plus the one documented link of
    Weespertrekvaart to its nearest buurt.
    """
    import networkx as nx

    from wijkanalyse.analysis.brokers import broker_areas, workload

    buurten = amsterdam.assign(inwoners=amsterdam["inwoners_cbs"].fillna(0.0))
    load = workload(buurten, 0.5)
    mean = load.sum() / 103
    assert load.max() < mean  # no buurt alone is heavier than an average area: not the cause
    # time_budget: enough that only the bounded number of spanning trees ends the search (repeatable)
    result = broker_areas(buurten, 103, workload=load, tolerance=0.10, seed=20240, time_budget=3600.0)
    loads = result.areas["werklast"]
    assert len(loads) == 103 and loads.sum() == pytest.approx(load.sum())
    deviation = float((loads - mean).abs().max() / mean)
    assert deviation == pytest.approx(result.max_deviation) and deviation <= 0.15
    listed = sorted(code for codes in result.areas["buurtcodes"] for code in codes.split(","))
    assert listed == sorted(buurten["buurtcode"])  # every buurt exactly once

    geoms = buurten.geometry.to_numpy()
    codes = buurten["buurtcode"].to_numpy()
    pairs = gpd.sjoin(buurten[["geometry"]], buurten[["geometry"]], predicate="intersects")
    graph = nx.Graph()
    graph.add_nodes_from(codes)
    for i, j in zip(buurten.index.get_indexer(pairs.index), buurten.index.get_indexer(pairs["index_right"]), strict=True):
        if i < j and (geoms[i].relate_pattern(geoms[j], "****1****") or geoms[i].relate_pattern(geoms[j], "2********")):
            graph.add_edge(codes[i], codes[j])
    graph.add_edge("BU0363MQ07", "BU0363TB02")
    assert nx.is_connected(graph)
    for codes_ in result.areas["buurtcodes"]:
        assert nx.is_connected(graph.subgraph(codes_.split(","))), codes_
    if not result.tolerance_met:
        # the warning names the search, not a heavy buurt
        assert "te zwaar" not in result.warnings[-1] and "heeft alleen al" not in result.warnings[-1]
        assert "opspannende bomen" in result.warnings[-1]
