"""The one seam for data: every byte from CBS, PDOK or OpenStreetMap comes through here.

- :class:`~wijkanalyse.sources.files.SnapshotReader` reads a snapshot folder (offline).
- :func:`~wijkanalyse.sources.live.download_snapshot` fills a snapshot folder from the live
  services (CBS OData, PDOK, Overpass), with a cache; it is the only code that uses the
  network.
- :func:`~wijkanalyse.sources.national.download_snapshots` does that for many gemeenten at
  once: the CBS table fetched once, one pass over a national ``.osm.pbf``
  (:func:`~wijkanalyse.sources.osm.read_osm_clips`).

The pipeline only ever reads snapshots, so a live run is "download, then read the folder".
"""

from __future__ import annotations

from wijkanalyse.sources.files import SnapshotReader

__all__ = ["SnapshotReader"]
