"""Import screens: upload, job page (polling, conflict choice), report page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from studio.catalog.models import ImportJob, Provider
from studio.catalog.services import import_jobs, imports
from tests.catalog.import_inputs import (
    HOSTILE,
    Hostile,
    MultipartFile,
    counts,
    listing,
    plugin_files,
    write_big_zip,
    zip_of,
)

pytestmark = pytest.mark.django_db

IMPORT = reverse("catalog:provider-import")


@pytest.fixture
def storage(settings, tmp_path: Path) -> Path:
    root = tmp_path / "storage"
    root.mkdir()
    settings.STORAGE_DIR = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def login(client: Client, user) -> Client:
    client.force_login(user)
    return client


def upload(client: Client, name: str, data: bytes, **headers):
    return client.post(
        IMPORT, {"file": SimpleUploadedFile(name, data)}, headers=headers
    )


@pytest.fixture
def deepseek_zip(restored_corpus) -> bytes:
    return zip_of(plugin_files(restored_corpus), top="deepseek/")


@pytest.fixture
def waiting_job(personas, restored_corpus, storage) -> ImportJob:
    """An upload of a plugin the team already has, waiting for a choice."""
    files = plugin_files(restored_corpus)
    imports.import_plugin(team=personas.team, user=personas.alice, files=files)
    return import_jobs.import_upload(
        team=personas.team,
        user=personas.bob,
        upload=SimpleUploadedFile("deepseek.zip", zip_of(files)),
    )


class TestUploadPage:
    def test_it_shows_the_upload_form(self, client, personas):
        response = login(client, personas.bob).get(IMPORT)
        assert response.status_code == 200
        body = response.content.decode()
        assert 'enctype="multipart/form-data"' in body
        assert 'name="file"' in body
        assert "js/imports.js" in body
        assert "No import yet." in body

    def test_an_htmx_request_gets_only_the_form(self, client, personas):
        response = login(client, personas.bob).get(
            IMPORT, headers={"HX-Request": "true"}
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert 'id="import-form"' in body
        assert "<html" not in body

    def test_a_small_plugin_is_imported_at_once(
        self, client, personas, deepseek_zip, storage
    ):
        response = upload(login(client, personas.bob), "deepseek.zip", deepseek_zip)
        provider = Provider.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "catalog:provider-import-report", kwargs={"provider_id": provider.pk}
        )
        assert provider.plugin_id == "langgenius/deepseek"
        assert provider.created_by == personas.bob
        assert provider.models.count() == 2
        assert listing(storage) == []

    def test_an_htmx_upload_is_answered_with_a_client_redirect(
        self, client, personas, deepseek_zip, storage
    ):
        response = upload(
            login(client, personas.bob),
            "deepseek.zip",
            deepseek_zip,
            **{"HX-Request": "true"},
        )
        assert response.status_code == 200
        assert response["HX-Redirect"].endswith("/import-report")

    def test_a_large_plugin_goes_to_a_worker(
        self,
        client,
        personas,
        deepseek_zip,
        storage,
        monkeypatch,
        django_capture_on_commit_callbacks,
        broker_up,
    ):
        monkeypatch.setattr(import_jobs, "INLINE_IMPORT_MAX_BYTES", 1024)
        with django_capture_on_commit_callbacks() as callbacks:
            response = upload(login(client, personas.bob), "d.zip", deepseek_zip)
        job = ImportJob.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "catalog:import-job", kwargs={"job_id": job.pk}
        )
        assert len(callbacks) == 1
        assert job.status == ImportJob.Status.QUEUED
        assert (storage / job.source_path).read_bytes() == deepseek_zip
        assert Provider.objects.count() == 0

    def test_a_plugin_the_team_has_asks_what_to_do(
        self, client, personas, deepseek_zip, storage
    ):
        c = login(client, personas.bob)
        upload(c, "deepseek.zip", deepseek_zip)
        response = upload(c, "deepseek.zip", deepseek_zip)
        job = ImportJob.objects.get(status=ImportJob.Status.NEEDS_CHOICE)
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "catalog:import-job", kwargs={"job_id": job.pk}
        )
        assert Provider.objects.count() == 1

    @pytest.mark.parametrize("case", HOSTILE, ids=lambda h: h.id)
    def test_hostile_uploads_get_a_400_and_leave_nothing_behind(
        self, client, personas, restored_corpus, storage, case: Hostile
    ):
        data = case.build(plugin_files(restored_corpus))
        c = login(client, personas.bob)
        before, stored = counts(), listing(storage)
        response = upload(c, case.filename, data)
        assert response.status_code == 400
        body = response.content.decode()
        assert "Not imported:" in body
        assert escape(case.expect) in body
        assert counts() == before
        assert listing(storage) == stored

    def test_a_hostile_htmx_upload_gets_the_form_with_its_error(
        self, client, personas, storage
    ):
        response = upload(
            login(client, personas.bob),
            "junk.zip",
            b"not a zip at all",
            **{"HX-Request": "true"},
        )
        body = response.content.decode()
        assert response.status_code == 400
        assert "<html" not in body
        assert "not a zip archive" in body

    def test_a_60_mib_upload_is_dropped_while_it_streams_in(
        self, client, personas, storage, tmp_path
    ):
        big = write_big_zip(tmp_path / "big.zip")
        c = login(client, personas.bob)
        token = "x" * 32
        c.cookies["csrftoken"] = token
        body = MultipartFile({"csrfmiddlewaretoken": token}, "big.zip", big)
        before = counts()
        response = c.request(
            REQUEST_METHOD="POST",
            PATH_INFO=IMPORT,
            CONTENT_TYPE=body.content_type,
            CONTENT_LENGTH=str(body.length),
            **{"wsgi.input": body},
        )
        assert response.status_code == 400
        assert "larger than 50 MiB" in response.content.decode()
        assert counts() == before
        assert listing(storage) == []

    def test_a_file_of_another_kind_is_refused(self, client, personas, storage):
        response = upload(login(client, personas.bob), "plugin.tar.gz", b"x" * 10)
        assert response.status_code == 400
        assert "upload a .difypkg package or a .zip" in response.content.decode()
        assert counts()["jobs"] == 0

    def test_posting_without_a_file_is_a_form_error(self, client, personas):
        response = login(client, personas.bob).post(IMPORT, {})
        assert response.status_code == 400
        assert "This field is required" in response.content.decode()

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_a_reviewer_or_viewer_cannot_import(
        self, client, personas, deepseek_zip, who
    ):
        c = login(client, getattr(personas, who))
        assert c.get(IMPORT).status_code == 403
        assert upload(c, "d.zip", deepseek_zip).status_code == 403
        assert Provider.objects.count() == 0

    def test_wrong_method_is_405(self, client, personas):
        assert login(client, personas.bob).put(IMPORT).status_code == 405

    def test_the_upload_needs_a_csrf_token(self, personas, deepseek_zip):
        c = login(Client(enforce_csrf_checks=True), personas.bob)
        response = upload(c, "d.zip", deepseek_zip)
        assert response.status_code == 403
        assert Provider.objects.count() == 0

    def test_recent_imports_are_listed_for_the_team_only(
        self, client, personas, deepseek_zip, storage
    ):
        upload(login(client, personas.bob), "deepseek.zip", deepseek_zip)
        assert "langgenius/deepseek" in client.get(IMPORT).content.decode()
        other = login(Client(), personas.mallory).get(IMPORT).content.decode()
        assert "langgenius/deepseek" not in other


class TestJobPage:
    def url(self, job: ImportJob, name: str = "catalog:import-job") -> str:
        return reverse(name, kwargs={"job_id": job.pk})

    def test_a_waiting_job_offers_new_version_or_copy(
        self, client, personas, waiting_job
    ):
        response = login(client, personas.bob).get(self.url(waiting_job))
        body = response.content.decode()
        assert response.status_code == 200
        assert 'value="new-version"' in body
        assert 'value="copy"' in body
        assert f'name="lock_version" value="{waiting_job.provider.lock_version}"' in (
            body
        )

    def test_a_viewer_sees_the_job_but_no_choice(self, client, personas, waiting_job):
        body = login(client, personas.victor).get(self.url(waiting_job)).content
        assert b"Only an owner or author" in body
        assert b'value="copy"' not in body

    def test_an_active_job_polls_and_a_finished_one_stops_polling(
        self,
        client,
        personas,
        storage,
        monkeypatch,
        deepseek_zip,
        django_capture_on_commit_callbacks,
        broker_up,
    ):
        monkeypatch.setattr(import_jobs, "INLINE_IMPORT_MAX_BYTES", 1024)
        c = login(client, personas.bob)
        with django_capture_on_commit_callbacks():
            upload(c, "d.zip", deepseek_zip)
        job = ImportJob.objects.get()
        polling = c.get(self.url(job), headers={"HX-Request": "true"})
        assert polling.status_code == 200
        assert 'hx-trigger="every 1s"' in polling.content.decode()
        assert "<html" not in polling.content.decode()

        import_jobs.import_job_run(job_id=job.pk)
        done = c.get(self.url(job), headers={"HX-Request": "true"})
        assert done.status_code == 286
        body = done.content.decode()
        assert "hx-trigger" not in body
        assert "Models per type" in body

    def test_choosing_a_copy_imports_a_second_provider(
        self, client, personas, waiting_job, storage
    ):
        response = login(client, personas.bob).post(
            self.url(waiting_job, "catalog:import-job-choose"), {"mode": "copy"}
        )
        copy = Provider.objects.get(name="deepseek-copy")
        assert response.status_code == 302
        assert response["Location"].endswith(f"/providers/{copy.pk}/import-report")
        assert listing(storage) == ["imports"]

    def test_choosing_a_new_version_replaces_the_files(
        self, client, personas, waiting_job
    ):
        provider = waiting_job.provider
        response = login(client, personas.bob).post(
            self.url(waiting_job, "catalog:import-job-choose"),
            {"mode": "new-version", "lock_version": provider.lock_version},
        )
        assert response.status_code == 302
        assert Provider.objects.count() == 1
        waiting_job.refresh_from_db()
        assert waiting_job.status == ImportJob.Status.DONE
        assert waiting_job.mode == ImportJob.Mode.NEW_VERSION

    def test_a_stale_new_version_choice_is_a_409_and_keeps_the_upload(
        self, client, personas, waiting_job, storage
    ):
        stale = waiting_job.provider.lock_version - 1
        response = login(client, personas.bob).post(
            self.url(waiting_job, "catalog:import-job-choose"),
            {"mode": "new-version", "lock_version": stale},
        )
        body = response.content.decode()
        assert response.status_code == 409
        assert "changed since this page was loaded" in body
        assert (
            f'name="lock_version" value="{waiting_job.provider.lock_version}"' in body
        )
        waiting_job.refresh_from_db()
        assert waiting_job.status == ImportJob.Status.NEEDS_CHOICE
        assert (storage / waiting_job.source_path).is_file()

    def test_an_invalid_choice_is_a_400(self, client, personas, waiting_job):
        response = login(client, personas.bob).post(
            self.url(waiting_job, "catalog:import-job-choose"), {"mode": "overwrite"}
        )
        assert response.status_code == 400
        assert Provider.objects.count() == 1

    def test_cancelling_deletes_the_upload(
        self, client, personas, waiting_job, storage
    ):
        response = login(client, personas.bob).post(
            self.url(waiting_job, "catalog:import-job-cancel")
        )
        assert response.status_code == 302
        waiting_job.refresh_from_db()
        assert waiting_job.status == ImportJob.Status.CANCELLED
        assert listing(storage) == ["imports"]

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_a_reviewer_or_viewer_cannot_choose_or_cancel(
        self, client, personas, waiting_job, who
    ):
        c = login(client, getattr(personas, who))
        choose = c.post(
            self.url(waiting_job, "catalog:import-job-choose"), {"mode": "copy"}
        )
        cancel = c.post(self.url(waiting_job, "catalog:import-job-cancel"))
        assert (choose.status_code, cancel.status_code) == (403, 403)
        waiting_job.refresh_from_db()
        assert waiting_job.status == ImportJob.Status.NEEDS_CHOICE

    def test_another_team_gets_404(self, client, personas, waiting_job):
        c = login(client, personas.mallory)
        assert c.get(self.url(waiting_job)).status_code == 404
        choose = c.post(
            self.url(waiting_job, "catalog:import-job-choose"), {"mode": "copy"}
        )
        assert choose.status_code == 404
        cancel = c.post(self.url(waiting_job, "catalog:import-job-cancel"))
        assert cancel.status_code == 404
        assert Provider.objects.count() == 1

    def test_wrong_methods_are_405(self, client, personas, waiting_job):
        c = login(client, personas.bob)
        assert c.post(self.url(waiting_job)).status_code == 405
        assert c.get(
            self.url(waiting_job, "catalog:import-job-choose")
        ).status_code == (405)
        assert c.get(
            self.url(waiting_job, "catalog:import-job-cancel")
        ).status_code == (405)

    def test_a_failed_job_says_why(
        self,
        client,
        personas,
        storage,
        monkeypatch,
        restored_corpus,
        django_capture_on_commit_callbacks,
        broker_up,
    ):
        monkeypatch.setattr(import_jobs, "INLINE_IMPORT_MAX_BYTES", 1024)
        data = HOSTILE[0].build(plugin_files(restored_corpus))
        c = login(client, personas.bob)
        with django_capture_on_commit_callbacks():
            upload(c, "evil.zip", data)
        job = import_jobs.import_job_run(job_id=ImportJob.objects.get().pk)
        body = c.get(self.url(job)).content.decode()
        assert "Not imported: ../../etc/evil.yaml: path escapes the plugin root" in (
            body
        )


class TestReportPage:
    @pytest.fixture
    def imported(self, personas, restored_corpus) -> Provider:
        report = imports.import_plugin(
            team=personas.team,
            user=personas.bob,
            files=plugin_files(restored_corpus, "bedrock"),
            source="bedrock.difypkg",
        )
        return Provider.objects.get(pk=report.provider_id)

    def url(self, provider: Provider) -> str:
        return reverse(
            "catalog:provider-import-report", kwargs={"provider_id": provider.pk}
        )

    def test_it_shows_models_files_warnings_and_what_was_ignored(
        self, client, personas, imported
    ):
        response = login(client, personas.victor).get(self.url(imported))
        body = response.content.decode()
        assert response.status_code == 200
        assert "<html" in body
        assert "Models per type" in body
        assert "<tr><th>llm</th><td>10</td></tr>" in body
        assert "<tr><th>rerank</th><td>2</td></tr>" in body
        assert "<tr><th>total</th><td>18</td></tr>" in body
        assert "package.orphan-yaml" in body
        assert "models/llm/" in body
        assert "no `models.&lt;type&gt;.predefined` glob" in body
        assert "Files carried: 79" in body
        assert "bedrock.difypkg" in body

    def test_an_htmx_request_gets_only_the_report(self, client, personas, imported):
        response = login(client, personas.bob).get(
            self.url(imported), headers={"HX-Request": "true"}
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert body.lstrip().startswith('<div id="import-report">')

    def test_a_provider_made_in_the_studio_has_no_report(self, client, personas):
        from tests.factories import make_provider

        provider = make_provider(personas.team)
        body = login(client, personas.bob).get(self.url(provider)).content.decode()
        assert "This provider was not imported" in body

    def test_another_team_gets_404(self, client, personas, imported):
        assert login(client, personas.mallory).get(self.url(imported)).status_code == (
            404
        )

    def test_wrong_method_is_405(self, client, personas, imported):
        assert login(client, personas.bob).post(self.url(imported)).status_code == 405
