"""YAML text for an edited part: PyYAML's safe dumper, in the original's style.

Only parts whose data changed are re-serialised (untouched parts keep their
bytes). What is kept from the original: key order (unknown keys included),
BOM, CRLF line ends, a missing final newline, the indentation of block
sequences, and timestamps written plain (`created_at: 2025-02-27T17:55:38Z`)
stay plain, while every other string that looks like a number, boolean,
date or null is quoted so it still loads as the same text. Comments and
anchors of an edited file are lost.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

import yaml

from studio.pluginfmt.yamlio import decode_text, resolve_scalar_tag

try:
    from yaml import CSafeLoader as _ComposeLoader
except ImportError:  # pragma: no cover - libyaml is in every supported install
    # The pure-Python loader stands in for the C one under the same name; mypy
    # types the name as the C class, which the pure one does not subclass.
    from yaml import SafeLoader as _ComposeLoader  # type: ignore[assignment]

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
# A key line ("name:") followed by a "- " item at the same indentation.
_INDENTLESS = re.compile(r"^( *)[^\s#-][^\n]*:[ \t]*\r?\n\1- ", re.MULTILINE)
_FIRST_INDENT = re.compile(r"^[^\s#-][^\n]*:[ \t]*\r?\n( +)[^\s#-]", re.MULTILINE)
_DOUBLE_QUOTED = re.compile(r"(?:^|[:-] )\"", re.MULTILINE)
_SINGLE_QUOTED = re.compile(r"(?:^|[:-] )'", re.MULTILINE)
# Comment and blank lines before the first content line.
_HEADER = re.compile(r"\A(?:[ \t]*(?:#[^\n]*)?\r?\n)+")
_WIDTH = 1 << 20  # never fold long strings


class _PlainTimestamp(str):
    """A string that was a plain YAML timestamp and may be written plain again."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    indent_sequences = True
    double_quotes = False

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, indentless and not self.indent_sequences)

    def choose_scalar_style(self) -> str:
        style = super().choose_scalar_style()
        # Double quotes can write anything single quotes can.
        if style == "'" and self.double_quotes:
            return '"'
        return style


def _dumper(*, indent_sequences: bool, double_quotes: bool) -> type[_Dumper]:
    return _DUMPERS[indent_sequences, double_quotes]


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_str(value)


def _represent_timestamp(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar(_TIMESTAMP, str(value))


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_PlainTimestamp, _represent_timestamp)
_DUMPERS = {
    (seq, dq): type(
        "_StyledDumper", (_Dumper,), {"indent_sequences": seq, "double_quotes": dq}
    )
    for seq in (True, False)
    for dq in (True, False)
}


def dump_yaml(data: Any, *, like: bytes | None = None) -> bytes:
    """YAML bytes of `data`, in the style of the original text `like` if given."""
    indentless = False
    double_quotes = False
    indent = 2
    text = header = ""
    if like is not None:
        text, _ = decode_text(like)
        indentless = bool(_INDENTLESS.search(text))
        first = _FIRST_INDENT.search(text)
        if first and len(first.group(1)) in (2, 3, 4):
            indent = len(first.group(1))
        double_quotes = len(_DOUBLE_QUOTED.findall(text)) > len(
            _SINGLE_QUOTED.findall(text)
        )
        match = _HEADER.match(text)
        header = match.group(0).replace("\r\n", "\n") if match else ""
        data = _mark_timestamps(data, _plain_timestamp_paths(text), ())
    out = header + yaml.dump(
        data,
        Dumper=_dumper(indent_sequences=not indentless, double_quotes=double_quotes),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=_WIDTH,
        indent=indent,
    )
    if like is not None:
        if "\r\n" in text:
            out = out.replace("\n", "\r\n")
        if not like.endswith(b"\n"):
            out = out.rstrip("\r\n")
    raw = out.encode("utf-8")
    if like is not None and like.startswith(codecs.BOM_UTF8):
        raw = codecs.BOM_UTF8 + raw
    return raw


def _plain_timestamp_paths(text: str) -> set[tuple[str, ...]]:
    """Paths (keys as text, indexes as str) of plain timestamp scalars."""
    try:
        root = next(iter(yaml.compose_all(text, Loader=_ComposeLoader)), None)
    except yaml.YAMLError:
        return set()
    found: set[tuple[str, ...]] = set()
    seen: set[int] = set()

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _TIMESTAMP and not node.style:
                found.add(path)
            return
        # An alias repeats a node; walking it once is enough and bounds the work.
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, str(i)))

    if root is not None:
        walk(root, ())
    return found


def _mark_timestamps(
    data: Any, paths: set[tuple[str, ...]], path: tuple[str, ...]
) -> Any:
    if not paths:
        return data
    if isinstance(data, dict):
        return {k: _mark_timestamps(v, paths, (*path, str(k))) for k, v in data.items()}
    if isinstance(data, list):
        return [_mark_timestamps(v, paths, (*path, str(i))) for i, v in enumerate(data)]
    if isinstance(data, str) and path in paths and _is_timestamp(data):
        return _PlainTimestamp(data)
    return data


def _is_timestamp(text: str) -> bool:
    # The same implicit resolution a YAML loader applies to a plain scalar.
    return resolve_scalar_tag(text, (True, False)) == _TIMESTAMP
