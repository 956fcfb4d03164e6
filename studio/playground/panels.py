"""The Try it tab's panels: chat (streamed, images for vision models), text
embedding, rerank, moderation, speech to text and text to speech.

Each panel's form posts to its own URL. An htmx request gets back only that
panel's result region (the `<panel>-result` partial of try.html), so the other
panels' results stay on the page; a plain post (no JavaScript) gets the whole
page with the posted panel's result. The chat streams Server-Sent Events when
asked (playground.js). Request bodies come from `studio.pluginfmt.driver`'s
action builders; the playground server fills in the session's credentials.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_POST

from studio.catalog.access import get_provider_for_user
from studio.catalog.models import Membership, Provider, Role
from studio.lib.http import AuthedHttpRequest
from studio.playground import chat, client
from studio.playground.models_info import ModelInfo, session_models
from studio.playground.sessions import PlaygroundError, cost
from studio.playground.views import _page, _session_for
from studio.pluginfmt import driver

MB = chat.MB
# Strings longer than this (hex audio, base64 images) are shortened in traces.
TRACE_STRING = 600

IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
IMAGE_TYPES = "PNG, JPEG, GIF or WebP"
VIEWER_REFUSED = (
    "A viewer may not run plugins in the playground; owners, authors and reviewers may."
)


class Refused(Exception):
    """A panel request answered with the panel's result region and a message."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _megabytes(size: int) -> str:
    return f"{size / MB:.1f} MB"


def _check_role(membership: Membership) -> None:
    if membership.role == Role.VIEWER:
        raise Refused(VIEWER_REFUSED, 403)


def _model(session: dict[str, Any], name: str, model_type: str) -> ModelInfo:
    for info in session_models(session):
        if info.model_type == model_type and info.model == name:
            return info
    raise Http404("that model is not in the build")


def _answer(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    session_id: str,
    panel: str,
    *,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """The page (or, for htmx, the panel's result region) with the panel's result."""
    return _page(
        request,
        provider,
        membership,
        session_id=session_id,
        posted=request.POST,
        status=status,
        partial=f"{panel}-result",
        **extra,
    )


def _short(value: Any) -> Any:
    """The value with long strings (audio as hex, images as base64) shortened."""
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_short(v) for v in value]
    if isinstance(value, str) and len(value) > TRACE_STRING:
        return f"{value[:80]}… ({len(value):,} characters in all)"
    return value


def _run(
    request: AuthedHttpRequest, session_id: str, data: dict[str, Any]
) -> chat.Outcome:
    outcome = chat.finish(client.invoke(request.user.pk, session_id, data), None)
    outcome.request = _short(outcome.request)
    return outcome


def _panel_view(panel: str, model_type: str) -> Any:
    """Wrap a panel's work: roles, the session, the model, refusals, the answer."""

    def decorate(work: Any) -> Any:
        @require_POST
        @login_required
        def view(
            request: AuthedHttpRequest, provider_id: int, session_id: str
        ) -> HttpResponse:
            provider, membership = get_provider_for_user(request, provider_id)
            try:
                _check_role(membership)
                session = _session_for(request, provider, session_id)
                info = _model(session, request.POST.get("model", ""), model_type)
                extra = work(request, session, info)
            except PlaygroundError as error:
                # The session ended meanwhile, or the server refused the request.
                return _answer(
                    request,
                    provider,
                    membership,
                    session_id,
                    panel,
                    status=error.status if 400 <= error.status < 600 else 502,
                    **{f"{panel}_problem": error.message},
                )
            except Refused as refused:
                return _answer(
                    request,
                    provider,
                    membership,
                    session_id,
                    panel,
                    status=refused.status,
                    **{f"{panel}_problem": refused.message},
                )
            outcome = extra[f"{panel}_outcome"]
            return _answer(
                request,
                provider,
                membership,
                session_id,
                panel,
                status=200 if outcome.error is None else 502,
                **extra,
            )

        view.__name__ = work.__name__
        view.__doc__ = work.__doc__
        return view

    return decorate


# ------------------------------------------------------------------ chat


def _image(request: AuthedHttpRequest, info: ModelInfo) -> dict[str, Any] | None:
    upload: UploadedFile | None = request.FILES.get("image")
    if upload is None or not upload.name:
        return None
    if not info.vision:
        raise Refused(
            f"{info.label} does not declare the vision feature: it takes no images.",
            400,
        )
    size = upload.size or 0
    if size > chat.MAX_IMAGE_BYTES:
        raise Refused(
            f"The image ({size:,} bytes) is over {_megabytes(chat.MAX_IMAGE_BYTES)}, "
            "the most the playground sends.",
            413,
        )
    data = upload.read(chat.MAX_IMAGE_BYTES + 1)
    mime = next((m for sig, m in IMAGE_SIGNATURES if data.startswith(sig)), "")
    if not mime and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        mime = "image/webp"
    if not mime:
        raise Refused(
            f"{upload.name} is not an image the playground sends ({IMAGE_TYPES}).",
            415,
        )
    return chat.image_content(data, mime, upload.name or "")


