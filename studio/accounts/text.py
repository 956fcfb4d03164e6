"""Durations in words, for pages and mail."""

from __future__ import annotations

from datetime import timedelta


def duration_text(duration: timedelta) -> str:
    """'15 minutes', '1 hour 30 minutes', '3 days' (rounded to the minute)."""
    minutes = max(1, round(duration.total_seconds() / 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{count} {unit}{'s' if count != 1 else ''}"
        for count, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if count
    ]
    return " ".join(parts)
