"""The Marketplace readiness of a build: queued with its success, run by a
worker (the install test included), shown and re-run on the build page."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from studio.builds import services, tasks
from studio.builds.models import Build, MarketplaceCheck
from studio.builds.services import readiness
from studio.lib import queue
from studio.lib.health import Check
from studio.pluginfmt.precheck import precheck
from tests.builds.conftest import Personas, Published, login
from tests.factories import NO_MARKETPLACE_FIELDS, make_provider
from tests.pluginfmt.echo_plugin import SDK_CACHE

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
# What a studio plugin made without repository and contact blocks on.
STUDIO_BLOCKING = {
    "marketplace.manifest-repo",
    "marketplace.manifest-contact",
    "marketplace.icon-studio-default",
    "marketplace.readme-source-link",
}


@pytest.fixture
def checking(settings: Any, broker: Published) -> Published:
    """Builds queue their Marketplace check; its virtualenvs are the tests' cache."""
    settings.MARKETPLACE_CHECK_AFTER_BUILD = True
    settings.SMOKE_VENV_DIR = SDK_CACHE
    return broker


@pytest.fixture
def no_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check's install test is skipped (the tests that need it run it)."""
    monkeypatch.setattr(readiness, "precheck", partial(precheck, install=False))


def build_of(
    provider: Any,
    published: Published,
    run_published: Any,
    capture: Any,
    user: Any = None,
) -> Build:
    with capture(execute=True):
        build = services.build_start(provider=provider, user=user, smoke=False)
    with capture(execute=True):
        run_published()
    build.refresh_from_db()
    assert build.status == Build.Status.SUCCEEDED, build.error
    return build


def run_checks(published: Published) -> list[MarketplaceCheck | None]:
    done = []
    while published.checks:
        done.append(services.marketplace_check_run(**published.checks.pop(0)))
    return done


@pytest.fixture
def built(
    personas: Personas,
    checking: Published,
    run_published: Any,
    django_capture_on_commit_callbacks: Any,
) -> Build:
    provider = make_provider(personas.team, models=1, **NO_MARKETPLACE_FIELDS)
    return build_of(
        provider,
        checking,
        run_published,
        django_capture_on_commit_callbacks,
        personas.bob,
    )


def release_of(build: Build, version: str, *, days_ago: int = 1) -> Build:
    return Build.objects.create(
        provider=build.provider,
        team=build.team,
        source=build.source,
        kind=Build.Kind.RELEASE,
        revision_label="r1",
        status=Build.Status.SUCCEEDED,
        plugin_version=version,
        created_at=build.created_at - timedelta(days=days_ago),
    )


