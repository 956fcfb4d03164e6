from __future__ import annotations

import re

import pytest
from django.urls import reverse

from studio.catalog import services
from studio.catalog.models import Provider, ProviderModel
from studio.pluginfmt.document import dump_yaml
from studio.pluginfmt.verify import verify
from studio.pluginfmt.yamlio import load_yaml
from tests.factories import llm_model_data, make_provider

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
ALL_TYPES = ["llm", "text-embedding", "rerank", "speech2text", "tts", "moderation"]


@pytest.fixture
def provider(personas) -> Provider:
    return make_provider(personas.team, models=3)


def table_url(provider: Provider) -> str:
    return reverse("catalog:provider-models", args=[provider.pk])


def model_url(provider: Provider, model: ProviderModel, action: str = "") -> str:
    names = {
        "": "catalog:model-row",
        "edit": "catalog:model-edit",
        "duplicate": "catalog:model-duplicate",
        "delete": "catalog:model-delete",
        "move": "catalog:model-move",
    }
    return reverse(names[action], args=[provider.pk, model.pk])


def new_url(provider: Provider, model_type: str = "llm") -> str:
    return reverse("catalog:model-new", args=[provider.pk]) + f"?type={model_type}"


def model(provider: Provider, model_id: str) -> ProviderModel:
    return provider.models.get(model=model_id)


def data_of(provider: Provider, path: str) -> dict:
    return load_yaml(services.provider_files(provider)[path]).data


def errors_of(provider: Provider) -> list[dict]:
    return [
        f.as_dict()
        for f in verify(services.provider_files(provider))
        if f.severity == "error"
    ]


