"""Killing a run, a demo write or a fetch (SIGKILL) never leaves a folder that mixes two runs.

Each test starts ``python -m wijkanalyse ...`` as a child process and kills it with SIGKILL
at a known moment: at a pause point of the code (``WIJKANALYSE_TEST_PAUSE_AT``, see
:func:`wijkanalyse._atomic.pause_point`: just before the outputs are written, after the
first file is written (the old code left a map of one run beside the tables of another
here), when the new folder is complete, between the two renames of the swap, after the
swap) or a short while after a progress line, while files are being written. Afterwards the folder is either the
complete folder of the earlier run, the complete folder of the killed run, or absent; and
the next run succeeds and leaves nothing of the killed one behind. SIGTERM stops a run like
Ctrl-C: exit code 130, the temporary folders removed, the earlier outputs kept.

Every wait is bounded (a hang guard, not a speed requirement).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from wijkanalyse import _lock, pipeline, snapshot
from wijkanalyse.cli import cli
from wijkanalyse.sources.files import SnapshotReader

from .fake_services import FakeServices

ROOT = Path(__file__).resolve().parents[1]
GUARD_S = 180.0  # no child may take longer than this to reach a point (a hang guard)
OUTPUTS = {
    "kaart.html", "buurten.gpkg", "buurten.csv", "buurten.xlsx", "samenvatting.json", "kernen.csv", "voorstellen.csv",
    "makelaarsgebieden.csv", "rapport.html", "kaart_signaal.png", "kaart_signaal.pdf", "kaart_bereik.png",
    "kaart_bereik.pdf", "kaart_makelaars.png", "kaart_makelaars.pdf", pipeline.INDEX_FILE,
}
SLUG = "voorbeeldgemeente"


class Child:
    """A ``python -m wijkanalyse`` child process whose stderr lines are read as they come."""

    def __init__(self, args: list[str], *, pause_at: str | None = None, env: dict[str, str] | None = None) -> None:
        environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        environ.pop("WIJKANALYSE_TEST_PAUSE_AT", None)
        if pause_at:
            environ["WIJKANALYSE_TEST_PAUSE_AT"] = pause_at
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wijkanalyse", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, env=environ,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str) -> None:
        """Wait until a stderr line holds ``text`` (fails if the child ends first)."""
        deadline = time.monotonic() + GUARD_S
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1.0)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"the child ended (exit {self.finish()}) before {text!r}:\n{''.join(self.seen)}")
            self.seen.append(line)
            if text in line:
                return
        self.kill()
        pytest.fail(f"no {text!r} within {GUARD_S} s:\n{''.join(self.seen)}")

    def kill(self, sig: int = signal.SIGKILL) -> int:
        """Send ``sig`` and return the exit code (negative: killed by that signal)."""
        self.proc.send_signal(sig)
        return self.finish()

    def finish(self) -> int:
        """Wait for the child to end; keep the rest of its stderr; return its exit code."""
        try:
            code = self.proc.wait(timeout=GUARD_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(timeout=GUARD_S)
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                self.seen.append(line)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        return code


def _kill_at(args: list[str], moment: str, env: dict[str, str] | None = None) -> None:
    """Start ``args`` and SIGKILL it at ``moment``: a pause point, or "<progress text>+<seconds>" (no text: from the start)."""
    if "+" in moment:
        text, delay = moment.rsplit("+", 1)
        child = Child(args, env=env)
        if text:
            child.wait_for(text)
        time.sleep(float(delay))
        assert child.kill() in (-signal.SIGKILL, 0)  # a quick child may be done: then it is not killed
        return
    child = Child(args, pause_at=moment, env=env)
    child.wait_for(f"PAUSE {moment}")
    assert child.kill() == -signal.SIGKILL


def _leftovers(parent: Path, name: str) -> list[str]:
    """What runs left beside folder ``name``: staging and old folders, the lock file."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


# ------------------------------------------------------------------------------------ run


def _config(path: Path, walk_m: int) -> Path:
    path.write_text(f"[thresholds]\nwalk_m = {walk_m}\n", encoding="utf-8")
    return path


