"""The entry point of the ``wijkanalyse`` command and of ``python -m wijkanalyse``.

It handles Ctrl-C and SIGTERM from its first line, before the command line modules (click,
pandas, GeoPandas) are imported: an interrupt while they load ends in the same one line and
exit code 130 as an interrupt during a run, not in a traceback. Nothing has been written
then, so the earlier outputs are kept. During a command :mod:`wijkanalyse.cli` handles
them (its temporary folders are removed first).

An interrupt Python had to drop or wrap is handled by :mod:`wijkanalyse._interrupts`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys

from wijkanalyse._imports import own_process
from wijkanalyse._interrupts import (
    INTERRUPTED,
    STOPPED,
    caused_by_interrupt,
    interrupt,
    redeliver_lost_interrupts,
    terminate,
)

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Run the command line (``argv``: the arguments, default ``sys.argv[1:]``); exit 130 on an interrupt."""
    try:
        signal.signal(signal.SIGTERM, terminate)
        signal.signal(signal.SIGINT, interrupt)
    except ValueError:  # not the main thread: an embedding application keeps its signals
        pass
    else:
        redeliver_lost_interrupts()
    if argv is None:  # the command itself: the process is ours (wijkanalyse._imports.long_lived)
        own_process()
    try:
        from wijkanalyse.cli import cli  # noqa: PLC0415 (after the handlers: an interrupt while importing is caught)

        cli.main(args=argv, prog_name="wijkanalyse")
    except KeyboardInterrupt:
        _stopped(as_command=argv is None)
    except Exception as e:
        if not caused_by_interrupt(e):
            raise
        _stopped(as_command=argv is None)
    except SystemExit as e:
        if argv is None and e.code == INTERRUPTED:
            _leave(INTERRUPTED)
        raise


def _leave(code: int) -> None:
    """End the command now with ``code``: the streams flushed, the exit handlers run, no interpreter shutdown.

    After cli's interrupt handler has cleaned up and chosen exit 130, a normal exit can still
    end by SIGINT (exit -2): CPython (3.11, ``Py_RunMain`` under ``python -m``) remembers a
    KeyboardInterrupt that left any ``exec``/``eval`` of source text (dataclasses, namedtuple,
    scipy's docstrings build classes that way while modules load), even one caught later, and
    after the shutdown kills itself with SIGINT instead of returning the exit code.
    ``os._exit`` after the exit handlers keeps the code the handler chose.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()  # noqa: SLF001 (the handlers a normal exit would run; there is no public call)
    os._exit(code)


def _stopped(*, as_command: bool) -> None:
    """The one line and exit 130, with no Python code after it that a late interrupt could break into.

    Reached only while the modules load or click parses (a running command ends in cli's own
    handler, after its clean-up), so nothing is staged yet: exiting at once loses nothing.
    Run as the command it ends through :func:`_leave` (a ``sys.exit`` could end by SIGINT
    instead, see there); called with ``argv`` (embedded) it raises SystemExit.
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            signal.signal(sig, signal.SIG_IGN)
    with contextlib.suppress(BaseException):  # a closed stream or a late interrupt: the exit code still says it
        sys.stderr.write(STOPPED + "\n")
    if as_command:
        _leave(INTERRUPTED)
    sys.exit(INTERRUPTED)
