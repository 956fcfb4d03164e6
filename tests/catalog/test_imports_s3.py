"""Imports with STORAGE_BACKEND=s3 (moto's S3 server): an upload kept for a
worker or a choice is an object in the bucket, read back from it, and deleted
once the import is done, failed or cancelled. Nothing lands in STORAGE_DIR."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from studio.catalog.models import ImportJob, Provider
from studio.catalog.services import import_jobs, provider_files
from tests.catalog.import_inputs import plugin_files, zip_of
from tests.s3 import S3Bucket, files_under

pytestmark = pytest.mark.django_db

IMPORT = reverse("catalog:provider-import")


def upload(client: Client, data: bytes) -> Any:
    return client.post(IMPORT, {"file": SimpleUploadedFile("deepseek.zip", data)})


def job_url(job: ImportJob, name: str) -> str:
    return reverse(name, kwargs={"job_id": job.pk})


@pytest.fixture
def deepseek_zip(restored_corpus: Any) -> bytes:
    return zip_of(plugin_files(restored_corpus), top="deepseek/")


@pytest.fixture
def waiting(
    s3_bucket: S3Bucket, client: Client, personas: Any, deepseek_zip: bytes
) -> ImportJob:
    """bob uploaded deepseek a second time: the upload waits for a choice."""
    client.force_login(personas.bob)
    upload(client, deepseek_zip)
    response = upload(client, deepseek_zip)
    job = ImportJob.objects.get(status=ImportJob.Status.NEEDS_CHOICE)
    assert response.status_code == 302
    return job


class TestUploadsInTheBucket:
    def test_an_upload_waiting_for_a_choice_is_an_object(
        self,
        s3_bucket: S3Bucket,
        waiting: ImportJob,
        deepseek_zip: bytes,
        settings: Any,
    ) -> None:
        assert waiting.source_path.startswith("imports/")
        assert s3_bucket.keys() == [waiting.source_path]
        assert s3_bucket.read(waiting.source_path) == deepseek_zip
        assert files_under(settings.STORAGE_DIR) == []

    def test_choosing_a_copy_imports_from_the_bucket_and_deletes_the_object(
        self,
        s3_bucket: S3Bucket,
        waiting: ImportJob,
        client: Client,
        settings: Any,
    ) -> None:
        response = client.post(
            job_url(waiting, "catalog:import-job-choose"), {"mode": "copy"}
        )
        copy = Provider.objects.get(name="deepseek-copy")
        assert response.status_code == 302
        waiting.refresh_from_db()
        assert waiting.status == ImportJob.Status.DONE
        assert waiting.source_path == ""
        assert (
            copy.models.count() == Provider.objects.get(name="deepseek").models.count()
        )
        assert s3_bucket.keys() == []
        assert files_under(settings.STORAGE_DIR) == []

    def test_cancelling_deletes_the_object(
        self, s3_bucket: S3Bucket, waiting: ImportJob, client: Client
    ) -> None:
        response = client.post(job_url(waiting, "catalog:import-job-cancel"))
        assert response.status_code == 302
        waiting.refresh_from_db()
        assert waiting.status == ImportJob.Status.CANCELLED
        assert s3_bucket.keys() == []

    def test_an_object_gone_from_the_bucket_fails_the_import_with_a_reason(
        self, s3_bucket: S3Bucket, waiting: ImportJob, client: Client
    ) -> None:
        s3_bucket.client().delete_object(Bucket=s3_bucket.name, Key=waiting.source_path)
        client.post(job_url(waiting, "catalog:import-job-choose"), {"mode": "copy"})
        waiting.refresh_from_db()
        assert waiting.status == ImportJob.Status.FAILED
        assert waiting.error == "the uploaded file is gone; upload it again"
        assert not Provider.objects.filter(name="deepseek-copy").exists()

    def test_a_large_upload_is_stored_for_the_worker_which_reads_and_deletes_it(
        self,
        s3_bucket: S3Bucket,
        client: Client,
        personas: Any,
        deepseek_zip: bytes,
        restored_corpus: Any,
        monkeypatch: pytest.MonkeyPatch,
        broker_up: None,
        tasks: Any,
        settings: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        monkeypatch.setattr(import_jobs, "INLINE_IMPORT_MAX_BYTES", 1024)
        client.force_login(personas.bob)
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(client, deepseek_zip)
        job = ImportJob.objects.get()
        assert response.status_code == 302
        assert job.status == ImportJob.Status.QUEUED
        assert s3_bucket.keys() == [job.source_path]
        assert s3_bucket.read(job.source_path) == deepseek_zip
        assert [kwargs for _, kwargs in tasks.sent] == [{"job_id": job.pk}]

        import_jobs.import_job_run(job_id=job.pk)  # as the worker does
        job.refresh_from_db()
        assert job.status == ImportJob.Status.DONE, job.error
        assert provider_files(Provider.objects.get()) == plugin_files(restored_corpus)
        assert s3_bucket.keys() == []
        assert files_under(settings.STORAGE_DIR) == []
