"""Dutch number formatting shared by the map, the report and the command-line summary."""

from __future__ import annotations

import math
import sys
from typing import Any

__all__ = ["format_int", "format_number", "format_percent", "format_percent_apart", "format_plain"]


def _is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and pandas NA (not for inf).

    pandas is asked only when it is loaded already (a pandas NA or NaT cannot exist before),
    so the command line starts without importing it (``wijkanalyse --help``).
    """
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    pd = sys.modules.get("pandas")
    if pd is None:
        try:
            return bool(value != value)  # noqa: PLR0124 (numpy's NaN and NaT are not equal to themselves)
        except (TypeError, ValueError):
            return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_number(value: Any, decimals: int = 0, missing: str = "onbekend") -> str:
    """Format a number Dutch-style: ``12345.6`` -> ``"12.345,6"``.

    Parameters
    ----------
    value
        Any real number (numpy scalars included); None/NaN give ``missing``.
    decimals
        Number of decimals.
    missing
        Text for a missing value.

    Returns
    -------
    str
        The formatted number (plain text, no HTML).
    """
    if _is_missing(value):
        return missing
    number = float(value)
    if math.isinf(number):
        return "oneindig" if number > 0 else "min oneindig"
    text = f"{number:,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # no "-0,0"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_int(value: Any, missing: str = "onbekend") -> str:
    """Format a count Dutch-style: ``12345`` -> ``"12.345"``."""
    return format_number(value, 0, missing)


def format_plain(value: Any, max_decimals: int = 3, missing: str = "onbekend") -> str:
    """A number as short as it is exact, Dutch-style, as ``%g`` would write it in English but
    never in exponent form: ``1e6`` -> ``"1.000.000"``, ``0.25`` -> ``"0,25"``, ``400.0`` -> ``"400"``.

    At most ``max_decimals`` decimals (rounded); for bounds, limits and settings in messages.
    """
    if _is_missing(value):
        return missing
    text = format_number(value, max_decimals, missing)
    return text.rstrip("0").rstrip(",") if "," in text else text  # format_number writes no "-0"


def format_percent(share: Any, decimals: int = 1, missing: str = "onbekend") -> str:
    """Format a share in 0..1 as a Dutch percentage: ``0.873`` -> ``"87,3 %"``."""
    if _is_missing(share):
        return missing
    return f"{format_number(float(share) * 100.0, decimals)} %"


def format_percent_apart(share: float, other: float, decimals: int = 0) -> str:
    """``share`` as a percentage with the fewest decimals (``decimals`` to ``decimals + 2``) that tell it from ``other``.

    For a figure set against a limit: a deviation of 0.104 beside a limit of 10 % reads
    "10,4 %", not "10 %" (which would seem within it); 0.16 stays "16 %".
    """
    for places in range(decimals, decimals + 3):
        text = format_percent(share, places)
        if text != format_percent(other, places):
            return text
    return text


def format_range(low: Any, high: Any, *, percent: bool = False, decimals: int = 0, missing: str = "onbekend") -> str:
    """A range Dutch-style: ``(1965, 2547)`` -> ``"1.965 tot 2.547"``; one number when both ends agree.

    ``percent``: the ends are shares in 0..1 (``"59 % tot 72 %"``). Used for the target groups,
    whose figures are ranges because CBS keeps small counts secret (never a silent 0).
    """
    if _is_missing(low) or _is_missing(high):
        return missing

    def one(v: Any) -> str:
        return format_percent(v, decimals) if percent else format_number(v, decimals)

    a, b = one(low), one(high)
    return a if a == b else f"{a} tot {b}"
