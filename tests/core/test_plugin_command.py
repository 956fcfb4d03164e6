"""`python manage.py plugin …`: exit codes, JSON shapes, produced files."""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command

from studio.core.management.commands.plugin import HANDLERS
from studio.core.plugin_cli import EXIT_MEANINGS
from studio.pluginfmt.checksum import IDENTIFIER_RE, checksum
from studio.pluginfmt.package import package
from studio.pluginfmt.readers import read_folder, read_package
from tests.catalog.import_inputs import share_by_links, with_directory_entries
from tests.conftest import CORPUS_PLUGINS

ROOT = Path(__file__).resolve().parents[2]


def plugin(*args: str) -> tuple[int, str, str]:
    """Run the command in-process; return (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("plugin", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = int(exc.code or 0)
    return status, out.getvalue(), err.getvalue()


def plugin_json(*args: str) -> tuple[int, dict]:
    status, out, _ = plugin(*args, "--json")
    return status, json.loads(out)


class TestVerify:
    @pytest.mark.parametrize("name", CORPUS_PLUGINS)
    def test_every_corpus_plugin_verifies_with_exit_0(self, restored_corpus, name):
        status, data = plugin_json("verify", str(restored_corpus / name))
        assert status == 0, [f for f in data["findings"] if f["severity"] == "error"]
        assert data["ok"] is True
        assert data["plugin"].count("/") == 1 and ":" in data["plugin"]
        assert set(data["findings"][0]) == {
            "rule",
            "severity",
            "layer",
            "file",
            "line",
            "message",
            "value",
            "fix",
        }

    def test_an_uppercase_author_exits_1_with_the_rule_and_line(self, corpus_copy):
        folder = corpus_copy("deepseek")
        manifest = folder / "manifest.yaml"
        text = manifest.read_text()
        assert "author: langgenius" in text
        manifest.write_text(text.replace("author: langgenius", "author: LangGenius"))
        line = text.splitlines().index("author: langgenius") + 1
        status, data = plugin_json("verify", str(folder))
        assert status == 1
        errors = [f for f in data["findings"] if f["severity"] == "error"]
        assert [(f["rule"], f["file"], f["line"]) for f in errors] == [
            ("manifest.author.pattern", "manifest.yaml", line)
        ]
        assert errors[0]["value"] == "LangGenius"

    def test_the_text_report_names_file_line_rule_and_fix(self, corpus_copy):
        folder = corpus_copy("deepseek")
        lines = (folder / "manifest.yaml").read_text().splitlines(keepends=True)
        index = next(i for i, t in enumerate(lines) if t.startswith("version: "))
        lines[index] = lines[index].replace("version: ", "version: v")
        (folder / "manifest.yaml").write_text("".join(lines))
        status, out, _ = plugin("verify", str(folder))
        assert status == 1
        assert f"manifest.yaml:{index + 1}: error [manifest.version.format]" in out
        assert "fix:" in out

    def test_an_unsafe_zip_exits_2_and_names_the_entry(self, tmp_path):
        bad = tmp_path / "evil.zip"
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("manifest.yaml", "a: 1\n")
            z.writestr("../escape.txt", "x")
        status, data = plugin_json("verify", str(bad))
        assert status == 2
        assert data["ok"] is False
        assert "../escape.txt" in data["error"]

    def test_a_missing_path_exits_2(self, tmp_path):
        status, _, err = plugin("verify", str(tmp_path / "nope"))
        assert status == 2
        assert "refused" in err


class TestPackage:
    @pytest.mark.parametrize("name", CORPUS_PLUGINS)
    def test_the_package_verifies_and_has_the_daemon_layout(
        self, restored_corpus, tmp_path, name
    ):
        out = tmp_path / f"{name}.difypkg"
        status, data = plugin_json(
            "package", str(restored_corpus / name), "-o", str(out)
        )
        assert status == 0, data
        assert data["checksum"] == checksum(out.read_bytes())
        assert IDENTIFIER_RE.fullmatch(data["identifier"])
        with zipfile.ZipFile(out) as z:
            names = z.namelist()
            assert names == sorted(names)
            assert not any(n.endswith("/") for n in names)
            assert z.comment == b""
            assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
            source = restored_corpus / name
            if (source / "uv.lock").exists() and not (
                source / "requirements.txt"
            ).exists():
                requirements = z.read("requirements.txt").decode()
                assert (
                    "dify-plugin==" in requirements or "dify_plugin==" in requirements
                )
        status, verified = plugin_json("verify", str(out))
        assert status == 0
        assert verified["ok"] is True

    def test_it_refuses_to_package_a_plugin_with_errors(self, corpus_copy, tmp_path):
        folder = corpus_copy("deepseek")
        (folder / "main.py").unlink()
        out = tmp_path / "out.difypkg"
        status, data = plugin_json("package", str(folder), "-o", str(out))
        assert status == 1
        assert not out.exists()
        assert any(f["severity"] == "error" for f in data["findings"])

    def test_force_packages_it_anyway(self, corpus_copy, tmp_path):
        folder = corpus_copy("deepseek")
        (folder / "main.py").unlink()
        out = tmp_path / "out.difypkg"
        status, _ = plugin_json("package", str(folder), "-o", str(out), "--force")
        assert status == 0
        assert "main.py" not in read_package(out.read_bytes())


class TestChecksumKeysAndSignatures:
    def test_checksum_prints_the_checksum_and_identifier(
        self, restored_corpus, tmp_path
    ):
        out = tmp_path / "d.difypkg"
        plugin("package", str(restored_corpus / "deepseek"), "-o", str(out))
        status, text, _ = plugin("checksum", str(out))
        digest, identifier = text.split()[:2]
        assert status == 0
        assert digest == checksum(out.read_bytes())
        assert identifier.endswith(f"@{digest}")
        status, folder_data = plugin_json("checksum", str(restored_corpus / "deepseek"))
        assert folder_data["checksum"] == digest

    def test_keygen_sign_and_verify_signature(
        self, restored_corpus, tmp_path, monkeypatch
    ):
        monkeypatch.chdir(tmp_path)
        status, _ = plugin_json("keygen", "team")
        assert status == 0
        private = Path("team.private.pem")
        assert private.stat().st_mode & 0o777 == 0o600
        assert b"PRIVATE KEY" in private.read_bytes()
        assert plugin("keygen", "team")[0] == 1  # never overwrites

        pkg = tmp_path / "d.difypkg"
        plugin("package", str(restored_corpus / "deepseek"), "-o", str(pkg))
        status, signed = plugin_json(
            "sign", str(pkg), "--key", "team.private.pem", "--category", "community"
        )
        signed_path = Path(signed["output"])
        assert status == 0 and signed_path.name == "d.signed.difypkg"

        status, result = plugin_json(
            "verify-signature", str(signed_path), "--key", "team.public.pem"
        )
        assert (status, result["status"], result["category"]) == (
            0,
            "valid",
            "community",
        )
        assert plugin("verify-signature", str(pkg), "--key", "team.public.pem")[0] == 1
        plugin("keygen", "other")
        assert (
            plugin("verify-signature", str(signed_path), "--key", "other.public.pem")[0]
            == 1
        )
        assert plugin("verify-signature", str(signed_path))[0] == 1  # official key

        # Same entries and signature comment, one byte of one file changed.
        bad = tmp_path / "bad.difypkg"
        with zipfile.ZipFile(signed_path) as src, zipfile.ZipFile(bad, "w") as dst:
            for info in src.infolist():
                data = src.read(info)
                if info.filename == "README.md":
                    data = data[:-1] + bytes([data[-1] ^ 1])
                dst.writestr(info, data)
            dst.comment = src.comment
        status, result = plugin_json(
            "verify-signature", str(bad), "--key", "team.public.pem"
        )
        assert (status, result["status"]) == (1, "invalid")


class TestFoldersSharingFilesByLink:
    """Official plugins link shared files (a `.difyignore` to the repository
    root's); the Dify CLI packages the targets' bytes, and so does the studio."""

    def test_it_verifies_with_a_note_naming_each_link_and_target(
        self, corpus_copy, tmp_path
    ):
        folder = corpus_copy("openai")
        share_by_links(folder)

        status, data = plugin_json("verify", str(folder))

        assert status == 0, [f for f in data["findings"] if f["severity"] == "error"]
        notes = [f for f in data["findings"] if f["rule"] == "package.symlink"]
        assert [(f["file"], f["severity"], f["value"]) for f in notes] == [
            (".difyignore", "info", str(tmp_path / ".difyignore")),
            ("README.md", "info", str(tmp_path / "shared" / "README.md")),
        ]

    def test_the_package_holds_the_targets_bytes(self, corpus_copy, tmp_path):
        folder = corpus_copy("openai")
        targets = share_by_links(folder)
        out = tmp_path / "openai.difypkg"

        status, data = plugin_json("package", str(folder), "-o", str(out))

        assert status == 0, data
        packaged = read_package(out.read_bytes())
        assert packaged[".difyignore"] == targets[".difyignore"]
        assert packaged["README.md"] == targets["README.md"]
        assert plugin_json("verify", str(out))[0] == 0

    @pytest.mark.parametrize("command", ["verify", "package"])
    @pytest.mark.parametrize(
        ("link", "target", "reason"),
        [
            ("shared", "models", "(folder)"),
            ("gone.md", "nowhere.md", "dangling"),
            ("loop.md", "loop.md", "looping"),
            ("pipe.md", "../pipe", "(fifo)"),
        ],
        ids=["folder", "dangling", "looping", "fifo"],
    )
    def test_a_link_to_anything_but_a_file_exits_2(
        self, corpus_copy, tmp_path, command, link, target, reason
    ):
        folder = corpus_copy("deepseek")
        os.mkfifo(tmp_path / "pipe")
        (folder / link).symlink_to(target)
        args = ["-o", str(tmp_path / "out.difypkg")] if command == "package" else []

        status, data = plugin_json(command, str(folder), *args)

        assert status == 2
        assert reason in data["error"]
        assert not (tmp_path / "out.difypkg").exists()

    @pytest.mark.parametrize("suffix", [".zip", ".difypkg"])
    def test_a_link_inside_an_archive_exits_2(self, restored_corpus, tmp_path, suffix):
        archive = tmp_path / f"linked{suffix}"
        with zipfile.ZipFile(archive, "w") as z:
            for path, content in read_folder(restored_corpus / "deepseek").items():
                z.writestr(path, content)
            link = zipfile.ZipInfo(".difyignore")
            link.create_system = 3
            link.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(link, "../.difyignore")

        status, data = plugin_json("verify", str(archive))

        assert status == 2
        assert data["error"] == ".difyignore: not a regular file (symlink)"


class TestPackagesWithDirectoryEntries:
    def test_verify_reports_the_first_entry_and_exits_1(
        self, restored_corpus, tmp_path
    ):
        files = read_folder(restored_corpus / "deepseek")
        pkg = tmp_path / "zipped.difypkg"
        pkg.write_bytes(with_directory_entries(package(files)))
        with zipfile.ZipFile(pkg) as z:
            folders = [n for n in z.namelist() if n.endswith("/")]
        assert folders[:2] == ["_assets/", "models/"]

        status, data = plugin_json("verify", str(pkg))

        assert status == 1
        errors = [f for f in data["findings"] if f["severity"] == "error"]
        assert [(f["rule"], f["file"], f["value"]) for f in errors] == [
            ("package.directory-entry", "_assets/", folders)
        ]
        others = f"directory entry _assets/ (and {len(folders) - 1} others)"
        assert others in errors[0]["message"]
        assert "zip -r -D" in errors[0]["fix"]

    def test_the_same_files_packaged_by_the_studio_verify(
        self, restored_corpus, tmp_path
    ):
        pkg = tmp_path / "clean.difypkg"
        pkg.write_bytes(package(read_folder(restored_corpus / "deepseek")))

        assert plugin_json("verify", str(pkg))[0] == 0


class TestExitStatus:
    """0 no errors (warnings allowed), 1 errors or failure, 2 unreadable input:
    said once (`EXIT_MEANINGS`), the same in every --help, the README and docs."""

    @pytest.mark.parametrize("subcommand", [None, *sorted(HANDLERS)])
    def test_every_help_states_the_exit_status(self, capsys, subcommand):
        args = ["--help"] if subcommand is None else [subcommand, "--help"]
        with pytest.raises(SystemExit) as exited:
            call_command("plugin", *args)

        assert exited.value.code == 0
        assert sorted(EXIT_MEANINGS) == [0, 1, 2]
        text = " ".join(capsys.readouterr().out.split())
        for status, meaning in EXIT_MEANINGS.items():
            assert f"{status} {meaning}" in text, (subcommand, status)

    @pytest.mark.parametrize("doc", ["README.md", "docs/pluginfmt.md"])
    def test_the_docs_state_the_same_exit_status(self, doc):
        text = " ".join((ROOT / doc).read_text().split())
        for status, meaning in EXIT_MEANINGS.items():
            assert f"`{status}` {meaning}" in text, status
        assert "1 findings" not in text

    def test_verify_exits_0_on_a_plugin_with_warnings_only(self, restored_corpus):
        status, data = plugin_json("verify", str(restored_corpus / "bedrock"))

        severities = {f["severity"] for f in data["findings"]}
        assert "warning" in severities and "error" not in severities
        assert (status, data["ok"]) == (0, True)

    def test_verify_exits_1_on_a_plugin_with_an_error(self, corpus_copy):
        folder = corpus_copy("bedrock")
        (folder / "main.py").unlink()

        status, data = plugin_json("verify", str(folder))

        assert [f["rule"] for f in data["findings"] if f["severity"] == "error"] == [
            "python.entrypoint.missing"
        ]
        assert (status, data["ok"]) == (1, False)
