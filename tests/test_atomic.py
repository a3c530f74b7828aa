"""Interrupted writes leave either the old file or the new one, never a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from wijkanalyse import _atomic
from wijkanalyse.outputs import write


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "samenvatting.json"
    target.write_text("old", encoding="utf-8")

    def broken(tmp: Path) -> None:
        tmp.write_text("half", encoding="utf-8")
        raise KeyboardInterrupt  # the user pressed Ctrl-C mid-write

    with pytest.raises(KeyboardInterrupt):
        _atomic.write_with(target, broken)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["samenvatting.json"]  # no temp file left behind


def test_write_creates_folders_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "x.txt"
    _atomic.write_text(target, "een")
    _atomic.write_text(target, "twee")
    assert target.read_text(encoding="utf-8") == "twee"


def test_summary_json_has_no_nan(tmp_path: Path) -> None:
    path = write.write_summary({"share": float("nan"), "n": 3, "inf": float("inf")}, tmp_path / "s.json")
    assert path.read_text(encoding="utf-8") == '{\n  "share": null,\n  "n": 3,\n  "inf": null\n}\n'
