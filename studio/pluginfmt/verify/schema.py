"""A small type schema of the YAML files, checked the way Go's yaml.v3 decodes them.

Go decodes every declared YAML into typed structs: a mapping where a string
is expected, or a scalar where a list is expected, fails the package and the
install. Unknown keys are ignored by both Go and pydantic, which hides typos,
so they are reported as warnings. The SDK additionally refuses numbers and
booleans where it types a field as `str` (Go would take their text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ..yamlio import LoadedYaml, resolve_scalar_tag
from .context import Context

LANGUAGES = ("en_US", "zh_Hans", "ja_JP", "pt_BR")

# Plain scalars that YAML 1.1 (PyYAML) leaves as strings but YAML 1.2 (Go)
# reads as numbers, e.g. `1e6`; such a value was most likely unquoted.
_YAML12_NUMBER = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
_STR_TAG = "tag:yaml.org,2002:str"
# yaml.v3 accepts these strings for a bool field (YAML 1.1 compatibility).
_GO_BOOL_WORDS = {
    "y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
    "n", "N", "no", "No", "NO", "off", "Off", "OFF",
}  # fmt: skip


class Node:
    """A schema node; subclasses say which Python values Go can decode."""

    label = "a value"

    def go_ok(self, value: Any) -> bool:
        return True


@dataclass
class Str(Node):
    """A Go string field; `sdk` when pydantic types it `str` too."""

    sdk: bool = True
    label = "text"

    def go_ok(self, value: Any) -> bool:
        return not isinstance(value, (dict, list))


class Bool(Node):
    label = "true or false"

    def go_ok(self, value: Any) -> bool:
        return (
            value is None
            or isinstance(value, bool)
            or (isinstance(value, str) and value in _GO_BOOL_WORDS)
        )


def looks_unquoted_number(value: str) -> bool:
    """Whether Go reads this PyYAML string as a number (so it was unquoted)."""
    if not _YAML12_NUMBER.fullmatch(value):
        return False
    # PyYAML would have read an unquoted number itself: this one was quoted.
    return resolve_scalar_tag(value, (True, False)) == _STR_TAG


class Number(Node):
    label = "a number"

    def go_ok(self, value: Any) -> bool:
        if value is None:
            return True
        if isinstance(value, bool):
            return False
        if isinstance(value, (int, float)):
            return True
        return isinstance(value, str) and looks_unquoted_number(value)


class DecimalNode(Node):
    label = "a decimal number"

    def go_ok(self, value: Any) -> bool:
        return not isinstance(value, (dict, list))


def parse_decimal(value: Any) -> Decimal | None:
    """The value as a Decimal, or None when Go's decimal parser would refuse it."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


class AnyMap(Node):
    label = "a mapping"

    def go_ok(self, value: Any) -> bool:
        return value is None or isinstance(value, dict)


class AnyValue(Node):
    pass


@dataclass
class I18n(Node):
    """An I18nObject; `empty_ok` where the SDK fills a missing label itself."""

    empty_ok: bool = False
    go_only: bool = False  # the SDK drops the field: only Go's decoding matters
    label = "a mapping of language to text"

    def go_ok(self, value: Any) -> bool:
        return value is None or isinstance(value, dict)


@dataclass
class Map(Node):
    fields: dict[str, Node] = field(default_factory=dict)
    open: bool = False  # unknown keys expected (no warning)
    label = "a mapping"

    def go_ok(self, value: Any) -> bool:
        return value is None or isinstance(value, dict)


@dataclass
class List(Node):
    item: Node = field(default_factory=AnyValue)
    label = "a list"

    def go_ok(self, value: Any) -> bool:
        return value is None or isinstance(value, list)


def describe(value: Any) -> str:
    """A few words naming the YAML type of `value`."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the number {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}" if len(value) < 60 else "a text"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def dotted(path: tuple[Any, ...]) -> str:
    """`a.b[0].c` for a path tuple."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


