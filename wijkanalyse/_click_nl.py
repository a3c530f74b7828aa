"""click's own words in Dutch: help headings, the help and version options, and usage errors.

click writes its framework texts in English ("Usage:", "Options", "Show this message and
exit.", "[default: ...]", "No such option ...") and has no Dutch catalogue. Through its public
extension points (a context's ``formatter_class``, a group's ``command_class`` and
``context_class``) this module puts them in Dutch; every failure becomes one line that starts
with "Fout:" and, for a wrong command line, says where the options are listed.

A click message that none of the patterns below knows is shown as click wrote it: a newer
click that rewords a message gives an English sentence, not a wrong Dutch one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import IO, Any

import click

__all__ = [
    "HELP_TEXT",
    "VERSION_MESSAGE",
    "VERSION_TEXT",
    "DutchCommand",
    "DutchContext",
    "DutchFormatter",
    "dutch_failure",
    "dutch_help_option",
    "translate",
]

HELP_TEXT = "Toon deze hulp en stop."
VERSION_TEXT = "Toon de versie en stop."
VERSION_MESSAGE = "%(prog)s, versie %(version)s"

_HEADINGS = {"Options": "Opties", "Commands": "Commando's", "Positional arguments": "Argumenten", "Arguments": "Argumenten"}
_EXTRAS = (("[default: ", "[standaard: "), ("; default: ", "; standaard: "), ("[required]", "[verplicht]"),
           ("; required]", "; verplicht]"))
#: click's names for the kind of value an option takes (the metavar in the help)
_METAVARS = re.compile(r"\b(INTEGER RANGE|FLOAT RANGE|FILE|DIRECTORY|PATH|TEXT|INTEGER|FLOAT|BOOLEAN)\b")
_METAVARS_NL = {"INTEGER RANGE": "GETAL", "FLOAT RANGE": "GETAL", "FILE": "BESTAND", "DIRECTORY": "MAP",
                "PATH": "PAD", "TEXT": "TEKST", "INTEGER": "GETAL", "FLOAT": "GETAL", "BOOLEAN": "JA|NEE"}
_KINDS = {"File": "Bestand", "Directory": "Map", "Path": "Pad"}

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _rule(pattern: str, make: Callable[[re.Match[str]], str]) -> _Rule:
    return re.compile(pattern, re.DOTALL), make


#: (click's wording, its Dutch); tried in order, each on the whole message.
_RULES: tuple[_Rule, ...] = (
    _rule(r"No such option '(?P<n>[^']*)'\.(?: (?P<rest>.*))?",
          lambda m: f"Onbekende optie '{m['n']}'." + (f" {translate(m['rest'])}" if m["rest"] else "")),
    _rule(r"\(Did you mean one of: (?P<p>.*)\?\)", lambda m: f"(Bedoelde u een van: {m['p']}?)"),
    _rule(r"Did you mean (?P<p>.*)\?", lambda m: f"Bedoelde u {m['p']}?"),
    _rule(r"No such command '(?P<n>[^']*)'\.", lambda m: f"Onbekend commando '{m['n']}'."),
    _rule(r"Missing command\.", lambda m: "Geef een commando."),
    _rule(r"Missing (?P<k>option|argument|parameter) (?P<n>.*?)\.(?: (?P<rest>.*))?",
          lambda m: {"option": "Optie", "argument": "Argument", "parameter": "Parameter"}[m["k"]]
          + f" {m['n']} ontbreekt." + (f" {translate(m['rest'])}" if m["rest"] else "")),
    _rule(r"Got unexpected extra argument \((?P<a>.*)\)", lambda m: f"Onverwacht extra argument: {m['a']}."),
    _rule(r"Got unexpected extra arguments \((?P<a>.*)\)", lambda m: f"Onverwachte extra argumenten: {m['a']}."),
    _rule(r"Option '(?P<n>[^']*)' requires an argument\.", lambda m: f"Optie '{m['n']}' vraagt een waarde."),
    _rule(r"Option '(?P<n>[^']*)' requires (?P<k>\d+) arguments\.",
          lambda m: f"Optie '{m['n']}' vraagt {m['k']} waarden."),
    _rule(r"Option '(?P<n>[^']*)' does not take a value\.", lambda m: f"Optie '{m['n']}' neemt geen waarde."),
    _rule(r"Invalid value for (?P<h>.*?): (?P<msg>.*)", lambda m: f"Ongeldige waarde voor {m['h']}: {translate(m['msg'])}"),
    _rule(r"Invalid value: (?P<msg>.*)", lambda m: f"Ongeldige waarde: {translate(m['msg'])}"),
    _rule(r"(?P<v>.*) is not a valid integer\.", lambda m: f"{m['v']} is geen geheel getal."),
    _rule(r"(?P<v>.*) is not a valid float(?: range)?\.", lambda m: f"{m['v']} is geen getal."),
    _rule(r"(?P<v>.*) is not a valid boolean\.", lambda m: f"{m['v']} is geen ja/nee-waarde."),
    _rule(r"(?P<v>.*) is not one of (?P<c>.*)\.", lambda m: f"{m['v']} is niet een van {m['c']}."),
    _rule(r"(?P<v>.*) is not in the range (?P<r>.*)\.", lambda m: f"{m['v']} valt buiten het bereik {m['r']}."),
    _rule(r"(?P<v>.*) is not (?P<c>'.*')\.", lambda m: f"{m['v']} is niet {m['c']}."),
    _rule(r"(?P<k>File|Directory|Path) (?P<f>.*) does not exist\.", lambda m: f"{_KINDS[m['k']]} {m['f']} bestaat niet."),
    _rule(r"(?P<k>File|Directory|Path) (?P<f>.*) is a file\.",
          lambda m: f"{_KINDS[m['k']]} {m['f']} is een bestand; geef een map."),
    _rule(r"(?P<k>File|Directory|Path) (?P<f>.*) is a directory\.",
          lambda m: f"{_KINDS[m['k']]} {m['f']} is een map; geef een bestand."),
    _rule(r"(?P<k>File|Directory|Path) (?P<f>.*) is not readable\.",
          lambda m: f"{_KINDS[m['k']]} {m['f']} is niet leesbaar."),
    _rule(r"(?P<k>File|Directory|Path) (?P<f>.*) is not writable\.",
          lambda m: f"{_KINDS[m['k']]} {m['f']} is niet schrijfbaar."),
    _rule(r"Could not open file (?P<f>.*?): (?P<msg>.*)", lambda m: f"Kan bestand {m['f']} niet openen: {m['msg']}"),
)


def translate(message: str) -> str:
    """click's English ``message`` in Dutch where a pattern knows it, else unchanged."""
    for pattern, make in _RULES:
        match = pattern.fullmatch(message)
        if match is not None:
            return make(match)
    return message


