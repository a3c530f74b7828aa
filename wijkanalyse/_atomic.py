"""Atomic writes: a file or a whole folder is built under a temporary name beside its target, then renamed.

An interrupted run never leaves a half-written cache or output file: the target is either
the old complete file or the new complete file. A folder (a run's outputs, a snapshot) is
built the same way (:func:`staged_dir`) under its lock, and what killed runs leave behind
is cleaned by the next one (:func:`clean_leftovers`, :func:`remove_stale_temporaries`,
:func:`private_tempdir`).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from wijkanalyse._interrupts import stop_if_interrupted

__all__ = [
    "atomic_path",
    "clean_leftovers",
    "free_space",
    "is_write_error",
    "mkdir_error_text",
    "pause_point",
    "private_tempdir",
    "remove_stale_temporaries",
    "replace_dir",
    "staged_dir",
    "write_bytes",
    "write_error_text",
    "write_text",
    "write_with",
]


@contextlib.contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it onto ``target``.

    The temporary name keeps the target's suffix, so drivers that pick a format by
    extension (GeoPackage, CSV) still work.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # some writers (GDAL) refuse to overwrite an existing empty file
    try:
        yield tmp
        os.replace(tmp, target)
        pause_point("file-written")
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(target: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the target path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: Path | str, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``target`` atomically and return the target path."""
    return write_bytes(target, text.encode(encoding))


def write_with(target: Path | str, writer: Callable[[Path], object]) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``target`` atomically."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


# --------------------------------------------------------------------------- folders


#: The random part of :func:`tempfile.mkdtemp` names: 8 of these characters.
_RANDOM = "[a-z0-9_]{8}"


def _leftover_re(dest: Path) -> re.Pattern[str]:
    """Names of the staging (``.tmp``) and replaced (``.old``) folders of ``dest``, and only of ``dest``."""
    return re.compile(rf"^\.{re.escape(dest.name)}\.{_RANDOM}\.(tmp|old)$")


def pause_point(point: str) -> None:
    """A test hook: when ``$WIJKANALYSE_TEST_PAUSE_AT`` names ``point``, say so on stderr and wait.

    The kill tests (tests/test_kill.py) use it to SIGKILL a run at a known moment (while the
    new folder is written, between the two renames of a swap, ...). Without the variable it
    does nothing.
    """
    if os.environ.get("WIJKANALYSE_TEST_PAUSE_AT") == point:
        sys.stderr.write(f"PAUSE {point} {os.getpid()}\n")
        sys.stderr.flush()
        time.sleep(600)


def clean_leftovers(dest: Path | str) -> list[Path]:
    """Remove what killed runs left beside ``dest``; call it only while holding ``dest``'s lock.

    A run builds ``.<name>.<random>.tmp`` and, while swapping, moves the previous folder into
    ``.<name>.<random>.old``. A kill between the two renames leaves no ``dest`` at all: then
    the newest ``.old`` (a complete earlier folder) is put back first. Returns what was removed.
    """
    dest = Path(dest)
    parent = dest.parent
    if not parent.is_dir():
        return []
    pattern = _leftover_re(dest)
    found = [p for p in parent.iterdir() if pattern.match(p.name) and p.is_dir()]
    olds = sorted((p for p in found if p.name.endswith(".old") and (p / dest.name).exists()),
                  key=lambda p: p.stat().st_mtime)
    if olds and not dest.exists() and not dest.is_symlink():
        os.replace(olds[-1] / dest.name, dest)
    for path in found:
        shutil.rmtree(path, ignore_errors=True)
    return found