@dataclass
class Walker:
    """Checks one loaded YAML file against a schema."""

    ctx: Context
    file: str
    loaded: LoadedYaml
    kind: str  # manifest | provider | model

    def line(self, path: tuple[Any, ...]) -> int | None:
        return self.loaded.line_of(*path)

    def walk(self, node: Node, value: Any, path: tuple[Any, ...]) -> None:
        """Report Go decode errors, SDK string errors and unknown keys under `path`."""
        if not node.go_ok(value):
            self.ctx.add(
                f"{self.kind}.field-type",
                self.file,
                self.line(path),
                f"`{dotted(path)}` must be {node.label}, not {describe(value)}; "
                "the daemon cannot decode it.",
                value=value,
            )
            return
        if isinstance(node, Str):
            if node.sdk and isinstance(value, (bool, int, float)):
                self.ctx.add(
                    "value.not-string",
                    self.file,
                    self.line(path),
                    f"`{dotted(path)}` is {describe(value)}, but the SDK requires "
                    "text here.",
                    value=value,
                    fix=f'Quote it: "{_yaml_text(value)}".',
                )
        elif isinstance(node, I18n):
            self.i18n(node, value, path)
        elif isinstance(node, Map) and isinstance(value, dict):
            for key, sub in value.items():
                child = node.fields.get(key) if isinstance(key, str) else None
                if child is None:
                    if not node.open:
                        self.ctx.add(
                            f"{self.kind}.unknown-key",
                            self.file,
                            self.line((*path, key)),
                            f"Unknown key `{key}`"
                            + (f" in `{dotted(path)}`" if path else "")
                            + " is ignored by Dify.",
                            value=str(key),
                        )
                    continue
                self.walk(child, sub, (*path, key))
        elif isinstance(node, List) and isinstance(value, list):
            for i, item in enumerate(value):
                self.walk(node.item, item, (*path, i))

    def i18n(self, node: I18n, value: Any, path: tuple[Any, ...]) -> None:
        """Check one I18nObject: language keys, text types, en_US, lengths."""
        if value is None or (node.empty_ok and not value):
            return
        manifest = self.kind == "manifest"
        where = dotted(path)
        for key, text in value.items():
            if key not in LANGUAGES:
                self.ctx.add(
                    "i18n.unknown-language",
                    self.file,
                    self.line((*path, key)),
                    f"`{where}` has the language key `{key}`, which Dify drops "
                    "(only en_US, zh_Hans, ja_JP, pt_BR exist).",
                    value=str(key),
                )
                continue
            if isinstance(text, (dict, list)):
                self.ctx.add(
                    "i18n.type",
                    self.file,
                    self.line((*path, key)),
                    f"`{where}.{key}` must be text, not {describe(text)}.",
                    value=text,
                )
            elif isinstance(text, (bool, int, float)) and not node.go_only:
                self.ctx.add(
                    "i18n.value-not-string",
                    self.file,
                    self.line((*path, key)),
                    f"`{where}.{key}` is {describe(text)}; the SDK requires text.",
                    value=text,
                    fix=f'Quote it: "{_yaml_text(text)}".',
                )
            elif isinstance(text, str) and len(text) >= 1024:
                self.ctx.add(
                    "manifest.i18n.too-long" if manifest else "i18n.too-long",
                    self.file,
                    self.line((*path, key)),
                    f"`{where}.{key}` is {len(text)} characters long; the limit "
                    "is 1023.",
                    value=text[:80],
                )
        en = value.get("en_US")
        if en is None and node.go_only:
            self.ctx.add(
                "i18n.en-us-empty",
                self.file,
                self.line(path),
                f"`{where}` has no en_US text, so Dify shows it empty.",
                value=value,
            )
        elif en is None:
            self.ctx.add(
                "manifest.i18n.en-us-missing" if manifest else "i18n.en-us-missing",
                self.file,
                self.line(path),
                f"`{where}` has no en_US text"
                + (
                    "; the packager and the SDK require it."
                    if manifest
                    else "; the SDK refuses to start without it."
                ),
                value=value,
            )
        elif en == "":
            self.ctx.add(
                "manifest.i18n.en-us-missing" if manifest else "i18n.en-us-empty",
                self.file,
                self.line((*path, "en_US")),
                f"`{where}.en_US` is empty.",
                value=en,
            )


def _yaml_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def check(ctx: Context, file: str, loaded: LoadedYaml, kind: str, node: Node) -> None:
    """Walk the whole file `file` against `node`."""
    Walker(ctx, file, loaded, kind).walk(node, loaded.data, ())


# --- the schemas ---------------------------------------------------------------

