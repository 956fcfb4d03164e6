"""The models table at scale: search and filters (GET parameters, htmx), the
row menu and the row edit form loaded on demand."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from studio.catalog import services
from studio.catalog.models import Provider, ProviderModel
from studio.pluginfmt.document import dump_yaml
from tests.catalog.test_models_views import (
    HX,
    data_of,
    form_data,
    model,
    model_url,
    new_url,
    order_in,
    row_data,
    table_url,
)
from tests.factories import llm_model_data, make_provider

pytestmark = pytest.mark.django_db

REORDERABLE = re.compile(r'<table class="models"[^>]* data-reorder>')


@pytest.fixture
def provider(personas) -> Provider:
    """Six llm models and one text-embedding model:

    model-000  GPT Fast       tool-call, vision   priced
    model-001  Claude Large   agent-thought       priced, deprecated
    model-002  GPT Mini       vision              no price
    model-003  Qwen Coder     agent-thought       priced
    model-004  Claude Small   tool-call           no price, deprecated
    model-005  Llama          (none)              priced
    embed-one  Embed One      (text-embedding)    priced
    """
    provider = make_provider(
        personas.team, models=6, model_types=["llm", "text-embedding"]
    )
    shapes = {
        "model-000": ("GPT Fast", ["tool-call", "vision"], True, False),
        "model-001": ("Claude Large", ["agent-thought"], True, True),
        "model-002": ("GPT Mini", ["vision"], False, False),
        "model-003": ("Qwen Coder", ["agent-thought"], True, False),
        "model-004": ("Claude Small", ["tool-call"], False, True),
        "model-005": ("Llama", [], True, False),
    }
    files = services.provider_files(provider)
    for name, (label, features, priced, deprecated) in shapes.items():
        data = llm_model_data(name)
        data["label"] = {"en_US": label}
        data["features"] = features
        if not priced:
            del data["pricing"]
        if deprecated:
            data["deprecated"] = True
        files[f"models/llm/{name}.yaml"] = dump_yaml(data)
    services.provider_replace_files(provider=provider, files=files)
    provider.refresh_from_db()
    response = embed(provider, personas)
    assert response.status_code == 302
    provider.refresh_from_db()
    return provider


def embed(provider: Provider, personas):
    from django.test import Client

    client = Client()
    client.force_login(personas.alice)
    data = form_data(
        provider,
        "embed-one",
        "text-embedding",
        label_en_US="Embed One",
        pricing_input="0.1",
    )
    return client.post(new_url(provider, "text-embedding"), data)


def shown(client, provider: Provider, **params) -> list[str]:
    response = client.get(table_url(provider), params)
    assert response.status_code == 200
    return order_in(response.content.decode())


class TestFilters:
    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({}, [f"model-00{i}" for i in range(6)] + ["embed-one"]),
            ({"q": "claude"}, ["model-001", "model-004"]),
            ({"q": "MODEL-00"}, [f"model-00{i}" for i in range(6)]),
            ({"q": "  embed one "}, ["embed-one"]),
            ({"type": "text-embedding"}, ["embed-one"]),
            ({"deprecated": "yes"}, ["model-001", "model-004"]),
            (
                {"deprecated": "no"},
                ["model-000", "model-002", "model-003", "model-005", "embed-one"],
            ),
            ({"feature": "vision"}, ["model-000", "model-002"]),
            ({"feature": "polling"}, []),
            ({"priced": "no"}, ["model-002", "model-004"]),
            (
                {"priced": "yes", "type": "llm"},
                ["model-000", "model-001", "model-003", "model-005"],
            ),
            ({"q": "gpt", "feature": "vision", "priced": "yes"}, ["model-000"]),
            (
                {"q": "claude", "deprecated": "yes", "feature": "tool-call"},
                ["model-004"],
            ),
        ],
    )
    def test_each_filter_and_their_combinations_narrow_the_rows(
        self, client, personas, provider, params, expected
    ):
        client.force_login(personas.bob)
        assert shown(client, provider, **params) == expected

    def test_a_plain_get_keeps_the_filters_in_the_form_and_counts(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        response = client.get(table_url(provider), {"q": "gpt", "priced": "yes"})
        html = response.content.decode()
        assert "<html" in html
        assert 'name="q" id="id_q" value="gpt"' in html
        assert '<option value="yes" selected>Priced</option>' in html
        assert "<strong>1 of 7 models</strong> match the filters." in html
        assert f'href="{table_url(provider)}" hx-get' in html  # clear filters
        # The feature filter offers what the models declare.
        features = re.search(r'<select name="feature".*?</select>', html, re.S)
        assert features is not None
        offered = re.findall(r'<option value="([^"]*)"', features.group(0))
        assert offered[:4] == ["", "tool-call", "agent-thought", "vision"]

    def test_an_htmx_filter_request_gets_the_results_only_and_a_clean_url(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        response = client.get(
            table_url(provider),
            {"q": "claude", "type": "", "deprecated": "", "feature": "", "priced": ""},
            HTTP_HX_TARGET="models-results",
            **HX,
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert html.lstrip().startswith('<div id="models-results">')
        assert 'id="model-filters"' not in html
        assert order_in(html) == ["model-001", "model-004"]
        assert response["HX-Push-Url"] == table_url(provider) + "?q=claude"

    def test_clearing_through_htmx_gets_the_section_with_an_empty_form(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        response = client.get(
            table_url(provider), HTTP_HX_TARGET="models-section", **HX
        )
        html = response.content.decode()
        assert html.lstrip().startswith('<section id="models-section"')
        assert 'name="q" id="id_q" value=""' in html
        assert response["HX-Push-Url"] == table_url(provider)

    def test_a_history_restore_gets_the_whole_page_and_caches_are_told(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        response = client.get(
            table_url(provider),
            {"q": "gpt"},
            HTTP_HX_HISTORY_RESTORE_REQUEST="true",
            **HX,
        )
        html = response.content.decode()
        assert "<html" in html
        assert order_in(html) == ["model-000", "model-002"]
        assert "HX-Request" in response["Vary"]

    def test_no_match_shows_the_empty_state_with_a_way_out(
        self, client, personas, provider
    ):
        client.force_login(personas.victor)
        html = client.get(table_url(provider), {"q": "zzz"}).content.decode()
        assert "<strong>0 of 7 models</strong>" in html
        assert "No models match these filters." in html
        assert "Clear filters</a>" in html
        assert order_in(html) == []
        assert 'id="type-llm"' not in html

    @pytest.mark.parametrize(
        "params",
        [
            {"type": "tts"},
            {"deprecated": "maybe"},
            {"feature": "<script>"},
            {"priced": "1"},
            {"q": "x" * 201},
        ],
    )
    def test_a_bad_filter_is_a_400_with_the_reason_and_the_whole_table(
        self, client, personas, provider, params
    ):
        client.force_login(personas.alice)
        response = client.get(table_url(provider), params)
        html = response.content.decode()
        assert response.status_code == 400
        assert 'class="errorlist" role="alert"' in html
        assert "<script>" not in html.split('id="model-filters"', 1)[1]
        assert len(order_in(html)) == 7

    def test_filtering_turns_reordering_off_and_says_why(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        whole = client.get(table_url(provider)).content.decode()
        assert REORDERABLE.search(whole)
        assert "Reordering is off" not in whole
        filtered = client.get(table_url(provider), {"q": "gpt"}).content.decode()
        assert not REORDERABLE.search(filtered)
        assert "Reordering is off while the table is filtered" in filtered

    def test_a_viewer_filters_too_and_sees_no_menus(self, client, personas, provider):
        client.force_login(personas.victor)
        html = client.get(table_url(provider), {"priced": "no"}).content.decode()
        assert order_in(html) == ["model-002", "model-004"]
        assert "details" not in html.split('id="models-results"', 1)[1]
        assert not REORDERABLE.search(html)
        assert 'View<span class="sr-only"> model-002</span>' in html

    def test_bulk_actions_apply_to_what_was_selected_in_a_filtered_table(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        html = client.get(table_url(provider), {"q": "gpt"}).content.decode()
        assert 'id="bulk-form"' in html
        ids = re.findall(r'name="selected" value="(\d+)"', html)
        assert len(ids) == 2
        response = client.post(
            reverse("catalog:models-bulk", args=[provider.pk]),
            {
                "lock_version": provider.lock_version,
                "selected": ids,
                "action": "deprecate",
            },
            HTTP_HX_CURRENT_URL=f"http://testserver{table_url(provider)}?q=gpt",
            **HX,
        )
        html = response.content.decode()
        assert "Changed 2 models: model-000, model-002." in html
        # The answer keeps the filters the browser shows.
        assert "<strong>2 of 7 models</strong>" in html
        assert data_of(provider, "models/llm/model-002.yaml")["deprecated"] is True


def actions_url(provider: Provider, m: ProviderModel) -> str:
    return reverse("catalog:model-actions", args=[provider.pk, m.pk])


def row_edit_url(provider: Provider, m: ProviderModel) -> str:
    return reverse("catalog:model-row-edit", args=[provider.pk, m.pk])


class TestRowMenu:
    def test_each_row_has_a_named_menu_whose_items_load_on_demand(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-003")
        html = client.get(table_url(provider)).content.decode()
        row = html.split(f'<tr id="m-{m.pk}"', 1)[1].split("</tr>", 1)[0]
        assert '<summary aria-label="Actions for model-003">Actions</summary>' in row
        # The file's path is left out when the id tells it.
        assert "<small>2 rules</small>" in row
        assert f'<a href="{actions_url(provider, m)}">Open the actions</a>' in row
        # Not in the row: its forms and their buttons.
        assert "<form" not in row and "<button" not in row

    def test_the_menu_names_every_action_of_the_row(self, client, personas, provider):
        client.force_login(personas.bob)
        m = model(provider, "model-000")
        response = client.get(actions_url(provider, m), **HX)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html
        assert (
            f'hx-get="{row_edit_url(provider, m)}" hx-target="#m-{m.pk}"'
            ' hx-swap="outerHTML">Edit in the table</a>'
        ) in html
        assert (
            f'href="{model_url(provider, m, "edit")}">Open the model form</a>' in html
        )
        buttons = re.findall(r"<button[^>]*>(.*?)</button>", html, re.S)
        names = [re.sub(r"<[^>]+>", "", b).strip() for b in buttons]
        assert names == [
            "Duplicate model-000",
            "Move up model-000",
            "Move down model-000",
            "Delete model-000",
        ]
        # The first of its type cannot move up.
        assert re.search(r'value="up" disabled>Move up', html)
        assert 'value="model-000-copy"' in html
        assert (
            'hx-confirm="Delete the model model-000 (models/llm/model-000.yaml)?"'
            in (html)
        )
        assert f'name="model_lock" value="{m.lock_version}"' in html

    def test_without_javascript_the_menu_is_a_page_of_plain_forms(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-002")
        html = client.get(actions_url(provider, m)).content.decode()
        assert "<html" in html
        assert "Edit in the table" not in html
        assert "hx-post" not in html.split('class="menu-list"', 1)[1]
        assert f'action="{model_url(provider, m, "duplicate")}"' in html
        assert 'value="up">Move up' in html

    def test_moves_are_off_in_the_menu_of_a_filtered_table(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-002")
        html = client.get(
            actions_url(provider, m),
            HTTP_HX_CURRENT_URL=f"http://testserver{table_url(provider)}?q=gpt",
            **HX,
        ).content.decode()
        assert "Move up" not in html
        assert "Moving is off while the table is filtered" in html
        assert "Delete<span" in html

    def test_empty_filter_parameters_leave_the_moves_on(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-002")
        shown = f"http://testserver{table_url(provider)}?q=&type=&feature="
        html = client.get(
            actions_url(provider, m), HTTP_HX_CURRENT_URL=shown, **HX
        ).content.decode()
        assert "Move up" in html

    def test_who_may_not_edit_gets_no_menu(self, client, personas, provider):
        m = model(provider, "model-002")
        client.force_login(personas.victor)
        assert client.get(actions_url(provider, m), **HX).status_code == 403
        client.force_login(personas.mallory)
        assert client.get(actions_url(provider, m)).status_code == 404
        client.force_login(personas.alice)
        assert client.post(actions_url(provider, m)).status_code == 405

    def test_a_duplicate_from_a_filtered_table_answers_filtered(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-001")
        response = client.post(
            model_url(provider, m, "duplicate"),
            {"model_lock": m.lock_version, "new_id": "model-001-copy"},
            HTTP_HX_CURRENT_URL=f"http://testserver{table_url(provider)}?q=model-001",
            **HX,
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert order_in(html) == ["model-001", "model-001-copy"]
        assert "<strong>2 of 8 models</strong>" in html
        assert 'value="model-001"' in html  # the search box

    def test_a_bad_copy_id_answers_with_the_menu_in_place(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-001")
        response = client.post(
            model_url(provider, m, "duplicate"),
            {"model_lock": m.lock_version, "new_id": "model-003"},
            **HX,
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert response["HX-Retarget"] == f"#m-{m.pk} details.menu > div"
        assert response["HX-Reswap"] == "innerHTML"
        assert "already used" in html
        assert 'value="model-003" maxlength="255" aria-invalid="true"' in html
        assert not provider.models.filter(model="model-003", path__contains="001")

    @pytest.mark.parametrize("action", ["duplicate", "move", "delete"])
    def test_an_action_from_an_outdated_menu_is_409_and_changes_nothing(
        self, client, personas, provider, action
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-003")
        stale = m.lock_version
        client.post(model_url(provider, m), row_data(m, label="Changed"))
        before = services.provider_files(provider)
        response = client.post(
            model_url(provider, m, action),
            {
                "model_lock": stale,
                "new_id": "model-003-copy",
                "direction": "up",
                "confirm": "1",
            },
            **HX,
        )
        assert response.status_code == 409
        assert "Someone else changed model-003" in response.content.decode()
        assert services.provider_files(provider) == before


class TestRowEditOnDemand:
    def test_the_row_edit_form_comes_for_one_row(self, client, personas, provider):
        client.force_login(personas.bob)
        m = model(provider, "model-003")
        response = client.get(row_edit_url(provider, m), **HX)
        html = response.content.decode()
        assert response.status_code == 200
        assert html.lstrip().startswith(
            f'<tr id="m-{m.pk}" class="mrow editing" data-model="model-003">'
        )
        assert f'<form id="f-{m.pk}" method="post"' in html
        assert 'name="csrfmiddlewaretoken"' in html
        assert f'name="model_lock" value="{m.lock_version}"' in html
        assert 'name="label" form="f-' in html and 'value="Qwen Coder"' in html
        assert 'name="deprecated"' in html
        assert re.search(r"<button[^>]*>Save<span class=\"sr-only\"> model-003", html)
        assert f'hx-get="{model_url(provider, m)}"' in html  # cancel
        assert html.count("<tr") == 1

    def test_without_htmx_it_sends_to_the_full_model_form(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-003")
        response = client.get(row_edit_url(provider, m))
        assert response.status_code == 302
        assert response["Location"] == model_url(provider, m, "edit")

    def test_cancelling_shows_the_row_as_text_again(self, client, personas, provider):
        client.force_login(personas.alice)
        m = model(provider, "model-003")
        html = client.get(model_url(provider, m), **HX).content.decode()
        assert html.lstrip().startswith(f'<tr id="m-{m.pk}" class="mrow"')
        assert "<input" in html and 'name="label"' not in html
        plain = client.get(model_url(provider, m))
        assert plain.status_code == 302
        assert plain["Location"] == table_url(provider) + f"#m-{m.pk}"

    def test_who_may_not_edit_gets_no_edit_form(self, client, personas, provider):
        m = model(provider, "model-003")
        client.force_login(personas.carol)
        assert client.get(row_edit_url(provider, m), **HX).status_code == 403
        client.force_login(personas.mallory)
        assert client.get(row_edit_url(provider, m), **HX).status_code == 404
        client.force_login(personas.alice)
        assert client.post(row_edit_url(provider, m)).status_code == 405

    def test_a_saved_row_comes_back_as_text_with_its_notice(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-003")
        response = client.post(
            model_url(provider, m), row_data(m, label="Qwen Coder Plus"), **HX
        )
        html = response.content.decode()
        row = html.split("<template>", 1)[0]
        assert response.status_code == 200
        assert "Qwen Coder Plus" in row
        assert 'name="label"' not in row
        assert '<p class="row-notice" role="status">Saved.</p>' in row

    def test_a_refused_save_comes_back_as_the_edit_form_with_errors(
        self, client, personas, provider
    ):
        client.force_login(personas.alice)
        m = model(provider, "model-003")
        html = client.post(
            model_url(provider, m), row_data(m, input_price="cheap"), **HX
        ).content.decode()
        assert 'class="mrow editing has-errors"' in html
        assert 'value="cheap"' in html
        assert "decimal number" in html
