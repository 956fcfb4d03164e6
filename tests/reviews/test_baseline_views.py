"""What a first revision and the Review tab compare with: the provider's
baseline, or nothing (said so) for providers older than baselines."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from studio.catalog.models import Provider, ProviderBaseline
from tests.reviews.conftest import Personas, approve, edit, set_price, submit

pytestmark = pytest.mark.django_db

AsUser = Callable[[str], Client]
NO_BASELINE = "has no baseline (it was added to the studio before baselines"


def tab(client: Client, provider: Provider) -> str:
    return client.get(
        reverse("reviews:provider-reviews", args=[provider.pk])
    ).content.decode()


class TestFirstRevision:
    def test_it_compares_with_the_baseline_and_the_selector_offers_it(
        self, as_user: AsUser, personas: Personas, provider: Provider
    ) -> None:
        first = submit(provider, personas.bob)
        body = as_user("carol").get(first.get_absolute_url()).content.decode()
        created = provider.baseline.created_at
        assert "Compared with the baseline: the files as created on" in body
        assert (
            f'<option value="baseline" selected>created {created:%Y-%m-%d} '
            "(baseline) · 0.0.1</option>" in body
        )
        # The two models came after the provider was created: two added lines.
        assert body.count('<li class="model-line change-notable"') == 2

    def test_a_later_revision_keeps_its_default_and_may_pick_the_baseline(
        self, as_user: AsUser, personas: Personas, provider: Provider
    ) -> None:
        first = approve(submit(provider, personas.bob), personas.carol)
        edit(provider, set_price("0.8"))
        second = submit(provider, personas.bob)
        client = as_user("carol")
        default = client.get(second.get_absolute_url()).content.decode()
        assert f"Compared with {first.label} (approved" in default
        assert '<option value="baseline">' in default
        against = client.get(second.get_absolute_url() + "?base=baseline")
        body = against.content.decode()
        assert "Compared with the baseline" in body
        assert '<option value="baseline" selected>' in body
        assert body.count('<li class="model-line change-notable"') == 2

    def test_without_a_baseline_it_compares_with_nothing_and_says_why(
        self, as_user: AsUser, personas: Personas, provider: Provider
    ) -> None:
        ProviderBaseline.objects.filter(provider=provider).delete()
        first = submit(provider, personas.bob)
        client = as_user("carol")
        body = client.get(first.get_absolute_url()).content.decode()
        assert NO_BASELINE in body and "Everything is new:" in body
        assert '<option value="baseline"' not in body
        # Asking for a baseline that does not exist falls back to the default.
        asked = client.get(first.get_absolute_url() + "?base=baseline")
        assert asked.status_code == 200 and NO_BASELINE in asked.content.decode()


class TestReviewTab:
    def test_the_draft_compares_with_the_baseline_before_any_revision(
        self, as_user: AsUser, provider: Provider
    ) -> None:
        body = tab(as_user("bob"), provider)
        assert "The working draft compared with the baseline, the files as created" in (
            body
        )
        # The models and the position file the provider YAML now names.
        assert "3 changes:" in body and "0 breaking, 2 notable, 1 cosmetic" in body
        assert body.count("llm model model-00") == 2  # one line each
        assert "items below" not in body

    def test_then_with_the_newest_revision(
        self, as_user: AsUser, personas: Personas, provider: Provider
    ) -> None:
        first = submit(provider, personas.bob)
        edit(provider, set_price("0.8"))
        body = tab(as_user("bob"), provider)
        assert f">{first.label}</a> (in review):" in body
        assert "1 change:" in body
        assert 'input price "0.5" → "0.8" (USD per 1M tokens)' in body.replace(
            "&quot;", '"'
        )

    def test_without_a_baseline_it_says_why_everything_is_new(
        self, as_user: AsUser, provider: Provider
    ) -> None:
        ProviderBaseline.objects.filter(provider=provider).delete()
        body = tab(as_user("bob"), provider)
        assert NO_BASELINE in body and "Everything is new:" in body

    def test_a_long_draft_lists_thirty_subjects_and_counts_the_rest(
        self, as_user: AsUser, personas: Personas
    ) -> None:
        from tests.factories import make_provider

        big = make_provider(personas.team, "big", models=40)
        body = tab(as_user("bob"), big)
        [listed] = re.findall(r'<ul class="draft-changes">(.*?)</ul>', body, re.S)
        assert listed.count("<li>") == 30  # the provider YAML, then 29 models
        assert "… and 11 more." in body
