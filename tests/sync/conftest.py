from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from studio.builds.mock_upstream import MockUpstream
from studio.catalog.models import Provider
from tests.builds.conftest import broker, run_published, storage
from tests.catalog.conftest import Personas, personas
from tests.factories import make_provider

__all__ = ["Personas", "broker", "personas", "run_published", "storage"]

# The acceptance's upstream: two of the three declared LLMs, and two new ones.
UPSTREAM = ("model-000", "model-002", "gpt-new-1", "gpt-new-2")
API_KEY = "sk-typed-for-this-check-5e1f"


@pytest.fixture
def upstream() -> Iterator[MockUpstream]:
    with MockUpstream(api_key=API_KEY, models=UPSTREAM) as mock:
        yield mock


@pytest.fixture
def allow_loopback(settings: Any) -> None:
    """The mock listens on 127.0.0.1, which the guard refuses unless allowed."""
    settings.SYNC_EGRESS_ALLOW = ["127.0.0.1"]


@pytest.fixture
def provider(personas: Personas) -> Provider:
    """Three declared LLMs: model-000, model-001, model-002."""
    return make_provider(personas.team, models=3)
