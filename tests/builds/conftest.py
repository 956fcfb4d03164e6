from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from studio.builds import services
from studio.celery import app as celery_app
from studio.lib import queue
from studio.lib.health import Check
from studio.pluginfmt import signing
from tests.catalog.conftest import Personas, personas
from tests.conftest import database_url_for_test_db
from tests.factories import PASSWORD

__all__ = ["Personas", "personas"]


@pytest.fixture(scope="session")
def keypair() -> tuple[bytes, bytes]:
    """One RSA-2048 pair for the session (4096-bit generation is slow)."""
    return signing.generate_keypair(bits=2048)


@pytest.fixture
def storage(settings: Any, tmp_path: Path) -> Path:
    """Default storage in a temporary folder."""
    root = tmp_path / "storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


class Published(list[dict[str, Any]]):
    """Build tasks sent to the (stand-in) broker; `checks`: Marketplace checks."""

    def __init__(self) -> None:
        super().__init__()
        self.checks: list[dict[str, Any]] = []


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch, storage: Path, settings: Any) -> Published:
    """A broker that is up and records what is published, and passing smoke tests."""
    from studio.builds import tasks

    sent = Published()
    monkeypatch.setattr(queue, "check_broker", lambda: Check(True, "stand-in broker"))
    monkeypatch.setattr(
        tasks.build_run,
        "apply_async",
        lambda kwargs=None, **options: sent.append(kwargs or {}),
    )
    monkeypatch.setattr(
        tasks.marketplace_check_run,
        "apply_async",
        lambda kwargs=None, **options: sent.checks.append(kwargs or {}),
    )
    settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.passing"
    # Tests of the Marketplace check turn it on (tests/builds/test_readiness.py).
    settings.MARKETPLACE_CHECK_AFTER_BUILD = False
    return sent


@pytest.fixture
def run_published(broker: Published) -> Iterator[Any]:
    """Run what was published, as a worker would (in this process)."""

    def run(worker: str = "test-worker@here") -> list[Any]:
        done = []
        while broker:
            kwargs = broker.pop(0)
            done.append(services.build_run(**kwargs, worker=worker))
        return done

    yield run


def login(client: Client, user: Any) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


ROOT = Path(__file__).resolve().parents[2]
SDK_CACHE = ROOT / "var" / "cache" / "sdk-venvs"


class Workers:
    """Real `celery -A studio worker` processes, each in its own process group."""

    def __init__(self, redis_url: str, env: dict[str, str], log_dir: Path) -> None:
        self.redis_url = redis_url
        self.env = env
        self.log_dir = log_dir
        self.started: list[Any] = []

    def start(self, name: str, **env: str) -> Any:
        nodename = f"{name}-{os.getpid()}@studio-test"
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "studio",
                    "worker",
                    "-Q",
                    "default,builds",
                    "--concurrency",
                    "1",
                    "--pool",
                    "prefork",
                    "--hostname",
                    nodename,
                    "--loglevel",
                    "INFO",
                ],
                cwd=ROOT,
                env={
                    **os.environ,
                    **self.env,
                    **env,
                    "REDIS_URL": self.redis_url,
                    "DATABASE_URL": database_url_for_test_db(),
                    "DJANGO_SETTINGS_MODULE": "studio.settings",
                },
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process.nodename = nodename  # type: ignore[attr-defined]
        process.log = log  # type: ignore[attr-defined]
        self.started.append(process)
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(destination=[nodename], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"worker {name} did not start:\n{log.read_text()[-3000:]}")
        return process

    def kill(self, process: Any) -> None:
        """SIGKILL the worker's whole process group (main process and pool)."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


@pytest.fixture
def workers(
    redis_url: str, transactional_db: None, tmp_path: Path, settings: Any
) -> Iterator[Workers]:
    """Start build workers on demand; they share this test's storage folder."""
    storage_dir = tmp_path / "storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(storage_dir)},
        },
    }
    pool = Workers(
        redis_url,
        {
            "STORAGE_DIR": str(storage_dir),
            "SMOKE_VENV_DIR": str(SDK_CACHE),
            # A worker that checks every build for the Marketplace is started
            # with MARKETPLACE_CHECK_AFTER_BUILD="1" (tests/builds/test_readiness.py).
            "MARKETPLACE_CHECK_AFTER_BUILD": "0",
            # No venv build competing with the test for the CPU (a test may
            # switch it back on for its worker).
            "SDK_VENV_PREWARM": "0",
        },
        ROOT / "var",
    )
    try:
        yield pool
    finally:
        pool.stop_all()
