"""The stylesheets name their colours (the palette at the top of studio.css),
so the light and the dark theme cover every page."""

from __future__ import annotations

import re
from pathlib import Path

STATIC_CSS = Path(__file__).resolve().parent.parent / "static" / "css"
# Code blocks are dark in both themes: their token colours stay literal.
ALWAYS_DARK = ("pre.code", "pre.textdiff", "table.source", ".source-wrap", ".tok-")
COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|\brgba?\(\s*\d")
PALETTE = re.compile(
    r":root\s*\{[^}]*\}"
    r"|@media \(prefers-color-scheme: dark\)\s*\{\s*:root[^{]*\{[^}]*\}\s*\}"
    r"|:root\[data-theme=dark\]\s*\{[^}]*\}"
)


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


def test_the_dark_palette_defines_every_light_colour() -> None:
    css = (STATIC_CSS / "studio.css").read_text()
    light = re.search(r":root\s*\{([^}]*)\}", css)
    dark = re.search(r":root\[data-theme=dark\]\s*\{([^}]*)\}", css)
    system_dark = re.search(
        r"prefers-color-scheme: dark\)\s*\{\s*"
        r":root:not\(\[data-theme=light\]\)\s*\{([^}]*)\}",
        css,
    )
    assert light and dark and system_dark
    names = [
        set(re.findall(r"(--[a-z0-9-]+):", m.group(1)))
        for m in (light, dark, system_dark)
    ]
    assert len(names[0]) > 20
    assert names[0] == names[1] == names[2]
    # The two dark blocks are the same palette.
    assert dark.group(1).split() == system_dark.group(1).split()


def test_every_variable_used_is_defined() -> None:
    css = (STATIC_CSS / "studio.css").read_text()
    light = re.search(r":root\s*\{([^}]*)\}", css)
    assert light
    defined = set(re.findall(r"(--[a-z0-9-]+):", light.group(1)))
    used = set()
    for path in STATIC_CSS.glob("*.css"):
        used |= set(re.findall(r"var\((--[a-z0-9-]+)\)", path.read_text()))
    assert used - defined == set()
