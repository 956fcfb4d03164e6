"""The checks of one smoke test, run in order against one plugin process."""

from __future__ import annotations

import contextlib
import functools
import math
import re
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from studio.builds.mock_upstream import MockUpstream, embed
from studio.builds.smoke.judging import (
    embedding_problems,
    llm_stream_problems,
    rerank_problems,
    same,
    schema_differences,
)
from studio.builds.smoke.plan import (
    INVOKED_TYPES,
    Plan,
    Target,
    custom_targets,
    form_values,
    mock_credentials,
    target_for,
)
from studio.builds.smoke.report import (
    FAILED,
    PASSED,
    SKIPPED,
    CheckStatus,
    SmokeCheck,
)
from studio.builds.smoke.tracebacks import error_traceback, last_traceback
from studio.pluginfmt import driver, sdkenv

REQUEST_TIMEOUT = 30.0
DETAIL_STDERR_CHARS = 1500
BAD_API_KEY = "sk-smoke-test-wrong-key"

PROMPT = "Hello from the studio smoke test"
EMBED_TEXTS = ["The studio smoke test.", "A second, different sentence."]
RERANK_QUERY = "What is the capital of France?"
RERANK_DOCS = [
    "Paris is the capital of France.",
    "Berlin is the capital of Germany.",
    "Bananas are yellow.",
]
# The host tiktoken downloads the GPT-2 vocabulary from; the SDK's
# OpenAI-compatible embedding counts tokens with it before every call.
TIKTOKEN_HOST = "openaipublic.blob.core.windows.net"

# A check's status and detail.
Outcome = tuple[CheckStatus, str]

_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b.*", re.M)