def _second_run(earlier_run: Path, demo_snapshot: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """An output folder holding the earlier run (400 m), and the arguments of a run that would make it 800 m."""
    out = tmp_path / "out"
    shutil.copytree(earlier_run, out)
    return out, ["run", "--snapshot", str(demo_snapshot), "--out", str(out), "--config", str(_config(tmp_path / "b.toml", 800))]


def _output_run(folder: Path) -> int | None:
    """The threshold of the one run whose complete outputs ``folder`` holds (None: no folder).

    Fails when a file is missing, extra or unreadable, or when the files disagree: the
    summary, the CSV, the GeoPackage and the map must be of the same run.
    """
    if not folder.exists():
        return None
    assert {p.name for p in folder.iterdir()} == OUTPUTS
    summary = json.loads((folder / "samenvatting.json").read_text(encoding="utf-8"))
    index = json.loads((folder / pipeline.INDEX_FILE).read_text(encoding="utf-8"))
    assert index["files"] == sorted(OUTPUTS - {pipeline.INDEX_FILE})
    assert index["generated"] == summary["generated"]
    within = summary["residents_within_threshold"]
    table = pd.read_csv(folder / "buurten.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert table["inwoners_binnen_drempel"].sum() == pytest.approx(within)
    layer = gpd.read_file(folder / "buurten.gpkg", layer="buurten")
    assert layer["inwoners_binnen_drempel"].sum() == pytest.approx(within)
    page = (folder / "kaart.html").read_text(encoding="utf-8")
    threshold = summary["threshold_m"]
    assert f"binnen {threshold:g} m" in page
    assert not any(f"binnen {other} m" in page for other in (400, 800) if other != threshold)
    return int(threshold)


@pytest.fixture(scope="module")
def earlier_run(demo_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete run (walk_m = 400) to kill a later one over."""
    base = tmp_path_factory.mktemp("earlier")
    out = base / "out"
    result = CliRunner().invoke(cli, ["run", "--snapshot", str(demo_snapshot), "--out", str(out), "-q",
                                      "--config", str(_config(base / "a.toml", 400))])
    assert result.exit_code == 0, result.output
    assert _output_run(out / SLUG) == 400
    return out


@pytest.mark.parametrize(
    "moment",
    ["write", "file-written", "staged", "swap", "swapped", "[8/8]+0.05", "[8/8]+0.3"],
)
def test_a_killed_run_leaves_one_complete_run(
    moment: str, earlier_run: Path, demo_snapshot: Path, tmp_path: Path,
) -> None:
    out, args = _second_run(earlier_run, demo_snapshot, tmp_path)
    _kill_at(args, moment)

    after_kill = _output_run(out / SLUG)
    expected = {"write": 400, "file-written": 400, "staged": 400, "swap": None, "swapped": 800}
    if moment in expected:
        assert after_kill == expected[moment]
    else:
        assert after_kill in (400, 800, None)

    result = CliRunner().invoke(cli, [*args, "-q"])  # the next run cleans up and succeeds
    assert result.exit_code == 0, result.output
    assert _output_run(out / SLUG) == 800
    assert sorted(p.name for p in out.iterdir()) == [SLUG]  # no staging, old folder or lock left


def test_the_next_run_puts_back_the_folder_a_kill_between_the_renames_took_away(
    earlier_run: Path, demo_snapshot: Path, tmp_path: Path,
) -> None:
    out, args = _second_run(earlier_run, demo_snapshot, tmp_path)
    _kill_at(args, "swap")
    assert not (out / SLUG).exists()
    assert len([n for n in _leftovers(out, SLUG) if n.endswith(".old")]) == 1
    # the next run puts the earlier folder back before it starts, even one that is then interrupted
    with pytest.MonkeyPatch.context() as mp:
        def broken(*a: object) -> None:
            raise KeyboardInterrupt
        mp.setattr(pipeline, "analyse", broken)
        assert CliRunner().invoke(cli, [*args, "-q"]).exit_code == 130
    assert _output_run(out / SLUG) == 400  # put back by the interrupted run's clean-up
    assert sorted(p.name for p in out.iterdir()) == [SLUG]


def test_sigterm_stops_a_run_like_ctrl_c(earlier_run: Path, demo_snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(earlier_run, out)
    child = Child(["run", "--snapshot", str(demo_snapshot), "--out", str(out),
                   "--config", str(_config(tmp_path / "b.toml", 800))], pause_at="staged")
    child.wait_for("PAUSE staged")
    assert [n for n in _leftovers(out, SLUG) if n.endswith(".tmp")]  # the new folder, complete, not swapped in
    assert child.kill(signal.SIGTERM) == 130
    assert "Afgebroken (Ctrl-C of SIGTERM); de vorige uitvoer is ongewijzigd." in "".join(child.seen)
    assert "Traceback" not in "".join(child.seen)
    assert _output_run(out / SLUG) == 400
    assert sorted(p.name for p in out.iterdir()) == [SLUG]  # the staging folder and the lock are gone


def test_a_second_run_on_the_same_folder_is_told_it_is_in_use(
    earlier_run: Path, demo_snapshot: Path, tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    shutil.copytree(earlier_run, out)
    args = ["run", "--snapshot", str(demo_snapshot), "--out", str(out)]
    child = Child(args, pause_at="write")
    try:
        child.wait_for("PAUSE write")
        second = CliRunner().invoke(cli, [*args, "-q"])
        assert second.exit_code == 1
        pid = child.proc.pid
        assert second.stderr.startswith(f"Fout: Uitvoermap {out / SLUG} is in gebruik door een andere wijkanalyse-run (pid {pid}, sinds ")
        assert "Wacht tot die klaar is, of kies een andere map met --out." in second.stderr
        # the snapshot it reads cannot be fetched over meanwhile
        with pytest.raises(_lock.LockTaken, match="is in gebruik door een andere wijkanalyse-run"), _lock.locked(
            demo_snapshot, what="Snapshot", advice="",
        ):
            pass
        # ... but another run may read it at the same time
        other = CliRunner().invoke(cli, ["run", "--snapshot", str(demo_snapshot), "--out", str(tmp_path / "other"), "-q"])
        assert other.exit_code == 0, other.output
    finally:
        child.kill()
    assert CliRunner().invoke(cli, [*args, "-q"]).exit_code == 0


def test_parallel_write_checks_never_fail(tmp_path: Path) -> None:
    # the old ".schrijftest" probe: 6,348 false errors in 40,000 parallel calls on one folder
    errors: list[Exception] = []

    def check() -> None:
        for _ in range(250):
            try:
                pipeline.prepare_output_dir(tmp_path, "Voorbeeldgemeente")
            except Exception as e:
                errors.append(e)

    threads = [threading.Thread(target=check) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert list(tmp_path.iterdir()) == []  # the probes are gone too


# ------------------------------------------------------------------------------- run --demo


def test_a_killed_demo_run_leaves_nothing_in_the_temp_folder_for_long(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"TMPDIR": str(tmp)}
    out = tmp_path / "out"
    _kill_at(["run", "--demo", "--out", str(out)], "write", env=env)
    (left,) = tmp.iterdir()  # the demo snapshot of the killed run
    assert left.name.startswith("wijkanalyse-demo-")
    old = time.time() - 3600
    os.utime(left, (old, old))  # a leftover younger than a minute might still be starting up
    child = Child(["run", "--demo", "--out", str(out), "-q"], env=env)
    assert child.finish() == 0
    assert list(tmp.iterdir()) == []  # the leftover swept, its own removed
    assert _output_run(out / SLUG) == 400

    child = Child(["run", "--demo", "--out", str(out)], pause_at="write", env=env)
    child.wait_for("PAUSE write")
    assert child.kill(signal.SIGTERM) == 130
    assert list(tmp.iterdir()) == []  # SIGTERM: removed at once
    assert _output_run(out / SLUG) == 400


# ------------------------------------------------------------------------------------- demo


def _snapshot_of(folder: Path) -> str | None:
    """The ``created`` stamp of the complete snapshot in ``folder`` (None: no folder); fails on a broken one."""
    if not folder.exists():
        return None
    reader = SnapshotReader(folder)  # the manifest, its files and their agreement
    for key, entry in reader.manifest.sources.items():
        assert (folder / entry["file"]).is_file(), key
    assert len(reader.buurten()) > 0 and len(reader.grid()) > 0 and len(reader.cbs_rows()) > 0
    assert len(reader.osm({}).ways) > 0
    names = {p.name for p in folder.iterdir()}
    assert names == {snapshot.MANIFEST_FILE, *(e["file"] for e in reader.manifest.sources.values()),
                     *(e[k] for e in reader.manifest.sources.values() for k in ("regions_file", "properties_file") if k in e)}
    return reader.manifest.created


@pytest.mark.parametrize("moment", ["file-written", "staged", "swap", "swapped", "+0.8"])
def test_a_killed_demo_write_leaves_one_complete_snapshot(moment: str, demo_snapshot: Path, tmp_path: Path) -> None:
    dest = tmp_path / "demo"
    shutil.copytree(demo_snapshot, dest)
    raw = json.loads((dest / snapshot.MANIFEST_FILE).read_text(encoding="utf-8"))
    raw["created"] = "earlier"  # to tell the earlier snapshot from the new one
    (dest / snapshot.MANIFEST_FILE).write_text(json.dumps(raw), encoding="utf-8")
    new = json.loads((demo_snapshot / snapshot.MANIFEST_FILE).read_text(encoding="utf-8"))["created"]

    _kill_at(["demo", str(dest)], moment)  # "+0.8": while it imports or generates, whatever it does then
    after = _snapshot_of(dest)
    if moment.startswith("+"):
        assert after in ("earlier", new)
    else:
        assert after == {"file-written": "earlier", "staged": "earlier", "swap": None, "swapped": new}[moment]

    result = CliRunner().invoke(cli, ["demo", str(dest)])
    assert result.exit_code == 0, result.output
    assert _snapshot_of(dest) == new
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


# ------------------------------------------------------------------------------------ fetch


@pytest.fixture
def fake() -> Iterator[FakeServices]:
    with FakeServices(tables=("85984NED", "85039NED"), lifetime_s=GUARD_S) as server:
        yield server


def _fetch_args(fake: FakeServices, tmp_path: Path, year: int) -> list[str]:
    config = tmp_path / "services.toml"
    config.write_text(fake.config_toml(), encoding="utf-8")
    return ["fetch", "--gemeente", "GM0999", "--year", str(year), "--snapshot", str(tmp_path / "snap"),
            "--config", str(config), "--cache-dir", str(tmp_path / "cache")]


def _fetched_year(folder: Path) -> int | None:
    if _snapshot_of(folder) is None:
        return None
    return SnapshotReader(folder).manifest.year


@pytest.mark.parametrize("moment", ["[2/4]+0", "file-written", "staged", "swap", "swapped"])
def test_a_killed_fetch_leaves_one_complete_snapshot(moment: str, fake: FakeServices, tmp_path: Path) -> None:
    first = CliRunner().invoke(cli, _fetch_args(fake, tmp_path, 2021))
    assert first.exit_code == 0, first.output
    assert _fetched_year(tmp_path / "snap") == 2021

    args = _fetch_args(fake, tmp_path, 2024)
    _kill_at(args, moment)
    after = _fetched_year(tmp_path / "snap")
    assert after == {"[2/4]+0": 2021, "file-written": 2021, "staged": 2021, "swap": None, "swapped": 2024}[moment]

    result = CliRunner().invoke(cli, args)  # the next fetch cleans up and succeeds
    assert result.exit_code == 0, result.output
    assert _fetched_year(tmp_path / "snap") == 2024
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "services.toml", "snap"]
    run = CliRunner().invoke(cli, ["run", "--snapshot", str(tmp_path / "snap"), "--out", str(tmp_path / "out"), "-q",
                                   "--config", str(tmp_path / "services.toml")])
    assert run.exit_code == 0, run.output


# ------------------------------------------------------------------------ while modules load


@pytest.mark.parametrize(("sig", "delay"), [(signal.SIGINT, 0.15), (signal.SIGINT, 0.6), (signal.SIGTERM, 0.15),
                                            (signal.SIGTERM, 0.6)])
def test_an_interrupt_while_the_modules_load_is_one_line(
    sig: int, delay: float, earlier_run: Path, demo_snapshot: Path, tmp_path: Path,
) -> None:
    # issue: SIGINT in the first second printed a KeyboardInterrupt traceback, SIGTERM exited -15
    out = tmp_path / "out"
    shutil.copytree(earlier_run, out)
    child = Child(["run", "--snapshot", str(demo_snapshot), "--out", str(out),
                   "--config", str(_config(tmp_path / "b.toml", 800))])
    time.sleep(delay)
    assert child.kill(sig) == 130, "".join(child.seen)
    seen = "".join(child.seen)
    assert "Traceback" not in seen and "Exception ignored" not in seen, seen
    assert seen.strip().splitlines()[-1] == "Afgebroken (Ctrl-C of SIGTERM); de vorige uitvoer is ongewijzigd."
    assert _output_run(out / SLUG) == 400  # the earlier result is kept
    assert sorted(p.name for p in out.iterdir()) == [SLUG]


def test_an_interrupt_that_left_an_exec_of_source_text_still_exits_130(tmp_path: Path) -> None:
    # issue: CI saw exit -2 after the one line: CPython's ``python -m`` remembers a KeyboardInterrupt that
    # left an exec of source text (dataclasses build classes that way while modules load), even one that
    # cli's handler caught, and killed itself with SIGINT after the shutdown. Here the interrupt is raised
    # at once by such an exec inside a command, so the case does not depend on timing.
    (tmp_path / "boom.py").write_text(
        "import sys\n"
        "from wijkanalyse import cli\n"
        "@cli.cli.command('boom')\n"
        "def boom():\n"
        "    exec('raise KeyboardInterrupt')\n"
        "sys.argv = ['wijkanalyse', 'boom']\n"
        "from wijkanalyse._entry import main\n"
        "main()\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", "boom"], capture_output=True, text=True, env=env, timeout=GUARD_S,
                          check=False)
    assert done.returncode == 130, done.stderr  # it was -2 (killed by SIGINT) before the fix
    assert done.stderr.strip().splitlines() == ["Afgebroken (Ctrl-C of SIGTERM); de vorige uitvoer is ongewijzigd."]


@pytest.mark.parametrize("where", ["weakref", "del"])
def test_an_interrupt_python_had_to_drop_is_delivered_again(where: str, tmp_path: Path) -> None:
    # issue: CI saw SIGTERM at 0.6 s land in importlib's weakref callback of a module lock: Python printed
    # "Exception ignored in ... KeyboardInterrupt", carried on, and the run finished with exit 0 and
    # replaced the earlier outputs. Here the interrupt is raised at once inside such a callback (a weakref
    # callback, a __del__), so the case does not depend on timing; the command must stop before "done".
    done_file = tmp_path / "done"
    (tmp_path / "lost.py").write_text(
        "import sys, time, weakref\n"
        f"GUARD = {GUARD_S / 2}\n"
        "from pathlib import Path\n"
        "from wijkanalyse import cli\n"
        "def stop(*_):\n"
        "    raise KeyboardInterrupt\n"
        "class Thing:\n"
        "    pass\n"
        "class Dying:\n"
        "    def __del__(self):\n"
        "        stop()\n"
        "@cli.cli.command('lost')\n"
        "def lost():\n"
        f"    if {where!r} == 'weakref':\n"
        "        thing = Thing()\n"
        "        ref = weakref.ref(thing, stop)\n"
        "        del thing\n"
        "    else:\n"
        "        Dying()\n"
        "    time.sleep(GUARD)\n"
        f"    Path({str(done_file)!r}).write_text('done')\n"
        "sys.argv = ['wijkanalyse', 'lost']\n"
        "from wijkanalyse._entry import main\n"
        "main()\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", "lost"], capture_output=True, text=True, env=env, timeout=GUARD_S,
                          check=False)
    assert done.returncode == 130, done.stderr  # it was 0, with "Exception ignored in", before the fix
    assert done.stderr.strip().splitlines() == ["Afgebroken (Ctrl-C of SIGTERM); de vorige uitvoer is ongewijzigd."]
    assert not done_file.exists()


def _run_module(tmp_path: Path, name: str, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", name], capture_output=True, text=True, env=env, timeout=GUARD_S,
                          check=False)


def test_an_interrupt_python_wrapped_while_a_class_was_made_is_the_interrupt(tmp_path: Path) -> None:
    # issue: SIGINT at 1.9 s landed in __set_name__ while matplotlib's classes were made; Python 3.11 wraps
    # it as RuntimeError("Error calling __set_name__ ..."), which the command reported as "Onverwachte fout"
    # with exit 1. Here the interrupt is raised at once in such a __set_name__, inside a command.
    done = _run_module(tmp_path, "wrapped", (
        "import sys\n"
        "from wijkanalyse import cli\n"
        "class Named:\n"
        "    def __set_name__(self, owner, name):\n"
        "        raise KeyboardInterrupt\n"
        "@cli.cli.command('wrapped')\n"
        "def wrapped():\n"
        "    type('Made', (), {'attr': Named()})\n"
        "sys.argv = ['wijkanalyse', 'wrapped']\n"
        "from wijkanalyse._entry import main\n"
        "main()\n"
    ))
    assert done.returncode == 130, done.stderr  # it was 1, "Onverwachte fout (RuntimeError: ...)", before the fix
    assert done.stderr.strip().splitlines() == ["Afgebroken (Ctrl-C of SIGTERM); de vorige uitvoer is ongewijzigd."]


def test_an_interrupt_python_wrapped_while_the_command_line_loads_is_the_interrupt(tmp_path: Path) -> None:
    # the same wrapped interrupt before cli is loaded (the entry point's own handler): a stand-in for
    # wijkanalyse.cli whose attribute raises it as a class being made would
    done = _run_module(tmp_path, "early", (
        "import sys, types\n"
        "stand_in = types.ModuleType('wijkanalyse.cli')\n"
        "def fail(name):\n"
        "    try:\n"
        "        raise KeyboardInterrupt\n"
        "    except KeyboardInterrupt as e:\n"
        "        raise RuntimeError(\"Error calling __set_name__ on 'x'\") from e\n"
        "stand_in.__getattr__ = fail\n"
        "import wijkanalyse\n"
        "sys.modules['wijkanalyse.cli'] = stand_in\n"
        "sys.argv = ['wijkanalyse', 'run', '--demo']\n"
        "from wijkanalyse._entry import main\n"
        "main()\n"
    ))
    assert done.returncode == 130, done.stderr  # a RuntimeError traceback before the fix
    assert done.stderr.strip().splitlines() == ["Afgebroken (Ctrl-C of SIGTERM); de vorige uitvoer is ongewijzigd."]


def test_an_interrupt_a_library_swallowed_still_stops_the_run(
    earlier_run: Path, demo_snapshot: Path, tmp_path: Path,
) -> None:
    # a library with a bare except around its work swallows the KeyboardInterrupt of a SIGTERM; the run
    # noted the signal, stops at its next step and keeps the earlier outputs (before: it ran on, exit 0)
    out, args = _second_run(earlier_run, demo_snapshot, tmp_path)
    done = _run_module(tmp_path, "swallow", (
        "import os, signal, sys, time\n"
        "from wijkanalyse import pipeline\n"
        "analyse = pipeline.analyse\n"
        "def swallowing(*args, **kwargs):\n"
        "    try:\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        time.sleep(30)\n"
        "    except BaseException:\n"
        "        pass\n"
        "    return analyse(*args, **kwargs)\n"
        "pipeline.analyse = swallowing\n"
        f"sys.argv = ['wijkanalyse', *{args!r}]\n"
        "from wijkanalyse._entry import main\n"
        "main()\n"
    ))
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "Afgebroken (Ctrl-C of SIGTERM); de vorige uitvoer is ongewijzigd."
    assert "Traceback" not in done.stderr
    assert _output_run(out / SLUG) == 400  # the earlier result is kept
    assert sorted(p.name for p in out.iterdir()) == [SLUG]


def test_caused_by_interrupt_follows_causes_and_contexts() -> None:
    from wijkanalyse._interrupts import caused_by_interrupt

    def chained(outer: type[Exception], inner: BaseException, *, explicit: bool) -> Exception:
        try:
            try:
                raise inner
            except BaseException as e:
                if explicit:
                    raise outer("buiten") from e
                raise outer("buiten")  # noqa: B904 (an implicit context is what is tested)
        except Exception as e:
            return e
        raise AssertionError

    assert caused_by_interrupt(chained(RuntimeError, KeyboardInterrupt(), explicit=True))
    assert caused_by_interrupt(chained(ValueError, KeyboardInterrupt(), explicit=False))
    deeper = chained(OSError, chained(RuntimeError, KeyboardInterrupt(), explicit=True), explicit=True)
    assert caused_by_interrupt(deeper)
    assert not caused_by_interrupt(chained(RuntimeError, ValueError("x"), explicit=True))
    assert not caused_by_interrupt(ValueError("los"))
    looped = ValueError("a")
    looped.__context__ = RuntimeError("b")
    looped.__context__.__context__ = looped  # a cycle ends the walk
    assert not caused_by_interrupt(looped)


def test_other_dropped_exceptions_are_still_reported(tmp_path: Path) -> None:
    # the hook takes only a KeyboardInterrupt: any other exception in a __del__ is reported as Python does
    (tmp_path / "other.py").write_text(
        "import sys\n"
        "from wijkanalyse import cli\n"
        "class Dying:\n"
        "    def __del__(self):\n"
        "        raise ValueError('kapot')\n"
        "@cli.cli.command('other')\n"
        "def other():\n"
        "    Dying()\n"
        "    print('verder')\n"
        "sys.argv = ['wijkanalyse', 'other']\n"
        "from wijkanalyse._entry import main\n"
        "main()\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", "other"], capture_output=True, text=True, env=env, timeout=GUARD_S,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "Exception ignored in" in done.stderr and "ValueError: kapot" in done.stderr
    assert done.stdout == "verder\n"


# ------------------------------------------------------------------------------ national run


def _children(pid: int) -> set[int]:
    """The child processes of ``pid`` (Linux /proc), and theirs."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = {int(k) for k in (task / "children").read_text(encoding="ascii").split()}
            except OSError:
                continue
            todo += sorted(kids - found)
            found |= kids
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its exit status waits to be collected


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads child processes from /proc (Linux)")
def test_the_workers_of_a_killed_national_run_end_with_it(tmp_path: Path) -> None:
    # issue: a national run SIGKILLed after its first done-markers left its 3 workers running 10 s later
    from .test_national import _make_country

    country = _make_country(tmp_path / "land")
    out = tmp_path / "uit"
    args = ["run", "--snapshots", str(tmp_path / "land" / "snapshots"), "--out", str(out), "--workers", "2", "-q"]
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    environ.pop("WIJKANALYSE_TEST_PAUSE_AT", None)
    progress = out / "landelijk" / "voortgang"
    proc = subprocess.Popen([sys.executable, "-m", "wijkanalyse", *args], env=environ, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + GUARD_S
        while time.monotonic() < deadline and proc.poll() is None and not list(progress.glob("GM*.json")):
            workers |= _children(proc.pid)
            time.sleep(0.02)
        workers |= _children(proc.pid)
        assert proc.poll() is None, "the run ended before its first gemeente was done"
        assert len(workers) >= 2, workers  # the pool's workers (and multiprocessing's resource tracker)
        proc.send_signal(signal.SIGKILL)  # the parent alone, not its process group
        proc.wait(timeout=GUARD_S)
        deadline = time.monotonic() + 30  # a hang guard: they look every 0.25 s
        while time.monotonic() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.05)
        assert [p for p in workers if _alive(p)] == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    # the next run sweeps what the killed one was writing, and finishes
    done = subprocess.run([sys.executable, "-m", "wijkanalyse", *args], env=environ, capture_output=True, text=True,
                          check=False, timeout=600)
    assert done.returncode == 0, done.stderr
    assert sorted(p.stem for p in progress.glob("GM*.json")) == sorted(country.codes)
    hidden = [p.relative_to(out) for p in out.rglob(".*") if p.name != pipeline.INDEX_FILE]
    assert hidden == [], hidden  # no staging folder, temporary file or lock file left


def test_a_noted_interrupt_keeps_the_folder_and_is_forgotten_once_handled(tmp_path: Path) -> None:
    # staged_dir must not put a new folder in place after an interrupt that was swallowed inside its block
    from wijkanalyse import _atomic, _interrupts

    dest = tmp_path / "uit"
    dest.mkdir()
    (dest / "oud.txt").write_text("oud")
    try:
        with (pytest.raises(KeyboardInterrupt),
              _atomic.staged_dir(dest, what="Uitvoermap", advice="Kies een andere map.") as tmp):
            (tmp / "nieuw.txt").write_text("nieuw")
            _interrupts.note_interrupt()  # as the signal handler does, before a library swallowed it
        assert sorted(p.name for p in dest.iterdir()) == ["oud.txt"]
        assert [p.name for p in tmp_path.iterdir()] == ["uit"]  # the staged folder is removed
        with pytest.raises(KeyboardInterrupt):
            _interrupts.stop_if_interrupted()
    finally:
        _interrupts.forget_interrupt()
    _interrupts.stop_if_interrupted()  # handled: passes again
    with _atomic.staged_dir(dest, what="Uitvoermap", advice="Kies een andere map.") as tmp:
        (tmp / "nieuw.txt").write_text("nieuw")
    assert sorted(p.name for p in dest.iterdir()) == ["nieuw.txt"]
