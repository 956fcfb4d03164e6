"""Account forms: they validate, services act (the reset mail goes out through
mail_later, like every mail)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.urls import reverse

from studio.notifications.mail import absolute_url, mail_later

from .text import duration_text


class ProfileForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(
        max_length=254,
        help_text="Password resets and invitations are sent here.",
    )


class StudioPasswordResetForm(PasswordResetForm):
    """Django's reset form, its mail sent by a worker with a link to STUDIO_BASE_URL."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        user = context["user"]
        path = reverse(
            "accounts:password-reset-confirm",
            kwargs={"uidb64": context["uid"], "token": context["token"]},
        )
        mail_later(
            to=[to_email],
            template="password_reset",
            context={
                "username": user.get_username(),
                "name": user.get_full_name() or user.get_username(),
                "reset_url": absolute_url(path),
                "valid_for": duration_text(
                    timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
                ),
            },
        )
