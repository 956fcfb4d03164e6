"""A team's own debugging hosts: an owner lists private Dify hosts its
sessions may reach; other teams' sessions still may not."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.audit.models import AuditEvent
from studio.builds.models import Build
from studio.debugging import services
from studio.debugging.models import DebugSession, TeamDebugHosts
from studio.pluginfmt.egress import EgressRefused
from tests.builds.conftest import login
from tests.factories import make_provider

HTMX = {"HX-Request": "true"}


def hosts_url(team) -> str:
    return reverse("debugging:team-hosts", args=[team.slug])


class TestParsing:
    def test_it_reads_names_addresses_networks_and_ports(self) -> None:
        text = "Dify.Corp.Internal:5003, 10.0.0.0/8\n192.168.1.5\n\n[fd00::5]:5003\n"
        assert services.parse_debug_hosts(text + "10.0.0.0/8") == [
            "dify.corp.internal:5003",
            "10.0.0.0/8",
            "192.168.1.5",
            "[fd00::5]:5003",
        ]

    @pytest.mark.parametrize(
        ("entry", "why"),
        [
            ("two words", "is not a host name, an IP address or a CIDR network"),
            ("10.0.0.0/33", "is not a CIDR network"),
            ("dify:99999", "not a TCP port"),
            ("1.2.3", "is not a host name"),
            ("[::1]x", "write [address]:port"),
        ],
    )
    def test_it_names_each_bad_entry(self, entry: str, why: str) -> None:
        with pytest.raises(ValueError, match=r"“.*”") as refused:
            services.parse_debug_hosts(f"ok.example\n{entry}")
        assert why in str(refused.value)
        assert entry in str(refused.value)

    def test_it_caps_the_list(self) -> None:
        with pytest.raises(ValueError, match="at most 50"):
            services.parse_debug_hosts("\n".join(f"10.0.0.{i}" for i in range(51)))


class TestPage:
    def test_an_owner_saves_the_hosts_and_the_change_is_audited(self, personas):
        client = login(Client(), personas.alice)
        response = client.post(
            hosts_url(personas.team), {"hosts": "10.9.0.0/16\ndify.lan:5003"}
        )
        assert response.status_code == 302
        assert services.team_debug_hosts(personas.team.pk) == [
            "10.9.0.0/16",
            "dify.lan:5003",
        ]
        event = AuditEvent.objects.get(action=AuditEvent.Action.DEBUG_HOSTS)
        assert event.actor == personas.alice
        assert "added 10.9.0.0/16, dify.lan:5003" in event.summary
        page = client.get(hosts_url(personas.team)).content.decode()
        assert "10.9.0.0/16\ndify.lan:5003</textarea>" in page
        members = client.get(reverse("catalog:team-members", args=[personas.team.slug]))
        assert hosts_url(personas.team) in members.content.decode()

    def test_htmx_gets_the_section_and_a_bad_entry_changes_nothing(self, personas):
        client = login(Client(), personas.alice)
        client.post(hosts_url(personas.team), {"hosts": "10.9.0.0/16"})
        response = client.post(
            hosts_url(personas.team), {"hosts": "10.1.0.0/16\nnot a host"}, headers=HTMX
        )
        html = response.content.decode()
        assert response.status_code == 400
        assert "<html" not in html and 'id="team-debug-hosts"' in html
        assert "“not a host” is not a host name" in html
        assert services.team_debug_hosts(personas.team.pk) == ["10.9.0.0/16"]
        assert AuditEvent.objects.filter(action="debug-hosts").count() == 1

    def test_members_read_only_owners_write_other_teams_see_nothing(self, personas):
        TeamDebugHosts.objects.create(team=personas.team, entries=["10.9.0.0/16"])
        bob = login(Client(), personas.bob)
        page = bob.get(hosts_url(personas.team))
        assert page.status_code == 200
        html = page.content.decode()
        assert "10.9.0.0/16" in html and "<textarea" not in html
        assert "Only an owner changes this" in html
        assert bob.post(hosts_url(personas.team), {"hosts": ""}).status_code == 403
        viewer = login(Client(), personas.victor)
        assert viewer.post(hosts_url(personas.team), {"hosts": ""}).status_code == 403
        other = login(Client(), personas.mallory)
        assert other.get(hosts_url(personas.team)).status_code == 404
        assert other.post(hosts_url(personas.team), {"hosts": ""}).status_code == 404
        assert services.team_debug_hosts(personas.team.pk) == ["10.9.0.0/16"]

    def test_a_post_without_the_csrf_token_is_refused(self, personas):
        client = login(Client(enforce_csrf_checks=True), personas.alice)
        response = client.post(hosts_url(personas.team), {"hosts": "10.0.0.0/8"})
        assert response.status_code == 403
        assert services.team_debug_hosts(personas.team.pk) == []

    def test_the_page_makes_a_constant_number_of_queries(self, personas):
        client = login(Client(), personas.alice)
        counts = []
        for count in (1, 40):
            client.post(
                hosts_url(personas.team),
                {"hosts": "\n".join(f"10.0.0.{i}" for i in range(count))},
            )
            with CaptureQueriesContext(connection) as queries:
                assert client.get(hosts_url(personas.team)).status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]


class TestSessions:
    def test_a_teams_host_is_allowed_for_it_and_refused_for_another(
        self, personas, build, sent, settings, django_capture_on_commit_callbacks
    ):
        settings.DEBUG_EGRESS_ALLOW = []
        other_provider = make_provider(personas.other_team, "other")
        other_build = Build.objects.create(
            provider=other_provider,
            team=other_provider.team,
            source=build.source,
            status=Build.Status.SUCCEEDED,
            artifact=build.artifact.name,
        )
        with pytest.raises(EgressRefused, match="team's debugging hosts"):
            services.debug_session_start(
                build=build, user=personas.bob, host="10.20.30.40", port=5003, key="k"
            )
        services.debug_hosts_update(
            team=personas.team, user=personas.alice, text="10.20.0.0/16:5003"
        )
        with django_capture_on_commit_callbacks(execute=True):
            session = services.debug_session_start(
                build=build, user=personas.bob, host="10.20.30.40", port=5003, key="k"
            )
        assert session.state == DebugSession.State.QUEUED
        assert sent == [{"session_id": session.pk}]
        with pytest.raises(EgressRefused, match="private address"):
            services.debug_session_start(
                build=build, user=personas.bob, host="10.20.30.40", port=5004, key="k"
            )
        with pytest.raises(EgressRefused, match="private address"):
            services.debug_session_start(
                build=other_build,
                user=personas.mallory,
                host="10.20.30.40",
                port=5003,
                key="k",
            )


def test_a_port_that_is_a_digit_only_to_unicode_is_a_clear_error() -> None:
    from studio.debugging.forms import DebugStartForm

    with pytest.raises(ValueError) as caught:
        services.parse_debug_hosts("dify.corp.internal:²")
    assert "not a TCP port (1-65535)" in str(caught.value)
    form = DebugStartForm(
        data={"address": "dify.example.com:²", "key": "k", "build": "1"}, builds=[]
    )
    assert not form.is_valid()
    assert "The port must be a number from 1 to 65535." in str(form.errors["address"])
