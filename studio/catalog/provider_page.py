"""What every tab of the provider page shares: the tabs and the base context.

The Builds, Review, Try it and Sync tabs live in apps above catalog; they are named
here by URL name only, so catalog imports none of them.
"""

from __future__ import annotations

from django.urls import reverse

from .models import Membership, Provider

PROVIDER_SECTIONS = [
    ("general", "General", "catalog:provider-detail"),
    ("credentials", "Credential forms", "catalog:provider-credentials"),
    ("models", "Models", "catalog:provider-models"),
    ("files", "Files", "catalog:provider-files"),
    ("findings", "Findings", "catalog:provider-findings"),
    ("builds", "Builds", "builds:provider-builds"),
    ("reviews", "Review", "reviews:provider-reviews"),
    ("try", "Try it", "playground:try"),
    ("sync", "Sync", "sync:page"),
]


def provider_context(
    provider: Provider, membership: Membership, section: str, **extra: object
) -> dict[str, object]:
    """What every provider page needs: the provider, the role, the tabs."""
    tabs = [
        (key, label, reverse(name, kwargs={"provider_id": provider.pk}))
        for key, label, name in PROVIDER_SECTIONS
    ]
    return {
        "provider": provider,
        "membership": membership,
        "section": section,
        "provider_tabs": tabs,
        **extra,
    }
