"""Every editing form opts into the unsaved-changes warning (static/js/files.js),
and is marked dirty when it is re-rendered with values that were not saved."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from studio.catalog import services
from studio.catalog.models import Provider
from tests.factories import make_provider

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def provider(personas) -> Provider:
    return make_provider(personas.team, models=2)


def form_tag(html: str, form_id: str) -> str:
    """The opening tag of the form with id `form_id`."""
    match = re.search(rf'<form id="{re.escape(form_id)}"[^>]*>', html)
    assert match, f"no form {form_id}"
    return match.group(0)


def bump(provider: Provider) -> int:
    """Save an unrelated change as someone else; the version before it."""
    stale = provider.lock_version
    services.provider_edit(
        provider=provider,
        lock_version=stale,
        change=lambda doc: doc.files.__setitem__("NOTES.md", b"x"),
    )
    return stale


def general_post(provider: Provider, **changes: Any) -> dict[str, Any]:
    return {
        "lock_version": provider.lock_version,
        "version": "0.0.1",
        "label_en_US": "Gateway",
        "description_en_US": "The gateway models",
        "background": "#E5E7EB",
        "minimum_dify_version": "",
        **changes,
    }


class TestGeneralForm:
    def url(self, provider: Provider) -> str:
        return reverse("catalog:provider-general-edit", args=[provider.pk])

    def test_it_warns_and_starts_clean(self, client, personas, provider):
        client.force_login(personas.alice)
        tag = form_tag(client.get(self.url(provider)).content.decode(), "general-form")
        assert "data-warn-unsaved" in tag and "data-dirty" not in tag

    def test_an_invalid_post_comes_back_dirty(self, client, personas, provider):
        client.force_login(personas.alice)
        response = client.post(self.url(provider), general_post(provider, version="x"))
        assert response.status_code == 200
        assert "data-dirty" in form_tag(response.content.decode(), "general-form")

    def test_a_stale_htmx_post_comes_back_dirty(self, client, personas, provider):
        client.force_login(personas.alice)
        stale = bump(provider)
        data = general_post(provider, lock_version=stale, label_en_US="Mine")
        response = client.post(self.url(provider), data, **HX)
        assert response.status_code == 409
        assert "data-dirty" in form_tag(response.content.decode(), "general-form")


def field_post(lock_version: int, **changes: str) -> dict[str, str]:
    return {
        "lock_version": str(lock_version),
        "variable": "region",
        "type": "text-input",
        "label_en_US": "Region",
        "opt-TOTAL_FORMS": "0",
        "opt-INITIAL_FORMS": "0",
        "cond-TOTAL_FORMS": "0",
        "cond-INITIAL_FORMS": "0",
        **changes,
    }


class TestCredentialForms:
    def add_url(self, provider: Provider) -> str:
        return reverse(
            "catalog:provider-credential-add", args=[provider.pk, "provider"]
        )

    def name_url(self, provider: Provider) -> str:
        return reverse("catalog:provider-credential-model-name", args=[provider.pk])

    def test_the_field_form_warns_and_starts_clean(self, client, personas, provider):
        client.force_login(personas.bob)
        tag = form_tag(
            client.get(self.add_url(provider)).content.decode(), "field-form"
        )
        assert "data-warn-unsaved" in tag and "data-dirty" not in tag

    def test_an_invalid_field_comes_back_dirty(self, client, personas, provider):
        client.force_login(personas.bob)
        data = field_post(provider.lock_version, variable="9")
        html = client.post(self.add_url(provider), data, **HX).content.decode()
        assert "data-dirty" in form_tag(html, "field-form")

    def test_a_stale_field_comes_back_dirty(self, client, personas, provider):
        client.force_login(personas.bob)
        stale = bump(provider)
        response = client.post(self.add_url(provider), field_post(stale))
        assert response.status_code == 409
        assert "data-dirty" in form_tag(response.content.decode(), "field-form")

    def test_the_model_name_form_warns_and_comes_back_dirty(
        self, client, personas, provider
    ):
        client.force_login(personas.bob)
        tag = form_tag(
            client.get(self.name_url(provider)).content.decode(), "model-name-form"
        )
        assert "data-warn-unsaved" in tag and "data-dirty" not in tag
        data = {"lock_version": provider.lock_version, "label_en_US": ""}
        html = client.post(self.name_url(provider), data).content.decode()
        assert "data-dirty" in form_tag(html, "model-name-form")


class TestModelForms:
    def edit_url(self, provider: Provider) -> str:
        m = provider.models.get(model="model-000")
        return reverse("catalog:model-edit", args=[provider.pk, m.pk])

    def test_the_model_form_warns_and_starts_clean(self, client, personas, provider):
        client.force_login(personas.alice)
        tag = form_tag(
            client.get(self.edit_url(provider)).content.decode(), "model-form"
        )
        assert "data-warn-unsaved" in tag and "data-dirty" not in tag

    def test_adding_a_rule_re_renders_it_dirty(self, client, personas, provider):
        client.force_login(personas.alice)
        data = {
            "lock_version": provider.lock_version,
            "model": "model-000",
            "mode": "chat",
            "context_size": "8192",
            "rules-TOTAL_FORMS": "0",
            "rules-INITIAL_FORMS": "0",
            "add_template": "top_p",
            "_add_rule": "1",
        }
        html = client.post(self.edit_url(provider), data, **HX).content.decode()
        assert 'name="rules-0-name" value="top_p"' in html
        assert "data-dirty" in form_tag(html, "model-form")

    def test_a_reader_gets_no_warning(self, client, personas, provider):
        client.force_login(personas.victor)
        tag = form_tag(
            client.get(self.edit_url(provider)).content.decode(), "model-form"
        )
        assert "data-warn-unsaved" not in tag

    def test_row_forms_warn_and_a_refused_row_comes_back_dirty(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = provider.models.get(model="model-000")
        table = client.get(reverse("catalog:provider-models", args=[provider.pk]))
        assert "data-warn-unsaved" not in form_tag(table.content.decode(), "bulk-form")
        # The row's form comes with its edit partial.
        edit = reverse("catalog:model-row-edit", args=[provider.pk, m.pk])
        tag = form_tag(client.get(edit, **HX).content.decode(), f"f-{m.pk}")
        assert "data-warn-unsaved" in tag and "data-dirty" not in tag
        url = reverse("catalog:model-row", args=[provider.pk, m.pk])
        data = {"model_lock": m.lock_version, "label": "L", "context_size": "-1"}
        html = client.post(url, data, **HX).content.decode()
        assert "data-dirty" in form_tag(html, f"f-{m.pk}")


class TestNewProviderForm:
    def test_it_warns_and_a_live_check_keeps_it_dirty(self, client, personas):
        client.force_login(personas.alice)
        url = reverse("catalog:provider-new")
        tag = form_tag(client.get(url).content.decode(), "provider-new")
        assert "data-warn-unsaved" in tag and "data-dirty" not in tag
        data = {"name": "Bad Name", "author": "acme", "_validate": "1"}
        html = client.post(url, data, **HX).content.decode()
        assert "data-dirty" in form_tag(html, "provider-new")
