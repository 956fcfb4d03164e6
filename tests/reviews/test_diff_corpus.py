"""Imported corpus plugins, one change per revision: the review names it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from studio.catalog.models import Provider
from studio.catalog.services.imports import import_plugin
from studio.pluginfmt.document import PluginDocument
from studio.pluginfmt.readers import read_folder
from studio.reviews.diff import revision_diff
from tests.reviews.conftest import Personas, edit, submit

pytestmark = pytest.mark.django_db


def imported(personas: Personas, corpus: Path, name: str) -> Provider:
    report = import_plugin(
        team=personas.team,
        user=personas.alice,
        files=read_folder(corpus / name),
        source=name,
    )
    return Provider.objects.get(pk=report.provider_id)


def rename_api_key(doc: PluginDocument) -> None:
    schema = doc.provider.spec.provider_credential_schema
    assert schema is not None and schema.credential_form_schemas is not None
    field = next(f for f in schema.credential_form_schemas if f.variable == "api_key")
    field.variable = "deepseek_api_key"


def drop_flash(doc: PluginDocument) -> None:
    doc.models = [m for m in doc.models if m.spec.model != "deepseek-v4-flash"]


def reprice_mini(doc: PluginDocument) -> None:
    entry = next(m for m in doc.models if m.spec.model == "gpt-4.1-mini")
    assert entry.spec.pricing is not None
    entry.spec.pricing.output = "1.80"


def relabel_provider(doc: PluginDocument) -> None:
    assert doc.provider.spec.label is not None
    doc.provider.spec.label.en_US = "DeepSeek"


CASES: list[tuple[str, Callable[[PluginDocument], None], str, str, str, str]] = [
    # plugin, change, subject label, words in the message, class, suggestion
    (
        "deepseek",
        rename_api_key,
        "provider credential api_key",
        "renamed to deepseek_api_key",
        "breaking",
        "major",
    ),
    (
        "deepseek",
        drop_flash,
        "llm model deepseek-v4-flash",
        "deepseek-v4-flash removed",
        "breaking",
        "major",
    ),
    (
        "openai",
        reprice_mini,
        "llm model gpt-4.1-mini",
        'output price "1.60" → "1.80"',
        "notable",
        "minor",
    ),
    (
        "deepseek",
        relabel_provider,
        "Provider",
        'label.en_US "deepseek" → "DeepSeek"',
        "cosmetic",
        "patch",
    ),
]


class TestOneChangeBetweenRevisions:
    @pytest.mark.parametrize(
        ("plugin", "change", "subject", "words", "level", "suggestion"),
        CASES,
        ids=["rename-credential", "drop-model", "change-price", "relabel"],
    )
    def test_the_diff_names_the_change_its_class_and_the_version_to_use(
        self,
        personas: Personas,
        restored_corpus: Path,
        plugin: str,
        change: Callable[[PluginDocument], None],
        subject: str,
        words: str,
        level: str,
        suggestion: str,
    ) -> None:
        provider = imported(personas, restored_corpus, plugin)
        first = submit(provider, personas.bob, "As imported")
        edit(provider, change)
        second = submit(provider, personas.bob, "One change")
        data = revision_diff(base=first, head=second).as_dict()
        assert len(data["changes"]) == 1, [c["message"] for c in data["changes"]]
        [found] = data["changes"]
        assert found["subject_label"] == subject
        assert words in found["message"]
        assert found["level"] == level
        assert data["level"] == level and data["suggestion"] == suggestion
        # Nobody bumped the manifest version: the review says so.
        [warning] = data["warnings"]
        assert f"but the changes are {level}" in warning
        assert f"(a {suggestion} release)" in warning
