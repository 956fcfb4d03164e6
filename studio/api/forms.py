"""The token form: it validates, services act."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from studio.catalog.models import Membership, Role

from .models import ApiToken

EXPIRY_CHOICES = [
    ("7", "in 7 days"),
    ("30", "in 30 days"),
    ("90", "in 90 days"),
    ("365", "in a year"),
    ("never", "never"),
]


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What uses it, e.g. “release pipeline”.",
    )
    team = forms.TypedChoiceField(coerce=int, label="Team")
    kind = forms.ChoiceField(
        choices=ApiToken.Kind.choices,
        initial=ApiToken.Kind.PERSONAL,
        widget=forms.RadioSelect,
        help_text="A personal token acts with your role and stops when you leave "
        "the team; a team token (owners only) belongs to the team.",
    )
    role = forms.ChoiceField(
        choices=[(Role.VIEWER, "read"), (Role.AUTHOR, "read and write")],
        initial=Role.VIEWER,
        required=False,
        label="Team token may",
    )
    expires = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="90")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memberships = {
            m.team_id: m
            for m in Membership.objects.filter(user=user)
            .select_related("team")
            .order_by("team__name")
        }
        team = cast(forms.TypedChoiceField, self.fields["team"])
        team.choices = [
            (m.team_id, f"{m.team.name} ({m.role})") for m in self.memberships.values()
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        team_id = data.get("team")  # None when the team field is invalid
        membership = self.memberships.get(team_id) if team_id is not None else None
        if data.get("kind") == ApiToken.Kind.TEAM:
            if membership is not None and membership.role != Role.OWNER:
                self.add_error("kind", "Only an owner of the team creates team tokens.")
            if data.get("role") not in ApiToken.TEAM_ROLES:
                self.add_error("role", "Choose what the team token may do.")
        data["membership"] = membership
        return data

    def expires_at(self, now: datetime | None = None) -> datetime | None:
        value = self.cleaned_data["expires"]
        if value == "never":
            return None
        return (now or timezone.now()) + timedelta(days=int(value))
