"""Remote-debugging sessions: start one, run it on a worker, stop it."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from studio.builds.keys import KeyUnreadable, decrypt_private_key, encrypt_private_key
from studio.builds.models import Build
from studio.lib.http import whole_number
from studio.lib.queue import QueueUnavailable, queue_after_commit, require_broker
from studio.pluginfmt import sdkenv
from studio.pluginfmt.egress import EgressRefused, check_host
from studio.pluginfmt.files import UnsafeInput
from studio.pluginfmt.readers import read_package
from studio.pluginfmt.render import render_tree

from .models import DebugSession, TeamDebugHosts
from .runner import CONNECTING, Limits, Snapshot, run_remote

log = logging.getLogger(__name__)

__all__ = [
    "EgressRefused",
    "QueueUnavailable",
    "SessionRefused",
    "debug_allow",
    "debug_hosts_update",
    "debug_session_run",
    "debug_session_start",
    "debug_session_stop",
    "debug_sessions_reap",
    "parse_debug_hosts",
    "team_debug_hosts",
]

MAX_TEAM_HOSTS = 50
ALLOW_SETTING = "DEBUG_EGRESS_ALLOW, or a team owner in the team's debugging hosts"
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$", re.IGNORECASE)


def _host_problem(host: str) -> str | None:
    """Why `host` is not a host name, IP address or CIDR network (None: it is)."""
    if "/" in host:
        try:
            ipaddress.ip_network(host, strict=False)
        except ValueError:
            return "is not a CIDR network (like 10.0.0.0/8)"
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    if _HOST_NAME.match(host) and not host.replace(".", "").isdigit():
        return None
    return "is not a host name, an IP address or a CIDR network"


def parse_debug_hosts(text: str) -> list[str]:
    """The entries of a typed allow-list (one per line or comma-separated),
    lower case and without duplicates; ValueError naming every bad entry."""
    entries: list[str] = []
    problems: list[str] = []
    for raw in re.split(r"[\n,]+", text):
        entry = raw.strip().lower()
        if not entry:
            continue
        host, port = entry, ""
        if entry.startswith("["):
            inside, _, rest = entry[1:].partition("]")
            host, port = inside, rest[1:] if rest.startswith(":") else rest
            if rest and not rest.startswith(":"):
                problems.append(f"“{raw.strip()}”: write [address]:port")
                continue
        elif entry.count(":") == 1:
            host, _, port = entry.partition(":")
        problem = _host_problem(host)
        if (
            problem is None
            and port
            and not 1 <= (whole_number(port, digits=5) or 0) <= 65535
        ):
            problem = f"has port {port}, not a TCP port (1-65535)"
        if problem is not None:
            problems.append(f"“{raw.strip()}” {problem}")
        elif entry not in entries:
            entries.append(entry)
    if problems:
        raise ValueError("; ".join(problems) + ".")
    if len(entries) > MAX_TEAM_HOSTS:
        raise ValueError(
            f"{len(entries)} entries: a team may list at most {MAX_TEAM_HOSTS}."
        )
    return entries


def team_debug_hosts(team_id: int) -> list[str]:
    """The team's own debugging hosts (empty when an owner set none)."""
    row = TeamDebugHosts.objects.filter(team_id=team_id).first()
    return list(row.entries) if row is not None else []


def debug_allow(team_id: int) -> list[str]:
    """What a team's debugging sessions may reach: the administrator's
    `DEBUG_EGRESS_ALLOW` and the team's own hosts."""
    return [*settings.DEBUG_EGRESS_ALLOW, *team_debug_hosts(team_id)]


def debug_hosts_update(*, team: Any, user: Any, text: str) -> TeamDebugHosts:
    """Replace the team's debugging hosts with the typed ones (ValueError when
    one is not valid: nothing changes), audit-logged."""
    from studio.audit.models import AuditEvent
    from studio.audit.services import audit_record

    entries = parse_debug_hosts(text)
    with transaction.atomic():
        row, _ = TeamDebugHosts.objects.select_for_update().get_or_create(team=team)
        before = list(row.entries)
        row.entries = entries
        row.updated_by = user
        row.save()
        if before != entries:
            added = [e for e in entries if e not in before]
            removed = [e for e in before if e not in entries]
            parts = []
            if added:
                parts.append("added " + ", ".join(added))
            if removed:
                parts.append("removed " + ", ".join(removed))
            audit_record(
                action=AuditEvent.Action.DEBUG_HOSTS,
                actor=user,
                team=team,
                summary="; ".join(parts),
            )
    return row


class SessionRefused(ValueError):
    """The session cannot start (no artifact, too many running); says why."""


