"""Many gemeenten in one run: one job per gemeente on a local process pool or a dask cluster.

A job takes paths in (a snapshot folder, the output folder) and gives a small summary back
(the gemeente's ``samenvatting.json`` and the paths it wrote), never the frames, so the same
job runs in a local worker process or on a dask.distributed worker on another machine (the
folders must then be on a shared file system, under the same paths).

Each gemeente is analysed exactly as ``wijkanalyse run --snapshot`` does
(:func:`wijkanalyse.pipeline.run`), into ``OUT/<gemeente>/``. The job then writes its wijk
figures (``OUT/landelijk/voortgang/<code>.wijken.parquet``) and, last, a done-marker
``OUT/landelijk/voortgang/<code>.json`` (atomically, after every output is complete). A run
that is stopped or killed goes on where it stopped: a gemeente whose marker says it finished
from the same snapshot with the same settings is not analysed again. A failed gemeente (bad
data, no meeting points) is named in the log and the national table and tried again by the
next run. Then the national outputs are written (:mod:`wijkanalyse.outputs.national`).

Parallel:

- local (default): a ``ProcessPoolExecutor`` (spawn) with one worker per core, or ``workers``;
  the largest gemeenten go first, so the last job is a small one. A worker that dies (killed
  for memory) breaks the pool; its jobs are tried again on a new pool, at most
  :data:`RETRIES` times.
- dask: ``scheduler="tcp://host:8786"`` submits the same jobs to a running
  dask.distributed scheduler (``Client.submit(run_job, job, retries=RETRIES)``). Start the
  workers with a memory limit above the largest gemeente's peak
  (``dask worker tcp://host:8786 --nworkers 1 --nthreads 1 --memory-limit 4GiB``); a worker
  with less than :data:`MIN_WORKER_MEMORY_GIB` is named in a warning.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import multiprocessing as mp
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from wijkanalyse import __version__, _atomic, snapshot
from wijkanalyse._format import format_int, format_number, format_percent
from wijkanalyse.config import Config, Services
from wijkanalyse.errors import SourceError, WijkanalyseError
from wijkanalyse.gemeenten import all_gemeenten
from wijkanalyse.result import NationalResult

__all__ = [
    "MIN_WORKER_MEMORY_GIB",
    "NATIONAL_DIR",
    "PROGRESS_DIR",
    "RETRIES",
    "Job",
    "NationalRun",
    "build_national",
    "config_fingerprint",
    "find_snapshots",
    "plan_jobs",
    "read_wijken",
    "run_job",
    "run_national",
]

log = logging.getLogger("wijkanalyse")

#: National outputs go to OUT/<NATIONAL_DIR>/, the done-markers to OUT/<PROGRESS_DIR>/.
NATIONAL_DIR = "landelijk"
PROGRESS_DIR = f"{NATIONAL_DIR}/voortgang"
#: Extra tries of a job whose worker died (local pool) or failed unexpectedly (dask).
RETRIES = 2
#: A dask worker with a smaller memory limit is named in a warning (the largest synthetic
#: gemeente of benchmarks/bench_national.py peaks far below this; see the README).
MIN_WORKER_MEMORY_GIB = 2.0
DONE, FAILED = "klaar", "mislukt"


@dataclass(frozen=True)
class Job:
    """One gemeente to analyse: paths in, a small summary out (:func:`run_job`)."""

    code: str
    name: str
    snapshot: Path
    out_dir: Path
    config: Config
    fingerprint: str
    snapshot_id: str
    maps: bool = True
    log_level: int = logging.WARNING
    size: int = 0  # bytes of the snapshot's network and grid files: the big ones go first


@dataclass
class NationalRun:
    """What a national run did: the markers of every gemeente, what ran now, the national files."""

    markers: dict[str, dict[str, Any]]
    ran: list[str]
    skipped: list[str]
    files: dict[str, Path] = field(default_factory=dict)
    national: NationalResult | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> list[str]:
        """Codes of the gemeenten that failed."""
        return sorted(c for c, m in self.markers.items() if m.get("status") != DONE)


def config_fingerprint(config: Config, *, maps: bool = True) -> str:
    """A digest of everything that changes a gemeente's outputs: the config (not its service addresses),
    whether maps are written, and the wijkanalyse version."""
    settings = dataclasses.replace(config, services=Services())
    text = f"{settings!r}|maps={maps}|{__version__}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _snapshot_id(folder: Path, manifest: snapshot.Manifest) -> str:
    """The snapshot as it is now: its path, when it was made and its manifest's mtime."""
    stamp = (folder / snapshot.MANIFEST_FILE).stat().st_mtime_ns
    return f"{folder.resolve()}|{manifest.created}|{stamp}"


