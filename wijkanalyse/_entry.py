"""The entry point of the ``wijkanalyse`` command and of ``python -m wijkanalyse``.

It handles Ctrl-C and SIGTERM from its first line, before the command line modules (click,
pandas, GeoPandas) are imported: an interrupt while they load ends in the same one line and
exit code 130 as an interrupt during a run, not in a traceback. Nothing has been written
then, so the earlier outputs are kept. During a command :mod:`wijkanalyse.cli` handles
them (its temporary folders are removed first).

An interrupt can arrive while Python runs code whose exceptions it cannot pass on: a weakref
callback (importlib's module locks use one), a ``__del__``. Python then prints "Exception
ignored in ..." and carries on, and because the SIGTERM handler ignores a second SIGTERM the
run would finish as if nothing had been asked. :func:`redeliver_lost_interrupts` installs a
hook that delivers such an interrupt again, at the next line where it can be raised.
"""

from __future__ import annotations

import _thread
import atexit
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["main", "redeliver_lost_interrupts"]

#: Exit code after Ctrl-C or SIGTERM (128 + SIGINT, as shells report it); the same as cli.INTERRUPTED.
INTERRUPTED = 130
STOPPED = "Afgebroken (Ctrl-C of SIGTERM); de vorige uitvoer is ongewijzigd."


def _terminate(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleaning short
    raise KeyboardInterrupt


def redeliver_lost_interrupts() -> Callable[[], None]:
    """Deliver again an interrupt Python had to drop (see the module docstring); returns the undo.

    Only a KeyboardInterrupt in the main thread is taken; every other unraisable exception goes
    to the hook that was there before, as before.
    """
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if (isinstance(unraisable.exc_type, type) and issubclass(unraisable.exc_type, KeyboardInterrupt)
                and threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            with contextlib.suppress(RuntimeError):  # no new threads while the interpreter shuts down
                here = sys._getframe()  # noqa: SLF001
                threading.Thread(target=_interrupt_after, args=(threading.get_ident(), here), daemon=True,
                                 name="wijkanalyse-interrupt").start()
                return
        previous(unraisable)

    sys.unraisablehook = hook

    def undo() -> None:
        if sys.unraisablehook is hook:
            sys.unraisablehook = previous

    return undo


def _interrupt_after(main_id: int, hook_frame: Any) -> None:
    """Trip SIGINT in the main thread once it has left ``hook_frame`` (the unraisable hook).

    Tripped inside the hook (``interrupt_main`` called there, or too early from here), the
    handler would raise in the hook and be dropped again; tripped after it, it raises at the
    next line the main thread runs past the callback. A callback it lands in again comes back
    to the hook, and so here.
    """
    for _ in range(10_000):  # about 10 s at most: a main thread stuck in the hook is not waited for
        frame = sys._current_frames().get(main_id)  # noqa: SLF001
        while frame is not None and frame is not hook_frame:
            frame = frame.f_back
        if frame is None:
            break
        time.sleep(0.001)
    del frame, hook_frame
    _thread.interrupt_main(signal.SIGINT)


def main(argv: list[str] | None = None) -> None:
    """Run the command line (``argv``: the arguments, default ``sys.argv[1:]``); exit 130 on an interrupt."""
    try:
        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread: an embedding application keeps its signals
        pass
    else:
        redeliver_lost_interrupts()
    try:
        from wijkanalyse.cli import cli  # noqa: PLC0415 (after the handlers: an interrupt while importing is caught)

        cli.main(args=argv, prog_name="wijkanalyse")
    except KeyboardInterrupt:
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
