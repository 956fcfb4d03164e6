"""Routes of reviews: revisions, comments, decisions, releases, inbox, audit."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("reviews/", views.inbox, name="inbox"),
    path(
        "providers/<int:provider_id>/reviews/",
        views.provider_reviews,
        name="provider-reviews",
    ),
    path(
        "providers/<int:provider_id>/reviews/submit",
        views.revision_submit,
        name="revision-submit",
    ),
    path(
        "providers/<int:provider_id>/revisions/<int:number>/",
        views.revision_detail,
        name="revision-detail",
    ),
    path(
        "providers/<int:provider_id>/revisions/<int:number>/comments",
        views.comment_create,
        name="comment-create",
    ),
    path(
        "providers/<int:provider_id>/revisions/<int:number>/decide",
        views.revision_decide,
        name="revision-decide",
    ),
    path(
        "providers/<int:provider_id>/revisions/<int:number>/release",
        views.revision_release,
        name="revision-release",
    ),
    path(
        "providers/<int:provider_id>/comments/<int:comment_id>/resolve",
        views.comment_resolve,
        name="comment-resolve",
    ),
    path(
        "providers/<int:provider_id>/audit/",
        views.provider_audit,
        name="provider-audit",
    ),
    path("teams/<slug:team_slug>/audit/", views.team_audit, name="team-audit"),
    path(
        "teams/<slug:team_slug>/reviews/settings",
        views.team_settings,
        name="team-settings",
    ),
]
