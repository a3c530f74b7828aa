"""Shared fixtures. Tests never touch the network unless marked ``network``."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

#: ../shared/data beside the repository; from a git worktree (/work/wt/<name>) the nearest ancestor that has one.
SHARED_DATA = next(
    (p / "shared" / "data" for p in Path(__file__).resolve().parents[1:] if (p / "shared" / "data").is_dir()),
    Path(__file__).resolve().parents[1].parent / "shared" / "data",
)


@pytest.fixture(autouse=True)
def _offline(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any unmarked test fail loudly if it opens a network connection."""
    if "network" in request.keywords:
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network use in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture(scope="session")
def demo_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo gemeente written once per test session."""
    from wijkanalyse.demo import write_demo_snapshot

    return write_demo_snapshot(tmp_path_factory.mktemp("demo") / "snapshot")


def shared_data(*parts: str) -> Path:
    """Path into ../shared/data; skips the test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data {path} not available")
    return path
