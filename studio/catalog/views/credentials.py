"""Views of the provider page: the credential form builder and its live preview."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url, trigger_client_event

from studio.lib.http import AuthedHttpRequest
from studio.pluginfmt.document import dump_yaml

from ..access import get_provider_for_user
from ..forms.credentials import (
    FieldEditor,
    LockForm,
    ModelNameForm,
    MoveForm,
    duplicate_message,
)
from ..models import Membership, Provider
from ..provider_page import provider_context
from ..services import StaleEdit
from ..services import credentials as svc
from ..services.files import (
    FileFindings,
    Marker,
    file_contents,
    marker,
    stored_findings,
)

PAGE = "catalog/provider_credentials.html"
FIELD_PAGE = "catalog/credentials/field_form.html"
MODEL_NAME_PAGE = "catalog/credentials/model_name.html"
TITLES = {
    svc.PROVIDER: "Provider credentials",
    svc.MODEL: "Model credentials (add-model dialog)",
}


@dataclass(frozen=True)
class FieldRow:
    """One line of the builder's field list."""

    index: int
    variable: str
    type: str
    label: str
    required: bool | None
    default: str
    show_on: list[tuple[str, str]]
    options: int
    kept: list[str]
    first: bool
    last: bool
    # What the verifier found in this field's lines at the last save.
    findings: Marker = field(default_factory=Marker)


def _rows(
    provider: Provider, schema: str, found: FileFindings | None = None
) -> list[FieldRow]:
    fields = svc.schema_fields(provider, schema)
    key = (svc.SCHEMA_KEYS[schema], "credential_form_schemas")
    rows = []
    for i, f in enumerate(fields):
        f = f if isinstance(f, dict) else {}
        options = f.get("options")
        required = f.get("required")
        rows.append(
            FieldRow(
                index=i,
                variable=svc.text(f.get("variable")),
                type=svc.text(f.get("type")),
                label=svc.i18n_text(f.get("label")),
                required=required if isinstance(required, bool) else None,
                default=svc.text(f.get("default")),
                show_on=svc.show_on_pairs(f.get("show_on")),
                options=len(options) if isinstance(options, list) else 0,
                kept=sorted(k for k in f if k not in svc.MANAGED_KEYS),
                first=i == 0,
                last=i == len(fields) - 1,
                findings=found.marker(*key, i) if found else Marker(),
            )
        )
    return rows


def _provider_yaml_findings(provider: Provider) -> FileFindings:
    """The stored findings of the provider YAML, placed by key.

    The file's content is read (one query) only when it has findings.
    """
    path = provider.provider_path
    findings = stored_findings(provider)
    content = None
    if any(f.file == path and f.line is not None for f in findings):
        content = file_contents(provider, [path]).get(path)
    return FileFindings(findings, path, content)


def _schema_or_404(provider: Provider, schema: str) -> str:
    if schema not in svc.SCHEMA_KEYS or not svc.schema_available(provider, schema):
        raise Http404("No such credential form.")
    return schema


def _field_or_404(provider: Provider, schema: str, index: int) -> dict[str, Any]:
    fields = svc.schema_fields(provider, schema)
    if not 0 <= index < len(fields) or not isinstance(fields[index], dict):
        raise Http404("No such credential field.")
    return fields[index]


def _list_url(provider: Provider, schema: str | None = None) -> str:
    url = reverse("catalog:provider-credentials", kwargs={"provider_id": provider.pk})
    return f"{url}#schema-{schema}" if schema else url


def _page(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    *,
    posted: tuple[str, Any] | None = None,
    notice: str = "",
    level: str = "info",
    status: int = 200,
    partial: str = "section",
) -> HttpResponse:
    schemas = []
    found = _provider_yaml_findings(provider)
    for schema in (svc.PROVIDER, svc.MODEL):
        if not svc.schema_available(provider, schema):
            continue
        values = posted[1] if posted and posted[0] == schema else None
        model = svc.model_name_field(provider) if schema == svc.MODEL else {}
        rows = _rows(provider, schema, found)
        yaml_key = svc.SCHEMA_KEYS[schema]
        model_name = found.at(yaml_key, "model") if schema == svc.MODEL else []
        in_rows = [f for r in rows for f in r.findings]
        schemas.append(
            {
                "key": schema,
                "yaml_key": svc.SCHEMA_KEYS[schema],
                "title": TITLES[schema],
                "exists": svc.schema_block(provider, schema) is not None,
                "rows": rows,
                # What points into the schema but at no field (nor the model name).
                "findings": marker(
                    f
                    for f in found.at(yaml_key)
                    if not any(f is g for g in [*in_rows, *model_name])
                ),
                "model_name_findings": marker(model_name),
                "preview": svc.credential_preview(provider, schema, values),
                "model_label": svc.i18n_text(model.get("label")),
                "model_placeholder": svc.i18n_text(model.get("placeholder")),
            }
        )
    previews = {s["key"]: s["preview"] for s in schemas}
    context = provider_context(
        provider,
        membership,
        "credentials",
        schemas=schemas,
        preview_provider=previews.get(svc.PROVIDER),
        preview_model=previews.get(svc.MODEL),
        notice=notice,
        notice_level=level,
        max_fields=svc.MAX_FIELDS,
    )
    template = f"{PAGE}#{partial}" if request.htmx else PAGE
    return render(request, template, context, status=status)


