"""Fetch one web page for add-by-URL, safely: the server must not become anyone's proxy.

``fetch_page(url)`` accepts http and https only; resolves the host and refuses it when any of
its addresses is link-local (cloud metadata services live there), multicast, reserved or
unspecified, or private, loopback or otherwise not global (these three only unless
``KZGEO_ALLOW_PRIVATE_URLS=1``, for tests and intranets); connects to the address it
checked (so a second DNS answer cannot swap it), with connect and read time-outs and a deadline
for the whole download; reads at most ``MAX_PAGE_BYTES``; follows redirects itself, checking
each new address the same way; and refuses anything that is not HTML. ``FetchError`` says why
in words a user can act on, and whether trying again later may help (``transient``).

``fetch_resource`` is the same safe GET for other types (feeds, robots.txt) with extra request
headers (a conditional GET's ``If-None-Match`` / ``If-Modified-Since``): it returns the status
(200, or 304 when the resource has not changed), the response headers and the body bytes.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import urllib3

ALLOW_PRIVATE_ENV_VAR = "KZGEO_ALLOW_PRIVATE_URLS"
SCHEMES: dict[str, int] = {"http": 80, "https": 443}  # scheme -> default port
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
NOT_MODIFIED = 304
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})  # worth asking again later
MAX_REDIRECTS = 5
MAX_PAGE_BYTES = 3_000_000  # of HTML; an article page is far smaller
MAX_URL_CHARS = 2000
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 10.0
TOTAL_TIMEOUT_S = 30.0  # the whole download, however slowly the bytes drip
CHUNK_BYTES = 64 * 1024
# Where a site owner reads who fetches: a deployment sets its own page or mailto: address.
CONTACT_URL = os.environ.get("KZGEO_CONTACT_URL") or "https://github.com/kzgeo/kzgeo"
USER_AGENT = f"kzgeo/0.1 (+{CONTACT_URL})"
CA_FILE: str | None = None  # certificates trusted for https; None: certifi's bundle

# Which kinds of address are refused, how to say so, and whether KZGEO_ALLOW_PRIVATE_URLS
# lets them through; the first row that applies counts (a new kind is a new row).
REFUSED_ADDRESSES: tuple[tuple[str, str, bool], ...] = (
    ("is_link_local", "a link-local address", False),
    ("is_multicast", "a multicast address", False),
    ("is_unspecified", "an unspecified address", False),
    ("is_loopback", "a loopback address", True),
    ("is_reserved", "a reserved address", False),
    ("is_private", "a private network address", True),
)


class FetchError(ValueError):
    """A web address cannot be fetched as an article page; the message says why.

    ``transient`` tells whether asking again later may succeed (a time-out, an unreachable
    host, a server error, 429); ``status`` is the HTTP status when the server answered one.
    """

    def __init__(self, message: str, transient: bool = False, status: int | None = None):
        super().__init__(message)
        self.transient = transient
        self.status = status


@dataclass(frozen=True)
class Page:
    """A fetched HTML page: where it was asked for, where it ended up, and its text."""

    url: str  # as given
    final_url: str  # after redirects
    content_type: str
    html: str


@dataclass(frozen=True)
class Resource:
    """A fetched resource: status 200 with its body, or 304 (not modified) with none."""

    url: str  # as given
    final_url: str  # after redirects
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case
    body: bytes = b""


def allow_private(env: Mapping[str, str] | None = None) -> bool:
    """Tell whether private and loopback addresses may be fetched (``KZGEO_ALLOW_PRIVATE_URLS``).

    >>> allow_private({"KZGEO_ALLOW_PRIVATE_URLS": "1"}), allow_private({})
    (True, False)
    """
    env = os.environ if env is None else env
    return (env.get(ALLOW_PRIVATE_ENV_VAR) or "").strip().lower() in {"1", "true", "yes"}


def address_problem(address: str, private_ok: bool = False) -> str | None:
    """Return why an IP address may not be fetched from, or None when it may.

    >>> address_problem("93.184.215.14") is None
    True
    >>> address_problem("127.0.0.1"), address_problem("10.1.2.3"), address_problem("::1")
    ('a loopback address', 'a private network address', 'a loopback address')
    >>> address_problem("169.254.169.254"), address_problem("::ffff:192.168.0.1")
    ('a link-local address', 'a private network address')
    >>> address_problem("127.0.0.1", True), address_problem("::ffff:169.254.169.254", True)
    (None, 'a link-local address')
    >>> address_problem("100.64.0.1"), address_problem("100.64.0.1", True)
    ('not a public address', None)
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for attribute, what, waivable in REFUSED_ADDRESSES:
        if getattr(ip, attribute):
            return None if waivable and private_ok else what
    return None if ip.is_global or private_ok else "not a public address"


