"""Make sure a first administrator exists; print how to log in, once.

While the studio has no team, the first administrator also gets one ("Studio",
slug `studio`, as its owner), so `plugin import PATH` works right after the
first `make run`.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from studio.catalog.models import Team
from studio.catalog.services import team_create

FIRST_TEAM_NAME = "Studio"
FIRST_TEAM_SLUG = "studio"


class Command(BaseCommand):
    help = (
        "Create a first superuser with a random password if there is none, and "
        "a first team it owns if there is no team."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        self._ensure_superuser(username)
        self._ensure_team()

    def _ensure_superuser(self, username: str) -> None:
        if User.objects.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                "\nCreated the first administrator. "
                "Log in at http://127.0.0.1:8000/ with\n"
                f"    username: {username}\n"
                f"    password: {password}\n"
                "This password is shown only now; change it under Admin → Users, or\n"
                f"run `python manage.py changepassword {username}`.\n"
            )
        )

    def _ensure_team(self) -> None:
        if Team.objects.exists():
            return
        admin = User.objects.filter(is_superuser=True).order_by("pk").first()
        if admin is None:
            return
        team = team_create(name=FIRST_TEAM_NAME, owner=admin, slug=FIRST_TEAM_SLUG)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created the team {team.name} (slug {team.slug}) owned by "
                f"{admin.get_username()}: `plugin import PATH` imports into it. "
                "Invite teammates from its Team page or with `manage.py team invite`."
            )
        )
