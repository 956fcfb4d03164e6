"""SVG icons by allowlist: what an SVG may contain to be stored as an icon.

An SVG is parsed with defusedxml's expat reader (no entity declarations, no
DTD beyond the standard SVG one, nothing external is read) and walked by
namespace URI, never by prefix: every element and attribute must be on the
allowlists below, every reference must point into the icon itself (`#id`,
`url(#id)`), an embedded image must be a PNG, JPEG, GIF or WebP `data:` URL,
and style sheets may not import, escape or load anything. Entities are decoded
by the parser before any value is checked.

An unsafe icon is refused, never rewritten: the studio stores what the author
uploaded, byte for byte, or nothing.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from xml.sax import SAXParseException
from xml.sax.handler import (
    ContentHandler,
    feature_external_ges,
    feature_external_pes,
    feature_namespaces,
)
from xml.sax.xmlreader import AttributesNSImpl, InputSource, Locator

from defusedxml.common import DefusedXmlException, DTDForbidden
from defusedxml.expatreader import DefusedExpatParser

from .files import PluginFiles

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# Reported per file; past this an icon is clearly not one to fix by hand.
MAX_PROBLEMS = 20


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


SVG_ELEMENTS = _names(
    """
    svg g defs symbol use switch title desc metadata style
    path rect circle ellipse line polyline polygon text tspan textPath
    linearGradient radialGradient stop pattern clipPath mask marker image
    filter feBlend feColorMatrix feComponentTransfer feComposite
    feConvolveMatrix feDiffuseLighting feDisplacementMap feDistantLight
    feDropShadow feFlood feFuncA feFuncB feFuncG feFuncR feGaussianBlur
    feMerge feMergeNode feMorphology feOffset fePointLight
    feSpecularLighting feSpotLight feTile feTurbulence
    """
)

# Presentation attributes: parsed as CSS values, so checked like a style.
PRESENTATION_ATTRIBUTES = _names(
    """
    alignment-baseline baseline-shift clip clip-path clip-rule color
    color-interpolation color-interpolation-filters color-rendering cursor
    direction display dominant-baseline enable-background fill fill-opacity
    fill-rule filter flood-color flood-opacity font font-family font-size
    font-size-adjust font-stretch font-style font-variant font-weight
    glyph-orientation-horizontal glyph-orientation-vertical image-rendering
    isolation kerning letter-spacing lighting-color line-height marker
    marker-end marker-mid marker-start mask mask-type mix-blend-mode opacity
    overflow paint-order pointer-events shape-rendering solid-color
    solid-opacity stop-color stop-opacity stroke stroke-dasharray
    stroke-dashoffset stroke-linecap stroke-linejoin stroke-miterlimit
    stroke-opacity stroke-width text-anchor text-decoration text-rendering
    transform transform-box transform-origin unicode-bidi vector-effect
    visibility white-space word-spacing writing-mode style
    """
)

SVG_ATTRIBUTES = PRESENTATION_ATTRIBUTES | _names(
    """
    id class lang tabindex role focusable version baseProfile
    x y width height viewBox preserveAspectRatio zoomAndPan
    x1 y1 x2 y2 cx cy r rx ry fx fy fr d points pathLength href
    gradientUnits gradientTransform spreadMethod offset
    patternUnits patternContentUnits patternTransform
    clipPathUnits maskUnits maskContentUnits
    markerWidth markerHeight markerUnits refX refY orient
    dx dy rotate textLength lengthAdjust startOffset method spacing side
    media type title
    filterUnits primitiveUnits filterRes in in2 result stdDeviation mode
    operator k1 k2 k3 k4 values tableValues slope intercept amplitude
    exponent order kernelMatrix divisor bias targetX targetY edgeMode
    preserveAlpha surfaceScale diffuseConstant specularConstant
    specularExponent kernelUnitLength azimuth elevation pointsAtX pointsAtY
    pointsAtZ limitingConeAngle radius scale xChannelSelector
    yChannelSelector baseFrequency numOctaves seed stitchTiles z
    requiredFeatures requiredExtensions systemLanguage
    externalResourcesRequired
    """
)
# Inert attributes exporters write: iconfont.cn's `t` and `p-id` (common in
# Chinese vendors' icons), SVG 1.1's default script and style types.
EXPORTER_ATTRIBUTES = _names("t p-id contentScriptType contentStyleType")
# Names that carry no behaviour whatever follows the prefix.
ATTRIBUTE_PREFIXES = ("data-", "aria-")
XLINK_ATTRIBUTES = frozenset({"href", "title"})
XML_ATTRIBUTES = frozenset({"space", "lang"})

# Where drawing programs keep their own data (layers, guides, licence):
# browsers give elements and attributes in these namespaces no behaviour.
EDITOR_NAMESPACES = frozenset(
    {
        "http://www.inkscape.org/namespaces/inkscape",
        "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "http://creativecommons.org/ns#",
        "http://web.resource.org/cc/",
        "http://purl.org/dc/elements/1.1/",
        "http://purl.org/dc/terms/",
        "http://ns.adobe.com/AdobeIllustrator/10.0/",
        "http://ns.adobe.com/AdobeSVGViewerExtensions/3.0/",
        "http://ns.adobe.com/Extensibility/1.0/",
        "http://ns.adobe.com/Flows/1.0/",
        "http://ns.adobe.com/Graphs/1.0/",
        "http://ns.adobe.com/ImageReplacement/1.0/",
        "http://ns.adobe.com/SaveForWeb/1.0/",
        "http://ns.adobe.com/Variables/1.0/",
        "http://ns.adobe.com/GenericCustomNamespace/1.0/",
        "http://ns.adobe.com/XPath/1.0/",
        "http://www.bohemiancoding.com/sketch/ns",
        "http://www.serif.com/",
        "https://boxy-svg.com",
        "http://vectornator.io",
        "http://www.corel.com/coreldraw/odm/2003",
    }
)

# The standard SVG document types: browsers never fetch them, nor do we.
SVG_PUBLIC_IDS = frozenset(
    {
        "-//W3C//DTD SVG 1.0//EN",
        "-//W3C//DTD SVG 1.1//EN",
        "-//W3C//DTD SVG 1.1 Basic//EN",
        "-//W3C//DTD SVG 1.1 Tiny//EN",
        "-//W3C//DTD SVG 20010904//EN",
        "-//W3C//DTD SVG 20001102//EN",
    }
)
# Encodings a browser decodes exactly as the parser does.
ENCODINGS = frozenset({"utf-8", "us-ascii", "iso-8859-1", "windows-1252", "utf-16"})

CSS_AT_RULES = frozenset({"media", "supports", "keyframes", "-webkit-keyframes"})
# CSS functions that fetch what they name (url() is checked on its own).
CSS_LOADERS = frozenset(
    {
        "image",
        "image-set",
        "-webkit-image-set",
        "cross-fade",
        "-webkit-cross-fade",
        "element",
        "-moz-element",
        "src",
        "expression",
    }
)

RASTER_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF")
FRAGMENT = re.compile(r"#[^\s\"'()<>\\#]+")
DATA_IMAGE = re.compile(
    r"data:image/(?:png|jpeg|jpg|gif|webp);base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE
)
XML_DECLARATION = re.compile(
    rb"\s*<\?xml[^>]*?\sencoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']"
)
CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)
CSS_AT_RULE = re.compile(r"@(-?[a-z_][a-z0-9_-]*)", re.IGNORECASE)
CSS_FUNCTION = re.compile(r"(?<![a-z0-9_-])(-?[a-z_][a-z0-9_-]*)\(", re.IGNORECASE)
CSS_URL = re.compile(r"(?<![a-z0-9_-])url\s*\(", re.IGNORECASE)
# What a browser drops from a URL before reading its scheme.
URL_NOISE = re.compile(r"[\x00-\x20]")


@dataclass(frozen=True)
class SvgProblem:
    """Why an SVG is no safe icon, and the line it is on when known."""

    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.message} (line {self.line})" if self.line else self.message


def looks_like_svg(data: bytes) -> bool:
    """Whether the bytes are an SVG document (by their start, not their name)."""
    head = data[:4096]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    head = head.lstrip().lower()
    starts = (b"<?xml", b"<svg", b"<!--", b"<!doctype")
    return head.startswith(starts) and b"<svg" in head


def svg_problems(data: bytes) -> list[SvgProblem]:
    """Everything that keeps `data` from being a safe icon; empty when it is one."""
    match = XML_DECLARATION.match(data.removeprefix(b"\xef\xbb\xbf"))
    if match:
        encoding = match.group(1).decode("ascii").lower()
        if encoding not in ENCODINGS:
            return [
                SvgProblem(
                    f"the SVG declares the encoding {match.group(1).decode()}; "
                    "save it as UTF-8",
                    1,
                )
            ]
    walker = _Walker()
    parser = _IconParser()
    parser.setContentHandler(walker)
    source = InputSource()
    source.setByteStream(io.BytesIO(data))
    fatal = None
    try:
        parser.parse(source)
    except _Enough:
        pass
    except DefusedXmlException:
        fatal = SvgProblem(
            "the SVG may not declare a DTD or entities (only the standard SVG "
            "<!DOCTYPE> without [...] is allowed)",
            parser.getLineNumber(),
        )
    except SAXParseException as exc:
        fatal = SvgProblem(
            f"the SVG is not well-formed XML: {exc.getMessage()}", exc.getLineNumber()
        )
    # What stopped the reading comes first: the rest of the file is unchecked.
    return [fatal, *walker.problems] if fatal else walker.problems


def icon_problems(files: PluginFiles) -> dict[str, list[SvgProblem]]:
    """The SVGs of a plugin that are no safe icons, by path (sorted).

    Checked: every `.svg` file (unless its bytes are a raster image or hold no
    markup at all: a browser cannot run those), and every file in `_assets/`
    whose bytes are an SVG whatever its name.
    """
    found: dict[str, list[SvgProblem]] = {}
    for path in sorted(files):
        content = files[path]
        if path.lower().endswith(".svg"):
            checked = b"<" in content and not content.startswith(RASTER_MAGIC)
        else:
            checked = path.startswith("_assets/") and looks_like_svg(content)
        if checked:
            problems = svg_problems(content)
            if problems:
                found[path] = problems
    return found


class _Enough(Exception):
    """MAX_PROBLEMS found: stop reading."""


class _IconParser(DefusedExpatParser):
    """defusedxml's expat reader that lets the standard SVG DOCTYPE through.

    Entity declarations stay forbidden (so no external entity can be named),
    and external entities and DTDs are never read: the SAX reader skips them
    with both features off.
    """

    def __init__(self) -> None:
        super().__init__(
            namespaceHandling=1,
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=False,
        )
        self.setFeature(feature_namespaces, True)
        self.setFeature(feature_external_ges, False)
        self.setFeature(feature_external_pes, False)

    def defused_start_doctype_decl(
        self,
        name: str,
        sysid: str | None,
        pubid: str | None,
        has_internal_subset: bool,
    ) -> None:
        if has_internal_subset or pubid not in SVG_PUBLIC_IDS:
            raise DTDForbidden(name, sysid, pubid)


class _Walker(ContentHandler):
    """Checks each element and attribute as the parser meets it."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[SvgProblem] = []
        self.depth = 0
        self.locator: Locator | None = None
        # The text of each open <style> (nested ones too), with its line.
        self.styles: list[tuple[list[str], int | None]] = []
        # Open <title>/<desc>: HTML integration points when the icon is
        # inlined in a page, where a "<" in their text could start a tag.
        self.captions = 0

    def add(self, message: str, line: int | None) -> None:
        self.problems.append(SvgProblem(message, line))
        if len(self.problems) >= MAX_PROBLEMS:
            raise _Enough

    def line(self) -> int | None:
        return self.locator.getLineNumber() if self.locator else None

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def processingInstruction(self, target: str, data: str) -> None:
        self.add(f"<?{target} ...?> is not allowed in an icon", self.line())

    def startElementNS(
        self,
        name: tuple[str | None, str],
        qname: str | None,
        attrs: AttributesNSImpl,
    ) -> None:
        uri, local = name
        line = self.line()
        svg = uri in (SVG_NS, None)
        if self.depth == 0 and not (svg and local == "svg"):
            self.add(f"the root element is <{local}>, not <svg>", line)
        self.depth += 1
        allowed = local in SVG_ELEMENTS if svg else uri in EDITOR_NAMESPACES
        if not allowed:
            where = "" if svg else f" in the namespace {uri}"
            self.add(f"<{local}>{where} is not allowed in an icon", line)
        for key, value in attrs.items():
            label = attrs.getQNameByName(key) or key[1]
            message = _attribute_problem(local, svg, allowed, key, label, value)
            if message:
                self.add(message, line)
        if svg and local == "style":
            self.styles.append(([], line))
        elif svg and local in ("title", "desc"):
            self.captions += 1

    def characters(self, content: str) -> None:
        for text, _ in self.styles:
            text.append(content)
        if self.captions and "<" in content:
            self.add('a <title> or <desc> may not hold "<"', self.line())

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        self.depth -= 1
        uri, local = name
        if uri not in (SVG_NS, None):
            return
        if local == "style":
            text, line = self.styles.pop()
            for message in _css_problems("".join(text), sheet=True):
                self.add(f"<style> {message}", line)
        elif local in ("title", "desc"):
            self.captions -= 1


