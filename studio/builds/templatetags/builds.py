"""Template helpers of builds: durations."""

from __future__ import annotations

from datetime import timedelta

from django import template

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
