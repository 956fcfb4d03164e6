"""Checks of `_position.yaml` files (format doc §3.3-3.4)."""

from __future__ import annotations

from typing import Any

from ..yamlio import YamlError
from .context import Context, ProviderInfo
from .schema import TYPE_KEYS, describe


def _names_for(info: ProviderInfo, key: str) -> set[str]:
    names: set[str] = set()
    for mf in info.model_files:
        if mf.data is None:
            continue
        name = mf.data.get("model")
        if not isinstance(name, str):
            continue
        if key in mf.keys or mf.data.get("model_type") == TYPE_KEYS[key]:
            names.add(name)
    return names


def _go_decodes(data: Any) -> bool:
    # Go decodes the position file into []string: null, or a list of scalars.
    return data is None or (
        isinstance(data, list) and all(not isinstance(i, (dict, list)) for i in data)
    )


def _sdk_accepts(data: Any) -> bool:
    # The SDK validates it as list[str] | None, after PyYAML's YAML 1.1 typing.
    return data is None or (
        isinstance(data, list) and all(isinstance(i, str) for i in data)
    )


def check_positions(ctx: Context, info: ProviderInfo) -> None:
    """Check every position file of the provider, as Go and the SDK read it."""
    # Who reads which position file decides the severity. Go reads the file
    # named by `models.<type>.position` and decodes it into []string: a YAML
    # error or a non-list there fails the package and the install. The SDK
    # ignores `position:` and reads a `_position.yaml` only if a `predefined`
    # glob matches it, validating list[str]: a failure there kills start-up.
    # A position file neither reads is harmless.
    #
    # regolo's llm file indents every line after the first by one space. YAML
    # then reads those lines as the continuation of the first item's plain
    # scalar: the result is a list holding ONE long string. That is a valid
    # []string for Go and a valid list[str] for the SDK - which is why regolo
    # really installs - so the only defects are a folded item and a name that
    # matches no model: warnings, not errors.
    keys = sorted(set(info.declared_positions) | set(info.globbed_positions))
    for key in keys:
        declared = info.declared_positions.get(key)
        globbed = info.globbed_positions.get(key, [])
        files = ([declared] if declared in ctx.files else []) + [
            g for g in globbed if g != declared
        ]
        if declared and declared in ctx.files and declared not in globbed:
            ctx.add(
                "provider.models.position-not-globbed",
                info.path,
                info.loaded.line_of("models", key, "position"),
                f"{declared} is declared as position but no `models.{key}.predefined` "
                "glob matches it, so the SDK ignores the ordering.",
                value=declared,
            )
        for pos in globbed:
            if key in info.declared_positions:
                continue
            ctx.add(
                "provider.models.position-undeclared",
                info.path,
                info.loaded.line_of("models", key),
                f"{pos} is used by the SDK but not declared as "
                f"`models.{key}.position`, so packaged installs ignore the ordering.",
                value=pos,
            )
        for pos in files:
            _check_position_file(ctx, info, key, pos, go_reads=pos == declared)


def _check_position_file(
    ctx: Context, info: ProviderInfo, key: str, pos: str, *, go_reads: bool
) -> None:
    ctx.used_yaml.add(pos)
    result = ctx.parse(pos)
    sdk_reads = pos in info.globbed_positions.get(key, [])
    if isinstance(result, YamlError):
        rule = "position.invalid" if go_reads else "position.invalid-sdk"
        reader = "the daemon" if go_reads else "the SDK"
        ctx.add(
            rule,
            pos,
            result.line,
            f"{pos} is not valid YAML ({result.message}); {reader} refuses it.",
        )
        return
    data = result.data
    if go_reads and not _go_decodes(data):
        rule, reader = "position.invalid", "the daemon"
    elif sdk_reads and not _sdk_accepts(data):
        # Go takes the text of numbers and booleans; PyYAML does not.
        rule, reader = "position.invalid-sdk", "the SDK"
    else:
        rule = ""
    if rule:
        line, item = result.line_of(), data
        if isinstance(data, list):
            for i, value in enumerate(data):
                if not isinstance(value, str):
                    line, item = result.line_of(i), value
                    break
        ctx.add(
            rule,
            pos,
            line,
            f"{pos} must be a list of model ids; {reader} cannot read "
            f"{describe(item)} in it.",
            value=item if not isinstance(item, (dict, list)) else None,
        )
        return
    if not isinstance(data, list):
        return
    names = _names_for(info, key)
    listed: set[str] = set()
    for i, item in enumerate(data):
        if not isinstance(item, str):
            continue
        if item in listed:
            ctx.add(
                "position.duplicate",
                pos,
                result.line_of(i),
                f"{item!r} is listed twice.",
                value=item,
            )
        listed.add(item)
        if item in names:
            continue
        parts = [p.strip() for p in item.split(" - ")]
        if len(parts) > 1 and all(parts):
            ctx.add(
                "position.folded-item",
                pos,
                result.line_of(i),
                f"Item {i + 1} holds {len(parts)} names folded into one string "
                "because the lines after it are indented differently; Dify "
                "sees one unknown model.",
                value=item[:120],
            )
        else:
            ctx.add(
                "position.unknown-model",
                pos,
                result.line_of(i),
                f"{item!r} is no {TYPE_KEYS[key]} model of this provider.",
                value=item,
            )
    unlisted = sorted(names - listed)
    if unlisted and names:
        shown = ", ".join(unlisted[:5]) + (" …" if len(unlisted) > 5 else "")
        ctx.add(
            "position.unlisted-models",
            pos,
            None,
            f"{len(unlisted)} {TYPE_KEYS[key]} models are not listed and sort "
            f"last: {shown}.",
            value=unlisted,
        )
