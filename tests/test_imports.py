"""The run loads esda, libpysal and mapclassify without scikit-learn (nor networkx), and the packages stay whole.

Each case runs in a fresh interpreter (``sys.modules`` of the test session already holds
everything). What is checked: scikit-learn is not imported by the analysis nor the classes
of the maps; the hot spots and classes equal those of the packages imported the ordinary way;
afterwards ``import esda`` / ``import mapclassify`` give the whole packages, and the one
mapclassify classifier that needs k-means still works (the deferred ``KMeans``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wijkanalyse._imports import parts_of
from wijkanalyse._interrupts import caused_by_interrupt

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, env: dict[str, str] | None = None) -> dict:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_analysis_and_the_classes_do_not_import_scikit_learn(demo_snapshot: Path) -> None:
    seen = _python(f"""
        import json, sys
        from wijkanalyse import pipeline
        from wijkanalyse.config import load_config
        from wijkanalyse.outputs import style
        from wijkanalyse.sources.files import SnapshotReader
        result = pipeline.analyse(SnapshotReader({str(demo_snapshot)!r}), load_config(None))
        signal = style.signal_classes(result.buurten["signaal"]).index.tolist()
        reach = style.reach_classes([1.0, 0.95, 0.8, 0.6, 0.2]).index.tolist()
        print(json.dumps({{"sklearn": "sklearn" in sys.modules, "networkx": "networkx" in sys.modules,
                          "hotspots": result.buurten["hotspot"].tolist(), "signal": signal, "reach": reach}}))
    """)
    assert not seen["sklearn"]
    assert not seen["networkx"]  # the broker areas' neighbour graph is scipy's
    assert seen["reach"] == [0, 1, 2, 3, 4]  # 100 %, 90-100, 75-90, 50-75, <= 50 %: the fixed breaks by hand

    # the same figures with the packages imported the ordinary way first (scikit-learn and all)
    ordinary = _python(f"""
        import json, sys
        import esda, libpysal, mapclassify
        from wijkanalyse import pipeline
        from wijkanalyse.config import load_config
        from wijkanalyse.outputs import style
        from wijkanalyse.sources.files import SnapshotReader
        result = pipeline.analyse(SnapshotReader({str(demo_snapshot)!r}), load_config(None))
        scheme = mapclassify.Quantiles(result.buurten["signaal"].to_numpy(float), k=5)
        print(json.dumps({{"sklearn": "sklearn" in sys.modules, "hotspots": result.buurten["hotspot"].tolist(),
                          "signal": style.signal_classes(result.buurten["signaal"]).index.tolist(),
                          "quantiles": scheme.yb.tolist()}}))
    """)
    assert ordinary["sklearn"]
    assert seen["hotspots"] == ordinary["hotspots"]
    assert seen["signal"] == ordinary["signal"] == ordinary["quantiles"]


@pytest.mark.parametrize("first", ["hotspots", "classes"])
def test_the_packages_are_whole_afterwards(first: str) -> None:
    seen = _python(f"""
        import json, sys
        import numpy as np
        if {first!r} == "hotspots":
            from wijkanalyse.analysis.hotspots import load_local_moran
            moran, queen = load_local_moran()
        else:
            from wijkanalyse.outputs.style import load_classifiers
            quantiles, _ = load_classifiers()
        before = "sklearn" in sys.modules
        import esda, libpysal, mapclassify
        # natural breaks (k-means) on 1, 2, 3, 30, 31, 32 in two classes: the breaks are the two groups' maxima
        kmeans = mapclassify.classify(np.array([1., 2., 3., 30., 31., 32.]), "naturalbreaks", k=2).bins.tolist()
        print(json.dumps({{"before": before, "adbscan": hasattr(esda, "adbscan"), "graph": hasattr(libpysal, "graph"),
                          "classifiers": mapclassify.classifiers.Quantiles is mapclassify.Quantiles,
                          "kmeans": kmeans, "version": bool(mapclassify.__version__)}}))
    """)
    assert seen == {"before": False, "adbscan": True, "graph": True, "classifiers": True, "kmeans": [3.0, 32.0],
                    "version": True}


def test_the_command_line_starts_without_pandas() -> None:
    # `wijkanalyse --help` and the interrupt handling load before any data library
    seen = _python("""
        import json, sys
        import wijkanalyse.cli
        from wijkanalyse._format import format_number
        print(json.dumps({"pandas": "pandas" in sys.modules, "nan": format_number(float("nan")),
                          "number": format_number(12345.6, 1)}))
    """)
    assert seen == {"pandas": False, "nan": "onbekend", "number": "12.345,6"}


def test_an_interrupt_while_the_parts_load_is_not_taken_for_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # parts_of falls back to an ordinary import when the parts cannot be loaded alone; an interrupt
    # that Python wrapped while a class was made (RuntimeError from __set_name__) must stop instead
    package = tmp_path / "halfpkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "part.py").write_text(
        "class Named:\n"
        "    def __set_name__(self, owner, name):\n"
        "        raise KeyboardInterrupt\n"
        "class Made:\n"
        "    attr = Named()\n",
        encoding="utf-8",
    )
    (package / "broken.py").write_text("raise ValueError('kapot')\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert parts_of(["halfpkg"], ["halfpkg.broken"]) is False  # an ordinary failure: the caller imports as usual
        assert "halfpkg" not in sys.modules
        with pytest.raises(BaseException) as raised:
            parts_of(["halfpkg"], ["halfpkg.part"])
        assert caused_by_interrupt(raised.value), repr(raised.value)
        assert "halfpkg" not in sys.modules and "halfpkg.part" not in sys.modules
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == "halfpkg"]:
            del sys.modules[name]


def test_long_lived_pauses_the_collector_and_freezes_what_the_block_made() -> None:
    """In a process of our own: 5,000 objects made in the block (each in a cycle, so only the collector could free
    them) are frozen afterwards, the collector is on again, a full collection no longer visits them, and a frozen
    object nobody refers to is still freed (reference counting). Without own_process() nothing changes."""
    seen = _python("""
        import gc, json, weakref
        from wijkanalyse._imports import long_lived, own_process

        class Node:
            pass

        def cycles(n):
            made = [Node() for _ in range(n)]
            for node in made:
                node.me = node
            return made

        with long_lived():  # not our process yet: an ordinary block
            plain = {"enabled_inside": gc.isenabled(), "frozen": gc.get_freeze_count()}
        own_process()
        gc.collect()
        before = gc.get_freeze_count()
        with long_lived():
            enabled_inside = gc.isenabled()
            kept = cycles(5000)
            lonely = Node()
        alone = weakref.ref(lonely)
        del lonely
        after = gc.get_freeze_count()
        gc.collect()
        visited = sum(isinstance(o, Node) for o in gc.get_objects())
        gc.disable()
        with long_lived():
            pass
        stays_off = not gc.isenabled()
        gc.enable()
        try:
            with long_lived():
                raise ValueError
        except ValueError:
            pass
        print(json.dumps({"plain": plain, "enabled_inside": enabled_inside, "grew": after - before,
                          "enabled_after": gc.isenabled(), "visited": visited, "freed": alone() is None,
                          "stays_off": stays_off, "kept": len(kept)}))
    """)
    assert seen["plain"] == {"enabled_inside": True, "frozen": 0}
    assert seen["enabled_inside"] is False and seen["enabled_after"] is True and seen["stays_off"] is True
    assert seen["grew"] >= 5000 and seen["kept"] == 5000
    assert seen["visited"] == 0  # the frozen nodes are out of the collector's lists
    assert seen["freed"] is True


def _without_blas_settings() -> dict[str, str]:
    """This environment without the variables that set OpenBLAS's threads (OpenBLAS also reads OMP_NUM_THREADS)."""
    return {k: v for k, v in os.environ.items() if k not in {"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"}}


