"""Schema-aware comparison of two versions of a model plugin.

`diff_documents(base, head)` compares two `PluginDocument`s section by section
(manifest, provider, credential forms, models, positions, other files) and
classifies every change by what it does to the people who installed the
older version:

- **breaking**: saved credentials or model configurations stop working (a
  credential variable removed or renamed, a field or parameter made required,
  a type changed, a model or a parameter rule removed, a model or provider id
  changed, a parameter range narrowed, a feature or option removed);
- **notable**: behaviour or cost changes but saved settings keep working
  (prices, context size, defaults, new models, fields and rules, code);
- **cosmetic**: what people read, not what runs (labels, descriptions,
  icons, order).

From the highest class it suggests the next version (major / minor / patch)
and warns when the manifest version was not bumped, or bumped too little.
`text_diff` gives the line diff of every changed file, as a second view.
`release_notes(diff, ...)` keeps what users of a release act on (models
added, removed, deprecated; prices; limits; breaking credential changes) as
Markdown sentences under headings.
`outline(diff, DiffFilter(...))` lays a big diff out to be read: filtered by
class, model type and text, counted per class and type, grouped by section
and model type, with added and removed models on one line each.

Every change names its place with an *anchor*, a tuple of strings such as
`("model", "llm", "gpt-4o", "pricing", "input")`; `value_at(view, anchor)`
reads the value there, so a review comment can remember what it was about and
notice when that value changed in a later version.
"""

from __future__ import annotations

from .changes import SECTIONS, Change, PluginDiff, SubjectChanges, group_by_subject
from .compare import diff_documents, diff_files, diff_views
from .levels import BUMP_FOR_LEVEL, BUMP_RANK, LEVEL_RANK, Bump, Level
from .models import model_facts
from .notes import HEADINGS as NOTE_HEADINGS
from .notes import NoteItem, note_items, release_notes
from .outline import (
    DiffFilter,
    DiffGroup,
    DiffOutline,
    change_model_type,
    is_model_line,
    outline,
)
from .text import MAX_TEXT_LINES, FileTextDiff, TextLine, text_diff
from .values import MISSING, Anchor
from .versions import bump_version, parse_version, version_bump
from .views import (
    PluginView,
    anchor_label,
    comment_places,
    empty_view,
    plugin_view,
    subject_of,
    valid_anchor,
    value_at,
    value_digest,
)

__all__ = [
    "BUMP_FOR_LEVEL",
    "BUMP_RANK",
    "LEVEL_RANK",
    "MAX_TEXT_LINES",
    "MISSING",
    "NOTE_HEADINGS",
    "SECTIONS",
    "Anchor",
    "Bump",
    "Change",
    "DiffFilter",
    "DiffGroup",
    "DiffOutline",
    "FileTextDiff",
    "Level",
    "NoteItem",
    "PluginDiff",
    "PluginView",
    "SubjectChanges",
    "TextLine",
    "anchor_label",
    "bump_version",
    "change_model_type",
    "comment_places",
    "diff_documents",
    "diff_files",
    "diff_views",
    "empty_view",
    "group_by_subject",
    "is_model_line",
    "model_facts",
    "note_items",
    "outline",
    "parse_version",
    "plugin_view",
    "release_notes",
    "subject_of",
    "text_diff",
    "valid_anchor",
    "value_at",
    "value_digest",
    "version_bump",
]
