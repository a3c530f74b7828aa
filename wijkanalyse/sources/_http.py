"""HTTP with retries, deadlines and a cache that never poisons: the only network code.

Every request of a live download (CBS OData, PDOK WFS, Overpass) goes through one
:class:`Client`:

- **timeouts**: a connect and a read timeout on every attempt, and an overall deadline
  for one request including all its retries and the reading of the body (a server that
  trickles bytes is cut off too);
- **retries** with exponential backoff (``backoff_s``, doubling) on HTTP 429, 408 and 5xx,
  on a connection dropped or stalled mid-answer, on a body shorter than its
  Content-Length and on a body that does not parse as what was asked; a ``Retry-After``
  header is honoured (and a wait beyond the deadline ends the request at once). A 429
  without ``Retry-After`` (Overpass sends none) waits at least ``rate_limit_wait_s``
  (30 s; Overpass asks for that), or longer when the request's ``rate_limit_wait`` hook
  (Overpass: its ``/api/status``) says so. A host that cannot be reached at all (no route,
  no DNS) fails at once (:class:`Unreachable`): that is rarely transient. An HTTP 500 whose
  body says the answer is too large (CBS ODataApi's cap of 10,000 cells) is not retried
  (:class:`AnswerTooLarge`): the same request gets the same refusal. One clear line is
  raised after the last try (:class:`SourceError`);
- **a cache that never poisons**: a body is saved (atomically, as
  ``<cache>/http/<sha1>.<ext>``) only after it passed the request's validator (JSON,
  GeoJSON, OSM XML without an Overpass error remark). A cached file is validated again
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
import re
import time
import xml.etree.ElementTree as ET
from xml.parsers import expat as pyexpat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import tenacity

from wijkanalyse import __version__, _atomic
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
]

log = logging.getLogger("wijkanalyse")
#: Names the project and where to reach it, as Overpass and the OSMF ask of every client
#: (``services.contact`` adds the user's own address, see :func:`user_agent`).
USER_AGENT = f"wijkanalyse/{__version__} (+https://pypi.org/project/wijkanalyse)"
_CHUNK = 1 << 16
#: Status codes worth another try.
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
Validator = Callable[[bytes], None]


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
    max_body_bytes: int = 2 << 30  # one answer at most (held in memory): 2 GiB


def user_agent(contact: str = "") -> str:
    """The User-Agent header: the project, its page and (when given) the user's own contact address."""
    contact = " ".join(contact.split())
    return f"{USER_AGENT[:-1]}; {contact})" if contact else USER_AGENT


class Unreachable(SourceError):
    """The host cannot be reached at all (no network, no DNS, no route)."""


class AnswerTooLarge(SourceError):
    """The service refused the request because its answer would be too large (not retried)."""


