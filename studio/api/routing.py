"""How an API operation is declared, authenticated, parsed and routed.

Each view is a plain function decorated with `@operation(...)`, which names
its method, its query, body or upload model and its responses (pydantic
models). The decorator authenticates the bearer token, counts the request
against the token's rate limit, validates the input and turns every failure
into the error JSON, so the view only does its one domain call. `api_path`
puts the operations of one URL behind a dispatcher that answers 405 for the
rest. `openapi.py` reads the same declarations to describe the API: nothing
is declared twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Protocol, cast

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import Http404, HttpRequest, HttpResponseBase
from django.http.multipartparser import MultiPartParserError
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel, ValidationError

from . import services
from .errors import ApiError, error_response
from .services import Actor
from .throttling import RateDecision, rate_check

log = logging.getLogger(__name__)

BINARY = "application/octet-stream"
# A response that sends the client elsewhere (`Location`), e.g. to a presigned URL.
REDIRECT = "redirect"
NDJSON = "application/x-ndjson"
# Sent with every authenticated answer, documented in openapi.py.
RATE_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


class ApiRequest(HttpRequest):
    """A request that went through `operation`: `actor` is who the token is."""

    actor: Actor


class OperationView(Protocol):
    """A view made by `operation`: callable, and carrying its declaration."""

    operation: Operation

    def __call__(self, request: HttpRequest, **kwargs: Any) -> HttpResponseBase: ...


@dataclass(frozen=True)
class Upload:
    """A multipart body: one file (`file_field`) and the fields of `form`."""

    form: type[BaseModel]
    max_bytes: int
    file_field: str = "file"
    file_description: str = ""


@dataclass(frozen=True)
class Operation:
    """What one view answers to: the source of its OpenAPI description."""

    method: str
    view: Callable[..., HttpResponseBase]
    summary: str
    tag: str
    responses: dict[int, type[BaseModel] | str]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    upload: Upload | None = None
    errors: tuple[int, ...] = ()
    write: bool = False
    auth: bool = True
    description: str = ""
    operation_id: str = ""

    @property
    def error_statuses(self) -> list[int]:
        """Every error status the operation may answer."""
        statuses = set(self.errors)
        if self.auth:
            statuses |= {401, 429}
        if self.write:
            statuses.add(403)
        if self.query or self.body or self.upload:
            statuses.add(400)
        if self.body or self.upload:
            statuses.add(413)
        return sorted(statuses)


def operation(
    method: str,
    *,
    summary: str,
    tag: str,
    responses: dict[int, type[BaseModel] | str],
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    upload: Upload | None = None,
    errors: tuple[int, ...] = (),
    write: bool = False,
    auth: bool = True,
) -> Callable[[Callable[..., HttpResponseBase]], OperationView]:
    """Declare a view as an API operation (see the module's docstring).

    `write` operations need a token whose role can edit (owner, author);
    views still look objects up first so another team's object is a 404.
    """

    def decorate(view: Callable[..., HttpResponseBase]) -> OperationView:
        op = Operation(
            method=method.upper(),
            view=view,
            summary=summary,
            tag=tag,
            responses=responses,
            query=query,
            body=body,
            upload=upload,
            errors=errors,
            write=write,
            auth=auth,
            description=(view.__doc__ or "").strip(),
            operation_id=view.__name__,
        )

        @wraps(view)
        def handle(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
            try:
                return _handle(op, request, kwargs)
            except ApiError as exc:
                return exc.response()
            except Http404:
                return error_response("not_found", "No such resource.")
            except PermissionDenied:
                return error_response("forbidden", "This token may not do that.")

        # mypy cannot type an attribute set on a function; the Protocol names it.
        view_with_op = cast(OperationView, handle)
        view_with_op.operation = op
        return view_with_op

    return decorate


def _handle(
    op: Operation, request: HttpRequest, kwargs: dict[str, Any]
) -> HttpResponseBase:
    decision: RateDecision | None = None
    if op.auth:
        actor = authenticate(request)
        decision = rate_check(actor.token.prefix)
        if not decision.allowed:
            raise ApiError(
                "rate_limited",
                f"More than {decision.limit} requests in the current window; "
                f"retry in {decision.reset_in} s.",
                headers={"Retry-After": str(decision.reset_in), **_rate(decision)},
            )
        # From here on the request is an ApiRequest, the type the views take.
        cast(ApiRequest, request).actor = actor
    extra: dict[str, Any] = {}
    if op.query is not None:
        extra["query"] = _validate(op.query, _query_data(request), "query")
    if op.body is not None:
        extra["body"] = _validate(op.body, _json_data(request), "body")
    if op.upload is not None:
        extra["upload"] = _upload_data(op.upload, request)
    response = op.view(request, **kwargs, **extra)
    if decision is not None:
        for name, value in _rate(decision).items():
            response[name] = value
    return response


def require_write(actor: Actor) -> None:
    """403 unless the token's role can edit; call it after the object lookup,
    so another team's object stays a 404."""
    if not actor.can_edit:
        raise forbidden(actor)


def forbidden(actor: Actor) -> ApiError:
    return ApiError(
        "forbidden",
        f"This token has the {actor.role} role in {actor.team.slug}, which can "
        "only read; writing needs an owner or author.",
    )


def _rate(decision: RateDecision) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_in),
    }


