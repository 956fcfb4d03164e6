"""The Marketplace submission kit of a release: its package placed and named
as `langgenius/dify-plugins` wants it, its release notes, the pull request's
description and checklist answered from the release's pre-check
(`pluginfmt.submission`; docs/marketplace.md, "Submission kit")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from studio.builds.models import Build, MarketplaceCheck
from studio.builds.steps import StepName
from studio.pluginfmt.files import UnsafeInput
from studio.pluginfmt.readers import read_package
from studio.pluginfmt.submission import (
    PrecheckResult,
    Submission,
    UnsafeName,
    kit_filename,
    kit_zip,
)
from studio.pluginfmt.yamlio import load_yaml


class KitUnavailable(Exception):
    """The release has no package to submit (not succeeded, or its file is gone)."""


@dataclass(frozen=True)
class Kit:
    filename: str
    content: bytes


def submission_kit(build: Build) -> Kit:
    """The kit of a release build (KitUnavailable unless it succeeded with a
    package whose manifest names it safely)."""
    if build.kind != Build.Kind.RELEASE:
        raise KitUnavailable(f"Build {build.pk} is not a release.")
    if build.status != Build.Status.SUCCEEDED or not build.has_artifact:
        raise KitUnavailable(
            f"Build {build.pk} {build.status}: only a succeeded release build has "
            "a package to submit. Release the revision again."
        )
    try:
        with build.artifact.open("rb") as stream:
            package = stream.read()
    except FileNotFoundError:
        raise KitUnavailable(
            f"The package of build {build.pk} is gone from storage."
        ) from None
    manifest = _manifest(package)
    author = str(manifest.get("author") or build.provider.author)
    name = str(manifest.get("name") or build.provider.name)
    version = str(manifest.get("version") or build.plugin_version)
    previous = _previous_release(build)
    submission = Submission(
        author=author,
        name=name,
        version=version,
        label=_label(manifest) or name,
        package=package,
        notes=build.release_notes,
        repo=_text(manifest.get("repo")),
        contact=_text(manifest.get("contact")),
        privacy=_text(manifest.get("privacy")),
        update=previous is not None,
        previous_version=previous.plugin_version if previous else "",
        release=f"release {build.revision_label}, build {build.pk}",
        smoke=_smoke(build),
        check=precheck_result(build),
    )
    try:
        return Kit(kit_filename(name, version), kit_zip(submission))
    except UnsafeName as exc:
        raise KitUnavailable(f"The manifest cannot name a submission: {exc}.") from None


def precheck_result(build: Build) -> PrecheckResult:
    """The build's Marketplace pre-check as the kit reports it."""
    check = MarketplaceCheck.objects.filter(build=build).first()
    if check is None:
        return PrecheckResult(state="none", build=build.pk)
    if check.is_active:
        stale = check.is_stale(timezone.now(), settings.MARKETPLACE_CHECK_STALE_SECONDS)
        if stale:
            return PrecheckResult(
                state="failed", build=build.pk, error="its worker was lost"
            )
        return PrecheckResult(state="waiting", build=build.pk)
    if check.status == MarketplaceCheck.Status.FAILED:
        return PrecheckResult(state="failed", build=build.pk, error=check.error)
    blocking: dict[str, int] = {}
    advisory: dict[str, int] = {}
    for finding in check.finding_records():
        into = blocking if finding.severity == "error" else advisory
        into[finding.rule] = into.get(finding.rule, 0) + 1
    install = check.install_result()
    return PrecheckResult(
        state="done",
        build=build.pk,
        blocking=check.blocking_count,
        advisory=check.advisory_count,
        blocking_rules=blocking,
        advisory_rules=advisory,
        install=install.status if install else "",
    )


def _previous_release(build: Build) -> Build | None:
    return (
        Build.objects.filter(
            provider_id=build.provider_id,
            kind=Build.Kind.RELEASE,
            status=Build.Status.SUCCEEDED,
            created_at__lt=build.created_at,
        )
        .exclude(revision_label=build.revision_label)
        .only("plugin_version")
        .order_by("-created_at", "-id")
        .first()
    )


def _manifest(package: bytes) -> dict[str, Any]:
    try:
        data = load_yaml(read_package(package).get("manifest.yaml", b"")).data
    except (UnsafeInput, ValueError):
        raise KitUnavailable("The release's package cannot be read.") from None
    return data if isinstance(data, dict) else {}


def _label(manifest: dict[str, Any]) -> str:
    label = manifest.get("label")
    return _text(label.get("en_US")) if isinstance(label, dict) else _text(label)


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _smoke(build: Build) -> str:
    for step in build.step_records():
        if step.name == StepName.SMOKE:
            return str(step.status)
    return ""