def _attribute_problem(
    element: str,
    svg: bool,
    allowed: bool,
    key: tuple[str | None, str],
    label: str,
    value: str,
) -> str | None:
    """What is wrong with one attribute of an element, or None.

    Event handlers and javascript: URLs are named on any element; the rest
    only on elements that are allowed (a refused one goes as a whole).
    """
    uri, local = key
    where = f"<{element}> {label}"
    if local.lower().startswith("on"):
        return f"{where}=... is an event handler; icons may not run code"
    if re.search(r"(?:java|vb)script:", URL_NOISE.sub("", value), re.IGNORECASE):
        return f'{where}="{_shorten(value)}" holds a javascript: URL'
    if not allowed:
        return None
    if uri is None:
        if not svg:
            return None
        known = local in SVG_ATTRIBUTES or local in EXPORTER_ATTRIBUTES
        if not known and not local.startswith(ATTRIBUTE_PREFIXES):
            return f"<{element}> has the attribute {label}, not allowed in an icon"
        if local == "href":
            return _href_problem(element, label, value)
        if local in PRESENTATION_ATTRIBUTES:
            problems = _css_problems(value, sheet=False)
            return f"{where} {problems[0]}" if problems else None
        return None
    if uri == XLINK_NS and local in XLINK_ATTRIBUTES:
        return _href_problem(element, label, value) if local == "href" else None
    if uri == XML_NS and local in XML_ATTRIBUTES:
        return None
    if uri in EDITOR_NAMESPACES:
        return None
    namespace = "" if uri == XML_NS else f" in the namespace {uri}"
    return f"<{element}> has the attribute {label}{namespace}, not allowed in an icon"


