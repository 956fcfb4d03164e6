from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "official-models"
CORPUS_PLUGINS = (
    sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []
)


@pytest.fixture(autouse=True)
def fast_password_hashing(request: pytest.FixtureRequest) -> None:
    """Hash test passwords with MD5: the real hasher costs ~1 s per user."""
    if not request.config.pluginmanager.hasplugin("django"):
        return  # the pure pluginfmt tests may run with -p no:django
    settings = request.getfixturevalue("settings")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def restored_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding every shared-corpus plugin with its placeholders restored."""
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing: {CORPUS}")
    dest = tmp_path_factory.mktemp("corpus")
    for name in CORPUS_PLUGINS:
        subprocess.run(
            [
                sys.executable,
                str(SHARED / "corpus" / "restore-placeholders"),
                str(CORPUS / name),
                str(dest / name),
            ],
            check=True,
            capture_output=True,
        )
    for path in dest.rglob("*"):
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)
    return dest


@pytest.fixture
def corpus_copy(restored_corpus: Path, tmp_path: Path):
    """Return a writable copy of one restored corpus plugin: corpus_copy("openai")."""

    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(restored_corpus / name, dest, symlinks=True)
        return dest

    return copy


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory):
    """A real Redis: REDIS_URL when set (CI), else an embedded one for the session."""
    import os

    from django.conf import settings

    from studio.celery import app as celery_app
    from studio.core.redis_server import EmbeddedRedis

    server = None
    url = os.environ.get("REDIS_URL")
    if not url:
        server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
        url = server.start()
    previous = (
        settings.REDIS_URL,
        settings.CELERY_BROKER_URL,
        celery_app.conf.broker_url,
    )
    settings.REDIS_URL = settings.CELERY_BROKER_URL = url
    celery_app.conf.broker_url = url
    yield url
    settings.REDIS_URL, settings.CELERY_BROKER_URL, celery_app.conf.broker_url = (
        previous
    )
    if server is not None:
        server.stop()


def database_url_for_test_db() -> str:
    """A DATABASE_URL naming the test database, for child processes."""
    from urllib.parse import quote

    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    user = quote(s.get("USER") or "")
    password = quote(s.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = s.get("HOST") or ""
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{s['NAME']}"


@pytest.fixture
def celery_worker_process(redis_url: str, transactional_db: None):
    """A real `celery -A studio worker` process consuming the studio's queues."""
    import os
    import time

    from django.conf import settings

    from studio.celery import app as celery_app

    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url_for_test_db(),
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        # No venv build competing with the test for the CPU.
        "SDK_VENV_PREWARM": "0",
    }
    log = ROOT / "var" / "test-worker.log"
    log.parent.mkdir(exist_ok=True)
    hostname = f"test-worker-{os.getpid()}@%h"
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
                ",".join(settings.CELERY_WORKER_QUEUES),
                "--concurrency",
                "1",
                "--pool",
                "prefork",
                "--hostname",
                hostname,
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker did not start:\n{log.read_text()[-3000:]}")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def sdk_python() -> Path:
    """Python of the cached virtualenv with the real dify_plugin SDK (built once)."""
    from studio.pluginfmt.sdkenv import ensure_sdk_venv
    from tests.pluginfmt.echo_plugin import ECHO_REQUIREMENTS, SDK_CACHE, UV_CACHE

    return ensure_sdk_venv(
        ECHO_REQUIREMENTS, cache_dir=SDK_CACHE, uv_cache_dir=UV_CACHE
    )


@pytest.fixture
def broker_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """The broker check passes (nothing is published unless a test sends it)."""
    from studio.lib import queue
    from studio.lib.health import Check

    monkeypatch.setattr(queue, "check_broker", lambda: Check(True, "stand-in broker"))


@pytest.fixture
def tasks(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The studio's tasks publish into a list (`tasks.sent`), or fail as a
    dead broker does once `tasks.refuse` is set."""
    from tests.queueing import Tasks

    return Tasks(monkeypatch)


@pytest.fixture
def dead_broker(settings: Any, tasks: Any) -> Iterator[str]:
    """A stopped broker: REDIS_URL and Celery's broker name a closed loopback
    port. Nothing may be published meanwhile."""
    from studio.celery import app
    from tests.queueing import closed_port

    url = f"redis://127.0.0.1:{closed_port()}/0"
    previous = app.conf.broker_url
    settings.REDIS_URL = settings.CELERY_BROKER_URL = url
    app.conf.broker_url = url
    yield url
    app.conf.broker_url = previous
    assert tasks.sent == [], "published to a stopped broker"


@pytest.fixture
def dying_broker(broker_up: None, tasks: Any) -> Any:
    """A broker that answers the check, then refuses the publish (it died in
    between): the publish after commit fails."""
    tasks.refuse = True
    return tasks


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """An S3-compatible server (moto in server mode) on a free loopback port
    for the session: its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(
    s3_server: str,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Any:
    """A new, empty bucket on the S3 server as this process's default storage.

    STORAGE_BACKEND=s3 and the AWS_* variables are set in the environment too,
    so a worker the test starts inherits them. STORAGE_DIR is the empty folder
    `tmp_path / "storage"`, where nothing may appear. A fixture that sets up
    another storage after this one (`storage`, `workers`) is undone by calling
    `s3_bucket.use(settings, tmp_path / "storage")`.
    """
    import uuid

    from tests.s3 import S3Bucket

    bucket = S3Bucket(f"studio-{uuid.uuid4().hex[:16]}", s3_server)
    bucket.client().create_bucket(Bucket=bucket.name)
    for name, value in bucket.env().items():
        monkeypatch.setenv(name, value)
    storage_dir = tmp_path / "storage"
    storage_dir.mkdir(exist_ok=True)
    bucket.use(settings, storage_dir)
    return bucket
