"""Deleting a provider: refused while a build of it runs; its artifacts go too."""

from __future__ import annotations

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError

from studio.catalog.models import Provider

from .builds import builds_delete_for_provider


class ProviderInUse(Exception):
    """Something that must outlive the provider still refers to it."""


def provider_delete(*, provider: Provider) -> list[str]:
    """Delete the provider with its files, models and builds; its build
    artifacts leave storage once the deletion is committed.

    Refused with BuildInProgress while a build of it is queued or running, and
    with ProviderInUse when a protected row still refers to it. Returns the
    storage names of the deleted artifacts.
    """
    with transaction.atomic():
        # Locked like build_start locks it: no build can start in between.
        locked = Provider.objects.select_for_update().filter(pk=provider.pk).first()
        if locked is None:
            return []  # someone deleted it first
        names = builds_delete_for_provider(locked)
        try:
            locked.delete()
        except (ProtectedError, RestrictedError) as exc:
            raise ProviderInUse(str(exc.args[0] if exc.args else exc)) from exc
    return names
