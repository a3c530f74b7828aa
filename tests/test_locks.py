"""Locks and whole-folder swaps (wijkanalyse._lock, wijkanalyse._atomic), piece by piece."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from wijkanalyse import _atomic, _lock, pipeline
from wijkanalyse.cli import cli
from wijkanalyse.errors import WijkanalyseError


def test_a_writer_excludes_writers_and_readers_and_says_who_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "uitvoer"
    with _lock.locked(folder, what="Output folder uitvoer", advice="Wait.") as path:
        assert path == tmp_path / ".uitvoer.lock"
        assert path.read_text(encoding="utf-8").startswith(f"pid {os.getpid()}, sinds ")
        taken = rf"^Output folder uitvoer is in gebruik door een andere wijkanalyse-run \(pid {os.getpid()}, sinds [0-9:]+\)\. Wait\.$"
        with pytest.raises(_lock.LockTaken, match=taken), _lock.locked(folder, what="Output folder uitvoer", advice="Wait."):
            pass
        with pytest.raises(_lock.LockTaken), _lock.locked(folder, shared=True, what="x", advice="y"):
            pass
    assert not path.exists()  # the last holder removes the lock file
    with _lock.locked(folder, what="x", advice="y"):  # and it can be taken again
        pass


def test_readers_share_and_exclude_a_writer(tmp_path: Path) -> None:
    folder = tmp_path / "snap"
    with (
        _lock.locked(folder, shared=True, what="x", advice="y"),
        _lock.locked(folder, shared=True, what="x", advice="y"),
        pytest.raises(_lock.LockTaken, match=r"is in gebruik door een andere wijkanalyse-run\. y"),
        _lock.locked(folder, what="x", advice="y"),
    ):
        pass
    assert not (tmp_path / ".snap.lock").exists()


def test_a_reader_without_a_place_for_its_lock_reads_anyway(tmp_path: Path) -> None:
    # a snapshot on a read-only share (or no folder at all: the reader then says what is wrong)
    with _lock.locked(tmp_path / "nergens" / "snap", shared=True, what="x", advice="y") as path:
        assert path is None
    with pytest.raises(WijkanalyseError, match=r"Kan niet schrijven naast .*slotbestand .*Choose another"), _lock.locked(
        tmp_path / "nergens" / "snap", what="x", advice="Choose another.",
    ):
        pass


def test_a_lock_of_a_killed_process_is_free(tmp_path: Path) -> None:
    # what a SIGKILLed holder leaves: the lock file, without a lock on it
    (tmp_path / ".uitvoer.lock").write_text("pid 1, since 00:00:00", encoding="utf-8")
    with _lock.locked(tmp_path / "uitvoer", what="x", advice="y"):
        pass


def test_staged_dir_swaps_a_complete_folder_in_and_keeps_the_old_one_on_error(tmp_path: Path) -> None:
    dest = tmp_path / "uit"
    with _atomic.staged_dir(dest, what="x", advice="y") as tmp:
        (tmp / "a.txt").write_text("1", encoding="utf-8")
        assert not dest.exists()
    assert (dest / "a.txt").read_text(encoding="utf-8") == "1"
    assert oct(dest.stat().st_mode & 0o777) == oct(0o777 & ~_atomic._umask())  # not mkdtemp's 0700
    with pytest.raises(RuntimeError), _atomic.staged_dir(dest, what="x", advice="y") as tmp:
        (tmp / "b.txt").write_text("2", encoding="utf-8")
        raise RuntimeError
    assert [p.name for p in dest.iterdir()] == ["a.txt"]
    with _atomic.staged_dir(dest, what="x", advice="y") as tmp:
        (tmp / "b.txt").write_text("2", encoding="utf-8")
    assert [p.name for p in dest.iterdir()] == ["b.txt"]  # replaced whole: a.txt is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uit"]


def test_clean_leftovers_puts_back_a_folder_a_kill_took_away_and_removes_only_its_own(tmp_path: Path) -> None:
    old = tmp_path / ".uit.abcd1234.old"
    (old / "uit").mkdir(parents=True)
    (old / "uit" / "kaart.html").write_text("earlier", encoding="utf-8")
    (tmp_path / ".uit.efgh5678.tmp").mkdir()  # a half-built folder of a killed run
    (tmp_path / ".uit.b.ijkl9012.tmp").mkdir()  # the staging folder of another folder, "uit.b"
    removed = _atomic.clean_leftovers(tmp_path / "uit")
    assert sorted(p.name for p in removed) == [".uit.abcd1234.old", ".uit.efgh5678.tmp"]
    assert (tmp_path / "uit" / "kaart.html").read_text(encoding="utf-8") == "earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".uit.b.ijkl9012.tmp", "uit"]


def test_stale_temporaries_are_removed_fresh_ones_kept(tmp_path: Path) -> None:
    stale = tmp_path / ".abc.k3j4h5g6.tmp.json"
    journal = tmp_path / ".buurten.q1w2e3r4.tmp.gpkg-journal"
    fresh = tmp_path / ".def.a1s2d3f4.tmp.json"
    kept = tmp_path / "0123abcd.json"  # a cached answer
    for path in (stale, journal, fresh, kept):
        path.write_text("x", encoding="utf-8")
    hour_ago = time.time() - 3700
    for path in (stale, journal, kept):
        os.utime(path, (hour_ago, hour_ago))
    assert _atomic.remove_stale_temporaries(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, kept.name])


def test_private_tempdir_sweeps_the_folders_of_dead_processes_only(tmp_path: Path) -> None:
    dead = tmp_path / "wijkanalyse-demo-dead"
    dead.mkdir()
    young = tmp_path / "wijkanalyse-demo-young"  # might be a run that is just starting
    young.mkdir()
    long_ago = time.time() - 3600
    os.utime(dead, (long_ago, long_ago))
    with _atomic.private_tempdir("wijkanalyse-demo-", tmp_path) as mine:
        living = tmp_path / "wijkanalyse-demo-living"
        living.mkdir()
        os.utime(living, (long_ago, long_ago))
        with _lock.try_lock(living / ".in-use") as taken:  # a living run holds its folder
            assert taken
            with _atomic.private_tempdir("wijkanalyse-demo-", tmp_path) as other:
                assert other != mine and living.exists() and mine.exists()
    assert not dead.exists() and not mine.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wijkanalyse-demo-living", "wijkanalyse-demo-young"]


def test_an_earlier_versions_output_folder_is_replaced_but_not_a_folder_of_other_files(
    demo_snapshot: Path, tmp_path: Path,
) -> None:
    folder = tmp_path / "voorbeeldgemeente"
    folder.mkdir()
    for name in ("kaart.html", "buurten.csv", "samenvatting.json", ".kaart.a1b2c3d4.tmp.html"):
        (folder / name).write_text("earlier", encoding="utf-8")  # as wijkanalyse 0.1 wrote (and a kill left)
    result = CliRunner().invoke(cli, ["run", "--snapshot", str(demo_snapshot), "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    index = json.loads((folder / pipeline.INDEX_FILE).read_text(encoding="utf-8"))
    assert sorted(p.name for p in folder.iterdir()) == sorted([*index["files"], pipeline.INDEX_FILE])
    (folder / "notities.docx").write_bytes(b"mine")
    result = CliRunner().invoke(cli, ["run", "--snapshot", str(demo_snapshot), "--out", str(tmp_path), "-q"])
    assert result.exit_code == 1
    assert "bevat bestanden die wijkanalyse niet schreef (notities.docx" in result.stderr
    assert (folder / "notities.docx").read_bytes() == b"mine"


def test_a_killed_downloads_temporaries_are_swept_from_the_cache(tmp_path: Path) -> None:
    from .fake_services import FakeServices

    http = tmp_path / "cache" / "http"
    http.mkdir(parents=True)
    left = http / ".0a1b2c3d.z9y8x7w6.tmp.json"
    left.write_text('{"half": ', encoding="utf-8")
    long_ago = time.time() - 7200
    os.utime(left, (long_ago, long_ago))
    with FakeServices() as fake:
        config = tmp_path / "c.toml"
        config.write_text(fake.config_toml(), encoding="utf-8")
        result = CliRunner().invoke(cli, ["fetch", "--gemeente", "GM0999", "--snapshot", str(tmp_path / "snap"),
                                          "--config", str(config), "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    assert not left.exists()
    assert not [p for p in http.iterdir() if p.name.startswith(".")]


def test_a_linked_output_folder_stays_linked(tmp_path: Path) -> None:
    share = tmp_path / "share" / "ermelo"
    share.mkdir(parents=True)
    (share / "kaart.html").write_text("earlier", encoding="utf-8")
    link = tmp_path / "kaarten" / "ermelo"
    link.parent.mkdir()
    link.symlink_to(share, target_is_directory=True)
    with _atomic.staged_dir(link, what="x", advice="y") as tmp:
        (tmp / "kaart.html").write_text("new", encoding="utf-8")
    assert link.is_symlink() and (share / "kaart.html").read_text(encoding="utf-8") == "new"


_READER = """
import sys
from wijkanalyse import _lock
refused = 0
for _ in range(int(sys.argv[2])):
    try:
        with _lock.locked(sys.argv[1], shared=True, what="Snapshot", advice=""):
            pass
    except _lock.LockTaken:
        refused += 1
print(refused)
"""


def test_readers_never_refuse_each_other(tmp_path: Path) -> None:
    # issue: 2,087 of 20,000 acquisitions refused "in use": the last reader took the lock
    # exclusively to see whether it was the last, and a reader arriving then was refused
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    folder = tmp_path / "snap"
    readers = [subprocess.Popen([sys.executable, "-c", _READER, str(folder), "6000"], stdout=subprocess.PIPE,
                                text=True, env=env) for _ in range(2)]
    refused = []
    for proc in readers:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0
        refused.append(int(out))
    assert refused == [0, 0]  # 12,000 acquisitions, two at a time
    with _lock.locked(folder, what="x", advice="y"):  # and a writer still gets it afterwards
        pass
