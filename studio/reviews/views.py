"""Review screens: a provider's revisions and releases, one revision's diff,
comments and decisions, the inbox, the audit log and the team's settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)
from django_htmx.http import HttpResponseClientRedirect

from studio.audit.models import AuditEvent
from studio.builds.models import Build
from studio.builds.selectors import active_signing_key
from studio.builds.services import BuildInProgress, QueueUnavailable
from studio.catalog.access import get_provider_for_user, get_team_membership_for_user
from studio.catalog.models import Membership, Provider, Role
from studio.catalog.provider_page import provider_context
from studio.lib.http import AuthedHttpRequest
from studio.pluginfmt.diff import (
    PluginDiff,
    PluginView,
    SubjectChanges,
    comment_places,
)
from studio.pluginfmt.document import DocumentError

from . import selectors, services
from .diff import draft_diff, revision_diff, revision_text_diff, revision_view
from .forms import (
    CommentForm,
    DecisionForm,
    ReleaseForm,
    ReviewSettingsForm,
    SubmitForm,
)
from .models import REVIEW_ROLES, Comment, ReviewSettings, Revision

# ---------------------------------------------------------------- lookups


def _get_revision_for_user(
    request: AuthedHttpRequest,
    provider_id: int,
    number: int,
    *,
    write: bool = False,
    review: bool = False,
) -> tuple[Revision, Provider, Membership]:
    """A revision of a provider the user may see (404 otherwise); 403 to
    change it as a reader (`write`) or to review it as a viewer (`review`)."""
    provider, membership = get_provider_for_user(request, provider_id, write=write)
    if review and membership.role not in REVIEW_ROLES:
        raise PermissionDenied("Your role in this team can only read reviews.")
    revision = (
        Revision.objects.filter(provider=provider, number=number)
        .select_related("source", "submitted_by")
        .prefetch_related("decisions__reviewer")
        .first()
    )
    if revision is None:
        raise Http404("No such revision.")
    revision.provider = provider
    return revision, provider, membership


def _get_comment_for_user(
    request: AuthedHttpRequest, provider_id: int, comment_id: int
) -> tuple[Comment, Provider, Membership]:
    """A comment on a provider the user may review (404 if not in its team,
    403 for viewers)."""
    provider, membership = get_provider_for_user(request, provider_id)
    if membership.role not in REVIEW_ROLES:
        raise PermissionDenied("Your role in this team can only read reviews.")
    comment = (
        Comment.objects.filter(pk=comment_id, provider=provider)
        .select_related("revision")
        .first()
    )
    if comment is None:
        raise Http404("No such comment.")
    comment.provider = provider
    comment.revision.provider = provider
    return comment, provider, membership


def _get_membership_for_user(
    request: AuthedHttpRequest, team_slug: str, *, owner: bool = False
) -> Membership:
    return get_team_membership_for_user(
        request,
        team_slug,
        owner=owner,
        owner_reason="Only an owner of the team changes its review rules.",
    )


# ---------------------------------------------------------------- provider tab


def _reviews_context(
    provider: Provider, membership: Membership, **extra: Any
) -> dict[str, Any]:
    revisions = selectors.revisions_for_provider(provider)
    base = selectors.last_approved(provider)
    draft: PluginDiff | None = None
    draft_error = ""
    try:
        draft = draft_diff(provider=provider, base=base or _newest(revisions))
    except DocumentError as exc:
        draft_error = str(exc)
    return provider_context(
        provider,
        membership,
        "reviews",
        revisions=revisions,
        draft=draft,
        draft_base=base or _newest(revisions),
        draft_error=draft_error,
        releases=selectors.releases_for_provider(provider),
        settings=ReviewSettings.of(provider.team),
        form=extra.pop("form", None) or SubmitForm(),
        **extra,
    )


def _newest(revisions: list[Revision]) -> Revision | None:
    return revisions[0] if revisions else None


@require_GET
@login_required
def provider_reviews(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    context = _reviews_context(provider, membership)
    if request.htmx:
        return render(request, "reviews/provider_reviews.html#revisions", context)
    return render(request, "reviews/provider_reviews.html", context)


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
            url = _revision_url(revision)
            if request.htmx:
                return HttpResponseClientRedirect(url)
            messages.success(request, f"Submitted {revision.label} for review.")
            return redirect(url)
    context = _reviews_context(provider, membership, form=form)
    template = "reviews/provider_reviews.html"
    if request.htmx:
        template += "#submit"
    return render(request, template, context, status=status)


# ---------------------------------------------------------------- one revision


def _revision_url(revision: Revision, **query: str) -> str:
    url = reverse(
        "reviews:revision-detail",
        kwargs={"provider_id": revision.provider_id, "number": revision.number},
    )
    query = {k: v for k, v in query.items() if v}
    return f"{url}?{urlencode(query)}" if query else url


@dataclass(frozen=True)
class Group:
    """A subject's changes with the comments pinned to it."""

    changes: SubjectChanges
    comments: list[selectors.CommentView]


