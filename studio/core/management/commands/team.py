"""`python manage.py team <subcommand>`: teams and their people from the shell.

Exit status: 0 done, 1 failed (an unknown user or team, a duplicate, a member
already), 2 bad arguments (argparse). Every subcommand takes `--json`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.text import slugify

from studio.catalog.models import Role
from studio.core import team_cli

EXIT_HELP = """exit status:
  0  done
  1  failed: an unknown user or team, a duplicate, a member already
  2  bad arguments"""


def slug(value: str) -> str:
    """An argparse type: a team slug as the studio makes them."""
    if not value or slugify(value) != value or len(value) > 50:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a slug (lowercase letters, digits and hyphens, "
            "at most 50)"
        )
    return value


class Command(BaseCommand):
    help = "Create teams, add members, invite people, list teams."
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = EXIT_HELP
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        subs = parser.add_subparsers(dest="subcommand", required=True)

        def sub(name: str, help_text: str) -> argparse.ArgumentParser:
            p = subs.add_parser(
                name,
                help=help_text,
                description=help_text,
                epilog=EXIT_HELP,
                formatter_class=argparse.RawDescriptionHelpFormatter,
            )
            p.add_argument("--json", action="store_true", help="print JSON")
            return p

        p = sub("create", "Create a team with an existing user as its owner.")
        p.add_argument("name")
        p.add_argument("--owner", required=True, help="username of the owner")
        p.add_argument("--slug", type=slug, help="default: made from the name")
        p = sub("add", "Add an existing user to a team with a role.")
        p.add_argument("username")
        p.add_argument("--team", required=True, type=slug, help="team slug")
        p.add_argument("--role", required=True, choices=Role.values)
        p = sub(
            "invite",
            "Invite an email address to a team: prints the link (shown only now) "
            "and mails it.",
        )
        p.add_argument("email")
        p.add_argument("--team", required=True, type=slug, help="team slug")
        p.add_argument("--role", required=True, choices=Role.values)
        p.add_argument(
            "--no-mail", action="store_true", help="only print the link, mail nothing"
        )
        sub("list", "List the teams with their members.")

    def handle(self, *args: Any, **options: Any) -> None:
        status = HANDLERS[options["subcommand"]](self, options)
        sys.stdout.flush()
        if status:
            sys.exit(status)


HANDLERS: dict[str, Callable[[Command, dict[str, Any]], int]] = {
    "create": team_cli.handle_create,
    "add": team_cli.handle_add,
    "invite": team_cli.handle_invite,
    "list": team_cli.handle_list,
}
