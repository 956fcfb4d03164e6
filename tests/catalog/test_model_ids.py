"""Model ids as gateways write them (`Qwen/Qwen3-8B`, `llama3.1:8b`) through
every place of the models section that takes or shows one; hostile ids refused."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from django.urls import reverse

from studio.catalog import services
from studio.catalog.models import Provider
from studio.pluginfmt.verify import verify
from tests.catalog.test_models_views import (
    HX,
    data_of,
    errors_of,
    form_data,
    model,
    model_url,
    new_url,
    order_in,
    row_data,
    table_url,
)
from tests.factories import make_provider

pytestmark = pytest.mark.django_db

GATEWAY_IDS = [
    ("Qwen/Qwen3-8B", "models/llm/qwen-qwen3-8b.yaml"),
    ("deepseek-ai/DeepSeek-V3", "models/llm/deepseek-ai-deepseek-v3.yaml"),
    (
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "models/llm/meta-llama-llama-3.3-70b-instruct-turbo.yaml",
    ),
    ("llama3.1:8b", "models/llm/llama3.1-8b.yaml"),
    ("amazon nova", "models/llm/amazon-nova.yaml"),
    ("1:30", "models/llm/1-30.yaml"),
]
HOSTILE_IDS = [
    pytest.param("../x", "segment", id="dot-dot"),
    pytest.param("a/../../b", "segment", id="dot-dot-inside"),
    pytest.param("", "required", id="empty"),
    pytest.param("   ", "required", id="blank"),
    pytest.param("a\x00b", "Null characters", id="nul"),
    pytest.param("a\x01b", "control character", id="control"),
    pytest.param("a\nb", "control character", id="newline"),
    pytest.param("x" * 256, "at most 255", id="256-characters"),
    pytest.param("x" * 100_000, "at most 255", id="100000-characters"),
]


@pytest.fixture
def provider(personas) -> Provider:
    return make_provider(personas.team, models=3)


def add(client, provider: Provider, model_id: str):
    return client.post(new_url(provider), form_data(provider, model_id))


def field_errors(html: str, field_id: str = "id_model") -> str:
    marker = f'id="{field_id}-errors"'
    if marker not in html:
        return ""
    return htmllib.unescape(html.split(marker, 1)[1].split("</ul>", 1)[0])


class TestNewModelForm:
    @pytest.mark.parametrize(("model_id", "path"), GATEWAY_IDS)
    def test_a_gateway_id_is_saved_under_a_safe_file_name(
        self, client, personas, provider, model_id, path
    ):
        client.force_login(personas.bob)
        response = add(client, provider, model_id)
        assert response.status_code == 302, field_errors(response.content.decode())
        assert data_of(provider, path)["model"] == model_id
        assert data_of(provider, "models/llm/_position.yaml")[-1] == model_id
        # The type's glob finds the file: no exact path was added for it.
        provider_yaml = data_of(provider, "provider/gateway.yaml")
        assert provider_yaml["models"]["llm"]["predefined"] == ["models/llm/*.yaml"]
        saved = model(provider, model_id)
        assert saved.path == path
        assert response["Location"] == table_url(provider) + f"#m-{saved.pk}"
        assert errors_of(provider) == []

    def test_two_ids_with_one_safe_name_get_numbered_files(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        assert add(client, provider, "Qwen/Qwen3-8B").status_code == 302
        provider.refresh_from_db()
        assert add(client, provider, "qwen:qwen3-8b").status_code == 302
        provider.refresh_from_db()
        assert add(client, provider, "QWEN/QWEN3-8B").status_code == 302
        assert model(provider, "Qwen/Qwen3-8B").path == "models/llm/qwen-qwen3-8b.yaml"
        assert (
            model(provider, "qwen:qwen3-8b").path == "models/llm/qwen-qwen3-8b-2.yaml"
        )
        assert (
            model(provider, "QWEN/QWEN3-8B").path == "models/llm/qwen-qwen3-8b-3.yaml"
        )
        assert errors_of(provider) == []

    def test_an_id_named_like_a_position_file_gets_another_file_name(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        assert add(client, provider, "gpt_position").status_code == 302
        assert model(provider, "gpt_position").path == (
            "models/llm/gpt_position-model.yaml"
        )
        assert errors_of(provider) == []

    @pytest.mark.parametrize(("model_id", "message"), HOSTILE_IDS)
    def test_a_hostile_id_is_refused_with_a_message_and_nothing_written(
        self, client, personas, provider, model_id, message
    ):
        client.force_login(personas.alice)
        before = services.provider_files(provider)
        count = provider.models.count()
        response = add(client, provider, model_id)
        assert response.status_code == 200
        assert message in field_errors(response.content.decode())
        assert services.provider_files(provider) == before
        assert provider.models.count() == count

    def test_a_taken_gateway_id_is_refused(self, client, personas, provider):
        client.force_login(personas.alice)
        assert add(client, provider, "Qwen/Qwen3-8B").status_code == 302
        provider.refresh_from_db()
        before = services.provider_files(provider)
        response = add(client, provider, "Qwen/Qwen3-8B")
        assert "already used" in field_errors(response.content.decode())
        assert services.provider_files(provider) == before

    def test_models_of_two_types_may_share_an_id_as_in_dify(self, client, personas):
        provider = make_provider(personas.team, model_types=["llm", "text-embedding"])
        client.force_login(personas.alice)
        assert add(client, provider, "bge-m3").status_code == 302
        provider.refresh_from_db()
        data = form_data(provider, "bge-m3", "text-embedding")
        response = client.post(new_url(provider, "text-embedding"), data)
        assert response.status_code == 302, field_errors(response.content.decode())
        assert sorted(provider.models.values_list("model_type", "path")) == [
            ("llm", "models/llm/bge-m3.yaml"),
            ("text-embedding", "models/text_embedding/bge-m3.yaml"),
        ]
        findings = verify(services.provider_files(provider))
        assert [f.rule for f in findings if f.rule.startswith("model.name")] == []


class TestLiveCheck:
    def check(self, client, provider: Provider, model_id: str) -> str:
        data = form_data(provider, model_id, _validate="1")
        response = client.post(new_url(provider), data, **HX)
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="model-id-feedback"')
        return html

    @pytest.mark.parametrize(("model_id", "path"), GATEWAY_IDS)
    def test_a_gateway_id_gets_no_error(
        self, client, personas, provider, model_id, path
    ):
        client.force_login(personas.bob)
        assert "errorlist" not in self.check(client, provider, model_id)

    @pytest.mark.parametrize(("model_id", "message"), HOSTILE_IDS)
    def test_a_hostile_id_gets_the_message_the_save_would(
        self, client, personas, provider, model_id, message
    ):
        client.force_login(personas.bob)
        before = services.provider_files(provider)
        assert message in field_errors(self.check(client, provider, model_id))
        assert services.provider_files(provider) == before


class TestEditForm:
    def test_a_model_is_renamed_to_a_gateway_id_in_its_file(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-001")
        response = client.post(
            model_url(provider, m, "edit"), form_data(provider, "Qwen/Qwen3-8B")
        )
        assert response.status_code == 302
        assert data_of(provider, m.path)["model"] == "Qwen/Qwen3-8B"
        assert data_of(provider, "models/llm/_position.yaml") == [
            "model-000",
            "Qwen/Qwen3-8B",
            "model-002",
        ]
        assert errors_of(provider) == []

    def test_a_rename_to_a_hostile_id_is_refused(self, client, personas, provider):
        client.force_login(personas.alice)
        before = services.provider_files(provider)
        m = model(provider, "model-001")
        response = client.post(
            model_url(provider, m, "edit"), form_data(provider, "../model-000")
        )
        assert "segment" in field_errors(response.content.decode())
        assert services.provider_files(provider) == before


def actions_url(provider: Provider, m) -> str:
    return reverse("catalog:model-actions", args=[provider.pk, m.pk])


@pytest.fixture
def qwen(client, personas, provider) -> Provider:
    """The provider with a model `Qwen/Qwen3-8B` added through the form."""
    client.force_login(personas.alice)
    assert add(client, provider, "Qwen/Qwen3-8B").status_code == 302
    provider.refresh_from_db()
    return provider


class TestTable:
    def test_the_duplicate_input_is_prefilled_with_an_id_it_accepts(self, client, qwen):
        m = model(qwen, "Qwen/Qwen3-8B")
        html = client.get(actions_url(qwen, m), **HX).content.decode()
        assert 'value="Qwen/Qwen3-8B-copy"' in html
        response = client.post(
            model_url(qwen, m, "duplicate"),
            {"model_lock": m.lock_version, "new_id": "Qwen/Qwen3-8B-copy"},
        )
        assert response.status_code == 302
        copy = model(qwen, "Qwen/Qwen3-8B-copy")
        assert copy.path == "models/llm/qwen-qwen3-8b-copy.yaml"
        assert response["Location"] == table_url(qwen) + f"#m-{copy.pk}"
        assert data_of(qwen, copy.path)["model"] == "Qwen/Qwen3-8B-copy"
        assert data_of(qwen, "models/llm/_position.yaml")[-2:] == [
            "Qwen/Qwen3-8B",
            "Qwen/Qwen3-8B-copy",
        ]
        assert errors_of(qwen) == []

    def test_the_prefill_skips_copy_ids_already_taken(self, client, qwen):
        m = model(qwen, "Qwen/Qwen3-8B")
        client.post(
            model_url(qwen, m, "duplicate"),
            {"model_lock": m.lock_version, "new_id": "Qwen/Qwen3-8B-copy"},
        )
        menu = client.get(actions_url(qwen, m), **HX).content.decode()
        assert 'value="Qwen/Qwen3-8B-copy-2"' in menu

    def test_the_prefill_of_a_255_character_id_fits_and_is_accepted(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        long_id = "org/" + "x" * 251
        assert add(client, provider, long_id).status_code == 302
        m = model(provider, long_id)
        html = client.get(actions_url(provider, m)).content.decode()
        prefill = re.search(r'name="new_id"[^>]*value="([^"]*)"', html)
        assert prefill is not None
        new_id = htmllib.unescape(prefill.group(1))
        assert len(new_id) == 255
        response = client.post(
            model_url(provider, m, "duplicate"),
            {"model_lock": m.lock_version, "new_id": new_id},
        )
        assert response.status_code == 302
        assert provider.models.filter(model=new_id).exists()

    @pytest.mark.parametrize(("new_id", "message"), HOSTILE_IDS)
    def test_duplicate_refuses_a_hostile_id_and_writes_nothing(
        self, client, qwen, new_id, message
    ):
        before = services.provider_files(qwen)
        m = model(qwen, "Qwen/Qwen3-8B")
        response = client.post(
            model_url(qwen, m, "duplicate"),
            {"model_lock": m.lock_version, "new_id": new_id},
            **HX,
        )
        assert response.status_code == 200
        row = response.content.decode()
        assert message in htmllib.unescape(row.split('class="dup"', 1)[1])
        assert response["HX-Retarget"] == f"#m-{m.pk} details.menu > div"
        assert services.provider_files(qwen) == before

    def test_a_row_edit_of_a_gateway_model_saves(self, client, qwen):
        m = model(qwen, "Qwen/Qwen3-8B")
        response = client.post(model_url(qwen, m), row_data(m, label="Qwen 3 8B"))
        assert response.status_code == 302
        assert data_of(qwen, m.path)["label"] == {"en_US": "Qwen 3 8B"}

    def test_move_reorder_and_bulk_handle_a_gateway_model(self, client, qwen):
        m = model(qwen, "Qwen/Qwen3-8B")
        response = client.post(
            model_url(qwen, m, "move"),
            {"model_lock": m.lock_version, "direction": "up"},
        )
        assert response.status_code == 302
        order = ["model-000", "model-001", "Qwen/Qwen3-8B", "model-002"]
        assert data_of(qwen, "models/llm/_position.yaml") == order
        qwen.refresh_from_db()
        order = ["Qwen/Qwen3-8B", "model-000", "model-001", "model-002"]
        response = client.post(
            reverse("catalog:models-reorder", args=[qwen.pk]),
            {"lock_version": qwen.lock_version, "model_type": "llm", "order": order},
            **HX,
        )
        assert response.status_code == 200
        assert order_in(response.content.decode()) == order
        qwen.refresh_from_db()
        response = client.post(
            reverse("catalog:models-bulk", args=[qwen.pk]),
            {
                "lock_version": qwen.lock_version,
                "selected": [m.pk],
                "action": "deprecate",
            },
        )
        assert response.status_code == 302
        assert data_of(qwen, m.path)["deprecated"] is True
        assert errors_of(qwen) == []

    def test_delete_of_a_gateway_model_drops_its_position_line(self, client, qwen):
        m = model(qwen, "Qwen/Qwen3-8B")
        response = client.post(
            model_url(qwen, m, "delete"),
            {"model_lock": m.lock_version, "confirm": "1"},
        )
        assert response.status_code == 302
        assert m.path not in services.provider_files(qwen)
        assert "Qwen/Qwen3-8B" not in data_of(qwen, "models/llm/_position.yaml")
