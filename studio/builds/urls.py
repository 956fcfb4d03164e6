"""Routes of builds and signing keys, and the provider deletion route."""

from __future__ import annotations

from django.urls import path

from . import marketplace_views, views

app_name = "builds"

urlpatterns = [
    path(
        "providers/<int:provider_id>/builds/",
        views.provider_builds,
        name="provider-builds",
    ),
    path(
        "providers/<int:provider_id>/builds/new",
        views.build_create,
        name="build-create",
    ),
    path("builds/<int:build_id>/", views.build_detail, name="build-detail"),
    path("builds/<int:build_id>/cancel", views.build_cancel, name="build-cancel"),
    path("builds/<int:build_id>/retry", views.build_retry, name="build-retry"),
    path("builds/<int:build_id>/download", views.build_download, name="build-download"),
    path(
        "builds/<int:build_id>/marketplace",
        marketplace_views.build_readiness,
        name="build-readiness",
    ),
    path(
        "builds/<int:build_id>/marketplace/check",
        marketplace_views.build_readiness_check,
        name="build-readiness-check",
    ),
    path(
        "teams/<slug:team_slug>/signing-keys/",
        views.signing_keys,
        name="signing-keys",
    ),
    path(
        "teams/<slug:team_slug>/signing-keys/generate",
        views.signing_key_generate,
        name="signing-key-generate",
    ),
    path(
        "teams/<slug:team_slug>/signing-keys/upload",
        views.signing_key_upload,
        name="signing-key-upload",
    ),
    path(
        "teams/<slug:team_slug>/signing-keys/<int:key_id>/deactivate",
        views.signing_key_deactivate,
        name="signing-key-deactivate",
    ),
    path(
        "teams/<slug:team_slug>/signing-keys/<int:key_id>/public.pem",
        views.signing_key_public,
        name="signing-key-public",
    ),
    path(
        "teams/<slug:team_slug>/signing-keys/<int:key_id>/daemon.env",
        views.signing_key_daemon_env,
        name="signing-key-daemon-env",
    ),
]

# Deleting a provider locks and removes its builds, so the view is ours; the
# route keeps its place and name in the catalog (studio/urls.py adds it there).
catalog_urlpatterns = [
    path(
        "providers/<int:provider_id>/delete",
        views.provider_delete,
        name="provider-delete",
    ),
]
