"""A stand-in for CBS OData, PDOK WFS and Overpass on 127.0.0.1, with faults on demand.

It answers in the services' real formats: CBS OData v3 JSON (``odata.metadata`` + ``value``,
``$filter`` on the space-padded ``WijkenEnBuurten`` keys evaluated for ``eq`` and
``startswith``), PDOK WFS 2.0 GeoJSON (``numberMatched``/``numberReturned``, ``count`` and
``startIndex``, a page cap like PDOK's 1,000) and Overpass OSM XML. Faults are queued per
service and used up in order.

CBS is served twice, as CBS does: ``/cbs/ODataApi/odata/<table>/<entity set>`` refuses an
answer of more than ``api_cell_cap`` cells (rows x columns; CBS: 10,000) with HTTP 500 and an
OData error, and ``/cbs/ODataFeed/odata/...`` has no cap but sends ``feed_page_rows`` rows a
page (CBS: 10,000) with an ``odata.nextLink`` (the whole query plus ``$skip``) to the next.

PDOK answers ``request=GetCapabilities`` (service ``"capabilities"``) with a WFS 2.0
capabilities document listing the gemeenten, wijken and buurten layers under each year's
real names (:data:`PDOK_LAYERS`), and a GetFeature for any other buurt type name with an
OGC ExceptionReport (HTTP 400), as PDOK does. Overpass sits at ``/overpass/api/interpreter``
with its ``/overpass/api/status`` page (service ``"overpass-status"``, text
``overpass_status``). The User-Agent of every request is kept in ``user_agents``, the body of every POST in ``posted``.

Faults:

``("status", code, headers)``  an HTTP error (e.g. 429 with ``Retry-After``, 503)
``"stall"``                    accept the request, then say nothing until the client gives up
``"truncate"``                 send a Content-Length and half the body, then hang up
``"html"``                     a 200 HTML maintenance page
``"remark"``                   (Overpass) a 200 OSM document with a "Query timed out" remark
``("remark", text)``           (Overpass) the same with another remark text
``"selflink"``                 (CBS ODataFeed) a page whose ``odata.nextLink`` points at itself
``"trickle"``                  the real answer, one byte every ``trickle_s`` seconds (until it stops)
``("trickle", n)``             the same with a pause of ``stall_s`` seconds after ``n`` bytes
``"redirect"``                 HTTP 302 to the same address (a redirect loop, as long as it lasts)

More gemeenten (``gemeenten=``, e.g. from :func:`gemeenten_from_snapshots`) add their
CBS rows and region names to the table and answer the PDOK buurten filter on their code
and the grid ``bbox`` with their own cells.

The server is bounded: it serves at most ``max_requests`` requests and stops by itself
after ``lifetime_s`` seconds; stalled handlers are released when it stops.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import geopandas as gpd
from shapely.geometry import box

DATA = Path(__file__).parent / "data"
_CLAUSE = re.compile(r"^(?:(\w+) eq '([^']*)'|startswith\((\w+),'([^']*)'\))$")
OVERPASS_REMARK = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="Overpass API">\n'
    b'<note>The data included in this document is from www.openstreetmap.org.</note>\n'
    b'<node id="1" lat="52.1" lon="5.3"/>\n'
    b'<remark> runtime error: Query timed out in "query" at line 3 after 301 seconds. </remark>\n</osm>\n'
)


#: The layers of PDOK's wijken-en-buurten WFS per year as public code that queries the live
#: services names them (2019-2021 not confirmed live): gemeenten, wijken, buurten. Kept here,
#: apart from the code under test, so that a wrong name in wijkanalyse fails the tests.
PDOK_LAYERS: dict[int, tuple[str, str, str]] = {
    2019: ("wijkenbuurten2019:gemeenten2019", "wijkenbuurten2019:cbs_wijken_2019", "wijkenbuurten2019:cbs_buurten_2019"),
    2020: ("wijkenbuurten2020:gemeenten2020", "wijkenbuurten2020:cbs_wijken_2020", "wijkenbuurten2020:cbs_buurten_2020"),
    2021: ("gemeenten2021", "cbs_wijken_2021", "cbs_buurten_2021"),
    **{year: ("wijkenbuurten:gemeenten", "wijkenbuurten:wijken", "wijkenbuurten:buurten") for year in range(2022, 2026)},
}
CBS_TOO_LARGE = (
    '{"odata.error": {"code": "", "message": {"lang": "nl-NL", "value": '
    '"The response exceeds the limit of 10000 cells. Use the ODataFeed or a narrower $filter/$select."}}}'
)  # the wording is a stand-in (CBS's exact text is not confirmed); the status and the limit are CBS's


def capabilities_xml(year: int, layers: tuple[str, ...] | None = None) -> bytes:
    """A WFS 2.0 GetCapabilities document of PDOK's wijken-en-buurten service of ``year``."""
    layers = PDOK_LAYERS.get(year, ()) if layers is None else layers
    types = "".join(
        f"""
    <wfs:FeatureType>
      <wfs:Name>{name}</wfs:Name>
      <wfs:Title>{name.rsplit(":", 1)[-1]}</wfs:Title>
      <wfs:DefaultCRS>urn:ogc:def:crs:EPSG::28992</wfs:DefaultCRS>
      <wfs:OtherCRS>urn:ogc:def:crs:EPSG::4326</wfs:OtherCRS>
      <wfs:OutputFormats><wfs:Format>application/json; subtype=geojson</wfs:Format></wfs:OutputFormats>
      <ows:WGS84BoundingBox><ows:LowerCorner>3.2 50.7</ows:LowerCorner><ows:UpperCorner>7.3 53.6</ows:UpperCorner></ows:WGS84BoundingBox>
    </wfs:FeatureType>""" for name in layers)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<wfs:WFS_Capabilities xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:ows="http://www.opengis.net/ows/1.1"
    xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:fes="http://www.opengis.net/fes/2.0" version="2.0.0">
  <ows:ServiceIdentification>
    <ows:Title>CBS Wijken en Buurten {year}</ows:Title>
    <ows:ServiceType codeSpace="OGC">WFS</ows:ServiceType>
    <ows:ServiceTypeVersion>2.0.0</ows:ServiceTypeVersion>
  </ows:ServiceIdentification>
  <ows:OperationsMetadata>
    <ows:Operation name="GetCapabilities"/><ows:Operation name="DescribeFeatureType"/><ows:Operation name="GetFeature"/>
  </ows:OperationsMetadata>
  <wfs:FeatureTypeList>{types}
  </wfs:FeatureTypeList>
