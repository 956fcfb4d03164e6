"""Reads of the models table: the provider's models in table order, what
they declare, and the filters that narrow the table.

The filters match on the loaded rows (their `spec` copy), so a filtered table
costs the same queries as the whole one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from studio.pluginfmt.document import MODEL_FEATURES

from ..models import Provider, ProviderModel


def spec_of(model: ProviderModel) -> dict[str, Any]:
    """The model's `spec` copy, {} when it is not a mapping."""
    return model.spec if isinstance(model.spec, dict) else {}


def model_features(model: ProviderModel) -> list[str]:
    """The features the model declares (its `features` list, strings only)."""
    found = spec_of(model).get("features")
    return [f for f in found if isinstance(f, str)] if isinstance(found, list) else []


def is_priced(model: ProviderModel) -> bool:
    """Whether the model states a price (an input or output in its `pricing`)."""
    pricing = spec_of(model).get("pricing")
    return isinstance(pricing, dict) and any(
        pricing.get(key) not in (None, "") for key in ("input", "output")
    )


@dataclass(frozen=True)
class ModelFilters:
    """What the table is narrowed to; empty strings filter nothing."""

    q: str = ""  # in the model id or its label, any case
    model_type: str = ""
    deprecated: str = ""  # yes, no
    feature: str = ""
    priced: str = ""  # yes, no

    @property
    def active(self) -> bool:
        return any(
            (self.q, self.model_type, self.deprecated, self.feature, self.priced)
        )

    @property
    def query(self) -> str:
        """The filters as the table URL's query string ("" when none)."""
        pairs = [
            ("q", self.q),
            ("type", self.model_type),
            ("deprecated", self.deprecated),
            ("feature", self.feature),
            ("priced", self.priced),
        ]
        return urlencode([(k, v) for k, v in pairs if v])

    def matches(self, model: ProviderModel) -> bool:
        if self.model_type and model.model_type != self.model_type:
            return False
        if self.deprecated and model.deprecated != (self.deprecated == "yes"):
            return False
        if self.priced and is_priced(model) != (self.priced == "yes"):
            return False
        if self.feature and self.feature not in model_features(model):
            return False
        needle = self.q.casefold()
        return not needle or (
            needle in model.model.casefold() or needle in model.label.casefold()
        )


def table_models(provider: Provider) -> list[ProviderModel]:
    """The provider's models with what a row shows, in table order (one query)."""
    return list(
        provider.models.only(
            "id",
            "model",
            "model_type",
            "label",
            "path",
            "position",
            "deprecated",
            "spec",
            "lock_version",
        ).order_by("model_type", "position", "model", "path")
    )


def declared_features(models: list[ProviderModel]) -> list[str]:
    """The features the models declare: Dify's in its order, then unknown ones."""
    found = {f for model in models for f in model_features(model)}
    return [f for f in MODEL_FEATURES if f in found] + sorted(
        found - set(MODEL_FEATURES)
    )