@require_POST
@login_required
def chat_send(
    request: AuthedHttpRequest, provider_id: int, session_id: str
) -> HttpResponse | StreamingHttpResponse:
    """Send a chat message; stream the answer (SSE) or answer the page."""
    provider, membership = get_provider_for_user(request, provider_id)
    problem, status = "", 400
    image = None
    try:
        _check_role(membership)
    except Refused as refused:
        problem, status = refused.message, refused.status
    if not problem:
        session = _session_for(request, provider, session_id)
        info = _model(session, request.POST.get("model", ""), "llm")
    message = request.POST.get("message", "").strip()
    history = chat.parse_history(request.POST.get("history", ""))
    tools: list[dict[str, Any]] | None = None
    tools_text = request.POST.get("tools", "").strip()
    if not problem and not message:
        problem = "Type a message to send."
    if tools_text and not problem:
        try:
            if len(tools_text) > chat.MAX_TEXT:
                raise ValueError(f"longer than {chat.MAX_TEXT:,} characters")
            tools = json.loads(tools_text)
            if isinstance(tools, dict):
                tools = [tools]
            if not isinstance(tools, list):
                raise ValueError("a tool is a JSON object")
        except RecursionError:
            problem = "The tools are not valid JSON: nested too deeply"
        except ValueError as error:
            problem = f"The tools are not valid JSON: {error}"
    if not problem:
        try:
            image = _image(request, info)
        except Refused as refused:
            problem, status = refused.message, refused.status
    if problem:
        return _page(
            request,
            provider,
            membership,
            session_id=session_id,
            posted=request.POST,
            notice=problem,
            status=status,
        )
    data = chat.llm_request(
        info,
        system=request.POST.get("system", ""),
        history=history,
        message=message,
        params=chat.parameters(info, request.POST),
        tools=tools,
        image=image,
        provider=session["provider"],
    )
    events = client.invoke(request.user.pk, session_id, data)
    if "text/event-stream" in request.headers.get("Accept", ""):
        return _stream(events, info, history, message)
    try:
        outcome = chat.finish(events, info)
    except PlaygroundError as error:
        # The session ended meanwhile, or the server refused the request.
        return _page(
            request,
            provider,
            membership,
            session_id=session_id,
            posted=request.POST,
            notice=error.message,
            status=error.status if 400 <= error.status < 600 else 502,
        )
    outcome.request = _short(outcome.request)
    return _page(
        request,
        provider,
        membership,
        session_id=session_id,
        posted=request.POST,
        outcome=outcome,
        history=_with_answer(history, message, outcome),
    )


def _with_answer(
    history: list[dict[str, str]], message: str, outcome: chat.Outcome
) -> list[dict[str, str]]:
    if outcome.error is not None:
        return history
    return [
        *history,
        {"role": "user", "content": message},
        {"role": "assistant", "content": outcome.text},
    ]


