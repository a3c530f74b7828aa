"""Shared fixtures. Tests never touch the network unless marked ``network``."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@pytest.fixture(autouse=True)
def _offline(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any unmarked test fail loudly if it opens a network connection.

    Loopback stays open: the browser test talks to chromedriver on 127.0.0.1.
    """
    if "network" in request.keywords:
        return
    connect = socket.socket.connect

    def refuse(self: socket.socket, address: object, *args: object, **kwargs: object) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if self.family == getattr(socket, "AF_UNIX", None) or host in LOOPBACK:
            return connect(self, address, *args, **kwargs)
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
