"""Routes of the Sync tab."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "sync"

urlpatterns = [
    path("providers/<int:provider_id>/sync/", views.sync_page, name="page"),
    path(
        "providers/<int:provider_id>/sync/upstream",
        views.check_upstream,
        name="check-upstream",
    ),
    path(
        "providers/<int:provider_id>/sync/prices",
        views.check_prices,
        name="check-prices",
    ),
    path("providers/<int:provider_id>/sync/watch", views.watch_save, name="watch"),
    path(
        "providers/<int:provider_id>/sync/<int:proposal_id>/",
        views.proposal_detail,
        name="proposal",
    ),
    path(
        "providers/<int:provider_id>/sync/<int:proposal_id>/apply",
        views.proposal_apply,
        name="proposal-apply",
    ),
    path(
        "providers/<int:provider_id>/sync/<int:proposal_id>/discard",
        views.proposal_discard,
        name="proposal-discard",
    ),
]
