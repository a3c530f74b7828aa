"""The gemeente's own meeting points: reading files, bad rows, merging with OSM, end to end.

Known coordinates: the RD origin (Onze Lieve Vrouwetoren, Amersfoort) is x 155 000, y 463 000
in EPSG:28992 and lat 52.15517440, lon 5.38720621 in WGS84.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import Point, box

from tests.conftest import documentation
from wijkanalyse import model
from wijkanalyse.analysis import buurt_coverage, straight_line_distance
from wijkanalyse.cli import cli
from wijkanalyse.config import VenueClass, load_config, parse_config
from wijkanalyse.errors import ConfigError, DataError
from wijkanalyse.snapshot import BUURTEN_FILE, BUURTEN_LAYER, GRID_FILE, GRID_LAYER
from wijkanalyse.sources.own_points import read_configured, read_own_points

from .conftest import shared_data

ORIGIN_RD = (155_000.0, 463_000.0)
ORIGIN_LATLON = (52.15517440, 5.38720621)
CLASSES = load_config().venues
WESTERVELD = (60_600, 480_600, 61_200, 481_200)  # wijkanalyse.demo._KERN_EXTENTS
WESTERVELD_CODE = "BU99990701"


def write(path: Path, text: str, *, bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def xy(points: gpd.GeoDataFrame) -> list[tuple[float, float]]:
    return [(round(p.x, 2), round(p.y, 2)) for p in points.geometry]


# --------------------------------------------------------------------------- reading


def test_csv_with_lat_lon_comma_separated(tmp_path: Path) -> None:
    path = write(
        tmp_path / "punten.csv",
        "name,class,lat,lon,address,kosten_per_jaar\n"
        f'"Hoeskamer, de Toren",Buurthuis,{ORIGIN_LATLON[0]},{ORIGIN_LATLON[1]},"Lieve Vrouwekerkhof 1",12500\n',
    )
    own = read_own_points(path, CLASSES)
    points = own.points
    assert own.problems == () and len(points) == 1
    assert points.crs == model.CRS
    assert points.geometry.iloc[0].distance(Point(ORIGIN_RD)) < 0.5  # the RD origin, to half a metre
    row = points.iloc[0]
    assert row["naam"] == "Hoeskamer, de Toren"  # the quoted separator stays in the name
    assert row["categorie"] == "buurthuis"  # the class label or key, any case
    assert row["categorie_label"] == "Buurthuis / wijkcentrum"
    assert bool(row["ontmoetingspunt"]) is True
    assert row["osm_id"] == "eigen/punten/2"  # line 2 of punten.csv
    assert row["bron"] == "gemeente (punten.csv)"
    assert row["adres"] == "Lieve Vrouwekerkhof 1"
    assert row["kosten_per_jaar"] == 12500.0
    assert list(points.columns) == [*model.VENUE_COLUMNS, "geometry"]


def test_csv_with_rd_xy_semicolons_and_bom(tmp_path: Path) -> None:
    path = write(
        tmp_path / "ontmoetingspunten.csv",
        "Naam;Klasse;X;Y;Adres\r\n"
        "Open eettafel;sociaal;155000,5;463000;\r\n"
        "\r\n"  # a blank line is no row, but it counts as a line
        "Kerkzaal Sint-Jan;gebedshuis;155100;463200;Kerkstraat 2\r\n",
        bom=True,
    )
    own = read_own_points(path, CLASSES)
    assert own.problems == ()
    assert xy(own.points) == [(155000.5, 463000.0), (155100.0, 463200.0)]  # decimal comma read as a number
    assert list(own.points["osm_id"]) == ["eigen/ontmoetingspunten/2", "eigen/ontmoetingspunten/4"]
    assert own.points["adres"].isna().tolist() == [True, False] and own.points["adres"].iloc[1] == "Kerkstraat 2"
    assert own.points["kosten_per_jaar"].isna().all()  # no cost column: NaN


def test_geojson_point_and_polygon(tmp_path: Path) -> None:
    square = box(ORIGIN_RD[0], ORIGIN_RD[1], ORIGIN_RD[0] + 40, ORIGIN_RD[1] + 40)
    gdf = gpd.GeoDataFrame(
        {"naam": ["Buurtkamer", "Kerkzaal"], "categorie": ["buurthuis", "gebedshuis"], "kosten_per_jaar": [900.0, None]},
        geometry=[Point(ORIGIN_RD), square],
        crs=model.CRS,
    ).to_crs(4326)
    path = tmp_path / "eigen.geojson"
    gdf.to_file(path, driver="GeoJSON", engine="pyogrio")
    own = read_own_points(path, CLASSES)
    points = own.points
    assert points.geometry.iloc[0].distance(Point(ORIGIN_RD)) < 0.01
    assert square.buffer(0.01).contains(points.geometry.iloc[1])  # a polygon becomes a point on its surface
    assert list(points["osm_id"]) == ["eigen/eigen/1", "eigen/eigen/2"]
    assert points["kosten_per_jaar"].iloc[0] == 900.0 and np.isnan(points["kosten_per_jaar"].iloc[1])


def test_geopackage_in_web_mercator_with_layers(tmp_path: Path) -> None:
    path = tmp_path / "eigen.gpkg"
    gdf = gpd.GeoDataFrame(
        {"name": ["Hoeskamer"], "class": ["horeca"]}, geometry=[Point(ORIGIN_RD)], crs=model.CRS
    ).to_crs(3857)
    gdf.to_file(path, layer="punten", driver="GPKG", engine="pyogrio")
    own = read_own_points(path, CLASSES)
    assert own.points.geometry.iloc[0].distance(Point(ORIGIN_RD)) < 0.01  # back in RD
    gdf.to_file(path, layer="andere", driver="GPKG", engine="pyogrio")
    with pytest.raises(DataError, match=r"meerdere lagen \(punten, andere\).*own_points\.layer"):
        read_own_points(path, CLASSES)
    assert len(read_own_points(path, CLASSES, layer="andere").points) == 1


def test_street_furniture_without_names_by_a_class_mapping(tmp_path: Path) -> None:
    classes = {**CLASSES, "bankje": VenueClass("bankje", "Bankje / picknicktafel", True, {})}
    path = write(
        tmp_path / "meubilair.csv",
        "type;x;y\nniet-bgt:bank;155000;463000\nniet-bgt:fietsenrek;155010;463000\n"
        "niet-bgt:picknicktafel;155020;463000\nniet-bgt:fietsenrek;155030;463000\n",
    )
    own = read_own_points(
        path, classes, names_required=False, class_column="type",
        class_values={"niet-bgt:bank": "bankje", "niet-bgt:picknicktafel": "bankje"},
    )
    assert own.points["naam"].tolist() == ["Bankje / picknicktafel"] * 2  # unnamed: named after the class
    assert own.problems == ()
    assert own.skipped == {"niet-bgt:fietsenrek": 2}  # not lost: counted per value
    with pytest.raises(DataError, match=r"heeft geen naamkolom.*names_required = false"):
        read_own_points(path, classes, class_column="type", class_values={"niet-bgt:bank": "bankje"})


def test_the_readme_example_reads(tmp_path: Path) -> None:
    readme = documentation()  # the README and docs/
    section = readme.split("## Own meeting points", 1)[1]
    example = re.findall(r"```\n(.+?)\n```", section, flags=re.DOTALL)[0]
    own = read_own_points(write(tmp_path / "eigen.csv", example + "\n"), CLASSES, strict=True)
    assert own.points["categorie"].tolist() == ["buurthuis", "sociaal", "gebedshuis"]
    assert own.points["kosten_per_jaar"].iloc[1] == 6500
    assert own.points.geometry.iloc[0].equals(Point(172_150, 475_230))


# --------------------------------------------------------------------------- bad rows

BAD_CSV = """naam;klasse;lat;lon;x;y;kosten_per_jaar
Goed;buurthuis;;;155000;463000;
;buurthuis;;;155000;463000;
Kapel;kapel;;;155000;463000;
Eettafel;bibliotheek;;;15500O;463000;
Schuur;gebedshuis;48.85;2.35;;;
Wissel;horeca;5.38;52.15;;;
Zee;horeca;;;-20000;463000;
Geld;buurthuis;;;155000;463000;12.500
Leeg;buurthuis;;;;;
Gebouw;kerk;52.1;;;;
"""


def test_every_bad_row_is_reported_with_its_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path / "fout.csv", BAD_CSV)
    with caplog.at_level(logging.WARNING, logger="wijkanalyse"):
        own = read_own_points(path, CLASSES)
    assert own.points["naam"].tolist() == ["Goed"]
    found = {p.row: p.problem for p in own.problems}
    expected = {
        3: "geen naam",
        4: "onbekende klasse 'kapel'",
        5: "x '15500O' is geen getal",
        6: "lat 48.85, lon 2.35 ligt buiten Nederland",
        7: "lat en lon lijken verwisseld",
        8: "x -20000, y 463000 ligt buiten het RD-bereik",
        9: "kosten_per_jaar '12.500' is dubbelzinnig",
        10: "geen coördinaten",
        11: "lat en lon moeten allebei gevuld zijn",
    }
    assert set(found) == set(expected)
    for line, text in expected.items():
        assert text in found[line], (line, found[line])
    assert "bedoelt u 'gebedshuis'" in found[11]  # "kerk" is a word of the label "Kerk / gebedshuis"
    assert "onbekende klasse 'kerk'" in found[11]  # every problem of a row at once
    assert str(own.problems[0]) == "fout.csv regel 3: geen naam"
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(logged) == 9 and all("fout.csv regel" in m for m in logged)


def test_strict_raises_with_every_bad_line(tmp_path: Path) -> None:
    path = write(tmp_path / "fout.csv", BAD_CSV)
    with pytest.raises(DataError) as info:
        read_own_points(path, CLASSES, strict=True)
    text = str(info.value)
    assert "9 foute rijen (strict = true)" in text
    assert re.findall(r"fout\.csv regel (\d+):", text) == [str(n) for n in range(3, 12)]


def test_no_valid_row_is_an_error_even_when_not_strict(tmp_path: Path) -> None:
    path = write(tmp_path / "fout.csv", "naam,klasse,x,y\n,buurthuis,155000,463000\nA,zwembad,155000,463000\n")
    with pytest.raises(DataError, match=r"(?s)2 foute rijen \(er blijft geen geldige rij over\).*regel 2: geen naam.*regel 3: onbekende klasse"):
        read_own_points(path, CLASSES)


def test_too_many_fields_is_a_bad_row(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "naam,klasse,x,y\nGoed,buurthuis,155000,463000\nDe Brink, Oost,buurthuis,155000,463000\n")
    own = read_own_points(path, CLASSES)
    assert len(own.points) == 1
    assert "5 velden waar de kopregel er 4 heeft" in own.problems[0].problem and own.problems[0].row == 3


def test_empty_geometry_is_reported_by_feature_number(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"naam": ["A", "B", "C"], "klasse": ["buurthuis"] * 3},
        geometry=[Point(ORIGIN_RD), None, Point(0, 0)],  # (0, 0) in RD lies in France
        crs=model.CRS,
    )
    path = tmp_path / "p.gpkg"
    gdf.to_file(path, layer="p", driver="GPKG", engine="pyogrio")
    own = read_own_points(path, CLASSES)
    assert own.points["naam"].tolist() == ["A"]
    assert [str(p) for p in own.problems] == [
        "p.gpkg object 2: lege geometrie",
        "p.gpkg object 3: x 0, y 0 ligt buiten het RD-bereik van Nederland "
        "(RD x loopt van 0 tot 300,000 en y van 300,000 tot 625,000)",
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("p.csv", "naam,x,y\nA,1,2\n", "heeft geen klassekolom"),
        ("p.csv", "naam,klasse,adres\nA,buurthuis,Dorp 1\n", "heeft geen coördinatenkolommen"),
        ("p.csv", "naam,klasse,x,y\n", "bevat geen rijen"),
        ("p.xlsx", "x", "onbekend bestandstype '.xlsx'"),
        ("p.csv", "naam,name,klasse,x,y\n", "meer dan één naamkolom"),
    ],
)
def test_file_problems(tmp_path: Path, name: str, content: str, message: str) -> None:
    with pytest.raises(DataError, match=re.escape(message)):
        read_own_points(write(tmp_path / name, content), CLASSES)


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes("naam;klasse;x;y\nCafé;horeca;155000;463000\n".encode("cp1252"))
    with pytest.raises(DataError, match=r"geen UTF-8 \(regel 2.*CSV UTF-8"):
        read_own_points(path, CLASSES)


# --------------------------------------------------------------------------- merging with OSM


def venues(rows: list[tuple[str, str | None, float]], *, own: bool) -> gpd.GeoDataFrame:
    """A venues frame: (id, name, x) per row, all on y = 463 000."""
    frame = gpd.GeoDataFrame(
        {
            "osm_id": [r[0] for r in rows],
            "naam": [r[1] for r in rows],
            "categorie": ["buurthuis"] * len(rows),
            "categorie_label": ["Buurthuis / wijkcentrum"] * len(rows),
            "ontmoetingspunt": [True] * len(rows),
        },
        geometry=[Point(155_000 + r[2], 463_000) for r in rows],
        crs=model.CRS,
    )
    if own:
        frame["bron"] = "gemeente (p.csv)"
        frame["adres"] = "Brink 1"
        frame["kosten_per_jaar"] = 1000.0
    return frame


@pytest.mark.parametrize(
    ("osm_name", "own_name", "dx", "rows"),
    [
        ("Buurthuis De Brink", "buurthuis de Brinck", 30.0, 1),  # similar name, 30 m: the same place
        ("Buurthuis De Brink", "De Brink", 30.0, 1),  # a short and a full name
        ("Café 't Hoekje", "cafe het hoekje", 30.0, 1),  # accents, case, articles
        ("Buurthuis De Brink", "Bibliotheek Oost", 30.0, 2),  # different name, 30 m: two places
        ("Buurthuis De Brink", "Buurthuis De Brink", 80.0, 2),  # same name, 80 m: two places
        (None, "Buurthuis De Brink", 0.0, 2),  # a nameless OSM venue never pairs
    ],
)
def test_the_same_place_is_counted_once(osm_name: str | None, own_name: str, dx: float, rows: int) -> None:
    osm = venues([("node/1", osm_name, 0.0)], own=False)
    own = venues([("eigen/p/2", own_name, dx)], own=True)
    merged = model.merge_venues(osm, own, within_m=50)
    assert len(merged) == rows
    assert list(merged.columns) == [*model.VENUE_COLUMNS, "geometry"]
    if rows == 1:
        row = merged.iloc[0]
        assert row["osm_id"] == "node/1"  # the map still links to OpenStreetMap
        assert row["bron"] == "OpenStreetMap + gemeente (p.csv)"
        assert row["naam"] == own_name and row["adres"] == "Brink 1"  # the gemeente's attributes win
        assert row.geometry.equals(Point(155_000 + dx, 463_000))
    else:
        assert merged["bron"].tolist() == ["OpenStreetMap", "gemeente (p.csv)"]
        assert merged["osm_id"].tolist() == ["node/1", "eigen/p/2"]


def test_each_venue_pairs_once_nearest_first() -> None:
    osm = venues([("node/1", "Hoeskamer", 0.0), ("node/2", "Hoeskamer", 60.0)], own=False)
    own = venues([("eigen/p/2", "Hoeskamer", 40.0), ("eigen/p/3", "Hoeskamer", 10.0)], own=True)
    merged = model.merge_venues(osm, own, within_m=50)
    # p/3 (10 m from node/1) pairs first; p/2 then pairs with node/2 (20 m), not node/1 (40 m)
    assert len(merged) == 2
    assert merged.geometry.x.tolist() == [155_010.0, 155_040.0]
    assert merged["osm_id"].tolist() == ["node/1", "node/2"]


def test_osm_only_gets_its_source_column() -> None:
    osm = venues([("node/1", "A", 0.0)], own=False)
    osm["aanhechting_m"] = 12.5  # a column of a later step is kept, after the contract's columns
    merged = model.merge_venues(osm, None)
    assert merged["bron"].tolist() == ["OpenStreetMap"]
    assert list(merged.columns) == [*model.VENUE_COLUMNS, "aanhechting_m", "geometry"]
    assert merged["adres"].isna().all() and merged["kosten_per_jaar"].isna().all()
    empty = model.merge_venues(None, None)
    assert empty.empty and list(empty.columns) == [*model.VENUE_COLUMNS, "geometry"]


# --------------------------------------------------------------------------- config


def test_config_keys_and_relative_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    config_path = write(
        tmp_path / "sub" / "c.toml",
        '[own_points]\nfile = "punten.csv"\nmerge_within_m = 25\nnames_required = false\n'
        '[own_points.classes.bankje]\nlabel = "Bankje / picknicktafel"\nmeeting_point = true\n'
        '[own_points.class_values]\n"niet-bgt:bank" = "bankje"\n',
    )
    config = load_config(config_path)
    assert config.own_points.file == tmp_path / "sub" / "punten.csv"  # relative to the config file
    assert config.own_points.merge_within_m == 25 and config.own_points.strict is False
    assert config.own_points.class_values == {"niet-bgt:bank": "bankje"}
    bankje = config.venues["bankje"]
    assert bankje.meeting_point and bankje.tags == {}  # no OSM tags: only own points
    assert "bankje" in config.meeting_point_classes
    assert config.osm_tags() == load_config().osm_tags()  # the download is unchanged
    assert load_config().own_points.file is None


def test_config_problems_at_once() -> None:
    raw = {
        "own_points": {
            "file": 3,
            "strict": "ja",
            "merge_within_m": -1,
            "classes": {"school": {"label": "x"}, "bankje": {"amenity": ["bench"]}},
            "class_values": {"bank": "zitbank"},
            "kolom": "x",
        }
    }
    with pytest.raises(ConfigError) as info:
        parse_config({**load_config_raw(), **raw})
    text = str(info.value)
    for expected in (
        "own_points.file moet een tekst zijn",
        "own_points.strict moet true of false zijn",
        "own_points.merge_within_m moet >= 0 zijn",
        "own_points.classes.school: [venues.school] bestaat al",
        "own_points.classes.bankje.amenity is geen bekende sleutel",
        "own_points.class_values.'bank' moet een klasse",
        "own_points.kolom is geen bekende sleutel",
    ):
        assert expected in text, expected


def load_config_raw() -> dict:
    import tomllib

    from wijkanalyse.config import default_config_text

    return tomllib.loads(default_config_text())


def test_read_configured_uses_the_settings(tmp_path: Path) -> None:
    write(tmp_path / "p.csv", "soort;x;y\nbank;155000;463000\nlantaarn;155000;463000\n")
    config_path = write(
        tmp_path / "c.toml",
        '[own_points]\nfile = "p.csv"\nnames_required = false\nclass_column = "soort"\n'
        '[own_points.classes.bankje]\nlabel = "Bankje"\nmeeting_point = true\n'
        '[own_points.class_values]\nbank = "bankje"\n',
    )
    own = read_configured(load_config(config_path))
    assert own is not None and own.points["naam"].tolist() == ["Bankje"] and own.skipped == {"lantaarn": 1}
    assert read_configured(load_config()) is None


# --------------------------------------------------------------------------- end to end on the demo


def westerveld_brute_force(snapshot: Path, point: tuple[float, float], within_m: float) -> float:
    """Residents of Westerveld's cells whose centre lies within ``within_m`` of ``point`` (plain geometry)."""
    buurten = gpd.read_file(snapshot / BUURTEN_FILE, layer=BUURTEN_LAYER)
    village = buurten.loc[buurten["buurtcode"] == WESTERVELD_CODE].geometry.iloc[0]
    grid = gpd.read_file(snapshot / GRID_FILE, layer=GRID_LAYER)
    residents = model.clean_markers(grid["aantal_inwoners"]).fillna(0).to_numpy()
    centres = shapely.centroid(grid.geometry.to_numpy())
    inside = shapely.within(centres, village) & (residents > 0)
    near = shapely.distance(centres, Point(point)) <= within_m
    return float(residents[inside & near].sum())