def debug_session_start(
    *, build: Build, user: Any, host: str, port: int, key: str
) -> DebugSession:
    """Check the address, store the key encrypted, queue the session's worker task."""
    if not build.has_artifact:
        raise SessionRefused("Only a succeeded build with its package can be run.")
    check_host(host, port, allow=debug_allow(build.team_id), setting=ALLOW_SETTING)
    running = DebugSession.objects.filter(
        created_by=user, state__in=DebugSession.ACTIVE
    ).count()
    if running >= settings.DEBUG_SESSIONS_PER_USER:
        raise SessionRefused(
            f"You already have {running} debugging session"
            f"{'s' if running != 1 else ''} running (the limit is "
            f"{settings.DEBUG_SESSIONS_PER_USER}); stop it first."
        )
    require_broker()
    from . import tasks

    with transaction.atomic():
        session = DebugSession.objects.create(
            build=build,
            created_by=user,
            host=host.strip(),
            port=port,
            key_token=encrypt_private_key(key.encode()),
        )
        queue_after_commit(
            tasks.debug_session_run,
            kwargs={"session_id": session.pk},
            on_failure=lambda reason: _end(session.pk, reason),
        )
    return session


def debug_session_stop(*, session: DebugSession) -> None:
    """Ask the worker to stop the session (a queued one ends at once)."""
    updated = DebugSession.objects.filter(
        pk=session.pk, state=DebugSession.State.QUEUED
    ).update(
        state=DebugSession.State.ENDED,
        reason="stopped by a user",
        key_token="",
        stop_requested=True,
        ended_at=timezone.now(),
    )
    if not updated:
        DebugSession.objects.filter(pk=session.pk).update(stop_requested=True)


def debug_session_run(*, session_id: int) -> None:
    """Run a queued session to its end (on a worker; blocks up to the time limit)."""
    session = DebugSession.objects.select_related("build").filter(pk=session_id).first()
    if session is None or session.state != DebugSession.State.QUEUED:
        return
    try:
        key = decrypt_private_key(session.key_token).decode()
    except KeyUnreadable:
        _end(session.pk, "the debugging key can no longer be read; start again")
        return
    # The key lives on only in this process's memory from here on.
    DebugSession.objects.filter(pk=session.pk).update(key_token="", state=CONNECTING)
    try:
        allowed = check_host(
            session.host,
            session.port,
            allow=debug_allow(session.build.team_id),
            setting=ALLOW_SETTING,
        )
        with session.build.artifact.open("rb") as handle:
            files = read_package(handle.read())
    except EgressRefused as exc:
        _end(session.pk, str(exc))
        return
    except (OSError, UnsafeInput) as exc:
        _end(session.pk, f"the build's package cannot be read: {exc}")
        return
    requirements = files.get("requirements.txt", b"").decode(errors="replace")
    limits = Limits(
        max_seconds=settings.DEBUG_SESSION_MAX_SECONDS,
        memory_mb=settings.DEBUG_SESSION_MEMORY_MB,
    )
    try:
        with contextlib.ExitStack() as stack:
            venv = stack.enter_context(
                sdkenv.using_sdk_venv(
                    requirements,
                    cache_dir=settings.SMOKE_VENV_DIR,
                    uv_cache_dir=settings.SDK_UV_CACHE_DIR,
                    max_bytes=settings.SDK_VENV_CACHE_MAX_MB * 1024 * 1024,
                )
            )
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "p"
            render_tree(files, folder)
            run_remote(
                folder,
                venv.python,
                # The address checked, not the name: it cannot resolve
                # elsewhere between the check and the plugin's connect.
                host=allowed.addresses[0],
                port=session.port,
                key=key,
                limits=limits,
                on_update=lambda snapshot: _save(session.pk, snapshot),
                should_stop=lambda: _stop_requested(session.pk),
            )
    except sdkenv.SdkEnvError as exc:
        _end(session.pk, f"the plugin's virtualenv could not be built: {exc}")
    except Exception:
        log.exception("debug session %s failed", session.pk)
        _end(session.pk, "the session failed on the worker")
        raise


def debug_sessions_reap(*, now: Any = None) -> int:
    """End sessions whose worker was lost (active past the time limit plus slack)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.DEBUG_SESSION_MAX_SECONDS + 120)
    return DebugSession.objects.filter(
        state__in=DebugSession.ACTIVE, created_at__lt=cutoff
    ).update(
        state=DebugSession.State.ENDED,
        reason="the worker running the session was lost",
        key_token="",
        ended_at=now,
    )


def _save(session_id: int, snapshot: Snapshot) -> None:
    ended = snapshot.state in (DebugSession.State.REFUSED, DebugSession.State.ENDED)
    fields: dict[str, Any] = {
        "state": snapshot.state,
        "reason": snapshot.reason,
        "requests": snapshot.requests,
        "log": "\n".join(snapshot.log),
    }
    if ended:
        fields["ended_at"] = timezone.now()
    DebugSession.objects.filter(pk=session_id).update(**fields)


def _stop_requested(session_id: int) -> bool:
    return DebugSession.objects.filter(pk=session_id, stop_requested=True).exists()


def _end(session_id: int, reason: str) -> None:
    DebugSession.objects.filter(pk=session_id).update(
        state=DebugSession.State.ENDED,
        reason=reason,
        key_token="",
        ended_at=timezone.now(),
    )
