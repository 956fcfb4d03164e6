"""A large upload imported by a real worker process, through a real Redis."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from studio.catalog.models import ImportJob, Provider
from studio.catalog.services import import_jobs, provider_files
from tests.catalog.import_inputs import MIB, listing, plugin_files, zip_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def shared_storage(settings, monkeypatch, tmp_path: Path) -> Path:
    """One storage folder for this process and the worker (started after)."""
    root = tmp_path / "storage"
    root.mkdir()
    monkeypatch.setenv("STORAGE_DIR", str(root))
    settings.STORAGE_DIR = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def wait_until_finished(job_id: int, timeout: float = 60) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        # The worker deletes the stored upload just after committing the import.
        if not job.is_active and not job.source_path:
            return job
        time.sleep(0.2)
    raise AssertionError(f"import {job_id} did not finish within {timeout} s")


class TestLargeImportEndToEnd:
    def test_a_large_upload_is_imported_by_the_worker(
        self, personas, restored_corpus, shared_storage, celery_worker_process
    ):
        files = plugin_files(restored_corpus, "tongyi")
        # Incompressible bytes make the upload larger than the inline limit.
        files["_assets/big.bin"] = os.urandom(3 * MIB)
        data = zip_of(files, top="tongyi/")
        assert len(data) > import_jobs.INLINE_IMPORT_MAX_BYTES

        client = Client()
        client.force_login(personas.bob)
        response = client.post(
            reverse("catalog:provider-import"),
            {"file": SimpleUploadedFile("tongyi.zip", data)},
        )
        job = ImportJob.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "catalog:import-job", kwargs={"job_id": job.pk}
        )

        job = wait_until_finished(job.pk)
        assert job.status == ImportJob.Status.DONE, job.error
        provider = Provider.objects.get()
        assert provider.models.count() == 104
        assert provider_files(provider) == files
        assert [p for p in listing(shared_storage) if "." in p] == []
        page = client.get(
            reverse("catalog:import-job", kwargs={"job_id": job.pk}),
            headers={"HX-Request": "true"},
        )
        assert page.status_code == 286
        assert "Models per type" in page.content.decode()
