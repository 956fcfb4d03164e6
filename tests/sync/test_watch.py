"""The drift watch: runs due watches, notifies once per drift, never edits
the draft, keeps its key encrypted; the beat schedule names its task."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from studio.builds.keys import encrypt_private_key
from studio.builds.mock_upstream import MockUpstream
from studio.catalog import services as catalog
from studio.catalog.models import Provider
from studio.notifications.models import Notification
from studio.sync import services, tasks
from studio.sync.models import SyncProposal, SyncWatch
from tests.catalog.conftest import Personas
from tests.sync.conftest import API_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def watch(
    provider: Provider, upstream: MockUpstream, allow_loopback: None
) -> SyncWatch:
    return SyncWatch.objects.create(
        provider=provider,
        enabled=True,
        interval_hours=6,
        source="upstream",
        base_url=upstream.url,
        template="model-002",
        credential_token=encrypt_private_key(API_KEY.encode()),
    )


class TestARun:
    def test_drift_makes_one_proposal_and_notifies_the_team_once(
        self, watch: SyncWatch, provider: Provider, personas: Personas
    ) -> None:
        files = catalog.provider_files(provider)

        proposal = services.watch_run(watch)

        assert proposal is not None and proposal.created_by is None
        assert proposal.summary == "2 new models, 1 model gone upstream"
        notes = Notification.objects.filter(kind="catalogue-drift")
        assert {n.recipient.username for n in notes} == {
            "alice",
            "bob",
            "carol",
            "victor",
        }
        note = notes.first()
        assert note is not None
        assert note.title == "acme/gateway: 2 new models, 1 model gone upstream"
        assert note.url == f"/providers/{provider.pk}/sync/{proposal.pk}/"
        watch.refresh_from_db()
        assert watch.last_result.startswith("drift: 2 new models")
        assert watch.last_run_at is not None
        # The watch never edits the draft.
        assert catalog.provider_files(provider) == files

        # The same drift again: no new proposal, no new notification.
        assert services.watch_run(watch) is None
        watch.refresh_from_db()
        assert SyncProposal.objects.count() == 1
        assert Notification.objects.filter(kind="catalogue-drift").count() == 4
        assert watch.last_result.startswith("same drift")
        assert catalog.provider_files(provider) == files

    def test_a_different_drift_is_reported_again(
        self, watch: SyncWatch, provider: Provider, upstream: MockUpstream
    ) -> None:
        services.watch_run(watch)
        upstream.models = (*upstream.models, "gpt-new-3")
        watch.refresh_from_db()
        assert services.watch_run(watch) is not None
        assert Notification.objects.filter(kind="catalogue-drift").count() == 8
        assert SyncProposal.objects.first().new_count == 3  # type: ignore[union-attr]

    def test_no_drift_notifies_nobody(
        self, provider: Provider, allow_loopback: None
    ) -> None:
        with MockUpstream(
            api_key=API_KEY, models=("model-000", "model-001", "model-002")
        ) as mock:
            watch = SyncWatch.objects.create(
                provider=provider,
                enabled=True,
                base_url=mock.url,
                credential_token=encrypt_private_key(API_KEY.encode()),
            )
            assert services.watch_run(watch) is None
        watch.refresh_from_db()
        assert watch.last_result == "no drift"
        assert not Notification.objects.exists()
        assert not SyncProposal.objects.exists()

    def test_a_failure_is_recorded_not_raised(self, provider: Provider) -> None:
        watch = SyncWatch.objects.create(
            provider=provider, enabled=True, base_url="http://10.0.0.1/v1"
        )
        assert services.watch_run(watch) is None
        watch.refresh_from_db()
        assert watch.last_result.startswith("failed: Refused:")
        assert not Notification.objects.exists()

    def test_the_stored_key_is_not_in_clear_in_the_row(self, watch: SyncWatch) -> None:
        row = SyncWatch.objects.filter(pk=watch.pk).values().get()
        assert API_KEY not in repr(row)
        services.watch_run(watch)
        row = SyncWatch.objects.filter(pk=watch.pk).values().get()
        assert API_KEY not in repr(row)


class TestTheSchedule:
    def test_due_watches_run_and_others_wait(
        self, watch: SyncWatch, provider: Provider
    ) -> None:
        assert tasks.sync_watches_run() == 1
        assert SyncProposal.objects.count() == 1
        # Ran just now: not due for another six hours.
        assert tasks.sync_watches_run() == 0
        SyncWatch.objects.filter(pk=watch.pk).update(
            last_run_at=timezone.now() - timedelta(hours=7)
        )
        assert tasks.sync_watches_run() == 1

    def test_a_watch_that_crashes_does_not_stop_the_others(
        self,
        watch: SyncWatch,
        provider: Provider,
        personas: Personas,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        from tests.factories import make_provider

        other = SyncWatch.objects.create(
            provider=make_provider(personas.team, "second", models=3),
            enabled=True,
            interval_hours=6,
            source="upstream",
            base_url=watch.base_url,
            credential_token=watch.credential_token,
        )
        real = services.watch_run

        def crash_first(w: SyncWatch) -> Any:
            if w.pk == watch.pk:
                raise RuntimeError("boom")
            return real(w)

        monkeypatch.setattr(services, "watch_run", crash_first)
        assert tasks.sync_watches_run() == 2
        watch.refresh_from_db()
        other.refresh_from_db()
        assert watch.last_result == "failed: RuntimeError: boom"
        assert other.last_result.startswith("drift:")

    def test_a_disabled_watch_never_runs(self, watch: SyncWatch) -> None:
        SyncWatch.objects.filter(pk=watch.pk).update(enabled=False)
        assert tasks.sync_watches_run() == 0

    def test_beat_names_the_task(self, settings: Any) -> None:
        entry = django_settings.CELERY_BEAT_SCHEDULE["sync-watches"]
        assert entry["task"] == "studio.sync.tasks.sync_watches_run"
        assert tasks.sync_watches_run.name == entry["task"]
