"""The General tab lists the `AUTHOR:` markers a custom skeleton left in the
draft's Python files, each linking to its line in the editor, until they are
gone."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.catalog import services
from studio.catalog.models import Provider
from studio.catalog.services import files as file_services
from studio.catalog.services.files import sha256_of
from studio.pluginfmt.scaffold.todos import AUTHOR_MARKER
from tests.factories import add_llm_models, make_provider

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def detail(provider: Provider) -> str:
    return reverse("catalog:provider-detail", kwargs={"provider_id": provider.pk})


def todo_links(body: str) -> list[tuple[str, str]]:
    """(href, link text) of each to-do."""
    if 'id="todos"' not in body:
        return []
    start = body.index('id="todos"')
    block = body[start : body.index("</section>", start)]
    return [
        (html.unescape(href), text)
        for href, text in re.findall(r'<li><a href="([^"]*)">([^<]*)</a>', block)
    ]


def markers(provider: Provider) -> list[tuple[str, int]]:
    files = services.provider_files(provider)
    return [
        (path, n)
        for path in sorted(files)
        if path.endswith(".py")
        for n, line in enumerate(files[path].decode().splitlines(), start=1)
        if AUTHOR_MARKER in line
    ]


def without_markers(provider: Provider, path: str) -> None:
    """Rewrite `path` with its marker lines gone, through the files service."""
    content = services.provider_files(provider)[path]
    lines = content.decode().splitlines(keepends=True)
    kept = []
    for line in lines:
        if AUTHOR_MARKER not in line:
            kept.append(line)
        elif "raise NotImplementedError" in line:
            kept.append(line.replace("AUTHOR: implement _invoke", "written"))
        elif line.lstrip().startswith('"""'):
            kept.append(line.replace("AUTHOR: ", ""))
        # A marker comment (and its continuation) is dropped.
    text = "".join(kept).replace(
        "        # LLMResultChunk objects when stream is true.\n", ""
    )
    file_services.file_save(
        provider=provider,
        user=None,
        path=path,
        text=text,
        base_sha256=sha256_of(content),
    )


@pytest.fixture
def provider(personas) -> Provider:
    return make_provider(personas.team, runtime="custom")


class TestTodoList:
    @pytest.mark.parametrize("who", ["bob", "victor"])
    def test_a_custom_skeleton_lists_each_marker_with_its_file_and_line(
        self, client: Client, personas, provider, who
    ):
        client.force_login(getattr(personas, who))
        body = client.get(detail(provider)).content.decode()
        found = markers(provider)
        assert len(found) >= 5
        view = reverse("catalog:provider-file", kwargs={"provider_id": provider.pk})
        assert todo_links(body) == [
            (f"{view}?path={path}&line={line}", f"{path} line {line}")
            for path, line in found
        ]
        assert "implement _invoke" in body
        assert f'<span class="badge warning">{len(found)}</span>' in body

    def test_an_htmx_request_gets_the_list_in_the_section(
        self, client: Client, personas, provider
    ):
        client.force_login(personas.bob)
        body = client.get(detail(provider), **HX).content.decode()
        assert "<html" not in body
        assert todo_links(body)

    def test_the_openai_compatible_runtime_has_no_list(self, client, personas):
        plain = make_provider(personas.team, "plain")
        client.force_login(personas.bob)
        body = client.get(detail(plain)).content.decode()
        assert 'id="todos"' not in body
        assert "To do in the code" not in body

    def test_markers_leave_the_list_as_they_are_written_away(
        self, client: Client, personas, provider
    ):
        client.force_login(personas.bob)
        python = sorted({path for path, _ in markers(provider)})
        before = len(todo_links(client.get(detail(provider)).content.decode()))
        without_markers(provider, python[0])
        left = todo_links(client.get(detail(provider)).content.decode())
        assert 0 < len(left) < before
        assert not any(f"path={python[0]}&" in href for href, _ in left)
        for path in python[1:]:
            without_markers(provider, path)
        assert markers(provider) == []
        body = client.get(detail(provider)).content.decode()
        assert 'id="todos"' not in body

    def test_a_second_visit_reads_no_file_contents(
        self, client: Client, personas, provider
    ):
        client.force_login(personas.bob)
        client.get(detail(provider))
        with CaptureQueriesContext(connection) as queries:
            body = client.get(detail(provider)).content.decode()
        assert todo_links(body)
        # The to-do list's query of the Python files: paths and checksums only.
        reads = [q["sql"] for q in queries if "LIKE '%.py'" in q["sql"]]
        assert len(reads) == 1 and '"content"' not in reads[0], reads

    def test_the_page_keeps_its_query_count_as_models_grow(
        self, client: Client, personas
    ):
        few = make_provider(personas.team, "few", runtime="custom", models=2)
        many = make_provider(personas.team, "many", runtime="custom", models=2)
        add_llm_models(many, 30)
        client.force_login(personas.bob)
        # The first visits: the session's, and the to-do list's cache.
        client.get(detail(few))
        client.get(detail(many))
        counts = []
        for p in (few, many):
            with CaptureQueriesContext(connection) as queries:
                assert todo_links(client.get(detail(p)).content.decode())
            counts.append(len(queries))
        assert counts[0] == counts[1]
