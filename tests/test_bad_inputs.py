"""The catalogue of bad inputs: every one ends in one line that says what to do, never a traceback.

Each case builds one bad input (from the demo snapshot, a config text, a command line or a
fake service on 127.0.0.1), runs the CLI and checks:

- ``error``: exit code != 0 (1, or 2 for a usage error), the last line of stderr is the one
  ``Fout: ...`` line and holds the case's advice, no traceback and no uncaught exception;
- ``warning``: a partial mismatch runs to the end (exit 0), and the advice is in the log and
  in ``samenvatting.json`` (``warnings``);
- ``ok``: input that looks odd but means the same (lower-case codes) gives the normal result.

The numbers of the issue this catalogue answers (P3a) are in the case names' comments.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from click.testing import CliRunner

from wijkanalyse import _lock, snapshot
from wijkanalyse.cli import cli

from .fake_services import FakeServices

ROOT = Path(__file__).resolve().parents[1]
DEMO_HOTSPOTS = ["BU99990401", "BU99990402", "BU99990403"]


@dataclass
class Env:
    """What a case may build its bad input from; everything lives under ``tmp``."""

    tmp: Path
    demo: Path
    monkeypatch: pytest.MonkeyPatch
    stack: contextlib.ExitStack
    _snap: Path | None = None
    _fake: FakeServices | None = None

    @property
    def out(self) -> Path:
        return self.tmp / "out"

    @property
    def snap(self) -> Path:
        """A private copy of the demo snapshot, to break."""
        if self._snap is None:
            self._snap = Path(shutil.copytree(self.demo, self.tmp / "snap"))
        return self._snap

    @property
    def fake(self) -> FakeServices:
        """A fake CBS/PDOK/Overpass on 127.0.0.1 (started on first use)."""
        if self._fake is None:
            self._fake = self.stack.enter_context(FakeServices(tables=("85984NED",)))
        return self._fake

    def config(self, text: str) -> str:
        path = self.tmp / "config.toml"
        path.write_text(text, encoding="utf-8")
        return str(path)

    def run(self, *extra: str, snap: Path | None = None) -> list[str]:
        return ["run", "--snapshot", str(snap or self.snap), "--out", str(self.out), "-q", *extra]

    def run_with_config(self, text: str) -> list[str]:
        return self.run("--config", self.config(text), snap=self.demo)

    def fetch(self, **settings: float) -> list[str]:
        config = self.config(self.fake.config_toml(**{"retries": 1, **settings}))
        return ["fetch", "--gemeente", "GM0999", "--year", "2024", "--snapshot", str(self.tmp / "fetched"),
                "--config", config, "--cache-dir", str(self.tmp / "cache")]

    def manifest(self, change: Callable[[dict[str, Any]], object]) -> None:
        path = self.snap / snapshot.MANIFEST_FILE
        raw = json.loads(path.read_text(encoding="utf-8"))
        change(raw)
        path.write_text(json.dumps(raw), encoding="utf-8")

    def cbs(self, change: Callable[[list[dict[str, Any]]], object]) -> None:
        path = self.snap / snapshot.CBS_FILE
        doc = json.loads(path.read_text(encoding="utf-8"))
        change(doc["value"])
        path.write_text(json.dumps(doc), encoding="utf-8")

    def layer(self, file: str, layer: str, change: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]) -> None:
        path = self.snap / file
        frame = change(gpd.read_file(path, layer=layer))
        path.unlink()
        frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")

    def truncate(self, file: str) -> None:
        path = self.snap / file
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])

    def format_1(self, osm_xml: bytes) -> None:
        """Make the copy a format-1 snapshot whose osm.xml holds ``osm_xml``."""
        def drop_layers(m: dict[str, Any]) -> None:
            for key in ("network", "venues"):
                (self.snap / m["sources"].pop(key)["file"]).unlink()
            m["format_version"] = 1
        self.manifest(drop_layers)
        (self.snap / snapshot.OSM_FILE).write_bytes(osm_xml)


@dataclass(frozen=True)
class Case:
    build: Callable[[Env], list[str]]
    advice: str
    kind: str = "error"  # "error", "warning" or "ok"
    exit_code: int | None = None  # None: any code != 0
    file_size_limit: int | None = None  # run in a subprocess with RLIMIT_FSIZE (disk full)
    check: Callable[[dict[str, Any]], None] | None = field(default=None)


CASES: dict[str, Case] = {}


def case(advice: str, **kw: Any) -> Callable[[Callable[[Env], list[str]]], Callable[[Env], list[str]]]:
    def register(build: Callable[[Env], list[str]]) -> Callable[[Env], list[str]]:
        CASES[build.__name__] = Case(build, advice, **kw)
        return build
    return register


# ----------------------------------------------------------------------------------------- CLI


@case("Zeg wat er geanalyseerd moet worden: --demo", exit_code=2)
def cli_no_target(env: Env) -> list[str]:
    return ["run"]


@case("Geef maar één van --demo, --snapshot, --gemeente", exit_code=2)
def cli_two_targets(env: Env) -> list[str]:
    return ["run", "--demo", "--snapshot", str(env.demo)]


@case("--year geldt alleen voor --gemeente", exit_code=2)
def cli_year_with_snapshot(env: Env) -> list[str]:
    return env.run("--year", "2023", snap=env.demo)


@case("bestaat niet. Geef een map die met 'wijkanalyse demo'")
def cli_snapshot_missing(env: Env) -> list[str]:
    return env.run(snap=env.tmp / "nergens")


@case("is een bestand; geef een map", exit_code=2)
def cli_snapshot_is_a_file(env: Env) -> list[str]:
    (env.tmp / "snap.zip").write_bytes(b"PK")
    return env.run(snap=env.tmp / "snap.zip")


@case("Bedoelt u Amsterdam (GM0363)")
def cli_misspelt_gemeente(env: Env) -> list[str]:
    return ["run", "--gemeente", "Amsterdm", "--out", str(env.out)]


@case("2019, 2020, 2021, 2022, 2023, 2024, 2025")
def cli_unknown_year(env: Env) -> list[str]:
    return ["fetch", "--gemeente", "GM0233", "--year", "1999", "--cache-dir", str(env.tmp / "cache")]


@case("Kies een andere map met --out")
def cli_out_is_a_file(env: Env) -> list[str]:
    (env.tmp / "kaarten").write_text("no folder", encoding="utf-8")
    return ["run", "--snapshot", str(env.demo), "--out", str(env.tmp / "kaarten"), "-q"]


@case("is een map; geef een bestand", exit_code=2)
def cli_config_is_a_folder(env: Env) -> list[str]:
    return env.run("--config", str(env.tmp), snap=env.demo)


@case("bestaat niet", exit_code=2)
def cli_config_missing(env: Env) -> list[str]:
    return env.run("--config", str(env.tmp / "nergens.toml"), snap=env.demo)


@case("bevat bestanden die wijkanalyse niet schreef (notities.docx: zet ze ergens anders neer")
def cli_output_folder_holds_own_files(env: Env) -> list[str]:
    folder = env.out / "voorbeeldgemeente"
    folder.mkdir(parents=True)
    (folder / "kaart.html").write_text("<html/>", encoding="utf-8")
    (folder / "notities.docx").write_bytes(b"mine")
    return env.run(snap=env.demo)


@case("bestaat en is geen map; het wordt niet vervangen. Kies een andere map met --out")
def cli_output_folder_is_a_file(env: Env) -> list[str]:
    env.out.mkdir()
    (env.out / "voorbeeldgemeente").write_text("a file", encoding="utf-8")
    return env.run(snap=env.demo)


@case("is in gebruik door een andere wijkanalyse-run (pid")
def cli_output_folder_locked(env: Env) -> list[str]:
    env.out.mkdir()
    env.stack.enter_context(_lock.locked(env.out / "voorbeeldgemeente", what="x", advice="y"))
    return env.run(snap=env.demo)


@case("Een fetch vervangt haar; wacht tot die klaar is")
def cli_snapshot_being_fetched(env: Env) -> list[str]:
    env.stack.enter_context(_lock.locked(env.snap, what="x", advice="y"))
    return env.run()


@case("Wacht tot die klaar is, of kies een andere map voor --snapshot")
def cli_fetch_into_a_locked_snapshot(env: Env) -> list[str]:
    args = env.fetch()
    env.stack.enter_context(_lock.locked(env.tmp / "fetched", what="x", advice="y"))
    return args


@case("bestaat en is geen snapshotmap; de map wordt niet vervangen. Kies een andere map voor --snapshot")
def cli_demo_into_a_folder_with_other_files(env: Env) -> list[str]:
    (env.tmp / "docs").mkdir()
    (env.tmp / "docs" / "rapport.docx").write_bytes(b"mine")
    return ["demo", str(env.tmp / "docs")]


@case("Kan niet schrijven in")
def cli_demo_below_a_file(env: Env) -> list[str]:
    (env.tmp / "bestand").write_text("x", encoding="utf-8")
    return ["demo", str(env.tmp / "bestand" / "demo")]


@case("1 foute rij (er blijft geen geldige rij over); verbeter die en start opnieuw: eigen.csv regel 2: onbekende klasse 'onbekend'")
def cli_own_points_without_a_valid_row(env: Env) -> list[str]:
    (env.tmp / "eigen.csv").write_text("naam;klasse;x;y\n;onbekend;1;2\n", encoding="utf-8")
    return env.run("--ontmoetingspunten", str(env.tmp / "eigen.csv"), snap=env.demo)


@case("is geen UTF-8 (regel 1 bevat een byte die geen UTF-8 is). Sla het bestand op als 'CSV UTF-8'")
def cli_own_points_not_text(env: Env) -> list[str]:
    (env.tmp / "eigen.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00 binary")
    return env.run("--ontmoetingspunten", str(env.tmp / "eigen.csv"), snap=env.demo)


@case("eigen.geojson niet lezen: Failed to read GeoJSON data; At line 1, character 12: Unterminated array")
def cli_own_points_broken_geojson(env: Env) -> list[str]:
    (env.tmp / "eigen.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    return env.run("--ontmoetingspunten", str(env.tmp / "eigen.geojson"), snap=env.demo)


@case("Kan het OpenStreetMap-bestand")
def cli_osm_pbf_that_is_no_pbf(env: Env) -> list[str]:
    (env.tmp / "nederland.osm.pbf").write_bytes(b"<html>not a pbf</html>")
    return [*env.fetch(), "--osm-pbf", str(env.tmp / "nederland.osm.pbf")]


@case("Geen http(s)-adres: WIJKANALYSE_OVERPASS_URL='overpass'")
def cli_bad_service_variable(env: Env) -> list[str]:
    env.monkeypatch.setenv("WIJKANALYSE_OVERPASS_URL", "overpass")
    return ["fetch", "--gemeente", "GM0233", "--cache-dir", str(env.tmp / "cache")]


# -------------------------------------------------------------------------------------- config


@case("thresholds.walk_m moet een eindig getal zijn, maar is nan")
def config_walk_nan(env: Env) -> list[str]:  # issue: "binnen nan m", 0 %
    return env.run_with_config("[thresholds]\nwalk_m = nan\n")


@case("thresholds.walk_m moet een eindig getal zijn, maar is inf")
def config_walk_inf(env: Env) -> list[str]:  # issue: 100 %
    return env.run_with_config("[thresholds]\nwalk_m = inf\n")


@case("thresholds.walk_m moet > 0 zijn, maar is -400")
def config_walk_negative(env: Env) -> list[str]:
    return env.run_with_config("[thresholds]\nwalk_m = -400\n")


@case("thresholds.hotspot_alpha moet een eindig getal zijn, maar is nan")
def config_alpha_nan(env: Env) -> list[str]:  # issue: never a hot spot
    return env.run_with_config("[thresholds]\nhotspot_alpha = nan\n")


@case("indicators.eenzaam.weight moet een eindig getal zijn, maar is nan")
def config_weight_nan(env: Env) -> list[str]:  # issue: never a hot spot
    return env.run_with_config('[indicators.eenzaam]\ncbs = "Eenpersoonshuishoudens"\nweight = nan\n')


@case("thresholds.seed moet < 4294967296 zijn")
def config_seed_too_large(env: Env) -> list[str]:  # was numpy's ValueError
    return env.run_with_config("[thresholds]\nseed = 10000000000\n")


@case("thresholds.permutations moet < 100000 zijn")
def config_permutations_huge(env: Env) -> list[str]:
    return env.run_with_config("[thresholds]\npermutations = 1000000000\n")


@case("thresholds.walk_m is te groot")
def config_integer_beyond_float(env: Env) -> list[str]:
    return env.run_with_config("[thresholds]\nwalk_m = 1" + "0" * 30 + "\n")


@case("thresholds.distance_method moet een van network, straight_line zijn")
def config_unknown_method(env: Env) -> list[str]:
    return env.run_with_config('[thresholds]\ndistance_method = "fiets"\n')


@case("is geen geldige TOML")
def config_not_toml(env: Env) -> list[str]:
    return env.run_with_config("[thresholds\nwalk_m = 400\n")


@case("Kan configbestand")
def config_not_utf8(env: Env) -> list[str]:
    path = env.tmp / "latin1.toml"
    path.write_bytes('[area]\ngemeente = "Súdwest"\n'.encode("latin-1"))
    return env.run("--config", str(path), snap=env.demo)


@case("thresholds.walkm is geen bekende sleutel (bekend: distance_method, hotspot_alpha")
def config_unknown_key(env: Env) -> list[str]:
    return env.run_with_config("[thresholds]\nwalkm = 400\n")


@case("venues: geen enkele klasse heeft meeting_point = true")
def config_no_meeting_point_class(env: Env) -> list[str]:
    return env.run_with_config('[venues.school]\namenity = ["school"]\n')


@case("area.gemeente moet een CBS-code zijn zoals 'GM0233'")
def config_gemeente_name(env: Env) -> list[str]:
    return env.run_with_config('[area]\ngemeente = "Ermelo"\n')


@case("network.max_attach_m moet > 0 zijn")
def config_zero_attach(env: Env) -> list[str]:
    return env.run_with_config("[network]\nmax_attach_m = 0\n")


@case("services.overpass_url moet een http(s)-adres zijn")
def config_bad_url(env: Env) -> list[str]:
    return env.run_with_config('[services]\noverpass_url = "ftp://overpass"\n')


@case("Kolom 'Bestaatniet' staat niet in CBS-tabel 85984NED. Controleer de sleutel `cbs`/`per` van de indicator")
def config_indicator_per_not_in_table(env: Env) -> list[str]:
    return env.run_with_config('[indicators.eenzaam]\ncbs = "Eenpersoonshuishoudens"\nper = "Bestaatniet"\n')


@case("Bedoelt u Eenpersoonshuishoudens")
def config_indicator_not_in_table(env: Env) -> list[str]:
    return env.run_with_config('[indicators.eenzaam]\ncbs = "Eenpersoonshuishouden"\n')


# -------------------------------------------------------------------------------- snapshot files


@case("manifest.json ontbreekt. Maak de snapshot opnieuw")
def snapshot_no_manifest(env: Env) -> list[str]:
    (env.snap / snapshot.MANIFEST_FILE).unlink()
    return env.run()


@case("Maak de snapshot opnieuw")
def snapshot_manifest_not_json(env: Env) -> list[str]:
    (env.snap / snapshot.MANIFEST_FILE).write_text('{"format": ', encoding="utf-8")
    return env.run()


@case("is geen manifest van een wijkanalyse-snapshot")
def snapshot_manifest_of_something_else(env: Env) -> list[str]:
    (env.snap / snapshot.MANIFEST_FILE).write_text('{"type": "FeatureCollection"}', encoding="utf-8")
    return env.run()


@case("een nieuwere snapshot vraagt een nieuwere wijkanalyse")
def snapshot_newer_format(env: Env) -> list[str]:
    env.manifest(lambda m: m.update(format_version=99))
    return env.run()


@case("gemeente moet een object zijn zoals")
def snapshot_gemeente_as_text(env: Env) -> list[str]:  # issue: traceback
    env.manifest(lambda m: m.update(gemeente="GM9999"))
    return env.run()


@case("sources moet een object zijn zoals")
def snapshot_sources_as_list(env: Env) -> list[str]:  # issue: traceback
    env.manifest(lambda m: m.update(sources=list(m["sources"].values())))
    return env.run()


@case("sources.cbs.file moet een bestandsnaam zijn, maar is 5")
def snapshot_file_as_number(env: Env) -> list[str]:  # issue: traceback
    env.manifest(lambda m: m["sources"]["cbs"].update(file=5))
    return env.run()


@case("sources.grid.file '../vierkant100m.gpkg' is geen bestand in de snapshotmap")
def snapshot_file_outside_the_folder(env: Env) -> list[str]:
    env.manifest(lambda m: m["sources"]["grid"].update(file="../vierkant100m.gpkg"))
    return env.run()


@case("sources.grid.file 'vierkant100m.gpkg' staat niet in de map")
def snapshot_file_missing(env: Env) -> list[str]:
    (env.snap / snapshot.GRID_FILE).unlink()
    return env.run()


@case("is inconsistent: year 2023, maar CBS-tabel 85984NED bevat 2024")
def snapshot_year_of_another_table(env: Env) -> list[str]:
    env.manifest(lambda m: m.update(year=2023))
    return env.run()


@case("Kan CBS-tabel")
def snapshot_cbs_truncated(env: Env) -> list[str]:
    env.truncate(snapshot.CBS_FILE)
    return env.run()


@case("bevat geen rijen (verwacht: een OData-antwoord met een \"value\"-lijst). Maak de snapshot opnieuw")
def snapshot_cbs_without_rows(env: Env) -> list[str]:
    env.cbs(lambda rows: rows.clear())
    return env.run()


@case("heeft verschillende rijen voor dezelfde regio (BU99990805): het bestand mengt downloads. Maak de snapshot opnieuw")
def snapshot_cbs_conflicting_duplicate(env: Env) -> list[str]:  # issue: InvalidIndexError
    def dup(rows: list[dict[str, Any]]) -> None:
        rows.append({**rows[-1], "AantalInwoners_5": rows[-1]["AantalInwoners_5"] + 10})
    env.cbs(dup)
    return env.run()


@case("heeft 1 regio('s) dubbel (BU99990805); de kopie is weggelaten", kind="warning")
def snapshot_cbs_copied_row(env: Env) -> list[str]:  # issue: InvalidIndexError
    env.cbs(lambda rows: rows.append({**rows[-1], "ID": 999}))
    return env.run()


@case("is geen CBS-tabel Kerncijfers wijken en buurten, of hij is beschadigd. Maak de snapshot opnieuw")
def snapshot_cbs_without_inwoners(env: Env) -> list[str]:  # issue: "check the indicator's cbs/per key"
    env.cbs(lambda rows: [r.pop("AantalInwoners_5") for r in rows])
    return env.run()


@case("de tabel bevat de buurten van GM0233, niet van GM9999: de snapshot mengt gemeenten")
def snapshot_cbs_of_another_gemeente(env: Env) -> list[str]:  # issue: "are of different years"
    def move(rows: list[dict[str, Any]]) -> None:
        for r in rows:
            for key in ("WijkenEnBuurten", "Codering_3"):
                r[key] = r[key].replace("9999", "0233")
    env.cbs(move)
    return env.run()


@case("andere buurtcodes van GM9999 (bijv. BU99991101): de buurtgrenzen en de CBS-tabel zijn van verschillende jaren")
def snapshot_cbs_of_another_year(env: Env) -> list[str]:
    def renumber(rows: list[dict[str, Any]]) -> None:
        for r in rows:
            for key in ("WijkenEnBuurten", "Codering_3"):
                r[key] = r[key].replace("BU99990", "BU99991")
    env.cbs(renumber)
    return env.run()


def _same_as_demo(summary: dict[str, Any]) -> None:
    assert summary["hotspot_buurten"] == DEMO_HOTSPOTS
    assert summary["indicators_missing_share"]["eenpersoonshuishoudens"] == 0.0
    assert summary["warnings"] == []


@case("", kind="ok", check=_same_as_demo)
def snapshot_cbs_lower_case_codes(env: Env) -> list[str]:  # issue: empty figures, a hot spot lost
    def lower(rows: list[dict[str, Any]]) -> None:
        for r in rows:
            r["WijkenEnBuurten"], r["Codering_3"] = r["WijkenEnBuurten"].lower(), r["Codering_3"].lower()
    env.cbs(lower)
    return env.run()


@case("", kind="ok", check=_same_as_demo)
def snapshot_buurten_lower_case_codes(env: Env) -> list[str]:
    def lower(b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        for col in ("buurtcode", "wijkcode", "gemeentecode"):
            b[col] = b[col].str.lower()
        return b
    env.layer(snapshot.BUURTEN_FILE, snapshot.BUURTEN_LAYER, lower)
    return env.run()


@case("11 van de 21 buurten staan niet in CBS-tabel 85984NED (BU99990101, BU99990103", kind="warning")
def snapshot_cbs_half_the_buurten(env: Env) -> list[str]:  # issue: empty figures, no warning
    def halve(rows: list[dict[str, Any]]) -> None:
        buurten = [r for r in rows if r["SoortRegio_2"].strip() == "Buurt"]
        for r in buurten[::2]:
            rows.remove(r)
    env.cbs(halve)
    return env.run()


@case("geeft voor geen enkele indicator een cijfer in een buurt van GM9999")
def snapshot_cbs_all_dots(env: Env) -> list[str]:  # issue: "hotspots: geen", exit 0
    keep = {"ID", "WijkenEnBuurten", "Gemeentenaam_1", "SoortRegio_2", "Codering_3",
            "IndelingswijzigingWijkenEnBuurten_4", "AantalInwoners_5"}
    env.cbs(lambda rows: [r.update({k: "." for k in r if k not in keep}) for r in rows])
    return env.run()


@case("database disk image is malformed. Maak de snapshot opnieuw")
def snapshot_buurten_truncated(env: Env) -> list[str]:
    env.truncate(snapshot.BUURTEN_FILE)
    return env.run()


@case("laag 'wijken'")
def snapshot_buurten_layer_missing(env: Env) -> list[str]:
    env.manifest(lambda m: m["sources"]["buurten"].update(layer="wijken"))
    return env.run()


@case("De buurtlaag heeft geen buurt van GM9999 (wel van GM0233). Maak de snapshot opnieuw")
def snapshot_buurten_of_another_gemeente(env: Env) -> list[str]:
    def move(b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        b["gemeentecode"] = "GM0233"
        return b
    env.layer(snapshot.BUURTEN_FILE, snapshot.BUURTEN_LAYER, move)
    return env.run()


@case("database disk image is malformed. Maak de snapshot opnieuw")
def snapshot_grid_truncated(env: Env) -> list[str]:
    env.truncate(snapshot.GRID_FILE)
    return env.run()


@case("alle 618 bewoonde vierkanten in de gemeente zijn geheim (-99997). Maak de snapshot opnieuw")
def snapshot_grid_all_secret(env: Env) -> list[str]:  # issue: 0 residents and "47 gaps" of 0 people
    def secret(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        g["aantal_inwoners"] = -99997
        return g
    env.layer(snapshot.GRID_FILE, snapshot.GRID_LAYER, secret)
    return env.run()


@case("Geen inwoners om te tellen: het bevolkingsraster heeft geen vierkanten. Maak de snapshot opnieuw")
def snapshot_grid_empty(env: Env) -> list[str]:  # issue: 0 residents, exit 0
    env.layer(snapshot.GRID_FILE, snapshot.GRID_LAYER, lambda g: g.iloc[:0])
    return env.run()


@case("ligt in de buurten van de gemeente; het dichtstbijzijnde ligt 42.6 km verderop (een raster van een ander gebied)")
def snapshot_grid_50_km_away(env: Env) -> list[str]:  # issue: 0 residents, "controleer het netwerk"
    def move(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        g["geometry"] = g.translate(50_000, 0)
        return g
    env.layer(snapshot.GRID_FILE, snapshot.GRID_LAYER, move)
    return env.run()


@case("het 100 m-raster telt", kind="warning")
def snapshot_grid_covers_part(env: Env) -> list[str]:
    def west(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return g[g.geometry.centroid.x < g.geometry.centroid.x.median()]
    env.layer(snapshot.GRID_FILE, snapshot.GRID_LAYER, west)
    return env.run()


@case("heeft geen kolom 'aantal_inwoners'")
def snapshot_grid_without_residents_column(env: Env) -> list[str]:
    env.layer(snapshot.GRID_FILE, snapshot.GRID_LAYER, lambda g: g.drop(columns="aantal_inwoners"))
    return env.run()


@case("Parquet magic bytes not found in footer. Either the file is corrupted or this is not a parquet file")
def snapshot_network_truncated(env: Env) -> list[str]:
    env.truncate(snapshot.NETWORK_FILE)
    return env.run()


@case('Kies distance_method = "straight_line" of een snapshot met een netwerk')
def snapshot_network_empty(env: Env) -> list[str]:
    path = env.snap / snapshot.NETWORK_FILE
    gpd.read_parquet(path).iloc[:0].to_parquet(path)
    return env.run()


@case("Controleer de [venues]-tags in de config en de OpenStreetMap-gegevens van de snapshot, of voeg eigen punten toe")
def snapshot_no_venues(env: Env) -> list[str]:
    path = env.snap / snapshot.VENUES_FILE
    gpd.read_parquet(path).iloc[:0].to_parquet(path)
    return env.run()


@case("is geen bruikbaar OpenStreetMap-antwoord: Overpass meldde: 'runtime error: Query timed out")
def snapshot_osm_xml_overpass_remark(env: Env) -> list[str]:  # issue: "check the [venues] tags"
    from .fake_services import OVERPASS_REMARK
    env.format_1(OVERPASS_REMARK)
    return env.run()


@case("is geen bruikbaar OpenStreetMap-antwoord: XML met root <html> in plaats van <osm> (begint met '429 Too Many Requests')")
def snapshot_osm_xml_error_page(env: Env) -> list[str]:
    env.format_1(b"<!DOCTYPE html><html><body>429 Too Many Requests</body></html>")
    return env.run()


@case("onvolledige OSM-XML")
def snapshot_osm_xml_truncated(env: Env) -> list[str]:
    xml = (env.snap / snapshot.OSM_FILE).read_bytes()
    env.format_1(xml[: len(xml) // 2])
    return env.run()


@case("Controleer de vrije schijfruimte", file_size_limit=100_000)
def disk_full_writing_outputs(env: Env) -> list[str]:  # issue: traceback (pyogrio's errors are no OSError)
    return env.run(snap=env.demo)


@case("Controleer de vrije schijfruimte", file_size_limit=50_000)
def disk_full_writing_the_demo_snapshot(env: Env) -> list[str]:
    return ["demo", str(env.tmp / "demo")]


@case("is niet te schrijven (File exists); er wordt zonder cache verder gewerkt", kind="warning")
def cache_that_cannot_be_written(env: Env) -> list[str]:  # issue: PermissionError traceback
    (env.tmp / "cache").mkdir()
    (env.tmp / "cache" / "http").write_text("a file where the cache's folder belongs", encoding="utf-8")
    return env.fetch()  # the download works without the cache, and says so


@case("is een bestand; geef een map", exit_code=2)
def cli_cache_dir_is_a_file(env: Env) -> list[str]:
    (env.tmp / "cache").write_text("a file, not a folder", encoding="utf-8")
    return env.fetch()


def _no_permission(*args: object, **kwargs: object) -> None:
    raise PermissionError(13, "Permission denied")


@case("", kind="ok", check=_same_as_demo)
def snapshot_folder_read_only(env: Env) -> list[str]:  # issue: PermissionError traceback
    acquire = _lock._acquire

    def no_lock_file_beside_the_snapshot(path: Path, *, shared: bool) -> int | None:
        if path.name == ".snap.lock":
            _no_permission()
        return acquire(path, shared=shared)

    env.monkeypatch.setattr(_lock, "_acquire", no_lock_file_beside_the_snapshot)  # read without a lock
    return env.run()


@case("Kan niet schrijven in de uitvoermap")
def output_folder_read_only(env: Env) -> list[str]:  # (as root, chmod cannot make one)
    env.monkeypatch.setattr(tempfile, "mkdtemp", _no_permission)
    return env.run(snap=env.demo)


@case("Permission denied. Kies een andere map voor --snapshot")
def fetch_into_a_read_only_folder(env: Env) -> list[str]:
    args = env.fetch()
    env.monkeypatch.setattr(tempfile, "mkdtemp", _no_permission)
    return args


# ---------------------------------------------------------------------------- service answers


@case("een HTML-pagina in plaats van JSON")
def service_cbs_maintenance_page(env: Env) -> list[str]:
    env.fake.faults["cbs"] = ["html"] * 2
    return env.fetch()


@case("Probeer het later opnieuw, of zet een ander adres in [services] van de config")
def service_cbs_unavailable(env: Env) -> list[str]:
    env.fake.faults["cbs"] = [("status", 503, {})] * 2
    return env.fetch()


@case("antwoordde HTTP 400 op buurtgrenzen 2024")
def service_pdok_bad_request(env: Env) -> list[str]:
    env.fake.faults["buurten"] = [("status", 400, {})]
    return env.fetch()


@case("PDOK heeft geen buurtgrenzen van GM0999 voor 2024. Kies een ander --year")
def service_pdok_no_buurten(env: Env) -> list[str]:
    env.fake.buurten = []
    return env.fetch()


@case("PDOK heeft geen bewoonde 100 m-vierkanten van 2024 rond GM0999")
def service_pdok_no_grid(env: Env) -> list[str]:
    env.fake.grid = []
    return env.fetch()


@case("het antwoord brak af")
def service_grid_truncated(env: Env) -> list[str]:
    env.fake.faults["grid"] = ["truncate"] * 2
    return env.fetch()


@case("Overpass brak de vraag naar straten en voorzieningen twee keer af ('runtime error: Query timed out")
def service_overpass_remark(env: Env) -> list[str]:  # issue: "check the [venues] tags"
    env.fake.faults["overpass"] = ["remark"] * 2
    return env.fetch()


@case("XML met root <html> in plaats van <osm> (begint met 'Onderhoud')")
def service_overpass_error_page(env: Env) -> list[str]:
    env.fake.faults["overpass"] = ["html"] * 2
    return env.fetch()


@case("bevatten geen straten of paden. Controleer services.overpass_url")
def service_overpass_without_ways(env: Env) -> list[str]:
    env.fake.osm = b'<?xml version="1.0"?><osm version="0.6"><node id="1" lat="52.1" lon="5.3"/></osm>'
    return env.fetch()


@case("CBS-tabel 85984NED heeft geen gemeente GM0998")
def service_cbs_unknown_gemeente(env: Env) -> list[str]:
    args = env.fetch()
    args[args.index("GM0999")] = "GM0998"
    return args


# ------------------------------------------------------------------------- P4g: 104 new inputs


def _deep_json(depth: int = 100_000) -> str:
    return "[" * depth + "]" * depth


def _weighted(weight: str) -> str:
    return (f'[indicators.ouderen]\ncbs = "k_65JaarOfOuder"\nper = "AantalInwoners"\nweight = {weight}\n'
            '[indicators.wmo]\ncbs = "WmoClienten"\nper = "AantalInwoners"\n')


@case("indicators.ouderen.weight moet tussen 0.001 en 1000 liggen")
def config_weight_huge(env: Env) -> list[str]:  # issue: ZeroDivisionError, "Unexpected error"
    return env.run_with_config(_weighted("1e308"))


@case("indicators.ouderen.weight moet tussen 0.001 en 1000 liggen")
def config_weight_subnormal(env: Env) -> list[str]:  # issue: 5e-324 acted as a real weight
    return env.run_with_config(_weighted("5e-324"))


@case("", kind="ok", check=_same_as_demo)
def config_with_a_bom(env: Env) -> list[str]:  # issue: "not valid TOML (line 1, column 1)"
    path = env.tmp / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf[thresholds]\nwalk_m = 500\n")
    return env.run("--config", str(path), snap=env.demo)


@case("is een map, geen bestand. Geef in [siting] candidates_file een bestand")
def config_candidates_file_is_a_folder(env: Env) -> list[str]:  # issue: "does not exist"
    (env.tmp / "kandidaten").mkdir()
    return env.run_with_config(f"[siting]\ncandidates_file = {str(env.tmp / 'kandidaten')!r}\n")


@case("is te diep genest (meer dan")
def snapshot_manifest_nested_deep(env: Env) -> list[str]:  # issue: RecursionError
    (env.snap / snapshot.MANIFEST_FILE).write_text(_deep_json(), encoding="utf-8")
    return env.run()


@case("is te diep genest (meer dan")
def snapshot_cbs_nested_deep(env: Env) -> list[str]:  # issue: RecursionError
    (env.snap / snapshot.CBS_FILE).write_text('{"value": ' + _deep_json() + "}", encoding="utf-8")
    return env.run()


@case("is groter dan")
def snapshot_manifest_huge(env: Env) -> list[str]:
    (env.snap / snapshot.MANIFEST_FILE).write_text(" " * (2 << 20) + "{}", encoding="utf-8")
    return env.run()


def _buurt(env: Env, code: str, geometry: Any) -> None:
    def change(b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        b.loc[b["buurtcode"] == code, "geometry"] = geometry
        return b
    env.layer(snapshot.BUURTEN_FILE, snapshot.BUURTEN_LAYER, change)


@case("Buurt BU99990101 heeft een ongeldig vlak (Self-intersection", kind="warning")
def snapshot_buurt_bow_tie(env: Env) -> list[str]:  # issue: GEOS TopologyException
    import shapely
    b = gpd.read_file(env.snap / snapshot.BUURTEN_FILE, layer=snapshot.BUURTEN_LAYER)
    x0, y0, x1, y1 = b.loc[b["buurtcode"] == "BU99990101"].total_bounds
    _buurt(env, "BU99990101", shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)]))
    return env.run()


@case("Buurt BU99990102 heeft geen vlak (leeg of ontbrekend) in de buurtlaag")
def snapshot_buurt_empty_geometry(env: Env) -> list[str]:  # issue: IndexError
    import shapely
    _buurt(env, "BU99990102", shapely.Polygon())
    return env.run()


@case("Buurt BU99990102 heeft geen vlak (leeg of ontbrekend) in de buurtlaag")
def snapshot_buurt_null_geometry(env: Env) -> list[str]:  # issue: AttributeError
    _buurt(env, "BU99990102", None)
    return env.run()


@case("De buurtlaag heeft buurtcode BU99990102 voor verschillende buurten")
def snapshot_buurt_code_twice(env: Env) -> list[str]:  # issue: 20 of 21 buurten, silently
    def twice(b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        b.loc[b["buurtcode"] == "BU99990103", "buurtcode"] = "BU99990102"
        return b
    env.layer(snapshot.BUURTEN_FILE, snapshot.BUURTEN_LAYER, twice)
    return env.run()


@case("alle 21 buurten van GM9999 in de buurtlaag zijn water")
def snapshot_buurten_all_water(env: Env) -> list[str]:  # issue: "no buurt of GM9999 (it holds GM9999)"
    def water(b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        b["water"] = "JA"
        return b
    env.layer(snapshot.BUURTEN_FILE, snapshot.BUURTEN_LAYER, water)
    return env.run()


def _crs_label(env: Env, file: str, layer: str) -> None:
    def relabel(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return g.set_crs("EPSG:4326", allow_override=True)
    env.layer(file, layer, relabel)


@case("zegt EPSG:4326 maar bevat RD-coördinaten (meters)")
def snapshot_grid_labelled_wgs84_holds_rd(env: Env) -> list[str]:  # issue: "the nearest is nan km away"
    _crs_label(env, snapshot.GRID_FILE, snapshot.GRID_LAYER)
    return env.run()


@case("zegt EPSG:4326 maar bevat RD-coördinaten (meters)")
def snapshot_buurten_labelled_wgs84_holds_rd(env: Env) -> list[str]:
    _crs_label(env, snapshot.BUURTEN_FILE, snapshot.BUURTEN_LAYER)
    return env.run()


@case("", kind="ok", check=_same_as_demo)
def snapshot_network_in_wgs84(env: Env) -> list[str]:  # issue: said what was expected, not what to do
    path = env.snap / snapshot.NETWORK_FILE
    gpd.read_parquet(path).to_crs("EPSG:4326").to_parquet(path)
    return env.run()


@case("zegt EPSG:4326 maar bevat RD-coördinaten (meters)")
def snapshot_network_labelled_wgs84_holds_rd(env: Env) -> list[str]:
    path = env.snap / snapshot.NETWORK_FILE
    gpd.read_parquet(path).set_crs("EPSG:4326", allow_override=True).to_parquet(path)
    return env.run()


@case("van de OSM-voorzieningen heeft bij node/2000001 tags die geen JSON-object zijn")
def snapshot_venue_tags_not_json(env: Env) -> list[str]:  # issue: JSONDecodeError
    path = env.snap / snapshot.VENUES_FILE
    venues = gpd.read_parquet(path)
    venues.loc[0, "tags"] = '{"amenity": "community_centre", '
    venues.to_parquet(path)
    return env.run()


@case("niet lezen")
def snapshot_venues_truncated(env: Env) -> list[str]:  # corrupt where format 2 reads it (not osm.xml)
    env.truncate(snapshot.VENUES_FILE)
    return env.run()


def _cbs_column(env: Env, column: str, value: Any, where: Callable[[dict[str, Any]], bool] | None = None) -> None:
    def change(rows: list[dict[str, Any]]) -> None:
        for r in rows:
            if r["SoortRegio_2"].strip() == "Buurt" and (where is None or where(r)):
                r[column] = value
    env.cbs(change)


@case("Let op: indicator wmo heeft in de buurten minder dan 3 verschillende waarden", kind="warning")
def snapshot_indicator_without_variation(env: Env) -> list[str]:
    _cbs_column(env, "WmoClienten_93", 0)
    return env.run()


def _no_hotspots(summary: dict[str, Any]) -> None:
    assert summary["hotspot_buurten"] == []


@case("er is geen signaal met variatie, dus geen hotspots", kind="warning", check=_no_hotspots)
def snapshot_only_indicator_without_variation(env: Env) -> list[str]:  # issue: 21 of 21 hot or cold spots
    _cbs_column(env, "WmoClienten_93", 0)
    return env.run("--config", env.config('[indicators.wmo]\ncbs = "WmoClienten"\nper = "AantalInwoners"\n'))


@case("geeft bij WmoClienten waarden die niet kunnen (BU99990101", kind="warning")
def snapshot_cbs_infinity(env: Env) -> list[str]:  # issue: taken as a number
    _cbs_column(env, "WmoClienten_93", float("inf"), lambda r: r["Codering_3"].strip() == "BU99990101")
    return env.run()


@case("geeft bij WmoClienten waarden die niet kunnen (BU99990101", kind="warning")
def snapshot_cbs_absurd(env: Env) -> list[str]:  # issue: taken as a number
    _cbs_column(env, "WmoClienten_93", 1e308, lambda r: r["Codering_3"].strip() == "BU99990101")
    return env.run()


@case("Let op: het 100 m-raster heeft 12 cellen met een negatief aantal inwoners", kind="warning")
def snapshot_grid_negative_residents(env: Env) -> list[str]:  # issue: -920 residents counted
    def negative(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        g.loc[g.index[:12], "aantal_inwoners"] = -80
        return g
    env.layer(snapshot.GRID_FILE, snapshot.GRID_LAYER, negative)
    return env.run()


@case("is leeg. Vul het bestand")
def own_points_empty_file(env: Env) -> list[str]:  # issue: "has no class column (its columns are: )"
    path = env.tmp / "punten.csv"
    path.write_text("", encoding="utf-8")
    return env.run("--ontmoetingspunten", str(path), snap=env.demo)


@case("De uitvoermap is de snapshotmap zelf")
def output_folder_is_the_snapshot(env: Env) -> list[str]:  # issue: "in use by another wijkanalyse run"
    snap = Path(shutil.copytree(env.demo, env.tmp / "voorbeeldgemeente"))
    return ["run", "--snapshot", str(snap), "--out", str(env.tmp), "-q"]


@case("ligt in de snapshotmap")
def output_folder_inside_the_snapshot(env: Env) -> list[str]:
    return ["run", "--snapshot", str(env.snap), "--out", str(env.snap / "kaarten"), "-q"]


@case("kringverwijzing van symbolische koppelingen")
def output_folder_symlink_loop(env: Env) -> list[str]:  # issue: "Unexpected error"
    loop = env.tmp / "lus"
    loop.symlink_to(loop)
    return env.run("--out", str(loop), snap=env.demo)


@case("is te lang voor het bestandssysteem")
def output_path_too_long(env: Env) -> list[str]:  # issue: "Unexpected error"
    return env.run("--out", str(env.tmp / ("x" * 300)), snap=env.demo)


# ------------------------------------------------------------------------------------- the test


@pytest.fixture
def env(demo_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    with contextlib.ExitStack() as stack:
        yield Env(tmp=tmp_path, demo=demo_snapshot, monkeypatch=monkeypatch, stack=stack)


def _in_subprocess(args: list[str], limit: int) -> tuple[int, str]:
    """Run the CLI in a child whose files may not grow beyond ``limit`` bytes: a full disk, for real."""
    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(  # noqa: PLW1510 (the exit code is asserted)
        [sys.executable, "-m", "wijkanalyse", *args], capture_output=True, text=True, env=env,
        preexec_fn=limit_files, timeout=300,
    )
    return done.returncode, done.stderr


def test_the_catalogue_is_large() -> None:
    assert len(CASES) >= 40
    kinds = {c.kind for c in CASES.values()}
    assert kinds == {"error", "warning", "ok"}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name: str, env: Env) -> None:
    bad = CASES[name]
    args = bad.build(env)
    if bad.file_size_limit is not None:
        code, stderr = _in_subprocess(args, bad.file_size_limit)
        exception = None
    else:
        result = CliRunner().invoke(cli, args)
        code, stderr, exception = result.exit_code, result.stderr, result.exception
        assert exception is None or isinstance(exception, SystemExit), f"uncaught {exception!r}"
        assert "Traceback" not in result.output
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    if bad.kind == "error":
        assert code != 0 and (bad.exit_code is None or code == bad.exit_code), stderr
        assert lines and lines[-1].startswith("Fout: "), stderr
        assert bad.advice in lines[-1], lines[-1]
        assert sum(line.startswith("Fout: ") for line in lines) == 1
        return
    assert code == 0, stderr
    folder = env.out / "voorbeeldgemeente"
    if args[0] == "fetch":  # the snapshot is there; the warning was in the fetch's log
        assert bad.advice in stderr
        assert (env.tmp / "fetched" / snapshot.MANIFEST_FILE).is_file()
        return
    summary = json.loads((folder / "samenvatting.json").read_text(encoding="utf-8"))
    if bad.kind == "warning":
        assert bad.advice in stderr
        assert any(bad.advice in w for w in summary["warnings"]), summary["warnings"]
    if bad.check is not None:
        bad.check(summary)


def test_debug_shows_the_traceback(env: Env) -> None:
    env.manifest(lambda m: m.update(gemeente="GM9999"))
    result = CliRunner().invoke(cli, ["--debug", *env.run()])
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr and "read_manifest" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("Fout: Snapshot")


def test_an_unexpected_error_is_one_line_and_debug_shows_it(env: Env) -> None:
    from wijkanalyse import pipeline

    def broken(*args: object) -> None:
        raise KeyError("buurtcode")  # a bug, not a bad input

    env.monkeypatch.setattr(pipeline, "analyse", broken)
    result = CliRunner().invoke(cli, env.run(snap=env.demo))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Fout: Onverwachte fout (KeyError: 'buurtcode'). Start hetzelfde commando met --debug (wijkanalyse --debug ...) "
        "om te zien waar, en meld de fout met die uitvoer."]
    debug = CliRunner().invoke(cli, ["--debug", *env.run(snap=env.demo)])
    assert isinstance(debug.exception, KeyError)  # re-raised: python prints the traceback


def test_a_closed_stdout_ends_quietly(demo_snapshot: Path, tmp_path: Path) -> None:
    # wijkanalyse run ... | head -1: the reader is gone before the summary is printed (issue: "Unexpected error")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wijkanalyse", "run", "--snapshot", str(demo_snapshot), "--out", str(tmp_path), "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # nobody reads the summary
    with proc.stderr:
        stderr = proc.stderr.read().decode()
    code = proc.wait(timeout=300)
    assert code == 1, stderr
    assert stderr == ""  # quiet, like other command line tools: no "Unexpected error", no "Exception ignored"