def check_url(url: str) -> tuple[str, str, int]:
    """Return (scheme, host, port) of ``url``; raise FetchError unless it is http(s) to a host.

    >>> check_url("https://www.ipg-journal.de/artikel/1")
    ('https', 'www.ipg-journal.de', 443)
    >>> check_url("file:///etc/passwd")
    Traceback (most recent call last):
    ...
    kzgeo.fetch.FetchError: Only http:// and https:// addresses can be fetched, not 'file:'.
    """
    text = (url or "").strip()
    if len(text) > MAX_URL_CHARS:
        raise FetchError(f"The address is too long ({len(text)} characters).")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise FetchError(f"The address is not valid: {error}.") from error
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise FetchError(
            f"Only http:// and https:// addresses can be fetched, not '{scheme or text[:20]}:'."
        )
    if not parts.hostname:
        raise FetchError("The address has no host name.")
    if parts.username or parts.password:
        raise FetchError("Addresses with a user name or password are not fetched.")
    return scheme, parts.hostname, port or SCHEMES[scheme]


def resolve(host: str, port: int, private_ok: bool) -> list[str]:
    """Return the addresses of ``host``; raise FetchError when any of them may not be fetched."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError(f"The host {host} cannot be found ({error}).", True) from error
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        problem = address_problem(address, private_ok)
        if problem:
            raise FetchError(
                f"{host} resolves to {address}, {problem}: such addresses are not fetched."
            )
    if not addresses:
        raise FetchError(f"The host {host} has no address.")
    return addresses


def media_type(content_type: str | None) -> str:
    """Return the media type of a Content-Type header, lower case, without parameters.

    >>> media_type("Text/HTML; charset=utf-8"), media_type(None)
    ('text/html', '')
    """
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode_html(data: bytes, content_type: str | None) -> str:
    """Return the HTML text: the header's charset, else a <meta> charset, else UTF-8 / cp1252.

    >>> decode_html("Küste".encode("latin-1"), "text/html; charset=ISO-8859-1")
    'Küste'
    >>> decode_html('<meta charset="windows-1252">K\\xfcste'.encode("cp1252"), "text/html")[-5:]
    'Küste'
    """
    found = re.search(r"charset=[\"']?([\w.:-]+)", content_type or "", re.I) or re.search(
        rb"<meta[^>]+charset=[\"']?([\w.:-]+)", data[:4096], re.I
    )
    names = []
    if found:
        name = found.group(1)
        names.append(name.decode("ascii", "replace") if isinstance(name, bytes) else name)
    for name in (*names, "utf-8"):
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")


def _pool(
    scheme: str, host: str, address: str, port: int, read_s: float
) -> urllib3.HTTPConnectionPool:
    """Return a connection pool to the checked ``address`` that speaks to ``host`` (TLS too)."""
    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT_S, read=read_s)
    if scheme == "https":
        import certifi

        return urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, retries=False, maxsize=1,
            server_hostname=host, assert_hostname=host,
            cert_reqs="CERT_REQUIRED", ca_certs=CA_FILE or certifi.where(),
        )  # fmt: skip
    return urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1)


def _read_capped(
    response: urllib3.BaseHTTPResponse, max_bytes: int, deadline: float, total_s: float
) -> bytes:
    """Return the body, raising FetchError past ``max_bytes`` or the ``deadline``."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(
            f"The page is too large ({int(declared) / 1e6:.1f} MB; the limit is "
            f"{max_bytes / 1e6:.0f} MB)."
        )
    body = bytearray()
    while chunk := response.read1(CHUNK_BYTES):  # what has arrived: a slow drip meets the deadline
        body.extend(chunk)
        if len(body) > max_bytes:
            raise FetchError(f"The page is larger than the limit of {max_bytes / 1e6:.0f} MB.")
        if time.monotonic() > deadline:
            raise FetchError(f"The page took longer than {total_s:g} s to download.", True)
    return bytes(body)


class _Limits:
    """What one fetch may take: bytes, the read time-out, the deadline, the accepted types."""

    def __init__(self, max_bytes: int, read_s: float, total_s: float, types: frozenset[str]):
        self.max_bytes, self.read_s, self.total_s, self.types = max_bytes, read_s, total_s, types
        self.deadline = time.monotonic() + total_s


