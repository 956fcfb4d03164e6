"""The request id, one log line and the latency metric of every request."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from studio.lib.logs import (
    REQUEST_ID_HEADER,
    bind_request_id,
    new_request_id,
    sane_request_id,
)
from studio.lib.metrics import REQUEST_LATENCY

log = logging.getLogger("studio.request")

# URL parts that are secrets (invitation and password-reset links): the log
# line names the route instead of their value.
_SECRET_KWARGS = ("token", "uidb64")
# Any other method is counted as "other": label values must stay few.
_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


def observe(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Give the request an id (a sane incoming X-Request-ID, else a new one),
    return it in the response's X-Request-ID, log the request in one line and
    time it by view.

    The id stays bound until the response is closed (`request_finished`):
    Django logs a 4xx ("Not Found: ...") after the middleware has returned.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        request_id = (
            sane_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
        )
        bind_request_id(request_id)
        started = time.perf_counter()
        response = get_response(request)
        elapsed = time.perf_counter() - started
        response[REQUEST_ID_HEADER] = request_id
        _record(request, response, elapsed)
        return response

    return middleware


def _unbind(**kwargs: object) -> None:
    bind_request_id(None)


request_finished.connect(_unbind, dispatch_uid="studio.core.middleware.unbind")


def _record(request: HttpRequest, response: HttpResponse, elapsed: float) -> None:
    match = request.resolver_match
    view = match.view_name if match is not None else "unmatched"
    path = request.path
    if match is not None and any(k in match.kwargs for k in _SECRET_KWARGS):
        path = "/" + str(match.route)
    status = response.status_code
    method = request.method if request.method in _METHODS else "other"
    REQUEST_LATENCY.labels(view=view, method=method, status=status).observe(elapsed)
    duration_ms = round(elapsed * 1000, 1)
    log.log(
        logging.WARNING if status >= 500 else logging.INFO,
        "%s %s %s %s ms",
        method,
        path,
        status,
        duration_ms,
        extra={
            "method": method,
            "path": path,
            "view": view,
            "status": status,
            "duration_ms": duration_ms,
        },
    )
