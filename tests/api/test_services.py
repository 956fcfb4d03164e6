"""Token services: issue, store hashed, authenticate, touch, revoke."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from studio.api import services
from studio.api.models import ApiToken
from studio.catalog.models import Membership
from tests.api.conftest import make_token, token_row
from tests.catalog.conftest import Personas

pytestmark = pytest.mark.django_db


class TestTokenCreate:
    def test_it_issues_a_recognisable_token(self, personas: Personas) -> None:
        secret = make_token(personas.bob, personas.team)
        assert secret.startswith("dps_")
        assert len(secret) == 47 and secret[4:].isalnum()

    def test_it_stores_only_the_hash_and_a_prefix(self, personas: Personas) -> None:
        secret = make_token(personas.bob, personas.team)
        row = token_row(secret)
        assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert row.prefix == secret[:12]
        stored = [str(v) for v in ApiToken.objects.values().get(pk=row.pk).values()]
        assert not any(secret in value for value in stored)

    def test_tokens_differ(self, personas: Personas) -> None:
        assert make_token(personas.bob, personas.team) != make_token(
            personas.bob, personas.team
        )

    def test_only_an_owner_creates_a_team_token(self, personas: Personas) -> None:
        with pytest.raises(services.TokenNotAllowed):
            make_token(personas.bob, personas.team, kind="team", role="author")
        assert not ApiToken.objects.exists()

    def test_a_team_token_reads_or_writes_but_never_owns(
        self, personas: Personas
    ) -> None:
        with pytest.raises(services.TokenNotAllowed):
            make_token(personas.alice, personas.team, kind="team", role="owner")

    def test_nobody_creates_a_token_for_a_team_they_are_not_in(
        self, personas: Personas
    ) -> None:
        with pytest.raises(services.TokenNotAllowed):
            make_token(personas.mallory, personas.team)


class TestTokenAuthenticate:
    def test_a_personal_token_acts_with_its_users_role(
        self, personas: Personas
    ) -> None:
        actor = services.token_authenticate(make_token(personas.carol, personas.team))
        assert (actor.user, actor.team, actor.role) == (
            personas.carol,
            personas.team,
            "reviewer",
        )
        assert actor.can_edit is False

    @pytest.mark.parametrize(
        "presented",
        ["", "dps_", "ghp_" + "a" * 43, "dps_" + "a" * 42, "dps_" + "-" * 43],
    )
    def test_a_malformed_token_is_invalid(self, presented: str) -> None:
        with pytest.raises(services.TokenInvalid):
            services.token_authenticate(presented)

    def test_the_right_prefix_with_the_wrong_secret_is_invalid(
        self, personas: Personas
    ) -> None:
        secret = make_token(personas.bob, personas.team)
        forged = secret[:-1] + ("a" if secret[-1] != "a" else "b")
        with pytest.raises(services.TokenInvalid):
            services.token_authenticate(forged)

    def test_an_expired_token_says_so(self, personas: Personas) -> None:
        secret = make_token(
            personas.bob, personas.team, expires_at=timezone.now() + timedelta(days=1)
        )
        services.token_authenticate(secret)
        with pytest.raises(services.TokenExpired):
            services.token_authenticate(
                secret, now=timezone.now() + timedelta(days=1, seconds=1)
            )

    def test_a_deactivated_user_has_a_dead_token(self, personas: Personas) -> None:
        secret = make_token(personas.bob, personas.team)
        personas.bob.is_active = False
        personas.bob.save()
        with pytest.raises(services.TokenRevoked):
            services.token_authenticate(secret)

    def test_a_team_token_survives_its_creator_leaving(
        self, personas: Personas
    ) -> None:
        secret = make_token(personas.alice, personas.team, kind="team", role="author")
        Membership.objects.filter(user=personas.alice).delete()
        actor = services.token_authenticate(secret)
        assert (actor.role, actor.user) == ("author", None)


class TestTokenTouch:
    def test_it_writes_the_last_use_at_most_once_a_minute(
        self, personas: Personas
    ) -> None:
        secret = make_token(personas.bob, personas.team)
        start = timezone.now()
        services.token_authenticate(secret, now=start)
        services.token_authenticate(secret, now=start + timedelta(seconds=59))
        assert token_row(secret).last_used_at == start
        later = start + timedelta(seconds=61)
        services.token_authenticate(secret, now=later)
        assert token_row(secret).last_used_at == later

    def test_a_recent_use_costs_no_write(
        self, personas: Personas, django_assert_num_queries: object
    ) -> None:
        secret = make_token(personas.bob, personas.team)
        services.token_authenticate(secret)
        # Token with team and user, then the membership: no UPDATE.
        with django_assert_num_queries(2):  # type: ignore[operator]
            services.token_authenticate(secret)


class TestTokenRevoke:
    def test_the_holder_revokes_their_token(self, personas: Personas) -> None:
        secret = make_token(personas.bob, personas.team)
        row = services.token_revoke(token=token_row(secret), by=personas.bob)
        assert row.revoked_at is not None and row.revoked_by == personas.bob
        with pytest.raises(services.TokenRevoked):
            services.token_authenticate(secret)

    def test_a_team_owner_revokes_a_members_token(self, personas: Personas) -> None:
        secret = make_token(personas.bob, personas.team)
        services.token_revoke(token=token_row(secret), by=personas.alice)
        assert token_row(secret).is_revoked

    @pytest.mark.parametrize("who", ["carol", "mallory"])
    def test_nobody_else_revokes_it(self, personas: Personas, who: str) -> None:
        secret = make_token(personas.bob, personas.team)
        with pytest.raises(services.TokenNotAllowed):
            services.token_revoke(token=token_row(secret), by=getattr(personas, who))
        assert not token_row(secret).is_revoked

    def test_revoking_twice_keeps_the_first_time(self, personas: Personas) -> None:
        secret = make_token(personas.bob, personas.team)
        first = services.token_revoke(token=token_row(secret), by=personas.bob)
        again = services.token_revoke(token=token_row(secret), by=personas.alice)
        assert again.revoked_at == first.revoked_at


class TestTokensForUser:
    def test_owners_see_their_teams_tokens_members_only_theirs(
        self, personas: Personas
    ) -> None:
        bobs = token_row(make_token(personas.bob, personas.team))
        alices = token_row(make_token(personas.alice, personas.team))
        team = token_row(
            make_token(personas.alice, personas.team, kind="team", role="viewer")
        )
        assert set(services.tokens_for_user(personas.alice)) == {bobs, alices, team}
        assert services.tokens_for_user(personas.bob) == [bobs]
        assert services.tokens_for_user(personas.mallory) == []
