from __future__ import annotations

from django.contrib import admin

from .models import Comment, Decision, ReviewSettings, Revision


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ["id", "provider", "number", "version", "status", "submitted_at"]
    list_filter = ["status"]
    readonly_fields = ["source"]


admin.site.register([Decision, Comment, ReviewSettings])