def _sse(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _stream(
    events: Iterator[dict[str, Any]],
    info: ModelInfo,
    history: list[dict[str, str]],
    message: str,
) -> StreamingHttpResponse:
    def body() -> Iterator[bytes]:
        try:
            for piece, outcome in chat.follow(events, info):
                if piece:
                    yield _sse("token", {"text": piece})
                    continue
                outcome.request = _short(outcome.request)
                yield _sse(
                    "done",
                    {
                        "text": outcome.text,
                        "error": outcome.error,
                        "usage": outcome.usage,
                        "cost": outcome.cost,
                        "first_chunk_ms": outcome.first_chunk_ms,
                        "total_ms": outcome.total_ms,
                        "tool_calls": outcome.tool_calls,
                        "trace": outcome.trace,
                        "history": _with_answer(history, message, outcome),
                    },
                )
        except PlaygroundError as error:
            yield _sse("done", {"error": {"message": error.message}})
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()

    response = StreamingHttpResponse(body(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


# ------------------------------------------------------------ other types


@_panel_view("embed", "text-embedding")
def embed(
    request: AuthedHttpRequest, session: dict[str, Any], info: ModelInfo
) -> dict[str, Any]:
    """Embed one or two texts: dimensions and their cosine similarity."""
    texts = [request.POST.get("text1", ""), request.POST.get("text2", "")]
    texts = [t[: chat.MAX_TEXT] for t in texts if t.strip()]
    if not texts:
        raise Refused("Type one or two texts to embed.", 400)
    data = driver.invoke_text_embedding(session["provider"], info.model, {}, texts)
    outcome = _run(request, session["id"], data)
    vectors = (outcome.result or {}).get("embeddings") or []
    usage = (outcome.result or {}).get("usage") or {}
    tokens = usage.get("tokens") or usage.get("total_tokens")
    if tokens:
        outcome.usage = {"total_tokens": tokens}
        outcome.cost = cost(info.pricing, int(tokens), 0)
    embedding = {
        "dimensions": len(vectors[0]) if vectors else 0,
        "similarity": (
            f"{chat.cosine(vectors[0], vectors[1]):.4f}" if len(vectors) == 2 else ""
        ),
    }
    return {"embed_outcome": outcome, "embedding": embedding}


@_panel_view("rerank", "rerank")
def rerank(
    request: AuthedHttpRequest, session: dict[str, Any], info: ModelInfo
) -> dict[str, Any]:
    """Score documents (one a line) against a query."""
    docs = [d.strip() for d in request.POST.get("docs", "").splitlines() if d.strip()]
    query = request.POST.get("query", "").strip()[: chat.MAX_TEXT]
    if not query or not docs:
        raise Refused("Type a query and at least one document.", 400)
    data = driver.invoke_rerank(session["provider"], info.model, {}, query, docs[:100])
    outcome = _run(request, session["id"], data)
    ranked = [
        {"text": d.get("text", ""), "score": f"{float(d.get('score') or 0):.4f}"}
        for d in (outcome.result or {}).get("docs") or []
        if isinstance(d, dict)
    ]
    return {"rerank_outcome": outcome, "ranked": ranked}


@_panel_view("moderate", "moderation")
def moderate(
    request: AuthedHttpRequest, session: dict[str, Any], info: ModelInfo
) -> dict[str, Any]:
    """Ask a moderation model whether a text is flagged."""
    text = request.POST.get("text", "").strip()[: chat.MAX_TEXT]
    if not text:
        raise Refused("Type a text to moderate.", 400)
    data = driver.invoke_moderation(session["provider"], info.model, {}, text)
    outcome = _run(request, session["id"], data)
    result = (outcome.result or {}).get("result")
    return {"moderate_outcome": outcome, "flagged": result is True}


@_panel_view("transcribe", "speech2text")
def transcribe(
    request: AuthedHttpRequest, session: dict[str, Any], info: ModelInfo
) -> dict[str, Any]:
    """Send an uploaded audio file to a speech-to-text model."""
    upload: UploadedFile | None = request.FILES.get("audio")
    if upload is None or not upload.name:
        raise Refused("Choose an audio file to transcribe.", 400)
    size = upload.size or 0
    if size > chat.MAX_AUDIO_BYTES:
        raise Refused(
            f"The audio file ({size:,} bytes) is over "
            f"{_megabytes(chat.MAX_AUDIO_BYTES)}, the most the playground sends.",
            413,
        )
    allowed = [e.strip().lower() for e in info.audio_extensions.split(",") if e.strip()]
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    if allowed and extension not in allowed:
        raise Refused(
            f"{info.label} takes {', '.join(allowed)} files, not {upload.name}.", 415
        )
    audio = upload.read(chat.MAX_AUDIO_BYTES + 1)
    data = driver.invoke_speech2text(session["provider"], info.model, {}, audio)
    outcome = _run(request, session["id"], data)
    transcript = (outcome.result or {}).get("result")
    return {
        "transcribe_outcome": outcome,
        "transcript": transcript if isinstance(transcript, str) else "",
    }


def _voice(request: AuthedHttpRequest, info: ModelInfo) -> str:
    voice = request.POST.get("voice", "").strip()
    if info.voices:
        if voice not in {v.mode for v in info.voices}:
            raise Refused(f"Choose one of {info.label}'s voices.", 400)
        return voice
    return voice[:100] or info.default_voice or "default"


@_panel_view("speak", "tts")
def speak(
    request: AuthedHttpRequest, session: dict[str, Any], info: ModelInfo
) -> dict[str, Any]:
    """Have a text-to-speech model read a text; the audio comes back as a data URL."""
    text = request.POST.get("text", "").strip()
    if not text:
        raise Refused("Type a text to read aloud.", 400)
    if len(text) > chat.MAX_SPEECH_TEXT:
        raise Refused(
            f"The text has {len(text):,} characters; the playground reads up to "
            f"{chat.MAX_SPEECH_TEXT:,}.",
            400,
        )
    voice = _voice(request, info)
    data = driver.invoke_tts(
        session["provider"],
        info.model,
        {},
        text,
        voice,
        tenant_id="studio-playground",
    )
    outcome = _run(request, session["id"], data)
    audio, mime = bytearray(), "audio/mpeg"
    for chunk in outcome.events:
        if isinstance(chunk, dict) and isinstance(chunk.get("result"), str):
            mime = str(chunk.get("mime_type") or mime)
            try:
                audio += bytes.fromhex(chunk["result"])
            except ValueError:
                continue
    outcome.events = _short(outcome.events)
    speech = {"bytes": len(audio), "mime": mime, "url": ""}
    if outcome.error is None and len(audio) > chat.MAX_SPEECH_BYTES:
        outcome.error = {
            "error_type": "TooLong",
            "message": f"The plugin answered {_megabytes(len(audio))} of audio; "
            f"the playground plays up to {_megabytes(chat.MAX_SPEECH_BYTES)}.",
        }
    elif audio:
        speech["url"] = f"data:{mime};base64,{base64.b64encode(audio).decode()}"
    return {"speak_outcome": outcome, "speech": speech, "voice": voice}
