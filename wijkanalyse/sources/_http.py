"""HTTP with a file cache: the only place wijkanalyse talks to the network.

Each request is keyed by the SHA-1 of its method, URL, parameters and body; an OK response
is saved atomically as ``<cache_dir>/http/<hash>.bin`` and served from there next time, so
a repeated or interrupted download does not fetch again and never leaves a corrupt file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wijkanalyse import _atomic
from wijkanalyse.errors import SourceError

__all__ = ["cache_key", "cached", "default_cache_dir", "fetch"]

log = logging.getLogger(__name__)
TIMEOUT_S = 180
USER_AGENT = "wijkanalyse (https://pypi.org/project/wijkanalyse)"


def default_cache_dir() -> Path:
    """``$WIJKANALYSE_CACHE`` or ``~/.cache/wijkanalyse``."""
    env = os.environ.get("WIJKANALYSE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "wijkanalyse"


def cache_key(method: str, url: str, params: dict[str, Any] | None, data: str | None) -> str:
    blob = json.dumps([method, url, sorted((params or {}).items()), data], default=str)
    return hashlib.sha1(blob.encode()).hexdigest()  # noqa: S324 (a cache key, not security)


def cached(cache_file: Path, produce: Callable[[], bytes]) -> bytes:
    """Return the bytes in ``cache_file``; when absent, call ``produce`` and save its result atomically."""
    if cache_file.is_file():
        log.debug("cache hit %s", cache_file)
        return cache_file.read_bytes()
    body = produce()
    _atomic.write_bytes(cache_file, body)
    return body


def fetch(
    url: str, *, params: dict[str, Any] | None = None, data: str | None = None, cache_dir: Path | None = None,
    what: str = "data",
) -> bytes:
    """GET (or POST when ``data`` is given) ``url`` and return the body, using the cache.

    Raises
    ------
    SourceError
        When the host cannot be reached or answers with an error; the message says which
        service and what to do.
    """
    import requests  # noqa: PLC0415

    method = "POST" if data is not None else "GET"
    host = urlsplit(url).netloc

    def download() -> bytes:
        log.info("    downloaden: %s van %s", what, host)
        try:
            response = requests.request(
                method, url, params=params, data=data, timeout=TIMEOUT_S, headers={"User-Agent": USER_AGENT}
            )
        except requests.ConnectionError as e:
            msg = (
                f"Cannot reach {host} to download {what}: no network connection? "
                "Run offline with --snapshot DIR (a folder downloaded earlier) or --demo."
            )
            raise SourceError(msg) from e
        except requests.Timeout as e:
            msg = f"{host} did not answer within {TIMEOUT_S} s while downloading {what}. Try again later."
            raise SourceError(msg) from e
        if response.status_code != 200:
            msg = f"{host} answered HTTP {response.status_code} for {what}. Try again later, or check the gemeente and year."
            raise SourceError(msg)
        return response.content

    cache = (cache_dir or default_cache_dir()) / "http" / f"{cache_key(method, url, params, data)}.bin"
    return cached(cache, download)
