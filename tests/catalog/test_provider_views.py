from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from studio.catalog import services
from studio.catalog.access import SESSION_TEAM
from studio.catalog.forms.providers import MAX_ICON_BYTES
from studio.catalog.models import Membership, Provider, Role, Team
from tests.factories import make_provider, make_user
from tests.svg_inputs import BENIGN_SVGS, HOSTILE_SVGS, HostileSvg

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8">'
    b'<rect width="8" height="8"/></svg>'
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)


def new_provider_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "gateway",
        "author": "acme",
        "label_en_US": "Gateway",
        "description_en_US": "The gateway models",
        "model_types": ["llm"],
        "configurate_methods": ["predefined-model"],
        "runtime": "openai-compatible",
    }
    data.update(overrides)
    return data


def detail_url(provider: Provider) -> str:
    return reverse("catalog:provider-detail", kwargs={"provider_id": provider.pk})


class TestProviderList:
    def test_it_lists_the_teams_providers_with_their_model_counts(
        self, client: Client, personas
    ) -> None:
        alpha = make_provider(personas.team, "alpha", models=3)
        beta = make_provider(personas.team, "beta")
        client.force_login(personas.alice)
        response = client.get(reverse("catalog:provider-list"))
        assert response.status_code == 200
        body = response.content.decode()
        assert "<html" in body
        assert f'<a href="{detail_url(alpha)}">acme/alpha</a>' in body
        assert f'<a href="{detail_url(beta)}">acme/beta</a>' in body
        assert "<td>3</td>" in body and "<td>0</td>" in body
        assert body.index("acme/alpha") < body.index("acme/beta")

    def test_another_teams_providers_are_never_listed(
        self, client: Client, personas
    ) -> None:
        make_provider(personas.team, "alpha")
        theirs = make_provider(personas.other_team, "secret", author="umbrella")
        client.force_login(personas.alice)
        for query in ("", "?q=secret", "?q=umbrella", "?type=llm"):
            body = client.get(reverse("catalog:provider-list") + query).content
            assert b"umbrella/secret" not in body
            assert detail_url(theirs).encode() not in body

    def test_it_searches_name_label_and_author(self, client: Client, personas) -> None:
        make_provider(personas.team, "alpha")
        make_provider(personas.team, "beta", author="bravo")
        client.force_login(personas.alice)
        by_name = client.get(reverse("catalog:provider-list") + "?q=alp").content
        assert b"acme/alpha" in by_name and b"bravo/beta" not in by_name
        by_label = client.get(reverse("catalog:provider-list") + "?q=Beta").content
        assert b"bravo/beta" in by_label and b"acme/alpha" not in by_label
        by_author = client.get(reverse("catalog:provider-list") + "?q=brav").content
        assert b"bravo/beta" in by_author and b"acme/alpha" not in by_author
        none = client.get(reverse("catalog:provider-list") + "?q=zzz").content
        assert b"No provider matches." in none

    def test_it_filters_by_model_type(self, client: Client, personas) -> None:
        make_provider(personas.team, "chat", model_types=["llm"])
        make_provider(personas.team, "embed", model_types=["text-embedding"])
        client.force_login(personas.alice)
        body = client.get(
            reverse("catalog:provider-list") + "?type=text-embedding"
        ).content
        assert b"acme/embed" in body and b"acme/chat" not in body

    def test_it_filters_by_configuration_method(self, client: Client, personas) -> None:
        make_provider(personas.team, "fixed", methods=["predefined-model"])
        make_provider(personas.team, "free", methods=["customizable-model"])
        client.force_login(personas.alice)
        body = client.get(
            reverse("catalog:provider-list") + "?method=customizable-model"
        ).content
        assert b"acme/free" in body and b"acme/fixed" not in body

    def test_an_unknown_filter_value_is_ignored(self, client: Client, personas) -> None:
        make_provider(personas.team, "alpha")
        client.force_login(personas.alice)
        body = client.get(reverse("catalog:provider-list") + "?type=%3Cb%3E").content
        assert b"acme/alpha" in body
        assert b"<b>" not in body

    def test_a_hostile_search_is_escaped(self, client: Client, personas) -> None:
        client.force_login(personas.alice)
        body = client.get(
            reverse("catalog:provider-list"), {"q": '"><script>alert(1)</script>'}
        ).content
        assert b"<script>alert(1)" not in body
        assert b"&lt;script&gt;" in body

    def test_an_htmx_request_gets_only_the_results(
        self, client: Client, personas
    ) -> None:
        make_provider(personas.team, "alpha")
        client.force_login(personas.alice)
        response = client.get(reverse("catalog:provider-list") + "?q=alp", headers=HX)
        assert response.status_code == 200
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="results">')
        assert "acme/alpha" in body
        assert "<html" not in body and 'name="q"' not in body

    def test_a_viewer_sees_the_list_without_the_new_button(
        self, client: Client, personas
    ) -> None:
        make_provider(personas.team, "alpha")
        client.force_login(personas.victor)
        body = client.get(reverse("catalog:provider-list")).content
        assert b"acme/alpha" in body
        assert reverse("catalog:provider-new").encode() not in body

    def test_a_user_in_no_team_is_told_to_ask_for_an_invitation_or_create_one(
        self, client: Client, db
    ) -> None:
        client.force_login(make_user("nobody"))
        response = client.get(reverse("catalog:provider-list"))
        body = response.content.decode()
        assert response.status_code == 200
        assert "You are not in a team yet" in body
        assert "Ask an owner of a team to invite you." in body
        assert f'href="{reverse("catalog:team-new")}"' in body

    def test_an_anonymous_visitor_is_sent_to_log_in(self, client: Client, db) -> None:
        response = client.get(reverse("catalog:provider-list"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_refuses_a_post(self, client: Client, personas) -> None:
        client.force_login(personas.alice)
        assert client.post(reverse("catalog:provider-list")).status_code == 405


class TestNewProvider:
    def test_it_shows_the_form(self, client: Client, personas) -> None:
        client.force_login(personas.bob)
        response = client.get(reverse("catalog:provider-new"))
        assert response.status_code == 200
        body = response.content.decode()
        for field in ("name", "author", "label_en_US", "icon", "model_types"):
            assert f'name="{field}"' in body
        assert 'enctype="multipart/form-data"' in body

    def test_a_post_creates_the_provider_and_goes_to_it(
        self, client: Client, personas
    ) -> None:
        client.force_login(personas.bob)
        response = client.post(reverse("catalog:provider-new"), new_provider_data())
        provider = Provider.objects.get(team=personas.team, name="gateway")
        assert response.status_code == 302
        assert response["Location"] == detail_url(provider)
        assert provider.author == "acme"
        assert provider.created_by == personas.bob
        assert provider.label == "Gateway"
        assert provider.model_types == ["llm"]
        paths = set(services.provider_files(provider))
        assert {"manifest.yaml", "provider/gateway.yaml", "_assets/icon.svg"} <= paths
        page = client.get(response["Location"]).content.decode()
        assert "acme/gateway created." in page

    def test_live_validation_returns_the_form_with_errors_and_creates_nothing(
        self, client: Client, personas
    ) -> None:
        client.force_login(personas.bob)
        response = client.post(
            reverse("catalog:provider-new"),
            new_provider_data(name="Bad Name", _validate="1"),
            headers=HX,
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert body.lstrip().startswith('<form id="provider-new"')
        assert 'id="name-errors"' in body
        assert "<html" not in body
        assert not Provider.objects.exists()

    def test_live_validation_of_a_valid_form_creates_nothing(
        self, client: Client, personas
    ) -> None:
        client.force_login(personas.bob)
        response = client.post(
            reverse("catalog:provider-new"), new_provider_data(_validate="1")
        )
        assert response.status_code == 200
        assert b"errorlist" not in response.content
        assert not Provider.objects.exists()

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("name", "Gateway"),
            ("name", "a" * 200),
            ("name", "gate way"),
            ("name", "<script>"),
            ("author", "ACME"),
            ("author", "123e4567-e89b-12d3-a456-426614174000"),
            ("author", "a" * 200),
        ],
    )
    def test_an_invalid_name_or_author_is_a_field_error(
        self, client: Client, personas, field: str, value: str
    ) -> None:
        client.force_login(personas.bob)
        response = client.post(
            reverse("catalog:provider-new"), new_provider_data(**{field: value})
        )
        assert response.status_code == 200
        assert f'id="{field}-errors"'.encode() in response.content
        assert b"<script>" not in response.content.split(b"<body")[1]
        assert not Provider.objects.exists()

    def test_a_uuid_author_is_refused_with_the_daemons_reason(
        self, client: Client, personas
    ) -> None:
        client.force_login(personas.bob)
        response = client.post(
            reverse("catalog:provider-new"),
            new_provider_data(author="123e4567-e89b-12d3-a456-426614174000"),
        )
        assert b"The daemon refuses a UUID as author." in response.content

    def test_a_missing_english_label_is_a_field_error(
        self, client: Client, personas
    ) -> None:
        client.force_login(personas.bob)
        response = client.post(
            reverse("catalog:provider-new"), new_provider_data(label_en_US="")
        )
        assert response.status_code == 200
        assert b"errorlist" in response.content
        assert not Provider.objects.exists()

    def test_a_script_in_the_label_is_kept_as_text_and_escaped(
        self, client: Client, personas
    ) -> None:
        client.force_login(personas.bob)
        label = "<script>alert(1)</script>"
        response = client.post(
            reverse("catalog:provider-new"), new_provider_data(label_en_US=label)
        )
        provider = Provider.objects.get()
        assert provider.label == label
        page = client.get(response["Location"]).content.decode()
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    def test_a_duplicate_plugin_is_a_name_error(self, client: Client, personas) -> None:
        make_provider(personas.team, "gateway")
        client.force_login(personas.bob)
        response = client.post(reverse("catalog:provider-new"), new_provider_data())
        assert response.status_code == 200
        assert b"acme/gateway already exists" in response.content
        assert Provider.objects.count() == 1

    @pytest.mark.parametrize(
        ("upload", "expected_path"),
        [
            (("logo.svg", SVG, "image/svg+xml"), "_assets/icon.svg"),
            (("logo.png", PNG, "image/png"), "_assets/icon.png"),
        ],
    )
    def test_an_svg_or_png_icon_is_stored_byte_for_byte(
        self,
        client: Client,
        personas,
        upload: tuple[str, bytes, str],
        expected_path: str,
    ) -> None:
        client.force_login(personas.bob)
        response = client.post(
            reverse("catalog:provider-new"),
            new_provider_data(icon=SimpleUploadedFile(*upload)),
        )
        assert response.status_code == 302
        files = services.provider_files(Provider.objects.get())
        assert files[expected_path] == upload[1]
        assert Provider.objects.get().manifest["icon"] == expected_path.split("/")[1]

    def test_a_dark_icon_is_stored_next_to_the_icon(
        self, client: Client, personas
    ) -> None:
        client.force_login(personas.bob)
        client.post(
            reverse("catalog:provider-new"),
            new_provider_data(icon_dark=SimpleUploadedFile("d.png", PNG)),
        )
        provider = Provider.objects.get()
        assert services.provider_files(provider)["_assets/icon-dark.png"] == PNG
        assert provider.manifest["icon_dark"] == "icon-dark.png"

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (
                b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                b"icon.svg: &lt;script&gt; is not allowed in an icon (line 1)",
            ),
            (
                b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
                b"onload=... is an event handler",
            ),
            (
                b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "y">]><svg></svg>',
                b"may not declare a DTD or entities",
            ),
            (b"<svg><rect></svg>", b"not well-formed XML"),
            (b"GIF89a not an svg or png", b"Upload an SVG or PNG image."),
            (b"<html><body>hi</body></html>", b"Upload an SVG or PNG image."),
            (PNG + bytes(MAX_ICON_BYTES), b"at most 512 KiB is allowed"),
        ],
    )
    def test_a_bad_icon_is_refused_and_nothing_is_created(
        self, client: Client, personas, content: bytes, message: bytes
    ) -> None:
        client.force_login(personas.bob)
        response = client.post(
            reverse("catalog:provider-new"),
            new_provider_data(icon=SimpleUploadedFile("icon.svg", content)),
        )
        assert response.status_code == 200
        assert message in response.content
        assert not Provider.objects.exists()

    @pytest.mark.parametrize("case", HOSTILE_SVGS, ids=lambda c: c.id)
    def test_a_hostile_svg_icon_is_refused_and_nothing_is_created(
        self, client: Client, personas, case: HostileSvg
    ) -> None:
        client.force_login(personas.bob)
        for field in ("icon", "icon_dark"):
            response = client.post(
                reverse("catalog:provider-new"),
                new_provider_data(
                    **{field: SimpleUploadedFile("logo.svg", case.content)}
                ),
            )
            assert response.status_code == 200
            errors = response.context["form"].errors[field]
            assert errors[0].startswith("logo.svg: ")
            assert case.expect in errors[0]
        assert not Provider.objects.exists()

    @pytest.mark.parametrize("name", sorted(BENIGN_SVGS))
    def test_an_svg_icon_real_editors_export_is_stored_byte_for_byte(
        self, client: Client, personas, name: str
    ) -> None:
        client.force_login(personas.bob)
        response = client.post(
            reverse("catalog:provider-new"),
            new_provider_data(icon=SimpleUploadedFile("logo.svg", BENIGN_SVGS[name])),
        )
        assert response.status_code == 302
        files = services.provider_files(Provider.objects.get())
        assert files["_assets/icon.svg"] == BENIGN_SVGS[name]

    @pytest.mark.parametrize("persona", ["carol", "victor"])
    def test_a_reviewer_or_viewer_cannot_create_one(
        self, client: Client, personas, persona: str
    ) -> None:
        client.force_login(getattr(personas, persona))
        assert client.get(reverse("catalog:provider-new")).status_code == 403
        response = client.post(reverse("catalog:provider-new"), new_provider_data())
        assert response.status_code == 403
        assert not Provider.objects.exists()

    def test_it_creates_the_provider_in_the_users_current_team(
        self, client: Client, personas
    ) -> None:
        Membership.objects.create(
            team=personas.other_team, user=personas.bob, role=Role.AUTHOR
        )
        client.force_login(personas.bob)
        client.post(reverse("catalog:team-switch"), {"team": personas.other_team.pk})
        client.post(reverse("catalog:provider-new"), new_provider_data())
        assert Provider.objects.get().team == personas.other_team

    def test_an_anonymous_visitor_is_sent_to_log_in(self, client: Client, db) -> None:
        response = client.post(reverse("catalog:provider-new"), new_provider_data())
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert not Provider.objects.exists()

    @pytest.mark.parametrize("method", ["put", "delete", "patch"])
    def test_it_refuses_other_methods(
        self, client: Client, personas, method: str
    ) -> None:
        client.force_login(personas.bob)
        response = getattr(client, method)(reverse("catalog:provider-new"))
        assert response.status_code == 405


