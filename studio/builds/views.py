"""Build screens: a provider's builds, one build's progress, downloads, signing keys;
deleting a provider (it must lock and remove its builds)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studio.catalog.access import get_provider_for_user, get_team_membership_for_user
from studio.catalog.models import Membership, Provider, Role
from studio.catalog.provider_page import provider_context
from studio.lib.http import (
    AuthedHttpRequest,
    redirect_page,
    render_page,
    render_polling,
)
from studio.lib.storage import download_response
from studio.pluginfmt.verify import findings_from_json

from . import selectors, services
from .forms import (
    BuildForm,
    DeleteProviderForm,
    SigningKeyGenerateForm,
    SigningKeyUploadForm,
)
from .keys import BadKey
from .models import Build, SigningKey

# ---------------------------------------------------------------- lookups


def _get_build_for_user(
    request: AuthedHttpRequest, build_id: int, *, write: bool = False
) -> tuple[Build, Provider, Membership]:
    """The build if the user is in its team (404 otherwise); 403 to change it
    as a reviewer or viewer."""
    build = (
        Build.objects.select_related("signing_key", "created_by")
        .filter(pk=build_id)
        .first()
    )
    if build is None:
        raise Http404("No such build.")
    provider, membership = get_provider_for_user(
        request, build.provider_id, write=write
    )
    build.provider = provider
    return build, provider, membership


def _get_membership_for_user(
    request: AuthedHttpRequest, team_slug: str, *, owner: bool = False
) -> Membership:
    return get_team_membership_for_user(
        request,
        team_slug,
        owner=owner,
        owner_reason="Only an owner of the team manages its signing keys.",
    )


def _get_key_for_user(
    request: AuthedHttpRequest, team_slug: str, key_id: int, *, owner: bool = False
) -> tuple[SigningKey, Membership]:
    membership = _get_membership_for_user(request, team_slug, owner=owner)
    key = SigningKey.objects.filter(pk=key_id, team=membership.team).first()
    if key is None:
        raise Http404("No such key.")
    return key, membership


# ---------------------------------------------------------------- provider builds


def _builds_context(
    provider: Provider, membership: Membership, **extra: Any
) -> dict[str, Any]:
    builds = selectors.provider_builds(provider)
    active = next((b for b in builds if b.is_active), None)
    return provider_context(
        provider,
        membership,
        "builds",
        builds=builds,
        active=active,
        signing_key=selectors.active_signing_key(provider.team),
        form=extra.pop("form", None) or BuildForm(),
        keep=selectors.dev_artifacts_keep(),
        **extra,
    )


@require_GET
@login_required
def provider_builds(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    services.builds_reap_stale()
    context = _builds_context(provider, membership)
    return render_polling(
        request,
        "builds/provider_builds.html",
        context,
        partial="history",
        done=not context["active"],
    )


@require_POST
@login_required
def build_create(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    form = BuildForm(request.POST)
    form.is_valid()  # a boolean: never invalid
    try:
        build = services.build_start(
            provider=provider,
            user=request.user,
            smoke=bool(form.cleaned_data.get("smoke")),
        )
    except services.QueueUnavailable as exc:
        return _builds_refused(request, provider, membership, str(exc), 503)
    except services.BuildInProgress as exc:
        return _builds_refused(request, provider, membership, str(exc), 409)
    if request.htmx:
        context = _builds_context(provider, membership)
        return render(request, "builds/provider_builds.html#history", context)
    messages.success(request, f"Build {build.pk} queued.")
    return redirect("builds:build-detail", build_id=build.pk)


def _builds_refused(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    error: str,
    status: int,
) -> HttpResponse:
    context = _builds_context(provider, membership, error=error)
    return render_page(
        request,
        "builds/provider_builds.html",
        context,
        partial="history",
        status=status,
    )


# ---------------------------------------------------------------- one build


def _build_context(
    build: Build, provider: Provider, membership: Membership, **extra: Any
) -> dict[str, Any]:
    return provider_context(
        provider,
        membership,
        "builds",
        build=build,
        steps=build.step_records(),
        events=build.event_records(),
        problems=[
            f for f in findings_from_json(build.findings) if f.severity != "info"
        ],
        smoke_checks=selectors.smoke_checks(build),
        draft_changed=build.kind == Build.Kind.DEV
        and provider.updated_at > build.created_at,
        **extra,
    )


@require_GET
@login_required
def build_detail(request: AuthedHttpRequest, build_id: int) -> HttpResponse:
    build, provider, membership = _get_build_for_user(request, build_id)
    if build.status == Build.Status.RUNNING:
        services.builds_reap_stale()
        build.refresh_from_db()
    context = _build_context(build, provider, membership)
    return render_polling(
        request,
        "builds/build_detail.html",
        context,
        partial="progress",
        done=not build.is_active,
    )


@require_POST
@login_required
def build_cancel(request: AuthedHttpRequest, build_id: int) -> HttpResponse:
    build, provider, membership = _get_build_for_user(request, build_id, write=True)
    status = 200
    error = ""
    try:
        build = services.build_cancel(build=build)
    except services.NotCancellable as exc:
        status, error = 409, f"Not cancelled: {exc}."
        build.refresh_from_db()
    if not request.htmx and not error:
        return redirect("builds:build-detail", build_id=build.pk)
    context = _build_context(build, provider, membership, error=error)
    return render_page(
        request, "builds/build_detail.html", context, partial="progress", status=status
    )


@require_POST
@login_required
def build_retry(request: AuthedHttpRequest, build_id: int) -> HttpResponse:
    build, provider, membership = _get_build_for_user(request, build_id, write=True)
    error, status = "", 200
    try:
        new = services.build_retry(build=build, user=request.user)
    except services.NotRetryable as exc:
        error, status = f"Not retried: {exc}.", 409
    except services.BuildInProgress as exc:
        error, status = str(exc), 409
    except services.QueueUnavailable as exc:
        error, status = str(exc), 503
    else:
        url = reverse("builds:build-detail", kwargs={"build_id": new.pk})
        return redirect_page(request, url)
    context = _build_context(build, provider, membership, error=error)
    return render_page(
        request, "builds/build_detail.html", context, partial="progress", status=status
    )


@require_GET
@login_required
def build_download(request: AuthedHttpRequest, build_id: int) -> HttpResponseBase:
    build, _, _ = _get_build_for_user(request, build_id)
    if not build.has_artifact:
        raise Http404("This build has no artifact (it failed, or was pruned).")
    try:
        response = download_response(build.artifact.name, filename=build.artifact_name)
    except FileNotFoundError:
        raise Http404("The artifact file is gone.") from None
    services.download_record(build=build, user=request.user)
    return response


# ---------------------------------------------------------------- deleting a provider

DELETE_PAGE = "builds/provider_delete.html"


@require_http_methods(["GET", "POST"])
@login_required
def provider_delete(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    posting = request.method == "POST"
    form = DeleteProviderForm(
        request.POST if posting else None, plugin_id=provider.plugin_id
    )
    status = 200
    if posting and form.is_valid():
        try:
            artifacts = services.provider_delete(provider=provider)
        except (services.BuildInProgress, services.ProviderInUse) as exc:
            form.add_error(None, f"Not deleted: {exc}")
            status = 409
        else:
            removed = f" and {len(artifacts)} build artifact" if artifacts else ""
            plural = "s" if len(artifacts) > 1 else ""
            messages.success(request, f"Deleted {provider.plugin_id}{removed}{plural}.")
            return redirect_page(request, reverse("catalog:provider-list"))
    context = provider_context(
        provider,
        membership,
        "general",
        form=form,
        model_count=provider.models.count(),
        file_count=provider.files.count(),
        build_count=Build.objects.filter(provider=provider).count(),
    )
    return render_page(request, DELETE_PAGE, context, status=status)


# ---------------------------------------------------------------- signing keys


def _keys_context(membership: Membership, **extra: Any) -> dict[str, Any]:
    keys = list(SigningKey.objects.filter(team=membership.team))
    active = next((k for k in keys if k.is_active), None)
    return {
        "membership": membership,
        "team": membership.team,
        "keys": keys,
        "active_key": active,
        "is_owner": membership.role == Role.OWNER,
        "daemon_settings": services.daemon_settings([active] if active else []),
        "generate_form": extra.pop("generate_form", None) or SigningKeyGenerateForm(),
        "upload_form": extra.pop("upload_form", None) or SigningKeyUploadForm(),
        **extra,
    }


def _render_keys(
    request: AuthedHttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render_page(
        request, "builds/signing_keys.html", context, partial="keys", status=status
    )


@require_GET
@login_required
def signing_keys(request: AuthedHttpRequest, team_slug: str) -> HttpResponse:
    membership = _get_membership_for_user(request, team_slug)
    return _render_keys(request, _keys_context(membership))


@require_POST
@login_required
def signing_key_generate(request: AuthedHttpRequest, team_slug: str) -> HttpResponse:
    membership = _get_membership_for_user(request, team_slug, owner=True)
    form = SigningKeyGenerateForm(request.POST)
    if not form.is_valid():
        return _render_keys(
            request, _keys_context(membership, generate_form=form), status=400
        )
    key = services.signing_key_generate(
        team=membership.team, user=request.user, name=form.cleaned_data["name"]
    )
    return _after_key_change(request, membership, f"Generated key {key.name}.")


@require_POST
@login_required
def signing_key_upload(request: AuthedHttpRequest, team_slug: str) -> HttpResponse:
    membership = _get_membership_for_user(request, team_slug, owner=True)
    form = SigningKeyUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            key = services.signing_key_upload(
                team=membership.team,
                user=request.user,
                private_pem=form.cleaned_data["pem"],
                name=form.cleaned_data["name"],
            )
        except BadKey as exc:
            form.add_error(None, f"Not a usable key: {exc}.")
        else:
            return _after_key_change(request, membership, f"Uploaded key {key.name}.")
    return _render_keys(
        request, _keys_context(membership, upload_form=form), status=400
    )


@require_POST
@login_required
def signing_key_deactivate(
    request: AuthedHttpRequest, team_slug: str, key_id: int
) -> HttpResponse:
    key, membership = _get_key_for_user(request, team_slug, key_id, owner=True)
    key = services.signing_key_deactivate(key=key)
    return _after_key_change(
        request, membership, f"Key {key.name} deactivated: builds are now unsigned."
    )


def _after_key_change(
    request: AuthedHttpRequest, membership: Membership, message: str
) -> HttpResponse:
    if request.htmx:
        return _render_keys(request, _keys_context(membership, notice=message))
    messages.success(request, message)
    return redirect("builds:signing-keys", team_slug=membership.team.slug)


@require_GET
@login_required
def signing_key_public(
    request: AuthedHttpRequest, team_slug: str, key_id: int
) -> HttpResponse:
    key, _ = _get_key_for_user(request, team_slug, key_id)
    response = HttpResponse(key.public_pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="{key.public_filename}"'
    return response


@require_GET
@login_required
def signing_key_daemon_env(
    request: AuthedHttpRequest, team_slug: str, key_id: int
) -> HttpResponse:
    key, _ = _get_key_for_user(request, team_slug, key_id)
    response = HttpResponse(
        services.daemon_settings([key]), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{key.name}.daemon.env"'
    return response
