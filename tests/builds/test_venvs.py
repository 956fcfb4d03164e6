"""The SDK venv cache as configured, and its pre-warming when a worker starts."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from celery.signals import worker_ready

from studio.builds import services, tasks
from studio.pluginfmt import sdkenv
from studio.pluginfmt.scaffold import SDK_REQUIREMENT


class TestOptions:
    def test_they_come_from_the_settings(self, settings: Any, tmp_path: Path) -> None:
        settings.SMOKE_VENV_DIR = tmp_path / "venvs"
        settings.SDK_UV_CACHE_DIR = tmp_path / "uv"
        settings.SDK_VENV_CACHE_MAX_MB = 300

        assert services.sdk_venv_options() == {
            "cache_dir": tmp_path / "venvs",
            "uv_cache_dir": tmp_path / "uv",
            "max_bytes": 300 * 1024 * 1024,
        }


class TestPrewarm:
    def test_it_builds_the_venv_of_a_new_plugins_requirements(
        self,
        settings: Any,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        settings.SMOKE_VENV_DIR = tmp_path / "venvs"
        settings.SDK_UV_CACHE_DIR = tmp_path / "uv"
        settings.SDK_VENV_CACHE_MAX_MB = 100
        calls: list[tuple[str, dict[str, Any]]] = []

        def prepare(requirements: str, **options: Any) -> sdkenv.SdkVenv:
            calls.append((requirements, options))
            return sdkenv.SdkVenv(
                python=tmp_path / "venvs" / "py312-x" / "bin" / "python",
                key="py312-x",
                interpreter=sdkenv.find_python(),
                built=True,
                installer="uv 0.13.9",
            )

        monkeypatch.setattr(sdkenv, "prepare_sdk_venv", prepare)
        with caplog.at_level(logging.INFO, logger="studio.builds.services.venvs"):
            venv = services.sdk_venv_prewarm()

        assert venv is not None and venv.key == "py312-x"
        assert calls == [
            (
                f"{SDK_REQUIREMENT}\n",
                {
                    "cache_dir": tmp_path / "venvs",
                    "uv_cache_dir": tmp_path / "uv",
                    "max_bytes": 100 * 1024 * 1024,
                },
            )
        ]
        assert "SDK virtualenv py312-x built with uv 0.13.9 in" in caplog.text

    def test_a_failure_is_logged_not_raised(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        def refuse(requirements: str, **options: Any) -> sdkenv.SdkVenv:
            raise sdkenv.SdkEnvError("uv pip install failed with exit code 2:\noffline")

        monkeypatch.setattr(sdkenv, "prepare_sdk_venv", refuse)
        with caplog.at_level(logging.WARNING, logger="studio.builds.services.venvs"):
            assert services.sdk_venv_prewarm() is None

        assert "pre-warming the SDK virtualenv failed: uv pip install failed" in (
            caplog.text
        )


class TestWorkerReady:
    def test_the_prewarm_hook_listens_for_worker_ready(self) -> None:
        assert tasks._prewarm_on_worker_ready in worker_ready._live_receivers(None)

    def test_it_starts_the_prewarm_in_the_background_and_returns_at_once(
        self, settings: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings.SDK_VENV_PREWARM = True
        release = threading.Event()
        ran: list[str] = []

        def slow_prewarm() -> None:
            ran.append(threading.current_thread().name)
            release.wait(10)

        monkeypatch.setattr(services, "sdk_venv_prewarm", slow_prewarm)
        started = time.monotonic()
        thread = tasks._prewarm_on_worker_ready(sender=None)
        returned_after = time.monotonic() - started

        try:
            assert thread is not None
            assert returned_after < 1.0
            assert thread.daemon
            assert thread.is_alive()  # still "building" while the worker serves
        finally:
            release.set()
        thread.join(5)
        assert ran == ["sdk-venv-prewarm"]

    def test_it_does_nothing_when_switched_off(
        self, settings: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings.SDK_VENV_PREWARM = False
        monkeypatch.setattr(
            services, "sdk_venv_prewarm", lambda: pytest.fail("pre-warmed")
        )

        assert tasks._prewarm_on_worker_ready(sender=None) is None
