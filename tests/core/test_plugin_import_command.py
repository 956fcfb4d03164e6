"""`manage.py plugin import` and `plugin export`."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from studio.catalog.models import ImportJob, Provider
from studio.pluginfmt.package import package
from studio.pluginfmt.readers import read_folder, read_package
from tests.catalog.import_inputs import share_by_links, with_directory_entries
from tests.factories import make_provider, make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return make_team("Acme", owner=make_user("alice"))


def plugin(*args: str) -> tuple[int, str, str]:
    """Run `manage.py plugin ARGS`: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("plugin", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


class TestImport:
    def test_it_imports_a_corpus_folder_and_reports_it(self, team, restored_corpus):
        status, out, _ = plugin("import", str(restored_corpus / "openai"))
        provider = Provider.objects.get()
        assert status == 0
        assert "imported langgenius/openai" in out
        assert f"as provider {provider.pk} (new)" in out
        assert "models: 52 (llm " in out
        assert provider.team == team
        assert provider.models.count() == 52

    def test_json_output_has_the_report(self, team, restored_corpus):
        status, out, _ = plugin(
            "import", str(restored_corpus / "bedrock"), "--team", team.slug, "--json"
        )
        data = json.loads(out)
        assert status == 0
        assert data["ok"] is True
        assert data["plugin_id"] == "langgenius/bedrock"
        assert data["provider_id"] == Provider.objects.get().pk
        assert data["job_id"] == ImportJob.objects.get().pk
        assert data["models"] == {"llm": 10, "text-embedding": 6, "rerank": 2}
        assert data["model_count"] == 18
        assert data["file_count"] == len(data["files"]) == 79
        assert len(data["orphans"]) == 25
        assert {"path", "reason"} <= set(data["ignored"][0])
        assert {"rule", "severity", "file", "line", "message"} <= set(
            data["findings"][0]
        )
        assert data["errors"] == 0
        # 57: one is bedrock's PRIVACY.md, still the CLI template's placeholder.
        assert data["warnings"] == 57

    def test_it_imports_a_difypkg(self, team, restored_corpus, tmp_path):
        files = read_folder(restored_corpus / "fishaudio")
        pkg = tmp_path / "fishaudio.difypkg"
        pkg.write_bytes(package(files))
        status, _, _ = plugin("import", str(pkg))
        assert status == 0
        assert Provider.objects.get().plugin_id == "langgenius/fishaudio"

    def test_importing_the_same_plugin_again_fails_without_a_mode(
        self, team, restored_corpus
    ):
        path = str(restored_corpus / "deepseek")
        plugin("import", path)
        status, out, _ = plugin("import", path, "--json")
        assert status == 1
        assert "already exists" in json.loads(out)["error"]
        assert Provider.objects.count() == 1

        status, out, _ = plugin("import", path, "--mode", "copy", "--json")
        assert status == 0
        assert json.loads(out)["plugin_id"] == "langgenius/deepseek-copy"
        status, out, _ = plugin("import", path, "--mode", "new-version")
        assert status == 0
        assert "(new-version)" in out
        assert Provider.objects.count() == 2

    def test_unsafe_input_exits_2_and_names_the_entry(self, team, tmp_path):
        junk = tmp_path / "junk.difypkg"
        junk.write_bytes(b"no zip here")
        status, out, _ = plugin("import", str(junk), "--json")
        data = json.loads(out)
        assert status == 2
        assert data["ok"] is False
        assert "not a zip archive" in data["error"]
        assert data["entry"] == str(junk)
        assert Provider.objects.count() == 0

    def test_a_broken_yaml_exits_2_with_file_line_and_rule(
        self, team, restored_corpus, tmp_path
    ):
        folder = tmp_path / "broken"
        folder.mkdir()
        for path, content in read_folder(restored_corpus / "deepseek").items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(content)
        (folder / "manifest.yaml").write_bytes(b"author: x\nname: [\n")
        status, _, err = plugin("import", str(folder))
        assert status == 2
        assert "refused: manifest.yaml:" in err
        assert "[yaml.syntax]" in err
        assert Provider.objects.count() == 0

    def test_a_folder_sharing_files_by_link_stores_the_targets_bytes(
        self, team, corpus_copy
    ):
        folder = corpus_copy("openai")
        targets = share_by_links(folder)

        status, out, _ = plugin("import", str(folder), "--json")

        data = json.loads(out)
        assert status == 0, data
        provider = Provider.objects.get()
        stored = {f.path: bytes(f.content) for f in provider.files.all()}
        assert stored[".difyignore"] == targets[".difyignore"]
        assert stored["README.md"] == targets["README.md"]
        [note] = [n for n in data["notes"] if "symbolic link" in n]
        assert ".difyignore" in note and "README.md" in note
        assert "ordinary file" in note
        # The stored files are ordinary files: nothing left to note about links.
        assert not [f for f in data["findings"] if f["rule"] == "package.symlink"]
        assert not [f for f in provider.findings if f["rule"] == "package.symlink"]

    def test_a_package_with_directory_entries_is_imported_with_a_note(
        self, team, restored_corpus, tmp_path
    ):
        clean = package(read_folder(restored_corpus / "deepseek"))
        pkg = tmp_path / "zipped.difypkg"
        pkg.write_bytes(with_directory_entries(clean))

        status, out, _ = plugin("import", str(pkg), "--json")

        data = json.loads(out)
        assert status == 0, data
        provider = Provider.objects.get()
        stored = {f.path: bytes(f.content) for f in provider.files.all()}
        assert stored == read_package(clean)
        [note] = [n for n in data["notes"] if "directory entries" in n]
        assert "models/" in note and "without them" in note
        assert data["errors"] == provider.error_count == 0
        assert not [f for f in provider.findings if f["rule"].startswith("package.dir")]

    def test_a_link_to_a_folder_exits_2(self, team, corpus_copy):
        folder = corpus_copy("deepseek")
        (folder / "more-models").symlink_to(folder / "models")

        status, _, err = plugin("import", str(folder))

        assert status == 2
        assert "more-models: symlink to something other than a file (folder)" in err

    def test_an_unsafe_svg_icon_exits_2_naming_file_line_and_element(
        self, team, corpus_copy
    ):
        folder = corpus_copy("deepseek")
        (folder / "_assets" / "icon_s_en.svg").write_bytes(
            b'<svg xmlns="http://www.w3.org/2000/svg">\n<use href="https://x/#a"/>'
            b"</svg>"
        )
        status, _, err = plugin("import", str(folder))
        assert status == 2
        assert (
            'refused: _assets/icon_s_en.svg:2: <use> href="https://x/#a" points '
            in (err)
        )
        assert Provider.objects.count() == 0

    def test_a_missing_path_exits_2(self, team, tmp_path):
        status, _, err = plugin("import", str(tmp_path / "nothing"))
        assert status == 2
        assert "no such folder or file" in err

    def test_an_unknown_team_exits_1(self, team, restored_corpus):
        status, _, err = plugin(
            "import", str(restored_corpus / "deepseek"), "--team", "nope"
        )
        assert status == 1
        assert "not imported: no team with the slug 'nope'" in err

    def test_several_teams_need_a_team_slug(self, team, restored_corpus):
        make_team("Umbrella", owner=make_user("mallory"))
        status, _, err = plugin("import", str(restored_corpus / "deepseek"))
        assert status == 1
        assert "--team" in err
        assert Provider.objects.count() == 0


class TestExport:
    def test_an_imported_folder_exports_byte_for_byte(
        self, team, restored_corpus, tmp_path
    ):
        source = restored_corpus / "gemini"
        plugin("import", str(source))
        status, out, _ = plugin(
            "export", "langgenius/gemini", "-o", str(tmp_path / "out"), "--json"
        )
        data = json.loads(out)
        assert status == 0
        assert data["files"] == len(read_folder(source))
        assert read_folder(tmp_path / "out") == read_folder(source)

    def test_it_exports_by_numeric_id(self, team, tmp_path):
        provider = make_provider(team)
        status, out, _ = plugin("export", str(provider.pk), "-o", str(tmp_path / "o"))
        assert status == 0
        assert f"of acme/gateway to {tmp_path / 'o'}" in out
        assert (tmp_path / "o" / "manifest.yaml").is_file()

    def test_an_unknown_provider_exits_1(self, team, tmp_path):
        status, _, err = plugin("export", "acme/none", "-o", str(tmp_path / "o"))
        assert status == 1
        assert "no provider acme/none" in err
        assert not (tmp_path / "o").exists()

    def test_an_ambiguous_name_needs_the_team(self, team, tmp_path):
        make_provider(team)
        other = make_team("Umbrella", owner=make_user("mallory"))
        make_provider(other)
        status, out, _ = plugin(
            "export", "acme/gateway", "-o", str(tmp_path / "o"), "--json"
        )
        assert status == 1
        assert json.loads(out) == {
            "ok": False,
            "error": "acme/gateway exists in several teams: name one with --team SLUG",
        }
        status, _, _ = plugin(
            "export", "acme/gateway", "-o", str(tmp_path / "o"), "--team", other.slug
        )
        assert status == 0

    def test_it_does_not_write_into_a_folder_that_is_not_empty(self, team, tmp_path):
        provider = make_provider(team)
        (tmp_path / "mine.txt").write_text("keep")
        status, _, err = plugin("export", str(provider.pk), "-o", str(tmp_path))
        assert status == 1
        assert "not empty" in err
        status, _, _ = plugin(
            "export", str(provider.pk), "-o", str(tmp_path), "--force"
        )
        assert status == 0
        assert not (tmp_path / "mine.txt").exists()
        assert (tmp_path / "manifest.yaml").is_file()
