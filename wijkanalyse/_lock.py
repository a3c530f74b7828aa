"""Advisory locks on folders: one writer at a time, readers beside each other.

A folder ``DIR`` is locked through a lock file beside it, ``.DIR.lock`` (beside, not inside:
the folder itself is replaced whole when a run or a download completes). The lock is an
``fcntl.flock`` on that file, so the operating system releases it when the process ends,
also when it is killed (SIGKILL): a lock is never left behind by a dead run, and the lock
file itself, an empty file, may stay.

- :func:`locked` with ``shared=False`` (writing a snapshot or an output folder) excludes
  every other holder; the holder writes its process id and start time into the file, so a
  second run can say who has it.
- ``shared=True`` (a run reading a snapshot) admits other readers and excludes a writer,
  so a fetch cannot swap a snapshot away under a run that is reading it.

A lock that is taken is never waited for: the caller gets a :class:`LockTaken` (a
:class:`~wijkanalyse.errors.WijkanalyseError`) with one line saying what to do.

Windows has no ``flock``: there an exclusive lock is taken with ``msvcrt.locking`` on the
first byte of the lock file, and a shared lock is not taken at all (readers do not lock).
Network shares: ``flock`` works on local disks and NFS (Linux emulates it with POSIX
locks); on some SMB mounts it only excludes processes of the same machine.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from wijkanalyse.errors import WijkanalyseError

__all__ = ["LockTaken", "lock_path", "locked", "try_lock"]

_WINDOWS = sys.platform == "win32"


class LockTaken(WijkanalyseError):
    """Another process holds the lock of a folder."""


def lock_path(folder: Path | str) -> Path:
    """The lock file of ``folder``: ``.<name>.lock`` beside it."""
    folder = Path(folder)
    return folder.parent / f".{folder.name}.lock"


def _try(fd: int, *, shared: bool) -> bool:
    """Take the lock on ``fd`` without waiting; False when another process holds it."""
    # sys.platform spelled out (not _WINDOWS): mypy then checks msvcrt only for Windows
    if sys.platform == "win32":  # pragma: no cover - not run on the Linux test machines
        import msvcrt  # noqa: PLC0415

        if shared:
            return True
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl  # noqa: PLC0415

    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _release(fd: int, *, shared: bool) -> None:
    if sys.platform == "win32":  # pragma: no cover (as _WINDOWS, spelled out for mypy)
        import msvcrt  # noqa: PLC0415

        if not shared:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl  # noqa: PLC0415

    fcntl.flock(fd, fcntl.LOCK_UN)


def _holder(path: Path) -> str:
    """Who holds the lock, as its holder wrote it ("" when unknown, e.g. readers)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
    return text[:100]


@contextlib.contextmanager
def try_lock(path: Path | str, *, shared: bool = False) -> Iterator[bool]:
    """Try to take the lock of lock file ``path``; yield whether it was taken (released on exit).

    Used to find leftovers of dead processes: a folder whose lock can be taken has no
    living owner.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        yield False
        return
    try:
        taken = _try(fd, shared=shared)
        try:
            yield taken
        finally:
            if taken:
                _release(fd, shared=shared)
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked(
    folder: Path | str, *, shared: bool = False, what: str, advice: str, write_advice: str | None = None,
) -> Iterator[Path | None]:
    """Hold the lock of ``folder`` (see the module docstring) for the ``with`` block.

    Parameters
    ----------
    folder
        The folder to lock; its lock file is :func:`lock_path` (created when missing).
    shared
        True for readers, False for the one writer.
    what, advice
        For the message when the lock is taken: "<what> is in use by another wijkanalyse
        run (...). <advice>".
    write_advice
        What to do when the lock file cannot be made (default: ``advice``).

    Yields
    ------
    Path or None
        The lock file, or None when a shared lock could not be taken because the lock
        file cannot be created (a read-only folder: nobody can write there either).

    Raises
    ------
    LockTaken
        When another process holds the lock.
    WijkanalyseError
        When the lock file of a writer cannot be created.
    """
    path = lock_path(folder)
    try:
        fd = _acquire(path, shared=shared)
    except OSError as e:
        if shared:  # a read-only snapshot on a share, or no folder at all: the reader says what is wrong
            yield None
            return
        msg = f"Kan niet schrijven naast {folder} (slotbestand {path.name}): {e.strerror or e}. {write_advice or advice}"
        raise WijkanalyseError(msg) from e
    if fd is None:
        holder = _holder(path)
        msg = f"{what} is in gebruik door een andere wijkanalyse-run{f' ({holder})' if holder else ''}. {advice}"
        raise LockTaken(msg)
    try:
        if not shared:
            stamp = f"pid {os.getpid()}, sinds {datetime.now().strftime('%H:%M:%S')}"
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, stamp.encode())
        yield path
    finally:
        _drop(path, fd, shared=shared)


#: How long a reader looks again when the lock is held exclusively without a writer's stamp.
_READER_PATIENCE_S = 2.0


def _acquire(path: Path, *, shared: bool) -> int | None:
    """Open and lock ``path``: the file descriptor, or None when another process holds the lock.

    A lock file is removed by the last holder (:func:`_drop`); a lock taken on a file that
    was removed meanwhile is on a dead file, so the check that ``path`` is still the locked
    file repeats the attempt on the new one. The last reader checks that it is the last by
    taking the lock exclusively for a moment; a reader that finds the lock held without a
    writer's stamp in the file tries again (up to :data:`_READER_PATIENCE_S`), so readers
    never refuse each other.
    """
    deadline = time.monotonic() + _READER_PATIENCE_S
    for _ in range(100_000):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        if not _try(fd, shared=shared):
            os.close(fd)
            if shared and not _holder(path) and time.monotonic() < deadline:
                # no writer's stamp: the last reader is checking that it is the last (see _drop), or a
                # writer is about to stamp; either ends within microseconds, so look again
                time.sleep(0.001)
                continue
            return None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        _release(fd, shared=shared)
        os.close(fd)
    msg = f"het slotbestand {path} wordt steeds vervangen"
    raise OSError(msg)


def _drop(path: Path, fd: int, *, shared: bool) -> None:
    """Release the lock; the last holder removes the lock file (not on Windows, where it is open)."""
    try:
        if not _WINDOWS and (not shared or _try(fd, shared=False)):  # no other reader: ours alone now
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                path.unlink()
        elif not shared:
            os.ftruncate(fd, 0)
    except OSError:
        pass
    finally:
        _release(fd, shared=shared)
        os.close(fd)
