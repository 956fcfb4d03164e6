"""Mail: rendered from templates in the request, sent by a worker after commit.

`mail_later(to=[...], template="invitation", context={...})` renders
`templates/mail/<template>_subject.txt`, `<template>.txt` and `<template>.html`
now (so the task carries plain strings) and queues `mail_send` once the
transaction commits. A broker outage never fails the caller: the mail is logged
as not queued and the caller's page still shows what the mail would have said
(an invitation's link, for one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.template import Context, Engine, engines
from django.template.backends.django import DjangoTemplates
from django.template.loader import render_to_string

from studio.lib.queue import Publication, queue_after_commit


def _plain_text(name: str, context: dict[str, Any]) -> str:
    # The subject and the text part are not HTML: "R&D" must not become
    # "R&amp;D". The project's own engine, with autoescaping off.
    django_engine = engines["django"]
    assert isinstance(django_engine, DjangoTemplates)
    engine = django_engine.engine
    plain = Engine(
        dirs=engine.dirs, app_dirs=engine.app_dirs, libraries=engine.libraries
    )
    return plain.get_template(name).render(Context(context, autoescape=False))


def absolute_url(path: str) -> str:
    """`path` under the studio's public address (STUDIO_BASE_URL), for links in mail."""
    return settings.STUDIO_BASE_URL.rstrip("/") + path


def render_mail(template: str, context: dict[str, Any]) -> dict[str, str]:
    """The subject, text and HTML of mail `template` with `context`."""
    subject = _plain_text(f"mail/{template}_subject.txt", context)
    return {
        "subject": " ".join(subject.split()),
        "text": _plain_text(f"mail/{template}.txt", context),
        "html": render_to_string(f"mail/{template}.html", context),
    }


def mail_later(
    *, to: Sequence[str], template: str, context: dict[str, Any]
) -> Publication | None:
    """Queue mail `template` to `to` after commit; None when there is no one to mail."""
    from .tasks import mail_send

    recipients = sorted({address for address in to if address})
    if not recipients:
        return None
    parts = render_mail(template, context)

    return queue_after_commit(
        mail_send,
        kwargs={"to": recipients, **parts},
        # Nothing to mark failed: the queue's one warning line is the record.
        on_failure=lambda reason: None,
        # The text may hold a secret link (an invitation, a password reset).
        describe=f"mail {template!r} to {recipients} not sent",
    )
