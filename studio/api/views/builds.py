"""Starting builds, following them, downloading their artifacts."""

from __future__ import annotations

from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse

from studio.audit.models import AuditEvent
from studio.audit.services import audit_record
from studio.builds import services as build_services
from studio.builds.models import Build
from studio.lib.storage import download_response

from ..errors import ApiError
from ..pagination import PageQuery, paginate
from ..routing import BINARY, REDIRECT, ApiRequest, operation
from ..schemas import BuildCreate, BuildOut, BuildPage
from .lookups import get_build_for_token, get_provider_for_token, reply
from .shapes import build_out


class BuildQuery(PageQuery):
    kind: Build.Kind | None = None
    status: Build.Status | None = None


@operation(
    "GET",
    summary="List a provider's builds",
    tag="builds",
    query=BuildQuery,
    responses={200: BuildPage},
    errors=(404,),
)
def build_list(
    request: ApiRequest, provider_id: int, *, query: BuildQuery
) -> HttpResponse:
    """Builds of the provider, newest first; filter by `kind` and `status`."""
    provider = get_provider_for_token(request, provider_id)
    builds = Build.objects.filter(provider=provider)
    if query.kind:
        builds = builds.filter(kind=query.kind)
    if query.status:
        builds = builds.filter(status=query.status)
    page = paginate(request, builds, query, ["-id"])
    return reply(BuildPage(items=[build_out(b) for b in page.items], **page.meta()))


@operation(
    "POST",
    summary="Start a build",
    tag="builds",
    body=BuildCreate,
    responses={202: BuildOut},
    errors=(404, 409, 503),
    write=True,
)
def build_create(
    request: ApiRequest, provider_id: int, *, body: BuildCreate
) -> HttpResponse:
    """Queue a dev build of the provider's current files. 409 while another
    build of it is queued or running; 503 when the build queue is down."""
    provider = get_provider_for_token(request, provider_id, write=True)
    try:
        build = build_services.build_start(
            provider=provider, user=request.actor.user, smoke=body.smoke
        )
    except build_services.BuildInProgress as exc:
        raise ApiError(
            "conflict",
            str(exc),
            context={"build_id": exc.build.pk} if exc.build else None,
        ) from None
    except build_services.QueueUnavailable as exc:
        raise ApiError("queue_unavailable", str(exc), context=exc.context) from None
    response = reply(build_out(build), status=202)
    response["Location"] = reverse("api:build-read", kwargs={"build_id": build.pk})
    return response


@operation(
    "GET",
    summary="Read a build's status",
    tag="builds",
    responses={200: BuildOut},
    errors=(404,),
)
def build_read(request: ApiRequest, build_id: int) -> HttpResponse:
    """A build's status, steps, findings and artifact: poll it until `finished`."""
    build = get_build_for_token(request, build_id)
    if build.status == Build.Status.RUNNING:
        build_services.builds_reap_stale()
        build.refresh_from_db()
    return reply(build_out(build))


@operation(
    "GET",
    summary="Download a build's artifact",
    tag="builds",
    responses={200: BINARY, 302: REDIRECT},
    errors=(404,),
)
def build_artifact(request: ApiRequest, build_id: int) -> HttpResponseBase:
    """The `.difypkg` of a succeeded build (404 when it failed or was pruned).

    With S3 storage the answer is a 302 to a presigned URL that works for a
    minute: follow it (`curl -L`) without sending the token there."""
    build = get_build_for_token(request, build_id)
    if not build.has_artifact:
        raise ApiError(
            "not_found", "This build has no artifact (not succeeded, or pruned)."
        )
    try:
        response = download_response(build.artifact.name, filename=build.artifact_name)
    except FileNotFoundError:
        raise ApiError("not_found", "The artifact file is gone.") from None
    record_download(request, build)
    return response


def record_download(request: ApiRequest, build: Build, *, what: str = "") -> None:
    """Downloads go in the team's audit log, like the browser's (`what`: a
    file other than the artifact, e.g. a release's submission kit)."""
    user = request.actor.user
    token = request.actor.token
    if user is not None and not what:
        build_services.download_record(build=build, user=user)
        return
    by = f" with the team token {token.name} ({token.prefix}…)" if user is None else ""
    audit_record(
        action=AuditEvent.Action.DOWNLOAD,
        actor=user,
        team=build.team,
        provider=build.provider,
        build=build,
        summary=f"{what or build.artifact_name} "
        f"(build {build.pk}{build_services.signature_note(build)}){by}",
    )