def run_cli(snapshot: Path, out: Path, *extra: str) -> tuple[dict, pd.DataFrame]:
    result = CliRunner().invoke(cli, ["run", "--snapshot", str(snapshot), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    folder = out / "voorbeeldgemeente"
    summary = json.loads((folder / "samenvatting.json").read_text(encoding="utf-8"))
    table = pd.read_csv(folder / "buurten.csv", sep=";", decimal=",", encoding="utf-8-sig").set_index("buurtcode")
    return summary, table


def test_an_own_meeting_point_reaches_westerveld(demo_snapshot: Path, tmp_path: Path) -> None:
    # 100 m in from the village's south-west corner: the far corner of the 600 m square lies beyond 400 m
    centre = (WESTERVELD[0] + 100, WESTERVELD[1] + 100)  # x 60 700, y 480 700
    own_file = write(
        tmp_path / "ontmoetingspunten.csv",
        f"naam;klasse;x;y;adres\nHoeskamer Westerveld;buurthuis;{centre[0]:.0f};{centre[1]:.0f};Dorpsstraat 1\n"
        ";buurthuis;60700;480700;\n",  # a bad row: reported, not counted
        bom=True,
    )
    straight = write(tmp_path / "straight.toml", '[thresholds]\ndistance_method = "straight_line"\n')
    expected = westerveld_brute_force(demo_snapshot, centre, 400)
    assert 0 < expected < 820  # part of the village's 820 residents (500 in the demo as written)

    before, table = run_cli(demo_snapshot, tmp_path / "before", "--config", str(straight))
    assert table.loc[WESTERVELD_CODE, "inwoners_binnen_drempel"] == 0
    assert before["n_own_points"] == 0 and before["own_points_file"] is None

    after, table = run_cli(
        demo_snapshot, tmp_path / "after", "--config", str(straight), "--ontmoetingspunten", str(own_file)
    )
    assert table.loc[WESTERVELD_CODE, "inwoners_binnen_drempel"] == expected
    assert after["n_own_points"] == 1 and after["own_points_rejected_rows"] == 1
    assert after["own_points_problems"] == ["ontmoetingspunten.csv regel 3: geen naam"]
    assert after["n_meeting_points"] == before["n_meeting_points"] + 1
    assert after["residents_within_threshold"] == before["residents_within_threshold"] + expected

    # walking, with a second point at the same spot whose name and address are hostile HTML
    nasty = "<b>Eettafel</b> & 'Co'"
    with own_file.open("a", encoding="utf-8") as f:
        f.write(f'"{nasty}";sociaal;{centre[0]:.0f};{centre[1]:.0f};<script>alert(1)</script>\n')
    walked, table = run_cli(demo_snapshot, tmp_path / "walked", "--ontmoetingspunten", str(own_file))
    assert walked["distance_method"] == "network" and walked["n_own_points"] == 2
    within = table.loc[WESTERVELD_CODE, "inwoners_binnen_drempel"]
    assert 0 < within <= expected  # walking never reaches more than the straight line
    folder = tmp_path / "walked" / "voorbeeldgemeente"
    layer = gpd.read_file(folder / "buurten.gpkg", layer="voorzieningen")
    own_rows = layer[layer["bron"] == "gemeente (ontmoetingspunten.csv)"]
    assert own_rows["naam"].tolist() == ["Hoeskamer Westerveld", nasty]
    assert own_rows["adres"].tolist() == ["Dorpsstraat 1", "<script>alert(1)</script>"]
    assert (layer["bron"] == "OpenStreetMap").sum() == len(layer) - 2
    page = (folder / "kaart.html").read_text(encoding="utf-8")
    # popups: one label list per layer ("Bron", "Adres") and the values per feature
    assert '"Bron"' in page and '"Adres"' in page
    assert '"gemeente (ontmoetingspunten.csv)"' in page and '"Dorpsstraat 1"' in page
    # folium JSON-encodes the popups (< as \u003c, & as \u0026): undo that, then look for the escaped text
    decoded = page.replace("\\u0026", "&").replace("\\u003c", "<").replace("\\u003e", ">")
    assert "<script>alert(1)" not in decoded and "<b>Eettafel" not in decoded
    assert "&lt;b&gt;Eettafel&lt;/b&gt; &amp; &#x27;Co&#x27;" in decoded
    assert '"&lt;script&gt;alert(1)&lt;/script&gt;"' in decoded


def test_cli_bad_own_points_file_is_an_error(demo_snapshot: Path, tmp_path: Path) -> None:
    own_file = write(tmp_path / "p.csv", "naam;klasse;x;y\nA;zwembad;60900;480900\n")
    result = CliRunner().invoke(
        cli,
        ["run", "--snapshot", str(demo_snapshot), "--out", str(tmp_path), "--ontmoetingspunten", str(own_file), "-q"],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Fout: p.csv: 1 foute rij (er blijft geen geldige rij over)")
    assert "p.csv regel 2: onbekende klasse 'zwembad'" in result.stderr and "Traceback" not in result.output


# --------------------------------------------------------------------------- Ermelo (real data)

ERMELO_BENCH_CONFIG = """
[thresholds]
distance_method = "straight_line"

[own_points]
file = "{file}"
names_required = false
class_column = "bgtplustype"

[own_points.classes.bankje]
label = "Bankje / picknicktafel"
meeting_point = true

[own_points.class_values]
"niet-bgt:bank" = "bankje"
"niet-bgt:picknicktafel" = "bankje"
"""


def test_ermelo_benches_and_picnic_tables(tmp_path: Path) -> None:
    furniture = shared_data("ermelo_bgtplus_voorzieningen", "Straatmeubilair.gpkg")
    outlines = gpd.read_file(shared_data("ermelo_cbs_wijkbuurtkaart_2021", "CBS_gemeente.gpkg"))
    grid = gpd.read_file(shared_data("ermelo_cbs_vierkant100m_2020", "CBS_Statistiek.gpkg"))
    buurten = gpd.read_file(shared_data("ermelo_cbs_wijkbuurtkaart_2021", "CBS_buurten.gpkg"))

    config = load_config(write(tmp_path / "c.toml", ERMELO_BENCH_CONFIG.format(file=furniture.as_posix())))
    own = read_configured(config)
    assert own is not None and own.problems == ()
    assert len(own.points) == 1565  # PROVENANCE: bank 1427 + picknicktafel 138 in the three gemeenten
    assert own.skipped["niet-bgt:fietsenrek"] == 1094  # the other furniture is skipped and counted

    outline = model.to_rd(outlines[outlines["statcode"] == "GM0233"]).geometry.union_all()
    points = own.points[own.points.distance(outline) <= 1000.0]  # within 1 km, measured in RD metres
    assert len(points) == 456
    # A 1 km buffer drawn in the file's Web Mercator is only ~620 m on the ground at 52° N:
    mercator = own.points.to_crs(3857)
    assert mercator.within(outlines.to_crs(3857).loc[outlines["statcode"] == "GM0233"].buffer(1000).iloc[0]).sum() == 415

    residents = model.residents_frame(grid[grid["gemeentenaam"] == "Ermelo"], buurten)
    assert residents["inwoners"].sum() == 25_935  # -99997 is missing, not a number
    residents["afstand_m"] = straight_line_distance(residents.geometry, points.geometry)
    coverage = buurt_coverage(residents, pd.Index(residents["buurtcode"].unique()), 400.0)
    share = coverage["inwoners_binnen_drempel"].sum() / coverage["inwoners"].sum()
    assert round(share, 3) == 0.929
    assert coverage["inwoners_binnen_drempel"].sum() == 24_100
