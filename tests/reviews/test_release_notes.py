"""Release notes: generated from the diff with the previous release, edited in
the release form, stored with the release build, shown and downloaded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.builds.models import Build
from studio.catalog.models import Provider
from studio.catalog.services.imports import import_plugin
from studio.pluginfmt.document import PluginDocument
from studio.pluginfmt.readers import read_folder
from studio.reviews import services
from studio.reviews.models import Revision
from studio.reviews.release_notes import draft_release_notes, previous_release
from studio.reviews.selectors import baseline_of, releases_for_provider
from tests.reviews.conftest import (
    HTMX,
    Personas,
    Published,
    approve,
    bump,
    edit,
    set_price,
    submit,
)

pytestmark = pytest.mark.django_db

AsUser = Callable[[str], Client]
TWO_CHANGES = [
    "- The LLM `gpt-4.1-nano` was removed: apps that use it stop working.",
    "- LLM `gpt-4.1-mini`: the output price rose from 1.60 to 1.80 USD per 1M tokens.",
]


def imported_openai(personas: Personas, corpus_copy: Callable[[str], Path]) -> Provider:
    """The shared corpus's OpenAI plugin, imported as a browser upload is."""
    report = import_plugin(
        team=personas.team,
        user=personas.alice,
        files=read_folder(corpus_copy("openai")),
        source="openai",
    )
    return Provider.objects.get(pk=report.provider_id)


def reprice_and_drop(doc: PluginDocument) -> None:
    mini = next(m for m in doc.models if m.spec.model == "gpt-4.1-mini")
    assert mini.spec.pricing is not None
    mini.spec.pricing.output = "1.80"
    doc.models = [m for m in doc.models if m.spec.model != "gpt-4.1-nano"]
    doc.manifest.spec.version = "1.1.0"


def bullets(notes: str) -> list[str]:
    return [line for line in notes.splitlines() if line.startswith("- ")]


def released(revision: Revision, user: Any, **options: Any) -> Build:
    """A release build of `revision` (queued with the stand-in broker)."""
    return services.release_start(revision=revision, user=user, **options)


def succeed(build: Build) -> Build:
    """Mark a queued release build succeeded, as a worker would."""
    Build.objects.filter(pk=build.pk).update(status=Build.Status.SUCCEEDED)
    build.refresh_from_db()
    return build


def url(name: str, *args: Any) -> str:
    return reverse(f"reviews:{name}", args=args)


class TestGeneratedNotes:
    def test_a_corpus_plugin_lists_exactly_a_changed_price_and_a_dropped_model(
        self,
        personas: Personas,
        corpus_copy: Callable[[str], Path],
        broker: Published,
    ) -> None:
        provider = imported_openai(personas, corpus_copy)
        first = approve(submit(provider, personas.bob, "As imported"), personas.carol)
        succeed(released(first, personas.alice))
        edit(provider, reprice_and_drop)
        second = approve(submit(provider, personas.bob, "Two changes"), personas.carol)

        draft = draft_release_notes(second, baseline_of(provider))
        assert draft.compared.previous == first
        assert draft.text.startswith(
            "### 1.1.0\n\nChanges since 1.0.4, the previous release (r1).\n"
        )
        assert bullets(draft.text) == TWO_CHANGES
        assert [h for h in draft.text.splitlines() if h.startswith("#")] == [
            "### 1.1.0",
            "#### Models removed",
            "#### Price changes",
        ]

    def test_a_first_release_compares_with_the_baseline(
        self,
        personas: Personas,
        corpus_copy: Callable[[str], Path],
        broker: Published,
    ) -> None:
        provider = imported_openai(personas, corpus_copy)
        edit(provider, reprice_and_drop)
        revision = approve(submit(provider, personas.bob), personas.carol)
        draft = draft_release_notes(revision, baseline_of(provider))
        assert draft.compared.previous is None
        assert draft.compared.base == baseline_of(provider)
        assert "Changes since the plugin as imported into the studio on " in draft.text
        assert "version 1.0.4 (there is no earlier release)." in draft.text
        assert bullets(draft.text) == TWO_CHANGES

    def test_without_a_baseline_it_is_a_first_release(
        self, personas: Personas, provider: Provider, broker: Published
    ) -> None:
        baseline_of(provider).delete()  # type: ignore[union-attr]
        revision = approve(submit(provider, personas.bob), personas.carol)
        draft = draft_release_notes(revision, None)
        assert draft.compared.base is None
        assert draft.text == (
            "### 0.0.1\n\nFirst release.\n\n#### Models\n\n"
            "- 2 LLMs: `model-000`, `model-001`.\n"
        )

    def test_only_succeeded_releases_of_earlier_revisions_count(
        self, personas: Personas, provider: Provider, broker: Published
    ) -> None:
        first = approve(submit(provider, personas.bob), personas.carol)
        failed = released(first, personas.alice)
        Build.objects.filter(pk=failed.pk).update(status=Build.Status.FAILED)
        edit(provider, set_price("0.75"))
        second = approve(submit(provider, personas.bob), personas.carol)
        assert previous_release(second) is None
        succeed(released(first, personas.alice))
        assert previous_release(second) == first
        assert previous_release(first) is None  # its own release is not "previous"


