"""A small, safe syntax highlighter for the files tab.

Every piece of the text goes through `html.escape` before it is wrapped in a
`<span class="tok-KIND">`; the only markup in the output is those spans, whose
class names are constants. Removing the spans from a highlighted line gives
back exactly the escaped line (the tests check this for hostile input).

The lexers are deliberately shallow: one regular expression per language,
applied line by line, plus a little state for what spans lines (Python and
TOML triple-quoted strings, YAML block scalars, Markdown code fences). They
colour what helps reading a plugin (YAML keys, strings, comments, numbers);
they are not parsers. Every pattern is linear: no nested quantifiers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import PurePosixPath

from django.utils.safestring import SafeString, mark_safe

Token = tuple[str | None, str]
# The state a lexer carries from one line to the next (None: nothing open).
State = object
LineLexer = Callable[[str, State], tuple[list[Token], State]]

LANGUAGES = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".py": "python",
    ".md": "markdown",
    ".toml": "toml",
    ".lock": "toml",  # uv.lock
    ".json": "json",
}
CONF_NAMES = {
    ".difyignore",
    ".gitignore",
    ".env",
    ".env.example",
    "requirements.txt",
}


def language_for(path: str) -> str | None:
    """The highlighter language of a file path, or None for plain text."""
    name = PurePosixPath(path).name
    if name in CONF_NAMES or name.endswith(".env.example"):
        return "conf"
    return LANGUAGES.get(PurePosixPath(name).suffix.lower())


def _span(kind: str | None, text: str) -> str:
    escaped = html.escape(text, quote=True)
    if kind is None or not text:
        return escaped
    return f'<span class="tok-{kind}">{escaped}</span>'


def _kind(group: str) -> str:
    # Group names are unique in a pattern; "string2" is another "string".
    return group.rstrip("0123456789")


def _scan(
    line: str, pattern: re.Pattern[str], pos: int = 0, out: list[Token] | None = None
) -> tuple[list[Token], State]:
    """Tokens of `line` from `pos`; an `open<delim>` match starts a string that
    may end on a later line (then the delimiter is returned as the state)."""
    out = [] if out is None else out
    while pos < len(line):
        m = pattern.search(line, pos)
        if m is None or m.end() == m.start():
            break
        if m.start() > pos:
            out.append((None, line[pos : m.start()]))
        group = m.lastgroup or ""
        if group == "open":
            delim = m.group().lstrip("rRbBuUfF")
            end = _find_closing(line, delim, m.end())
            if end < 0:
                out.append(("string", line[m.start() :]))
                return out, delim
            out.append(("string", line[m.start() : end]))
            pos = end
            continue
        out.append((_kind(group), m.group()))
        pos = m.end()
    if pos < len(line):
        out.append((None, line[pos:]))
    return out, None


def _find_closing(line: str, delim: str, pos: int) -> int:
    """Index just past the first unescaped `delim` at or after `pos`, else -1."""
    while True:
        i = line.find(delim, pos)
        if i < 0:
            return -1
        backslashes = len(line[:i]) - len(line[:i].rstrip("\\"))
        if delim.startswith('"') and backslashes % 2:
            pos = i + 1
            continue
        return i + len(delim)


def _continue_string(line: str, delim: str) -> tuple[list[Token], int | None]:
    """The part of `line` that closes an open multi-line string, or all of it."""
    end = _find_closing(line, delim, 0)
    if end < 0:
        return [("string", line)], None
    return [("string", line[:end])], end


# ---------------------------------------------------------------- YAML

_YAML_KEY = re.compile(
    r"""^(?P<pre>[ \t]*(?:-[ \t]+)*)"""
    r"""(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\-?:,\[\]{}&*!|>%@`][^#]*?)"""
    r"""(?P<colon>[ \t]*:)(?=[ \t]|$)"""
)
_YAML = re.compile(
    r"""(?P<comment>(?<!\S)\#.*)"""
    r"""|(?P<string>(?<![^\s\[{,:])"(?:[^"\\]|\\.)*"?)"""
    r"""|(?P<string2>(?<![^\s\[{,:])'(?:[^']|'')*'?)"""
    r"""|(?P<block>(?<!\S)[|>][-+0-9]{0,3}(?=[ \t]*(?:\#.*)?$))"""
    r"""|(?P<literal>(?<![^\s\[{,:])(?:true|false|null|True|False|Null|TRUE|FALSE|NULL|~)(?=[\s,\]}]|$))"""
    r"""|(?P<number>(?<![^\s\[{,:])[-+]?(?:\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+|0x[0-9a-fA-F]+|\.inf|\.nan)(?=[\s,\]}]|$))"""
    r"""|(?P<anchor>(?<!\S)[&*][^\s,\[\]{}]+)"""
    r"""|(?P<punct>^(?:---|\.\.\.)(?=\s|$)|(?<!\S)-(?=\s|$)|[\[\]{},])"""
)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _yaml_line(line: str, state: State) -> tuple[list[Token], State]:
    # state: the indentation a block scalar's lines must exceed, or None.
    if isinstance(state, int):
        if not line.strip() or _indent(line) > state:
            return [("string", line)], state
        state = None
    out: list[Token] = []
    pos = 0
    indent = _indent(line)
    m = _YAML_KEY.match(line)
    if m is not None:
        pre = m.group("pre")
        dashes = pre.lstrip(" \t")
        out.append((None, pre[: len(pre) - len(dashes)]))
        if dashes:
            out.append(("punct", dashes))
        out.append(("key", m.group("key")))
        out.append(("punct", m.group("colon")))
        pos = m.end()
        indent = len(pre)
    tokens, _ = _scan(line, _YAML, pos, out)
    if any(kind == "block" for kind, _ in tokens):
        return tokens, indent
    return tokens, None


# ---------------------------------------------------------------- Python

_PY_KEYWORDS = (
    "False|None|True|and|as|assert|async|await|break|class|continue|def|del|elif|"
    "else|except|finally|for|from|global|if|import|in|is|lambda|nonlocal|not|or|"
    "pass|raise|return|try|while|with|yield|match|case|self|cls"
)
_PYTHON = re.compile(
    r"""(?P<comment>\#.*)"""
    r"""|(?P<open>(?<![\w])[rRbBuUfF]{0,2}(?:\"\"\"|'''))"""
    r"""|(?P<string>(?<![\w])[rRbBuUfF]{0,2}"(?:[^"\\]|\\.)*"?)"""
    r"""|(?P<string2>(?<![\w])[rRbBuUfF]{0,2}'(?:[^'\\]|\\.)*'?)"""
    r"""|(?P<name>(?<=\bdef )\w+|(?<=\bclass )\w+)"""
    r"""|(?P<decorator>(?<![\w)\]])@[\w.]+)"""
    rf"""|(?P<keyword>\b(?:{_PY_KEYWORDS})\b)"""
    r"""|(?P<number>\b(?:0[xXoObB][\da-fA-F_]+|\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?j?)\b)"""
)


def _python_line(line: str, state: State) -> tuple[list[Token], State]:
    if isinstance(state, str):
        head, end = _continue_string(line, state)
        if end is None:
            return head, state
        return _scan(line, _PYTHON, end, head)
    return _scan(line, _PYTHON)


# ---------------------------------------------------------------- TOML

_TOML_TABLE = re.compile(r"^(?P<pre>[ \t]*)(?P<table>\[\[?[^\]#]*\]\]?)")
_TOML_KEY = re.compile(
    r"""^(?P<pre>[ \t]*)(?P<key>(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
    r"""(?:[ \t]*\.[ \t]*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'))*)(?=[ \t]*=)"""
)
_TOML = re.compile(
    r"""(?P<comment>\#.*)"""
    r"""|(?P<open>\"\"\"|''')"""
    r"""|(?P<string>"(?:[^"\\]|\\.)*"?)"""
    r"""|(?P<string2>'[^']*'?)"""
    r"""|(?P<literal>\b(?:true|false|inf|nan)\b)"""
    r"""|(?P<number>(?<![\w.])[-+]?\d[\d_:.TZ+-]*(?:[eE][-+]?\d+)?\b)"""
    r"""|(?P<key>(?:(?<=[{,])|(?<=[{,] ))[A-Za-z0-9_-]+(?=[ \t]*=))"""
    r"""|(?P<punct>[\[\]{},=])"""
)


def _toml_line(line: str, state: State) -> tuple[list[Token], State]:
    if isinstance(state, str):
        head, end = _continue_string(line, state)
        if end is None:
            return head, state
        return _scan(line, _TOML, end, head)
    out: list[Token] = []
    m = _TOML_TABLE.match(line)
    if m is not None:
        out += [(None, m.group("pre")), ("heading", m.group("table"))]
        return _scan(line, _TOML, m.end(), out)
    m = _TOML_KEY.match(line)
    if m is not None:
        out += [(None, m.group("pre")), ("key", m.group("key"))]
        return _scan(line, _TOML, m.end(), out)
    return _scan(line, _TOML)


# ---------------------------------------------------------------- JSON

_JSON = re.compile(
    r"""(?P<key>"(?:[^"\\]|\\.)*"(?=\s*:))"""
    r"""|(?P<string>"(?:[^"\\]|\\.)*"?)"""
    r"""|(?P<literal>\b(?:true|false|null)\b)"""
    r"""|(?P<number>-?\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b)"""
    r"""|(?P<punct>[\[\]{}:,])"""
)


def _json_line(line: str, state: State) -> tuple[list[Token], State]:
    return _scan(line, _JSON)


# ---------------------------------------------------------------- Markdown

_MD_FENCE = re.compile(r"^[ ]{0,3}(?P<fence>`{3,}|~{3,})")
_MD_HEADING = re.compile(r"^[ ]{0,3}#{1,6}(?:[ \t].*)?$")
_MARKDOWN = re.compile(
    r"""(?P<code>`[^`]+`)"""
    r"""|(?P<link>!?\[[^\]]*\]\([^)\s]*(?:[ \t]+"[^"]*")?\))"""
    r"""|(?P<strong>\*\*[^*]+\*\*|__[^_]+__)"""
    r"""|(?P<punct>^[ \t]*(?:[-*+]|\d{1,9}[.)])(?=[ \t])|^[ \t]*>)"""
)