# ------------------------------------------------------------------ auth


def authenticate(request: HttpRequest) -> Actor:
    """The actor of the request's bearer token; never the session."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.strip().partition(" ")
    if not header:
        raise ApiError(
            "unauthenticated",
            "Send a token: `Authorization: Bearer <token>` "
            "(create one under Settings → API tokens).",
        )
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(
            "unauthenticated", "Use the Bearer scheme: `Authorization: Bearer <token>`."
        )
    try:
        return services.token_authenticate(secret.strip())
    except services.TokenRefused as exc:
        raise ApiError(
            exc.code, f"{exc.message[:1].upper()}{exc.message[1:]}."
        ) from None


# ------------------------------------------------------------------ input


def _validate[M: BaseModel](model: type[M], data: Any, where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            {
                "loc": [where, *(str(p) for p in error["loc"])],
                "message": error["msg"],
                "type": error["type"],
            }
            for error in exc.errors(include_url=False, include_context=False)
        ]
        raise ApiError(
            "invalid_request", f"The {where} is not valid.", details=details
        ) from None


def _query_data(request: HttpRequest) -> dict[str, str]:
    return {key: request.GET[key] for key in request.GET}


def _json_data(request: HttpRequest) -> Any:
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError("payload_too_large", "The request body is too large.") from None
    if not raw.strip():
        return {}
    kind = request.content_type or ""
    if kind != "application/json" and not kind.endswith("+json"):
        raise ApiError(
            "invalid_request", "Send the body as JSON (Content-Type: application/json)."
        )
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError("invalid_request", "The body is not valid JSON.") from None


class _LimitedUploadHandler(FileUploadHandler):
    """Drops files once the upload streams past `limit` bytes in total."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _too_large(upload: Upload) -> ApiError:
    return ApiError(
        "payload_too_large",
        f"Uploads are limited to {upload.max_bytes // (1024 * 1024)} MiB.",
    )


def _upload_data(upload: Upload, request: HttpRequest) -> tuple[Any, UploadedFile]:
    if request.content_type != "multipart/form-data":
        raise ApiError(
            "invalid_request",
            f"Send a multipart/form-data body with the file in `{upload.file_field}`.",
        )
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    # Refuse an honest oversized upload before reading a byte of it; the
    # handler catches the rest (chunked or lying clients).
    if length > upload.max_bytes + 1024 * 1024:
        raise _too_large(upload)
    handler = _LimitedUploadHandler(request, upload.max_bytes)
    request.upload_handlers.insert(0, handler)
    try:
        fields, files = request.POST, request.FILES
    except RequestDataTooBig:
        raise _too_large(upload) from None
    except (
        MultiPartParserError,
        TooManyFieldsSent,
        TooManyFilesSent,
        SuspiciousOperation,
        UnicodeDecodeError,
    ) as exc:
        raise ApiError(
            "invalid_request", f"The multipart body cannot be read: {exc}"
        ) from None
    if handler.too_large:
        raise _too_large(upload)
    form = _validate(upload.form, {key: fields[key] for key in fields}, "form")
    file = files.get(upload.file_field)
    if file is None:
        raise ApiError(
            "invalid_request",
            f"Attach the file as the `{upload.file_field}` field.",
            details=[
                {
                    "loc": ["form", upload.file_field],
                    "message": "Field required",
                    "type": "missing",
                }
            ],
        )
    return form, file


# ------------------------------------------------------------------ routes


def api_path(route: str, *views: OperationView, name: str) -> URLPattern:
    """One URL and its operations (one view per method); 405 for other methods."""
    operations = {view.operation.method: view for view in views}

    @csrf_exempt  # token-authenticated: no cookies, so no CSRF to forge
    def dispatch(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        view = operations.get(request.method or "")
        if view is None:
            response = error_response(
                "method_not_allowed",
                f"{request.method} is not allowed here; use "
                f"{', '.join(sorted(operations))}.",
            )
            response["Allow"] = ", ".join(sorted(operations))
            return response
        return view(request, **kwargs)

    # Read back by `operations_of`; mypy cannot type an attribute set on a function.
    dispatch.operations = {  # type: ignore[attr-defined]
        method: view.operation for method, view in operations.items()
    }
    dispatch.__name__ = f"api_{name.replace('-', '_')}"
    return path(route, dispatch, name=name)


def operations_of(pattern: URLPattern) -> dict[str, Operation]:
    """The operations behind a URL pattern made by `api_path` ({} for others)."""
    return getattr(pattern.callback, "operations", {})
