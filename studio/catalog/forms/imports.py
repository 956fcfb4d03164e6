"""Forms of the import screens: they validate, the import services do the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from studio.catalog.models import ImportJob
from studio.catalog.services import import_jobs, imports

MAX_MIB = imports.MAX_UPLOAD_BYTES // 1024 // 1024


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Plugin file",
        help_text=f"A .difypkg package or a .zip of a plugin folder, up to {MAX_MIB} "
        "MiB.",
        widget=forms.FileInput(attrs={"accept": ".difypkg,.zip"}),
    )

    def __init__(self, *args: Any, too_large: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The upload handler dropped a file over the limit while it streamed in.
        self.too_large = too_large

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        try:
            imports.check_upload(upload.name or "", upload.size or 0)
        except imports.ImportRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        return upload

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound and self.too_large:
            self.errors.pop("file", None)
            self.add_error(
                "file",
                f"The file is larger than {MAX_MIB} MiB, the most Dify takes for a "
                "plugin; nothing was imported.",
            )


class ImportChoiceForm(forms.Form):
    mode = forms.ChoiceField(
        label="Import it as",
        widget=forms.RadioSelect,
        choices=[
            (
                ImportJob.Mode.NEW_VERSION,
                "A new version of the existing provider (its files are replaced; "
                "the change shows in review)",
            ),
            (
                ImportJob.Mode.COPY,
                "A separate copy (a new provider named <name>-copy)",
            ),
        ],
    )
    lock_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def choice(self) -> import_jobs.Choice:
        return import_jobs.Choice(
            mode=self.cleaned_data["mode"],
            lock_version=self.cleaned_data.get("lock_version"),
        )
