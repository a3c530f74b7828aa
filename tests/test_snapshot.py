"""Snapshot folders: a broken or incomplete folder gives one clear error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from wijkanalyse import snapshot
from wijkanalyse.errors import SourceError
from wijkanalyse.sources.files import SnapshotReader


@pytest.fixture
def copy(demo_snapshot: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(demo_snapshot, tmp_path / "snap"))


def test_demo_snapshot_reads(demo_snapshot: Path) -> None:
    reader = SnapshotReader(demo_snapshot)
    assert reader.manifest.gemeente_code == "GM9999"
    assert reader.wijk_names()["WK999904"] == "Zuidoost"


def test_missing_file_is_named(copy: Path) -> None:
    (copy / snapshot.GRID_FILE).unlink()
    with pytest.raises(SourceError, match=r"sources\.grid\.file 'vierkant100m\.gpkg' staat niet in de map"):
        SnapshotReader(copy)


def test_not_a_snapshot(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"manifest\.json ontbreekt"):
        SnapshotReader(tmp_path)


def test_wrong_manifest_lists_every_problem(copy: Path) -> None:
    raw = json.loads((copy / snapshot.MANIFEST_FILE).read_text(encoding="utf-8"))
    raw["gemeente"]["code"] = "9999"
    raw["year"] = "vorig jaar"
    (copy / snapshot.MANIFEST_FILE).write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(SourceError) as info:
        SnapshotReader(copy)
    assert "gemeente.code '9999'" in str(info.value) and "year 'vorig jaar'" in str(info.value)


def test_corrupt_geopackage(copy: Path) -> None:
    (copy / snapshot.BUURTEN_FILE).write_bytes(b"not a geopackage")
    with pytest.raises(SourceError, match=r"Kan .*buurten\.gpkg.* niet lezen"):
        SnapshotReader(copy).buurten()


def test_corrupt_cbs_json(copy: Path) -> None:
    (copy / snapshot.CBS_FILE).write_text('{"value": [', encoding="utf-8")
    with pytest.raises(SourceError, match="Kan CBS-tabel"):
        SnapshotReader(copy).cbs_rows()


def test_osm_without_ways_has_no_network(copy: Path) -> None:
    from wijkanalyse.errors import DataError
    from wijkanalyse.network import WalkNetwork

    (copy / snapshot.OSM_FILE).write_text('<?xml version="1.0"?><osm version="0.6"></osm>', encoding="utf-8")
    manifest = json.loads((copy / snapshot.MANIFEST_FILE).read_text())
    for key in ("network", "venues"):  # a format 1 snapshot: only osm.xml
        (copy / manifest["sources"].pop(key)["file"]).unlink()
    manifest["format_version"] = 1
    (copy / snapshot.MANIFEST_FILE).write_text(json.dumps(manifest))
    ways = SnapshotReader(copy).osm({}).ways
    with pytest.raises(DataError, match="geen straten of paden"):
        WalkNetwork.from_ways(ways)


def test_a_broken_network_layer_says_make_the_snapshot_again(copy: Path) -> None:
    (copy / snapshot.NETWORK_FILE).write_bytes(b"PAR1 not really")
    with pytest.raises(SourceError, match=r"netwerk.parquet.*Maak de snapshot opnieuw"):
        SnapshotReader(copy).osm({})


def test_a_manifest_of_another_year_than_its_cbs_file_is_refused(copy: Path) -> None:
    # a fetch killed half-way once left a 2024 manifest over 2023 CBS files
    cbs = copy / snapshot.CBS_FILE
    cbs.write_text(cbs.read_text(encoding="utf-8").replace("85984NED", "85618NED"), encoding="utf-8")
    with pytest.raises(SourceError, match=r"inconsistent: cbs_kerncijfers\.json bevat CBS-tabel 85618NED, het manifest zegt 85984NED"):
        SnapshotReader(copy)


def test_a_manifest_whose_table_is_of_another_year_is_refused(copy: Path) -> None:
    raw = json.loads((copy / snapshot.MANIFEST_FILE).read_text(encoding="utf-8"))
    raw["year"] = 2023
    (copy / snapshot.MANIFEST_FILE).write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(SourceError, match="year 2023, maar CBS-tabel 85984NED bevat 2024"):
        SnapshotReader(copy)
