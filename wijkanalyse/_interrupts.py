"""Interrupts Python had to drop or wrap, delivered as the interrupt they are.

An interrupt (Ctrl-C, or SIGTERM, which the command handles the same way) can arrive while
Python runs code whose exceptions it cannot pass on: a weakref callback (importlib's module
locks use one), a ``__del__``. Python then prints "Exception ignored in ..." and carries on,
and because the SIGTERM handler ignores a second SIGTERM the run would finish as if nothing
had been asked. :func:`redeliver_lost_interrupts` installs a hook that delivers such an
interrupt again, at the next line where it can be raised. An interrupt that arrives while a
class is made comes out as another exception (:func:`caused_by_interrupt`).

A library with a bare ``except`` can swallow the interrupt outright. The signal handlers note
it (:func:`note_interrupt`), and the run checks at each step and before it replaces an output
folder (:func:`stop_if_interrupted`): a swallowed interrupt still stops the run there, with the
earlier outputs kept.

Imported by the entry point before anything else: the standard library only.
"""

from __future__ import annotations

import _thread
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "INTERRUPTED",
    "STOPPED",
    "caused_by_interrupt",
    "forget_interrupt",
    "interrupt",
    "note_interrupt",
    "redeliver_lost_interrupts",
    "stop_if_interrupted",
    "terminate",
]

#: Exit code after Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
INTERRUPTED = 130
#: The one line an interrupted command ends with.
STOPPED = "Afgebroken (Ctrl-C of SIGTERM); de vorige uitvoer is ongewijzigd."

#: Whether an interrupt arrived that has not been handled yet (see :func:`note_interrupt`).
_noted = False


def note_interrupt() -> None:
    """Remember that an interrupt arrived, for :func:`stop_if_interrupted` (called by the signal handlers)."""
    global _noted  # noqa: PLW0603 (one flag per process, as signals are)
    _noted = True


def forget_interrupt() -> None:
    """The interrupt has been handled (the run stopped and said so): later checks pass again."""
    global _noted  # noqa: PLW0603
    _noted = False


def stop_if_interrupted() -> None:
    """Raise KeyboardInterrupt when an interrupt arrived that something swallowed (a bare ``except``).

    Called at each step of a run and before an output folder is replaced, so a run that was
    asked to stop does not go on, or write, as if nothing happened.
    """
    if _noted:
        raise KeyboardInterrupt


def interrupt(signum: int, frame: object) -> None:
    """SIGINT handler: note the interrupt, then raise KeyboardInterrupt as Python's own handler does."""
    note_interrupt()
    raise KeyboardInterrupt


def terminate(signum: int, frame: object) -> None:
    """SIGTERM handler: stop like Ctrl-C (temporary folders removed, earlier outputs kept)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleaning short
    interrupt(signum, frame)


def redeliver_lost_interrupts() -> Callable[[], None]:
    """Deliver again an interrupt Python had to drop (see the module docstring); returns the undo.

    Only a KeyboardInterrupt in the main thread is taken; every other unraisable exception goes
    to the hook that was there before, as before.
    """
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if (isinstance(unraisable.exc_type, type) and issubclass(unraisable.exc_type, KeyboardInterrupt)
                and threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) in (signal.default_int_handler, interrupt)):
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


def caused_by_interrupt(error: BaseException) -> bool:
    """Whether ``error`` is an interrupt that Python wrapped in another exception.

    Python 3.11 turns an exception in ``__set_name__`` while a class is made (matplotlib's
    classes, as they load) into ``RuntimeError("Error calling __set_name__ ...")`` with the
    interrupt as its cause; a library may wrap one the same way. Such an error is the
    interrupt, not a failure to report.
    """
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _interrupt_after(main_id: int, hook_frame: Any) -> None:
    """Send SIGINT to the main thread once it has left ``hook_frame`` (the unraisable hook).

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
    if hasattr(signal, "pthread_kill"):  # a real signal: it also wakes a main thread that sleeps or waits
        signal.pthread_kill(main_id, signal.SIGINT)
    else:  # Windows: tripped, raised at the next line the main thread runs
        _thread.interrupt_main(signal.SIGINT)
