"""A small client for CBS OData v3 (opendata.cbs.nl/ODataFeed), on :mod:`._http`.

Why not ``cbsodata``: version 1.3.5 sends no timeout, opens a new session per page (so no
retry adapter can be mounted), downloads every metadata table of a table on each call
(the whole national ``WijkenEnBuurten`` dimension, ~17,000 rows), uses the untyped bulk
feed by default and replaces the region codes by their names. The three requests a
snapshot needs are simple; here they share the timeouts, retries, deadline and the
validating cache of every other request.

Requests (``<base>`` = ``https://opendata.cbs.nl/ODataFeed/odata`` by default)::

    <base>/<table>/TypedDataSet?$format=json&$filter=<region filter>
    <base>/<table>/WijkenEnBuurten?$format=json&$filter=<same filter on Key>
    <base>/<table>/DataProperties?$format=json

The region filter is on the ``WijkenEnBuurten`` dimension, as CBS's own examples do
(filtering on a non-dimension column such as ``Codering_3`` is reported to fail with HTTP
500 on large tables). Dimension keys are space-padded to 10 characters, so an exact match
spells the padding (``'GM0233    '``) and wijken and buurten are matched by prefix.

**ODataFeed, not ODataApi.** CBS serves the same tables twice. ``ODataApi`` caps one answer
at 10,000 cells (CBS's own documentation) and answers a larger one with HTTP 500; a large
gemeente (Amsterdam: ~600 rows x ~120 columns) is over it. ``ODataFeed`` has no cap: it
sends the answer in pages, each with an ``odata.nextLink`` to the next one, which
:func:`entity_set` follows (the link already carries ``$format`` and ``$filter``, so nothing
is added to it). A base address on ``ODataApi`` (an older config) still works: the 500
"too large" (:class:`~wijkanalyse.sources._http.AnswerTooLarge`, never retried as is) makes
the same request go to ``ODataFeed`` once, with a line in the log. Paging stops with an
error on a next link seen before (a cycle) and after :data:`MAX_PAGES` pages.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from wijkanalyse.errors import SourceError
from wijkanalyse.sources import _http

__all__ = ["KEY_WIDTH", "CbsTable", "download_kerncijfers", "entity_set", "padded", "region_filter"]

KEY_WIDTH = 10
NATIONAL_KEY = "NL00"
#: Pages of one entity set at most (ODataFeed pages hold 10,000 rows; all of NL is ~17,000 regions).
MAX_PAGES = 200
log = logging.getLogger("wijkanalyse")
_API = re.compile(r"/ODataApi/", re.IGNORECASE)


@dataclass(frozen=True)
class CbsTable:
    """The three entity sets of one gemeente's part of a Kerncijfers table."""

    table: str
    rows: list[dict[str, Any]]  # TypedDataSet: NL00, the gemeente, its wijken and buurten
    regions: list[dict[str, Any]]  # WijkenEnBuurten dimension: Key, Title, ...
    properties: list[dict[str, Any]]  # DataProperties: Key, Title, Type, Unit, ...


def padded(code: str) -> str:
    """A region code as the dimension key CBS stores: left-justified in 10 characters."""
    return code.strip().ljust(KEY_WIDTH)


def region_filter(gemeente: str, field: str = "WijkenEnBuurten", *, national: bool = True) -> str:
    """OData filter for the Netherlands, the gemeente, its wijken and its buurten on dimension ``field``."""
    digits = gemeente.strip()[2:]
    parts = [f"{field} eq '{padded(gemeente)}'"]
    parts += [f"startswith({field},'{prefix}{digits}')" for prefix in ("WK", "BU")]
    if national:
        parts.insert(0, f"{field} eq '{padded(NATIONAL_KEY)}'")
    return " or ".join(parts)


def _expect_entity_set(table: str, name: str) -> _http.Validator:
    """Validator: an OData object with a ``value`` list, of ``table`` (by its odata.metadata)."""

    def validate(body: bytes) -> None:
        _http.expect_json(body)
        doc = json.loads(body)
        if not isinstance(doc.get("value"), list):
            msg = f"een OData-antwoord zonder 'value'-lijst (sleutels: {', '.join(list(doc)[:5])})"
            raise _http.InvalidBody(msg)
        meta = str(doc.get("odata.metadata", ""))
        m = re.search(r"/([0-9A-Za-z]+)/\$metadata", meta)
        if m and m[1].upper() != table.upper():
            msg = f"cijfers van tabel {m[1]} terwijl om {table} gevraagd was"
            raise _http.InvalidBody(msg, retry=False)

    return validate


def entity_set(
    client: _http.Client, base_url: str, table: str, name: str, *, what: str, filter_: str | None = None,
) -> list[dict[str, Any]]:
    """All rows of entity set ``name`` of ``table`` (following ``odata.nextLink`` pages).

    Raises
    ------
    SourceError
        When the service fails (after the retries), sends a next link it sent before or
        keeps paging past :data:`MAX_PAGES`; or refuses the answer as too large on a base
        address that is not ODataApi.
    """
    try:
        return _pages(client, base_url, table, name, what=what, filter_=filter_)
    except _http.AnswerTooLarge:
        if not _API.search(base_url):
            raise
        feed = _API.sub("/ODataFeed/", base_url)
        log.warning("    CBS ODataApi weigert %s als te groot (meer dan 10.000 cellen); opnieuw via %s", what, feed)
        return _pages(client, feed, table, name, what=what, filter_=filter_)


def _pages(
    client: _http.Client, base_url: str, table: str, name: str, *, what: str, filter_: str | None,
) -> list[dict[str, Any]]:
    url: str | None = f"{base_url.rstrip('/')}/{table}/{name}"
    params: dict[str, Any] | None = {"$format": "json"}
    if filter_:
        assert params is not None
        params["$filter"] = filter_
    rows: list[dict[str, Any]] = []
    validate = _expect_entity_set(table, name)
    seen: set[str] = set()
    for page in range(1, MAX_PAGES + 1):
        assert url is not None
        body = client.get(url, params, what=what if page == 1 else f"{what}, blad {page}", validate=validate,
                          suffix="json")
        doc = json.loads(body)
        rows.extend(r for r in doc["value"] if isinstance(r, dict))
        seen.add(url if params is None else f"{url}?{sorted(params.items())}")
        link = doc.get("odata.nextLink")
        if not link:
            return rows
        if not isinstance(link, str) or link in seen:
            msg = (f"CBS stuurde voor {what} een vervolgpagina die al gehaald was ({str(link)[:120]}): "
                   "de server loopt in een kring. Probeer het later opnieuw of kies een ander services.cbs_odata_url.")
            raise SourceError(msg)
        url, params = link, None
    msg = (f"CBS bleef voor {what} vervolgpagina's sturen (meer dan {MAX_PAGES}). "
           "Controleer services.cbs_odata_url.")
    raise SourceError(msg)


def download_kerncijfers(client: _http.Client, base_url: str, table: str, gemeente: str) -> CbsTable:
    """The rows, region names and column descriptions of ``gemeente`` (and NL00) in ``table``."""
    rows = entity_set(
        client, base_url, table, "TypedDataSet", what=f"CBS-tabel {table} ({gemeente})",
        filter_=region_filter(gemeente),
    )
    regions = entity_set(
        client, base_url, table, "WijkenEnBuurten", what=f"CBS-regionamen {table}",
        filter_=region_filter(gemeente, "Key"),
    )
    properties = entity_set(client, base_url, table, "DataProperties", what=f"CBS-kolommen {table}")
    return CbsTable(table=table, rows=rows, regions=regions, properties=properties)
