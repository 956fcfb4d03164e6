"""Lookups in the token's team, and the JSON reply.

Another team's object is looked up exactly like a missing one (404), and the
role is checked only after the lookup, so no answer tells an outsider that an
id exists.
"""

from __future__ import annotations

from django.http import HttpResponse
from pydantic import BaseModel

from studio.builds.models import Build
from studio.catalog.models import ImportJob, Provider

from ..errors import not_found
from ..routing import ApiRequest, require_write

MAX_ID = 2**63 - 1


def get_provider_for_token(
    request: ApiRequest, provider_id: int, *, write: bool = False
) -> Provider:
    """The provider if it is in the token's team (404 otherwise); 403 to write
    with a read-only role."""
    provider = (
        Provider.objects.filter(pk=provider_id, team=request.actor.team).first()
        if provider_id <= MAX_ID
        else None
    )
    if provider is None:
        raise not_found("provider")
    if write:
        require_write(request.actor)
    return provider


def get_build_for_token(request: ApiRequest, build_id: int) -> Build:
    build = (
        Build.objects.select_related("provider")
        .filter(pk=build_id, team=request.actor.team)
        .first()
        if build_id <= MAX_ID
        else None
    )
    if build is None:
        raise not_found("build")
    return build


def get_import_for_token(
    request: ApiRequest, import_id: int, *, write: bool = False
) -> ImportJob:
    job = (
        ImportJob.objects.filter(pk=import_id, team=request.actor.team).first()
        if import_id <= MAX_ID
        else None
    )
    if job is None:
        raise not_found("import")
    if write:
        require_write(request.actor)
    return job


def reply(body: BaseModel, status: int = 200) -> HttpResponse:
    """`body` as JSON, serialised by pydantic."""
    return HttpResponse(
        body.model_dump_json(), status=status, content_type="application/json"
    )
