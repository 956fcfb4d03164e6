"""Markdown rendered to HTML that is safe to put in a studio page.

markdown-it-py renders CommonMark with tables and strikethrough. Raw HTML is
parsed too (plugin READMEs use `<img src="./_assets/x.png" width="400">`), so
everything it produces goes through the nh3 sanitiser, which keeps a small set
of tags and attributes and nothing that runs: no scripts, styles, event
handlers, frames, forms or inline SVG.

- Links keep `http:`, `https:` and `mailto:` targets only (any case, entity
  encoded or not: nh3 decodes before it checks) and get
  `rel="noopener noreferrer nofollow"`. A relative link is handed to
  `link_url`, which may point it at a file in the studio; without one, or when
  it answers None, the link keeps its text and loses its target. A link to
  `#fragment` stays.
- Images load only through `image_url`: a relative `src` is resolved by the
  caller (the files tab allows the plugin's own `_assets/` files, served by
  the raw-file view under its Content-Security-Policy). A remote image is
  never loaded by the page: a Markdown image becomes a link to it, and an HTML
  `<img>` keeps its `alt` text only.
"""

from __future__ import annotations

import functools
import html
import posixpath
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token

# Turns a relative reference (as written in the Markdown) into a URL of the
# studio, or None to drop it.
Resolver = Callable[[str], str | None]

ALLOWED_TAGS = frozenset(
    {
        *(f"h{n}" for n in range(1, 7)),
        "p",
        "br",
        "hr",
        "blockquote",
        "ul",
        "ol",
        "li",
        "pre",
        "code",
        "kbd",
        "em",
        "strong",
        "b",
        "i",
        "del",
        "s",
        "sub",
        "sup",
        "a",
        "img",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
# Removed with everything inside them (other unknown tags lose only the tag).
DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "template",
        "noscript",
        "noembed",
        "noframes",
        "svg",
        "math",
        "textarea",
        "select",
        "title",
        "xmp",
    }
)
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
NUMERIC_ATTRIBUTES = frozenset({"width", "height", "start", "colspan", "rowspan"})


def render_markdown(
    text: str,
    *,
    image_url: Resolver | None = None,
    link_url: Resolver | None = None,
) -> SafeString:
    """`text` as sanitised HTML; relative images and links go through the resolvers."""
    raw = _parser().render(text)
    cleaned = nh3.clean(
        raw,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_AttributeFilter(image_url, link_url),
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 kept only the allowed set


def relative_target(document: str, reference: str) -> tuple[str, str] | None:
    """The plugin path and `#fragment` a relative reference in `document` names.

    `./_assets/a.png` in `readme/README_ja.md` is `(readme/_assets/a.png, "")`;
    `../_assets/a.png` is `(_assets/a.png, "")`. None for anything that is not
    a relative path inside the plugin (a scheme, `//host`, `/abs`, a
    backslash, or `..` past the top).
    """
    if not is_relative(reference):
        return None
    parts = urlsplit(reference)
    if parts.query:
        return None
    path = unquote(parts.path)
    if not path:
        return None
    folder = posixpath.dirname(document)
    joined = posixpath.normpath(posixpath.join(folder, path))
    if joined.startswith("../") or joined in ("..", ".") or joined.startswith("/"):
        return None
    return joined, parts.fragment


def is_relative(reference: str) -> bool:
    """A relative path reference: no scheme, no host, not rooted, no backslash."""
    value = reference.strip()
    if not value or value.startswith(("/", "\\")) or "\\" in value:
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


class _AttributeFilter:
    """nh3's attribute filter: nh3 already dropped disallowed schemes."""

    def __init__(self, image_url: Resolver | None, link_url: Resolver | None):
        self.image_url = image_url
        self.link_url = link_url

    def __call__(self, tag: str, attribute: str, value: str) -> str | None:
        if attribute in NUMERIC_ATTRIBUTES:
            return value if value.isascii() and value.isdigit() else None
        if tag == "img" and attribute == "src":
            if not is_relative(value) or self.image_url is None:
                return None
            return self.image_url(value)
        if tag == "a" and attribute == "href":
            if value.startswith("#"):
                return value
            if is_relative(value):
                return self.link_url(value) if self.link_url else None
            if value.startswith(("/", "\\")):
                return None  # rooted or protocol-relative: somewhere else
            return value
        return value


def _render_image(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any
) -> str:
    """A remote Markdown image becomes a link to it: the page loads nothing."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    if is_relative(src):
        return str(self.image(tokens, idx, options, env))
    alt = self.renderInlineAsText(token.children or [], options, env)
    label = f"image: {alt}" if alt else "image"
    return f'<a href="{html.escape(src)}">[{html.escape(label)}]</a>'


@functools.cache
def _parser() -> MarkdownIt:
    # Rendering keeps its state per call: one parser serves every thread.
    parser = MarkdownIt("commonmark", {"html": True})
    parser.enable(["table", "strikethrough"])
    parser.add_render_rule("image", _render_image)
    return parser