class TestStoredWithTheRelease:
    def test_notes_given_to_the_release_are_stored_on_its_build(
        self, personas: Personas, provider: Provider, broker: Published
    ) -> None:
        revision = approve(submit(provider, personas.bob), personas.carol)
        build = released(
            revision, personas.alice, release_notes="### 0.0.1\r\n\r\nHello.\r\n\r\n"
        )
        build.refresh_from_db()
        assert build.release_notes == "### 0.0.1\n\nHello.\n"
        [release] = releases_for_provider(provider)
        assert release.as_dict()["release_notes"] == "### 0.0.1\n\nHello.\n"

    def test_without_notes_the_generated_ones_are_stored(
        self, personas: Personas, provider: Provider, broker: Published
    ) -> None:
        revision = approve(submit(provider, personas.bob), personas.carol)
        build = released(revision, personas.alice)
        generated = draft_release_notes(revision, baseline_of(provider)).text
        assert build.release_notes == generated
        assert generated.startswith("### 0.0.1\n\nChanges since the plugin as created")

    def test_blank_notes_are_refused_and_nothing_is_queued(
        self, personas: Personas, provider: Provider, broker: Published
    ) -> None:
        revision = approve(submit(provider, personas.bob), personas.carol)
        with pytest.raises(ValueError, match="cannot be empty"):
            released(revision, personas.alice, release_notes=" \n ")
        assert Build.objects.count() == 0 and broker == []

    def test_a_retry_keeps_the_notes(
        self, personas: Personas, provider: Provider, broker: Published
    ) -> None:
        from studio.builds import services as build_services

        revision = approve(submit(provider, personas.bob), personas.carol)
        build = released(revision, personas.alice, release_notes="Kept.")
        Build.objects.filter(pk=build.pk).update(status=Build.Status.FAILED)
        build.refresh_from_db()
        retry = build_services.build_retry(build=build, user=personas.alice)
        assert retry.release_notes == "Kept.\n" and retry.retry_of == build


