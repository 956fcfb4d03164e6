"""A real worker, a real Redis, the real smoke test: press Build, then download."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from studio.builds import services
from studio.builds.models import Build
from studio.pluginfmt import signing
from studio.pluginfmt.readers import read_package
from studio.pluginfmt.verify import verify
from tests.builds.conftest import Personas, Workers, login
from tests.factories import make_provider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def wait_for_end(build_id: int, timeout: float) -> Build:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        build = Build.objects.get(pk=build_id)
        if build.is_finished:
            return build
        time.sleep(0.2)
    raise AssertionError(f"build {build_id} still {build.status} after {timeout} s")


class TestBuildEndToEnd:
    def test_a_build_pressed_in_the_browser_downloads_signed_and_smoke_tested(
        self,
        personas: Personas,
        workers: Workers,
        keypair: tuple[bytes, bytes],
        client: Client,
    ) -> None:
        worker = workers.start("e2e")
        key = services.signing_key_upload(
            team=personas.team, user=personas.alice, private_pem=keypair[0]
        )
        provider = make_provider(personas.team, models=2)
        login(client, personas.bob)

        response = client.post(
            reverse("builds:build-create", args=[provider.pk]), {"smoke": "on"}
        )
        build = Build.objects.get(provider=provider)
        assert response.status_code == 302
        assert response["Location"] == reverse("builds:build-detail", args=[build.pk])

        build = wait_for_end(build.pk, timeout=300)
        assert build.status == Build.Status.SUCCEEDED, (
            build.error,
            build.log_tail(),
            worker.log.read_text()[-3000:],
        )
        assert build.worker_hostname == worker.nodename

        download = client.get(reverse("builds:build-download", args=[build.pk]))
        assert download.status_code == 200
        assert download["Content-Disposition"] == (
            f'attachment; filename="gateway-0.0.1-b{build.pk}-signed.difypkg"'
        )
        data = b"".join(download.streaming_content)
        files = read_package(data)
        assert [f for f in verify(files) if f.severity == "error"] == []
        result = signing.verify_signature(data, [key.public_pem.encode()])
        assert result.valid and result.category == "community"

        checks = {c["name"]: c for c in build.smoke["checks"]}
        assert build.smoke["ok"] is True
        assert checks["invoke_llm"]["status"] == "passed"
        assert "streamed" in checks["invoke_llm"]["detail"]
        assert checks["starts"]["status"] == "passed"

    def test_the_build_page_stops_polling_when_the_worker_is_done(
        self, personas: Personas, workers: Workers, client: Client, settings: Any
    ) -> None:
        workers.start("poll")
        provider = make_provider(personas.team)
        login(client, personas.bob)
        client.post(reverse("builds:build-create", args=[provider.pk]), {})
        build = Build.objects.get(provider=provider)
        url = reverse("builds:build-detail", args=[build.pk])
        codes = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            response = client.get(url, headers={"HX-Request": "true"})
            codes.append(response.status_code)
            if response.status_code == 286:
                break
            time.sleep(0.3)
        assert codes[-1] == 286, codes
        assert set(codes[:-1]) <= {200}
        assert b"succeeded" in response.content


class TestPrewarmEndToEnd:
    def test_a_starting_worker_serves_and_prewarms_the_sdk_venv(
        self, workers: Workers, sdk_python: Path
    ) -> None:
        # Started means it answered a ping; the venv is looked up behind that.
        worker = workers.start("prewarm", SDK_VENV_PREWARM="1")

        deadline = time.monotonic() + 60
        while "SDK virtualenv" not in worker.log.read_text():
            assert time.monotonic() < deadline, worker.log.read_text()[-3000:]
            time.sleep(0.2)
        assert f"SDK virtualenv {sdk_python.parents[1].name} was ready in" in (
            worker.log.read_text()
        )
