"""Checks of the provider YAML and its credential forms (format doc §3, §9)."""

from __future__ import annotations

import re
from typing import Any

from ..yamlio import LoadedYaml
from . import models, schema
from .context import Context, ProviderInfo
from .schema import describe

SDK_MODEL_TYPES = {
    "llm",
    "text-embedding",
    "rerank",
    "speech2text",
    "moderation",
    "tts",
}
CONFIGURATE_METHODS = {"predefined-model", "customizable-model"}
FORM_TYPES = {"text-input", "secret-input", "select", "radio", "switch"}
PROVIDER_ID_RE = re.compile(r"[a-z0-9_-]{1,255}")
COLOUR_RE = re.compile(r"#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
MODEL_TYPE = "__model_type"


def check_providers(ctx: Context) -> None:
    """Check every provider YAML the manifest lists, and the models it finds."""
    plugins = ctx.manifest.get("plugins") if ctx.manifest else None
    paths = plugins.get("models") if isinstance(plugins, dict) else None
    if not isinstance(paths, list):
        return
    for raw in paths:
        if not isinstance(raw, str) or not raw:
            continue
        path = raw.removeprefix("./")
        if path in ctx.files and path not in {p.path for p in ctx.providers}:
            _check_provider(ctx, path)


def _check_provider(ctx: Context, path: str) -> None:
    loaded = ctx.load_declared(path)
    if loaded is None:
        return
    data = loaded.data
    if not isinstance(data, dict) or not data:
        ctx.add(
            "provider.not-mapping",
            path,
            loaded.line_of(),
            f"The provider YAML must be a mapping of fields, not {describe(data)}.",
        )
        return
    schema.check(ctx, path, loaded, "provider", schema.PROVIDER)
    info = ProviderInfo(path=path, loaded=loaded, data=data)
    ctx.providers.append(info)

    for key in ("provider", "label", "supported_model_types", "configurate_methods"):
        if data.get(key) is None:
            ctx.add(
                "provider.required",
                path,
                loaded.line_of(key) if key in data else loaded.line_of(),
                f"`{key}` is required in the provider YAML; the SDK refuses to "
                "start without it.",
            )
    provider_id = data.get("provider")
    if isinstance(provider_id, str) and not PROVIDER_ID_RE.fullmatch(provider_id):
        ctx.add(
            "provider.name.pattern",
            path,
            loaded.line_of("provider"),
            f"provider {provider_id!r} should be made of a-z, 0-9, _ and - (it "
            "becomes part of author/plugin/provider ids).",
            value=provider_id,
        )
    _check_types_and_methods(ctx, info)
    _check_help_and_look(ctx, path, loaded, data)
    _check_icons(ctx, path, loaded, data)
    _check_schemas(ctx, path, loaded, data)
    models.check_models_block(ctx, info)


def _check_types_and_methods(ctx: Context, info: ProviderInfo) -> None:
    path, loaded, data = info.path, info.loaded, info.data
    types = data.get("supported_model_types")
    if isinstance(types, list):
        if not types:
            ctx.add(
                "provider.model-types.empty",
                path,
                loaded.line_of("supported_model_types"),
                "supported_model_types is empty.",
            )
        for i, kind in enumerate(types):
            if isinstance(kind, (dict, list)):
                continue
            if kind in SDK_MODEL_TYPES:
                info.supported_types.add(kind)
            elif kind == "text2img":
                ctx.add(
                    "provider.model-types.text2img",
                    path,
                    loaded.line_of("supported_model_types", i),
                    "text2img is accepted but the SDK has no model class for it.",
                    value=kind,
                )
            else:
                hint = ""
                if kind == "text_embedding":
                    hint = " (write text-embedding, with a hyphen, here)"
                ctx.add(
                    "provider.model-types.invalid",
                    path,
                    loaded.line_of("supported_model_types", i),
                    f"supported_model_types holds {describe(kind)}, which the SDK "
                    f"does not know{hint}.",
                    value=kind,
                )
    methods = data.get("configurate_methods")
    if isinstance(methods, list):
        if not methods:
            ctx.add(
                "provider.configurate-methods.empty",
                path,
                loaded.line_of("configurate_methods"),
                "configurate_methods is empty.",
            )
        for i, method in enumerate(methods):
            if isinstance(method, (dict, list)) or method in CONFIGURATE_METHODS:
                continue
            ctx.add(
                "provider.configurate-methods.invalid",
                path,
                loaded.line_of("configurate_methods", i),
                f"configurate_methods holds {describe(method)}; only predefined-model "
                "and customizable-model exist.",
                value=method,
            )
        if (
            "customizable-model" in methods
            and data.get("model_credential_schema") is None
        ):
            ctx.add(
                "provider.customizable.no-model-schema",
                path,
                loaded.line_of("configurate_methods"),
                "customizable-model is selected, but there is no "
                "model_credential_schema for the add-model dialog.",
            )


def _check_help_and_look(
    ctx: Context, path: str, loaded: LoadedYaml, data: dict[str, Any]
) -> None:
    help_ = data.get("help")
    if isinstance(help_, dict):
        missing = [k for k in ("title", "url") if help_.get(k) is None]
        if missing:
            ctx.add(
                "provider.help.incomplete",
                path,
                loaded.line_of("help"),
                f"help has no {' and no '.join(missing)}; the SDK requires both "
                "title and url.",
                value=missing,
            )
    background = data.get("background")
    if isinstance(background, str) and not COLOUR_RE.fullmatch(background.strip()):
        ctx.add(
            "provider.background.invalid",
            path,
            loaded.line_of("background"),
            f"background {background!r} is not a CSS hex colour (#RGB or #RRGGBB).",
            value=background,
        )


def _check_icons(
    ctx: Context, path: str, loaded: LoadedYaml, data: dict[str, Any]
) -> None:
    if data.get("icon_small") is None:
        ctx.add(
            "provider.icon.missing",
            path,
            loaded.line_of(),
            "The provider has no icon_small; Dify shows a blank icon.",
        )
    for key, rule in (
        ("icon_small", "provider.icon.missing-file"),
        ("icon_large", "provider.icon.missing-file"),
        ("icon_small_dark", "provider.icon-dark.missing-file"),
        ("icon_large_dark", "provider.icon-dark.missing-file"),
    ):
        icons = data.get(key)
        if not isinstance(icons, dict):
            continue
        for lang in schema.LANGUAGES:
            name = icons.get(lang)
            if name is None or name == "" or isinstance(name, (dict, list)):
                continue
            if ctx.assets and str(name) not in ctx.assets:
                ctx.add(
                    rule,
                    path,
                    loaded.line_of(key, lang),
                    f"{key}.{lang} names {str(name)!r}, but there is no "
                    f"_assets/{name}.",
                    value=name,
                )


def _check_schemas(
    ctx: Context, path: str, loaded: LoadedYaml, data: dict[str, Any]
) -> None:
    for key in ("provider_credential_schema", "model_credential_schema"):
        block = data.get(key)
        if not isinstance(block, dict):
            continue
        if key == "model_credential_schema":
            model = block.get("model")
            if not isinstance(model, dict) or model.get("label") is None:
                ctx.add(
                    "provider.model-schema.no-model",
                    path,
                    loaded.line_of(key, "model"),
                    "model_credential_schema needs model: {label: ...} for the "
                    "model-name field; the SDK refuses it otherwise.",
                )
        forms = block.get("credential_form_schemas")
        if forms is None:
            ctx.add(
                "provider.credential-schema.no-forms",
                path,
                loaded.line_of(key),
                f"{key} has no credential_form_schemas list; the SDK refuses it.",
            )
        elif isinstance(forms, list):
            _check_form(ctx, path, loaded, forms, (key, "credential_form_schemas"))


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _show_on_key(show_on: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(show_on, list):
        return ()
    return tuple(
        sorted(
            (str(c.get("variable")), str(c.get("value")))
            for c in show_on
            if isinstance(c, dict)
        )
    )


def _check_form(
    ctx: Context,
    path: str,
    loaded: LoadedYaml,
    fields: list[Any],
    where: tuple[str, str],
) -> None:
    in_provider = where[0] == "provider_credential_schema"
    if len(fields) > 32:
        ctx.add(
            "provider.credential.too-many",
            path,
            loaded.line_of(*where),
            f"{where[0]} has {len(fields)} fields; the daemon allows 32 when a "
            "plugin registers by remote debugging.",
            value=len(fields),
        )
    variables = {
        f.get("variable")
        for f in fields
        if isinstance(f, dict) and isinstance(f.get("variable"), str)
    }
    seen: dict[tuple[Any, ...], int] = {}
    for i, field_ in enumerate(fields):
        if not isinstance(field_, dict):
            continue
        at = (*where, i)
        var = field_.get("variable")
        name = var if isinstance(var, str) and var else f"field {i + 1}"

        def add(
            rule: str,
            key: tuple[Any, ...],
            message: str,
            at: tuple[Any, ...] = at,
            **kw: Any,
        ) -> None:
            ctx.add(rule, path, loaded.line_of(*at, *key), message, **kw)

        if var is None or var == "":
            add(
                "provider.credential.variable-missing",
                (),
                f"Credential {name} of {where[0]} has no variable name.",
            )
        if field_.get("label") is None:
            add(
                "provider.credential.label-missing",
                (),
                f"Credential `{name}` has no label; the SDK requires one.",
            )
        kind = field_.get("type")
        if not isinstance(kind, (dict, list)) and kind not in FORM_TYPES:
            add(
                "provider.credential.type-invalid",
                ("type",),
                f"Credential `{name}` has type {describe(kind)}; use text-input, "
                "secret-input, select, radio or switch.",
                value=kind,
            )
        if "required" not in field_:
            add(
                "provider.credential.required-implicit",
                (),
                f"Credential `{name}` omits `required`: packaged installs (Go "
                "decoder) then treat it as optional, remote debugging (SDK) as "
                "required.",
                value=name,
            )
        default = field_.get("default")
        if default is not None and not isinstance(default, str):
            add(
                "provider.credential.default-not-string",
                ("default",),
                f"Credential `{name}` has default {describe(default)}; the SDK "
                "accepts only a string.",
                value=default,
                fix=f'Quote it: default: "{_text(default)}".',
            )
        for what, value in (("variable", var), ("default", default)):
            if isinstance(value, str) and len(value) >= 256:
                add(
                    "provider.credential.too-long",
                    (what,),
                    f"Credential `{name}` has a {what} of {len(value)} characters; "
                    "the limit is 255.",
                    value=value[:80],
                )
        options = field_.get("options")
        values = _check_options(
            ctx, path, loaded, at, name, options, variables, in_provider
        )
        if kind in ("select", "radio") and not options:
            add(
                "provider.credential.options-missing",
                (),
                f"Credential `{name}` is a {kind} without options.",
            )
        if isinstance(default, str) and values and default not in values:
            add(
                "provider.credential.default-not-in-options",
                ("default",),
                f"Credential `{name}` defaults to {default!r}, which is not one of "
                "its option values.",
                value=default,
            )
        _check_show_on(
            ctx, path, loaded, (*at, "show_on"), name, field_.get("show_on"),
            variables, in_provider,
        )  # fmt: skip
        if var not in (None, "") and isinstance(var, (str, int, float, bool)):
            key = (var, _show_on_key(field_.get("show_on")))
            if key in seen:
                add(
                    "provider.credential.duplicate-variable",
                    ("variable",),
                    f"Credential `{var}` is defined twice with the same show_on "
                    f"(first as field {seen[key] + 1}); one overwrites the other.",
                    value=var,
                )
            else:
                seen[key] = i


def _check_options(
    ctx: Context,
    path: str,
    loaded: LoadedYaml,
    at: tuple[Any, ...],
    name: str,
    options: Any,
    variables: set[Any],
    in_provider: bool,
) -> list[str]:
    values: list[str] = []
    if not isinstance(options, list):
        return values
    for j, option in enumerate(options):
        if not isinstance(option, dict):
            continue
        where = (*at, "options", j)
        value = option.get("value")
        problems = []
        if option.get("label") is None:
            problems.append("no label")
        if value is None:
            problems.append("no value")
        elif not isinstance(value, str):
            problems.append(f"the value {describe(value)} instead of text")
        elif len(value) >= 256:
            ctx.add(
                "provider.credential.too-long",
                path,
                loaded.line_of(*where, "value"),
                f"An option value of credential `{name}` has {len(value)} "
                "characters; the limit is 255.",
                value=value[:80],
            )
        if isinstance(value, str):
            values.append(value)
        if problems:
            ctx.add(
                "provider.credential.option-invalid",
                path,
                loaded.line_of(*where),
                f"Option {j + 1} of credential `{name}` has {' and '.join(problems)}; "
                "the SDK refuses it.",
                value=value,
            )
        _check_show_on(
            ctx, path, loaded, (*where, "show_on"), name, option.get("show_on"),
            variables, in_provider,
        )  # fmt: skip
    return values


def _check_show_on(
    ctx: Context,
    path: str,
    loaded: LoadedYaml,
    at: tuple[Any, ...],
    name: str,
    show_on: Any,
    variables: set[Any],
    in_provider: bool,
) -> None:
    if not isinstance(show_on, list):
        return
    for k, cond in enumerate(show_on):
        if not isinstance(cond, dict):
            continue
        var, value = cond.get("variable"), cond.get("value")
        if not isinstance(var, str) or not isinstance(value, str):
            ctx.add(
                "provider.credential.show-on-invalid",
                path,
                loaded.line_of(*at, k),
                f"A show_on condition of `{name}` needs a text variable and value, "
                f"not {describe(var)} and {describe(value)}.",
                value=cond,
            )
            continue
        if var == MODEL_TYPE:
            if in_provider:
                ctx.add(
                    "provider.credential.model-type-in-provider",
                    path,
                    loaded.line_of(*at, k, "variable"),
                    f"`{name}` is shown on __model_type in the provider schema, "
                    "where no model type is chosen; it is only meaningful in "
                    "model_credential_schema.",
                    value=value,
                )
        elif var not in variables:
            ctx.add(
                "provider.credential.show-on-unknown-variable",
                path,
                loaded.line_of(*at, k, "variable"),
                f"`{name}` is shown on {var!r}, which is no field of this form.",
                value=var,
            )
