from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.pluginfmt.package import package
from tests.builds.conftest import broker, run_published, storage
from tests.catalog.conftest import personas
from tests.pluginfmt.echo_plugin import ECHO_FILES, SDK_CACHE, UV_CACHE

__all__ = ["broker", "personas", "run_published", "storage"]


@pytest.fixture(scope="session")
def echo_package(sdk_python: Path) -> bytes:
    """The echo plugin as a .difypkg (its SDK virtualenv warmed by sdk_python)."""
    return package({name: text.encode() for name, text in ECHO_FILES.items()})


@pytest.fixture(scope="session")
def venv_options() -> dict[str, Any]:
    return {"cache_dir": SDK_CACHE, "uv_cache_dir": UV_CACHE, "max_bytes": None}


# --------------------------------------------------------------------- web


def add_models(provider: Any) -> None:
    """An LLM (priced), an embedding and a rerank model, predefined."""
    from studio.catalog import services
    from studio.pluginfmt.document import dump_document, load_document
    from studio.pluginfmt.document.yamltext import dump_yaml
    from tests.factories import llm_model_data

    files = services.provider_files(provider)
    chat = llm_model_data("chat-1")
    chat["features"] = ["agent-thought", "tool-call"]
    files["models/llm/chat-1.yaml"] = dump_yaml(chat)
    files["models/text_embedding/embed-1.yaml"] = dump_yaml(
        {
            "model": "embed-1",
            "label": {"en_US": "Embed 1"},
            "model_type": "text-embedding",
            "model_properties": {"context_size": 8192, "max_chunks": 16},
            "pricing": {"input": "0.02", "unit": "0.000001", "currency": "USD"},
        }
    )
    files["models/rerank/rerank-1.yaml"] = dump_yaml(
        {
            "model": "rerank-1",
            "label": {"en_US": "Rerank 1"},
            "model_type": "rerank",
            "model_properties": {"context_size": 8192},
        }
    )
    doc = load_document(files)
    services.provider_replace_files(provider=provider, files=dump_document(doc))


@pytest.fixture
def built_provider(
    transactional_db: None,
    broker: Any,
    run_published: Any,
    personas: Any,
) -> Any:
    """An OpenAI-compatible provider with three model types, built (real package)."""
    from studio.builds import services
    from tests.factories import make_provider

    provider = make_provider(
        personas.team,
        "gateway",
        model_types=["llm", "text-embedding", "rerank"],
        methods=["predefined-model"],
    )
    add_models(provider)
    build = services.build_start(provider=provider, user=None)
    run_published()
    build.refresh_from_db()
    assert build.status == "succeeded", build.error
    return provider


def add_other_types(provider: Any) -> None:
    """A vision LLM, a moderation, a speech-to-text and a text-to-speech model."""
    from studio.catalog import services
    from studio.pluginfmt.document import dump_document, load_document
    from studio.pluginfmt.document.yamltext import dump_yaml
    from tests.factories import llm_model_data

    files = services.provider_files(provider)
    see = llm_model_data("see-1")
    see["features"] = ["vision"]
    files["models/llm/see-1.yaml"] = dump_yaml(see)
    files["models/moderation/mod-1.yaml"] = dump_yaml(
        {
            "model": "mod-1",
            "label": {"en_US": "Mod 1"},
            "model_type": "moderation",
            "model_properties": {"max_chunks": 32, "max_characters_per_chunk": 2000},
        }
    )
    files["models/speech2text/whisper-1.yaml"] = dump_yaml(
        {
            "model": "whisper-1",
            "label": {"en_US": "Whisper 1"},
            "model_type": "speech2text",
            "model_properties": {
                "file_upload_limit": 25,
                "supported_file_extensions": "mp3,wav",
            },
        }
    )
    files["models/tts/speak-1.yaml"] = dump_yaml(
        {
            "model": "speak-1",
            "label": {"en_US": "Speak 1"},
            "model_type": "tts",
            "model_properties": {
                "default_voice": "alloy",
                "voices": [
                    {"mode": "alloy", "name": "Alloy", "language": ["en-US"]},
                    {"mode": "echo", "name": "Echo", "language": ["en-US"]},
                ],
                "word_limit": 3500,
                "audio_type": "mp3",
                "max_workers": 5,
            },
        }
    )
    doc = load_document(files)
    services.provider_replace_files(provider=provider, files=dump_document(doc))


ALL_TYPES = ["llm", "text-embedding", "rerank", "moderation", "speech2text", "tts"]


@pytest.fixture
def all_types_provider(
    transactional_db: None,
    broker: Any,
    run_published: Any,
    personas: Any,
) -> Any:
    """An OpenAI-compatible provider declaring all six model types, built."""
    from studio.builds import services
    from tests.factories import make_provider

    provider = make_provider(
        personas.team,
        "allkinds",
        model_types=ALL_TYPES,
        methods=["predefined-model"],
    )
    add_models(provider)
    add_other_types(provider)
    build = services.build_start(provider=provider, user=None)
    run_published()
    build.refresh_from_db()
    assert build.status == "succeeded", build.error
    return provider


@pytest.fixture
def playground(
    settings: Any, tmp_path: Path, venv_options: dict[str, Any]
) -> Iterator[Any]:
    """The playground server in a thread of this process, on a temporary socket."""
    import threading

    from studio.playground.server import PlaygroundApp, PlaygroundServer
    from studio.playground.sessions import Limits

    path = Path(tempfile.mkdtemp(prefix="pg-")) / "playground.sock"
    settings.PLAYGROUND_SOCKET = path
    app = PlaygroundApp(Limits(max_per_user=2, max_total=4), venv_options=venv_options)
    server = PlaygroundServer(path, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()
        app.close()
        thread.join(timeout=5)
