"""The SVG icon checker: an allowlist of elements, attributes and references."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.pluginfmt.icons import (
    SvgProblem,
    icon_problems,
    looks_like_svg,
    svg_problems,
)
from studio.pluginfmt.readers import read_folder
from studio.pluginfmt.scaffold import DEFAULT_ICON
from tests.conftest import CORPUS_PLUGINS
from tests.svg_inputs import BENIGN_SVGS, HOSTILE_SVGS, PNG_B64, HostileSvg


def messages(data: bytes) -> list[str]:
    return [str(p) for p in svg_problems(data)]


class TestHostileIcons:
    @pytest.mark.parametrize("case", HOSTILE_SVGS, ids=lambda c: c.id)
    def test_it_refuses_the_icon_and_names_the_culprit(self, case: HostileSvg) -> None:
        problems = svg_problems(case.content)
        assert problems, f"{case.id} was accepted"
        assert case.expect in str(problems[0])

    def test_the_message_gives_the_line(self) -> None:
        data = (
            b'<svg xmlns="http://www.w3.org/2000/svg">\n<rect width="1"/>\n'
            b'<image href="https://evil.example/x.png"/>\n</svg>'
        )
        assert svg_problems(data) == [
            SvgProblem(
                "<image> may only embed a PNG, JPEG, GIF or WebP image as a data: "
                'URL, not href="https://evil.example/x.png"',
                3,
            )
        ]
        assert str(svg_problems(data)[0]).endswith("(line 3)")

    def test_entities_are_decoded_before_the_check(self) -> None:
        data = (
            b'<svg xmlns="http://www.w3.org/2000/svg" '
            b'xmlns:xlink="http://www.w3.org/1999/xlink">'
            b'<a xlink:href="&#x6A;ava&#115;cript&#58;alert(1)"><rect/></a></svg>'
        )
        found = messages(data)
        assert any("<a>" in m for m in found)
        assert any("javascript:" in m for m in found)

    def test_a_javascript_url_split_by_whitespace_is_still_one(self) -> None:
        data = (
            b'<svg xmlns="http://www.w3.org/2000/svg">'
            b'<use href="java&#x09;script:alert(1)"/></svg>'
        )
        assert "javascript:" in messages(data)[0]

    def test_css_comments_do_not_hide_an_import(self) -> None:
        data = (
            b'<svg xmlns="http://www.w3.org/2000/svg"><style>'
            b"/* a */@import/**/'https://evil.example/x.css';</style></svg>"
        )
        assert "@import" in messages(data)[0]

    def test_a_style_in_a_cdata_section_is_checked(self) -> None:
        data = (
            b'<svg xmlns="http://www.w3.org/2000/svg"><style><![CDATA['
            b"rect{fill:url(https://evil.example/x)}]]></style></svg>"
        )
        assert "url(" in messages(data)[0]

    def test_an_element_in_a_foreign_namespace_names_it(self) -> None:
        data = (
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:m="urn:x"><m:thing/></svg>'
        )
        assert messages(data)[0].startswith("<thing> in the namespace urn:x")

    @pytest.mark.parametrize(
        ("data", "expect"),
        [
            (b"<svg><rect></svg>", "not well-formed XML"),
            (b"", "not well-formed XML"),
            (b'<svg xmlns="http://www.w3.org/2000/svg"><x:y/></svg>', "unbound prefix"),
            (
                b'<html xmlns="http://www.w3.org/1999/xhtml"/>',
                "the root element is <html>",
            ),
            (
                b'<?xml version="1.0" encoding="UTF-7"?><svg/>',
                "encoding UTF-7",
            ),
            (
                b'<!DOCTYPE svg SYSTEM "https://evil.example/x.dtd"><svg/>',
                "may not declare a DTD or entities",
            ),
            (
                b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "svg11.dtd" '
                b'[<!ATTLIST svg onload CDATA "alert(1)">]><svg/>',
                "may not declare a DTD or entities",
            ),
        ],
    )
    def test_it_refuses_what_it_cannot_read_safely(
        self, data: bytes, expect: str
    ) -> None:
        assert expect in messages(data)[0]

    def test_it_stops_counting_after_twenty_problems(self) -> None:
        data = b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<script/>" * 50
        data += b"</svg>"
        assert len(svg_problems(data)) == 20

    def test_a_billion_laughs_is_refused_without_expanding(self) -> None:
        data = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">'
        data += b"".join(b'<!ENTITY a%d "%s">' % (i, b"&a;" * 10) for i in range(1, 10))
        data += b"]><svg>&a9;</svg>"
        assert "may not declare a DTD or entities" in messages(data)[0]


class TestBenignIcons:
    @pytest.mark.parametrize("name", sorted(BENIGN_SVGS))
    def test_icons_real_editors_export_are_accepted(self, name: str) -> None:
        assert messages(BENIGN_SVGS[name]) == []

    def test_the_generated_icon_is_accepted(self) -> None:
        assert messages(DEFAULT_ICON) == []

    @pytest.mark.parametrize("plugin", CORPUS_PLUGINS)
    def test_every_corpus_icon_is_accepted(
        self, restored_corpus: Path, plugin: str
    ) -> None:
        files = read_folder(restored_corpus / plugin)
        svgs = [p for p in files if p.lower().endswith(".svg")]
        assert icon_problems(files) == {}
        for path in svgs:
            assert messages(files[path]) == [], path

    def test_the_corpus_has_svg_icons_to_check(self, restored_corpus: Path) -> None:
        assert list(restored_corpus.glob("*/_assets/*.svg"))

    @pytest.mark.parametrize(
        "href",
        [
            "data:image/png;base64," + PNG_B64.decode(),
            "data:image/jpeg;base64,/9j/4AAQ",
            "DATA:image/webp;base64, UklGR\n  gAAAA",
        ],
    )
    def test_an_embedded_raster_image_is_accepted(self, href: str) -> None:
        data = (
            '<svg xmlns="http://www.w3.org/2000/svg">'
            f'<image href="{href}" width="1" height="1"/></svg>'
        ).encode()
        assert messages(data) == []


class TestPluginIcons:
    SAFE = BENIGN_SVGS["minimal"]
    BAD = HOSTILE_SVGS[0].content

    def test_it_checks_every_svg_and_every_asset_that_is_one(self) -> None:
        files = {
            "manifest.yaml": b"name: x\n",
            "_assets/icon.svg": self.SAFE,
            "_assets/ICON_L.SVG": self.BAD,
            "_assets/icon.png": self.BAD,  # an SVG whatever its name
            "readme/diagram.svg": self.BAD,
            "_assets/raster.svg": b"\x89PNG\r\n\x1a\n....",  # not XML at all
            "docs/notes.txt": self.BAD,
        }
        found = icon_problems(files)
        assert sorted(found) == [
            "_assets/ICON_L.SVG",
            "_assets/icon.png",
            "readme/diagram.svg",
        ]
        assert "<script>" in str(found["_assets/ICON_L.SVG"][0])

    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            (b"\xef\xbb\xbf  <?xml version='1.0'?><svg/>", True),
            (b"<!-- by hand -->\n<svg/>", True),
            (b"<!DOCTYPE svg><svg/>", True),
            (b"<SVG/>", True),
            (b"\x89PNG\r\n\x1a\n<svg", False),
            (b"<html><body>hi</body></html>", False),
            (b"GIF89a<svg", False),
        ],
    )
    def test_it_recognises_an_svg_by_its_bytes(
        self, data: bytes, expected: bool
    ) -> None:
        assert looks_like_svg(data) is expected