def replace_dir(new: Path | str, dest: Path | str) -> None:
    """Put the complete folder ``new`` in the place of ``dest`` (replaced whole when it exists).

    Two renames on the same file system: ``dest`` moves into a ``.old`` folder beside it,
    ``new`` takes its name, and the old folder is removed. Whatever moment the process dies,
    ``dest`` is either the old complete folder, the new complete folder, or (between the
    renames) absent with the old one in ``.old``, which :func:`clean_leftovers` puts back.
    """
    new, dest = Path(new), Path(dest)
    old = None
    if dest.exists() or dest.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
        os.replace(dest, old / dest.name)
        pause_point("swap")
    os.replace(new, dest)
    pause_point("swapped")
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged_dir(
    dest: Path | str, *, what: str, advice: str, refuse: Callable[[Path], str | None] | None = None,
    error: type[Exception] | None = None,
) -> Iterator[Path]:
    """Yield an empty folder beside ``dest`` to build in; on success it replaces ``dest`` whole.

    For the whole ``with`` block the folder's lock is held (:func:`wijkanalyse._lock.locked`),
    so two runs never build the same folder at once; once it is held, leftovers of killed
    runs are cleaned (:func:`clean_leftovers`). On an error, Ctrl-C or SIGTERM the new
    folder is removed and ``dest`` is left as it was.

    Parameters
    ----------
    dest
        The folder to (re)place.
    what, advice
        For messages: what the folder is ("Output folder kaarten/ermelo") and what else to
        do when it is in use, refused or cannot be written ("Choose another folder with --out.").
    refuse
        Called with an existing ``dest``: a reason not to replace it (it holds files
        wijkanalyse did not write), or None.
    error
        The :class:`~wijkanalyse.errors.WijkanalyseError` subclass to raise (default the
        base class).

    Raises
    ------
    WijkanalyseError
        When the folder is in use, refused, or cannot be written.
    """
    from wijkanalyse import _lock  # noqa: PLC0415 (_lock imports errors only; keeps _atomic light)
    from wijkanalyse.errors import WijkanalyseError  # noqa: PLC0415

    fail = error or WijkanalyseError
    dest = Path(dest)
    if dest.is_symlink():  # a link to a folder elsewhere (a share): replace that folder, keep the link
        dest = dest.resolve()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        msg = f"Kan niet schrijven in {dest.parent}: {mkdir_error_text(dest.parent, e)}. {advice}"
        raise fail(msg) from e
    wait = f"Wacht tot die klaar is, of {advice[:1].lower()}{advice[1:]}"
    with _lock.locked(dest, what=what, advice=wait, write_advice=advice):
        clean_leftovers(dest)
        if dest.exists() and not dest.is_dir():
            msg = f"{dest} bestaat en is geen map; het wordt niet vervangen. {advice}"
            raise fail(msg)
        reason = refuse(dest) if refuse is not None and dest.is_dir() else None
        if reason:
            msg = f"{dest} {reason}; de map wordt niet vervangen. {advice}"
            raise fail(msg)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
            tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; the folder gets the usual rights
        except OSError as e:
            msg = f"Kan niet schrijven in {dest.parent}: {e.strerror or e}. {advice}"
            raise fail(msg) from e
        try:
            yield tmp
            pause_point("staged")
            stop_if_interrupted()  # an interrupt a library swallowed: the new folder is not put in place
            replace_dir(tmp, dest)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


def mkdir_error_text(path: Path | str, error: OSError) -> str:
    """Why a folder cannot be made, in words: "kaarten is a file, not a folder" rather than "File exists"."""
    path = Path(path)
    if error.errno == errno.ENAMETOOLONG:
        longest = max((len(p.encode()) for p in path.parts), default=0)
        return (f"de naam is te lang voor het bestandssysteem (een mapnaam van {longest} bytes, een pad van "
                f"{len(str(path).encode())} bytes); kies een kortere")
    for parent in (path, *path.parents):
        try:
            os.stat(parent)
        except OSError as e:
            if e.errno == errno.ELOOP:
                return f"{parent} is een kringverwijzing van symbolische koppelingen (een koppeling naar zichzelf)"
            if parent.is_symlink():
                return f"{parent} is een symbolische koppeling naar iets dat niet bestaat ({os.readlink(parent)})"
            continue
        if not parent.is_dir():
            return f"{parent} is een bestand, geen map"
        break
    return error.strerror or str(error)


def _umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def free_space(path: Path | str) -> str:
    """Free space on the disk of ``path`` (or its nearest existing parent), e.g. "12 MB vrij"; "" when unknown."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return ""
    return f"{free / 2**30:.1f} GB vrij" if free >= 2**30 else f"{free / 2**20:.0f} MB vrij"


def is_write_error(error: BaseException) -> bool:
    """True for an error of writing a file: an OSError (disk full, no permission) or what GDAL,
    Arrow or SQLite raise instead (pyogrio's DataSourceError is a RuntimeError, not an OSError)."""
    if isinstance(error, OSError):
        return True
    return any(c.__module__.split(".")[0] in {"pyogrio", "pyarrow", "sqlite3"} for c in type(error).__mro__)


def write_error_text(error: BaseException) -> str:
    """A write error as a short phrase: the OS's words, or the library's."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]


def remove_stale_temporaries(folder: Path | str, older_than_s: float = 3600.0) -> int:
    """Remove temporary files of :func:`atomic_path` in ``folder`` older than ``older_than_s``.

    A killed process leaves ``.<stem>.<random>.tmp<suffix>`` (and a GeoPackage's
    ``-journal``); a living one renames its file within seconds, so an hour-old temporary is
    a leftover. Returns how many were removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    pattern = re.compile(rf"^\..+\.{_RANDOM}\.tmp")
    limit = time.time() - older_than_s
    removed = 0
    for path in folder.iterdir():
        try:
            if pattern.match(path.name) and path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


@contextlib.contextmanager
def private_tempdir(prefix: str, parent: Path | str | None = None) -> Iterator[Path]:
    """A temporary folder ``<parent>/<prefix><random>`` that is removed on exit, and after a kill.

    While it exists, the folder's ``.in-use`` file is locked. On entry, every folder of the
    same prefix whose lock is free (its process died: SIGKILL, power cut) and that is older
    than a minute is removed, so killed runs leave nothing behind for long.
    """
    from wijkanalyse import _lock  # noqa: PLC0415

    parent = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    for stale in parent.glob(f"{glob.escape(prefix)}*"):
        try:
            if not stale.is_dir() or stale.stat().st_mtime > time.time() - 60:
                continue
        except OSError:
            continue
        with _lock.try_lock(stale / ".in-use") as free:
            if free:
                shutil.rmtree(stale, ignore_errors=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        with _lock.try_lock(path / ".in-use"):
            yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
