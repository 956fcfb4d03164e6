"""Routes of the JSON API (/api/v1/); openapi.py describes exactly these."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import re_path, register_converter
from django.views.decorators.csrf import csrf_exempt

from .errors import error_response
from .routing import api_path
from .views import (
    builds,
    imports,
    members,
    meta,
    playground,
    providers,
    reviews,
    sync,
)

app_name = "api"


class IdConverter:
    """A row id: digits that fit a 64-bit column (longer ones are a 404)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "api_id")


@csrf_exempt
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    return error_response("not_found", "No such API endpoint.")


urlpatterns = [
    api_path("openapi.json", meta.openapi_json, name="openapi"),
    api_path("me", meta.me, name="me"),
    api_path("providers", providers.provider_list, name="provider-list"),
    api_path(
        "providers/<api_id:provider_id>", providers.provider_read, name="provider-read"
    ),
    api_path(
        "providers/<api_id:provider_id>/models",
        providers.provider_models,
        name="provider-models",
    ),
    api_path(
        "providers/<api_id:provider_id>/document",
        providers.provider_document,
        name="provider-document",
    ),
    api_path(
        "providers/<api_id:provider_id>/verify",
        providers.provider_verify,
        name="provider-verify",
    ),
    api_path(
        "providers/<api_id:provider_id>/builds",
        builds.build_list,
        builds.build_create,
        name="provider-builds",
    ),
    api_path(
        "providers/<api_id:provider_id>/playground/sessions",
        playground.session_create,
        name="playground-sessions",
    ),
    api_path(
        "providers/<api_id:provider_id>/playground/sessions/<str:session_id>",
        playground.session_end,
        name="playground-session",
    ),
    api_path(
        "providers/<api_id:provider_id>/playground/sessions/<str:session_id>/messages",
        playground.session_message,
        name="playground-messages",
    ),
    api_path(
        "providers/<api_id:provider_id>/sync/proposals",
        sync.proposal_create,
        name="sync-proposals",
    ),
    api_path(
        "providers/<api_id:provider_id>/sync/proposals/<api_id:proposal_id>",
        sync.proposal_read,
        name="sync-proposal",
    ),
    api_path(
        "providers/<api_id:provider_id>/sync/proposals/<api_id:proposal_id>/apply",
        sync.proposal_apply,
        name="sync-proposal-apply",
    ),
    api_path(
        "providers/<api_id:provider_id>/revisions",
        reviews.revision_list,
        name="revision-list",
    ),
    api_path(
        "providers/<api_id:provider_id>/revisions/<api_id:number>/diff",
        reviews.revision_diff,
        name="revision-diff",
    ),
    api_path(
        "providers/<api_id:provider_id>/revisions/<api_id:number>/release-notes",
        reviews.revision_release_notes,
        name="revision-release-notes",
    ),
    api_path(
        "providers/<api_id:provider_id>/releases",
        reviews.release_list,
        reviews.release_create,
        name="provider-releases",
    ),
    api_path("builds/<api_id:build_id>", builds.build_read, name="build-read"),
    api_path(
        "builds/<api_id:build_id>/artifact",
        builds.build_artifact,
        name="build-artifact",
    ),
    api_path(
        "builds/<api_id:build_id>/submission-kit",
        reviews.build_submission_kit,
        name="build-submission-kit",
    ),
    api_path("imports", imports.import_create, name="import-create"),
    api_path("imports/<api_id:import_id>", imports.import_read, name="import-read"),
    api_path(
        "imports/<api_id:import_id>/choice", imports.import_choice, name="import-choice"
    ),
    api_path("members", members.member_list, name="member-list"),
    api_path(
        "invitations",
        members.invitation_list,
        members.invitation_create,
        name="invitations",
    ),
    api_path(
        "invitations/<api_id:invitation_id>/revoke",
        members.invitation_revoke,
        name="invitation-revoke",
    ),
    # Anything else under /api/v1/ is a JSON 404, not the HTML page.
    re_path(r"^(?P<rest>.*)$", unknown, name="unknown"),
]