def _markdown_line(line: str, state: State) -> tuple[list[Token], State]:
    # state: the opening fence of a code block, or None.
    fence = _MD_FENCE.match(line)
    if isinstance(state, str):
        if (
            fence is not None
            and fence.group("fence").startswith(state)
            and not line[fence.end() :].strip()
        ):
            return [("punct", line)], None
        return [("code", line)], state
    if fence is not None:
        return [("punct", line)], fence.group("fence")
    if _MD_HEADING.match(line):
        return [("heading", line)], None
    return _scan(line, _MARKDOWN)


# ---------------------------------------------------------------- conf

_CONF = re.compile(
    r"""(?P<comment>^[ \t]*\#.*)"""
    r"""|(?P<key>^[ \t]*[A-Za-z_][A-Za-z0-9_.]*(?=[ \t]*=))"""
    r"""|(?P<punct>^[ \t]*!|=)"""
)


def _conf_line(line: str, state: State) -> tuple[list[Token], State]:
    return _scan(line, _CONF)


LEXERS: dict[str, LineLexer] = {
    "yaml": _yaml_line,
    "python": _python_line,
    "toml": _toml_line,
    "json": _json_line,
    "markdown": _markdown_line,
    "conf": _conf_line,
}


def split_lines(text: str) -> list[str]:
    """Lines of `text` without their line ends (a final newline adds no line)."""
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def highlight(text: str, language: str | None) -> list[SafeString]:
    """The lines of `text` as escaped HTML, tokens wrapped in `tok-*` spans."""
    lexer = LEXERS.get(language or "")
    lines = split_lines(text)
    if lexer is None:
        return [mark_safe(html.escape(line, quote=True)) for line in lines]  # noqa: S308
    out: list[SafeString] = []
    state: State = None
    for line in lines:
        tokens, state = lexer(line, state)
        # Safe: every text piece is escaped by _span; the tags are constants.
        out.append(mark_safe("".join(_span(k, t) for k, t in tokens)))  # noqa: S308
    return out
