"""One GET through the egress guard, for the sources a catalogue sync reads.

`guarded_get(url, allow=…)` checks the URL's host with `egress.check_host`
(the same allow-list mechanism as the playground: loopback, private,
link-local and metadata addresses are refused unless an entry covers them),
then connects to exactly the addresses it checked (the name is never resolved
again, so a DNS answer that changes between check and connect reaches
nothing new). Redirects are followed at most `max_redirects` times, each
target checked like the first URL. The body is read in chunks and the read
stops once it passes `max_bytes`; a socket timeout bounds each wait and an
overall deadline bounds the whole answer, so a server trickling bytes cannot
hold a worker. Environment proxies are ignored.

Pure Python (http.client, ssl, socket), no Django.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from urllib.parse import urljoin, urlsplit

from studio.pluginfmt.egress import (
    Destination,
    EgressRefused,
    Resolver,
    check_host,
    system_resolver,
)

CONNECT_TIMEOUT = 10.0  # seconds for each connect and each wait for bytes
TOTAL_TIMEOUT = 60.0  # seconds for the whole answer, redirects included
MAX_REDIRECTS = 3
CHUNK = 64 * 1024
USER_AGENT = "dify-plugin-studio-sync/1"


class FetchError(ValueError):
    """The URL could not be read; the message says why in a person's words.

    `refused` is true when the egress guard refused the destination; `status`
    is the HTTP status of an answer that was not 200 (None otherwise)."""

    def __init__(
        self,
        message: str,
        *,
        refused: bool = False,
        status: int | None = None,
        too_large: bool = False,
    ) -> None:
        super().__init__(message)
        self.refused = refused
        self.status = status
        self.too_large = too_large


def size_text(count: int) -> str:
    """Bytes as a person reads them: `20 MB`, `512 KB`, `17 bytes`."""
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.3g} MB"
    if count >= 1024:
        return f"{count / 1024:.3g} KB"
    return f"{count} bytes"


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to one checked address, naming the host in `Host`."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to one checked address; the certificate must name host."""

    def __init__(
        self,
        host: str,
        port: int,
        address: str,
        timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.address = address
        self.tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def guarded_get(
    url: str,
    *,
    allow: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
    max_bytes: int,
    timeout: float = CONNECT_TIMEOUT,
    total_timeout: float = TOTAL_TIMEOUT,
    max_redirects: int = MAX_REDIRECTS,
    resolver: Resolver = system_resolver,
    setting: str = "PLAYGROUND_EGRESS_ALLOW",
    ssl_context: ssl.SSLContext | None = None,
) -> bytes:
    """The body of a 200 answer to GET `url`; FetchError with the reason otherwise.

    `headers` (an `Authorization` for instance) are sent to the first host
    only: a redirect to another host or port drops them. `setting` names the
    allow-list in refusal messages."""
    allow = list(allow)
    deadline = time.monotonic() + total_timeout
    context = ssl_context or ssl.create_default_context()
    current = url.strip()
    origin = _origin(current)
    for _hop in range(max_redirects + 1):
        sent = dict(headers or {}) if _origin(current) == origin else {}
        location, body = _get_once(
            current,
            allow=allow,
            headers=sent,
            max_bytes=max_bytes,
            timeout=timeout,
            deadline=deadline,
            resolver=resolver,
            setting=setting,
            context=context,
        )
        if location is None:
            return body
        current = urljoin(current, location)
    raise FetchError(f"{url} redirects more than {max_redirects} times")


def _origin(url: str) -> tuple[str, str, int | None]:
    try:
        parts = urlsplit(url)
        return (parts.scheme, (parts.hostname or "").lower(), parts.port)
    except ValueError:
        return ("", "", None)


def _get_once(
    url: str,
    *,
    allow: list[str],
    headers: dict[str, str],
    max_bytes: int,
    timeout: float,
    deadline: float,
    resolver: Resolver,
    setting: str,
    context: ssl.SSLContext,
) -> tuple[str | None, bytes]:
    """One request: (redirect target or None, body)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise FetchError(f"{url!r} is not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"{url} is not an http or https URL", refused=True)
    if parts.username or parts.password:
        raise FetchError(
            f"{parts.hostname}: put credentials in a header, not in the URL"
        )
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        destination = check_host(
            parts.hostname or "", port, allow=allow, resolver=resolver, setting=setting
        )
    except EgressRefused as refused:
        raise FetchError(str(refused), refused=True) from None
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    connection = _connect(parts.scheme, destination.host, destination, timeout, context)
    try:
        try:
            connection.request(
                "GET",
                target,
                headers={
                    "User-Agent": USER_AGENT,
                    "Accept-Encoding": "identity",
                    **headers,
                },
            )
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            raise FetchError(f"{destination.host}: {_reason(error)}") from None
        except (UnicodeError, ValueError):
            # http.client refuses a header or path it cannot send (a key
            # with non-Latin-1 characters or a line break, a raw non-ASCII
            # path): say so without echoing the value, which may be a key.
            raise FetchError(
                "the request cannot be sent: a header (the API key?) or the URL's "
                "path holds characters HTTP does not carry (non-ASCII or a line "
                "break)"
            ) from None
        status = response.status
        if status in (301, 302, 303, 307, 308):
            location = response.getheader("Location")
            if not location:
                raise FetchError(f"{url} answered {status} without a Location")
            return location, b""
        if status != 200:
            raise FetchError(
                f"{url} answered {status} {response.reason}".rstrip()
                + " (expected 200)",
                status=status,
            )
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise FetchError(
                f"{url} is {size_text(int(length))}; the studio reads at most "
                f"{size_text(max_bytes)}",
                too_large=True,
            )
        return None, _read_capped(response, url, max_bytes, deadline)
    finally:
        connection.close()


def _connect(
    scheme: str,
    host: str,
    destination: Destination,
    timeout: float,
    context: ssl.SSLContext,
) -> http.client.HTTPConnection:
    """A connection to the first checked address that accepts one."""
    last: Exception | None = None
    for address in destination.addresses:
        address = address.split("%", 1)[0]
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = _PinnedHTTPS(host, destination.port, address, timeout, context)
        else:
            connection = _PinnedHTTP(host, destination.port, address, timeout)
        try:
            connection.connect()
        except (OSError, ssl.SSLError) as error:
            connection.close()
            last = error
            continue
        return connection
    raise FetchError(f"{host}: could not connect ({_reason(last)})")


def _read_capped(
    response: http.client.HTTPResponse, url: str, max_bytes: int, deadline: float
) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(f"{url} took too long to answer; nothing was read")
        try:
            chunk = response.read(CHUNK)
        except (OSError, http.client.HTTPException) as error:
            raise FetchError(f"{url}: {_reason(error)}") from None
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise FetchError(
                f"{url} is larger than {size_text(max_bytes)}, the most the "
                "studio reads; nothing was read",
                too_large=True,
            )
        chunks.append(chunk)


def _reason(error: BaseException | None) -> str:
    if error is None:
        return "no address to connect to"
    if isinstance(error, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"its TLS certificate is not valid ({error.verify_message})"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    text = str(error) or type(error).__name__
    return text
