"""The colour theme a visitor picked: `system` (follow prefers-color-scheme),
`light` or `dark`, kept in a cookie so it applies before login and the page
is rendered with it (no flash of the other theme)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

THEMES = ("system", "light", "dark")
THEME_COOKIE = "studio_theme"
THEME_COOKIE_AGE = 365 * 24 * 3600


def chosen_theme(request: HttpRequest) -> str:
    """The visitor's theme, `system` when none (or an unknown one) is set."""
    theme = request.COOKIES.get(THEME_COOKIE, "system")
    return theme if theme in THEMES else "system"


def theme(request: HttpRequest) -> dict[str, Any]:
    """Context processor: `theme` for `<html data-theme>` and the switch."""
    return {"theme": chosen_theme(request), "themes": THEMES}
