"""`manage.py plugin recheck-icons`: stored SVGs against the icon checker."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from studio.catalog import services
from studio.catalog.models import Provider, ProviderFile
from tests.factories import make_provider, make_team, make_user
from tests.svg_inputs import BENIGN_SVGS, HOSTILE_SVGS

pytestmark = pytest.mark.django_db

IMAGE = (
    b'<svg xmlns="http://www.w3.org/2000/svg">\n'
    b'<image href="https://evil.example/x.png"/></svg>'
)


def plugin(*args: str) -> tuple[int, str, str]:
    """Run `manage.py plugin ARGS`: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("plugin", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def store(provider: Provider, path: str, content: bytes) -> None:
    """Write a file row as an older studio did, past today's checks."""
    ProviderFile.objects.update_or_create(
        provider=provider,
        path=path,
        defaults={"content": content, "size": len(content), "sha256": "-"},
    )


@pytest.fixture
def teams():
    acme = make_team("Acme", owner=make_user("alice"))
    other = make_team("Other", owner=make_user("mallory"))
    return acme, other


class TestRecheckIcons:
    def test_it_lists_the_providers_with_unsafe_svgs_and_changes_nothing(self, teams):
        acme, other = teams
        clean = make_provider(acme, "clean")
        store(clean, "_assets/extra.svg", BENIGN_SVGS["inkscape"])
        bad = make_provider(acme, "bad")
        store(bad, "_assets/icon.svg", IMAGE)
        store(bad, "_assets/icon-dark.png", HOSTILE_SVGS[0].content)
        elsewhere = make_provider(other, "elsewhere")
        store(elsewhere, "readme/logo.svg", HOSTILE_SVGS[1].content)
        before = {p.pk: services.provider_files(p) for p in Provider.objects.all()}

        status, out, _ = plugin("recheck-icons")

        assert status == 1
        assert out.splitlines() == [
            f"acme/bad (#{bad.pk}, team acme):",
            "  _assets/icon-dark.png:2: <script> is not allowed in an icon",
            "  _assets/icon.svg:2: <image> may only embed a PNG, JPEG, GIF or WebP "
            'image as a data: URL, not href="https://evil.example/x.png"',
            f"acme/elsewhere (#{elsewhere.pk}, team other):",
            "  readme/logo.svg:1: <svg> onload=... is an event handler; icons may "
            "not run code",
            "2 of 3 providers have SVG icons the icon checker refuses: replace the "
            "icon in the provider's General section (icons nothing refers to any "
            "more are dropped), or import a fixed version of the plugin with "
            "--mode new-version; nothing was changed.",
        ]
        after = {p.pk: services.provider_files(p) for p in Provider.objects.all()}
        assert after == before

    def test_json_output_names_provider_file_line_and_message(self, teams):
        acme, _ = teams
        bad = make_provider(acme, "bad")
        store(bad, "_assets/icon.svg", IMAGE)
        make_provider(teams[1], "elsewhere")

        status, out, _ = plugin("recheck-icons", "--team", "acme", "--json")

        data = json.loads(out)
        assert status == 1
        assert data["ok"] is False
        assert data["checked"] == 1
        assert data["providers"] == [
            {
                "provider": bad.pk,
                "plugin": "acme/bad",
                "team": "acme",
                "icons": [
                    {
                        "path": "_assets/icon.svg",
                        "line": 2,
                        "message": "<image> may only embed a PNG, JPEG, GIF or "
                        'WebP image as a data: URL, not href="https://evil.example'
                        '/x.png"',
                    }
                ],
            }
        ]
        assert "General section" in data["fix"]

    def test_clean_icons_exit_0(self, teams):
        make_provider(teams[0], "clean")
        status, out, _ = plugin("recheck-icons")
        assert status == 0
        assert out.strip() == (
            "1 provider checked: every SVG icon passes the icon checker."
        )

    def test_another_teams_icons_are_left_out(self, teams):
        store(make_provider(teams[1], "elsewhere"), "_assets/icon.svg", IMAGE)
        status, out, _ = plugin("recheck-icons", "--team", "acme", "--json")
        assert status == 0
        assert json.loads(out) == {
            "ok": True,
            "checked": 0,
            "providers": [],
            "fix": None,
        }

    def test_an_unknown_team_exits_1(self, teams):
        status, _, err = plugin("recheck-icons", "--team", "nope")
        assert status == 1
        assert "no team with the slug 'nope'" in err
