"""A provider's reviews tab, submitting a revision, one revision and deciding on it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from studio.catalog.access import get_provider_for_user
from studio.catalog.models import Membership, Provider, ProviderBaseline
from studio.catalog.provider_page import provider_context
from studio.lib.http import AuthedHttpRequest, redirect_page, render_page
from studio.pluginfmt.diff import PluginDiff, SubjectChanges, outline
from studio.pluginfmt.document import DocumentError

from .. import selectors, services
from ..diff import draft_diff
from ..forms import DecisionForm, SubmitForm
from ..models import ReviewSettings
from .lookups import get_revision_for_user
from .revision_page import Compare, comment_target, revision_context, revision_url

# Subjects the Review tab lists under the draft's summary; the revision page,
# once submitted, has them all with filters.
DRAFT_LINES = 30


def reviews_context(
    provider: Provider, membership: Membership, **extra: Any
) -> dict[str, Any]:
    revisions = selectors.revisions_for_provider(provider)
    baseline = selectors.baseline_of(provider)
    base = selectors.draft_base(provider, revisions, baseline)
    draft: PluginDiff | None = None
    draft_error = ""
    try:
        draft = draft_diff(provider=provider, base=base)
    except DocumentError as exc:
        draft_error = str(exc)
    lines: list[SubjectChanges] = []
    if draft is not None:
        for group in outline(draft).groups:
            lines.extend((*group.subjects, *group.added, *group.removed))
    return provider_context(
        provider,
        membership,
        "reviews",
        revisions=revisions,
        baseline=baseline,
        draft=draft,
        draft_base=base,
        draft_base_is_baseline=isinstance(base, ProviderBaseline),
        draft_lines=lines[:DRAFT_LINES],
        draft_more=max(0, len(lines) - DRAFT_LINES),
        draft_error=draft_error,
        releases=selectors.releases_for_provider(provider),
        settings=ReviewSettings.of(provider.team),
        form=extra.pop("form", None) or SubmitForm(),
        **extra,
    )


@require_GET
@login_required
def provider_reviews(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    context = reviews_context(provider, membership)
    return render_page(
        request, "reviews/provider_reviews.html", context, partial="revisions"
    )


@require_POST
@login_required
def revision_submit(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    form = SubmitForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            revision = services.revision_submit(
                provider=provider,
                user=request.user,
                message=form.cleaned_data["message"],
            )
        except services.NothingToSubmit as exc:
            form.add_error(None, str(exc))
            status = 409
        else:
            if not request.htmx:
                messages.success(request, f"Submitted {revision.label} for review.")
            return redirect_page(request, revision_url(revision))
    context = reviews_context(provider, membership, form=form)
    return render_page(
        request,
        "reviews/provider_reviews.html",
        context,
        partial="submit",
        status=status,
    )


@require_GET
@login_required
def revision_detail(
    request: AuthedHttpRequest, provider_id: int, number: int
) -> HttpResponse:
    revision, provider, membership = get_revision_for_user(request, provider_id, number)
    context = revision_context(
        request,
        revision,
        provider,
        membership,
        compare=Compare.read(request.GET),
        comment_at=comment_target(request.GET),
    )
    return render_page(
        request, "reviews/revision_detail.html", context, partial="review"
    )


@require_POST
@login_required
def revision_decide(
    request: AuthedHttpRequest, provider_id: int, number: int
) -> HttpResponse:
    revision, provider, membership = get_revision_for_user(
        request, provider_id, number, review=True
    )
    form = DecisionForm(request.POST)
    status, error = 400, ""
    if form.is_valid():
        try:
            services.revision_decide(
                revision=revision,
                user=request.user,
                verdict=form.cleaned_data["verdict"],
                note=form.cleaned_data["note"],
            )
        except services.SelfApproval as exc:
            status, error = 403, str(exc)
        except services.RevisionClosed as exc:
            status, error = 409, str(exc)
        else:
            if not request.htmx:
                return redirect(revision_url(revision))
            status = 200
            form = DecisionForm()
    revision, provider, membership = get_revision_for_user(request, provider_id, number)
    context = revision_context(
        request, revision, provider, membership, decision_form=form, error=error
    )
    return render_page(
        request,
        "reviews/revision_detail.html",
        context,
        partial="decision",
        status=status,
    )
