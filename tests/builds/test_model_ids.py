"""A gateway model id end to end: added and duplicated through the models
section, built by the pipeline, and served by the plugin under the real SDK."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from studio.builds.models import Build
from studio.pluginfmt.readers import read_package
from studio.pluginfmt.verify import verify
from tests.builds.conftest import SDK_CACHE, Personas
from tests.builds.test_services import built, steps_of
from tests.catalog.test_model_ids import actions_url
from tests.catalog.test_models_views import (
    form_data,
    model,
    model_url,
    new_url,
)
from tests.factories import make_provider

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sdk(sdk_python: Path) -> None:
    """The build's smoke test reuses the session's cached SDK virtualenv."""


def test_a_qwen_model_is_added_duplicated_built_and_served_by_the_sdk(
    client: Any,
    personas: Personas,
    run_published: Any,
    storage: Path,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.BUILD_SMOKE_RUNNER = "studio.builds.services.pipeline.smoke_artifact"
    settings.SMOKE_VENV_DIR = SDK_CACHE
    provider = make_provider(personas.team)
    client.force_login(personas.bob)

    response = client.post(
        new_url(provider),
        form_data(provider, "Qwen/Qwen3-8B", pricing_input="0.5", pricing_output="2"),
    )
    assert response.status_code == 302
    qwen = model(provider, "Qwen/Qwen3-8B")
    # The row's Actions menu (loaded when it opens) pre-fills the copy's id.
    html = client.get(actions_url(provider, qwen), HTTP_HX_REQUEST="true").content
    assert 'value="Qwen/Qwen3-8B-copy"' in html.decode()
    response = client.post(
        model_url(provider, qwen, "duplicate"),
        {"model_lock": qwen.lock_version, "new_id": "Qwen/Qwen3-8B-copy"},
    )
    assert response.status_code == 302
    provider.refresh_from_db()

    build = built(provider, django_capture_on_commit_callbacks, run_published)

    assert build.status == Build.Status.SUCCEEDED, (build.error, build.smoke)
    assert steps_of(build)["smoke"] == "passed"
    files = read_package((storage / build.artifact.name).read_bytes())
    assert b"model: Qwen/Qwen3-8B\n" in files["models/llm/qwen-qwen3-8b.yaml"]
    assert b"model: Qwen/Qwen3-8B-copy\n" in files["models/llm/qwen-qwen3-8b-copy.yaml"]
    assert [f.as_dict() for f in verify(files) if f.severity == "error"] == []
    checks = {c["name"]: c for c in build.smoke["checks"]}
    assert checks["starts"]["status"] == "passed"
    # Both predefined schemas (and the customizable one) served as declared.
    assert checks["schemas"]["status"] == "passed", checks["schemas"]["detail"]
    assert checks["schemas"]["detail"].startswith("3 model schema(s) match")
    assert checks["invoke_llm"]["status"] == "passed", checks["invoke_llm"]["detail"]
    # The smoke test invokes the first model file (the copy sorts first).
    assert checks["invoke_llm"]["detail"].startswith(
        'Qwen/Qwen3-8B-copy streamed "echo: '
    )
