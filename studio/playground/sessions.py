"""Playground sessions: a build's plugin running under the SDK, owned by one user.

A `SessionManager` lives in the playground server process (server.py) and
holds every session of this machine in memory: the plugin process, the
credentials typed for it (never written anywhere: they exist only here and in
the plugin's own memory), the model declarations, and when it was last used.
Sessions end on idle (`idle_seconds`), on a newer build of their provider, when
their owner ends them, or when the server stops. Plugin processes are started
from one long-lived spawner thread with PR_SET_PDEATHSIG, so a server killed
with SIGKILL takes its plugins with it.

With an egress proxy, a plugin's only way out is that proxy: it runs in a
network namespace of its own (`isolation` "auto" or "required", when the
machine allows it; pluginfmt/driver/netjail.py) and its proxy variables point
at the listener there, which the proxy serves. Without a namespace ("off", or
"auto" where namespaces are unavailable) it gets the proxy variables only.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from studio.playground.egress_proxy import EgressProxy
from studio.pluginfmt import driver, sdkenv
from studio.pluginfmt.document import DocumentError, PluginDocument, load_document
from studio.pluginfmt.driver import netjail
from studio.pluginfmt.files import UnsafeInput
from studio.pluginfmt.readers import read_package
from studio.pluginfmt.render import render_tree

MASK = "••••••"
ISOLATION_MODES = ("auto", "required", "off")
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)

log = logging.getLogger("studio.playground")


class PlaygroundError(Exception):
    """A request the playground refuses; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Limits:
    max_per_user: int = 2
    max_total: int = 8
    idle_seconds: float = 300
    memory_mb: int = 1024
    start_timeout: float = 60
    request_timeout: float = 60


@dataclass
class Session:
    id: str
    owner: str
    build_id: int
    provider_id: int
    document: PluginDocument
    secret_fields: frozenset[str]
    plugin: driver.PluginProcess
    stack: contextlib.ExitStack
    credentials: dict[str, Any] = field(repr=False, default_factory=dict)
    # A customizable model of the user's own (model credentials): its name,
    # type and the schema the plugin answered for it; "" for provider ones.
    model: str = ""
    model_type: str = ""
    model_schema: dict[str, Any] | None = None
    # The provider's newest succeeded build when the session started: only a
    # build newer than both ends it (trying an older build is allowed).
    newest_build: int = 0
    last_used: float = field(default_factory=time.monotonic)
    started: float = field(default_factory=time.time)
    busy: int = 0
    contained: bool = False
    isolation: str = "off"

    @property
    def provider(self) -> str:
        return self.document.provider.spec.provider or ""

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "build_id": self.build_id,
            "provider_id": self.provider_id,
            "provider": self.provider,
            "started": self.started,
            "pid": self.plugin.pid,
            "model": self.model,
            "model_type": self.model_type,
            "model_schema": self.model_schema,
            # True: the plugin's only way out is the egress proxy (its own
            # network namespace); False: it gets the proxy variables only.
            "contained": self.contained,
            "isolation": self.isolation,
        }

    def mask(self, value: Any) -> Any:
        """The value with every typed secret replaced by MASK (deeply)."""
        secrets_typed = [
            str(v) for k, v in self.credentials.items() if k in self.secret_fields and v
        ]
        return mask_values(value, secrets_typed)


def mask_values(value: Any, hidden: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: mask_values(v, hidden) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_values(v, hidden) for v in value]
    if isinstance(value, str):
        for secret in hidden:
            value = value.replace(secret, MASK)
    return value


def secret_fields_of(document: PluginDocument) -> frozenset[str]:
    spec = document.provider.spec
    names = set()
    for schema in (spec.provider_credential_schema, spec.model_credential_schema):
        for form in getattr(schema, "credential_form_schemas", None) or []:
            if getattr(form, "type", None) == "secret-input" and form.variable:
                names.add(form.variable)
    return frozenset(names)


def cost(pricing: Any, input_tokens: int, output_tokens: int) -> dict[str, str] | None:
    """The cost of a call from the model's pricing YAML: tokens x unit x price."""
    if pricing is None:
        return None
    try:
        unit = Decimal(str(pricing.unit if pricing.unit is not None else "1"))
        price_in = Decimal(str(pricing.input if pricing.input is not None else "0"))
        price_out = Decimal(str(pricing.output if pricing.output is not None else "0"))
    except InvalidOperation:
        return None
    input_cost = price_in * unit * input_tokens
    output_cost = price_out * unit * output_tokens
    return {
        "input": _plain(input_cost),
        "output": _plain(output_cost),
        "total": _plain(input_cost + output_cost),
        "currency": pricing.currency or "USD",
    }


