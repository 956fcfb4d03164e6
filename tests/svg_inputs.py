"""SVG icons for the tests: hostile ones every entry point must refuse, benign
ones exported by real editors that must stay accepted."""

from __future__ import annotations

from dataclasses import dataclass

SVG_NS = b'xmlns="http://www.w3.org/2000/svg"'
XLINK_NS = b'xmlns:xlink="http://www.w3.org/1999/xlink"'
# A 1x1 PNG, base64, as editors embed raster images.
PNG_B64 = (
    b"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAW"
    b"jR9awAAAABJRU5ErkJggg=="
)


@dataclass(frozen=True)
class HostileSvg:
    """An SVG no icon may be, and words the refusal must contain."""

    id: str
    content: bytes
    expect: str


def _svg(body: bytes, *, attrs: bytes = b"") -> bytes:
    return b"<svg " + SVG_NS + b" " + XLINK_NS + attrs + b">\n" + body + b"\n</svg>\n"


HOSTILE_SVGS = [
    # Refused by the old filter too.
    HostileSvg("script", _svg(b"<script>alert(1)</script>"), "<script>"),
    HostileSvg("onload", _svg(b"", attrs=b' onload="alert(1)"'), "onload"),
    HostileSvg(
        "foreign-object",
        _svg(
            b'<foreignObject width="8" height="8">'
            b'<body xmlns="http://www.w3.org/1999/xhtml"><p>hi</p></body>'
            b"</foreignObject>"
        ),
        "<foreignObject>",
    ),
    # Let through by the old filter (issue 14).
    HostileSvg(
        "image-https",
        _svg(b'<image href="https://evil.example/x.png" width="8" height="8"/>'),
        "<image>",
    ),
    HostileSvg(
        "use-external",
        _svg(b'<use xlink:href="https://evil.example/sprite.svg#a"/>'),
        "xlink:href",
    ),
    HostileSvg(
        "script-other-prefix",
        b"<svg " + SVG_NS + b' xmlns:s="http://www.w3.org/2000/svg">\n'
        b"<s:script>alert(1)</s:script>\n</svg>\n",
        "<script>",
    ),
    HostileSvg(
        "entity-encoded-javascript",
        _svg(b'<use href="&#106;avascript:alert(1)"/>'),
        "javascript:",
    ),
    HostileSvg(
        "entity-encoded-javascript-link",
        _svg(b'<a xlink:href="&#106;avascript:alert(1)"><rect width="8"/></a>'),
        "<a>",
    ),
    HostileSvg(
        "style-import",
        _svg(b"<style>@import url(https://evil.example/x.css);</style>"),
        "@import",
    ),
    # The same classes, other spellings.
    HostileSvg(
        "style-attribute-url",
        _svg(b'<rect style="fill: url(https://evil.example/p.svg#g)"/>'),
        "url(",
    ),
    HostileSvg(
        "presentation-attribute-url",
        _svg(b'<rect fill="url(&quot;https://evil.example/p.svg#g&quot;)"/>'),
        "url(",
    ),
    HostileSvg(
        "unterminated-url",
        _svg(b"<style>rect { fill: url(//evil.example/x</style>"),
        "url(",
    ),
    HostileSvg(
        "css-escape",
        _svg(b"<style>rect { fill: u\\72l(https://evil.example/x) }</style>"),
        "escape",
    ),
    HostileSvg(
        "image-set",
        _svg(b"<style>rect { fill: image-set('https://evil.example/x' 1x) }</style>"),
        "image-set",
    ),
    HostileSvg(
        "xml-stylesheet",
        b'<?xml version="1.0"?>\n<?xml-stylesheet href="https://evil.example/x.css"?>\n'
        + _svg(b""),
        "xml-stylesheet",
    ),
    HostileSvg(
        "entity-declaration",
        b'<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY x "y">]>\n'
        + _svg(b"<title>&x;</title>"),
        "may not declare a DTD or entities",
    ),
    HostileSvg(
        "external-entity",
        b'<?xml version="1.0"?>\n'
        b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        + _svg(b"<title>&x;</title>"),
        "may not declare a DTD or entities",
    ),
    HostileSvg(
        "xhtml-iframe",
        _svg(
            b'<h:iframe xmlns:h="http://www.w3.org/1999/xhtml" '
            b'src="https://evil.example/"/>'
        ),
        "http://www.w3.org/1999/xhtml",
    ),
    HostileSvg(
        "animation-set",
        _svg(b'<set attributeName="href" to="javascript:alert(1)"/>'),
        "<set>",
    ),
    HostileSvg(
        "image-svg-data",
        _svg(b'<image href="data:image/svg+xml;base64,PHN2Zy8+" width="8"/>'),
        "<image>",
    ),
    HostileSvg(
        "fe-image",
        _svg(b'<filter id="f"><feImage href="https://evil.example/x.png"/></filter>'),
        "<feImage>",
    ),
    HostileSvg(
        "xml-base",
        _svg(b'<g xml:base="https://evil.example/"><use href="#a"/></g>'),
        "xml:base",
    ),
    HostileSvg(
        "nested-style",
        _svg(b"<style>@import url(https://evil.example/x.css);<style/></style>"),
        "@import",
    ),
    HostileSvg(
        "markup-in-a-title",
        _svg(b"<title><![CDATA[><img src=x onerror=alert(1)>]]></title>"),
        "<title>",
    ),
    HostileSvg(
        "no-namespace-onload",
        b'<svg onload="alert(1)"><rect width="8"/></svg>',
        "onload",
    ),
    HostileSvg(
        "unknown-namespace-attribute",
        _svg(b'<rect xmlns:e="urn:evil" e:onclick="alert(1)"/>'),
        "onclick",
    ),
]


