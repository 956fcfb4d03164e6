"""Routes of the catalog; each screen's module adds its own `urlpatterns`."""

from __future__ import annotations

from django.urls import path

from .views import credentials, files, general, imports, models, providers, teams

app_name = "catalog"

urlpatterns = [
    path("teams/new", teams.team_new, name="team-new"),
    path("teams/switch", teams.team_switch, name="team-switch"),
    path("providers/", providers.provider_list, name="provider-list"),
    path("providers/new", providers.provider_new, name="provider-new"),
    path(
        "providers/<int:provider_id>/",
        providers.provider_detail,
        name="provider-detail",
    ),
    *general.urlpatterns,
    *credentials.urlpatterns,
    *models.urlpatterns,
    *files.urlpatterns,
    *imports.urlpatterns,
]
