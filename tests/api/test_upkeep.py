"""Beat's upkeep of API tokens: revoked or expired long ago, they go."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from studio.api import services, tasks
from studio.api.models import ApiToken
from tests.api.conftest import make_token, token_row
from tests.catalog.conftest import Personas
from tests.concurrency import run_at_once

KEEP_DAYS = 30


@pytest.fixture(autouse=True)
def keep_days(settings: Any) -> None:
    settings.EXPIRED_KEEP_DAYS = KEEP_DAYS


def token(
    personas: Personas, name: str, *, mallory: bool = False, **fields: Any
) -> int:
    user, team = (
        (personas.mallory, personas.other_team)
        if mallory
        else (personas.bob, personas.team)
    )
    row = token_row(make_token(user, team, name=name))
    ApiToken.objects.filter(pk=row.pk).update(**fields)
    return row.pk


class TestTokensPurge:
    def test_only_tokens_that_stopped_working_long_ago_go(
        self, personas: Personas
    ) -> None:
        now = timezone.now()
        long_ago = now - timedelta(days=KEEP_DAYS + 1)
        lately = now - timedelta(days=KEEP_DAYS - 1)
        gone = {
            token(personas, "revoked-long-ago", revoked_at=long_ago),
            token(personas, "expired-long-ago", mallory=True, expires_at=long_ago),
        }
        kept = {
            token(personas, "revoked-lately", revoked_at=lately),
            token(personas, "expired-lately", mallory=True, expires_at=lately),
            token(personas, "active"),
            token(personas, "theirs", mallory=True, expires_at=now + timedelta(days=9)),
            token(personas, "unused-for-ages", last_used_at=long_ago),
        }

        assert services.tokens_purge() == 2

        remaining = set(ApiToken.objects.values_list("pk", flat=True))
        assert remaining == kept
        assert not remaining & gone

    def test_a_second_run_deletes_nothing(self, personas: Personas) -> None:
        long_ago = timezone.now() - timedelta(days=KEEP_DAYS + 1)
        token(personas, "old", revoked_at=long_ago)
        assert services.tokens_purge() == 1
        assert services.tokens_purge() == 0

    def test_the_task_logs_its_count(
        self, personas: Personas, caplog: pytest.LogCaptureFixture
    ) -> None:
        long_ago = timezone.now() - timedelta(days=KEEP_DAYS + 1)
        token(personas, "old", expires_at=long_ago)
        with caplog.at_level(logging.INFO, logger="studio.api.tasks"):
            tasks.tokens_purge.run()
        assert "upkeep: deleted 1 old API token(s)" in caplog.messages


@pytest.mark.django_db(transaction=True)
def test_two_purges_at_once_delete_each_token_once(personas: Personas) -> None:
    long_ago = timezone.now() - timedelta(days=KEEP_DAYS + 1)
    for i in range(20):
        token(personas, f"old-{i}", mallory=bool(i % 2), revoked_at=long_ago)
    active = token(personas, "active")

    results = run_at_once(services.tokens_purge)

    assert sum(results) == 20
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [active]
