"""One language for people: what the CLI tells a person on failure is Dutch (issue P4d, item 5).

A handful of failing commands (usage, snapshot, config, own points, gemeente look-up) must not
show common English message words. Identifiers, paths and config keys are left out of the scan;
texts of the OS or of a library (``Permission denied``, tomllib's or GDAL's words) are not
produced by these cases. click's own words (its help, its usage errors) are Dutch too
(:mod:`wijkanalyse._click_nl`): every failure is one line that starts with "Fout:".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from wijkanalyse.cli import cli

ENGLISH = ("must", "should", "cannot", "not found", "Check the", "does not exist", "the", "Give", "Choose",
           "is not", "has no", "holds", "Make the", "Did you mean", "Error", "Usage", "Try", "for help", "Missing",
           "Invalid", "No such", "option", "requires", "unexpected", "argument", "value")


def _project_text(stderr: str) -> str:
    lines = stderr.splitlines()  # one line, or a config's list of problems under it
    assert lines and lines[0].startswith("Fout: "), stderr  # Dutch from its first word
    return "\n".join(lines).removeprefix("Fout: ")


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


#: click's own usage errors: (arguments, the Dutch line expected, written from click's English message by hand)
CLICK_CASES = [
    (["run", "--zzz"], "Fout: Onbekende optie '--zzz'. Zie 'cli run --help' voor de opties."),
    (["run", "--snapshott"], "Fout: Onbekende optie '--snapshott'. (Bedoelde u een van: '--no-maps', '--snapshot', "
     "'--snapshots'?) Zie 'cli run --help' voor de opties."),
    (["run", "--year", "abc"],
     "Fout: Ongeldige waarde voor '--year': 'abc' is geen geheel getal. Zie 'cli run --help' voor de opties."),
    (["run", "--workers", "0"],
     "Fout: Ongeldige waarde voor '--workers': 0 valt buiten het bereik x>=1. Zie 'cli run --help' voor de opties."),
    (["run", "--snapshot"], "Fout: Optie '--snapshot' vraagt een waarde. Zie 'cli run --help' voor de opties."),
    (["run", "x", "y"], "Fout: Onverwachte extra argumenten: x y. Zie 'cli run --help' voor de opties."),
    (["run", "--osm-engine", "gdal"],
     "Fout: Ongeldige waarde voor '--osm-engine': 'gdal' is niet een van 'auto', 'osmium', 'pyosmium'. "
     "Zie 'cli run --help' voor de opties."),
    (["run", "--config", "nergens.toml"],
     "Fout: Ongeldige waarde voor '--config': Bestand 'nergens.toml' bestaat niet. Zie 'cli run --help' voor de opties."),
    (["demo"], "Fout: Argument 'DEST' ontbreekt. Zie 'cli demo --help' voor de opties."),
    (["fetch"], "Fout: Optie '--gemeente' ontbreekt. Zie 'cli fetch --help' voor de opties."),
    (["bla"], "Fout: Onbekend commando 'bla'. Zie 'cli --help' voor de opties."),
    (["--zzz"], "Fout: Onbekende optie '--zzz'. Zie 'cli --help' voor de opties."),
]


@pytest.mark.parametrize(("args", "expected"), CLICK_CASES, ids=[" ".join(a) for a, _ in CLICK_CASES])
def test_a_wrong_command_line_is_one_dutch_line(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output  # click's code for a wrong command line, kept
    assert result.stderr.splitlines() == [expected]


def _commands() -> list[list[str]]:
    return [[], *([name] for name in sorted(cli.commands))]  # type: ignore[attr-defined]


@pytest.mark.parametrize("args", _commands(), ids=lambda a: " ".join(a) or "wijkanalyse")
def test_the_help_is_dutch(args: list[str]) -> None:
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("Gebruik: cli"), text
    assert "\nOpties:\n" in text and "Toon deze hulp en stop." in text
    assert ("Commando's:" in text) == (not args)
    click_words = ("Usage:", "Options:", "Commands:", "Show this message", "[default:", "[required]",
                   " FILE", " DIRECTORY", " TEXT", " INTEGER", "[OPTIONS]")
    assert not [w for w in click_words if w in text], text
    found = [w for w in ("the", "and", "with", "needs", "then", "where", "alone", "e.g.")
             if re.search(rf"(?<![\w.-]){re.escape(w)}(?![\w-])", text)]
    assert not found, f"English {found} in: {text}"


def test_the_version_is_dutch() -> None:
    from wijkanalyse import __version__

    result = CliRunner().invoke(cli, ["--version"])
    assert result.output == f"wijkanalyse, versie {__version__}\n"


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


@pytest.mark.parametrize(("english", "dutch"), [
    ("No such option '--outt'. Did you mean '--out'?", "Onbekende optie '--outt'. Bedoelde u '--out'?"),
    ("Got unexpected extra argument (x)", "Onverwacht extra argument: x."),
    ("Missing option '--gemeente'.", "Optie '--gemeente' ontbreekt."),
    ("Option '--dest' does not take a value.", "Optie '--dest' neemt geen waarde."),
    ("Invalid value for 'DEST': Directory 'd' is a file.", "Ongeldige waarde voor 'DEST': Map 'd' is een bestand; geef een map."),
    ("Invalid value for '--config': File 'c' is a directory.",
     "Ongeldige waarde voor '--config': Bestand 'c' is een map; geef een bestand."),
    ("'ja' is not a valid boolean.", "'ja' is geen ja/nee-waarde."),
    ("A message a newer click wrote.", "A message a newer click wrote."),  # unknown: kept, not guessed
    ("Snapshotmap x bestaat niet.", "Snapshotmap x bestaat niet."),  # the project's own Dutch: untouched
])
def test_click_messages_in_dutch(english: str, dutch: str) -> None:
    from wijkanalyse._click_nl import translate

    assert translate(english) == dutch


#: a number written the English way in a log line: four or more digits in a row (a count of
#: thousands without the Dutch thousands dot), or a decimal point followed by other than three digits
_ENGLISH_NUMBER = re.compile(r"(?<![\w.,/-])(\d{4,}|\d+\.(\d{1,2}|\d{4,}))(?![\w])")
_YEAR = re.compile(r"(19|20)\d\d")


def test_log_lines_write_numbers_dutch_style(demo_snapshot: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """What a run logs (stderr) writes counts with a thousands dot and decimals with a comma, as the
    summary and the files do: the demo has 18.145 inwoners, hundreds of cells and a ratio with decimals."""
    import logging

    from wijkanalyse import pipeline
    from wijkanalyse.config import load_config

    with caplog.at_level(logging.INFO, logger="wijkanalyse"):
        pipeline.run(demo_snapshot, load_config(), tmp_path / "uit", maps=False)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    wrong = [(m.group(0), line) for line in lines for m in _ENGLISH_NUMBER.finditer(line)
             if not _YEAR.fullmatch(m.group(0))]  # years (CBS 2024, PDOK 2023) are names, not counts
    assert not wrong, wrong
    alone = next(line for line in lines if "het enige binnen" in line)  # the dependence line: thousands of inwoners
    assert re.search(r"voor \d{1,3}(\.\d{3})+ inwoners het enige binnen 400 m", alone), alone
    ratio = next(line for line in lines if "verhouding zwaarste/lichtste" in line)
    assert re.search(r"lichtste \d+,\d\d\)", ratio), ratio


@pytest.mark.parametrize(("value", "text"), [  # by hand: %g's digits, Dutch marks, never an exponent
    (1e6, "1.000.000"), (400.0, "400"), (0.25, "0,25"), (1234.5, "1.234,5"), (12.3456, "12,346"), (-3.5, "-3,5"),
    (-0.0001, "0"), (float("nan"), "onbekend"),
])
def test_format_plain(value: float, text: str) -> None:
    from wijkanalyse._format import format_plain

    assert format_plain(value) == text


@pytest.mark.parametrize(("share", "limit", "text"), [  # by hand: the fewest decimals that read apart from the limit
    (0.104, 0.10, "10,4 %"), (0.1004, 0.10, "10,04 %"), (0.16, 0.10, "16 %"), (0.0996, 0.10, "9,96 %"),
    (0.10001, 0.10, "10,00 %"),  # not apart within two more decimals: the last try
])
def test_format_percent_apart(share: float, limit: float, text: str) -> None:
    """A broker warning said "niet binnen 10 % (grootste afwijking 10 %)" for a deviation of 10.4 %."""
    from wijkanalyse._format import format_percent_apart

    assert format_percent_apart(share, limit) == text


def test_the_run_summary_writes_numbers_dutch_style(demo_snapshot: Path, tmp_path: Path) -> None:
    """The summary on stdout, as the log: a city's 1.500 m threshold and 2.400 venues, not "1500" and "2400"."""
    from wijkanalyse import pipeline
    from wijkanalyse.cli import _summary_text
    from wijkanalyse.config import load_config

    outputs = pipeline.run(demo_snapshot, load_config(), tmp_path / "uit", maps=False)
    outputs.result.summary.update(threshold_m=1500.0, n_meeting_points=1200, n_venues=2400)
    text = _summary_text(outputs)
    assert "  binnen 1.500 m van een ontmoetingspunt: " in text
    assert "  ontmoetingspunten:       1.200 (van 2.400 voorzieningen)" in text
