"""The README keeps its promises: two set-up commands, the CI runs the test one verbatim."""

from __future__ import annotations

import re
from pathlib import Path

from wijkanalyse.config import load_config

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: the README and docs/: where a config or summary key must be documented
DOCS = "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def setup_commands() -> list[str]:
    section = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.+?)\n```", section)


def test_exactly_two_one_line_setup_commands() -> None:
    commands = setup_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert commands[0].endswith("wijkanalyse run --demo")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert setup_commands()[1] in ci.splitlines()


def test_every_config_key_is_documented() -> None:
    config = load_config()
    keys = [f"thresholds.{k}" for k in vars(config.thresholds)] + [f"costs.{k}" for k in vars(config.costs)]
    keys += [f"services.{k}" for k in vars(config.services)]
    keys += ["area.gemeente", "area.year", "venues.<key>", "indicators.<key>"]
    keys += [f"own_points.{k}" for k in vars(config.own_points)] + ["own_points.classes.<key>"]
    keys += [f"{section}.{k}" for section in ("siting", "brokers", "kernen") for k in vars(getattr(config, section))]
    keys += ["walking.speed_m_s", "walking.threshold_minutes", "walking.groups.<key>", "walking.profiles.<key>"]
    keys += [f"opening_hours.{k}" for k in vars(config.opening_hours)]
    for key in keys:
        assert f"`{key}`" in DOCS, key


def test_every_summary_key_is_documented() -> None:
    from wijkanalyse import pipeline

    source = Path(pipeline.__file__).read_text(encoding="utf-8")
    block = source.split("summary = {", 1)[1].split("}", 1)[0]
    for key in re.findall(r'"(\w+)":', block):
        assert f"`{key}`" in DOCS, key


def test_the_readme_starts_small_and_links_every_page() -> None:
    assert len(README.splitlines()) < 150
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"docs/{page.name}" in README, page.name
    for picture in ("docs/img/kaart.png", "docs/img/rapport.png"):
        assert f"({picture})" in README and (ROOT / picture).is_file(), picture
    assert "Python 3.11" in README and ".venv\\Scripts\\" in README  # the version and the Windows commands
