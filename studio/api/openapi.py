"""The OpenAPI 3.1 description, generated from the routes and the operations.

Walks `studio.api.urls` and reads each view's `@operation` declaration: the
path and its parameters come from the URL pattern, bodies and responses from
the pydantic models (whose JSON Schema is what OpenAPI 3.1 speaks), errors
from the statuses the operation declares. Nothing here names an endpoint.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from django.conf import settings
from django.urls import URLPattern
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .errors import ERROR_CODES
from .routing import BINARY, NDJSON, RATE_HEADERS, REDIRECT, Operation, operations_of
from .schemas import ErrorResponse

API_PREFIX = "/api/v1/"
REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")
ERROR_DESCRIPTIONS = {
    400: "Invalid request (`invalid_request`).",
    401: "No usable token (`unauthenticated`, `token_expired`, `token_revoked`).",
    403: "The token's role can only read (`forbidden`).",
    404: "No such object in the token's team (`not_found`).",
    409: "The object's state is in the way (`conflict`).",
    413: "The body is too large (`payload_too_large`).",
    429: "Too many requests for this token (`rate_limited`), or too many playground "
    "sessions (`playground_limit`).",
    502: "The plugin failed to start or to answer (`plugin_failed`).",
    503: "The job queue (Redis) is unreachable (`queue_unavailable`), or the "
    "playground server is not running or full (`playground_unavailable`).",
}
CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "api_id": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
    "int": {"type": "integer", "minimum": 0},
    "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
    "str": {"type": "string", "pattern": "^[^/]+$"},
}


def api_routes() -> list[tuple[str, dict[str, Operation], list[tuple[str, str]]]]:
    """(OpenAPI path, operations by method, path parameters) of every route."""
    from . import urls

    routes = []
    for pattern in urls.urlpatterns:
        if not isinstance(pattern, URLPattern):
            continue
        operations = operations_of(pattern)
        if not operations:
            continue
        route = str(pattern.pattern)
        params = [(m["name"], m["converter"] or "str") for m in _PARAM.finditer(route)]
        routes.append(
            (API_PREFIX + _PARAM.sub(r"{\g<name>}", route), operations, params)
        )
    return routes


@cache
def _document() -> dict[str, Any]:
    routes = api_routes()
    models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {
        (ErrorResponse, "serialization"): None
    }
    for _, operations, _ in routes:
        for op in operations.values():
            for model in (op.query, op.body):
                if model is not None:
                    models[(model, "validation")] = None
            if op.upload is not None:
                models[(op.upload.form, "validation")] = None
            for response in op.responses.values():
                if isinstance(response, type):
                    models[(response, "serialization")] = None
    refs, defs = models_json_schema(list(models), ref_template=REF)
    schemas = defs.get("$defs", {})

    def ref(model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return refs[(model, mode)]

    paths: dict[str, Any] = {}
    for path, operations, params in routes:
        item: dict[str, Any] = {}
        for method, op in sorted(operations.items()):
            item[method.lower()] = _operation(op, params, ref, schemas)
        paths[path] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Dify plugin studio API",
            "version": "1",
            "description": (
                "Team-scoped JSON API for scripts and CI. Authenticate with "
                "`Authorization: Bearer <token>` (Settings → API tokens). Errors "
                'answer `{"error": {"code": ..., "message": ...}}`; the codes are '
                f"stable: {', '.join(ERROR_CODES)}. Each token may make "
                f"{settings.API_RATE_LIMIT} requests per {settings.API_RATE_WINDOW} s."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": [
            {"name": name}
            for name in dict.fromkeys(
                op.tag for _, ops, _ in routes for op in ops.values()
            )
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "dps_ followed by 43 letters and digits",
                }
            },
        },
    }


def _operation(
    op: Operation,
    params: list[tuple[str, str]],
    ref: Any,
    schemas: dict[str, Any],
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
    }
    if op.description:
        spec["description"] = op.description
    if not op.auth:
        spec["security"] = []
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": CONVERTER_SCHEMAS.get(converter, {"type": "string"}),
        }
        for name, converter in params
    ]
    if op.query is not None:
        parameters.extend(_query_parameters(op.query, ref, schemas))
    if parameters:
        spec["parameters"] = parameters
    if op.body is not None:
        body_schema = _inline(ref(op.body, "validation"), schemas)
        spec["requestBody"] = {
            # An empty body stands for {}: required when {} is not valid.
            "required": bool(body_schema.get("required")),
            "content": {"application/json": {"schema": ref(op.body, "validation")}},
        }
    if op.upload is not None:
        form = _inline(ref(op.upload.form, "validation"), schemas)
        properties = {
            op.upload.file_field: {
                "type": "string",
                "format": "binary",
                "contentMediaType": BINARY,
                "description": op.upload.file_description,
            },
            **form.get("properties", {}),
        }
        spec["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": properties,
                        "required": [op.upload.file_field, *form.get("required", [])],
                    },
                    "encoding": {op.upload.file_field: {"contentType": BINARY}},
                }
            },
        }
    responses: dict[str, Any] = {}
    for status, model in sorted(op.responses.items()):
        if model == REDIRECT:
            responses[str(status)] = {
                "description": (
                    "With S3 storage: the file is at `Location`, a presigned URL "
                    "that expires soon; follow it without the Authorization header."
                ),
                "headers": {
                    "Location": {"required": True, "schema": {"type": "string"}},
                    **(_rate_headers() if op.auth else {}),
                },
            }
            continue
        if model == BINARY:
            content = {BINARY: {"schema": {"type": "string", "format": "binary"}}}
            description = "The file, as an attachment."
        elif model == NDJSON:
            content = {NDJSON: {"schema": {"type": "string"}}}
            description = (
                "Newline-delimited JSON events as the plugin answers: "
                '`{"event": "token", "text": …}` for each piece, then one '
                '`{"event": "done", …}` with the text, usage, cost, timings and error.'
            )
        else:
            assert isinstance(model, type)
            content = {"application/json": {"schema": ref(model, "serialization")}}
            description = op.summary
        responses[str(status)] = {
            "description": description,
            "content": content,
            **({"headers": _rate_headers()} if op.auth else {}),
        }
    for status in op.error_statuses:
        responses[str(status)] = {
            "description": ERROR_DESCRIPTIONS[status],
            "content": {
                "application/json": {"schema": ref(ErrorResponse, "serialization")}
            },
        }
        if status == 429:
            responses[str(status)]["headers"] = {
                "Retry-After": {
                    "required": True,
                    "description": "Seconds until the window ends.",
                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                }
            }
    spec["responses"] = responses
    return spec


def _rate_headers() -> dict[str, Any]:
    return {
        name: {"required": False, "schema": {"type": "string", "pattern": "^[0-9]+$"}}
        for name in RATE_HEADERS
    }


def _inline(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The schema a `$ref` points to."""
    if "$ref" in schema:
        return schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _query_parameters(
    model: type[BaseModel], ref: Any, schemas: dict[str, Any]
) -> list[dict[str, Any]]:
    schema = _inline(ref(model, "validation"), schemas)
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = _without_null(dict(prop))
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or has a value: drop `null` from its schema."""
    options = prop.get("anyOf")
    if isinstance(options, list):
        kept = [o for o in options if o.get("type") != "null"]
        if len(kept) == 1:
            prop.pop("anyOf")
            if prop.get("default", ...) is None:
                prop.pop("default")
            prop = {**kept[0], **prop}
    return prop


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of /api/v1/ (built once per process)."""
    return _document()
