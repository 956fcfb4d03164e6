"""The new-team form."""

from __future__ import annotations

from django import forms


class TeamForm(forms.Form):
    name = forms.CharField(label="Team name", max_length=100)
