from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.test import Client

from studio.catalog import services as catalog
from studio.catalog.models import Provider
from studio.pluginfmt.document import PluginDocument
from studio.reviews import services
from studio.reviews.models import Revision
from tests.builds.conftest import (
    Published,
    broker,
    keypair,
    login,
    run_published,
    storage,
)
from tests.catalog.conftest import Personas, personas
from tests.factories import make_provider

__all__ = [
    "Personas",
    "Published",
    "broker",
    "keypair",
    "personas",
    "run_published",
    "storage",
]

HTMX = {"HX-Request": "true"}


@pytest.fixture
def provider(personas: Personas) -> Provider:
    """Acme's generated provider with two llm models, model-000 and model-001."""
    return make_provider(personas.team, models=2)


@pytest.fixture
def as_user(personas: Personas, client: Client) -> Callable[[str], Client]:
    def log_in(name: str) -> Client:
        return login(client, getattr(personas, name))

    return log_in


def edit(provider: Provider, change: Callable[[PluginDocument], None]) -> None:
    """Change the provider's draft as the editing screens do."""
    catalog.provider_edit(provider=provider, lock_version=None, change=change)


def set_price(price: str, model: str = "model-000") -> Callable[[PluginDocument], None]:
    def change(doc: PluginDocument) -> None:
        entry = next(m for m in doc.models if m.spec.model == model)
        assert entry.spec.pricing is not None
        entry.spec.pricing.input = price

    return change


def bump(version: str) -> Callable[[PluginDocument], None]:
    def change(doc: PluginDocument) -> None:
        doc.manifest.spec.version = version

    return change


def submit(provider: Provider, user: User, message: str = "Please review") -> Revision:
    return services.revision_submit(provider=provider, user=user, message=message)


def approve(revision: Revision, user: User) -> Revision:
    services.revision_decide(revision=revision, user=user, verdict="approve")
    revision.refresh_from_db()
    return revision


def price_of(files: dict[str, bytes], model: str = "model-000") -> str:
    """The input price in a model file, as text ("0.5")."""
    data: Any = yaml.safe_load(files[f"models/llm/{model}.yaml"])
    return str(Decimal(str(data["pricing"]["input"])))
