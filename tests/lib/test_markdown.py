"""Markdown rendered for the page: formatting survives, anything that could run
or load from elsewhere does not."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from studio.lib.markdown import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    LINK_REL,
    is_relative,
    relative_target,
    render_markdown,
)


class Elements(HTMLParser):
    """Every start tag of a fragment with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """The links, images and anything unexpected (not the text's structure)."""
    parser = Elements()
    parser.feed(html)
    structure = ALLOWED_TAGS - {"a", "img"}
    return [(tag, attrs) for tag, attrs in parser.found if tag not in structure]


def all_elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    return parser.found


def render(text: str) -> str:
    """Rendered with the files tab's kind of resolvers (any relative path)."""
    return render_markdown(
        text,
        image_url=lambda ref: f"/raw?path={ref}",
        link_url=lambda ref: f"/view?path={ref}",
    )


def assert_inert(html: str) -> None:
    """Only allowed tags and attributes; links only to http(s)/mailto or ours,
    images only ours. (A refused Markdown link stays as its literal text, which
    is escaped: only markup is checked.)"""
    for tag, attrs in all_elements(html):
        assert tag in ALLOWED_TAGS, html
        extra = {"rel"} if tag == "a" else set()
        assert set(attrs) <= ALLOWED_ATTRIBUTES.get(tag, set()) | extra, html
        href = attrs.get("href") or ""
        if href:
            assert href.startswith(("http://", "https://", "mailto:", "/view?", "#"))
        src = attrs.get("src") or ""
        if src:
            assert src.startswith("/raw?"), html
        for value in attrs.values():
            lowered = (value or "").lower()
            for word in ("javascript:", "vbscript:", "data:"):
                assert word not in lowered, html
    assert "<script" not in html.lower()


HOSTILE = {
    "script block": "<script>alert(1)</script>",
    "script inline": "Hello <script>alert(1)</script> there",
    "javascript link": "[x](javascript:alert(1))",
    "mixed-case javascript": "[x](JaVaScRiPt:alert(1))",
    "entity-encoded javascript": "[x](&#106;avascript:alert(1))",
    "html javascript link": '<a href="javascript:alert(1)">x</a>',
    "html entity javascript": '<a href="&#106;&#97;vascript&#58;alert(1)">x</a>',
    "html hex entity javascript": '<a href="&#x6A;avascript:alert(1)">x</a>',
    "tab inside the scheme": '<a href="java&#x09;script:alert(1)">x</a>',
    "leading space": '<a href=" javascript:alert(1)">x</a>',
    "mixed-case html": '<a href="jAvAsCrIpT:alert(1)">x</a>',
    "data link": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "html data link": '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "vbscript link": "[x](vbscript:msgbox(1))",
    "html vbscript": '<a href="VBScript:msgbox(1)">x</a>',
    "event handler": '<p onclick="alert(1)" onmouseover="alert(2)">x</p>',
    "img onerror": '<img src="x" onerror="alert(1)">',
    "img javascript src": '<img src="javascript:alert(1)">',
    "img data src": "![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
    "svg script": "<svg><script>alert(1)</script></svg>",
    "svg onload": '<svg onload="alert(1)"><circle r="4"/></svg>',
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "iframe srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "object and embed": '<object data="x.swf"></object><embed src="x.swf">',
    "form": (
        '<form action="https://evil.example"><input name="p"><button>Go</button></form>'
    ),
    "style attribute": '<p style="position:fixed;top:0">x</p>',
    "style element": "<style>body{display:none}</style>",
    "meta refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "base href": '<base href="https://evil.example/">',
    "link stylesheet": '<link rel="stylesheet" href="https://evil.example/x.css">',
    "math": '<math><mtext><a href="javascript:alert(1)">x</a></mtext></math>',
    "noscript": (
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>'
    ),
    "template": "<template><script>alert(1)</script></template>",
    "unclosed attribute": '<a href="https://ok.example" onclick="alert(1)>x</a>',
}


class TestHostileMarkdown:
    @pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
    def test_it_renders_inert(self, text):
        assert_inert(render(text))

    def test_a_script_disappears_with_its_content(self):
        html = render("Before\n\n<script>alert('owned')</script>\n\nAfter")
        assert "alert" not in html
        assert "<p>Before</p>" in html and "<p>After</p>" in html

    def test_a_javascript_link_keeps_its_text_and_loses_its_target(self):
        html = render('<a href="&#106;avascript:alert(1)">click</a>')
        assert elements(html) == [("a", {"rel": LINK_REL})]
        assert ">click</a>" in html

    def test_an_image_keeps_its_alt_text_without_its_handler(self):
        html = render('<img src="_assets/a.png" alt="Setup" onerror="alert(1)">')
        assert elements(html) == [
            ("img", {"src": "/raw?path=_assets/a.png", "alt": "Setup"})
        ]


