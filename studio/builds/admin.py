from __future__ import annotations

from django.contrib import admin

from .models import Build, SigningKey


@admin.register(Build)
class BuildAdmin(admin.ModelAdmin):
    list_display = ["id", "provider", "kind", "status", "attempt", "created_at"]
    list_filter = ["status", "kind"]
    readonly_fields = ["source", "steps", "events", "findings", "smoke"]


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "name", "fingerprint", "is_active", "created_at"]
    list_filter = ["is_active"]
    exclude = ["private_key_encrypted"]
