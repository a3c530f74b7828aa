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


_LOOPBACK = ("127.", "::1", "localhost")




@pytest.fixture(autouse=True)
def _offline(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any unmarked test fail loudly if it opens a network connection.

    Connections to the loopback address (a fake server of the test, see
    ``tests/fake_services.py``, and chromedriver for the browser test) and Unix sockets are
    allowed; proxies from the environment are ignored so they go straight there.
    """
    if "network" in request.keywords:
        return
    connect = socket.socket.connect

    def loopback_only(sock: socket.socket, address: object, *args: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if sock.family == getattr(socket, "AF_UNIX", None) or (
            sock.family in (socket.AF_INET, socket.AF_INET6) and (str(host).startswith(_LOOPBACK))
        ):
            return connect(sock, address, *args)
        raise OSError("network use in an offline test")

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    for var in ("WIJKANALYSE_CBS_ODATA_URL", "WIJKANALYSE_PDOK_BUURTEN_WFS_URL", "WIJKANALYSE_PDOK_GRID_WFS_URL",
                "WIJKANALYSE_OVERPASS_URL"):
        monkeypatch.delenv(var, raising=False)


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


def documentation() -> str:
    """The README and every page of docs/ together: the documentation a person reads."""
    root = Path(__file__).resolve().parents[1]
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    return "\n".join(p.read_text(encoding="utf-8") for p in pages)


#: Dutch word parts that may not appear in a JSON key (the CBS nouns gemeente, wijk, buurt, kern and
#: their codes and names are kept as they are: they are the names of the things).
DUTCH_IN_KEYS = (
    "inwoners", "aandeel", "drempel", "_oud", "_nieuw", "jaar", "waarschuwing", "melding", "mislukt", "klaar",
    "gewijzigd", "koppeling", "weging", "afstand", "naam", "reden", "erbij", "eraf", "verschil", "hergebruikt",
    "ontmoeting", "makelaar", "nieuwe", "categorie", "sterkst", "indeling", "dagdelen", "nederland",
)
CBS_NOUNS = ("buurtnaam", "wijknaam", "gemeentenaam")


def dutch_keys(value: object, path: str = "") -> list[str]:
    """Every dict key (at any depth) of a JSON document that holds a Dutch word part: [] for one key language."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            text = str(key)
            plain = text
            for noun in CBS_NOUNS:
                plain = plain.replace(noun, "")
            if any(part in plain for part in DUTCH_IN_KEYS):
                found.append(f"{path}/{text}")
            found += dutch_keys(item, f"{path}/{text}")
    elif isinstance(value, list):
        for item in value:
            found += dutch_keys(item, f"{path}[]")
    return found
