from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from studio.lib.http import AuthedHttpRequest, render_page
from studio.pluginfmt.scaffold import NewPlugin

from .. import services
from ..access import current_membership, get_provider_for_user
from ..forms.providers import METHOD_CHOICES, MODEL_TYPE_CHOICES, NewProviderForm
from ..models import Provider
from ..provider_page import provider_context
from ..selectors.general import general_findings
from ..selectors.todos import provider_todos


def _no_team(request: AuthedHttpRequest, heading: str) -> HttpResponse:
    """What a user in no team sees instead: ask to be invited, or create one."""
    return render(request, "catalog/no_team.html", {"heading": heading})


@require_GET
@login_required
def provider_list(request: AuthedHttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return _no_team(request, "Providers")
    q = request.GET.get("q", "").strip()[:200]
    model_type = request.GET.get("type", "")
    method = request.GET.get("method", "")
    # The stored findings can be long and the list shows only their counts.
    providers = (
        Provider.objects.filter(team=membership.team)
        .defer("findings")
        .annotate(model_count=Count("models"))
    )
    if q:
        providers = providers.filter(
            Q(name__icontains=q) | Q(label__icontains=q) | Q(author__icontains=q)
        )
    if model_type in dict(MODEL_TYPE_CHOICES):
        providers = providers.filter(kinds__contains=f",{model_type},")
    if method in dict(METHOD_CHOICES):
        providers = providers.filter(kinds__contains=f",{method},")
    context = {
        "membership": membership,
        "providers": providers.order_by("author", "name"),
        "q": q,
        "type": model_type,
        "method": method,
        "type_choices": MODEL_TYPE_CHOICES,
        "method_choices": METHOD_CHOICES,
    }
    return render_page(
        request, "catalog/provider_list.html", context, partial="results"
    )


@require_http_methods(["GET", "POST"])
@login_required
def provider_new(request: AuthedHttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return _no_team(request, "New provider")
    if not membership.can_edit:
        return render(request, "catalog/read_only.html", status=403)
    form = NewProviderForm(request.POST or None, request.FILES or None)
    # htmx asks for live validation of what was typed so far: errors, no save.
    validate_only = request.method == "POST" and request.POST.get("_validate") == "1"
    if request.method == "POST" and not validate_only and form.is_valid():
        data = form.cleaned_data
        icon = data.get("icon")
        icon_dark = data.get("icon_dark")
        plugin = NewPlugin(
            author=data["author"],
            name=data["name"],
            label=form.i18n("label"),
            description=form.i18n("description"),
            model_types=list(data["model_types"]),
            configurate_methods=list(data["configurate_methods"]),
            runtime=data["runtime"],
            icon=(f"icon.{icon[0]}", icon[1]) if icon else None,
            icon_dark=(f"icon-dark.{icon_dark[0]}", icon_dark[1])
            if icon_dark
            else None,
            repo=data["repo"],
            contact=data["contact"],
            privacy=data["privacy"],
        )
        try:
            provider = services.provider_create(
                team=membership.team, user=request.user, plugin=plugin
            )
        except services.DuplicatePlugin as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"{provider.plugin_id} created.")
            return redirect("catalog:provider-detail", provider_id=provider.pk)
    context = {"form": form, "membership": membership}
    if validate_only:
        form.is_valid()
        return render(request, "catalog/provider_new.html#form", context)
    return render(request, "catalog/provider_new.html", context)


@require_GET
@login_required
def provider_detail(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    context = provider_context(provider, membership, "general") | {
        "manifest": provider.manifest,
        "declaration": provider.declaration,
        "gf": general_findings(provider),
        "model_counts": list(
            provider.models.values("model_type")
            .annotate(n=Count("id"))
            .order_by("model_type")
        ),
        "todos": provider_todos(provider),
    }
    return render_page(request, "catalog/provider_detail.html", context)
