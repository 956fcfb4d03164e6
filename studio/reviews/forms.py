"""Forms of the review screens: they validate, services act."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from django import forms

from studio.pluginfmt.diff import valid_anchor

from .models import MAX_REQUIRED_APPROVALS, Decision
from .release_notes import MAX_NOTES

MAX_TEXT = 5000


class SubmitForm(forms.Form):
    message = forms.CharField(
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What changed and why: reviewers read this first.",
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # A pluginfmt.diff anchor as JSON (["model", "llm", "gpt-4o", "pricing"])
    # or as its percent-encoded parts joined by "/" (model/llm/gpt-4o/pricing);
    # empty for the revision as a whole.
    anchor = forms.CharField(required=False, max_length=4000)

    def clean_anchor(self) -> tuple[str, ...]:
        raw = (self.cleaned_data.get("anchor") or "").strip()
        if not raw:
            return ()
        if raw.startswith("["):
            try:
                anchor = json.loads(raw)
            except ValueError:
                raise forms.ValidationError("Not a place in this plugin.") from None
        else:
            anchor = [unquote(part) for part in raw.split("/")]
        if not valid_anchor(anchor):
            raise forms.ValidationError("Not a place in this plugin.")
        return tuple(anchor)


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Reply",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DecisionForm(forms.Form):
    verdict = forms.ChoiceField(choices=Decision.Verdict.choices)
    note = forms.CharField(
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Say what to change (or why it is fine).",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("verdict") == Decision.Verdict.REQUEST_CHANGES
            and not data.get("note", "").strip()
        ):
            self.add_error("note", "Say what should change.")
        return data


class ReleaseForm(forms.Form):
    smoke = forms.BooleanField(
        required=False,
        initial=True,
        label="Run the smoke test",
        help_text="Start the plugin and call it as Dify would (slower).",
    )
    # Posted without the field (a script, an older page): the generated notes.
    notes = forms.CharField(
        label="Release notes",
        required=False,
        max_length=MAX_NOTES,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "true"}),
        help_text="Markdown, stored with the release and shown on the Releases "
        "list; downloads and the submission kit put them under a “## Release "
        "Notes” heading.",
    )

    def clean_notes(self) -> str | None:
        notes: str = self.cleaned_data.get("notes") or ""
        if "notes" not in self.data:
            return None
        if not notes.strip():
            raise forms.ValidationError(
                "Write the release notes, or press “Regenerate notes”."
            )
        return notes


class ReviewSettingsForm(forms.Form):
    required_approvals = forms.IntegerField(
        min_value=1,
        max_value=MAX_REQUIRED_APPROVALS,
        help_text="Approvals from members other than the author before a "
        "revision counts as approved (applies to revisions submitted from now on).",
    )
