from __future__ import annotations

from pathlib import Path

from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.ignore import parse_ignore_file, select_files


def make_files(
    ignore: str | None, *paths: str, name: str = ".difyignore"
) -> PluginFiles:
    files: PluginFiles = {path: path.encode() for path in paths}
    if ignore is not None:
        files[name] = ignore.encode()
    return files


def selected(ignore: str | None, *paths: str, name: str = ".difyignore") -> set[str]:
    return set(select_files(make_files(ignore, *paths, name=name))) - {name}


def read_folder(root: Path) -> PluginFiles:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


class TestIgnoreFileChoice:
    def test_it_uses_difyignore_and_never_gitignore_when_both_exist(self) -> None:
        files = make_files("*.log\n", "a.log", "b.tmp", "main.py")
        files[".gitignore"] = b"*.tmp\n"
        assert set(select_files(files)) == {
            ".difyignore",
            ".gitignore",
            "b.tmp",
            "main.py",
        }

    def test_it_falls_back_to_gitignore_without_difyignore(self) -> None:
        assert selected("*.tmp\n", "b.tmp", "main.py", name=".gitignore") == {"main.py"}

    def test_an_empty_difyignore_still_hides_gitignore(self) -> None:
        files = make_files("", "b.tmp")
        files[".gitignore"] = b"*.tmp\n"
        assert "b.tmp" in select_files(files)

    def test_only_the_root_ignore_file_counts(self) -> None:
        files = make_files(None, "sub/.difyignore", "sub/x.log")
        files["sub/.difyignore"] = b"*.log\n"
        assert set(select_files(files)) == {"sub/.difyignore", "sub/x.log"}

    def test_nothing_is_excluded_implicitly(self) -> None:
        paths = (
            ".env",
            ".git/config",
            "__pycache__/m.pyc",
            ".venv/bin/python",
            "a.difypkg",
        )
        assert selected("# only a comment\n\n", *paths) == set(paths)


class TestPatterns:
    def test_negation_cannot_re_include(self) -> None:
        assert selected("*.log\n!keep.log\n", "keep.log", "x.log", "a.py") == {"a.py"}

    def test_a_negated_pattern_alone_excludes_nothing(self) -> None:
        assert selected("!keep.log\n!/docs/\n", "keep.log", "docs/a.md") == {
            "keep.log",
            "docs/a.md",
        }

    def test_an_ignored_directory_is_pruned_with_everything_below(self) -> None:
        kept = selected(
            "build/\n", "build/a.txt", "build/deep/b.txt", "src/build/c.txt", "main.py"
        )
        assert kept == {"main.py"}

    def test_a_trailing_slash_spares_a_file_of_that_name(self) -> None:
        assert selected("build/\n", "build", "main.py") == {"build", "main.py"}

    def test_a_leading_slash_anchors_at_the_root(self) -> None:
        kept = selected("/docs\n", "docs/a.md", "sub/docs/b.md", "docs.md")
        assert kept == {"sub/docs/b.md", "docs.md"}

    def test_a_name_without_slash_matches_at_any_depth(self) -> None:
        assert selected("docs\n", "docs/a.md", "sub/docs/b.md", "x.md") == {"x.md"}

    def test_a_pattern_with_slash_is_relative_to_the_root(self) -> None:
        kept = selected(
            "models/*.tmp\n", "models/a.tmp", "models/sub/b.tmp", "x/models/c.tmp"
        )
        assert kept == {"models/sub/b.tmp", "x/models/c.tmp"}

    def test_double_star_spans_zero_or_more_directories(self) -> None:
        kept = selected("a/**/z.txt\n", "a/z.txt", "a/b/c/z.txt", "b/z.txt", "a/y.txt")
        assert kept == {"b/z.txt", "a/y.txt"}

    def test_leading_double_star_matches_anywhere(self) -> None:
        assert selected("**/cache\n", "cache/x", "a/b/cache/y", "a/cachex") == {
            "a/cachex"
        }

    def test_trailing_double_star_matches_everything_inside(self) -> None:
        assert selected("tests/**\n", "tests/a.py", "tests/b/c.py", "main.py") == {
            "main.py"
        }

    def test_star_does_not_cross_a_slash(self) -> None:
        assert selected("a/*.txt\n", "a/x.txt", "a/b/x.txt") == {"a/b/x.txt"}

    def test_classes_follow_go_filepath_match(self) -> None:
        # Go negates a class only with "^"; "!" is a literal member (git differs).
        assert selected("*.py[cod]\n", "m.pyc", "m.pyo", "m.py") == {"m.py"}
        assert selected("[^a].txt\n", "a.txt", "b.txt") == {"a.txt"}
        assert selected("[!a].txt\n", "a.txt", "!.txt", "b.txt") == {"b.txt"}

    def test_a_malformed_pattern_matches_nothing(self) -> None:
        assert selected("[a\n", "[a", "a") == {"[a", "a"}

    def test_lines_are_trimmed_and_comments_skipped(self) -> None:
        kept = selected("  *.log  \r\n# main.py\n\t\n", "x.log", "main.py")
        assert kept == {"main.py"}

    def test_it_reproduces_the_daemon_packager_test(self) -> None:
        # pkg/plugin_packager/testdata/.difyignore of dify-plugin-daemon.
        paths = (
            "manifest.yaml",
            "neko.yaml",
            "ignored",
            "ignored_paths/ignored",
            "_assets/test.svg",
        )
        kept = selected("ignored\nignored_paths/\n", *paths)
        assert kept == {"manifest.yaml", "neko.yaml", "_assets/test.svg"}

    def test_parsing_keeps_the_flags_go_git_sets(self) -> None:
        (p,) = parse_ignore_file("!/a/b/\n")
        assert (p.inclusion, p.dir_only, p.is_glob, p.segments) == (
            True,
            True,
            True,
            ("", "a", "b"),
        )


class TestCorpus:
    def test_tongyi_difyignore_drops_venv_caches_and_packages(
        self, corpus_copy
    ) -> None:
        root = corpus_copy("tongyi")
        for junk in (
            ".venv/lib/x.py",
            "models/__pycache__/a.pyc",
            "old.difypkg",
            ".env",
        ):
            (root / junk).parent.mkdir(parents=True, exist_ok=True)
            (root / junk).write_bytes(b"junk")
        files = read_folder(root)
        kept = select_files(files)
        assert not {
            ".venv/lib/x.py",
            "models/__pycache__/a.pyc",
            "old.difypkg",
            ".env",
        } & set(kept)
        assert "manifest.yaml" in kept and "uv.lock" in kept
        assert len(kept) == len(files) - 4
