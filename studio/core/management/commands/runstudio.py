"""Start the whole studio for development: Redis (if needed), web, one worker
with beat inside it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from studio.core.redis_server import EmbeddedRedis


class Command(BaseCommand):
    help = (
        "Run the web server on ADDRPORT, one Celery worker with the beat scheduler "
        "in it, the playground server and, unless REDIS_URL is set, an embedded "
        "Redis server. Ctrl-C stops them all."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args: Any, addrport: str, **options: Any) -> None:
        env = dict(os.environ)
        redis: EmbeddedRedis | None = None
        children: list[tuple[str, subprocess.Popen[bytes]]] = []
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            if not os.environ.get("REDIS_URL"):
                redis = EmbeddedRedis(Path(settings.VAR_DIR) / "redis")
                env["REDIS_URL"] = redis.start()
                self.stdout.write(f"embedded Redis on {env['REDIS_URL']}")
            host, _, port = addrport.rpartition(":")
            if _port_busy(host or "127.0.0.1", int(port)):
                raise CommandError(
                    f"{addrport} is already in use: stop what runs there first"
                )
            manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
            children.append(
                (
                    "web",
                    subprocess.Popen(
                        [*manage, "runserver", addrport, "--noreload"], env=env
                    ),
                )
            )
            children.append(("worker", subprocess.Popen(worker_command(), env=env)))
            children.append(
                ("playground", subprocess.Popen([*manage, "playground"], env=env))
            )
            self.stdout.write(
                f"studio on http://{addrport}/ — Ctrl-C stops web, worker (with "
                "beat), playground and Redis"
            )
            while not stopping:
                for name, child in children:
                    if child.poll() is not None:
                        raise CommandError(
                            f"the {name} process exited with {child.returncode}"
                        )
                time.sleep(0.3)
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            for _name, child in children:
                if child.poll() is None:
                    child.terminate()
            deadline = time.monotonic() + 15
            for _name, child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            if redis is not None:
                redis.stop()
            self.stdout.write("stopped")


def worker_command() -> list[str]:
    """One worker on every queue, running beat's schedule too (`-B`): fine for
    one machine; production runs exactly one `celery beat` of its own."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "studio",
        "worker",
        "-Q",
        ",".join(settings.CELERY_WORKER_QUEUES),
        "--concurrency",
        "1",
        "--loglevel",
        "INFO",
        "--beat",
        "--schedule",
        settings.CELERY_BEAT_SCHEDULE_FILENAME,
    ]


def _port_busy(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
