"""The entry point of the ``wijkanalyse`` command and of ``python -m wijkanalyse``.

It handles Ctrl-C and SIGTERM from its first line, before the command line modules (click,
pandas, GeoPandas) are imported: an interrupt while they load ends in the same one line and
exit code 130 as an interrupt during a run, not in a traceback. Nothing has been written
then, so the earlier outputs are kept. During a command :mod:`wijkanalyse.cli` handles
them (its temporary folders are removed first).
"""

from __future__ import annotations

import signal
import sys

__all__ = ["main"]

#: Exit code after Ctrl-C or SIGTERM (128 + SIGINT, as shells report it); the same as cli.INTERRUPTED.
INTERRUPTED = 130
STOPPED = "Afgebroken (Ctrl-C of SIGTERM); de vorige uitvoer is ongewijzigd."


def _terminate(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleaning short
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Run the command line (``argv``: the arguments, default ``sys.argv[1:]``); exit 130 on an interrupt."""
    try:
        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread: an embedding application keeps its signals
        pass
    try:
        from wijkanalyse.cli import cli  # noqa: PLC0415 (after the handlers: an interrupt while importing is caught)

        cli.main(args=argv, prog_name="wijkanalyse")
    except KeyboardInterrupt:
        try:
            sys.stderr.write(STOPPED + "\n")
            sys.stderr.flush()
        except OSError:
            pass
        sys.exit(INTERRUPTED)