def _pick_base(
    revision: Revision, revisions: list[Revision], raw: str
) -> tuple[Revision | None, str]:
    """The base asked for (`?base=<n>` or `none`), else the default; and the
    value the compare form shows."""
    if raw == "none":
        return None, "none"
    if raw.isdigit():
        for other in revisions:
            if other.number == int(raw):
                return other, raw
    base = selectors.default_base(revision)
    return base, str(base.number) if base else "none"


def _revision_context(
    request: AuthedHttpRequest,
    revision: Revision,
    provider: Provider,
    membership: Membership,
    *,
    base_param: str = "",
    view_param: str = "",
    **extra: Any,
) -> dict[str, Any]:
    revisions = selectors.revisions_for_provider(provider)
    base, base_value = _pick_base(revision, revisions, base_param)
    mode = "text" if view_param == "text" else "changes"
    head_view: PluginView | None = None
    diff = None
    diff_error = ""
    text = []
    try:
        head_view = revision_view(revision)
        diff = revision_diff(base=base, head=revision).diff
        if mode == "text":
            text = revision_text_diff(base=base, head=revision)
    except DocumentError as exc:
        diff_error = f"This revision's files cannot be compared: {exc}"
    comments = selectors.comments_for_revision(revision, head_view)
    sections: list[tuple[str, list[Group]]] = []
    placed: set[int] = set()
    if diff is not None:
        for section, groups in diff.by_section():
            rows = []
            for group in groups:
                pinned = [
                    c
                    for c in comments
                    if c.comment.anchor and c.subject == group.subject
                ]
                placed.update(c.comment.pk for c in pinned)
                rows.append(Group(group, pinned))
            sections.append((section, rows))
    can_review = membership.role in REVIEW_ROLES
    own = revision.submitted_by_id == request.user.pk
    return provider_context(
        provider,
        membership,
        "reviews",
        revision=revision,
        revisions=revisions,
        base=base,
        base_value=base_value,
        is_default_base=base_param == "",
        mode=mode,
        diff=diff,
        diff_error=diff_error,
        sections=sections,
        text=text,
        comments=comments,
        # The text view has no places to pin comments to: all of them go below.
        other_comments=[
            c for c in comments if mode == "text" or c.comment.pk not in placed
        ],
        places=comment_places(head_view) if head_view else [],
        decisions=list(revision.decisions.all()),
        approvers=revision.approvers(),
        change_requests=revision.change_requests(),
        can_review=can_review,
        can_approve=can_review and revision.is_open and not own,
        own=own,
        can_release=membership.can_edit and revision.is_approved,
        release_builds=list(
            Build.objects.filter(
                provider=provider,
                kind=Build.Kind.RELEASE,
                revision_label=revision.label,
            )
            .defer("steps", "findings", "smoke", "events")
            .order_by("-created_at", "-id")
        ),
        signing_key=active_signing_key(provider.team),
        comment_form=extra.pop("comment_form", None) or CommentForm(),
        decision_form=extra.pop("decision_form", None) or DecisionForm(),
        release_form=extra.pop("release_form", None) or ReleaseForm(),
        **extra,
    )


