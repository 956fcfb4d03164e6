"""Deleting a provider: its rows, its builds and their artifacts in storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from studio.builds.models import Build
from studio.builds.services import (
    BuildInProgress,
    builds_delete_for_provider,
    provider_delete,
)
from studio.builds.services.builds import snapshot
from studio.catalog.models import Provider, ProviderFile, ProviderModel
from tests.factories import make_provider

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def storage(settings: Any, tmp_path: Path) -> Path:
    """Default storage in a temporary folder."""
    root = tmp_path / "storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture
def provider(personas) -> Provider:
    return make_provider(personas.team, models=2)


def add_build(provider: Provider, *, status: str = "succeeded", artifact: bool = True):
    build = Build.objects.create(
        provider=provider,
        team=provider.team,
        source=snapshot(provider),
        status=status,
    )
    if artifact:
        build.artifact.save("gateway.difypkg", ContentFile(b"PK package"))
    return build


def url(provider: Provider) -> str:
    return reverse("catalog:provider-delete", args=[provider.pk])


class TestProviderDeleteService:
    def test_it_deletes_the_rows_and_after_commit_the_artifacts(
        self, provider, storage, django_capture_on_commit_callbacks
    ):
        builds = [add_build(provider), add_build(provider), add_build(provider)]
        Build.objects.filter(pk=builds[2].pk).update(artifact="")  # pruned
        paths = [storage / b.artifact.name for b in builds[:2]]
        assert all(p.exists() for p in paths)
        other = make_provider(provider.team, "other")
        kept = add_build(other)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            names = provider_delete(provider=provider)
        assert sorted(names) == sorted(b.artifact.name for b in builds[:2])
        assert all(p.exists() for p in paths)  # not before the commit
        for callback in callbacks:
            callback()
        assert not any(p.exists() for p in paths)
        assert not Provider.objects.filter(pk=provider.pk).exists()
        assert not ProviderModel.objects.filter(provider_id=provider.pk).exists()
        assert not ProviderFile.objects.filter(provider_id=provider.pk).exists()
        assert not Build.objects.filter(provider_id=provider.pk).exists()
        assert (storage / kept.artifact.name).exists()
        assert Build.objects.filter(pk=kept.pk).exists()

    @pytest.mark.parametrize("status", ["queued", "running"])
    def test_it_is_refused_while_a_build_is_active(
        self, provider, storage, status, django_capture_on_commit_callbacks
    ):
        done = add_build(provider)
        add_build(provider, status=status, artifact=False)
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(BuildInProgress),
        ):
            provider_delete(provider=provider)
        assert Provider.objects.filter(pk=provider.pk).exists()
        assert (storage / done.artifact.name).exists()

    def test_a_provider_already_gone_is_no_error(self, provider):
        Provider.objects.filter(pk=provider.pk).delete()
        assert provider_delete(provider=provider) == []

    def test_builds_delete_for_provider_names_only_stored_artifacts(
        self, provider, storage, django_capture_on_commit_callbacks
    ):
        with_file = add_build(provider)
        add_build(provider, status="failed", artifact=False)
        with django_capture_on_commit_callbacks(execute=True):
            names = builds_delete_for_provider(provider)
        assert names == [with_file.artifact.name]
        assert not (storage / with_file.artifact.name).exists()


class TestProviderDeleteView:
    def test_the_confirm_page_says_what_goes(self, client, personas, provider):
        client.force_login(personas.bob)
        response = client.get(url(provider))
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" in html
        assert f"Delete {provider.plugin_id}" in html
        assert "2 models" in html
        assert 'name="confirm"' in html
        assert Provider.objects.filter(pk=provider.pk).exists()

    def test_an_htmx_request_gets_the_section(self, client, personas, provider):
        client.force_login(personas.alice)
        html = client.get(url(provider), **HX).content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith('<section id="section"')

    def test_a_wrong_confirmation_deletes_nothing(self, client, personas, provider):
        client.force_login(personas.alice)
        response = client.post(url(provider), {"confirm": "acme/other"})
        html = response.content.decode()
        assert response.status_code == 200
        assert 'id="confirm-errors"' in html
        assert f"Type {provider.plugin_id} exactly" in html
        assert Provider.objects.filter(pk=provider.pk).exists()

    def test_the_typed_plugin_id_deletes_it_and_its_artifacts(
        self, client, personas, provider, storage, django_capture_on_commit_callbacks
    ):
        build = add_build(provider)
        client.force_login(personas.alice)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url(provider), {"confirm": provider.plugin_id})
        assert response.status_code == 302
        assert response["Location"] == reverse("catalog:provider-list")
        assert not Provider.objects.filter(pk=provider.pk).exists()
        assert not (storage / build.artifact.name).exists()
        listing = client.get(response["Location"]).content.decode()
        assert f"Deleted {provider.plugin_id} and 1 build artifact." in listing

    def test_an_htmx_delete_redirects_the_client(self, client, personas, provider):
        client.force_login(personas.bob)
        response = client.post(url(provider), {"confirm": provider.plugin_id}, **HX)
        assert response.status_code == 200
        assert response["HX-Redirect"] == reverse("catalog:provider-list")
        assert not Provider.objects.filter(pk=provider.pk).exists()

    def test_an_active_build_is_a_409_and_deletes_nothing(
        self, client, personas, provider, storage
    ):
        add_build(provider, status="running", artifact=False)
        client.force_login(personas.alice)
        response = client.post(url(provider), {"confirm": provider.plugin_id})
        html = response.content.decode()
        assert response.status_code == 409
        assert 'id="delete-errors"' in html
        assert "already in progress" in html
        assert Provider.objects.filter(pk=provider.pk).exists()

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_a_reviewer_or_viewer_gets_403(self, client, personas, provider, who):
        client.force_login(getattr(personas, who))
        assert client.get(url(provider)).status_code == 403
        response = client.post(url(provider), {"confirm": provider.plugin_id})
        assert response.status_code == 403
        assert Provider.objects.filter(pk=provider.pk).exists()

    def test_another_teams_user_gets_404(self, client, personas, provider):
        client.force_login(personas.mallory)
        assert client.get(url(provider)).status_code == 404
        response = client.post(url(provider), {"confirm": provider.plugin_id})
        assert response.status_code == 404
        assert Provider.objects.filter(pk=provider.pk).exists()

    def test_a_put_gets_405(self, client, personas, provider):
        client.force_login(personas.alice)
        assert client.put(url(provider)).status_code == 405

    def test_the_general_section_links_to_it_for_editors_only(
        self, client, personas, provider
    ):
        detail = reverse("catalog:provider-detail", args=[provider.pk])
        client.force_login(personas.bob)
        assert f'href="{url(provider)}"' in client.get(detail).content.decode()
        client.force_login(personas.carol)
        assert f'href="{url(provider)}"' not in client.get(detail).content.decode()
