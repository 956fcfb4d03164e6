"""Notifications in a real browser: the bell, the list, following one, mark all
read (htmx swaps the bell too), and a reply in a comment thread."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from studio.notifications.models import Notification
from studio.reviews import services
from studio.reviews.models import Comment
from tests.browser import chromium_page, log_in, screenshot
from tests.factories import make_provider
from tests.notifications.conftest import Personas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1280, height=900) as page:
        yield page


def switch_to(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    log_in(page, base, username)


def bell_count(page: Any) -> str:
    badge = page.locator("#nav-bell .badge")
    return badge.get_attribute("data-unread") if badge.count() else "0"


class TestNotificationsInTheBrowser:
    def test_a_reviewer_is_told_comments_and_the_author_replies(
        self, page: Any, live_server: Any, personas: Personas
    ) -> None:
        base = live_server.url
        provider = make_provider(personas.team, models=1)
        revision = services.revision_submit(
            provider=provider, user=personas.bob, message="Please review"
        )
        revision_url = f"{base}/providers/{provider.pk}/revisions/1/"

        # Carol's bell says one thing waits; following it lands on the revision.
        switch_to(page, base, "carol")
        assert bell_count(page) == "1"
        page.click("#nav-bell")
        page.wait_for_url(f"{base}/notifications/")
        page.click("text=bob submitted acme/gateway r1 for review")
        page.wait_for_url(revision_url)
        assert bell_count(page) == "0"
        page.fill("#comment-body", "Is the price right?")
        page.click("#comments .comment-form button[type=submit]")
        page.wait_for_selector(".comment >> text=Is the price right?")
        comment = Comment.objects.get()

        # Bob hears of it, and marks all read without leaving the list.
        switch_to(page, base, "bob")
        assert bell_count(page) == "1"
        page.goto(f"{base}/notifications/")
        assert "carol commented on acme/gateway r1" in page.inner_text("#notifications")
        screenshot(page, "notifications-list")
        mark_all = "#notifications button:has-text('Mark all read')"
        page.click(mark_all)
        page.wait_for_selector(mark_all, state="detached")
        assert bell_count(page) == "0"
        assert not Notification.objects.filter(
            recipient=personas.bob, read_at=None
        ).exists()

        # He replies under Carol's comment; the reply shows in its thread.
        page.goto(revision_url)
        thread = page.locator(f"#comment-{comment.pk}")
        thread.locator("summary:has-text('Reply')").click()
        thread.locator("textarea[name=body]").fill("Yes: it is the list price.")
        thread.locator(".reply-form button[type=submit]").click()
        page.wait_for_selector(
            f"#comment-{comment.pk} .replies >> text=Yes: it is the list price."
        )
        assert page.url == revision_url  # htmx swapped the review in place
        screenshot(page, "review-thread")
        assert revision.comments.filter(parent=comment).count() == 1

        # Carol is told of the reply.
        switch_to(page, base, "carol")
        assert bell_count(page) == "1"
        page.goto(f"{base}/notifications/")
        assert "bob replied to your comment on acme/gateway r1" in page.inner_text(
            "#notifications"
        )
