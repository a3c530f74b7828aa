"""The run loads esda, libpysal and mapclassify without scikit-learn (nor networkx), and the packages stay whole.

Each case runs in a fresh interpreter (``sys.modules`` of the test session already holds
everything). What is checked: scikit-learn is not imported by the analysis nor the classes
of the maps; the hot spots and classes equal those of the packages imported the ordinary way;
afterwards ``import esda`` / ``import mapclassify`` give the whole packages, and the one
mapclassify classifier that needs k-means still works (the deferred ``KMeans``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wijkanalyse._imports import parts_of
from wijkanalyse._interrupts import caused_by_interrupt

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False)
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
            from wijkanalyse.analysis.hotspots import _moran_and_queen
            moran, queen = _moran_and_queen()
        else:
            from wijkanalyse.outputs.style import _classifiers
            quantiles, _ = _classifiers()
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
