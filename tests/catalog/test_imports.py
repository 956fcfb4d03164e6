"""Import services: round trips over the corpus, atomic refusals, conflicts, jobs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile

from studio.catalog import services
from studio.catalog.models import ImportJob, Provider, ProviderFile, Runtime
from studio.catalog.services import exports, import_jobs, import_report, imports
from studio.lib import queue
from studio.lib.health import Check
from studio.pluginfmt.document import load_document
from studio.pluginfmt.package import package
from studio.pluginfmt.readers import read_folder, read_package
from studio.pluginfmt.verify import verify
from tests.catalog.import_inputs import (
    HOSTILE,
    MIB,
    Hostile,
    counts,
    listing,
    plugin_files,
    share_by_links,
    with_directory_entries,
    write_big_zip,
    zip_of,
)
from tests.conftest import CORPUS_PLUGINS
from tests.factories import make_provider
from tests.svg_inputs import HOSTILE_SVGS

pytestmark = pytest.mark.django_db


@pytest.fixture
def storage(settings, tmp_path: Path) -> Path:
    """Default storage in a fresh folder, so tests can list what it holds."""
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


def errors_of(files: dict[str, bytes]) -> set[tuple[str, str]]:
    return {(f.rule, f.file) for f in verify(files) if f.severity == "error"}


def import_new(personas, files, **kwargs) -> import_report.ImportReport:
    return imports.import_plugin(
        team=personas.team, user=personas.alice, files=files, **kwargs
    )


class TestCorpusRoundTrip:
    @pytest.mark.parametrize("name", CORPUS_PLUGINS)
    def test_an_import_exports_the_same_files_and_packages_the_same_errors(
        self, personas, restored_corpus, tmp_path, name
    ):
        files = read_folder(restored_corpus / name)
        report = import_new(personas, files, source=name)

        provider = Provider.objects.get(pk=report.provider_id)
        out = tmp_path / "export"
        exports.provider_export(provider=provider, dest=out)
        exported = read_folder(out)
        assert sorted(exported) == sorted(files)
        for path, content in files.items():
            if path.endswith((".yaml", ".yml")):
                assert yaml.safe_load(exported[path]) == yaml.safe_load(content), path
            assert exported[path] == content, path

        repackaged = package(services.provider_files(provider))
        assert repackaged == package(files)
        assert errors_of(read_package(repackaged)) == errors_of(files) == set()

    @pytest.mark.parametrize("name", CORPUS_PLUGINS)
    def test_the_report_counts_the_models_the_globs_find(
        self, personas, restored_corpus, name
    ):
        files = read_folder(restored_corpus / name)
        doc = load_document(files)
        report = import_new(personas, files)

        provider = Provider.objects.get(pk=report.provider_id)
        assert provider.runtime == Runtime.IMPORTED
        assert report.model_count == len(doc.models) == provider.models.count()
        assert report.orphans == doc.orphans
        assert {f.path for f in report.files} == set(files)
        assert report.total_bytes == sum(len(c) for c in files.values())
        assert ProviderFile.objects.filter(provider=provider).count() == len(files)
        job = ImportJob.objects.get(pk=report.job_id)
        assert job.status == ImportJob.Status.DONE
        assert job.provider == provider
        assert imports.report_of(job) == report


class TestReport:
    def test_it_counts_models_per_type_in_dify_order(self, personas, restored_corpus):
        report = import_new(personas, plugin_files(restored_corpus, "openai"))
        assert list(report.models) == [
            "llm",
            "text-embedding",
            "speech2text",
            "tts",
            "moderation",
        ]
        assert report.models["text-embedding"] == 3

    def test_orphan_yamls_are_reported_as_ignored(self, personas, restored_corpus):
        report = import_new(personas, plugin_files(restored_corpus, "bedrock"))
        assert len(report.orphans) == 25
        ignored = {i.path for i in report.ignored if "no `models." in i.reason}
        assert ignored == set(report.orphans)
        orphan = [f for f in report.findings if f["rule"] == "package.orphan-yaml"]
        assert len(orphan) == 25

    def test_warnings_carry_their_rule_ids(self, personas, restored_corpus):
        report = import_new(personas, plugin_files(restored_corpus, "upstage"))
        rules = {f["rule"] for f in report.findings if f["severity"] == "warning"}
        assert rules
        assert all("." in rule for rule in rules)
        assert report.warnings == Provider.objects.get().warning_count

    def test_files_difyignore_leaves_out_of_packages_are_listed(
        self, personas, restored_corpus
    ):
        files = plugin_files(restored_corpus)
        files[".difyignore"] = b"tests/\n"
        report = import_new(personas, files)
        left_out = {i.path for i in report.ignored if ".difyignore" in i.reason}
        assert left_out == {"tests/test_live.py", "tests/test_llm_call.py"}

    def test_verifier_errors_are_imported_and_reported(self, personas, restored_corpus):
        files = plugin_files(restored_corpus)
        files["manifest.yaml"] = files["manifest.yaml"].replace(
            b"version: 0.", b"version: banana0."
        )
        report = import_new(personas, files)
        assert report.errors >= 1
        assert Provider.objects.get().error_count == report.errors
        assert services.provider_files(Provider.objects.get()) == files


class TestRepackagedInput:
    def test_an_upload_with_directory_entries_is_imported_without_them(
        self, personas, restored_corpus, storage
    ):
        clean = package(plugin_files(restored_corpus))
        upload = SimpleUploadedFile("zipped.difypkg", with_directory_entries(clean))

        job = import_jobs.import_upload(
            team=personas.team, user=personas.bob, upload=upload
        )

        report = imports.report_of(job)
        assert report is not None
        provider = Provider.objects.get()
        assert services.provider_files(provider) == read_package(clean)
        assert package(services.provider_files(provider)) == clean
        [note] = [n for n in report.notes if "directory entries" in n]
        assert "models/" in note
        assert report.errors == provider.error_count == 0
        rules = {f["rule"] for f in report.findings} | {
            f["rule"] for f in provider.findings
        }
        assert "package.directory-entry" not in rules

    def test_a_folder_read_through_links_is_stored_as_plain_files(
        self, personas, corpus_copy
    ):
        folder = corpus_copy("deepseek")
        targets = share_by_links(folder)

        report = imports.import_path(path=folder, team_slug=personas.team.slug)

        provider = Provider.objects.get()
        stored = services.provider_files(provider)
        assert {p: stored[p] for p in targets} == targets
        assert any("symbolic link" in n for n in report.notes)
        assert "package.symlink" not in {f["rule"] for f in provider.findings}


class TestAtomicRefusal:
    @pytest.mark.parametrize("case", HOSTILE, ids=lambda h: h.id)
    def test_hostile_input_is_refused_and_leaves_nothing_behind(
        self, personas, restored_corpus, storage, case: Hostile
    ):
        data = case.build(plugin_files(restored_corpus))
        before, stored = counts(), listing(storage)
        upload = SimpleUploadedFile(case.filename, data)
        with pytest.raises(imports.ImportRefused) as refused:
            import_jobs.import_upload(
                team=personas.team, user=personas.bob, upload=upload
            )
        assert case.expect in str(refused.value)
        assert counts() == before
        assert listing(storage) == stored

    def test_a_60_mib_upload_is_refused_by_its_size(self, personas, storage, tmp_path):
        big = write_big_zip(tmp_path / "big.zip")
        before = counts()
        with big.open("rb") as fh:
            upload = UploadedFile(fh, name="big.zip", size=big.stat().st_size)
            with pytest.raises(imports.ImportRefused, match="at most 50 MiB"):
                import_jobs.import_upload(
                    team=personas.team, user=personas.bob, upload=upload
                )
        assert counts() == before
        assert listing(storage) == []

    def test_a_60_mib_file_on_the_server_is_refused_by_the_reader(
        self, personas, tmp_path
    ):
        big = write_big_zip(tmp_path / "big.zip")
        before = counts()
        with pytest.raises(imports.ImportRefused) as refused:
            imports.import_path(path=big, team_slug=personas.team.slug)
        assert refused.value.entry == "_assets/huge.bin"
        assert "larger than" in str(refused.value)
        assert counts() == before

    def test_the_refusal_names_file_line_and_rule(self, personas, restored_corpus):
        files = plugin_files(restored_corpus)
        files["models/llm/deepseek-v4-pro.yaml"] = b"model: x\nlabel: a: b\n"
        with pytest.raises(imports.ImportRefused) as refused:
            import_new(personas, files)
        assert refused.value.entry == "models/llm/deepseek-v4-pro.yaml"
        assert refused.value.line == 2
        assert "mapping values" in refused.value.message
        assert refused.value.rules == ["yaml.syntax"]
        assert str(refused.value).startswith("models/llm/deepseek-v4-pro.yaml:2: ")

    def test_an_unsafe_svg_is_refused_naming_file_line_and_element(
        self, personas, restored_corpus
    ):
        files = plugin_files(restored_corpus)
        files["_assets/icon_l_en.svg"] = (
            b'<svg xmlns="http://www.w3.org/2000/svg">\n<rect width="1"/>\n'
            b'<image href="https://evil.example/x.png"/>\n<script/></svg>'
        )
        with pytest.raises(imports.ImportRefused) as refused:
            import_new(personas, files)
        assert refused.value.entry == "_assets/icon_l_en.svg"
        assert refused.value.line == 3
        assert str(refused.value).startswith(
            "_assets/icon_l_en.svg:3: <image> may only embed a PNG, JPEG, GIF or "
            'WebP image as a data: URL, not href="https://evil.example/x.png" '
            "(and 1 more problem); replace it with a plain SVG"
        )
        assert counts() == {"providers": 0, "models": 0, "files": 0, "jobs": 0}

    @pytest.mark.parametrize("mode", ["new-version", "copy"])
    def test_an_unsafe_svg_in_a_new_version_or_copy_changes_nothing(
        self, personas, restored_corpus, mode
    ):
        files = plugin_files(restored_corpus)
        provider = Provider.objects.get(pk=import_new(personas, files).provider_id)
        before, stored = counts(), services.provider_files(provider)
        files["_assets/icon_s_en.svg"] = HOSTILE_SVGS[0].content
        with pytest.raises(imports.ImportRefused, match="<script>"):
            import_new(personas, files, mode=mode)
        assert counts() == before
        assert services.provider_files(provider) == stored

    def test_a_failure_while_writing_rolls_everything_back(
        self, personas, restored_corpus, monkeypatch
    ):
        def explode(*args, **kwargs):
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(imports, "build_report", explode)
        before = counts()
        with pytest.raises(RuntimeError):
            import_new(personas, plugin_files(restored_corpus))
        assert counts() == before

    def test_a_manifest_without_a_name_is_refused(self, personas, restored_corpus):
        files = plugin_files(restored_corpus)
        files["manifest.yaml"] = files["manifest.yaml"].replace(
            b"\nname: deepseek", b"\nname: ''"
        )
        with pytest.raises(imports.ImportRefused, match="`name` must be") as refused:
            import_new(personas, files)
        assert refused.value.rules == ["manifest.required"]
        assert Provider.objects.count() == 0


class TestReimport:
    def test_importing_an_existing_plugin_again_overwrites_nothing(
        self, personas, restored_corpus
    ):
        files = plugin_files(restored_corpus)
        first = import_new(personas, files)
        changed = {**files, "README.md": b"changed\n"}
        before = counts()
        with pytest.raises(imports.ImportConflict) as conflict:
            import_new(personas, changed)
        assert conflict.value.provider.pk == first.provider_id
        assert counts() == before
        provider = Provider.objects.get()
        assert services.provider_files(provider)["README.md"] == files["README.md"]

    def test_a_new_version_replaces_the_files_of_the_same_provider(
        self, personas, restored_corpus
    ):
        files = plugin_files(restored_corpus)
        first = import_new(personas, files)
        lock = Provider.objects.get().lock_version
        changed = {**files, "README.md": b"new readme\n"}
        del changed["tests/test_live.py"]
        report = import_new(personas, changed, mode="new-version")

        provider = Provider.objects.get()
        assert report.provider_id == first.provider_id == provider.pk
        assert services.provider_files(provider) == changed
        assert report.changed_paths == ["README.md", "tests/test_live.py"]
        assert provider.lock_version == lock + 1
        assert any("review" in note for note in report.notes)
        assert ImportJob.objects.filter(provider=provider).count() == 2

    def test_a_new_version_of_a_generated_provider_becomes_imported(
        self, personas, restored_corpus
    ):
        make_provider(personas.team, "deepseek", author="langgenius")
        report = import_new(personas, plugin_files(restored_corpus), mode="new-version")
        provider = Provider.objects.get(pk=report.provider_id)
        assert provider.runtime == Runtime.IMPORTED
        assert provider.models.count() == 2

    def test_a_new_version_needs_an_existing_provider(self, personas, restored_corpus):
        with pytest.raises(imports.ImportFailed, match="does not exist"):
            import_new(personas, plugin_files(restored_corpus), mode="new-version")
        assert counts()["providers"] == 0

    def test_a_copy_is_a_second_provider_with_only_the_manifest_name_changed(
        self, personas, restored_corpus
    ):
        files = plugin_files(restored_corpus)
        import_new(personas, files)
        report = import_new(personas, files, mode="copy")
        again = import_new(personas, files, mode="copy")

        assert report.plugin_id == "langgenius/deepseek-copy"
        assert again.plugin_id == "langgenius/deepseek-copy-2"
        assert report.renamed_from == "langgenius/deepseek"
        copy = services.provider_files(Provider.objects.get(pk=report.provider_id))
        assert {p for p in files if copy[p] != files[p]} == {"manifest.yaml"}
        original = yaml.safe_load(files["manifest.yaml"])
        assert yaml.safe_load(copy["manifest.yaml"]) == original | {
            "name": "deepseek-copy"
        }
        assert errors_of(copy) == set()
        assert Provider.objects.count() == 3


class TestImportJobs:
    def large(self, monkeypatch) -> None:
        """Uploads over 1 KiB go to a worker, through a broker that is up."""
        monkeypatch.setattr(import_jobs, "INLINE_IMPORT_MAX_BYTES", 1024)
        monkeypatch.setattr(queue, "check_broker", lambda: Check(True, "up"))

    def test_a_large_upload_is_stored_and_queued_after_commit(
        self,
        personas,
        restored_corpus,
        storage,
        monkeypatch,
        django_capture_on_commit_callbacks,
    ):
        self.large(monkeypatch)
        data = zip_of(plugin_files(restored_corpus), top="deepseek/")
        upload = SimpleUploadedFile("deepseek.zip", data)
        with django_capture_on_commit_callbacks() as callbacks:
            job = import_jobs.import_upload(
                team=personas.team, user=personas.bob, upload=upload
            )
        assert len(callbacks) == 1
        assert job.status == ImportJob.Status.QUEUED
        assert (storage / job.source_path).read_bytes() == data
        assert Provider.objects.count() == 0

        job = import_jobs.import_job_run(job_id=job.pk)
        assert job.status == ImportJob.Status.DONE
        assert job.progress == 100
        assert job.provider.plugin_id == "langgenius/deepseek"
        assert job.source_path == ""
        assert [p for p in listing(storage) if "." in p] == []

    def test_a_refused_large_upload_fails_its_job_and_deletes_the_upload(
        self,
        personas,
        restored_corpus,
        storage,
        monkeypatch,
        django_capture_on_commit_callbacks,
    ):
        self.large(monkeypatch)
        data = HOSTILE[0].build(plugin_files(restored_corpus))
        with django_capture_on_commit_callbacks():
            job = import_jobs.import_upload(
                team=personas.team,
                user=personas.bob,
                upload=SimpleUploadedFile("evil.zip", data),
            )
        job = import_jobs.import_job_run(job_id=job.pk)
        assert job.status == ImportJob.Status.FAILED
        assert "path escapes the plugin root" in job.error
        assert counts() == {"providers": 0, "models": 0, "files": 0, "jobs": 1}
        assert [p for p in listing(storage) if "." in p] == []

    def test_a_job_run_twice_imports_once(
        self,
        personas,
        restored_corpus,
        storage,
        monkeypatch,
        django_capture_on_commit_callbacks,
    ):
        self.large(monkeypatch)
        upload = SimpleUploadedFile("d.zip", zip_of(plugin_files(restored_corpus)))
        with django_capture_on_commit_callbacks():
            job = import_jobs.import_upload(
                team=personas.team, user=personas.bob, upload=upload
            )
        import_jobs.import_job_run(job_id=job.pk)
        import_jobs.import_job_run(job_id=job.pk)
        assert Provider.objects.count() == 1

    def test_an_upload_of_an_existing_plugin_waits_for_a_choice(
        self, personas, restored_corpus, storage
    ):
        files = plugin_files(restored_corpus)
        import_new(personas, files)
        job = import_jobs.import_upload(
            team=personas.team,
            user=personas.bob,
            upload=SimpleUploadedFile("d.zip", zip_of(files)),
        )
        assert job.status == ImportJob.Status.NEEDS_CHOICE
        assert job.provider == Provider.objects.get()
        assert (storage / job.source_path).is_file()

        job = import_jobs.import_job_choose(
            job=job, choice=import_jobs.Choice(mode="copy")
        )
        assert job.status == ImportJob.Status.DONE
        assert job.provider.name == "deepseek-copy"
        assert [p for p in listing(storage) if "." in p] == []

    def test_a_second_choice_for_the_same_upload_is_refused(
        self, personas, restored_corpus, storage
    ):
        files = plugin_files(restored_corpus)
        import_new(personas, files)
        job = import_jobs.import_upload(
            team=personas.team,
            user=personas.bob,
            upload=SimpleUploadedFile("d.zip", zip_of(files)),
        )
        twin = ImportJob.objects.get(pk=job.pk)  # a second tab, still waiting
        import_jobs.import_job_choose(job=job, choice=import_jobs.Choice(mode="copy"))
        with pytest.raises(imports.ImportFailed, match="not waiting for a choice"):
            import_jobs.import_job_choose(
                job=twin, choice=import_jobs.Choice(mode="copy")
            )
        assert Provider.objects.count() == 2

    def test_a_stale_choice_of_new_version_is_refused(
        self, personas, restored_corpus, storage
    ):
        files = plugin_files(restored_corpus)
        import_new(personas, files)
        job = import_jobs.import_upload(
            team=personas.team,
            user=personas.bob,
            upload=SimpleUploadedFile("d.zip", zip_of(files)),
        )
        stale = import_jobs.Choice(
            mode="new-version", lock_version=job.provider.lock_version - 1
        )
        with pytest.raises(services.StaleEdit):
            import_jobs.import_job_choose(job=job, choice=stale)
        job.refresh_from_db()
        assert job.status == ImportJob.Status.NEEDS_CHOICE

    def test_a_large_choice_goes_back_to_the_worker(
        self,
        personas,
        restored_corpus,
        storage,
        monkeypatch,
        django_capture_on_commit_callbacks,
    ):
        files = plugin_files(restored_corpus)
        import_new(personas, files)
        self.large(monkeypatch)
        upload = SimpleUploadedFile("d.zip", zip_of(files))
        with django_capture_on_commit_callbacks():
            job = import_jobs.import_upload(
                team=personas.team, user=personas.bob, upload=upload
            )
        job = import_jobs.import_job_run(job_id=job.pk)
        assert job.status == ImportJob.Status.NEEDS_CHOICE
        with django_capture_on_commit_callbacks() as callbacks:
            job = import_jobs.import_job_choose(
                job=job, choice=import_jobs.Choice(mode="new-version")
            )
        assert len(callbacks) == 1
        assert job.status == ImportJob.Status.QUEUED
        job = import_jobs.import_job_run(job_id=job.pk)
        assert job.status == ImportJob.Status.DONE
        assert job.mode == ImportJob.Mode.NEW_VERSION
        assert Provider.objects.count() == 1

    def test_cancelling_deletes_the_stored_upload(
        self, personas, restored_corpus, storage
    ):
        files = plugin_files(restored_corpus)
        import_new(personas, files)
        job = import_jobs.import_upload(
            team=personas.team,
            user=personas.bob,
            upload=SimpleUploadedFile("d.difypkg", package(files)),
        )
        job = import_jobs.import_job_cancel(job=job)
        assert job.status == ImportJob.Status.CANCELLED
        assert [p for p in listing(storage) if "." in p] == []
        assert Provider.objects.count() == 1


class TestExport:
    def test_it_finds_a_provider_by_id_or_author_and_name(self, personas):
        provider = make_provider(personas.team)
        assert exports.provider_lookup(ref=str(provider.pk)) == provider
        assert exports.provider_lookup(ref="acme/gateway") == provider

    def test_a_name_in_two_teams_needs_the_team(self, personas):
        mine = make_provider(personas.team)
        make_provider(personas.other_team)
        with pytest.raises(exports.ExportFailed, match="several teams"):
            exports.provider_lookup(ref="acme/gateway")
        assert (
            exports.provider_lookup(ref="acme/gateway", team_slug=personas.team.slug)
            == mine
        )

    def test_it_refuses_to_write_into_a_folder_that_is_not_empty(
        self, personas, tmp_path
    ):
        provider = make_provider(personas.team)
        (tmp_path / "keep.txt").write_text("mine")
        with pytest.raises(exports.ExportFailed, match="not empty"):
            exports.provider_export(provider=provider, dest=tmp_path)
        assert (tmp_path / "keep.txt").read_text() == "mine"

    def test_an_exported_zip_reimports_as_the_same_files(
        self, personas, restored_corpus
    ):
        files = plugin_files(restored_corpus, "gemini")
        import_new(personas, files)
        stored = services.provider_files(Provider.objects.get())
        again = imports.read_upload("g.zip", io.BytesIO(zip_of(stored, top="g/")))
        assert again == files

    def test_sizes_above_the_upload_limit_are_refused(self):
        with pytest.raises(imports.ImportRefused, match="50 MiB"):
            imports.check_upload("x.difypkg", 50 * MIB + 1)
        with pytest.raises(imports.ImportRefused, match=r"\.difypkg"):
            imports.check_upload("x.tar.gz", 10)
