"""Views of the model form: a new model of a type, or one model's edit page.

The form posts to itself for every button: save, preview (an htmx partial
beside the form) and adding or removing a rule or voice row (a re-render).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from studio.lib.http import AuthedHttpRequest, redirect_page, render_page
from studio.pluginfmt.document import MODEL_TYPE_KEYS, PARAMETER_TEMPLATES

from ..access import get_model_for_user, get_provider_for_user
from ..forms.model_form import ModelEditor, ModelForm
from ..forms.models import TEMPLATE_CHOICES
from ..models import Membership, Provider, ProviderModel
from ..provider_page import provider_context
from ..selectors.findings import FileFindings, marker, stored_findings
from ..services import StaleEdit, model_files, model_form
from .editing import handle_edit_form
from .model_rows import TYPE_LABELS


def _base(provider: Provider) -> str:
    return reverse("catalog:provider-models", kwargs={"provider_id": provider.pk})


def _model_type_param(request: AuthedHttpRequest, provider: Provider) -> str:
    model_type = request.GET.get("type", "")
    if model_type not in MODEL_TYPE_KEYS or model_type not in provider.model_types:
        raise Http404("This provider declares no such model type.")
    return model_type


def _saved_source(provider: Provider, file_path: str) -> bytes | None:
    row = (
        provider.files.filter(path=file_path).values_list("content", flat=True).first()
    )
    return bytes(row) if row is not None else None


PROPERTY_FIELDS = sorted(ModelForm.ALL_TYPE_FIELDS - {"features"})
# Where the form shows the findings of a key of the model YAML.
BLOCK_KEYS = {
    "model": ("model",),
    "label": ("label",),
    "features": ("features",),
    "properties": ("model_properties",),
    "voices": ("model_properties", "voices"),
    "rules": ("parameter_rules",),
    "pricing": ("pricing",),
    "deprecated": ("deprecated",),
}


def _origin(form: Any) -> int | None:
    value = form["origin"].value()
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _findings_context(
    provider: Provider,
    editor: ModelEditor,
    model: ProviderModel | None,
    source: bytes | None,
) -> dict[str, Any]:
    """The stored findings of the model's file: all of them, and placed by key."""
    found = FileFindings(
        stored_findings(provider) if model is not None else [],
        model.path if model is not None else "",
        source,
    )
    rule_rows = []
    in_rules = []
    for rf in editor.rules:
        origin = _origin(rf)
        here = found.at("parameter_rules", origin) if origin is not None else []
        in_rules += here
        rule_rows.append((rf, marker(here)))
    in_props = {name: found.at("model_properties", name) for name in PROPERTY_FIELDS}
    type_rows = [
        (field, marker(in_props.get(field.name, [])))
        for field in editor.form.type_fields()
    ]
    blocks = {name: found.at(*key) for name, key in BLOCK_KEYS.items()}
    placed_props = [f for name, fs in in_props.items() for f in fs] + blocks["voices"]
    markers = {
        "model": marker(blocks["model"]),
        "label": marker(blocks["label"]),
        "features": marker(blocks["features"]),
        "voices": marker(blocks["voices"]),
        "pricing": marker(blocks["pricing"]),
        "deprecated": marker(blocks["deprecated"]),
        # What points at the block but at none of its rows or fields.
        "properties": marker(
            f for f in blocks["properties"] if not any(f is p for p in placed_props)
        ),
        "rules": marker(
            f for f in blocks["rules"] if not any(f is r for r in in_rules)
        ),
    }
    return {
        "model_findings": marker(found.findings),
        "fm": markers,
        "rule_rows": rule_rows,
        "type_rows": type_rows,
    }


def _editor_context(
    provider: Provider,
    membership: Membership,
    editor: ModelEditor,
    *,
    model: ProviderModel | None,
    action_url: str,
    source: bytes | None,
    lock_version: int,
    stale: bool = False,
    findings_of: Provider | None = None,
) -> dict[str, Any]:
    yaml_text = ""
    problems: list[str] = []
    if editor.form.is_bound:
        if editor.is_valid():
            yaml_text = model_form.model_yaml(
                source=source, model_type=editor.model_type, values=editor.values()
            )
        elif editor.show_errors:
            problems = editor.errors_summary()
    elif source is not None:
        yaml_text = source.decode("utf-8", "replace")
    return provider_context(
        provider,
        membership,
        "models",
        editor=editor,
        form=editor.form,
        rules=editor.rules,
        voices=editor.voices,
        model=model,
        model_type=editor.model_type,
        type_label=TYPE_LABELS[editor.model_type],
        action_url=action_url,
        table_url=_base(provider),
        lock_version=lock_version,
        yaml_text=yaml_text,
        problems=problems,
        saved_yaml=source.decode("utf-8", "replace") if source is not None else "",
        stale=stale,
        show_errors=editor.show_errors,
        template_choices=TEMPLATE_CHOICES,
        templates=[
            {"name": name, **values} for name, values in PARAMETER_TEMPLATES.items()
        ],
        can_edit=membership.can_edit,
        **_findings_context(findings_of or provider, editor, model, source),
    )


