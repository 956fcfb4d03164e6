from __future__ import annotations

from pathlib import Path

import pytest

from studio.pluginfmt import render
from studio.pluginfmt.document import dump_document, load_document
from studio.pluginfmt.files import PluginFiles, UnsafeInput
from studio.pluginfmt.readers import read_folder
from studio.pluginfmt.render import render_tree

FILES: PluginFiles = {
    "manifest.yaml": b"version: 0.0.1\n",
    "models/llm/a.yaml": b"model: a\n",
    "_assets/icon.svg": b"<svg/>",
    ".difyignore": b".env\n",
}


def siblings(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.parent.iterdir())


class TestRenderTree:
    def test_it_writes_every_file_under_dest(self, tmp_path: Path) -> None:
        dest = tmp_path / "out" / "plugin"

        render_tree(FILES, dest)

        assert read_folder(dest) == FILES
        assert siblings(dest) == ["plugin"]

    @pytest.mark.parametrize("name", ["../evil.py", "/etc/evil", "a\\b", "./x"])
    def test_it_refuses_an_unsafe_path_and_writes_nothing(
        self, tmp_path: Path, name: str
    ) -> None:
        dest = tmp_path / "plugin"

        with pytest.raises(UnsafeInput) as excinfo:
            render_tree({**FILES, name: b"x"}, dest)

        assert excinfo.value.entry == name
        assert list(tmp_path.iterdir()) == []

    def test_it_refuses_a_path_that_is_both_file_and_folder(
        self, tmp_path: Path
    ) -> None:
        with pytest.raises(UnsafeInput) as excinfo:
            render_tree({"a": b"1", "a/b": b"2"}, tmp_path / "plugin")

        assert excinfo.value.entry == "a"
        assert list(tmp_path.iterdir()) == []

    def test_it_refuses_to_overwrite_a_non_empty_folder(self, tmp_path: Path) -> None:
        dest = tmp_path / "plugin"
        dest.mkdir()
        (dest / "keep.txt").write_bytes(b"mine")

        with pytest.raises(FileExistsError):
            render_tree(FILES, dest)

        assert read_folder_raw(dest) == {"keep.txt": b"mine"}
        assert siblings(dest) == ["plugin"]

    def test_it_fills_an_existing_empty_folder(self, tmp_path: Path) -> None:
        dest = tmp_path / "plugin"
        dest.mkdir()

        render_tree(FILES, dest)

        assert read_folder(dest) == FILES

    def test_it_replaces_a_folder_when_told_to_overwrite(self, tmp_path: Path) -> None:
        dest = tmp_path / "plugin"
        dest.mkdir()
        (dest / "stale.txt").write_bytes(b"old")

        render_tree(FILES, dest, overwrite=True)

        assert read_folder(dest) == FILES
        assert siblings(dest) == ["plugin"]

    def test_it_refuses_a_destination_that_is_a_symlink(self, tmp_path: Path) -> None:
        (tmp_path / "real").mkdir()
        (tmp_path / "plugin").symlink_to(tmp_path / "real")

        with pytest.raises(UnsafeInput):
            render_tree(FILES, tmp_path / "plugin", overwrite=True)

        assert list((tmp_path / "real").iterdir()) == []

    def test_it_refuses_a_destination_that_is_a_file(self, tmp_path: Path) -> None:
        (tmp_path / "plugin").write_bytes(b"x")

        with pytest.raises(FileExistsError):
            render_tree(FILES, tmp_path / "plugin", overwrite=True)

        assert (tmp_path / "plugin").read_bytes() == b"x"

    def test_a_failure_while_writing_leaves_nothing_behind(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        real_write = render._write
        calls = []

        def failing_write(root: Path, name: str, content: bytes) -> None:
            calls.append(name)
            if len(calls) == 3:
                raise OSError("disk full")
            real_write(root, name, content)

        monkeypatch.setattr(render, "_write", failing_write)
        dest = tmp_path / "plugin"

        with pytest.raises(OSError, match="disk full"):
            render_tree(FILES, dest)

        assert len(calls) == 3
        assert list(tmp_path.iterdir()) == []

    def test_a_failure_while_overwriting_keeps_the_old_tree(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        dest = tmp_path / "plugin"
        render_tree({"old.txt": b"old"}, dest)

        def failing_write(root: Path, name: str, content: bytes) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(render, "_write", failing_write)

        with pytest.raises(OSError, match="disk full"):
            render_tree(FILES, dest, overwrite=True)

        assert read_folder_raw(dest) == {"old.txt": b"old"}
        assert siblings(dest) == ["plugin"]

    def test_a_failure_while_swapping_puts_the_old_tree_back(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        dest = tmp_path / "plugin"
        render_tree({"old.txt": b"old"}, dest)
        real_rename = Path.rename

        def failing_rename(self: Path, target: Path) -> Path:
            if Path(target) == dest and ".old." not in self.name:
                raise OSError("rename failed")
            return real_rename(self, target)

        monkeypatch.setattr(Path, "rename", failing_rename)

        with pytest.raises(OSError, match="rename failed"):
            render_tree(FILES, dest, overwrite=True)

        assert read_folder_raw(dest) == {"old.txt": b"old"}
        assert siblings(dest) == ["plugin"]


def read_folder_raw(root: Path) -> PluginFiles:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


class TestRenderDocument:
    def test_a_corpus_plugin_renders_to_the_same_tree(
        self, restored_corpus: Path, tmp_path: Path
    ) -> None:
        files = read_folder(restored_corpus / "openai")
        doc = load_document(files)

        doc.models[0].spec.deprecated = True
        rendered = dump_document(doc)
        render_tree(rendered, tmp_path / "openai")

        assert read_folder(tmp_path / "openai") == rendered
        changed = {p for p in files if files[p] != rendered[p]}
        assert changed == {doc.models[0].path}
