"""Notifying people: a row each in the app, and a mail to those who want it.

Callers (reviews, builds, the members pages) pass plain values: who, what
kind, a title and a path in the studio. Everything happens inside the
caller's transaction; mail leaves only once it commits (`mail_later`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Literal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .mail import absolute_url, mail_later
from .models import (
    BODY_LENGTH,
    EMAIL_BY_DEFAULT,
    TITLE_LENGTH,
    URL_LENGTH,
    Kind,
    Notification,
    NotificationPreference,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from studio.catalog.models import Team


def notify(
    *,
    recipients: Iterable[User | None],
    kind: str,
    title: str,
    url: str,
    body: str = "",
    team: Team | None = None,
    actor: User | None = None,
) -> list[Notification]:
    """Notify each recipient once (never the actor of their own action), and
    queue a mail to those whose preference for `kind` says so."""
    if kind not in Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    if not url.startswith("/") or url.startswith("//") or len(url) > URL_LENGTH:
        raise ValueError(f"a notification links to a path in the studio, not {url!r}")
    people: dict[int, User] = {}
    for user in recipients:
        if user is None or not user.is_active:
            continue
        if actor is not None and user.pk == actor.pk:
            continue
        people.setdefault(user.pk, user)
    if not people:
        return []
    now = timezone.now()
    actor_name = actor.get_username()[:150] if actor is not None else ""
    with transaction.atomic():
        rows = Notification.objects.bulk_create(
            Notification(
                recipient=user,
                team=team,
                kind=kind,
                title=_shorten(title, TITLE_LENGTH),
                body=_shorten(body, BODY_LENGTH),
                url=url,
                actor_name=actor_name,
                created_at=now,
            )
            for user in people.values()
        )
        mailed = {user.pk for user in _mailed(list(people.values()), kind)}
        for row in rows:
            if row.recipient_id in mailed:
                _mail(row, team)
    return rows


def _mailed(users: list[User], kind: str) -> list[User]:
    """The users with an address who want mail of `kind`."""
    chosen = dict(
        NotificationPreference.objects.filter(
            user__in=[u.pk for u in users], kind=kind
        ).values_list("user_id", "email")
    )
    default = EMAIL_BY_DEFAULT[kind]
    return [u for u in users if u.email and chosen.get(u.pk, default)]


def _mail(row: Notification, team: Team | None) -> None:
    mail_later(
        to=[row.recipient.email],
        template="notification",
        context={
            "recipient": row.recipient.get_username(),
            "title": row.title,
            "body": row.body,
            "kind": row.get_kind_display(),
            "team": team.name if team is not None else "",
            "link": absolute_url(row.url),
            "settings_link": absolute_url(reverse("notifications:settings")),
        },
    )


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def notification_mark_read(*, user: User, ids: Collection[int] | Literal["all"]) -> int:
    """Mark the user's unread notifications `ids` (or all of them) read; how many."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids != "all":
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


def email_preferences(user: User) -> dict[str, bool]:
    """Whether `user` is mailed each kind: their choice, else the default."""
    chosen = dict(
        NotificationPreference.objects.filter(user=user).values_list("kind", "email")
    )
    return {kind: chosen.get(kind, EMAIL_BY_DEFAULT[kind]) for kind in Kind.values}


def notification_preferences_update(
    *, user: User, email: Mapping[str, bool]
) -> dict[str, bool]:
    """Save which kinds `user` is mailed (kinds not named keep their setting)."""
    unknown = set(email) - set(Kind.values)
    if unknown:
        raise ValueError(f"unknown notification kinds: {', '.join(sorted(unknown))}")
    now = timezone.now()
    with transaction.atomic():
        for kind, wanted in email.items():
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"email": wanted, "updated_at": now}
            )
    return email_preferences(user)


def notify_invitation_accepted(
    *, inviter: User | None, member: User, team: Team, url: str | None = None
) -> list[Notification]:
    """Tell the inviter that `member` joined `team` through their invitation.

    `url` is where the notification leads (the team's members page, once
    there is one); by default the team's audit log, which records the join.
    """
    name = member.get_full_name() or member.get_username()
    return notify(
        recipients=[inviter],
        kind=Kind.INVITATION_ACCEPTED,
        title=f"{name} accepted your invitation and joined {team.name}",
        url=url or reverse("reviews:team-audit", args=[team.slug]),
        team=team,
        actor=member,
    )
