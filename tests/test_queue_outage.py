"""A broker outage never answers 500 and never leaves a row waiting for nothing.

Every path that queues work for a worker (large imports and their choice
step, in the browser and the API; worker checks; builds; releases) asks the
broker first: stopped, the request answers 503 with a message and saves
nothing. When the broker dies between that check and the publish (after the
commit), the row is marked failed with the reason and its stored upload goes.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from studio.builds.models import Build
from studio.catalog.models import ImportJob, Provider, ProviderFile
from studio.catalog.services import import_jobs, imports
from studio.core.models import WorkerCheck
from studio.pluginfmt.scaffold import scaffold
from tests.api.conftest import (
    Api,
    Revisions,
    api,
    fresh_rate_limiter,
    personas,
    plugin_zip,
    provider,
    revisions,
    storage,
    tokens,
)
from tests.catalog.conftest import Personas
from tests.catalog.import_inputs import listing, zip_of
from tests.factories import make_new_plugin
from tests.queueing import Tasks

__all__ = [
    "api",
    "fresh_rate_limiter",
    "personas",
    "provider",
    "revisions",
    "storage",
    "tokens",
]

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
DOWN = "The job queue (Redis) is unreachable"
NOTHING_SAVED = "nothing was saved. Try again in a minute."
# A refused request answers at once: a ping with a one-second timeout.
QUICK = 3.0


def rows() -> dict[str, int]:
    return {
        "import jobs": ImportJob.objects.count(),
        "providers": Provider.objects.count(),
        "provider files": ProviderFile.objects.count(),
        "worker checks": WorkerCheck.objects.count(),
        "builds": Build.objects.count(),
    }


def big_plugin_zip(name: str = "bigone") -> bytes:
    """A plugin zip above the inline-import size: a worker would import it."""
    files = scaffold(make_new_plugin(name))
    files["_assets/blob.bin"] = os.urandom(import_jobs.INLINE_IMPORT_MAX_BYTES + 1024)
    return zip_of(files)


@pytest.fixture
def bob(client: Client, personas: Personas) -> Client:
    client.force_login(personas.bob)
    return client


@pytest.fixture
def staff(client: Client, personas: Personas) -> Client:
    """bob as an administrator: the worker check is theirs alone."""
    personas.bob.is_staff = True
    personas.bob.save(update_fields=["is_staff"])
    client.force_login(personas.bob)
    return client


def timed(call: Any) -> Any:
    began = time.monotonic()
    response = call()
    assert time.monotonic() - began < QUICK
    return response


def import_page(client: Client, data: bytes, **headers: str) -> Any:
    return client.post(
        reverse("catalog:provider-import"),
        {"file": SimpleUploadedFile("big.zip", data)},
        headers=headers,
    )


def api_import(api: Api, data: bytes, **fields: str) -> Any:
    return api.post(
        "/api/v1/imports", {"file": SimpleUploadedFile("big.zip", data), **fields}
    )


def waiting_for_choice(personas: Personas, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An upload of a plugin Acme has, waiting for a choice, large enough that
    the choice goes to a worker."""
    imports.import_plugin(
        team=personas.team,
        user=personas.bob,
        files=scaffold(make_new_plugin("again")),
    )
    files = scaffold(make_new_plugin("again"))
    files["README.md"] = b"# second\n"
    job = import_jobs.import_upload(
        team=personas.team,
        user=personas.bob,
        upload=SimpleUploadedFile("again.zip", zip_of(files)),
    )
    assert job.status == ImportJob.Status.NEEDS_CHOICE
    monkeypatch.setattr(import_jobs, "INLINE_IMPORT_MAX_BYTES", job.source_size - 1)
    return job


# ---------------------------------------------------------------- stopped


