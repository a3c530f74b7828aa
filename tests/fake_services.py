"""A stand-in for CBS OData, PDOK WFS and Overpass on 127.0.0.1, with faults on demand.

It answers in the services' real formats: CBS OData v3 JSON (``odata.metadata`` + ``value``,
``$filter`` on the space-padded ``WijkenEnBuurten`` keys evaluated for ``eq`` and
``startswith``), PDOK WFS 2.0 GeoJSON (``numberMatched``/``numberReturned``, ``count`` and
``startIndex``, a page cap like PDOK's 1,000) and Overpass OSM XML. Faults are queued per
service and used up in order:

``("status", code, headers)``  an HTTP error (e.g. 429 with ``Retry-After``, 503)
``"stall"``                    accept the request, then say nothing until the client gives up
``"truncate"``                 send a Content-Length and half the body, then hang up
``"html"``                     a 200 HTML maintenance page
``"remark"``                   (Overpass) a 200 OSM document with a runtime-error remark

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
from urllib.parse import parse_qs, urlsplit

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
        gemeenten: dict[str, dict[str, Any]] | None = None,
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
        self.number_matched = number_matched
        self.max_requests = max_requests
        self.lifetime_s = lifetime_s
        self.stall_s = stall_s
        self.faults: dict[str, list[Any]] = {"cbs": [], "buurten": [], "grid": [], "overpass": []}
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
            f'cbs_odata_url = "{self.url}/cbs"',
            f'pdok_buurten_wfs_url = "{self.url}/pdok/wijkenbuurten/{{year}}/wfs/v1_0"',
            f'pdok_grid_wfs_url = "{self.url}/pdok/vierkant/{{year}}/wfs/v1_0"',
            f'overpass_url = "{self.url}/overpass"',
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
        if method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            handler.rfile.read(length)
        service = ("cbs" if parts.path.startswith("/cbs/") else "buurten" if "wijkenbuurten" in parts.path
                   else "grid" if "vierkant" in parts.path else "overpass" if parts.path.startswith("/overpass")
                   else "other")
        with self._lock:
            self.log.append((service, parts.path, query))
            over = len(self.log) > self.max_requests
            fault = self.faults.get(service, []).pop(0) if self.faults.get(service) else None
        if over:
            threading.Thread(target=self.stop, daemon=True).start()
            handler.close_connection = True
            return
        if fault == "stall":
            self._stop.wait(self.stall_s)
            handler.close_connection = True
            return
        if isinstance(fault, tuple) and fault[0] == "status":
            _, code, headers = fault
            self._send(handler, code, b"busy", "text/plain", headers)
            return
        if fault == "html":
            self._send(handler, 200, b"<!DOCTYPE html><html><body><h1>Onderhoud</h1></body></html>", "text/html")
            return
        if fault == "remark":
            self._send(handler, 200, OVERPASS_REMARK, "application/osm3s+xml")
            return
        status, body, ctype = self._answer(service, parts.path, query)
        if fault == "truncate":
            handler.send_response(status)
            handler.send_header("Content-Type", ctype)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return
        self._send(handler, status, body, ctype)

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

    def _answer(self, service: str, path: str, query: dict[str, list[str]]) -> tuple[int, bytes, str]:
        if service == "cbs":
            _, _, table, entity = path.split("/", 3)
            if table not in self.cbs or entity not in self.cbs[table]:
                return 404, b'{"odata.error": {"message": {"value": "Resource not found"}}}', "application/json"
            rows = self.cbs[table][entity]
            if "$filter" in query:
                rows = [r for r in rows if odata_filter(query["$filter"][0])(r)]
            doc = {"odata.metadata": f"https://opendata.cbs.nl/ODataApi/OData/{table}/$metadata#Cbs.OData.WebAPI.{entity}",
                   "value": rows}
            return 200, json.dumps(doc).encode(), "application/json; charset=utf-8"
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
        if service == "overpass":
            return 200, self.osm, "application/osm3s+xml"
        return 404, b"not found", "text/plain"


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