def _plain(value: Decimal) -> str:
    """The amount without exponent: 0.00000012, not 1.2E-7."""
    return f"{value.normalize():f}"


class SessionManager:
    """Every playground session of this process; thread-safe."""

    def __init__(
        self,
        limits: Limits,
        *,
        venv_options: dict[str, Any],
        proxy: EgressProxy | None = None,
        isolation: str = "off",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isolation not in ISOLATION_MODES:
            raise ValueError(f"isolation must be one of {ISOLATION_MODES}")
        if proxy is None and isolation != "off":
            raise ValueError("network isolation needs an egress proxy to serve it")
        self.limits = limits
        self.venv_options = venv_options
        self.proxy = proxy
        self.isolation = isolation
        self.clock = clock
        self._warned = False
        self._sessions: dict[str, Session] = {}
        self._starting: dict[str, int] = {}
        self._lock = threading.Lock()
        # One thread starts every plugin: PR_SET_PDEATHSIG fires when the
        # thread that forked a child ends, and this one lives as long as we do.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spawn")

    # ------------------------------------------------------------ lifecycle

    def start(
        self,
        *,
        owner: str,
        build_id: int,
        provider_id: int,
        package: bytes,
        credentials: dict[str, Any],
        model: str = "",
        model_type: str = "",
        newest_build: int = 0,
    ) -> Session:
        """Start the build's plugin for owner; caps are checked before anything runs."""
        contained = self.contain()
        self._reserve(owner)
        stack = contextlib.ExitStack()
        try:
            try:
                files = read_package(package)
                document = load_document(files)
            except (UnsafeInput, DocumentError) as error:
                raise PlaygroundError(
                    f"the build's package cannot be read: {error}"
                ) from None
            requirements = files.get("requirements.txt", b"").decode(errors="replace")
            try:
                venv = stack.enter_context(
                    sdkenv.using_sdk_venv(
                        requirements,
                        cache_dir=self.venv_options["cache_dir"],
                        uv_cache_dir=self.venv_options.get("uv_cache_dir"),
                        max_bytes=self.venv_options.get("max_bytes"),
                    )
                )
            except sdkenv.SdkEnvError as error:
                raise PlaygroundError(
                    f"the plugin's virtualenv could not be built: {error}", 502
                ) from None
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="try-")))
            folder = tmp / "plugin"
            render_tree(files, folder)
            env = self.plugin_env(contained)
            plugin = self._spawner.submit(
                driver.PluginProcess.start,
                folder,
                venv.python,
                timeout=self.limits.start_timeout,
                memory_limit_mb=self.limits.memory_mb,
                env=env,
                die_with_parent=True,
                isolate_network=contained,
            ).result()
            stack.callback(plugin.stop)
            if plugin.network_listener is not None and self.proxy is not None:
                self.proxy.serve_listener(plugin.network_listener)
            try:
                plugin.wait_ready()
            except driver.PluginStartError as error:
                raise PlaygroundError(
                    f"the plugin did not start: {error}", 502
                ) from None
            session = Session(
                id=secrets.token_urlsafe(16),
                owner=owner,
                build_id=build_id,
                provider_id=provider_id,
                document=document,
                secret_fields=secret_fields_of(document),
                plugin=plugin,
                stack=stack,
                credentials=dict(credentials),
                model=model,
                model_type=model_type,
                newest_build=newest_build,
                last_used=self.clock(),
                contained=contained,
                isolation=self.isolation,
            )
        except BaseException:
            stack.close()
            self._release(owner)
            raise
        with self._lock:
            self._starting[owner] -= 1
            self._sessions[session.id] = session
        return session

    def contain(self) -> bool:
        """Whether the next plugin runs in its own network namespace.

        "required" on a machine that cannot refuses (503); "auto" there
        falls back to the proxy variables only and logs it once.
        """
        if self.isolation == "off":
            return False
        support = netjail.support()
        if support.available:
            return True
        if self.isolation == "required":
            raise PlaygroundError(
                "This studio runs playground plugins only network-isolated "
                "(PLAYGROUND_NETWORK_ISOLATION=required), and this machine cannot "
                f"isolate them: {support.reason}. An administrator can allow "
                "namespaces here or set PLAYGROUND_NETWORK_ISOLATION=auto.",
                503,
            )
        if not self._warned:
            self._warned = True
            log.warning(
                "playground plugins run with proxy variables only: this machine "
                "cannot isolate their network (%s)",
                support.reason,
            )
        return False

    def plugin_env(self, contained: bool) -> dict[str, str]:
        """The proxy variables: no NO_PROXY, so even loopback goes through it
        (it lets the mock upstream's own port through and checks the rest)."""
        if self.proxy is None:
            return {}
        url = netjail.PROXY_URL if contained else self.proxy.url
        return dict.fromkeys(PROXY_VARIABLES, url)

    def _reserve(self, owner: str) -> None:
        with self._lock:
            mine = sum(1 for s in self._sessions.values() if s.owner == owner)
            mine += self._starting.get(owner, 0)
            total = len(self._sessions) + sum(self._starting.values())
            if mine >= self.limits.max_per_user:
                raise PlaygroundError(
                    f"You already have {mine} playground session(s) running, the most "
                    f"one person may have ({self.limits.max_per_user}). End one first.",
                    429,
                )
            if total >= self.limits.max_total:
                raise PlaygroundError(
                    f"The playground is full: {total} sessions are running, the most "
                    f"this studio allows ({self.limits.max_total}). Try again when "
                    "one ends.",
                    503,
                )
            self._starting[owner] = self._starting.get(owner, 0) + 1

    def _release(self, owner: str) -> None:
        with self._lock:
            self._starting[owner] -= 1

    def get(self, session_id: str, owner: str) -> Session:
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None or session.owner != owner:
            raise PlaygroundError("no such playground session (it may have ended)", 404)
        return session

    def sessions(self, owner: str | None = None) -> list[Session]:
        with self._lock:
            return [
                s for s in self._sessions.values() if owner is None or s.owner == owner
            ]

    def end(self, session_id: str, owner: str | None = None) -> bool:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or (owner is not None and session.owner != owner):
                return False
            del self._sessions[session_id]
        session.credentials.clear()
        session.stack.close()
        return True

    def end_older_builds(self, provider_id: int, build_id: int) -> list[str]:
        """End the provider's sessions that build_id supersedes: sessions of an
        older build started before build_id existed (a session deliberately
        started on an older build, a revision's say, is not ended by builds
        that were already there)."""
        ended = [
            s.id
            for s in self.sessions()
            if s.provider_id == provider_id
            and build_id > max(s.build_id, s.newest_build)
        ]
        for session_id in ended:
            self.end(session_id)
        return ended

    def reap_idle(self) -> list[str]:
        now = self.clock()
        idle = [
            s.id
            for s in self.sessions()
            if s.busy == 0 and now - s.last_used >= self.limits.idle_seconds
        ]
        for session_id in idle:
            self.end(session_id)
        return idle

    def stop_all(self) -> None:
        for session in self.sessions():
            self.end(session.id)
        self._spawner.shutdown(wait=False)

    # ------------------------------------------------------------ requests

    def invoke(
        self, session: Session, data: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """Send one request; yield events: request, chunk…, done (or error)."""
        body = {**data, "credentials": dict(session.credentials)}
        if not body.get("provider"):
            body["provider"] = session.provider
        body["user_id"] = session.owner
        chunks: queue.Queue[Any] = queue.Queue()
        outcome: dict[str, Any] = {}
        started = time.monotonic()

        def run() -> None:
            try:
                outcome["result"] = session.plugin.request(
                    body, timeout=self.limits.request_timeout, on_chunk=chunks.put
                )
            except driver.PluginError as error:
                outcome["error"] = error
            finally:
                chunks.put(_DONE)

        with self._lock:
            session.busy += 1
            session.last_used = self.clock()
        try:
            yield {"event": "request", "data": session.mask(body)}
            threading.Thread(
                target=run, name=f"try-{session.id[:6]}", daemon=True
            ).start()
            first: float | None = None
            while (chunk := chunks.get()) is not _DONE:
                if first is None:
                    first = time.monotonic() - started
                yield {"event": "chunk", "data": session.mask(chunk)}
            elapsed = time.monotonic() - started
            timing = {
                "first_chunk_ms": None if first is None else round(first * 1000, 1),
                "total_ms": round(elapsed * 1000, 1),
            }
            if "error" in outcome:
                error = outcome["error"]
                yield {
                    "event": "error",
                    "data": session.mask(
                        {
                            "error_type": type(error).__name__,
                            "message": error.message,
                            "stderr": error.stderr[-4000:],
                        }
                    ),
                    **timing,
                }
                return
            result = outcome["result"]
            if result.error is not None:
                yield {"event": "error", "data": session.mask(result.error), **timing}
                return
            yield {"event": "done", **timing}
        finally:
            with self._lock:
                session.busy -= 1
                session.last_used = self.clock()


_DONE = object()
