"""The audit log of a provider and of a team."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from studio.audit.models import AuditEvent
from studio.catalog.access import get_provider_for_user
from studio.catalog.provider_page import provider_context
from studio.lib.http import AuthedHttpRequest, render_page

from .. import selectors
from .lookups import get_membership_for_user


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
    return render_page(
        request, "reviews/provider_audit.html", context, partial="events"
    )


@require_GET
@login_required
def team_audit(request: AuthedHttpRequest, team_slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, team_slug)
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
    return render_page(request, "reviews/team_audit.html", context, partial="events")
