"""Views of the provider page: models section (the models table).

The table is one page whose rows are small forms (htmx swaps the row; without
JavaScript they are plain POST forms that redirect back). Row actions check the
row's model `lock_version`; bulk actions and drag-and-drop ordering check the
provider's. The page reads the model rows once (`model_rows`): the number of
queries does not grow with the number of models. The model form's views are
in `model_form`.
"""

from __future__ import annotations

from typing import Any, Literal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from studio.lib.http import AuthedHttpRequest, render_page

from .. import services
from ..access import get_model_for_user, get_provider_for_user
from ..forms.models import (
    BULK_ACTIONS,
    CURRENCIES,
    UNIT_PRESETS,
    BulkForm,
    DuplicateForm,
    InlineForm,
    LockForm,
    ReorderForm,
)
from ..models import Membership, Provider
from ..provider_page import provider_context
from ..services import models as edits
from .model_rows import (
    Row,
    findings_by_path,
    make_row,
    table_findings,
    table_groups,
)

# The `direction` a move accepts, typed as model_move takes it.
MOVE_DIRECTIONS: dict[str, Literal["up", "down"]] = {"up": "up", "down": "down"}


def _base(provider: Provider) -> str:
    return reverse("catalog:provider-models", kwargs={"provider_id": provider.pk})


def _table_context(
    provider: Provider,
    membership: Membership,
    *,
    bulk: BulkForm | None = None,
    report: edits.BulkResult | None = None,
    notice: str = "",
    row_override: Row | None = None,
) -> dict[str, Any]:
    base = _base(provider)
    groups, rule_names = table_groups(provider, base)
    if row_override is not None:
        for group in groups:
            group.rows = [
                row_override if r.pk == row_override.pk else r for r in group.rows
            ]
    return provider_context(
        provider,
        membership,
        "models",
        groups=groups,
        model_count=sum(len(g.rows) for g in groups),
        base=base,
        bulk=bulk,
        bulk_actions=BULK_ACTIONS,
        currencies=CURRENCIES,
        unit_presets=UNIT_PRESETS,
        rule_names=rule_names,
        report=report,
        notice=notice,
        predefined="predefined-model" in provider.configurate_methods,
        table_findings=table_findings(
            provider, {r.path for g in groups for r in g.rows}
        ),
    )


