"""The stylesheets name their colours (the palette at the top of studio.css),
so the light and the dark theme cover every page."""

from __future__ import annotations

import re
from pathlib import Path

STATIC_CSS = Path(__file__).resolve().parent.parent / "static" / "css"
# Code blocks are dark in both themes: their token colours stay literal.
ALWAYS_DARK = ("pre.code", "pre.textdiff", "table.source", ".source-wrap", ".tok-")
COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|\brgba?\(\s*\d")
PALETTE = re.compile(r":root\s*\{[^}]*\}")


def rules(css: str) -> list[tuple[str, str]]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return re.findall(r"([^{}]+)\{([^{}]*)\}", PALETTE.sub("", css))


def test_no_stylesheet_has_a_literal_colour_outside_the_palette() -> None:
    found = []
    for path in sorted(STATIC_CSS.glob("*.css")):
        for selector, body in rules(path.read_text()):
            if any(name in selector for name in ALWAYS_DARK):
                continue
            # Shadows and the transparency checkerboard are the same in both.
            body = re.sub(
                r"box-shadow:[^;]*;?|repeating-conic-gradient\([^;]*", "", body
            )
            if COLOUR.search(body):
                found.append(f"{path.name}: {selector.strip()}")
    assert found == []


def test_every_colour_of_the_palette_has_a_light_and_a_dark_value() -> None:
    css = (STATIC_CSS / "studio.css").read_text()
    palette = re.search(r":root\s*\{([^}]*)\}", css)
    assert palette
    declarations = re.findall(r"(--[a-z0-9-]+):\s*([^;]+);", palette.group(1))
    assert len(declarations) > 20
    two_colours = re.compile(r"light-dark\((#[0-9a-f]{3,6}), (#[0-9a-f]{3,6})\)")
    assert [
        name for name, value in declarations if not two_colours.fullmatch(value)
    ] == []
    # The page follows the system unless a theme was picked.
    assert "color-scheme: light dark;" in palette.group(1)
    assert ":root[data-theme=light] { color-scheme: light; }" in css
    assert ":root[data-theme=dark] { color-scheme: dark; }" in css


def test_every_variable_used_is_defined() -> None:
    css = (STATIC_CSS / "studio.css").read_text()
    light = re.search(r":root\s*\{([^}]*)\}", css)
    assert light
    defined = set(re.findall(r"(--[a-z0-9-]+):", light.group(1)))
    used = set()
    for path in STATIC_CSS.glob("*.css"):
        used |= set(re.findall(r"var\((--[a-z0-9-]+)\)", path.read_text()))
    assert used - defined == set()