class DutchFormatter(click.HelpFormatter):
    """Help text with Dutch headings ("Gebruik:", "Opties", "Commando's") and option extras."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args.replace("[OPTIONS]", "[OPTIES]").replace("COMMAND [ARGS]...", "COMMANDO [ARGS]..."),
                            prefix="Gebruik: " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(_HEADINGS.get(heading, heading))

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(_METAVARS.sub(lambda m: _METAVARS_NL[m[1]], term), _extras_nl(text)) for term, text in rows]
        super().write_dl(rows, col_max=col_max, col_spacing=col_spacing)


def _extras_nl(text: str) -> str:
    for english, dutch in _EXTRAS:
        text = text.replace(english, dutch)
    return text


class DutchContext(click.Context):
    """A context whose help is written by :class:`DutchFormatter`.

    A failure while it closes (a resource of the command that finishes its work on exit, such
    as a folder swapped in place) is shown as the other failures are (:func:`dutch_failure`).
    """

    formatter_class = DutchFormatter

    def close(self) -> None:
        try:
            super().close()
        except click.ClickException as e:
            raise dutch_failure(e) from e


def dutch_help_option(option: click.Option | None) -> click.Option | None:
    """``option`` (a command's or group's ``-h/--help``) with the Dutch text."""
    if option is not None:
        option.help = HELP_TEXT
    return option


class DutchCommand(click.Command):
    """A command with Dutch help (its own ``-h/--help`` text included)."""

    context_class = DutchContext

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        return dutch_help_option(super().get_help_option(ctx))


class _Failure(click.ClickException):
    """A failure shown as one Dutch line, "Fout: ..."; the exit code of the error it stands for."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint

    def show(self, file: IO[Any] | None = None) -> None:
        line = f"Fout: {self.format_message()}" + (f" {self.hint}" if self.hint else "")
        click.echo(line, file=file, err=True)  # err: stderr when no file is given


class _UsageFailure(_Failure):
    exit_code = 2


def dutch_failure(error: click.ClickException, command_path: str | None = None) -> click.ClickException:
    """``error`` as a :class:`_Failure`: one line, click's words in Dutch, the same exit code.

    A wrong command line (:class:`click.UsageError`) also says where the options are listed:
    the help of the command the error names, else of ``command_path``.
    """
    if isinstance(error, _Failure):
        return error
    if isinstance(error, click.UsageError):
        path = error.ctx.command_path if error.ctx is not None else command_path
        hint = f"Zie '{path} --help' voor de opties." if path else ""
        return _UsageFailure(translate(error.format_message()), hint=hint)
    return _Failure(translate(error.format_message()))
