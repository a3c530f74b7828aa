"""Reading OpenStreetMap: pyosmium (our reader), pyrosm and osmnx on the same file, and a snapshot.

Run: ``python benchmarks/bench_osm.py [--gemeenten 32]``. The file is the street grid and
venues of ``synthetic_national.write_country`` for ``--gemeenten`` gemeenten (32 give about
590,000 OSM nodes, the size of the network of ``synthetic_city.py``; 342 would be the whole
synthetic country, 6.3 million). It is written as ``.osm.pbf`` and, for osmnx, which reads no
``.pbf``, once more as OSM XML (not timed). Each reader runs in a fresh process of its own, so
its peak memory (ru_maxrss, imports included) is its own:

- pyosmium: :func:`wijkanalyse.sources.osm.read_osm` on the ``.pbf``, every highway way
  (cut at junctions) and every venue of the default config, as a fetch reads them;
- pyosmium_cpp: pyosmium's C++ pass alone over the ``.pbf`` (``osmium.apply`` with only
  ``NodeLocationsForWays``: every object decoded, every way node located, no Python per
  object), the floor of any pyosmium reader; ``read_osm/pyosmium_cpp`` is how far above it we are;
- pyrosm: ``OSM(pbf).get_network("all")`` plus ``get_pois`` with the same venue tags;
- osmnx: ``graph_from_xml`` on the XML (its default simplification, every component kept);
- snapshot: what a run does instead, reading the ways that pyosmium read from the
  snapshot's GeoParquet and building the walk network (:class:`wijkanalyse.network.WalkNetwork`).

``xml_check_s`` is :func:`wijkanalyse.sources._http.expect_osm_xml` on the OSM XML (what a
fetch does to every Overpass answer before caching it), in this process.

quackosm is not measured: it needs a DuckDB extension that it downloads at run time (there is
no internet here), and quackosm 0.19.0 does not run with DuckDB 2.0.1.

Last line: ``osm: pyosmium_s=<s> pyosmium_gib=<g> pyrosm_s=<s> pyrosm_gib=<g> osmnx_s=<s>
osmnx_gib=<g> snapshot_s=<s> pyosmium_cpp_s=<s> xml_check_s=<s> pyrosm/pyosmium=<x> osmnx/snapshot=<y>
read_osm/pyosmium_cpp=<z>`` (one line).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
from queue import Empty
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synthetic_national import write_country


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _pyosmium(pbf: str, folder: str) -> tuple[float, float, str]:
    from wijkanalyse import snapshot  # noqa: PLC0415
    from wijkanalyse.config import load_config  # noqa: PLC0415
    from wijkanalyse.sources.osm import read_osm  # noqa: PLC0415

    tags = load_config().osm_tags()
    start = time.perf_counter()
    osm = read_osm(pbf, tags)
    seconds = time.perf_counter() - start
    snapshot.write_osm_layers(Path(folder), osm.ways, osm.venues)
    return seconds, _peak_gib(), f"{len(osm.ways)} ways (cut at junctions), {len(osm.venues)} venues"


def _pyosmium_cpp(pbf: str, _folder: str) -> tuple[float, float, str]:
    import osmium  # noqa: PLC0415

    start = time.perf_counter()
    osmium.apply(pbf, osmium.NodeLocationsForWays(osmium.index.create_map("flex_mem")))
    seconds = time.perf_counter() - start
    return seconds, _peak_gib(), "C++ pass with node locations"


def _pyrosm(pbf: str, _folder: str) -> tuple[float, float, str]:
    from pyrosm import OSM  # noqa: PLC0415

    from wijkanalyse.config import load_config  # noqa: PLC0415

    tags = load_config().osm_tags()
    start = time.perf_counter()
    reader = OSM(pbf)
    ways = reader.get_network(network_type="all")
    pois = reader.get_pois(custom_filter=tags)
    seconds = time.perf_counter() - start
    return seconds, _peak_gib(), f"{len(ways)} ways, {0 if pois is None else len(pois)} venues"


def _osmnx(xml: str, _folder: str) -> tuple[float, float, str]:
    import osmnx as ox  # noqa: PLC0415

    start = time.perf_counter()
    graph = ox.graph_from_xml(xml, retain_all=True)
    seconds = time.perf_counter() - start
    return seconds, _peak_gib(), f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges"


def _snapshot(_path: str, folder: str) -> tuple[float, float, str]:
    import geopandas as gpd  # noqa: PLC0415

    from wijkanalyse import snapshot  # noqa: PLC0415
    from wijkanalyse.config import load_config  # noqa: PLC0415
    from wijkanalyse.network import WalkNetwork  # noqa: PLC0415

    rules = load_config().network
    start = time.perf_counter()
    net = WalkNetwork.from_ways(gpd.read_parquet(Path(folder) / snapshot.NETWORK_FILE), rules)
    seconds = time.perf_counter() - start
    return seconds, _peak_gib(), f"{net.n_nodes} junctions, {net.n_ways} walkable ways"


def _child(fn, path: str, folder: str, queue: mp.Queue) -> None:
    queue.put(fn(path, folder))


def _measure(fn, path: Path, folder: Path) -> tuple[float, float, str]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(fn, str(path), str(folder), queue))
    child.start()
    while True:  # a child that dies without an answer ends the benchmark instead of hanging it
        try:
            value = queue.get(timeout=1.0)
            break
        except Empty:
            if not child.is_alive():
                sys.exit(f"{fn.__name__} died (exit code {child.exitcode}) without a result")
    child.join()
    if child.exitcode != 0:
        sys.exit(f"{fn.__name__} failed (exit code {child.exitcode})")
    return value


def _to_xml(pbf: Path, xml: Path) -> None:
    import osmium  # noqa: PLC0415

    writer = osmium.SimpleWriter(str(xml))
    try:
        for obj in osmium.FileProcessor(str(pbf)):
            writer.add(obj)
    finally:
        writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeenten", type=int, default=32, help="gemeenten of the synthetic country in the file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-osm-") as tmp:
        country = write_country(Path(tmp) / "land", n=args.gemeenten)
        xml = Path(tmp) / "land.osm"
        _to_xml(country.pbf, xml)
        from wijkanalyse.sources import _http  # noqa: PLC0415
        body = xml.read_bytes()
        start = time.perf_counter()
        _http.expect_osm_xml(body)
        t_check = time.perf_counter() - start
        del body
        folder = Path(tmp) / "snap"
        folder.mkdir()
        print(f"file: {country.osm_nodes} OSM nodes in {country.ways} ways, {country.venues} venues; "
              f".osm.pbf {country.pbf.stat().st_size / 2**20:.2f} MiB, OSM XML {xml.stat().st_size / 2**20:.1f} MiB")
        results = {}
        for name, fn, path in (("pyosmium", _pyosmium, country.pbf), ("pyrosm", _pyrosm, country.pbf),
                               ("osmnx", _osmnx, xml), ("snapshot", _snapshot, country.pbf),
                               ("osmium_cpp", _pyosmium_cpp, country.pbf)):
            seconds, peak, what = _measure(fn, path, folder)
            results[name] = (seconds, peak)
            print(f"{name:<9} {seconds:7.2f} s  peak {peak:5.2f} GiB  {what}", flush=True)
    (t_osmium, g_osmium), (t_rosm, g_rosm), (t_nx, g_nx), (t_snap, _), (t_cpp, _) = results.values()
    print(f"osm: pyosmium_s={t_osmium:.2f} pyosmium_gib={g_osmium:.2f} pyrosm_s={t_rosm:.2f} pyrosm_gib={g_rosm:.2f} "
          f"osmnx_s={t_nx:.2f} osmnx_gib={g_nx:.2f} snapshot_s={t_snap:.2f} pyosmium_cpp_s={t_cpp:.2f} xml_check_s={t_check:.2f} "
          f"pyrosm/pyosmium={t_rosm / t_osmium:.1f} osmnx/snapshot={t_nx / t_snap:.0f} read_osm/pyosmium_cpp={t_osmium / t_cpp:.1f}")


if __name__ == "__main__":
    main()
