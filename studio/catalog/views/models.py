"""Views of the provider page: models section (the models table).

The table shows each model as one line of text; a row's edit form and its
menu of actions (duplicate, move, delete) are loaded when asked for (the
views in `model_actions`), so the page stays small at hundreds of models.
Search and filters are plain GET parameters; an htmx request from the filter
form gets only the results. Bulk actions and drag-and-drop ordering check the
provider's `lock_version`. The page reads the models once: the number of
queries does not grow with the number of models, filtered or not.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, trigger_client_event

from studio.lib.http import AuthedHttpRequest, render_page

from .. import services
from ..access import get_provider_for_user
from ..forms.models import (
    BULK_ACTIONS,
    CURRENCIES,
    UNIT_PRESETS,
    BulkForm,
    ModelFilterForm,
    ReorderForm,
)
from ..models import Membership, Provider
from ..provider_page import provider_context
from ..selectors.models import declared_features, table_models
from ..services import models as edits
from .model_rows import Row, build_table, table_findings, type_choices

TEMPLATE = "catalog/provider_models.html"
# The id of the element the filter form swaps (the results, not the form).
RESULTS_ID = "models-results"
FILTER_KEYS = tuple(ModelFilterForm.base_fields)


def table_url(provider: Provider) -> str:
    return reverse("catalog:provider-models", kwargs={"provider_id": provider.pk})


def shown_filters(request: AuthedHttpRequest, provider: Provider) -> QueryDict:
    """The filters of the table the browser shows, for an htmx action on it:
    the query of its current URL (htmx sends it), if that is the table."""
    current = request.htmx.current_url if request.htmx else None
    if current:
        parts = urlsplit(current)
        if parts.path == table_url(provider):
            return QueryDict(parts.query)
    return QueryDict()


def is_filtered(request: AuthedHttpRequest, provider: Provider) -> bool:
    """Whether the table the browser shows is narrowed by a filter."""
    shown = shown_filters(request, provider)
    return any(shown.get(key, "").strip() for key in FILTER_KEYS)


def _table_context(
    provider: Provider,
    membership: Membership,
    filter_data: QueryDict,
    *,
    bulk: BulkForm | None = None,
    report: edits.BulkResult | None = None,
    notice: str = "",
    row_override: Row | None = None,
) -> tuple[dict[str, Any], bool]:
    """The page's context, and whether its filter parameters were valid."""
    base = table_url(provider)
    models = table_models(provider)
    form = ModelFilterForm(
        filter_data or None,
        types=type_choices(provider, models),
        features=declared_features(models),
    )
    valid = not form.is_bound or form.is_valid()
    table = build_table(
        provider,
        base,
        models,
        form.filters() if form.is_bound and valid else None,
        can_edit=membership.can_edit,
    )
    if row_override is not None:
        for group in table.groups:
            group.rows = [
                row_override if r.pk == row_override.pk else r for r in group.rows
            ]
    context = provider_context(
        provider,
        membership,
        "models",
        table=table,
        groups=table.groups,
        filter_form=form,
        filtered=table.filters.active,
        base=base,
        bulk=bulk,
        bulk_actions=BULK_ACTIONS,
        currencies=CURRENCIES,
        unit_presets=UNIT_PRESETS,
        rule_names=table.rule_names,
        report=report,
        notice=notice,
        predefined="predefined-model" in provider.configurate_methods,
        table_findings=table_findings(provider, {m.path for m in models}),
    )
    return context, valid


def render_table(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    *,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """The models section (whole page without htmx) after an action on it,
    filtered as the browser shows it."""
    data = shown_filters(request, provider)
    context, _ = _table_context(provider, membership, data, **extra)
    return render_page(request, TEMPLATE, context, partial="table", status=status)


# ---------------------------------------------------------------- the table


@require_http_methods(["GET"])
@login_required
# The same URL answers a page or a part of it: caches must tell them apart.
@vary_on_headers("HX-Request", "HX-Target")
def provider_models(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    context, valid = _table_context(provider, membership, request.GET)
    status = 200 if valid else 400
    if request.htmx.history_restore_request:
        # Back to a filtered URL htmx had not kept: it wants the whole page.
        return render(request, TEMPLATE, context, status=status)
    # The filter form swaps only the results (the search box keeps its focus).
    partial = "results" if request.htmx.target == RESULTS_ID else "table"
    response = render_page(request, TEMPLATE, context, partial=partial, status=status)
    if request.htmx and valid:
        # The address bar follows the filters, without the empty parameters.
        query = context["table"].filters.query
        push_url(response, table_url(provider) + (f"?{query}" if query else ""))
    return response


def after_change(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    message: str,
    anchor: str = "",
) -> HttpResponse:
    """The answer to a change made on the table: the section again (htmx) or a
    redirect to the table with a message."""
    if request.htmx:
        response = render_table(request, provider, membership, notice=message)
        # The header's findings badge refreshes itself on this event.
        return trigger_client_event(response, "findings-changed")
    messages.success(request, message)
    url = table_url(provider) + (f"#{anchor}" if anchor else "")
    return redirect(url)


@require_POST
@login_required
def models_reorder(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    form = ReorderForm(request.POST)
    order = [o[:255] for o in request.POST.getlist("order")[:10_000]]
    if not form.is_valid():
        return render_table(
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
        return render_table(
            request,
            provider,
            membership,
            status=409,
            notice="Someone else changed this provider; here is the current "
            "order. Move the models again.",
        )
    except edits.ModelProblem as exc:
        return render_table(
            request, provider, membership, status=400, notice=exc.message
        )
    return after_change(request, provider, membership, "Order saved.")


@require_POST
@login_required
def models_bulk(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    ids = list(provider.models.values_list("pk", "path"))
    form = BulkForm(request.POST, model_ids=[pk for pk, _ in ids])
    if not form.is_valid():
        return render_table(request, provider, membership, bulk=form)
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
        return render_table(
            request,
            provider,
            membership,
            status=409,
            bulk=form,
            notice="Someone else changed this provider since you loaded the page; "
            "nothing was changed. Check the models and apply the action again.",
        )
    if request.htmx:
        response = render_table(request, provider, membership, report=report)
        return trigger_client_event(response, "findings-changed")
    messages.success(request, _report_text(report))
    for name, reason in report.skipped:
        messages.warning(request, f"Skipped {name}: {reason}.")
    return redirect(table_url(provider))


def _report_text(report: edits.BulkResult) -> str:
    parts = [f"Changed {len(report.changed)} model{'s' * (len(report.changed) != 1)}"]
    if report.unchanged:
        parts.append(f"{len(report.unchanged)} already as asked")
    if report.skipped:
        parts.append(f"skipped {len(report.skipped)}")
    return ", ".join(parts) + "."
