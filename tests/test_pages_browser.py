"""Every screen of the studio at 1,280 by 800 in the light and the dark theme:
nothing scrolls sideways and every button has an accessible name.

One seeded team (a 100-model provider, a submitted revision with one price
changed, a signed build that succeeded, an import report) and a list of the
pages a person opens; each is loaded in both themes, checked and saved as a
screenshot under var/screenshots/pages/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from studio.builds import services as build_services
from studio.builds.models import Build
from studio.catalog import services as catalog
from studio.catalog.models import Provider
from studio.pluginfmt.document import PluginDocument
from studio.pluginfmt.sync.upstream import ModelList
from studio.reviews import services as review_services
from studio.sync import services as sync_services
from tests.browser import (
    chromium_page,
    log_in,
    nameless_buttons,
    screenshot,
    wide_elements,
)
from tests.builds.conftest import Published, broker, keypair, run_published, storage
from tests.catalog.conftest import Personas, personas
from tests.factories import make_provider

__all__ = ["Published", "broker", "keypair", "personas", "run_published", "storage"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

THEMES = ("light", "dark")
BACKGROUNDS = {"light": "rgb(247, 249, 251)", "dark": "rgb(15, 20, 26)"}


def seed(
    personas: Personas, run_published: Any, keypair: tuple[bytes, bytes]
) -> dict[str, Any]:
    """A provider with 100 models, a revision changing one price, a build,
    a sync proposal."""
    team = personas.team
    provider: Provider = make_provider(team, models=100)
    build_services.signing_key_upload(
        team=team, user=personas.alice, private_pem=keypair[0]
    )
    review_services.revision_submit(
        provider=provider, user=personas.bob, message="First review"
    )

    def change(doc: PluginDocument) -> None:
        entry = next(m for m in doc.models if m.spec.model == "model-007")
        assert entry.spec.pricing is not None
        entry.spec.pricing.input = "0.42"

    catalog.provider_edit(provider=provider, lock_version=None, change=change)
    revision = review_services.revision_submit(
        provider=provider, user=personas.bob, message="A new input price for model-007"
    )
    build_services.build_start(provider=provider, user=personas.alice)
    run_published()
    build = Build.objects.filter(provider=provider).latest("pk")
    assert build.status == Build.Status.SUCCEEDED, build.steps
    model = provider.models.get(model="model-007")
    # A sync proposal: upstream lists all but two of the models, plus two new.
    listed = [f"model-{i:03d}" for i in range(2, 100)] + ["gpt-new-1", "gpt-new-2"]
    proposal = sync_services.propose_from_upstream(
        provider=provider,
        user=personas.bob,
        base_url="https://api.vendor.example/v1",
        api_key="",
        fetch=lambda url, key, allow: ModelList(tuple(listed)),
    )
    return {
        "provider": provider,
        "revision": revision,
        "build": build,
        "model": model,
        "proposal": proposal,
    }


def pages(seeded: dict[str, Any], personas: Personas) -> dict[str, str]:
    p = seeded["provider"]
    slug = personas.team.slug
    return {
        "home": reverse("home"),
        "providers": reverse("catalog:provider-list"),
        "provider": reverse("catalog:provider-detail", args=[p.pk]),
        "general": reverse("catalog:provider-general-edit", args=[p.pk]),
        "models-table": reverse("catalog:provider-models", args=[p.pk]),
        "model-form": reverse("catalog:model-edit", args=[p.pk, seeded["model"].pk]),
        "credentials": reverse("catalog:provider-credentials", args=[p.pk]),
        "files": reverse("catalog:provider-files", args=[p.pk]),
        "findings": reverse("catalog:provider-findings", args=[p.pk]),
        "builds": reverse("builds:provider-builds", args=[p.pk]),
        "build": reverse("builds:build-detail", args=[seeded["build"].pk]),
        "review-tab": reverse("reviews:provider-reviews", args=[p.pk]),
        "sync": reverse("sync:page", args=[p.pk]),
        "sync-proposal": reverse("sync:proposal", args=[p.pk, seeded["proposal"].pk]),
        "revision": seeded["revision"].get_absolute_url(),
        "revision-text": seeded["revision"].get_absolute_url() + "?view=text",
        "inbox": reverse("reviews:inbox"),
        "import": reverse("catalog:provider-import"),
        "new-provider": reverse("catalog:provider-new"),
        "signing-keys": reverse("builds:signing-keys", args=[slug]),
        "members": reverse("catalog:team-members", args=[slug]),
        "review-rules": reverse("reviews:team-settings", args=[slug]),
        "team-debug-hosts": reverse("debugging:team-hosts", args=[slug]),
        "team-audit": reverse("reviews:team-audit", args=[slug]),
        "notifications": reverse("notifications:list"),
        "notification-settings": reverse("notifications:settings"),
        "profile": reverse("accounts:profile"),
        "tokens": reverse("tokens:token-list"),
    }


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1280, height=800) as page:
        yield page


def test_every_page_fits_and_names_its_buttons_in_both_themes(
    page: Any,
    live_server: Any,
    personas: Personas,
    broker: Published,
    run_published: Any,
    storage: Path,
    keypair: tuple[bytes, bytes],
) -> None:
    seeded = seed(personas, run_published, keypair)
    base = live_server.url
    log_in(page, base, "alice")
    problems: list[str] = []
    for theme in THEMES:
        page.emulate_media(color_scheme=theme)
        for name, path in pages(seeded, personas).items():
            response = page.goto(base + path)
            assert response is not None and response.status == 200, (name, path)
            background = page.evaluate(
                "getComputedStyle(document.body).backgroundColor"
            )
            assert background == BACKGROUNDS[theme], (name, background)
            problems += [f"{name} ({theme}): wide {w}" for w in wide_elements(page)]
            problems += [
                f"{name} ({theme}): nameless {b}" for b in nameless_buttons(page)
            ]
            screenshot(page, f"pages/{name}-{theme}")
    assert not problems, "\n".join(problems)
