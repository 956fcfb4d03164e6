"""A smoke-tested plugin's tracebacks: found in its output, read into frames,
and the frames in the plugin's own files mapped to their relative paths."""

from __future__ import annotations

from studio.builds.smoke.tracebacks import (
    MAX_TRACEBACK_CHARS,
    error_traceback,
    last_traceback,
    parse_traceback,
    plugin_path,
)
from tests.builds.traceback_inputs import (
    INVOKE_PLUGIN_DIR,
    INVOKE_TRACEBACK,
    START_PLUGIN_DIR,
    START_TRACEBACK,
)


def plugin_frames(text: str, plugin_dir: str) -> list[tuple[str | None, int, str]]:
    return [
        (line.frame.plugin_path, line.frame.line, line.frame.function)
        for line in parse_traceback(text, plugin_dir)
        if line.frame is not None and line.frame.plugin_path is not None
    ]


class TestParsing:
    def test_the_invoke_tracebacks_plugin_frames_are_the_model_file(self):
        assert plugin_frames(INVOKE_TRACEBACK, INVOKE_PLUGIN_DIR) == [
            ("models/llm/llm.py", 27, "_invoke"),
            ("models/llm/llm.py", 30, "_helper"),
        ]

    def test_sdk_frames_are_frames_but_not_the_plugins(self):
        lines = parse_traceback(INVOKE_TRACEBACK, INVOKE_PLUGIN_DIR)
        frames = [line.frame for line in lines if line.frame is not None]
        assert len(frames) == 7
        sdk = [f for f in frames if f.plugin_path is None]
        assert [f.line for f in sdk] == [873, 96, 574, 330, 884]
        assert all("site-packages/dify_plugin/" in f.path for f in sdk)

    def test_every_line_is_kept_in_order(self):
        lines = parse_traceback(INVOKE_TRACEBACK, INVOKE_PLUGIN_DIR)
        assert "\n".join(line.text for line in lines) == INVOKE_TRACEBACK.rstrip("\n")

    def test_a_start_up_traceback_skips_frozen_and_sdk_frames(self):
        assert plugin_frames(START_TRACEBACK, START_PLUGIN_DIR) == [
            ("main.py", 3, "<module>"),
            ("models/llm/llm.py", 23, "<module>"),
            ("models/llm/llm.py", 21, "f"),
        ]

    def test_a_report_without_its_folder_still_finds_the_smoke_folder(self):
        assert plugin_frames(START_TRACEBACK, "") == plugin_frames(
            START_TRACEBACK, START_PLUGIN_DIR
        )

    def test_a_syntax_error_frame_has_no_function(self):
        text = (
            "Traceback (most recent call last):\n"
            '  File "/tmp/smoke-x/plugin/models/llm/llm.py", line 4\n'
            "    def f(:\n"
            "SyntaxError: invalid syntax\n"
        )
        assert plugin_frames(text, "/tmp/smoke-x/plugin") == [
            ("models/llm/llm.py", 4, "")
        ]


class TestPluginPath:
    def test_it_maps_paths_under_the_plugins_folder(self):
        assert plugin_path("/run/p/plugin/provider/x.py", "/run/p/plugin") == (
            "provider/x.py"
        )
        assert plugin_path("models/llm/llm.py", "/run/p/plugin") == "models/llm/llm.py"

    def test_it_ignores_everything_else(self):
        root = "/tmp/smoke-a/plugin"
        for path in (
            "/usr/lib/python3.12/json/decoder.py",
            "/srv/venv/lib/python3.12/site-packages/dify_plugin/plugin.py",
            "<frozen runpy>",
            "<string>",
            "/tmp/smoke-a/plugin/../escape.py",
            "/tmp/smoke-a/plugin/.venv/lib/site-packages/httpx/_client.py",
            "/tmp/smoke-a/pluginish/x.py",
            "C:\\plugin\\x.py",
        ):
            assert plugin_path(path, root) is None, path


class TestFindingTracebacks:
    def test_it_takes_the_last_traceback_with_its_chain(self):
        output = (
            "INFO starting\n"
            "Traceback (most recent call last):\n"
            '  File "old.py", line 1, in <module>\n'
            "ValueError: an earlier one, handled\n"
            "INFO retrying\n" + INVOKE_TRACEBACK
        )
        assert last_traceback(output) == INVOKE_TRACEBACK.strip()

    def test_no_traceback_is_empty(self):
        assert last_traceback("plain output\nValueError: no frames\n") == ""

    def test_a_long_traceback_keeps_its_start_and_its_end(self):
        frames = "".join(
            f'  File "/tmp/smoke-x/plugin/m.py", line {n}, in f{n}\n    f()\n'
            for n in range(1, 400)
        )
        text = last_traceback(
            "Traceback (most recent call last):\n" + frames + "RecursionError: deep\n"
        )
        assert len(text) <= MAX_TRACEBACK_CHARS + 2
        assert text.startswith("Traceback (most recent call last):\n")
        assert text.endswith("RecursionError: deep")
        assert "\n…\n" in text

    def test_the_sdks_error_carries_the_traceback_in_its_args(self):
        error = {
            "error_type": "InvokeError",
            "message": "[models] Error: boom",
            "args": {"traceback": INVOKE_TRACEBACK, "description": "boom"},
        }
        assert error_traceback(error) == INVOKE_TRACEBACK.strip()
        assert error_traceback({"error_type": "PluginError", "message": "x"}) == ""
        assert error_traceback(None) == ""
        assert error_traceback({"args": {"traceback": 3}}) == ""
