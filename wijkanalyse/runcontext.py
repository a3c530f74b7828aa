"""The state of one run: its steps and their timings, and the warnings it logged.

Several analyses may run in one process at once (threads of a dask worker, a notebook, the
scenarios of one run), so nothing of a run is kept in module globals. A :class:`RunContext`
is made per run and made *current* with :meth:`RunContext.active`; it lives in a
:class:`contextvars.ContextVar`, so each thread (and each asyncio task) sees only its own.
One handler on the ``wijkanalyse`` logger, installed once, hands every warning to the
context current in the thread that logged it: a warning is never only in the log, and never
in another run's summary.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from wijkanalyse._interrupts import stop_if_interrupted

__all__ = ["RunContext", "current", "peak_rss_gib"]

log = logging.getLogger("wijkanalyse")

_CURRENT: ContextVar[RunContext | None] = ContextVar("wijkanalyse_run", default=None)


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (GiB); 0 where the platform does not say."""
    try:
        import resource  # noqa: PLC0415 (not on Windows)
    except ImportError:
        return 0.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kilobytes on Linux


@dataclass
class RunContext:
    """Steps, timings and warnings of one run (see the module docstring)."""

    total_steps: int = 8
    #: (step text, start time, peak memory so far) per step, in order
    marks: list[tuple[str, float, float]] = field(default_factory=list)
    #: the text of every warning (and worse) logged under ``wijkanalyse`` while this run was current
    warnings: list[str] = field(default_factory=list)

    def step(self, n: int, text: str) -> None:
        """Log the start of step ``n`` ("[n/total] text") and mark its time.

        An interrupt that a library swallowed stops the run here (:func:`~wijkanalyse._interrupts.stop_if_interrupted`).
        """
        stop_if_interrupted()
        log.info("[%d/%d] %s", n, self.total_steps, text)
        self.marks.append((text, time.perf_counter(), peak_rss_gib()))

    def timings(self) -> tuple[tuple[str, float, float], ...]:
        """(step, seconds, peak memory at its end in GiB) per step; the last one ends now."""
        ends = [(t, peak) for _, t, peak in self.marks[1:]] + [(time.perf_counter(), peak_rss_gib())]
        return tuple((text, end - start, peak) for (text, start, _), (end, peak) in zip(self.marks, ends, strict=True))

    @contextlib.contextmanager
    def active(self) -> Iterator[RunContext]:
        """Make this the current run of this thread while the block runs (nested: the inner one wins)."""
        _install_handler()
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)


def current() -> RunContext | None:
    """The run current in this thread, if any."""
    return _CURRENT.get()


class _ToCurrentRun(logging.Handler):
    """Hands every warning to the run current in the thread that logged it."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        ctx = _CURRENT.get()
        if ctx is not None:
            ctx.warnings.append(record.getMessage())


_HANDLER = _ToCurrentRun()


def _install_handler() -> None:
    if _HANDLER not in log.handlers:
        log.addHandler(_HANDLER)
