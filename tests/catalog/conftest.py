from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from studio.catalog.models import Role, Team
from tests.factories import make_member, make_team, make_user


@dataclass
class Personas:
    """alice owns Acme, bob authors in it, carol reviews, victor views;
    mallory owns another team."""

    team: Team
    alice: User
    bob: User
    carol: User
    victor: User
    other_team: Team
    mallory: User


@pytest.fixture
def personas(db: None) -> Personas:
    alice = make_user("alice")
    team = make_team("Acme", owner=alice)
    mallory = make_user("mallory")
    return Personas(
        team=team,
        alice=alice,
        bob=make_member(team, "bob", Role.AUTHOR),
        carol=make_member(team, "carol", Role.REVIEWER),
        victor=make_member(team, "victor", Role.VIEWER),
        other_team=make_team("Umbrella", owner=mallory),
        mallory=mallory,
    )
