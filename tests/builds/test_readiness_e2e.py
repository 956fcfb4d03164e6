"""A real worker, a real Redis: a build that succeeds is checked for the
Marketplace by the worker, install test included, and the panel shows it."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from studio.builds.models import Build, MarketplaceCheck
from tests.builds.conftest import Personas, Workers, login
from tests.factories import NO_MARKETPLACE_FIELDS, make_provider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_worker_checks_a_succeeded_build_for_the_marketplace(
    personas: Personas, workers: Workers, client: Client
) -> None:
    workers.start("readiness", MARKETPLACE_CHECK_AFTER_BUILD="1")
    provider = make_provider(personas.team, **NO_MARKETPLACE_FIELDS)
    login(client, personas.bob)
    client.post(reverse("builds:build-create", args=[provider.pk]), {})
    build = Build.objects.get(provider=provider)

    deadline = time.monotonic() + 300
    check = None
    while time.monotonic() < deadline:
        check = MarketplaceCheck.objects.filter(build=build).first()
        if check is not None and check.status in ("done", "failed"):
            break
        time.sleep(0.3)

    assert check is not None and check.status == "done", check and check.error
    install = check.install_result()
    assert install is not None and install.status == "passed", install
    assert check.blocking_count == 4
    panel = client.get(
        reverse("builds:build-readiness", args=[build.pk]),
        headers={"HX-Request": "true"},
    )
    assert panel.status_code == 286 and b"4 blocking" in panel.content