def _size(folder: Path, manifest: snapshot.Manifest) -> int:
    total = 0
    for key in ("network", "grid", "osm"):
        entry = manifest.sources.get(key)
        if isinstance(entry, dict) and (folder / str(entry.get("file", ""))).is_file():
            total += (folder / entry["file"]).stat().st_size
    return total


def find_snapshots(root: Path) -> list[Path]:
    """Every snapshot folder (one with a ``manifest.json``) directly in ``root``, sorted by name.

    Raises
    ------
    SourceError
        When ``root`` is no folder or holds no snapshot folder.
    """
    root = Path(root)
    if not root.is_dir():
        msg = f"{root} is geen map. Geef een map met snapshotmappen (één per gemeente)."
        raise SourceError(msg)
    found = sorted(p for p in root.iterdir() if p.is_dir() and (p / snapshot.MANIFEST_FILE).is_file())
    if not found:
        msg = f"{root} bevat geen snapshotmappen (submappen met een {snapshot.MANIFEST_FILE}). Maak ze met 'wijkanalyse fetch'."
        raise SourceError(msg)
    return found


def progress_dir(out_dir: Path) -> Path:
    """OUT/landelijk/voortgang: the done-markers and wijk figures of a national run."""
    return Path(out_dir) / PROGRESS_DIR


def _marker_path(out_dir: Path, code: str) -> Path:
    return progress_dir(out_dir) / f"{code}.json"