def _keep(request: AuthedHttpRequest) -> dict[str, str]:
    """The compare settings a form posts back, so the page comes back the same."""
    base = request.POST.get("base", "")
    view = request.POST.get("view", "")
    return {
        "base": base if base == "none" or base.isdigit() else "",
        "view": "text" if view == "text" else "",
    }


@require_GET
@login_required
def revision_detail(
    request: AuthedHttpRequest, provider_id: int, number: int
) -> HttpResponse:
    revision, provider, membership = _get_revision_for_user(
        request, provider_id, number
    )
    context = _revision_context(
        request,
        revision,
        provider,
        membership,
        base_param=request.GET.get("base", ""),
        view_param=request.GET.get("view", ""),
    )
    if request.htmx:
        return render(request, "reviews/revision_detail.html#review", context)
    return render(request, "reviews/revision_detail.html", context)


@require_POST
@login_required
def comment_create(
    request: AuthedHttpRequest, provider_id: int, number: int
) -> HttpResponse:
    revision, provider, membership = _get_revision_for_user(
        request, provider_id, number, review=True
    )
    keep = _keep(request)
    form = CommentForm(request.POST)
    status = 400
    if form.is_valid():
        comment = services.comment_create(
            revision=revision,
            user=request.user,
            body=form.cleaned_data["body"],
            anchor=form.cleaned_data["anchor"],
        )
        if not request.htmx:
            return redirect(f"{_revision_url(revision, **keep)}#comment-{comment.pk}")
        form, status = CommentForm(), 200
    context = _revision_context(
        request,
        revision,
        provider,
        membership,
        base_param=keep["base"],
        view_param=keep["view"],
        comment_form=form,
    )
    if request.htmx:
        return render(
            request, "reviews/revision_detail.html#review", context, status=status
        )
    return render(request, "reviews/revision_detail.html", context, status=status)


@require_POST
@login_required
def comment_resolve(
    request: AuthedHttpRequest, provider_id: int, comment_id: int
) -> HttpResponse:
    comment, provider, membership = _get_comment_for_user(
        request, provider_id, comment_id
    )
    resolved = request.POST.get("resolved", "1") != "0"
    services.comment_resolve(comment=comment, user=request.user, resolved=resolved)
    keep = _keep(request)
    # Back to the revision the reader was on (it may be a later one).
    number = request.POST.get("revision", "")
    if not (number.isdigit() and provider.revisions.filter(number=number).exists()):
        number = str(comment.revision.number)
    target, provider, membership = _get_revision_for_user(
        request, provider_id, int(number)
    )
    if not request.htmx:
        return redirect(f"{_revision_url(target, **keep)}#comment-{comment.pk}")
    context = _revision_context(
        request,
        target,
        provider,
        membership,
        base_param=keep["base"],
        view_param=keep["view"],
    )
    return render(request, "reviews/revision_detail.html#review", context)


