"""Views of one row of the models table: its edit form, its menu of actions,
and those actions (save, duplicate, move, delete).

The table loads a row's edit form (`model_row_edit`) and its menu
(`model_actions`) with htmx when asked; without JavaScript the row links to
the full model form and to a page holding the same menu. Each action checks
the model's `lock_version`: a stale one is refused with 409 and changes
nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)
from django_htmx.http import reswap, retarget

from studio.lib.http import AuthedHttpRequest

from ..access import get_model_for_user
from ..forms.models import DuplicateForm, InlineForm, LockForm
from ..models import Membership, Provider
from ..provider_page import provider_context
from ..services import models as edits
from .model_rows import Row, findings_by_path, make_row
from .models import after_change, is_filtered, render_table, table_url

# The `direction` a move accepts, typed as model_move takes it.
MOVE_DIRECTIONS: dict[str, Literal["up", "down"]] = {"up": "up", "down": "down"}
TABLE = "catalog/provider_models.html"
ACTIONS = "catalog/models/actions.html"


def _taken_ids(provider: Provider, model_type: str) -> set[str]:
    return set(
        provider.models.filter(model_type=model_type).values_list("model", flat=True)
    )


def _fresh_row(provider: Provider, membership: Membership, pk: int) -> Row:
    model = provider.models.filter(pk=pk).first()
    if model is None:
        raise Http404("No such model.")
    row = make_row(
        model,
        table_url(provider),
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
    row.can_edit = membership.can_edit
    return row


def _row_response(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    row: Row,
    *,
    status: int = 200,
) -> HttpResponse:
    """The row alone (htmx: it replaces itself, with the new locks out of band),
    else the whole table showing it."""
    if request.htmx:
        context = provider_context(
            provider, membership, "models", row=row, base=row.base
        )
        return render(request, f"{TABLE}#row-swap", context, status=status)
    return render_table(request, provider, membership, status=status, row_override=row)


def _menu_response(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    row: Row,
    *,
    status: int = 200,
    errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    """The row's menu: its items (htmx) or the page holding them."""
    context = provider_context(
        provider,
        membership,
        "models",
        row=row,
        errors=errors or {},
        in_table=bool(request.htmx),
        # Moves follow the whole order: a filtered table hides the neighbours.
        filtered=is_filtered(request, provider),
        table_url=table_url(provider),
    )
    if request.htmx:
        return render(request, f"{ACTIONS}#menu", context, status=status)
    return render(request, ACTIONS, context, status=status)


# ---------------------------------------------------------------- loaded on demand


@require_GET
@login_required
def model_row_edit(
    request: AuthedHttpRequest, provider_id: int, model_id: int
) -> HttpResponse:
    """The row with its inputs (htmx); without it, the full model form."""
    model, provider, membership = get_model_for_user(
        request, provider_id, model_id, write=True
    )
    if not request.htmx:
        return redirect(f"{table_url(provider)}{model.pk}/edit")
    row = _fresh_row(provider, membership, model.pk)
    row.editing = True
    return _row_response(request, provider, membership, row)


@require_GET
@login_required
def model_actions(
    request: AuthedHttpRequest, provider_id: int, model_id: int
) -> HttpResponse:
    """The row's menu of actions (htmx), or a page with them."""
    model, provider, membership = get_model_for_user(
        request, provider_id, model_id, write=True
    )
    return _menu_response(
        request, provider, membership, _fresh_row(provider, membership, model.pk)
    )


# ---------------------------------------------------------------- the row


@require_http_methods(["GET", "POST"])
@login_required
def model_row(
    request: AuthedHttpRequest, provider_id: int, model_id: int
) -> HttpResponse:
    """GET: the row as text (cancelling its edit form). POST: save the row."""
    model, provider, membership = get_model_for_user(
        request, provider_id, model_id, write=request.method == "POST"
    )
    if request.method == "GET":
        if not request.htmx:
            return redirect(f"{table_url(provider)}#m-{model.pk}")
        row = _fresh_row(provider, membership, model.pk)
        return _row_response(request, provider, membership, row)
    # The row is read after the save, or after the refusal: a successful save
    # (the common case) reads it once.
    form = InlineForm(request.POST)
    if form.is_valid():
        try:
            edits.model_inline_update(
                provider=provider,
                model=model,
                model_lock=form.cleaned_data["model_lock"],
                values=form.values(),
            )
        except edits.StaleModel as exc:
            return _stale_row(request, provider, membership, model.pk, form, exc)
        except edits.ModelProblem as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if not request.htmx:
                messages.success(request, f"Saved {model.model}.")
                return redirect(f"{table_url(provider)}#m-{model.pk}")
            row = _fresh_row(provider, membership, model.pk)
            row.notice = "Saved."
            return _row_response(request, provider, membership, row)
    row = _fresh_row(provider, membership, model.pk)
    row.editing = True
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


