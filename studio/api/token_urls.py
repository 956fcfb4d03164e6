"""Routes of the token pages (/settings/tokens/)."""

from __future__ import annotations

from django.urls import path

from . import pages

app_name = "tokens"

urlpatterns = [
    path("", pages.token_list, name="token-list"),
    path("new", pages.token_create, name="token-create"),
    path("<int:token_id>/revoke", pages.token_revoke, name="token-revoke"),
]
