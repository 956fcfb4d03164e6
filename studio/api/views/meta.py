"""The API's own description, and who a token is."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from ..openapi import openapi_document
from ..routing import ApiRequest, operation
from ..schemas import Me, OpenApiDocument, RateLimitInfo, TeamRef, TokenInfo
from .lookups import reply


@operation(
    "GET",
    summary="This OpenAPI description",
    tag="meta",
    responses={200: OpenApiDocument},
    auth=False,
)
def openapi_json(request: ApiRequest) -> HttpResponse:
    """The OpenAPI 3.1 description of this API, generated from the code."""
    return JsonResponse(openapi_document(), json_dumps_params={"indent": 1})


@operation(
    "GET", summary="The token, its team and role", tag="meta", responses={200: Me}
)
def me(request: ApiRequest) -> HttpResponse:
    """Who the token acts as: check a token before a pipeline uses it."""
    actor = request.actor
    token = actor.token
    return reply(
        Me(
            token=TokenInfo(
                id=token.pk,
                name=token.name,
                kind=token.kind,
                prefix=token.prefix,
                created_at=token.created_at,
                expires_at=token.expires_at,
                last_used_at=token.last_used_at,
            ),
            team=TeamRef(id=actor.team.pk, slug=actor.team.slug, name=actor.team.name),
            role=actor.role,
            can_write=actor.can_edit,
            user=actor.user.get_username() if actor.user else None,
            rate_limit=RateLimitInfo(
                limit=settings.API_RATE_LIMIT,
                window_seconds=settings.API_RATE_WINDOW,
            ),
        )
    )