def row_data(m: ProviderModel, **kw) -> dict:
    data = {
        "model_lock": m.lock_version,
        "label": m.label,
        "context_size": "8192",
        "max_tokens_default": "512",
        "max_tokens_max": "2048",
        "input_price": "0.5",
        "output_price": "1.5",
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def order_in(html: str) -> list[str]:
    return re.findall(r'<tr id="m-\d+" class="mrow[^"]*" data-model="([^"]+)"', html)


def add_model_file(provider: Provider, path: str, data: dict) -> None:
    files = services.provider_files(provider)
    files[path] = dump_yaml(data)
    services.provider_replace_files(provider=provider, files=files)
    provider.refresh_from_db()


class TestModelsTable:
    def test_alice_sees_the_models_in_position_order(self, client, personas, provider):
        client.force_login(personas.alice)
        services.provider_edit(
            provider=provider,
            lock_version=provider.lock_version,
            change=lambda doc: setattr(
                doc.position_of("llm"), "items", ["model-002", "model-000", "model-001"]
            ),
        )
        response = client.get(table_url(provider))
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" in html
        assert order_in(html) == ["model-002", "model-000", "model-001"]
        # Rows are text; their edit forms are loaded on demand.
        assert 'name="label"' not in html
        assert 'aria-label="Select model-000"' in html
        assert "New llm model" in html

    def test_an_htmx_request_gets_only_the_section(self, client, personas, provider):
        client.force_login(personas.alice)
        response = client.get(table_url(provider), **HX)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html
        assert html.lstrip().startswith('<section id="models-section"')
        assert len(order_in(html)) == 3

    def test_another_teams_user_gets_404(self, client, personas, provider):
        client.force_login(personas.mallory)
        assert client.get(table_url(provider)).status_code == 404

    def test_a_post_gets_405(self, client, personas, provider):
        client.force_login(personas.alice)
        assert client.post(table_url(provider)).status_code == 405

    def test_a_viewer_sees_the_table_without_inputs(self, client, personas, provider):
        client.force_login(personas.victor)
        html = client.get(table_url(provider)).content.decode()
        assert order_in(html) == ["model-000", "model-001", "model-002"]
        assert 'name="label"' not in html
        assert "bulk-form" not in html
        assert "New llm model" not in html

    def test_a_script_in_a_label_is_escaped(self, client, personas, provider):
        data = llm_model_data("evil")
        data["label"] = {"en_US": "<script>alert(1)</script>"}
        add_model_file(provider, "models/llm/evil.yaml", data)
        client.force_login(personas.alice)
        html = client.get(table_url(provider)).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_every_declared_type_gets_a_group_and_a_new_button(self, client, personas):
        provider = make_provider(personas.team, model_types=ALL_TYPES)
        client.force_login(personas.bob)
        html = client.get(table_url(provider)).content.decode()
        for model_type in ALL_TYPES:
            assert f'id="type-{model_type}"' in html
            assert f"new?type={model_type}" in html


class TestInlineRow:
    def test_a_row_save_changes_exactly_one_model_file(
        self, client, personas, provider
    ):
        client.force_login(personas.bob)
        before = services.provider_files(provider)
        m = model(provider, "model-001")
        response = client.post(
            model_url(provider, m),
            row_data(m, label="Fast one", context_size="16000", output_price="2"),
        )
        assert response.status_code == 302
        assert response["Location"] == table_url(provider) + f"#m-{m.pk}"
        after = services.provider_files(provider)
        assert {p for p in after if after[p] != before.get(p)} == {
            "models/llm/model-001.yaml"
        }
        data = data_of(provider, "models/llm/model-001.yaml")
        assert data["label"] == {"en_US": "Fast one"}
        assert data["model_properties"] == {"mode": "chat", "context_size": 16000}
        assert data["pricing"]["output"] == "2"
        assert data["pricing"]["input"] == "0.5"

    def test_an_htmx_save_returns_the_row_and_the_new_lock(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-000")
        response = client.post(
            model_url(provider, m), row_data(m, deprecated="on"), **HX
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert html.lstrip().startswith(f'<tr id="m-{m.pk}" class="mrow deprecated')
        provider.refresh_from_db()
        assert (
            f'id="bulk-lock" form="bulk-form" value="{provider.lock_version}"' in html
        )
        assert 'id="findings-count"' in html
        assert 'hx-swap-oob="true"' in html
        assert data_of(provider, m.path)["deprecated"] is True

    def test_a_row_save_keeps_the_unknown_keys_of_an_imported_model(
        self, client, personas, provider
    ):
        data = llm_model_data("imported") | {"icon": "x.svg", "metadata": {"a": 1}}
        data["parameter_rules"][0]["show_on"] = [{"variable": "v", "value": "1"}]
        add_model_file(provider, "models/llm/imported.yaml", data)
        client.force_login(personas.alice)
        m = model(provider, "imported")
        client.post(model_url(provider, m), row_data(m, label="Renamed"))
        saved = data_of(provider, "models/llm/imported.yaml")
        assert saved["label"] == {"en_US": "Renamed"}
        assert saved["icon"] == "x.svg"
        assert saved["metadata"] == {"a": 1}
        assert saved["parameter_rules"][0]["show_on"] == [
            {"variable": "v", "value": "1"}
        ]

    def test_a_put_gets_405(self, client, personas, provider):
        client.force_login(personas.alice)
        m = model(provider, "model-000")
        assert client.put(model_url(provider, m)).status_code == 405

    def test_another_teams_user_gets_404(self, client, personas, provider):
        client.force_login(personas.mallory)
        m = model(provider, "model-000")
        response = client.post(model_url(provider, m), row_data(m, label="x"))
        assert response.status_code == 404

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_a_reviewer_or_viewer_cannot_save(self, client, personas, provider, who):
        client.force_login(getattr(personas, who))
        before = services.provider_files(provider)
        m = model(provider, "model-000")
        response = client.post(model_url(provider, m), row_data(m, label="x"))
        assert response.status_code == 403
        assert services.provider_files(provider) == before

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("label", "x" * 10_000, "at most 1023 characters"),
            ("input_price", "cheap", "decimal number"),
            ("output_price", "-1", "decimal number"),
            ("context_size", "lots", "whole number"),
            ("max_tokens_default", "9999", "above the maximum"),
        ],
    )
    def test_hostile_input_gives_a_field_error_and_saves_nothing(
        self, client, personas, provider, field, value, message
    ):
        client.force_login(personas.alice)
        before = services.provider_files(provider)
        m = model(provider, "model-000")
        response = client.post(
            model_url(provider, m), row_data(m, **{field: value}), **HX
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert message in html
        assert 'class="errorlist"' in html
        assert services.provider_files(provider) == before

    def test_a_plain_post_with_errors_re_renders_the_page_with_the_row(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        before = services.provider_files(provider)
        m = model(provider, "model-001")
        response = client.post(model_url(provider, m), row_data(m, input_price="1,5"))
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" in html
        row = html.split(f'<tr id="m-{m.pk}"', 1)[1].split("</tr>", 1)[0]
        assert 'value="1,5"' in row
        assert "decimal number" in row
        assert order_in(html) == ["model-000", "model-001", "model-002"]
        assert services.provider_files(provider) == before

    def test_a_missing_lock_is_shown_as_a_row_error(self, client, personas, provider):
        client.force_login(personas.alice)
        m = model(provider, "model-001")
        data = row_data(m, label="x")
        del data["model_lock"]
        html = client.post(model_url(provider, m), data, **HX).content.decode()
        assert "model_lock: This field is required." in html
        assert data_of(provider, m.path)["label"] == {"en_US": "MODEL-001"}

    def test_a_script_label_is_saved_as_text_and_shown_escaped(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-000")
        label = '<script>alert("x")</script>'
        html = client.post(
            model_url(provider, m), row_data(m, label=label), **HX
        ).content.decode()
        assert data_of(provider, m.path)["label"] == {"en_US": label}
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert" in html

    def test_a_stale_row_gets_409_with_both_values(self, client, personas, provider):
        client.force_login(personas.alice)
        m = model(provider, "model-000")
        stale_lock = m.lock_version
        client.post(model_url(provider, m), row_data(m, label="First"))
        before = services.provider_files(provider)
        response = client.post(
            model_url(provider, m),
            row_data(m, model_lock=stale_lock, label="Second"),
            **HX,
        )
        html = response.content.decode()
        assert response.status_code == 409
        assert "Someone else changed this model" in html
        assert 'value="Second"' in html
        assert "Saved now: label First" in html
        assert services.provider_files(provider) == before


class TestDuplicate:
    def test_alice_duplicates_a_model_under_the_types_glob(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-000")
        response = client.post(
            model_url(provider, m, "duplicate"),
            {"model_lock": m.lock_version, "new_id": "model-000-copy"},
        )
        assert response.status_code == 302
        copy = data_of(provider, "models/llm/model-000-copy.yaml")
        assert copy["model"] == "model-000-copy"
        assert copy["parameter_rules"] == data_of(provider, m.path)["parameter_rules"]
        assert data_of(provider, "models/llm/_position.yaml")[:2] == [
            "model-000",
            "model-000-copy",
        ]
        assert errors_of(provider) == []

    def test_an_htmx_duplicate_returns_the_section(self, client, personas, provider):
        client.force_login(personas.alice)
        m = model(provider, "model-002")
        response = client.post(
            model_url(provider, m, "duplicate"),
            {"model_lock": m.lock_version, "new_id": "z"},
            **HX,
        )
        assert response.status_code == 200
        assert order_in(response.content.decode())[-2:] == ["model-002", "z"]

    @pytest.mark.parametrize(
        "new_id", ["../evil", "a/../b", "a\x01b", "x" * 256, "", "model-001"]
    )
    def test_a_bad_or_taken_id_is_a_field_error(
        self, client, personas, provider, new_id
    ):
        client.force_login(personas.alice)
        before = services.provider_files(provider)
        m = model(provider, "model-000")
        response = client.post(
            model_url(provider, m, "duplicate"),
            {"model_lock": m.lock_version, "new_id": new_id},
            **HX,
        )
        assert response.status_code == 200
        assert "errorlist" in response.content.decode()
        assert services.provider_files(provider) == before

    def test_a_viewer_cannot_duplicate(self, client, personas, provider):
        client.force_login(personas.victor)
        m = model(provider, "model-000")
        response = client.post(
            model_url(provider, m, "duplicate"),
            {"model_lock": m.lock_version, "new_id": "c"},
        )
        assert response.status_code == 403
        assert not provider.models.filter(model="c").exists()

    def test_another_teams_user_gets_404_and_a_get_405(
        self, client, personas, provider
    ):
        m = model(provider, "model-000")
        client.force_login(personas.mallory)
        assert client.post(model_url(provider, m, "duplicate")).status_code == 404
        client.force_login(personas.alice)
        assert client.get(model_url(provider, m, "duplicate")).status_code == 405


class TestDelete:
    def test_a_get_asks_for_confirmation(self, client, personas, provider):
        client.force_login(personas.alice)
        m = model(provider, "model-001")
        response = client.get(model_url(provider, m, "delete"))
        assert response.status_code == 200
        assert "Delete the model model-001?" in response.content.decode()
        assert provider.models.filter(pk=m.pk).exists()

    def test_a_post_without_confirm_only_asks(self, client, personas, provider):
        client.force_login(personas.alice)
        m = model(provider, "model-001")
        response = client.post(
            model_url(provider, m, "delete"), {"model_lock": m.lock_version}
        )
        assert response.status_code == 200
        assert 'name="confirm" value="1"' in response.content.decode()
        assert provider.models.filter(pk=m.pk).exists()

    def test_a_confirmed_post_deletes_the_file(self, client, personas, provider):
        client.force_login(personas.bob)
        m = model(provider, "model-001")
        response = client.post(
            model_url(provider, m, "delete"),
            {"model_lock": m.lock_version, "confirm": "1"},
        )
        assert response.status_code == 302
        assert "models/llm/model-001.yaml" not in services.provider_files(provider)
        assert data_of(provider, "models/llm/_position.yaml") == [
            "model-000",
            "model-002",
        ]
        assert errors_of(provider) == []

    def test_an_htmx_delete_returns_the_section(self, client, personas, provider):
        client.force_login(personas.alice)
        m = model(provider, "model-001")
        response = client.post(
            model_url(provider, m, "delete"),
            {"model_lock": m.lock_version, "confirm": "1"},
            **HX,
        )
        assert order_in(response.content.decode()) == ["model-000", "model-002"]

    def test_a_reviewer_cannot_delete(self, client, personas, provider):
        client.force_login(personas.carol)
        m = model(provider, "model-001")
        response = client.post(
            model_url(provider, m, "delete"),
            {"model_lock": m.lock_version, "confirm": "1"},
        )
        assert response.status_code == 403
        assert provider.models.filter(pk=m.pk).exists()

    def test_another_teams_user_gets_404_and_a_put_405(
        self, client, personas, provider
    ):
        m = model(provider, "model-001")
        client.force_login(personas.mallory)
        assert client.get(model_url(provider, m, "delete")).status_code == 404
        client.force_login(personas.alice)
        assert client.put(model_url(provider, m, "delete")).status_code == 405


class TestMove:
    def test_moving_down_rewrites_the_position_file(self, client, personas, provider):
        client.force_login(personas.alice)
        m = model(provider, "model-000")
        response = client.post(
            model_url(provider, m, "move"),
            {"model_lock": m.lock_version, "direction": "down"},
        )
        assert response.status_code == 302
        assert data_of(provider, "models/llm/_position.yaml") == [
            "model-001",
            "model-000",
            "model-002",
        ]
        assert errors_of(provider) == []

    def test_an_htmx_move_returns_the_section_in_the_new_order(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-002")
        response = client.post(
            model_url(provider, m, "move"),
            {"model_lock": m.lock_version, "direction": "up"},
            **HX,
        )
        assert order_in(response.content.decode()) == [
            "model-000",
            "model-002",
            "model-001",
        ]

    def test_a_bad_direction_is_400(self, client, personas, provider):
        client.force_login(personas.alice)
        m = model(provider, "model-002")
        response = client.post(
            model_url(provider, m, "move"),
            {"model_lock": m.lock_version, "direction": "sideways"},
        )
        assert response.status_code == 400

    def test_a_viewer_cannot_move_and_others_get_404_and_405(
        self, client, personas, provider
    ):
        m = model(provider, "model-002")
        data = {"model_lock": m.lock_version, "direction": "up"}
        client.force_login(personas.victor)
        assert client.post(model_url(provider, m, "move"), data).status_code == 403
        client.force_login(personas.mallory)
        assert client.post(model_url(provider, m, "move"), data).status_code == 404
        client.force_login(personas.alice)
        assert client.get(model_url(provider, m, "move")).status_code == 405
        assert data_of(provider, "models/llm/_position.yaml")[-1] == "model-002"


class TestReorder:
    def url(self, provider: Provider) -> str:
        return reverse("catalog:models-reorder", args=[provider.pk])

    def test_a_new_order_is_written_and_verifies(self, client, personas, provider):
        client.force_login(personas.alice)
        response = client.post(
            self.url(provider),
            {
                "lock_version": provider.lock_version,
                "model_type": "llm",
                "order": ["model-002", "model-000", "model-001"],
            },
            **HX,
        )
        assert response.status_code == 200
        assert order_in(response.content.decode()) == [
            "model-002",
            "model-000",
            "model-001",
        ]
        assert data_of(provider, "models/llm/_position.yaml") == [
            "model-002",
            "model-000",
            "model-001",
        ]
        assert errors_of(provider) == []

    def test_a_stale_lock_is_409(self, client, personas, provider):
        client.force_login(personas.alice)
        response = client.post(
            self.url(provider),
            {
                "lock_version": provider.lock_version - 1,
                "model_type": "llm",
                "order": ["model-002", "model-000", "model-001"],
            },
            **HX,
        )
        assert response.status_code == 409
        assert data_of(provider, "models/llm/_position.yaml")[0] == "model-000"

    def test_an_incomplete_order_is_400(self, client, personas, provider):
        client.force_login(personas.alice)
        response = client.post(
            self.url(provider),
            {
                "lock_version": provider.lock_version,
                "model_type": "llm",
                "order": ["model-002"],
            },
        )
        assert response.status_code == 400

    def test_a_viewer_cannot_reorder_and_others_get_404_and_405(
        self, client, personas, provider
    ):
        data = {
            "lock_version": provider.lock_version,
            "model_type": "llm",
            "order": ["model-002", "model-000", "model-001"],
        }
        client.force_login(personas.carol)
        assert client.post(self.url(provider), data).status_code == 403
        client.force_login(personas.mallory)
        assert client.post(self.url(provider), data).status_code == 404
        client.force_login(personas.alice)
        assert client.get(self.url(provider)).status_code == 405
        assert data_of(provider, "models/llm/_position.yaml")[0] == "model-000"


class TestBulk:
    def url(self, provider: Provider) -> str:
        return reverse("catalog:models-bulk", args=[provider.pk])

    def data(self, provider: Provider, ids: list[str], **kw) -> dict:
        return {
            "lock_version": provider.lock_version,
            "selected": [model(provider, i).pk for i in ids],
            **kw,
        }

    def test_deprecate_and_undeprecate_change_the_selected_models(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        response = client.post(
            self.url(provider),
            self.data(provider, ["model-000", "model-002"], action="deprecate"),
        )
        assert response.status_code == 302
        assert data_of(provider, "models/llm/model-000.yaml")["deprecated"] is True
        assert data_of(provider, "models/llm/model-002.yaml")["deprecated"] is True
        assert "deprecated" not in data_of(provider, "models/llm/model-001.yaml")
        provider.refresh_from_db()
        client.post(
            self.url(provider), self.data(provider, ["model-000"], action="undeprecate")
        )
        assert data_of(provider, "models/llm/model-000.yaml")["deprecated"] is False

    def test_pricing_sets_currency_and_a_custom_unit(self, client, personas, provider):
        client.force_login(personas.alice)
        response = client.post(
            self.url(provider),
            self.data(
                provider,
                ["model-001"],
                action="pricing",
                currency="EUR",
                unit="custom",
                unit_custom="0.0001",
            ),
            **HX,
        )
        assert response.status_code == 200
        assert "Changed 1 model: model-001." in response.content.decode()
        assert data_of(provider, "models/llm/model-001.yaml")["pricing"] == {
            "input": "0.5",
            "output": "1.5",
            "unit": "0.0001",
            "currency": "EUR",
        }

    def test_rule_default_reports_what_it_skipped(self, client, personas, provider):
        big = llm_model_data("big")
        big["parameter_rules"][1]["max"] = 10000
        add_model_file(provider, "models/llm/big.yaml", big)
        client.force_login(personas.alice)
        response = client.post(
            self.url(provider),
            self.data(
                provider,
                ["model-000", "big"],
                action="rule-default",
                rule="max_tokens",
                value="5000",
            ),
            **HX,
        )
        html = response.content.decode()
        assert "Changed 1 model: big." in html
        assert "<strong>model-000</strong>: 5000 is above its maximum 2048" in html
        assert (
            data_of(provider, "models/llm/big.yaml")["parameter_rules"][1]["default"]
            == 5000
        )
        assert (
            data_of(provider, "models/llm/model-000.yaml")["parameter_rules"][1][
                "default"
            ]
            == 512
        )

    def test_a_plain_post_reports_skips_as_messages(self, client, personas, provider):
        client.force_login(personas.alice)
        response = client.post(
            self.url(provider),
            self.data(
                provider, ["model-000"], action="rule-default", rule="top_k", value="5"
            ),
            follow=True,
        )
        html = response.content.decode()
        assert "Changed 0 models, skipped 1." in html
        assert "Skipped model-000: it has no rule &#x27;top_k&#x27;." in html

    def test_no_selection_is_an_error(self, client, personas, provider):
        client.force_login(personas.alice)
        response = client.post(
            self.url(provider),
            {"lock_version": provider.lock_version, "action": "deprecate"},
        )
        assert response.status_code == 200
        assert "Select at least one model." in response.content.decode()

    def test_a_model_of_another_provider_cannot_be_selected(
        self, client, personas, provider
    ):
        other = make_provider(personas.other_team, "other", models=1)
        client.force_login(personas.alice)
        response = client.post(
            self.url(provider),
            {
                "lock_version": provider.lock_version,
                "action": "deprecate",
                "selected": [other.models.get().pk],
            },
        )
        assert response.status_code == 200
        assert "errorlist" in response.content.decode()
        assert "deprecated" not in data_of(other, "models/llm/model-000.yaml")

    def test_a_stale_lock_is_409(self, client, personas, provider):
        client.force_login(personas.alice)
        data = self.data(provider, ["model-000"], action="deprecate")
        data["lock_version"] -= 1
        response = client.post(self.url(provider), data)
        assert response.status_code == 409
        assert "deprecated" not in data_of(provider, "models/llm/model-000.yaml")

    def test_a_viewer_cannot_bulk_edit_and_others_get_404_and_405(
        self, client, personas, provider
    ):
        data = self.data(provider, ["model-000"], action="deprecate")
        client.force_login(personas.victor)
        assert client.post(self.url(provider), data).status_code == 403
        client.force_login(personas.mallory)
        assert client.post(self.url(provider), data).status_code == 404
        client.force_login(personas.alice)
        assert client.get(self.url(provider)).status_code == 405
        assert "deprecated" not in data_of(provider, "models/llm/model-000.yaml")


def rule_fields(rules: list[dict]) -> dict:
    data = {"rules-TOTAL_FORMS": str(len(rules)), "rules-INITIAL_FORMS": "0"}
    for i, rule in enumerate(rules):
        for key, value in rule.items():
            data[f"rules-{i}-{key}"] = value
    return data


TYPE_FIELDS = {
    "llm": {"mode": "chat", "context_size": "128000"},
    "text-embedding": {"context_size": "8192", "max_chunks": "32"},
    "rerank": {"context_size": "4096"},
    "speech2text": {
        "file_upload_limit": "25",
        "supported_file_extensions": "mp3, .WAV",
    },
    "tts": {
        "default_voice": "alloy",
        "word_limit": "3500",
        "audio_type": "mp3",
        "max_workers": "5",
        "voices-TOTAL_FORMS": "1",
        "voices-INITIAL_FORMS": "0",
        "voices-0-name": "Alloy",
        "voices-0-mode": "alloy",
        "voices-0-language": "en-US, zh-Hans",
    },
    "moderation": {"max_chunks": "32", "max_characters_per_chunk": "2000"},
}


def form_data(provider: Provider, model_id: str, model_type: str = "llm", **kw) -> dict:
    data = {
        "lock_version": provider.lock_version,
        "model": model_id,
        "label_en_US": "",
        "pricing_input": "",
        "pricing_unit": "0.000001",
        "pricing_currency": "USD",
        **TYPE_FIELDS[model_type],
        **rule_fields([]),
    }
    data.update(kw)
    return data


class TestModelForm:
    def test_the_new_llm_form_starts_with_three_template_rules(
        self, client, personas, provider
    ):
        client.force_login(personas.bob)
        response = client.get(new_url(provider))
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" in html
        assert 'name="rules-TOTAL_FORMS" value="3"' in html
        assert 'name="rules-2-name" value="max_tokens"' in html
        assert 'placeholder="2048"' in html  # the template's max, shown greyed
        assert 'name="features"' in html
        assert 'name="file_upload_limit"' not in html

    def test_an_htmx_request_gets_the_editor_only(self, client, personas, provider):
        client.force_login(personas.alice)
        html = client.get(new_url(provider, "llm"), **HX).content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith('<div id="model-editor"')

    def test_an_htmx_edit_request_gets_the_editor_with_the_saved_yaml(
        self, client, personas, provider
    ):
        client.force_login(personas.bob)
        m = model(provider, "model-002")
        html = client.get(model_url(provider, m, "edit"), **HX).content.decode()
        assert html.lstrip().startswith('<div id="model-editor"')
        assert 'name="model" value="model-002"' in html
        assert "model: model-002" in html

    def test_an_undeclared_or_unknown_type_is_404(self, client, personas, provider):
        client.force_login(personas.alice)
        assert client.get(new_url(provider, "tts")).status_code == 404
        assert client.get(new_url(provider, "../x")).status_code == 404

    def test_another_teams_user_gets_404(self, client, personas, provider):
        client.force_login(personas.mallory)
        assert client.get(new_url(provider)).status_code == 404
        m = model(provider, "model-000")
        assert client.get(model_url(provider, m, "edit")).status_code == 404

    def test_a_put_gets_405(self, client, personas, provider):
        client.force_login(personas.alice)
        assert client.put(new_url(provider)).status_code == 405
        m = model(provider, "model-000")
        assert client.delete(model_url(provider, m, "edit")).status_code == 405

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_a_reviewer_or_viewer_cannot_add_or_save(
        self, client, personas, provider, who
    ):
        client.force_login(getattr(personas, who))
        before = services.provider_files(provider)
        assert client.get(new_url(provider)).status_code == 403
        assert (
            client.post(new_url(provider), form_data(provider, "x")).status_code == 403
        )
        m = model(provider, "model-000")
        assert (
            client.post(
                model_url(provider, m, "edit"), form_data(provider, "x")
            ).status_code
            == 403
        )
        assert services.provider_files(provider) == before

    def test_a_viewer_reads_a_model_in_a_disabled_form(
        self, client, personas, provider
    ):
        client.force_login(personas.victor)
        m = model(provider, "model-000")
        html = client.get(model_url(provider, m, "edit")).content.decode()
        assert '<fieldset class="plain" disabled>' in html
        assert "Save model" not in html
        assert "model: model-000" in html  # the saved YAML

    @pytest.mark.parametrize("model_type", ALL_TYPES)
    def test_each_type_saves_a_model_the_verifier_accepts(
        self, client, personas, model_type
    ):
        provider = make_provider(personas.team, model_types=ALL_TYPES)
        client.force_login(personas.alice)
        rules = (
            [{"use_template": "temperature", "name": "temperature"}]
            if model_type == "llm"
            else []
        )
        data = form_data(
            provider,
            f"{model_type}-one",
            model_type,
            label_en_US=f"{model_type} one",
            label_ja_JP="ワン",
            pricing_input="0.01",
            **rule_fields(rules),
        )
        if model_type == "llm":
            data["features"] = ["tool-call", "vision"]
        response = client.post(new_url(provider, model_type), data)
        assert response.status_code == 302, response.content.decode()[-3000:]
        key = model_type.replace("-", "_")
        saved = data_of(provider, f"models/{key}/{model_type}-one.yaml")
        assert saved["model"] == f"{model_type}-one"
        assert saved["model_type"] == model_type
        assert saved["label"] == {"en_US": f"{model_type} one", "ja_JP": "ワン"}
        assert saved["pricing"] == {
            "input": "0.01",
            "unit": "0.000001",
            "currency": "USD",
        }
        if model_type == "speech2text":
            assert saved["model_properties"]["supported_file_extensions"] == "mp3,wav"
        if model_type == "tts":
            assert saved["model_properties"]["voices"] == [
                {"name": "Alloy", "mode": "alloy", "language": ["en-US", "zh-Hans"]}
            ]
        if model_type == "llm":
            assert saved["features"] == ["tool-call", "vision"]
        assert errors_of(provider) == []

    def test_template_overrides_are_written_as_use_template_and_the_typed_keys(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        rules = [
            {"use_template": "temperature", "name": "", "default": "0.7"},
            {
                "use_template": "max_tokens",
                "name": "max_tokens",
                "max": "16384",
                "default": "1024",
            },
            {"use_template": "response_format", "name": "response_format"},
            {
                "name": "service_tier",
                "type": "string",
                "label": "Service tier",
                "options": "auto, default",
                "default": "auto",
                "required": "false",
            },
        ]
        response = client.post(
            new_url(provider), form_data(provider, "gpt-x", **rule_fields(rules))
        )
        assert response.status_code == 302
        saved = data_of(provider, "models/llm/gpt-x.yaml")
        assert saved["parameter_rules"] == [
            {"name": "temperature", "use_template": "temperature", "default": 0.7},
            {
                "name": "max_tokens",
                "use_template": "max_tokens",
                "default": 1024,
                "max": 16384,
            },
            {"name": "response_format", "use_template": "response_format"},
            {
                "name": "service_tier",
                "label": {"en_US": "Service tier"},
                "type": "string",
                "required": False,
                "default": "auto",
                "options": ["auto", "default"],
            },
        ]
        assert errors_of(provider) == []

    def test_add_rule_re_renders_with_one_more_row_and_saves_nothing(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        before = services.provider_files(provider)
        data = form_data(
            provider,
            "",
            **rule_fields([{"use_template": "temperature", "name": "temperature"}]),
            _add_rule="1",
            add_template="top_k",
        )
        response = client.post(new_url(provider), data)
        html = response.content.decode()
        assert response.status_code == 200
        assert 'name="rules-TOTAL_FORMS" value="2"' in html
        assert 'name="rules-1-name" value="top_k"' in html
        assert "errorlist" not in html  # the id is empty, but nobody asked to save
        assert services.provider_files(provider) == before

    def test_remove_rule_drops_that_row(self, client, personas, provider):
        client.force_login(personas.alice)
        rules = [
            {"use_template": "temperature", "name": "temperature"},
            {"use_template": "top_p", "name": "top_p"},
            {"use_template": "max_tokens", "name": "max_tokens", "default": "99"},
        ]
        data = form_data(provider, "m", **rule_fields(rules), _remove_rule="1")
        html = client.post(new_url(provider), data, **HX).content.decode()
        assert 'name="rules-TOTAL_FORMS" value="2"' in html
        assert 'name="rules-1-name" value="max_tokens"' in html
        assert 'name="rules-1-default" value="99"' in html
        assert "top_p" not in re.findall(r'name="rules-\d-name" value="([^"]*)"', html)

    def test_preview_returns_the_yaml_and_saves_nothing(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        before = services.provider_files(provider)
        data = form_data(
            provider,
            "preview-me",
            label_en_US="<b>Bold</b>",
            **rule_fields(
                [{"use_template": "top_p", "name": "top_p", "default": "0.9"}]
            ),
            _preview="1",
        )
        response = client.post(new_url(provider), data, **HX)
        html = response.content.decode()
        assert response.status_code == 200
        assert html.lstrip().startswith('<div id="yaml-preview">')
        assert "model: preview-me" in html
        assert "use_template: top_p" in html
        assert "&lt;b&gt;Bold&lt;/b&gt;" in html
        assert services.provider_files(provider) == before

    @pytest.mark.parametrize(
        ("fields", "field_id", "message"),
        [
            ({"model": "../etc"}, "id_model", "path segment"),
            ({"model": "a\x07b"}, "id_model", "control character U+0007"),
            ({"model": "model-001"}, "id_model", "already used"),
            ({"label_en_US": "x" * 10_000}, "id_label_en_US", "at most 1023"),
            ({"pricing_input": "free"}, "id_pricing_input", "decimal number"),
            ({"pricing_output": "2"}, "id_pricing_input", "input price too"),
            ({"context_size": "-5"}, "id_context_size", "greater than or equal to 1"),
            (
                {"pricing_input": "1", "pricing_currency": ""},
                "id_pricing_currency",
                "currency",
            ),
            (
                {
                    "pricing_input": "1",
                    "pricing_unit": "custom",
                    "pricing_unit_custom": "0",
                },
                "id_pricing_unit_custom",
                "positive decimal",
            ),
            (
                rule_fields([{"name": "t", "type": "int", "min": "10", "max": "1"}]),
                "id_rules-0-min",
                "Min 10 is above max 1",
            ),
            (
                rule_fields(
                    [
                        {
                            "use_template": "temperature",
                            "name": "temperature",
                            "default": "2",
                        }
                    ]
                ),
                "id_rules-0-default",
                "above the maximum 1",
            ),
            (
                rule_fields([{"name": "n", "type": "int", "default": "1.5"}]),
                "id_rules-0-default",
                "not a whole number",
            ),
            (
                rule_fields([{"name": "n", "type": "float", "options": "a, b"}]),
                "id_rules-0-options",
                "string rules only",
            ),
            (
                rule_fields(
                    [{"name": "n", "type": "string", "options": "a, b", "default": "c"}]
                ),
                "id_rules-0-default",
                "one of the options",
            ),
            (
                rule_fields([{"use_template": "nope", "name": "n"}]),
                "id_rules-0-use_template",
                "Select a valid choice",
            ),
            (
                rule_fields([{"name": "n"}]),
                "id_rules-0-type",
                "Choose a template or a type",
            ),
            (
                rule_fields(
                    [{"name": "dup", "type": "int"}, {"name": "dup", "type": "float"}]
                ),
                "id_rules-1-name",
                "already has this name",
            ),
        ],
    )
    def test_bad_input_gives_field_errors_and_saves_nothing(
        self, client, personas, provider, fields, field_id, message
    ):
        client.force_login(personas.alice)
        before = services.provider_files(provider)
        response = client.post(
            new_url(provider), form_data(provider, "fresh", **fields)
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert f'id="{field_id}-errors"' in html
        errors = html.split(f'id="{field_id}-errors"', 1)[1].split("</ul>", 1)[0]
        assert message in errors
        assert services.provider_files(provider) == before

    def test_too_many_rule_rows_are_refused_without_a_500(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        data = form_data(provider, "many")
        data["rules-TOTAL_FORMS"] = "100000"
        response = client.post(new_url(provider), data)
        assert response.status_code == 200
        assert not provider.models.filter(model="many").exists()

    def test_a_stale_lock_is_409_with_both_versions(self, client, personas, provider):
        client.force_login(personas.alice)
        m = model(provider, "model-001")
        stale = provider.lock_version
        client.post(model_url(provider, m), row_data(m, label="Theirs"))
        before = services.provider_files(provider)
        data = form_data(
            provider,
            "model-001",
            label_en_US="Mine",
            lock_version=stale,
            **rule_fields([]),
        )
        response = client.post(model_url(provider, m, "edit"), data)
        html = response.content.decode()
        assert response.status_code == 409
        assert "Someone else changed this provider" in html
        assert "Your version" in html and "Saved version" in html
        mine, saved = html.split('id="saved-yaml"', 1)
        assert "en_US: Mine" in mine
        assert "en_US: Theirs" in saved
        provider.refresh_from_db()
        assert f'name="lock_version" value="{provider.lock_version}"' in html
        assert services.provider_files(provider) == before

    def test_editing_shows_the_saved_values_and_keeps_unknown_keys(
        self, client, personas, provider
    ):
        data = llm_model_data("imported") | {
            "icon": "x.svg",
            "visible": True,
            "metadata": {"k": "v"},
            "tiered_pricing": [{"from": 0}],
        }
        data["parameter_rules"][1]["show_on"] = [{"variable": "a", "value": "b"}]
        data["parameter_rules"][1]["label"] = {"en_US": "Max", "zh_Hans": "最大"}
        data["pricing"]["unit"] = "0.0005"
        add_model_file(provider, "models/llm/imported.yaml", data)
        client.force_login(personas.alice)
        m = model(provider, "imported")
        html = client.get(model_url(provider, m, "edit")).content.decode()
        assert 'name="rules-1-default" value="512"' in html
        assert 'name="rules-1-label" value="Max"' in html
        assert 'name="pricing_unit_custom" value="0.0005"' in html
        assert "tiered_pricing:" in html  # the saved YAML beside the form
        post = form_data(
            provider,
            "imported",
            label_en_US="IMPORTED",
            context_size="8192",
            features=["agent-thought"],
            pricing_input="0.5",
            pricing_output="1.5",
            pricing_unit="custom",
            pricing_unit_custom="0.0005",
            **rule_fields(
                [
                    {
                        "origin": "0",
                        "use_template": "temperature",
                        "name": "temperature",
                    },
                    {
                        "origin": "1",
                        "use_template": "max_tokens",
                        "name": "max_tokens",
                        "default": "300",
                        "label": "Max",
                    },
                ]
            ),
        )
        response = client.post(model_url(provider, m, "edit"), post)
        assert response.status_code == 302
        saved = data_of(provider, "models/llm/imported.yaml")
        assert saved["icon"] == "x.svg"
        assert saved["visible"] is True
        assert saved["metadata"] == {"k": "v"}
        assert saved["tiered_pricing"] == [{"from": 0}]
        assert saved["parameter_rules"][1] == {
            "name": "max_tokens",
            "use_template": "max_tokens",
            "default": 300,
            "show_on": [{"variable": "a", "value": "b"}],
            "label": {"en_US": "Max", "zh_Hans": "最大"},
        }
        assert saved["pricing"]["unit"] == "0.0005"

    def test_an_unchanged_edit_leaves_the_file_bytes_alone(
        self, client, personas, provider
    ):
        files = services.provider_files(provider)
        files["models/llm/model-000.yaml"] = (
            b"# kept comment\n" + files["models/llm/model-000.yaml"]
        )
        services.provider_replace_files(provider=provider, files=files)
        provider.refresh_from_db()
        client.force_login(personas.alice)
        m = model(provider, "model-000")
        post = form_data(
            provider,
            "model-000",
            label_en_US="MODEL-000",
            context_size="8192",
            features=["agent-thought"],
            pricing_input="0.5",
            pricing_output="1.5",
            **rule_fields(
                [
                    {
                        "origin": "0",
                        "use_template": "temperature",
                        "name": "temperature",
                    },
                    {
                        "origin": "1",
                        "use_template": "max_tokens",
                        "name": "max_tokens",
                        "default": "512",
                    },
                ]
            ),
        )
        response = client.post(model_url(provider, m, "edit"), post)
        assert response.status_code == 302
        assert services.provider_files(provider) == files

    def test_renaming_a_model_keeps_its_file_and_place(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-001")
        post = form_data(provider, "renamed", **rule_fields([]))
        response = client.post(model_url(provider, m, "edit"), post)
        assert response.status_code == 302
        assert data_of(provider, "models/llm/model-001.yaml")["model"] == "renamed"
        assert data_of(provider, "models/llm/_position.yaml") == [
            "model-000",
            "renamed",
            "model-002",
        ]

    def test_an_htmx_save_redirects_the_client_to_the_table(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        response = client.post(new_url(provider), form_data(provider, "via-htmx"), **HX)
        assert response.status_code == 200
        saved = model(provider, "via-htmx")
        assert response["HX-Redirect"] == table_url(provider) + f"#m-{saved.pk}"

    def test_add_voice_adds_an_empty_row_for_tts(self, client, personas):
        provider = make_provider(personas.team, model_types=["tts"])
        client.force_login(personas.alice)
        data = form_data(provider, "speaker", "tts", _add_voice="1")
        html = client.post(new_url(provider, "tts"), data).content.decode()
        assert 'name="voices-TOTAL_FORMS" value="2"' in html
        assert 'name="voices-1-name"' in html
