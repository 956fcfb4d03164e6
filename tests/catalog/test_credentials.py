"""The credential form builder: listing, adding, editing, moving, deleting
fields of both schemas, the model-name field, and the live preview."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from studio.catalog import services
from studio.catalog.models import Provider
from studio.pluginfmt.verify import verify
from tests.factories import make_provider

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


# ------------------------------------------------------------------ helpers


def provider_yaml(provider: Provider) -> dict[str, Any]:
    files = services.provider_files(provider)
    return yaml.safe_load(files[provider.provider_path])


def fields_of(provider: Provider, schema: str = "provider") -> list[dict[str, Any]]:
    key = f"{schema}_credential_schema"
    return provider_yaml(provider)[key]["credential_form_schemas"]


def verifier_errors(provider: Provider) -> list[str]:
    findings = verify(services.provider_files(provider))
    return [f"{f.rule}: {f.message}" for f in findings if f.severity == "error"]


def field_post(
    lock: int,
    *,
    variable: str = "region",
    type: str = "text-input",
    required: bool = False,
    label: str = "Region",
    labels: dict[str, str] | None = None,
    placeholder: str = "",
    default: str = "",
    options: list[tuple[str, str, str]] | None = None,
    conditions: list[tuple[str, str]] | None = None,
    initial_options: int = 0,
    initial_conditions: int = 0,
) -> dict[str, str]:
    options = options or []
    conditions = conditions or []
    data = {
        "lock_version": str(lock),
        "variable": variable,
        "type": type,
        "label_en_US": label,
        "placeholder_en_US": placeholder,
        "default": default,
        "opt-TOTAL_FORMS": str(len(options)),
        "opt-INITIAL_FORMS": str(initial_options),
        "opt-MIN_NUM_FORMS": "0",
        "opt-MAX_NUM_FORMS": "128",
        "cond-TOTAL_FORMS": str(len(conditions)),
        "cond-INITIAL_FORMS": str(initial_conditions),
        "cond-MIN_NUM_FORMS": "0",
        "cond-MAX_NUM_FORMS": "16",
    }
    for lang, text in (labels or {}).items():
        data[f"label_{lang}"] = text
    if required:
        data["required"] = "on"
    for i, (value, option_label, show_on) in enumerate(options):
        data[f"opt-{i}-value"] = value
        data[f"opt-{i}-label"] = option_label
        data[f"opt-{i}-show_on"] = show_on
    for i, (var, val) in enumerate(conditions):
        data[f"cond-{i}-variable"] = var
        data[f"cond-{i}-value"] = val
    return data


def _text(variable: str, label: str, **extra: Any) -> dict[str, Any]:
    return {
        "variable": variable,
        "label": {"en_US": label},
        "type": "text-input",
        "required": True,
        **extra,
    }


LLM = [{"variable": "__model_type", "value": "llm"}]
EMBEDDING = [{"variable": "__model_type", "value": "text-embedding"}]
API_KEY = {
    "variable": "api_key",
    "label": {"en_US": "API Key"},
    "type": "secret-input",
    "required": True,
    "placeholder": {"en_US": "Enter your API key"},
}
ENDPOINT = _text(
    "endpoint_url",
    "API endpoint URL",
    placeholder={"en_US": "https://api.example.com/v1"},
)
# The forms the tests work on (not the scaffold's, which may change).
PROVIDER_FORM = [API_KEY, ENDPOINT]
MODEL_FORM = [
    API_KEY,
    ENDPOINT,
    _text("endpoint_model_name", "Model name at the endpoint", required=False),
    {
        "variable": "mode",
        "label": {"en_US": "Completion mode"},
        "type": "select",
        "required": True,
        "default": "chat",
        "options": [
            {"value": "chat", "label": {"en_US": "Chat"}},
            {"value": "completion", "label": {"en_US": "Completion"}},
        ],
        "show_on": LLM,
    },
    {
        "variable": "function_calling_type",
        "label": {"en_US": "Function calling"},
        "type": "select",
        "required": False,
        "default": "tool_call",
        "options": [
            {"value": "no_call", "label": {"en_US": "Not supported"}},
            {"value": "function_call", "label": {"en_US": "Function call"}},
            {"value": "tool_call", "label": {"en_US": "Tool call"}},
        ],
        "show_on": LLM,
    },
    _text("context_size", "Model context size", default="4096", show_on=LLM),
    _text("max_tokens_to_sample", "Upper bound", default="4096", show_on=LLM),
    _text("context_size", "Model context size", default="512", show_on=EMBEDDING),
]


@pytest.fixture
def provider(personas) -> Provider:
    """llm + text-embedding, predefined and customizable: both schemas."""
    from studio.pluginfmt.document import CredentialSchema, ModelCredentialSchema

    provider = make_provider(personas.team, model_types=["llm", "text-embedding"])

    def known_forms(doc):
        spec = doc.provider.spec
        spec.provider_credential_schema = CredentialSchema.model_validate(
            {"credential_form_schemas": copy.deepcopy(PROVIDER_FORM)}
        )
        spec.model_credential_schema = ModelCredentialSchema.model_validate(
            {
                "model": {
                    "label": {"en_US": "Model Name"},
                    "placeholder": {"en_US": "Enter the model name"},
                },
                "credential_form_schemas": copy.deepcopy(MODEL_FORM),
            }
        )

    services.provider_edit(
        provider=provider, lock_version=provider.lock_version, change=known_forms
    )
    assert verifier_errors(provider) == []
    return provider


@pytest.fixture
def alice(client, personas):
    client.force_login(personas.alice)
    return client


def url(provider: Provider, tail: str = "") -> str:
    return f"/providers/{provider.pk}/credentials/{tail}"


def add_url(provider: Provider, schema: str = "provider") -> str:
    return url(provider, f"{schema}/add")


def edit_url(provider: Provider, index: int, schema: str = "provider") -> str:
    return url(provider, f"{schema}/{index}/edit")


# ------------------------------------------------------------------ list page


class TestCredentialsPage:
    def test_it_lists_the_fields_of_both_schemas_in_order(self, alice, provider):
        response = alice.get(url(provider))
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" in html
        assert html.index('id="field-provider-0"') < html.index('id="field-provider-1"')
        assert html.index("<code>api_key</code>") < html.index(
            "<code>endpoint_url</code>"
        )
        assert 'id="schema-model"' in html
        assert 'id="field-model-6"' in html  # the scaffold's 7 model fields
        assert "Model Name" in html

    def test_the_credentials_tab_is_shown_and_current(self, alice, provider):
        html = alice.get(url(provider)).content.decode()
        assert f'href="/providers/{provider.pk}/credentials/" aria-current="page"' in (
            html
        )

    def test_an_htmx_request_gets_only_the_section(self, alice, provider):
        response = alice.get(url(provider), **HTMX)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html
        assert html.lstrip().startswith('<section id="section"')
        assert 'id="preview-provider"' in html

    def test_another_teams_user_gets_404(self, client, personas, provider):
        client.force_login(personas.mallory)
        assert client.get(url(provider)).status_code == 404

    def test_post_is_not_allowed(self, alice, provider):
        assert alice.post(url(provider)).status_code == 405

    def test_anonymous_users_are_sent_to_the_login_page(self, client, provider):
        response = client.get(url(provider))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_readers_see_the_fields_but_no_write_controls(
        self, client, personas, provider, who
    ):
        client.force_login(getattr(personas, who))
        html = client.get(url(provider)).content.decode()
        assert "<code>api_key</code>" in html
        assert "Add a field" not in html
        assert "/move" not in html
        assert "/delete" not in html

    def test_without_customizable_model_there_is_no_model_schema(self, alice, personas):
        provider = make_provider(personas.team, "fixed", methods=["predefined-model"])
        html = alice.get(url(provider)).content.decode()
        assert 'id="schema-provider"' in html
        assert 'id="schema-model"' not in html
        assert alice.get(add_url(provider, "model")).status_code == 404
        assert alice.get(url(provider, "model/name")).status_code == 404

    def test_an_unknown_schema_is_404(self, alice, provider):
        assert alice.get(add_url(provider, "tool")).status_code == 404
        assert alice.get(edit_url(provider, 0, "tool")).status_code == 404

    def test_imported_keys_and_implicit_required_are_flagged(self, alice, provider):
        def imported(doc):
            field = (
                doc.provider.spec.provider_credential_schema.credential_form_schemas[0]
            )
            field.help = {"en_US": "Get a key"}
            field.url = "https://example.com/keys"
            field.required = None
            field.model_fields_set.discard("required")

        services.provider_edit(
            provider=provider, lock_version=provider.lock_version, change=imported
        )
        html = alice.get(url(provider)).content.decode()
        assert "+ help, url" in html
        assert ">implicit<" in html


# ------------------------------------------------------------------ add


class TestFieldAdd:
    def test_the_form_page_renders(self, alice, provider):
        response = alice.get(add_url(provider))
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" in html
        assert 'id="field-form"' in html
        assert f'name="lock_version" value="{provider.lock_version}"' in html

    def test_an_htmx_request_gets_only_the_form_section(self, alice, provider):
        response = alice.get(add_url(provider), **HTMX)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html
        assert 'id="field-form"' in html

    def test_another_teams_user_gets_404(self, client, personas, provider):
        client.force_login(personas.mallory)
        before = services.provider_files(provider)
        assert client.get(add_url(provider)).status_code == 404
        post = field_post(provider.lock_version)
        assert client.post(add_url(provider), post).status_code == 404
        assert services.provider_files(provider) == before

    def test_a_wrong_method_gets_405(self, alice, provider):
        assert alice.put(add_url(provider)).status_code == 405

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_readers_cannot_add_and_nothing_changes(
        self, client, personas, provider, who
    ):
        client.force_login(getattr(personas, who))
        before = services.provider_files(provider)
        assert client.get(add_url(provider)).status_code == 403
        response = client.post(add_url(provider), field_post(provider.lock_version))
        assert response.status_code == 403
        assert services.provider_files(provider) == before

    def test_adding_a_field_appends_exactly_that_field(self, alice, provider):
        before_files = services.provider_files(provider)
        before = provider_yaml(provider)
        response = alice.post(
            add_url(provider),
            field_post(
                provider.lock_version,
                variable="region",
                label="Region",
                labels={"zh_Hans": "区域"},
                placeholder="eu-west-1",
                default="us-east-1",
                required=True,
            ),
        )
        assert response.status_code == 302
        assert response["Location"] == url(provider) + "#schema-provider"
        after = provider_yaml(provider)
        expected = copy.deepcopy(before)
        expected["provider_credential_schema"]["credential_form_schemas"].append(
            {
                "variable": "region",
                "label": {"en_US": "Region", "zh_Hans": "区域"},
                "type": "text-input",
                "required": True,
                "default": "us-east-1",
                "placeholder": {"en_US": "eu-west-1"},
            }
        )
        assert after == expected
        after_files = services.provider_files(provider)
        assert {p for p in after_files if after_files[p] != before_files.get(p)} == {
            provider.provider_path
        }
        assert verifier_errors(provider) == []

    def test_required_is_written_explicitly_when_unchecked(self, alice, provider):
        alice.post(add_url(provider), field_post(provider.lock_version))
        assert fields_of(provider)[-1]["required"] is False

    def test_a_select_keeps_its_options_with_their_show_on(self, alice, provider):
        alice.post(
            add_url(provider),
            field_post(
                provider.lock_version,
                variable="tier",
                type="select",
                default="pro",
                options=[
                    ("free", "Free", ""),
                    ("pro", "Pro", "endpoint_url=https://api.example.com"),
                ],
            ),
        )
        field = fields_of(provider)[-1]
        assert field["type"] == "select"
        assert field["default"] == "pro"
        assert field["options"] == [
            {"value": "free", "label": {"en_US": "Free"}},
            {
                "value": "pro",
                "label": {"en_US": "Pro"},
                "show_on": [
                    {"variable": "endpoint_url", "value": "https://api.example.com"}
                ],
            },
        ]
        assert verifier_errors(provider) == []

    def test_a_switch_defaults_to_true_or_false_text(self, alice, provider):
        alice.post(
            add_url(provider),
            field_post(
                provider.lock_version, variable="stream", type="switch", default="true"
            ),
        )
        field = fields_of(provider)[-1]
        assert field["type"] == "switch"
        assert field["default"] == "true"  # a string, as the SDK requires

    def test_a_model_field_with_show_on_model_type_is_added(self, alice, provider):
        before = fields_of(provider, "model")
        alice.post(
            add_url(provider, "model"),
            field_post(
                provider.lock_version,
                variable="vision_detail",
                label="Vision detail",
                conditions=[("__model_type", "llm")],
            ),
        )
        after = fields_of(provider, "model")
        assert after[:-1] == before
        assert after[-1]["show_on"] == [{"variable": "__model_type", "value": "llm"}]
        assert verifier_errors(provider) == []

    def test_adding_creates_a_missing_provider_schema(self, alice, provider):
        def drop(doc):
            spec = doc.provider.spec
            spec.provider_credential_schema = None
            spec.model_fields_set.discard("provider_credential_schema")

        services.provider_edit(
            provider=provider, lock_version=provider.lock_version, change=drop
        )
        provider.refresh_from_db()
        assert "provider_credential_schema" not in provider_yaml(provider)
        alice.post(add_url(provider), field_post(provider.lock_version))
        assert [f["variable"] for f in fields_of(provider)] == ["region"]

    def test_a_duplicate_variable_with_the_same_show_on_is_refused(
        self, alice, provider
    ):
        before = services.provider_files(provider)
        response = alice.post(
            add_url(provider, "model"),
            field_post(
                provider.lock_version,
                variable="context_size",
                conditions=[("__model_type", "llm")],
            ),
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert 'id="variable-errors"' in html
        assert "Field 6 already uses the variable &#x27;context_size&#x27;" in html
        assert services.provider_files(provider) == before

    def test_a_duplicate_variable_without_show_on_is_refused(self, alice, provider):
        response = alice.post(
            add_url(provider), field_post(provider.lock_version, variable="api_key")
        )
        assert "already uses the variable" in response.content.decode()
        assert [f["variable"] for f in fields_of(provider)] == [
            "api_key",
            "endpoint_url",
        ]

    def test_a_duplicate_variable_with_other_show_on_is_accepted(self, alice, provider):
        for model_type in ("llm", "text-embedding"):
            provider.refresh_from_db()
            response = alice.post(
                add_url(provider, "model"),
                field_post(
                    provider.lock_version,
                    variable="batch_size",
                    default="8",
                    conditions=[("__model_type", model_type)],
                ),
            )
            assert response.status_code == 302
        added = [
            f for f in fields_of(provider, "model") if f["variable"] == "batch_size"
        ]
        assert [f["show_on"][0]["value"] for f in added] == ["llm", "text-embedding"]
        assert verifier_errors(provider) == []

    def test_an_htmx_save_returns_the_list_and_pushes_its_url(self, alice, provider):
        response = alice.post(
            add_url(provider), field_post(provider.lock_version), **HTMX
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert response["HX-Push-Url"] == url(provider)
        assert "<html" not in html
        assert "Field `region` added." in html
        assert 'id="field-provider-2"' in html

    def test_a_stale_version_is_refused_with_both_versions_shown(self, alice, provider):
        stale = provider.lock_version
        services.provider_edit(
            provider=provider,
            lock_version=stale,
            change=lambda doc: (
                doc.provider.spec.provider_credential_schema.credential_form_schemas.pop()
            ),
        )
        provider.refresh_from_db()
        before = services.provider_files(provider)
        response = alice.post(
            add_url(provider), field_post(stale, variable="mine", label="My field")
        )
        html = response.content.decode()
        assert response.status_code == 409
        assert services.provider_files(provider) == before
        assert 'id="conflict-yours"' in html
        assert "variable: mine" in html  # your version
        assert "variable: api_key" in html  # the saved version
        assert (
            "endpoint_url"
            not in html.split('id="conflict-saved"')[1].split("</pre>")[0]
        )
        assert 'value="mine"' in html  # the form keeps what was typed
        assert f'name="lock_version" value="{provider.lock_version}"' in html

    def test_saving_again_after_a_conflict_goes_through(self, alice, provider):
        stale = provider.lock_version
        services.provider_edit(
            provider=provider,
            lock_version=stale,
            change=lambda doc: (
                doc.provider.spec.provider_credential_schema.credential_form_schemas.pop()
            ),
        )
        provider.refresh_from_db()
        assert alice.post(add_url(provider), field_post(stale)).status_code == 409
        response = alice.post(add_url(provider), field_post(provider.lock_version))
        assert response.status_code == 302
        assert [f["variable"] for f in fields_of(provider)] == ["api_key", "region"]

    def test_a_33rd_field_is_refused(self, alice, provider):
        def fill(doc):
            fields = (
                doc.provider.spec.provider_credential_schema.credential_form_schemas
            )
            for i in range(30):
                fields.append(
                    type(fields[0]).model_validate(
                        {
                            "variable": f"f{i}",
                            "label": {"en_US": f"F{i}"},
                            "type": "text-input",
                            "required": False,
                        }
                    )
                )

        services.provider_edit(
            provider=provider, lock_version=provider.lock_version, change=fill
        )
        provider.refresh_from_db()
        response = alice.post(add_url(provider), field_post(provider.lock_version))
        assert response.status_code == 200
        assert "at most 32" in response.content.decode()
        assert len(fields_of(provider)) == 32


class TestHostileInput:
    @pytest.mark.parametrize(
        ("changes", "error"),
        [
            ({"label": "x" * 10_000}, "at most 255 characters"),
            ({"label": ""}, "This field is required"),
            ({"variable": "1abc"}, "letters, digits and"),
            ({"variable": "api key"}, "letters, digits and"),
            ({"variable": "a-b"}, "letters, digits and"),
            ({"variable": "<script>"}, "letters, digits and"),
            ({"variable": "__model_type"}, "Dify&#x27;s own"),
            ({"variable": "v" * 300}, "at most 255 characters"),
            ({"type": "boolean"}, "Select a valid choice"),
            ({"type": "switch", "default": "yes"}, "A switch defaults to"),
            ({"type": "select"}, "needs at least one option"),
            ({"default": "d" * 300}, "at most 255 characters"),
            ({"conditions": [("nope", "x")]}, "Select a valid choice"),
            ({"conditions": [("api_key", "")]}, "Give the value"),
            ({"conditions": [("", "x")]}, "Pick the field"),
            (
                {"conditions": [("api_key", "a"), ("api_key", "b")]},
                "named twice",
            ),
            (
                {"type": "select", "options": [("a", "", "")]},
                "An option needs a label",
            ),
            (
                {"type": "select", "options": [("a", "A", ""), ("a", "B", "")]},
                "repeated: a",
            ),
            (
                {"type": "select", "options": [("a", "A", "")], "default": "b"},
                "one of the option values",
            ),
            (
                {"type": "radio", "options": [("a", "A", "no equals sign")]},
                "variable=value",
            ),
            (
                {"type": "radio", "options": [("a", "A", "ghost=1")]},
                "no other field",
            ),
        ],
    )
    def test_bad_input_gives_a_field_error_and_saves_nothing(
        self, alice, provider, changes, error
    ):
        before = services.provider_files(provider)
        response = alice.post(
            add_url(provider), field_post(provider.lock_version, **changes)
        )
        assert response.status_code == 200
        assert error in response.content.decode()
        assert services.provider_files(provider) == before

    def test_a_model_type_the_provider_lacks_is_refused(self, alice, provider):
        response = alice.post(
            add_url(provider, "model"),
            field_post(provider.lock_version, conditions=[("__model_type", "rerank")]),
        )
        html = response.content.decode()
        assert "__model_type is one of the provider&#x27;s model types" in html
        assert "llm, text-embedding" in html

    def test_model_type_conditions_are_not_offered_in_the_provider_schema(
        self, alice, provider
    ):
        response = alice.post(
            add_url(provider),
            field_post(provider.lock_version, conditions=[("__model_type", "llm")]),
        )
        assert "Select a valid choice" in response.content.decode()

    def test_a_post_without_the_formset_management_data_is_refused(
        self, alice, provider
    ):
        data = field_post(provider.lock_version, type="select")
        for key in [k for k in data if k.startswith(("opt-", "cond-"))]:
            del data[key]
        before = services.provider_files(provider)
        response = alice.post(add_url(provider), data)
        assert response.status_code == 200
        assert "ManagementForm data is missing" in response.content.decode()
        assert services.provider_files(provider) == before

    def test_a_huge_formset_count_is_capped(self, alice, provider):
        data = field_post(provider.lock_version)
        data["cond-TOTAL_FORMS"] = "100000"
        response = alice.post(add_url(provider), data)
        assert response.status_code in (200, 302)

    def test_a_script_label_is_saved_as_text_and_escaped(self, alice, provider):
        label = '<script>alert("x")</script>'
        response = alice.post(
            add_url(provider),
            field_post(provider.lock_version, label=label, placeholder=label),
        )
        assert response.status_code == 302
        assert fields_of(provider)[-1]["label"] == {"en_US": label}
        html = alice.get(url(provider)).content.decode()
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html

    def test_a_non_numeric_lock_version_is_a_form_error(self, alice, provider):
        data = field_post(provider.lock_version)
        data["lock_version"] = "abc"
        before = services.provider_files(provider)
        response = alice.post(add_url(provider), data)
        assert response.status_code == 200
        assert "lost its version" in response.content.decode()
        assert services.provider_files(provider) == before


# ------------------------------------------------------------------ edit


class TestFieldEdit:
    def test_the_form_shows_the_saved_field(self, alice, provider):
        html = alice.get(edit_url(provider, 3, "model")).content.decode()
        assert 'value="mode"' in html
        assert '<option value="select" selected>' in html
        assert 'name="opt-0-value" value="chat"' in html
        assert 'name="opt-1-value" value="completion"' in html
        assert '<option value="__model_type" selected>' in html
        assert 'name="cond-0-value" value="llm"' in html

    def test_an_htmx_request_gets_only_the_form_section(self, alice, provider):
        response = alice.get(edit_url(provider, 0), **HTMX)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html
        assert 'value="api_key"' in html

    def test_another_teams_user_gets_404(self, client, personas, provider):
        client.force_login(personas.mallory)
        assert client.get(edit_url(provider, 0)).status_code == 404
        post = field_post(provider.lock_version, variable="api_key")
        assert client.post(edit_url(provider, 0), post).status_code == 404

    def test_a_missing_index_is_404(self, alice, provider):
        assert alice.get(edit_url(provider, 2)).status_code == 404
        assert alice.get(edit_url(provider, 99, "model")).status_code == 404

    def test_a_wrong_method_gets_405(self, alice, provider):
        assert alice.delete(edit_url(provider, 0)).status_code == 405

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_readers_cannot_edit_and_nothing_changes(
        self, client, personas, provider, who
    ):
        client.force_login(getattr(personas, who))
        before = services.provider_files(provider)
        assert client.get(edit_url(provider, 0)).status_code == 403
        post = field_post(provider.lock_version, variable="api_key", label="X")
        assert client.post(edit_url(provider, 0), post).status_code == 403
        assert services.provider_files(provider) == before

    def test_editing_changes_exactly_that_field(self, alice, provider):
        before = provider_yaml(provider)
        response = alice.post(
            edit_url(provider, 1),
            field_post(
                provider.lock_version,
                variable="base_url",
                label="Base URL",
                placeholder="https://api.example.com/v1",
                required=True,
            ),
        )
        assert response.status_code == 302
        expected = copy.deepcopy(before)
        expected["provider_credential_schema"]["credential_form_schemas"][1] = {
            "variable": "base_url",
            "label": {"en_US": "Base URL"},
            "type": "text-input",
            "required": True,
            "placeholder": {"en_US": "https://api.example.com/v1"},
        }
        assert provider_yaml(provider) == expected

    def test_unknown_keys_and_other_languages_are_kept(self, alice, provider):
        def imported(doc):
            fields = (
                doc.provider.spec.provider_credential_schema.credential_form_schemas
            )
            fields[0] = type(fields[0]).model_validate(
                {
                    "variable": "api_key",
                    "label": {"en_US": "API Key", "ko_KR": "API 키"},
                    "type": "secret-input",
                    "required": True,
                    "help": {"en_US": "Get one", "zh_Hans": "获取"},
                    "url": "https://example.com/keys",
                    "max_length": 128,
                    "x-note": "kept",
                }
            )

        services.provider_edit(
            provider=provider, lock_version=provider.lock_version, change=imported
        )
        provider.refresh_from_db()
        html = alice.get(edit_url(provider, 0)).content.decode()
        assert "<code>help</code>" in html
        alice.post(
            edit_url(provider, 0),
            field_post(
                provider.lock_version,
                variable="api_key",
                type="secret-input",
                label="Your API key",
                required=True,
            ),
        )
        assert fields_of(provider)[0] == {
            "variable": "api_key",
            "label": {"en_US": "Your API key", "ko_KR": "API 키"},
            "type": "secret-input",
            "required": True,
            "help": {"en_US": "Get one", "zh_Hans": "获取"},
            "url": "https://example.com/keys",
            "max_length": 128,
            "x-note": "kept",
        }

    def test_option_labels_in_other_languages_are_kept(self, alice, provider):
        def translated(doc):
            field = doc.provider.spec.model_credential_schema.credential_form_schemas[3]
            field.options[0].label.zh_Hans = "对话"

        services.provider_edit(
            provider=provider, lock_version=provider.lock_version, change=translated
        )
        provider.refresh_from_db()
        alice.post(
            edit_url(provider, 3, "model"),
            field_post(
                provider.lock_version,
                variable="mode",
                type="select",
                label="Completion mode",
                required=True,
                default="chat",
                options=[
                    ("chat", "Chat (messages)", ""),
                    ("completion", "Completion", ""),
                ],
                initial_options=2,
                conditions=[("__model_type", "llm")],
                initial_conditions=1,
            ),
        )
        options = fields_of(provider, "model")[3]["options"]
        assert options[0] == {
            "value": "chat",
            "label": {"en_US": "Chat (messages)", "zh_Hans": "对话"},
        }
        assert verifier_errors(provider) == []

    def test_a_blanked_option_row_is_removed(self, alice, provider):
        alice.post(
            edit_url(provider, 3, "model"),
            field_post(
                provider.lock_version,
                variable="mode",
                type="select",
                label="Completion mode",
                default="chat",
                options=[("chat", "Chat", ""), ("", "", "")],
                initial_options=2,
                conditions=[("__model_type", "llm")],
                initial_conditions=1,
            ),
        )
        assert [o["value"] for o in fields_of(provider, "model")[3]["options"]] == [
            "chat"
        ]

    def test_turning_a_select_into_text_drops_its_options(self, alice, provider):
        alice.post(
            edit_url(provider, 3, "model"),
            field_post(
                provider.lock_version,
                variable="mode",
                type="text-input",
                label="Mode",
                default="chat",
                options=[
                    ("chat", "Chat", ""),
                    ("completion", "Completion", "bad line"),
                ],
                initial_options=2,
                conditions=[("__model_type", "llm")],
                initial_conditions=1,
            ),
        )
        field = fields_of(provider, "model")[3]
        assert field["type"] == "text-input"
        assert "options" not in field

    def test_removing_all_conditions_removes_show_on(self, alice, provider):
        alice.post(
            edit_url(provider, 4, "model"),
            field_post(
                provider.lock_version,
                variable="context_size",
                label="Model context size",
                default="4096",
                conditions=[("", "")],
                initial_conditions=1,
            ),
        )
        assert "show_on" not in fields_of(provider, "model")[4]

    def test_an_edit_may_keep_its_own_variable(self, alice, provider):
        response = alice.post(
            edit_url(provider, 0),
            field_post(provider.lock_version, variable="api_key", type="secret-input"),
        )
        assert response.status_code == 302

    def test_an_edit_into_a_duplicate_is_refused(self, alice, provider):
        before = services.provider_files(provider)
        response = alice.post(
            edit_url(provider, 1), field_post(provider.lock_version, variable="api_key")
        )
        assert "Field 1 already uses the variable" in response.content.decode()
        assert services.provider_files(provider) == before

    def test_a_stale_edit_shows_both_versions_and_saves_nothing(self, alice, provider):
        stale = provider.lock_version

        def relabel(doc):
            fields = (
                doc.provider.spec.provider_credential_schema.credential_form_schemas
            )
            fields[0].label.en_US = "Secret token (theirs)"

        services.provider_edit(provider=provider, lock_version=stale, change=relabel)
        provider.refresh_from_db()
        before = services.provider_files(provider)
        response = alice.post(
            edit_url(provider, 0),
            field_post(
                stale, variable="api_key", type="secret-input", label="Key (mine)"
            ),
        )
        html = response.content.decode()
        assert response.status_code == 409
        assert services.provider_files(provider) == before
        yours = html.split('id="conflict-yours">')[1].split("</pre>")[0]
        saved = html.split('id="conflict-saved">')[1].split("</pre>")[0]
        assert "Key (mine)" in yours
        assert "Secret token (theirs)" in saved
        assert f"now {provider.lock_version}" in html

    def test_a_stale_htmx_edit_answers_409_with_the_form(self, alice, provider):
        stale = provider.lock_version
        services.provider_edit(
            provider=provider,
            lock_version=stale,
            change=lambda doc: setattr(doc.provider.spec, "background", "#000000"),
        )
        response = alice.post(
            edit_url(provider, 0),
            field_post(stale, variable="api_key", type="secret-input"),
            **HTMX,
        )
        html = response.content.decode()
        assert response.status_code == 409
        assert "<html" not in html
        assert 'id="conflict"' in html


# ------------------------------------------------------------------ move, delete


class TestFieldMove:
    def move(self, client, provider, index, direction, schema="provider", **kw):
        return client.post(
            url(provider, f"{schema}/{index}/move"),
            {"lock_version": provider.lock_version, "direction": direction},
            **kw,
        )

    def test_moving_down_swaps_exactly_two_fields(self, alice, provider):
        before = provider_yaml(provider)
        response = self.move(alice, provider, 0, "down")
        assert response.status_code == 302
        expected = copy.deepcopy(before)
        forms = expected["provider_credential_schema"]["credential_form_schemas"]
        forms[0], forms[1] = forms[1], forms[0]
        assert provider_yaml(provider) == expected
        assert verifier_errors(provider) == []

    def test_moving_up_in_the_model_schema(self, alice, provider):
        variables = [f["variable"] for f in fields_of(provider, "model")]
        self.move(alice, provider, 3, "up", "model")
        variables[2], variables[3] = variables[3], variables[2]
        assert [f["variable"] for f in fields_of(provider, "model")] == variables

    def test_moving_the_first_field_up_changes_nothing(self, alice, provider):
        before = services.provider_files(provider)
        lock = provider.lock_version
        self.move(alice, provider, 0, "up")
        provider.refresh_from_db()
        assert services.provider_files(provider) == before
        assert provider.lock_version == lock

    def test_an_htmx_move_returns_the_section(self, alice, provider):
        response = self.move(alice, provider, 0, "down", **HTMX)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html
        assert "Moved `api_key` down." in html
        assert html.index("<code>endpoint_url</code>") < html.index(
            "<code>api_key</code>"
        )

    def test_get_is_not_allowed(self, alice, provider):
        assert alice.get(url(provider, "provider/0/move")).status_code == 405

    def test_another_teams_user_gets_404(self, client, personas, provider):
        client.force_login(personas.mallory)
        assert self.move(client, provider, 0, "down").status_code == 404

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_readers_cannot_move(self, client, personas, provider, who):
        client.force_login(getattr(personas, who))
        before = services.provider_files(provider)
        assert self.move(client, provider, 0, "down").status_code == 403
        assert services.provider_files(provider) == before

    def test_a_bad_direction_is_a_400_and_nothing_moves(self, alice, provider):
        before = services.provider_files(provider)
        assert self.move(alice, provider, 0, "sideways").status_code == 400
        assert services.provider_files(provider) == before

    def test_a_missing_field_is_404(self, alice, provider):
        assert self.move(alice, provider, 5, "up").status_code == 404

    def test_a_stale_move_is_409_with_the_current_list(self, alice, provider):
        stale = provider.lock_version
        services.provider_edit(
            provider=provider,
            lock_version=stale,
            change=lambda doc: setattr(doc.provider.spec, "background", "#000000"),
        )
        provider.refresh_from_db()
        before = services.provider_files(provider)
        response = alice.post(
            url(provider, "provider/0/move"),
            {"lock_version": stale, "direction": "down"},
        )
        html = response.content.decode()
        assert response.status_code == 409
        assert services.provider_files(provider) == before
        assert (
            f"you had version {stale}, it is now version {provider.lock_version}"
            in html
        )
        assert "move field 1 `api_key` down" in html


class TestFieldDelete:
    def delete(self, client, provider, index, schema="provider", **kw):
        return client.post(
            url(provider, f"{schema}/{index}/delete"),
            {"lock_version": provider.lock_version},
            **kw,
        )

    def test_deleting_removes_exactly_that_field(self, alice, provider):
        before = provider_yaml(provider)
        response = self.delete(alice, provider, 2, "model")
        assert response.status_code == 302
        expected = copy.deepcopy(before)
        del expected["model_credential_schema"]["credential_form_schemas"][2]
        assert provider_yaml(provider) == expected
        assert verifier_errors(provider) == []

    def test_an_htmx_delete_returns_the_section(self, alice, provider):
        response = self.delete(alice, provider, 0, **HTMX)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html
        assert "Deleted `api_key`." in html

    def test_get_is_not_allowed(self, alice, provider):
        assert alice.get(url(provider, "provider/0/delete")).status_code == 405

    def test_another_teams_user_gets_404(self, client, personas, provider):
        client.force_login(personas.mallory)
        assert self.delete(client, provider, 0).status_code == 404

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_readers_cannot_delete(self, client, personas, provider, who):
        client.force_login(getattr(personas, who))
        before = services.provider_files(provider)
        assert self.delete(client, provider, 0).status_code == 403
        assert services.provider_files(provider) == before

    def test_a_stale_delete_is_409_and_deletes_nothing(self, alice, provider):
        stale = provider.lock_version
        services.provider_edit(
            provider=provider,
            lock_version=stale,
            change=lambda doc: setattr(doc.provider.spec, "background", "#000000"),
        )
        provider.refresh_from_db()
        response = alice.post(
            url(provider, "provider/0/delete"), {"lock_version": stale}
        )
        assert response.status_code == 409
        assert [f["variable"] for f in fields_of(provider)] == [
            "api_key",
            "endpoint_url",
        ]

    def test_no_version_is_a_400(self, alice, provider):
        response = alice.post(url(provider, "provider/0/delete"), {})
        assert response.status_code == 400
        assert len(fields_of(provider)) == 2


# ------------------------------------------------------------------ model name


class TestModelName:
    def test_the_form_shows_the_saved_label(self, alice, provider):
        response = alice.get(url(provider, "model/name"))
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" in html
        assert 'value="Model Name"' in html
        assert 'value="Enter the model name"' in html

    def test_an_htmx_request_gets_only_the_form(self, alice, provider):
        html = alice.get(url(provider, "model/name"), **HTMX).content.decode()
        assert "<html" not in html
        assert 'id="model-name-form"' in html

    def test_saving_writes_model_label_and_placeholder(self, alice, provider):
        before = provider_yaml(provider)
        response = alice.post(
            url(provider, "model/name"),
            {
                "lock_version": provider.lock_version,
                "label_en_US": "Deployment name",
                "label_zh_Hans": "部署名称",
                "placeholder_en_US": "e.g. gpt-4o-prod",
            },
        )
        assert response.status_code == 302
        expected = copy.deepcopy(before)
        expected["model_credential_schema"]["model"] = {
            "label": {"en_US": "Deployment name", "zh_Hans": "部署名称"},
            "placeholder": {"en_US": "e.g. gpt-4o-prod"},
        }
        assert provider_yaml(provider) == expected
        html = alice.get(url(provider)).content.decode()
        assert "Deployment name" in html

    def test_the_label_is_required(self, alice, provider):
        response = alice.post(
            url(provider, "model/name"),
            {"lock_version": provider.lock_version, "label_en_US": ""},
        )
        assert response.status_code == 200
        assert 'id="label_en_US-errors"' in response.content.decode()

    def test_another_teams_user_gets_404(self, client, personas, provider):
        client.force_login(personas.mallory)
        assert client.get(url(provider, "model/name")).status_code == 404

    def test_a_wrong_method_gets_405(self, alice, provider):
        assert alice.put(url(provider, "model/name")).status_code == 405

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_readers_cannot_change_it(self, client, personas, provider, who):
        client.force_login(getattr(personas, who))
        before = services.provider_files(provider)
        response = client.post(
            url(provider, "model/name"),
            {"lock_version": provider.lock_version, "label_en_US": "X"},
        )
        assert response.status_code == 403
        assert services.provider_files(provider) == before

    def test_a_stale_save_shows_both_versions(self, alice, provider):
        stale = provider.lock_version

        def theirs(doc):
            doc.provider.spec.model_credential_schema.model.label.en_US = "Theirs"

        services.provider_edit(provider=provider, lock_version=stale, change=theirs)
        provider.refresh_from_db()
        before = services.provider_files(provider)
        response = alice.post(
            url(provider, "model/name"),
            {"lock_version": stale, "label_en_US": "Mine"},
        )
        html = response.content.decode()
        assert response.status_code == 409
        assert services.provider_files(provider) == before
        assert "en_US: Mine" in html.split('id="conflict-yours">')[1]
        assert "en_US: Theirs" in html.split('id="conflict-saved">')[1]


# ------------------------------------------------------------------ preview


def preview(client, provider, data, **kw):
    return client.post(url(provider, "preview"), data, **kw)


def visible_variables(html: str) -> list[str]:
    return [part.split('"')[0] for part in html.split('data-variable="')[1:]]


class TestPreview:
    def test_the_page_previews_both_dialogs_with_defaults(self, alice, provider):
        html = alice.get(url(provider)).content.decode()
        provider_part = html.split('id="preview-provider"')[1].split("</form>")[0]
        model_part = html.split('id="preview-model"')[1].split("</form>")[0]
        assert visible_variables(provider_part) == ["api_key", "endpoint_url"]
        # llm is picked first: its fields show, text-embedding's do not.
        assert visible_variables(model_part) == [
            "api_key",
            "endpoint_url",
            "endpoint_model_name",
            "mode",
            "function_calling_type",
            "context_size",
            "max_tokens_to_sample",
        ]
        assert 'name="__model_type" value="llm" checked' in model_part
        assert 'value="4096"' in model_part
        assert "1 field hidden by show_on conditions" in model_part

    def test_secret_inputs_render_as_password_inputs(self, alice, provider):
        html = alice.get(url(provider)).content.decode()
        assert '<input type="password" id="pv-provider-0" name="cred-api_key"' in html
        assert 'placeholder="Enter your API key"' in html

    def test_required_fields_are_marked(self, alice, provider):
        html = alice.get(url(provider)).content.decode()
        part = html.split('data-variable="endpoint_model_name"')[1].split("</div>")[0]
        assert 'class="req"' not in part
        part = html.split('data-variable="endpoint_url"')[1].split("</div>")[0]
        assert 'class="req"' in part

    def test_picking_another_model_type_swaps_the_conditional_fields(
        self, alice, provider
    ):
        response = preview(
            alice, provider, {"schema": "model", "__model_type": "text-embedding"}
        )
        html = response.content.decode()
        assert response.status_code == 200
        part = html.split('id="preview-model"')[1].split("</form>")[0]
        assert visible_variables(part) == [
            "api_key",
            "endpoint_url",
            "endpoint_model_name",
            "context_size",
        ]
        assert 'value="512"' in part  # the text-embedding field's default
        assert 'name="__model_type" value="text-embedding" checked' in part

    def test_an_htmx_preview_returns_only_that_dialog(self, alice, provider):
        response = preview(
            alice,
            provider,
            {"schema": "model", "__model_type": "text-embedding"},
            **HTMX,
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert html.lstrip().startswith('<form id="preview-model"')
        assert 'id="preview-provider"' not in html
        assert 'hx-trigger="change"' in html
        assert "mode" not in visible_variables(html)

    def test_without_js_the_preview_has_an_update_button(self, alice, provider):
        html = alice.get(url(provider)).content.decode()
        part = html.split('id="preview-model"')[1].split("</form>")[0]
        assert '<noscript><button type="submit"' in part
        assert f'action="/providers/{provider.pk}/credentials/preview"' in html

    def test_a_value_shows_and_hides_a_dependent_field(self, alice, provider):
        def form(doc):
            fields = (
                doc.provider.spec.provider_credential_schema.credential_form_schemas
            )
            make = type(fields[0]).model_validate
            fields.append(
                make(
                    {
                        "variable": "region",
                        "label": {"en_US": "Region"},
                        "type": "radio",
                        "required": True,
                        "default": "us",
                        "options": [
                            {"value": "us", "label": {"en_US": "US"}},
                            {"value": "custom", "label": {"en_US": "Custom"}},
                        ],
                    }
                )
            )
            fields.append(
                make(
                    {
                        "variable": "custom_host",
                        "label": {"en_US": "Custom host"},
                        "type": "text-input",
                        "required": True,
                        "show_on": [{"variable": "region", "value": "custom"}],
                    }
                )
            )
            fields.append(
                make(
                    {
                        "variable": "tls",
                        "label": {"en_US": "TLS"},
                        "type": "switch",
                        "required": False,
                        "default": "true",
                        "show_on": [{"variable": "region", "value": "custom"}],
                    }
                )
            )

        services.provider_edit(
            provider=provider, lock_version=provider.lock_version, change=form
        )
        html = alice.get(url(provider)).content.decode()
        part = html.split('id="preview-provider"')[1].split("</form>")[0]
        assert "custom_host" not in visible_variables(part)
        assert 'name="cred-region" value="us" checked' in part

        html = preview(
            alice, provider, {"schema": "provider", "cred-region": "custom"}, **HTMX
        ).content.decode()
        assert visible_variables(html)[-3:] == ["region", "custom_host", "tls"]
        assert 'name="cred-region" value="custom" checked' in html
        assert 'role="switch"' in html
        assert 'value="true" aria-labelledby="pv-provider-4-label" checked' in html

        html = preview(
            alice,
            provider,
            {
                "schema": "provider",
                "cred-region": "custom",
                "cred-tls": "false",
            },
            **HTMX,
        ).content.decode()
        assert 'aria-labelledby="pv-provider-4-label">' in html  # unchecked

    def test_option_show_on_filters_the_options(self, alice, provider):
        def form(doc):
            fields = doc.provider.spec.model_credential_schema.credential_form_schemas
            fields.append(
                type(fields[0]).model_validate(
                    {
                        "variable": "quality",
                        "label": {"en_US": "Quality"},
                        "type": "select",
                        "required": False,
                        "options": [
                            {"value": "fast", "label": {"en_US": "Fast"}},
                            {
                                "value": "hd",
                                "label": {"en_US": "HD"},
                                "show_on": [
                                    {"variable": "__model_type", "value": "llm"}
                                ],
                            },
                        ],
                    }
                )
            )

        services.provider_edit(
            provider=provider, lock_version=provider.lock_version, change=form
        )
        llm = preview(
            alice, provider, {"schema": "model", "__model_type": "llm"}, **HTMX
        )
        embedding = preview(
            alice,
            provider,
            {"schema": "model", "__model_type": "text-embedding"},
            **HTMX,
        )
        assert '<option value="hd"' in llm.content.decode()
        assert '<option value="fast"' in embedding.content.decode()
        assert '<option value="hd"' not in embedding.content.decode()

    def test_the_model_name_field_shows_its_label_and_placeholder(
        self, alice, provider
    ):
        html = preview(
            alice, provider, {"schema": "model", "model-name": "gpt-x"}, **HTMX
        ).content.decode()
        assert '<label class="dify-label" for="pv-model-name">Model Name' in html
        assert 'placeholder="Enter the model name"' in html
        assert 'value="gpt-x"' in html

    def test_an_unknown_model_type_falls_back_to_the_first(self, alice, provider):
        html = preview(
            alice, provider, {"schema": "model", "__model_type": "<b>x</b>"}, **HTMX
        ).content.decode()
        assert 'name="__model_type" value="llm" checked' in html
        assert "<b>x</b>" not in html

    def test_posted_values_are_escaped(self, alice, provider):
        html = preview(
            alice,
            provider,
            {"schema": "provider", "cred-endpoint_url": '"><script>x</script>'},
            **HTMX,
        ).content.decode()
        assert "<script>x" not in html
        assert "&quot;&gt;&lt;script&gt;x&lt;/script&gt;" in html

    def test_a_reader_may_try_the_preview(self, client, personas, provider):
        client.force_login(personas.victor)
        assert preview(client, provider, {"schema": "provider"}).status_code == 200

    def test_another_teams_user_gets_404(self, client, personas, provider):
        client.force_login(personas.mallory)
        assert preview(client, provider, {"schema": "provider"}).status_code == 404

    def test_get_is_not_allowed(self, alice, provider):
        assert alice.get(url(provider, "preview")).status_code == 405

    def test_an_unknown_schema_is_404(self, alice, provider):
        assert preview(alice, provider, {"schema": "nope"}).status_code == 404
        assert preview(alice, provider, {}).status_code == 404