def _href_problem(element: str, label: str, value: str) -> str | None:
    target = value.strip()
    if element == "image":
        if DATA_IMAGE.fullmatch(target):
            return None
        return (
            "<image> may only embed a PNG, JPEG, GIF or WebP image as a data: "
            f'URL, not {label}="{_shorten(value)}"'
        )
    if FRAGMENT.fullmatch(target):
        return None
    return (
        f'<{element}> {label}="{_shorten(value)}" points outside the icon; only '
        "references to its own elements (#id) are allowed"
    )


def _css_problems(css: str, *, sheet: bool) -> list[str]:
    """What a style sheet (`sheet`) or one CSS value must not do."""
    text = CSS_COMMENT.sub(" ", css)
    problems = []
    if "\\" in text:
        problems.append("uses a CSS escape (\\); write the characters themselves")
    if sheet:
        for match in CSS_AT_RULE.finditer(text):
            rule = match.group(1).lower()
            if rule not in CSS_AT_RULES:
                problems.append(f"uses @{rule}, not allowed in an icon")
    for match in CSS_FUNCTION.finditer(text):
        function = match.group(1).lower()
        if function in CSS_LOADERS:
            problems.append(f"uses {function}(), which loads from outside the icon")
    for match in CSS_URL.finditer(text):
        target = _url_target(text[match.end() :])
        if not FRAGMENT.fullmatch(target):
            problems.append(
                f"uses url({_shorten(target)}); only url(#id) is allowed in an icon"
            )
    return problems


def _url_target(rest: str) -> str:
    """The argument of a CSS url( whose text follows, quoted or not."""
    rest = rest.lstrip()
    if rest[:1] in ("'", '"'):
        end = rest.find(rest[0], 1)
        return rest[1:end] if end != -1 else rest[1:]
    end = rest.find(")")
    return (rest[:end] if end != -1 else rest).strip()


def _shorten(value: str, limit: int = 60) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"