class InvalidBody(Exception):
    """A response body that is not what was asked for; ``retry`` says whether trying again can help."""

    def __init__(self, reason: str, *, retry: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


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
            raise InvalidBody(f"the service answered with an error: {report!r}", retry=False) from e
        kind = "an HTML page" if body.lstrip()[:1] == b"<" else "no JSON"
        raise InvalidBody(f"{kind} instead of JSON ({len(body)} bytes, starts {_snippet(body)})") from e


def expect_json(body: bytes) -> None:
    """Accept a JSON object (CBS OData answers are objects with a ``value`` list)."""
    doc = _parse_json(body)
    if not isinstance(doc, dict):
        raise InvalidBody(f"JSON that is not an object (starts {_snippet(body)})")
    if isinstance(doc.get("odata.error"), dict) or isinstance(doc.get("error"), dict):
        error = doc.get("odata.error") or doc.get("error") or {}
        message = error.get("message")
        text = message.get("value") if isinstance(message, dict) else message
        raise InvalidBody(f"the service answered with an error: {str(text)[:200]!r}", retry=False)


def expect_geojson(body: bytes) -> None:
    """Accept a GeoJSON FeatureCollection (a WFS GetFeature answer in ``application/json``)."""
    doc = _parse_json(body)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise InvalidBody(f"JSON that is no GeoJSON FeatureCollection (starts {_snippet(body)})")


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
            raise InvalidBody(f"XML with root <{root_tag}> instead of <osm> (starts {_snippet(body)})")

    parser.StartElementHandler = root
    try:
        for offset in range(0, len(body), _CHUNK_CHECK):
            parser.Parse(body[offset:offset + _CHUNK_CHECK], False)
        parser.Parse(b"", True)
    except pyexpat.ExpatError as e:
        _raise_parse_error(body, root_tag, e)
    if root_tag is None:
        raise InvalidBody("an empty answer instead of OSM XML")


def _raise_parse_error(body: bytes, root_tag: str | None, e: Exception) -> NoReturn:
    if root_tag is None:
        kind = "an HTML page" if b"<html" in body[:500].lower() else "no XML"
        raise InvalidBody(f"{kind} instead of OSM XML (starts {_snippet(body)})") from e
    raise InvalidBody(f"incomplete OSM XML ({len(body)} bytes; {e}): the answer broke off") from e


def _expect_osm_xml_events(body: bytes) -> None:
    """:func:`expect_osm_xml` element by element (for a body with a ``<remark``)."""
    parser = ET.XMLPullParser(events=("start", "end"))
    root_tag = None
    try:
        for offset in range(0, len(body), _CHUNK):
            parser.feed(body[offset:offset + _CHUNK])
            for event, element in parser.read_events():
                if event == "start" and root_tag is None:
                    root_tag = element.tag
                    if root_tag != "osm":
                        raise InvalidBody(f"XML with root <{root_tag}> instead of <osm> (starts {_snippet(body)})")
                elif event == "end" and element.tag == "remark":
                    remark = " ".join((element.text or "").split())
                    raise InvalidBody(f"Overpass reported: {remark[:200]!r}")
                elif event == "end" and element.tag in ("node", "way", "relation"):
                    element.clear()
        parser.close()
    except ET.ParseError as e:
        _raise_parse_error(body, root_tag, e)
    if root_tag is None:
        raise InvalidBody("an empty answer instead of OSM XML")


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

    def close(self) -> None:
        """Close the connections."""
        self._session.close()

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
        return self._fetch(_Request("GET", url, params, None, what), validate, suffix, rate_limit_wait)

    def post(
        self, url: str, data: str, *, what: str, validate: Validator, suffix: str = "bin",
        rate_limit_wait: Callable[[], float | None] | None = None,
    ) -> bytes:
        """POST ``data`` (form body) to ``url``; return a body that passed ``validate`` (cached). See :meth:`get`."""
        return self._fetch(_Request("POST", url, None, data, what), validate, suffix, rate_limit_wait)

    def peek_text(self, url: str, *, timeout_s: float = 10.0) -> str | None:
        """GET a small text (a status page) once, uncached and without retries; None when that fails."""
        import requests  # noqa: PLC0415

        try:
            response = self._session.get(url, timeout=(self.settings.connect_timeout_s, timeout_s), stream=True)
            with response:
                if response.status_code != 200:
                    return None
                return (response.raw.read(20_000, decode_content=True) or b"").decode("utf-8", "replace")
        except (requests.RequestException, OSError):
            return None

    def cache_path(self, method: str, url: str, params: dict[str, Any] | None, data: str | None, suffix: str) -> Path:
        """Where the answer to this request is cached."""
        return self.cache_dir / "http" / f"{cache_key(method, url, params, data)}.{suffix}"

    def _fetch(
        self, request: _Request, validate: Validator, suffix: str,
        rate_limit_wait: Callable[[], float | None] | None = None,
    ) -> bytes:
        cache = self.cache_path(request.method, request.url, request.params, request.data, suffix)
        if cache.is_file() and not self.refresh:
            try:
                body = cache.read_bytes()
                validate(body)
            except InvalidBody as e:
                log.warning("Ongeldig bestand in de cache: %s (%s); opnieuw downloaden.", cache, e.reason)
                with contextlib.suppress(OSError):
                    cache.unlink(missing_ok=True)
            except OSError as e:
                log.warning("Kan %s in de cache niet lezen (%s); opnieuw downloaden.", cache, e.strerror or e)
            else:
                log.debug("cache: %s uit %s", request.what, cache)
                return body
        body = self._download(request, validate, rate_limit_wait)
        self._store(cache, body)
        return body

    def _store(self, cache: Path, body: bytes) -> None:
        """Save a validated body in the cache; a cache that cannot be written is named once, not fatal."""
        if self._cache_broken:
            return
        try:
            if not self._swept:  # temporaries of killed downloads, once per client
                self._swept = True
                _atomic.remove_stale_temporaries(cache.parent)
            _atomic.write_bytes(cache, body)
        except OSError as e:
            self._cache_broken = True
            log.warning(
                "Let op: de downloadcache %s is niet te schrijven (%s); er wordt zonder cache verder gewerkt. "
                "Kies een andere map met --cache-dir (of $WIJKANALYSE_CACHE).", self.cache_dir, e.strerror or e,
            )

    def _download(
        self, request: _Request, validate: Validator, rate_limit_wait: Callable[[], float | None] | None = None,
    ) -> bytes:
        settings = self.settings
        host, what = request.host, request.what
        start = time.monotonic()
        deadline = start + settings.deadline_s
        attempts = 0

        def attempt() -> bytes:
            nonlocal attempts
            attempts += 1
            body = self._attempt(request, deadline)
            try:
                validate(body)
            except InvalidBody as e:
                if not e.retry:
                    msg = f"{host} could not answer the request for {what}: {e.reason}. Check the year and gemeente, or the service address."
                    raise SourceError(msg) from e
                raise _Retryable(e.reason) from e
            return body

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
                "    %s: %s; opnieuw over %.1f s (poging %d van %d)",
                host, getattr(exc, "reason", exc), state.upcoming_sleep, state.attempt_number + 1, settings.retries + 1,
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
            tries = f"{attempts} {'try' if attempts == 1 else 'tries'}"
            waited = f" (it asked to wait {e.retry_after:.0f} s more, past the deadline of {settings.deadline_s:g} s)" if (
                e.retry_after is not None and attempts <= settings.retries
            ) else ""
            msg = (
                f"{host} gave no usable answer for {what} after {tries} in {elapsed:.0f} s{waited}; last: {e.reason}. "
                "Try again later, or set another service address in [services] of the config."
            )
            raise SourceError(msg) from e

    def _attempt(self, request: _Request, deadline: float) -> bytes:
        """One request: status, headers and the whole body within the deadline."""
        import requests  # noqa: PLC0415
        from urllib3.exceptions import NewConnectionError  # noqa: PLC0415

        settings = self.settings
        host, what = request.host, request.what
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            msg = f"the deadline of {settings.deadline_s:g} s passed"
            raise _Retryable(msg)
        timeout = (min(settings.connect_timeout_s, remaining), min(settings.read_timeout_s, remaining))
        try:
            response = self._session.request(
                request.method, request.url, params=request.params, data=request.data, timeout=timeout, stream=True,
            )
        except requests.ConnectTimeout as e:
            msg = f"no connection within {timeout[0]:g} s"
            raise _Retryable(msg) from e
        except requests.ReadTimeout as e:
            msg = f"no answer within {timeout[1]:g} s"
            raise _Retryable(msg) from e
        except requests.ConnectionError as e:
            reason = getattr(e.args[0] if e.args else None, "reason", None)
            if isinstance(reason, NewConnectionError):
                msg = (
                    f"Cannot reach {host} to download {what}: no network connection? "
                    "Run offline with --snapshot DIR (a folder downloaded earlier) or --demo."
                )
                raise Unreachable(msg) from e
            msg = f"the connection broke off ({type(reason or e).__name__})"
            raise _Retryable(msg) from e
        except requests.TooManyRedirects as e:
            msg = (f"{host} stuurt het verzoek om {what} in een kring door (meer dan "
                   f"{self._session.max_redirects} doorverwijzingen): een netwerk- of adresprobleem. "
                   "Controleer het adres in [services] van de config (of de proxy).")
            raise SourceError(msg) from e
        except requests.RequestException as e:  # requests' errors are OSErrors: never let one pass as a disk problem
            msg = f"{host} could not be asked for {what}: {type(e).__name__}: {e}. Check the service address in [services]."
            raise SourceError(msg) from e
        with response:
            status = response.status_code
            if status != 200:
                _refuse(response, host, what)
            return self._read_body(response, deadline, host, what)

    def _read_body(self, response: Any, deadline: float, host: str, what: str) -> bytes:
        """The whole body, read as it comes (``read1``), within the deadline and ``max_body_bytes``.

        ``read1`` returns what has arrived (after at most one read timeout) instead of waiting
        for a full chunk, so the deadline is checked between every few bytes: a server that
        trickles a byte now and then ends the attempt at the deadline plus at most one read
        timeout, not when it pleases.
        """
        from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError  # noqa: PLC0415

        settings = self.settings
        chunks: list[bytes] = []
        received = 0
        try:
            while chunk := response.raw.read1(_CHUNK, decode_content=True):
                chunks.append(chunk)
                received += len(chunk)
                if received > settings.max_body_bytes:
                    msg = (f"Het antwoord van {host} op {what} is groter dan {settings.max_body_bytes:,} bytes "
                           "(max_body_bytes) en is afgebroken: vraag een kleiner gebied of controleer het adres.")
                    raise SourceError(msg)
                if time.monotonic() > deadline:
                    msg = f"the answer did not finish within the deadline of {settings.deadline_s:g} s"
                    raise _Retryable(msg)
        except ReadTimeoutError as e:
            msg = f"the answer stalled after {received} bytes (nothing for {settings.read_timeout_s:g} s)"
            raise _Retryable(msg) from e
        except (ProtocolError, DecodeError, OSError) as e:
            expected = response.headers.get("Content-Length")
            of = f" of {expected}" if expected else ""
            msg = f"the answer broke off after {received}{of} bytes"
            raise _Retryable(msg) from e
        return b"".join(chunks)


def _refuse(response: Any, host: str, what: str) -> None:
    """Raise what a non-200 answer means: a retry (429, 408, 5xx), too large (never retried) or an error."""
    status = response.status_code
    retry_after = _retry_after(response.headers.get("Retry-After"))
    if status == 500:
        body = response.raw.read(4000, decode_content=True) or b""
        if _TOO_LARGE.search(text := _error_text(body)):
            msg = (f"{host} weigert het verzoek om {what}: het antwoord is te groot ({text!r}). "
                   "Vraag minder tegelijk, of gebruik voor CBS de ODataFeed "
                   "(services.cbs_odata_url = https://opendata.cbs.nl/ODataFeed/odata).")
            raise AnswerTooLarge(msg)
    if status in RETRY_STATUS:
        raise _Retryable(f"HTTP {status}", retry_after, rate_limited=status == 429 and retry_after is None)
    body = response.raw.read(4000, decode_content=True) or b""
    detail = _exception_report(body) or _snippet(body)
    msg = f"{host} answered HTTP {status} for {what} ({detail}). Check the gemeente, the year and the service address."
    raise SourceError(msg)
