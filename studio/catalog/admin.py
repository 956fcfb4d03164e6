"""Teams, memberships and invitations in the Django admin.

The members page and `manage.py team` are the usual ways in; the admin is
for looking things up and for repairs. Invitations are made where their link
can be shown (members page, API, `team invite`), so the admin cannot add one.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from .models import Invitation, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "role", "created_at", "last_active_at"]
    readonly_fields = ["created_at", "last_active_at"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "member_count", "created_at"]
    search_fields = ["name", "slug"]
    date_hierarchy = "created_at"
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, team: Team) -> int:
        return getattr(team, "member_count", 0)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role", "created_at", "last_active_at"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__email", "team__name", "team__slug"]
    list_select_related = ["user", "team"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "last_active_at"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "team",
        "role",
        "state",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_by",
    ]
    list_filter = ["role", "team"]
    search_fields = ["email", "team__name", "team__slug", "invited_by__username"]
    list_select_related = ["team", "invited_by", "accepted_by"]
    # The hash is not a secret, but nothing here should invite editing it.
    readonly_fields = [
        "prefix",
        "secret_hash",
        "invited_by",
        "created_at",
        "accepted_at",
        "accepted_by",
        "revoked_by",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
