"""Template helpers of builds: durations, long values that wrap cleanly."""

from __future__ import annotations

import re
from datetime import timedelta

from django import template
from django.utils.html import escape, format_html_join
from django.utils.safestring import SafeString

from studio.lib.durations import format_duration

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """A timedelta as "8.4 s" or "1 m 12 s"."""
    return format_duration(value)


@register.filter
def duration_ms(value: int | None) -> str:
    """Milliseconds (a step's `duration_ms`) the same way."""
    return "" if value is None else format_duration(value / 1000)


@register.filter
def breakable(value: str) -> SafeString:
    """The value with line-break opportunities after `:`, `/` and `@`, so a
    fingerprint wraps between its pairs and an identifier at its parts (the
    text, and what is copied, stay the same)."""
    *parts, last = re.split(r"(?<=[:/@])", value)
    return format_html_join("", "{}<wbr>", ((part,) for part in parts)) + escape(last)