@require_POST
@login_required
def revision_decide(
    request: AuthedHttpRequest, provider_id: int, number: int
) -> HttpResponse:
    revision, provider, membership = _get_revision_for_user(
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
                return redirect(_revision_url(revision))
            status = 200
            form = DecisionForm()
    revision, provider, membership = _get_revision_for_user(
        request, provider_id, number
    )
    context = _revision_context(
        request, revision, provider, membership, decision_form=form, error=error
    )
    if request.htmx:
        return render(
            request, "reviews/revision_detail.html#decision", context, status=status
        )
    return render(request, "reviews/revision_detail.html", context, status=status)


@require_POST
@login_required
def revision_release(
    request: AuthedHttpRequest, provider_id: int, number: int
) -> HttpResponse:
    revision, provider, membership = _get_revision_for_user(
        request, provider_id, number, write=True
    )
    form = ReleaseForm(request.POST)
    form.is_valid()  # a boolean: never invalid
    try:
        build = services.release_start(
            revision=revision,
            user=request.user,
            smoke=bool(form.cleaned_data.get("smoke")),
        )
    except services.NotApproved as exc:
        status, error = 409, str(exc)
    except BuildInProgress as exc:
        status, error = 409, str(exc)
    except QueueUnavailable as exc:
        status, error = 503, str(exc)
    else:
        url = reverse("builds:build-detail", kwargs={"build_id": build.pk})
        if request.htmx:
            return HttpResponseClientRedirect(url)
        messages.success(
            request, f"Release build {build.pk} of {revision.label} queued."
        )
        return redirect(url)
    context = _revision_context(
        request, revision, provider, membership, release_form=form, error=error
    )
    if request.htmx:
        return render(
            request, "reviews/revision_detail.html#decision", context, status=status
        )
    return render(request, "reviews/revision_detail.html", context, status=status)


# ---------------------------------------------------------------- inbox


@require_GET
@login_required
def inbox(request: AuthedHttpRequest) -> HttpResponse:
    context = {"inbox": selectors.inbox_for_user(request.user)}
    if request.htmx:
        return render(request, "reviews/inbox.html#inbox", context)
    return render(request, "reviews/inbox.html", context)


# ---------------------------------------------------------------- audit


def _action(request: AuthedHttpRequest) -> str:
    action = request.GET.get("action", "")
    return action if action in AuditEvent.Action.values else ""


@require_GET
@login_required
def provider_audit(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    action = _action(request)
    context = provider_context(
        provider,
        membership,
        "reviews",
        events=selectors.audit_for_provider(provider, action=action),
        action=action,
        actions=AuditEvent.Action.choices,
        audit_url=reverse("reviews:provider-audit", args=[provider.pk]),
    )
    if request.htmx:
        return render(request, "reviews/provider_audit.html#events", context)
    return render(request, "reviews/provider_audit.html", context)


@require_GET
@login_required
def team_audit(request: AuthedHttpRequest, team_slug: str) -> HttpResponse:
    membership = _get_membership_for_user(request, team_slug)
    action = _action(request)
    context = {
        "membership": membership,
        "team": membership.team,
        "events": selectors.audit_for_team(membership.team, action=action),
        "action": action,
        "actions": AuditEvent.Action.choices,
        "audit_url": reverse("reviews:team-audit", args=[membership.team.slug]),
        "show_provider": True,
    }
    if request.htmx:
        return render(request, "reviews/team_audit.html#events", context)
    return render(request, "reviews/team_audit.html", context)


# ---------------------------------------------------------------- team settings


@require_http_methods(["GET", "POST"])
@login_required
def team_settings(request: AuthedHttpRequest, team_slug: str) -> HttpResponse:
    membership = _get_membership_for_user(
        request, team_slug, owner=request.method == "POST"
    )
    current = ReviewSettings.of(membership.team)
    status = 200
    notice = ""
    if request.method == "POST":
        form = ReviewSettingsForm(request.POST)
        if form.is_valid():
            current = services.review_settings_update(
                team=membership.team,
                user=request.user,
                required_approvals=form.cleaned_data["required_approvals"],
            )
            notice = (
                f"Revisions submitted from now on need "
                f"{current.required_approvals} approval"
                f"{'s' if current.required_approvals != 1 else ''}."
            )
            if not request.htmx:
                messages.success(request, notice)
                return redirect("reviews:team-settings", team_slug=team_slug)
        else:
            status = 400
    else:
        form = ReviewSettingsForm(
            initial={"required_approvals": current.required_approvals}
        )
    context = {
        "membership": membership,
        "team": membership.team,
        "current": current,
        "form": form,
        "notice": notice,
        "is_owner": membership.role == Role.OWNER,
        "reviewer_count": membership.team.memberships.filter(
            role__in=REVIEW_ROLES
        ).count(),
    }
    if request.htmx:
        return render(
            request, "reviews/team_settings.html#settings", context, status=status
        )
    return render(request, "reviews/team_settings.html", context, status=status)
