from __future__ import annotations

from django.contrib import admin

from .models import AuditEvent, Comment, Decision, ReviewSettings, Revision


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ["id", "provider", "number", "version", "status", "submitted_at"]
    list_filter = ["status"]
    readonly_fields = ["source"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "team", "actor_name", "action", "plugin_id"]
    list_filter = ["action"]


admin.site.register([Decision, Comment, ReviewSettings])
