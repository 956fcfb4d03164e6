"""The revision page's context: the diff against a chosen base, laid out to be
read (filters, counts, jump list), comments in place, decisions and release
builds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, unquote, urlencode

from django.urls import reverse

from studio.builds.models import Build
from studio.builds.selectors import active_signing_key
from studio.catalog.models import Membership, Provider, ProviderBaseline
from studio.catalog.provider_page import provider_context
from studio.lib.http import AuthedHttpRequest
from studio.pluginfmt.diff import (
    Anchor,
    Change,
    DiffFilter,
    DiffGroup,
    DiffOutline,
    FileTextDiff,
    Level,
    PluginDiff,
    PluginView,
    SubjectChanges,
    comment_places,
    is_model_line,
    model_facts,
    outline,
    valid_anchor,
)
from studio.pluginfmt.document import DocumentError
from studio.pluginfmt.files import PluginFiles

from .. import selectors
from ..diff import (
    Base,
    base_view,
    revision_diff,
    revision_text_diff,
    revision_view,
    stored_files,
)
from ..forms import CommentForm, DecisionForm, ReleaseForm
from ..models import REVIEW_ROLES, Revision
from ..release_notes import DraftNotes, draft_release_notes

MAX_QUERY = 100
# Files of the text view shown open; past this many they start folded and the
# jump list leads to them.
OPEN_FILES = 20
MAX_CONTENT = 20_000  # characters of an added or removed model's file shown


@dataclass(frozen=True)
class Compare:
    """What the revision page shows: the base, the view and the filters. Read
    from the query string (or a form's hidden fields); unknown values are
    ignored, so a stale link still opens the page."""

    base: str = ""  # "" default, "none", "baseline" or a revision number
    view: str = ""  # "" the changes, "text" the line diff
    level: str = ""  # breaking, notable, cosmetic
    type: str = ""  # a model type
    q: str = ""  # text in a model id, a place or a message
    path: str = ""  # text in a file path (the text view)

    @classmethod
    def read(cls, data: Mapping[str, str]) -> Compare:
        base = data.get("base", "").strip()
        level = data.get("level", "").strip()
        return cls(
            base=base if base in ("none", "baseline") or base.isdigit() else "",
            view="text" if data.get("view", "") == "text" else "",
            level=level if level in {str(v) for v in Level} else "",
            type=data.get("type", "").strip()[:64],
            q=data.get("q", "").strip()[:MAX_QUERY],
            path=data.get("path", "").strip()[:MAX_QUERY],
        )

    def items(self) -> dict[str, str]:
        """The settings that are set, in the order links show them."""
        return {k: v for k, v in self.__dict__.items() if v}

    def query(self, **changes: str) -> str:
        """`?base=2&level=notable`: these settings with `changes` applied."""
        items = replace(self, **changes).items()
        return f"?{urlencode(items)}" if items else ""

    @property
    def filtered(self) -> bool:
        if self.view == "text":
            return bool(self.path)
        return bool(self.level or self.type or self.q)

    @property
    def diff_filter(self) -> DiffFilter:
        return DiffFilter(
            level=Level(self.level) if self.level else None,
            model_type=self.type,
            text=self.q,
        )


def revision_url(revision: Revision, **query: str) -> str:
    """The revision page's address, with the compare settings that are set."""
    url = reverse(
        "reviews:revision-detail",
        kwargs={"provider_id": revision.provider_id, "number": revision.number},
    )
    return url + Compare.read(query).query()


def posted_compare(request: AuthedHttpRequest) -> dict[str, str]:
    """The compare settings a form posts back, so the page comes back the same."""
    return Compare.read(request.POST).items()


def anchor_param(anchor: Anchor) -> str:
    """An anchor as a query value: its parts, each percent-encoded, joined by
    "/" (`model/llm/gpt-4o/pricing`; a "/" in a model id is `%2F`)."""
    return "/".join(quote(part, safe="") for part in anchor)


def comment_target(data: Mapping[str, str], key: str = "comment") -> Anchor | None:
    """The place `?comment=model/llm/gpt-4o/pricing` opens a comment form at,
    if valid (`key` "anchor": the JSON anchor a change's comment form posted;
    the place picker's values are not JSON, its form stays where it is)."""
    raw = data.get(key, "")
    if not raw:
        return None
    if key == "anchor":
        try:
            anchor: Any = json.loads(raw)
        except ValueError:
            return None
    else:
        anchor = [unquote(part) for part in raw.split("/")]
    return tuple(anchor) if valid_anchor(anchor) else None


@dataclass(frozen=True)
class Row:
    """One change as the page shows it."""

    change: Change
    id: str  # the element id, `c-<n>` by the change's place in the whole diff
    comment_url: str  # the page with a comment form open at this change
    commenting: bool  # the form is open here

    @property
    def text(self) -> str:
        """The message without the subject its group is headed with."""
        message = self.change.message
        prefix = _subject_words(self.change.subject)
        if prefix and message.startswith(prefix + " "):
            return message[len(prefix) + 1 :]
        return message


def _subject_words(subject: Anchor) -> str:
    # How pluginfmt's messages start: "llm model gpt-4o …".
    if subject[:1] == ("model",) and len(subject) == 3:
        return f"{subject[1]} model {subject[2]}"
    return ""


@dataclass(frozen=True)
class Subject:
    """A subject's changes with the comments pinned to it; an added or removed
    model (`line`) also has its facts and its file's text."""

    changes: SubjectChanges
    rows: list[Row]
    comments: list[selectors.CommentView]
    line: bool = False
    facts: str = ""
    path: str = ""
    content: str = ""

    @property
    def model_id(self) -> str:
        return self.changes.subject[2] if len(self.changes.subject) > 2 else ""


@dataclass(frozen=True)
class Group:
    """A section, or the models of one type, as the page shows it."""

    group: DiffGroup
    subjects: list[Subject] = field(default_factory=list)
    added: list[Subject] = field(default_factory=list)
    removed: list[Subject] = field(default_factory=list)


def _pick_base(
    revision: Revision,
    revisions: list[Revision],
    baseline: ProviderBaseline | None,
    raw: str,
) -> tuple[Base | None, str, bool]:
    """The base asked for (`?base=<n>`, `baseline` or `none`), else (also when
    it does not exist) the default; the value the compare form shows; and
    whether it is the default."""
    if raw == "none":
        return None, "none", False
    if raw == "baseline" and baseline is not None:
        return baseline, "baseline", False
    if raw.isdigit():
        for other in revisions:
            if other.number == int(raw):
                return other, raw, False
    base = default_base(revision, revisions, baseline)
    return base, _base_value(base), True


def _base_value(base: Base | None) -> str:
    if base is None:
        return "none"
    return str(base.number) if isinstance(base, Revision) else "baseline"


def default_base(
    revision: Revision, revisions: list[Revision], baseline: ProviderBaseline | None
) -> Base | None:
    """`selectors.default_base` from the revisions already read (no query)."""
    earlier = [r for r in revisions if r.number < revision.number]
    approved = [r for r in earlier if r.is_approved]
    if approved:
        return max(approved, key=lambda r: r.number)
    if earlier:
        return max(earlier, key=lambda r: r.number)
    return baseline


class _Layout:
    """Builds the page's rows from an outline (one pass, no query)."""

    def __init__(
        self,
        *,
        diff: PluginDiff,
        compare: Compare,
        here: str,
        comments: list[selectors.CommentView],
        target: Anchor | None,
        base_side: tuple[PluginView | None, PluginFiles | None],
        head_side: tuple[PluginView, PluginFiles],
    ) -> None:
        self.index = {id(c): i for i, c in enumerate(diff.changes)}
        self.prefix = f"{here}{compare.query()}"
        self.joiner = "&" if "?" in self.prefix else "?"
        self.target = target
        self.target_taken = False
        self.pinned: dict[Anchor, list[selectors.CommentView]] = {}
        for cv in comments:
            if cv.comment.anchor:
                self.pinned.setdefault(cv.subject, []).append(cv)
        self.placed: set[int] = set()
        self.base_side = base_side
        self.head_side = head_side

    def rows(self, group: SubjectChanges) -> list[Row]:
        out = []
        for change in group.changes:
            row_id = f"c-{self.index[id(change)]}"
            anchor = quote(anchor_param(change.anchor), safe="/")
            open_here = (
                not self.target_taken
                and self.target is not None
                and change.anchor == self.target
            )
            self.target_taken = self.target_taken or open_here
            out.append(
                Row(
                    change=change,
                    id=row_id,
                    comment_url=f"{self.prefix}{self.joiner}comment={anchor}#{row_id}",
                    commenting=open_here,
                )
            )
        return out

    def subject(self, group: SubjectChanges) -> Subject:
        pinned = self.pinned.get(group.subject, [])
        self.placed.update(cv.comment.pk for cv in pinned)
        if not is_model_line(group):
            return Subject(group, self.rows(group), pinned)
        change = group.changes[0]
        view, files = self.head_side if change.kind == "added" else self.base_side
        summary = change.new if change.kind == "added" else change.old
        path = ""
        content = ""
        if view is not None and files is not None:
            path = view.model_paths.get((group.subject[1], group.subject[2]), "")
            raw = files.get(path, b"")
            content = raw.decode("utf-8", "replace")
            if len(content) > MAX_CONTENT:
                content = content[:MAX_CONTENT] + "\n… (cut: see the file)"
        return Subject(
            group,
            self.rows(group),
            pinned,
            line=True,
            facts=model_facts(summary) if isinstance(summary, dict) else "",
            path=path,
            content=content,
        )

    def groups(self, layout: DiffOutline) -> list[Group]:
        return [
            Group(
                group=g,
                subjects=[self.subject(s) for s in g.subjects],
                added=[self.subject(s) for s in g.added],
                removed=[self.subject(s) for s in g.removed],
            )
            for g in layout.groups
        ]


def _text_files(text: list[FileTextDiff], compare: Compare) -> list[FileTextDiff]:
    needle = compare.path.casefold()
    return [f for f in text if needle in f.path.casefold()] if needle else text


def revision_context(
    request: AuthedHttpRequest,
    revision: Revision,
    provider: Provider,
    membership: Membership,
    *,
    compare: Compare | None = None,
    comment_at: Anchor | None = None,
    **extra: Any,
) -> dict[str, Any]:
    compare = compare or Compare()
    revisions = selectors.revisions_for_provider(provider)
    baseline = selectors.baseline_of(provider)
    base, base_value, is_default = _pick_base(
        revision, revisions, baseline, compare.base
    )
    mode = "text" if compare.view == "text" else "changes"
    head_view: PluginView | None = None
    diff = None
    diff_error = ""
    text: list[FileTextDiff] = []
    try:
        head_view = revision_view(revision)
        diff = revision_diff(base=base, head=revision).diff
        if mode == "text":
            text = revision_text_diff(base=base, head=revision)
    except DocumentError as exc:
        diff_error = f"This revision's files cannot be compared: {exc}"
    comments = selectors.comments_for_revision(revision, head_view)
    here = reverse(
        "reviews:revision-detail",
        kwargs={"provider_id": provider.pk, "number": revision.number},
    )
    layout: DiffOutline | None = None
    groups: list[Group] = []
    placed: set[int] = set()
    if diff is not None and head_view is not None and mode == "changes":
        layout = outline(diff, compare.diff_filter)
        builder = _Layout(
            diff=diff,
            compare=compare,
            here=here,
            comments=comments,
            target=comment_at,
            base_side=(
                base_view(base),
                stored_files(base) if base is not None else None,
            ),
            head_side=(head_view, stored_files(revision)),
        )
        groups = builder.groups(layout)
        placed = builder.placed
    type_options = list(layout.type_counts) if layout else []
    if compare.type and compare.type not in dict(type_options):
        type_options.append((compare.type, 0))
    shown_files = _text_files(text, compare)
    can_review = membership.role in REVIEW_ROLES
    own = revision.submitted_by_id == request.user.pk
    can_release = membership.can_edit and revision.is_approved
    # The release form starts from the generated notes (an invalid post keeps
    # what was typed; "Regenerate notes" passes fresh ones in `release_form`).
    notes: DraftNotes | None = extra.pop("notes", None)
    release_form = extra.pop("release_form", None)
    if can_release and (notes is None or release_form is None):
        notes = notes or draft_release_notes(revision, baseline)
        release_form = release_form or ReleaseForm(initial={"notes": notes.text})
    return provider_context(
        provider,
        membership,
        "reviews",
        revision=revision,
        revisions=revisions,
        baseline=baseline,
        base=base,
        base_is_baseline=isinstance(base, ProviderBaseline),
        base_value=base_value,
        is_default_base=is_default,
        compare=compare,
        keep=compare.items(),
        here=here,
        mode=mode,
        diff=diff,
        diff_error=diff_error,
        outline=layout,
        groups=groups,
        level_links=_level_links(here, compare, layout),
        type_options=type_options,
        clear_url=f"{here}{compare.query(level='', type='', q='', path='')}",
        text=shown_files,
        text_total=len(text),
        open_files=len(shown_files) <= OPEN_FILES,
        comment_at=comment_at,
        comments=comments,
        # The text view has no places to pin comments to: all of them go below,
        # as do those whose change the filters hide.
        other_comments=[c for c in comments if c.comment.pk not in placed],
        # One place per model: a change's own place is behind its Comment link
        # (six per model would weigh 300 KiB on a 300-model plugin).
        places=[
            (anchor_param(anchor), label)
            for anchor, label in (
                comment_places(head_view, model_details=False) if head_view else []
            )
        ],
        decisions=list(revision.decisions.all()),
        approvers=revision.approvers(),
        change_requests=revision.change_requests(),
        can_review=can_review,
        can_approve=can_review and revision.is_open and not own,
        own=own,
        can_release=can_release,
        notes=notes,
        release_builds=list(
            Build.objects.filter(
                provider=provider,
                kind=Build.Kind.RELEASE,
                revision_label=revision.label,
            )
            .defer("steps", "findings", "smoke", "events")
            .order_by("-created_at", "-id")
        ),
        signing_key=active_signing_key(provider.team),
        comment_form=extra.pop("comment_form", None) or CommentForm(),
        decision_form=extra.pop("decision_form", None) or DecisionForm(),
        release_form=release_form or ReleaseForm(),
        **extra,
    )


@dataclass(frozen=True)
class LevelLink:
    """A filter link by class: `Notable (3)`."""

    level: str  # "" for all
    label: str
    count: int
    url: str
    current: bool


def _level_links(
    here: str, compare: Compare, layout: DiffOutline | None
) -> list[LevelLink]:
    if layout is None:
        return []
    counts = layout.level_counts
    links = [
        LevelLink(
            "",
            "All",
            sum(counts.values()),
            here + compare.query(level=""),
            compare.level == "",
        )
    ]
    links.extend(
        LevelLink(
            str(level),
            str(level).capitalize(),
            counts[str(level)],
            here + compare.query(level=str(level)),
            compare.level == str(level),
        )
        for level in Level
    )
    return links
