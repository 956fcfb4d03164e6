"""The playground over the API: start a session, send a message and read the
streamed answer, end it — so CI can try a release against a real endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

from django.http import HttpResponse, StreamingHttpResponse
from pydantic import BaseModel, ConfigDict, Field

from studio.catalog.models import Role
from studio.catalog.selectors.credentials import MODEL, schema_available
from studio.playground import chat, client
from studio.playground.builds import latest_build, runnable_builds
from studio.playground.models_info import session_models
from studio.playground.sessions import PlaygroundError

from ..errors import ApiError
from ..routing import NDJSON, ApiRequest, operation
from .lookups import get_provider_for_token, reply


class SessionCreate(BaseModel):
    """Start a playground session of a build (the newest succeeded one if none)."""

    model_config = ConfigDict(extra="forbid")

    build_id: int | None = Field(default=None, description="A succeeded build.")
    credentials: dict[str, str] = Field(
        default_factory=dict,
        description="The provider credential form's values. Kept only in the "
        "session's memory; never stored or logged.",
    )
    target: Literal["mock", "endpoint"] = Field(
        default="mock",
        description="`mock`: the studio's mock upstream; `endpoint`: the form's "
        "endpoint_url (internal addresses are refused).",
    )
    model: str = Field(
        default="",
        max_length=255,
        description="A model of your own (a provider declaring "
        "`customizable-model`): its name; `credentials` are then the model "
        "credential form's values, validated with validate_model_credentials, "
        "and the session offers that one model.",
    )
    model_type: Literal[
        "", "llm", "text-embedding", "rerank", "speech2text", "tts", "moderation"
    ] = Field(default="", description="The type of `model` (llm when omitted).")


class SessionOut(BaseModel):
    id: str
    build_id: int
    provider_id: int


class Message(BaseModel):
    """One chat turn to an LLM of the session's build."""

    model_config = ConfigDict(extra="forbid")

    model: str
    message: str = Field(min_length=1, max_length=chat.MAX_TEXT)
    system: str = ""
    history: list[dict[str, str]] = Field(default_factory=list, max_length=50)
    parameters: dict[str, Any] = Field(default_factory=dict)


def _may_try(request: ApiRequest) -> None:
    if request.actor.role == Role.VIEWER:
        raise ApiError(
            "forbidden",
            "A viewer may not run plugins in the playground; owners, authors "
            "and reviewers may.",
        )


def _owner(request: ApiRequest) -> str:
    user = request.actor.user
    return str(user.pk) if user is not None else f"token-{request.actor.token.pk}"


def _api_error(error: PlaygroundError) -> ApiError:
    code = {
        404: "not_found",
        429: "playground_limit",
        502: "plugin_failed",
        503: "playground_unavailable",
    }.get(error.status, "invalid_request")
    return ApiError(code, error.message)


def _session(request: ApiRequest, provider_id: int, session_id: str) -> dict:
    try:
        for session in client.sessions(_owner(request)):
            if session["id"] == session_id and session["provider_id"] == provider_id:
                return session
    except PlaygroundError as error:
        raise _api_error(error) from None
    raise ApiError("not_found", "No such playground session (it may have ended).")


@operation(
    "POST",
    summary="Start a playground session",
    tag="playground",
    body=SessionCreate,
    responses={201: SessionOut},
    errors=(403, 404, 429, 502, 503),
)
def session_create(
    request: ApiRequest, provider_id: int, *, body: SessionCreate
) -> HttpResponse:
    """Run a build's plugin under the SDK and validate the credentials with it.
    A refused credential is a 400 carrying the plugin's own message. Owners,
    authors and reviewers may; a viewer's token is refused (the plugin's code
    runs)."""
    provider = get_provider_for_token(request, provider_id)
    _may_try(request)
    build = (
        runnable_builds().filter(provider=provider, pk=body.build_id).first()
        if body.build_id is not None
        else latest_build(provider.pk)
    )
    if build is None:
        raise ApiError("not_found", "The provider has no succeeded build to try.")
    if body.model.strip() and not schema_available(provider, MODEL):
        raise ApiError(
            "invalid_request",
            "This provider does not declare customizable-model: start a session "
            "without `model`, with its provider credentials.",
        )
    try:
        started = client.start_session(
            owner=_owner(request),
            build_id=build.pk,
            credentials=body.credentials,
            target=body.target,
            model=body.model.strip(),
            model_type=(body.model_type or "llm") if body.model.strip() else "",
        )
    except PlaygroundError as error:
        raise _api_error(error) from None
    out = SessionOut(
        id=started["id"], build_id=build.pk, provider_id=started["provider_id"]
    )
    return reply(out, status=201)


@operation(
    "POST",
    summary="Send a message and read the streamed answer",
    tag="playground",
    body=Message,
    responses={200: NDJSON},
    errors=(403, 404, 503),
)
def session_message(
    request: ApiRequest, provider_id: int, session_id: str, *, body: Message
) -> StreamingHttpResponse:
    """Stream the LLM's answer as newline-delimited JSON events."""
    get_provider_for_token(request, provider_id)
    _may_try(request)
    session = _session(request, provider_id, session_id)
    models = session_models(session)
    info = next(
        (m for m in models if m.model_type == "llm" and m.model == body.model), None
    )
    if info is None:
        raise ApiError("invalid_request", f"The build declares no LLM {body.model!r}.")
    data = chat.llm_request(
        info,
        system=body.system,
        history=chat.parse_history(json.dumps(body.history)),
        message=body.message,
        params=body.parameters,
    )
    events = client.invoke(_owner(request), session_id, data)

    def lines() -> Iterator[bytes]:
        try:
            for piece, outcome in chat.follow(events, info):
                if piece:
                    yield json.dumps({"event": "token", "text": piece}).encode() + b"\n"
                    continue
                done = {
                    "event": "done",
                    "text": outcome.text,
                    "error": outcome.error,
                    "usage": outcome.usage,
                    "cost": outcome.cost,
                    "first_chunk_ms": outcome.first_chunk_ms,
                    "total_ms": outcome.total_ms,
                    "tool_calls": outcome.tool_calls,
                }
                yield json.dumps(done).encode() + b"\n"
        except PlaygroundError as error:
            yield (
                json.dumps(
                    {"event": "done", "error": {"message": error.message}}
                ).encode()
                + b"\n"
            )

    return StreamingHttpResponse(lines(), content_type=NDJSON)


class SessionEnded(BaseModel):
    id: str
    ended: bool


@operation(
    "DELETE",
    summary="End a playground session",
    tag="playground",
    responses={200: SessionEnded},
    errors=(404, 503),
)
def session_end(request: ApiRequest, provider_id: int, session_id: str) -> HttpResponse:
    """Stop the plugin process; the credentials typed for it are gone with it."""
    get_provider_for_token(request, provider_id)
    _session(request, provider_id, session_id)
    try:
        client.end_session(_owner(request), session_id)
    except PlaygroundError as error:
        raise _api_error(error) from None
    return reply(SessionEnded(id=session_id, ended=True))