def _submitted(form: InlineForm, row: Row) -> dict[str, Any]:
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
    pk: int,
    form: InlineForm,
    exc: edits.StaleModel,
) -> HttpResponse:
    """A save from an outdated row: the row again with both values (409)."""
    if exc.model is None:
        return _gone(request, provider, membership)
    row = _fresh_row(provider, membership, pk)
    row.saved = row.values
    row.editing = True
    row.values = _submitted(form, row)
    row.notice = (
        "Someone else changed this model since you loaded the page. Your values "
        "are in the inputs, the saved ones below; save again to overwrite them."
    )
    return _row_response(request, provider, membership, row, status=409)


def _gone(
    request: AuthedHttpRequest, provider: Provider, membership: Membership
) -> HttpResponse:
    if request.htmx:
        return render_table(
            request,
            provider,
            membership,
            status=409,
            notice="That model was deleted by someone else.",
        )
    messages.error(request, "That model was deleted by someone else.")
    return redirect(table_url(provider))


def _stale_action(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    model_id: str,
    exc: edits.StaleModel,
) -> HttpResponse:
    """An action from an outdated menu: nothing done, the current table (409)."""
    if exc.model is None:
        return _gone(request, provider, membership)
    return render_table(
        request,
        provider,
        membership,
        status=409,
        notice=f"Someone else changed {model_id} since you opened its menu; "
        "nothing was done. Here is the current table: try again.",
    )


# ---------------------------------------------------------------- the menu's actions


@require_POST
@login_required
def model_duplicate(
    request: AuthedHttpRequest, provider_id: int, model_id: int
) -> HttpResponse:
    model, provider, membership = get_model_for_user(
        request, provider_id, model_id, write=True
    )
    form = DuplicateForm(request.POST, taken_ids=_taken_ids(provider, model.model_type))
    if form.is_valid():
        try:
            _, new_path = edits.model_duplicate(
                provider=provider,
                model=model,
                model_lock=form.cleaned_data["model_lock"],
                new_id=form.cleaned_data["new_id"],
            )
        except edits.StaleModel as exc:
            return _stale_action(request, provider, membership, model.model, exc)
        except edits.ModelProblem as exc:
            form.add_error("new_id", exc.message)
        else:
            copy = provider.models.filter(path=new_path).first()
            return after_change(
                request,
                provider,
                membership,
                f"Duplicated {model.model} as {form.cleaned_data['new_id']} "
                f"({new_path}).",
                anchor=f"m-{copy.pk}" if copy else "",
            )
    row = _fresh_row(provider, membership, model.pk)
    row.new_id = form.data.get("new_id", "")[:300]
    response = _menu_response(request, provider, membership, row, errors=_errors(form))
    if request.htmx:
        # The menu's forms answer with the section; this answer is the menu.
        response = reswap(
            retarget(response, f"#m-{model.pk} details.menu > div"), "innerHTML"
        )
    return response


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
        try:
            edits.model_delete(
                provider=provider,
                model=model,
                model_lock=form.cleaned_data["model_lock"],
            )
        except edits.StaleModel as exc:
            return _stale_action(request, provider, membership, model.model, exc)
        return after_change(
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
        return render_table(
            request, provider, membership, status=400, notice="Bad move request."
        )
    try:
        edits.model_move(
            provider=provider,
            model=model,
            model_lock=form.cleaned_data["model_lock"],
            direction=direction,
        )
    except edits.StaleModel as exc:
        return _stale_action(request, provider, membership, model.model, exc)
    return after_change(
        request,
        provider,
        membership,
        f"Moved {model.model} {direction}.",
        anchor=f"m-{model.pk}",
    )