# ---------------------------------------------------------------- benign

BENIGN_SVGS = {
    "minimal": _svg(b'<rect width="8" height="8"/>'),
    "no-namespace": b'<svg viewBox="0 0 8 8"><rect width="8" height="8"/></svg>',
    "gradient-and-text": b"""<?xml version="1.0" encoding="UTF-8"?>
<svg viewBox="0 0 24 24" fill="none" xmlns="http://www.w3.org/2000/svg"
     role="img" aria-label="Acme">
  <title>Acme</title>
  <desc>The Acme logo</desc>
  <defs>
    <linearGradient id="g" x1="0%" y1="0%" x2="100%" y2="100%">
      <stop offset="0%" style="stop-color:#2D8CFF;stop-opacity:1" />
      <stop offset="100%" stop-color="#1E40AF"/>
    </linearGradient>
  </defs>
  <!-- the tile -->
  <rect width="24" height="24" rx="4" fill="url(#g)"/>
  <circle cx="12" cy="12" r="8" fill="none" stroke="white" stroke-width="1.5"/>
  <text x="12" y="16" font-family="Arial, Helvetica, sans-serif" font-size="8"
        text-anchor="middle" fill="white">A<tspan dy="1">c</tspan></text>
</svg>
""",
    "inkscape": b"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<svg
   version="1.1" width="64" height="64" viewBox="0 0 64 64" id="svg22"
   sodipodi:docname="logo.svg"
   inkscape:version="1.4 (e7c3feb100, 2024-10-09)"
   xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
   xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
   xmlns:xlink="http://www.w3.org/1999/xlink"
   xmlns="http://www.w3.org/2000/svg"
   xmlns:svg="http://www.w3.org/2000/svg"
   xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
   xmlns:cc="http://creativecommons.org/ns#"
   xmlns:dc="http://purl.org/dc/elements/1.1/">
  <sodipodi:namedview id="namedview22" pagecolor="#ffffff" bordercolor="#000000"
     inkscape:zoom="0.49" inkscape:current-layer="g21" />
  <metadata id="metadata5">
    <rdf:RDF>
      <cc:Work rdf:about="">
        <dc:format>image/svg+xml</dc:format>
        <dc:type rdf:resource="http://purl.org/dc/dcmitype/StillImage" />
      </cc:Work>
    </rdf:RDF>
  </metadata>
  <defs id="defs9">
    <clipPath id="clip_1">
      <path transform="matrix(1,0,0,-1,0,64)" d="M 0,0 H 64 V 64 H 0 Z" />
    </clipPath>
    <g id="mask_contents">
      <rect x="0" y="0" width="100%" height="100%" fill="#ffffff" />
      <g clip-path="url(#clip_1)">
        <image x="0" y="0" width="64" height="64"
           xlink:href="data:image/png;base64, """
    + PNG_B64[:40]
    + b"\n    "
    + PNG_B64[40:]
    + b"""" />
      </g>
    </g>
    <mask id="mask_2" mask-type="luminance">
      <use xlink:href="#mask_contents" />
    </mask>
  </defs>
  <g inkscape:groupmode="layer" inkscape:label="Layer 1" id="g21"
     mask="url(#mask_2)" style="display:inline;fill:#1a1a2e;fill-opacity:1">
    <path d="M 8,8 H 56 V 56 H 8 Z" sodipodi:nodetypes="ccccc" />
  </g>
</svg>
""",
    "illustrator": b"""<?xml version="1.0" encoding="utf-8"?>
<!-- Generator: Adobe Illustrator 24.0.0, SVG Export Plug-In  -->
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg version="1.1" id="Layer_1" xmlns="http://www.w3.org/2000/svg"
     xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:i="http://ns.adobe.com/AdobeIllustrator/10.0/"
     x="0px" y="0px" viewBox="0 0 24 24" style="enable-background:new 0 0 24 24;"
     xml:space="preserve">
<style type="text/css">
\t.st0{fill:#FFFFFF;}
\t.st1{fill:url(#SVGID_1_);}
\t@media (prefers-color-scheme: dark) { .st0 { fill: #000; } }
</style>
<switch>
<g i:extraneous="self">
\t<linearGradient id="SVGID_1_" gradientUnits="userSpaceOnUse" x1="0" y1="12"
\t\tx2="24" y2="12" gradientTransform="matrix(1 0 0 -1 0 24)">
\t\t<stop offset="0" style="stop-color:#F59E0B"/>
\t\t<stop offset="1" style="stop-color:#B45309"/>
\t</linearGradient>
\t<path class="st1" data-name="Tile" d="M0,0h24v24H0V0z"/>
\t<polygon class="st0" points="6,18 12,6 18,18 \t"/>
\t<polyline fill="none" stroke="#000" points="6,12 18,12"/>
\t<line x1="0" y1="0" x2="24" y2="24" stroke="#000"/>
\t<ellipse cx="12" cy="12" rx="3" ry="2" fill="#fff"/>
</g>
</switch>
</svg>
""",
    "figma": b"""<svg width="40" height="40" viewBox="0 0 40 40" fill="none"
 xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
<g filter="url(#filter0_d_1_2)" clip-path="url(#clip0_1_2)">
<rect x="4" y="2" width="32" height="32" rx="8" fill="url(#pattern0)"/>
</g>
<defs>
<filter id="filter0_d_1_2" x="0" y="0" width="40" height="40"
 filterUnits="userSpaceOnUse" color-interpolation-filters="sRGB">
<feFlood flood-opacity="0" result="BackgroundImageFix"/>
<feColorMatrix in="SourceAlpha" type="matrix"
 values="0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 127 0" result="hardAlpha"/>
<feOffset dy="2"/>
<feGaussianBlur stdDeviation="2"/>
<feComposite in2="hardAlpha" operator="out"/>
<feBlend mode="normal" in2="BackgroundImageFix" result="effect1_dropShadow_1_2"/>
<feBlend mode="normal" in="SourceGraphic" in2="effect1_dropShadow_1_2" result="shape"/>
</filter>
<pattern id="pattern0" patternContentUnits="objectBoundingBox" width="1" height="1">
<use xlink:href="#image0_1_2" transform="scale(0.01)"/>
</pattern>
<clipPath id="clip0_1_2"><rect width="40" height="40" fill="white"/></clipPath>
<image id="image0_1_2" width="100" height="100" xlink:href="data:image/png;base64,"""
    + PNG_B64
    + b""""/>
</defs>
</svg>
""",
    "iconfont": b"""<?xml version="1.0" standalone="no"?><!DOCTYPE svg PUBLIC \
"-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg \
t="1742396596343" class="icon" viewBox="0 0 1024 1024" version="1.1" \
xmlns="http://www.w3.org/2000/svg" p-id="13369" width="128" height="128" \
xmlns:xlink="http://www.w3.org/1999/xlink"><path d="M298.4 166.3l98.7 93.7z" \
fill="#FFFFFF" p-id="13370"></path></svg>""",
    "coreldraw": b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"
 "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xml:space="preserve" width="10mm"
 height="10mm" version="1.1" style="shape-rendering:geometricPrecision;
 text-rendering:geometricPrecision; image-rendering:optimizeQuality;
 fill-rule:evenodd; clip-rule:evenodd" viewBox="0 0 1000 1000"
 contentScriptType="text/ecmascript" contentStyleType="text/css"
 xmlns:xlink="http://www.w3.org/1999/xlink"
 xmlns:xodm="http://www.corel.com/coreldraw/odm/2003">
 <defs>
  <style type="text/css">
   <![CDATA[
    .fil0 {fill:#FEFEFE}
   ]]>
  </style>
 </defs>
 <g id="Layer_x0020_1">
  <metadata id="CorelCorpID_0Corel-Layer"/>
  <rect class="fil0" width="1000" height="1000"/>
 </g>
</svg>
""",
    "standard-doctype-only": b"""<?xml version="1.0" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"
 "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 8 8">
<symbol id="s" viewBox="0 0 8 8"><path d="M0 0h8v8z"/></symbol>
<use href="#s" width="8" height="8"/>
<marker id="m" markerWidth="2" markerHeight="2" refX="1" refY="1" orient="auto">
<circle r="1" cx="1" cy="1"/></marker>
<path d="M1 1L7 7" stroke="#000" marker-end="url( '#m' )"/>
<radialGradient id="r" cx="50%" cy="50%" r="50%" fx="50%" fy="50%">
<stop offset="0" stop-color="#fff"/></radialGradient>
<text><textPath href="#s">x</textPath></text>
</svg>
""",
}
