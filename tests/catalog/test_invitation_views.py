"""Opening an invitation link; the open sign-up; the admin of teams."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studio.catalog.access import SESSION_TEAM
from studio.catalog.models import Invitation, Membership, Role, Team
from studio.catalog.services import members as services
from tests.catalog.conftest import Personas
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

SIGN_UP = {"username": "dora", "password1": PASSWORD, "password2": PASSWORD}


def invite(
    personas: Personas, email: str = "dora@example.com", *, team: Team | None = None
) -> str:
    """The token of a new invitation to Acme (or `team`) as reviewer."""
    team = team or personas.team
    by = personas.mallory if team == personas.other_team else personas.alice
    return services.invitation_create(
        team=team, email=email, role=Role.REVIEWER, by=by, mail=False
    ).token


def link(token: str) -> str:
    return reverse("catalog:invitation", kwargs={"token": token})


class TestAnonymous:
    def test_it_offers_a_sign_up_form_with_the_email_fixed(
        self, client: Client, personas
    ) -> None:
        response = client.get(link(invite(personas)))
        body = response.content.decode()
        assert response.status_code == 200
        assert "no-cache" in response["Cache-Control"]
        assert "Join Acme" in body and "as <strong>reviewer</strong>" in body
        assert 'value="dora@example.com" readonly disabled' in body
        assert 'name="username"' in body and 'name="password1"' in body
        assert 'name="email"' not in body
        assert f"{reverse('login')}?next=" in body

    def test_signing_up_joins_the_team_and_logs_in(
        self, client: Client, personas
    ) -> None:
        token = invite(personas)
        response = client.post(link(token), SIGN_UP)
        assert response.status_code == 302
        assert response["Location"] == reverse("catalog:provider-list")
        dora = User.objects.get(username="dora")
        assert dora.email == "dora@example.com"
        assert Membership.objects.get(user=dora).team == personas.team
        assert Membership.objects.get(user=dora).role == Role.REVIEWER
        assert client.session[SESSION_TEAM] == personas.team.pk
        page = client.get(reverse("catalog:provider-list")).content.decode()
        assert "You joined Acme as reviewer." in page

    def test_the_link_works_once(self, client: Client, personas) -> None:
        token = invite(personas)
        client.post(link(token), SIGN_UP)
        other = Client()
        response = other.post(link(token), {**SIGN_UP, "username": "eve"})
        assert response.status_code == 410
        assert "already used" in response.content.decode()
        assert not User.objects.filter(username="eve").exists()

    def test_a_weak_password_is_refused_with_djangos_message(
        self, client: Client, personas
    ) -> None:
        token = invite(personas)
        response = client.post(
            link(token), {"username": "dora", "password1": "dora", "password2": "dora"}
        )
        body = response.content.decode()
        assert response.status_code == 400
        assert "This password is too short." in body
        assert not User.objects.filter(username="dora").exists()
        assert Invitation.objects.get().is_pending

    def test_a_password_like_the_email_is_refused(
        self, client: Client, personas
    ) -> None:
        token = invite(personas, "dorothea.longname@example.com")
        word = "dorothea.longname"
        response = client.post(
            link(token), {"username": "dx", "password1": word, "password2": word}
        )
        assert response.status_code == 400
        assert "too similar to the email address" in response.content.decode()

    def test_mismatched_passwords_are_a_400(self, client: Client, personas) -> None:
        response = client.post(
            link(invite(personas)), {**SIGN_UP, "password2": PASSWORD + "!"}
        )
        assert response.status_code == 400
        assert User.objects.filter(username="dora").count() == 0

    def test_a_taken_username_is_a_400(self, client: Client, personas) -> None:
        response = client.post(link(invite(personas)), {**SIGN_UP, "username": "bob"})
        assert response.status_code == 400
        assert "already exists" in response.content.decode()

    def test_an_existing_account_with_the_email_is_asked_to_log_in(
        self, client: Client, personas
    ) -> None:
        personas.bob.email = "bob@example.com"
        personas.bob.save()
        token = invite(personas, "bob@example.com", team=personas.other_team)
        response = client.get(link(token))
        body = response.content.decode()
        assert response.status_code == 200
        assert "An account with the email bob@example.com exists already." in body
        assert 'name="password1"' not in body
        assert client.post(link(token), SIGN_UP).status_code == 409

    def test_an_invitation_to_another_team_never_grants_this_one(
        self, client: Client, personas
    ) -> None:
        client.post(link(invite(personas, team=personas.other_team)), SIGN_UP)
        dora = User.objects.get(username="dora")
        assert list(Membership.objects.filter(user=dora).values_list("team_id")) == [
            (personas.other_team.pk,)
        ]
        provider_list = client.get(reverse("catalog:provider-list")).content.decode()
        assert "Umbrella" in provider_list
        members = reverse("catalog:team-members", args=[personas.team.slug])
        assert client.get(members).status_code == 404


class TestUnusableLinks:
    def test_an_unknown_link_is_a_404_page(self, client: Client, personas) -> None:
        token = invite(personas)
        wrong = token[:-2] + ("aa" if token[-2:] != "aa" else "bb")
        for bad in (wrong, "x" * 43, "short"):
            response = client.get(link(bad))
            assert response.status_code == 404
            assert "This invitation link is not valid" in response.content.decode()

    def test_an_expired_link_is_410(self, client: Client, personas) -> None:
        token = invite(personas)
        Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
        response = client.get(link(token))
        assert response.status_code == 410
        assert "This invitation link has expired." in response.content.decode()
        assert client.post(link(token), SIGN_UP).status_code == 410
        assert not User.objects.filter(username="dora").exists()

    def test_a_revoked_link_is_410(self, client: Client, personas) -> None:
        token = invite(personas)
        services.invitation_revoke(invitation=Invitation.objects.get(), by=None)
        response = client.get(link(token))
        assert response.status_code == 410
        assert "revoked" in response.content.decode()

    def test_other_methods_get_405(self, client: Client, personas) -> None:
        assert client.put(link(invite(personas))).status_code == 405


class TestLoggedIn:
    def test_the_invited_user_joins_with_a_button_not_by_opening_the_link(
        self, client: Client, personas
    ) -> None:
        dora = make_user("dora")
        dora.email = "dora@example.com"
        dora.save()
        token = invite(personas)
        client.force_login(dora)
        page = client.get(link(token))
        assert page.status_code == 200
        assert "Join Acme as dora" in page.content.decode()
        assert not Membership.objects.filter(user=dora).exists()
        response = client.post(link(token))
        assert response.status_code == 302
        assert Membership.objects.get(user=dora).role == Role.REVIEWER
        assert client.session[SESSION_TEAM] == personas.team.pk

    def test_someone_logged_in_as_another_person_is_told_so(
        self, client: Client, personas
    ) -> None:
        token = invite(personas)
        client.force_login(personas.mallory)
        response = client.get(link(token))
        body = response.content.decode()
        assert response.status_code == 403
        assert "This invitation was sent to dora@example.com" in body
        assert "logged in as mallory, who has no email address" in body
        assert client.post(link(token)).status_code == 403
        assert not Membership.objects.filter(
            team=personas.team, user=personas.mallory
        ).exists()
        assert Invitation.objects.get().is_pending

    def test_a_member_already_is_told_so(self, client: Client, personas) -> None:
        token = invite(personas)
        client.force_login(personas.bob)
        response = client.get(link(token))
        assert response.status_code == 200
        assert "You are already a member of Acme (author)." in response.content.decode()
        assert client.post(link(token)).status_code == 409
        assert Invitation.objects.get().is_pending


class TestOpenSignUp:
    def test_a_wrong_method_gets_405(self, client: Client, db, settings) -> None:
        url = reverse("catalog:signup")
        assert client.put(url).status_code == 405
        settings.OPEN_SIGNUP = True
        assert client.delete(url).status_code == 405

    def test_it_is_a_404_unless_turned_on(self, client: Client, db) -> None:
        url = reverse("catalog:signup")
        assert client.get(url).status_code == 404
        assert client.post(url, {**SIGN_UP, "email": "d@x.org"}).status_code == 404
        assert User.objects.count() == 0

    def test_when_on_anyone_signs_up_and_is_told_what_next(
        self, client: Client, db, settings
    ) -> None:
        settings.OPEN_SIGNUP = True
        url = reverse("catalog:signup")
        assert client.get(url).status_code == 200
        response = client.post(url, {**SIGN_UP, "email": "dora@example.com"})
        assert response.status_code == 302
        user = User.objects.get(username="dora")
        assert user.email == "dora@example.com"
        assert not Membership.objects.filter(user=user).exists()
        home = client.get(reverse("home")).content.decode()
        assert "Welcome, dora" in home
        assert "Ask an owner of a team to invite you." in home

    def test_a_used_email_is_refused(self, client: Client, db, settings) -> None:
        settings.OPEN_SIGNUP = True
        taken = make_user("ann")
        taken.email = "dora@example.com"
        taken.save()
        response = client.post(
            reverse("catalog:signup"), {**SIGN_UP, "email": "Dora@example.com"}
        )
        assert response.status_code == 400
        assert "exists already" in response.content.decode()
        assert not User.objects.filter(username="dora").exists()


class TestAdmin:
    @pytest.fixture
    def admin(self, client: Client, personas) -> Client:
        client.force_login(
            User.objects.create_superuser("root", "root@example.com", PASSWORD)
        )
        invite(personas)
        return client

    @pytest.mark.parametrize("model", ["team", "membership", "invitation"])
    def test_the_changelist_searches_and_filters(
        self, admin: Client, personas, model: str
    ) -> None:
        url = reverse(f"admin:catalog_{model}_changelist")
        assert admin.get(url).status_code == 200
        query = {"team": "acme", "membership": "carol", "invitation": "dora"}[model]
        found = admin.get(url, {"q": query})
        assert found.status_code == 200
        assert 'data-actions-icnt="1"' in found.content.decode()
        missing = admin.get(url, {"q": "nobody-here"}).content.decode()
        assert "0 results" in missing
        if model != "team":
            assert admin.get(url, {"role": "reviewer"}).status_code == 200

    def test_membership_search_finds_a_user(self, admin: Client, personas) -> None:
        url = reverse("admin:catalog_membership_changelist")
        body = admin.get(url, {"q": "carol"}).content.decode()
        assert "1 result" in body and "carol" in body

    def test_a_team_and_an_invitation_open_and_no_invitation_is_added_here(
        self, admin: Client, personas
    ) -> None:
        team = reverse("admin:catalog_team_change", args=[personas.team.pk])
        assert admin.get(team).status_code == 200
        invitation = Invitation.objects.get()
        url = reverse("admin:catalog_invitation_change", args=[invitation.pk])
        assert admin.get(url).status_code == 200
        assert admin.get(reverse("admin:catalog_invitation_add")).status_code == 403
