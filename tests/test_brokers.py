"""Broker priority, need and areas (analysis.brokers)."""

from __future__ import annotations

import logging

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from wijkanalyse.outputs.texts import broker_need_line, priority_explanation, workload_explanation
from wijkanalyse.analysis.brokers import (
    AREA_COLUMNS,
    PRIORITY_COLUMNS,
    adjacency_graph,
    areas_summary,
    broker_areas,
    broker_need,
    buurt_priority,
    kern_priority,
    workload,
)
from wijkanalyse.config import Brokers
from wijkanalyse.demo import CLUSTER_BUURTCODES
from wijkanalyse.errors import DataError
from wijkanalyse.result import Hotspot

HOT = Hotspot.HOT
NOT = Hotspot.NONE


def grid_buurten(nx_: int, ny: int, seed: int = 0, size: float = 100.0) -> gpd.GeoDataFrame:
    """``nx_`` x ``ny`` square buurten; kern = the 3 x 3 block a buurt lies in."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(nx_):
        for j in range(ny):
            rows.append({
                "buurtcode": f"BU99{i:03d}{j:03d}",
                "inwoners": float(rng.integers(300, 1500)),
                "kern": f"Kern {i // 3}-{j // 3}",
                "col": i,
                "row": j,
                "geometry": box(i * size, j * size, (i + 1) * size, (j + 1) * size),
            })
    frame = gpd.GeoDataFrame(rows, crs=28992)
    frame.index = frame["buurtcode"].to_numpy()
    return frame


def rook_graph(buurten: gpd.GeoDataFrame) -> nx.Graph:
    """Neighbours on the grid from the column and row numbers (independent of the geometry)."""
    graph = nx.Graph()
    cells = {(r.col, r.row): r.buurtcode for r in buurten.itertuples() if not pd.isna(r.col)}
    graph.add_nodes_from(buurten["buurtcode"])
    for (i, j), code in cells.items():
        for di, dj in ((1, 0), (0, 1)):
            if (i + di, j + dj) in cells:
                graph.add_edge(code, cells[(i + di, j + dj)])
    return graph


def assert_partition(result, buurten: gpd.GeoDataFrame, graph: nx.Graph) -> None:
    """Every buurt in exactly one area; every area hangs together in ``graph``."""
    listed = [code for codes in result.areas["buurtcodes"] for code in codes.split(",")]
    assert sorted(listed) == sorted(buurten["buurtcode"])  # each buurt exactly once
    assert result.assignment.index.equals(buurten.index)
    for gid, codes in zip(result.areas["gebied_id"], result.areas["buurtcodes"], strict=True):
        members = codes.split(",")
        assert sorted(result.assignment[result.assignment == gid].index) == sorted(members)
        assert nx.is_connected(graph.subgraph(members)), f"area {gid} is not contiguous"
    total = buurten["werklast"].sum() if "werklast" in buurten else None
    if total is not None:
        assert result.areas["werklast"].sum() == pytest.approx(total)


# --------------------------------------------------------------------------------------
# Priority, workload, need
# --------------------------------------------------------------------------------------


def test_buurt_priority_by_hand() -> None:
    buurten = pd.DataFrame(
        {
            "signaal": [2.0, 1.0, -1.0, np.nan],
            "aandeel_binnen_drempel": [0.5, 1.0, 0.0, np.nan],
            "hotspot": [HOT, NOT, NOT, NOT],
        },
        index=["a", "b", "c", "d"],
    )
    out = buurt_priority(buurten, Brokers(priority_signal=0.5, priority_beyond=0.3, priority_hotspot=0.2))
    assert list(out.columns) == PRIORITY_COLUMNS
    # signal ranks among the three known: -1 -> 0, 1 -> 0.5, 2 -> 1; unknown -> 0
    assert out["signaal_rang"].tolist() == [1.0, 0.5, 0.0, 0.0]
    assert out["aandeel_buiten_drempel"].tolist() == [0.5, 0.0, 1.0, 0.0]
    # a: .5 x 1 + .3 x .5 + .2 x 1 = .85; b: .25; c: .3; d: 0
    assert out["prioriteit"].tolist() == pytest.approx([0.85, 0.25, 0.3, 0.0])
    assert out["prioriteit_rang"].tolist() == [1, 3, 2, 4]


def test_priority_weights_are_normalised() -> None:
    buurten = pd.DataFrame({"signaal": [1.0, 0.0], "aandeel_binnen_drempel": [0.0, 1.0], "hotspot": [HOT, NOT]})
    out = buurt_priority(buurten, Brokers(priority_signal=2.0, priority_beyond=2.0, priority_hotspot=0.0))
    assert out["prioriteit"].tolist() == pytest.approx([1.0, 0.0])


def test_kern_priority_uses_hotspot_share() -> None:
    kernen = pd.DataFrame(
        {"signaal": [0.5, -0.5], "aandeel_binnen_drempel": [0.8, 0.2], "inwoners": [4000, 1000],
         "inwoners_in_hotspot": [1000, 0]},
        index=["Stad", "Dorp"],
    )
    out = kern_priority(kernen, Brokers(priority_signal=0.5, priority_beyond=0.3, priority_hotspot=0.2))
    assert out["hotspot_aandeel"].tolist() == pytest.approx([0.25, 0.0])
    # Stad: .5 x 1 + .3 x .2 + .2 x .25 = .61; Dorp: .3 x .8 = .24
    assert out["prioriteit"].tolist() == pytest.approx([0.61, 0.24])


def test_workload_by_hand() -> None:
    buurten = pd.DataFrame({"inwoners": [1000, 1000, 1000, np.nan], "signaal": [2.0, -1.0, np.nan, 1.0]})
    assert workload(buurten, 0.5).tolist() == [2000.0, 1000.0, 1000.0, 0.0]
    assert workload(buurten, 0.0).tolist() == [1000.0, 1000.0, 1000.0, 0.0]


def test_broker_need_rounds_up() -> None:
    need = broker_need(25_000, 10_000, 80_000)
    assert (need.fte, need.brokers, need.cost_per_year) == (2.5, 3, 240_000)
    assert "3 wijkmakelaar" in broker_need_line(need) and "€ 240.000 per jaar" in broker_need_line(need)
    assert broker_need(20_000, 10_000, 80_000).brokers == 2
    assert broker_need(0, 10_000, 80_000).brokers == 0
    with pytest.raises(DataError, match="workload_per_fte"):
        broker_need(1, 0, 80_000)


def test_explanations_name_the_weights() -> None:
    text = priority_explanation(Brokers(priority_signal=1, priority_beyond=1, priority_hotspot=2), 400)
    assert "0,25 × de plaats in de rangorde van het signaal" in text
    assert "0,50 × hotspot" in text and "verder dan 400 m" in text
    assert "1 + 0,50 × het signaal" in workload_explanation(Brokers())
    assert "10.000" in workload_explanation(Brokers())


# --------------------------------------------------------------------------------------
# Areas
# --------------------------------------------------------------------------------------


def test_adjacency_shares_a_border_not_a_corner() -> None:
    geoms = gpd.GeoSeries([box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 1, 3, 2), box(10, 0, 11, 1)])
    neighbours, links = adjacency_graph(geoms)
    graph = neighbours.to_networkx()
    assert graph.has_edge(0, 1)
    # 2 touches 1 only at a corner; 3 is an island: both are linked to their nearest
    assert (1, 2, 0.0) in links
    assert links[-1][:2] == (2, 3) and links[-1][2] == pytest.approx(7.0)
    assert nx.is_connected(graph)


def test_areas_on_a_100_buurt_grid_are_complete_contiguous_and_balanced() -> None:
    buurten = grid_buurten(10, 10)
    buurten["werklast"] = buurten["inwoners"]
    result = broker_areas(buurten, 8, workload=buurten["werklast"], tolerance=0.10, seed=3)
    assert list(result.areas.columns) == [*AREA_COLUMNS, "geometry"]
    assert result.method in {"samenvoegen", "opspannende bomen"} and result.tolerance_met and not result.warnings
    assert result.areas["gebied_id"].tolist() == list(range(1, 9))
    assert_partition(result, buurten, rook_graph(buurten))
    loads = result.areas["werklast"]
    mean = buurten["werklast"].sum() / 8
    assert ((loads - mean).abs() <= 0.10 * mean + 1e-6).all()
    assert result.balance == pytest.approx(loads.max() / loads.min()) and result.balance <= 1.1 / 0.9
    assert result.areas["inwoners"].sum() == buurten["inwoners"].sum()
    assert result.areas.geometry.area.sum() == pytest.approx(100 * 100 * 100)
    again = broker_areas(buurten, 8, workload=buurten["werklast"], tolerance=0.10, seed=3)
    assert again.assignment.equals(result.assignment)  # seeded: the same areas every run


def test_an_island_is_linked_to_its_nearest_buurt() -> None:
    buurten = grid_buurten(5, 5)
    island = gpd.GeoDataFrame(
        {"buurtcode": ["BU99900000"], "inwoners": [800.0], "kern": ["Eiland"], "col": [np.nan], "row": [np.nan]},
        geometry=[box(900, 0, 1000, 100)], crs=28992, index=["BU99900000"],
    )
    buurten = pd.concat([buurten, island])
    result = broker_areas(buurten, 3, workload=buurten["inwoners"], tolerance=0.15, seed=1)
    # the nearest buurt to the island is the east end of the bottom row: BU99004000
    assert result.links == [("BU99004000", "BU99900000")]
    assert any("dichtstbijzijnde" in w for w in result.warnings)
    graph = rook_graph(buurten)
    graph.add_edge("BU99004000", "BU99900000")
    assert_partition(result, buurten, graph)


def test_per_kern_keeps_kernen_whole() -> None:
    buurten = grid_buurten(9, 9)  # nine kernen of 3 x 3 buurten
    result = broker_areas(buurten, 3, workload=buurten["inwoners"], per_kern=True, tolerance=0.25, seed=2)
    assert_partition(result, buurten, rook_graph(buurten))
    kern_area = pd.DataFrame({"kern": buurten["kern"], "gebied": result.assignment})
    assert (kern_area.groupby("kern")["gebied"].nunique() == 1).all()
    listed = sorted(k for ks in result.areas["kernen"] for k in ks.split(","))
    assert listed == sorted(buurten["kern"].unique())


def test_one_area_and_more_areas_than_buurten() -> None:
    buurten = grid_buurten(2, 2)
    one = broker_areas(buurten, 1, workload=buurten["inwoners"])
    assert one.method == "een gebied" and len(one.areas) == 1 and one.balance == 1.0
    assert one.areas["buurtcodes"].iloc[0] == ",".join(sorted(buurten["buurtcode"]))
    many = broker_areas(buurten, 9, workload=buurten["inwoners"])
    assert len(many.areas) == 4 and many.method == "elk een gebied"
    assert "Er zijn 4 buurten" in many.warnings[0]


def test_a_heavy_buurt_falls_back_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    buurten = grid_buurten(6, 6)
    load = buurten["inwoners"].copy()
    load.iloc[0] = load.sum()  # one buurt carries half of all the work
    with caplog.at_level(logging.WARNING, logger="wijkanalyse"):
        result = broker_areas(buurten, 4, workload=load, tolerance=0.10, seed=1)
    assert not result.tolerance_met
    assert result.max_deviation > 0.10
    assert "niet binnen 10 % van het gemiddelde" in result.warnings[-1]
    assert "niet binnen 10 %" in caplog.text
    assert_partition(result, buurten, rook_graph(buurten))
    # the heavy buurt is alone in its area: anything added would only make it heavier
    heavy_area = result.assignment.iloc[0]
    assert (result.assignment == heavy_area).sum() == 1


def test_bad_inputs_are_one_line_errors() -> None:
    buurten = grid_buurten(2, 2)
    with pytest.raises(DataError, match="geheel getal >= 1"):
        broker_areas(buurten, 0, workload=buurten["inwoners"])
    with pytest.raises(DataError, match="werklast moet voor elke buurt bekend"):
        broker_areas(buurten, 2, workload=buurten["inwoners"].iloc[:2])


def test_areas_summary_for_the_json() -> None:
    buurten = grid_buurten(2, 1)
    result = broker_areas(buurten, 2, workload=pd.Series([10.0, 30.0], index=buurten.index))
    assert areas_summary(result) == [
        {"id": 1, "buurtcodes": ["BU99000000"], "kernen": ["Kern 0-0"], "residents": buurten["inwoners"].iloc[0],
         "workload": 10.0, "workload_vs_mean": 0.5},
        {"id": 2, "buurtcodes": ["BU99001000"], "kernen": ["Kern 0-0"], "residents": buurten["inwoners"].iloc[1],
         "workload": 30.0, "workload_vs_mean": 1.5},
    ]


def test_broker_areas_on_the_demo(demo_snapshot) -> None:
    from wijkanalyse import model, pipeline
    from wijkanalyse.analysis.kernen import kern_table
    from wijkanalyse.config import Kernen, load_config
    from wijkanalyse.sources.files import SnapshotReader

    config = load_config()
    result = pipeline.analyse(SnapshotReader(demo_snapshot), config)
    buurten = result.buurten.copy()
    town = {f"WK99990{i}": "Voorbeeldstad" for i in range(1, 5)}  # the four town wijken are one kern
    buurten["kern"] = model.assign_kernen(buurten, Kernen(wijken=town))
    assert sorted(buurten["kern"].unique()) == ["Buitengebied", "Noorderhoek", "Oosterdorp", "Voorbeeldstad", "Westerveld"]
    load = workload(buurten, config.brokers.workload_signal_weight)
    need = broker_need(load.sum(), config.brokers.workload_per_fte, config.costs.broker_fte_per_year)
    assert need.brokers == int(np.ceil(load.sum() / 10_000))
    graph, _ = adjacency_graph(buurten.geometry)
    codes = buurten["buurtcode"].tolist()
    named = nx.relabel_nodes(graph.to_networkx(), dict(enumerate(codes)))
    assert nx.is_connected(named)  # the demo buurten tile the gemeente: no links needed
    for per_kern in (False, True):
        areas = broker_areas(buurten, 3, workload=load, per_kern=per_kern, tolerance=0.25, seed=config.thresholds.seed)
        assert_partition(areas, buurten, named)
        if per_kern:
            assert (pd.DataFrame({"k": buurten["kern"], "g": areas.assignment}).groupby("k")["g"].nunique() == 1).all()
    # the three hot-spot buurten of the signal cluster come first
    buurt_rank = buurt_priority(buurten, config.brokers)["prioriteit_rang"].sort_values(kind="stable")
    assert set(buurt_rank.index[:3]) == set(CLUSTER_BUURTCODES)
    # among the kernen, the village out of reach comes before the village with meeting points
    kern_rank = kern_priority(kern_table(buurten), config.brokers)["prioriteit_rang"]
    assert kern_rank["Noorderhoek"] < kern_rank["Oosterdorp"]
    assert kern_rank["Westerveld"] < kern_rank["Oosterdorp"]


def test_the_warning_names_the_heavy_buurt() -> None:
    buurten = grid_buurten(6, 6)
    load = buurten["inwoners"].copy()
    load.iloc[0] = load.iloc[1:].sum()  # one buurt carries half of all the work: twice the mean of 4 areas
    result = broker_areas(buurten, 4, workload=load, tolerance=0.10, seed=1)
    # by hand: the buurt alone is 2 x the mean, so no split deviates less than 100 %; the merge reaches that
    assert result.max_deviation == pytest.approx(1.0)
    assert f"buurt {buurten['buurtcode'].iloc[0]} heeft alleen al 200 % van de gemiddelde werklast" in result.warnings[-1]


def test_a_spent_time_budget_is_named_and_the_merge_is_kept() -> None:
    buurten = grid_buurten(10, 10)
    result = broker_areas(buurten, 8, workload=buurten["inwoners"], tolerance=0.02, seed=3, time_budget=0.0)
    # no time for a single spanning tree: the merge (lightest neighbours first, then single border moves) is
    # what is left; it reaches 9 % here (regression value), not the 2 % asked
    assert result.method == "samenvoegen" and not result.tolerance_met and result.max_deviation > 0.02
    assert "stopte na 0 s, de tijd voor 100 buurten" in result.warnings[-1]
    assert "te zwaar" not in result.warnings[-1]  # no buurt is to blame: the heaviest is 1,499 of a mean ~11,000
    buurten["werklast"] = buurten["inwoners"]
    assert_partition(result, buurten, rook_graph(buurten))


def test_a_broker_warning_is_logged_and_stored_once(demo_snapshot, caplog: pytest.LogCaptureFixture) -> None:
    """More areas than buurten gives two broker warnings: each once in the log and once in summary["warnings"]."""
    from dataclasses import replace

    from wijkanalyse import pipeline
    from wijkanalyse.config import load_config
    from wijkanalyse.sources.files import SnapshotReader

    config = load_config()
    config = replace(config, brokers=replace(config.brokers, n_areas=999))
    with caplog.at_level(logging.WARNING, logger="wijkanalyse"):
        result = pipeline.analyse(SnapshotReader(demo_snapshot), config)
    n = len(result.buurten)
    text = f"Er zijn {n} buurten; 999 gebieden van hele buurten kan niet, er zijn er {n} gemaakt."
    broker_warnings = result.summary["broker_warnings"]
    assert broker_warnings[0] == text and "elk gebied is één buurt" in broker_warnings[1]
    logged = [r.getMessage() for r in caplog.records]
    for warning in broker_warnings:
        assert result.summary["warnings"].count(warning) == 1
        assert logged.count(warning) == 1


def test_broker_cost_by_persons_or_by_fte() -> None:
    # 23,000 workload / 10,000 per fte = 2.3 fte -> 3 brokers. Persons: 3 x 80,000 = 240,000;
    # fte: 2.30 x 80,000 = 184,000. Both are always computed; the basis picks cost_per_year.
    persons = broker_need(23_000, 10_000, 80_000)
    assert (persons.brokers, persons.cost_basis, persons.cost_per_year) == (3, "persons", 240_000)
    assert (persons.cost_persons, persons.cost_fte) == (240_000, pytest.approx(184_000))
    fte = broker_need(23_000, 10_000, 80_000, "fte")
    assert fte.cost_per_year == pytest.approx(184_000) and fte.cost_persons == 240_000
    # the fte is costed in hundredths: 23,456 / 10,000 = 2.3456 -> 2.35 fte x 80,000 = 188,000
    assert broker_need(23_456, 10_000, 80_000, "fte").cost_per_year == pytest.approx(188_000)
    line = broker_need_line(persons)
    assert "€ 240.000 per jaar: 3 voltijdsbanen van € 80.000" in line
    assert "alleen de werklast van 2,30 fte zou € 184.000 kosten" in line
    line = broker_need_line(fte)
    assert "€ 184.000 per jaar: 2,30 fte werklast × € 80.000 per fte (3 voltijdsbanen zouden € 240.000 kosten)" in line
    with pytest.raises(DataError, match="broker_cost_basis"):
        broker_need(1, 10_000, 80_000, "uren")
