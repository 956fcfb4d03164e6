"""Views of the provider page: the credential form builder (its field list, order
and live preview; one field's form is in `credential_fields`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url, trigger_client_event

from studio.lib.http import AuthedHttpRequest, render_page
from studio.pluginfmt.document.edits import (
    MANAGED_KEYS,
    i18n_text,
    show_on_pairs,
    text,
)

from ..access import get_provider_for_user
from ..forms.credentials import LockForm, MoveForm
from ..models import Membership, Provider
from ..provider_page import provider_context
from ..selectors.credentials import (
    credential_preview,
    model_name_field,
    schema_available,
    schema_block,
    schema_fields,
)
from ..selectors.findings import FileFindings, Marker, marker, provider_yaml_findings
from ..services import StaleEdit
from ..services.credentials import (
    MAX_FIELDS,
    MODEL,
    PROVIDER,
    SCHEMA_KEYS,
    credential_field_delete,
    credential_field_move,
)

PAGE = "catalog/provider_credentials.html"
TITLES = {
    PROVIDER: "Provider credentials",
    MODEL: "Model credentials (add-model dialog)",
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
    fields = schema_fields(provider, schema)
    key = (SCHEMA_KEYS[schema], "credential_form_schemas")
    rows = []
    for i, f in enumerate(fields):
        f = f if isinstance(f, dict) else {}
        options = f.get("options")
        required = f.get("required")
        rows.append(
            FieldRow(
                index=i,
                variable=text(f.get("variable")),
                type=text(f.get("type")),
                label=i18n_text(f.get("label")),
                required=required if isinstance(required, bool) else None,
                default=text(f.get("default")),
                show_on=show_on_pairs(f.get("show_on")),
                options=len(options) if isinstance(options, list) else 0,
                kept=sorted(k for k in f if k not in MANAGED_KEYS),
                first=i == 0,
                last=i == len(fields) - 1,
                findings=found.marker(*key, i) if found else Marker(),
            )
        )
    return rows


def schema_or_404(provider: Provider, schema: str) -> str:
    if schema not in SCHEMA_KEYS or not schema_available(provider, schema):
        raise Http404("No such credential form.")
    return schema


def field_or_404(provider: Provider, schema: str, index: int) -> dict[str, Any]:
    fields = schema_fields(provider, schema)
    if not 0 <= index < len(fields) or not isinstance(fields[index], dict):
        raise Http404("No such credential field.")
    return fields[index]


def list_url(provider: Provider, schema: str | None = None) -> str:
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
    found = provider_yaml_findings(provider)
    for schema in (PROVIDER, MODEL):
        if not schema_available(provider, schema):
            continue
        values = posted[1] if posted and posted[0] == schema else None
        model = model_name_field(provider) if schema == MODEL else {}
        rows = _rows(provider, schema, found)
        yaml_key = SCHEMA_KEYS[schema]
        model_name = found.at(yaml_key, "model") if schema == MODEL else []
        in_rows = [f for r in rows for f in r.findings]
        schemas.append(
            {
                "key": schema,
                "yaml_key": SCHEMA_KEYS[schema],
                "title": TITLES[schema],
                "exists": schema_block(provider, schema) is not None,
                "rows": rows,
                # What points into the schema but at no field (nor the model name).
                "findings": marker(
                    f
                    for f in found.at(yaml_key)
                    if not any(f is g for g in [*in_rows, *model_name])
                ),
                "model_name_findings": marker(model_name),
                "preview": credential_preview(provider, schema, values),
                "model_label": i18n_text(model.get("label")),
                "model_placeholder": i18n_text(model.get("placeholder")),
            }
        )
    previews = {s["key"]: s["preview"] for s in schemas}
    context = provider_context(
        provider,
        membership,
        "credentials",
        schemas=schemas,
        preview_provider=previews.get(PROVIDER),
        preview_model=previews.get(MODEL),
        notice=notice,
        notice_level=level,
        max_fields=MAX_FIELDS,
    )
    return render_page(request, PAGE, context, partial=partial, status=status)


def saved_response(
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
        return push_url(response, list_url(provider))
    messages.success(request, notice)
    return redirect(list_url(provider, schema))


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
    schema = schema_or_404(provider, request.POST.get("schema", ""))
    return _page(
        request,
        provider,
        membership,
        posted=(schema, request.POST),
        partial=f"preview-{schema}",
    )


# ------------------------------------------------------------------ order


@require_POST
@login_required
def provider_credential_move(
    request: AuthedHttpRequest, provider_id: int, schema: str, index: int
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    schema_or_404(provider, schema)
    variable = text(field_or_404(provider, schema, index).get("variable"))
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
        credential_field_move(
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
    return saved_response(
        request, provider, membership, schema, f"Moved `{variable}` {direction}."
    )


@require_POST
@login_required
def provider_credential_delete(
    request: AuthedHttpRequest, provider_id: int, schema: str, index: int
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    schema_or_404(provider, schema)
    variable = text(field_or_404(provider, schema, index).get("variable"))
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
        credential_field_delete(
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
    return saved_response(
        request, provider, membership, schema, f"Deleted `{variable}`."
    )
