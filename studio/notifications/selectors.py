"""Reads of notifications: the bell's count and the list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from .models import Notification

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def unread_count(user: User) -> int:
    """How many of the user's notifications are unread (one indexed count)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for(user: User) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
