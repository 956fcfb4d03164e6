from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from studio.builds.models import Build
from studio.builds.services.builds import snapshot
from studio.catalog.models import Provider
from studio.lib import queue
from studio.lib.health import Check
from studio.pluginfmt.package import package
from tests.builds.conftest import workers
from tests.builds.test_smoke import make_plugin
from tests.catalog.conftest import Personas, personas
from tests.factories import make_provider

__all__ = ["Personas", "personas", "workers"]


@pytest.fixture
def storage(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The broker is up; debugging tasks published are recorded here."""
    from studio.debugging import tasks

    published: list[dict[str, Any]] = []
    monkeypatch.setattr(queue, "check_broker", lambda: Check(True, "stand-in"))
    monkeypatch.setattr(
        tasks.debug_session_run,
        "apply_async",
        lambda kwargs=None, **options: published.append(kwargs or {}),
    )
    return published


@pytest.fixture
def provider(personas: Personas) -> Provider:
    return make_provider(personas.team)


@pytest.fixture
def build(provider: Provider, storage: Path) -> Build:
    """A succeeded build whose artifact is a real OpenAI-compatible plugin."""
    made = Build.objects.create(
        provider=provider,
        team=provider.team,
        source=snapshot(provider),
        status=Build.Status.SUCCEEDED,
        plugin_version="0.0.1",
    )
    made.artifact.save(
        "gateway.difypkg", ContentFile(package(make_plugin(["predefined-model"])))
    )
    return made
