"""A run's steps, timings and warnings belong to that run, also with two analyses in one process at once."""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path

from wijkanalyse import pipeline
from wijkanalyse.config import load_config
from wijkanalyse.runcontext import RunContext, current
from wijkanalyse.sources.files import SnapshotReader

log = logging.getLogger("wijkanalyse")


def test_each_thread_keeps_its_own_warnings_and_steps() -> None:
    """Two contexts in two threads, their warnings interleaved by a barrier: each holds only its own."""
    barrier = threading.Barrier(2)
    contexts = {name: RunContext(total_steps=2) for name in ("a", "b")}

    def work(name: str) -> None:
        with contexts[name].active():
            for i in range(5):
                barrier.wait()
                contexts[name].step(1 + i % 2, f"stap {name}{i}")
                log.warning("waarschuwing %s%d", name, i)
                log.info("geen waarschuwing %s%d", name, i)

    threads = [threading.Thread(target=work, args=(n,)) for n in contexts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name, ctx in contexts.items():
        assert ctx.warnings == [f"waarschuwing {name}{i}" for i in range(5)]
        assert [text for text, _, _ in ctx.timings()] == [f"stap {name}{i}" for i in range(5)]
        assert all(seconds >= 0 for _, seconds, _ in ctx.timings())
    assert current() is None  # nothing left behind in this thread


def test_nested_context_wins_and_outer_is_restored() -> None:
    outer, inner = RunContext(), RunContext()
    with outer.active():
        log.warning("buiten")
        with inner.active():
            log.warning("binnen")
        log.warning("weer buiten")
    assert outer.warnings == ["buiten", "weer buiten"] and inner.warnings == ["binnen"]


def test_two_analyses_at_once_equal_two_in_turn(demo_snapshot: Path) -> None:
    """The demo with a 1 m attachment limit warns that cells are off the network; the default run does not.

    Run one after the other, then both at once in two threads: the summaries' warnings and the
    step lists are the same as in turn (before the per-run context, a shared handler put each
    run's warnings in both summaries).
    """
    default = load_config()
    strict = dataclasses.replace(default, network=dataclasses.replace(default.network, max_attach_m=1.0))
    configs = {"default": default, "strict": strict}

    def one(config: object) -> tuple[list[str], list[str]]:
        ctx = RunContext(total_steps=pipeline.STEPS)
        result = pipeline.analyse(SnapshotReader(demo_snapshot), config, ctx)  # type: ignore[arg-type]
        return list(result.summary["warnings"]), [text for text, _, _ in ctx.timings()]

    in_turn = {name: one(config) for name, config in configs.items()}
    assert not any("vierkanten" in w for w in in_turn["default"][0])
    assert any("vierkanten" in w and "tellen als buiten bereik" in w for w in in_turn["strict"][0])

    at_once: dict[str, tuple[list[str], list[str]]] = {}
    threads = [threading.Thread(target=lambda n=name, c=config: at_once.__setitem__(n, one(c)))
               for name, config in configs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert at_once == in_turn
