from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail

from studio.notifications import tasks
from studio.notifications.models import Kind, Notification
from studio.notifications.services import notify
from tests.catalog.conftest import Personas, personas

__all__ = ["Personas", "personas"]


@pytest.fixture
def emails(personas: Personas) -> Personas:
    """Every persona has an address: <name>@example.test."""
    for name in ("alice", "bob", "carol", "victor", "mallory"):
        user: User = getattr(personas, name)
        user.email = f"{name}@example.test"
        user.save(update_fields=["email"])
    return personas


@pytest.fixture
def mailbox(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> Iterator[Callable[[], Any]]:
    """Mail sent at once when queued (as a worker would); `mailbox()` wraps
    the code under test so its on-commit callbacks run."""
    monkeypatch.setattr(
        tasks.mail_send,
        "apply_async",
        lambda *, kwargs, **options: tasks.mail_send(**kwargs),
    )

    def run(*, execute: bool = True) -> Any:
        return django_capture_on_commit_callbacks(execute=execute)

    yield run
    mail.outbox.clear()


def make_notification(
    user: User, title: str = "Something happened", **kwargs: Any
) -> Notification:
    """One notification for `user`, through the service."""
    [row] = notify(
        recipients=[user],
        kind=kwargs.pop("kind", Kind.COMMENT),
        title=title,
        url=kwargs.pop("url", "/providers/1/revisions/1/"),
        **kwargs,
    )
    return row
