"""What every output writer shares: untrusted text made safe, JSON, GDAL-ready frames, one Jinja2 environment.

- :func:`neutralise` / :func:`neutralise_frame`: text a spreadsheet would run as a formula
  (starting with ``=``, ``+``, ``-``, ``@``, tab or CR; OWASP's CSV-injection list) gets a
  leading ``'``. Used for every CSV and XLSX the project writes.
- :func:`jsonable`: numpy scalars to Python, NaN/inf and ``pd.NA`` to ``null``, keys to text.
- :func:`for_file`: a frame fit for GDAL (plain index, inf as missing).
- :func:`environment`: Jinja2 with autoescape (names from OpenStreetMap, CBS and the
  gemeente's files are untrusted), StrictUndefined and the Dutch number filters ``nl_int``,
  ``nl_num``, ``nl_pct``, ``euro``, ``nl_date`` and ``nl_join``.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd

from wijkanalyse._format import _is_missing, format_int, format_number, format_percent

__all__ = ["FORMULA_PREFIXES", "environment", "for_file", "jsonable", "neutralise", "neutralise_frame"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading ``'``; anything else is returned as is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _is_text(column: pd.Series) -> bool:
    return column.dtype == object or pd.api.types.is_string_dtype(column)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise` applied to every text cell and header (numbers untouched)."""
    out = frame.copy()
    for column in out.columns:
        if _is_text(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars as Python values, keys as text and NaN, inf or ``pd.NA`` as ``None``."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def for_file(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy fit for GDAL: plain index, inf as missing, booleans and nullable integers kept."""
    out = gdf.reset_index(drop=True).copy()
    for col in out.columns:
        if col != out.geometry.name and pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].replace([np.inf, -np.inf], np.nan)
    return out


def euro(value: Any, missing: str = "–") -> str:
    """``€ 12.500`` (a non-breaking space after the sign); ``missing`` when there is no value."""
    return missing if _is_missing(value) else f"€\u00a0{format_int(value)}"


def join_dutch(items: Any) -> str:
    """Dutch enumeration: ``["a", "b", "c"]`` -> ``"a, b en c"`` (plain text; the template escapes it)."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " en " + items[-1] if items else ""


@cache
def environment() -> jinja2.Environment:
    """The one Jinja2 environment of every page the project writes (templates in ``outputs/templates``)."""
    from wijkanalyse.outputs._sources import format_date  # noqa: PLC0415 (no cycle at import)

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("wijkanalyse.outputs", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    from wijkanalyse import __version__  # noqa: PLC0415

    env.globals["wijkanalyse_version"] = __version__  # the source line of _basis.html.j2
    env.filters.update({
        "nl_int": lambda v, missing="–": format_int(v, missing=missing),
        "nl_num": lambda v, d=1, missing="–": format_number(v, d, missing=missing),
        "nl_pct": lambda v, d=1, missing="–": format_percent(v, d, missing=missing),
        "euro": euro,
        "nl_date": format_date,
        "nl_join": join_dutch,
    })
    return env
