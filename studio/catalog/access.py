"""Who may see and change what: every catalog lookup goes through here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from studio.lib.http import AuthedHttpRequest

from .models import Membership, Provider, ProviderModel, Role

SESSION_TEAM = "team_id"


def memberships_of(request: AuthedHttpRequest) -> QuerySet[Membership]:
    """The user's memberships, team included, by team name."""
    return (
        Membership.objects.filter(user=request.user)
        .select_related("team")
        .order_by("team__name")
    )


def current_membership(request: AuthedHttpRequest) -> Membership | None:
    """The membership of the team the user works in (session), else their first."""
    if hasattr(request, "_current_membership"):
        return request._current_membership
    team_id = request.session.get(SESSION_TEAM)
    found = None
    if team_id is not None:
        found = memberships_of(request).filter(team_id=team_id).first()
    if found is None:
        found = memberships_of(request).first()
    # Cached on the request like Django's own `_cached_user`; HttpRequest does not
    # declare it, and lib (where the request class lives) cannot name Membership.
    request._current_membership = found  # type: ignore[attr-defined]
    return found


def require_membership(request: AuthedHttpRequest) -> Membership:
    """The current membership; 404 for a user in no team (views offer team creation)."""
    membership = current_membership(request)
    if membership is None:
        raise Http404("You are not in a team yet.")
    return membership


def get_team_membership_for_user(
    request: AuthedHttpRequest,
    team_slug: str,
    *,
    owner: bool = False,
    owner_reason: str = "Only an owner of the team may do this.",
) -> Membership:
    """The user's membership of the team named by slug (404 if none); 403 with
    `owner_reason` unless an owner when `owner`."""
    membership = (
        Membership.objects.filter(user=request.user, team__slug=team_slug)
        .select_related("team")
        .first()
    )
    if membership is None:
        raise Http404("No such team.")
    if owner and membership.role != Role.OWNER:
        raise PermissionDenied(owner_reason)
    return membership


def _membership_for(request: AuthedHttpRequest, team_id: int) -> Membership:
    membership = (
        Membership.objects.filter(user=request.user, team_id=team_id)
        .select_related("team")
        .first()
    )
    if membership is None:
        # Same answer as a missing object: never tell outsiders it exists.
        raise Http404("No such provider.")
    return membership


def get_provider_for_user(
    request: AuthedHttpRequest, provider_id: int, *, write: bool = False
) -> tuple[Provider, Membership]:
    """The provider if the user is in its team (404 otherwise); 403 to write as
    a reviewer or viewer."""
    provider = Provider.objects.select_related("team").filter(pk=provider_id).first()
    if provider is None:
        raise Http404("No such provider.")
    membership = _membership_for(request, provider.team_id)
    if write and not membership.can_edit:
        raise PermissionDenied("Your role in this team can only read.")
    return provider, membership


def get_model_for_user(
    request: AuthedHttpRequest, provider_id: int, model_id: int, *, write: bool = False
) -> tuple[ProviderModel, Provider, Membership]:
    """A model of a provider the user may see (404 otherwise), as above."""
    provider, membership = get_provider_for_user(request, provider_id, write=write)
    model = provider.models.filter(pk=model_id).first()
    if model is None:
        raise Http404("No such model.")
    return model, provider, membership
