"""The README's checks: present, English, linking the source, and covering
what a first-time user needs."""

from __future__ import annotations

import re

from .context import Context
from .hosts import SOURCE_LINK, hosts_text

README = "README.md"

# Keyword sweeps, so only warnings: a README can explain setup without the word.
SECTIONS: dict[str, tuple[str, ...]] = {
    "setup instructions": (
        "setup", "install", "installation", "configure", "configuration",
        "getting started",
    ),
    "usage instructions": (
        "usage", "use", "example", "examples", "workflow", "chatflow",
    ),
    "the APIs or credentials it needs": (
        "api key", "apikey", "credential", "credentials", "token", "secret",
        "auth", "authentication", "authorization",
    ),
    "connection requirements": (
        "connection", "connect", "endpoint", "base url", "host", "proxy", "network",
    ),
}  # fmt: skip

LOCALIZED = re.compile(r"^README[._-][A-Za-z]{2,3}(?:[_-][A-Za-z0-9]+)?\.md$")
WELL_NAMED = re.compile(r"^README\.[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]+)?\.md$")
CODE_BLOCK = re.compile(r"```.*?```", re.DOTALL)
# CJK ideographs (Chinese, and Japanese kanji), as the validator counts them.
IDEOGRAPH = re.compile(r"[\u3400-\u4DBF\u4E00-\u9FFF]")


def check_readme(ctx: Context) -> None:
    """README.md: present and not empty, source link, English, sections."""
    _check_locale_names(ctx)
    if README not in ctx.files:
        ctx.add(
            "marketplace.readme-missing",
            README,
            None,
            "The package has no README.md.",
        )
        return
    text = ctx.text(README)
    if not text.strip():
        ctx.add("marketplace.readme-missing", README, None, "README.md is empty.")
        return
    if not SOURCE_LINK.search(text):
        ctx.add(
            "marketplace.readme-source-link",
            README,
            None,
            "README.md links no source repository on an allowed host "
            f"({hosts_text()}).",
        )
    prose = CODE_BLOCK.sub("", text)
    ideographs = IDEOGRAPH.findall(prose)
    if ideographs:
        ctx.add(
            "marketplace.readme-english",
            README,
            _first_prose_ideograph(text),
            f"README.md has {len(ideographs)} CJK characters outside code blocks; "
            "its main text must be English.",
            value=len(ideographs),
        )
    lowered = text.lower()
    for section, words in SECTIONS.items():
        if not any(word in lowered for word in words):
            ctx.add(
                "marketplace.readme-sections",
                README,
                None,
                f"README.md may be missing {section} (none of: "
                f"{', '.join(words[:4])}, …).",
                value=section,
                fix=f"Add a section with {section}.",
            )


def _check_locale_names(ctx: Context) -> None:
    for path in sorted(ctx.files):
        if "/" in path or path == README or not path.startswith("README"):
            continue
        if LOCALIZED.match(path) and not WELL_NAMED.match(path):
            ctx.add(
                "marketplace.readme-locale-name",
                path,
                None,
                f"{path} should be named README.<locale>.md.",
            )


def _first_prose_ideograph(text: str) -> int | None:
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        fences = line.count("```")
        if not fenced and fences == 0 and IDEOGRAPH.search(line):
            return number
        fenced ^= fences % 2 == 1
    return None