</wfs:WFS_Capabilities>
""".encode()


def _exception_report(text: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1" '
            f'version="2.0.0"><ows:Exception exceptionCode="InvalidParameterValue" locator="typeNames">'
            f"<ows:ExceptionText>{text}</ows:ExceptionText></ows:Exception></ows:ExceptionReport>").encode()


def odata_filter(expression: str) -> Any:
    """A predicate for rows from the OData ``$filter`` forms wijkanalyse sends (``or`` of ``eq``/``startswith``)."""
    clauses = []
    for part in expression.split(" or "):
        m = _CLAUSE.match(part.strip())
        if not m:
            msg = f"unsupported filter clause {part!r}"
            raise ValueError(msg)
        clauses.append(m.groups())

    def keep(row: dict[str, Any]) -> bool:
        for eq_field, eq_value, sw_field, prefix in clauses:
            if eq_field and str(row.get(eq_field)) == eq_value:
                return True
            if sw_field and str(row.get(sw_field, "")).startswith(prefix):
                return True
        return False

    return keep


def load_cbs(table: str) -> dict[str, list[dict[str, Any]]]:
    """The fixture entity sets of ``table`` from tests/data/cbs/<table>/."""
    return {
        entity: json.loads((DATA / "cbs" / table / f"{entity}.json").read_text(encoding="utf-8"))["value"]
        for entity in ("TypedDataSet", "WijkenEnBuurten", "DataProperties")
    }


def buurt_features() -> list[dict[str, Any]]:
    """Four buurten of Proefgemeente (GM0999) tiling 154900-155400 x 462900-463300 (RD)."""
    names = ["Noord", "Oost", "Zuid", "West"]
    boxes = [box(154900, 463100, 155150, 463300), box(155150, 463100, 155400, 463300),
             box(155150, 462900, 155400, 463100), box(154900, 462900, 155150, 463100)]
    gdf = gpd.GeoDataFrame(
        {"buurtcode": [f"BU099901{i:02d}" for i in range(1, 5)], "buurtnaam": names,
         "wijkcode": ["WK099901"] * 4, "gemeentecode": ["GM0999"] * 4, "gemeentenaam": ["Proefgemeente"] * 4,
         "water": ["NEE"] * 4},
        geometry=boxes, crs=28992,
    )
    features = json.loads(gdf.to_json())["features"]
    for i, feature in enumerate(features):
        feature["id"] = f"buurten.{i + 1}"
    return features


def grid_features(n: int = 1, *, residents: int = 300) -> list[dict[str, Any]]:
    """``n`` inhabited 100 m cells (PDOK's camelCase names); the first at 155200,463000."""
    cells = [box(155200 + 100 * (i % 50), 463000 + 100 * (i // 50), 155300 + 100 * (i % 50), 463100 + 100 * (i // 50))
             for i in range(n)]
    gdf = gpd.GeoDataFrame(
        {"crs28992res100m": [f"E{int(c.bounds[0])}N{int(c.bounds[1])}" for c in cells],
         "aantalInwoners": [residents] * n},
        geometry=cells, crs=28992,
    )
    features = json.loads(gdf.to_json())["features"]
    for i, feature in enumerate(features):
        feature["id"] = f"vierkant_100m.{i + 1}"
    return features


class FakeServices:
    """The three services on one loopback port (see the module docstring)."""

    def __init__(
        self, *, tables: tuple[str, ...] = ("85984NED",), grid: list[dict[str, Any]] | None = None, page_cap: int = 1000,
        number_matched: bool = True, max_requests: int = 400, lifetime_s: float = 60.0, stall_s: float = 5.0,
        gemeenten: dict[str, dict[str, Any]] | None = None, api_cell_cap: int = 10_000, feed_page_rows: int = 10_000,
    ) -> None:
        self.cbs = {table: load_cbs(table) for table in tables}
        self.gemeenten = gemeenten or {}
        for extra in self.gemeenten.values():
            for table in self.cbs:
                self.cbs[table]["TypedDataSet"] = self.cbs[table]["TypedDataSet"] + extra["rows"]
                self.cbs[table]["WijkenEnBuurten"] = self.cbs[table]["WijkenEnBuurten"] + extra["regions"]
        self.buurten = buurt_features()
        self.grid = grid_features() if grid is None else grid
        self.osm = (DATA / "omweg.osm").read_bytes()
        self.page_cap = page_cap
        self.api_cell_cap = api_cell_cap
        self.trickle_s = 0.05
        self.feed_page_rows = feed_page_rows
        self.capabilities: dict[int, bytes] = {}  # a year's document other than capabilities_xml(year)
        self.overpass_status = (
            "Connected as: 2130706433\nCurrent time: 2025-05-01T10:00:00Z\nAnnounced endpoint: none\n"
            "Rate limit: 2\n2 slots available now.\nCurrently running queries (pid, space limit, time limit, start time):\n"
        )
        self.user_agents: list[str] = []
        self.posted: list[str] = []  # the bodies of POST requests (Overpass queries), in order
        self.number_matched = number_matched
        self.max_requests = max_requests
        self.lifetime_s = lifetime_s
        self.stall_s = stall_s
        self.faults: dict[str, list[Any]] = {"cbs": [], "buurten": [], "grid": [], "overpass": [], "capabilities": []}
        self.log: list[tuple[str, str, dict[str, list[str]]]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> FakeServices:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                owner._handle(self, "GET")

            def do_POST(self) -> None:
                owner._handle(self, "POST")

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that hangs up (as the tests make it) is no error here

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.lifetime_s, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving and release stalled handlers (safe to call twice)."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._timer.cancel()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def config_toml(self, **settings: float) -> str:
        """A config ``[services]`` table pointing at this server, with short timeouts and backoff."""
        values = {"connect_timeout_s": 2, "read_timeout_s": 0.5, "deadline_s": 20, "retries": 3, "backoff_s": 0.01,
                  "wfs_page_size": 1000, **settings}
        lines = [
            "[services]",
            f'cbs_odata_url = "{self.url}/cbs/ODataFeed/odata"',
            f'pdok_buurten_wfs_url = "{self.url}/pdok/wijkenbuurten/{{year}}/wfs/v1_0"',
            f'pdok_grid_wfs_url = "{self.url}/pdok/vierkant/{{year}}/wfs/v1_0"',
            f'overpass_url = "{self.url}/overpass/api/interpreter"',
            *(f"{k} = {v}" for k, v in values.items()),
        ]
        return "\n".join(lines) + "\n"

    def requests_to(self, service: str) -> int:
        """How many requests reached ``service`` ('cbs', 'buurten', 'grid', 'overpass')."""
        return sum(1 for s, _, _ in self.log if s == service)

    # ------------------------------------------------------------------ answers

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query)
        posted = b""
        if method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            posted = handler.rfile.read(length)
        capabilities = any(k.lower() == "request" and v[0].lower() == "getcapabilities" for k, v in query.items())
        service = ("cbs" if parts.path.startswith("/cbs/")
                   else ("capabilities" if capabilities else "buurten") if "wijkenbuurten" in parts.path
                   else "grid" if "vierkant" in parts.path
                   else "overpass-status" if parts.path.startswith("/overpass/api/status")
                   else "overpass" if parts.path.startswith("/overpass") else "other")
        with self._lock:
            self.log.append((service, parts.path, query))
            self.user_agents.append(handler.headers.get("User-Agent", ""))
            if posted:
                self.posted.append(posted.decode("utf-8", "replace"))
            over = len(self.log) > self.max_requests
            fault = self.faults.get(service, []).pop(0) if self.faults.get(service) else None
        if over:
            threading.Thread(target=self.stop, daemon=True).start()
            handler.close_connection = True
            return
        if not self._fault_answered(handler, service, fault):
            status, body, ctype = self._answer(service, parts.path, query, selflink=fault == "selflink")
            if fault in ("trickle", "truncate") or (isinstance(fault, tuple) and fault[0] == "trickle"):
                self._send_partly(handler, status, body, ctype, trickle=fault != "truncate",
                                  then_stall=fault[1] if isinstance(fault, tuple) else None)
            else:
                self._send(handler, status, body, ctype)

    def _fault_answered(self, handler: BaseHTTPRequestHandler, service: str, fault: Any) -> bool:
        """Answer a fault that replaces the real answer; False when the real answer is to be sent."""
        if fault == "stall":
            self._stop.wait(self.stall_s)
            handler.close_connection = True
        elif isinstance(fault, tuple) and fault[0] == "status":
            _, code, headers = fault
            self._send(handler, code, b"busy", "text/plain", headers)
        elif fault == "redirect":
            with self._lock:
                self.faults[service].insert(0, "redirect")  # every follow-up lands here again
            self._send(handler, 302, b"", "text/plain", {"Location": handler.path})
        elif fault == "html":
            self._send(handler, 200, b"<!DOCTYPE html><html><body><h1>Onderhoud</h1></body></html>", "text/html")
        elif fault == "remark":
            self._send(handler, 200, OVERPASS_REMARK, "application/osm3s+xml")
        elif isinstance(fault, tuple) and fault[0] == "remark":
            body = OVERPASS_REMARK.replace(b'Query timed out in "query" at line 3 after 301 seconds.', fault[1].encode())
            self._send(handler, 200, body, "application/osm3s+xml")
        else:
            return False
        return True

    def _send_partly(
        self, handler: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str, *, trickle: bool,
        then_stall: int | None = None,
    ) -> None:
        """The headers of the whole body, then half of it (truncate) or a byte every ``trickle_s`` (trickle;
        a pause of ``stall_s`` after ``then_stall`` bytes)."""
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            if not trickle:
                handler.wfile.write(body[: len(body) // 2])
                handler.wfile.flush()
            for i in range(len(body) if trickle else 0):
                if self._stop.wait(self.trickle_s):
                    break
                if i == then_stall and self._stop.wait(self.stall_s):
                    break
                handler.wfile.write(body[i:i + 1])
                handler.wfile.flush()
        except OSError:  # the client gave up
            pass
        handler.close_connection = True

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _answer(
        self, service: str, path: str, query: dict[str, list[str]], *, selflink: bool = False,
    ) -> tuple[int, bytes, str]:
        if service == "cbs":
            return self._cbs(path, query, selflink=selflink)
        year_match = re.search(r"/(\d{4})/", path)
        year = int(year_match[1]) if year_match else 0
        if service == "capabilities":
            body = self.capabilities.get(year) or capabilities_xml(year)
            return 200, body, "text/xml; charset=UTF-8"
        if service == "buurten":
            asked = next((v[0] for k, v in query.items() if k.lower() in ("typenames", "typename")), "")
            if year in PDOK_LAYERS and asked != PDOK_LAYERS[year][2]:
                return 400, _exception_report(f"Unknown feature type {asked!r}"), "text/xml; charset=UTF-8"
        if service in ("buurten", "grid"):
            features = self.buurten if service == "buurten" else self.grid
            if service == "buurten" and "filter" in query and "GM0999" not in query["filter"][0]:
                features = next((g["buurten"] for code, g in self.gemeenten.items() if code in query["filter"][0]), [])
            if service == "grid" and self.gemeenten and "bbox" in query:
                features = _in_bbox([f for g in self.gemeenten.values() for f in g["grid"]], query["bbox"][0])
            start = int(query.get("startIndex", ["0"])[0])
            count = min(int(query.get("count", [str(self.page_cap)])[0]), self.page_cap)
            page = features[start:start + count]
            doc: dict[str, Any] = {"type": "FeatureCollection", "features": page}
            if self.number_matched:
                doc = {"type": "FeatureCollection", "numberMatched": len(features), "numberReturned": len(page),
                       "features": page}
            return 200, json.dumps(doc).encode(), "application/json; subtype=geojson"
        return self._overpass(service)

    def _overpass(self, service: str) -> tuple[int, bytes, str]:
        if service == "overpass":
            return 200, self.osm, "application/osm3s+xml"
        if service == "overpass-status":
            return 200, self.overpass_status.encode(), "text/plain; charset=utf-8"
        return 404, b"not found", "text/plain"

    def _cbs(self, path: str, query: dict[str, list[str]], *, selflink: bool) -> tuple[int, bytes, str]:
        m = re.fullmatch(r"/cbs/(ODataApi|ODataFeed)/odata/(\w+)/(\w+)", path)
        if not m:
            return 404, b'{"odata.error": {"message": {"value": "Resource not found"}}}', "application/json"
        kind, table, entity = m.groups()
        if table not in self.cbs or entity not in self.cbs[table]:
            return 404, b'{"odata.error": {"message": {"value": "Resource not found"}}}', "application/json"
        rows = self.cbs[table][entity]
        if "$filter" in query:
            rows = [r for r in rows if odata_filter(query["$filter"][0])(r)]
        doc: dict[str, Any] = {
            "odata.metadata": f"https://opendata.cbs.nl/{kind}/OData/{table}/$metadata#Cbs.OData.WebAPI.{entity}",
        }
        if kind == "ODataApi":
            cells = len(rows) * (len(rows[0]) if rows else 0)
            if cells > self.api_cell_cap:
                return 500, CBS_TOO_LARGE.encode(), "application/json; charset=utf-8"
            doc["value"] = rows
            return 200, json.dumps(doc).encode(), "application/json; charset=utf-8"
        skip = int(query.get("$skip", ["0"])[0])
        doc["value"] = rows[skip:skip + self.feed_page_rows]
        if skip + self.feed_page_rows < len(rows) or selflink:
            params = {k: v[0] for k, v in query.items() if k != "$skip"}
            params["$skip"] = str(skip if selflink else skip + self.feed_page_rows)
            doc["odata.nextLink"] = f"{self.url}{path}?{urlencode(params)}"
        return 200, json.dumps(doc).encode(), "application/json; charset=utf-8"


def _in_bbox(features: list[dict[str, Any]], bbox: str) -> list[dict[str, Any]]:
    """The features whose first coordinate lies in a WFS ``bbox`` (xmin,ymin,xmax,ymax,crs)."""
    xmin, ymin, xmax, ymax = (float(v) for v in bbox.split(",")[:4])
    out = []
    for feature in features:
        x, y = feature["geometry"]["coordinates"][0][0][:2]
        if xmin <= x <= xmax and ymin <= y <= ymax:
            out.append(feature)
    return out


def gemeenten_from_snapshots(folders: list[Path]) -> dict[str, dict[str, Any]]:
    """What the fake server needs to serve the gemeenten of snapshot folders (CBS rows, buurten, grid)."""
    out = {}
    for folder in folders:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        code = manifest["gemeente"]["code"]
        rows = json.loads((folder / "cbs_kerncijfers.json").read_text(encoding="utf-8"))["value"]
        buurten = json.loads(gpd.read_file(folder / "buurten.gpkg").to_json())["features"]
        grid = json.loads(gpd.read_file(folder / "vierkant100m.gpkg").to_json())["features"]
        regions = [{"Key": r["WijkenEnBuurten"], "Title": f"Naam {r['WijkenEnBuurten'].strip()}"} for r in rows]
        regions[0]["Title"] = manifest["gemeente"]["name"]
        out[code] = {"rows": rows, "regions": regions, "buurten": buurten, "grid": grid}
    return out
