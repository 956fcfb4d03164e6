"""A team's review rules."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from studio.catalog.models import Role
from studio.lib.http import AuthedHttpRequest, render_page

from .. import services
from ..forms import ReviewSettingsForm
from ..models import REVIEW_ROLES, ReviewSettings
from .lookups import get_membership_for_user


@require_http_methods(["GET", "POST"])
@login_required
def team_settings(request: AuthedHttpRequest, team_slug: str) -> HttpResponse:
    membership = get_membership_for_user(
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
    return render_page(
        request,
        "reviews/team_settings.html",
        context,
        partial="settings",
        status=status,
    )
