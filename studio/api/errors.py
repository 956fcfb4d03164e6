"""The API's errors: one JSON shape, stable codes.

Every error answers `{"error": {"code": ..., "message": ...}}` (validation
errors add `details`, some add `context` such as the id of the build in the
way). Codes are part of the API: scripts branch on them, never on messages.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from django.http import JsonResponse

ErrorCode = Literal[
    "unauthenticated",
    "token_expired",
    "token_revoked",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "invalid_request",
    "payload_too_large",
    "rate_limited",
    "queue_unavailable",
    "conflict",
    "playground_limit",
    "plugin_failed",
    "playground_unavailable",
]
ERROR_CODES: tuple[str, ...] = get_args(ErrorCode)

# The status each code is answered with.
STATUS_OF: dict[str, int] = {
    "unauthenticated": 401,
    "token_expired": 401,
    "token_revoked": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "invalid_request": 400,
    "payload_too_large": 413,
    "rate_limited": 429,
    "queue_unavailable": 503,
    "conflict": 409,
    "playground_limit": 429,
    "plugin_failed": 502,
    "playground_unavailable": 503,
}


class ApiError(Exception):
    """Raised anywhere below a view: answered as the error JSON."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        context: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        assert code in STATUS_OF, code
        super().__init__(message)
        self.code = code
        self.status = STATUS_OF[code]
        self.message = message
        self.details = details
        self.context = context
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        return error_response(
            self.code,
            self.message,
            details=self.details,
            context=self.context,
            headers=self.headers,
        )


def error_response(
    code: str,
    message: str,
    *,
    details: list[dict[str, Any]] | None = None,
    context: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    if context:
        body["context"] = context
    response = JsonResponse({"error": body}, status=STATUS_OF[code])
    for name, value in (headers or {}).items():
        response[name] = value
    if STATUS_OF[code] == 401:
        # RFC 6750: a token was presented but cannot be used.
        response["WWW-Authenticate"] = (
            'Bearer realm="studio", error="invalid_token"'
            if code in ("token_expired", "token_revoked")
            else 'Bearer realm="studio"'
        )
    return response


def not_found(what: str = "resource") -> ApiError:
    """The one answer for missing and not-yours alike."""
    return ApiError("not_found", f"No such {what}.")
