"""STORAGE_BACKEND=s3 end to end: real worker processes, each on a "machine" of
its own (an empty STUDIO_VAR_DIR), share nothing with the web process but the
database, the broker and moto's S3 bucket. They build and import; the web
process serves the downloads from the bucket, to a browser session and to
`curl -L` with an API token as docs/api.md shows."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from studio.audit.models import AuditEvent
from studio.builds import services
from studio.builds.models import Build
from studio.catalog.models import ImportJob, Provider
from studio.catalog.services import import_jobs, provider_files
from studio.pluginfmt import signing
from tests.api.conftest import make_token
from tests.builds.conftest import Personas, Workers, login
from tests.builds.test_e2e import wait_for_end
from tests.catalog.import_inputs import MIB, plugin_files, zip_of
from tests.factories import make_provider
from tests.s3 import S3Bucket, fetch, files_under

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def machines(
    workers: Workers,
    s3_bucket: S3Bucket,
    settings: Any,
    tmp_path: Path,
) -> Any:
    """Start a worker "machine": its own empty STUDIO_VAR_DIR, the bucket for
    storage; the SECRET_KEY it shares with the web, as production does."""
    s3_bucket.use(settings, tmp_path / "storage")  # `workers` set a folder up

    def start(name: str) -> Any:
        var_dir = tmp_path / f"{name}-var"
        var_dir.mkdir()
        process = workers.start(
            name,
            **s3_bucket.env(),
            STUDIO_VAR_DIR=str(var_dir),
            STORAGE_DIR="",  # its default, under its own STUDIO_VAR_DIR
            SECRET_KEY=settings.SECRET_KEY,
        )
        process.var_dir = var_dir
        return process

    return start


def stop(process: Any) -> None:
    process.terminate()
    process.wait(timeout=30)


class TestTwoMachinesOneBucket:
    def test_each_worker_builds_into_the_bucket_and_the_web_serves_both(
        self,
        personas: Personas,
        machines: Any,
        s3_bucket: S3Bucket,
        keypair: tuple[bytes, bytes],
        live_server: Any,
        client: Client,
        settings: Any,
        tmp_path: Path,
    ) -> None:
        key = services.signing_key_upload(
            team=personas.team, user=personas.alice, private_pem=keypair[0]
        )
        provider = make_provider(personas.team, models=2)

        # Machine one builds what bob starts in the browser.
        one = machines("s3-one")
        login(client, personas.bob)
        client.post(reverse("builds:build-create", args=[provider.pk]), {})
        first = wait_for_end(Build.objects.get(provider=provider).pk, timeout=120)
        assert first.status == Build.Status.SUCCEEDED, (
            first.error,
            one.log.read_text()[-3000:],
        )
        assert first.worker_hostname == one.nodename
        stop(one)

        # Machine two, which never saw machine one's files, builds the next.
        two = machines("s3-two")
        token = make_token(personas.bob, personas.team)
        second = services.build_start(provider=provider, user=personas.bob, smoke=False)
        second = wait_for_end(second.pk, timeout=120)
        assert second.status == Build.Status.SUCCEEDED, (
            second.error,
            two.log.read_text()[-3000:],
        )
        assert second.worker_hostname == two.nodename

        # Both artifacts are objects in the bucket; no folder holds a file.
        assert s3_bucket.keys() == sorted([first.artifact.name, second.artifact.name])
        for build in (first, second):
            data = s3_bucket.read(build.artifact.name)
            assert hashlib.sha256(data).hexdigest() == build.sha256
        assert files_under(settings.STORAGE_DIR) == []
        assert files_under(one.var_dir) == []
        assert files_under(two.var_dir) == []

        # The browser session downloads machine two's build from the bucket.
        response = client.get(reverse("builds:build-download", args=[second.pk]))
        assert response.status_code == 302
        fetched = fetch(response["Location"])
        assert hashlib.sha256(fetched.body).hexdigest() == second.sha256
        assert fetched.headers["Content-Disposition"] == (
            f'attachment; filename="{second.artifact_name}"'
        )
        result = signing.verify_signature(fetched.body, [key.public_pem.encode()])
        assert result.valid

        # CI downloads machine one's build with the token and `curl -L -OJ`.
        out = tmp_path / "ci"
        out.mkdir()
        curl = subprocess.run(
            [
                "curl",
                "-sS",
                "--fail-with-body",
                "-L",
                "-OJ",
                "-H",
                f"Authorization: Bearer {token}",
                f"{live_server.url}/api/v1/builds/{first.pk}/artifact",
            ],
            cwd=out,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert curl.returncode == 0, curl.stderr
        [downloaded] = out.iterdir()
        assert downloaded.name == first.artifact_name
        assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == first.sha256
        assert (
            AuditEvent.objects.filter(
                action=AuditEvent.Action.DOWNLOAD, build__in=[first, second]
            ).count()
            == 2
        )


class TestImportOnAMachine:
    def test_a_large_upload_is_read_from_the_bucket_by_a_worker_and_deleted(
        self,
        personas: Personas,
        machines: Any,
        s3_bucket: S3Bucket,
        restored_corpus: Path,
        client: Client,
        settings: Any,
    ) -> None:
        worker = machines("s3-import")
        files = plugin_files(restored_corpus, "tongyi")
        files["_assets/big.bin"] = os.urandom(3 * MIB)  # above the inline limit
        data = zip_of(files, top="tongyi/")
        assert len(data) > import_jobs.INLINE_IMPORT_MAX_BYTES

        login(client, personas.bob)
        response = client.post(
            reverse("catalog:provider-import"),
            {"file": SimpleUploadedFile("tongyi.zip", data)},
        )
        assert response.status_code == 302
        job = ImportJob.objects.get()
        deadline = time.monotonic() + 60
        while (job.is_active or job.source_path) and time.monotonic() < deadline:
            time.sleep(0.2)
            job.refresh_from_db()
        assert job.status == ImportJob.Status.DONE, (
            job.error,
            worker.log.read_text()[-3000:],
        )
        assert provider_files(Provider.objects.get()) == files
        assert s3_bucket.keys() == []
        assert files_under(settings.STORAGE_DIR) == []
        assert files_under(worker.var_dir) == []
