"""Opening hours: the parts of the week (dagdelen) a meeting point is open; pure functions.

An OSM ``opening_hours`` value (or the ``openingstijden`` column of the gemeente's own
points file, same syntax) is parsed with ``opening-hours-py`` (the Rust ``opening-hours-rs``
parser; it reads the real-world variants of the syntax that the specification leaves out).

Day parts (dagdelen)
    Seven days x three parts = 21: ochtend 08:00-12:00, middag 12:00-18:00, avond
    18:00-23:00 (:data:`PARTS`). Keys ``"ma-ochtend"`` ... ``"zo-avond"`` (:data:`DAY_PARTS`).

When a place is open in a day part
    When it is open for at least :data:`MIN_OPEN_MINUTES` (60) minutes of that day part in
    at least half of the :data:`REFERENCE_WEEKS` (52) weeks of a reference year (from Monday
    :data:`REFERENCE_START`, 1 January 2024). So ``"Tu 18:00-22:00"`` is open on di-avond,
    ``"Mo[1] 14:00-17:00"`` (one afternoon a month: 12 of 52 Mondays) is open in no day part,
    and ``"Sep-Jun Tu 10:00-12:00"`` (43 of 52 weeks) is open on di-ochtend. A time marked
    ``unknown`` in the value counts as not open; a comment (``"op afspraak"``) does not change
    the state it is attached to. Public holidays (``PH``) are not looked up: a holiday in one
    week does not change a day part that is open in the other weeks.

A value is *unknown* when the venue has none (empty), *unparseable* when the parser rejects
it (the raw text is kept and reported; never a crash).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import opening_hours

__all__ = [
    "DAYS",
    "DAY_PARTS",
    "DAY_PART_LABELS",
    "KNOWN",
    "MIN_OPEN_MINUTES",
    "PARTS",
    "REFERENCE_START",
    "REFERENCE_WEEKS",
    "UNKNOWN",
    "UNPARSEABLE",
    "OpeningWeek",
    "counted",
    "day_part_sets",
    "open_day_parts",
    "opening_week",
]

#: Days of the week (Monday first) and their Dutch names.
DAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
_DAY_NAMES = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
#: Parts of a day: (key, first hour, last hour): ochtend 8-12, middag 12-18, avond 18-23.
PARTS = (("ochtend", 8, 12), ("middag", 12, 18), ("avond", 18, 23))
#: The 21 day parts in week order: "ma-ochtend", "ma-middag", "ma-avond", "di-ochtend", ...
DAY_PARTS = tuple(f"{d}-{p}" for d in DAYS for p, _, _ in PARTS)
#: Dutch labels: "maandagochtend (8-12 uur)".
DAY_PART_LABELS = {
    f"{d}-{p}": f"{name}{p} ({start}-{end} uur)" for d, name in zip(DAYS, _DAY_NAMES, strict=True) for p, start, end in PARTS
}
#: Minutes of a day part a place must be open for it to count as open in that week.
MIN_OPEN_MINUTES = 60
#: The reference year: 52 weeks from Monday 1 January 2024.
REFERENCE_START = datetime(2024, 1, 1)
REFERENCE_WEEKS = 52
#: A day part is open when it is open in at least this share of the reference weeks.
MIN_WEEK_SHARE = 0.5

KNOWN = "known"
UNKNOWN = "unknown"
UNPARSEABLE = "unparseable"


def _text(raw: Any) -> str:
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return ""
    return str(raw).strip()


def open_day_parts(raw: Any) -> tuple[str, np.ndarray]:
    """(status, 21 booleans) for one opening_hours value; status :data:`KNOWN`, :data:`UNKNOWN` or :data:`UNPARSEABLE`.

    The booleans are False unless the status is known.
    """
    text = _text(raw)
    none = np.zeros(len(DAY_PARTS), dtype=bool)
    if not text:
        return UNKNOWN, none
    try:
        parsed = opening_hours.OpeningHours(text)
        end = REFERENCE_START + timedelta(weeks=REFERENCE_WEEKS)
        intervals = [(a, b) for a, b, state, _ in parsed.intervals(REFERENCE_START, end)
                     if state == opening_hours.State.OPEN]
    # opening_hours' stubs lack ParserError (the module has it: the parser raises it)
    except (opening_hours.ParserError, SyntaxError, ValueError, OverflowError):  # type: ignore[attr-defined]
        return UNPARSEABLE, none
    minutes = np.zeros((REFERENCE_WEEKS * 7, len(PARTS)))  # per day of the reference year, per part
    for start, stop in intervals:
        day = datetime(start.year, start.month, start.day)
        while day < stop and day < end:
            index = (day - REFERENCE_START).days
            for j, (_, first, last) in enumerate(PARTS):
                lo = max(start, day + timedelta(hours=first))
                hi = min(stop, day + timedelta(hours=last))
                if hi > lo:
                    minutes[index, j] += (hi - lo).total_seconds() / 60
            day += timedelta(days=1)
    open_weeks = (minutes >= MIN_OPEN_MINUTES).reshape(REFERENCE_WEEKS, 7 * len(PARTS)).sum(axis=0)
    return KNOWN, open_weeks >= MIN_WEEK_SHARE * REFERENCE_WEEKS


@dataclass(frozen=True)
class OpeningWeek:
    """The day parts of each venue: ``open`` (n x 21 booleans), ``status`` per venue (see :func:`open_day_parts`)."""

    open: np.ndarray
    status: np.ndarray

    @property
    def n_open(self) -> np.ndarray:
        """The number of day parts each venue is open (0 when not known)."""
        return self.open.sum(axis=1)


def opening_week(values: Sequence[Any]) -> OpeningWeek:
    """:func:`open_day_parts` of every value (each distinct value parsed once)."""
    cache: dict[str, tuple[str, np.ndarray]] = {}
    status, rows = [], []
    for raw in values:
        key = _text(raw)
        if key not in cache:
            cache[key] = open_day_parts(key)
        s, row = cache[key]
        status.append(s)
        rows.append(row)
    matrix = np.array(rows, dtype=bool).reshape(len(rows), len(DAY_PARTS))
    return OpeningWeek(open=matrix, status=np.array(status, dtype=object))


def counted(week: OpeningWeek, meeting: np.ndarray, *, min_dagdelen: int, unknown_counts: bool) -> np.ndarray:
    """The meeting points that count: known and open at least ``min_dagdelen`` day parts, or unknown when allowed.

    An unparseable value is treated as unknown (it is listed in the report either way).
    """
    known = week.status == KNOWN
    return np.asarray(meeting, dtype=bool) & np.where(known, week.n_open >= min_dagdelen, unknown_counts)


def day_part_sets(week: OpeningWeek, counts: np.ndarray, *, unknown_counts: bool) -> list[tuple[np.ndarray, list[str]]]:
    """The distinct sets of meeting points open per day part: (venue mask, day parts with that set), in week order.

    A meeting point that counts is in a day part's set when it is open then, or when its hours
    are not known (unknown or unparseable) and ``unknown_counts``.
    """
    always = np.asarray(counts, dtype=bool) & (week.status != KNOWN) & unknown_counts
    groups: dict[bytes, tuple[np.ndarray, list[str]]] = {}
    for j, part in enumerate(DAY_PARTS):
        mask = (np.asarray(counts, dtype=bool) & week.open[:, j]) | always
        groups.setdefault(mask.tobytes(), (mask, []))[1].append(part)
    return list(groups.values())
