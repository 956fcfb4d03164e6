from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from studio.notifications import tasks
from tests.catalog.conftest import Personas, personas
from tests.factories import PASSWORD

__all__ = ["Personas", "personas"]


@pytest.fixture
def mail_now(monkeypatch: pytest.MonkeyPatch) -> list[mail.EmailMessage]:
    """mail_send runs at once when queued (the outbox is what a worker sends)."""
    monkeypatch.setattr(
        tasks.mail_send,
        "apply_async",
        lambda *, kwargs, **options: tasks.mail_send(**kwargs),
    )
    return mail.outbox


def log_in(client: Client, username: str, password: str = PASSWORD, **extra: Any):
    """Log in through the login form, as a browser does (axes sees the request)."""
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, **extra
    )


def session_user_id(client: Client) -> int | None:
    """The id of the user the client's session is logged in as, or None."""
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None
