"""Reading JSON files with bounds: a size limit before reading, a nesting limit while parsing.

A damaged or hostile file (a manifest nested 100,000 deep, a CBS answer of gigabytes) must
end in one line saying what is wrong, not in a ``RecursionError`` or a machine out of memory.
Python's parser already stops at its recursion limit; :func:`read_json` turns that into a
:class:`JsonTooLarge` with the reason in words, as it does for a file beyond ``max_bytes``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["JsonTooLarge", "read_json"]


class JsonTooLarge(ValueError):
    """A JSON file beyond the size or nesting bound; ``str()`` says which, in Dutch."""


def read_json(path: Path | str, *, max_bytes: int) -> Any:
    """Parse the JSON file ``path`` (UTF-8, a BOM allowed).

    Raises
    ------
    JsonTooLarge
        When the file holds more than ``max_bytes`` bytes, or is nested deeper than the
        parser's recursion limit (about 1,000 levels; no file of wijkanalyse needs 10).
    OSError, UnicodeDecodeError, json.JSONDecodeError
        As reading and parsing raise them.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        msg = f"is groter dan {_mb(max_bytes)} ({_mb(size)})"
        raise JsonTooLarge(msg)
    text = path.read_text(encoding="utf-8-sig")
    try:
        return json.loads(text)
    except RecursionError:
        msg = f"is te diep genest (meer dan {sys.getrecursionlimit()} niveaus)"
        raise JsonTooLarge(msg) from None


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 2**10:.0f} kB"