def _saved(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    schema: str,
    notice: str,
) -> HttpResponse:
    """After a write: the list again (htmx) or a redirect to it."""
    provider.refresh_from_db()
    if provider.error_count:
        notice += (
            f" The plugin now has {provider.error_count} "
            f"error{'s' if provider.error_count != 1 else ''} (see Findings)."
        )
    if request.htmx:
        response = _page(request, provider, membership, notice=notice, level="ok")
        # The header's findings badge refreshes itself on this event.
        trigger_client_event(response, "findings-changed")
        return push_url(response, _list_url(provider))
    messages.success(request, notice)
    return redirect(_list_url(provider, schema))


def _stale_page(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    *,
    yours: int,
    action: str,
) -> HttpResponse:
    provider.refresh_from_db()
    notice = (
        f"Not saved: {provider.plugin_id} was changed by someone else since you "
        f"loaded this page (you had version {yours}, it is now version "
        f"{provider.lock_version}). You asked to {action}. This is the current "
        "version; do it again if it still makes sense."
    )
    return _page(
        request, provider, membership, notice=notice, level="error", status=409
    )


# ------------------------------------------------------------------ list


@require_GET
@login_required
def provider_credentials(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    return _page(request, provider, membership)


@require_POST
@login_required
def provider_credentials_preview(
    request: AuthedHttpRequest, provider_id: int
) -> HttpResponse:
    # Reading only: a viewer may try the form out too.
    provider, membership = get_provider_for_user(request, provider_id)
    schema = _schema_or_404(provider, request.POST.get("schema", ""))
    return _page(
        request,
        provider,
        membership,
        posted=(schema, request.POST),
        partial=f"preview-{schema}",
    )


# ------------------------------------------------------------------ one field


def _field_form(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    schema: str,
    index: int | None,
) -> HttpResponse:
    fields = svc.schema_fields(provider, schema)
    editor = FieldEditor(
        request.POST if request.method == "POST" else None,
        schema=schema,
        fields=fields,
        index=index,
        model_types=list(provider.model_types),
        lock_version=provider.lock_version,
    )
    status = 200
    conflict = None
    form_lock = provider.lock_version
    validate_only = request.method == "POST" and request.POST.get("_validate") == "1"
    if validate_only and request.htmx:
        # Live check of the variable as it is typed: only its errors, no save.
        return render(
            request,
            f"{FIELD_PAGE}#variable-feedback",
            {"form": editor.form, "variable_errors": editor.variable_errors()},
        )
    valid = request.method == "POST" and not validate_only and editor.is_valid()
    if request.method == "POST":
        cleaned = getattr(editor.form, "cleaned_data", {})
        form_lock = cleaned.get("lock_version") or form_lock
    if valid:
        values = editor.values()
        try:
            if index is None:
                svc.credential_field_add(
                    provider=provider,
                    lock_version=form_lock,
                    schema=schema,
                    values=values,
                )
            else:
                svc.credential_field_update(
                    provider=provider,
                    lock_version=form_lock,
                    schema=schema,
                    index=index,
                    values=values,
                )
        except StaleEdit as exc:
            current = exc.provider
            status = 409
            conflict = {
                "your_version": form_lock,
                "saved_version": current.lock_version,
                "yours": dump_yaml(
                    svc.field_data(fields[index] if index is not None else None, values)
                ).decode(),
                "saved": _saved_yaml(current, schema, index),
            }
            # Saving again now replaces the saved version knowingly.
            form_lock = current.lock_version
        except svc.DuplicateField as exc:
            editor.form.add_error(
                "variable", duplicate_message(values.variable, exc.index)
            )
        except svc.NoSuchField:
            raise Http404("No such credential field.") from None
        else:
            verb = "added" if index is None else "saved"
            return _saved(
                request,
                provider,
                membership,
                schema,
                f"Field `{values.variable}` {verb}.",
            )
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
        list_url=_list_url(provider, schema),
        kept=sorted(k for k in fields[index] if k not in svc.MANAGED_KEYS)
        if index is not None
        else [],
        field_findings=_provider_yaml_findings(provider).marker(
            svc.SCHEMA_KEYS[schema], "credential_form_schemas", index
        )
        if index is not None
        else Marker(),
    )
    template = f"{FIELD_PAGE}#section" if request.htmx else FIELD_PAGE
    return render(request, template, context, status=status)


