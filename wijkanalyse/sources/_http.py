"""HTTP with retries, deadlines and a cache that never poisons: the only network code.

Every request of a live download (CBS OData, PDOK WFS, Overpass) goes through one
:class:`Client`:

- **timeouts**: a connect and a read timeout on every attempt, and an overall deadline
  for one request including all its retries and the reading of the body. The deadline is
  hard: before every read the socket's timeout is set to the read timeout or the time
  left, whichever is shorter, so a server that trickles bytes (or trickles, then stalls)
  is cut off at the deadline itself, not one read timeout later;
- **bounded answers**: every answer is streamed to a temporary file beside its place in
  the cache (``.<sha1>.<random>.tmp<ext>``), never held whole in memory while it comes in,
  and cut off past ``max_body_bytes`` (not retried: the same request gets the same answer).
  It is renamed into place only once complete and valid; a failed or interrupted download
  removes it (a killed one is swept by the next client). :meth:`Client.get_file` /
  :meth:`Client.post_file` hand back the cached file itself, checked by a validator that
  reads the file in pieces (:func:`expect_osm_xml_file`), so a large Overpass answer never
  sits in memory; :meth:`Client.get` / :meth:`Client.post` return the bytes (JSON answers,
  which CBS and PDOK send in pages of at most 10,000 rows / 1,000 features);
- **retries** with exponential backoff (``backoff_s``, doubling) on HTTP 429, 408 and 5xx,
  on a connection dropped or stalled mid-answer, on a body shorter than its
  Content-Length and on a body that does not parse as what was asked; a ``Retry-After``
  header is honoured (and a wait beyond the deadline ends the request at once). A 429
  without ``Retry-After`` (Overpass sends none) waits at least ``rate_limit_wait_s``
  (30 s; Overpass asks for that), or longer when the request's ``rate_limit_wait`` hook
  (Overpass: its ``/api/status``) says so. A host that cannot be reached at all (no route,
  no DNS) fails at once (:class:`Unreachable`): that is rarely transient. An HTTP 500 whose
  body says the answer is too large (CBS ODataApi's cap of 10,000 cells) is not retried
  (:class:`AnswerTooLarge`): the same request gets the same refusal. A validator may limit
  the retries of one fault (:class:`InvalidBody` ``retries``): an Overpass "Query timed
  out" remark is retried once, as resending a heavy query mostly times out again. One
  clear line is raised after the last try (:class:`SourceError`);
- **a cache that never poisons**: a body is saved (as ``<cache>/http/<sha1>.<ext>``, by
  renaming its complete temporary file) only after it passed the request's validator
  (JSON, GeoJSON, OSM XML without an Overpass error remark). A cache folder that cannot be
  written is named once; the answers then go to a private temporary folder that is
  removed when the client closes. A cached file is validated again
  when read; a bad one is named in the log, removed and downloaded again.
  ``refresh=True`` downloads everything again.

The retry loop is tenacity's (``stop_after_attempt | stop_before_delay``, a custom wait
that prefers ``Retry-After``): urllib3's ``Retry`` cannot retry a body that breaks off
after the headers or that fails validation, and those are the failures seen in practice.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import logging
import os
import pyexpat
import re
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, cast
from urllib.parse import urlsplit

import tenacity

from wijkanalyse import __version__, _atomic
from wijkanalyse._format import format_number
from wijkanalyse.errors import SourceError

__all__ = [
    "USER_AGENT",
    "AnswerTooLarge",
    "Client",
    "HttpSettings",
    "InvalidBody",
    "Unreachable",
    "cache_key",
    "default_cache_dir",
    "expect_geojson",
    "expect_json",
    "expect_osm_xml",
    "expect_osm_xml_file",
]

log = logging.getLogger("wijkanalyse")
#: Names the project and where to reach it, as Overpass and the OSMF ask of every client
#: (``services.contact`` adds the user's own address, see :func:`user_agent`).
USER_AGENT = f"wijkanalyse/{__version__} (+https://pypi.org/project/wijkanalyse)"
_CHUNK = 1 << 16
#: Bytes of a file per call of a validator that reads it in pieces.
_FILE_CHUNK = 1 << 20
#: Status codes worth another try.
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
Validator = Callable[[bytes], None]
#: A validator of an answer on disk (:meth:`Client.get_file`): reads the file in pieces.
FileValidator = Callable[[Path], None]


@dataclass(frozen=True)
class HttpSettings:
    """Timeouts and retry policy of every request (``[services]`` in the config)."""

    connect_timeout_s: float = 10.0
    read_timeout_s: float = 180.0
    deadline_s: float = 900.0
    retries: int = 4
    backoff_s: float = 2.0
    backoff_max_s: float = 120.0
    rate_limit_wait_s: float = 30.0
    user_agent: str = USER_AGENT
    max_body_bytes: int = 2 << 30  # one answer at most (streamed to disk): 2 GiB


def user_agent(contact: str = "") -> str:
    """The User-Agent header: the project, its page and (when given) the user's own contact address."""
    contact = " ".join(contact.split())
    return f"{USER_AGENT[:-1]}; {contact})" if contact else USER_AGENT


