from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.notifications.models import Kind, Notification, NotificationPreference
from studio.notifications.views import PER_PAGE
from tests.builds.conftest import login
from tests.factories import make_provider
from tests.notifications.conftest import Personas, make_notification

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
LIST = reverse("notifications:list")
READ_ALL = reverse("notifications:read-all")
SETTINGS = reverse("notifications:settings")


def page(response: Any) -> str:
    body = response.content.decode()
    assert "<html" in body, body[:300]
    return body


def partial(response: Any) -> str:
    body = response.content.decode()
    assert "<html" not in body, body[:300]
    return body


def unread(user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at=None).count()


class TestBell:
    def test_the_navigation_shows_the_unread_count(
        self, client: Client, personas: Personas
    ) -> None:
        for n in range(3):
            make_notification(personas.bob, f"n{n}")
        read = make_notification(personas.bob, "old")
        read.read_at = read.created_at
        read.save()
        make_notification(personas.carol, "not bob's")
        body = page(login(client, personas.bob).get(reverse("home")))
        assert 'id="nav-bell"' in body and f'href="{LIST}"' in body
        assert 'data-unread="3"' in body and "Notifications: 3 unread" in body

    def test_without_unread_notifications_the_bell_has_no_count(
        self, client: Client, personas: Personas
    ) -> None:
        body = page(login(client, personas.bob).get(reverse("home")))
        assert 'id="nav-bell"' in body and "data-unread" not in body

    def test_over_99_it_says_99_plus(self, client: Client, personas: Personas) -> None:
        Notification.objects.bulk_create(
            Notification(recipient=personas.bob, kind=Kind.COMMENT, title="t", url="/")
            for _ in range(120)
        )
        body = page(login(client, personas.bob).get(reverse("home")))
        assert 'data-unread="120"' in body and ">99+<" in body

    def test_an_anonymous_page_has_no_bell(self, client: Client) -> None:
        assert 'id="nav-bell"' not in client.get(reverse("login")).content.decode()


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


class TestQueryCounts:
    def test_pages_with_the_bell_cost_the_same_for_10_and_100_notifications(
        self, client: Client, personas: Personas
    ) -> None:
        provider = make_provider(personas.team)
        login(client, personas.alice)
        pages = [
            LIST,
            reverse("home"),
            reverse("catalog:provider-detail", args=[provider.pk]),
        ]

        def counts(n: int) -> list[int]:
            Notification.objects.filter(recipient=personas.alice).delete()
            Notification.objects.bulk_create(
                Notification(
                    recipient=personas.alice,
                    team=personas.team,
                    kind=Kind.COMMENT,
                    title=f"n{i}",
                    url="/",
                )
                for i in range(n)
            )
            client.get(LIST)  # warm the session
            return [queries(client, url) for url in pages]

        small, large = counts(10), counts(100)
        assert small == large, (small, large)

    def test_the_bell_costs_one_query_and_an_htmx_part_none(
        self, client: Client, personas: Personas
    ) -> None:
        inbox = reverse("reviews:inbox")  # a page with an htmx part
        login(client, personas.alice).get(inbox)

        def bell_queries(**extra: Any) -> int:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(inbox, **extra).status_code == 200
            return sum(
                "notifications_notification" in q["sql"] for q in ctx.captured_queries
            )

        assert bell_queries() == 1
        assert bell_queries(headers=HTMX) == 0


