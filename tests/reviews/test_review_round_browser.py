"""Issue 7's round in a real browser: submit, comment on a price, fix, resubmit,
the comment goes outdated, approve, release, download the signed release."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.builds import services as build_services
from studio.builds.models import Build
from studio.catalog.models import ProviderModel
from studio.pluginfmt.readers import read_package
from studio.pluginfmt.signing import SignatureStatus, verify_signature
from studio.reviews.models import Comment, Revision
from tests.browser import chromium_page, log_in, screenshot
from tests.factories import make_provider
from tests.reviews.conftest import Personas, Published, price_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1440, height=1000) as page:
        yield page


def wait_until(check: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def switch_to(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    log_in(page, base, username)


class TestReviewRound:
    def test_a_price_is_reviewed_fixed_approved_and_released(
        self,
        page: Any,
        live_server: Any,
        personas: Personas,
        broker: Published,
        run_published: Any,
        storage: Path,
        keypair: tuple[bytes, bytes],
    ) -> None:
        base = live_server.url
        provider = make_provider(personas.team, models=2)
        build_services.signing_key_upload(
            team=personas.team, user=personas.alice, private_pem=keypair[0]
        )
        reviews = f"{base}/providers/{provider.pk}/reviews/"

        # Bob submits the draft for review.
        log_in(page, base, "bob")
        page.goto(reviews)
        page.fill("#id_message", "Two models for the gateway")
        page.click("#submit button[type=submit]")
        page.wait_for_url(f"{base}/providers/{provider.pk}/revisions/1/")
        assert page.locator(".rev-status").first.inner_text() == "in review"
        screenshot(page, "review-submitted")

        # Carol sees it in her inbox and comments on model-000's price.
        switch_to(page, base, "carol")
        assert page.locator(".nav-reviews .badge").first.inner_text() == "1"
        page.click(".nav-reviews")
        page.click("text=r1")
        page.wait_for_url(f"{base}/providers/{provider.pk}/revisions/1/")
        # r1 adds model-000 (against the provider's baseline): pin to the model.
        page.select_option("#comment-place", label="llm model model-000")
        page.fill("#comment-body", "The input price should be 0.75")
        page.click("#comments .comment-form button[type=submit]")
        page.wait_for_selector(".comment >> text=The input price should be 0.75")
        comment = Comment.objects.get()
        assert comment.anchor == ["model", "llm", "model-000"]
        page.fill("#id_note", "See my comment on the price")
        page.click("button[value=request-changes]")
        page.wait_for_selector("#decision >> text=changes requested")
        screenshot(page, "review-changes-requested")

        # Bob fixes the price in the model form and submits again.
        switch_to(page, base, "bob")
        assert "1 back to you" in page.locator(".nav-reviews").inner_text()
        model = ProviderModel.objects.get(provider=provider, model="model-000")
        page.goto(f"{base}/providers/{provider.pk}/models/{model.pk}/edit")
        page.fill("#id_pricing_input", "0.75")
        page.click(".form-actions button[name=_save]")
        # The save redirects to the models table; let it land before moving on.
        page.wait_for_url(f"{base}/providers/{provider.pk}/models/#m-*")
        wait_until(
            lambda: (
                ProviderModel.objects.get(pk=model.pk).spec["pricing"]["input"]
                in ("0.75", 0.75)
            )
        )
        page.goto(reviews)
        page.fill("#id_message", "Input price raised to 0.75")
        page.click("#submit button[type=submit]")
        page.wait_for_url(f"{base}/providers/{provider.pk}/revisions/2/")
        pinned = page.locator(f"#comment-{comment.pk}")
        assert "outdated" in pinned.inner_text() and "from r1" in pinned.inner_text()
        assert "input price" in page.locator("#review").inner_text()
        screenshot(page, "review-resubmitted")
        page.check("input[name=view][value=text]")
        page.click("form.compare button[type=submit]")
        page.wait_for_selector("pre.textdiff .td-add >> text=0.75")
        assert "view=text" in page.url
        screenshot(page, "review-text-diff")

        # Carol resolves her comment and approves.
        switch_to(page, base, "carol")
        page.goto(f"{base}/providers/{provider.pk}/revisions/2/")
        page.click(f"#comment-{comment.pk} button:has-text('Resolve')")
        page.wait_for_selector(f"#comment-{comment.pk} >> text=resolved by carol")
        page.click("button[value=approve]")
        page.wait_for_selector(
            "#decision >> text=Owners and authors start release builds"
        )
        assert Revision.objects.get(number=2).status == Revision.Status.APPROVED
        screenshot(page, "review-approved")

        # Bob builds the release; a worker (here: this test) runs it.
        switch_to(page, base, "bob")
        page.goto(f"{base}/providers/{provider.pk}/revisions/2/")
        page.click("#decision button:has-text('Build release')")
        page.wait_for_url(f"{base}/builds/*/")
        build = Build.objects.get(kind=Build.Kind.RELEASE)
        assert build.revision_label == "r2"
        run_published()
        build.refresh_from_db()
        assert build.status == Build.Status.SUCCEEDED, build.error
        page.goto(reviews)
        release_row = page.locator("#releases tbody tr").first
        assert "r2" in release_row.inner_text() and "carol" in release_row.inner_text()
        assert "signed" in release_row.inner_text()
        screenshot(page, "review-released")
        with page.expect_download() as download:
            release_row.locator("a[download]").click()
        data = Path(download.value.path()).read_bytes()
        assert download.value.suggested_filename == (
            f"gateway-0.0.1-b{build.pk}-signed.difypkg"
        )
        assert price_of(read_package(data)) == "0.75"
        assert verify_signature(data, [keypair[1]]).status == SignatureStatus.VALID