def _render_editor(
    request: AuthedHttpRequest, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    editor: ModelEditor = context["editor"]
    partial = "preview" if editor.action == "preview" and status == 200 else "editor"
    return render_page(
        request, "catalog/model_form.html", context, partial=partial, status=status
    )


def _model_form(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    *,
    model_type: str,
    model: ProviderModel | None,
    action_url: str,
) -> HttpResponse:
    taken = set(
        provider.models.filter(model_type=model_type).values_list("model", flat=True)
    )
    saved_id = model.model if model else None
    if model is not None:
        taken.discard(model.model)
    source = _saved_source(provider, model.path) if model else None
    posting = request.method == "POST"
    editor = ModelEditor(
        model_type=model_type,
        data=request.POST if posting else None,
        spec=model.spec if model else None,
        saved_id=saved_id,
        taken_ids=taken,
    )
    lock_version = provider.lock_version
    if posting:
        try:
            lock_version = int(request.POST.get("lock_version", ""))
        except ValueError:
            lock_version = -1

    def feedback() -> HttpResponse:
        # Live check of the id as it is typed: only its errors.
        editor.form.is_valid()
        return render(
            request,
            "catalog/model_form.html#model-id-feedback",
            {"form": editor.form, "show_errors": True},
        )

    def is_valid() -> bool:
        # Adding or removing a row re-renders the form; only "save" saves.
        return editor.action == "save" and editor.is_valid()

    def save() -> HttpResponse | None:
        try:
            _, saved_path = model_form.model_save(
                provider=provider,
                lock_version=lock_version,
                model_type=model_type,
                model=model,
                values=editor.values(),
            )
        except model_files.ModelProblem as exc:
            field_name = exc.field if exc.field in editor.form.fields else None
            editor.form.add_error(field_name, exc.message)
            return None
        except model_files.StaleModel:
            messages.error(request, "That model was deleted by someone else.")
            return redirect_page(request, _base(provider))
        verb = "Saved" if model else "Added"
        messages.success(request, f"{verb} {editor.values().model} ({saved_path}).")
        saved = provider.models.filter(path=saved_path).first()
        anchor = f"#m-{saved.pk}" if saved else ""
        return redirect_page(request, _base(provider) + anchor)

    def show(stale: StaleEdit | None) -> HttpResponse:
        if stale is None:
            context = _editor_context(
                provider,
                membership,
                editor,
                model=model,
                action_url=action_url,
                source=source,
                lock_version=lock_version
                if lock_version >= 0
                else provider.lock_version,
            )
            return _render_editor(request, context)
        current = stale.provider
        current_model = current.models.filter(pk=model.pk).first() if model else None
        context = _editor_context(
            provider,
            membership,
            editor,
            model=current_model or model,
            action_url=action_url,
            source=_saved_source(current, model.path) if model else None,
            lock_version=current.lock_version,
            stale=True,
            findings_of=current,
        )
        return _render_editor(request, context, status=409)

    return handle_edit_form(
        request, is_valid=is_valid, save=save, show=show, feedback=feedback
    )


@require_http_methods(["GET", "POST"])
@login_required
def model_new(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    model_type = _model_type_param(request, provider)
    action_url = f"{_base(provider)}new?type={model_type}"
    return _model_form(
        request,
        provider,
        membership,
        model_type=model_type,
        model=None,
        action_url=action_url,
    )


@require_http_methods(["GET", "POST"])
@login_required
def model_edit(
    request: AuthedHttpRequest, provider_id: int, model_id: int
) -> HttpResponse:
    model, provider, membership = get_model_for_user(
        request, provider_id, model_id, write=request.method == "POST"
    )
    if model.model_type not in MODEL_TYPE_KEYS:
        raise Http404("The studio cannot edit this model type.")
    return _model_form(
        request,
        provider,
        membership,
        model_type=model.model_type,
        model=model,
        action_url=f"{_base(provider)}{model.pk}/edit",
    )
