"""Telling whoever started a build how it ended (in the app, by mail per choice).

Called once per build, where its final status is written: the pipeline's
last save, or the reaper giving up on it. A re-queued attempt tells nobody;
neither does a cancelled build (someone chose to stop it) nor one whose
queueing failed (the request that started it answered 503 at once).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.urls import reverse

from studio.notifications.models import Kind
from studio.notifications.services import notify

from ..models import Build


def build_finished(*, build: Build) -> None:
    """Notify the build's starter (if still a member of its team) of a
    succeeded or failed build."""
    if build.status not in (Build.Status.SUCCEEDED, Build.Status.FAILED):
        return
    if build.created_by_id is None:
        return
    starter = User.objects.filter(
        pk=build.created_by_id, memberships__team_id=build.team_id
    ).first()
    if starter is None:
        return
    plugin_id = build.provider.plugin_id
    outcome = "succeeded" if build.status == Build.Status.SUCCEEDED else "failed"
    if build.kind == Build.Kind.RELEASE:
        kind = Kind.RELEASE_FINISHED
        title = f"Release {build.revision_label} of {plugin_id} {outcome}"
    else:
        kind = Kind.BUILD_FINISHED
        title = f"Build #{build.pk} of {plugin_id} {outcome}"
    if build.status == Build.Status.FAILED:
        body = build.error.strip().splitlines()[0] if build.error.strip() else ""
    else:
        body = build.artifact_name  # says signed or unsigned
    notify(
        recipients=[starter],
        kind=kind,
        title=title,
        body=body,
        url=reverse("builds:build-detail", args=[build.pk]),
        team=build.team,
    )