class Run:
    """The checks of one smoke test, in order, against one plugin process."""

    def __init__(self, *, deadline: float) -> None:
        self.deadline = deadline
        self.checks: list[SmokeCheck] = []
        self.plugin: driver.PluginProcess | None = None
        self.stderr = ""
        # The plugin's traceback behind the current check's failure, if any.
        self.traceback = ""
        # Set once the plugin cannot answer: every later check is skipped.
        self.halted: str | None = None

    # ------------------------------------------------------------ plumbing

    def add(
        self,
        name: str,
        status: CheckStatus,
        detail: str,
        seconds: float = 0,
        traceback: str = "",
    ) -> None:
        self.checks.append(
            SmokeCheck(
                name=name,
                status=status,
                detail=detail,
                duration_ms=ms(seconds),
                traceback=traceback if status == FAILED else "",
            )
        )

    def skip(self, name: str, reason: str) -> None:
        """A check that cannot run; a halted run says why first."""
        self.add(name, SKIPPED, self.halted or reason)

    def check(self, name: str, body: Callable[[], Outcome]) -> None:
        """Run one check; a plugin that dies or stalls fails it, never raises."""
        if self.halted is not None:
            self.add(name, SKIPPED, self.halted)
            return
        if time.monotonic() >= self.deadline:
            self.add(name, FAILED, "the smoke test ran out of time before this check")
            self.halted = "the smoke test ran out of time"
            return
        started = time.monotonic()
        self.traceback = ""
        try:
            status, detail = body()
        except driver.PluginExited as exc:
            status, detail = FAILED, _with_stderr(exc.message, exc.stderr)
            self.traceback = last_traceback(exc.stderr)
            self.halted = f"the plugin process ended during {name}"
        except driver.RequestTimeout as exc:
            status, detail = FAILED, exc.message
        except driver.PluginError as exc:
            status, detail = FAILED, _with_stderr(exc.message, exc.stderr)
            self.traceback = last_traceback(exc.stderr)
            self.halted = f"the plugin could not take more requests after {name}"
        self.add(name, status, detail, time.monotonic() - started, self.traceback)

    def request(self, data: dict[str, Any]) -> driver.SessionResult:
        assert self.plugin is not None
        remaining = self.deadline - time.monotonic()
        result = self.plugin.request(
            data, timeout=max(1.0, min(REQUEST_TIMEOUT, remaining))
        )
        # The SDK sends the exception's traceback with the error: the check
        # that fails on it shows it (the last one, if several requests erred).
        self.traceback = error_traceback(result.error) or self.traceback
        return result

    # ------------------------------------------------------------ phases

    def environment(
        self,
        requirements: str,
        cache_dir: Path,
        stack: contextlib.ExitStack,
        *,
        uv_cache_dir: Path | None = None,
        max_venv_bytes: int | None = None,
    ) -> Path | None:
        """Find or build the virtualenv, held in use until `stack` closes.

        A failure is the `environment` check.
        """
        started = time.monotonic()
        try:
            venv = stack.enter_context(
                sdkenv.using_sdk_venv(
                    requirements,
                    cache_dir=cache_dir,
                    uv_cache_dir=uv_cache_dir,
                    max_bytes=max_venv_bytes,
                )
            )
        except sdkenv.SdkEnvError as exc:
            self.add("environment", FAILED, str(exc), time.monotonic() - started)
            self.halted = "the plugin's virtualenv could not be built"
            return None
        version = ".".join(map(str, venv.interpreter.version[:2]))
        what = f"Python {version} virtualenv {venv.key}"
        self.add(
            "environment",
            PASSED,
            f"built a {what} with {venv.installer}"
            if venv.built
            else f"reused the cached {what}",
            time.monotonic() - started,
        )
        return venv.python

    def start(
        self,
        folder: Path,
        python: Path,
        *,
        memory_limit_mb: int,
        env: dict[str, str],
    ) -> None:
        started = time.monotonic()
        try:
            plugin = driver.PluginProcess.start(
                folder,
                python,
                timeout=max(1.0, self.deadline - started),
                memory_limit_mb=memory_limit_mb,
                env=env,
            )
            ready = plugin.wait_ready()
        except driver.PluginStartError as exc:
            self.stderr = exc.stderr
            self.add(
                "starts",
                FAILED,
                _with_stderr(exc.message, exc.stderr),
                time.monotonic() - started,
                last_traceback(exc.stderr),
            )
            self.halted = "the plugin did not start"
            return
        self.plugin = plugin
        self.add(
            "starts",
            PASSED,
            f"first heartbeat after {ready:.2f} s",
            time.monotonic() - started,
        )

    def stop(self) -> None:
        if self.plugin is not None:
            self.plugin.stop()
            self.stderr = self.plugin.stderr

    # ------------------------------------------------------------ checks

    def checks_for(self, plan: Plan, upstream: MockUpstream | None) -> None:
        if plan.unreadable is not None and self.halted is None:
            self.halted = plan.unreadable
        mock = None if plan.network_reason is not None else upstream
        self.check("schemas", lambda: self.schemas(plan, mock))
        self.validation(plan, mock)
        for model_type in INVOKED_TYPES:
            if model_type in plan.supported:
                self.invocation(plan, mock, model_type)

    def schemas(self, plan: Plan, mock: MockUpstream | None) -> Outcome:
        credentials = form_values(plan.provider_fields or [])
        differences: list[str] = []
        for model_type, spec in plan.predefined:
            result = self.request(
                driver.get_ai_model_schemas(
                    plan.provider, model_type, str(spec.model), credentials
                )
            )
            where = f"{model_type}/{spec.model}"
            if not result.ok:
                differences.append(f"{where}: {_error(result)}")
                continue
            found = result.chunks[-1].get("model_schema") if result.chunks else None
            differences += [f"{where}: {d}" for d in schema_differences(spec, found)]
        checked = len(plan.predefined)
        if mock is not None:
            for target in custom_targets(plan, mock):
                checked += 1
                differences += self.custom_schema(plan, target)
        if checked == 0:
            if plan.model_fields is not None:
                return SKIPPED, (
                    "no predefined models; a customizable model's schema comes from "
                    f"the plugin's code ({plan.network_reason})"
                )
            return SKIPPED, "the provider declares no models"
        if differences:
            shown = "\n".join(f"- {d}" for d in differences[:20])
            more = len(differences) - 20
            tail = f"\n- … and {more} more" if more > 0 else ""
            return FAILED, (
                f"{len(differences)} difference(s) from what the plugin declares:\n"
                f"{shown}{tail}"
            )
        return PASSED, f"{checked} model schema(s) match what the plugin declares"

    def custom_schema(self, plan: Plan, target: Target) -> list[str]:
        where = f"{target.model_type}/{target.model} (customizable)"
        result = self.request(
            driver.get_ai_model_schemas(
                plan.provider, target.model_type, target.model, target.good
            )
        )
        if not result.ok:
            return [f"{where}: {_error(result)}"]
        found = result.chunks[-1].get("model_schema") if result.chunks else None
        if not isinstance(found, dict):
            return [f"{where}: the plugin returned no schema"]
        expected: dict[str, Any] = {
            "model": target.model,
            "model_type": target.model_type,
        }
        differences = [
            f"{where}: {key} is {found.get(key)!r}, expected {value!r}"
            for key, value in expected.items()
            if found.get(key) != value
        ]
        properties = found.get("model_properties") or {}
        for key in ("mode", "context_size"):
            if key in target.good and not same(properties.get(key), target.good[key]):
                differences.append(
                    f"{where}: model_properties.{key} is {properties.get(key)!r}, "
                    f"the credentials say {target.good[key]!r}"
                )
        return differences

    def validation(self, plan: Plan, mock: MockUpstream | None) -> None:
        if mock is not None and plan.provider_ok:
            assert plan.provider_fields is not None
            good = form_values(plan.provider_fields, None, mock_credentials(mock))
            bad = {**good, "api_key": BAD_API_KEY}
            self.check(
                "validate_provider_credentials",
                lambda: self.good_and_bad(
                    driver.validate_provider_credentials(plan.provider, good),
                    driver.validate_provider_credentials(plan.provider, bad),
                ),
            )
            return
        if mock is None or not plan.model_ok:
            name = "validate_model_credentials"
            if plan.provider_fields is not None:
                name = "validate_provider_credentials"
            self.skip(name, str(plan.network_reason))
            return
        for target in custom_targets(plan, mock):
            bad = {**target.good, "api_key": BAD_API_KEY}
            self.check(
                f"validate_model_credentials:{target.model_type}",
                # The request bodies are plain data, built now for this target.
                functools.partial(
                    self.good_and_bad,
                    driver.validate_model_credentials(
                        plan.provider, target.model_type, target.model, target.good
                    ),
                    driver.validate_model_credentials(
                        plan.provider, target.model_type, target.model, bad
                    ),
                ),
            )

    def good_and_bad(self, good: dict[str, Any], bad: dict[str, Any]) -> Outcome:
        accepted = self.request(good)
        if not accepted.ok:
            return FAILED, f"the mock's valid key was refused: {_error(accepted)}"
        refused = self.request(bad)
        if refused.ok:
            return FAILED, "a wrong API key was accepted (the mock answers it with 401)"
        return (
            PASSED,
            f"accepted the valid key; refused a wrong one ({_error(refused)})",
        )

    def invocation(
        self, plan: Plan, mock: MockUpstream | None, model_type: str
    ) -> None:
        name = f"invoke_{model_type.replace('-', '_')}"
        if mock is None:
            self.skip(name, str(plan.network_reason))
            return
        target = target_for(plan, mock, model_type)
        if target is None:
            self.skip(name, f"the provider declares no {model_type} model")
            return
        body = {
            "llm": self.invoke_llm,
            "text-embedding": self.invoke_text_embedding,
            "rerank": self.invoke_rerank,
        }[model_type]
        self.check(name, lambda: body(plan, target))

    def invoke_llm(self, plan: Plan, target: Target) -> Outcome:
        result = self.request(
            driver.invoke_llm(
                plan.provider,
                target.model,
                target.good,
                [{"role": "user", "content": PROMPT}],
            )
        )
        if not result.ok:
            return FAILED, f"{target.model}: {_error(result)}"
        problems, text, delta = llm_stream_problems(result.chunks)
        expected = f"echo: {PROMPT}"
        if not problems and not (text and expected.startswith(text)):
            problems.append(f"streamed {text!r}, the mock answered {expected!r}")
        if problems:
            return FAILED, f"{target.model}: " + "; ".join(problems)
        usage = delta.get("usage") or {}
        return PASSED, (
            f'{target.model} streamed "{text}" in {len(result.chunks)} chunks; '
            f"usage {usage.get('prompt_tokens')} + {usage.get('completion_tokens')} "
            f"tokens, finish_reason {delta.get('finish_reason')}"
        )

    def invoke_text_embedding(self, plan: Plan, target: Target) -> Outcome:
        result = self.request(
            driver.invoke_text_embedding(
                plan.provider, target.model, target.good, EMBED_TEXTS
            )
        )
        if not result.ok:
            message = _error(result)
            if TIKTOKEN_HOST in message:
                return SKIPPED, (
                    "the SDK's GPT-2 token counter downloads its vocabulary from the "
                    "internet on first use, which the smoke test does not allow "
                    f"({message.splitlines()[0][:200]})"
                )
            return FAILED, f"{target.model}: {message}"
        data = result.chunks[-1] if result.chunks else None
        problems = embedding_problems(data, len(EMBED_TEXTS))
        if not problems:
            assert isinstance(data, dict)
            vectors = data["embeddings"]
            dims = len(vectors[0])
            expected = [embed(text, dims) for text in EMBED_TEXTS]
            if not all(
                math.isclose(a, b, abs_tol=1e-5)
                for got, want in zip(vectors, expected, strict=True)
                for a, b in zip(got, want, strict=True)
            ):
                problems.append("the vectors differ from what the mock answered")
        if problems:
            return FAILED, f"{target.model}: " + "; ".join(problems)
        assert isinstance(data, dict)
        return PASSED, (
            f"{target.model}: {len(data['embeddings'])} vectors of "
            f"{len(data['embeddings'][0])} dimensions; usage "
            f"{data['usage'].get('total_tokens')} tokens"
        )

    def invoke_rerank(self, plan: Plan, target: Target) -> Outcome:
        result = self.request(
            driver.invoke_rerank(
                plan.provider, target.model, target.good, RERANK_QUERY, RERANK_DOCS
            )
        )
        if not result.ok:
            return FAILED, f"{target.model}: {_error(result)}"
        data = result.chunks[-1] if result.chunks else None
        problems = rerank_problems(data, len(RERANK_DOCS))
        if not problems:
            assert isinstance(data, dict)
            best = max(data["docs"], key=lambda d: d["score"])
            if best["index"] != 0:
                problems.append(
                    f"ranked document {best['index']} first; the mock ranks 0 first"
                )
        if problems:
            return FAILED, f"{target.model}: " + "; ".join(problems)
        assert isinstance(data, dict)
        scores = ", ".join(
            f"#{d['index']} {float(d['score']):.2f}" for d in data["docs"]
        )
        return PASSED, f"{target.model}: {len(data['docs'])} documents ({scores})"


