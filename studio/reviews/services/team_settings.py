"""A team's review settings."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from studio.audit.models import AuditEvent
from studio.audit.services import audit_record
from studio.catalog.models import Role, Team

from ..models import MAX_REQUIRED_APPROVALS, ReviewSettings
from .roles import require_role


def review_settings_update(
    *, team: Team, user: User, required_approvals: int
) -> ReviewSettings:
    """Set how many approvals a revision needs (owners only; 1 to 10).

    Applies to revisions submitted from now on.
    """
    require_role(
        team=team, user=user, roles={Role.OWNER}, doing="change review settings"
    )
    if not 1 <= required_approvals <= MAX_REQUIRED_APPROVALS:
        raise ValueError(
            f"required approvals must be 1 to {MAX_REQUIRED_APPROVALS}, "
            f"not {required_approvals}"
        )
    with transaction.atomic():
        settings, _ = ReviewSettings.objects.update_or_create(
            team=team,
            defaults={
                "required_approvals": required_approvals,
                "updated_by": user,
                "updated_at": timezone.now(),
            },
        )
        audit_record(
            action=AuditEvent.Action.SETTINGS,
            actor=user,
            team=team,
            summary=f"required approvals: {required_approvals}",
        )
    return settings