class TestFormatting:
    def test_headings_lists_code_and_tables_survive(self):
        text = (
            "# Title\n\nSome *emphasis* and **strong** and ~~gone~~.\n\n"
            "- one\n- two\n\n1. first\n\n```python\nprint('<b>')\n```\n\n"
            "| Model | Price |\n|---|---:|\n| gw | 0.5 |\n\n> quoted\n"
        )
        html = render(text)
        tags = [tag for tag, _ in all_elements(html)]
        for tag in ("h1", "em", "strong", "s", "ul", "li", "ol", "pre", "code"):
            assert tag in tags, tag
        for tag in ("table", "thead", "tbody", "tr", "th", "td", "blockquote"):
            assert tag in tags, tag
        # Code is text: the tag inside it is escaped, not rendered.
        assert "print(&#39;&lt;b&gt;&#39;)" in html or "print('&lt;b&gt;')" in html

    def test_links_get_rel_noopener_noreferrer_nofollow(self):
        html = render("[Dify](https://dify.ai) and <mailto:team@example.com>")
        assert elements(html) == [
            ("a", {"href": "https://dify.ai", "rel": LINK_REL}),
            ("a", {"href": "mailto:team@example.com", "rel": LINK_REL}),
        ]

    def test_an_html_img_keeps_a_numeric_width_only(self):
        html = render('<img src="./_assets/a.png" width="400" height="10px">')
        assert elements(html) == [
            ("img", {"src": "/raw?path=./_assets/a.png", "width": "400"})
        ]

    def test_a_remote_markdown_image_becomes_a_link_and_loads_nothing(self):
        html = render("![Console](https://cdn.example.com/shot.png)")
        assert elements(html) == [
            ("a", {"href": "https://cdn.example.com/shot.png", "rel": LINK_REL})
        ]
        assert "[image: Console]" in html

    def test_a_remote_html_image_keeps_only_its_alt_text(self):
        html = render('<img src="https://tracker.example/p.gif" alt="pixel">')
        assert elements(html) == [("img", {"alt": "pixel"})]

    def test_relative_links_and_images_go_through_the_resolvers(self):
        html = render_markdown(
            "[doc](docs/a.md) ![i](_assets/i.png) [top](#top)",
            image_url=lambda ref: None,
            link_url=lambda ref: None,
        )
        assert elements(html) == [
            ("a", {"rel": LINK_REL}),
            ("img", {"alt": "i"}),
            ("a", {"href": "#top", "rel": LINK_REL}),
        ]

    def test_rooted_and_protocol_relative_links_lose_their_target(self):
        html = render(
            '[a](/admin/) [b](//evil.example/x) <a href="/\\evil.example">c</a>'
        )
        assert all(attrs == {"rel": LINK_REL} for _, attrs in elements(html))


class TestRelativeTargets:
    @pytest.mark.parametrize(
        ("document", "reference", "expected"),
        [
            ("README.md", "_assets/a.png", ("_assets/a.png", "")),
            ("README.md", "./_assets/a.png", ("_assets/a.png", "")),
            ("readme/README_ja_JP.md", "../_assets/a.png", ("_assets/a.png", "")),
            (
                "README.md",
                "docs/Setup%20Guide.md#keys",
                ("docs/Setup Guide.md", "keys"),
            ),
            ("README.md", "../outside.png", None),
            ("README.md", "_assets/../../x", None),
            ("README.md", "/etc/passwd", None),
            ("README.md", "//host/x.png", None),
            ("README.md", "https://x.example/a.png", None),
            ("README.md", "_assets\\a.png", None),
            ("README.md", "a.png?x=1", None),
            ("README.md", "#top", None),
        ],
    )
    def test_it_resolves_inside_the_plugin_only(self, document, reference, expected):
        assert relative_target(document, reference) == expected

    def test_schemes_and_hosts_are_not_relative(self):
        assert is_relative("_assets/a.png")
        for value in ("https://x", "mailto:a@b", "javascript:x", "//x", "/x", "\\x"):
            assert not is_relative(value), value