class Unreachable(SourceError):
    """The host cannot be reached at all (no network, no DNS, no route)."""


class AnswerTooLarge(SourceError):
    """The service refused the request because its answer would be too large (not retried)."""


class InvalidBody(Exception):
    """A response body that is not what was asked for; ``retry`` says whether trying again can help.

    ``retries`` limits the tries again for this fault (below the client's ``retries``), and
    ``give_up`` is then the one-line error raised when they are used up (e.g. an Overpass
    query that timed out: once more at most, then advice).
    """

    def __init__(self, reason: str, *, retry: bool = True, retries: int | None = None, give_up: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.retries = retries
        self.give_up = give_up


class _DiskError(Exception):
    """The answer's temporary file could not be written or read (not a network fault)."""

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(str(error))
        self.path = path
        self.error = error


class _Retryable(Exception):
    """One failed attempt that another attempt may fix."""

    def __init__(self, reason: str, retry_after: float | None = None, *, rate_limited: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.rate_limited = rate_limited


@dataclass(frozen=True)
class _Request:
    """One request as asked: what is sent, and what it is for (in messages)."""

    method: str
    url: str
    params: dict[str, Any] | None
    data: str | None
    what: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc or self.url


def default_cache_dir() -> Path:
    """``$WIJKANALYSE_CACHE`` or ``~/.cache/wijkanalyse``."""
    env = os.environ.get("WIJKANALYSE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "wijkanalyse"


def cache_key(method: str, url: str, params: dict[str, Any] | None, data: str | None) -> str:
    """SHA-1 of the method, URL, sorted parameters and body: the name of a cached response."""
    blob = json.dumps([method, url, sorted((params or {}).items()), data], default=str)
    return hashlib.sha1(blob.encode()).hexdigest()  # noqa: S324 (a cache key, not security)


# --------------------------------------------------------------------------- validators


def _snippet(body: bytes, limit: int = 120) -> str:
    """The start of a body as one short, printable line (for messages; never trusted)."""
    text = body[:2000].decode("utf-8", "replace")
    text = re.sub(r"<[^>]{0,200}>", " ", text) if text.lstrip().startswith("<") else text
    text = " ".join(text.split())
    return repr(text[:limit] + ("..." if len(text) > limit else ""))


def _exception_report(body: bytes) -> str | None:
    """The text of an OGC ExceptionReport (PDOK's error answer), if ``body`` is one."""
    head = body[:4000].decode("utf-8", "replace")
    if "ExceptionReport" not in head and "ServiceExceptionReport" not in head:
        return None
    m = re.search(r"<(?:\w+:)?(?:ExceptionText|ServiceException)[^>]*>(.*?)</", head, flags=re.DOTALL)
    return " ".join((m[1] if m else head).split())[:200]


#: Words of a refusal because the answer is too large. CBS's exact text is not confirmed (no
#: access from here), so the known phrasings are matched: a limit of 10,000 (records, cells)
#: or "too large" / "te groot".
_TOO_LARGE = re.compile(
    r"10[.,]?000|\b(?:too (?:large|big|many)|te (?:groot|veel)|exceeds?|overschrijdt|limit|limiet)\b", re.IGNORECASE,
)


def _error_text(body: bytes) -> str:
    """The message of an OData JSON error (or the start of the body) as one line."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _exception_report(body) or _snippet(body, 200)
    error = doc.get("odata.error") or doc.get("error") if isinstance(doc, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    text = message.get("value") if isinstance(message, dict) else message
    return " ".join(str(text or _snippet(body, 200)).split())[:300]


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        if report := _exception_report(body):
            raise InvalidBody(f"de dienst antwoordde met een fout: {report!r}", retry=False) from e
        kind = "een HTML-pagina" if body.lstrip()[:1] == b"<" else "geen JSON"
        raise InvalidBody(f"{kind} in plaats van JSON ({len(body)} bytes, begint met {_snippet(body)})") from e


def expect_json(body: bytes) -> None:
    """Accept a JSON object (CBS OData answers are objects with a ``value`` list)."""
    doc = _parse_json(body)
    if not isinstance(doc, dict):
        raise InvalidBody(f"JSON die geen object is (begint met {_snippet(body)})")
    if isinstance(doc.get("odata.error"), dict) or isinstance(doc.get("error"), dict):
        error = doc.get("odata.error") or doc.get("error") or {}
        message = error.get("message")
        text = message.get("value") if isinstance(message, dict) else message
        raise InvalidBody(f"de dienst antwoordde met een fout: {str(text)[:200]!r}", retry=False)


def expect_geojson(body: bytes) -> None:
    """Accept a GeoJSON FeatureCollection (a WFS GetFeature answer in ``application/json``)."""
    doc = _parse_json(body)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise InvalidBody(f"JSON die geen GeoJSON-FeatureCollection is (begint met {_snippet(body)})")


#: Bytes per expat call of expect_osm_xml's check (expat takes at most 2 GiB at once).
_CHUNK_CHECK = 1 << 24


def expect_osm_xml(body: bytes) -> None:
    """Accept complete OSM XML (``<osm>`` root) without an Overpass error ``<remark>``.

    Overpass answers a query that ran out of time or memory with status 200 and a
    ``<remark>runtime error: ...</remark>`` in an otherwise valid, but incomplete, document.

    A body without ``<remark`` (every good answer) is checked by expat alone: one Python
    call for the root element, then no handlers, so the well-formedness check of the rest
    runs in C without building elements (about 10 x faster than the element events on a
    large osm.xml). A body with ``<remark`` (a literal ``<`` is markup in well-formed XML)
    takes the element-by-element check, which finds the remark's text; Overpass's error
    documents are small. Both give the same messages: ElementTree's parse errors are
    expat's.
    """
    if b"<remark" in body:
        _expect_osm_xml_events(body)
        return
    parser = pyexpat.ParserCreate(namespace_separator="}")
    root_tag = None

    def root(name: str, _attributes: object) -> None:
        nonlocal root_tag
        root_tag = "{" + name if "}" in name else name  # ElementTree's spelling of a namespaced tag
        parser.StartElementHandler = None
        if root_tag != "osm":
            raise InvalidBody(f"XML met root <{root_tag}> in plaats van <osm> (begint met {_snippet(body)})")

    parser.StartElementHandler = root
    try:
        for offset in range(0, len(body), _CHUNK_CHECK):
            parser.Parse(body[offset:offset + _CHUNK_CHECK], False)
        parser.Parse(b"", True)
    except pyexpat.ExpatError as e:
        _raise_parse_error(body, root_tag, e)
    if root_tag is None:
        raise InvalidBody("een leeg antwoord in plaats van OSM-XML")


def _raise_parse_error(body: bytes, root_tag: str | None, e: Exception) -> NoReturn:
    if root_tag is None:
        kind = "een HTML-pagina" if b"<html" in body[:500].lower() else "geen XML"
        raise InvalidBody(f"{kind} in plaats van OSM-XML (begint met {_snippet(body)})") from e
    raise InvalidBody(f"onvolledige OSM-XML ({len(body)} bytes; {e}): het antwoord brak af") from e


def _expect_osm_xml_events(body: bytes) -> None:
    """:func:`expect_osm_xml` element by element (for a body with a ``<remark``)."""
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    root_tag = None
    try:
        for offset in range(0, len(body), _CHUNK):
            parser.feed(body[offset:offset + _CHUNK])
            for event, element in cast("Iterator[tuple[str, ET.Element]]", parser.read_events()):  # start/end only
                if event == "start" and root_tag is None:
                    root_tag = element.tag
                    if root_tag != "osm":
                        raise InvalidBody(f"XML met root <{root_tag}> in plaats van <osm> (begint met {_snippet(body)})")
                elif event == "end" and element.tag == "remark":
                    remark = " ".join((element.text or "").split())
                    raise InvalidBody(f"Overpass meldde: {remark[:200]!r}")
                elif event == "end" and element.tag in ("node", "way", "relation"):
                    element.clear()
        parser.close()
    except ET.ParseError as e:
        _raise_parse_error(body, root_tag, e)
    if root_tag is None:
        raise InvalidBody("een leeg antwoord in plaats van OSM-XML")


def expect_osm_xml_file(path: Path) -> None:
    """:func:`expect_osm_xml` of a file on disk, read in pieces: memory stays small whatever its size.

    expat checks the whole file in C without building elements; Python is called for the
    root element only, and for the elements from the piece that holds ``<remark`` on (a
    literal ``<`` is markup in well-formed XML; Overpass's error documents are small), to
    read the remark's text. The messages are :func:`expect_osm_xml`'s.
    """
    parser = pyexpat.ParserCreate(namespace_separator="}")
    root_tag: str | None = None
    head = b""  # the file's start, for messages
    size = 0
    remark: list[str] | None = None  # the text of an open <remark>

    def start(name: str, _attributes: object) -> None:
        nonlocal root_tag, remark
        if root_tag is None:
            root_tag = "{" + name if "}" in name else name  # ElementTree's spelling of a namespaced tag
            if root_tag != "osm":
                raise InvalidBody(f"XML met root <{root_tag}> in plaats van <osm> (begint met {_snippet(head)})")
            if parser.EndElementHandler is None:
                parser.StartElementHandler = None
        elif name == "remark":
            remark = []

    def text(data: str) -> None:
        if remark is not None:
            remark.append(data)

    def end(name: str) -> None:
        if name == "remark" and remark is not None:
            words = " ".join("".join(remark).split())
            raise InvalidBody(f"Overpass meldde: {words[:200]!r}")

    parser.StartElementHandler = start
    tail = b""
    try:
        with Path(path).open("rb") as file:
            head = file.read(2000)  # whole before any message needs it
            piece = head
            while piece:
                size += len(piece)
                if parser.EndElementHandler is None and (b"<remark" in piece or b"<remark" in tail + piece[:7]):
                    parser.StartElementHandler, parser.CharacterDataHandler, parser.EndElementHandler = start, text, end
                tail = piece[-7:]
                parser.Parse(piece, False)
                piece = file.read(_FILE_CHUNK)
        parser.Parse(b"", True)
    except pyexpat.ExpatError as e:
        if root_tag is None:
            kind = "een HTML-pagina" if b"<html" in head[:500].lower() else "geen XML"
            raise InvalidBody(f"{kind} in plaats van OSM-XML (begint met {_snippet(head)})") from e
        raise InvalidBody(f"onvolledige OSM-XML ({size} bytes; {e}): het antwoord brak af") from e


# --------------------------------------------------------------------------- client


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Client:
    """A requests session with timeouts, retries, a deadline and the validating cache.

    Parameters
    ----------
    cache_dir
        Folder of the cache (``None``: :func:`default_cache_dir`).
    settings
        Timeouts and retry policy.
    refresh
        Ignore cached answers and download again (the new answers replace them).
    sleep
        The function that waits between tries (tests pass a fake).
    """

    def __init__(
        self, cache_dir: Path | None = None, *, settings: HttpSettings | None = None, refresh: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import requests  # noqa: PLC0415 (keeps the CLI's --help fast)

        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.settings = settings or HttpSettings()
        self.refresh = refresh
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers["User-Agent"] = self.settings.user_agent
        self._swept = False
        self._cache_broken = False
        self._scratch: contextlib.ExitStack | None = None
        self._scratch_dir: Path | None = None

    def close(self) -> None:
        """Close the connections (and remove the private folder of answers when the cache was unwritable)."""
        self._session.close()
        if self._scratch is not None:
            self._scratch.close()
            self._scratch = self._scratch_dir = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self, url: str, params: dict[str, Any] | None = None, *, what: str, validate: Validator, suffix: str = "bin",
        rate_limit_wait: Callable[[], float | None] | None = None,
    ) -> bytes:
        """GET ``url`` with ``params``; return a body that passed ``validate`` (cached).

        ``rate_limit_wait`` is asked, after an HTTP 429 without ``Retry-After``, how many
        seconds the service wants (None: unknown); the wait is at least ``rate_limit_wait_s``.
        """
        return self._fetch(_Request("GET", url, params, None, what), _bytes_check(validate), suffix, rate_limit_wait,
                           keep=False)[1]

    def post(
        self, url: str, data: str, *, what: str, validate: Validator, suffix: str = "bin",
        rate_limit_wait: Callable[[], float | None] | None = None,
    ) -> bytes:
        """POST ``data`` (form body) to ``url``; return a body that passed ``validate`` (cached). See :meth:`get`."""
        return self._fetch(_Request("POST", url, None, data, what), _bytes_check(validate), suffix, rate_limit_wait,
                           keep=False)[1]

    def get_file(
        self, url: str, params: dict[str, Any] | None = None, *, what: str, validate: FileValidator,
        suffix: str = "bin", rate_limit_wait: Callable[[], float | None] | None = None,
    ) -> Path:
        """:meth:`get`, but the answer stays on disk: the path of the cached file, checked by ``validate(path)``.

        The file is valid until the client closes (it is the cache's file, or one in the
        client's private folder when the cache cannot be written); never change it.
        """
        return self._fetch(_Request("GET", url, params, None, what), _file_check(validate), suffix, rate_limit_wait,
                           keep=True)[0]

    def post_file(
        self, url: str, data: str, *, what: str, validate: FileValidator, suffix: str = "bin",
        rate_limit_wait: Callable[[], float | None] | None = None,
    ) -> Path:
        """:meth:`post` with the answer on disk, as :meth:`get_file`."""
        return self._fetch(_Request("POST", url, None, data, what), _file_check(validate), suffix, rate_limit_wait,
                           keep=True)[0]

    def peek_text(self, url: str, *, timeout_s: float = 10.0) -> str | None:
        """GET a small text (a status page) once, uncached and without retries, within ``timeout_s``; None when that fails."""
        import requests  # noqa: PLC0415

        deadline = time.monotonic() + timeout_s
        try:
            response = self._session.get(url, timeout=(self.settings.connect_timeout_s, timeout_s), stream=True)
            with response:
                if response.status_code != 200:
                    return None
                return _read_some(response, 20_000, deadline).decode("utf-8", "replace")
        except (requests.RequestException, OSError, _Retryable):
            return None

    def cache_path(self, method: str, url: str, params: dict[str, Any] | None, data: str | None, suffix: str) -> Path:
        """Where the answer to this request is cached."""
        return self.cache_dir / "http" / f"{cache_key(method, url, params, data)}.{suffix}"

    def _fetch(
        self, request: _Request, check: Callable[[Path], Any], suffix: str,
        rate_limit_wait: Callable[[], float | None] | None, *, keep: bool,
    ) -> tuple[Path, Any]:
        """The answer's file and what ``check`` made of it: from the cache, or downloaded (and then cached)."""
        cache = self.cache_path(request.method, request.url, request.params, request.data, suffix)
        if cache.is_file() and not self.refresh:
            try:
                value = check(cache)
            except InvalidBody as e:
                log.warning("Ongeldig bestand in de cache: %s (%s); opnieuw downloaden.", cache, e.reason)
                with contextlib.suppress(OSError):
                    cache.unlink(missing_ok=True)
            except OSError as e:
                log.warning("Kan %s in de cache niet lezen (%s); opnieuw downloaden.", cache, e.strerror or e)
            else:
                log.debug("cache: %s uit %s", request.what, cache)
                return cache, value
        tmp, target = self._temporary(cache, request)
        try:
            value = self._download(request, tmp, check, rate_limit_wait)
            try:
                os.replace(tmp, target)
            except OSError as e:
                raise _disk_error(request, tmp, e) from e
            if target != cache and not keep:  # no cache: the bytes are all the caller wants
                target.unlink(missing_ok=True)
            return target, value
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)

    def _temporary(self, cache: Path, request: _Request) -> tuple[Path, Path]:
        """An empty temporary file beside ``cache`` and the answer's place; in the private folder when the cache cannot be written."""
        if not self._cache_broken:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                if not self._swept:  # temporaries of killed downloads, once per client
                    self._swept = True
                    _atomic.remove_stale_temporaries(cache.parent)
                return _mkstemp(cache), cache
            except OSError as e:
                self._cache_broken = True
                log.warning(
                    "Let op: de downloadcache %s is niet te schrijven (%s); er wordt zonder cache verder gewerkt. "
                    "Kies een andere map met --cache-dir (of $WIJKANALYSE_CACHE).", self.cache_dir, e.strerror or e,
                )
        try:
            if self._scratch_dir is None:
                stack = contextlib.ExitStack()
                self._scratch_dir = stack.enter_context(_atomic.private_tempdir("wijkanalyse-http-"))
                self._scratch = stack
            target = self._scratch_dir / cache.name
            return _mkstemp(target), target
        except OSError as e:
            raise _disk_error(request, Path(tempfile.gettempdir()), e) from e

    def _download(
        self, request: _Request, tmp: Path, check: Callable[[Path], Any],
        rate_limit_wait: Callable[[], float | None] | None = None,
    ) -> Any:
        settings = self.settings
        host, what = request.host, request.what
        start = time.monotonic()
        deadline = start + settings.deadline_s
        attempts = 0
        limited = 0  # failures of a fault whose retries the validator limits

        def attempt() -> Any:
            nonlocal attempts, limited
            attempts += 1
            try:
                with tmp.open("wb") as sink:
                    self._attempt(request, deadline, sink)
                return check(tmp)
            except _DiskError as e:
                raise _disk_error(request, e.path, e.error) from e
            except InvalidBody as e:
                if not e.retry:
                    msg = f"{host} kon het verzoek om {what} niet beantwoorden: {e.reason}. Controleer het jaar en de gemeente, of het adres van de dienst."
                    raise SourceError(msg) from e
                limited += e.retries is not None
                if e.retries is not None and limited > e.retries:
                    raise SourceError(e.give_up or f"{host} gave no usable answer for {what}: {e.reason}.") from e
                raise _Retryable(e.reason) from e
            except OSError as e:  # opening or reading the temporary file (the network's errors are handled below)
                raise _disk_error(request, tmp, e) from e

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retryable) and exc.retry_after is not None:
                return exc.retry_after
            backoff = min(settings.backoff_s * 2 ** (state.attempt_number - 1), settings.backoff_max_s)
            if isinstance(exc, _Retryable) and exc.rate_limited:
                asked = rate_limit_wait() if rate_limit_wait is not None else None
                return max(backoff, settings.rate_limit_wait_s, asked or 0.0)
            return backoff

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.info(
                "    %s: %s; opnieuw over %s s (poging %d van %d)",
                host, getattr(exc, "reason", exc), format_number(state.upcoming_sleep, 1), state.attempt_number + 1, settings.retries + 1,
            )

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(settings.retries + 1) | tenacity.stop_before_delay(settings.deadline_s),
            wait=wait,
            retry=tenacity.retry_if_exception_type(_Retryable),
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        log.info("    downloaden: %s van %s", what, host)
        try:
            return retrying(attempt)
        except _Retryable as e:
            elapsed = time.monotonic() - start
            tries = f"{attempts} {'poging' if attempts == 1 else 'pogingen'}"
            waited = f" (de dienst vroeg nog {e.retry_after:.0f} s te wachten, voorbij de limiet van {settings.deadline_s:g} s)" if (
                e.retry_after is not None and attempts <= settings.retries
            ) else ""
            msg = (
                f"{host} gaf geen bruikbaar antwoord op {what} na {tries} in {elapsed:.0f} s{waited}; laatste: {e.reason}. "
                "Probeer het later opnieuw, of zet een ander adres in [services] van de config."
            )
            raise SourceError(msg) from e

    def _attempt(self, request: _Request, deadline: float, sink: Any) -> None:
        """One request: status, headers and the whole body (written to ``sink``) within the deadline."""
        import requests  # noqa: PLC0415
        from urllib3.exceptions import NewConnectionError  # noqa: PLC0415

        settings = self.settings
        host, what = request.host, request.what
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            msg = f"de tijdslimiet van {settings.deadline_s:g} s is verstreken"
            raise _Retryable(msg)
        timeout = (min(settings.connect_timeout_s, remaining), min(settings.read_timeout_s, remaining))
        try:
            response = self._session.request(
                request.method, request.url, params=request.params, data=request.data, timeout=timeout, stream=True,
            )
        except requests.ConnectTimeout as e:
            msg = f"geen verbinding binnen {timeout[0]:g} s"
            raise _Retryable(msg) from e
        except requests.ReadTimeout as e:
            msg = (f"geen antwoord binnen {timeout[1]:g} s" if timeout[1] >= settings.read_timeout_s
                   else f"geen antwoord binnen de tijdslimiet van {settings.deadline_s:g} s")
            raise _Retryable(msg) from e
        except requests.ConnectionError as e:
            reason = getattr(e.args[0] if e.args else None, "reason", None)
            if isinstance(reason, NewConnectionError):
                msg = (
                    f"Kan {host} niet bereiken om {what} te downloaden: geen netwerkverbinding? "
                    "Werk offline met --snapshot MAP (een eerder gedownloade map) of --demo."
                )
                raise Unreachable(msg) from e
            msg = f"de verbinding werd verbroken ({type(reason or e).__name__})"
            raise _Retryable(msg) from e
        except requests.TooManyRedirects as e:
            msg = (f"{host} stuurt het verzoek om {what} in een kring door (meer dan "
                   f"{self._session.max_redirects} doorverwijzingen): een netwerk- of adresprobleem. "
                   "Controleer het adres in [services] van de config (of de proxy).")
            raise SourceError(msg) from e
        except requests.RequestException as e:  # requests' errors are OSErrors: never let one pass as a disk problem
            msg = f"{host} kon niet om {what} gevraagd worden: {type(e).__name__}: {e}. Controleer het adres van de dienst in [services]."
            raise SourceError(msg) from e
        with response:
            status = response.status_code
            if status != 200:
                _refuse(response, host, what, deadline)
            self._read_body(response, deadline, host, what, sink)

    def _read_body(self, response: Any, deadline: float, host: str, what: str, sink: Any) -> int:
        """Write the whole body to ``sink`` as it comes (``read1``), within the deadline and ``max_body_bytes``.

        ``read1`` returns what has arrived instead of waiting for a full chunk, and before
        every read the socket waits at most the read timeout or the time left to the
        deadline, whichever is shorter (:func:`_read1`): a server that trickles a byte now
        and then, or trickles and then stalls, ends the attempt at the deadline. Only a
        chunk of :data:`_CHUNK` bytes is in memory at a time. Returns the bytes written.
        """
        settings = self.settings
        received = 0
        while chunk := _read1(response, deadline, settings, received):
            received += len(chunk)
            if received > settings.max_body_bytes:
                msg = (f"Het antwoord van {host} op {what} is groter dan {settings.max_body_bytes:,} bytes "
                       "(max_body_bytes) en is afgebroken: vraag een kleiner gebied of controleer het adres.")
                raise SourceError(msg)
            try:
                sink.write(chunk)
            except OSError as e:
                raise _DiskError(Path(getattr(sink, "name", "?")), e) from e
        return received


def _bytes_check(validate: Validator) -> Callable[[Path], bytes]:
    """A check of an answer's file by a validator of bytes: the file is read whole and returned."""

    def check(path: Path) -> bytes:
        body = path.read_bytes()
        validate(body)
        return body

    return check


def _file_check(validate: FileValidator) -> Callable[[Path], None]:
    def check(path: Path) -> None:
        validate(path)

    return check


def _mkstemp(target: Path) -> Path:
    """An empty file beside ``target`` named as :func:`wijkanalyse._atomic.atomic_path` names its temporaries
    (so :func:`~wijkanalyse._atomic.remove_stale_temporaries` sweeps one a killed process left)."""
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    return Path(name)


def _disk_error(request: _Request, path: Path, error: OSError) -> SourceError:
    """The one line for an answer that cannot be written to (or read back from) disk."""
    where = path.parent if path.name.startswith(".") else path
    free = _atomic.free_space(where)
    return SourceError(
        f"Het antwoord van {request.host} op {request.what} kan niet naar {where} geschreven worden "
        f"({error.strerror or error}{'; ' + free if free else ''}): maak ruimte vrij of kies een andere map "
        "met --cache-dir (of $WIJKANALYSE_CACHE).",
    )


def _socket(response: Any) -> Any:
    """The socket under a streamed requests response (None when urllib3 does not show it)."""
    return getattr(getattr(response.raw, "connection", None), "sock", None)


def _read1(response: Any, deadline: float, settings: HttpSettings, received: int) -> bytes:
    """What has arrived of the body (``b""`` at its end), waiting at most the read timeout or the time left.

    Raises :class:`_Retryable` when the deadline passes or the answer stalls or breaks off.
    """
    from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError  # noqa: PLC0415

    remaining = deadline - time.monotonic()
    if remaining <= 0:
        msg = f"het antwoord was niet binnen de tijdslimiet van {settings.deadline_s:g} s compleet ({received} bytes kwamen binnen)"
        raise _Retryable(msg)
    wait = min(settings.read_timeout_s, remaining)
    sock = _socket(response)
    try:
        if sock is not None:
            sock.settimeout(wait)
        return response.raw.read1(_CHUNK, decode_content=True)
    except ReadTimeoutError as e:
        if wait < settings.read_timeout_s:  # the time left ran out, not the read timeout
            msg = f"het antwoord was niet binnen de tijdslimiet van {settings.deadline_s:g} s compleet ({received} bytes kwamen binnen)"
        else:
            msg = f"het antwoord stokte na {received} bytes ({settings.read_timeout_s:g} s niets)"
        raise _Retryable(msg) from e
    except (ProtocolError, DecodeError, OSError) as e:
        expected = response.headers.get("Content-Length")
        of = f" van {expected}" if expected else ""
        msg = f"het antwoord brak af na {received}{of} bytes"
        raise _Retryable(msg) from e


def _read_some(response: Any, limit: int, deadline: float) -> bytes:
    """At most ``limit`` bytes of a body (an error page, a status text), within the deadline."""
    settings = HttpSettings(read_timeout_s=max(0.001, deadline - time.monotonic()), deadline_s=0)
    chunks: list[bytes] = []
    size = 0
    while size < limit and (chunk := _read1(response, deadline, settings, size)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:limit]


def _refuse(response: Any, host: str, what: str, deadline: float) -> None:
    """Raise what a non-200 answer means: a retry (429, 408, 5xx), too large (never retried) or an error."""
    status = response.status_code
    retry_after = _retry_after(response.headers.get("Retry-After"))

    def start_of_body() -> bytes:
        try:
            return _read_some(response, 4000, deadline)
        except _Retryable:  # an error page that does not come: its status says enough
            return b""

    if status == 500:
        body = start_of_body()
        if _TOO_LARGE.search(text := _error_text(body)):
            msg = (f"{host} weigert het verzoek om {what}: het antwoord is te groot ({text!r}). "
                   "Vraag minder tegelijk, of gebruik voor CBS de ODataFeed "
                   "(services.cbs_odata_url = https://opendata.cbs.nl/ODataFeed/odata).")
            raise AnswerTooLarge(msg)
    if status in RETRY_STATUS:
        raise _Retryable(f"HTTP {status}", retry_after, rate_limited=status == 429 and retry_after is None)
    body = start_of_body()
    detail = _exception_report(body) or _snippet(body)
    msg = f"{host} antwoordde HTTP {status} op {what} ({detail}). Controleer de gemeente, het jaar en het adres van de dienst."
    raise SourceError(msg)
