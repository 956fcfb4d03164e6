"""Workflows of reviews: submit, decide, comment, release, settings."""

from __future__ import annotations

from .comments import InvalidAnchor, comment_create, comment_reply, comment_resolve
from .releases import NotApproved, kit_download_record, release_start
from .revisions import (
    NothingToSubmit,
    RevisionClosed,
    SelfApproval,
    revision_decide,
    revision_submit,
)
from .roles import NotAllowed, require_role
from .team_settings import review_settings_update

__all__ = [
    "InvalidAnchor",
    "NotAllowed",
    "NotApproved",
    "NothingToSubmit",
    "RevisionClosed",
    "SelfApproval",
    "comment_create",
    "comment_reply",
    "comment_resolve",
    "kit_download_record",
    "release_start",
    "require_role",
    "review_settings_update",
    "revision_decide",
    "revision_submit",
]
