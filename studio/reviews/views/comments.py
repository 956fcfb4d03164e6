"""Commenting on a revision, replying in a thread, and resolving or
reopening a thread."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from studio.lib.http import AuthedHttpRequest, render_page

from .. import services
from ..forms import CommentForm, ReplyForm
from .lookups import get_comment_for_user, get_revision_for_user, get_thread_for_user
from .revision_page import (
    Compare,
    comment_target,
    posted_compare,
    revision_context,
    revision_url,
)


@require_POST
@login_required
def comment_create(
    request: AuthedHttpRequest, provider_id: int, number: int
) -> HttpResponse:
    revision, provider, membership = get_revision_for_user(
        request, provider_id, number, review=True
    )
    keep = posted_compare(request)
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
            return redirect(f"{revision_url(revision, **keep)}#comment-{comment.pk}")
        form, status = CommentForm(), 200
    context = revision_context(
        request,
        revision,
        provider,
        membership,
        compare=Compare.read(keep),
        # An invalid comment pinned to a change comes back open at it.
        comment_at=comment_target(request.POST, key="anchor")
        if status == 400
        else None,
        comment_form=form,
    )
    return render_page(
        request,
        "reviews/revision_detail.html",
        context,
        partial="review",
        status=status,
    )


@require_POST
@login_required
def comment_reply(
    request: AuthedHttpRequest, provider_id: int, number: int, comment_id: int
) -> HttpResponse:
    """Reply under a comment shown on revision `number`, and come back to it."""
    comment, revision, provider, membership = get_thread_for_user(
        request, provider_id, number, comment_id
    )
    keep = posted_compare(request)
    form = ReplyForm(request.POST)
    status = 400
    extra: dict[str, Any] = {}
    if form.is_valid():
        reply = services.comment_reply(
            comment=comment, user=request.user, body=form.cleaned_data["body"]
        )
        if not request.htmx:
            return redirect(f"{revision_url(revision, **keep)}#comment-{reply.pk}")
        status = 200
    else:
        extra = {"reply_form": form, "reply_to": comment.parent_id or comment.pk}
    context = revision_context(
        request,
        revision,
        provider,
        membership,
        compare=Compare.read(keep),
        **extra,
    )
    return render_page(
        request,
        "reviews/revision_detail.html",
        context,
        partial="review",
        status=status,
    )


@require_POST
@login_required
def comment_resolve(
    request: AuthedHttpRequest, provider_id: int, comment_id: int
) -> HttpResponse:
    comment, provider, membership = get_comment_for_user(
        request, provider_id, comment_id
    )
    resolved = request.POST.get("resolved", "1") != "0"
    services.comment_resolve(comment=comment, user=request.user, resolved=resolved)
    keep = posted_compare(request)
    # Back to the revision the reader was on (it may be a later one).
    number = request.POST.get("revision", "")
    if not (number.isdigit() and provider.revisions.filter(number=number).exists()):
        number = str(comment.revision.number)
    target, provider, membership = get_revision_for_user(
        request, provider_id, int(number)
    )
    if not request.htmx:
        return redirect(f"{revision_url(target, **keep)}#comment-{comment.pk}")
    context = revision_context(
        request,
        target,
        provider,
        membership,
        compare=Compare.read(keep),
    )
    return render(request, "reviews/revision_detail.html#review", context)
