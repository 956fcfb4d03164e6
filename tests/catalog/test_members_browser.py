"""Issue 12 as a team meets it in a real browser, in two browser contexts: the
owner invites a reviewer, the reviewer opens the mailed link and signs up; the
author submits, the reviewer finds the review in her notifications, comments
and approves; the author is notified and releases; the owner sees the new
member and is told the invitation was accepted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail

from studio.builds.models import Build
from studio.catalog.models import Membership, Role
from studio.notifications import tasks as mail_tasks
from studio.reviews import services as reviews
from studio.reviews.models import Revision
from tests.browser import chromium_page, log_in, screenshot
from tests.builds.conftest import Published, broker, run_published, storage
from tests.catalog.conftest import Personas
from tests.factories import PASSWORD, make_provider

__all__ = ["broker", "run_published", "storage"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1280, height=1000) as page:
        yield page


def bell_count(page: Any) -> str:
    badge = page.locator("#nav-bell .badge")
    return badge.get_attribute("data-unread") if badge.count() else "0"


@pytest.fixture
def mail_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mail task runs when published, in the server's thread (no worker)."""
    monkeypatch.setattr(
        mail_tasks.mail_send,
        "apply_async",
        lambda *, kwargs, **options: mail_tasks.mail_send.run(**kwargs),
    )


class TestInvitingAReviewer:
    def test_the_invited_reviewer_signs_up_and_approves(
        self,
        page: Any,
        live_server: Any,
        personas: Personas,
        mail_now: None,
        broker: Published,
        run_published: Any,
    ) -> None:
        base = live_server.url
        provider = make_provider(personas.team, models=1)
        revision_url = f"{base}/providers/{provider.pk}/revisions/1/"

        # Alice, owner of Acme, invites dora as a reviewer from the members
        # page (Settings → Members).
        log_in(page, base, "alice")
        page.click("details.settings-menu summary")
        page.get_by_role("link", name="Members").click()
        page.wait_for_url(f"{base}/teams/{personas.team.slug}/members/")
        page.fill("#id_email", "dora@example.com")
        page.select_option("#id_role", "reviewer")
        page.click("#team-invitations button:has-text('Invite')")
        shown = page.locator("#invitation-link").inner_text().strip()
        assert shown.startswith(f"{base}/invitations/")
        screenshot(page, "team-invitation-link")

        # The mail (captured by the test backend) carries the same link.
        [message] = mail.outbox
        assert message.to == ["dora@example.com"]
        mailed = re.search(r"http://\S+/invitations/(\S+)", message.body)
        assert mailed is not None
        token = mailed.group(1)
        assert shown.endswith(token)

        # Dora, in a browser of her own, opens the link and signs up.
        dora_context = page.context.browser.new_context(
            viewport={"width": 1280, "height": 1000}
        )
        try:
            dora = dora_context.new_page()
            dora.set_default_timeout(15_000)
            dora.goto(f"{base}/invitations/{token}")
            assert dora.locator("#invited-email").input_value() == "dora@example.com"
            screenshot(dora, "team-invitation-sign-up")
            dora.fill("#id_username", "dora")
            dora.fill("#id_password1", PASSWORD)
            dora.fill("#id_password2", PASSWORD)
            dora.click("button:has-text('Create account and join')")
            dora.wait_for_url(f"{base}/providers/")
            assert "You joined Acme as reviewer." in dora.content()

            # Bob submits the draft; dora, a reviewer now, is told.
            reviews.revision_submit(
                provider=provider, user=personas.bob, message="Gateway models"
            )
            dora.reload()
            assert bell_count(dora) == "1"
            dora.click("#nav-bell")
            dora.wait_for_url(f"{base}/notifications/")
            screenshot(dora, "team-reviewer-notifications")
            dora.click("text=bob submitted acme/gateway r1 for review")
            dora.wait_for_url(revision_url)

            # She comments and approves.
            dora.fill("#comment-body", "Prices checked against the vendor's page.")
            dora.click("#comments .comment-form button[type=submit]")
            dora.wait_for_selector(".comment >> text=Prices checked")
            dora.click("button[value=approve]")
            dora.wait_for_selector(
                "#decision >> text=Owners and authors start release builds"
            )
            screenshot(dora, "team-invited-reviewer-approved")

            # The link was used up.
            again = dora_context.new_page().goto(f"{base}/invitations/{token}")
            assert again is not None and again.status == 410
        finally:
            dora_context.close()

        assert Revision.objects.get(provider=provider).status == (
            Revision.Status.APPROVED
        )
        assert Membership.objects.get(user__username="dora").role == Role.REVIEWER

        # Alice's members page lists dora, and no invitation is pending.
        page.reload()
        members = page.locator("#team-members").inner_text()
        assert "dora" in members and "dora@example.com" in members
        assert "No pending invitations." in page.content()
        screenshot(page, "team-members")

        # Alice was told that dora accepted (and, as an owner, of the review).
        assert bell_count(page) == "2"
        page.click("#nav-bell")
        page.wait_for_url(f"{base}/notifications/")
        assert "dora accepted your invitation" in page.inner_text("#notifications")

        # Bob, the author, hears of the comment and the approval, and releases.
        page.context.clear_cookies()
        log_in(page, base, "bob")
        assert bell_count(page) == "2"
        page.click("#nav-bell")
        page.wait_for_url(f"{base}/notifications/")
        told = page.inner_text("#notifications")
        assert "dora commented on acme/gateway r1" in told
        assert "dora approved acme/gateway r1" in told
        screenshot(page, "team-author-notifications")
        page.click("text=dora approved acme/gateway r1")
        page.wait_for_url(revision_url)
        page.click("#decision button:has-text('Build release')")
        page.wait_for_url(f"{base}/builds/*/")
        run_published()
        build = Build.objects.get(kind=Build.Kind.RELEASE)
        assert build.status == Build.Status.SUCCEEDED, build.error
        page.goto(f"{base}/notifications/")
        assert "release" in page.inner_text("#notifications").lower()
