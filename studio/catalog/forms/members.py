"""Forms of a team's people: invite, change a role, sign up by invitation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User

from ..models import Role

ROLE_HELP = (
    "Owners manage the team and its members; authors edit providers and start "
    "builds; reviewers comment and approve; viewers read."
)


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)
    role = forms.ChoiceField(
        label="Role", choices=Role.choices, initial=Role.AUTHOR, help_text=ROLE_HELP
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class InvitationSignUpForm(UserCreationForm):
    """A new account for the invited email: username and password (Django's
    validators, the email included in the similarity check); the email is
    fixed by the invitation."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.email = email
        self.fields.pop("usable_password", None)


class SignUpForm(UserCreationForm):
    """An account anyone may create when OPEN_SIGNUP is on."""

    email = forms.EmailField(label="Email", max_length=254)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.pop("usable_password", None)

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this email exists already: log in instead."
            )
        return email
