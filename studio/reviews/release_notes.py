"""Release notes of a revision, generated from the schema-aware diff with the
provider's previous release (docs/reviews.md, "Release notes").

The previous release is the newest revision before this one that has a
succeeded release build. A first release is compared with the provider's
baseline (the files it entered the studio with); without one it is a "first
release" and the notes list its models. The notes are Markdown without the
`## Release Notes` heading: the release form edits them, the release build
stores them (`Build.release_notes`), and downloads add the heading.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.builds.models import Build
from studio.catalog.models import ProviderBaseline
from studio.pluginfmt.diff import release_notes
from studio.pluginfmt.document import DocumentError

from .diff import Base, base_view, revision_diff, revision_view
from .models import Revision

MAX_NOTES = 20_000  # characters: a page of notes, far more than any release needs


@dataclass(frozen=True)
class NotesBase:
    """What a release's notes compare with, and how the notes say it."""

    base: Base | None
    since: str | None  # the words after "Changes since"; None: a first release
    previous: Revision | None  # the previous release's revision


def previous_release(revision: Revision) -> Revision | None:
    """The newest earlier revision of the provider with a succeeded release build."""
    labels = (
        Build.objects.filter(
            provider_id=revision.provider_id,
            kind=Build.Kind.RELEASE,
            status=Build.Status.SUCCEEDED,
        )
        .exclude(revision_label=revision.label)
        .values_list("revision_label", flat=True)
        .distinct()
    )
    numbers = [
        int(label[1:])
        for label in labels
        if label.startswith("r") and label[1:].isdigit()
    ]
    earlier = [n for n in numbers if n < revision.number]
    if not earlier:
        return None
    return (
        Revision.objects.filter(provider_id=revision.provider_id, number=max(earlier))
        .select_related("source")
        .first()
    )


def notes_base(revision: Revision, baseline: ProviderBaseline | None) -> NotesBase:
    """The previous release, else the baseline (`baseline`: the provider's, if
    any), else nothing (a first release)."""
    previous = previous_release(revision)
    if previous is not None:
        return NotesBase(
            previous,
            f"{previous.version or 'the previous release'}, the previous release "
            f"({previous.label})",
            previous,
        )
    if baseline is not None:
        day = f"{baseline.created_at:%Y-%m-%d}"
        version = (
            f", version {baseline.plugin_version}" if baseline.plugin_version else ""
        )
        what = "imported into" if baseline.kind == "imported" else "created in"
        return NotesBase(
            baseline,
            f"the plugin as {what} the studio on {day}{version} (there is no "
            "earlier release)",
            None,
        )
    return NotesBase(None, None, None)


@dataclass(frozen=True)
class DraftNotes:
    """Generated release notes and what they compare with."""

    text: str
    compared: NotesBase


def draft_release_notes(
    revision: Revision, baseline: ProviderBaseline | None
) -> DraftNotes:
    """The generated notes of releasing `revision` (Markdown, no top heading)."""
    version = revision.version
    found = notes_base(revision, baseline)
    try:
        head = revision_view(revision)
        diff = revision_diff(base=found.base, head=revision).diff
        text = release_notes(
            diff,
            version=version,
            since=found.since,
            head=head,
            base=base_view(found.base),
        )
    except DocumentError as exc:
        text = f"### {version}\n\nThe changes could not be listed: {exc}\n"
    return DraftNotes(text, found)


def clean_notes(text: str) -> str:
    """Notes as stored: Unix line ends, no blank lines around them."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip() + "\n"
