"""A straight-line run (``distance_method = "straight_line"``) says 'hemelsbreed', never 'loopafstand'.

One run of the demo snapshot with straight-line distances; every text a person reads is
searched: the CSV and XLSX tables (headers and key figures), samenvatting.json, rapport.html,
kaart.html (popups, legend, help), the print maps' texts (titles, legends, notes, drawn by
matplotlib), the summary the CLI prints and the step log. A network run of the same snapshot
still says 'Loopafstand' (the words follow the method, they are not simply replaced).
"""

from __future__ import annotations

import json
import logging
import re
import zipfile
from pathlib import Path

import pytest
from matplotlib.text import Text

from wijkanalyse import pipeline
from wijkanalyse.cli import _summary_text
from wijkanalyse.config import load_config
from wijkanalyse.outputs import printmaps, tables

WALKING = re.compile(r"loopafstand|looproute|\blopen\b|\blopend\b", re.IGNORECASE)
SOFT_HYPHEN = re.compile(r"&shy;|\u00ad")


@pytest.fixture(scope="module")
def straight(demo_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[pipeline.RunOutputs, str]:
    folder = tmp_path_factory.mktemp("hemelsbreed")
    config_path = folder / "hemelsbreed.toml"
    config_path.write_text('[thresholds]\ndistance_method = "straight_line"\n', encoding="utf-8")
    logger = logging.getLogger("wijkanalyse")
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        outputs = pipeline.run(demo_snapshot, load_config(config_path), folder / "out")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    return outputs, "\n".join(records)


def _text(path: Path) -> str:
    """What a person reads in ``path``: the text, or for .xlsx every cell string of every sheet."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/")
                             or n == "xl/sharedStrings.xml")
    return SOFT_HYPHEN.sub("", path.read_text(encoding="utf-8-sig"))


def _walking_words(text: str) -> list[str]:
    return [text[max(0, m.start() - 40):m.end() + 20] for m in WALKING.finditer(text)]


def test_the_run_measured_straight_lines(straight) -> None:
    outputs, _ = straight
    assert outputs.result.summary["distance_method"] == "straight_line"
    assert "aanhechting_m" not in outputs.result.residents  # no network was used


@pytest.mark.parametrize("name", ["buurten.csv", "kernen.csv", "voorstellen.csv", "makelaarsgebieden.csv",
                                  "buurten.xlsx", "samenvatting.json", "rapport.html", "kaart.html"])
def test_no_file_says_walking(straight, name: str) -> None:
    outputs, _ = straight
    path = outputs.folder / name
    assert path.is_file()
    assert _walking_words(_text(path)) == []


@pytest.mark.parametrize(("name", "expected"), [
    ("buurten.xlsx", "Afstand hemelsbreed van de middelste inwoner (m)"),
    ("buurten.xlsx", "Drempel: afstand hemelsbreed tot een ontmoetingspunt (m)"),
    ("rapport.html", "Afstand hemelsbreed (mediaan)"),
    ("rapport.html", "binnen 400 meter hemelsbreed van een ontmoetingspunt?"),
    ("rapport.html", "Inwoners binnen en buiten 400 m hemelsbreed"),
    ("kaart.html", "Grootste afstand hemelsbreed"),
])
def test_the_labels_say_hemelsbreed(straight, name: str, expected: str) -> None:
    outputs, _ = straight
    assert expected in _text(outputs.folder / name)


def test_the_broker_priority_explanation_says_hemelsbreed(straight) -> None:
    outputs, _ = straight
    summary = json.loads((outputs.folder / "samenvatting.json").read_text(encoding="utf-8"))
    text = json.dumps(summary, ensure_ascii=False)
    assert "verder dan 400 m hemelsbreed van een ontmoetingspunt woont" in text


def test_print_maps_say_hemelsbreed(straight) -> None:
    outputs, _ = straight
    texts = []
    for make in printmaps.PRINT_MAPS.values():
        fig = make(outputs.result)
        texts += [t.get_text() for t in fig.findobj(Text) if t.get_text()]
    shown = " ".join(texts)
    assert _walking_words(shown) == []
    assert "hemelsbreed" in shown


def test_the_cli_summary_and_the_log_say_hemelsbreed(straight) -> None:
    outputs, log_text = straight
    summary = _summary_text(outputs)
    assert "van een ontmoetingspunt:" in summary and "hemelsbreed)" in summary
    assert _walking_words(summary) == []
    assert "Hemelsbrede afstand berekenen" in log_text
    assert _walking_words(log_text) == []


@pytest.fixture(scope="module")
def demo_run(demo_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> pipeline.RunOutputs:
    return pipeline.run(demo_snapshot, load_config(), tmp_path_factory.mktemp("lopen"))


def test_a_network_run_still_says_loopafstand(demo_run: pipeline.RunOutputs) -> None:
    """The same labels in a network run: the wording follows the method."""
    headers = tables._headers(demo_run.result)
    assert headers["afstand_mediaan_m"][0] == "Loopafstand van de middelste inwoner (m)"
    page = _text(demo_run.folder / "rapport.html")
    assert "Loopafstand (mediaan)" in page
    assert "hemelsbreed" not in page
