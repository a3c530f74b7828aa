"""A national run on a synthetic country: time and peak memory of the whole process tree.

Run: ``python benchmarks/bench_national.py [--gemeenten 342] [--workers 2] [--keep DIR] [--no-maps]``.

The country (``synthetic_national.write_country``): 342 gemeenten of 6 x 7 buurten (14,364
buurten), about 410,000 inhabited 100 m cells, one street grid across the country of about
6.4 million OSM nodes (junctions and shape vertices, every 20 m) in one ``.osm.pbf``, and
16,416 venues. Its writing is not timed.

Timed, in one child process (as ``wijkanalyse run`` runs it): the one pass over the
``.osm.pbf`` that cuts every gemeente's streets and venues (gemeente + 1.5 km) and writes
them into its snapshot (:func:`wijkanalyse.sources.national.add_osm_layers`), then the
national run (:func:`wijkanalyse.batch.run_national`: every gemeente analysed on a local
process pool of ``--workers`` processes, outputs per gemeente and the national table, map
and page). Peak memory is the peak of the *sum* of the resident memory (VmRSS) of the child
and all its descendants (pool workers, the osmium command), sampled from /proc every 0.1 s.

CPU seconds are those of the child and every process it waited for (pool workers, osmium):
on a shared machine they say more than the wall time. ``per_gemeente_cpu_s`` is the CPU of the
national run after the OSM pass, per gemeente; ``osm_pass_s`` the OSM pass's wall time.

Last line: ``national: gemeenten=<n> nodes=<OSM nodes> seconds=<s> cpu_s=<s> peak_gib=<g>
per_gemeente_cpu_s=<s> osm_pass_s=<s>``. Targets on 2 idle cores: seconds <= 300, peak_gib <= 12.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synthetic_national import write_country

TARGET_SECONDS, TARGET_GIB = 300, 12


def _children(pid: int) -> list[int]:
    """All descendants of ``pid`` (from /proc/<p>/stat parent ids)."""
    parent: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(parent.get(p, []))
    return out


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory(threading.Thread):
    """Sample the summed VmRSS of a process and its descendants; keep the peak."""

    def __init__(self, pid: int, every_s: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.every_s, self.peak_kib = pid, every_s, 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            total = sum(_rss_kib(p) for p in _children(self.pid))
            self.peak_kib = max(self.peak_kib, total)
            self.stop.wait(self.every_s)


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _national(pbf: str, snapshots: list[str], out: str, workers: int, maps: bool, result: str, engine: str) -> None:  # noqa: PLR0917
    """The timed part, in a fresh process, which is the command's own (as ``wijkanalyse run`` says of itself first
    thing: the collector frozen after the imports, and the pool's workers inherit OpenBLAS's one thread)."""
    import logging  # noqa: PLC0415

    from wijkanalyse._imports import own_process  # noqa: PLC0415

    own_process()

    import geopandas as gpd  # noqa: PLC0415

    from wijkanalyse import batch  # noqa: PLC0415
    from wijkanalyse.config import load_config  # noqa: PLC0415
    from wijkanalyse.sources.national import add_osm_layers, clip_area  # noqa: PLC0415
    from wijkanalyse.sources.osm import osmium_command  # noqa: PLC0415

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("wijkanalyse")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    config = load_config()
    start = time.perf_counter()
    folders = [Path(s) for s in snapshots]
    areas = {f.name: (f, clip_area(gpd.read_file(f / "buurten.gpkg"))) for f in folders}
    problems = add_osm_layers(areas, Path(pbf), config.osm_tags(), engine=engine)
    osm_seconds = time.perf_counter() - start
    cpu_before = _cpu_s(resource.RUSAGE_SELF) + _cpu_s(resource.RUSAGE_CHILDREN)
    run = batch.run_national(folders, config, Path(out), workers=workers, maps=maps)
    seconds = time.perf_counter() - start
    run_cpu = _cpu_s(resource.RUSAGE_SELF) + _cpu_s(resource.RUSAGE_CHILDREN) - cpu_before
    peaks = sorted(((m.get("peak_gib") or 0, c) for c, m in run.markers.items()), reverse=True)[:3]
    slowest = sorted(((m.get("seconds") or 0, c) for c, m in run.markers.items()), reverse=True)[:3]
    Path(result).write_text(json.dumps({
        "seconds": seconds, "osm_seconds": osm_seconds, "run_cpu": run_cpu, "problems": problems, "done": len(run.markers) - len(run.failed),
        "failed": run.failed, "worker_peaks": peaks, "slowest": slowest, "engine": "osmium" if engine != "pyosmium" and osmium_command() else "pyosmium",
        "files": {k: [str(v), Path(v).stat().st_size] for k, v in run.files.items()},
    }))


def _kept(root: Path, country_type: type) -> object:
    """The country written earlier to ``--keep`` (its OSM layers are written again by the timed run)."""
    import geopandas as gpd  # noqa: PLC0415

    snapshots = sorted((root / "snapshots").iterdir())
    buurten = cells = 0
    for folder in snapshots:
        buurten += len(gpd.read_file(folder / "buurten.gpkg", columns=[]))
        cells += len(gpd.read_file(folder / "vierkant100m.gpkg", columns=[]))
    info = json.loads((root / "country.json").read_text())
    return country_type(pbf=root / "nederland.osm.pbf", snapshots=snapshots, codes=[s.name for s in snapshots],
                        osm_nodes=info["osm_nodes"], ways=info["ways"], buurten=buurten, inhabited_cells=cells,
                        venues=info["venues"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gemeenten", type=int, default=342)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="write the country here and keep it (reused when there)")
    parser.add_argument("--no-maps", action="store_true", help="leave out each gemeente's kaart.html")
    parser.add_argument("--osm-engine", choices=["auto", "osmium", "pyosmium"], default="auto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-national-") as tmp:
        root = args.keep or Path(tmp) / "land"
        start = time.perf_counter()
        if args.keep and (root / "nederland.osm.pbf").is_file() and len(list((root / "snapshots").iterdir())) == args.gemeenten:
            from synthetic_national import Country  # noqa: PLC0415

            country = _kept(root, Country)
        else:
            country = write_country(root, n=args.gemeenten)
        print(f"country: {len(country.codes)} gemeenten, {country.buurten} buurten, {country.inhabited_cells} inhabited "
              f"cells, {country.osm_nodes} OSM nodes in {country.ways} ways, {country.venues} venues; "
              f"{country.pbf.stat().st_size / 2**20:.0f} MiB .osm.pbf; written in {time.perf_counter() - start:.0f} s",
              flush=True)
        out, result = Path(tmp) / "uit", Path(tmp) / "result.json"
        ctx = mp.get_context("spawn")
        child = ctx.Process(target=_national, args=(str(country.pbf), [str(s) for s in country.snapshots], str(out),
                                                    args.workers, not args.no_maps, str(result), args.osm_engine))
        start = time.perf_counter()
        cpu_start = _cpu_s(resource.RUSAGE_CHILDREN)
        child.start()
        memory = TreeMemory(child.pid)
        memory.start()
        child.join()
        wall = time.perf_counter() - start
        cpu = _cpu_s(resource.RUSAGE_CHILDREN) - cpu_start
        memory.stop.set()
        memory.join()
        if child.exitcode != 0:
            sys.exit(f"the national run failed (exit code {child.exitcode})")
        info = json.loads(result.read_text())
        peak = memory.peak_kib / 2**20
        print(f"osm pass ({info['engine']}): {info['osm_seconds']:.1f} s; problems: {info['problems'] or 'none'}")
        print(f"gemeenten done: {info['done']}, failed: {info['failed'] or 'none'}")
        print(f"slowest gemeenten (s): {info['slowest']}; highest worker peaks (GiB): {info['worker_peaks']}")
        for name, (path, size) in info["files"].items():
            print(f"  {name}: {Path(path).name} {size / 2**20:.2f} MiB")
        print(f"targets: seconds <= {TARGET_SECONDS}, peak_gib <= {TARGET_GIB} (process tree, {args.workers} workers)")
        per_gemeente = info["run_cpu"] / max(info["done"], 1)
        print(f"national: gemeenten={info['done']} nodes={country.osm_nodes} seconds={wall:.1f} cpu_s={cpu:.1f} "
              f"peak_gib={peak:.2f} per_gemeente_cpu_s={per_gemeente:.2f} osm_pass_s={info['osm_seconds']:.1f}")


if __name__ == "__main__":
    main()
