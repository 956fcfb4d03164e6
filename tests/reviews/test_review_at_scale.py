"""Issue 13's acceptance at the size of a real plugin: tongyi (104 models, 94
llm models with prices) imported, one price changed through the model form,
submitted: the Review tab and the revision page show exactly one notable
change, and the filters work with plain GET and with htmx."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.catalog.models import Provider, ProviderBaseline, ProviderModel
from studio.catalog.services import imports
from studio.pluginfmt.pricing import price_basis_text
from studio.reviews.diff import clear_caches
from studio.reviews.models import Comment, Revision
from studio.reviews.views.revision_page import anchor_param
from tests.reviews.conftest import Personas, edit, submit

pytestmark = pytest.mark.django_db

AsUser = Callable[[str], Client]
HTMX_META = {"HTTP_HX_REQUEST": "true"}


class _Form(HTMLParser):
    """The fields a browser would post from the page's form `form_id`."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "disabled" in a:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "file"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self.select, self.options = name, []
        elif tag == "option" and self.select is not None:
            self.options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            chosen = [v for v, on in self.options if on] or [
                v for v, _ in self.options[:1]
            ]
            self.fields.extend((self.select, v) for v in chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None


def form_fields(html: str, form_id: str) -> dict[str, Any]:
    parser = _Form(form_id)
    parser.feed(html)
    data: dict[str, Any] = {}
    for name, value in parser.fields:
        if name in data:
            data[name] = [
                *([data[name]] if isinstance(data[name], str) else data[name]),
                value,
            ]
        else:
            data[name] = value
    return data


def changes_shown(body: str) -> list[str]:
    """The classes of the change rows and model lines on a revision page."""
    return re.findall(r'<li class="(?:change|model-line) change-(\w+)"', body)


def level_counts(body: str) -> dict[str, int]:
    """The class filter links' counts: {"All": 1, "Breaking": 0, …}."""
    found = re.findall(
        r'class="level-link[^"]*"[^>]*>(\w+) <span class="count">(\d+)</span>', body
    )
    return {label: int(n) for label, n in found}


@pytest.fixture
def tongyi(corpus_copy: Callable[[str], Path], personas: Personas) -> Provider:
    report = imports.import_path(
        path=corpus_copy("tongyi"), team_slug=personas.team.slug, user=personas.bob
    )
    return Provider.objects.get(pk=report.provider_id)


def priced_model(provider: Provider) -> ProviderModel:
    return (
        provider.models.filter(model_type="llm", spec__pricing__isnull=False)
        .order_by("path")
        .first()
    ) or pytest.fail("tongyi has no priced llm model")


def change_price_in_the_model_form(
    client: Client, provider: Provider, model: ProviderModel
) -> str:
    """Open the model's form, change its input price, save: as a browser does."""
    url = reverse("catalog:model-edit", args=[provider.pk, model.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = form_fields(page.content.decode(), "model-form")
    old = data["pricing_input"]
    new = "0.123456" if old != "0.123456" else "0.654321"
    data["pricing_input"] = new
    data["_save"] = "1"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return new


class TestImportedPluginFirstReview:
    def test_the_import_records_a_baseline(
        self, tongyi: Provider, personas: Personas
    ) -> None:
        baseline = ProviderBaseline.objects.get(provider=tongyi)
        assert baseline.kind == "imported" and baseline.created_by == personas.bob
        assert baseline.files() == {
            f.path: bytes(f.content) for f in tongyi.files.all()
        }
        assert tongyi.models.count() >= 90

    def test_one_price_changed_shows_as_exactly_one_notable_change(
        self, tongyi: Provider, as_user: AsUser, personas: Personas
    ) -> None:
        client = as_user("bob")
        model = priced_model(tongyi)
        new_price = change_price_in_the_model_form(client, tongyi, model)

        # The Review tab: the draft against the baseline.
        tab = client.get(reverse("reviews:provider-reviews", args=[tongyi.pk]))
        body = tab.content.decode()
        assert "The working draft compared with the baseline" in body
        assert "1 change:" in body and "0 breaking, 1 notable, 0 cosmetic" in body
        [line] = re.findall(r'<ul class="draft-changes">(.*?)</ul>', body, re.S)
        assert line.count("<li>") == 1
        assert f"llm model {model.model} input price" in line and new_price in line
        assert "items below" not in body

        response = client.post(
            reverse("reviews:revision-submit", args=[tongyi.pk]),
            {"message": "One price"},
        )
        assert response.status_code == 302
        revision = Revision.objects.get(provider=tongyi)

        page = client.get(revision.get_absolute_url()).content.decode()
        assert "Compared with the baseline: the files as imported" in page
        assert changes_shown(page) == ["notable"]
        assert level_counts(page) == {
            "All": 1,
            "Breaking": 0,
            "Notable": 1,
            "Cosmetic": 0,
        }
        assert "1 change:" in page and "0 breaking, 1 notable, 0 cosmetic" in page
        # The unit in words, as the model form words it.
        basis = price_basis_text(model.spec["pricing"])
        assert basis.endswith(("per 1K tokens", "per 1M tokens"))
        assert "input price" in page and f"({basis})" in page
        assert "0.000001 tokens" not in page and "0.001 tokens" not in page
        assert 'href="#diff-models-llm"' in page  # the jump list

        # Compared with nothing, as before baselines: all 104 models are new.
        everything = client.get(revision.get_absolute_url() + "?base=none")
        assert len(changes_shown(everything.content.decode())) >= 100

    def test_the_text_view_shows_the_one_file(
        self, tongyi: Provider, as_user: AsUser, personas: Personas
    ) -> None:
        client = as_user("bob")
        model = priced_model(tongyi)
        change_price_in_the_model_form(client, tongyi, model)
        revision = submit(tongyi, personas.bob)
        body = client.get(revision.get_absolute_url() + "?view=text").content.decode()
        files = re.findall(r'<details class="textdiff-file" id="file-\d+"', body)
        assert len(files) == 1 and model.path in body


class TestFilters:
    @pytest.fixture
    def revision(self, tongyi: Provider, personas: Personas) -> Revision:
        def reprice(doc: Any) -> None:
            llm = [m for m in doc.models if m.spec.pricing is not None]
            for entry in llm[:3]:
                entry.spec.pricing.input = "9.99"
            llm[3].spec.label.en_US = "Renamed for the test"

        edit(tongyi, reprice)
        return submit(tongyi, personas.bob)

    def test_class_links_and_counts(self, revision: Revision, as_user: AsUser) -> None:
        client = as_user("carol")
        body = client.get(revision.get_absolute_url()).content.decode()
        assert level_counts(body) == {
            "All": 4,
            "Breaking": 0,
            "Notable": 3,
            "Cosmetic": 1,
        }
        notable = client.get(revision.get_absolute_url() + "?level=notable")
        assert changes_shown(notable.content.decode()) == ["notable"] * 3
        assert "Showing 3 of 4 changes" in notable.content.decode()
        cosmetic = client.get(revision.get_absolute_url() + "?level=cosmetic")
        assert changes_shown(cosmetic.content.decode()) == ["cosmetic"]
        breaking = client.get(revision.get_absolute_url() + "?level=breaking")
        assert changes_shown(breaking.content.decode()) == []
        assert "No change matches these filters" in breaking.content.decode()

    def test_type_and_text_filters(
        self, revision: Revision, tongyi: Provider, as_user: AsUser
    ) -> None:
        client = as_user("carol")
        url = revision.get_absolute_url()
        changed = [
            m
            for m in tongyi.models.filter(model_type="llm")
            if str(m.spec.get("pricing", {}).get("input")) == "9.99"
        ]
        target = changed[0].model
        body = client.get(url, {"level": "notable", "type": "llm", "q": target})
        shown = body.content.decode()
        assert changes_shown(shown) == ["notable"]
        assert target in shown
        # Facets: the class counts apply the type and text filters.
        assert level_counts(shown)["Notable"] == 1
        other_type = client.get(url, {"type": "rerank"}).content.decode()
        assert changes_shown(other_type) == []
        upper = client.get(url, {"q": target.upper()}).content.decode()
        assert changes_shown(upper) == ["notable"]

    def test_htmx_gets_only_the_review_part(
        self, revision: Revision, as_user: AsUser
    ) -> None:
        response = as_user("carol").get(
            revision.get_absolute_url() + "?level=cosmetic",
            **{"HTTP_HX_REQUEST": "true"},
        )
        body = response.content.decode()
        assert "<html" not in body and body.lstrip().startswith('<section id="review"')
        assert changes_shown(body) == ["cosmetic"]

    def test_the_text_view_filters_by_path(
        self, revision: Revision, as_user: AsUser
    ) -> None:
        client = as_user("carol")
        url = revision.get_absolute_url()
        every = client.get(url, {"view": "text"}).content.decode()
        assert every.count('<details class="textdiff-file"') == 4
        some = client.get(url, {"view": "text", "path": "NO-SUCH"}).content.decode()
        assert some.count('<details class="textdiff-file"') == 0
        assert "No file path contains" in some
        hx = client.get(url, {"view": "text", "path": ".yaml"}, **HTMX_META)
        body = hx.content.decode()
        assert "<html" not in body and body.count('<details class="textdiff-file"') == 4
        assert "Showing 4 of 4 files" in body

    def test_bad_filter_values_are_ignored(
        self, revision: Revision, as_user: AsUser
    ) -> None:
        response = as_user("carol").get(
            revision.get_absolute_url(),
            {"level": "dreadful", "base": "drop table", "comment": "[1,"},
        )
        assert response.status_code == 200
        assert len(changes_shown(response.content.decode())) == 4


class TestCommentsOnAFilteredPage:
    def test_a_comment_link_opens_the_form_at_the_change_and_posts_it(
        self, tongyi: Provider, as_user: AsUser, personas: Personas
    ) -> None:
        model = priced_model(tongyi)

        def reprice(doc: Any) -> None:
            entry = next(m for m in doc.models if m.path == model.path)
            entry.spec.pricing.input = "7.5"

        edit(tongyi, reprice)
        revision = submit(tongyi, personas.bob)
        client = as_user("carol")
        anchor = ["model", "llm", model.model, "pricing", "input"]
        page = client.get(
            revision.get_absolute_url()
            + "?level=notable&comment="
            + quote(anchor_param(tuple(anchor)), safe="/")
        ).content.decode()
        form = re.search(r'<div class="comment-here">(.*?)</form>', page, re.S)
        assert form is not None and "autofocus" in form.group(1)
        assert 'name="level" value="notable"' in form.group(1)
        response = client.post(
            reverse("reviews:comment-create", args=[tongyi.pk, revision.number]),
            {"body": "Why so dear?", "anchor": json.dumps(anchor), "level": "notable"},
        )
        comment = Comment.objects.get()
        assert comment.anchor == anchor
        assert response.status_code == 302
        assert response["Location"].endswith(f"?level=notable#comment-{comment.pk}")
        shown = client.get(revision.get_absolute_url() + "?level=notable")
        body = shown.content.decode()
        group = re.search(
            r'<article class="diff-group[^"]*">(.*?)</article>\s*</section>', body, re.S
        )
        assert group is not None and "Why so dear?" in group.group(1)

    def test_an_empty_pinned_comment_comes_back_open_with_its_error(
        self, tongyi: Provider, as_user: AsUser, personas: Personas
    ) -> None:
        model = priced_model(tongyi)

        def reprice(doc: Any) -> None:
            entry = next(m for m in doc.models if m.path == model.path)
            entry.spec.pricing.input = "7.5"

        edit(tongyi, reprice)
        revision = submit(tongyi, personas.bob)
        anchor = ["model", "llm", model.model, "pricing", "input"]
        response = as_user("carol").post(
            reverse("reviews:comment-create", args=[tongyi.pk, revision.number]),
            {"body": "", "anchor": json.dumps(anchor)},
            **HTMX_META,
        )
        assert response.status_code == 400
        body = response.content.decode()
        form = re.search(r'<div class="comment-here">(.*?)</form>', body, re.S)
        assert form is not None and "This field is required" in form.group(1)
        assert not Comment.objects.exists()


class TestQueries:
    def test_the_revision_page_and_the_tab_keep_their_query_count(
        self, personas: Personas, as_user: AsUser
    ) -> None:
        from tests.factories import make_provider

        def reprice_all(doc: Any) -> None:
            for entry in doc.models:
                if entry.spec.pricing is not None:
                    entry.spec.pricing.input = "0.77"

        counts = {}
        client = as_user("carol")
        for name, size in (("small", 5), ("big", 120)):
            provider = make_provider(personas.team, name, models=size)
            submit(provider, personas.bob)
            edit(provider, reprice_all)
            revision = submit(provider, personas.bob)
            pages = {
                "changes": revision.get_absolute_url(),
                "text": revision.get_absolute_url() + "?view=text",
                "first": reverse("reviews:revision-detail", args=[provider.pk, 1]),
                "tab": reverse("reviews:provider-reviews", args=[provider.pk]),
            }
            for page, url in pages.items():
                client.get(url)  # warm the caches of views and diffs
                with CaptureQueriesContext(connection) as ctx:
                    assert client.get(url).status_code == 200
                counts[(name, page)] = len(ctx.captured_queries)
        for page in ("changes", "text", "first", "tab"):
            assert counts[("small", page)] == counts[("big", page)], page
        clear_caches()


class TestHtmxComment:
    def test_a_posted_comment_shows_in_place_and_its_form_closes(
        self, as_user: AsUser, personas: Personas
    ) -> None:
        from tests.factories import make_provider
        from tests.reviews.conftest import set_price

        provider = make_provider(personas.team, models=2)
        submit(provider, personas.bob)
        edit(provider, set_price("0.8"))
        revision = submit(provider, personas.bob)
        anchor = ["model", "llm", "model-000", "pricing", "input"]
        response = as_user("carol").post(
            reverse("reviews:comment-create", args=[provider.pk, revision.number]),
            {"body": "Dearer?", "anchor": json.dumps(anchor), "q": "model-000"},
            **HTMX_META,
        )
        body = response.content.decode()
        assert response.status_code == 200 and "<html" not in body
        assert '<div class="comment-here">' not in body
        assert "Dearer?" in body and 'name="q" value="model-000"' in body
        assert changes_shown(body) == ["notable"]