#: Code that gives the thread counts of the OpenBLAS libraries loaded (numpy's and scipy's), as threadpoolctl reads them.
_BLAS_THREADS = 'sorted(i["num_threads"] for i in threadpoolctl.threadpool_info() if i["internal_api"] == "openblas")'


def test_the_command_and_a_national_worker_start_with_their_modules_frozen(tmp_path: Path) -> None:
    """``wijkanalyse run --demo`` (through the entry point, as the command runs) freezes before the analysis, with
    the outputs' packages already loaded; a worker of the local pool does so in its initializer, before any job."""
    seen = _python(f"""
        import atexit, gc, json, sys
        from wijkanalyse import pipeline
        state = {{}}
        real = pipeline.analyse
        def analyse(*args, **kwargs):
            state.update(frozen=gc.get_freeze_count(), enabled=gc.isenabled(),
                         loaded=[m for m in ("matplotlib", "folium", "jinja2", "openpyxl", "esda.moran", "pypdfium2")
                                 if m in sys.modules])
            return real(*args, **kwargs)
        pipeline.analyse = analyse
        atexit.register(lambda: print(json.dumps(state)))
        sys.argv = ["wijkanalyse", "run", "--demo", "--quiet", "--out", {str(tmp_path / "uit")!r}]
        from wijkanalyse._entry import main
        main()
    """)
    assert seen["enabled"] is True
    assert seen["frozen"] > 100_000  # the modules of pandas, GeoPandas, scipy, matplotlib, ...
    assert seen["loaded"] == ["matplotlib", "folium", "jinja2", "openpyxl", "esda.moran", "pypdfium2"]

    import gc
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    from wijkanalyse import batch

    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"), initializer=batch._start_worker,
                             initargs=(os.getpid(),)) as pool:
        assert pool.submit(gc.get_freeze_count).result(timeout=300) > 100_000
        assert pool.submit(gc.isenabled).result(timeout=60) is True


