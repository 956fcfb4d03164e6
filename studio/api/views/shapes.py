"""Rows as the API's response bodies."""

from __future__ import annotations

from django.urls import reverse

from studio.builds.models import Build
from studio.catalog.models import ImportJob, Provider
from studio.catalog.services import imports
from studio.pluginfmt.verify import Finding, findings_from_json

from ..schemas import (
    ArtifactOut,
    BuildOut,
    FindingOut,
    ImportOut,
    ProviderOut,
    StepOut,
    jsonable,
)


def provider_out(provider: Provider) -> ProviderOut:
    return ProviderOut(
        id=provider.pk,
        plugin_id=provider.plugin_id,
        author=provider.author,
        name=provider.name,
        version=provider.version,
        label=provider.label,
        provider_key=provider.provider_key,
        runtime=provider.runtime,
        model_types=list(provider.model_types or []),
        configurate_methods=list(provider.configurate_methods or []),
        error_count=provider.error_count,
        warning_count=provider.warning_count,
        lock_version=provider.lock_version,
        created_at=provider.created_at,
        updated_at=provider.updated_at,
    )


def finding_out(finding: Finding) -> FindingOut:
    # jsonable on top of the stored form: a YAML .inf or .nan is no JSON number.
    return FindingOut.model_validate(jsonable(finding.to_json()))


def build_out(build: Build) -> BuildOut:
    artifact = None
    if build.has_artifact:
        artifact = ArtifactOut(
            name=build.artifact_name,
            size=build.size,
            sha256=build.sha256,
            checksum=build.checksum,
            identifier=build.identifier,
            signed=build.signed,
            key_fingerprint=build.display_key_fingerprint,
            download=reverse("api:build-artifact", kwargs={"build_id": build.pk}),
        )
    return BuildOut(
        id=build.pk,
        provider_id=build.provider_id,
        kind=build.kind,
        revision_label=build.revision_label,
        status=build.status,
        finished=build.is_finished,
        run_smoke=build.run_smoke,
        attempt=build.attempt,
        plugin_version=build.plugin_version,
        error=build.error,
        steps=[
            StepOut(
                name=step.name,
                status=step.status,
                started_at=step.started_at,
                finished_at=step.finished_at,
                duration_ms=step.duration_ms,
            )
            for step in build.step_records()
        ],
        findings=[finding_out(f) for f in findings_from_json(build.findings)],
        log_tail=build.log_tail(),
        artifact=artifact,
        created_at=build.created_at,
        started_at=build.started_at,
        finished_at=build.finished_at,
    )


def import_out(job: ImportJob) -> ImportOut:
    return ImportOut(
        id=job.pk,
        status=job.status,
        mode=job.mode,
        finished=job.is_finished,
        source_name=job.source_name,
        source_size=job.source_size,
        plugin_id=job.plugin_id,
        progress=job.progress,
        progress_text=job.progress_text,
        error=job.error,
        provider_id=job.provider_id,
        report=imports.report_of(job),
        created_at=job.created_at,
        finished_at=job.finished_at,
    )
