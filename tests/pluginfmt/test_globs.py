"""Model-file globs as the daemon matches them (Go filepath.Match)."""

from __future__ import annotations

import pytest

from studio.pluginfmt.globs import glob_files, glob_match


class TestGlobMatch:
    @pytest.mark.parametrize(
        ("pattern", "path", "expected"),
        [
            ("models/llm/*.yaml", "models/llm/gpt-4.yaml", True),
            ("models/llm/*.yaml", "models/llm/sub/gpt-4.yaml", False),  # * stops at /
            ("models/*/*.yaml", "models/llm/a.yaml", True),
            ("./models/llm/*.yaml", "models/llm/a b.yaml", True),
            ("models/llm/?.yaml", "models/llm/a.yaml", True),
            ("models/llm/?.yaml", "models/llm/ab.yaml", False),
            ("models/llm/[a-c]*.yaml", "models/llm/claude.yaml", True),
            ("models/llm/[^a-c]*.yaml", "models/llm/claude.yaml", False),
            ("models/llm/[!a]*.yaml", "models/llm/!x.yaml", True),  # Go: ! is literal
            ("models/llm/[a-.yaml", "models/llm/a.yaml", False),  # malformed: nothing
            ("models/**/*.yaml", "models/llm/x/a.yaml", False),  # no ** in Go
            ("models/llm/*.yaml", "models/llm/a.yaml.bak", False),
        ],
    )
    def test_it_matches_like_go(self, pattern: str, path: str, expected: bool) -> None:
        assert glob_match(pattern, path) is expected

    def test_glob_files_skips_position_files_and_sorts(self) -> None:
        paths = ["models/llm/b.yaml", "models/llm/_position.yaml", "models/llm/a.yaml"]
        assert glob_files(["models/llm/*.yaml"], paths) == [
            "models/llm/a.yaml",
            "models/llm/b.yaml",
        ]
