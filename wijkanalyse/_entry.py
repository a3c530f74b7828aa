"""The entry point of the ``wijkanalyse`` command and of ``python -m wijkanalyse``.

It handles Ctrl-C and SIGTERM from its first line, before the command line modules (click,
pandas, GeoPandas) are imported: an interrupt while they load ends in the same one line and
exit code 130 as an interrupt during a run, not in a traceback. Nothing has been written
then, so the earlier outputs are kept. During a command :mod:`wijkanalyse.cli` handles
them (its temporary folders are removed first).
"""

from __future__ import annotations

import contextlib
import os
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
        _stopped(as_command=argv is None)


def _stopped(*, as_command: bool) -> None:
    """The one line and exit 130, with no Python code after it that a late interrupt could break into.

    Reached only while the modules load or click parses (a running command ends in cli's own
    handler, after its clean-up), so nothing is staged yet: exiting at once loses nothing. A
    ``sys.exit`` would run the interpreter's shutdown, where a KeyboardInterrupt still pending
    from a library that caught the first one ended the process by SIGINT (exit -2) instead (seen
    once in CI). Called with ``argv`` (embedded, ``as_command`` false) it raises SystemExit as before.
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            signal.signal(sig, signal.SIG_IGN)
    try:
        sys.stderr.write(STOPPED + "\n")
        sys.stderr.flush()
        sys.stdout.flush()
    except BaseException:  # noqa: S110 (a closed stream or a late interrupt: the exit code still says it)
        pass
    if as_command:
        os._exit(INTERRUPTED)
    sys.exit(INTERRUPTED)