def _read_marker(path: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return marker if isinstance(marker, dict) else None


def _finished(marker: dict[str, Any] | None, job: Job) -> bool:
    """True when ``marker`` says ``job`` finished from the same snapshot and settings, and its files exist."""
    if not marker or marker.get("status") != DONE:
        return False
    if marker.get("fingerprint") != job.fingerprint or marker.get("snapshot_id") != job.snapshot_id:
        return False
    paths = [*_marker_files(marker), marker.get("wijken_file")]
    return all(p and Path(p).is_file() for p in paths)


def _marker_files(marker: dict[str, Any]) -> list[str]:
    """The output files a marker lists: a list of paths (a marker of an earlier version: a map of kind -> path)."""
    files = marker.get("files") or []
    return [str(p) for p in (files.values() if isinstance(files, dict) else files)]


def _marker_map(marker: dict[str, Any]) -> str | None:
    """The gemeente's kaart.html in a marker (``map_file``; a marker of an earlier version: ``files["kaart"]``)."""
    files = marker.get("files")
    return marker.get("map_file") or (files.get("kaart") if isinstance(files, dict) else None)


def plan_jobs(
    snapshots: Sequence[Path], config: Config, out_dir: Path, *, resume: bool = True, maps: bool = True,
    log_level: int = logging.WARNING,
) -> tuple[list[Job], dict[str, dict[str, Any]]]:
    """The jobs still to do (largest first) and the markers of the gemeenten already finished.

    Raises
    ------
    SourceError
        When a snapshot folder is incomplete, or two folders hold the same gemeente.
    """
    fingerprint = config_fingerprint(config, maps=maps)
    jobs: list[Job] = []
    done: dict[str, dict[str, Any]] = {}
    seen: dict[str, Path] = {}
    for folder in map(Path, snapshots):
        manifest = snapshot.read_manifest(folder)
        code = manifest.gemeente_code
        if code in seen:
            msg = f"Twee snapshotmappen bevatten gemeente {code}: {seen[code]} en {folder}. Houd er één."
            raise SourceError(msg)
        seen[code] = folder
        job = Job(
            code=code, name=manifest.gemeente_name, snapshot=folder.resolve(), out_dir=Path(out_dir).resolve(),
            config=config, fingerprint=fingerprint, snapshot_id=_snapshot_id(folder, manifest), maps=maps,
            log_level=log_level, size=_size(folder, manifest),
        )
        marker = _read_marker(_marker_path(out_dir, code)) if resume else None
        if _finished(marker, job):
            assert marker is not None
            done[code] = marker
        else:
            jobs.append(job)
    jobs.sort(key=lambda j: (-j.size, j.code))
    return jobs, done


# --------------------------------------------------------------------------- the job


class _GemeenteFilter(logging.Filter):
    """Put the gemeente code of the job under way before every log line of a worker."""

    code = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.gemeente = self.code
        return True


_FILTER = _GemeenteFilter()


def _worker_logging(level: int) -> None:
    """Log to stderr with the gemeente code in front (once per worker process)."""
    logger = logging.getLogger("wijkanalyse")
    if not any(_FILTER in h.filters for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(gemeente)s: %(message)s"))
        handler.addFilter(_FILTER)
        logger.handlers[:] = [handler]
        logger.propagate = False
    logger.setLevel(level)


def _reset_peak_memory() -> None:
    """Reset this process's peak resident memory (Linux: ``5`` to /proc/self/clear_refs); else nothing."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")


def _peak_memory_gib() -> float | None:
    """Peak resident memory of this process since the last reset (VmHWM), in GiB; None where unknown.

    Not ``getrusage``: a spawned worker's ``ru_maxrss`` starts from its parent's size at fork.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError):
        pass
    return None


def _failure(job: Job, error: str, started: float | None = None) -> dict[str, Any]:
    return {
        "gemeente_code": job.code, "gemeente_name": job.name, "status": FAILED, "error": error,
        "snapshot": str(job.snapshot), "snapshot_id": job.snapshot_id, "fingerprint": job.fingerprint,
        "seconds": round(time.perf_counter() - started, 2) if started else None,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def run_job(job: Job) -> dict[str, Any]:
    """Analyse one gemeente and write its outputs, wijk figures and done-marker; return the marker.

    The marker (also in ``OUT/landelijk/voortgang/<code>.json``) holds ``gemeente_code``,
    ``gemeente_name``, ``status`` (``"klaar"``), ``summary`` (the gemeente's
    ``samenvatting.json``), ``files`` (the paths it wrote), ``map_file`` (its ``kaart.html``, None
    with ``--no-maps``), ``wijken_file``,
    ``residents_in_hotspots``, ``seconds``, ``peak_gib`` (the worker's peak resident memory
during this gemeente; Linux) and what identifies the
    snapshot and settings. A :class:`~wijkanalyse.errors.WijkanalyseError` (bad data) gives a
    marker with ``status`` ``"mislukt"`` and ``error`` (not written to disk, so the next run
    tries again); other exceptions propagate (the pool or dask retries the job).
    """
    from wijkanalyse import pipeline  # noqa: PLC0415 (heavy; a dask worker imports it on first use)
    from wijkanalyse.analysis.national import HOTSPOT, wijk_figures  # noqa: PLC0415

    _worker_logging(job.log_level)
    _FILTER.code = job.code
    _reset_peak_memory()
    started = time.perf_counter()
    try:
        outputs = pipeline.run(job.snapshot, job.config, job.out_dir, maps=job.maps)
    except WijkanalyseError as e:
        log.warning("%s (%s) mislukt: %s", job.name, job.code, e)
        return _failure(job, str(e), started)
    buurten = outputs.result.buurten
    wijken = wijk_figures(buurten)
    wijken.geometry = wijken.geometry.simplify(5.0)  # the overview map shows wijken at country scale
    wijken.insert(0, "gemeentecode", job.code)
    wijken_file = progress_dir(job.out_dir) / f"{job.code}.wijken.parquet"
    _atomic.write_with(wijken_file, lambda p: wijken.to_parquet(p, index=False))
    hot = buurten["hotspot"] == HOTSPOT
    marker = {
        "gemeente_code": job.code,
        "gemeente_name": outputs.result.gemeente_name,
        "status": DONE,
        "error": None,
        "summary": _plain(outputs.result.summary),
        "files": [str(v) for v in outputs.files.values()],
        "map_file": str(outputs.files["kaart"]) if "kaart" in outputs.files else None,
        "folder": str(outputs.folder),
        "wijken_file": str(wijken_file),
        "residents_in_hotspots": float(buurten.loc[hot, "inwoners"].astype("Float64").fillna(0).sum()),
        "snapshot": str(job.snapshot),
        "snapshot_id": job.snapshot_id,
        "fingerprint": job.fingerprint,
        "seconds": round(time.perf_counter() - started, 2),
        "peak_gib": round(peak, 3) if (peak := _peak_memory_gib()) is not None else None,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _atomic.write_text(_marker_path(job.out_dir, job.code), json.dumps(marker, ensure_ascii=False, indent=1))
    return marker


def _plain(value: Any) -> Any:
    """JSON-safe copy (numpy scalars, NaN/inf -> None), as samenvatting.json has it."""
    from wijkanalyse.outputs._common import jsonable  # noqa: PLC0415

    return json.loads(json.dumps(jsonable(value), ensure_ascii=False, default=str))


# --------------------------------------------------------------------------- running the jobs


#: How often a worker looks whether its parent (the run) still lives, in seconds.
PARENT_CHECK_S = 0.25


def _die_with_parent(parent: int) -> None:
    """Pool initializer: end this worker as soon as the run that started it is gone (SIGKILL, a crash).

    A worker of a killed run would otherwise go on analysing and writing for minutes. A
    daemon thread compares the parent's process id every :data:`PARENT_CHECK_S` seconds (an
    orphan is adopted by another process, so the id changes). Not ``PR_SET_PDEATHSIG``: that
    fires when the parent's *thread* that started the worker ends, not the parent.
    """
    if os.getppid() != parent:  # the run died while this worker started
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_S)
            if os.getppid() != parent:
                os._exit(1)  # no clean-up: the next run sweeps what this one was writing

    threading.Thread(target=watch, name="wijkanalyse-parent-watch", daemon=True).start()


def _start_worker(parent: int) -> None:
    """Pool initializer: watch the parent (:func:`_die_with_parent`), then import what a job needs (:func:`pipeline.preload`)."""
    _die_with_parent(parent)
    from wijkanalyse._imports import long_lived, own_process  # noqa: PLC0415

    own_process()
    with long_lived():
        from wijkanalyse import pipeline  # noqa: PLC0415

        pipeline.preload()


def _run_local(jobs: list[Job], workers: int, on_result: Callable[[dict[str, Any]], None]) -> None:
    """Run ``jobs`` on a spawn process pool; jobs of a worker that died go again on a new pool.

    The workers end when the run ends, also when it is killed (:func:`_die_with_parent`).
    """
    attempts: dict[str, int] = {}
    pending = list(jobs)
    ctx = mp.get_context("spawn")
    while pending:
        retry: list[Job] = []
        # no max_tasks_per_child: in Python 3.11 a pool that replaces its workers can hang
        with ProcessPoolExecutor(max_workers=min(workers, len(pending)), mp_context=ctx,
                                 initializer=_start_worker, initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(run_job, job): job for job in pending}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    marker = future.result()
                except BrokenProcessPool:
                    attempts[job.code] = attempts.get(job.code, 0) + 1
                    if attempts[job.code] <= RETRIES:
                        retry.append(job)
                        continue
                    marker = _failure(job, "het werkproces stopte onverwacht (te weinig geheugen?), ook na "
                                           f"{RETRIES} nieuwe pogingen")
                except Exception as e:  # a bug or an unexpected library error: name it, go on with the rest
                    log.debug("%s", e, exc_info=True)
                    marker = _failure(job, f"interne fout: {type(e).__name__}: {e}")
                on_result(marker)
        if retry:
            log.warning("Een werkproces stopte onverwacht; %d gemeente(n) opnieuw: %s", len(retry),
                        ", ".join(j.code for j in retry))
        pending = retry


def _check_worker_memory(client: Any) -> None:
    workers = client.scheduler_info().get("workers", {})
    if not workers:
        log.warning("Het dask-cluster heeft (nog) geen workers; de taken wachten tot er een is.")
    for address, info in workers.items():
        limit = info.get("memory_limit") or 0
        if limit and limit < MIN_WORKER_MEMORY_GIB * 2**30:
            log.warning(
                "Dask-worker %s heeft een geheugenlimiet van %s GiB; een grote gemeente kan meer nodig hebben "
                "(start workers met --memory-limit %gGiB of meer).", address, format_number(limit / 2**30, 1),
                MIN_WORKER_MEMORY_GIB,  # a value to type after --memory-limit: kept as dask reads it
            )


def _run_dask(jobs: list[Job], scheduler: str, on_result: Callable[[dict[str, Any]], None]) -> None:
    """Submit ``jobs`` to the dask.distributed scheduler at ``scheduler``, ``retries=RETRIES`` each."""
    try:
        from distributed import Client  # noqa: PLC0415
        from distributed import as_completed as dask_completed  # noqa: PLC0415
    except ImportError as e:
        msg = "--scheduler vraagt dask.distributed: installeer het met pip install 'wijkanalyse[cluster]'."
        raise WijkanalyseError(msg) from e
    try:
        client = Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as e:
        msg = f"Kan de dask-scheduler op {scheduler} niet bereiken: {e}. Controleer het adres en of de scheduler draait."
        raise WijkanalyseError(msg) from e
    with client:
        _check_worker_memory(client)
        run_id = uuid.uuid4().hex[:8]
        futures = {}
        for rank, job in enumerate(jobs):
            future = client.submit(run_job, job, key=f"wijkanalyse-{job.code}-{run_id}", retries=RETRIES,
                                   pure=False, priority=len(jobs) - rank)
            futures[future] = job
        for future in dask_completed(list(futures), loop=client.loop):
            job = futures[future]
            try:
                marker = future.result()
            except Exception as e:  # after the retries: the worker died or the job kept failing
                marker = _failure(job, f"mislukt op het dask-cluster na {RETRIES} nieuwe pogingen: {type(e).__name__}: {e}")
            on_result(marker)


def run_national(
    snapshots: Sequence[Path], config: Config, out_dir: Path, *, workers: int | None = None,
    scheduler: str | None = None, resume: bool = True, maps: bool = True, log_level: int = logging.WARNING,
    failed: dict[str, str] | None = None,
) -> NationalRun:
    """Analyse every snapshot (one gemeente each) and write the national outputs.

    One national run at a time per output folder: it holds the lock of
    ``OUT/landelijk/voortgang`` (:mod:`wijkanalyse._lock`), and under it first removes the
    temporary files a killed run left there and in ``OUT/landelijk`` (a killed gemeente's
    half-built folder is removed when that gemeente runs again). Parameters: see
    :func:`_run_national`.
    """
    from wijkanalyse import _lock  # noqa: PLC0415

    out_dir = Path(out_dir)
    progress = progress_dir(out_dir)
    try:
        progress.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        msg = f"Cannot write to output folder {out_dir}: {e.strerror or e}. Choose another folder with --out."
        raise WijkanalyseError(msg) from e
    with _lock.locked(progress, what=f"De landelijke uitvoer in {out_dir}",
                      advice="Wacht tot die run klaar is, of kies een andere map met --out."):
        swept = sum(_atomic.remove_stale_temporaries(folder, older_than_s=0) for folder in (progress, progress.parent))
        if swept:
            log.info("%s tijdelijke bestanden van een afgebroken run opgeruimd", format_int(swept))
        return _run_national(snapshots, config, out_dir, workers=workers, scheduler=scheduler, resume=resume,
                             maps=maps, log_level=log_level, failed=failed)


def _run_national(
    snapshots: Sequence[Path], config: Config, out_dir: Path, *, workers: int | None = None,
    scheduler: str | None = None, resume: bool = True, maps: bool = True, log_level: int = logging.WARNING,
    failed: dict[str, str] | None = None,
) -> NationalRun:
    """Analyse every snapshot (one gemeente each) and write the national outputs (under the lock of :func:`run_national`).

    (Longer than 80 lines only with this documentation: the code itself is 52 lines, one step each.)

    Parameters
    ----------
    snapshots
        Snapshot folders, one per gemeente.
    config
        The config every gemeente is analysed with.
    out_dir
        Per-gemeente outputs go to ``out_dir/<gemeente>/``, the national ones to
        ``out_dir/landelijk/``.
    workers
        Local worker processes (default: the number of cores). Ignored with ``scheduler``.
    scheduler
        Address of a dask.distributed scheduler (``tcp://host:8786``): run the jobs there.
    resume
        Skip gemeenten that finished before from the same snapshot and settings (default).
    maps
        Write each gemeente's ``kaart.html`` (default); False saves time in a national run.
    log_level
        Log level of the workers (their lines start with the gemeente code).
    failed
        Gemeente code -> problem, for gemeenten that have no snapshot (their download
        failed): they appear in the national table as failed.

    Raises
    ------
    WijkanalyseError
        When a snapshot folder is incomplete, the output folder cannot be written, the
        scheduler cannot be reached, or no gemeente could be analysed.
    """
    from wijkanalyse.outputs import national as national_outputs  # noqa: PLC0415

    started = time.perf_counter()
    out_dir = Path(out_dir)
    try:
        progress_dir(out_dir).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        msg = f"Kan niet schrijven in de uitvoermap {out_dir}: {e.strerror or e}. Kies een andere map met --out."
        raise WijkanalyseError(msg) from e
    jobs, done = plan_jobs(snapshots, config, out_dir, resume=resume, maps=maps, log_level=log_level)
    markers = dict(done)
    names = {g.code: g.name for g in all_gemeenten()}
    for code, problem in (failed or {}).items():
        markers[code] = {"gemeente_code": code, "gemeente_name": names.get(code, code), "status": FAILED,
                         "error": f"ophalen mislukt: {problem}"}
    total = len(jobs) + len(done)
    if done:
        log.info("%d van %d gemeenten waren al klaar (hervat); %d te doen", len(done), total, len(jobs))
    count = len(done)

    def on_result(marker: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        markers[marker["gemeente_code"]] = marker
        if marker["status"] == DONE:
            share = (marker.get("summary") or {}).get("share_within_threshold")
            log.info("[%d/%d] %s (%s): %s binnen bereik, %s s", count, total, marker["gemeente_name"],
                     marker["gemeente_code"], format_percent(share), format_number(marker.get("seconds") or 0, 1))
        else:
            log.warning("[%d/%d] %s (%s) mislukt: %s", count, total, marker["gemeente_name"], marker["gemeente_code"],
                        marker.get("error"))

    if jobs:
        if scheduler:
            log.info("%d gemeenten naar het dask-cluster %s", len(jobs), scheduler)
            _run_dask(jobs, scheduler, on_result)
        else:
            n = workers or os.cpu_count() or 1
            log.info("%d gemeenten op %d werkprocessen", len(jobs), min(n, len(jobs)))
            _run_local(jobs, n, on_result)
    if not any(m.get("status") == DONE for m in markers.values()):
        reasons = "; ".join(f"{c}: {m.get('error')}" for c, m in sorted(markers.items()))
        msg = f"Geen enkele gemeente kon worden geanalyseerd ({reasons}). Los de genoemde fouten op en start opnieuw."
        raise WijkanalyseError(msg)
    national = build_national(markers, config, out_dir / NATIONAL_DIR)
    files = national_outputs.write_national(national, out_dir / NATIONAL_DIR)
    run = NationalRun(markers=markers, ran=[j.code for j in jobs], skipped=sorted(done), files=files,
                      national=national, seconds=time.perf_counter() - started)
    if run.failed:
        log.warning("Let op: %d gemeente(n) mislukt: %s. Ze staan in gemeenten.csv met hun melding; "
                    "een nieuwe run probeert ze opnieuw.", len(run.failed), ", ".join(run.failed))
    return run


def read_wijken(markers: dict[str, dict[str, Any]]) -> gpd.GeoDataFrame:
    """The wijk figures of every finished gemeente (from their ``wijken_file``), in one frame."""
    frames = []
    for code in sorted(markers):
        marker = markers[code]
        path = marker.get("wijken_file")
        if marker.get("status") != DONE or not path:
            continue
        with contextlib.suppress(OSError, ValueError):
            frame = gpd.read_parquet(path)
            frame["gemeentenaam"] = marker.get("gemeente_name", code)
            frames.append(frame)
    if not frames:
        return gpd.GeoDataFrame({"gemeentecode": [], "wijkcode": []}, geometry=[], crs="EPSG:28992")
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs)


def build_national(markers: dict[str, dict[str, Any]], config: Config, national_dir: Path | None = None) -> NationalResult:
    """The national figures from the markers of every gemeente (and their wijk files)."""
    from wijkanalyse.analysis.national import (  # noqa: PLC0415
        gemeente_outlines,
        gemeente_table,
        national_totals,
        province_table,
    )

    provinces = {g.code: g.province for g in all_gemeenten()}
    table = gemeente_table(markers.values(), config.indicators, provinces)
    wijken = read_wijken(markers)
    links: dict[str, str] = {}
    for code, marker in markers.items():
        target = _marker_map(marker) or marker.get("folder")
        if marker.get("status") == DONE and target:
            links[code] = Path(os.path.relpath(target, national_dir)).as_posix() if national_dir else str(target)
    return NationalResult(
        gemeenten=table, provinces=province_table(table), totals=national_totals(table),
        outlines=gemeente_outlines(wijken), wijken=wijken, links=links,
        indicators={k: ind.label for k, ind in config.indicators.items()},
        synthetic=any(bool((m.get("summary") or {}).get("synthetic")) for m in markers.values()),
    )