@contextlib.contextmanager
def offline_env() -> Iterator[dict[str, str]]:
    """Proxy settings that keep the plugin's HTTP clients off the internet.

    The proxy is a loopback port bound but never listened on, so a request
    anywhere but loopback is refused at once instead of reaching a vendor.
    """
    closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        closed.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{closed.getsockname()[1]}"
        local = "127.0.0.1,localhost,::1"
        yield {
            "HTTP_PROXY": proxy,
            "HTTPS_PROXY": proxy,
            "ALL_PROXY": proxy,
            "http_proxy": proxy,
            "https_proxy": proxy,
            "all_proxy": proxy,
            "NO_PROXY": local,
            "no_proxy": local,
        }
    finally:
        closed.close()


def _error(result: driver.SessionResult) -> str:
    return f"{result.error_type}: {result.error_message}"


def _with_stderr(message: str, stderr: str) -> str:
    """The message and the exception at the end of stderr (the real reason)."""
    tail = stderr.strip()
    if not tail:
        return message
    found = list(_EXCEPTION_LINE.finditer(tail))
    reason = tail[found[-1].start() :] if found else tail
    return f"{message}\n{reason[-DETAIL_STDERR_CHARS:]}"


def ms(seconds: float) -> int:
    return round(seconds * 1000)
