"""Safe YAML loading with line numbers, for plugin files.

PyYAML's safe loader has no limit on alias expansion or nesting, turns
timestamps into datetimes (losing `created_at` precision) and silently keeps
the last of duplicate keys, which Go's yaml.v3 refuses. This loader builds
plain Python data from the C parser's events, records the line of every key
and item, keeps timestamps as their original text, and refuses documents that
are too deep or expand too far.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

try:
    from yaml import CBaseLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is in every supported install
    # The pure-Python loader stands in for the C one under the same name; mypy
    # types the name as the C class, which the pure one does not subclass.
    from yaml import BaseLoader as _Loader  # type: ignore[assignment]

Path = tuple[str | int, ...]

MAX_DEPTH = 64
MAX_NODES = 200_000

# types-PyYAML leaves Resolver.resolve unannotated: what it takes and gives.
_resolve: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = (
    yaml.resolver.Resolver().resolve
)
_constructor = yaml.constructor.SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class YamlError(ValueError):
    """A YAML text that cannot be loaded safely; `line` is 1-based or None."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass
class LoadedYaml:
    """Plain data of one YAML document with the line of each key and item."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicate_keys: list[tuple[Path, int]] = field(default_factory=list)
    has_bom: bool = False

    def line_of(self, *path: str | int) -> int | None:
        """Line of `path`, or of its closest ancestor that has one."""
        p: Path = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)


def decode_text(raw: bytes | str) -> tuple[str, bool]:
    """UTF-8 text of a file, without its BOM, and whether it had one."""
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff"), raw.startswith("\ufeff")
    has_bom = raw.startswith(codecs.BOM_UTF8)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlError("the file is not UTF-8 text", line=line) from None
    if "\x00" in text:
        raise YamlError("the file contains NUL bytes (binary data?)")
    return text, has_bom


def resolve_scalar_tag(value: str, implicit: tuple[bool, bool]) -> str:
    """The tag PyYAML gives a plain scalar (`tag:yaml.org,2002:int` for `12`)."""
    return _resolve(yaml.ScalarNode, value, implicit)


def _scalar(event: yaml.ScalarEvent) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        if event.implicit[0]:
            tag = resolve_scalar_tag(event.value, event.implicit)
        else:
            tag = _STR
    if tag in (_STR, _TIMESTAMP):
        return event.value
    if tag == _NULL:
        return None
    node = yaml.ScalarNode(tag, event.value)
    if tag == _BOOL:
        return _constructor.construct_yaml_bool(node)
    if tag == _INT:
        return _constructor.construct_yaml_int(node)
    if tag == _FLOAT:
        return _constructor.construct_yaml_float(node)
    if tag == _MERGE:
        return _MergeKey
    line = event.start_mark.line + 1 if event.start_mark else None
    raise YamlError(f"unsupported YAML tag {tag!r}", line=line)


class _MergeKeyType:
    pass


_MergeKey = _MergeKeyType()


class _Frame:
    __slots__ = ("anchor", "container", "key", "key_line", "path", "size")

    def __init__(self, container: Any, path: Path, anchor: str | None) -> None:
        self.container = container
        self.path = path
        self.key: Any = None
        self.key_line = 0
        self.size = 1
        self.anchor = anchor


def load_yaml(
    raw: bytes | str,
    *,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
) -> LoadedYaml:
    """Load the first YAML document of `raw` as plain data with line numbers."""
    text, has_bom = decode_text(raw)
    result = LoadedYaml(data=None, has_bom=has_bom)
    anchors: dict[str, tuple[Any, int]] = {}
    stack: list[_Frame] = []
    total = 0
    documents = 0

    def attach(value: Any, size: int, line: int, anchor: str | None) -> None:
        nonlocal total
        total += size
        if total > max_nodes:
            raise YamlError(
                f"the document expands to more than {max_nodes} values "
                "(YAML alias bomb?)",
                line=line,
            )
        if anchor:
            anchors[anchor] = (value, size)
        if not stack:
            result.data = value
            result.lines[()] = line
            return
        frame = stack[-1]
        frame.size += size
        container = frame.container
        if isinstance(container, list):
            path = (*frame.path, len(container))
            result.lines[path] = line
            container.append(value)
            return
        if frame.key is None and not frame.key_line:
            if isinstance(value, (dict, list)):
                raise YamlError("a mapping key must be a plain value", line=line)
            frame.key = value
            frame.key_line = line
            return
        key, key_line = frame.key, frame.key_line
        frame.key, frame.key_line = None, 0
        if key is _MergeKey:
            sources = value if isinstance(value, list) else [value]
            for source in sources:
                if not isinstance(source, dict):
                    raise YamlError("a merge key needs a mapping", line=key_line)
                for k, v in source.items():
                    container.setdefault(k, v)
            return
        path = (*frame.path, key)
        if key in container:
            result.duplicate_keys.append((path, key_line))
        container[key] = value
        result.lines[path] = key_line

    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1 if event.start_mark else 0
            if isinstance(event, yaml.ScalarEvent):
                if "\x00" in event.value:
                    # Written as "\0" or "\x00" in a quoted string: no database
                    # column (PostgreSQL text or jsonb, the studio's or Dify's)
                    # can hold it.
                    raise YamlError(
                        "a string holds a NUL character (\\0), which Dify and "
                        "the studio cannot store",
                        line=line,
                    )
                attach(_scalar(event), 1, line, event.anchor)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if event.tag not in (None, "!", _MAP, _SEQ):
                    raise YamlError(f"unsupported YAML tag {event.tag!r}", line=line)
                if len(stack) >= max_depth:
                    raise YamlError(
                        f"the document is nested deeper than {max_depth} levels",
                        line=line,
                    )
                parent_path: Path = ()
                if stack:
                    top = stack[-1]
                    if isinstance(top.container, list):
                        parent_path = (*top.path, len(top.container))
                    elif top.key_line:
                        parent_path = (*top.path, top.key)
                    else:
                        raise YamlError(
                            "a mapping key must be a plain value", line=line
                        )
                container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
                frame = _Frame(container, parent_path, event.anchor)
                frame.key_line = 0
                stack.append(frame)
                result.lines.setdefault(parent_path, line)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                # The frame's own size was counted value by value already.
                total -= frame.size - 1
                attach(
                    frame.container,
                    frame.size,
                    result.lines.get(frame.path, line),
                    frame.anchor,
                )
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise YamlError(f"unknown alias *{event.anchor}", line=line)
                value, size = anchors[event.anchor]
                attach(value, size, line, None)
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    break
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise YamlError(message, line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc)) from None
    except RecursionError:
        raise YamlError("the document is nested too deeply") from None
    return result
