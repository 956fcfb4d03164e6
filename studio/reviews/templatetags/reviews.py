"""Template helpers of reviews: anchors as form values, the inbox link."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from studio.lib.markdown import render_markdown
from studio.pluginfmt.diff import anchor_label

from ..selectors import inbox_counts

register = template.Library()


@register.filter
def anchor_json(anchor: Any) -> str:
    """An anchor (tuple or list of strings) as the JSON a comment form posts."""
    return json.dumps(list(anchor or ()), ensure_ascii=False)


@register.inclusion_tag("reviews/_nav.html", takes_context=True)
def reviews_nav(context: template.Context) -> dict[str, Any]:
    """The navigation's link to the review inbox, with its counts."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    to_review, returned = inbox_counts(user)
    return {"show": True, "to_review": to_review, "returned": returned}


@register.filter(name="anchor_label")
def anchor_label_filter(anchor: Any) -> str:
    """The human name of an anchor's place."""
    return anchor_label(tuple(anchor or ()))


@register.filter
def release_notes_html(notes: str) -> SafeString:
    """Stored release notes for a page, through the studio's sanitising
    Markdown renderer (`studio.lib.markdown.render_markdown`: nh3, never raw
    HTML)."""
    return format_html(
        '<div class="release-notes-text">{}</div>', render_markdown(notes)
    )