def _saved_yaml(provider: Provider, schema: str, index: int | None) -> str:
    fields = svc.schema_fields(provider, schema)
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
    _schema_or_404(provider, schema)
    return _field_form(request, provider, membership, schema, None)


@require_http_methods(["GET", "POST"])
@login_required
def provider_credential_edit(
    request: AuthedHttpRequest, provider_id: int, schema: str, index: int
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    _schema_or_404(provider, schema)
    _field_or_404(provider, schema, index)
    return _field_form(request, provider, membership, schema, index)


@require_POST
@login_required
def provider_credential_move(
    request: AuthedHttpRequest, provider_id: int, schema: str, index: int
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    _schema_or_404(provider, schema)
    variable = svc.text(_field_or_404(provider, schema, index).get("variable"))
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _page(
            request,
            provider,
            membership,
            notice="Nothing was moved: the request had no valid version or direction.",
            level="error",
            status=400,
        )
    direction = form.cleaned_data["direction"]
    try:
        svc.credential_field_move(
            provider=provider,
            lock_version=form.cleaned_data["lock_version"],
            schema=schema,
            index=index,
            offset=-1 if direction == "up" else 1,
        )
    except StaleEdit:
        return _stale_page(
            request,
            provider,
            membership,
            yours=form.cleaned_data["lock_version"],
            action=f"move field {index + 1} `{variable}` {direction}",
        )
    return _saved(
        request, provider, membership, schema, f"Moved `{variable}` {direction}."
    )


@require_POST
@login_required
def provider_credential_delete(
    request: AuthedHttpRequest, provider_id: int, schema: str, index: int
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    _schema_or_404(provider, schema)
    variable = svc.text(_field_or_404(provider, schema, index).get("variable"))
    form = LockForm(request.POST)
    if not form.is_valid():
        return _page(
            request,
            provider,
            membership,
            notice="Nothing was deleted: the request had no valid version.",
            level="error",
            status=400,
        )
    try:
        svc.credential_field_delete(
            provider=provider,
            lock_version=form.cleaned_data["lock_version"],
            schema=schema,
            index=index,
        )
    except StaleEdit:
        return _stale_page(
            request,
            provider,
            membership,
            yours=form.cleaned_data["lock_version"],
            action=f"delete field {index + 1} `{variable}`",
        )
    return _saved(request, provider, membership, schema, f"Deleted `{variable}`.")


@require_http_methods(["GET", "POST"])
@login_required
def provider_credential_model_name(
    request: AuthedHttpRequest, provider_id: int
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    _schema_or_404(provider, svc.MODEL)
    model = svc.model_name_field(provider)
    initial = ModelNameForm.initial_from(model, provider.lock_version)
    initial["label_en_US"] = initial["label_en_US"] or "Model Name"
    form = ModelNameForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    status = 200
    conflict = None
    form_lock = provider.lock_version
    if request.method == "POST" and form.is_valid():
        form_lock = form.cleaned_data["lock_version"]
        try:
            svc.credential_model_name_update(
                provider=provider,
                lock_version=form_lock,
                label=form.i18n("label"),
                placeholder=form.i18n("placeholder"),
            )
        except StaleEdit as exc:
            status = 409
            saved = svc.model_name_field(exc.provider)
            conflict = {
                "your_version": form_lock,
                "saved_version": exc.provider.lock_version,
                "yours": dump_yaml(
                    {
                        "label": form.i18n("label"),
                        **(
                            {"placeholder": form.i18n("placeholder")}
                            if form.i18n("placeholder")
                            else {}
                        ),
                    }
                ).decode(),
                "saved": dump_yaml(saved).decode() if saved else "(none)\n",
            }
            form_lock = exc.provider.lock_version
        else:
            return _saved(
                request, provider, membership, svc.MODEL, "Model-name field saved."
            )
    context = provider_context(
        provider,
        membership,
        "credentials",
        form=form,
        form_lock=form_lock,
        conflict=conflict,
        list_url=_list_url(provider, svc.MODEL),
        field_findings=_provider_yaml_findings(provider).marker(
            svc.SCHEMA_KEYS[svc.MODEL], "model"
        ),
    )
    template = f"{MODEL_NAME_PAGE}#section" if request.htmx else MODEL_NAME_PAGE
    return render(request, template, context, status=status)
