"""One language for people: what the CLI tells a person on failure is Dutch (issue P4d, item 5).

A handful of failing commands (usage, snapshot, config, own points, gemeente look-up) must not
show common English message words. Identifiers, paths, config keys and click's own framework
words ("Error:", "Usage:", "Try ... for help") are left out of the scan; texts of the OS or of a
library (``Permission denied``, tomllib's or GDAL's words) are not produced by these cases.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from wijkanalyse.cli import cli

ENGLISH = ("must", "should", "cannot", "not found", "Check the", "does not exist", "the", "Give", "Choose",
           "is not", "has no", "holds", "Make the", "Did you mean")
#: click's own words (it has no Dutch translation built in); the project's words follow them.
CLICK_WORDS = re.compile(r"^(Error: |Usage: .*|Try '.*' for help\.)")


def _project_text(stderr: str) -> str:
    lines = [CLICK_WORDS.sub("", line) for line in stderr.splitlines()]
    return "\n".join(line for line in lines if not line.startswith("Usage:"))


def _cases(tmp: Path, demo: Path) -> list[list[str]]:
    (tmp / "eigen.csv").write_text("naam;klasse;x;y\n;onbekend;1;2\n", encoding="utf-8")
    (tmp / "c.toml").write_text("[thresholds]\nwalk_m = -1\nwalkm = 3\n", encoding="utf-8")
    return [
        ["run"],
        ["run", "--demo", "--snapshot", str(demo)],
        ["run", "--snapshot", str(tmp / "nergens"), "--out", str(tmp / "out")],
        ["run", "--snapshot", str(demo), "--year", "2023"],
        ["run", "--snapshot", str(demo), "--out", str(tmp / "out"), "-q", "--config", str(tmp / "c.toml")],
        ["trend", str(demo), "--out", str(tmp / "out")],
        ["run", "--snapshot", str(demo), "--out", str(tmp / "out"), "-q", "--ontmoetingspunten", str(tmp / "eigen.csv")],
        ["run", "--gemeente", "Amsterdm", "--out", str(tmp / "out")],
        ["run", "--snapshot", str(tmp), "--out", str(tmp / "out")],
        ["demo", str(tmp / "d"), "--year", "2030"],
    ]


@pytest.mark.parametrize("case", range(10))
def test_failing_commands_speak_dutch(case: int, demo_snapshot: Path, tmp_path: Path) -> None:
    args = _cases(tmp_path, demo_snapshot)[case]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0, result.output
    text = _project_text(result.stderr)
    assert text.strip(), result.stderr
    for path in (str(tmp_path), str(demo_snapshot)):  # paths are not words
        text = text.replace(path, "<pad>")
    found = [word for word in ENGLISH if re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE)]
    assert not found, f"English {found} in: {text}"
