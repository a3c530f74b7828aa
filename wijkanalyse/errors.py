"""Exceptions of wijkanalyse.

Every error a user can cause (a bad config, a missing file, an unreachable service, data
that does not fit) is a :class:`WijkanalyseError`. The CLI turns it into a one-line
message and a non-zero exit, without a traceback. Messages say what to do next.
"""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "SourceError", "WijkanalyseError"]


class WijkanalyseError(Exception):
    """Base class of every error the user can fix."""


class ConfigError(WijkanalyseError, ValueError):
    """The config file is missing, unreadable or invalid (lists every problem at once)."""


class SourceError(WijkanalyseError):
    """A source (CBS, PDOK, OpenStreetMap, a snapshot folder) cannot be read."""


class DataError(WijkanalyseError, ValueError):
    """Data were read but do not fit: a missing column, no venues, no network, a wrong CRS."""
