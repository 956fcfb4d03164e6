"""Views of the provider page: editing the general section."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from studio.lib.http import AuthedHttpRequest, redirect_page, render_page

from ..access import get_provider_for_user
from ..forms.general import COLOUR_RE, GeneralForm
from ..forms.providers import LANGUAGES
from ..provider_page import provider_context
from ..selectors.general import general_findings, general_values
from ..services import StaleEdit
from ..services.general import (
    GeneralValues,
    provider_general_update,
)
from .editing import handle_edit_form

PAGE = "catalog/provider_general_edit.html"


def _i18n_lines(texts: dict[str, str]) -> str:
    return "\n".join(f"{lang}: {texts[lang]}" for lang, _ in LANGUAGES if lang in texts)


def _icon_text(value: object) -> str:
    if isinstance(value, tuple):
        return f"new {value[0].upper()} upload ({len(value[1])} bytes)"
    return str(value or "")


def _swatch(value: object) -> str:
    # Only a well-formed colour goes into a style attribute.
    return value if isinstance(value, str) and COLOUR_RE.match(value) else ""


def compare(yours: GeneralValues, saved: GeneralValues) -> list[tuple[str, str, str]]:
    """(what, your value, saved value) for each part of the section."""
    rows = [
        ("Label", _i18n_lines(yours.label), _i18n_lines(saved.label)),
        (
            "Description",
            _i18n_lines(yours.description),
            _i18n_lines(saved.description),
        ),
        ("Version", yours.version, saved.version),
        ("Help title", _i18n_lines(yours.help_title), _i18n_lines(saved.help_title)),
        ("Help URL", _i18n_lines(yours.help_url), _i18n_lines(saved.help_url)),
        ("Background", yours.background, saved.background),
        (
            "Minimum Dify version",
            yours.minimum_dify_version,
            saved.minimum_dify_version,
        ),
        ("Tags", ", ".join(yours.tags), ", ".join(saved.tags)),
        ("Source repository", yours.repo, saved.repo),
        ("Contact email", yours.contact, saved.contact),
        ("Privacy policy", yours.privacy, saved.privacy),
    ]
    if yours.icon:
        rows.append(("Icon", _icon_text(yours.icon), _icon_text(saved.icon)))
    if yours.icon_dark:
        rows.append(
            ("Dark icon", _icon_text(yours.icon_dark), _icon_text(saved.icon_dark))
        )
    return rows


@require_http_methods(["GET", "POST"])
@login_required
def provider_general_edit(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    saved = general_values(provider)
    initial = GeneralForm.initial_from(saved, provider.lock_version)
    posting = request.method == "POST"
    form = GeneralForm(
        request.POST if posting else None,
        request.FILES if posting else None,
        initial=initial,
    )

    def save() -> HttpResponse:
        provider_general_update(
            provider=provider,
            lock_version=form.cleaned_data["lock_version"],
            values=form.values(),
        )
        messages.success(request, "General section saved.")
        url = reverse("catalog:provider-detail", kwargs={"provider_id": provider.pk})
        return redirect_page(request, url)

    def show(stale: StaleEdit | None) -> HttpResponse:
        conflict = None
        form_lock = provider.lock_version
        if stale is not None:
            values = form.values()
            conflict = {
                "your_version": form.cleaned_data["lock_version"],
                "saved_version": stale.provider.lock_version,
                "rows": compare(values, general_values(stale.provider)),
                "icons": bool(values.icon or values.icon_dark),
            }
            form_lock = stale.provider.lock_version
        context = provider_context(
            provider,
            membership,
            "general",
            form=form,
            form_lock=form_lock,
            conflict=conflict,
            swatch=_swatch(form["background"].value()),
            icon=saved.icon,
            icon_dark=saved.icon_dark,
            gf=general_findings(provider),
        )
        return render_page(request, PAGE, context, status=409 if stale else 200)

    return handle_edit_form(request, is_valid=form.is_valid, save=save, show=show)
