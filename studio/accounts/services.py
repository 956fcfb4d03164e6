"""Workflows of a person's own account: the profile."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction


class EmailTaken(Exception):
    """Another account already uses this email address."""


def email_in_use(email: str, *, exclude: User | None = None) -> bool:
    """Whether an account other than `exclude` has `email` (ignoring case)."""
    users = User.objects.filter(email__iexact=email.strip())
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return users.exists()


def profile_update(*, user: User, first_name: str, last_name: str, email: str) -> User:
    """Save a person's name and email; an email another account uses is refused."""
    email = User.objects.normalize_email(email.strip())
    with transaction.atomic():
        # An address names one person: a password reset or an invitation
        # mailed to it must find one account.
        if email_in_use(email, exclude=user):
            raise EmailTaken(
                f"{email} is already used by another account; choose another address."
            )
        user.first_name = first_name.strip()
        user.last_name = last_name.strip()
        user.email = email
        user.save(update_fields=["first_name", "last_name", "email"])
    return user
