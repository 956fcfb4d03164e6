"""Views of the credential form builder: one field's form (add or edit) and the
add-model dialog's model-name field. The field list is in `credentials`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from studio.lib.http import AuthedHttpRequest, render_page
from studio.pluginfmt.document import dump_yaml
from studio.pluginfmt.document.edits import MANAGED_KEYS, field_data

from ..access import get_provider_for_user
from ..forms.credentials import FieldEditor, ModelNameForm, duplicate_message
from ..models import Membership, Provider
from ..provider_page import provider_context
from ..selectors.credentials import model_name_field, schema_fields
from ..selectors.findings import Marker, provider_yaml_findings
from ..services import StaleEdit
from ..services.credentials import (
    MODEL,
    SCHEMA_KEYS,
    DuplicateField,
    NoSuchField,
    credential_field_add,
    credential_field_update,
    credential_model_name_update,
)
from .credentials import TITLES, field_or_404, list_url, saved_response, schema_or_404
from .editing import handle_edit_form

FIELD_PAGE = "catalog/credentials/field_form.html"
MODEL_NAME_PAGE = "catalog/credentials/model_name.html"


def _field_form(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    schema: str,
    index: int | None,
) -> HttpResponse:
    fields = schema_fields(provider, schema)
    editor = FieldEditor(
        request.POST if request.method == "POST" else None,
        schema=schema,
        fields=fields,
        index=index,
        model_types=list(provider.model_types),
        lock_version=provider.lock_version,
    )

    def posted_lock() -> int:
        cleaned = getattr(editor.form, "cleaned_data", {})
        return cleaned.get("lock_version") or provider.lock_version

    def feedback() -> HttpResponse:
        # Live check of the variable as it is typed: only its errors.
        return render(
            request,
            f"{FIELD_PAGE}#variable-feedback",
            {"form": editor.form, "variable_errors": editor.variable_errors()},
        )

    def save() -> HttpResponse | None:
        values = editor.values()
        try:
            if index is None:
                credential_field_add(
                    provider=provider,
                    lock_version=posted_lock(),
                    schema=schema,
                    values=values,
                )
            else:
                credential_field_update(
                    provider=provider,
                    lock_version=posted_lock(),
                    schema=schema,
                    index=index,
                    values=values,
                )
        except DuplicateField as exc:
            editor.form.add_error(
                "variable", duplicate_message(values.variable, exc.index)
            )
            return None
        except NoSuchField:
            raise Http404("No such credential field.") from None
        verb = "added" if index is None else "saved"
        return saved_response(
            request, provider, membership, schema, f"Field `{values.variable}` {verb}."
        )

    def show(stale: StaleEdit | None) -> HttpResponse:
        conflict = None
        form_lock = posted_lock()
        if stale is not None:
            current = stale.provider
            conflict = {
                "your_version": form_lock,
                "saved_version": current.lock_version,
                "yours": dump_yaml(
                    field_data(
                        fields[index] if index is not None else None, editor.values()
                    )
                ).decode(),
                "saved": _saved_yaml(current, schema, index),
            }
            # Saving again now replaces the saved version knowingly.
            form_lock = current.lock_version
        if index is None:
            action = reverse(
                "catalog:provider-credential-add",
                kwargs={"provider_id": provider.pk, "schema": schema},
            )
        else:
            action = reverse(
                "catalog:provider-credential-edit",
                kwargs={"provider_id": provider.pk, "schema": schema, "index": index},
            )
        context = provider_context(
            provider,
            membership,
            "credentials",
            editor=editor,
            form=editor.form,
            schema=schema,
            schema_title=TITLES[schema],
            index=index,
            action=action,
            form_lock=form_lock,
            conflict=conflict,
            list_url=list_url(provider, schema),
            kept=sorted(k for k in fields[index] if k not in MANAGED_KEYS)
            if index is not None
            else [],
            field_findings=provider_yaml_findings(provider).marker(
                SCHEMA_KEYS[schema], "credential_form_schemas", index
            )
            if index is not None
            else Marker(),
        )
        return render_page(request, FIELD_PAGE, context, status=409 if stale else 200)

    return handle_edit_form(
        request, is_valid=editor.is_valid, save=save, show=show, feedback=feedback
    )


def _saved_yaml(provider: Provider, schema: str, index: int | None) -> str:
    fields = schema_fields(provider, schema)
    if index is None:
        if not fields:
            return "(no fields)\n"
        return dump_yaml(fields).decode()
    if not 0 <= index < len(fields):
        return f"(there is no field {index + 1} any more)\n"
    return dump_yaml(fields[index]).decode()


@require_http_methods(["GET", "POST"])
@login_required
def provider_credential_add(
    request: AuthedHttpRequest, provider_id: int, schema: str
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    schema_or_404(provider, schema)
    return _field_form(request, provider, membership, schema, None)


@require_http_methods(["GET", "POST"])
@login_required
def provider_credential_edit(
    request: AuthedHttpRequest, provider_id: int, schema: str, index: int
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    schema_or_404(provider, schema)
    field_or_404(provider, schema, index)
    return _field_form(request, provider, membership, schema, index)


@require_http_methods(["GET", "POST"])
@login_required
def provider_credential_model_name(
    request: AuthedHttpRequest, provider_id: int
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    schema_or_404(provider, MODEL)
    initial = ModelNameForm.initial_from(
        model_name_field(provider), provider.lock_version
    )
    initial["label_en_US"] = initial["label_en_US"] or "Model Name"
    form = ModelNameForm(
        request.POST if request.method == "POST" else None, initial=initial
    )

    def save() -> HttpResponse:
        credential_model_name_update(
            provider=provider,
            lock_version=form.cleaned_data["lock_version"],
            label=form.i18n("label"),
            placeholder=form.i18n("placeholder"),
        )
        return saved_response(
            request, provider, membership, MODEL, "Model-name field saved."
        )

    def show(stale: StaleEdit | None) -> HttpResponse:
        conflict = None
        form_lock = provider.lock_version
        if stale is not None:
            saved = model_name_field(stale.provider)
            placeholder = form.i18n("placeholder")
            yours = {
                "label": form.i18n("label"),
                **({"placeholder": placeholder} if placeholder else {}),
            }
            conflict = {
                "your_version": form.cleaned_data["lock_version"],
                "saved_version": stale.provider.lock_version,
                "yours": dump_yaml(yours).decode(),
                "saved": dump_yaml(saved).decode() if saved else "(none)\n",
            }
            form_lock = stale.provider.lock_version
        context = provider_context(
            provider,
            membership,
            "credentials",
            form=form,
            form_lock=form_lock,
            conflict=conflict,
            list_url=list_url(provider, MODEL),
            field_findings=provider_yaml_findings(provider).marker(
                SCHEMA_KEYS[MODEL], "model"
            ),
        )
        return render_page(
            request, MODEL_NAME_PAGE, context, status=409 if stale else 200
        )

    return handle_edit_form(request, is_valid=form.is_valid, save=save, show=show)
