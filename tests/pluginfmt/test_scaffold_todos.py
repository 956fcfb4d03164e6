"""The `AUTHOR:` markers of a custom skeleton, found again in its Python files."""

from __future__ import annotations

from studio.pluginfmt.scaffold import CUSTOM, OPENAI_COMPATIBLE, NewPlugin, scaffold
from studio.pluginfmt.scaffold.todos import AUTHOR_MARKER, AuthorTodo, author_todos


def new_plugin(runtime: str) -> dict[str, bytes]:
    return scaffold(
        NewPlugin(
            author="acme",
            name="gateway",
            label={"en_US": "Gateway"},
            description={"en_US": "Our gateway"},
            model_types=["llm", "rerank"],
            configurate_methods=["predefined-model"],
            runtime=runtime,
        )
    )


def marker_lines(files: dict[str, bytes]) -> list[tuple[str, int]]:
    """Where the marker text is, found independently of author_todos."""
    return [
        (path, n)
        for path in sorted(files)
        if path.endswith(".py")
        for n, line in enumerate(files[path].decode().splitlines(), start=1)
        if AUTHOR_MARKER in line
    ]


class TestCustomSkeleton:
    def test_every_marker_is_listed_with_its_file_and_line(self):
        files = new_plugin(CUSTOM)
        todos = author_todos(files)
        assert [(t.path, t.line) for t in todos] == marker_lines(files)
        assert {t.path for t in todos} == {
            "models/llm/llm.py",
            "models/rerank/rerank.py",
            "provider/gateway.py",
        }

    def test_the_text_is_what_the_marker_asks(self):
        todos = author_todos(new_plugin(CUSTOM))
        llm = [t.text for t in todos if t.path == "models/llm/llm.py"]
        assert "implement _invoke" in llm
        assert "implement the calls to your service in this class." in llm
        # A comment going on over the next line is read whole.
        assert (
            "call your service; return an LLMResult, or yield LLMResultChunk "
            "objects when stream is true."
        ) in llm

    def test_the_openai_compatible_runtime_leaves_none(self):
        assert author_todos(new_plugin(OPENAI_COMPATIBLE)) == []


class TestFinding:
    def test_only_python_files_count(self):
        files = {
            "README.md": b"AUTHOR: write the README\n",
            "tools/x.py": b"x = 1\n# AUTHOR: finish me\n",
        }
        assert author_todos(files) == [AuthorTodo("tools/x.py", 2, "finish me")]

    def test_a_marker_with_no_text_still_counts(self):
        assert author_todos({"a.py": b"pass  # AUTHOR:\n"}) == [
            AuthorTodo("a.py", 1, "(no text after the marker)")
        ]

    def test_a_file_that_is_not_utf8_is_read_anyway(self):
        todos = author_todos({"a.py": b"\xff\xfe# AUTHOR: odd bytes\n"})
        assert [(t.line, t.text) for t in todos] == [(1, "odd bytes")]