class TestList:
    def test_it_lists_newest_first_with_the_unread_marked(
        self, client: Client, personas: Personas
    ) -> None:
        old = make_notification(personas.bob, "Older <b>one</b>", body="details")
        old.read_at = old.created_at
        old.save()
        new = make_notification(personas.bob, "Newer one", team=personas.team)
        make_notification(personas.carol, "Carol's own")
        body = page(login(client, personas.bob).get(LIST))
        assert body.index("Newer one") < body.index("Older &lt;b&gt;one&lt;/b&gt;")
        assert "Carol&#x27;s own" not in body and "Carol's own" not in body
        assert f'class="notification unread" id="notification-{new.pk}"' in body
        assert f'class="notification" id="notification-{old.pk}"' in body
        assert reverse("notifications:open", args=[new.pk]) in body
        assert "Acme" in body and "details" in body
        assert "Mark all read</button>" in body

    def test_an_empty_list_says_what_will_come(
        self, client: Client, personas: Personas
    ) -> None:
        body = page(login(client, personas.bob).get(LIST))
        assert "No notifications yet" in body and "Mark all read" not in body

    def test_it_pages_by_25(self, client: Client, personas: Personas) -> None:
        for n in range(PER_PAGE + 5):
            make_notification(personas.bob, f"note-{n:02d}")
        client = login(client, personas.bob)
        first = page(client.get(LIST))
        second = page(client.get(LIST, {"page": 2}))
        assert "note-29" in first and "note-05" in first and "note-04" not in first
        assert "note-04" in second and "note-00" in second and "note-29" not in second
        assert "Page 1 of 2" in first and f"{LIST}?page=2" in first

    def test_an_htmx_request_gets_the_list_part_and_the_bell(
        self, client: Client, personas: Personas
    ) -> None:
        make_notification(personas.bob, "Hello")
        body = partial(login(client, personas.bob).get(LIST, headers=HTMX))
        assert 'id="notifications"' in body and "Hello" in body
        assert 'id="nav-bell"' in body and 'hx-swap-oob="true"' in body

    def test_anonymous_goes_to_login(self, client: Client) -> None:
        response = client.get(LIST)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_a_wrong_method_gets_405(self, client: Client, personas: Personas) -> None:
        assert login(client, personas.bob).post(LIST).status_code == 405


class TestOpen:
    def test_following_a_notification_marks_it_read_and_goes_to_its_page(
        self, client: Client, personas: Personas
    ) -> None:
        row = make_notification(personas.bob, url="/providers/7/revisions/2/#comment-4")
        response = login(client, personas.bob).get(
            reverse("notifications:open", args=[row.pk])
        )
        assert response.status_code == 302
        assert response["Location"] == "/providers/7/revisions/2/#comment-4"
        row.refresh_from_db()
        assert row.read_at is not None

    def test_another_users_notification_is_404_and_stays_unread(
        self, client: Client, personas: Personas
    ) -> None:
        row = make_notification(personas.carol)
        response = login(client, personas.mallory).get(
            reverse("notifications:open", args=[row.pk])
        )
        assert response.status_code == 404 and unread(personas.carol) == 1

    def test_anonymous_goes_to_login(self, client: Client, personas: Personas) -> None:
        row = make_notification(personas.bob)
        response = client.get(reverse("notifications:open", args=[row.pk]))
        assert response.status_code == 302 and unread(personas.bob) == 1
        assert response["Location"].startswith(reverse("login"))

    def test_a_wrong_method_gets_405(self, client: Client, personas: Personas) -> None:
        row = make_notification(personas.bob)
        response = login(client, personas.bob).post(
            reverse("notifications:open", args=[row.pk])
        )
        assert response.status_code == 405 and unread(personas.bob) == 1


class TestMarkRead:
    def test_marking_one_read_goes_back_to_the_list_page(
        self, client: Client, personas: Personas
    ) -> None:
        row = make_notification(personas.bob)
        other = make_notification(personas.bob)
        response = login(client, personas.bob).post(
            reverse("notifications:read", args=[row.pk]), {"page": "2"}
        )
        assert response.status_code == 302 and response["Location"] == f"{LIST}?page=2"
        row.refresh_from_db()
        other.refresh_from_db()
        assert row.read_at is not None and other.read_at is None

    def test_an_htmx_mark_returns_the_list_and_the_new_count(
        self, client: Client, personas: Personas
    ) -> None:
        row = make_notification(personas.bob)
        make_notification(personas.bob)
        response = login(client, personas.bob).post(
            reverse("notifications:read", args=[row.pk]), headers=HTMX
        )
        body = partial(response)
        assert response.status_code == 200 and 'id="notifications"' in body
        assert 'data-unread="1"' in body and 'hx-swap-oob="true"' in body

    def test_another_users_notification_is_404(
        self, client: Client, personas: Personas
    ) -> None:
        row = make_notification(personas.carol)
        response = login(client, personas.mallory).post(
            reverse("notifications:read", args=[row.pk]), headers=HTMX
        )
        assert response.status_code == 404 and unread(personas.carol) == 1

    def test_anonymous_goes_to_login(self, client: Client, personas: Personas) -> None:
        row = make_notification(personas.bob)
        response = client.post(reverse("notifications:read", args=[row.pk]))
        assert response.status_code == 302 and unread(personas.bob) == 1
        assert response["Location"].startswith(reverse("login"))

    def test_a_wrong_method_gets_405(self, client: Client, personas: Personas) -> None:
        row = make_notification(personas.bob)
        response = login(client, personas.bob).get(
            reverse("notifications:read", args=[row.pk])
        )
        assert response.status_code == 405 and unread(personas.bob) == 1


