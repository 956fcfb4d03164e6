"""Every change between two versions, section by section, with version warnings."""

from __future__ import annotations

from studio.pluginfmt.document import PluginDocument, load_document
from studio.pluginfmt.files import PluginFiles

from .changes import PluginDiff
from .credentials import credential_changes
from .files import file_changes
from .models import model_changes
from .provider import manifest_changes, provider_changes
from .versions import version_warnings
from .views import PluginView, empty_view, plugin_view


def diff_files(base: PluginFiles | None, head: PluginFiles) -> PluginDiff:
    """`diff_documents` of two sets of files (DocumentError if one is unreadable).

    Public API: the entry point for plain files (tests, scripts); the reviews
    app compares cached views through `diff_views`.
    """
    return diff_documents(
        load_document(base) if base is not None else None, load_document(head)
    )


def diff_documents(base: PluginDocument | None, head: PluginDocument) -> PluginDiff:
    """Every change from `base` to `head`, classified (base None: all new)."""
    return diff_views(plugin_view(base) if base else None, plugin_view(head))


def diff_views(base: PluginView | None, head: PluginView) -> PluginDiff:
    """Every change between two views, classified, with version warnings."""
    old = base or empty_view()
    changes = [
        # A first version has no manifest or provider "changes" worth a row
        # each: its models, credential fields and files are what to review.
        *(manifest_changes(old, head) if base else ()),
        *(provider_changes(old, head) if base else ()),
        *credential_changes(old, head, initial=base is None),
        *model_changes(old, head),
        *file_changes(old, head),
    ]
    draft = PluginDiff(
        changes=changes,
        base_version=base.version if base else None,
        head_version=head.version,
        initial=base is None,
    )
    return PluginDiff(
        changes=changes,
        base_version=draft.base_version,
        head_version=draft.head_version,
        initial=draft.initial,
        warnings=version_warnings(
            draft.base_version, draft.head_version, draft.level, draft.suggestion
        ),
    )
