"""The build page links a smoke failure's traceback back to the code: each
frame in the plugin's own files opens the editor at its line (builds of the
working draft), SDK and standard-library frames stay text."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.builds import services
from studio.builds.models import Build
from studio.catalog.models import Provider
from tests.builds.conftest import Personas, Published, login
from tests.builds.traceback_inputs import INVOKE_PLUGIN_DIR
from tests.factories import make_provider

pytestmark = pytest.mark.django_db

LLM = "models/llm/llm.py"


@pytest.fixture
def raised(
    personas: Personas,
    broker: Published,
    run_published: Any,
    settings: Any,
    django_capture_on_commit_callbacks,
) -> Build:
    """A finished dev build of a custom-runtime provider whose smoke test
    failed with the recorded `_invoke` traceback."""
    provider = make_provider(personas.team, runtime="custom")
    settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.raising"
    with django_capture_on_commit_callbacks(execute=True):
        build = services.build_start(provider=provider, user=None)
    with django_capture_on_commit_callbacks(execute=True):
        run_published()
    build.refresh_from_db()
    assert build.status == Build.Status.FAILED, build.error
    return build


def page(client: Client, build: Build) -> str:
    response = client.get(reverse("builds:build-detail", args=[build.pk]))
    assert response.status_code == 200
    return response.content.decode()


def editor_link(build: Build, path: str, line: int) -> str:
    view = reverse("catalog:provider-file", kwargs={"provider_id": build.provider_id})
    return html.escape(f"{view}?path={path}&line={line}")


def traceback_block(body: str) -> str:
    start = body.index('<details class="traceback">')
    return body[start : body.index("</details>", start)]


class TestDraftBuilds:
    @pytest.mark.parametrize("who", ["bob", "victor"])
    def test_each_plugin_frame_links_to_the_editor_at_its_line(
        self, client, personas, raised, who
    ):
        body = page(login(client, getattr(personas, who)), raised)
        for line in (27, 30):
            link = editor_link(raised, LLM, line)
            assert f'<a href="{link}">{LLM} line {line}</a>' in body
            assert f'File &quot;<a href="{link}">{LLM}</a>&quot;, line {line}' in body

    def test_sdk_frames_stay_text_and_the_temporary_folder_is_not_shown(
        self, client, personas, raised
    ):
        block = traceback_block(page(login(client, personas.bob), raised))
        anchors = re.findall(r'<a href="[^"]*">([^<]*)</a>', block)
        assert anchors == [LLM, LLM]
        assert "site-packages/dify_plugin/plugin.py&quot;, line 574" in block
        assert INVOKE_PLUGIN_DIR not in block
        assert "RuntimeError: boom in smoke-llm" in block

    def test_the_link_opens_the_editor_on_that_line(self, client, personas, raised):
        client = login(client, personas.bob)
        link = html.unescape(editor_link(raised, LLM, 30))
        body = client.get(link).content.decode()
        assert 'data-language="python"' in body and 'data-line="30"' in body

    def test_a_file_gone_from_the_draft_is_not_linked(self, client, personas, raised):
        smoke = dict(raised.smoke)
        smoke["checks"] = [
            {**c, "traceback": c.get("traceback", "").replace(LLM, "models/llm/old.py")}
            for c in smoke["checks"]
        ]
        Build.objects.filter(pk=raised.pk).update(smoke=smoke)
        body = page(login(client, personas.bob), raised)
        assert "<code>models/llm/old.py</code> line 30" in body
        assert 'href="' + editor_link(raised, "models/llm/old.py", 30) not in body

    def test_an_edit_after_the_build_warns_that_lines_may_have_moved(
        self, client, personas, raised
    ):
        client = login(client, personas.bob)
        assert "the lines may have moved" not in page(client, raised)
        Provider.objects.filter(pk=raised.provider_id).update(
            updated_at=raised.created_at + timedelta(minutes=1)
        )
        assert "the lines may have moved" in page(client, raised)

    def test_the_query_count_does_not_grow_with_the_frames(
        self, client, personas, raised
    ):
        client = login(client, personas.bob)
        page(client, raised)
        counts = []
        for frames in (1, 40):
            lines = "".join(
                f'  File "{INVOKE_PLUGIN_DIR}/models/m{n}.py", line {n}, in f\n'
                for n in range(frames)
            )
            smoke = dict(raised.smoke)
            smoke["checks"] = [
                {**c, "traceback": f"Traceback (most recent call last):\n{lines}E: x"}
                if c.get("traceback")
                else c
                for c in smoke["checks"]
            ]
            Build.objects.filter(pk=raised.pk).update(smoke=smoke)
            with CaptureQueriesContext(connection) as queries:
                page(client, raised)
            counts.append(len(queries))
        assert counts[0] == counts[1]


class TestReleaseBuilds:
    def test_a_release_builds_frames_are_text_naming_the_revision(
        self, client, personas, raised
    ):
        Build.objects.filter(pk=raised.pk).update(
            kind=Build.Kind.RELEASE, revision_label="revision 3"
        )
        body = page(login(client, personas.bob), raised)
        assert "In the plugin's code (as in revision 3):" in body
        assert f"<code>{LLM}</code> line 27" in body
        assert editor_link(raised, LLM, 27) not in body
        assert f'File "{LLM}", line 30, in _helper' in html.unescape(
            traceback_block(body)
        )


class TestOtherReports:
    def test_a_report_without_tracebacks_shows_its_checks_as_before(
        self, client, personas, raised
    ):
        Build.objects.filter(pk=raised.pk).update(
            smoke={"ok": False, "checks": [{"name": "invoke_llm", "status": "failed"}]}
        )
        body = page(login(client, personas.bob), raised)
        assert '<li class="check-failed">failed invoke_llm' in body
        assert "Python traceback" not in body

    def test_a_report_of_another_shape_does_not_break_the_page(
        self, client, personas, raised
    ):
        Build.objects.filter(pk=raised.pk).update(smoke={"ok": False})
        assert "Smoke test</h3>" not in page(login(client, personas.bob), raised)
