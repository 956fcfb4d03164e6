"""Reads of builds and keys that pages and the command line share."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse

from studio.catalog.models import Provider, Team

from .models import Build, SigningKey
from .smoke.tracebacks import Frame, parse_traceback

HISTORY_LENGTH = 50


def provider_builds(provider: Provider, limit: int = HISTORY_LENGTH) -> list[Build]:
    """The provider's latest builds, newest first."""
    return list(
        Build.objects.filter(provider=provider)
        .select_related("created_by", "signing_key")
        .defer("steps", "findings", "smoke", "events")
        .order_by("-created_at", "-id")[:limit]
    )


def active_signing_key(team: Team) -> SigningKey | None:
    """The key the team's builds are signed with, if any."""
    return SigningKey.objects.filter(team=team, is_active=True).first()


def dev_artifacts_keep() -> int:
    return max(1, settings.BUILD_DEV_ARTIFACTS_KEEP)


# ---------------------------------------------------------------- smoke checks


@dataclass(frozen=True)
class TracebackRow:
    """A line of a traceback as the build page shows it."""

    text: str
    frame: Frame | None = None
    url: str = ""  # the frame's file and line in the editor, when it links

    @property
    def around_path(self) -> tuple[str, str]:
        """The line's text before and after the frame's file path."""
        if self.frame is None:
            return self.text, ""
        at = self.text.find(self.frame.path)
        if at < 0:
            return self.text, ""
        return self.text[:at], self.text[at + len(self.frame.path) :]

    @property
    def before_path(self) -> str:
        return self.around_path[0]

    @property
    def after_path(self) -> str:
        return self.around_path[1]


@dataclass(frozen=True)
class SmokeCheckRow:
    """One smoke check on the build page, its traceback read into frames."""

    name: str
    status: str
    detail: str
    traceback: list[TracebackRow]

    @property
    def plugin_frames(self) -> list[TracebackRow]:
        """The frames in the plugin's own files, each once, in traceback order."""
        seen: set[tuple[str, int]] = set()
        rows = []
        for row in self.traceback:
            if row.frame is None or row.frame.plugin_path is None:
                continue
            key = (row.frame.plugin_path, row.frame.line)
            if key not in seen:
                seen.add(key)
                rows.append(row)
        return rows


def smoke_checks(build: Build) -> list[SmokeCheckRow]:
    """The build's smoke checks; a traceback's frames in the plugin link to the
    editor at their line when the build is of the working draft and the file
    is still there. A release build's frames stay text: a revision's files
    have no file view (its diff is on the revision's page)."""
    # Read leniently: a stand-in runner (settings.BUILD_SMOKE_RUNNER) may
    # store less than a SmokeReport.
    smoke = build.smoke if isinstance(build.smoke, dict) else {}
    checks = [c for c in smoke.get("checks") or [] if isinstance(c, dict)]
    plugin_dir = str(smoke.get("plugin_dir") or "")
    parsed = [
        parse_traceback(str(c.get("traceback") or ""), plugin_dir) for c in checks
    ]
    wanted = {
        line.frame.plugin_path
        for lines in parsed
        for line in lines
        if line.frame is not None and line.frame.plugin_path is not None
    }
    paths: set[str] = set()
    if wanted and build.kind == Build.Kind.DEV:
        paths = set(
            build.provider.files.filter(path__in=wanted).values_list("path", flat=True)
        )
    view = reverse("catalog:provider-file", kwargs={"provider_id": build.provider_id})
    rows = []
    for check, lines in zip(checks, parsed, strict=True):
        traceback = []
        for line in lines:
            url = ""
            frame = line.frame
            if frame is not None and frame.plugin_path in paths:
                path = quote(str(frame.plugin_path), safe="/")
                url = f"{view}?path={path}&line={frame.line}"
            traceback.append(TracebackRow(line.text, frame, url))
        rows.append(
            SmokeCheckRow(
                name=str(check.get("name") or ""),
                status=str(check.get("status") or ""),
                detail=str(check.get("detail") or ""),
                traceback=traceback,
            )
        )
    return rows
