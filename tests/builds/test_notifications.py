"""Whoever started a build hears once how it ended (succeeded or failed)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone

from studio.builds import services
from studio.builds.models import Build
from studio.builds.services import pipeline
from studio.catalog.models import Membership, Provider
from studio.notifications.models import Notification
from studio.notifications.services import notification_preferences_update
from tests.builds.conftest import Personas, Published
from tests.factories import make_provider
from tests.notifications.conftest import emails, mailbox

__all__ = ["emails", "mailbox"]

pytestmark = pytest.mark.django_db


def start(provider: Provider, user: User | None, capture: Any, **kw: Any) -> Build:
    with capture(execute=True):
        return services.build_start(provider=provider, user=user, **kw)


def run(run_published: Any, capture: Any, build: Build) -> Build:
    with capture(execute=True):
        run_published()
    build.refresh_from_db()
    return build


def told() -> list[tuple[str, str, str]]:
    return [
        (row.recipient.username, row.kind, row.title)
        for row in Notification.objects.select_related("recipient").order_by("id")
    ]


class TestBuildFinished:
    def test_a_succeeded_build_tells_its_starter_without_mail_by_default(
        self,
        emails: Personas,
        run_published: Any,
        storage: Path,
        mailbox: Any,
    ) -> None:
        provider = make_provider(emails.team)
        build = start(provider, emails.bob, mailbox)
        build = run(run_published, mailbox, build)
        assert build.status == Build.Status.SUCCEEDED
        assert told() == [
            ("bob", "build-finished", f"Build #{build.pk} of acme/gateway succeeded")
        ]
        row = Notification.objects.get()
        assert row.url == f"/builds/{build.pk}/" and row.team == emails.team
        assert row.body == f"gateway-0.0.1-b{build.pk}-unsigned.difypkg"
        assert row.actor_name == ""
        assert mail.outbox == []

    def test_a_failed_build_says_why_and_is_mailed_when_asked(
        self,
        emails: Personas,
        run_published: Any,
        storage: Path,
        settings: Any,
        mailbox: Any,
    ) -> None:
        settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.failing"
        notification_preferences_update(user=emails.bob, email={"build-finished": True})
        build = start(make_provider(emails.team), emails.bob, mailbox)
        build = run(run_published, mailbox, build)
        assert build.status == Build.Status.FAILED
        title = f"Build #{build.pk} of acme/gateway failed"
        assert told() == [("bob", "build-finished", title)]
        assert Notification.objects.get().body == "smoke test failed: invoke_llm"
        [message] = mail.outbox
        assert message.to == ["bob@example.test"] and message.subject == title

    def test_a_release_tells_its_starter_by_mail_by_default(
        self,
        emails: Personas,
        run_published: Any,
        storage: Path,
        mailbox: Any,
    ) -> None:
        build = start(
            make_provider(emails.team),
            emails.alice,
            mailbox,
            kind=Build.Kind.RELEASE,
            revision_label="r2",
        )
        run(run_published, mailbox, build)
        title = "Release r2 of acme/gateway succeeded"
        assert told() == [("alice", "release-finished", title)]
        assert [m.subject for m in mail.outbox] == [title]

    def test_one_message_delivered_twice_tells_once(
        self,
        personas: Personas,
        run_published: Any,
        broker: Published,
        storage: Path,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        capture = django_capture_on_commit_callbacks
        build = start(make_provider(personas.team), personas.bob, capture)
        broker.append({"build_id": build.pk, "attempt": 1})  # a redelivery
        run(run_published, capture, build)
        assert len(told()) == 1

    def test_a_cancelled_build_or_one_nobody_started_tells_nobody(
        self,
        personas: Personas,
        run_published: Any,
        storage: Path,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        capture = django_capture_on_commit_callbacks
        cancelled = start(make_provider(personas.team), personas.bob, capture)
        services.build_cancel(build=cancelled)
        run(run_published, capture, cancelled)
        anonymous = start(make_provider(personas.team, "other"), None, capture)
        assert run(run_published, capture, anonymous).status == Build.Status.SUCCEEDED
        assert told() == []

    def test_a_starter_who_left_the_team_is_not_told(
        self,
        personas: Personas,
        run_published: Any,
        storage: Path,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        capture = django_capture_on_commit_callbacks
        build = start(make_provider(personas.team), personas.bob, capture)
        Membership.objects.filter(user=personas.bob).delete()
        assert run(run_published, capture, build).status == Build.Status.SUCCEEDED
        assert told() == []

    def test_a_worker_given_up_on_tells_nobody(
        self,
        personas: Personas,
        run_published: Any,
        monkeypatch: pytest.MonkeyPatch,
        storage: Path,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        real_store = pipeline._Run.step_store

        def store_then_lose(self: Any, step: Any) -> Any:
            status = real_store(self, step)
            Build.objects.filter(pk=self.build.pk).update(
                status=Build.Status.QUEUED, attempt=2
            )
            return status

        monkeypatch.setattr(pipeline._Run, "step_store", store_then_lose)
        capture = django_capture_on_commit_callbacks
        build = start(make_provider(personas.team), personas.bob, capture)
        assert run(run_published, capture, build).status == Build.Status.QUEUED
        assert told() == []

    def test_a_failing_notification_leaves_the_build_succeeded(
        self,
        personas: Personas,
        run_published: Any,
        monkeypatch: pytest.MonkeyPatch,
        storage: Path,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        def broken(**kwargs: Any) -> None:
            raise RuntimeError("notifications are down")

        monkeypatch.setattr(pipeline.notices, "build_finished", broken)
        capture = django_capture_on_commit_callbacks
        build = start(make_provider(personas.team), personas.bob, capture)
        assert run(run_published, capture, build).status == Build.Status.SUCCEEDED


class TestReaper:
    def running(
        self, personas: Personas, capture: Any, name: str, *, attempt: int
    ) -> Build:
        build = start(make_provider(personas.team, name), personas.bob, capture)
        now = timezone.now()
        build.mark_running(worker="gone@host", pid=999_999, now=now)
        build.attempt = attempt
        build.heartbeat_at = now - timedelta(seconds=600)
        build.save()
        return build

    def test_a_requeued_attempt_tells_nobody_and_giving_up_tells_once(
        self,
        personas: Personas,
        broker: Published,
        settings: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        settings.BUILD_MAX_ATTEMPTS = 2
        capture = django_capture_on_commit_callbacks
        requeued = self.running(personas, capture, "one", attempt=1)
        services.builds_reap_stale()
        requeued.refresh_from_db()
        assert requeued.status == Build.Status.QUEUED and told() == []

        lost = self.running(personas, capture, "two", attempt=2)
        services.builds_reap_stale()
        services.builds_reap_stale()
        lost.refresh_from_db()
        assert lost.status == Build.Status.FAILED
        assert told() == [
            ("bob", "build-finished", f"Build #{lost.pk} of acme/two failed")
        ]
        assert Notification.objects.get().body.startswith("worker lost: gone@host")
