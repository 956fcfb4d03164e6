"""`python manage.py plugin <subcommand>`: the studio's command line.

Exit status, the same for every subcommand (`EXIT_MEANINGS`, shown in each
`--help`): 0 done (for verify: no errors, warnings allowed), 1 verifier errors
or a failure, 2 unreadable or unsafe input. Every subcommand takes `--json` for
machine-readable output.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from studio.core.plugin_cli import (
    UNREADABLE,
    CommandExit,
    exit_status_help,
    files,
    marketplace,
    providers,
)
from studio.pluginfmt import signing


class Command(BaseCommand):
    help = "Verify, package, checksum and sign Dify model plugins."
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = exit_status_help()
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        subs = parser.add_subparsers(dest="subcommand", required=True)

        def sub(name: str, help_text: str, exits: str = "") -> argparse.ArgumentParser:
            p = subs.add_parser(
                name,
                help=help_text,
                description=help_text,
                epilog=exit_status_help(exits),
                formatter_class=argparse.RawDescriptionHelpFormatter,
            )
            p.add_argument("--json", action="store_true", help="print JSON")
            return p

        p = sub(
            "verify",
            "Verify a plugin folder, zip or .difypkg against Dify's rules.",
            "verify: 0 when the plugin has no errors, even with warnings; 1 when it "
            "has errors.",
        )
        p.add_argument("path")
        p = sub(
            "package",
            "Package a plugin folder into a .difypkg as the daemon expects.",
            "package: 1 when the verifier reports errors (nothing is written; "
            "--force packages anyway and exits 0) or the package is too large.",
        )
        p.add_argument("path")
        p.add_argument("-o", "--output", required=True)
        p.add_argument("--force", action="store_true", help="package despite errors")
        p = sub("checksum", "Print the daemon checksum and unique identifier.")
        p.add_argument("path")
        p = sub(
            "keygen",
            "Generate an RSA-4096 key pair NAME.private.pem/NAME.public.pem.",
            "keygen: 1 when a key file already exists (--force overwrites it).",
        )
        p.add_argument("name")
        p.add_argument("--force", action="store_true", help="overwrite existing keys")
        p = sub("sign", "Sign a .difypkg with a private key.")
        p.add_argument("path")
        p.add_argument("--key", required=True, help="private key (PEM)")
        p.add_argument(
            "--category",
            default="community",
            choices=signing_categories(),
            help="authorized category written into the package",
        )
        p.add_argument("-o", "--output", help="default: <name>.signed.difypkg")
        p = sub(
            "verify-signature",
            "Check a .difypkg's signature against public keys.",
            "verify-signature: 1 when the package is unsigned or its signature "
            "matches none of the keys.",
        )
        p.add_argument("path")
        p.add_argument(
            "--key",
            action="append",
            default=[],
            help="public key (PEM); repeat for several; default: Dify's official key",
        )

        p = sub(
            "import",
            "Import a plugin folder, zip or .difypkg into a team as a provider.",
            "import: 0 when the plugin was imported, even with verifier errors (the "
            "report lists them); 1 when the team already has it (choose --mode) or "
            "the import failed.",
        )
        p.add_argument("path")
        p.add_argument("--team", help="team slug (needed when there are several)")
        p.add_argument(
            "--mode",
            choices=["new", "new-version", "copy"],
            default="new",
            help="when the team has this author/name: replace its files as a new "
            "version, or import a renamed copy (default: refuse)",
        )
        p = sub(
            "export",
            "Write a provider's files to a folder, exactly as stored.",
            "export: 1 when the provider is unknown or the folder is not empty "
            "(--force replaces it).",
        )
        p.add_argument("provider", help="the provider's id or author/name")
        p.add_argument("-o", "--output", required=True, help="folder to create")
        p.add_argument("--team", help="team slug (when author/name is ambiguous)")
        p.add_argument(
            "--force", action="store_true", help="replace a folder that is not empty"
        )
        p = sub(
            "reverify",
            "Re-run the verifier on stored providers and refresh their findings.",
            "reverify: 0; it prints each provider's error and warning counts.",
        )
        p.add_argument("--team", help="only this team's providers (slug)")
        p = sub(
            "recheck-icons",
            "List providers whose stored SVG icons the icon checker refuses "
            "(nothing is changed).",
            "recheck-icons: 1 when any provider has an SVG icon the checker "
            "refuses (each is listed with file, line and the fix).",
        )
        p.add_argument("--team", help="only this team's providers (slug)")
        p = sub(
            "smoke",
            "Start a .difypkg (or folder) and check that it answers.",
            "smoke: 1 when the plugin does not start or does not answer.",
        )
        p.add_argument("path")
        marketplace.add_precheck_arguments(
            sub(
                "precheck",
                "Check a plugin folder, zip or .difypkg against the Dify Marketplace's "
                "gate (its CI, its validator, its reviewers); the install test starts "
                "the plugin.",
                "precheck: 0 when nothing blocks the Marketplace submission, even with "
                "advisory findings; 1 when a finding blocks it.",
            )
        )
        from studio.builds.cli import add_build_arguments

        add_build_arguments(
            sub(
                "build",
                "Queue a build of a provider like the Build button.",
                "build: 1 when the build failed, was cancelled, timed out or could "
                "not be queued.",
            )
        )

        from studio.sync.cli import add_sync_arguments

        add_sync_arguments(
            sub(
                "sync",
                "Compare a provider with its vendor's model list or a LiteLLM price "
                "table and store a proposal (docs/sync.md); --apply applies it.",
                "sync: 1 when the check was refused (address, answer, template) or "
                "the proposal could not be applied; 2 when the table file cannot be "
                "read.",
            )
        )

    def handle(self, *args: Any, **options: Any) -> None:
        handler = HANDLERS[options["subcommand"]]
        try:
            status = handler(self, options)
        except CommandExit as exc:
            status = exc.status
        sys.stdout.flush()
        if status:
            sys.exit(status)

    # ------------------------------------------------------------ output

    def emit(self, options: dict[str, Any], data: dict[str, Any], text: str) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(text)

    def refuse(self, options: dict[str, Any], path: str, exc: Exception) -> CommandExit:
        message = str(exc)
        if options["json"]:
            self.stdout.write(
                json.dumps({"ok": False, "path": path, "error": message}, indent=2)
            )
        else:
            self.stderr.write(f"{path}: refused: {message}")
        return CommandExit(UNREADABLE)


def signing_categories() -> list[str]:
    return list(signing.CATEGORIES)


HANDLERS: dict[str, Callable[[Command, dict[str, Any]], int]] = {
    "verify": files.handle_verify,
    "package": files.handle_package,
    "checksum": files.handle_checksum,
    "keygen": files.handle_keygen,
    "sign": files.handle_sign,
    "verify-signature": files.handle_verify_signature,
    "import": providers.handle_import,
    "export": providers.handle_export,
    "build": providers.handle_build,
    "smoke": files.handle_smoke,
    "precheck": marketplace.handle_precheck,
    "reverify": providers.handle_reverify,
    "recheck-icons": providers.handle_recheck_icons,
    "sync": providers.handle_sync,
}
