"""The audit log moved from the reviews app to its own without losing a row."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from studio.audit.models import AuditEvent

BEFORE_THE_MOVE = [("reviews", "0001_initial")]


@pytest.mark.django_db(transaction=True)
class TestMovingAuditEventToTheAuditApp:
    def test_events_logged_before_the_move_are_there_after_it(self) -> None:
        executor = MigrationExecutor(connection)
        leaves = executor.loader.graph.leaf_nodes()
        executor.migrate(BEFORE_THE_MOVE)
        old = executor.loader.project_state(BEFORE_THE_MOVE).apps
        team = old.get_model("catalog", "Team").objects.create(name="Acme", slug="acme")
        old.get_model("reviews", "AuditEvent").objects.create(
            team=team, actor_name="alice", action="download", summary="kept"
        )
        before = ContentType.objects.get(model="auditevent")
        assert before.app_label == "reviews"

        executor = MigrationExecutor(connection)
        executor.migrate(leaves)

        event = AuditEvent.objects.get()
        assert (event.team_id, event.actor_name, event.summary) == (
            team.pk,
            "alice",
            "kept",
        )
        # Permissions and admin history hang on the content type's id.
        after = ContentType.objects.get(model="auditevent")
        assert (after.pk, after.app_label) == (before.pk, "audit")
