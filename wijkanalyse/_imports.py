"""Loading the few modules a run needs from packages whose ``__init__`` loads much more.

``import esda`` loads every esda statistic, among them ``adbscan``, which imports scikit-learn;
``import libpysal`` loads ``libpysal.graph``, which imports it again; ``mapclassify``'s
classifiers import ``sklearn.cluster`` for the one classifier that uses k-means. Together
about 0.7 s of CPU per process (``python -X importtime``) that Local Moran and the quantile
and fixed-break classes never use: a third of the demo's imports, paid again by every worker
of a national run.

:func:`parts_of` loads the needed modules under a package module whose ``__init__`` has not
run yet (the installed package's spec and folders, so the modules themselves are the
installed ones). The first use of anything else of the package runs its ``__init__`` into
that same module, which then finds the loaded modules: ``import mapclassify`` elsewhere
in the process gets the whole package, as always. Should loading this way fail on another
version of a package, the caller's ordinary imports run instead.

:func:`long_lived` keeps what the imports make out of the garbage collector's way: paused
while they run, frozen (:func:`gc.freeze`) after them. :func:`own_process`, which enables
that, also has OpenBLAS load with one thread.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.machinery
import importlib.util
import os
import sys
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from wijkanalyse._interrupts import caused_by_interrupt

__all__ = ["BLAS_THREADS_VARIABLE", "long_lived", "own_process", "parts_of"]


def _deferred(module: str, name: str) -> Callable[..., Any]:
    """A stand-in for ``module.name`` that imports the real one when it is first called."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"{module}.{name}, imported when first called."
    return call


def _completing(module: types.ModuleType, spec: importlib.machinery.ModuleSpec) -> Callable[[str], Any]:
    """A module ``__getattr__`` that runs the package's ``__init__`` once, then looks again."""

    def complete(attr: str) -> Any:
        if attr.startswith("__") or module.__dict__.pop("__getattr__", None) is None:
            raise AttributeError(f"module {module.__name__!r} has no attribute {attr!r}")
        assert spec.loader is not None
        spec.loader.exec_module(module)
        return getattr(module, attr)

    return complete


@contextlib.contextmanager
def _stand_ins(packages: Sequence[str], deferred: Mapping[str, Sequence[str]]) -> Iterator[None]:
    shells: list[tuple[types.ModuleType, importlib.machinery.ModuleSpec]] = []
    temporary: list[str] = []
    try:
        for name in packages:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.loader is None or not spec.submodule_search_locations:
                raise ImportError(name)
            shell = importlib.util.module_from_spec(spec)  # the package's module, its __init__ not run
            sys.modules[name] = shell
            shells.append((shell, spec))
        for module, names in deferred.items():
            if module in sys.modules:
                continue
            stub = types.ModuleType(module)
            for attr in names:
                setattr(stub, attr, _deferred(module, attr))
            sys.modules[module] = stub
            temporary.append(module)
        yield
    finally:
        for module in temporary:
            sys.modules.pop(module, None)
    for shell, spec in shells:
        shell.__getattr__ = _completing(shell, spec)  # type: ignore[method-assign]


def parts_of(packages: Sequence[str], modules: Sequence[str], *,
             deferred: Mapping[str, Sequence[str]] | None = None) -> bool:
    """Import ``modules`` (in this order) without running the ``__init__`` of ``packages``.

    ``deferred``: modules those modules import names from that they need only for what the
    run never calls (``{"sklearn.cluster": ["KMeans"]}``); each name is bound to a function
    that imports the real one when called. Nothing is done when one of ``packages`` is
    already imported. Returns False when the modules could not be loaded this way; then
    whatever was half loaded is forgotten and the caller imports as usual.
    """
    if any(name in sys.modules for name in packages):
        return False
    try:
        with _stand_ins(packages, deferred or {}):
            for module in modules:
                importlib.import_module(module)
    except Exception as e:
        for name in [m for m in sys.modules if m.split(".")[0] in set(packages)]:
            del sys.modules[name]
        if caused_by_interrupt(e):  # Ctrl-C while a class was made: stop, do not load the whole package instead
            raise
        return False
    return True


#: Set by :func:`own_process`: only then does :func:`long_lived` pause and freeze.
_OWN_PROCESS = False


#: OpenBLAS's thread count for a process of our own, unless the environment sets one (:func:`own_process`).
BLAS_THREADS_VARIABLE = "OPENBLAS_NUM_THREADS"


def own_process() -> None:
    """Say that this process is wijkanalyse's own: the command (:mod:`wijkanalyse._entry`) or a pool worker.

    Two decisions for the whole process follow, so a library call (a notebook, a test's
    ``CliRunner``) leaves the caller's settings alone:

    - :func:`long_lived` pauses and freezes the garbage collector around the imports;
    - OpenBLAS runs on one thread (``OPENBLAS_NUM_THREADS=1``, unless the environment
      already sets it). numpy and scipy each load an OpenBLAS of their own, and each starts
      a thread per core that spins until it times out: 0.2-0.3 s of CPU for the two when
      the command starts (``import scipy.linalg`` alone 0.31 -> 0.14 s), and on two busy
      cores CPU taken from the other worker. A run multiplies sparse matrices and solves
      tiny systems only, and a national run is parallel by gemeente. OpenBLAS reads the
      variable when it loads, so this must come before numpy is imported: the command
      calls this first thing, and the workers it starts inherit the variable.
    """
    global _OWN_PROCESS  # noqa: PLW0603 (one flag for the process)
    _OWN_PROCESS = True
    os.environ.setdefault(BLAS_THREADS_VARIABLE, "1")


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """In a process of our own (:func:`own_process`): run the block (imports) with the garbage collector
    paused, then freeze all it tracks (:func:`gc.freeze`). Elsewhere it only runs the block.

    The modules a run imports make about 340,000 objects (classes, functions, constants) that
    live until the process ends. Without this, imports set off one full collection after
    another as they grow the heap, and every later full collection scans them all again:
    0.4 s of the demo's 4.6 s of CPU, and 0.1-0.2 s of every gemeente a worker of a national
    run analyses (measured with ``gc.callbacks``). Frozen objects are still freed by reference
    counting; only a cycle among them is never collected, which for modules is the case
    anyway. So use it before data are loaded: whatever is alive at the end is frozen too.
    Nested blocks freeze at each end and leave the collector as the outermost found it.
    """
    if not _OWN_PROCESS:
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
