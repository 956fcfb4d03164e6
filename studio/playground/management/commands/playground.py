"""Run the playground server (docs/playground.md); `make run` starts it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from studio.builds.services.venvs import sdk_venv_options
from studio.playground.server import serve
from studio.playground.sessions import Limits
from studio.pluginfmt.driver import netjail


class Command(BaseCommand):
    help = "Run the playground server on settings.PLAYGROUND_SOCKET until stopped."

    def handle(self, *args: Any, **options: Any) -> None:
        limits = Limits(
            max_per_user=settings.PLAYGROUND_MAX_PER_USER,
            max_total=settings.PLAYGROUND_MAX_SESSIONS,
            idle_seconds=settings.PLAYGROUND_IDLE_SECONDS,
            memory_mb=settings.PLAYGROUND_MEMORY_MB,
            request_timeout=settings.PLAYGROUND_REQUEST_TIMEOUT,
        )
        path = Path(settings.PLAYGROUND_SOCKET)
        self.stdout.write(f"playground server on {path}")
        self.stdout.write(f"plugins' network: {network_note()}")
        self.stdout.flush()
        serve(path, limits, dict(sdk_venv_options()))


def network_note() -> str:
    """How session plugins will reach the network, for the start-up line."""
    isolation = settings.PLAYGROUND_NETWORK_ISOLATION
    if isolation == "off":
        return "proxy variables only (PLAYGROUND_NETWORK_ISOLATION=off)"
    support = netjail.support()
    if support.available:
        return f"only through the egress proxy ({support.mode} namespaces)"
    if isolation == "required":
        return f"sessions refused: this machine cannot isolate them ({support.reason})"
    return f"proxy variables only: this machine cannot isolate them ({support.reason})"
