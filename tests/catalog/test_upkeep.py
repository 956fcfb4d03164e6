"""Beat's upkeep of the catalog: abandoned imports and their uploads, old
invitations. Each on rows it must and must not touch, twice, and twice at once."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from studio.catalog import tasks
from studio.catalog.models import ImportJob, Invitation, Role, Team
from studio.catalog.services import import_jobs, members
from studio.catalog.services.import_jobs import ImportsExpired
from tests.catalog.conftest import Personas
from tests.concurrency import run_at_once

HOURS = 24


@pytest.fixture
def storage(settings: Any, tmp_path: Path) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "storage")},
        },
    }
    settings.IMPORT_ABANDONED_HOURS = HOURS


def stored(name: str) -> str:
    return default_storage.save(f"imports/{name}.zip", ContentFile(b"PK fake zip"))


def make_job(
    team: Team, *, status: str, age: timedelta, upload: str = "", **fields: Any
) -> ImportJob:
    return ImportJob.objects.create(
        team=team,
        status=status,
        source_name=f"{upload or 'none'}.zip",
        source_path=stored(upload) if upload else "",
        created_at=timezone.now() - age,
        **fields,
    )


def state(job: ImportJob) -> tuple[str, str, bool]:
    job.refresh_from_db()
    path = job.source_path
    return job.status, path, bool(path) and default_storage.exists(path)


@pytest.mark.usefixtures("storage")
class TestImportJobsExpire:
    def test_abandoned_jobs_are_given_up_and_their_uploads_deleted(
        self, personas: Personas
    ) -> None:
        old, recent = timedelta(hours=HOURS + 1), timedelta(hours=HOURS - 1)
        waiting = make_job(
            personas.team, status="needs-choice", age=old, upload="waiting"
        )
        theirs = make_job(
            personas.other_team, status="needs-choice", age=old, upload="theirs"
        )
        stuck = make_job(personas.team, status="queued", age=old, upload="stuck")
        lost = make_job(personas.team, status="running", age=old, upload="lost")
        choosing = make_job(
            personas.team, status="needs-choice", age=recent, upload="choosing"
        )
        their_recent = make_job(
            personas.other_team, status="queued", age=recent, upload="their-recent"
        )
        done = make_job(personas.team, status="done", age=old)
        paths = {
            job.pk: job.source_path
            for job in (waiting, theirs, stuck, lost, choosing, their_recent)
        }

        result = import_jobs.import_jobs_expire()

        assert result == ImportsExpired(cancelled=2, failed=2, stray_uploads=0)
        for job in (waiting, theirs):
            assert state(job) == ("cancelled", "", False)
            assert "no choice was made within 24 hours" in job.error
            assert job.finished_at is not None
            assert not default_storage.exists(paths[job.pk])
        for job in (stuck, lost):
            assert state(job) == ("failed", "", False)
            assert "no worker finished this import" in job.error
            assert not default_storage.exists(paths[job.pk])
        assert state(choosing) == ("needs-choice", paths[choosing.pk], True)
        assert state(their_recent) == ("queued", paths[their_recent.pk], True)
        assert state(done) == ("done", "", False)

    def test_a_second_run_finds_nothing_to_do(self, personas: Personas) -> None:
        old = timedelta(hours=HOURS + 1)
        job = make_job(personas.team, status="needs-choice", age=old, upload="a")
        first = import_jobs.import_jobs_expire()
        job.refresh_from_db()
        finished_at = job.finished_at

        second = import_jobs.import_jobs_expire()

        assert first.cancelled == 1
        assert second == ImportsExpired(cancelled=0, failed=0, stray_uploads=0)
        job.refresh_from_db()
        assert job.finished_at == finished_at

    def test_stray_uploads_go_once_old_and_named_uploads_stay(
        self, personas: Personas
    ) -> None:
        later = timezone.now() + timedelta(hours=HOURS + 1)
        stray = stored("stray")
        # Waiting for a choice, made just before `later`: its upload stays.
        named = ImportJob.objects.create(
            team=personas.other_team,
            status="needs-choice",
            source_path=stored("named"),
            created_at=later - timedelta(hours=1),
        )

        assert import_jobs.import_jobs_expire().stray_uploads == 0  # all recent
        assert default_storage.exists(stray)

        result = import_jobs.import_jobs_expire(now=later)

        assert result == ImportsExpired(cancelled=0, failed=0, stray_uploads=1)
        assert not default_storage.exists(stray)
        assert state(named) == ("needs-choice", named.source_path, True)

    def test_a_file_already_gone_is_no_error(self, personas: Personas) -> None:
        old = timedelta(hours=HOURS + 1)
        job = make_job(personas.team, status="needs-choice", age=old, upload="gone")
        default_storage.delete(job.source_path)

        assert import_jobs.import_jobs_expire().cancelled == 1
        assert state(job) == ("cancelled", "", False)

    def test_a_choice_after_expiry_is_refused_cleanly(self, personas: Personas) -> None:
        old = timedelta(hours=HOURS + 1)
        job = make_job(personas.team, status="needs-choice", age=old, upload="late")
        stale_copy = ImportJob.objects.get(pk=job.pk)
        import_jobs.import_jobs_expire()

        with pytest.raises(import_jobs.ImportFailed, match="not waiting for a choice"):
            import_jobs.import_job_choose(
                job=stale_copy, choice=import_jobs.Choice(mode="copy")
            )
        assert state(job) == ("cancelled", "", False)

    def test_the_task_logs_its_counts(
        self, personas: Personas, caplog: pytest.LogCaptureFixture
    ) -> None:
        old = timedelta(hours=HOURS + 1)
        make_job(personas.team, status="needs-choice", age=old, upload="a")
        make_job(personas.team, status="queued", age=old, upload="b")
        with caplog.at_level(logging.INFO, logger="studio.catalog.tasks"):
            tasks.import_jobs_expire.run()
        [record] = [r for r in caplog.records if r.name == "studio.catalog.tasks"]
        assert record.getMessage() == (
            "upkeep: imports: 1 cancelled, 1 failed, 0 stray upload(s) deleted"
        )
        assert record.count == 2  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("storage")
def test_two_runs_at_once_give_up_each_job_once(personas: Personas) -> None:
    old = timedelta(hours=HOURS + 1)
    jobs = [
        make_job(team, status="needs-choice", age=old, upload=f"job-{i}")
        for i, team in enumerate([personas.team, personas.other_team] * 10)
    ]
    paths = [job.source_path for job in jobs]

    results = run_at_once(import_jobs.import_jobs_expire)

    assert sum(r.cancelled for r in results) == 20
    assert sum(r.failed + r.stray_uploads for r in results) == 0
    assert set(
        ImportJob.objects.filter(pk__in=[j.pk for j in jobs]).values_list(
            "status", "source_path"
        )
    ) == {("cancelled", "")}
    assert not any(default_storage.exists(path) for path in paths)


# ------------------------------------------------------------------ invitations

KEEP_DAYS = 30


def make_invitation(team: Team, email: str, **fields: Any) -> Invitation:
    now = timezone.now()
    values: dict[str, Any] = {
        "expires_at": now + timedelta(days=7),
        "created_at": now - timedelta(days=1),
        **fields,
    }
    return Invitation.objects.create(
        team=team,
        email=email,
        role=Role.AUTHOR,
        prefix=email.split("@")[0][:16],
        secret_hash="0" * 64,
        **values,
    )


class TestInvitationsPurge:
    @pytest.fixture(autouse=True)
    def keep_days(self, settings: Any) -> None:
        settings.EXPIRED_KEEP_DAYS = KEEP_DAYS

    def test_only_invitations_that_stopped_working_long_ago_go(
        self, personas: Personas
    ) -> None:
        now = timezone.now()
        long_ago = now - timedelta(days=KEEP_DAYS + 1)
        lately = now - timedelta(days=KEEP_DAYS - 1)
        gone = [
            make_invitation(personas.team, "expired@x.test", expires_at=long_ago),
            make_invitation(personas.other_team, "revoked@x.test", revoked_at=long_ago),
        ]
        kept = [
            make_invitation(personas.team, "lately@x.test", expires_at=lately),
            make_invitation(personas.other_team, "unrevoked@x.test", revoked_at=lately),
            make_invitation(personas.other_team, "pending@x.test"),
            make_invitation(
                personas.team,
                "accepted@x.test",
                expires_at=long_ago,
                accepted_at=long_ago - timedelta(days=1),
                accepted_by=personas.bob,
            ),
        ]

        assert members.invitations_purge() == 2

        remaining = set(Invitation.objects.values_list("pk", flat=True))
        assert remaining == {i.pk for i in kept}
        assert not remaining & {i.pk for i in gone}

    def test_a_second_run_deletes_nothing(self, personas: Personas) -> None:
        long_ago = timezone.now() - timedelta(days=KEEP_DAYS + 1)
        make_invitation(personas.team, "old@x.test", expires_at=long_ago)
        assert members.invitations_purge() == 1
        assert members.invitations_purge() == 0

    def test_the_task_logs_its_count(
        self, personas: Personas, caplog: pytest.LogCaptureFixture
    ) -> None:
        long_ago = timezone.now() - timedelta(days=KEEP_DAYS + 1)
        make_invitation(personas.team, "old@x.test", expires_at=long_ago)
        with caplog.at_level(logging.INFO, logger="studio.catalog.tasks"):
            tasks.invitations_purge.run()
        assert "upkeep: deleted 1 old invitation(s)" in caplog.messages


@pytest.mark.django_db(transaction=True)
def test_two_purges_at_once_delete_each_invitation_once(
    personas: Personas, settings: Any
) -> None:
    settings.EXPIRED_KEEP_DAYS = KEEP_DAYS
    long_ago = timezone.now() - timedelta(days=KEEP_DAYS + 1)
    for i in range(30):
        make_invitation(personas.team, f"old{i}@x.test", expires_at=long_ago)
    kept = make_invitation(personas.other_team, "pending@x.test")

    results = run_at_once(members.invitations_purge)

    assert sum(results) == 30
    assert list(Invitation.objects.values_list("pk", flat=True)) == [kept.pk]
