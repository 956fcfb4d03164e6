"""Importing plugins through the API: modes, conflicts, refusals, size cap."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import SkipFile

from studio.api.routing import _LimitedUploadHandler
from studio.catalog.models import ImportJob, Provider
from studio.catalog.services import import_jobs, imports, provider_files
from studio.pluginfmt.scaffold import scaffold
from tests.api.conftest import Api, plugin_zip
from tests.catalog.conftest import Personas
from tests.catalog.import_inputs import counts, zip_of
from tests.factories import make_new_plugin
from tests.queueing import Tasks
from tests.svg_inputs import HOSTILE_SVGS

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports"
MIB = 1024 * 1024


def upload(
    api: Api,
    data: bytes,
    *,
    name: str = "plugin.zip",
    token: str | None = None,
    **fields: str,
) -> Any:
    return api.post(
        URL, {"file": SimpleUploadedFile(name, data), **fields}, token=token
    )


def big_plugin_zip(name: str = "bigone") -> bytes:
    """A plugin zip above the inline-import size (a worker imports it)."""
    files = scaffold(make_new_plugin(name))
    files["_assets/blob.bin"] = os.urandom(import_jobs.INLINE_IMPORT_MAX_BYTES + 1024)
    return zip_of(files)


@pytest.fixture
def queue(broker_up: None, tasks: Tasks) -> Tasks:
    """A broker that is up; what is sent to it once the request commits."""
    return tasks


def upload_committed(capture: Any, api: Api, data: bytes, **fields: str) -> Any:
    """Upload, and run what the request queued after its commit."""
    with capture(execute=True):
        return upload(api, data, **fields)


class TestImportCreate:
    def test_it_imports_a_zip_at_once(
        self, api: Api, storage: Any, personas: Personas
    ) -> None:
        response = upload(api, plugin_zip("uploaded"))
        assert response.status_code == 201
        body = response.json()
        provider = Provider.objects.get(pk=body["provider_id"])
        assert (provider.team, provider.plugin_id) == (personas.team, "acme/uploaded")
        assert body["status"] == "done" and body["finished"] is True
        assert body["report"]["plugin_id"] == "acme/uploaded"
        assert response["Location"] == f"/api/v1/imports/{body['id']}"
        job = ImportJob.objects.get(pk=body["id"])
        assert job.user == personas.bob

    def test_a_plugin_the_team_has_is_a_409_with_the_way_out(
        self, api: Api, storage: Any
    ) -> None:
        upload(api, plugin_zip("twice"))
        response = upload(api, plugin_zip("twice"))
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "conflict"
        job = ImportJob.objects.get(pk=error["context"]["import_id"])
        assert job.status == ImportJob.Status.NEEDS_CHOICE
        assert f"/api/v1/imports/{job.pk}/choice" in error["message"]

    def test_new_version_replaces_the_files_of_the_provider(
        self, api: Api, storage: Any
    ) -> None:
        first = upload(api, plugin_zip("evolving")).json()
        files = scaffold(make_new_plugin("evolving"))
        files["README.md"] = b"# version two\n"
        response = upload(api, zip_of(files), mode="new-version")
        assert response.status_code == 201
        body = response.json()
        assert body["provider_id"] == first["provider_id"]
        provider = Provider.objects.get(pk=body["provider_id"])
        assert provider_files(provider)["README.md"] == b"# version two\n"
        assert Provider.objects.count() == 1

    def test_new_version_of_a_plugin_the_team_lacks_is_a_409(
        self, api: Api, storage: Any
    ) -> None:
        before = counts()
        response = upload(api, plugin_zip("absent"), mode="new-version")
        assert response.status_code == 409
        assert "does not exist" in response.json()["error"]["message"]
        assert counts() == before

    def test_copy_imports_under_a_new_name(self, api: Api, storage: Any) -> None:
        upload(api, plugin_zip("twin"))
        response = upload(api, plugin_zip("twin"), mode="copy")
        assert response.status_code == 201
        assert Provider.objects.get(pk=response.json()["provider_id"]).name == (
            "twin-copy"
        )

    @pytest.mark.parametrize(
        ("name", "data", "words"),
        [
            ("plugin.zip", b"not a zip at all", "zip"),
            ("plugin.txt", b"PK\x03\x04", ".difypkg"),
            ("plugin.zip", b"", "empty"),
            ("plugin.zip", zip_of({"README.md": b"hi"}), "manifest"),
        ],
    )
    def test_refused_input_is_a_400_and_saves_nothing(
        self, api: Api, storage: Any, name: str, data: bytes, words: str
    ) -> None:
        before = counts()
        response = upload(api, data, name=name)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid_request"
        assert words in error["message"]
        assert counts() == before

    @pytest.mark.parametrize("mode", ["new", "new-version", "copy"])
    def test_an_unsafe_svg_icon_is_a_400_naming_file_line_and_element(
        self, api: Api, storage: Any, mode: str
    ) -> None:
        files = scaffold(make_new_plugin("uploaded"))
        upload(api, zip_of(files))  # the provider a new version or copy needs
        before = counts()
        files["_assets/icon.svg"] = HOSTILE_SVGS[0].content
        response = upload(api, zip_of(files), mode=mode)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid_request"
        assert error["message"].startswith(
            "Not imported: _assets/icon.svg:2: <script> is not allowed in an icon"
        )
        assert error["context"] == {
            "entry": "_assets/icon.svg",
            "line": 2,
            "rules": [],
        }
        assert counts() == before

    def test_a_missing_file_is_a_400_naming_the_field(self, api: Api) -> None:
        response = api.post(URL, {"mode": "new"})
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["loc"] == ["form", "file"]

    def test_an_unknown_mode_is_a_400(self, api: Api, storage: Any) -> None:
        response = upload(api, plugin_zip(), mode="overwrite")
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["loc"] == ["form", "mode"]

    def test_a_json_body_is_a_400(self, api: Api) -> None:
        response = api.post(URL, '{"file": "x"}')
        assert response.status_code == 400
        assert "multipart" in response.json()["error"]["message"]

    def test_a_broken_multipart_body_is_a_400(self, api: Api) -> None:
        response = api.post(
            URL,
            "--x\r\nContent-Disposition: form-data\r\n\r\nbroken",
            content_type="multipart/form-data; boundary=",
        )
        assert response.status_code == 400

    @pytest.mark.parametrize("reader", ["carol", "victor"])
    def test_a_reader_cannot_import(
        self, api: Api, storage: Any, tokens: dict[str, str], reader: str
    ) -> None:
        before = counts()
        response = upload(api, plugin_zip(), token=tokens[reader])
        assert response.status_code == 403
        assert counts() == before

    def test_an_upload_over_50_mib_is_a_413_before_it_is_read(
        self, api: Api, storage: Any
    ) -> None:
        before = counts()
        response = upload(api, b"\0" * (imports.MAX_UPLOAD_BYTES + 2 * MIB))
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"
        assert counts() == before

    def test_an_upload_just_over_50_mib_is_dropped_while_it_streams(
        self, api: Api, storage: Any
    ) -> None:
        # Within the Content-Length slack: the upload handler catches it.
        before = counts()
        response = upload(api, b"\0" * (imports.MAX_UPLOAD_BYTES + 100 * 1024))
        assert response.status_code == 413
        assert counts() == before
        assert not list(storage.rglob("*.zip"))

    def test_the_upload_handler_counts_every_file(self) -> None:
        handler = _LimitedUploadHandler(None, 10)  # type: ignore[arg-type]
        assert handler.receive_data_chunk(b"x" * 6, 0) == b"x" * 6
        with pytest.raises(SkipFile):
            handler.receive_data_chunk(b"x" * 6, 6)
        assert handler.too_large


class TestLargeImports:
    def test_a_large_upload_is_queued_then_imported_by_a_worker(
        self,
        api: Api,
        storage: Any,
        queue: Tasks,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        response = upload_committed(
            django_capture_on_commit_callbacks, api, big_plugin_zip()
        )
        assert response.status_code == 202
        body = response.json()
        assert body["status"] == "queued" and body["provider_id"] is None
        assert queue.sent == [
            ("studio.catalog.tasks.import_job_run", {"job_id": body["id"]})
        ]
        import_jobs.import_job_run(job_id=body["id"])
        done = api.get(f"/api/v1/imports/{body['id']}").json()
        assert done["status"] == "done"
        assert Provider.objects.get(pk=done["provider_id"]).name == "bigone"

    def test_a_large_new_version_is_imported_with_that_mode(
        self, api: Api, storage: Any, queue: Tasks
    ) -> None:
        first = upload(api, plugin_zip("bigone")).json()
        response = upload(api, big_plugin_zip(), mode="new-version")
        assert response.status_code == 202
        job = import_jobs.import_job_run(job_id=response.json()["id"])
        assert job is not None and job.status == ImportJob.Status.DONE
        assert job.provider_id == first["provider_id"]
        provider = Provider.objects.get(pk=first["provider_id"])
        assert "_assets/blob.bin" in provider_files(provider)

    def test_a_large_upload_with_the_queue_down_is_a_503(
        self, api: Api, storage: Any, dead_broker: str
    ) -> None:
        before = counts()
        response = upload(api, big_plugin_zip())
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "queue_unavailable"
        assert counts() == before
        assert not list(storage.rglob("*.zip"))


class TestImportRead:
    def test_it_reads_an_import_and_its_report(
        self, api: Api, import_job: ImportJob
    ) -> None:
        body = api.get(f"/api/v1/imports/{import_job.pk}").json()
        assert body["status"] == "done"
        assert body["provider_id"] == import_job.provider_id
        assert body["report"]["provider_id"] == import_job.provider_id
        assert body["report"]["files"]


class TestImportChoice:
    @pytest.fixture
    def waiting(self, api: Api, storage: Any) -> int:
        upload(api, plugin_zip("again"))
        files = scaffold(make_new_plugin("again"))
        files["README.md"] = b"# second\n"
        error = upload(api, zip_of(files)).json()["error"]
        return int(error["context"]["import_id"])

    def test_new_version_goes_on_with_the_stored_upload(
        self, api: Api, waiting: int
    ) -> None:
        response = api.post(
            f"/api/v1/imports/{waiting}/choice", '{"mode": "new-version"}'
        )
        assert response.status_code == 201
        body = response.json()
        assert body["status"] == "done" and body["mode"] == "new-version"
        provider = Provider.objects.get(pk=body["provider_id"])
        assert provider_files(provider)["README.md"] == b"# second\n"

    def test_cancel_drops_the_import(
        self, api: Api, waiting: int, storage: Any
    ) -> None:
        response = api.post(f"/api/v1/imports/{waiting}/choice", '{"mode": "cancel"}')
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        assert not [p for p in storage.rglob("*") if p.is_file()]

    def test_a_finished_import_has_no_choice_left(
        self, api: Api, import_job: ImportJob
    ) -> None:
        response = api.post(
            f"/api/v1/imports/{import_job.pk}/choice", '{"mode": "copy"}'
        )
        assert response.status_code == 409

    def test_a_reader_cannot_choose(
        self, api: Api, waiting: int, tokens: dict[str, str]
    ) -> None:
        response = api.post(
            f"/api/v1/imports/{waiting}/choice",
            '{"mode": "copy"}',
            token=tokens["victor"],
        )
        assert response.status_code == 403
        assert ImportJob.objects.get(pk=waiting).status == "needs-choice"

    def test_an_unknown_choice_is_a_400(self, api: Api, waiting: int) -> None:
        response = api.post(f"/api/v1/imports/{waiting}/choice", '{"mode": "new"}')
        assert response.status_code == 400
