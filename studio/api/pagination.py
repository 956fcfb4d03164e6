"""Pagination of list endpoints: page numbers or opaque keyset cursors.

`?page=N` is simple and gives totals; `?cursor=` (from the previous page's
`next_cursor`) stays correct while rows are added, because it resumes after
the last row seen instead of counting rows.
"""

from __future__ import annotations

import base64
import binascii
import json
import operator
from dataclasses import dataclass
from functools import reduce
from typing import Any
from urllib.parse import urlencode

from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from pydantic import BaseModel, ConfigDict, Field

from .errors import ApiError

MAX_ID = 2**63 - 1


class PageQuery(BaseModel):
    """Query parameters of every list: `page` or `cursor`, and `limit`."""

    # An unknown parameter is a 400: a typo (`limt=5`) must not pass silently.
    model_config = ConfigDict(extra="forbid")

    page: int | None = Field(
        default=None, ge=1, le=1_000_000, description="Page number, from 1."
    )
    cursor: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        pattern="^[A-Za-z0-9_-]+$",
        description="`next_cursor` of the previous page; when given, `page` is "
        "ignored. An altered cursor is a 400.",
    )
    limit: int = Field(default=50, ge=1, le=100, description="Items per page.")


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    total: int
    limit: int
    page: int | None
    next_cursor: str | None
    next: str | None

    def meta(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "limit": self.limit,
            "page": self.page,
            "next_cursor": self.next_cursor,
            "next": self.next,
        }


def paginate[M: models.Model](
    request: HttpRequest, queryset: QuerySet[M], query: PageQuery, keys: list[str]
) -> Page[M]:
    """One page of `queryset` ordered by `keys` (the last one unique, e.g. "id")."""
    total = queryset.count()
    ordered = queryset.order_by(*keys)
    page = None if query.cursor is not None else query.page
    if query.cursor is not None:
        ordered = ordered.filter(_after(queryset.model, keys, _decode(query.cursor)))
        rows = list(ordered[: query.limit + 1])
    else:
        page = page or 1
        start = (page - 1) * query.limit
        rows = list(ordered[start : start + query.limit + 1])
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    next_cursor = _encode(rows[-1], keys) if more and rows else None
    next_url = None
    if more:
        params = (
            {"cursor": next_cursor, "limit": query.limit}
            if query.cursor is not None
            else {"page": (page or 1) + 1, "limit": query.limit}
        )
        next_url = f"{request.path}?{urlencode(params)}"
    return Page(
        items=rows,
        total=total,
        limit=query.limit,
        page=page if query.cursor is None else None,
        next_cursor=next_cursor,
        next=next_url,
    )


def _value(row: models.Model, key: str) -> Any:
    return getattr(row, key.lstrip("-"))


def _encode(row: models.Model, keys: list[str]) -> str:
    data = json.dumps([_value(row, k) for k in keys], separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def _bad_cursor() -> ApiError:
    return ApiError(
        "invalid_request",
        "The cursor is not valid: use `next_cursor` from the previous page.",
    )


def _decode(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise _bad_cursor() from None
    if not isinstance(values, list):
        raise _bad_cursor()
    return values


def _after(model: type[models.Model], keys: list[str], values: list[Any]) -> Q:
    """Rows after `values` in the order of `keys` (keyset pagination)."""
    if len(values) != len(keys):
        raise _bad_cursor()
    for key, value in zip(keys, values, strict=True):
        field = model._meta.get_field(key.lstrip("-"))
        numeric = isinstance(field, (models.IntegerField, models.AutoField))
        if numeric:
            ok = type(value) is int and -MAX_ID <= value <= MAX_ID
        else:
            ok = isinstance(value, str) and len(value) <= 4096
        if not ok:
            raise _bad_cursor()
    # (a > x) OR (a = x AND b > y) OR …, with < for descending keys.
    steps = []
    for i, key in enumerate(keys):
        name = key.lstrip("-")
        step = Q(**{f"{name}__{'lt' if key.startswith('-') else 'gt'}": values[i]})
        for prev_key, prev_value in zip(keys[:i], values[:i], strict=True):
            step &= Q(**{prev_key.lstrip("-"): prev_value})
        steps.append(step)
    return reduce(operator.or_, steps)
