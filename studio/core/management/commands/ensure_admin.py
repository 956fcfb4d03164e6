"""Make sure a first administrator exists; print how to log in, once."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create a first superuser with a random password if there is none."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user_model = get_user_model()
        if user_model.objects.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser(
            username=username, email="", password=password
        )
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
