from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from studio.api import services, throttling
from studio.api.models import ApiToken
from studio.catalog.models import Provider, Team
from studio.pluginfmt.scaffold import scaffold
from tests.builds.conftest import Published, broker, run_published, storage
from tests.catalog.conftest import Personas, personas
from tests.catalog.import_inputs import zip_of
from tests.factories import make_new_plugin, make_provider

__all__ = ["Personas", "Published", "broker", "personas", "run_published", "storage"]


@pytest.fixture(autouse=True)
def fresh_rate_limiter() -> None:
    """Each test finds Redis as it is (no outage remembered from another test)."""
    throttling.rate_reset_outage()


def make_token(
    user: User,
    team: Team,
    *,
    kind: str = ApiToken.Kind.PERSONAL,
    role: str = "",
    name: str = "ci",
    expires_at: datetime | None = None,
) -> str:
    """A token's secret (its row is `ApiToken.objects.get(prefix=secret[:12])`)."""
    return services.token_create(
        team=team,
        created_by=user,
        kind=kind,
        name=name,
        role=role,
        expires_at=expires_at,
    ).secret


def token_row(secret: str) -> ApiToken:
    return ApiToken.objects.get(prefix=secret[: services.PREFIX_LENGTH])


class Api:
    """The test client speaking to /api/v1/ with a bearer token."""

    def __init__(self, client: Client, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def headers(self, token: str | None) -> dict[str, str]:
        token = self.token if token is None else token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, *, token: str | None = None, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.headers(token), **kwargs)

    def post(
        self, path: str, data: Any = None, *, token: str | None = None, **kwargs: Any
    ) -> Any:
        if "content_type" not in kwargs and not isinstance(data, dict):
            kwargs["content_type"] = "application/json"
        return self.client.post(path, data, headers=self.headers(token), **kwargs)

    def delete(self, path: str, *, token: str | None = None, **kwargs: Any) -> Any:
        return self.client.delete(path, headers=self.headers(token), **kwargs)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        if method == "POST":
            return self.post(path, "{}", **kwargs)
        return self.get(path, **kwargs)


@pytest.fixture
def tokens(personas: Personas) -> dict[str, str]:
    """alice (owner), bob (author), carol (reviewer), victor (viewer) of Acme,
    mallory of Umbrella: one personal token each."""
    return {
        name: make_token(
            getattr(personas, name),
            personas.other_team if name == "mallory" else personas.team,
        )
        for name in ("alice", "bob", "carol", "victor", "mallory")
    }


@pytest.fixture
def api(client: Client, tokens: dict[str, str]) -> Api:
    """The API as bob (author in Acme)."""
    return Api(client, tokens["bob"])


@pytest.fixture
def provider(personas: Personas) -> Provider:
    return make_provider(personas.team, models=2)


def plugin_zip(name: str = "uploaded", *, author: str = "acme") -> bytes:
    """A .zip of a generated plugin folder."""
    return zip_of(scaffold(make_new_plugin(name, author=author)))


MakeToken = Callable[..., str]


@pytest.fixture
def finished_build(
    provider: Provider,
    broker: Published,
    run_published: Any,
    django_capture_on_commit_callbacks: Any,
) -> Any:
    """A succeeded dev build of `provider` with its artifact in storage."""
    from studio.builds import services as build_services
    from studio.builds.models import Build

    with django_capture_on_commit_callbacks(execute=True):
        build = build_services.build_start(provider=provider, user=None, smoke=False)
    with django_capture_on_commit_callbacks(execute=True):
        run_published()
    build.refresh_from_db()
    assert build.status == Build.Status.SUCCEEDED, build.error
    return build


@pytest.fixture
def import_job(personas: Personas, storage: Any) -> Any:
    """A done import of a generated plugin into Acme."""
    from studio.catalog.models import ImportJob
    from studio.catalog.services import imports
    from studio.pluginfmt.readers import read_zip

    files = read_zip(plugin_zip("imported"))
    report = imports.import_plugin(
        team=personas.team, user=personas.bob, files=files, source="imported.zip"
    )
    return ImportJob.objects.get(pk=report.job_id)


@dataclass
class Revisions:
    """r1 approved by carol, r2 (price of model-000 raised, version 0.1.0) in
    review; both submitted by bob."""

    provider: Provider
    approved: Any
    pending: Any


@pytest.fixture
def revisions(provider: Provider, personas: Personas) -> Revisions:
    from studio.catalog import services as catalog
    from studio.reviews import services as reviews

    first = reviews.revision_submit(provider=provider, user=personas.bob, message="r1")
    reviews.revision_decide(revision=first, user=personas.carol, verdict="approve")
    first.refresh_from_db()

    def change(doc: Any) -> None:
        entry = next(m for m in doc.models if m.spec.model == "model-000")
        entry.spec.pricing.input = "0.9"
        doc.manifest.spec.version = "0.1.0"

    catalog.provider_edit(provider=provider, lock_version=None, change=change)
    second = reviews.revision_submit(
        provider=provider, user=personas.bob, message="dearer"
    )
    return Revisions(provider=provider, approved=first, pending=second)