def test_the_command_loads_blas_with_one_thread() -> None:
    """The command (its entry point) sets OpenBLAS to one thread before anything loads numpy: importing the entry
    point loads no numpy, and after ``wijkanalyse --version`` numpy's and scipy's OpenBLAS load with one thread each."""
    seen = _python(f"""
        import json, sys
        from wijkanalyse._entry import main
        before = "numpy" in sys.modules
        sys.argv = ["wijkanalyse", "--version"]
        try:
            main()
        except SystemExit:
            pass
        import numpy, scipy.linalg, threadpoolctl
        print(json.dumps({{"numpy_before": before, "blas": {_BLAS_THREADS}}}))
    """, env=_without_blas_settings())
    assert seen == {"numpy_before": False, "blas": [1, 1]}  # numpy's OpenBLAS and scipy's (each wheel bundles one)


def test_blas_threads_set_in_the_environment_are_kept() -> None:
    """``OPENBLAS_NUM_THREADS`` from the environment wins over the command's one thread: the counts equal those of a
    plain interpreter with the same setting (OpenBLAS caps the number at the machine's cores); without a setting the
    command's process has one thread in each."""
    def counts(*, ours: bool, env: dict[str, str]) -> list[int]:
        return _python(f"""
            import json
            from wijkanalyse._imports import own_process
            {"own_process()" if ours else "pass"}
            import numpy, scipy.linalg, threadpoolctl
            print(json.dumps({_BLAS_THREADS}))
        """, env=env)

    unset = _without_blas_settings()
    two = {**unset, "OPENBLAS_NUM_THREADS": "2"}
    ours_two = counts(ours=True, env=two)
    assert ours_two == counts(ours=False, env=two)
    assert len(ours_two) == 2
    assert counts(ours=True, env=unset) == [1, 1]
