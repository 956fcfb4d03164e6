"""Durations as people read them: "340 ms", "8.4 s", "42 s", "1 m 12 s", "2 h 5 m"."""

from __future__ import annotations

from datetime import timedelta


def format_duration(value: timedelta | float | None) -> str:
    """A short duration for pages and the command line; "" for None."""
    if value is None:
        return ""
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    seconds = max(0.0, float(seconds))
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 9.95:  # one decimal would round to "10.0 s"
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} m {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} m"
