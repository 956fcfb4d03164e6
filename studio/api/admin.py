from __future__ import annotations

from django.contrib import admin

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "name",
        "team",
        "kind",
        "user",
        "role",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["kind", "team"]
    search_fields = ["prefix", "name", "user__username"]
    # The hash is not a secret, but nothing here should invite editing it.
    readonly_fields = ["prefix", "secret_hash", "created_at", "last_used_at"]