def _get_once(
    url: str, private_ok: bool, limits: _Limits, extra: Mapping[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` without following redirects: (status, headers in lower case, body)."""
    scheme, host, port = check_url(url)
    addresses = resolve(host, port, private_ok)
    parts = urlsplit(url.strip())
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = port == SCHEMES[scheme]
    named = f"[{host}]" if ":" in host else host  # an IPv6 literal goes in brackets
    headers = {
        "Host": named if default_port else f"{named}:{port}",
        "User-Agent": USER_AGENT,
        "Accept": ",".join(sorted(limits.types)),
        "Accept-Encoding": "gzip, deflate",
        **(extra or {}),
    }
    for number, address in enumerate(addresses, start=1):
        try:
            return _get_from(url, scheme, host, address, port, target, headers, limits)
        except _Unreachable as error:
            if number == len(addresses):
                raise FetchError(str(error), True) from error.__cause__
    raise FetchError(f"The host {host} has no address.")  # resolve() never gives none


class _Unreachable(Exception):
    """Connecting to one address of a host failed (the next address may do)."""


def _get_from(
    url: str,
    scheme: str,
    host: str,
    address: str,
    port: int,
    target: str,
    headers: dict[str, str],
    limits: _Limits,
) -> tuple[int, dict[str, str], bytes]:
    """GET ``target`` from one checked ``address`` of ``host``; see ``_get_once``."""
    pool = _pool(scheme, host, address, port, limits.read_s)
    try:
        try:
            response = pool.urlopen(
                "GET", target, headers=headers, redirect=False, preload_content=False,
                retries=False, assert_same_host=False,
            )  # fmt: skip
        except urllib3.exceptions.NewConnectionError as error:  # before its parent class
            raise _Unreachable(f"{host} cannot be reached: {error}.") from error
        except urllib3.exceptions.ConnectTimeoutError as error:
            raise _Unreachable(
                f"{host} did not answer within {CONNECT_TIMEOUT_S:.0f} s."
            ) from error
        try:
            status = response.status
            found = {name.lower(): value for name, value in response.headers.items()}
            content_type = found.get("content-type", "")
            if status in REDIRECT_STATUSES or status >= 400 or status == NOT_MODIFIED:
                return status, found, b""
            if media_type(content_type) not in limits.types:
                found_type = media_type(content_type) or "none"
                raise FetchError(
                    f"{url} is not a web page (content type '{found_type}'); only HTML "
                    "articles can be added." if limits.types == HTML_TYPES else
                    f"{url} has content type '{found_type}', not one of "
                    f"{', '.join(sorted(limits.types))}."
                )  # fmt: skip
            body = _read_capped(response, limits.max_bytes, limits.deadline, limits.total_s)
            return status, found, body
        finally:
            response.release_conn()
            response.close()
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as error:
        raise FetchError(f"{host} stopped sending for {limits.read_s:g} s.", True) from error
    except urllib3.exceptions.SSLError as error:
        raise FetchError(f"The secure connection to {host} failed: {error}.") from error
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise FetchError(f"{host} cannot be reached: {error}.", True) from error
    finally:
        pool.close()


def fetch_resource(
    url: str,
    types: frozenset[str],
    *,
    headers: Mapping[str, str] | None = None,
    private_ok: bool | None = None,
    max_bytes: int = MAX_PAGE_BYTES,
    read_timeout: float | None = None,
    total_timeout: float | None = None,
) -> Resource:
    """Return the resource at ``url`` (one of the media ``types``), fetched safely.

    ``headers`` are added to the request (e.g. ``If-None-Match``); a 304 answer is returned
    with an empty body. Raises FetchError saying why not (with ``status`` for an HTTP error).
    ``private_ok`` None means ``KZGEO_ALLOW_PRIVATE_URLS``; the time-outs default to
    ``READ_TIMEOUT_S`` and ``TOTAL_TIMEOUT_S``.
    """
    private_ok = allow_private() if private_ok is None else private_ok
    limits = _Limits(
        max_bytes,
        READ_TIMEOUT_S if read_timeout is None else read_timeout,
        TOTAL_TIMEOUT_S if total_timeout is None else total_timeout,
        types,
    )
    current = (url or "").strip()
    for _hop in range(MAX_REDIRECTS + 1):
        status, found, body = _get_once(current, private_ok, limits, headers)
        if status in REDIRECT_STATUSES:
            location = found.get("location")
            if not location:
                raise FetchError(f"{current} redirects ({status}) without saying where.")
            current = urljoin(current, location.strip())
            continue
        if status >= 400:
            raise FetchError(
                f"{current} answered with HTTP status {status}.",
                status in TRANSIENT_STATUSES or status >= 500,
                status,
            )
        return Resource(url.strip(), current, status, found, body)
    raise FetchError(f"{url} redirects more than {MAX_REDIRECTS} times.")


def fetch_page(
    url: str,
    *,
    private_ok: bool | None = None,
    max_bytes: int = MAX_PAGE_BYTES,
    read_timeout: float | None = None,
    total_timeout: float | None = None,
) -> Page:
    """Return the HTML page at ``url``, fetched safely; raise FetchError saying why not.

    ``private_ok`` None means ``KZGEO_ALLOW_PRIVATE_URLS``.
    """
    found = fetch_resource(
        url, HTML_TYPES, private_ok=private_ok, max_bytes=max_bytes,
        read_timeout=read_timeout, total_timeout=total_timeout,
    )  # fmt: skip
    content_type = found.headers.get("content-type", "")
    return Page(found.url, found.final_url, content_type, decode_html(found.body, content_type))