class TestReleaseForm:
    @pytest.fixture
    def revision(
        self, personas: Personas, provider: Provider, broker: Published
    ) -> Revision:
        """r2 of a provider whose r1 was released: one price changed."""
        first = approve(submit(provider, personas.bob), personas.carol)
        succeed(released(first, personas.alice))
        edit(provider, set_price("0.75"))
        edit(provider, bump("0.1.0"))
        return approve(submit(provider, personas.bob), personas.carol)

    def release_url(self, revision: Revision) -> str:
        return url("revision-release", revision.provider_id, revision.number)

    def test_the_form_is_filled_with_the_generated_notes(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        body = as_user("bob").get(revision.get_absolute_url()).content.decode()
        assert '<textarea name="notes"' in body
        assert "### 0.1.0\n\nChanges since 0.0.1, the previous release (r1)." in body
        assert "- LLM `model-000`: the input price rose from 0.5 to 0.75 USD" in body
        assert "Generated from the changes since the previous release" in body
        assert ">Regenerate notes</button>" in body

    def test_edited_notes_are_stored_with_the_release(
        self, as_user: AsUser, revision: Revision, broker: Published
    ) -> None:
        response = as_user("bob").post(
            self.release_url(revision),
            {"smoke": "on", "notes": "### 0.1.0\n\nCheaper *and* better.\n"},
        )
        build = Build.objects.get(revision_label="r2")
        assert response.status_code == 302
        assert build.release_notes == "### 0.1.0\n\nCheaper *and* better.\n"

    def test_blank_notes_come_back_with_a_message(
        self, as_user: AsUser, revision: Revision, broker: Published
    ) -> None:
        response = as_user("bob").post(
            self.release_url(revision), {"notes": "  "}, headers=HTMX
        )
        body = response.content.decode()
        assert response.status_code == 400 and "<html" not in body
        assert "Write the release notes, or press “Regenerate notes”." in body
        assert Build.objects.count() == 1  # r1's

    def test_overlong_notes_are_refused(
        self, as_user: AsUser, revision: Revision, broker: Published
    ) -> None:
        response = as_user("bob").post(
            self.release_url(revision), {"notes": "x" * 20_001}
        )
        assert response.status_code == 400
        assert "at most 20000 characters" in response.content.decode()
        assert Build.objects.count() == 1  # r1's

    def test_regenerate_replaces_the_edits_and_releases_nothing(
        self, as_user: AsUser, revision: Revision, broker: Published
    ) -> None:
        response = as_user("bob").post(
            self.release_url(revision),
            {"notes": "my draft", "action": "regenerate"},
            headers=HTMX,
        )
        body = response.content.decode()
        assert response.status_code == 200 and "<html" not in body
        assert "my draft" not in body
        assert "the input price rose from 0.5 to 0.75" in body
        assert Build.objects.count() == 1 and broker == []  # r1 only

    def test_the_form_keeps_the_pages_query_count_as_the_plugin_grows(
        self, as_user: AsUser, personas: Personas, broker: Published
    ) -> None:
        from tests.factories import make_provider

        def reprice_all(doc: PluginDocument) -> None:
            for entry in doc.models:
                if entry.spec.pricing is not None:
                    entry.spec.pricing.input = "0.77"

        client = as_user("bob")
        counts = []
        for name, size in (("small", 3), ("big", 60)):
            provider = make_provider(personas.team, name, models=size)
            first = approve(submit(provider, personas.bob), personas.carol)
            succeed(released(first, personas.alice))
            edit(provider, reprice_all)
            second = approve(submit(provider, personas.bob), personas.carol)
            client.get(second.get_absolute_url())  # warm the caches
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(second.get_absolute_url())
            assert response.status_code == 200
            assert response.content.decode().count("the input price rose") == size
            counts.append(len(ctx.captured_queries))
        assert counts[0] == counts[1]

    def test_readers_get_no_form(self, as_user: AsUser, revision: Revision) -> None:
        body = as_user("carol").get(revision.get_absolute_url()).content.decode()
        assert '<textarea name="notes"' not in body


class TestReleasesList:
    def test_the_notes_show_with_their_release_escaped(
        self,
        as_user: AsUser,
        personas: Personas,
        provider: Provider,
        broker: Published,
    ) -> None:
        revision = approve(submit(provider, personas.bob), personas.carol)
        released(
            revision,
            personas.alice,
            release_notes="### 0.0.1\n\n- Faster <script>alert(1)</script>\n",
        )
        body = as_user("victor").get(url("provider-reviews", provider.pk))
        text = body.content.decode()
        assert "Release notes of 0.0.1</summary>" in text
        assert "Faster" in text and "<script>alert(1)</script>" not in text
        build = Build.objects.get()
        assert url("release-notes", provider.pk, build.pk) in text

    def test_the_tab_keeps_its_query_count_as_releases_grow(
        self,
        as_user: AsUser,
        personas: Personas,
        provider: Provider,
        broker: Published,
    ) -> None:
        client = as_user("carol")
        tab = url("provider-reviews", provider.pk)
        counts = []
        for price in ("0.6", "0.7", "0.8"):
            edit(provider, set_price(price))
            revision = approve(submit(provider, personas.bob), personas.carol)
            succeed(released(revision, personas.alice))
            client.get(tab)
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(tab).status_code == 200
            counts.append(len(ctx.captured_queries))
        assert counts[0] == counts[1] == counts[2]


class TestMarkdownDownload:
    @pytest.fixture
    def build(self, personas: Personas, provider: Provider, broker: Published) -> Build:
        revision = approve(submit(provider, personas.bob), personas.carol)
        return released(revision, personas.alice, release_notes="### 0.0.1\n\nHi.")

    def test_it_is_markdown_under_the_release_notes_heading(
        self, as_user: AsUser, provider: Provider, build: Build
    ) -> None:
        response = as_user("victor").get(url("release-notes", provider.pk, build.pk))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/markdown; charset=utf-8"
        assert response["Content-Disposition"] == (
            'attachment; filename="gateway-0.0.1-release-notes.md"'
        )
        assert response.content.decode() == "## Release Notes\n\n### 0.0.1\n\nHi.\n"

    def test_another_team_gets_404(
        self, as_user: AsUser, provider: Provider, build: Build
    ) -> None:
        response = as_user("mallory").get(url("release-notes", provider.pk, build.pk))
        assert response.status_code == 404

    def test_a_draft_build_is_no_release(
        self,
        as_user: AsUser,
        provider: Provider,
        broker: Published,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        from studio.builds import services as build_services

        with django_capture_on_commit_callbacks(execute=True):
            dev = build_services.build_start(provider=provider, user=None)
        response = as_user("alice").get(url("release-notes", provider.pk, dev.pk))
        assert response.status_code == 404

    def test_anonymous_visitors_are_sent_to_log_in(
        self, client: Client, provider: Provider, build: Build
    ) -> None:
        target = url("release-notes", provider.pk, build.pk)
        response = client.get(target)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_a_wrong_method_gets_405(
        self, as_user: AsUser, provider: Provider, build: Build
    ) -> None:
        response = as_user("alice").post(url("release-notes", provider.pk, build.pk))
        assert response.status_code == 405