class TestMarkAllRead:
    def test_it_marks_all_of_the_users_own_and_says_how_many(
        self, client: Client, personas: Personas
    ) -> None:
        for _ in range(3):
            make_notification(personas.bob)
        make_notification(personas.carol)
        client = login(client, personas.bob)
        response = client.post(READ_ALL)
        assert response.status_code == 302 and response["Location"] == LIST
        assert unread(personas.bob) == 0 and unread(personas.carol) == 1
        body = page(client.get(LIST))
        assert "Marked 3 notifications read." in body and "data-unread" not in body

    def test_an_htmx_post_returns_the_list_and_clears_the_bell(
        self, client: Client, personas: Personas
    ) -> None:
        make_notification(personas.bob)
        response = login(client, personas.bob).post(READ_ALL, headers=HTMX)
        body = partial(response)
        assert response.status_code == 200 and 'id="notifications"' in body
        assert 'id="nav-bell"' in body and "data-unread" not in body
        assert "Mark all read" not in body and unread(personas.bob) == 0

    def test_anonymous_goes_to_login(self, client: Client, personas: Personas) -> None:
        make_notification(personas.bob)
        response = client.post(READ_ALL)
        assert response.status_code == 302 and unread(personas.bob) == 1
        assert response["Location"].startswith(reverse("login"))

    def test_a_wrong_method_gets_405(self, client: Client, personas: Personas) -> None:
        make_notification(personas.bob)
        assert login(client, personas.bob).get(READ_ALL).status_code == 405
        assert unread(personas.bob) == 1


class TestSettings:
    def test_the_page_shows_a_checkbox_per_kind_with_the_defaults(
        self, client: Client, personas: Personas
    ) -> None:
        body = page(login(client, personas.bob).get(SETTINGS))
        for kind in Kind:
            assert f'name="{kind.value}"' in body and kind.label in body
        assert 'id="id_comment" checked>' in body
        assert 'id="id_build-finished">' in body
        assert "no email address" in body

    def test_saving_keeps_the_choices(self, client: Client, personas: Personas) -> None:
        client = login(client, personas.bob)
        response = client.post(SETTINGS, {"build-finished": "on", "decision": "on"})
        assert response.status_code == 302 and response["Location"] == SETTINGS
        chosen = dict(
            NotificationPreference.objects.filter(user=personas.bob).values_list(
                "kind", "email"
            )
        )
        assert chosen["build-finished"] is True and chosen["decision"] is True
        assert chosen["comment"] is False and len(chosen) == len(Kind)
        body = page(client.get(SETTINGS))
        assert "Saved" in body
        assert 'id="id_build-finished" checked>' in body
        assert 'id="id_comment">' in body

    def test_an_htmx_save_returns_the_preferences_part(
        self, client: Client, personas: Personas
    ) -> None:
        response = login(client, personas.bob).post(
            SETTINGS, {"reply": "on"}, headers=HTMX
        )
        body = partial(response)
        assert response.status_code == 200 and 'id="preferences"' in body
        assert "Saved" in body and 'id="id_reply" checked>' in body
        assert (
            NotificationPreference.objects.get(user=personas.bob, kind="comment").email
            is False
        )

    def test_one_users_choices_are_not_anothers(
        self, client: Client, personas: Personas
    ) -> None:
        login(client, personas.mallory).post(SETTINGS, {})
        assert not NotificationPreference.objects.filter(user=personas.bob).exists()
        assert NotificationPreference.objects.filter(
            user=personas.mallory
        ).count() == len(Kind)

    def test_anonymous_goes_to_login(self, client: Client) -> None:
        for response in (client.get(SETTINGS), client.post(SETTINGS, {})):
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("login"))
        assert NotificationPreference.objects.count() == 0

    def test_a_wrong_method_gets_405(self, client: Client, personas: Personas) -> None:
        assert login(client, personas.bob).delete(SETTINGS).status_code == 405