# `models:` key -> the model_type it holds
TYPE_KEYS = {
    "llm": "llm",
    "text_embedding": "text-embedding",
    "rerank": "rerank",
    "tts": "tts",
    "speech2text": "speech2text",
    "moderation": "moderation",
}
PLUGIN_LISTS = (
    "tools",
    "models",
    "endpoints",
    "agent_strategies",
    "datasources",
    "triggers",
)
POSITION_KEYS = ("llm", "text_embedding", "rerank", "tts", "speech2text", "moderation")

STR = Str()
GO_STR = Str(sdk=False)
BOOL = Bool()
NUM = Number()
I18N = I18n()

_PERMISSION = Map(
    {
        "tool": Map({"enabled": BOOL}),
        "model": Map(dict.fromkeys(("enabled", *POSITION_KEYS), BOOL)),
        "node": Map({"enabled": BOOL}),
        "endpoint": Map({"enabled": BOOL}),
        "app": Map({"enabled": BOOL}),
        "storage": Map({"enabled": BOOL, "size": NUM}),
    }
)

MANIFEST = Map(
    {
        "version": STR,
        "type": GO_STR,  # manifest.type.invalid says it
        "author": STR,
        "name": STR,
        "label": I18N,
        "description": I18N,
        "icon": STR,
        "icon_dark": STR,
        "resource": Map({"memory": NUM, "permission": _PERMISSION}),
        "plugins": Map(dict.fromkeys(PLUGIN_LISTS, List(STR))),
        "meta": Map(
            {
                "version": STR,
                "arch": List(GO_STR),  # enums get their own rules
                "runner": Map({"language": GO_STR, "version": STR, "entrypoint": STR}),
                "minimum_dify_version": STR,
            }
        ),
        "tags": List(GO_STR),
        "created_at": AnyValue(),  # checked on its own (timestamp formats)
        "privacy": GO_STR,
        "repo": GO_STR,
        "contact": AnyValue(),  # Marketplace only (Dify ignores it); own rules
        "verified": BOOL,
    }
)

# show_on and option values get their own SDK rules (provider.credential.*).
_SHOW_ON = List(Map({"variable": GO_STR, "value": GO_STR}))
CREDENTIAL = Map(
    {
        "variable": STR,
        "label": I18N,
        "type": GO_STR,
        "required": BOOL,
        "default": AnyValue(),  # its own rule: the SDK wants a string
        "options": List(Map({"label": I18N, "value": GO_STR, "show_on": _SHOW_ON})),
        "placeholder": I18N,
        "max_length": NUM,
        "show_on": _SHOW_ON,
        "help": I18n(go_only=True),  # the SDK drops it
        "url": GO_STR,  # Go only
    }
)

PROVIDER = Map(
    {
        "provider": STR,
        "label": I18N,
        "description": I18N,
        "icon_small": I18N,
        "icon_large": I18N,
        "icon_small_dark": I18N,
        "icon_large_dark": I18N,
        "background": STR,
        "help": Map({"title": I18N, "url": I18N}),
        "supported_model_types": List(GO_STR),
        "configurate_methods": List(GO_STR),
        "provider_credential_schema": Map(
            {"credential_form_schemas": List(CREDENTIAL)}
        ),
        "model_credential_schema": Map(
            {
                "model": Map({"label": I18N, "placeholder": I18N}),
                "credential_form_schemas": List(CREDENTIAL),
            }
        ),
        "position": Map(dict.fromkeys(POSITION_KEYS, List(STR))),
        "models": AnyValue(),  # checked on its own (Go parses it loosely)
        "extra": AnyValue(),  # Go ignores it; the SDK part is checked on its own
    }
)

PARAMETER_RULE = Map(
    {
        "name": STR,
        "use_template": STR,
        "label": I18n(empty_ok=True),
        "type": GO_STR,
        "help": I18N,
        "required": BOOL,
        "default": AnyValue(),
        "min": NUM,
        "max": NUM,
        "precision": NUM,
        "options": List(STR),
    }
)

MODEL = Map(
    {
        "model": STR,
        "label": I18n(empty_ok=True),
        "model_type": GO_STR,
        "features": List(STR),
        "fetch_from": GO_STR,
        "model_properties": AnyMap(),
        "deprecated": BOOL,
        "parameter_rules": List(PARAMETER_RULE),
        "pricing": Map(
            {
                "input": DecimalNode(),
                "output": DecimalNode(),
                "unit": DecimalNode(),
                "currency": STR,
            }
        ),
    }
)
