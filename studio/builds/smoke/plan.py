"""What a plugin declares, and how the smoke test can reach it.

Plugins whose credential form requires an `endpoint_url` and has an `api_key`
(the studio's generated OpenAI-compatible runtime) can be pointed at the mock
upstream; any other plugin calls its vendor's own URLs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from studio.builds.mock_upstream import MockUpstream
from studio.pluginfmt.document import (
    CredentialFormField,
    ModelSpec,
    PluginDocument,
    model_type_of,
)

FILLER = "smoke-test"
INVOKED_TYPES = ("llm", "text-embedding", "rerank")


@dataclass
class Target:
    """A model to call and the credentials to call it with."""

    model_type: str
    model: str
    good: dict[str, str]


@dataclass
class Plan:
    """What the plugin declares, and how the smoke test can reach it."""

    provider: str
    predefined: list[tuple[str, ModelSpec]]
    supported: list[str]
    # None when the plugin has no such form (configurate method not offered).
    provider_fields: list[CredentialFormField] | None
    model_fields: list[CredentialFormField] | None
    # Why the mock upstream cannot stand in for each form; None when it can.
    provider_reason: str | None = None
    model_reason: str | None = None
    unreadable: str | None = None

    @property
    def network_reason(self) -> str | None:
        """Why the network checks are skipped; None when the mock serves."""
        if self.provider_ok or self.model_ok:
            return None
        return self.unreadable or self.provider_reason or self.model_reason

    @property
    def provider_ok(self) -> bool:
        return self.provider_fields is not None and self.provider_reason is None

    @property
    def model_ok(self) -> bool:
        return self.model_fields is not None and self.model_reason is None

    @classmethod
    def unreadable_plugin(cls, reason: str) -> Plan:
        return cls("", [], [], None, None, unreadable=reason)


def plan_for(doc: PluginDocument) -> Plan:
    spec = doc.provider.spec
    methods = spec.configurate_methods or []
    supported = [t for t in spec.supported_model_types or [] if isinstance(t, str)]
    plan = Plan(
        provider=spec.provider or "",
        predefined=[
            (model_type_of(entry.type_key), entry.spec)
            for entry in doc.models
            if entry.spec.model
        ],
        supported=supported,
        provider_fields=None,
        model_fields=None,
    )
    if "predefined-model" in methods:
        schema = spec.provider_credential_schema
        plan.provider_fields = (
            list(schema.credential_form_schemas or []) if schema else []
        )
        plan.provider_reason = form_reason(plan.provider_fields)
    if "customizable-model" in methods:
        model_schema = spec.model_credential_schema
        plan.model_fields = (
            list(model_schema.credential_form_schemas or []) if model_schema else []
        )
        # Fields can depend on the model type: judge the first invoked type's.
        first = next((t for t in INVOKED_TYPES if t in supported), None)
        plan.model_reason = form_reason(shown_fields(plan.model_fields, first))
    return plan


def form_reason(fields: list[CredentialFormField]) -> str | None:
    """None if the form points the plugin at an endpoint we choose, else why not."""
    names = {f.variable: f for f in fields}
    endpoint = names.get("endpoint_url")
    if endpoint is None or "api_key" not in names:
        return (
            "the credential form has no endpoint_url and api_key, so the plugin's "
            "own code decides which service it calls; the smoke test cannot reach it"
        )
    if endpoint.required is False:
        return (
            "endpoint_url is optional, so the plugin has its vendor's URL built in; "
            "only plugins whose credentials require an endpoint_url (generated "
            "OpenAI-compatible ones) run against the mock upstream"
        )
    return None


def shown_fields(
    fields: list[CredentialFormField], model_type: str | None
) -> list[CredentialFormField]:
    """The fields a form shows for a model type (show_on on __model_type)."""
    shown = []
    for field in fields:
        conditions = [c for c in field.show_on or [] if c.variable == "__model_type"]
        if all(c.value == model_type for c in conditions):
            shown.append(field)
    return shown


def form_values(
    fields: list[CredentialFormField],
    model_type: str | None = None,
    overrides: dict[str, str] | None = None,
) -> dict[str, str]:
    """Credentials as Dify sends them: defaults, first options, shown fields only."""
    values: dict[str, str] = {}
    overrides = overrides or {}
    for field in fields:
        variable = field.variable
        if not variable or not _shown(field, model_type, values):
            continue
        value: Any = overrides.get(variable, field.default)
        if value in (None, "") and field.options:
            options = [o for o in field.options if _shown(o, model_type, values)]
            value = options[0].value if options else None
        if value in (None, "") and field.required is not False:
            # Dify would refuse the form without it; any text will do offline.
            value = FILLER
        if value in (None, ""):
            continue
        values[variable] = str(value).lower() if isinstance(value, bool) else str(value)
    return values


def _shown(item: Any, model_type: str | None, values: dict[str, str]) -> bool:
    for condition in item.show_on or []:
        if condition.variable == "__model_type":
            if condition.value != model_type:
                return False
        elif str(values.get(condition.variable or "")) != str(condition.value):
            return False
    return True


def mock_credentials(mock: MockUpstream) -> dict[str, str]:
    return {"endpoint_url": mock.url, "api_key": str(mock.api_key or FILLER)}


def custom_targets(plan: Plan, mock: MockUpstream) -> Iterator[Target]:
    """A customizable model of each invoked type, with the model form's values."""
    if not plan.model_ok or plan.model_fields is None:
        return
    for model_type in INVOKED_TYPES:
        if model_type in plan.supported:
            good = form_values(plan.model_fields, model_type, mock_credentials(mock))
            yield Target(model_type, f"smoke-{model_type}", good)


def target_for(plan: Plan, mock: MockUpstream, model_type: str) -> Target | None:
    """The declared model to invoke: the first predefined one, else a custom one."""
    if plan.provider_ok and plan.provider_fields is not None:
        for declared_type, spec in plan.predefined:
            if declared_type == model_type:
                good = form_values(plan.provider_fields, None, mock_credentials(mock))
                return Target(model_type, str(spec.model), good)
    return next(
        (t for t in custom_targets(plan, mock) if t.model_type == model_type), None
    )
