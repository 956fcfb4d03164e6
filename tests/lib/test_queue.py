"""Queueing work: refuse before writing when the broker is down, and clean up
when a publish fails after the commit."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kombu.exceptions import OperationalError

from studio.lib import queue
from tests.queueing import Tasks, closed_port

DOWN = "The job queue (Redis) is unreachable"


def queue_check(failures: list[str] | None = None, **kwargs: Any) -> Any:
    from studio.core.tasks import worker_check_run

    return queue.queue_after_commit(
        worker_check_run,
        kwargs={"check_id": 7},
        on_failure=failures.append if failures is not None else (lambda reason: None),
        **kwargs,
    )


class TestRequireBroker:
    def test_a_stopped_broker_is_refused_at_once_with_a_message(
        self, settings: Any
    ) -> None:
        settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
        began = time.monotonic()
        with pytest.raises(queue.QueueUnavailable) as refused:
            queue.require_broker(hint="Uploads up to 2 MiB need no queue.")
        assert time.monotonic() - began < 2
        assert str(refused.value) == (
            f"{DOWN}; nothing was saved. Try again in a minute. "
            "Uploads up to 2 MiB need no queue."
        )
        assert "Connection refused" in refused.value.detail
        assert refused.value.context == {}

    def test_a_running_broker_passes(self, redis_url: str) -> None:
        queue.require_broker()


class TestQueueUnavailable:
    def test_it_says_what_was_kept(self) -> None:
        exc = queue.QueueUnavailable(
            "could not queue: refused",
            kept="import 3 was marked failed",
            context={"import_id": 3},
        )
        assert str(exc) == (
            f"{DOWN}; import 3 was marked failed. Try again in a minute."
        )
        assert exc.context == {"import_id": 3}


@pytest.mark.django_db
class TestQueueAfterCommit:
    def test_it_publishes_only_after_the_commit(
        self, tasks: Tasks, django_capture_on_commit_callbacks: Any
    ) -> None:
        failures: list[str] = []
        with django_capture_on_commit_callbacks(execute=True):
            publication = queue_check(failures, queue="builds")
            assert tasks.sent == [] and publication.pending
        assert tasks.sent == [("studio.core.tasks.worker_check_run", {"check_id": 7})]
        assert publication.sent and not publication.failed and failures == []

    def test_a_rolled_back_transaction_publishes_nothing(
        self, tasks: Tasks, django_capture_on_commit_callbacks: Any
    ) -> None:
        from django.db import transaction

        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            publication = queue_check()
            raise RuntimeError("rolled back")
        assert tasks.sent == [] and publication.pending

    def test_a_failed_publish_calls_on_failure_with_the_reason(
        self,
        tasks: Tasks,
        django_capture_on_commit_callbacks: Any,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        tasks.refuse = True
        failures: list[str] = []
        with django_capture_on_commit_callbacks(execute=True):
            publication = queue_check(failures)
        assert publication.failed and not publication.sent
        assert failures == [publication.error]
        assert publication.error == (
            "could not queue: Error 111 connecting to 127.0.0.1:6379. "
            "Connection refused."
        )
        assert "could not queue" in caplog.text

    def test_a_failing_clean_up_is_logged_not_raised(
        self,
        tasks: Tasks,
        django_capture_on_commit_callbacks: Any,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        from studio.core.tasks import worker_check_run

        def boom(reason: str) -> None:
            raise RuntimeError("clean-up broke")

        tasks.refuse = True
        with django_capture_on_commit_callbacks(execute=True):
            publication = queue.queue_after_commit(
                worker_check_run, kwargs={"check_id": 7}, on_failure=boom
            )
        assert publication.failed
        assert "clean-up broke" in caplog.text


class TestPublishingToAStoppedBroker:
    def test_it_gives_up_within_a_second(self) -> None:
        """kombu retries a connection for seconds by default; the broker
        transport options in settings make a publish give up at once."""
        from studio.celery import app
        from studio.core.tasks import worker_check_run

        url = f"redis://127.0.0.1:{closed_port()}/0"
        with app.connection_for_write(url) as connection:
            began = time.monotonic()
            with pytest.raises(OperationalError):
                worker_check_run.apply_async(
                    kwargs={"check_id": 1}, retry=False, connection=connection
                )
        assert time.monotonic() - began < 1
