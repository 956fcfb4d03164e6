"""A price unit reads the same on every screen: the model form's choices, the
models table, the revision's diff (issue 13: the diff once said "per 0.000001
tokens" where the forms said "per 1M tokens")."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from studio.catalog.models import Provider
from tests.reviews.conftest import Personas, edit, set_price, submit

pytestmark = pytest.mark.django_db


def test_form_table_and_diff_say_per_1m_tokens(
    client: Client, personas: Personas, provider: Provider
) -> None:
    model = provider.models.get(model="model-000")
    assert model.spec["pricing"]["unit"] == "0.000001"
    submit(provider, personas.bob)
    edit(provider, set_price("0.75"))
    revision = submit(provider, personas.bob)
    client.force_login(personas.alice)

    pages = {
        "form": reverse("catalog:model-edit", args=[provider.pk, model.pk]),
        "table": reverse("catalog:provider-models", args=[provider.pk]),
        "diff": revision.get_absolute_url(),
    }
    for name, url in pages.items():
        body = client.get(url).content.decode()
        assert "per 1M tokens" in body, name
        assert "0.000001 tokens" not in body and "unit 0.000001" not in body, name
    diff = client.get(pages["diff"]).content.decode()
    assert "(USD per 1M tokens)" in diff
