"""Small typed makers of test data."""

from __future__ import annotations

from django.contrib.auth.models import User

PASSWORD = "correct horse battery staple"


def make_user(username: str = "alice", *, password: str = PASSWORD) -> User:
    return User.objects.create_user(username=username, password=password)
