"""Routes of reviews: revisions, comments, decisions, releases, inbox, audit."""

from __future__ import annotations

from django.urls import path

from .views import audit, comments, inbox, releases, revisions, team_settings

app_name = "reviews"

urlpatterns = [
    path("reviews/", inbox.inbox, name="inbox"),
    path(
        "providers/<int:provider_id>/reviews/",
        revisions.provider_reviews,
        name="provider-reviews",
    ),
    path(
        "providers/<int:provider_id>/reviews/submit",
        revisions.revision_submit,
        name="revision-submit",
    ),
    path(
        "providers/<int:provider_id>/revisions/<int:number>/",
        revisions.revision_detail,
        name="revision-detail",
    ),
    path(
        "providers/<int:provider_id>/revisions/<int:number>/comments",
        comments.comment_create,
        name="comment-create",
    ),
    path(
        "providers/<int:provider_id>/revisions/<int:number>/comments/"
        "<int:comment_id>/replies",
        comments.comment_reply,
        name="comment-reply",
    ),
    path(
        "providers/<int:provider_id>/revisions/<int:number>/decide",
        revisions.revision_decide,
        name="revision-decide",
    ),
    path(
        "providers/<int:provider_id>/revisions/<int:number>/release",
        releases.revision_release,
        name="revision-release",
    ),
    path(
        "providers/<int:provider_id>/releases/<int:build_id>/release-notes.md",
        releases.release_notes_download,
        name="release-notes",
    ),
    path(
        "providers/<int:provider_id>/releases/<int:build_id>/submission-kit.zip",
        releases.submission_kit_download,
        name="submission-kit",
    ),
    path(
        "providers/<int:provider_id>/comments/<int:comment_id>/resolve",
        comments.comment_resolve,
        name="comment-resolve",
    ),
    path(
        "providers/<int:provider_id>/audit/",
        audit.provider_audit,
        name="provider-audit",
    ),
    path("teams/<slug:team_slug>/audit/", audit.team_audit, name="team-audit"),
    path(
        "teams/<slug:team_slug>/reviews/settings",
        team_settings.team_settings,
        name="team-settings",
    ),
]
