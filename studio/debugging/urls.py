"""Routes of remote debugging."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "debugging"

urlpatterns = [
    path("providers/<int:provider_id>/debug/", views.debug_start, name="start"),
    path("debug/<int:session_id>/", views.debug_session, name="session"),
    path("debug/<int:session_id>/stop", views.debug_stop, name="stop"),
    path(
        "teams/<slug:team_slug>/debug-hosts",
        views.team_hosts,
        name="team-hosts",
    ),
]