class TestProviderDetail:
    def test_it_shows_the_general_section(self, client: Client, personas) -> None:
        provider = make_provider(personas.team, models=2)
        client.force_login(personas.alice)
        response = client.get(detail_url(provider))
        assert response.status_code == 200
        body = response.content.decode()
        assert "<html" in body
        assert 'aria-current="page">General</a>' in body
        assert "<dt>Plugin id</dt><dd>acme/gateway</dd>" in body
        assert "llm: 2" in body

    def test_its_tabs_link_to_the_built_sections(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        body = client.get(detail_url(provider)).content.decode()
        files = reverse("catalog:provider-files", kwargs={"provider_id": provider.pk})
        findings = reverse(
            "catalog:provider-findings", kwargs={"provider_id": provider.pk}
        )
        assert f'<a href="{files}">Files</a>' in body
        assert f'<a href="{findings}">Findings</a>' in body

    def test_an_htmx_request_gets_only_the_section(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        response = client.get(detail_url(provider), headers=HX)
        assert response.status_code == 200
        body = response.content.decode()
        assert body.lstrip().startswith('<section id="section"')
        assert "<html" not in body and 'class="tabs"' not in body

    @pytest.mark.parametrize("persona", ["bob", "carol", "victor"])
    def test_every_team_member_can_read_it(
        self, client: Client, personas, persona: str
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(getattr(personas, persona))
        assert client.get(detail_url(provider)).status_code == 200

    def test_a_reader_sees_it_is_read_only(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.carol)
        assert b"read only (reviewer)" in client.get(detail_url(provider)).content

    def test_another_teams_user_gets_404(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.mallory)
        assert client.get(detail_url(provider)).status_code == 404

    def test_a_missing_provider_is_404(self, client: Client, personas) -> None:
        client.force_login(personas.alice)
        response = client.get(
            reverse("catalog:provider-detail", kwargs={"provider_id": 999_999})
        )
        assert response.status_code == 404

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        response = client.get(detail_url(provider))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_refuses_a_post(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        assert client.post(detail_url(provider)).status_code == 405


class TestTeamNew:
    def test_it_shows_the_form(self, client: Client, db) -> None:
        client.force_login(make_user("nobody"))
        response = client.get(reverse("catalog:team-new"))
        assert response.status_code == 200
        assert b'name="name"' in response.content

    def test_a_post_creates_the_team_with_the_user_as_owner_and_switches_to_it(
        self, client: Client, personas
    ) -> None:
        client.force_login(personas.bob)
        response = client.post(reverse("catalog:team-new"), {"name": "Initech"})
        team = Team.objects.get(name="Initech")
        assert response.status_code == 302
        assert response["Location"] == reverse("catalog:provider-list")
        assert Membership.objects.get(team=team, user=personas.bob).role == Role.OWNER
        assert client.session[SESSION_TEAM] == team.pk
        body = client.get(reverse("catalog:provider-list")).content
        assert b"Providers of Initech" in body

    def test_an_empty_or_too_long_name_is_a_field_error(
        self, client: Client, personas
    ) -> None:
        client.force_login(personas.bob)
        for name in ("", "x" * 101):
            response = client.post(reverse("catalog:team-new"), {"name": name})
            assert response.status_code == 200
            assert b"errorlist" in response.content
        assert Team.objects.count() == 2

    def test_a_hostile_name_is_escaped(self, client: Client, personas) -> None:
        client.force_login(personas.bob)
        client.post(reverse("catalog:team-new"), {"name": "<script>x</script>"})
        body = client.get(reverse("catalog:provider-list")).content
        assert b"<script>x" not in body
        assert b"&lt;script&gt;x&lt;/script&gt;" in body

    def test_an_anonymous_visitor_is_sent_to_log_in(self, client: Client, db) -> None:
        response = client.post(reverse("catalog:team-new"), {"name": "Initech"})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert not Team.objects.exists()

    def test_it_refuses_a_put(self, client: Client, personas) -> None:
        client.force_login(personas.bob)
        assert client.put(reverse("catalog:team-new")).status_code == 405


class TestTeamSwitch:
    def test_switching_to_a_team_of_yours_lists_its_providers(
        self, client: Client, personas
    ) -> None:
        make_provider(personas.other_team, "secret", author="umbrella")
        Membership.objects.create(
            team=personas.other_team, user=personas.bob, role=Role.VIEWER
        )
        client.force_login(personas.bob)
        response = client.post(
            reverse("catalog:team-switch"), {"team": personas.other_team.pk}
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("catalog:provider-list")
        assert client.session[SESSION_TEAM] == personas.other_team.pk
        body = client.get(reverse("catalog:provider-list")).content
        assert b"umbrella/secret" in body

    def test_switching_to_a_team_you_are_not_in_is_404(
        self, client: Client, personas
    ) -> None:
        make_provider(personas.other_team, "secret", author="umbrella")
        client.force_login(personas.alice)
        response = client.post(
            reverse("catalog:team-switch"), {"team": personas.other_team.pk}
        )
        assert response.status_code == 404
        assert SESSION_TEAM not in client.session
        body = client.get(reverse("catalog:provider-list")).content
        assert b"umbrella/secret" not in body

    @pytest.mark.parametrize("team", ["", "abc", "999999", "1.5"])
    def test_a_team_that_is_no_team_id_is_404(
        self, client: Client, personas, team: str
    ) -> None:
        client.force_login(personas.alice)
        response = client.post(reverse("catalog:team-switch"), {"team": team})
        assert response.status_code == 404

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, personas
    ) -> None:
        response = client.post(
            reverse("catalog:team-switch"), {"team": personas.team.pk}
        )
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_refuses_a_get(self, client: Client, personas) -> None:
        client.force_login(personas.alice)
        assert client.get(reverse("catalog:team-switch")).status_code == 405
