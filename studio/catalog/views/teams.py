from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from studio.lib.http import AuthedHttpRequest

from .. import services
from ..access import SESSION_TEAM, memberships_of
from ..forms.teams import TeamForm


@require_http_methods(["GET", "POST"])
@login_required
def team_new(request: AuthedHttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team = services.team_create(name=form.cleaned_data["name"], owner=request.user)
        request.session[SESSION_TEAM] = team.pk
        messages.success(request, f"Team {team.name} created; you are its owner.")
        return redirect("catalog:provider-list")
    return render(request, "catalog/team_new.html", {"form": form})


@require_POST
@login_required
def team_switch(request: AuthedHttpRequest) -> HttpResponse:
    try:
        team_id = int(request.POST.get("team", ""))
    except ValueError:
        raise Http404("No such team.") from None
    membership = memberships_of(request).filter(team_id=team_id).first()
    if membership is None:
        raise Http404("No such team.")
    request.session[SESSION_TEAM] = membership.team_id
    return redirect("catalog:provider-list")