class TestQueuedWithTheBuild:
    def test_a_succeeded_build_queues_its_check_for_its_starter(
        self, built: Build, checking: Published
    ) -> None:
        check = MarketplaceCheck.objects.get(build=built)

        assert (check.status, check.attempt) == ("queued", 1)
        assert check.requested_by == built.created_by
        assert checking.checks == [{"check_id": check.pk, "attempt": 1}]

    def test_nothing_is_queued_when_the_setting_is_off(
        self,
        personas: Personas,
        checking: Published,
        run_published: Any,
        settings: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        settings.MARKETPLACE_CHECK_AFTER_BUILD = False
        provider = make_provider(personas.team, **NO_MARKETPLACE_FIELDS)

        build_of(provider, checking, run_published, django_capture_on_commit_callbacks)

        assert MarketplaceCheck.objects.count() == 0 and checking.checks == []

    def test_the_task_is_routed_to_the_builds_queue(self) -> None:
        assert tasks.marketplace_check_run.name == (
            "studio.builds.tasks.marketplace_check_run"
        )


class TestRun:
    def test_a_worker_stores_findings_counts_and_the_install_test(
        self, built: Build, checking: Published
    ) -> None:
        [check] = run_checks(checking)

        assert check is not None
        check.refresh_from_db()
        assert check.status == "done" and check.started_at and check.finished_at
        blocking = {f.rule for f in check.blocking()}
        assert blocking == STUDIO_BLOCKING
        assert check.blocking_count == len(check.blocking()) == 4
        assert check.advisory_count == len(check.advisory())
        install = check.install_result()
        assert install is not None and install.status == "passed", install
        assert check.compared_with == ""

    def test_the_version_is_compared_with_earlier_releases(
        self, built: Build, checking: Published, no_install: None
    ) -> None:
        release_of(built, "0.0.1")
        release_of(built, "0.0.0", days_ago=3)

        [check] = run_checks(checking)

        assert check is not None and check.compared_with == "0.0.1"
        found = [
            f for f in check.finding_records() if f.rule.startswith("marketplace.v")
        ]
        assert [(f.rule, f.value) for f in found] == [
            ("marketplace.version-exists", "0.0.1")
        ]
        assert check.install == {}

    def test_a_later_release_is_not_an_earlier_one(
        self, built: Build, checking: Published, no_install: None
    ) -> None:
        later = release_of(built, "0.0.1")
        Build.objects.filter(pk=later.pk).update(
            created_at=built.created_at + timedelta(hours=1)
        )

        [check] = run_checks(checking)

        assert check is not None and check.compared_with == ""

    def test_a_pruned_build_is_checked_from_its_source(
        self, built: Build, checking: Published, no_install: None
    ) -> None:
        built.artifact.delete(save=False)
        built.mark_pruned()
        built.save()

        [check] = run_checks(checking)

        assert check is not None and check.status == "done"
        assert {f.rule for f in check.blocking()} == STUDIO_BLOCKING

    def test_a_crash_marks_the_check_failed_with_the_reason(
        self, built: Build, checking: Published, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("disk full")

        monkeypatch.setattr(readiness, "precheck", broken)

        run_checks(checking)

        check = MarketplaceCheck.objects.get(build=built)
        assert check.status == "failed"
        assert check.error == "internal error: RuntimeError: disk full"

    def test_an_old_attempt_is_ignored_and_a_late_result_dropped(
        self, built: Build, checking: Published, no_install: None
    ) -> None:
        [first] = checking.checks
        check = MarketplaceCheck.objects.get(build=built)
        # The first run claims the check; someone re-queues it meanwhile.
        MarketplaceCheck.objects.filter(pk=check.pk).update(status="running")
        check.refresh_from_db()
        check.requeue(user=None)
        check.save()

        assert services.marketplace_check_run(**first) is None
        check.refresh_from_db()
        assert (check.status, check.attempt, check.findings) == ("queued", 2, [])
        assert services.marketplace_check_run(check_id=check.pk, attempt=2)
        check.refresh_from_db()
        assert check.status == "done" and check.blocking_count == 4


class TestStart:
    def test_a_build_that_did_not_succeed_is_not_checked(
        self,
        personas: Personas,
        checking: Published,
        django_capture_on_commit_callbacks,
    ) -> None:
        provider = make_provider(personas.team, **NO_MARKETPLACE_FIELDS)
        with django_capture_on_commit_callbacks(execute=True):
            build = services.build_start(provider=provider, user=None)

        with pytest.raises(services.NotCheckable, match="only a succeeded build"):
            services.marketplace_check_start(build=build, user=personas.bob)
        assert MarketplaceCheck.objects.count() == 0

    def test_a_waiting_check_is_not_queued_twice_but_a_stale_one_is(
        self,
        built: Build,
        checking: Published,
        personas: Personas,
        settings: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            same = services.marketplace_check_start(build=built, user=personas.alice)
        assert same.attempt == 1 and len(checking.checks) == 1

        MarketplaceCheck.objects.filter(pk=same.pk).update(
            queued_at=timezone.now()
            - timedelta(seconds=settings.MARKETPLACE_CHECK_STALE_SECONDS + 1)
        )
        with django_capture_on_commit_callbacks(execute=True):
            again = services.marketplace_check_start(build=built, user=personas.alice)
        assert (again.attempt, again.requested_by) == (2, personas.alice)
        assert checking.checks[-1] == {"check_id": same.pk, "attempt": 2}

    def test_a_dead_broker_saves_nothing(
        self, built: Build, personas: Personas, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        MarketplaceCheck.objects.all().delete()
        monkeypatch.setattr(queue, "check_broker", lambda: Check(False, "refused"))

        with pytest.raises(queue.QueueUnavailable, match="nothing was saved"):
            services.marketplace_check_start(build=built, user=personas.bob)
        assert MarketplaceCheck.objects.count() == 0

    def test_a_publish_that_fails_after_the_commit_marks_the_check_failed(
        self,
        built: Build,
        personas: Personas,
        monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        MarketplaceCheck.objects.filter(build=built).update(status="done")

        def refuse(**kwargs: Any) -> None:
            raise OperationalError("Connection refused.")

        monkeypatch.setattr(tasks.marketplace_check_run, "apply_async", refuse)
        # (In a request the commit comes before the service returns, which
        # then raises QueueUnavailable naming the failed check.)
        with django_capture_on_commit_callbacks(execute=True):
            services.marketplace_check_start(build=built, user=personas.bob)
        check = MarketplaceCheck.objects.get(build=built)
        assert check.status == "failed"
        assert check.error == "could not queue: Connection refused."


# ---------------------------------------------------------------- the page


def detail_url(build: Build) -> str:
    return reverse("builds:build-detail", args=[build.pk])


def panel_url(build: Build) -> str:
    return reverse("builds:build-readiness", args=[build.pk])


def check_url(build: Build) -> str:
    return reverse("builds:build-readiness-check", args=[build.pk])


@pytest.fixture
def checked(built: Build, checking: Published, no_install: None) -> Build:
    """A build whose check ran (without the install test, for speed)."""
    run_checks(checking)
    return built


class TestPanel:
    def test_the_build_page_shows_counts_findings_and_the_install_test(
        self, client: Client, personas: Personas, built: Build, checking: Published
    ) -> None:
        run_checks(checking)

        body = login(client, personas.victor).get(detail_url(built)).content.decode()

        assert "Marketplace readiness" in body
        assert "4 blocking" in body and "Not ready" in body
        assert '<code class="rule">marketplace.manifest-repo</code>' in body
        assert '<code class="where">_assets/icon.svg</code>' in body
        assert "Fix: Set `repo` to the source repository URL" in body.replace(
            "&#x60;", "`"
        )
        assert "passed</span> in " in body and "served HTTP" in body
        assert 'id="marketplace-readiness"' in body
        # A viewer sees the result but cannot run the check.
        assert "Check again</button>" not in body

    def test_an_author_gets_the_button_and_a_queued_check_polls(
        self, client: Client, personas: Personas, built: Build
    ) -> None:
        body = login(client, personas.bob).get(detail_url(built)).content.decode()

        assert "Queued for a worker" in body
        assert f'hx-get="{panel_url(built)}" hx-trigger="load delay:2s"' in body
        assert "Check again</button>" not in body

    def test_a_build_that_is_not_finished_says_when_it_will_be_checked(
        self,
        client: Client,
        personas: Personas,
        checking: Published,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        provider = make_provider(personas.team, **NO_MARKETPLACE_FIELDS)
        with django_capture_on_commit_callbacks(execute=True):
            build = services.build_start(provider=provider, user=None)

        body = login(client, personas.bob).get(detail_url(build)).content.decode()

        assert "runs once the build succeeds" in body
        assert "marketplace/check" not in body

        build.status = build.Status.FAILED
        build.save(update_fields=["status"])
        body = client.get(detail_url(build)).content.decode()
        assert "runs on builds that succeed; this one failed" in body
        assert "runs once the build succeeds" not in body

    def test_the_htmx_poll_continues_while_queued_and_stops_when_done(
        self, client: Client, personas: Personas, built: Build, checking: Published
    ) -> None:
        login(client, personas.carol)
        waiting = client.get(panel_url(built), headers=HTMX)
        assert waiting.status_code == 200
        assert b"hx-trigger" in waiting.content and b"<html" not in waiting.content

        run_checks(checking)
        done = client.get(panel_url(built), headers=HTMX)
        assert done.status_code == 286
        assert b"hx-trigger" not in done.content and b"4 blocking" in done.content

    def test_without_htmx_the_panel_url_leads_to_the_build_page(
        self, client: Client, personas: Personas, checked: Build
    ) -> None:
        response = login(client, personas.bob).get(panel_url(checked))

        assert response.status_code == 302
        assert response["Location"] == f"{detail_url(checked)}#marketplace-readiness"

    def test_another_teams_user_gets_404_and_a_wrong_method_405(
        self, client: Client, personas: Personas, checked: Build
    ) -> None:
        login(client, personas.mallory)
        assert client.get(panel_url(checked), headers=HTMX).status_code == 404
        assert client.post(check_url(checked)).status_code == 404
        login(client, personas.bob)
        assert client.post(panel_url(checked)).status_code == 405
        assert client.get(check_url(checked)).status_code == 405

    def test_the_page_keeps_its_query_count_as_findings_and_models_grow(
        self,
        client: Client,
        personas: Personas,
        checking: Published,
        run_published: Any,
        no_install: None,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        login(client, personas.bob)
        counts = []
        for name, models in (("small", 1), ("large", 12)):
            provider = make_provider(
                personas.team, name, models=models, **NO_MARKETPLACE_FIELDS
            )
            build = build_of(
                provider, checking, run_published, django_capture_on_commit_callbacks
            )
            run_checks(checking)
            client.get(detail_url(build))  # the session's first-request writes
            with CaptureQueriesContext(connection) as queries:
                assert client.get(detail_url(build)).status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]


class TestCheckAgain:
    def test_an_author_queues_it_again_and_lands_on_the_panel(
        self, client: Client, personas: Personas, checked: Build, checking: Published
    ) -> None:
        response = login(client, personas.bob).post(check_url(checked))

        assert response.status_code == 302
        assert response["Location"] == f"{detail_url(checked)}#marketplace-readiness"
        check = MarketplaceCheck.objects.get(build=checked)
        assert (check.status, check.attempt, check.requested_by) == (
            "queued",
            2,
            personas.bob,
        )

    def test_an_htmx_press_returns_the_waiting_panel(
        self,
        client: Client,
        personas: Personas,
        checked: Build,
        checking: Published,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        login(client, personas.alice)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(check_url(checked), headers=HTMX)

        body = response.content.decode()
        assert response.status_code == 200 and "<html" not in body
        assert "Queued for a worker" in body and "hx-trigger" in body
        assert checking.checks[-1]["attempt"] == 2

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_readers_cannot_run_it(
        self, client: Client, personas: Personas, checked: Build, who: str
    ) -> None:
        response = login(client, getattr(personas, who)).post(check_url(checked))

        assert response.status_code == 403
        assert MarketplaceCheck.objects.get(build=checked).attempt == 1

    def test_a_failed_build_is_refused_with_409(
        self,
        client: Client,
        personas: Personas,
        checking: Published,
        run_published: Any,
        settings: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.failing"
        provider = make_provider(personas.team, **NO_MARKETPLACE_FIELDS)
        with django_capture_on_commit_callbacks(execute=True):
            build = services.build_start(provider=provider, user=None)
        with django_capture_on_commit_callbacks(execute=True):
            run_published()
        login(client, personas.bob)

        partial_page = client.post(check_url(build), headers=HTMX)
        whole_page = client.post(check_url(build))

        assert partial_page.status_code == 409
        assert b"only a succeeded build is checked" in partial_page.content
        assert whole_page.status_code == 409 and b"<html" in whole_page.content
        assert b"only a succeeded build is checked" in whole_page.content

    def test_a_dead_broker_answers_503_in_the_panel(
        self,
        client: Client,
        personas: Personas,
        checked: Build,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(queue, "check_broker", lambda: Check(False, "refused"))

        response = login(client, personas.bob).post(check_url(checked), headers=HTMX)

        assert response.status_code == 503
        assert queue.QUEUE_DOWN.encode() in response.content
        assert MarketplaceCheck.objects.get(build=checked).attempt == 1


def test_the_check_reads_a_stored_artifact(
    built: Build, checking: Published, no_install: None, storage: Path
) -> None:
    assert built.artifact.name and (storage / built.artifact.name).exists()
    package = readiness._package(built)

    assert package == (storage / built.artifact.name).read_bytes()
