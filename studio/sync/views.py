"""The Sync tab: check upstream, import a price table, read and apply a
proposal, set the drift watch. Owners and authors write; others read."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from studio.catalog.access import get_provider_for_user
from studio.catalog.models import Membership, Provider
from studio.catalog.provider_page import provider_context
from studio.catalog.services import provider_document
from studio.lib.http import AuthedHttpRequest, redirect_page, render_page

from . import services
from .forms import PricesForm, UpstreamForm, WatchForm
from .models import SyncProposal

PAGE = "sync/page.html"
PROPOSAL = "sync/proposal.html"


def _watch_initial(provider: Provider, base_url: str) -> dict[str, Any]:
    watch = services.watch_of(provider)
    return {
        "enabled": watch.enabled,
        "interval_hours": watch.interval_hours,
        "source": watch.source,
        "base_url": watch.base_url or base_url,
        "template": watch.template,
        "table_url": watch.table_url,
        "mapping": watch.mapping,
        "keep_credential": watch.has_credential,
    }


def _page(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    *,
    upstream_form: UpstreamForm | None = None,
    prices_form: PricesForm | None = None,
    watch_form: WatchForm | None = None,
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    doc = provider_document(provider)
    templates = services.template_choices(doc)
    base_url = services.endpoint_default(doc)
    watch = services.watch_of(provider)
    context = provider_context(
        provider,
        membership,
        "sync",
        upstream_form=upstream_form
        or UpstreamForm(templates=templates, initial={"base_url": base_url}),
        prices_form=prices_form or PricesForm(),
        watch_form=watch_form or WatchForm(initial=_watch_initial(provider, base_url)),
        watch=watch,
        proposals=services.recent_proposals(provider),
        error=error,
        notice=notice,
    )
    return render_page(request, PAGE, context, status=status)


@require_GET
@login_required
def sync_page(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    return _page(request, provider, membership)


def _to_proposal(
    request: AuthedHttpRequest, provider: Provider, proposal: SyncProposal
) -> HttpResponse:
    return redirect_page(
        request, reverse("sync:proposal", args=[provider.pk, proposal.pk])
    )


@require_POST
@login_required
def check_upstream(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    templates = services.template_choices(provider_document(provider))
    form = UpstreamForm(request.POST, templates=templates)
    if not form.is_valid():
        return _page(request, provider, membership, upstream_form=form, status=400)
    try:
        proposal = services.propose_from_upstream(
            provider=provider,
            user=request.user,
            base_url=form.cleaned_data["base_url"],
            api_key=form.cleaned_data["api_key"],
            template=form.templates(),
            model_types=form.cleaned_data["model_types"],
        )
    except services.SyncError as error:
        # The typed key is not echoed back into the form.
        return _page(
            request,
            provider,
            membership,
            upstream_form=form,
            error=str(error),
            status=400,
        )
    return _to_proposal(request, provider, proposal)


@require_POST
@login_required
def check_prices(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    form = PricesForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, provider, membership, prices_form=form, status=400)
    upload, url = form.cleaned_data.get("table_file"), form.cleaned_data["table_url"]
    try:
        if upload is not None:
            table = services.read_table(upload.read(services.table_limit() + 1))
            origin = upload.name or "uploaded table"
        else:
            table = services.fetch_table(url.strip())
            origin = url.strip()
        proposal = services.propose_from_prices(
            provider=provider,
            user=request.user,
            table=table,
            mapping=form.cleaned_data["mapping"],
            origin=origin,
        )
    except services.SyncError as error:
        return _page(
            request,
            provider,
            membership,
            prices_form=form,
            error=str(error),
            status=400,
        )
    return _to_proposal(request, provider, proposal)


@require_POST
@login_required
def watch_save(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    form = WatchForm(request.POST)
    if not form.is_valid():
        return _page(request, provider, membership, watch_form=form, status=400)
    data = form.cleaned_data
    try:
        services.watch_save(
            provider=provider,
            user=request.user,
            enabled=data["enabled"],
            interval_hours=data["interval_hours"],
            source=data["source"],
            base_url=data["base_url"],
            template=data["template"],
            table_url=data["table_url"],
            mapping=data["mapping"],
            api_key=data["api_key"],
            keep_credential=data["keep_credential"],
        )
    except services.SyncError as error:
        return _page(
            request,
            provider,
            membership,
            watch_form=form,
            error=str(error),
            status=400,
        )
    return redirect_page(request, reverse("sync:page", args=[provider.pk]) + "#watch")


def _proposal_for(provider: Provider, proposal_id: int) -> SyncProposal:
    proposal = (
        SyncProposal.objects.select_related("created_by", "applied_by")
        .filter(pk=proposal_id, provider=provider)
        .first()
    )
    if proposal is None:
        raise Http404("No such proposal.")
    return proposal


def _proposal_page(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    proposal: SyncProposal,
    *,
    error: str = "",
    ticked: set[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    items = proposal.sync_items()
    applied = set(proposal.applied_keys)
    rows = [
        {
            "item": item,
            "ticked": item.key in ticked if ticked is not None else True,
            "applied": item.key in applied,
        }
        for item in items
    ]
    context = provider_context(
        provider,
        membership,
        "sync",
        proposal=proposal,
        rows=rows,
        details=proposal.details,
        stale=proposal.lock_version != provider.lock_version,
        error=error,
    )
    return render_page(request, PROPOSAL, context, status=status)


@require_GET
@login_required
def proposal_detail(
    request: AuthedHttpRequest, provider_id: int, proposal_id: int
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    proposal = _proposal_for(provider, proposal_id)
    return _proposal_page(request, provider, membership, proposal)


@require_POST
@login_required
def proposal_apply(
    request: AuthedHttpRequest, provider_id: int, proposal_id: int
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    proposal = _proposal_for(provider, proposal_id)
    keys = request.POST.getlist("keys")
    try:
        services.proposal_apply(proposal=proposal, user=request.user, keys=keys)
    except services.SyncError as error:
        status = 409 if isinstance(error, services.SyncStale) else 400
        provider.refresh_from_db()
        return _proposal_page(
            request,
            provider,
            membership,
            proposal,
            error=str(error),
            ticked=set(keys),
            status=status,
        )
    return redirect_page(
        request, reverse("sync:proposal", args=[provider.pk, proposal.pk])
    )


@require_POST
@login_required
def proposal_discard(
    request: AuthedHttpRequest, provider_id: int, proposal_id: int
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    proposal = _proposal_for(provider, proposal_id)
    try:
        services.proposal_discard(proposal=proposal)
    except services.SyncError as error:
        return _proposal_page(
            request, provider, membership, proposal, error=str(error), status=400
        )
    return redirect_page(request, reverse("sync:page", args=[provider.pk]))
