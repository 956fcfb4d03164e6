"""`manage.py team …` and `ensure_admin`'s first team."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from studio.audit.models import AuditEvent
from studio.catalog.models import Invitation, Membership, Provider, Role, Team
from studio.catalog.selectors.members import invitation_hash
from studio.core.management.commands.team import Command
from tests.factories import make_team, make_user

pytestmark = pytest.mark.django_db


def team(*args: str) -> tuple[int, str, str]:
    """Run `manage.py team ARGS`: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("team", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def argv_status(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run as from the shell (argparse's own errors exit 2): status, stderr."""
    with pytest.raises(SystemExit) as caught:
        Command().run_from_argv(["manage.py", "team", *args])
    return int(caught.value.code or 0), capsys.readouterr().err


class TestCreate:
    def test_it_creates_a_team_owned_by_the_user(self) -> None:
        make_user("alice")
        status, out, _ = team("create", "Acme Labs", "--owner", "alice")
        created = Team.objects.get()
        assert status == 0
        assert out.strip() == "created team Acme Labs (slug acme-labs) owned by alice"
        assert created.slug == "acme-labs"
        assert Membership.objects.get(team=created).role == Role.OWNER

    def test_json_and_an_explicit_slug(self) -> None:
        make_user("alice")
        status, out, _ = team("create", "Acme", "--owner", "alice", "--slug", "a1")
        assert status == 0
        assert json.loads(team("list", "--json")[1])["teams"][0]["slug"] == "a1"
        status, out, _ = team(
            "create", "Other", "--owner", "alice", "--slug", "b2", "--json"
        )
        assert json.loads(out) == {
            "ok": True,
            "team": {"slug": "b2", "name": "Other"},
            "owner": "alice",
        }

    def test_an_unknown_owner_fails_with_1(self) -> None:
        status, out, err = team("create", "Acme", "--owner", "ghost")
        assert status == 1
        assert "no user 'ghost'" in err and out == ""
        assert Team.objects.count() == 0

    def test_a_duplicate_slug_fails_with_1_in_json_too(self) -> None:
        make_user("alice")
        team("create", "Acme", "--owner", "alice", "--slug", "acme")
        status, out, _ = team(
            "create", "Acme 2", "--owner", "alice", "--slug", "acme", "--json"
        )
        assert status == 1
        assert json.loads(out) == {
            "ok": False,
            "error": "a team with the slug 'acme' exists already",
        }
        assert Team.objects.count() == 1

    def test_bad_arguments_exit_2(self, capsys) -> None:
        status, err = argv_status("create", "Acme", capsys=capsys)
        assert status == 2 and "--owner" in err
        status, err = argv_status(
            "create", "Acme", "--owner", "a", "--slug", "Not A Slug", capsys=capsys
        )
        assert status == 2 and "is not a slug" in err
        status, err = argv_status("frobnicate", capsys=capsys)
        assert status == 2
        assert Team.objects.count() == 0


class TestAdd:
    def test_it_adds_a_user_with_a_role_and_audits_it(self) -> None:
        acme = make_team("Acme", owner=make_user("alice"))
        make_user("bob")
        status, out, _ = team("add", "bob", "--team", acme.slug, "--role", "reviewer")
        assert status == 0
        assert out.strip() == "added bob to Acme as reviewer"
        assert Membership.objects.get(user__username="bob").role == Role.REVIEWER
        assert AuditEvent.objects.get(action="member-add").summary == (
            "bob as reviewer (command line)"
        )

    def test_json(self) -> None:
        acme = make_team("Acme", owner=make_user("alice"))
        make_user("bob")
        _, out, _ = team(
            "add", "bob", "--team", acme.slug, "--role", "viewer", "--json"
        )
        assert json.loads(out) == {
            "ok": True,
            "team": "acme",
            "username": "bob",
            "role": "viewer",
        }

    @pytest.mark.parametrize(
        ("user", "slug", "message"),
        [
            ("ghost", "acme", "no user 'ghost'"),
            ("bob", "nope", "no team with the slug 'nope'"),
            ("alice", "acme", "alice is already a member of Acme."),
        ],
    )
    def test_failures_exit_1(self, user: str, slug: str, message: str) -> None:
        make_team("Acme", owner=make_user("alice"))
        make_user("bob")
        status, out, _ = team("add", user, "--team", slug, "--role", "author", "--json")
        assert status == 1
        assert json.loads(out) == {"ok": False, "error": message}
        assert Membership.objects.count() == 1

    def test_an_unknown_role_exits_2(self, capsys) -> None:
        status, err = argv_status(
            "add", "bob", "--team", "acme", "--role", "admin", capsys=capsys
        )
        assert status == 2 and "invalid choice: 'admin'" in err


class TestInvite:
    def test_it_prints_the_link_once_and_stores_only_its_hash(self, settings) -> None:
        settings.STUDIO_BASE_URL = "https://studio.example"
        acme = make_team("Acme", owner=make_user("alice"))
        status, out, _ = team(
            "invite",
            "dora@example.com",
            "--team",
            acme.slug,
            "--role",
            "author",
            "--no-mail",
        )
        assert status == 0
        url = out.strip().splitlines()[1]
        assert url.startswith("https://studio.example/invitations/")
        token = url.rsplit("/", 1)[1]
        invitation = Invitation.objects.get()
        assert invitation.secret_hash == invitation_hash(token)
        assert (invitation.email, invitation.role, invitation.invited_by) == (
            "dora@example.com",
            "author",
            None,
        )
        assert "not mailed" in out

    def test_json_has_the_link_and_the_expiry(self) -> None:
        acme = make_team("Acme", owner=make_user("alice"))
        status, out, _ = team(
            "invite",
            "dora@example.com",
            "--team",
            acme.slug,
            "--role",
            "viewer",
            "--no-mail",
            "--json",
        )
        data = json.loads(out)
        assert status == 0
        assert data["ok"] is True and data["mailed"] is False
        assert data["url"].endswith("/invitations/" + data["url"].rsplit("/", 1)[1])
        assert data["expires_at"] == Invitation.objects.get().expires_at.isoformat()

    def test_a_member_already_or_a_bad_email_exit_1(self) -> None:
        alice = make_user("alice")
        alice.email = "alice@example.com"
        alice.save()
        make_team("Acme", owner=alice)
        status, _, err = team(
            "invite", "alice@example.com", "--team", "acme", "--role", "viewer"
        )
        assert status == 1 and "already a member of Acme" in err
        status, _, err = team("invite", "nope", "--team", "acme", "--role", "viewer")
        assert status == 1 and "is not an email address" in err
        status, _, err = team("invite", "d@x.org", "--team", "gone", "--role", "viewer")
        assert status == 1 and "no team with the slug 'gone'" in err
        assert Invitation.objects.count() == 0


class TestList:
    def test_it_lists_teams_members_and_pending_invitations(self) -> None:
        acme = make_team("Acme", owner=make_user("alice"))
        Membership.objects.create(team=acme, user=make_user("bob"), role=Role.VIEWER)
        make_team("Umbrella", owner=make_user("mallory"))
        team("invite", "d@x.org", "--team", "acme", "--role", "viewer", "--no-mail")
        status, out, _ = team("list")
        assert status == 0
        assert out.splitlines() == [
            "acme  Acme  (2 members)",
            "  alice (owner)",
            "  bob (viewer)",
            "  1 pending invitations",
            "umbrella  Umbrella  (1 members)",
            "  mallory (owner)",
        ]
        data = json.loads(team("list", "--json")[1])
        assert [t["slug"] for t in data["teams"]] == ["acme", "umbrella"]
        assert data["teams"][0]["members"][1] == {
            "username": "bob",
            "email": "",
            "role": "viewer",
            "joined_at": data["teams"][0]["members"][1]["joined_at"],
        }
        assert data["teams"][0]["pending_invitations"] == 1

    def test_no_team_yet(self) -> None:
        assert team("list") == (0, "no team yet\n", "")


class TestEnsureAdmin:
    def test_the_first_administrator_gets_a_team_once(self) -> None:
        out = io.StringIO()
        call_command("ensure_admin", stdout=out)
        admin = User.objects.get(is_superuser=True)
        studio = Team.objects.get()
        assert (studio.name, studio.slug) == ("Studio", "studio")
        assert Membership.objects.get(team=studio).user == admin
        assert Membership.objects.get(team=studio).role == Role.OWNER
        assert "Created the team Studio (slug studio)" in out.getvalue()
        again = io.StringIO()
        call_command("ensure_admin", stdout=again)
        assert Team.objects.count() == 1 and again.getvalue() == ""

    def test_an_existing_team_is_left_alone(self) -> None:
        make_team("Acme", owner=make_user("alice"))
        call_command("ensure_admin", stdout=io.StringIO())
        assert list(Team.objects.values_list("slug", flat=True)) == ["acme"]

    def test_plugin_import_works_right_after_it(self, restored_corpus) -> None:
        call_command("ensure_admin", stdout=io.StringIO())
        out = io.StringIO()
        call_command("plugin", "import", str(restored_corpus / "deepseek"), stdout=out)
        provider = Provider.objects.get()
        assert provider.team.slug == "studio"
        assert provider.plugin_id == "langgenius/deepseek"
        assert "imported langgenius/deepseek" in out.getvalue()

    def test_without_a_team_plugin_import_says_how_to_make_one(
        self, restored_corpus
    ) -> None:
        err = io.StringIO()
        with pytest.raises(SystemExit) as caught:
            call_command(
                "plugin",
                "import",
                str(restored_corpus / "deepseek"),
                stdout=io.StringIO(),
                stderr=err,
            )
        assert caught.value.code == 1
        assert "manage.py team create NAME --owner USERNAME" in err.getvalue()