def _render_table(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    *,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    context = _table_context(provider, membership, **extra)
    return render_page(
        request, "catalog/provider_models.html", context, partial="table", status=status
    )


# ---------------------------------------------------------------- the table


@require_http_methods(["GET"])
@login_required
def provider_models(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    return _render_table(request, provider, membership)


def _after_row_change(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    message: str,
    anchor: str = "",
) -> HttpResponse:
    if request.htmx:
        response = _render_table(request, provider, membership, notice=message)
        # The header's findings badge refreshes itself on this event.
        return trigger_client_event(response, "findings-changed")
    messages.success(request, message)
    url = _base(provider) + (f"#{anchor}" if anchor else "")
    return redirect(url)


def _row_response(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    row: Row,
    *,
    status: int = 200,
) -> HttpResponse:
    if request.htmx:
        context = provider_context(
            provider, membership, "models", row=row, base=row.base
        )
        return render(
            request, "catalog/provider_models.html#row-swap", context, status=status
        )
    return _render_table(request, provider, membership, status=status, row_override=row)


def _taken_ids(provider: Provider, model_type: str) -> set[str]:
    return set(
        provider.models.filter(model_type=model_type).values_list("model", flat=True)
    )


def _fresh_row(provider: Provider, pk: int) -> Row:
    model = provider.models.filter(pk=pk).first()
    if model is None:
        raise Http404("No such model.")
    row = make_row(
        model,
        _base(provider),
        findings_by_path(provider).get(model.path),
        taken=_taken_ids(provider, model.model_type),
    )
    # The move buttons need to know the ends of the type's order (two small
    # queries, whatever the model count).
    same = provider.models.filter(model_type=model.model_type).order_by(
        "position", "model", "path"
    )
    first = same.values_list("pk", flat=True).first()
    last = same.reverse().values_list("pk", flat=True).first()
    row.first, row.last = first == pk, last == pk
    return row


@require_POST
@login_required
def model_row(
    request: AuthedHttpRequest, provider_id: int, model_id: int
) -> HttpResponse:
    model, provider, membership = get_model_for_user(
        request, provider_id, model_id, write=True
    )
    form = InlineForm(request.POST)
    row = _fresh_row(provider, model.pk)
    if form.is_valid():
        try:
            edits.model_inline_update(
                provider=provider,
                model=model,
                model_lock=form.cleaned_data["model_lock"],
                values=form.values(),
            )
        except edits.StaleModel as exc:
            return _stale_row(request, provider, membership, row, form, exc)
        except edits.ModelProblem as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if not request.htmx:
                messages.success(request, f"Saved {model.model}.")
                return redirect(_base(provider) + f"#m-{model.pk}")
            row = _fresh_row(provider, model.pk)
            row.notice = "Saved."
            return _row_response(request, provider, membership, row)
    row.values = _submitted(form, row)
    row.errors = _errors(form)
    return _row_response(request, provider, membership, row)


ROW_FIELDS = frozenset(
    {
        "label",
        "context_size",
        "max_tokens_default",
        "max_tokens_max",
        "input_price",
        "output_price",
        "new_id",
    }
)


def _errors(form: InlineForm | DuplicateForm | LockForm) -> dict[str, list[str]]:
    # Errors of fields the row has no input for (and form-wide ones, which a
    # template cannot read as "__all__") are shown under "general".
    errors: dict[str, list[str]] = {}
    for name, messages_ in form.errors.items():
        key = name if name in ROW_FIELDS else "general"
        prefix = "" if key != "general" or name == "__all__" else f"{name}: "
        errors.setdefault(key, []).extend(f"{prefix}{m}" for m in messages_)
    return errors


def _submitted(form: InlineForm | DuplicateForm | LockForm, row: Row) -> dict[str, Any]:
    values = dict(row.values)
    for name in values:
        if name == "deprecated":
            values[name] = form.data.get(name) in ("on", "true", "1")
        elif name in form.data:
            values[name] = form.data.get(name, "")[:2000]
    return values


def _stale_row(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    row: Row,
    form: InlineForm | DuplicateForm | LockForm,
    exc: edits.StaleModel,
) -> HttpResponse:
    if exc.model is None:
        if request.htmx:
            return _render_table(
                request,
                provider,
                membership,
                status=409,
                notice="That model was deleted by someone else.",
            )
        messages.error(request, "That model was deleted by someone else.")
        return redirect(_base(provider))
    saved = row.values
    row.saved = saved
    row.values = _submitted(form, row)
    row.notice = (
        "Someone else changed this model since you loaded the page. Your values "
        "are in the inputs, the saved ones below; save again to overwrite them."
    )
    return _row_response(request, provider, membership, row, status=409)


@require_POST
@login_required
def model_duplicate(
    request: AuthedHttpRequest, provider_id: int, model_id: int
) -> HttpResponse:
    model, provider, membership = get_model_for_user(
        request, provider_id, model_id, write=True
    )
    form = DuplicateForm(request.POST, taken_ids=_taken_ids(provider, model.model_type))
    row = _fresh_row(provider, model.pk)
    if form.is_valid():
        try:
            _, new_path = edits.model_duplicate(
                provider=provider,
                model=model,
                model_lock=form.cleaned_data["model_lock"],
                new_id=form.cleaned_data["new_id"],
            )
        except edits.StaleModel as exc:
            return _stale_row(request, provider, membership, row, form, exc)
        except edits.ModelProblem as exc:
            form.add_error("new_id", exc.message)
        else:
            copy = provider.models.filter(path=new_path).first()
            return _after_row_change(
                request,
                provider,
                membership,
                f"Duplicated {model.model} as {form.cleaned_data['new_id']} "
                f"({new_path}).",
                anchor=f"m-{copy.pk}" if copy else "",
            )
    row.new_id = form.data.get("new_id", "")[:300]
    row.errors = _errors(form)
    row.values = _submitted(form, row)
    return _row_response(request, provider, membership, row)


@require_http_methods(["GET", "POST"])
@login_required
def model_delete(
    request: AuthedHttpRequest, provider_id: int, model_id: int
) -> HttpResponse:
    model, provider, membership = get_model_for_user(
        request, provider_id, model_id, write=True
    )
    form = LockForm(request.POST or None)
    confirmed = request.method == "POST" and request.POST.get("confirm") == "1"
    if confirmed and form.is_valid():
        row = _fresh_row(provider, model.pk)
        try:
            edits.model_delete(
                provider=provider,
                model=model,
                model_lock=form.cleaned_data["model_lock"],
            )
        except edits.StaleModel as exc:
            return _stale_row(request, provider, membership, row, form, exc)
        return _after_row_change(
            request, provider, membership, f"Deleted {model.model} ({model.path})."
        )
    context = provider_context(
        provider, membership, "models", model=model, model_lock=model.lock_version
    )
    return render(request, "catalog/models/delete_confirm.html", context)


@require_POST
@login_required
def model_move(
    request: AuthedHttpRequest, provider_id: int, model_id: int
) -> HttpResponse:
    model, provider, membership = get_model_for_user(
        request, provider_id, model_id, write=True
    )
    form = LockForm(request.POST)
    direction = MOVE_DIRECTIONS.get(request.POST.get("direction", ""))
    if not form.is_valid() or direction is None:
        return _render_table(
            request, provider, membership, status=400, notice="Bad move request."
        )
    row = _fresh_row(provider, model.pk)
    try:
        edits.model_move(
            provider=provider,
            model=model,
            model_lock=form.cleaned_data["model_lock"],
            direction=direction,
        )
    except edits.StaleModel as exc:
        return _stale_row(request, provider, membership, row, form, exc)
    return _after_row_change(
        request,
        provider,
        membership,
        f"Moved {model.model} {direction}.",
        anchor=f"m-{model.pk}",
    )


@require_POST
@login_required
def models_reorder(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    form = ReorderForm(request.POST)
    order = [o[:255] for o in request.POST.getlist("order")[:10_000]]
    if not form.is_valid():
        return _render_table(
            request, provider, membership, status=400, notice="Bad reorder request."
        )
    try:
        edits.models_reorder(
            provider=provider,
            lock_version=form.cleaned_data["lock_version"],
            model_type=form.cleaned_data["model_type"],
            order=order,
        )
    except services.StaleEdit:
        return _render_table(
            request,
            provider,
            membership,
            status=409,
            notice="Someone else changed this provider; here is the current "
            "order. Move the models again.",
        )
    except edits.ModelProblem as exc:
        return _render_table(
            request, provider, membership, status=400, notice=exc.message
        )
    return _after_row_change(request, provider, membership, "Order saved.")


@require_POST
@login_required
def models_bulk(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    ids = list(provider.models.values_list("pk", "path"))
    form = BulkForm(request.POST, model_ids=[pk for pk, _ in ids])
    if not form.is_valid():
        return _render_table(request, provider, membership, bulk=form)
    selected = set(form.cleaned_data["selected"])
    paths = [p for pk, p in ids if pk in selected]
    try:
        report = edits.models_bulk(
            provider=provider,
            lock_version=form.cleaned_data["lock_version"],
            paths=paths,
            action=form.action_value(),
        )
    except services.StaleEdit:
        return _render_table(
            request,
            provider,
            membership,
            status=409,
            bulk=form,
            notice="Someone else changed this provider since you loaded the page; "
            "nothing was changed. Check the models and apply the action again.",
        )
    if request.htmx:
        response = _render_table(request, provider, membership, report=report)
        return trigger_client_event(response, "findings-changed")
    messages.success(request, _report_text(report))
    for name, reason in report.skipped:
        messages.warning(request, f"Skipped {name}: {reason}.")
    return redirect(_base(provider))


def _report_text(report: edits.BulkResult) -> str:
    parts = [f"Changed {len(report.changed)} model{'s' * (len(report.changed) != 1)}"]
    if report.unchanged:
        parts.append(f"{len(report.unchanged)} already as asked")
    if report.skipped:
        parts.append(f"skipped {len(report.skipped)}")
    return ", ".join(parts) + "."
