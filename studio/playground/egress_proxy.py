"""An HTTP(S) proxy that lets a playground plugin reach only checked hosts.

The plugin process gets `HTTP_PROXY`/`HTTPS_PROXY` pointing here and no
`NO_PROXY`. Every request is checked again (`pluginfmt.egress.check_host`):
`CONNECT host:port` for HTTPS, an absolute URL for plain HTTP. The proxy then
connects to the very addresses it checked, never resolving the name again, so a
name that resolves to a public address at check time and to 127.0.0.1 a moment
later (DNS rebinding) still cannot reach loopback. The mock upstream's exact
`127.0.0.1:port` is always allowed. Anything refused gets a 403 whose body
says why; the plugin's HTTP client reports it as its own error.

A plugin in a network namespace (pluginfmt/driver/netjail.py) reaches the proxy
on a listening socket inside its namespace, which `serve_listener` accepts on;
the connections the proxy opens leave from the server's own namespace.
"""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import threading
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from studio.pluginfmt.egress import Destination, EgressRefused, check_host

MAX_HEADER_BYTES = 64 * 1024
CONNECT_TIMEOUT = 10.0
IDLE_TIMEOUT = 120.0


class EgressProxy:
    """`with EgressProxy(allow=…, always=["127.0.0.1:PORT"]) as proxy: proxy.url`."""

    def __init__(
        self,
        *,
        allow: Callable[[], Sequence[str]] = lambda: (),
        always: Sequence[str] = (),
    ) -> None:
        self.allow = allow
        self.always = list(always)
        self.refused: list[str] = []
        self._server: socketserver.ThreadingTCPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def check(self, host: str, port: int) -> Destination:
        if f"{host}:{port}" in self.always:
            return Destination(host, port, (host,))
        return check_host(host, port, allow=list(self.allow()))

    def __enter__(self) -> EgressProxy:
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy.serve(self.request)

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(
            target=server.serve_forever, name="egress-proxy", daemon=True
        ).start()
        return self

    def serve_listener(self, listener: socket.socket) -> None:
        """Serve connections accepted on listener until it is closed."""

        def accept() -> None:
            while True:
                try:
                    client, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(
                    target=self._serve_closing,
                    args=(client,),
                    name="egress-proxy-jail",
                    daemon=True,
                ).start()

        threading.Thread(target=accept, name="egress-proxy-accept", daemon=True).start()

    def _serve_closing(self, client: socket.socket) -> None:
        with client, contextlib.suppress(OSError):
            self.serve(client)

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def serve(self, client: socket.socket) -> None:
        client.settimeout(IDLE_TIMEOUT)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk or len(head) > MAX_HEADER_BYTES:
                return
            head += chunk
        header, _, rest = head.partition(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            return self._refuse(client, "400 Bad Request", "not an HTTP request")
        try:
            if method.upper() == "CONNECT":
                host, _, port_text = target.rpartition(":")
                host, port = host.strip("[]"), int(port_text)
            else:
                parts = urlsplit(target)
                if parts.scheme != "http" or not parts.hostname:
                    raise EgressRefused("the proxy takes absolute http:// URLs only")
                host, port = parts.hostname, parts.port or 80
            destination = self.check(host, port)
        except (EgressRefused, ValueError) as error:
            self.refused.append(str(error))
            return self._refuse(client, "403 Forbidden", str(error))
        upstream = _connect(destination)
        if upstream is None:
            return self._refuse(client, "502 Bad Gateway", f"{host} did not answer")
        with upstream:
            if method.upper() == "CONNECT":
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if rest:
                    upstream.sendall(rest)
            else:
                parts = urlsplit(target)
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                first = f"{method} {path} {version}\r\n".encode("latin-1")
                others = "\r\n".join(
                    line for line in lines[1:] if not line.lower().startswith("proxy-")
                )
                upstream.sendall(first + others.encode("latin-1") + b"\r\n\r\n" + rest)
            _pipe(client, upstream)

    def _refuse(self, client: socket.socket, status: str, reason: str) -> None:
        body = f"egress refused by the studio: {reason}\n".encode()
        with contextlib.suppress(OSError):
            client.sendall(
                f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )


def _connect(destination: Destination) -> socket.socket | None:
    for address in destination.addresses:
        with contextlib.suppress(OSError):
            return socket.create_connection(
                (address, destination.port), timeout=CONNECT_TIMEOUT
            )
    return None


def _pipe(a: socket.socket, b: socket.socket) -> None:
    a.settimeout(None)
    b.settimeout(None)
    sockets = [a, b]
    while True:
        readable, _, _ = select.select(sockets, [], [], IDLE_TIMEOUT)
        if not readable:
            return
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            other = b if sock is a else a
            try:
                other.sendall(data)
            except OSError:
                return
