"""Which build the Try it tab runs: "Build the draft now" when the draft
changed, and a revision's build for reviewers (real builds, end to end)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from studio.builds.models import Build
from studio.reviews.services import revision_submit
from tests.builds.conftest import login
from tests.factories import add_llm_models

HTMX = {"HX-Request": "true"}


@pytest.fixture
def no_server(settings: Any, tmp_path: Path) -> None:
    settings.PLAYGROUND_SOCKET = tmp_path / "nobody-listens.sock"


def try_url(provider: Any, **query: Any) -> str:
    url = reverse("playground:try", args=[provider.pk])
    return url + "".join(f"?{k}={v}" for k, v in query.items())


def build_now_url(provider: Any) -> str:
    return reverse("playground:build-now", args=[provider.pk])


@pytest.mark.django_db(transaction=True)
def test_build_the_draft_now_queues_shows_progress_and_offers_the_build(
    built_provider: Any, personas: Any, run_published: Any, no_server: None
) -> None:
    bob = login(Client(), personas.bob)
    first = built_provider.builds.get()
    html = bob.get(try_url(built_provider)).content.decode()
    assert f'Trying build <a href="/builds/{first.pk}/">#{first.pk}</a>' in html
    assert 'id="try-draft-differs"' not in html
    assert 'id="try-build-now"' not in html

    add_llm_models(built_provider, 1)  # the draft moves on
    html = bob.get(try_url(built_provider)).content.decode()
    assert "The draft has changed since this build" in html
    assert "Build the draft now" in html

    viewer = login(Client(), personas.victor)
    assert "Owners and authors may build the draft" in (
        viewer.get(try_url(built_provider)).content.decode()
    )
    refused = viewer.post(build_now_url(built_provider))
    assert refused.status_code == 403
    assert "owners and authors may build the draft" in refused.content.decode()
    other = login(Client(), personas.mallory)
    assert other.post(build_now_url(built_provider)).status_code == 404
    no_token = login(Client(enforce_csrf_checks=True), personas.bob)
    assert no_token.post(build_now_url(built_provider)).status_code == 403
    assert built_provider.builds.count() == 1

    response = bob.post(build_now_url(built_provider))
    assert response.status_code == 302
    assert response["Location"] == try_url(built_provider)
    queued = built_provider.builds.latest("pk")
    assert (queued.status, queued.kind, queued.run_smoke) == ("queued", "dev", False)
    html = bob.get(try_url(built_provider)).content.decode()
    assert 'id="try-pending"' in html and 'hx-trigger="every 2s"' in html
    assert f"#{queued.pk}</a> is queued" in html
    # Still on the old build meanwhile, and said so.
    assert "The draft has changed since this build" in html
    polled = bob.get(try_url(built_provider), headers=HTMX)
    assert polled.status_code == 200 and "<html" not in polled.content.decode()
    again = bob.post(build_now_url(built_provider))
    assert again.status_code == 409
    assert "already in progress" in again.content.decode()

    run_published()
    queued.refresh_from_db()
    assert queued.status == Build.Status.SUCCEEDED, queued.error
    done = bob.get(try_url(built_provider), headers=HTMX)
    html = done.content.decode()
    assert 'id="try-pending"' not in html  # the poll stops, the build is offered
    assert f'Trying build <a href="/builds/{queued.pk}/">#{queued.pk}</a>' in html
    assert 'id="try-draft-differs"' not in html
    assert f'name="build" value="{queued.pk}"' in html


@pytest.mark.django_db(transaction=True)
def test_a_reviewer_tries_a_revisions_build_or_builds_it(
    built_provider: Any, personas: Any, run_published: Any, no_server: None
) -> None:
    first = built_provider.builds.get()
    r1 = revision_submit(provider=built_provider, user=personas.bob, message="one")
    carol = login(Client(), personas.carol)
    review = carol.get(r1.get_absolute_url()).content.decode()
    assert f'href="{try_url(built_provider, revision=1)}" id="revision-try"' in review
    html = carol.get(try_url(built_provider, revision=1)).content.decode()
    # The build of the draft was made from exactly r1's files: it is r1's.
    assert f'Trying revision 1 (build <a href="/builds/{first.pk}/">' in html

    add_llm_models(built_provider, 1)
    revision_submit(provider=built_provider, user=personas.bob, message="two")
    html = carol.get(try_url(built_provider, revision=2)).content.decode()
    assert "Revision 2 has no succeeded build yet." in html
    assert "Build revision 2 now" in html

    viewer = login(Client(), personas.victor)
    refused = viewer.post(build_now_url(built_provider), {"revision": "2"})
    assert refused.status_code == 403
    assert "owners, authors and reviewers may build a revision" in (
        refused.content.decode()
    )
    other = login(Client(), personas.mallory)
    assert (
        other.post(build_now_url(built_provider), {"revision": "2"}).status_code == 404
    )
    assert other.get(try_url(built_provider, revision=2)).status_code == 404
    assert (
        carol.post(build_now_url(built_provider), {"revision": "9"}).status_code == 404
    )
    # A reviewer may not build the draft.
    assert carol.post(build_now_url(built_provider)).status_code == 403

    response = carol.post(build_now_url(built_provider), {"revision": "2"})
    assert response.status_code == 302
    assert response["Location"] == try_url(built_provider, revision=2)
    build = built_provider.builds.latest("pk")
    r2 = built_provider.revisions.get(number=2)
    assert build.source_id == r2.source_id and build.created_by == personas.carol
    html = carol.get(try_url(built_provider, revision=2)).content.decode()
    assert f"#{build.pk}</a> is queued (the files of revision 2)" in html
    run_published()
    html = carol.get(try_url(built_provider, revision=2)).content.decode()
    assert f'Trying revision 2 (build <a href="/builds/{build.pk}/">' in html
    assert f'name="build" value="{build.pk}"' in html
    assert 'name="revision" value="2"' in html
    # Revision 1 is still tried with its own build, not the newest one.
    html = carol.get(try_url(built_provider, revision=1)).content.decode()
    assert f'Trying revision 1 (build <a href="/builds/{first.pk}/">' in html