class TestBrokerStopped:
    def test_a_large_browser_import_is_a_503_that_saves_nothing(
        self, bob: Client, storage: Any, dead_broker: str
    ) -> None:
        data = big_plugin_zip()
        before, stored = rows(), listing(storage)
        page = timed(lambda: import_page(bob, data))
        partial = timed(lambda: import_page(bob, data, **HTMX))
        assert page.status_code == 503 and partial.status_code == 503
        for response in (page, partial):
            body = response.content.decode()
            assert f"{DOWN}; {NOTHING_SAVED}" in body
            assert 'id="import-form"' in body
        assert "<html" in page.content.decode()
        assert "<html" not in partial.content.decode()
        assert rows() == before and listing(storage) == stored

    def test_a_small_browser_import_needs_no_queue(
        self, bob: Client, storage: Any, dead_broker: str
    ) -> None:
        response = import_page(bob, plugin_zip("small"))
        assert response.status_code == 302
        assert Provider.objects.get().name == "small"

    @pytest.mark.parametrize("mode", ["new", "new-version", "copy"])
    def test_a_large_api_import_is_a_503_that_saves_nothing(
        self, api: Api, storage: Any, dead_broker: str, mode: str
    ) -> None:
        data = big_plugin_zip()
        before, stored = rows(), listing(storage)
        response = timed(lambda: api_import(api, data, mode=mode))
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "queue_unavailable"
        assert error["message"].startswith(f"{DOWN}; {NOTHING_SAVED}")
        assert rows() == before and listing(storage) == stored

    def test_a_choice_for_a_large_upload_is_a_503_and_still_waits(
        self,
        bob: Client,
        api: Api,
        personas: Personas,
        storage: Any,
        dead_broker: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        job = waiting_for_choice(personas, monkeypatch)
        before, stored = rows(), listing(storage)
        url = reverse("catalog:import-job-choose", kwargs={"job_id": job.pk})
        page = timed(lambda: bob.post(url, {"mode": "copy"}))
        partial = timed(lambda: bob.post(url, {"mode": "copy"}, headers=HTMX))
        by_api = timed(
            lambda: api.post(f"/api/v1/imports/{job.pk}/choice", '{"mode": "copy"}')
        )
        assert [r.status_code for r in (page, partial, by_api)] == [503] * 3
        assert f"{DOWN}; nothing was saved" in page.content.decode()
        assert "<html" not in partial.content.decode()
        assert by_api.json()["error"]["code"] == "queue_unavailable"
        job.refresh_from_db()
        assert job.status == ImportJob.Status.NEEDS_CHOICE
        assert job.mode == ImportJob.Mode.NEW
        assert rows() == before and listing(storage) == stored

    def test_a_worker_check_is_a_503_that_saves_nothing(
        self, staff: Client, storage: Any, dead_broker: str
    ) -> None:
        url = reverse("worker-check-create")
        page = timed(lambda: staff.post(url))
        partial = timed(lambda: staff.post(url, headers=HTMX))
        assert page.status_code == 503 and partial.status_code == 503
        assert f"{DOWN}; {NOTHING_SAVED}" in page.content.decode()
        assert "<html" in page.content.decode()
        body = partial.content.decode()
        assert f"{DOWN}; {NOTHING_SAVED}" in body
        assert 'id="worker-checks"' in body and "<html" not in body
        assert WorkerCheck.objects.count() == 0 and listing(storage) == []

    def test_a_build_is_a_503_that_saves_nothing(
        self, bob: Client, api: Api, provider: Provider, dead_broker: str
    ) -> None:
        before = rows()
        page = timed(
            lambda: bob.post(reverse("builds:build-create", args=[provider.pk]))
        )
        by_api = timed(
            lambda: api.post(f"/api/v1/providers/{provider.pk}/builds", "{}")
        )
        assert page.status_code == 503 and by_api.status_code == 503
        assert f"{DOWN}; {NOTHING_SAVED}" in page.content.decode()
        assert by_api.json()["error"]["code"] == "queue_unavailable"
        assert rows() == before

    def test_a_release_is_a_503_that_leaves_no_build(
        self,
        client: Client,
        api: Api,
        personas: Personas,
        revisions: Revisions,
        dead_broker: str,
    ) -> None:
        provider = revisions.provider
        client.force_login(personas.alice)
        url = reverse("reviews:revision-release", args=[provider.pk, 1])
        page = timed(lambda: client.post(url, headers=HTMX))
        by_api = timed(
            lambda: api.post(
                f"/api/v1/providers/{provider.pk}/releases", '{"revision": 1}'
            )
        )
        assert page.status_code == 503 and by_api.status_code == 503
        assert f"{DOWN}; {NOTHING_SAVED}" in page.content.decode()
        assert by_api.json()["error"]["code"] == "queue_unavailable"
        assert Build.objects.count() == 0


# ---------------------------------------------------------------- after commit


@pytest.mark.django_db(transaction=True)
class TestPublishFailsAfterCommit:
    def assert_failed_import(self, storage: Any) -> ImportJob:
        job = ImportJob.objects.get(status=ImportJob.Status.FAILED)
        assert job.error.startswith("could not queue: ")
        assert "Error 111" in job.error
        assert job.source_path == "" and job.finished_at is not None
        assert not [p for p in listing(storage) if p.startswith("imports/")]
        return job

    def test_a_browser_import_fails_its_job_and_drops_the_upload(
        self,
        bob: Client,
        storage: Any,
        dying_broker: Tasks,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(import_jobs, "INLINE_IMPORT_MAX_BYTES", 1024)
        response = import_page(bob, plugin_zip("late"), **HTMX)
        assert response.status_code == 503
        job = self.assert_failed_import(storage)
        body = response.content.decode()
        assert f"{DOWN}; import {job.pk} was marked failed" in body
        assert Provider.objects.count() == 0

    def test_an_api_import_fails_its_job_and_drops_the_upload(
        self,
        api: Api,
        storage: Any,
        dying_broker: Tasks,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(import_jobs, "INLINE_IMPORT_MAX_BYTES", 1024)
        response = api_import(api, plugin_zip("late"))
        assert response.status_code == 503
        job = self.assert_failed_import(storage)
        error = response.json()["error"]
        assert error["code"] == "queue_unavailable"
        assert error["context"] == {"import_id": job.pk}

    def test_a_choice_fails_its_job_and_drops_the_upload(
        self,
        bob: Client,
        personas: Personas,
        storage: Any,
        dying_broker: Tasks,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        job = waiting_for_choice(personas, monkeypatch)
        url = reverse("catalog:import-job-choose", kwargs={"job_id": job.pk})
        response = bob.post(url, {"mode": "copy"}, headers=HTMX)
        assert response.status_code == 503
        assert self.assert_failed_import(storage) == job
        assert Provider.objects.count() == 1

    def test_a_worker_check_is_marked_failed(
        self, staff: Client, dying_broker: Tasks
    ) -> None:
        response = staff.post(reverse("worker-check-create"), headers=HTMX)
        assert response.status_code == 503
        check = WorkerCheck.objects.get()
        assert check.status == WorkerCheck.Status.FAILED
        assert check.error.startswith("could not queue: ")
        assert check.completed_at is not None
        body = response.content.decode()
        assert f"worker check {check.pk} was marked failed" in body
        assert "could not queue" in body  # the table says why
        assert "every 1s" not in body  # and stops polling

    def test_a_build_is_marked_failed(
        self, api: Api, provider: Provider, storage: Any, dying_broker: Tasks
    ) -> None:
        response = api.post(f"/api/v1/providers/{provider.pk}/builds", "{}")
        assert response.status_code == 503
        build = Build.objects.get()
        assert build.status == Build.Status.FAILED
        assert build.error.startswith("could not queue: ")
        assert response.json()["error"]["context"] == {"build_id": build.pk}

    def test_a_release_is_marked_failed(
        self,
        client: Client,
        personas: Personas,
        revisions: Revisions,
        storage: Any,
        dying_broker: Tasks,
    ) -> None:
        provider = revisions.provider
        client.force_login(personas.alice)
        url = reverse("reviews:revision-release", args=[provider.pk, 1])
        response = client.post(url, headers=HTMX)
        assert response.status_code == 503
        build = Build.objects.get()
        assert build.kind == Build.Kind.RELEASE
        assert build.status == Build.Status.FAILED
        assert build.error.startswith("could not queue: ")
        assert f"build {build.pk} was marked failed" in response.content.decode()
