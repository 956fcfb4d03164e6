from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.pluginfmt import driver
from studio.pluginfmt.driver import (
    PluginExited,
    PluginProcess,
    PluginStartError,
    RequestTimeout,
    SessionResult,
)
from tests.pluginfmt.echo_plugin import (
    MODEL_YAML,
    write_echo_plugin,
)

GOOD = {"api_key": "good"}

# A stand-in plugin without the SDK, for protocol edge cases (starts in ~50 ms).
FAKE_MAIN = r"""
import json, sys

def put(frame):
    sys.stdout.write(json.dumps(frame) + "\n\n")
    sys.stdout.flush()

def session(sid, kind, data):
    return {"event": "session", "session_id": sid, "data": {"type": kind, "data": data}}

sys.stdout.write(json.dumps({"name": "fake"}) + "\n\n")
put({"event": "heartbeat", "session_id": None, "data": {}})
for line in sys.stdin:
    request = json.loads(line)
    sid, action = request["session_id"], request["data"]["action"]
    if action == "crash":
        sys.stderr.write("boom: the fake plugin crashed\n")
        sys.exit(7)
    if action == "packed":
        # Two frames on one line, as two SDK threads can write them, then noise.
        both = json.dumps(session(sid, "stream", {"n": 1}))
        both += json.dumps(session(sid, "stream", {"n": 2}))
        sys.stdout.write(both + "\n\nnot json\n")
        put(session(sid, "end", {}))
    if action == "echo":
        put(session(sid, "stream", request["data"]))
        put(session(sid, "end", {}))
"""


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def alive(pid: int) -> bool:
    """Tell whether pid is a live process (a zombie or no /proc entry is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def group_alive(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def write_plugin(folder: Path, main: str, *, entrypoint: str = "main") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{entrypoint}.py").write_text(main)
    (folder / "manifest.yaml").write_text(
        f"meta:\n  runner: {{language: python, entrypoint: {entrypoint}}}\n"
    )
    return folder


def start_failure(folder: Path, python: Path, **options: object) -> PluginStartError:
    plugin = PluginProcess.start(folder, python, **options)  # type: ignore[arg-type]
    with pytest.raises(PluginStartError) as caught:
        plugin.wait_ready()
    assert not alive(plugin.pid)
    return caught.value


@pytest.fixture(scope="module")
def echo(
    sdk_python: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PluginProcess]:
    folder = write_echo_plugin(tmp_path_factory.mktemp("echo"))
    with PluginProcess.start(folder, sdk_python, timeout=60) as plugin:
        plugin.wait_ready()
        yield plugin


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[PluginProcess]:
    folder = write_plugin(tmp_path / "fake", FAKE_MAIN)
    with PluginProcess.start(folder, sys.executable, timeout=20) as plugin:
        plugin.wait_ready()
        yield plugin


class TestEchoPlugin:
    def test_it_becomes_ready_on_its_first_heartbeat(self, echo: PluginProcess) -> None:
        assert echo.ready_after is not None and echo.ready_after < 60
        assert echo.heartbeats >= 1
        assert echo.declaration is not None and echo.declaration["name"] == "echo"
        assert {"level": "INFO", "message": "Installed model: echo"} in [
            {k: log[k] for k in ("level", "message")} for log in echo.logs
        ]

    def test_it_accepts_good_provider_credentials(self, echo: PluginProcess) -> None:
        result = echo.request(driver.validate_provider_credentials("echo", GOOD))

        assert result.chunks == [{"result": True, "credentials": GOOD}]
        assert result.error is None

    def test_it_reports_bad_credentials_as_an_error_frame(
        self, echo: PluginProcess
    ) -> None:
        result = echo.request(
            driver.validate_provider_credentials("echo", {"api_key": "nope"})
        )

        assert result.chunks == []
        assert result.error_type == "CredentialsValidateFailedError"
        assert result.error_message == "bad key"
        assert "Traceback" in result.error["args"]["traceback"]  # type: ignore[index]

    def test_it_returns_the_declared_model_with_templates_expanded(
        self, echo: PluginProcess
    ) -> None:
        result = echo.request(
            driver.get_ai_model_schemas("echo", "llm", "echo-1", GOOD)
        )

        schema = result.chunks[0]["model_schema"]
        rules = {rule["name"]: rule for rule in schema["parameter_rules"]}
        assert schema["model"] == "echo-1"
        assert schema["model_properties"] == {"mode": "chat", "context_size": 4096}
        assert rules["temperature"]["type"] == "float"
        assert (rules["temperature"]["min"], rules["temperature"]["max"]) == (0, 1)
        assert rules["max_tokens"]["default"] == 256
        assert (rules["max_tokens"]["min"], rules["max_tokens"]["max"]) == (1, 4096)
        assert rules["temperature"]["label"]["en_US"] == "Temperature"

    def test_it_streams_the_echo_in_chunks_ending_with_usage(
        self, echo: PluginProcess
    ) -> None:
        text = "the quick brown fox jumps over the lazy dog"
        result = echo.request(
            driver.invoke_llm("echo", "echo-1", GOOD, user(text), {"temperature": 0.3})
        )

        deltas = [chunk["delta"] for chunk in result.chunks]
        assert len(deltas) >= 3
        assert [d["index"] for d in deltas] == list(range(len(deltas)))
        assert all(chunk["model"] == "echo-1" for chunk in result.chunks)
        assert "".join(d["message"]["content"] for d in deltas) == text
        assert all(
            d["finish_reason"] is None and d["usage"] is None for d in deltas[:-1]
        )
        assert deltas[-1]["finish_reason"] == "stop"
        assert deltas[-1]["usage"]["total_tokens"] == 18
        assert deltas[-1]["usage"]["currency"] == "USD"

    def test_it_reports_an_out_of_range_parameter_as_the_sdks_value_error(
        self, echo: PluginProcess
    ) -> None:
        result = echo.request(
            driver.invoke_llm("echo", "echo-1", GOOD, user("hi"), {"temperature": 5})
        )

        assert result.chunks == []
        assert result.error_type == "ValueError"
        assert result.error_message == (
            "Model Parameter temperature should be less than or equal to 1.0."
        )

    def test_it_sends_a_request_larger_than_the_pipe_buffer(
        self, echo: PluginProcess
    ) -> None:
        text = " ".join(f"word{n}" for n in range(60_000))

        result = echo.request(driver.invoke_llm("echo", "echo-1", GOOD, user(text)))

        assert len(text) > 400_000
        assert "".join(c["delta"]["message"]["content"] for c in result.chunks) == text

    def test_it_routes_concurrent_sessions_to_their_requests(
        self, echo: PluginProcess
    ) -> None:
        results: dict[int, SessionResult] = {}

        def ask(n: int) -> None:
            request = driver.invoke_llm("echo", "echo-1", GOOD, user(f"number {n}"))
            results[n] = echo.request(request, timeout=30)

        threads = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        for n, result in results.items():
            text = "".join(c["delta"]["message"]["content"] for c in result.chunks)
            assert text == f"number {n}"
        assert len(results) == 6

    def test_the_studio_process_never_imports_the_sdk(
        self, echo: PluginProcess
    ) -> None:
        assert echo.heartbeats >= 1
        assert "dify_plugin" not in sys.modules


class TestStartFailures:
    def test_it_reports_the_sdks_pydantic_error_for_an_unknown_feature(
        self,
        sdk_python: Path,
        tmp_path: Path,
    ) -> None:
        model = MODEL_YAML.replace("[agent-thought]", "[agent-thought, time-travel]")
        folder = write_echo_plugin(tmp_path, files={"models/llm/echo-1.yaml": model})

        error = start_failure(folder, sdk_python)

        assert error.exit_code == 1
        assert "exited with code 1 before its first heartbeat" in str(error)
        assert "Error loading plugin configuration" in error.stderr
        assert "input_value='time-travel'" in error.stderr
        assert "input_value='time-travel'" in str(error)

    def test_it_stops_the_whole_group_of_a_plugin_that_never_heartbeats(
        self, tmp_path: Path
    ) -> None:
        main = (
            "import subprocess, sys, time\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; "
            "time.sleep(600)'])\n"
            "open('child.pid', 'w').write(str(child.pid))\n"
            "time.sleep(600)\n"
        )
        folder = write_plugin(tmp_path, main)

        error = start_failure(folder, Path(sys.executable), timeout=1.5)

        child = int((folder / "child.pid").read_text())
        assert "sent no heartbeat within 1.5 s and was stopped" in str(error)
        assert error.exit_code is not None and error.exit_code < 0
        assert not alive(child)

    def test_it_leaves_no_process_group_behind(self, tmp_path: Path) -> None:
        folder = write_plugin(tmp_path, "import time\ntime.sleep(600)\n")
        plugin = PluginProcess.start(folder, sys.executable, timeout=0.5)
        pgid = os.getpgid(plugin.pid)

        with pytest.raises(PluginStartError):
            plugin.wait_ready()

        assert pgid == plugin.pid != os.getpgid(0)
        assert not group_alive(pgid)

    def test_it_applies_the_memory_limit(self, tmp_path: Path) -> None:
        main = "data = bytearray(768 * 1024 * 1024)\nprint('allocated')\n"
        folder = write_plugin(tmp_path, main)

        error = start_failure(folder, Path(sys.executable), memory_limit_mb=256)

        assert error.exit_code == 1
        assert "MemoryError" in error.stderr

    def test_it_gives_the_child_a_clean_environment(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("STUDIO_TEST_SECRET", "must-not-leak")
        main = (
            "import json, os, sys\n"
            "sys.stderr.write(json.dumps(dict(os.environ)))\n"
            "sys.exit(3)\n"
        )
        folder = write_plugin(tmp_path, main)

        error = start_failure(
            folder, Path(sys.executable), env={"HTTPS_PROXY": "http://proxy:3128"}
        )

        env = json.loads(error.stderr)
        assert error.exit_code == 3
        assert "STUDIO_TEST_SECRET" not in env
        assert set(env) == {
            "PATH",
            "HOME",
            "TMPDIR",
            "LANG",
            "INSTALL_METHOD",
            "PYTHONDONTWRITEBYTECODE",
            "PYTHONUNBUFFERED",
            "HTTPS_PROXY",
        }
        assert env["INSTALL_METHOD"] == "local"
        assert env["HOME"] != os.environ["HOME"]
        assert not Path(env["HOME"]).exists()

    def test_it_runs_the_manifest_entrypoint(self, tmp_path: Path) -> None:
        folder = write_plugin(tmp_path, FAKE_MAIN, entrypoint="app")

        with PluginProcess.start(folder, sys.executable, timeout=20) as plugin:
            plugin.wait_ready()
            result = plugin.request({"action": "echo", "x": 1})

        assert result.chunks == [{"action": "echo", "x": 1}]

    def test_it_refuses_an_entrypoint_that_is_not_a_module_name(
        self, tmp_path: Path
    ) -> None:
        folder = write_plugin(tmp_path, "", entrypoint="main")
        (folder / "manifest.yaml").write_text("meta: {runner: {entrypoint: '-c'}}\n")

        with pytest.raises(PluginStartError, match="invalid runner entrypoint '-c'"):
            PluginProcess.start(folder, sys.executable)


class TestProtocol:
    def test_it_keeps_the_manifest_line_apart_from_frames(
        self, fake: PluginProcess
    ) -> None:
        assert fake.declaration == {"name": "fake"}
        assert fake.heartbeats == 1

    def test_it_parses_frames_that_share_a_line(self, fake: PluginProcess) -> None:
        result = fake.request({"action": "packed"})

        assert result.chunks == [{"n": 1}, {"n": 2}]
        assert "not json" in fake.noise

    def test_it_raises_request_timeout_when_no_end_frame_arrives(
        self, fake: PluginProcess
    ) -> None:
        with pytest.raises(RequestTimeout, match=r"hang: no end frame within 0\.3 s"):
            fake.request({"action": "hang"}, timeout=0.3)

        assert fake.request({"action": "echo"}).chunks == [{"action": "echo"}]

    def test_it_raises_plugin_exited_with_the_stderr_tail(
        self, fake: PluginProcess
    ) -> None:
        with pytest.raises(PluginExited) as caught:
            fake.request({"action": "crash"})

        assert caught.value.exit_code == 7
        assert "boom: the fake plugin crashed" in caught.value.stderr

    def test_it_returns_the_exit_code_when_stopped(self, fake: PluginProcess) -> None:
        code = fake.stop()

        assert code == -15
        assert not alive(fake.pid)
        with pytest.raises(PluginExited):
            fake.request({"action": "echo"})


class TestReadEntrypoint:
    def test_it_reads_meta_runner_entrypoint(self, tmp_path: Path) -> None:
        (tmp_path / "manifest.yaml").write_text(
            "meta: {runner: {entrypoint: plugin.main}}\n"
        )

        assert driver.read_entrypoint(tmp_path) == "plugin.main"

    def test_it_falls_back_to_main_for_an_unreadable_manifest(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "manifest.yaml").write_text("meta: [unclosed\n")

        assert driver.read_entrypoint(tmp_path) == "main"
        assert driver.read_entrypoint(tmp_path / "missing") == "main"


class TestRequestBuilders:
    def test_invoke_llm_always_sends_stop_and_tools(self) -> None:
        request = driver.invoke_llm("echo", "echo-1", GOOD, user("hi"))

        assert request == {
            "type": "model",
            "action": "invoke_llm",
            "provider": "echo",
            "model_type": "llm",
            "model": "echo-1",
            "user_id": "studio",
            "credentials": GOOD,
            "prompt_messages": [{"role": "user", "content": "hi"}],
            "model_parameters": {},
            "stop": None,
            "tools": None,
            "stream": True,
        }

    def test_invoke_rerank_always_sends_threshold_and_top_n(self) -> None:
        request = driver.invoke_rerank("p", "r", GOOD, "q", ["a", "b"])

        assert request["model_type"] == "rerank"
        assert request["score_threshold"] is None
        assert request["top_n"] is None
        assert "score_threshold" in request and "top_n" in request
